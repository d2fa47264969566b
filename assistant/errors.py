"""Typed errors: each carries what a person needs to understand and fix the problem."""

from __future__ import annotations

from typing import Any


class CahierError(Exception):
    """Base class of every error Cahier raises on purpose."""


class ConfigError(CahierError):
    """A setting is missing or has a value that cannot work.

    Attributes:
        variable: the environment variable to set or fix, e.g. ``CAHIER_DATABASE_URL``.
    """

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        super().__init__(f"`{variable}`: {message}")


class InputError(CahierError):
    """Something a person typed or uploaded cannot be accepted as it is.

    Attributes:
        field: which input was refused (``message``, ``statement``, ``import file``…).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class StoreError(CahierError):
    """The database could not be read or written."""


class NotFoundError(StoreError):
    """A project or object does not exist (or is not visible to the caller)."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"no {kind} with id {identifier!r}")


class StaleWriteError(StoreError):
    """Someone saved the same object since it was read; saving now would lose their change.

    Attributes:
        object_id: the object that was written concurrently.
        expected_version: the version the caller read.
        actual_version: the version now stored.
    """

    def __init__(self, object_id: str, expected_version: int, actual_version: int) -> None:
        self.object_id = object_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"`{object_id}` was changed by someone else (you edited version {expected_version}, "
            f"the stored one is now version {actual_version}); reload it and apply your change again"
        )


class LeaseLostError(StoreError):
    """A worker tried to commit an extraction it no longer holds: its lease expired and the answer went back to
    the queue (another worker may have it now). Nothing of its work was written.

    Attributes:
        project_id, turn_id: the answer.
        token: the lease the worker held.
    """

    def __init__(self, project_id: str, turn_id: int, token: str) -> None:
        self.project_id = project_id
        self.turn_id = turn_id
        self.token = token
        super().__init__(
            f"the lease on the extraction of turn {turn_id} of project `{project_id}` was lost (it expired and the "
            "answer went back to the queue); this worker's result was discarded"
        )


class AccessDeniedError(CahierError):
    """A protected project was asked for without a valid access code or stakeholder link.

    The message names the project's id only: never its name or anything it holds.

    Attributes:
        project_id: the project that was asked for.
        reason: ``code_required`` (no code given), ``wrong_code``, ``bad_link`` or ``too_many_attempts``.
    """

    def __init__(self, project_id: str, reason: str, message: str) -> None:
        self.project_id = project_id
        self.reason = reason
        super().__init__(message)


class TooManyAttemptsError(AccessDeniedError):
    """Too many wrong access codes for a project: no code is checked until the lock ends.

    Attributes:
        retry_after_s: seconds to wait before the next attempt is checked.
    """

    def __init__(self, project_id: str, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__(
            project_id,
            "too_many_attempts",
            f"too many wrong access codes for project `{project_id}`; try again in {minutes} minute(s)",
        )


class ModelError(CahierError):
    """The language model could not be reached or answered with an error."""


class ExtractionError(ModelError):
    """The model's answer still did not fit the schema after the bounded re-asks.

    Attributes:
        raw: the last raw text the model returned.
        errors: the validation errors of that last answer, as readable strings.
        attempts: how many calls were made in total.
    """

    def __init__(self, raw: str, errors: list[str], attempts: int, *, detail: Any = None) -> None:
        self.raw = raw
        self.errors = errors
        self.attempts = attempts
        self.detail = detail
        first = errors[0] if errors else "no detail"
        super().__init__(f"the model's answer did not fit the schema after {attempts} attempt(s): {first}")
