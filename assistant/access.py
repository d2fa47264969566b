"""Access codes and stakeholder links: who may read a protected project, and how fast its code can be guessed.

A project's access code is stored only as an argon2id hash. A stakeholder link is a random token given to a person
who should read the interview and answer, nothing more; only its SHA-256 is stored. Wrong codes are logged in the
database, per project, so the rate limit holds across processes, sessions and restarts.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.errors import AccessDeniedError, InputError, TooManyAttemptsError
from assistant.store import Store

HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16)
"""argon2id with RFC 9106's second recommended profile: 3 passes over 64 MiB, 4 lanes, 16-byte salt, 32-byte tag.

About 0.1–0.2 s per check on one laptop core: unnoticeable for a person, costly for a guesser with the database.
A stored hash made with weaker parameters is upgraded at the next right code.
"""

MIN_CODE_LENGTH = 8
MAX_CODE_LENGTH = 128
"""A code longer than this is refused (and counted as wrong when checked): hashing megabytes is a denial of service."""

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
"""The rate limit on access codes, per project, kept in the database: at most `MAX_FAILURES` wrong codes in any
`FAILURE_WINDOW`. Once reached, no code is checked, not even the right one, until the oldest of those failures is
`FAILURE_WINDOW` old (`TooManyAttemptsError` says how long). That is at most 480 guesses a day against a code of at
least `MIN_CODE_LENGTH` characters. A right code clears the log.
"""

LINK_TOKEN_BYTES = 32
"""Random bytes in a stakeholder link's token (256 bits): unguessable, so links are not rate-limited, and a fast
SHA-256 is enough to store them (a slow hash protects low-entropy secrets; this one has none to protect)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_code(code: str) -> str:
    """The argon2id hash of a new access code.

    Raises:
        InputError: the code is shorter than `MIN_CODE_LENGTH` or longer than `MAX_CODE_LENGTH` characters.
    """
    if len(code.strip()) < MIN_CODE_LENGTH or len(code) > MAX_CODE_LENGTH:
        raise InputError(
            "access code",
            f"an access code must be {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH} characters long (got {len(code)})",
        )
    return HASHER.hash(code)


def is_protected(store: Store, project_id: str) -> bool:
    return store.get_access_hash(project_id) is not None


def check_code(store: Store, project_id: str, code: str | None, *, now: datetime | None = None) -> str | None:
    """Let the holder of the right code in; every wrong code counts towards the rate limit.

    Args:
        code: the code given, or None when none was.
        now: the current time (tests move it).

    Returns:
        The stored hash the code matched (a session keeps it as proof; a changed code invalidates the proof), or
        None when the project is not protected.

    Raises:
        AccessDeniedError: the project is protected and no code or a wrong one was given.
        TooManyAttemptsError: too many wrong codes recently; nothing was checked.
        NotFoundError: the project does not exist.
    """
    stored = store.get_access_hash(project_id)
    if stored is None:
        return None
    if not code:
        raise AccessDeniedError(project_id, "code_required", f"project `{project_id}` is protected by an access code")
    now = now or _now()
    blocking = store.record_access_attempt(project_id, at=now, since=now - FAILURE_WINDOW, limit=MAX_FAILURES)
    if blocking is not None:
        wait = blocking[-MAX_FAILURES] + FAILURE_WINDOW - now
        raise TooManyAttemptsError(project_id, max(1, math.ceil(wait.total_seconds())))
    try:
        if len(code) > MAX_CODE_LENGTH:
            raise VerificationError("code too long")
        HASHER.verify(stored, code)
    except (VerificationError, InvalidHashError):
        raise AccessDeniedError(project_id, "wrong_code", f"wrong access code for project `{project_id}`") from None
    store.clear_access_failures(project_id)
    if HASHER.check_needs_rehash(stored):
        stored = HASHER.hash(code)
        store.set_access_hash(project_id, stored)
    return stored


def set_code(
    store: Store, project_id: str, new_code: str, *, current_code: str | None = None, now: datetime | None = None
) -> str:
    """Protect a project with `new_code`, or change its code; returns the new hash.

    Raises:
        AccessDeniedError: the project is protected and `current_code` is not its code.
        InputError: `new_code` is too short or too long.
    """
    check_code(store, project_id, current_code, now=now)
    code_hash = hash_code(new_code)
    store.set_access_hash(project_id, code_hash)
    return code_hash


def remove_code(store: Store, project_id: str, current_code: str | None, *, now: datetime | None = None) -> None:
    """Make a project open to anyone again; its stakeholder links are revoked with the code."""
    check_code(store, project_id, current_code, now=now)
    store.set_access_hash(project_id, None)


def create_link(store: Store, project_id: str, code: str | None, *, now: datetime | None = None) -> str:
    """A new stakeholder link token for `project_id`, made by someone holding its code (if it has one).

    The token is returned once and never stored: only its SHA-256 is.
    """
    check_code(store, project_id, code, now=now)
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    store.add_access_link(project_id, _token_hash(token))
    return token


def check_link(store: Store, project_id: str, token: str | None) -> None:
    """Raises `AccessDeniedError` unless `token` is a live stakeholder link of `project_id`."""
    if not token or len(token) > 2 * LINK_TOKEN_BYTES or not store.has_access_link(project_id, _token_hash(token)):
        raise AccessDeniedError(
            project_id, "bad_link", f"this link does not open project `{project_id}` (revoked or mistyped)"
        )


def revoke_links(store: Store, project_id: str, code: str | None, *, now: datetime | None = None) -> int:
    """Revoke every stakeholder link of a project; returns how many there were."""
    check_code(store, project_id, code, now=now)
    count = store.count_access_links(project_id)
    store.delete_access_links(project_id)
    return count
