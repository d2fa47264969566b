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
from assistant.models.recorded import ReplayChatModel

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
    """Whether a matched requirement was created by the last call alone (its statement is in that call's answer,
    and it cites a single turn: a statement merged into an earlier requirement would cite two)."""
    cassette = yaml.safe_load(recording_path(TRANSCRIPTS / f"{score['id']}.yaml").read_text(encoding="utf-8"))
    last = {r["statement"] for r in cassette["calls"][-1]["value"].get("requirements", [])}
    return any(pair["extracted"] in last and len(pair["turns"]) == 1 for pair in score["requirement_pairs"])
