"""Measure the requirement-quality rules against the expert-labelled ARTA requirement-smell data sets.

The data (DS1–DS4.xlsx, MIT licence, github.com/m-zakeri/ARTA) is read where the project keeps reference data,
`../shared/reference/data/arta_smells` beside the repository, or from `--data`; it is never copied into the repo.
Each row is a requirement (English) and, per smell type, the words the experts marked ("-" for none).

How a finding is scored: it is a true positive when a word the experts marked, under one of the smell types
mapped to the finding's rule, lies inside the finding's span ("possible" inside "if possible"). Recall counts
the marked words (that occur in the text) covered by a finding of a rule mapped to their smell type. Lexicons
were tuned on DS1–DS2; DS3–DS4 are reported apart as held out.

    .venv/bin/python bench/quality_eval.py [--data DIR] [--json PATH]
    .venv/bin/python bench/quality_eval.py --duplicates   # the near-duplicate calibration (loads the embedder)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.quality import DUPLICATE_THRESHOLD, RuleId, check_statement, fold

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/reference/data/arta_smells"
TUNING = ("DS1", "DS2")
HELD_OUT = ("DS3", "DS4")

RULE_SMELLS: dict[RuleId, frozenset[str]] = {
    RuleId.VAGUE_TERM: frozenset({"subjective", "ambiguous", "open_ended", "comparative", "superlative"}),
    RuleId.ESCAPE_CLAUSE: frozenset({"loophole", "open_ended", "ambiguous", "subjective"}),
    RuleId.NEGATIVE_STATEMENT: frozenset({"negative"}),
    RuleId.UNCLEAR_PRONOUN: frozenset({"vague_pronoun"}),
    RuleId.ABSOLUTE_TERM: frozenset({"quantifier"}),
}
"""Which ARTA smell types each rule answers to; a rule is only judged on the data sets that have a column for
one of them (absolutes only on DS4, whose "pronoun" column holds quantifiers; pronouns only on DS1–DS3).
Escape clauses also answer to the vagueness types because the experts filed the "possible" of "if possible"
under loophole, non-verifiable or ambiguous depending on the data set. Not mapped, because ARTA never labels
what they catch: open-ended lists ("etc." is marked in 0 of its 35 rows; ARTA's "open-ended" means
non-verifiable words), superfluous infinitives ("able to": 4 of 390 rows), and/or, purpose phrases, passive
voice, several requirements, numbers, placeholders, decimals."""


def smell_of(header: str, dataset: str) -> str | None:
    """The canonical smell type of a column; the four files spell their headers differently."""
    name = header.lower()
    if "subjective" in name:
        return "subjective"
    if "ambig" in name:
        return "ambiguous"
    if "loop" in name:
        return "loophole"
    if "open" in name or "nonverif" in name:
        return "open_ended"
    if "superlative" in name:
        return "superlative"
    if "compar" in name or "comprat" in name:
        return "comparative"
    if "negative" in name:
        return "negative"
    if "pron" in name:
        # DS4's pronoun column holds quantifiers (all, any, each: 285 of its 392 marks), not pronouns
        return "quantifier" if dataset == "DS4" else "vague_pronoun"
    if "uncertain" in name:
        return "uncertain_verb"
    if "polysemy" in name:
        return "polysemy"
    return None


@dataclass
class Row:
    dataset: str
    text: str
    labels: dict[str, list[str]]
    columns: frozenset[str]
    """The smell types the row's data set has a column for, marked or not."""


