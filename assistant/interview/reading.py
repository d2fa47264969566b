"""Reading one answer with small jobs: code cuts and decides, the model reads one clause at a time.

The embedded 1.5B model failed at filling one large nested schema per answer (it copied the project state,
filed today's problems as needs, rated everything `must`), and given several numbered clauses at once it moved
wordings between clauses and repeated one sentence for all of them. Here code cuts the answer into clauses and
labels each one (`labels.py`: need, objective, constraint, scenario step, fact about the company / today's
situation / data / team, or nothing), and the model gets one small typed question per need or objective clause
(`prompts/word_clauses.yaml`, every call sharing its static part):

1. `needs`: does the clause ask anything of the CRM, and if so one or two "Le CRM doit …" / "The CRM shall …"
   sentences. A clause that asks nothing (a reason, a consequence) is a fact about today;
2. `objectives`: does it set a result to reach, and if so the goal, metric, baseline, target and deadline as said.

Everything else is code, from the stakeholder's own words: clause boundaries, priority and horizon (cue
words, including a cue said in a later clause about earlier ones: "… Quatre : … Ces quatre points sont non
négociables"), kind and section, amounts and dates, budget lines and milestones, facts (the clause itself),
scenario steps, and the partial "je ne sais pas" that becomes an open question. No project state is sent to
the model, so there is nothing it could copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.interview.clauses import Clause, split_clauses
from assistant.interview.cues import (
    horizon_cue,
    points_back,
    priority_cue,
    quality_cue,
    refers_back,
    says_also,
    says_dont_know,
)
from assistant.interview.labels import label_clauses
from assistant.interview.normalise import parse_date, parse_money
from assistant.models.port import ChatModel, Usage
from assistant.models.prompts import load_prompt
from assistant.schemas import (
    ClauseKind,
    ClauseNeed,
    ClauseObjective,
    ConstraintKind,
    FoundConstraint,
    FoundFact,
    FoundNeed,
    FoundObjective,
    FoundUseCase,
    Horizon,
    Language,
    MoSCoW,
    NfrCategory,
    RequirementKind,
    SectionId,
    SlotKey,
    Turn,
    TurnFindings,
)
from assistant.text import fold

FACT_SECTIONS = {
    ClauseKind.COMPANY: SectionId.COMPANY,
    ClauseKind.SITUATION: SectionId.DIAGNOSIS,
    ClauseKind.DATA: SectionId.DATA,
    ClauseKind.TEAM: SectionId.METHODOLOGY,
}
"""Where a fact goes in the specification, by the label of its clause."""

PREFIX = {Language.FR: "Le CRM doit", Language.EN: "The CRM shall"}

MIN_OVERLAP = 0.3
"""Share of a wording's content words that must come from its clause (or the clause before it). Below it, the
model wrote about something else (an example, another answer), and the wording is dropped."""

MIN_COVERAGE = 0.35
"""Share of a need clause's content words that its wordings must keep. Below it, the model generalised the
need away ("les inscriptions CPF remontent d'EDOF toutes seules" → "gérer les inscriptions CPF"), and the
stakeholder's own words are kept instead."""

MUST_SLOTS = frozenset({"must_haves"})
"""Slots whose question asks for what is indispensable: a need given in answer to it is `must` unless the
stakeholder says otherwise."""

