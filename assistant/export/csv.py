"""The CSV export for Jira's issue importer: one issue per requirement, safe to open in a spreadsheet.

Columns: Summary, Description, Issue Type, Priority, then several `Labels` columns (Jira's importer takes one
label per column, and a label cannot contain spaces). Priority follows MoSCoW: must → Highest, should → High,
could → Medium, won't → Lowest. Every requirement becomes a Story; the kind and quality category are labels
(`kind-non_functional`, `nfr-security`) so that a team can bulk-change the type of its non-functional stories.
Rejected requirements are left out: they are not work to plan.

Formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
by Excel, LibreOffice and Google Sheets (`=HYPERLINK(...)` exfiltrates data). Such cells get a leading
apostrophe, which spreadsheets hide and Jira keeps as text (OWASP's recommendation).
"""

from __future__ import annotations

import csv
import io

from assistant.draft.template import template_for
from assistant.schemas import MoSCoW, Project, Requirement, RequirementStatus
from assistant.store import Store

JIRA_PRIORITY = {MoSCoW.MUST: "Highest", MoSCoW.SHOULD: "High", MoSCoW.COULD: "Medium", MoSCoW.WONT: "Lowest"}
ISSUE_TYPE = "Story"
SUMMARY_LIMIT = 255
"""Jira refuses summaries longer than this."""
LABEL_COLUMNS = 5
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Summary", "Description", "Issue Type", "Priority"] + ["Labels"] * LABEL_COLUMNS


def neutralise_formula(value: str) -> str:
    """The cell text, prefixed with an apostrophe when a spreadsheet would otherwise evaluate it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _summary(requirement: Requirement) -> str:
    summary = f"{requirement.id} {requirement.statement}"
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1].rstrip() + "…"


def _description(requirement: Requirement, project: Project) -> str:
    template = template_for(project.language)
    colon = template.colon
    lines = [requirement.statement, ""]
    if requirement.rationale:
        lines.append(f"{template.content.rationale}{colon} {requirement.rationale}")
    if requirement.acceptance_criteria:
        lines.append(f"{template.content.acceptance}{colon}")
        lines.extend(f"- {criterion}" for criterion in requirement.acceptance_criteria)
    lines += [
        "",
        f"{template.content.requirement_columns[0]}{colon} {requirement.id}",
        f"{template.section(requirement.section).title} · {template.label(requirement.kind)}"
        + (f" · {template.label(requirement.category)}" if requirement.category else ""),
        f"{template.content.requirement_columns[3]}{colon} {template.label(requirement.moscow)}",
    ]
    if requirement.horizon:
        lines.append(f"{template.content.requirement_columns[4]}{colon} {template.label(requirement.horizon)}")
    turns = ", ".join(template.content.turn.format(turn=turn) for turn in requirement.source_turn_ids)
    lines.append(
        f"{template.content.source}{colon} {turns or template.content.no_source} · "
        f"{template.label(requirement.provenance)}"
    )
    return "\n".join(line for line in lines).strip()


def _labels(requirement: Requirement) -> list[str]:
    labels = ["cahier", f"section-{requirement.section.value}", f"kind-{requirement.kind.value}"]
    if requirement.category:
        labels.append(f"nfr-{requirement.category.value}")
    if requirement.horizon:
        labels.append(f"horizon-{requirement.horizon.value}")
    return (labels + [""] * LABEL_COLUMNS)[:LABEL_COLUMNS]


def render_csv(project: Project, requirements: list[Requirement]) -> str:
    """The CSV text (RFC 4180 quoting, CRLF line ends as `csv` writes them) for Jira's importer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for requirement in requirements:
        if requirement.status is RequirementStatus.REJECTED:
            continue
        row = [
            _summary(requirement),
            _description(requirement, project),
            ISSUE_TYPE,
            JIRA_PRIORITY[requirement.moscow],
            *_labels(requirement),
        ]
        writer.writerow([neutralise_formula(cell) for cell in row])
    return buffer.getvalue()


def export_csv(store: Store, project_id: str) -> str:
    """The project's requirements as a Jira import CSV."""
    return render_csv(store.get_project(project_id), store.list_objects(project_id, Requirement))
