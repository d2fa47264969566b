"""Interview overhead: `handle_turn` without the model, time to next question, prompt growth.

A project with 300 requirements is stored first; the model is a scripted double that answers instantly, so the
figures are Cahier's own cost per turn (store, state, policy, guidance search, merge). Prompt size is counted in
characters of the extraction prompt and in approximate tokens (characters / 4).

    python bench/turn_overhead.py [--json PATH] [--turns N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.interview.service import Interview  # noqa: E402
from assistant.models.testing import EmptyFindingsModel  # noqa: E402
from assistant.schemas import Requirement  # noqa: E402
from assistant.store import Store  # noqa: E402
from bench._report import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        project = store.create_project("Bench", language="fr")
        person = store.add_stakeholder(project.id, "Alice")
        for number in range(300):
            store.save_object(
                project.id,
                Requirement(
                    id=store.new_id(project.id, Requirement), statement=f"Le CRM doit gérer le besoin {number}."
                ),
                changed_by="bench",
            )
        model = EmptyFindingsModel()
        interview = Interview(store, model)
        interview.start(project.id)
        question_ms, turn_ms, extract_ms, prompt_chars = [], [], [], {}
        for number in range(1, args.turns + 1):
            started = time.perf_counter()
            result = interview.handle_turn(
                project.id,
                person.id,
                f"Il faut que les commerciaux suivent le dossier numéro {number} depuis leur téléphone.",
            )
            question_ms.append((time.perf_counter() - started) * 1000)
            interview.wait(project.id, result.turn_id, timeout=60)
            turn_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            interview.extract_turn(project.id, result.turn_id)  # a second run, timed alone
            extract_ms.append((time.perf_counter() - started) * 1000)
            prompt_chars[number] = sum(len(m.content) for m in model.calls[-1].messages)
        calls_per_turn = (len(model.calls) - args.turns) / args.turns  # minus the timed re-runs
    figures = {
        "median_time_to_next_question_ms": statistics.median(question_ms),
        "median_turn_with_extraction_ms": statistics.median(turn_ms),
        "median_extraction_overhead_ms": statistics.median(extract_ms),
        "model_calls_per_turn": calls_per_turn,
        "requirements_stored": 300,
    }
    for turn in (5, 20, 60):
        if turn in prompt_chars:
            figures[f"prompt_chars_turn_{turn}"] = prompt_chars[turn]
            figures[f"prompt_tokens_approx_turn_{turn}"] = prompt_chars[turn] // 4
    report("Interview turn overhead (model excluded)", figures, args.json)


if __name__ == "__main__":
    main()
