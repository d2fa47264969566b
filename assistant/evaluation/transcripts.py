"""Evaluation transcripts: a recorded interview and what a perfect pipeline would hold at its end.

The file format is documented in docs/transcript-format.md; this module validates a file into typed objects so
a bad file fails with its name and the field at fault, never halfway through a run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import InputError
from assistant.schemas import Language

TRAP_KINDS = ("correction", "conflict", "dont_know", "injection", "off_topic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    id: str
    name: str
    role: str = ""


class TranscriptTurn(_Strict):
    speaker: str
    text: str
    slot: str | None = None
    action: Literal["answer", "skip", "dont_know"] = "answer"

    @property
    def is_question(self) -> bool:
        return self.speaker == "assistant"


class Trap(_Strict):
    kind: Literal["correction", "conflict", "dont_know", "injection", "off_topic"]
    turn: int
    expect: str


class Gold(_Strict):
    """The gold annotations. Object lists stay plain mappings: scoring reads the fields it compares."""

    requirements: list[dict[str, Any]] = Field(default_factory=list)
    objectives: list[dict[str, Any]] = Field(default_factory=list)
    constraints: list[dict[str, Any]] = Field(default_factory=list)
    use_cases: list[dict[str, Any]] = Field(default_factory=list)
    open_questions: list[dict[str, Any]] = Field(default_factory=list)
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    facts: list[dict[str, Any]] = Field(default_factory=list)
    """What was said about the company and its situation (workshop transcripts, see docs/transcript-format.md)."""
    coverage: dict[str, Literal["clear", "partial", "missing"]]
    traps: list[Trap] = Field(min_length=1)


class Transcript(_Strict):
    id: str
    language: Language
    company: str
    interview_date: date
    stakeholders: list[Person] = Field(min_length=1)
    turns: list[TranscriptTurn] = Field(min_length=2)
    gold: Gold
    path: Path | None = None

    @property
    def answers(self) -> int:
        return sum(1 for t in self.turns if not t.is_question)


def load_transcript(path: Path) -> Transcript:
    """Read and validate one transcript file.

    Raises:
        InputError: the file is unreadable, not YAML, or does not follow the format (names the file and field).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError("transcript", f"{path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError("transcript", f"{path}: expected a mapping at the top level")
    try:
        transcript = Transcript.model_validate({**data, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError("transcript", f"{path}: {where}: {first['msg']}") from exc
    speakers = {p.id for p in transcript.stakeholders}
    for number, turn in enumerate(transcript.turns, start=1):
        if not turn.is_question and turn.speaker not in speakers:
            raise InputError("transcript", f"{path}: turn {number} is spoken by unknown stakeholder {turn.speaker!r}")
    return transcript


def find_transcripts(paths: list[Path]) -> list[Path]:
    """The transcript files named, or found directly inside the folders named (recordings are not transcripts)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.yaml")))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError("transcript", f"{path}: no such file or folder")
    return found


def recording_path(transcript_path: Path) -> Path:
    """Where the model calls of a transcript's recorded run are kept: beside it, in `recordings/`."""
    return transcript_path.parent / "recordings" / transcript_path.name
