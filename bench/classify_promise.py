"""Requirement classification on PROMISE NFR: functional vs quality, and the quality category.

The data (625 requirements from 15 student projects, 12 classes; Cleland-Huang et al. 2007, CC BY-SA 3.0) is read
from `../shared/reference/data/promise_nfr/nfr.arff` beside the repository, or from `--data`; it is never copied
into the repo. Two methods:

- `embedding` (default): the project's sentence embeddings (USE multilingual v3) and a multinomial logistic
  regression, trained and tested with leave-one-project-out cross-validation: each of the 15 projects is
  classified by a model that never saw a requirement from it, as a new customer's would be.
- `model`: zero-shot, the way Cahier classifies during an interview: each requirement is read as a
  stakeholder's answer by the production reading (`assistant/interview/reading.py`, clause labels in code and
  `prompts/word_clauses.yaml` for the model), and the first requirement found gives the kind and category.
  Slow on CPU (5-20 s per requirement): `--limit N` takes a stratified sample.

Printed: F1 of the functional and the non-functional class, and macro-F1 over the quality categories (on the
requirements labelled non-functional). Published points of comparison: NoRBERT F1 0.90 (F) / 0.94 (NFR) on
unseen projects; zero-shot approaches around 0.66.

    python bench/classify_promise.py [--method embedding|model] [--limit N] [--data PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import report  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/reference/data/promise_nfr/nfr.arff"

CATEGORY = {
    "A": "availability",
    "FT": "availability",  # fault tolerance: Cahier files it under availability
    "L": "legal",
    "LF": "look_and_feel",
    "MN": "maintainability",
    "O": "operational",
    "PE": "performance",
    "PO": "portability",
    "SC": "scalability",
    "SE": "security",
    "US": "usability",
}
"""PROMISE classes → Cahier's `NfrCategory`; "F" is functional."""

L2 = 1e-4
"""Ridge penalty of the logistic regression on unit-length 512-d embeddings. Measured: 1e-6 to 1e-3 give the same
F1 within 0.015; from 3e-3 it under-fits (1e-2: functional F1 0.40, category macro-F1 0.30)."""


