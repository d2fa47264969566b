"""Each section of the specification written as Markdown from the project's stored objects.

Pure and deterministic: the same objects give the same text byte for byte, which is what lets `draft.py` tell a
real change (worth a proposal to the reviewer) from a regeneration that changed nothing. Every piece of
stakeholder text goes through `markup.escape`; the template's own phrases are trusted Markdown.

Where objects land: requirements, open questions and use cases carry or imply their section; constraints go
where a reader looks for them (`CONSTRAINT_SECTION`); risks go to the methodology; a conflict goes to the
section of the first object it concerns; a fact (what a stakeholder told about the company, today's situation,
its data or its team) goes to the section extraction gave it. Company and context are written as prose (they
describe, they do not require), and so are the facts of every section: each paragraph in the stakeholder's
own words, followed by who said it and in which turn, so that a reader can check it. The other objects use
tables. Each section ends with what it still lacks ("À compléter").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from assistant.draft.markup import bullets, escape, table
from assistant.draft.template import DraftTemplate, template_for
from assistant.i18n.formats import format_date_value, format_day, format_money
from assistant.schemas import (
    Conflict,
    Constraint,
    ConstraintKind,
    Fact,
    Horizon,
    MoSCoW,
    Objective,
    OpenQuestion,
    OpenStatus,
    Project,
    Provenance,
    Requirement,
    RequirementKind,
    RequirementStatus,
    Risk,
    SectionId,
    Stakeholder,
    TaxBasis,
    Tracked,
    UseCase,
)
from assistant.store import Store

CONSTRAINT_SECTION: dict[ConstraintKind, SectionId] = {
    ConstraintKind.BUDGET: SectionId.BUDGET,
    ConstraintKind.DEADLINE: SectionId.TIMELINE,
    ConstraintKind.REGULATORY: SectionId.NON_FUNCTIONAL,
    ConstraintKind.TECHNICAL: SectionId.DIAGNOSIS,
    ConstraintKind.SUPPLIER: SectionId.METHODOLOGY,
}
"""Where each kind of constraint is read: a technical constraint is usually a system already in place."""

MAX_IDS_LISTED = 8
"""A "still needed" line names at most this many objects, then says how many more."""

_MOSCOW_ORDER = {value: index for index, value in enumerate(MoSCoW)}


@dataclass(frozen=True)
class ProjectContent:
    """Everything the draft is written from, read once from the store."""

    project: Project
    stakeholders: list[Stakeholder] = field(default_factory=list)
    requirements: list[Requirement] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    use_cases: list[UseCase] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    questions: list[OpenQuestion] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    @classmethod
    def load(cls, store: Store, project_id: str) -> ProjectContent:
        objects = store.list_all_objects(project_id)  # one query for every type
        return cls(
            project=store.get_project(project_id),
            stakeholders=store.list_stakeholders(project_id),
            requirements=objects.requirement,
            objectives=objects.objective,
            constraints=objects.constraint,
            use_cases=objects.usecase,
            risks=objects.risk,
            questions=objects.openquestion,
            conflicts=objects.conflict,
            facts=objects.fact,
        )

    def section_of(self, object_id: str) -> SectionId | None:
        """The section an object is printed in, or None when the object is unknown."""
        for requirement in self.requirements:
            if requirement.id == object_id:
                return requirement.section
        for constraint in self.constraints:
            if constraint.id == object_id:
                return CONSTRAINT_SECTION[constraint.kind]
        prefix = object_id.rpartition("-")[0]
        return {
            Objective.id_prefix: SectionId.OBJECTIVES,
            UseCase.id_prefix: SectionId.USE_CASES,
            Risk.id_prefix: SectionId.METHODOLOGY,
        }.get(prefix)


def render_sections(content: ProjectContent, template: DraftTemplate | None = None) -> dict[SectionId, str]:
    """The Markdown body of every section, in document order (headings are added by the document)."""
    template = template or template_for(content.project.language)
    return {section: _SectionWriter(content, template, section).write() for section in SectionId}


class _SectionWriter:
    """Writes one section: its specific content, then requirements, questions, conflicts and what is missing."""

    def __init__(self, content: ProjectContent, template: DraftTemplate, section: SectionId) -> None:
        self.content = content
        self.t = template
        self.text = template.content
        self.section = section
        self.blocks: list[str] = []
        self.missing: list[str] = []
        self.requirements = [r for r in content.requirements if r.section is section]
        self.constraints = [c for c in content.constraints if CONSTRAINT_SECTION[c.kind] is section]
        self.has_core_content = False  # whether anything but the template's words was written; pieces only set it

    def write(self) -> str:
        specific: dict[SectionId, Callable[[], None]] = {
            SectionId.COMPANY: self._company,
            SectionId.CONTEXT: self._facts,
            SectionId.OBJECTIVES: self._objectives,
            SectionId.NEEDS: self._needs,
            SectionId.USE_CASES: self._use_cases,
            SectionId.METHODOLOGY: self._methodology,
        }
        if self.section is not SectionId.COMPANY:  # the company's facts follow its introduction
            self._told()
        specific.get(self.section, self._requirement_section)()
        self._questions()
        self._conflicts()
        intro = self.t.section(self.section).intro
        if not self.has_core_content:
            self.missing.insert(0, self.t.section(self.section).missing)
        elif intro:  # "needs are grouped by horizon" only makes sense above needs
            self.blocks.insert(0, intro.format(**self._names()))
        if self.missing:
            self.blocks.append(
                f"> **{self.text.missing_title}{self.t.colon}** " + self.t.separator.join(self.missing) + "."
            )
        return "\n\n".join(self.blocks) + "\n"

    # -- pieces ------------------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        project = self.content.project
        return {
            "company": escape(project.company) if project.company else self.text.company_unknown,
            "project": escape(project.name),
        }

    def _label_value(self, label: str, value: str) -> str:
        return f"**{label}**{self.t.colon} {value}"

    def _source(self, obj: Tracked) -> str:
        turns = ", ".join(self.text.turn.format(turn=turn) for turn in sorted(set(obj.source_turn_ids)))
        if obj.provenance is not Provenance.STATED:
            return f"{turns} · {self.t.label(obj.provenance)}" if turns else self.t.label(obj.provenance)
        return turns or self.text.no_source

    def _ids(self, objects: Sequence[Tracked]) -> str:
        ids = [obj.id for obj in objects]
        shown = ", ".join(ids[:MAX_IDS_LISTED])
        return shown + (f" (+{len(ids) - MAX_IDS_LISTED})" if len(ids) > MAX_IDS_LISTED else "")

    def _subheading(self, text: str) -> None:
        self.blocks.append(f"### {text}")

    # -- company and context: prose ------------------------------------------------------------------------

    def _company(self) -> None:
        project = self.content.project
        self.blocks.append(self.text.project_intro.format(**self._names()))
        if not project.company:
            self.missing.append(self.text.missing_company_name)
        self._told()
        self._facts()
        if self.content.stakeholders:
            self._subheading(self.text.stakeholders_title)
            self.blocks.append(
                bullets(
                    [
                        f"{escape(person.name)} — {escape(person.role)}" if person.role else escape(person.name)
                        for person in self.content.stakeholders
                    ]
                )
            )
        else:
            self.missing.append(self.text.missing_stakeholders)

    def _facts(self) -> None:
        facts = [r for r in self.requirements if r.status is not RequirementStatus.REJECTED]
        if not facts:
            return
        self.has_core_content = True
        sentences = []
        for requirement in facts:
            sentence = escape(requirement.statement).rstrip(".")
            end = sentence[-1] if sentence.endswith(("!", "?", "…")) else "."
            sentences.append(f"{sentence.rstrip('!?…')} ({requirement.id}){end}")
        self.blocks.append(" ".join(sentences))

    def _told(self) -> None:
        """The section's facts as paragraphs: consecutive facts of one turn make one paragraph, which ends with its
        speaker and turn ("— Alice Martin, directrice commerciale, T2")."""
        facts = [fact for fact in self.content.facts if fact.section is self.section]
        if not facts:
            return
        self.has_core_content = True
        people = {person.id: person for person in self.content.stakeholders}
        paragraphs: list[tuple[tuple[tuple[int, ...], tuple[str, ...]], list[str]]] = []
        for fact in facts:
            origin = (tuple(sorted(set(fact.source_turn_ids))), tuple(fact.stakeholder_ids))
            sentence = escape(fact.text).strip()
            if sentence[-1:] not in (".", "!", "?", "…", ":"):
                sentence += "."
            if paragraphs and paragraphs[-1][0] == origin:
                paragraphs[-1][1].append(sentence)
            else:
                paragraphs.append((origin, [sentence]))
        for (turns, speakers), sentences in paragraphs:
            who = [
                ", ".join(filter(None, (escape(people[s].name), escape(people[s].role))))
                for s in speakers
                if s in people
            ]
            where = ", ".join(self.text.turn.format(turn=turn) for turn in turns)
            source = ", ".join(filter(None, [self.t.separator.join(who), where]))
            self.blocks.append(" ".join(sentences) + (f" *— {source}*" if source else ""))

    # -- objectives --------------------------------------------------------------------------------------

    def _objectives(self) -> None:
        objectives = self.content.objectives
        self.has_core_content |= bool(objectives)
        fields = self.t.smart_fields
        for objective in objectives:
            self._subheading(f"{objective.id} — {escape(objective.statement)}")
            values = {
                "metric": escape(objective.metric),
                "baseline": escape(objective.baseline),
                "target": escape(objective.target),
                "deadline": format_day(objective.deadline, self.t.locale) if objective.deadline else "",
                "owner": escape(objective.owner),
            }
            lines = [
                self._label_value(fields[name], value or f"*{self.text.to_specify}*") for name, value in values.items()
            ]
            lines.append(
                self._label_value(self.text.scope, self.t.label(objective.scope))
                + " · "
                + self._label_value(self.text.source, self._source(objective))
            )
            self.blocks.append(bullets(lines))
            missing = objective.missing_smart_fields()
            if missing:
                names = ", ".join(fields[name].lower() for name in missing)
                self.blocks.append(f"*{self.text.smart_missing.format(fields=names)}*")
                self.missing.append(self.text.missing_smart.format(id=objective.id, fields=names))
        self._requirement_tables(self.requirements)

    # -- needs: grouped by horizon -----------------------------------------------------------------------

    def _needs(self) -> None:
        kept = self._kept(self.requirements)
        self.has_core_content |= bool(kept)
        groups: list[tuple[str, list[Requirement]]] = [
            (self.t.label(horizon), [r for r in kept if r.horizon is horizon]) for horizon in Horizon
        ]
        groups.append((self.text.horizon_unset, [r for r in kept if r.horizon is None]))
        for title, requirements in groups:
            if requirements:
                self._subheading(title)
                ordered = sorted(requirements, key=lambda r: _MOSCOW_ORDER[r.moscow])
                self.blocks.append(self._requirement_table(ordered))
        unset = [r for r in kept if r.horizon is None]
        if unset:
            self.missing.append(self.text.missing_horizon.format(ids=self._ids(unset)))
        self._details(kept)
        self._rejected()

    # -- use cases ---------------------------------------------------------------------------------------

    def _use_cases(self) -> None:
        self.has_core_content |= bool(self.content.use_cases)
        for case in self.content.use_cases:
            self._subheading(f"{case.id} — {escape(case.title)}")
            facts = []
            if case.actor:
                facts.append(self._label_value(self.text.actor, escape(case.actor)))
            else:
                self.missing.append(self.text.missing_actor.format(id=case.id))
            if case.goal:
                facts.append(self._label_value(self.text.goal, escape(case.goal)))
            facts.append(self._label_value(self.text.source, self._source(case)))
            self.blocks.append(" · ".join(facts))
            if case.steps:
                self.blocks.append(bullets([escape(step) for step in case.steps], ordered=True))
            else:
                self.missing.append(self.text.missing_steps.format(id=case.id))
        self._requirement_tables(self.requirements)

    # -- sections made of requirements and constraints ---------------------------------------------------

    def _requirement_section(self) -> None:
        self.has_core_content |= bool(self._kept(self.requirements) or self.constraints)
        self._requirement_tables(self.requirements)
        self._constraints()

    def _methodology(self) -> None:
        self._requirement_section()
        risks = self.content.risks
        if risks:
            self.has_core_content = True
            self._subheading(self.text.risks_title)
            self.blocks.append(
                table(
                    self.text.risk_columns,
                    [
                        [
                            risk.id,
                            escape(risk.statement),
                            self.t.label(risk.likelihood),
                            self.t.label(risk.impact),
                            escape(risk.mitigation) or f"*{self.text.to_specify}*",
                        ]
                        for risk in risks
                    ],
                )
            )

    def _kept(self, requirements: Iterable[Requirement]) -> list[Requirement]:
        return [r for r in requirements if r.status is not RequirementStatus.REJECTED]

    def _requirement_tables(self, requirements: Sequence[Requirement]) -> None:
        kept = self._kept(requirements)
        if kept:
            self.blocks.append(self._requirement_table(kept))
            self._details(kept)
        self._rejected()

    def _type_label(self, requirement: Requirement) -> str:
        kind = self.t.label(requirement.kind)
        if requirement.category is None:
            return kind
        category = self.t.label(requirement.category)
        return category if requirement.kind is RequirementKind.NON_FUNCTIONAL else f"{kind} · {category}"

    def _requirement_table(self, requirements: Sequence[Requirement]) -> str:
        return table(
            self.text.requirement_columns,
            [
                [
                    requirement.id,
                    self._statement_with_criteria(requirement),
                    self._type_label(requirement),
                    self.t.label(requirement.moscow),
                    self.t.label(requirement.horizon) if requirement.horizon else self.text.no_source,
                    self._source(requirement),
                ]
                for requirement in requirements
            ],
        )

    def _statement_with_criteria(self, requirement: Requirement) -> str:
        """The statement, then its acceptance criteria in the same cell: a column of their own left the
        statements a sixth of an A4 line in Word."""
        statement = escape(requirement.statement)
        if not requirement.acceptance_criteria:
            return statement
        criteria = self.t.separator.join(escape(item) for item in requirement.acceptance_criteria)
        return f"{statement} — *{self.text.acceptance}*{self.t.colon} {criteria}"

    def _details(self, requirements: Sequence[Requirement]) -> None:
        """The rationale of each requirement under the tables, and the Must requirements that lack acceptance
        criteria among what the section still needs (a vendor cannot price, nor a buyer accept, "fast enough")."""
        items = [f"**{r.id}** — {escape(r.rationale)}" for r in requirements if r.rationale]
        if items:
            self._subheading(self.text.details_title)
            self.blocks.append(bullets(items))
        unchecked = [r for r in requirements if r.moscow is MoSCoW.MUST and not r.acceptance_criteria]
        if unchecked:
            self.missing.append(self.text.missing_acceptance.format(ids=self._ids(unchecked)))

    def _rejected(self) -> None:
        rejected = [r for r in self.requirements if r.status is RequirementStatus.REJECTED]
        if rejected:
            self._subheading(self.text.rejected_title)
            self.blocks.append(bullets([f"**{r.id}** — {escape(r.statement)}" for r in rejected]))

    def _constraints(self) -> None:
        if not self.constraints:
            return
        self._subheading(self.text.constraints_title)
        rows = []
        for constraint in self.constraints:
            values = []
            if constraint.money is not None:
                values.append(format_money(constraint.money, self.t.locale, self.t.enums["tax_basis"]))
            if constraint.due is not None:
                values.append(format_date_value(constraint.due, self.t.locale, self.t.quarter))
            rows.append(
                [
                    constraint.id,
                    escape(constraint.statement),
                    self.t.label(constraint.kind),
                    " · ".join(values) or self.text.no_source,
                    self._source(constraint),
                ]
            )
        self.blocks.append(table(self.text.constraint_columns, rows))
        untaxed = [c for c in self.constraints if c.money is not None and c.money.tax_basis is TaxBasis.UNSPECIFIED]
        if untaxed:
            self.missing.append(self.text.missing_tax.format(ids=self._ids(untaxed)))
        undated = [c for c in self.constraints if c.kind is ConstraintKind.DEADLINE and c.due is None]
        if undated:
            self.missing.append(self.text.missing_due.format(ids=self._ids(undated)))

    # -- questions and conflicts -------------------------------------------------------------------------

    def _questions(self) -> None:
        questions = [q for q in self.content.questions if q.section is self.section and q.status is OpenStatus.OPEN]
        if questions:
            self._subheading(self.text.questions_title)
            self.blocks.append(bullets([f"**{q.id}** — {escape(q.question)}" for q in questions]))

    def _conflicts(self) -> None:
        conflicts = [c for c in self.content.conflicts if self._conflict_section(c) is self.section]
        if not conflicts:
            return
        names = {person.id: person.name for person in self.content.stakeholders}
        self._subheading(self.text.conflicts_title)
        items = []
        for conflict in conflicts:
            item = f"**{conflict.id}** — {escape(conflict.subject)}"
            if conflict.status is OpenStatus.RESOLVED:
                resolution = escape(conflict.resolution) or self.text.to_specify
                item += f" — *{self.text.conflict_resolved}*{self.t.colon} {resolution}"
            for statement in conflict.statements:
                who = escape(names.get(statement.stakeholder_id, statement.stakeholder_id))
                turn = f" ({self.text.turn.format(turn=statement.turn_id)})" if statement.turn_id is not None else ""
                quoted = self.text.quote.format(text=escape(statement.text))
                item += f"\n  - {who}{self.t.colon} {quoted}{turn}"
            items.append(item)
        self.blocks.append(bullets(items))

    def _conflict_section(self, conflict: Conflict) -> SectionId:
        for object_id in conflict.object_ids:
            section = self.content.section_of(object_id)
            if section is not None:
                return section
        return SectionId.NEEDS
