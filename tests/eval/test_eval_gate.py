"""The CI gate: the committed recordings replay through today's pipeline and score at least the baseline.

The recordings (tests/eval/transcripts/recordings/) hold every model call of a run of the embedded model over
the evaluation transcripts. Replaying them needs no model; a prompt, plan or merge change that alters what is
sent to the model fails the replay at the first call it changes (re-record with `cahier eval --record`), and a
change that makes the extraction worse lowers the scores below `baseline.json`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from assistant.evaluation.report import check_baseline, summarise
from assistant.evaluation.runner import evaluate
from assistant.evaluation.transcripts import load_transcript, recording_path
from assistant.interview import _DONT_KNOW, _fold
from assistant.testing import ReplayChatModel

EVAL = Path(__file__).resolve().parent
TRANSCRIPTS = EVAL / "transcripts"
BASELINE = json.loads((EVAL / "baseline.json").read_text(encoding="utf-8"))
RECORDED = sorted(p for p in TRANSCRIPTS.glob("*.yaml") if recording_path(p).is_file())


def _replay(path: Path) -> ReplayChatModel:
    return ReplayChatModel(recording_path(path))


@pytest.fixture(scope="module")
def scores() -> list[dict]:
    return evaluate(RECORDED, _replay)


def test_the_recordings_cover_both_languages_and_every_baseline_transcript():
    """The gate is only as good as what it replays: both languages, and exactly the baseline's transcripts."""
    assert {load_transcript(p).language.value for p in RECORDED} == {"fr", "en"}
    assert sorted(p.stem for p in RECORDED) == BASELINE["transcript_ids"]


def test_replayed_recordings_hold_the_baseline(scores):
    """Requirement F1 and the trap pass rate are at least what the committed baseline says."""
    summary = summarise(scores)
    assert check_baseline(summary, BASELINE) == [], summary


def test_every_recorded_call_is_replayed_with_its_outcome(scores):
    """Each recorded call is made once, and a replayed failure is a recorded one: the replay adds no failure."""
    for score in scores:
        calls = yaml.safe_load(recording_path(TRANSCRIPTS / f"{score['id']}.yaml").read_text(encoding="utf-8"))["calls"]
        assert score["model_use"]["calls"] == len(calls), score["id"]
        assert sum(score["model_use"]["failures"].values()) == sum("error" in call for call in calls), score["id"]


def test_the_gate_fails_on_a_degraded_recording(scores, tmp_path):
    """Drop the requirements that the last extraction of one transcript got right: the replay still fits the
    recording (no later call depends on the last one), and the gate reports the F1 drop."""
    target = next((s for s in scores if _last_call_matches(s)), None)
    assert target is not None, "no transcript's last extraction matched a gold requirement; pick another degradation"
    source = TRANSCRIPTS / f"{target['id']}.yaml"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    cassette = yaml.safe_load(recording_path(source).read_text(encoding="utf-8"))
    matched = {p["extracted"] for p in target["requirement_pairs"]}
    last = cassette["calls"][-1]["value"]
    last["requirements"] = [r for r in last["requirements"] if r["statement"] not in matched]
    recording_path(copy).parent.mkdir()
    recording_path(copy).write_text(yaml.safe_dump(cassette, allow_unicode=True), encoding="utf-8")

    degraded = evaluate([copy], _replay)
    assert degraded[0]["requirements"]["matched"] < target["requirements"]["matched"]
    rest = [s for s in scores if s["id"] != target["id"]]
    drops = check_baseline(summarise(rest + degraded), BASELINE)
    assert drops and drops[0].startswith("requirement_f1 is ")


def _last_call_matches(score: dict) -> bool:
    transcript = load_transcript(TRANSCRIPTS / f"{score['id']}.yaml")
    last_answer = max(
        n
        for n, t in enumerate(transcript.turns, start=1)
        if not t.is_question and t.action == "answer" and not _DONT_KNOW.match(_fold(t.text))
    )
    return any(pair["turns"] == [last_answer] for pair in score["requirement_pairs"])
