"""The extraction queue, kept in the `extractions` table: one row per answer, claimed under a lease.

The standard database-queue pattern, kept small (no queue server: SQLite and PostgreSQL are the only two engines):

- A worker claims the oldest claimable answer in one write transaction. SQLite serialises writers with
  `BEGIN IMMEDIATE` (the store's transactions start that way); PostgreSQL uses `SELECT … FOR UPDATE SKIP LOCKED`
  so that workers never wait on each other's candidate rows.
- Answers of one project are extracted strictly in turn order: only the *head* of a project (its lowest pending
  turn) is claimable, and only while it is queued. A head that another worker holds, or has locked in an
  uncommitted claim, keeps every later answer of that project waiting.
- A claim carries a random lease token and an expiry. The worker renews it while the model runs; an expired
  lease puts the answer back in the queue (or fails it once its attempts are spent). Every write a worker makes
  for a claim first checks, under a row lock, that its token is still the current one: a worker frozen past
  its lease cannot commit afterwards.

These functions take a `Connection` inside the caller's transaction; `Store` exposes them.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from assistant.errors import LeaseLostError
from assistant.schemas import ExtractionClaim, ExtractionResult, ExtractionStatus, QueuePosition
from assistant.store.rows import aware
from assistant.store.tables import extractions

PENDING = (ExtractionStatus.QUEUED.value, ExtractionStatus.RUNNING.value)

WORKER_LOST = "WorkerLostError"
"""The `error_kind` of an answer whose worker stopped (killed, frozen) while its lease ran out."""

ESTIMATE_SAMPLE = 20
"""How many recent extractions the time estimate is the median of."""


def enqueue(conn: Connection, project_id: str, turn_id: int, now: datetime) -> None:
    """Put an answer (back) at the end of the queue, with its attempts reset; its previous outcome is kept until
    the new one replaces it."""
    values: dict[str, Any] = {
        "status": ExtractionStatus.QUEUED.value,
        "error": "",
        "error_kind": "",
        "attempts": 0,
        "lease_token": "",
        "lease_expires_at": None,
        "available_at": None,
        "started_at": None,
        "finished_at": None,
        "created_at": now,
    }
    changed = conn.execute(
        update(extractions)
        .where(extractions.c.project_id == project_id, extractions.c.turn_id == turn_id)
        .values(**values)
    ).rowcount
    if not changed:
        conn.execute(insert(extractions).values(project_id=project_id, turn_id=turn_id, data=None, **values))


def release_expired(conn: Connection, now: datetime, max_attempts: int) -> int:
    """Hand back every answer whose lease ran out: queued again, or failed when its attempts are spent."""
    expired = (
        select(extractions.c.seq, extractions.c.attempts)
        .where(extractions.c.status == ExtractionStatus.RUNNING.value, extractions.c.lease_expires_at < now)
        .order_by(extractions.c.seq)
    )
    if conn.dialect.name == "postgresql":
        expired = expired.with_for_update(skip_locked=True)
    rows = conn.execute(expired).all()
    for row in rows:
        spent = row.attempts >= max_attempts
        message = f"the worker extracting this answer stopped answering (attempt {row.attempts} of {max_attempts})"
        conn.execute(
            update(extractions)
            .where(extractions.c.seq == row.seq)
            .values(
                status=(ExtractionStatus.FAILED if spent else ExtractionStatus.QUEUED).value,
                lease_token="",
                lease_expires_at=None,
                available_at=None if spent else now,
                finished_at=now if spent else None,
                error=message,
                error_kind=WORKER_LOST,
            )
        )
    return len(rows)


def _claimable(now: datetime, project_id: str | None) -> Any:
    head = extractions.alias("head")
    head_turn = (
        select(func.min(head.c.turn_id))
        .where(head.c.project_id == extractions.c.project_id, head.c.status.in_(PENDING))
        .scalar_subquery()
    )
    query = select(extractions.c.seq, extractions.c.project_id, extractions.c.turn_id, extractions.c.attempts).where(
        extractions.c.status == ExtractionStatus.QUEUED.value,
        extractions.c.turn_id == head_turn,
        or_(extractions.c.available_at.is_(None), extractions.c.available_at <= now),
    )
    if project_id is not None:
        query = query.where(extractions.c.project_id == project_id)
    return query.order_by(extractions.c.created_at, extractions.c.seq).limit(1)


def has_claimable(conn: Connection, now: datetime, project_id: str | None = None) -> bool:
    """A cheap read first: idle workers poll with this, and take the write lock only when there is work."""
    expired = select(extractions.c.seq).where(
        extractions.c.status == ExtractionStatus.RUNNING.value, extractions.c.lease_expires_at < now
    )
    return (
        conn.execute(_claimable(now, project_id)).first() is not None
        or conn.execute(expired.limit(1)).first() is not None
    )


def claim(
    conn: Connection, token: str, now: datetime, lease_s: float, project_id: str | None = None
) -> ExtractionClaim | None:
    """Claim the oldest claimable answer (of `project_id` only, when given) under the lease `token`."""
    query = _claimable(now, project_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=extractions, skip_locked=True)
    row = conn.execute(query).first()
    if row is None:
        return None
    conn.execute(
        update(extractions)
        .where(extractions.c.seq == row.seq)
        .values(
            status=ExtractionStatus.RUNNING.value,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=row.attempts + 1,
            started_at=now,
            available_at=None,
        )
    )
    return ExtractionClaim(row.project_id, row.turn_id, token, row.attempts + 1)


def _held(held: ExtractionClaim) -> Any:
    return and_(
        extractions.c.project_id == held.project_id,
        extractions.c.turn_id == held.turn_id,
        extractions.c.status == ExtractionStatus.RUNNING.value,
        extractions.c.lease_token == held.token,
    )


def renew(conn: Connection, held: ExtractionClaim, now: datetime, lease_s: float) -> bool:
    """Extend the lease; False when it is no longer this worker's (expired and handed back, or re-queued)."""
    statement = update(extractions).where(_held(held)).values(lease_expires_at=now + timedelta(seconds=lease_s))
    return conn.execute(statement).rowcount == 1


