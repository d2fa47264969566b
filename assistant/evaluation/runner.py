"""Replay a transcript through the real interview pipeline, one answer at a time.

Cahier's own policy picks the next question live; a transcript is condensed and asks fewer slots, so the replay
stores each recorded question as it was asked (`Interview.ask`) and each answer through `Interview.record_answer`,
then waits for that answer's extraction before the next turn. Waiting makes the run deterministic: every
extraction prompt depends only on the turns and objects before it, so a recorded run replays call for call.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from assistant.evaluation.run import Run
from assistant.evaluation.scoring import score_run
from assistant.evaluation.transcripts import Transcript, load_transcript
from assistant.interview.service import Interview
from assistant.models.port import ChatModel
from assistant.models.recorded import ReplayChatModel
from assistant.store import Store


def replay(
    transcript: Transcript,
    store: Store,
    model: ChatModel,
    *,
    on_turn: Callable[[int], None] | None = None,
) -> Run:
    """Replay every turn of `transcript` into a new project of `store`, extracting with `model`.

    Args:
        on_turn: called with the transcript turn number after each turn (progress display).
    """
    started = time.perf_counter()
    day = datetime.combine(transcript.interview_date, clock_time(9), UTC)
    position = {"turn": 0}

    def clock() -> datetime:
        # Turns are dated on the interview day, a minute apart: relative dates resolve against that day.
        return day + timedelta(minutes=position["turn"])

    project = store.create_project(transcript.id, transcript.language, transcript.company)
    speakers = {
        person.id: store.add_stakeholder(project.id, person.name, person.role).id for person in transcript.stakeholders
    }
    interview = Interview(store, model, clock=clock)
    run = Run(transcript, store, project.id, model.name)
    for number, turn in enumerate(transcript.turns, start=1):
        position["turn"] = number
        if turn.is_question:
            stored = interview.ask(project.id, turn.text, slot=turn.slot)
        else:
            stored = interview.record_answer(project.id, speakers[turn.speaker], turn.text, action=turn.action)
            interview.wait(project.id, stored.id)
            if isinstance(model, ReplayChatModel) and model.mismatch:
                interview.close()
                raise model.mismatch
        run.turn_ids[number] = stored.id
        if on_turn:
            on_turn(number)
    interview.close()
    run.model = model.name  # known only now when the model loads on first use
    run.seconds = time.perf_counter() - started
    return run


def evaluate(
    paths: list[Path],
    model_for: Callable[[Path], ChatModel],
    *,
    on_turn: Callable[[str, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Replay and score every transcript file, each in a fresh project of a throw-away SQLite store.

    Args:
        model_for: the model to extract with for a transcript file (live, recording or replaying).
        on_turn: called with (transcript id, turn number) after each turn.

    Raises:
        InputError: a transcript file is malformed (before anything runs).
        ReplayMismatchError: a replayed run asked something the recording does not hold, or less than it holds.
    """
    transcripts = [load_transcript(path) for path in paths]
    scores = []
    with tempfile.TemporaryDirectory(prefix="cahier-eval-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'eval.db'}")
        try:
            for transcript, path in zip(transcripts, paths, strict=True):
                model = model_for(path)
                progress = (lambda n, tid=transcript.id: on_turn(tid, n)) if on_turn else None
                run = replay(transcript, store, model, on_turn=progress)
                if isinstance(model, ReplayChatModel):
                    model.finish()
                scores.append(score_run(run))
        finally:
            store.close()
    return scores