def load(path: Path) -> list[tuple[int, str, str]]:
    """(project, text, class) rows of the ARFF file's @DATA section."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().upper() == "@DATA") + 1
    rows = []
    for fields in csv.reader(
        (line for line in lines[start:] if line.strip() and not line.startswith("%")),
        quotechar="'",
        skipinitialspace=True,
    ):
        project, text, label = fields[0], ",".join(fields[1:-1]), fields[-1].strip()
        rows.append((int(project), " ".join(text.split()), label))
    return rows


def f1_scores(truth: list[str], predicted: list[str], labels: list[str]) -> dict[str, float]:
    scores = {}
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def fit_predict(train_x: np.ndarray, train_y: list[str], test_x: np.ndarray) -> list[str]:
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS."""
    classes = sorted(set(train_y))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in train_y])
    x = np.hstack([train_x, np.ones((len(train_x), 1))])
    onehot = np.eye(len(classes))[y]
    shape = (x.shape[1], len(classes))

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(shape)
        logits = x @ w
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        value = -np.sum(onehot * np.log(probs + 1e-12)) / len(x) + L2 * np.sum(w[:-1] ** 2) / 2
        grad = x.T @ (probs - onehot) / len(x)
        grad[:-1] += L2 * w[:-1]
        return value, grad.ravel()

    result = minimize(loss, np.zeros(np.prod(shape)), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w = result.x.reshape(shape)
    scores = np.hstack([test_x, np.ones((len(test_x), 1))]) @ w
    return [classes[i] for i in scores.argmax(axis=1)]


def by_embedding(rows: list[tuple[int, str, str]]) -> tuple[list[str], list[str]]:
    """Leave-one-project-out predictions: (kind per row, category per non-functional row)."""
    from assistant.knowledge.embeddings import embed_texts

    vectors = embed_texts([text for _, text, _ in rows])
    projects = sorted({p for p, _, _ in rows})
    kinds = ["F" if label == "F" else "NFR" for _, _, label in rows]
    categories = [CATEGORY.get(label, "") for _, _, label in rows]
    kind_pred = [""] * len(rows)
    cat_pred = [""] * len(rows)
    for project in projects:
        train = [i for i, row in enumerate(rows) if row[0] != project]
        test = [i for i, row in enumerate(rows) if row[0] == project]
        for i, label in zip(test, fit_predict(vectors[train], [kinds[i] for i in train], vectors[test]), strict=True):
            kind_pred[i] = label
        nfr_train = [i for i in train if kinds[i] == "NFR"]
        nfr_test = [i for i in test if kinds[i] == "NFR"]
        if nfr_test:
            predicted = fit_predict(vectors[nfr_train], [categories[i] for i in nfr_train], vectors[nfr_test])
            for i, label in zip(nfr_test, predicted, strict=True):
                cat_pred[i] = label
    return kind_pred, cat_pred


def by_model(rows: list[tuple[int, str, str]]) -> tuple[list[str], list[str], dict[str, int]]:
    """Zero-shot through the production extraction prompt; a call that fails or finds nothing counts as wrong."""
    from assistant.config import load_settings
    from assistant.errors import ModelError
    from assistant.interview.reading import read_answer
    from assistant.models.factory import chat_model_from_settings
    from assistant.schemas import Language, SectionId, SlotKey, Speaker, Turn

    model = chat_model_from_settings(load_settings(env_file=None))
    kinds, categories, problems = [], [], Counter()
    key = SlotKey(SectionId.FUNCTIONAL, "core")
    for number, (_, text, _) in enumerate(rows, start=1):
        turn = Turn(
            id=number,
            project_id="promise",
            speaker=Speaker.STAKEHOLDER,
            stakeholder_id="S",
            text=text,
            language=Language.EN,
        )
        try:
            found = read_answer(turn, key, model).findings.requirements
        except ModelError as exc:
            problems[type(exc).__name__] += 1
            found = []
        if not found:
            problems["nothing found"] += 1
            kinds.append("none")
            categories.append("none")
        else:
            first = found[0]
            kinds.append("F" if first.kind.value == "functional" else "NFR")
            categories.append(first.category.value if first.category else "none")
        print(f"{number}/{len(rows)}", file=sys.stderr, flush=True)
    return kinds, categories, dict(problems)


def stratified(rows: list[tuple[int, str, str]], limit: int) -> list[tuple[int, str, str]]:
    """`limit` rows with the classes in their data-set proportions (at least one of each), fixed seed."""
    by_class: dict[str, list[tuple[int, str, str]]] = {}
    for row in rows:
        by_class.setdefault(row[2], []).append(row)
    rng = random.Random(29148)
    sample = []
    for _, items in sorted(by_class.items()):
        share = max(1, round(limit * len(items) / len(rows)))
        sample += rng.sample(items, min(share, len(items)))
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=("embedding", "model"), default="embedding")
    parser.add_argument("--limit", type=int, help="classify a stratified sample of this many requirements")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"PROMISE NFR not found at {args.data}: pass --data PATH to its nfr.arff (it is not in the repo).")
    rows = load(args.data)
    if args.limit:
        rows = stratified(rows, args.limit)
    truth_kind = ["F" if label == "F" else "NFR" for _, _, label in rows]
    nfr = [i for i, kind in enumerate(truth_kind) if kind == "NFR"]
    problems: dict[str, int] = {}
    if args.method == "embedding":
        kind_pred, cat_pred = by_embedding(rows)
    else:
        kind_pred, cat_pred, problems = by_model(rows)
    kind_f1 = f1_scores(truth_kind, kind_pred, ["F", "NFR"])
    truth_cat = [CATEGORY[rows[i][2]] for i in nfr]
    labels = sorted(set(truth_cat))
    cat_f1 = f1_scores(truth_cat, [cat_pred[i] for i in nfr], labels)
    figures: dict[str, float | int | str] = {
        "method": args.method,
        "requirements": len(rows),
        "projects": len({p for p, _, _ in rows}),
        "f1_functional": round(kind_f1["F"], 4),
        "f1_non_functional": round(kind_f1["NFR"], 4),
        "macro_f1_categories": round(sum(cat_f1.values()) / len(cat_f1), 4),
        **{f"f1_{label}": round(value, 4) for label, value in cat_f1.items()},
        **{f"problem_{name}": count for name, count in problems.items()},
    }
    report(f"PROMISE NFR classification ({args.method})", figures, args.json)


if __name__ == "__main__":
    main()
