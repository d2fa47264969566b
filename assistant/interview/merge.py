"""Merging what the model found in an answer into the project, after code has checked it.

Injection, invented amounts, unsupported `must`, duplicates, corrections and disagreements are decided here,
by code, because a small model cannot be trusted with them. The merge is a pure function of the project's state
(`Workspace`) and the findings: it computes the changes, and the store writes them in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.i18n.catalog import catalog
from assistant.interview.changes import Workspace
from assistant.interview.cues import digits, grounded, looks_like_injection, says_correction, says_must
from assistant.interview.normalise import parse_date, parse_money
from assistant.knowledge.embeddings import embed_texts
from assistant.schemas import (
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    ExtractionStatus,
    FoundConstraint,
    FoundRequirement,
    MoSCoW,
    Objective,
    Provenance,
    Requirement,
    SectionId,
    SlotKey,
    Turn,
    TurnFindings,
    UseCase,
)

DUPLICATE_SIMILARITY = 0.75
"""Cosine from which a new requirement is merged into an existing one (calibrated in `assistant/quality/sets.py`)."""


@dataclass
class ExtractionOutcome:
    """What one extraction did to the project (ids created, updated, conflicts opened) or why it failed."""

    turn_id: int
    status: ExtractionStatus
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    error: str = ""
    follow_up: str | None = None


def merge_findings(space: Workspace, turn: Turn, key: SlotKey | None, found: TurnFindings) -> ExtractionOutcome:
    """Apply the checked findings of `turn` to the workspace of its project and say what changed."""
    outcome = ExtractionOutcome(turn.id, ExtractionStatus.DONE, follow_up=found.follow_up_question)
    injected = looks_like_injection(turn.text)
    section_hint = key.section if key else None

    constraints = [c for c in found.constraints if grounded(c, turn.text)]
    requirements: list[FoundRequirement] = []
    for item in found.requirements:
        # A budget or deadline restated as a requirement is a constraint the model misfiled.
        money = parse_money(item.statement, turn.language)
        in_answer = digits(item.statement) in digits(turn.text)
        if money is not None and in_answer and not any(c.kind is ConstraintKind.BUDGET for c in constraints):
            # Built without validation: the length caps of `FoundConstraint` bound the model's output, while
            # here the whole statement carries the amount (caught by the evaluation: a 120-character budget
            # sentence crashed the merge and lost the turn's findings).
            constraints.append(
                FoundConstraint.model_construct(
                    kind=ConstraintKind.BUDGET, statement=item.statement, amount_text=item.statement, date_text=None
                )
            )
        if money is None:
            requirements.append(item)
    if injected:
        # Enforced after the model call: an answer that gives orders changes nothing in the specification.
        requirements, constraints = [], []
        outcome.follow_up = None

    _merge_requirements(space, turn, requirements, section_hint, outcome)
    if not injected:
        _add_objectives_and_use_cases(space, turn, found, outcome)
    for constraint in constraints:
        _merge_constraint(space, turn, constraint, outcome)
    if outcome.follow_up is None and outcome.created and not injected:
        outcome.follow_up = quantify_question(turn)
    return outcome


def _merge_requirements(
    space: Workspace,
    turn: Turn,
    requirements: list[FoundRequirement],
    section_hint: SectionId | None,
    outcome: ExtractionOutcome,
) -> None:
    speaker = turn.stakeholder_id or "cahier"
    existing = space.list(Requirement)
    new_statements = [r.statement for r in requirements]
    similarity = (
        embed_texts(new_statements) @ embed_texts([r.statement for r in existing]).T
        if new_statements and existing
        else np.zeros((len(new_statements), len(existing)))
    )
    for index, item in enumerate(requirements):
        best = int(similarity[index].argmax()) if existing else -1
        if best >= 0 and similarity[index, best] >= DUPLICATE_SIMILARITY:
            current = existing[best]
            merged = current.model_copy(
                update={
                    "source_turn_ids": sorted({*current.source_turn_ids, turn.id}),
                    "stakeholder_ids": sorted({*current.stakeholder_ids, speaker}),
                }
            )
            space.save(merged)
            outcome.updated.append(current.id)
            continue
        requirement = Requirement(
            id=space.new_id(Requirement),
            statement=item.statement,
            kind=item.kind,
            category=item.category if item.kind.value != "functional" else None,
            moscow=item.moscow if item.moscow is not MoSCoW.MUST or says_must(turn.text) else MoSCoW.SHOULD,
            horizon=item.horizon,
            section=item.section if item.section is not SectionId.BUDGET else (section_hint or item.section),
            provenance=Provenance(item.provenance),
            source_turn_ids=[turn.id],
            stakeholder_ids=[speaker],
        )
        space.save(requirement)
        outcome.created.append(requirement.id)


def _add_objectives_and_use_cases(
    space: Workspace, turn: Turn, found: TurnFindings, outcome: ExtractionOutcome
) -> None:
    speaker = turn.stakeholder_id or "cahier"
    for found_objective in found.objectives:
        due = (
            parse_date(found_objective.deadline_text, turn.language, turn.created_at.date())
            if found_objective.deadline_text
            else None
        )
        objective = Objective(
            id=space.new_id(Objective),
            statement=found_objective.statement,
            scope=found_objective.scope,
            metric=found_objective.metric or "",
            baseline=found_objective.baseline or "",
            target=found_objective.target or "",
            deadline=due.value if due else None,
            source_turn_ids=[turn.id],
            stakeholder_ids=[speaker],
        )
        space.save(objective)
        outcome.created.append(objective.id)
    for found_use_case in found.use_cases:
        use_case = UseCase(
            id=space.new_id(UseCase),
            title=found_use_case.title,
            actor=found_use_case.actor,
            steps=found_use_case.steps,
            source_turn_ids=[turn.id],
            stakeholder_ids=[speaker],
        )
        space.save(use_case)
        outcome.created.append(use_case.id)


def _merge_constraint(space: Workspace, turn: Turn, item: FoundConstraint, outcome: ExtractionOutcome) -> None:
    """Budgets and deadlines are single facts: a correction updates, a disagreement becomes a conflict."""
    speaker = turn.stakeholder_id or "cahier"
    money = parse_money(item.amount_text, turn.language) if item.amount_text else None
    due = parse_date(item.date_text, turn.language, turn.created_at.date()) if item.date_text else None
    if item.kind not in (ConstraintKind.BUDGET, ConstraintKind.SUPPLIER):
        money = None
    singular = item.kind in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE)
    current = None
    if singular:
        current = next((c for c in space.list(Constraint) if c.kind is item.kind), None)
    if current is None:
        constraint = Constraint(
            id=space.new_id(Constraint),
            kind=item.kind,
            statement=item.statement,
            money=money,
            due=due,
            source_turn_ids=[turn.id],
            stakeholder_ids=[speaker],
        )
        space.save(constraint)
        outcome.created.append(constraint.id)
        return
    if (current.money, current.due) == (money, due):
        merged = current.model_copy(update={"source_turn_ids": sorted({*current.source_turn_ids, turn.id})})
        space.save(merged)
        outcome.updated.append(current.id)
        return
    if speaker in current.stakeholder_ids or says_correction(turn.text):
        updated = current.model_copy(
            update={
                "statement": item.statement,
                "money": money,
                "due": due,
                "source_turn_ids": sorted({*current.source_turn_ids, turn.id}),
            }
        )
        space.save(updated)
        outcome.updated.append(current.id)
        return
    conflict = Conflict(
        id=space.new_id(Conflict),
        subject=current.statement[:120] if len(current.statement) >= 3 else item.kind.value,
        object_ids=[current.id],
        statements=[
            ConflictingStatement(
                stakeholder_id=(current.stakeholder_ids or ["?"])[0],
                text=current.statement,
                turn_id=current.source_turn_ids[-1] if current.source_turn_ids else None,
            ),
            ConflictingStatement(stakeholder_id=speaker, text=item.statement, turn_id=turn.id),
        ],
        source_turn_ids=[*current.source_turn_ids, turn.id],
        stakeholder_ids=sorted({*current.stakeholder_ids, speaker}),
    )
    space.save(conflict, by="cahier")
    outcome.conflicts.append(conflict.id)


def quantify_question(turn: Turn) -> str | None:
    """A follow-up that asks to put a number on the first vague word of the answer, if it has one.

    The quality checker's lexicon finds the word ("rapide", "user-friendly"); asking while the stakeholder is
    still on the topic is what makes the requirement testable.
    """
    from assistant.quality import RuleId, check_statement

    report = check_statement(turn.text[:2000], turn.language)
    vague = next((f for f in report.findings if f.rule is RuleId.VAGUE_TERM), None)
    if vague is None:
        return None
    return catalog(turn.language).text("interview.quantify", term=vague.text)
