"""Draft assembly and export speed on a 300-requirement project: median of 5 runs per format, and file sizes.

The formats include the vendor response grid (XLSX, one row per requirement).

The project is built in a temporary SQLite store: 300 requirements over eight sections (French, with realistic
statement lengths, some with acceptance criteria), objectives, constraints, use cases, risks, open questions and
conflicts. Each figure is the median wall time of `--runs` runs of one call, reading from the store each time
(exports are measured as a user runs them: store → document → file). The target is a Word export under 1 s.

    python bench/export.py [--runs 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.draft import workflow
from assistant.export.csv import export_csv  # noqa: E402
from assistant.export.document import build_document  # noqa: E402
from assistant.export.docx import export_docx  # noqa: E402
from assistant.export.json import export_project  # noqa: E402
from assistant.export.markdown import export_markdown  # noqa: E402
from assistant.export.pdf import export_pdf  # noqa: E402
from assistant.export.reqif import export_reqif  # noqa: E402
from assistant.export.xlsx import export_xlsx  # noqa: E402
from assistant.schemas import (  # noqa: E402
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    DatePrecision,
    DateValue,
    Horizon,
    Money,
    MoSCoW,
    NfrCategory,
    Objective,
    OpenQuestion,
    Requirement,
    RequirementKind,
    Risk,
    SectionId,
    Speaker,
    TaxBasis,
    UseCase,
)
from assistant.store import Store  # noqa: E402
from bench._report import report  # noqa: E402

REQUIREMENTS = 300
SECTIONS = [
    (SectionId.FUNCTIONAL, 150),
    (SectionId.NON_FUNCTIONAL, 50),
    (SectionId.NEEDS, 50),
    (SectionId.DATA, 20),
    (SectionId.DIAGNOSIS, 10),
    (SectionId.METHODOLOGY, 10),
    (SectionId.CONTEXT, 5),
    (SectionId.COMPANY, 5),
]
ACTIONS = [
    "consulter l'historique des échanges avec chaque compte client",
    "créer un devis à partir d'une opportunité en moins de trois minutes",
    "exporter la liste des contacts actifs au format CSV",
    "synchroniser les rendez-vous avec l'agenda Outlook du commercial",
    "envoyer une relance automatique sept jours après un devis sans réponse",
    "afficher le chiffre d'affaires par secteur sur un tableau de bord",
]


def build_project(store: Store) -> str:
    """A French project with 300 requirements and every other kind of object; returns its id."""
    project = store.create_project("CRM Benchmark 2027", language="fr", company="Novelia Distribution")
    pid = project.id
    people = [store.add_stakeholder(pid, f"Personne {n}", "Direction commerciale") for n in range(1, 6)]
    for n in range(1, 41):
        store.append_turn(
            pid, Speaker.STAKEHOLDER, f"Réponse {n} de l'entretien.", "fr", stakeholder_id=people[n % 5].id
        )
    number = 0
    for section, count in SECTIONS:
        for _ in range(count):
            number += 1
            nfr = section is SectionId.NON_FUNCTIONAL
            store.save_object(
                pid,
                Requirement(
                    id=f"REQ-{number:03d}",
                    statement=f"Le CRM doit permettre au commercial de {ACTIONS[number % 6]} (cas {number}).",
                    section=section,
                    kind=RequirementKind.NON_FUNCTIONAL if nfr else RequirementKind.FUNCTIONAL,
                    category=list(NfrCategory)[number % len(NfrCategory)] if nfr else None,
                    moscow=list(MoSCoW)[number % 4],
                    horizon=list(Horizon)[number % 3] if number % 5 else None,
                    source_turn_ids=[number % 40 + 1],
                    acceptance_criteria=["Le temps de réponse reste sous 2 s."] if number % 4 == 0 else [],
                ),
                changed_by="bench",
            )
    for n in range(1, 9):
        store.save_object(
            pid,
            Objective(
                id=f"OBJ-{n:03d}",
                statement=f"Objectif mesurable numéro {n}",
                metric="taux de conversion",
                target=f"{20 + n} %",
                deadline=date(2027, 12, 31) if n % 2 else None,
            ),
            changed_by="bench",
        )
    for n in range(1, 11):
        kind = [ConstraintKind.BUDGET, ConstraintKind.DEADLINE, ConstraintKind.TECHNICAL][n % 3]
        store.save_object(
            pid,
            Constraint(
                id=f"CON-{n:03d}",
                kind=kind,
                statement=f"Contrainte numéro {n}",
                money=Money(amount=Decimal(10_000 * n), tax_basis=TaxBasis.EXCL_TAX)
                if kind is ConstraintKind.BUDGET
                else None,
                due=DateValue(value=date(2027, 4, 1), precision=DatePrecision.QUARTER)
                if kind is ConstraintKind.DEADLINE
                else None,
            ),
            changed_by="bench",
        )
    for n in range(1, 11):
        store.save_object(
            pid,
            UseCase(
                id=f"UC-{n:03d}",
                title=f"Cas d'usage numéro {n}",
                actor="Commercial",
                steps=[f"Étape {s}" for s in range(1, 6)],
            ),
            changed_by="bench",
        )
    for n in range(1, 6):
        store.save_object(pid, Risk(id=f"RSK-{n:03d}", statement=f"Risque numéro {n}"), changed_by="bench")
    for n in range(1, 11):
        store.save_object(
            pid,
            OpenQuestion(id=f"Q-{n:03d}", question=f"Question ouverte numéro {n} ?", section=list(SectionId)[n]),
            changed_by="bench",
        )
    for n in range(1, 4):
        store.save_object(
            pid,
            Conflict(
                id=f"CNF-{n:03d}",
                subject=f"Désaccord numéro {n}",
                object_ids=[f"REQ-{n:03d}"],
                statements=[
                    ConflictingStatement(stakeholder_id=people[0].id, text="Indispensable."),
                    ConflictingStatement(stakeholder_id=people[1].id, text="Peut attendre."),
                ],
            ),
            changed_by="bench",
        )
    return pid


def median_ms(call: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures: dict[str, float | int | str] = {"requirements": REQUIREMENTS, "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        pid = build_project(store)
        export_docx(store, pid), export_pdf(store, pid)  # imports and font loading are not what is measured
        start = time.perf_counter()
        workflow.regenerate(store, pid)
        figures["regenerate_first_ms"] = (time.perf_counter() - start) * 1000
        figures["regenerate_unchanged_ms"], _ = median_ms(lambda: workflow.regenerate(store, pid), args.runs)
        figures["assemble_ms"], sections = median_ms(lambda: workflow.assemble(store, pid), args.runs)
        figures["draft_chars"] = sum(len(text) for text in sections.values())
        figures["build_document_ms"], _ = median_ms(lambda: build_document(store, pid), args.runs)
        for name, call in [
            ("md", lambda: export_markdown(store, pid)),
            ("docx", lambda: export_docx(store, pid)),
            ("pdf", lambda: export_pdf(store, pid)),
            ("xlsx", lambda: export_xlsx(store, pid)),
            ("reqif", lambda: export_reqif(store, pid)),
            ("csv", lambda: export_csv(store, pid)),
            ("json", lambda: export_project(store, pid)),
        ]:
            figures[f"{name}_ms"], output = median_ms(call, args.runs)
            figures[f"{name}_bytes"] = len(output if isinstance(output, bytes) else output.encode("utf-8"))
        figures["pdf_pages"] = export_pdf(store, pid).count(b"/Type /Page\n")
        figures["docx_under_1s"] = "yes" if figures["docx_ms"] < 1000 else "no"
        store.close()
    report("Draft and exports, 300 requirements (median ms)", figures, args.json)


if __name__ == "__main__":
    main()
