"""Extraction workers: claim an answer from the store's queue, extract it under a lease, commit or retry.

The queue lives in the database (`assistant.store.queue`), so workers need no coordination of their own: any
number of them, in any number of processes (the app's pool, `cahier worker`, `cahier reextract`), share it
safely, and answers queued before a restart are picked up after it. A worker holds one answer at a time and
renews its lease while the model runs; a transient failure (timeout, server error, server unreachable) puts the
answer back with a bounded exponential backoff, anything else fails it for good with its typed error.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.errors import CahierError, LeaseLostError, ModelError, StoreError
from assistant.interview.extraction import Extractor
from assistant.interview.merge import ExtractionOutcome
from assistant.models.port import ChatModel, ModelResponseError, ModelTimeoutError, ModelUnavailableError
from assistant.schemas import ExtractionClaim, ExtractionStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePolicy:
    """How workers use the queue: pool size, lease, retries and polling (from `Settings`, see `from_settings`)."""

    workers: int = 1
    """Worker threads an app process starts; 0 leaves extraction to `cahier worker` processes."""
    lease_s: float = 30.0
    """How long a claim holds without renewal; renewed every third of it while the model runs."""
    attempts: int = 3
    """Model calls per answer before a transient failure is final."""
    retry_s: float = 5.0
    """The first retry's delay; each further retry doubles it, up to `retry_cap_s`."""
    retry_cap_s: float = 120.0
    poll_s: float = 0.1
    """How often an idle worker looks for answers queued by another process (its own process wakes it at once)."""

    @classmethod
    def from_settings(cls, settings: Any) -> QueuePolicy:
        return cls(
            workers=settings.extraction_workers,
            lease_s=settings.extraction_lease_s,
            attempts=settings.extraction_attempts,
            retry_s=settings.extraction_retry_s,
            poll_s=settings.extraction_poll_s,
        )

    def backoff(self, attempt: int) -> float:
        """Seconds before the retry that follows failed attempt number `attempt` (1-based)."""
        return float(min(self.retry_s * 2 ** (attempt - 1), self.retry_cap_s))


def is_transient(exc: BaseException) -> bool:
    """Failures that another try may not meet: the server was slow, down, restarting or overloaded.

    Answers that did not fit the schema or were truncated are not retried: at temperature 0 the same prompt gives
    the same answer.
    """
    if isinstance(exc, ModelTimeoutError | ModelUnavailableError):
        return True
    return isinstance(exc, ModelResponseError) and (exc.status is None or exc.status == 429 or exc.status >= 500)


class ModelRouter:
    """Which model extracts a project's answers in this process: the process's model, unless a session chose
    another for the project it is working on. No second worker is started for that: the same workers use it."""

    def __init__(self, default: ChatModel) -> None:
        self.default = default
        self._chosen: dict[str, ChatModel] = {}
        self._lock = threading.Lock()

    def use(self, project_id: str, model: ChatModel | None) -> None:
        with self._lock:
            if model is None or model is self.default:
                self._chosen.pop(project_id, None)
            else:
                self._chosen[project_id] = model

    def model_for(self, project_id: str) -> ChatModel:
        with self._lock:
            return self._chosen.get(project_id, self.default)


