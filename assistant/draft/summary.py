"""The executive summary: the one page a director reads before deciding to send the specification out.

Written from the same stored objects as the sections, and as deterministic: the objectives, the needs rated
Must, the budget, the key dates and what is still open, each in plain sentences or short lists with the ids
that lead to the detail. It says nothing the sections do not say, so it never needs a review of its own; its
lists are capped (`MAX_ITEMS`) to keep it to one page, and say how many more the document holds.
"""

from __future__ import annotations

from assistant.draft.markup import bullets, escape
from assistant.draft.sections import CONSTRAINT_SECTION, ProjectContent
from assistant.draft.template import DraftTemplate, template_for
from assistant.i18n.formats import format_date_value, format_money
from assistant.schemas import ConstraintKind, MoSCoW, OpenStatus, RequirementStatus, SectionId

MAX_ITEMS = 8
"""At most this many objectives or Must needs are listed; the rest are counted."""


def write_summary(content: ProjectContent, template: DraftTemplate | None = None) -> str:
    """The summary as Markdown (subheadings `###`, as inside a section)."""
    t = template or template_for(content.project.language)
    words = t.summary
    project = content.project
    blocks = [
        words.intro.format(
            company=escape(project.company) if project.company else t.content.company_unknown,
            project=escape(project.name),
        )
    ]

    blocks.append(f"### {words.objectives_title}")
    target = t.smart_fields["target"].lower()
    objectives = [
        f"**{o.id}** — {escape(o.statement)}" + (f" ({target}{t.colon} {escape(o.target)})" if o.target else "")
        for o in content.objectives
    ]
    blocks.append(_capped(objectives, t) if objectives else f"*{words.none}*")

    blocks.append(f"### {words.musts_title}")
    musts = [
        f"**{r.id}** — {escape(r.statement)}"
        for r in content.requirements
        if r.moscow is MoSCoW.MUST
        and r.status is not RequirementStatus.REJECTED
        and r.section not in (SectionId.COMPANY, SectionId.CONTEXT)
    ]
    blocks.append(_capped(musts, t) if musts else f"*{words.none}*")

    blocks.append(f"### {words.budget_title}")
    budget = [
        f"**{c.id}** — {escape(c.statement)}{t.colon} {format_money(c.money, t.locale, t.enums['tax_basis'])}"
        for c in content.constraints
        if c.kind is ConstraintKind.BUDGET and c.money is not None
    ]
    blocks.append(bullets(budget) if budget else f"*{words.budget_unknown}*")

    blocks.append(f"### {words.dates_title}")
    dated = sorted(
        (
            (c.due, c)
            for c in content.constraints
            if c.due is not None and CONSTRAINT_SECTION[c.kind] is SectionId.TIMELINE
        ),
        key=lambda pair: pair[0].value,
    )
    dates = [
        f"**{c.id}** — {escape(c.statement)}{t.colon} {format_date_value(due, t.locale, t.quarter)}" for due, c in dated
    ]
    blocks.append(bullets(dates) if dates else f"*{words.dates_unknown}*")

    blocks.append(f"### {words.open_title}")
    questions = sum(q.status is OpenStatus.OPEN for q in content.questions)
    conflicts = sum(c.status is OpenStatus.OPEN for c in content.conflicts)
    if questions or conflicts:
        blocks.append(
            bullets(
                [t.plural(words.open_questions, questions)] * bool(questions)
                + [t.plural(words.open_conflicts, conflicts)] * bool(conflicts)
            )
        )
    else:
        blocks.append(f"*{words.nothing_open}*")
    return "\n\n".join(blocks) + "\n"


def _capped(items: list[str], t: DraftTemplate) -> str:
    shown = bullets(items[:MAX_ITEMS])
    if len(items) > MAX_ITEMS:
        shown += f"\n\n*{t.plural(t.summary.more, len(items) - MAX_ITEMS)}*"
    return shown