_REGULATORY = re.compile(
    r"\b(rgpd|gdpr|loi|legal|reglement\w*|regulat\w*|conformite|compliance|certification|qualiopi|hipaa|hds|"
    r"cnil|norme|audit|obligation|law|directive|iso ?\d+)\b"
)
_TOOL_DOES = re.compile(
    r"\b(crm|automatique\w*|tout seul|toute seule|tous seuls|toutes seules|me rappelle|nous rappelle|genere|"
    r"automatic\w*|by itself|on its own|reminds? (me|us)|generates?|the system|the tool)\b"
)
"""A scenario step in which the tool does something ("le CRM me rappelle de relancer") is also a need; the other
steps are not read as needs (sent to the model, a step such as "she logs the meeting on her phone" came back as
a requirement of its own far more often than the gold has one)."""
_BUDGET_WORDS = re.compile(
    r"\b(budget|enveloppe|cout|couts|coute|tarif|prix|licences?|abonnements?|valide|vote|cost|costs|price|"
    r"approved|signed off)\b"
)
_NEGATION = {
    Language.FR: re.compile(r"\b(ne|n'|pas|jamais|aucun|aucune|sans)\b"),
    Language.EN: re.compile(r"\b(not|never|no|without|n't)\b|n't\b"),
}
_WORD = re.compile(r"[a-z0-9]{3,}")
_COMMON = frozenset(
    "crm doit devra permettre pouvoir etre avoir les des une pour dans avec que qui sur par est sont aux the shall "
    "must should allow able and for with that this from are have each all its their our".split()
)


class AnswerReader(Protocol):
    """How an answer becomes findings: `read_answer` in production, a scripted double in some tests."""

    def __call__(self, turn: Turn, key: SlotKey | None, model: ChatModel) -> Reading: ...


@dataclass
class Reading:
    """The findings of one answer and what the model calls cost."""

    findings: TurnFindings
    usage: list[Usage] = field(default_factory=list)


def _one_line(clause: Clause) -> str:
    return " ".join(clause.text.split())


def read_answer(turn: Turn, key: SlotKey | None, model: ChatModel) -> Reading:
    """Read `turn` (a stakeholder's answer) into findings, with up to two small model calls.

    Raises:
        ModelError: a model call failed; nothing is returned, the caller records and retries.
    """
    language = turn.language
    clauses = split_clauses(turn.text)
    reading = Reading(TurnFindings(language=language))
    if not clauses:
        return reading
    found = reading.findings
    found.unknowns = [c.text for c in clauses if says_dont_know(c.text)]

    labels = label_clauses(clauses, language, turn.created_at.date(), key.section if key else None)
    kinds = {number: label.kind for number, label in labels.items()}
    found.answered_question = any(kind is not ClauseKind.OTHER for kind in kinds.values())

    for clause in clauses:
        if kinds[clause.number] is ClauseKind.NEED and points_back(clause.text):
            kinds[clause.number] = ClauseKind.OTHER  # "ces quatre points sont non négociables" rates, asks nothing
    need_clauses = [
        c
        for c in clauses
        if kinds[c.number] is ClauseKind.NEED
        or (kinds[c.number] is ClauseKind.STEP and _TOOL_DOES.search(fold(c.text)))
    ]
    for clause in clauses:
        kind = kinds[clause.number]
        money = parse_money(clause.text, language)
        if kind is ClauseKind.NEED and money is not None and _BUDGET_WORDS.search(fold(clause.text)):
            # A budget said inside a need ("il faut un outil à moins de 30 k€") is a constraint the label misfiled.
            kinds[clause.number] = kind = ClauseKind.CONSTRAINT
            need_clauses.remove(clause)
        elif (
            kind in (*FACT_SECTIONS, ClauseKind.OTHER)
            and money is not None
            and (_BUDGET_WORDS.search(fold(clause.text)) or (key is not None and key.section is SectionId.BUDGET))
        ):
            # An amount told as a fact ("the board approved £300,000") in a budget answer is the budget.
            kinds[clause.number] = kind = ClauseKind.CONSTRAINT
        if kind is ClauseKind.CONSTRAINT:
            found.constraints.append(_constraint(clause, turn))
        elif kind in FACT_SECTIONS:
            found.facts.append(FoundFact(section=FACT_SECTIONS[kind], text=clause.text))
    steps = [c.text for c in clauses if kinds[c.number] is ClauseKind.STEP]
    if len(steps) >= 2:
        found.use_cases.append(
            FoundUseCase.model_construct(title=_title(steps[0]), actor="", steps=[s[:200] for s in steps[:8]])
        )

    prompt = load_prompt("word_clauses")
    if need_clauses:
        priorities = _priorities(clauses, kinds, {c.number for c in need_clauses}, key)
        for clause in need_clauses:
            read = model.extract(prompt.render(language.value, task="needs", clause=_one_line(clause)), ClauseNeed)
            reading.usage.append(read.usage)
            before = next((c for c in clauses if c.number == clause.number - 1), None)
            needs = _needs(read.value, clause, before, priorities[clause.number], key, language)
            found.requirements.extend(needs)
            if not needs and kinds[clause.number] is ClauseKind.NEED:
                # The clause asks nothing: a reason or a consequence told among the needs ("Sans ça, on ressaisit
                # tout deux fois") describes today, unless the clause came close to another fact label.
                section = FACT_SECTIONS.get(labels[clause.number].fact or ClauseKind.SITUATION, SectionId.DIAGNOSIS)
                found.facts.append(FoundFact(section=section, text=clause.text))

    for clause in (c for c in clauses if kinds[c.number] is ClauseKind.OBJECTIVE):
        read_goal = model.extract(
            prompt.render(language.value, task="objectives", clause=_one_line(clause)), ClauseObjective
        )
        reading.usage.append(read_goal.usage)
        if read_goal.value.goal:
            objective = FoundObjective(clause=clause.number, **read_goal.value.model_dump(exclude={"goal"}))
            found.objectives.append(_grounded_objective(objective, clause.text))
        else:
            # A figure of today told among the goals ("on en gagne à peu près un sur cinq"): the situation.
            found.facts.append(FoundFact(section=SectionId.DIAGNOSIS, text=clause.text))
    return reading