def worker_name() -> str:
    """Host, process and a random part: unique per worker, and readable in the database when debugging."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ExtractionWorker:
    """Claims one answer at a time and sees it through: lease renewal, extraction, commit, retry or failure."""

    def __init__(
        self,
        extractor: Extractor,
        models: ModelRouter,
        policy: QueuePolicy,
        *,
        name: str | None = None,
        on_finish: Callable[[ExtractionClaim], None] | None = None,
    ) -> None:
        self.extractor = extractor
        self.store = extractor.store
        self.models = models
        self.policy = policy
        self.name = name or worker_name()
        self.on_finish = on_finish

    def run_once(self, project_id: str | None = None) -> ExtractionOutcome | None:
        """Claim and process one answer (of `project_id` only, when given); None when nothing was claimable."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        claim = self.store.claim_extraction(
            token, lease_s=self.policy.lease_s, max_attempts=self.policy.attempts, project_id=project_id
        )
        if claim is None:
            return None
        try:
            return self._process(claim)
        finally:
            if self.on_finish is not None:
                self.on_finish(claim)

    def _process(self, claim: ExtractionClaim) -> ExtractionOutcome:
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(claim, done), daemon=True, name="lease-renewal")
        renewer.start()
        try:
            return self.extractor.run(claim, self.models.model_for(claim.project_id))
        except LeaseLostError as exc:
            log.warning("%s", exc)
            return ExtractionOutcome(claim.turn_id, ExtractionStatus.FAILED, error=str(exc))
        except ModelError as exc:
            return self._failed(claim, exc, retry=is_transient(exc) and claim.attempt < self.policy.attempts)
        except Exception as exc:  # the worker must survive anything, and the answer must not stay claimed
            log.exception("extraction of turn %s of %s crashed", claim.turn_id, claim.project_id)
            return self._failed(claim, exc, retry=False)
        finally:
            done.set()
            renewer.join()

    def _failed(self, claim: ExtractionClaim, exc: Exception, *, retry: bool) -> ExtractionOutcome:
        retry_at = datetime.now(UTC) + timedelta(seconds=self.policy.backoff(claim.attempt)) if retry else None
        try:
            self.store.fail_extraction(claim, str(exc), type(exc).__name__, retry_at=retry_at)
        except LeaseLostError as lost:
            log.warning("%s", lost)
        except CahierError:
            log.exception("could not record the failed extraction of turn %s", claim.turn_id)
        status = ExtractionStatus.QUEUED if retry else ExtractionStatus.FAILED
        return ExtractionOutcome(claim.turn_id, status, error=str(exc))

    def _renew(self, claim: ExtractionClaim, done: threading.Event) -> None:
        """Keep the lease while the model runs; once it is lost, the commit will be refused, so stop renewing."""
        while not done.wait(self.policy.lease_s / 3):
            try:
                if not self.store.renew_lease(claim, self.policy.lease_s):
                    return
            except StoreError:  # a database hiccup: try again at the next beat; the lease may still hold
                log.warning("could not renew the lease on turn %s", claim.turn_id, exc_info=True)


class WorkerPool:
    """The extraction workers of one process: threads that poll the queue and are woken when it gets an answer."""

    def __init__(self, extractor: Extractor, models: ModelRouter, policy: QueuePolicy) -> None:
        self.extractor = extractor
        self.models = models
        self.policy = policy
        self.finished = threading.Condition()
        """Notified after every answer a worker of this process finishes (`Interview.wait` listens)."""
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many of this pool's workers are running."""
        return sum(thread.is_alive() for thread in self._threads)

    def start(self, size: int | None = None) -> None:
        """Start the workers (once): stale claims are released first, so a restart resumes where it stopped."""
        with self._lock:
            if self._threads:
                return
            self._stop.clear()
            try:
                self.extractor.store.release_expired_extractions(self.policy.attempts)
            except StoreError:
                log.exception("could not release stale extraction claims at start-up")
            for number in range(self.policy.workers if size is None else size):
                worker = ExtractionWorker(self.extractor, self.models, self.policy, on_finish=self.notify_finished)
                thread = threading.Thread(target=self._loop, args=(worker,), daemon=True, name=f"extract-{number}")
                thread.start()
                self._threads.append(thread)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the answers in hand; what is still queued stays queued for the next start."""
        self._stop.set()
        self.wake()
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout)

    def notify_finished(self, _claim: ExtractionClaim) -> None:
        with self.finished:
            self.finished.notify_all()

    def _loop(self, worker: ExtractionWorker) -> None:
        while not self._stop.is_set():
            try:
                outcome = worker.run_once()
            except CahierError:  # the database is unreachable: wait and poll again, never die
                log.exception("extraction worker %s could not claim work", worker.name)
                outcome = None
            if outcome is None and not self._stop.is_set():
                with self._wake:
                    self._wake.wait(self.policy.poll_s)