def read_rows(data: Path, dataset: str) -> list[Row]:
    """The rows of one workbook, with marked words per canonical smell type."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the files carry page headers openpyxl cannot parse; the cells are fine
        sheet = load_workbook(data / f"{dataset}.xlsx", read_only=True).worksheets[0]
        cells = list(sheet.iter_rows(values_only=True))
    smells = [smell_of(str(header), dataset) if header else None for header in cells[0][2:]]
    columns = frozenset(smell for smell in smells if smell)
    rows = []
    for values in cells[1:]:
        if not values or not values[0] or not str(values[0]).strip():
            continue
        labels: dict[str, list[str]] = defaultdict(list)
        for smell, value in zip(smells, values[2:], strict=False):
            if smell is None or value is None:
                continue
            for word in str(value).split("*"):
                word = word.strip().strip(",").lower()
                if word and word != "-":
                    labels[smell].append(word)
        # ligatures ("speciﬁcation") would hide words from whole-word matching
        rows.append(Row(dataset, unicodedata.normalize("NFKC", str(values[0])).strip(), dict(labels), columns))
    return rows


def occurrences(text: str, word: str) -> list[tuple[int, int]]:
    folded_word = fold(" ".join(word.split()))
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, folded_word.split(" "))) + r"(?!\w)"
    return [match.span() for match in re.finditer(pattern, fold(text))]


@dataclass
class Tally:
    """Counts for one rule: word level (a finding against the marked words) and requirement level."""

    findings: int = 0
    true_positives: int = 0
    labelled: int = 0
    covered: int = 0
    flagged_requirements: int = 0
    labelled_requirements: int = 0
    agreeing_requirements: int = 0
    occurrences: int = 0
    """Every occurrence, flagged or not, of the words the rule flagged, in rows judged for the rule."""
    marked_occurrences: int = 0
    contradicted: int = 0
    """False positives whose word, with the same word either side, is marked elsewhere in the data set."""

    def precision(self) -> float | None:
        return self.true_positives / self.findings if self.findings else None

    def recall(self) -> float | None:
        return self.covered / self.labelled if self.labelled else None

    def requirement_precision(self) -> float | None:
        return self.agreeing_requirements / self.flagged_requirements if self.flagged_requirements else None

    def requirement_recall(self) -> float | None:
        return self.agreeing_requirements / self.labelled_requirements if self.labelled_requirements else None

    def word_agreement(self) -> float | None:
        """Share of the occurrences of the flagged words that the experts marked: what the words alone reach."""
        return self.marked_occurrences / self.occurrences if self.occurrences else None

    def context_ceiling(self) -> float | None:
        """Best precision that keeps every true positive, when identical contexts must get the same verdict."""
        unavoidable = self.true_positives + self.contradicted
        return self.true_positives / unavoidable if unavoidable else None

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Result:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    rows: int = 0
    unmatched_labels: int = 0
    words: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    """(rule, flagged word) → [occurrences, marked occurrences], for the label-consistency table."""

    @classmethod
    def merged(cls, results: list[Result]) -> Result:
        total = cls()
        for result in results:
            total.rows += result.rows
            total.unmatched_labels += result.unmatched_labels
            for key, tally in result.tallies.items():
                total.tallies[key].add(tally)
            for key, (seen, marked) in result.words.items():
                total.words[key][0] += seen
                total.words[key][1] += marked
        return total


CONTEXT_WORDS = 1
"""Words either side that make two occurrences of a word "the same context" for the label-consistency ceiling."""


def _context(text: str, start: int, end: int) -> tuple[str, str, str]:
    before = re.findall(r"\w+", fold(text[:start]))[-CONTEXT_WORDS:]
    after = re.findall(r"\w+", fold(text[end:]))[:CONTEXT_WORDS]
    return " ".join(before), " ".join(fold(text[start:end]).split()), " ".join(after)


Places = dict[tuple[str, str], list[tuple[int, int]]]
"""(smell type, marked word) → where the word occurs in the row's text."""


def _is_marked(start: int, end: int, places: Places, smells: frozenset[str]) -> bool:
    return any(start <= s and e <= end for (smell, _), spans in places.items() if smell in smells for s, e in spans)