def _needs(
    read: ClauseNeed,
    clause: Clause,
    before: Clause | None,
    priority: tuple[MoSCoW, bool, Horizon | None],
    key: SlotKey | None,
    language: Language,
) -> list[FoundNeed]:
    """The needs of one clause from the model's reading, each wording checked against the clause.

    A wording about something else than the CRM, about something else than its clause (or the clause before it,
    which a pronoun may point to), that adds a negation or that drops most of the clause is not used; when the
    model read a request, the stakeholder's own words are kept instead. A clause it read as asking nothing gives
    no need.
    """
    context = clause.text if before is None else f"{before.text} {clause.text}"
    sentences = [
        _requirement_sentence(s, language)
        for s in (read.statements if read.asks else [])
        if not _other_subject(s, language)
    ]
    grounded = [s for s in sentences if _grounded(s, context, language)]
    if not grounded or _coverage(grounded, clause.text) < MIN_COVERAGE:
        grounded = [_plain_wording(clause.text, language)] if read.asks else []
    return [_need(sentence, clause, priority, key) for sentence in grounded]


def _priorities(
    clauses: Sequence[Clause], kinds: dict[int, ClauseKind], needs: set[int], key: SlotKey | None
) -> dict[int, tuple[MoSCoW, bool, Horizon | None]]:
    """(MoSCoW, whether it was said, horizon) of every need clause, from cue words.

    A clause's own words come first. A later clause that is not a need but points back with a cue ("C'est
    indispensable dès le lot 1", "ces quatre points sont non négociables") gives it to the needs before it that
    have none, and one right after a need gives it to that need; a need "aussi / too" shares the one before
    it. A need in answer to the "what is indispensable" question is `must` unless said otherwise.
    """
    default = MoSCoW.MUST if key is not None and key.slot in MUST_SLOTS else MoSCoW.SHOULD
    own: dict[int, tuple[MoSCoW | None, Horizon | None]] = {}
    for clause in clauses:
        moscow, horizon = priority_cue(clause.text), horizon_cue(clause.text)
        if clause.number in needs:
            own[clause.number] = (moscow, horizon)
        if kinds[clause.number] is ClauseKind.STEP or not (moscow or horizon):
            continue
        if refers_back(clause.text):
            for number, (their_moscow, their_horizon) in own.items():
                if number < clause.number:
                    own[number] = (their_moscow or moscow, their_horizon or horizon)
        elif clause.number not in needs and clause.number - 1 in own:
            # "Le suivi des legs ; on verra à plus long terme": said of the need just before.
            their_moscow, their_horizon = own[clause.number - 1]
            own[clause.number - 1] = (their_moscow or moscow, their_horizon or horizon)
    previous: tuple[MoSCoW | None, Horizon | None] = (None, None)
    for clause in clauses:
        if clause.number not in own:
            continue
        if own[clause.number] == (None, None) and says_also(clause.text):
            own[clause.number] = previous  # "Les campagnes d'e-mailing aussi" shares the need before it
        previous = own[clause.number]
    return {number: (moscow or default, moscow is not None, horizon) for number, (moscow, horizon) in own.items()}


