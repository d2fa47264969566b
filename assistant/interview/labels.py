"""What each clause of an answer is (a need, an objective, a fact about today…), decided without a model call.

Asked to label numbered clauses, the embedded 1.5B model shifted labels and filed hedges as needs, and the call
cost 10-20 s on two cores before anything else could start. Labels come instead from two cheap signals:

- nearest neighbours among labelled example clauses (`clause_examples.yaml`, written for this, both languages,
  invented companies), compared with the project's multilingual sentence embeddings: the mean cosine of the
  `NEIGHBOURS` closest examples of each label;
- cue words a person would use to tell them apart: "il faut / je voudrais / we need" for a need (twice when
  the wish names the CRM, and once more for a horizon: "dès le lot 1", "phase two"), "aujourd'hui /
  today / currently" for today's situation, an amount with a budget word or a date with a deadline word for a
  constraint. Each adds `CUE_BONUS` to its label's score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict

from assistant.errors import CahierError
from assistant.interview.clauses import Clause
from assistant.interview.cues import horizon_cue
from assistant.interview.normalise import parse_date, parse_money
from assistant.knowledge.embeddings import embed_texts
from assistant.resources import load_yaml_model, package_path
from assistant.schemas import ClauseKind, Language, SectionId
from assistant.text import fold

NEIGHBOURS = 3
CUE_BONUS = 0.08
SLOT_BONUS = 0.05
"""Added to the label the question asked for: an answer to "what is indispensable?" is mostly needs, one to
"who are your clients?" mostly facts about the company. Smaller than a cue: the stakeholder's words win."""

NEED_SLOT_BONUS = 0.15
"""The same for the need sections (needs, functional, non-functional), where stakeholders name needs as bare noun
phrases ("Le suivi des appels d'offres, de la veille jusqu'au résultat") that no cue word marks."""

NEED_MARGIN = 0.06
"""A clause whose need score comes this close to a fact label's is read as a need: the model then says whether it
asks anything (and a clause that does not is kept as a fact), while a need filed as a fact would be lost. Not
when the clause speaks of today ("Aujourd'hui les commerciaux notent tout dans Excel"): read as a request, the
small model turns today's problem into a need."""
_MAYBE_NEED = frozenset({ClauseKind.SITUATION, ClauseKind.OTHER, ClauseKind.COMPANY, ClauseKind.TEAM, ClauseKind.DATA})

NEED_SECTIONS = frozenset({SectionId.NEEDS, SectionId.FUNCTIONAL, SectionId.NON_FUNCTIONAL})

SECTION_LABELS: dict[SectionId, tuple[ClauseKind, ...]] = {
    SectionId.COMPANY: (ClauseKind.COMPANY,),
    SectionId.CONTEXT: (ClauseKind.SITUATION,),
    SectionId.OBJECTIVES: (ClauseKind.OBJECTIVE,),
    SectionId.NEEDS: (ClauseKind.NEED,),
    SectionId.USE_CASES: (ClauseKind.STEP, ClauseKind.NEED),
    SectionId.FUNCTIONAL: (ClauseKind.NEED,),
    SectionId.NON_FUNCTIONAL: (ClauseKind.NEED,),
    SectionId.DATA: (ClauseKind.DATA,),
    SectionId.DIAGNOSIS: (ClauseKind.SITUATION,),
    SectionId.BUDGET: (ClauseKind.CONSTRAINT,),
    SectionId.TIMELINE: (ClauseKind.CONSTRAINT,),
    SectionId.METHODOLOGY: (ClauseKind.TEAM,),
}

_NEED = re.compile(
    r"\b(il (nous |me )?faut|il faudrait|il (nous |me )?faudrait|je veux|je voudrais|nous voulons|on veut|"
    r"on voudrait|nous voudrions|j'aimerais|nous aimerions|on aimerait|doit pouvoir|doivent pouvoir|devra|"
    r"devront|besoin d|souhait\w*|que (le crm|l'outil|le logiciel|le systeme)|que je puisse|qu'on puisse|"
    r"que nous puissions|pouvoir \w+|we need|i need|we want|i want|i'd like|we'd like|would like|should|must|"
    r"has to|have to|needs to|need to|the (crm|system|tool|software)|be able to|i'd love|we would love|"
    r"demain|a l'avenir|dorenavant|tomorrow|in future|in the future|going forward)\b"
    r"|^(un|deux|trois|quatre|cinq|six|one|two|three|four|five|six|first|second|third|fourth)\s*[:,]"
)
_THE_TOOL = re.compile(r"\b(crm|futur outil|nouvel outil|new tool|new system)\b")
_TODAY = re.compile(
    r"\b(aujourd'hui|actuellement|en ce moment|a l'heure actuelle|pour l'instant|jusqu'ici|today|currently|"
    r"right now|at the moment|at present|nowadays|so far)\b"
)
_BUDGET = re.compile(r"\b(budget|enveloppe|couts?|coute|tarifs?|prix|licences?|abonnements?|costs?|price|spend)\b")
_DEADLINE = re.compile(
    r"\b(avant|au plus tard|d'ici|date|echeance|delai|mise en (service|production)|demarrage|go-?live|by|"
    r"deadline|before|no later than|due|launch|livr\w+|contrat|contract|lot|phase)\b"
)


