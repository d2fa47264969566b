"""Aggregate transcript scores, write the JSON and Markdown report with its plots, and gate on a baseline.

The JSON holds everything (per-transcript scores, pairs, misses) for a machine; the Markdown report is what a
person reads after a run: the summary, a table per transcript, the failed traps and the requirements missed,
with two bar charts. A replayed run writes byte-identical files, so a report diff shows a real change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.errors import InputError

GATED = ("requirement_f1", "trap_pass_rate")
"""Summary figures CI refuses to see drop below the committed baseline."""

TOLERANCE = 1e-9


def summarise(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Micro-averaged requirement scores over every transcript, and the means of the other figures."""
    if not scores:
        raise InputError("transcript", "no transcript was evaluated")

    def total(group: str, key: str) -> int:
        return sum(s[group][key] for s in scores)

    def prf(group: str) -> dict[str, float]:
        return _micro_prf([s[group] for s in scores])

    requirements = prf("requirements")
    fields: dict[str, float | None] = {}
    for name in scores[0]["fields"]:
        pairs = [(s["fields"][name], s["requirements"]["matched"]) for s in scores if s["fields"][name] is not None]
        weight = sum(n for _, n in pairs)
        fields[name] = round(sum(v * n for v, n in pairs) / weight, 4) if weight else None
    objective_checked = sum(s["objective_fields"]["checked"] for s in scores)
    objective_exact = sum(s["objective_fields"]["exact"] for s in scores)
    checked = sum(s["constraint_values"]["checked"] for s in scores)
    exact = sum(s["constraint_values"]["exact"] for s in scores)
    traps = [t for s in scores for t in s["traps"]]
    answered = [s["model_use"] for s in scores]
    failures: dict[str, int] = {}
    for use in answered:
        for kind, count in use["failures"].items():
            failures[kind] = failures.get(kind, 0) + count
    return {
        "transcripts": len(scores),
        "transcript_ids": sorted(s["id"] for s in scores),
        "requirement_precision": requirements["precision"],
        "requirement_recall": requirements["recall"],
        "requirement_f1": requirements["f1"],
        "fields": fields,
        "objectives_f1": prf("objectives")["f1"],
        "objective_value_accuracy": round(objective_exact / objective_checked, 4) if objective_checked else None,
        "facts_recall": prf("facts")["recall"] if total("facts", "gold") else None,
        "near_duplicate_requirements": sum(len(s.get("near_duplicates", [])) for s in scores),
        "constraints_f1": prf("constraints")["f1"],
        "use_cases_f1": prf("use_cases")["f1"],
        "open_questions_f1": prf("open_questions")["f1"],
        "conflicts_f1": prf("conflicts")["f1"],
        "constraint_value_accuracy": round(exact / checked, 4) if checked else None,
        "coverage_agreement": round(sum(s["coverage"]["agreement"] for s in scores) / len(scores), 4),
        "trap_pass_rate": round(sum(t["passed"] for t in traps) / len(traps), 4) if traps else None,
        "traps": {"total": len(traps), "passed": sum(t["passed"] for t in traps)},
        "model_calls": sum(u["calls"] for u in answered),
        "calls_per_turn": round(sum(u["calls_per_turn"] for u in answered) / len(answered), 3),
        "prompt_tokens_per_turn": round(sum(u["prompt_tokens_per_turn"] for u in answered) / len(answered), 1),
        "completion_tokens_per_turn": round(sum(u["completion_tokens_per_turn"] for u in answered) / len(answered), 1),
        "failures": failures,
        "requirements_by_language": {
            language: _micro_prf([s["requirements"] for s in scores if s.get("language") == language])
            for language in sorted({str(s["language"]) for s in scores if s.get("language")})
        },
    }


def _micro_prf(groups: list[dict[str, Any]]) -> dict[str, float]:
    """Precision, recall and F1 over several transcripts' matchings, counted together."""
    gold, predicted = sum(g["gold"] for g in groups), sum(g["predicted"] for g in groups)
    matched = sum(g["matched"] for g in groups)
    precision = matched / predicted if predicted else float(not gold)
    recall = matched / gold if gold else float(not predicted)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def check_baseline(summary: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """The gated figures that dropped below the baseline, as sentences; empty when the run holds the line.

    A run over other transcripts than the baseline's is refused too: its figures would not be comparable.
    """
    drops = []
    expected = baseline.get("transcript_ids")
    if expected is not None and expected != summary.get("transcript_ids"):
        drops.append(f"the run covers {summary.get('transcript_ids')}, the baseline {expected}")
    for name in GATED:
        floor = baseline.get(name)
        if floor is None:
            continue
        value = summary.get(name)
        if value is None or value < floor - TOLERANCE:
            drops.append(f"{name} is {value} (baseline {floor})")
    return drops


def baseline_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The part of a summary that is committed as the baseline."""
    return {"transcript_ids": summary["transcript_ids"], **{name: summary[name] for name in GATED}}


def write_report(directory: Path, scores: list[dict[str, Any]], summary: dict[str, Any], *, mode: str) -> list[Path]:
    """Write report.json, report.md and the two plots into `directory`; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    data = {"mode": mode, "summary": summary, "transcripts": scores}
    json_path = directory / "report.json"
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)  # gold dates are `date`s
    json_path.write_text(text + "\n", encoding="utf-8")
    plots = _plots(directory, scores, summary)
    md_path = directory / "report.md"
    md_path.write_text(_markdown(scores, summary, mode, [p.name for p in plots]), encoding="utf-8")
    return [json_path, md_path, *plots]