def _need(
    sentence: str, clause: Clause, priority: tuple[MoSCoW, bool, Horizon | None], key: SlotKey | None
) -> FoundNeed:
    """A worded need with what code decides from the stakeholder's clause: priority, horizon, quality, kind."""
    moscow, stated, horizon = priority
    category = quality_cue(clause.text)
    kind = _kind(category)
    return FoundNeed(
        statement=sentence,
        clause=clause.text,
        kind=kind,
        category=category,
        moscow=moscow,
        moscow_stated=stated,
        horizon=horizon,
        section=_section(kind, key),
    )


_ENUMERATION_MARK = re.compile(
    r"^\s*(un|deux|trois|quatre|cinq|six|one|two|three|four|five|six|first|second|third|fourth|ensuite|enfin|"
    r"then|finally|et|and|donc|so|aussi|also)\b\s*[:,]?\s*",
    re.IGNORECASE,
)


def _plain_wording(clause: str, language: Language) -> str:
    """A requirement sentence made of the stakeholder's own words, when the model gave no usable wording."""
    text = _ENUMERATION_MARK.sub("", " ".join(clause.split())).rstrip(" .;:")
    verb = "permettre :" if language is Language.FR else "provide:"
    return _requirement_sentence(f"{verb} {text[:1].lower()}{text[1:]}", language)[:300]


_MODAL = {
    Language.FR: re.compile(r"\b(doit|doivent|devra|devront|faut|peut|peuvent)\b"),
    Language.EN: re.compile(r"\b(shall|must|should|needs? to|has to|have to|can|will)\b"),
}


def _other_subject(statement: str, language: Language) -> bool:
    """Whether a wording is a sentence about something else than the CRM ("Le rapport doit être partagé"):
    prefixed with "Le CRM doit", it would be nonsense, so it is not used."""
    text = fold(" ".join(statement.split()))
    return not text.startswith(fold(PREFIX[language])) and bool(_MODAL[language].search(text))


def _requirement_sentence(statement: str, language: Language) -> str:
    """The wording as one requirement sentence that starts with the language's "The CRM shall"."""
    text = " ".join(statement.split()).strip(" -•")
    prefix = PREFIX[language]
    if not fold(text).startswith(fold(prefix)):
        other = PREFIX[Language.EN if language is Language.FR else Language.FR]
        if fold(text).startswith(fold(other)):
            text = text[len(other) :].strip()
        text = f"{prefix} {text[:1].lower()}{text[1:]}"
    return text if text.endswith((".", "!", "?")) else text + "."


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text)) if w not in _COMMON}


def _coverage(sentences: Sequence[str], clause: str) -> float:
    """Share of the clause's content words (by their first five letters) that the sentences keep."""
    wanted = {w[:5] for w in _content_words(clause)}
    if not wanted:
        return 1.0
    kept = {w[:5] for sentence in sentences for w in _content_words(sentence)}
    return len(wanted & kept) / len(wanted)


