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
from assistant.interview.cues import budget_line, grounded, looks_like_injection, milestone, says_correction
from assistant.interview.normalise import parse_date, parse_money
from assistant.knowledge.embeddings import requirement_similarity
from assistant.schemas import (
    MAX_STATEMENT_CHARS,
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    ExtractionStatus,
    Fact,
    FoundConstraint,
    FoundFact,
    FoundNeed,
    MoSCoW,
    Objective,
    OpenQuestion,
    Provenance,
    Requirement,
    SlotKey,
    Tracked,
    Turn,
    TurnFindings,
    UseCase,
)
from assistant.text import fold

DUPLICATE_SIMILARITY = 0.75
"""`requirement_similarity` from which a need is the same as one already in the project. Stricter than the
evaluation's match (0.6): a wrong merge loses a need, a missed one leaves a near-duplicate a reviewer merges."""


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
    outcome = ExtractionOutcome(turn.id, ExtractionStatus.DONE)
    if looks_like_injection(turn.text):
        # Enforced after the model call: an answer that gives orders changes nothing in the specification.
        return outcome
    constraints = [c for c in found.constraints if grounded(c, turn.text)]
    _merge_requirements(space, turn, found.requirements, outcome)
    _add_objectives_and_use_cases(space, turn, found, outcome)
    for constraint in constraints:
        _merge_constraint(space, turn, constraint, outcome)
    _add_facts(space, turn, found.facts, outcome)
    _add_unknowns(space, turn, key, found.unknowns, outcome)
    if outcome.created:
        outcome.follow_up = quantify_question(turn)
    return outcome


def _merge_requirements(space: Workspace, turn: Turn, needs: list[FoundNeed], outcome: ExtractionOutcome) -> None:
    """New needs become requirements; a need already in the project joins it, corrects it or disagrees with it.

    The same need said again (`requirement_similarity` >= `DUPLICATE_SIMILARITY`, here or in an earlier answer)
    adds a source. Said again with a correction cue ("je me corrige", "actually"), it replaces the statement (the
    history keeps the old one). Said again by someone else with another stated priority or horizon, it opens a
    conflict on the requirement that keeps both positions and their speakers.
    """
    speaker = turn.stakeholder_id or "cahier"
    known = space.list(Requirement)
    similarity = requirement_similarity(
        [n.statement for n in needs], [r.statement for r in known] + [n.statement for n in needs]
    )
    columns = list(range(len(known)))  # the column of `similarity` of each requirement in `known`
    for index, need in enumerate(needs):
        scores = [float(similarity[index, column]) for column in columns]
        best = int(np.argmax(scores)) if scores else -1
        if best < 0 or scores[best] < DUPLICATE_SIMILARITY:
            requirement = Requirement(
                id=space.new_id(Requirement),
                statement=need.statement,
                kind=need.kind,
                category=need.category,
                moscow=need.moscow,
                horizon=need.horizon,
                section=need.section,
                provenance=Provenance.STATED,
                source_turn_ids=[turn.id],
                stakeholder_ids=[speaker],
            )
            space.save(requirement)
            outcome.created.append(requirement.id)
            known.append(requirement)
            columns.append(similarity.shape[1] - len(needs) + index)
            continue
        current = known[best]
        sources = {
            "source_turn_ids": sorted({*current.source_turn_ids, turn.id}),
            "stakeholder_ids": sorted({*current.stakeholder_ids, speaker}),
        }
        disagreement = _disagreement(current, need)
        if says_correction(need.clause) and (turn.id not in current.source_turn_ids):
            update = {"statement": need.statement, **sources}
            if need.moscow_stated:
                update["moscow"] = need.moscow
            if need.horizon is not None:
                update["horizon"] = need.horizon
            merged = current.model_copy(update=update)
        elif disagreement and speaker not in current.stakeholder_ids:
            _open_conflict(space, turn, current, need.clause, outcome)
            merged = current.model_copy(update=sources)
        else:
            merged = current.model_copy(
                update={
                    **sources,
                    "moscow": need.moscow if need.moscow_stated and current.moscow is MoSCoW.SHOULD else current.moscow,
                    "horizon": current.horizon or need.horizon,
                }
            )
        known[best] = merged
        if merged != current:
            space.save(merged)
            if current.id not in outcome.created:
                outcome.updated.append(current.id)