def check_lease(conn: Connection, held: ExtractionClaim) -> None:
    """Lock the claimed row and make sure the lease is still this worker's, before anything is written.

    Raises:
        LeaseLostError: the lease expired (and the answer went back to the queue) or the answer was re-queued.
    """
    query = select(extractions.c.seq).where(_held(held))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if conn.execute(query).first() is None:
        raise LeaseLostError(held.project_id, held.turn_id, held.token)


def finish(
    conn: Connection,
    held: ExtractionClaim,
    now: datetime,
    status: ExtractionStatus,
    *,
    result: ExtractionResult | None = None,
    error: str = "",
    error_kind: str = "",
    retry_at: datetime | None = None,
) -> None:
    """Record the outcome of a claimed answer (checked with `check_lease` in the same transaction).

    With `retry_at`, a failed attempt goes back to the queue, claimable from that time; the error stays visible.
    """
    check_lease(conn, held)
    values: dict[str, Any] = {
        "lease_token": "",
        "lease_expires_at": None,
        "error": error[:2000],
        "error_kind": error_kind[:80],
    }
    if retry_at is not None:
        values.update(status=ExtractionStatus.QUEUED.value, available_at=retry_at)
    else:
        values.update(status=ExtractionStatus(status).value, finished_at=now)
        if result is not None:
            values["data"] = result.model_dump(mode="json")
    conn.execute(update(extractions).where(_held(held)).values(**values))


def position(conn: Connection, project_id: str, turn_id: int, now: datetime) -> QueuePosition | None:
    """How many pending answers (of any project) come before this one, and when its result may be expected."""
    row = conn.execute(
        select(extractions).where(extractions.c.project_id == project_id, extractions.c.turn_id == turn_id)
    ).first()
    if row is None or row.status not in PENDING:
        return None
    running = conn.execute(
        select(func.count()).select_from(extractions).where(extractions.c.status == ExtractionStatus.RUNNING.value)
    ).scalar()
    before = or_(
        extractions.c.created_at < row.created_at,
        and_(extractions.c.created_at == row.created_at, extractions.c.seq < row.seq),
        # an earlier answer of the same project always goes first, whenever it was queued
        and_(extractions.c.project_id == project_id, extractions.c.turn_id < turn_id),
    )
    ahead: int = conn.execute(
        select(func.count())
        .select_from(extractions)
        .where(extractions.c.status.in_(PENDING), extractions.c.seq != row.seq, before)
    ).scalar_one()
    durations = [
        (aware(done.finished_at) - aware(done.started_at)).total_seconds()
        for done in conn.execute(
            select(extractions.c.started_at, extractions.c.finished_at)
            .where(
                extractions.c.status == ExtractionStatus.DONE.value,
                extractions.c.started_at.is_not(None),
                extractions.c.finished_at.is_not(None),
            )
            .order_by(extractions.c.finished_at.desc())
            .limit(ESTIMATE_SAMPLE)
        )
    ]
    if not durations:
        return QueuePosition(ahead, None)
    typical = statistics.median(durations)
    if row.status == ExtractionStatus.RUNNING.value and row.started_at is not None:
        elapsed = (now - aware(row.started_at)).total_seconds()
        return QueuePosition(ahead, max(typical - elapsed, 1.0))
    workers = max(1, running or 0)
    rounds = ahead // workers + 1
    wait = (aware(row.available_at) - now).total_seconds() if row.available_at is not None else 0.0
    return QueuePosition(ahead, max(wait, 0.0) + typical * rounds)