def _grounded(sentence: str, clause: str, language: Language) -> bool:
    """Whether a wording speaks of its clause: enough shared words, its numbers said, no negation added."""
    words = _content_words(sentence)
    if not words:
        return False
    source = fold(clause)
    stems = {w[:5] for w in _content_words(clause)}
    shared = sum(1 for w in words if w[:5] in stems)
    if shared / len(words) < MIN_OVERLAP:
        return False
    if any(number not in re.sub(r"\s", "", source) for number in re.findall(r"\d+", re.sub(r"\s", "", fold(sentence)))):
        return False
    negation = _NEGATION[language]
    return bool(negation.search(source)) or not negation.search(fold(sentence.removeprefix(PREFIX[language])))


def _kind(category: NfrCategory | None) -> RequirementKind:
    """Functional when no quality is named; an integration is both (a function and a link to keep working)."""
    if category is None:
        return RequirementKind.FUNCTIONAL
    return RequirementKind.BOTH if category is NfrCategory.INTEGRATION else RequirementKind.NON_FUNCTIONAL


def _section(kind: RequirementKind, key: SlotKey | None) -> SectionId:
    if key is not None and key.section is SectionId.DATA:
        return SectionId.DATA
    return SectionId.NON_FUNCTIONAL if kind is RequirementKind.NON_FUNCTIONAL else SectionId.FUNCTIONAL


def _constraint(clause: Clause, turn: Turn) -> FoundConstraint:
    """The constraint a clause states: a budget when it holds an amount, a deadline when it holds a date."""
    money = parse_money(clause.text, turn.language)
    date_text = _deadline_words(clause.text, turn) if money is None else None
    due = parse_date(date_text, turn.language, turn.created_at.date()) if date_text else None
    if money is not None:
        kind = ConstraintKind.BUDGET
    elif due is not None:
        kind = ConstraintKind.DEADLINE
    elif _REGULATORY.search(fold(clause.text)):
        kind = ConstraintKind.REGULATORY
    else:
        kind = ConstraintKind.TECHNICAL
    return FoundConstraint.model_construct(
        kind=kind,
        statement=clause.text,
        amount_text=clause.text if money is not None else None,
        date_text=date_text if due is not None else None,
    )


_PART = re.compile(r"\s*(?:[:;,(]|\bdonc\b|\bso\b|\bmais\b|\bbut\b)\s*")
_DEADLINE_CUE = re.compile(
    r"\b(au plus tard|avant|date limite|echeance|mise en (service|production)|demarrage|livraison|no later than|"
    r"by|before|deadline|go-?live|launch|due)\b"
)


def _deadline_words(text: str, turn: Turn) -> str | None:
    """The words of a clause that give its deadline: the part that holds a date next to a deadline word ("…
    pour la campagne de fin d'année : donc en service fin octobre au plus tard" → "en service fin octobre au plus
    tard"), else the first part that holds a date."""
    parts = [p for p in _PART.split(text) if p and p.strip()]
    dated = [p for p in parts if parse_date(p, turn.language, turn.created_at.date()) is not None]
    if not dated:
        return None
    return next((p for p in dated if _DEADLINE_CUE.search(fold(p))), dated[0])


def _title(step: str) -> str:
    words = step.split()
    return " ".join(words[:12]).rstrip(",;:.") + ("…" if len(words) > 12 else "")


def _grounded_objective(objective: FoundObjective, clause: str) -> FoundObjective:
    """The objective with only the values its clause says (a small model fills numbers from its example)."""
    digits = re.sub(r"\D", "", clause)

    words = {w[:5] for w in _content_words(clause)}

    def said(value: str | None) -> str | None:
        if not value:
            return None
        value_digits = re.sub(r"\D", "", value)
        if value_digits:
            return value if value_digits in digits else None
        return value if {w[:5] for w in _content_words(value)} <= words else None

    return objective.model_copy(
        update={
            "metric": said(objective.metric),
            "baseline": said(objective.baseline),
            "target": said(objective.target),
            "deadline_text": said(objective.deadline_text),
        }
    )