def _plots(directory: Path, scores: list[dict[str, Any]], summary: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display: the report is written by a CLI or CI
    import matplotlib.pyplot as plt

    # SVG with a fixed hash salt and no date is byte-identical run to run.
    plt.rcParams["svg.hashsalt"] = "cahier"
    metadata = {"Date": None}
    f1_path = directory / "requirement_f1.svg"
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(scores) + 1.2))
    names = [s["id"] for s in scores]
    values = [s["requirements"]["f1"] for s in scores]
    ax.barh(names, values, color="#3b6ea5")
    ax.set_xlim(0, 1)
    ax.set_xlabel("requirement F1")
    ax.invert_yaxis()
    for y, value in enumerate(values):
        ax.text(min(value + 0.01, 0.93), y, f"{value:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(f1_path, format="svg", metadata=metadata)
    plt.close(fig)

    fields_path = directory / "field_accuracy.svg"
    fields = {k: v for k, v in summary["fields"].items() if v is not None}
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar(list(fields), list(fields.values()), color="#6a9f58")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy on matched pairs")
    for x, value in enumerate(fields.values()):
        ax.text(x, value + 0.02, f"{value:.2f}", ha="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(fields_path, format="svg", metadata=metadata)
    plt.close(fig)
    return [f1_path, fields_path]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _markdown(scores: list[dict[str, Any]], summary: dict[str, Any], mode: str, plots: list[str]) -> str:
    lines = [
        "# Cahier offline evaluation",
        "",
        f"Mode: **{mode}**, {summary['transcripts']} transcripts, {summary['model_calls']} model calls.",
        "",
        "## Summary",
        "",
        "| figure | value |",
        "| --- | --- |",
    ]
    for name in (
        "requirement_precision",
        "requirement_recall",
        "requirement_f1",
        "objectives_f1",
        "constraints_f1",
        "use_cases_f1",
        "open_questions_f1",
        "conflicts_f1",
        "constraint_value_accuracy",
        "coverage_agreement",
        "trap_pass_rate",
    ):
        lines.append(f"| {name.replace('_', ' ')} | {_pct(summary[name])} |")
    lines.append(f"| model calls per answer | {summary['calls_per_turn']} |")
    lines.append(
        f"| prompt / completion tokens per answer | {summary['prompt_tokens_per_turn']} / "
        f"{summary['completion_tokens_per_turn']} |"
    )
    lines.append(f"| failures | {', '.join(f'{k}: {v}' for k, v in summary['failures'].items()) or 'none'} |")
    lines += ["", *(f"![{p}]({p})" for p in plots), "", "## Per transcript", ""]
    lines += [
        "| transcript | req P | req R | req F1 | objectives F1 | constraints F1 | values | coverage | traps |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scores:
        r, traps = s["requirements"], s["traps"]
        lines.append(
            f"| {s['id']} | {_pct(r['precision'])} | {_pct(r['recall'])} | {_pct(r['f1'])} | "
            f"{_pct(s['objectives']['f1'])} | {_pct(s['constraints']['f1'])} | "
            f"{_pct(s['constraint_values']['accuracy'])} | {_pct(s['coverage']['agreement'])} | "
            f"{sum(t['passed'] for t in traps)}/{len(traps)} |"
        )
    failed = [(s["id"], t) for s in scores for t in s["traps"] if not t["passed"]]
    lines += ["", "## Failed traps", ""]
    lines += [
        f"- **{i}** turn {t['turn']} ({t['kind']}): {'; '.join(t['problems'])}. Expected: {t['expect']}"
        for i, t in failed
    ] or ["None."]
    lines += ["", "## Requirements missed", ""]
    for s in scores:
        if s["missed_requirements"]:
            lines.append(f"**{s['id']}**")
            lines += [f"- {statement}" for statement in s["missed_requirements"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
