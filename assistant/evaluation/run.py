"""One replayed transcript, as the runner produces it and the scorer reads it."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.evaluation.transcripts import Transcript
from assistant.store import Store


@dataclass
class Run:
    """One replayed transcript: where its project lives and what the run cost."""

    transcript: Transcript
    store: Store
    project_id: str
    model: str
    turn_ids: dict[int, int] = field(default_factory=dict)
    """Transcript turn number → stored turn id."""
    seconds: float = 0.0

    def turn_number(self, turn_id: int) -> int | None:
        """The transcript turn number of a stored turn (None for a turn the replay did not store)."""
        return self._numbers.get(turn_id)

    @property
    def _numbers(self) -> dict[int, int]:
        return {stored: number for number, stored in self.turn_ids.items()}