@dataclass(frozen=True)
class ClauseLabel:
    kind: ClauseKind
    """What the clause is read as."""
    fact: ClauseKind | None = None
    """For a clause read as a need because its need score came within `NEED_MARGIN` of a fact label: that label,
    which it keeps if it turns out to ask nothing."""


class ExamplesError(CahierError):
    """The example clauses file is missing a label or a language."""


class ClauseExamples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fr: dict[ClauseKind, list[str]]
    en: dict[ClauseKind, list[str]]


@lru_cache(maxsize=1)
def _examples() -> tuple[list[ClauseKind], np.ndarray]:
    """(label of each example, embeddings of the examples), both languages together."""
    examples = load_yaml_model(
        package_path("assistant.interview", "clause_examples.yaml"),
        ClauseExamples,
        what="clause examples",
        error=ExamplesError,
    )
    labels: list[ClauseKind] = []
    texts: list[str] = []
    for language in (examples.fr, examples.en):
        missing = set(ClauseKind) - set(language)
        if missing:
            raise ExamplesError(f"clause examples lack the label(s) {sorted(m.value for m in missing)}")
        for label, items in language.items():
            labels.extend([label] * len(items))
            texts.extend(items)
    return labels, embed_texts(texts)


def label_clauses(
    clauses: Sequence[Clause], language: Language, today: date, section: SectionId | None = None
) -> dict[int, ClauseLabel]:
    """The label of each clause, by its number.

    Args:
        today: resolves relative dates, to tell a deadline.
        section: the section of the question answered, whose labels get `SLOT_BONUS`.
    """
    expected = SECTION_LABELS.get(section, ()) if section is not None else ()
    if not clauses:
        return {}
    labels, vectors = _examples()
    similarity = embed_texts([c.text for c in clauses]) @ vectors.T
    kinds = list(ClauseKind)
    label_index = np.array([kinds.index(label) for label in labels])
    result: dict[int, ClauseLabel] = {}
    for row, clause in zip(similarity, clauses, strict=True):
        scores = np.zeros(len(kinds))
        for k in range(len(kinds)):
            own = np.sort(row[label_index == k])[-NEIGHBOURS:]
            scores[k] = float(own.mean()) if own.size else 0.0
        for kind, bonus in _cues(clause.text, language, today).items():
            scores[kinds.index(kind)] += bonus
        for kind in expected:
            bonus = NEED_SLOT_BONUS if kind is ClauseKind.NEED and section in NEED_SECTIONS else SLOT_BONUS
            scores[kinds.index(kind)] += bonus
        best = kinds[int(scores.argmax())]
        need = scores[kinds.index(ClauseKind.NEED)]
        if best in _MAYBE_NEED and need >= scores.max() - NEED_MARGIN and not _TODAY.search(fold(clause.text)):
            result[clause.number] = ClauseLabel(ClauseKind.NEED, fact=best)
        else:
            result[clause.number] = ClauseLabel(best)
    return result


def _cues(text: str, language: Language, today: date) -> dict[ClauseKind, float]:
    folded = fold(text)
    bonus: dict[ClauseKind, float] = {}
    need = CUE_BONUS if _NEED.search(folded) else 0.0
    if need and _THE_TOOL.search(folded):
        need += CUE_BONUS  # a wish about the CRM itself ("I'd like every pitch logged in the CRM")
    if horizon_cue(text) is not None:
        need += CUE_BONUS  # "from day one", "en phase 2": only a need has a horizon
    if need:
        bonus[ClauseKind.NEED] = need
    if _TODAY.search(folded):
        bonus[ClauseKind.SITUATION] = CUE_BONUS
    if _BUDGET.search(folded) and parse_money(text, language) is not None:
        bonus[ClauseKind.CONSTRAINT] = 2 * CUE_BONUS
    elif _DEADLINE.search(folded) and parse_date(text, language, today) is not None:
        bonus[ClauseKind.CONSTRAINT] = CUE_BONUS
    return bonus
