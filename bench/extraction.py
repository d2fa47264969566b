"""Time from a stakeholder's answer to "what I understood": the answer stored, read, merged, on screen.

Answers are taken from the evaluation transcripts (both sets, both languages) in two sizes: about 60 words
(40-80) and about 200 words (160-240). Each is recorded in a fresh project after the question it answered, and
the clock runs from `record_answer` until its extraction is done (what the chat page then shows). The model is
the configured one (the embedded model by default). Run it alone on a quiet machine: any other CPU job slows
llama.cpp several times over.

Printed: the median and maximum seconds per size, model calls per answer, and how many answers were timed.

    python bench/extraction.py [--per-size N] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.transcripts import find_transcripts, load_transcript  # noqa: E402
from assistant.interview.service import Interview  # noqa: E402
from assistant.models.factory import chat_model_from_settings  # noqa: E402
from assistant.store import Store  # noqa: E402
from bench._report import report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"60_words": (40, 80), "200_words": (160, 240)}


def samples(per_size: int) -> dict[str, list[tuple[str, str, str | None, str]]]:
    """(language, question, slot, answer) per size, alternating languages, in transcript order."""
    found: dict[str, dict[str, list[tuple[str, str, str | None, str]]]] = {size: {"fr": [], "en": []} for size in SIZES}
    for path in find_transcripts([ROOT / "tests/eval/workshops", ROOT / "tests/eval/transcripts"]):
        transcript = load_transcript(path)
        question = None
        for turn in transcript.turns:
            if turn.is_question:
                question = turn
                continue
            words = len(turn.text.split())
            for size, (low, high) in SIZES.items():
                if low <= words <= high and question is not None:
                    slot = str(question.slot) if question.slot else None
                    found[size][transcript.language.value].append(
                        (transcript.language.value, question.text, slot, turn.text)
                    )
    chosen = {}
    for size, by_language in found.items():
        half = per_size // 2
        chosen[size] = by_language["fr"][:half] + by_language["en"][: per_size - half]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-size", type=int, default=6)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model = chat_model_from_settings(Settings())
    figures: dict[str, float | int | str] = {"model": model.name}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        interview = Interview(store, model)
        # The first call loads the model and fills the prompt cache: it is not what a stakeholder waits for.
        warm = store.create_project("warm-up", language="fr")
        person = store.add_stakeholder(warm.id, "Warm-up")
        interview.ask(warm.id, "Quels besoins ?", slot="needs.must_haves")
        interview.wait(warm.id, interview.record_answer(warm.id, person.id, "Il faut un suivi des devis.").id)
        for size, answers in samples(args.per_size).items():
            seconds, calls = [], []
            for language, question, slot, answer in answers:
                project = store.create_project(f"bench {size}", language=language)
                person = store.add_stakeholder(project.id, "Stakeholder")
                interview.ask(project.id, question, slot=slot)
                started = time.perf_counter()
                turn = interview.record_answer(project.id, person.id, answer)
                interview.wait(project.id, turn.id)
                seconds.append(time.perf_counter() - started)
                calls.append(len(store.list_usage(project.id)))
            figures[f"{size}_answers"] = len(seconds)
            figures[f"{size}_median_s"] = round(statistics.median(seconds), 2) if seconds else 0.0
            figures[f"{size}_max_s"] = round(max(seconds), 2) if seconds else 0.0
            figures[f"{size}_calls_per_answer"] = round(statistics.mean(calls), 2) if calls else 0.0
        interview.close()
        store.close()
    report("Answer to 'what I understood'", figures, args.json)


if __name__ == "__main__":
    main()
