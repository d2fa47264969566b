"""The background extraction queue: one worker thread per project, answers extracted in turn order.

The page never waits on the model: an answer is stored and logged `queued`, and its extraction runs here.
A crash inside extraction marks the turn failed instead of leaving it queued, and the worker survives it.
"""

from __future__ import annotations

import logging
import queue
import threading

from assistant.errors import CahierError
from assistant.interview.extraction import Extractor
from assistant.schemas import ExtractionStatus

log = logging.getLogger(__name__)


class ExtractionQueue:
    """Per-project in-process queues feeding an `Extractor`."""

    def __init__(self, extractor: Extractor) -> None:
        self.extractor = extractor
        self._queues: dict[str, queue.Queue[int | None]] = {}
        self._done: dict[tuple[str, int], threading.Event] = {}
        self._lock = threading.Lock()

    def enqueue(self, project_id: str, turn_id: int) -> None:
        self.extractor.store.log_extraction(project_id, turn_id, ExtractionStatus.QUEUED)
        with self._lock:
            self._done[(project_id, turn_id)] = threading.Event()
            work = self._queues.get(project_id)
            if work is None:
                work = queue.Queue()
                self._queues[project_id] = work
                threading.Thread(target=self._work, args=(project_id, work), daemon=True).start()
        work.put(turn_id)

    def _work(self, project_id: str, work: queue.Queue[int | None]) -> None:
        while True:
            turn_id = work.get()
            if turn_id is None:
                return
            try:
                self.extractor.extract_turn(project_id, turn_id)
            except Exception as exc:  # the worker must survive anything, and the turn must not stay "queued"
                log.exception("extraction of turn %s crashed", turn_id)
                self._log_crash(project_id, turn_id, exc)
            finally:
                event = self._done.get((project_id, turn_id))
                if event:
                    event.set()

    def _log_crash(self, project_id: str, turn_id: int, exc: Exception) -> None:
        """Mark the turn's extraction failed so the user sees it and `reextract` picks it up."""
        try:
            self.extractor.store.log_extraction(
                project_id, turn_id, ExtractionStatus.FAILED, error=str(exc), error_kind=type(exc).__name__
            )
        except CahierError:
            log.exception("could not record the failed extraction of turn %s", turn_id)

    def close(self, project_id: str) -> None:
        """Stop the project's worker once the extractions already queued are done."""
        with self._lock:
            work = self._queues.pop(project_id, None)
        if work is not None:
            work.put(None)

    def wait(self, project_id: str, turn_id: int, timeout: float | None = None) -> bool:
        """Block until the extraction of `turn_id` has finished (or failed); False on timeout."""
        event = self._done.get((project_id, turn_id))
        return True if event is None else event.wait(timeout)
