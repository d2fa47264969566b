"""Offline evaluation: matching and scoring on hand-made pairs, transcript loading, the baseline gate, and a
record-then-replay run through the CLI over real HTTP (a loopback fake OpenAI server)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import InputError
from assistant.evaluation.report import check_baseline, summarise
from assistant.evaluation.scoring import (
    MATCH_THRESHOLD,
    REQUIREMENT_THRESHOLD,
    assign,
    date_agrees,
    match_texts,
    money_agrees,
)
from assistant.evaluation.transcripts import load_transcript, recording_path
from assistant.interview.reading import read_answer
from assistant.knowledge.embeddings import requirement_similarity
from assistant.models.testing import ScriptedChatModel, clause_need, clause_objective
from assistant.schemas import ClauseNeed, Money, SlotKey, Speaker, Turn
from tests.contract.fake_openai import FakeOpenAIServer, completion

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "eval" / "transcripts"
SENTINEL = "sk-evalsentinel-0123456789abcdef"
runner = CliRunner()

# -- matching ---------------------------------------------------------------------------------------------


def test_exact_statements_all_match_one_to_one():
    """Identical lists match fully: precision, recall and F1 are 1."""
    texts = ["The CRM shall send quotes for electronic signature.", "The CRM shall support single sign-on."]
    matching = match_texts(texts, list(reversed(texts)))
    assert {(g, p) for g, p, _ in matching.pairs} == {(0, 1), (1, 0)}
    assert (matching.precision, matching.recall, matching.f1) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("gold", "extracted"),
    [
        (
            "The CRM shall send quotes for electronic signature.",
            "Quotes must be sent out for e-signature from the CRM.",
        ),  # noqa: E501
        (
            "Le CRM doit envoyer les devis en signature électronique.",
            "Le CRM doit permettre la signature électronique des devis.",
        ),  # noqa: E501
        (
            "Le CRM doit synchroniser les contacts avec l'ERP.",
            "Les contacts doivent être synchronisés avec notre ERP Sage.",
        ),  # noqa: E501
    ],
)
def test_a_close_rewording_matches(gold, extracted):
    """A rewording of the same need scores at or above the threshold, in English and French."""
    assert match_texts([gold], [extracted]).pairs, f"similarity under {MATCH_THRESHOLD}"


@pytest.mark.parametrize(
    ("gold", "extracted"),
    [
        (
            "The CRM shall send quotes for electronic signature.",
            "The CRM shall generate quotes from the company price book.",
        ),  # noqa: E501
        ("The CRM shall support single sign-on through Okta.", "The CRM shall enforce role-based permissions."),
        (
            "Le CRM doit synchroniser les contacts avec l'ERP.",
            "Le CRM doit importer les contacts depuis les fichiers Excel.",
        ),  # noqa: E501
    ],
)
def test_another_need_on_the_same_topic_does_not_match(gold, extracted):
    """Two different needs about the same CRM feature stay under the threshold (the calibration's other side)."""
    assert not match_texts([gold], [extracted]).pairs


SAME_NEED = [
    ("The CRM shall send quotes for electronic signature.", "Quotes must be sent out for e-signature from the CRM."),
    (
        "Le CRM doit synchroniser les contacts avec l'ERP.",
        "Les contacts doivent être synchronisés avec notre ERP Sage.",
    ),
    (
        "The CRM shall build guest profiles automatically from PMS reservations and stays.",
        "The CRM shall automatically feed guest profiles from the PMS.",
    ),
    (
        "Le CRM doit recueillir à l'écran la signature du client sur le rapport d'intervention.",
        "Le CRM doit permettre aux utilisateurs de signer le rapport à l'écran par le cadre de santé.",
    ),
]
OTHER_NEED = [
    (
        "The CRM shall send quotes for electronic signature.",
        "The CRM shall generate quotes from the company price book.",
    ),
    (
        "Le CRM doit synchroniser les contacts avec l'ERP.",
        "Le CRM doit importer les contacts depuis les fichiers Excel.",
    ),
    ("Le CRM doit suivre les opportunités.", "Le CRM doit gérer les devis."),
]


@pytest.mark.parametrize(("gold", "extracted"), SAME_NEED)
def test_requirements_reworded_with_or_without_the_opening_match(gold, extracted):
    """The requirement matcher pairs rewordings of one need, whether or not they open with "The CRM shall"."""
    assert float(requirement_similarity([gold], [extracted])[0, 0]) >= REQUIREMENT_THRESHOLD


@pytest.mark.parametrize(("gold", "extracted"), OTHER_NEED)
def test_two_needs_sharing_the_opening_do_not_match(gold, extracted):
    """ "Le CRM doit suivre les opportunités" and "… gérer les devis" share their opening, not their need."""
    assert float(requirement_similarity([gold], [extracted])[0, 0]) < REQUIREMENT_THRESHOLD


def test_missing_and_extra_items_count_against_recall_and_precision():
    """One gold missed and one extra extracted: P = R = 1/2."""
    gold = ["The CRM shall send quotes for electronic signature.", "The CRM shall log every call with the customer."]
    extracted = ["The CRM shall send quotes for electronic signature.", "The CRM shall print badges for events."]
    matching = match_texts(gold, extracted)
    assert [(g, p) for g, p, _ in matching.pairs] == [(0, 0)]
    assert (matching.precision, matching.recall) == (0.5, 0.5)


def test_assignment_is_one_to_one():
    """Two extractions close to the same gold statement count once; the better one is kept."""
    similarity = np.array([[0.9, 0.95], [0.1, 0.2]])
    matching = assign(similarity)
    assert [(g, p) for g, p, _ in matching.pairs] == [(0, 1)]
    assert matching.precision == 0.5 and matching.recall == 0.5


def test_assignment_prefers_the_pairing_that_matches_most():
    """A greedy match would pair gold 0 with its best (0.95) and leave gold 1 unmatched; the assignment does not."""
    similarity = np.array([[0.95, 0.8], [0.9, 0.1]])
    assert {(g, p) for g, p, _ in assign(similarity).pairs} == {(0, 1), (1, 0)}


def test_empty_lists_score_without_dividing_by_zero():
    """Nothing expected and nothing found is perfect; something expected and nothing found is zero."""
    assert match_texts([], []).f1 == 1.0
    assert match_texts(["The CRM shall log calls."], []).f1 == 0.0


# -- values ------------------------------------------------------------------------------------------------


def test_dates_compare_at_the_gold_precision():
    """A month-precision gold accepts any day of that month; a day-precision gold needs the day."""
    assert date_agrees({"value": date(2027, 3, 31), "precision": "month"}, date(2027, 3, 1))
    assert not date_agrees({"value": date(2027, 3, 31), "precision": "month"}, date(2027, 4, 1))
    assert date_agrees({"value": date(2027, 6, 30), "precision": "quarter"}, date(2027, 4, 15))
    assert not date_agrees({"value": date(2027, 1, 4), "precision": "day"}, date(2027, 1, 5))
    assert not date_agrees({"value": date(2027, 1, 4), "precision": "day"}, None)


def test_money_needs_amount_currency_and_tax_basis():
    """80 000 € HT is not 80 000 € TTC, nor 80 000 $."""
    expected = {"amount": 80000, "currency": "EUR", "tax_basis": "excl_tax"}
    assert money_agrees(expected, Money(amount=Decimal(80000), currency="EUR", tax_basis="excl_tax"))
    assert not money_agrees(expected, Money(amount=Decimal(80000), currency="EUR", tax_basis="incl_tax"))
    assert not money_agrees(expected, Money(amount=Decimal(80000), currency="USD", tax_basis="excl_tax"))
    assert not money_agrees(expected, None)


# -- transcripts and baseline ------------------------------------------------------------------------------


def test_a_malformed_transcript_names_the_file_and_field(tmp_path):
    """A transcript with an unknown trap kind is refused before anything runs, naming the file and the field."""
    data = yaml.safe_load((TRANSCRIPTS / "en-saas-scaleup.yaml").read_text(encoding="utf-8"))
    data["gold"]["traps"][0]["kind"] = "earthquake"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: gold\.traps\.0\.kind"):
        load_transcript(path)
    path.write_text("turns: [unclosed", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as YAML"):
        load_transcript(path)


def test_every_committed_transcript_loads():
    """The evaluation set parses with the runner's own loader (the format checks live in tests/eval)."""
    loaded = [load_transcript(path) for path in sorted(TRANSCRIPTS.glob("*.yaml"))]
    assert len(loaded) >= 8 and {t.language.value for t in loaded} == {"fr", "en"}


def test_baseline_gate_reports_each_drop():
    """A figure below its baseline is named with both values; equal or better passes."""
    baseline = {"transcript_ids": ["a", "b"], "requirement_f1": 0.5, "trap_pass_rate": 0.75}
    run = {"transcript_ids": ["a", "b"], "requirement_f1": 0.5, "trap_pass_rate": 0.8}
    assert check_baseline(run, baseline) == []
    drops = check_baseline({**run, "requirement_f1": 0.49, "trap_pass_rate": 0.5}, baseline)
    assert drops == ["requirement_f1 is 0.49 (baseline 0.5)", "trap_pass_rate is 0.5 (baseline 0.75)"]
    other = check_baseline({**run, "transcript_ids": ["a"]}, baseline)
    assert other == ["the run covers ['a'], the baseline ['a', 'b']"]


def test_summary_micro_averages_requirements():
    """Requirement P/R/F1 add up matches over transcripts, so a long transcript weighs more than a short one."""
    base = {
        "fields": {"kind": None},
        "objectives": {"gold": 0, "predicted": 0, "matched": 0},
        "objective_fields": {"checked": 0, "exact": 0},
        "facts": {"gold": 0, "predicted": 0, "matched": 0},
        "constraints": {"gold": 0, "predicted": 0, "matched": 0},
        "use_cases": {"gold": 0, "predicted": 0, "matched": 0},
        "open_questions": {"gold": 0, "predicted": 0, "matched": 0},
        "conflicts": {"gold": 0, "predicted": 0, "matched": 0},
        "constraint_values": {"checked": 0, "exact": 0},
        "coverage": {"agreement": 1.0},
        "traps": [{"passed": True}],
        "model_use": {
            "calls": 1,
            "calls_per_turn": 1,
            "prompt_tokens_per_turn": 1,
            "completion_tokens_per_turn": 1,
            "failures": {},
        },
    }
    scores = [
        {**base, "id": "long", "requirements": {"gold": 10, "predicted": 10, "matched": 9}},
        {**base, "id": "short", "requirements": {"gold": 2, "predicted": 2, "matched": 0}},
    ]
    summary = summarise(scores)
    assert summary["requirement_precision"] == summary["requirement_recall"] == 0.75
    assert summary["transcript_ids"] == ["long", "short"]


# -- record, then replay, through the CLI ------------------------------------------------------------------


@pytest.fixture
def short_transcript(tmp_path):
    """A copy of a committed transcript in a folder of its own (its recording is written beside it)."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    path = folder / "en-saas-scaleup.yaml"
    shutil.copy(TRANSCRIPTS / path.name, path)
    return path


class _GoldWording(ScriptedChatModel):
    """Reads like a model that words each need clause as the next gold requirement of its answer (then nothing)
    and finds no objective, keeping the JSON it answered, in order, for a fake server to send back."""

    def __init__(self) -> None:
        super().__init__()
        self.gold: list[str] = []
        self.sent: list[str] = []

    def extract(self, messages, schema):  # noqa: ANN001, ANN201
        if schema is ClauseNeed:
            answer = clause_need(self.gold.pop(0)) if self.gold else clause_need()
        else:
            answer = clause_objective()
        self.sent.append(json.dumps(answer))
        self.push(answer)
        return super().extract(messages, schema)


def _answers_for(transcript) -> list[str]:
    """One canned model answer per call the reading will make, found by running the production reading on each
    answer: its need clauses get the answer's gold requirements, verbatim, one per clause."""
    model = _GoldWording()
    key = None
    for number, turn in enumerate(transcript.turns, start=1):
        if turn.is_question:
            key = SlotKey.parse(turn.slot) if turn.slot else None
            continue
        if turn.action != "answer":
            continue
        model.gold = [g["statement"] for g in transcript.gold.requirements if min(g["source_turns"]) == number]
        when = datetime.combine(transcript.interview_date, time(9), UTC)
        stored = Turn(
            id=number,
            project_id="p",
            speaker=Speaker.STAKEHOLDER,
            stakeholder_id="s",
            text=turn.text,
            language=transcript.language,
            created_at=when,
        )
        read_answer(stored, key, model)
    return model.sent


def test_a_recorded_live_run_replays_to_the_same_report(short_transcript, tmp_path, monkeypatch):
    """`--record` runs the real HTTP adapter and writes a cassette without the key; `--replay` then gives the
    same scores with no server at all, twice byte for byte; and a recording that no longer fits fails loudly."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("CAHIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    monkeypatch.setenv("CAHIER_MAX_RETRIES", "0")
    transcript = load_transcript(short_transcript)
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        server.push(*(completion(answer) for answer in _answers_for(transcript)))
        recorded = runner.invoke(app, ["eval", str(short_transcript), "--record", "--report", str(tmp_path / "r0")])
    assert recorded.exit_code == 0, recorded.output
    cassette = recording_path(short_transcript)
    assert SENTINEL not in cassette.read_text(encoding="utf-8")
    assert SENTINEL not in (tmp_path / "r0" / "report.json").read_text(encoding="utf-8")
    live = json.loads((tmp_path / "r0" / "report.json").read_text(encoding="utf-8"))
    assert live["transcripts"][0]["requirements"]["matched"] >= 2  # gold statements came back through real HTTP

    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name)
    reports = []
    for attempt in (1, 2):
        out = tmp_path / f"r{attempt}"
        replayed = runner.invoke(app, ["eval", str(short_transcript), "--replay", "--report", str(out)])
        assert replayed.exit_code == 0, replayed.output
        reports.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert reports[0] == reports[1]
    replay = json.loads(reports[0]["report.json"])
    assert replay["transcripts"] == live["transcripts"]

    # The second answer now states one more need: what is sent to the model is no longer the recorded request.
    data = yaml.safe_load(short_transcript.read_text(encoding="utf-8"))
    answers = [t for t in data["turns"] if t["speaker"] != "assistant"]
    answers[1]["text"] += " We also need the CRM to track every spare part we sell."
    short_transcript.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    broken = runner.invoke(app, ["eval", str(short_transcript), "--replay"])
    assert broken.exit_code == 1
    assert "the request differs from the recording" in broken.output
    assert "re-record" in broken.output


def test_replay_without_a_recording_says_how_to_make_one(short_transcript, monkeypatch):
    """No cassette: a one-line error naming the missing file and `--record`."""
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["eval", str(short_transcript), "--replay"])
    assert result.exit_code == 1
    assert "recordings/en-saas-scaleup.yaml" in result.output and "--record" in result.output