def evaluate(rows: list[Row]) -> Result:
    """Precision and recall per mapped rule and overall (key "overall") over `rows`.

    Also measures how consistently the experts marked the words each rule flags (call it on one data set, since
    each was marked by its own annotators): every occurrence of a flagged word in a row judged for the rule,
    marked or not, and the false positives that an identically worded context elsewhere has marked.
    """
    result = Result(rows=len(rows))
    judged_rows = []
    false_positives: list[tuple[RuleId, tuple[str, str, str]]] = []
    for row in rows:
        judged = {rule: smells & row.columns for rule, smells in RULE_SMELLS.items() if smells & row.columns}
        findings = [f for f in check_statement(row.text, "en").findings if f.rule in judged]
        places = {
            (smell, word): occurrences(row.text, word) for smell, words in row.labels.items() for word in set(words)
        }
        result.unmatched_labels += sum(not spans for spans in places.values())
        places = {key: spans for key, spans in places.items() if spans}
        judged_rows.append((row, judged, places))

        for finding in findings:
            hit = _is_marked(finding.start, finding.end, places, judged[finding.rule])
            result.words[(finding.rule.value, " ".join(fold(finding.text).split()))]  # registers the word
            if not hit:
                false_positives.append((finding.rule, _context(row.text, finding.start, finding.end)))
            for key in (finding.rule.value, "overall"):
                result.tallies[key].findings += 1
                result.tallies[key].true_positives += hit
        for (smell, _), spans in places.items():
            answering = [rule for rule, smells in judged.items() if smell in smells]
            for key, rules in [(rule.value, [rule]) for rule in answering] + [("overall", answering)] * bool(answering):
                result.tallies[key].labelled += 1
                result.tallies[key].covered += any(
                    f.rule in rules and f.start <= start and end <= f.end for f in findings for start, end in spans
                )
        for rule, smells in judged.items():
            flagged = any(f.rule is rule for f in findings)
            labelled = any(smell in smells for smell, _ in places)
            tally = result.tallies[rule.value]
            tally.flagged_requirements += flagged
            tally.labelled_requirements += labelled
            tally.agreeing_requirements += flagged and labelled
        overall = result.tallies["overall"]
        flagged = bool(findings)
        labelled = any(smell in smells for smell, _ in places for smells in judged.values())
        overall.flagged_requirements += flagged
        overall.labelled_requirements += labelled
        overall.agreeing_requirements += flagged and labelled
    _count_agreement(result, judged_rows, false_positives)
    return result


def _count_agreement(
    result: Result,
    judged_rows: list[tuple[Row, dict[RuleId, frozenset[str]], Places]],
    false_positives: list[tuple[RuleId, tuple[str, str, str]]],
) -> None:
    """Fill the label-consistency counts of `result` from every occurrence of every flagged word."""
    marked_contexts: set[tuple[RuleId, tuple[str, str, str]]] = set()
    for rule_name, word in list(result.words):
        rule = RuleId(rule_name)
        for row, judged, places in judged_rows:
            if rule not in judged:
                continue
            for start, end in occurrences(row.text, word):
                marked = _is_marked(start, end, places, judged[rule])
                result.words[(rule_name, word)][0] += 1
                result.words[(rule_name, word)][1] += marked
                for key in (rule_name, "overall"):
                    result.tallies[key].occurrences += 1
                    result.tallies[key].marked_occurrences += marked
                if marked:
                    marked_contexts.add((rule, _context(row.text, start, end)))
    for rule, context in false_positives:
        if (rule, context) in marked_contexts:
            for key in (rule.value, "overall"):
                result.tallies[key].contradicted += 1


