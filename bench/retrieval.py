"""Retrieval quality and speed per query set and language: recall@1, recall@3, MRR, query latency.

A query counts as found at k when any of its expected documents is among the first k results. The index is
built fresh in a temporary directory, so the figures do not depend on a developer's data dir. Each query file
is reported apart, its figures prefixed by the file's stem without `retrieval_` (`queries.recall_at_3_fr`,
`heldout.recall_at_3_fr`): `retrieval_queries.yaml` is the set the documents were edited against, so it is
optimistic; `retrieval_heldout.yaml` was written from the documents' front matter only, and is the honest one.

    python bench/retrieval.py [--queries FILE ...] [--misses] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.knowledge.search import open_index  # noqa: E402
from bench._report import report  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "eval"
QUERY_FILES = [EVAL_DIR / "retrieval_queries.yaml", EVAL_DIR / "retrieval_heldout.yaml"]


def evaluate(index, queries: list[dict], k_max: int = 3) -> dict[str, float]:
    """Recall@1, recall@3 and MRR (over the first 10) per language and overall."""
    figures: dict[str, float] = {}
    per_lang: dict[str, list[tuple[int | None]]] = {}
    latencies: list[float] = []
    for item in queries:
        start = time.perf_counter()
        results = index.search(item["query"], lang=item["lang"], k=10)
        latencies.append((time.perf_counter() - start) * 1000)
        ranked = [snippet.doc_id for snippet in results]
        rank = next((i + 1 for i, doc_id in enumerate(ranked) if doc_id in item["expected"]), None)
        per_lang.setdefault(item["lang"], []).append(rank)
    all_ranks = [rank for ranks in per_lang.values() for rank in ranks]
    for name, ranks in [*sorted(per_lang.items()), ("all", all_ranks)]:
        figures[f"recall_at_1_{name}"] = sum(1 for r in ranks if r == 1) / len(ranks)
        figures[f"recall_at_{k_max}_{name}"] = sum(1 for r in ranks if r and r <= k_max) / len(ranks)
        figures[f"mrr_{name}"] = sum(1 / r for r in ranks if r) / len(ranks)
    figures["median_query_ms"] = statistics.median(latencies)
    figures["p95_query_ms"] = sorted(latencies)[int(0.95 * (len(latencies) - 1))]
    figures["queries"] = len(queries)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--queries",
        type=Path,
        action="append",
        help="a query file to measure, reported apart; repeat for several (default: the main and held-out sets)",
    )
    parser.add_argument("--misses", action="store_true", help="list the queries missed at 3")
    args = parser.parse_args()
    query_sets = {
        path.stem.removeprefix("retrieval_"): yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
        for path in args.queries or QUERY_FILES
    }
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(Settings(data_dir=Path(tmp)))
        start = time.perf_counter()
        ingest = index.ingest()
        figures["ingest_s"] = time.perf_counter() - start
        figures["chunks"] = len(ingest.added)
        index.search("warm-up", lang="en")
        for name, queries in query_sets.items():
            figures.update({f"{name}.{key}": value for key, value in evaluate(index, queries).items()})
            if args.misses:
                for item in queries:
                    got = [s.doc_id for s in index.search(item["query"], lang=item["lang"], k=3)]
                    if not set(got) & set(item["expected"]):
                        print(f"MISS {name} [{item['lang']}] {item['query']!r} expected {item['expected']} got {got}")
    report("Retrieval", figures, args.json)


if __name__ == "__main__":
    main()
