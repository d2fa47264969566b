"""The embedded model (or any configured one): load time, speed, extraction latency and validity.

Ten short stakeholder answers (five French, five English) go through the production reading
(`assistant/interview/reading.py`: clause labels in code, the wording calls to the model). A reading is valid
when every call parsed into its schema; "kept language" means that every requirement of a French answer starts
with "Le CRM doit" and every one of an English answer with "The CRM shall". Latency is per answer, all calls.
Run on a quiet machine: two cores shared with another CPU-heavy process slow llama.cpp several-fold.

    python bench/model.py [--json PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import load_settings  # noqa: E402
from assistant.errors import ModelError  # noqa: E402
from assistant.interview.reading import PREFIX, read_answer  # noqa: E402
from assistant.models.factory import chat_model_from_settings  # noqa: E402
from assistant.models.port import Message  # noqa: E402
from assistant.schemas import Language, Speaker, Turn  # noqa: E402
from bench._report import report  # noqa: E402

ANSWERS = [
    (
        "fr",
        "Quel est votre budget ?",
        "Notre budget est de 80 k€ HT et on doit être en production avant la rentrée 2027.",
    ),
    ("fr", "Que doit faire le CRM ?", "Les commerciaux doivent pouvoir saisir une visite depuis leur téléphone."),
    ("fr", "Quels outils utilisez-vous ?", "Je ne sais pas, il faudrait demander à la DSI."),
    (
        "fr",
        "Quelles contraintes d'hébergement ?",
        "Les données clients doivent rester en France, c'est non négociable.",
    ),
    ("fr", "Quels objectifs ?", "On veut passer de 18 % à 25 % de transformation des devis d'ici fin 2026."),
    ("en", "What is the budget?", "We can't spend more than $120k including the first year of licences."),
    ("en", "What must the CRM do?", "Sales reps must log a call from their phone in under 30 seconds."),
    ("en", "Any integrations?", "It should sync invoices with our ERP every night; a Slack alert would be nice."),
    ("en", "What about security?", "Single sign-on with our Azure AD is mandatory."),
    ("en", "What about the current tools?", "No idea, that's for IT to decide."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--limit", type=int, default=len(ANSWERS))
    args = parser.parse_args()
    settings = load_settings()
    started = time.perf_counter()
    model = chat_model_from_settings(settings)
    load_s = time.perf_counter() - started

    latencies, valid, kept, prompt_tokens, cached, completion_tokens = [], 0, 0, 0, 0, 0
    generation_rates = []
    for number, (lang, _question, answer) in enumerate(ANSWERS[: args.limit], start=1):
        language = Language(lang)
        turn = Turn(
            id=number,
            project_id="bench",
            speaker=Speaker.STAKEHOLDER,
            stakeholder_id="S",
            text=answer,
            language=language,
        )
        started = time.perf_counter()
        try:
            reading = read_answer(turn, None, model)
        except ModelError as exc:
            print(f"[{lang}] invalid: {exc}")
            continue
        valid += 1
        latencies.append(time.perf_counter() - started)
        for usage in reading.usage:
            prompt_tokens += usage.prompt_tokens
            cached += usage.cached_prompt_tokens
            completion_tokens += usage.completion_tokens
            if usage.latency_ms:
                generation_rates.append(usage.completion_tokens / (usage.latency_ms / 1000))
        if all(r.statement.startswith(PREFIX[language]) for r in reading.findings.requirements):
            kept += 1
        print(f"[{lang}] {latencies[-1]:.1f}s {reading.findings.model_dump_json()[:200]}")

    stream_started = time.perf_counter()
    first_token = None
    for _ in model.reply([Message("user", "Pose une question courte sur le budget du projet CRM.")]):
        if first_token is None:
            first_token = time.perf_counter() - stream_started
    figures = {
        "model": model.name,
        "load_s": load_s,
        "answers": min(args.limit, len(ANSWERS)),
        "validity_rate": valid / min(args.limit, len(ANSWERS)),
        "kept_language_rate": kept / min(args.limit, len(ANSWERS)),
        "median_extraction_s": statistics.median(latencies) if latencies else float("nan"),
        "max_extraction_s": max(latencies) if latencies else float("nan"),
        "completion_tok_per_s_median": statistics.median(generation_rates) if generation_rates else float("nan"),
        "prompt_tokens_total": prompt_tokens,
        "cached_prompt_share": cached / prompt_tokens if prompt_tokens else 0.0,
        "completion_tokens_total": completion_tokens,
        "reply_first_token_s": first_token or float("nan"),
    }
    report("Model", figures, args.json)


if __name__ == "__main__":
    main()