def show(console: Console, title: str, result: Result) -> None:
    table = Table(title=f"{title} — {result.rows} requirements")
    word_level = ("findings", "precision", "marked words", "recall")
    for column in ("rule", *word_level, "flagged reqs", "req. precision", "req. recall"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for key in [*(rule.value for rule in RULE_SMELLS), "overall"]:
        tally = result.tallies[key]
        table.add_row(
            key,
            str(tally.findings),
            _percent(tally.precision()),
            str(tally.labelled),
            _percent(tally.recall()),
            str(tally.flagged_requirements),
            _percent(tally.requirement_precision()),
            _percent(tally.requirement_recall()),
            style="bold" if key == "overall" else None,
        )
    console.print(table)
    console.print(f"  marked words absent from their text (annotation glitches, skipped): {result.unmatched_labels}")


def show_per_data_set(console: Console, per_set: dict[str, Result]) -> None:
    """Word-level precision for each data set alone: the annotator groups did not mark the same words."""
    table = Table(title="Word-level precision per data set (findings in brackets)")
    table.add_column("rule")
    for name in per_set:
        table.add_column(name + (" (held out)" if name in HELD_OUT else ""), justify="right")
    for key in [*(rule.value for rule in RULE_SMELLS), "overall"]:
        cells = []
        for result in per_set.values():
            tally = result.tallies[key]
            cells.append(f"{_percent(tally.precision())} ({tally.findings})" if tally.findings else "—")
        table.add_row(key, *cells, style="bold" if key == "overall" else None)
    console.print(table)


def show_consistency(console: Console, title: str, result: Result, top: int = 6) -> None:
    """How consistently the experts marked the words the rules flag: the precision a rule can hope for.

    "word agreement" is the share of all occurrences of the flagged words that are marked (what flagging those
    words everywhere would score); "context ceiling" is the best precision that keeps every true positive when a
    false positive's exact context (the word and one word either side) is marked elsewhere in its data set.
    """
    table = Table(title=f"Label consistency — {title}")
    words_column = "least consistent words (marked / seen)"
    for column in ("rule", "precision", "word agreement", "context ceiling", words_column):
        table.add_column(column, justify="left" if column in ("rule", words_column) else "right")
    for key in [*(rule.value for rule in RULE_SMELLS), "overall"]:
        tally = result.tallies[key]
        words = sorted(
            ((word, seen, marked) for (rule, word), (seen, marked) in result.words.items() if rule == key and seen),
            key=lambda item: (-(item[1] - item[2]), item[0]),
        )
        shown = ", ".join(f"{word} {marked}/{seen}" for word, seen, marked in words[:top])
        table.add_row(
            key,
            _percent(tally.precision()),
            f"{_percent(tally.word_agreement())} ({tally.marked_occurrences}/{tally.occurrences})",
            _percent(tally.context_ceiling()),
            shown,
            style="bold" if key == "overall" else None,
        )
    console.print(table)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def flat_figures(results: dict[str, Result]) -> dict[str, float | None]:
    """One flat object: "precision_vague_term" (all data sets), "precision_vague_term_held_out", …"""
    figures: dict[str, float | None] = {}
    for split, result in results.items():
        suffix = "" if split == "all" else f"_{split}"
        for key, tally in sorted(result.tallies.items()):
            for name, value in (
                ("precision", tally.precision()),
                ("recall", tally.recall()),
                ("requirement_precision", tally.requirement_precision()),
                ("requirement_recall", tally.requirement_recall()),
                ("word_agreement", tally.word_agreement()),
                ("context_ceiling", tally.context_ceiling()),
            ):
                figures[f"{name}_{key}{suffix}"] = None if value is None else round(value, 4)
    return figures


# Hand-made pairs for the near-duplicate threshold: paraphrases must score above it, related pairs below.
PARAPHRASES = [
    (
        "Le CRM doit permettre d'exporter la liste des contacts au format CSV.",
        "L'export des contacts en fichier CSV doit être possible depuis le CRM.",
    ),
    (
        "Le temps de réponse de la recherche de contacts doit être inférieur à 2 secondes.",
        "La recherche d'un contact doit répondre en moins de 2 secondes.",
    ),
    (
        "Chaque commercial doit recevoir une notification lorsqu'un prospect lui est attribué.",
        "Lorsqu'un prospect est assigné à un commercial, celui-ci est notifié.",
    ),
    (
        "Les données clients doivent être hébergées dans l'Union européenne.",
        "L'hébergement des données des clients doit se faire dans l'UE.",
    ),
    (
        "Le CRM doit synchroniser les rendez-vous avec le calendrier Outlook.",
        "Les rendez-vous du CRM doivent être synchronisés avec l'agenda Outlook.",
    ),
    (
        "The CRM shall export the contact list as a CSV file.",
        "Users shall be able to download their contacts in CSV format.",
    ),
    (
        "The contact search shall return results within 2 seconds.",
        "Search results for contacts shall appear in less than 2 seconds.",
    ),
    (
        "The CRM shall send a reminder email one day before each scheduled meeting.",
        "A reminder e-mail shall be sent 24 hours before every planned meeting.",
    ),
    (
        "Customer data shall be stored in data centres located in the EU.",
        "The CRM shall host all customer data within the European Union.",
    ),
    (
        "Sales managers shall see a dashboard of their team's pipeline.",
        "The CRM shall display a pipeline dashboard for each sales team manager.",
    ),
]
RELATED = [
    (
        "Le CRM doit permettre d'exporter la liste des contacts au format CSV.",
        "Le CRM doit permettre d'importer des contacts depuis un fichier Excel.",
    ),
    (
        "Le temps de réponse de la recherche de contacts doit être inférieur à 2 secondes.",
        "Le CRM doit être disponible 99,5 % du temps en heures ouvrées.",
    ),
    (
        "Chaque commercial doit recevoir une notification lorsqu'un prospect lui est attribué.",
        "Chaque commercial doit pouvoir consulter l'historique des échanges avec un prospect.",
    ),
    (
        "Les données clients doivent être hébergées dans l'Union européenne.",
        "Les données clients doivent être sauvegardées chaque nuit.",
    ),
    (
        "Le CRM doit synchroniser les rendez-vous avec le calendrier Outlook.",
        "Le CRM doit synchroniser les contacts avec la messagerie Gmail.",
    ),
    (
        "The CRM shall export the contact list as a CSV file.",
        "The CRM shall import contacts from an Excel spreadsheet.",
    ),
    (
        "The contact search shall return results within 2 seconds.",
        "The CRM shall be available 99.5 % of business hours.",
    ),
    (
        "The CRM shall send a reminder email one day before each scheduled meeting.",
        "The CRM shall log every email sent to a customer in the contact history.",
    ),
    (
        "Customer data shall be stored in data centres located in the EU.",
        "Customer data shall be backed up every night.",
    ),
    (
        "Sales managers shall see a dashboard of their team's pipeline.",
        "Sales representatives shall update the stage of each opportunity.",
    ),
]


def calibrate_duplicates(console: Console) -> dict[str, float]:
    """Similarity of every hand-made pair under the shipped embedder, and what the threshold catches."""
    from assistant.knowledge.embeddings import embed_texts

    def similarities(pairs: list[tuple[str, str]]) -> list[float]:
        first = embed_texts([a for a, _ in pairs])
        second = embed_texts([b for _, b in pairs])
        return [float(value) for value in (first * second).sum(axis=1)]

    paraphrase, related = similarities(PARAPHRASES), similarities(RELATED)
    table = Table(title=f"Near-duplicate calibration (threshold {DUPLICATE_THRESHOLD})")
    for column in ("kind", "similarity", "first", "second"):
        table.add_column(column)
    for kind, pairs, values in (("paraphrase", PARAPHRASES, paraphrase), ("related", RELATED, related)):
        for (a, b), value in zip(pairs, values, strict=True):
            table.add_row(kind, f"{value:.3f}", a, b)
    console.print(table)
    figures = {
        "paraphrase_min": min(paraphrase),
        "paraphrase_mean": sum(paraphrase) / len(paraphrase),
        "related_max": max(related),
        "related_mean": sum(related) / len(related),
        "paraphrases_caught": sum(value >= DUPLICATE_THRESHOLD for value in paraphrase) / len(paraphrase),
        "related_flagged": sum(value >= DUPLICATE_THRESHOLD for value in related) / len(related),
    }
    console.print({key: round(value, 3) for key, value in figures.items()})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding DS1.xlsx … DS4.xlsx")
    parser.add_argument("--json", type=Path, help="also write the figures as one flat JSON object to this file")
    parser.add_argument("--duplicates", action="store_true", help="run the near-duplicate calibration instead")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 110))
    if args.duplicates:
        figures = calibrate_duplicates(console)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    missing = [name for name in (*TUNING, *HELD_OUT) if not (args.data / f"{name}.xlsx").is_file()]
    if missing:
        console.print(
            f"[red]ARTA data not found[/red]: {', '.join(missing)} missing in `{args.data}`. "
            "Put DS1.xlsx … DS4.xlsx there (github.com/m-zakeri/ARTA, dataset/zenodo_r1/Datasets) or pass --data DIR."
        )
        return 2
    console.print("Rule → ARTA smell types it is judged against (word level: a marked word inside the finding):")
    for rule, smells in RULE_SMELLS.items():
        console.print(f"  {rule.value}: {', '.join(sorted(smells))}")
    per_set = {name: evaluate(read_rows(args.data, name)) for name in (*TUNING, *HELD_OUT)}
    results = {
        "tuning": Result.merged([per_set[name] for name in TUNING]),
        "held_out": Result.merged([per_set[name] for name in HELD_OUT]),
        "all": Result.merged(list(per_set.values())),
    }
    show(console, "Tuning set (DS1–DS2)", results["tuning"])
    show(console, "Held out (DS3–DS4)", results["held_out"])
    show(console, "All four data sets", results["all"])
    show_per_data_set(console, per_set)
    show_consistency(console, "tuning set (DS1–DS2)", results["tuning"])
    show_consistency(console, "held out (DS3–DS4)", results["held_out"])
    if args.json:
        figures = flat_figures({**results, **per_set})
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        console.print(f"figures written to `{args.json}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
