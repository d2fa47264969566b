"""The CI gate: the committed recordings replay through today's pipeline and score at least the baseline.

Two sets, each with its recordings (`recordings/` beside the transcripts) and its baseline: the condensed
transcripts (`tests/eval/transcripts`, `baseline.json`) and the workshop transcripts (`tests/eval/workshops`,
`baseline_workshops.json`). The recordings hold every model call of a run of the embedded model. Replaying them
needs no model; a prompt, plan, clause or label change that alters what is sent to the model fails the replay at
the first call it changes (re-record with `cahier eval --record`), and a change that makes the extraction worse
lowers the scores below the baseline.
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
SETS = {"transcripts": EVAL / "baseline.json", "workshops": EVAL / "baseline_workshops.json"}


def _recorded(name: str) -> list[Path]:
    return sorted(p for p in (EVAL / name).glob("*.yaml") if recording_path(p).is_file())


def _baseline(name: str) -> dict:
    return json.loads(SETS[name].read_text(encoding="utf-8"))


def _replay(path: Path) -> ReplayChatModel:
    return ReplayChatModel(recording_path(path))


@pytest.fixture(scope="module", params=sorted(SETS))
def replayed(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    return request.param, evaluate(_recorded(request.param), _replay)


def test_the_recordings_cover_both_languages_and_every_baseline_transcript(replayed):
    """The gate is only as good as what it replays: both languages, and exactly the baseline's transcripts."""
    name, _ = replayed
    recorded = _recorded(name)
    assert {load_transcript(p).language.value for p in recorded} == {"fr", "en"}
    assert sorted(p.stem for p in recorded) == _baseline(name)["transcript_ids"]


def test_replayed_recordings_hold_the_baseline(replayed):
    """Requirement F1 and the trap pass rate are at least what the committed baseline says."""
    name, scores = replayed
    summary = summarise(scores)
    assert check_baseline(summary, _baseline(name)) == [], summary


def test_every_recorded_call_is_replayed_with_its_outcome(replayed):
    """Each recorded call is made once, and a replayed failure is a recorded one: the replay adds no failure."""
    name, scores = replayed
    for score in scores:
        path = recording_path(EVAL / name / f"{score['id']}.yaml")
        calls = yaml.safe_load(path.read_text(encoding="utf-8"))["calls"]
        assert score["model_use"]["calls"] == len(calls), score["id"]
        assert sum(score["model_use"]["failures"].values()) == sum("error" in call for call in calls), score["id"]


def test_the_gate_fails_when_the_model_stops_wording_needs(replayed, tmp_path):
    """Every recorded reading of a need clause turned into "asks nothing", as a model that answers with valid but
    empty JSON would: the replay still fits the recordings (no request depends on an answer), the clauses become
    facts, and the gate reports the requirement F1 drop."""
    name, scores = replayed
    degraded_paths = []
    for source in _recorded(name):
        copy = tmp_path / source.name
        shutil.copy(source, copy)
        cassette = yaml.safe_load(recording_path(source).read_text(encoding="utf-8"))
        for call in cassette["calls"]:
            if call.get("schema") == "ClauseNeed":
                call["value"] = {"asks": False, "statements": []}
        recording_path(copy).parent.mkdir(exist_ok=True)
        recording_path(copy).write_text(yaml.safe_dump(cassette, allow_unicode=True), encoding="utf-8")
        degraded_paths.append(copy)
    degraded = evaluate(degraded_paths, _replay)
    assert summarise(degraded)["requirement_f1"] < summarise(scores)["requirement_f1"]
    drops = check_baseline(summarise(degraded), _baseline(name))
    assert drops and drops[0].startswith("requirement_f1 is ")