def _disagreement(current: Requirement, need: FoundNeed) -> bool:
    """Whether a need restates a requirement with another stated priority or horizon."""
    other_horizon = need.horizon is not None and current.horizon is not None and need.horizon != current.horizon
    other_priority = need.moscow_stated and current.moscow is not MoSCoW.SHOULD and need.moscow != current.moscow
    return other_horizon or other_priority


def _open_conflict(space: Workspace, turn: Turn, current: Tracked, said: str, outcome: ExtractionOutcome) -> None:
    speaker = turn.stakeholder_id or "cahier"
    first = current.headline
    conflict = Conflict(
        id=space.new_id(Conflict),
        subject=first[:120] if len(first) >= 3 else type(current).__name__.lower(),
        object_ids=[current.id],
        statements=[
            ConflictingStatement(
                stakeholder_id=(current.stakeholder_ids or ["?"])[0],
                text=first,
                turn_id=current.source_turn_ids[0] if current.source_turn_ids else None,
            ),
            ConflictingStatement(stakeholder_id=speaker, text=said[:MAX_STATEMENT_CHARS], turn_id=turn.id),
        ],
        source_turn_ids=sorted({*current.source_turn_ids, turn.id}),
        stakeholder_ids=sorted({*current.stakeholder_ids, speaker}),
    )
    space.save(conflict, by="cahier")
    outcome.conflicts.append(conflict.id)


def _add_facts(space: Workspace, turn: Turn, facts: list[FoundFact], outcome: ExtractionOutcome) -> None:
    """Facts in the stakeholder's words; the same words said again add a source instead of a copy."""
    speaker = turn.stakeholder_id or "cahier"
    known = {fold(f.text): f for f in space.list(Fact)}
    for found in facts:
        current = known.get(fold(found.text))
        if current is not None:
            merged = current.model_copy(update={"source_turn_ids": sorted({*current.source_turn_ids, turn.id})})
            if merged != current:
                space.save(merged)
                outcome.updated.append(current.id)
            continue
        fact = Fact(
            id=space.new_id(Fact),
            section=found.section,
            text=found.text,
            source_turn_ids=[turn.id],
            stakeholder_ids=[speaker],
        )
        space.save(fact)
        known[fold(fact.text)] = fact
        outcome.created.append(fact.id)


def _add_unknowns(
    space: Workspace, turn: Turn, key: SlotKey | None, unknowns: list[str], outcome: ExtractionOutcome
) -> None:
    """A "je ne sais pas" inside a useful answer: an open question on that point, in the speaker's words."""
    if key is None:
        return
    for said in unknowns:
        question = OpenQuestion(
            id=space.new_id(OpenQuestion),
            question=said[:MAX_STATEMENT_CHARS],
            section=key.section,
            slot=key,
            source_turn_ids=[turn.id],
            stakeholder_ids=[turn.stakeholder_id or "cahier"],
        )
        space.save(question)
        outcome.created.append(question.id)


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
    """A budget line or a milestone is a single fact: a correction updates it, a disagreement opens a conflict.

    Lines and milestones are told apart by their words (`budget_line`, `milestone`): the licences and the
    integration are two budgets, "le budget" said twice is one.
    """
    speaker = turn.stakeholder_id or "cahier"
    money = parse_money(item.amount_text, turn.language) if item.amount_text else None
    due = parse_date(item.date_text, turn.language, turn.created_at.date()) if item.date_text else None
    if item.kind not in (ConstraintKind.BUDGET, ConstraintKind.SUPPLIER):
        money = None
    current = next((c for c in space.list(Constraint) if _same_fact(c, item)), None)
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
    _open_conflict(space, turn, current, item.statement, outcome)


def _same_fact(current: Constraint, item: FoundConstraint) -> bool:
    """Whether a found constraint speaks of the same budget line or milestone as an existing one."""
    if current.kind is not item.kind:
        return False
    if item.kind is ConstraintKind.BUDGET:
        return budget_line(current.statement) == budget_line(item.statement)
    if item.kind is ConstraintKind.DEADLINE:
        # A date said with no milestone word is the go-live: the date every stakeholder means by "the deadline".
        return (milestone(current.statement) or "go_live") == (milestone(item.statement) or "go_live")
    return fold(current.statement) == fold(item.statement)


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
