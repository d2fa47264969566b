"""The per-requirement rules: hits in one statement, their findings, and the score they add up to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.quality.findings import RULE_SEVERITY, Finding, QualityReport, RuleCost, RuleId, Severity
from assistant.quality.lexicon import Lexicon, _language, _Matchers, _matchers, lexicon_for
from assistant.quality.rewrite import _suggest
from assistant.quality.statement import _Number, _numbers, _Statement
from assistant.schemas import Language, NfrCategory, Requirement, RequirementKind
from assistant.text import fold

SEVERITY_COST: dict[Severity, int] = {Severity.ERROR: 20, Severity.WARNING: 8, Severity.INFO: 3}
"""Points a finding takes off the score of 100."""

FINDINGS_CHARGED_PER_RULE = 2
"""A rule costs at most this many findings' worth, so that one long list of "all" cannot sink a requirement."""


_OUTRANKED_BY: dict[RuleId, frozenset[RuleId]] = {
    RuleId.VAGUE_TERM: frozenset(
        {
            RuleId.PLACEHOLDER,
            RuleId.ESCAPE_CLAUSE,
            RuleId.OPEN_ENDED,
            RuleId.SUPERFLUOUS_INFINITIVE,
            RuleId.PURPOSE_PHRASE,
        }
    ),
    RuleId.ABSOLUTE_TERM: frozenset({RuleId.PLACEHOLDER, RuleId.ESCAPE_CLAUSE}),
    RuleId.PASSIVE_VOICE: frozenset({RuleId.PLACEHOLDER, RuleId.ESCAPE_CLAUSE, RuleId.SUPERFLUOUS_INFINITIVE}),
}
"""A finding lying inside one of these rules' spans says the same thing twice ("possible" in "if possible")."""


@dataclass(frozen=True)
class _Hit:
    rule: RuleId
    start: int
    end: int
    severity: Severity | None = None


def _term_hits(statement: _Statement, matchers: _Matchers, numbers: Sequence[_Number] = ()) -> list[_Hit]:
    hits: list[_Hit] = []
    for rule, pattern in matchers.terms.items():
        exceptions = matchers.exceptions.get(rule)
        excluded = [m.span() for m in exceptions.finditer(statement.folded)] if exceptions else []
        for match in pattern.finditer(statement.folded):
            if any(start <= match.start() and match.end() <= end for start, end in excluded):
                continue
            if rule in _NAME_SENSITIVE and _in_proper_name(statement, match.start(), match.end()):
                continue
            if rule is RuleId.NEGATIVE_STATEMENT and _in_condition(statement, match.start(), matchers):
                continue
            if rule is RuleId.VAGUE_TERM and _measured(statement, match.start(), match.end(), matchers, numbers):
                continue
            hits.append(_Hit(rule, match.start(), match.end()))
    hits.extend(_Hit(RuleId.PLACEHOLDER, m.start(), m.end()) for m in _SLOT.finditer(statement.text))
    return hits


_NAME_SENSITIVE = frozenset({RuleId.VAGUE_TERM, RuleId.ABSOLUTE_TERM})


def _in_proper_name(statement: _Statement, start: int, end: int) -> bool:
    """A capitalised word inside a sentence names something ("Flexible Image Transport"), it does not judge it.

    Words in capitals throughout ("CONVIVIALE") are emphasis, not names, and stay flagged.
    """
    word = statement.text[start:end]
    before = statement.text[:start].rstrip(" \t\"'«“(")
    title_case = word[:1].isupper() and not word.isupper()
    return title_case and bool(before) and before[-1] not in ".!?:;\n-*•"


def _in_condition(statement: _Statement, start: int, matchers: _Matchers) -> bool:
    """Whether `start` lies in an "if …" clause: "if the import cannot finish, the CRM shall…" forbids nothing."""
    clause_start = max(statement.folded.rfind(mark, 0, start) for mark in (".", ";", ":", ",", "\n"))
    return any(
        token.folded in matchers.conditions
        for token in statement.tokens
        if clause_start < token.start and token.end <= start
    )


MEASURE_WINDOW = 8
"""How many words from a speed or capacity word a measured quantity may stand and still be the criterion for it."""


def _measured(statement: _Statement, start: int, end: int, matchers: _Matchers, numbers: Sequence[_Number]) -> bool:
    """Whether a speed or capacity word comes with its number: "fast, within 2 seconds" states the criterion.

    Only the words of the `performance` and `capacity` triggers qualify: a response time measures "fast", but
    it does not make "user-friendly" in the same sentence any more testable. The number must carry a unit or a
    symbol ("3 °C/second", "95 %") and stand in the same sentence, at most `MEASURE_WINDOW` words away.
    """
    word = " ".join(statement.folded[start:end].split())
    if word not in matchers.triggers["performance"] | matchers.triggers["capacity"]:
        return False
    indexes = [index for index, token in enumerate(statement.tokens) if start <= token.start < end]
    if not indexes:
        return False
    first, last = indexes[0], indexes[-1]
    for number in numbers:
        if number.is_identifier:
            continue
        symbol = statement.folded[number.end :].lstrip(" ")[:1] in ("%", "°", "€", "$", "£")
        if number.unit is None and not symbol:
            continue
        position = next(index for index, token in enumerate(statement.tokens) if token.start >= number.start)
        low, high = sorted((position, first if position < first else last))
        between = [token for token in statement.tokens[low:high] if not number.start <= token.start < number.end]
        if len(between) <= MEASURE_WINDOW and not any(token.folded in ".!?;" for token in between):
            return True
    return False


_SLOT = re.compile(r"<[^\s<>](?:[^<>\n]{0,38}[^\s<>])?>")
"""A template slot left unfilled ("<N>"), as our rewrites write them; "< 2 s and > 5 MB" compares, it is no slot."""


def _is_participle(word: str, matchers: _Matchers) -> bool:
    if word in matchers.not_participles:
        return False
    if word in matchers.participles:
        return True
    return any(word.endswith(suffix) and len(word) > len(suffix) + 2 for suffix in matchers.participle_suffixes)


def _passive_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    hits = []
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if token.folded not in matchers.be_forms:
            continue
        if index >= 2 and tokens[index - 1].folded == "'" and tokens[index - 2].folded in ("s", "se"):
            continue  # "s'est connecté" is a reflexive past tense, not a passive
        following = index + 1
        while following < len(tokens) and following - index <= 2 and _is_adverb(tokens[following].folded, matchers):
            following += 1
        if following < len(tokens) and _is_participle(statement.original(tokens[following]), matchers):
            hits.append(_Hit(RuleId.PASSIVE_VOICE, token.start, tokens[following].end))
    return hits


def _is_adverb(word: str, matchers: _Matchers) -> bool:
    return word in matchers.adverbs or any(
        word.endswith(suffix) and len(word) > len(suffix) + 3 for suffix in matchers.adverb_suffixes
    )


def _pronoun_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    hits = []
    tokens = statement.tokens
    verbish = matchers.pronoun_followers | matchers.modals | matchers.be_forms
    for index, token in enumerate(tokens):
        is_pronoun = token.folded in matchers.pronouns
        if not is_pronoun and token.folded not in matchers.demonstratives:
            continue
        previous = index - 1
        if previous >= 1 and tokens[previous].folded == "'":
            previous -= 1  # "lorsqu'il": look at the word the pronoun is elided onto
        opens_clause = previous >= 0 and (
            tokens[previous].folded in (",", ";") or tokens[previous].folded in matchers.clause_openers
        )
        following = tokens[index + 1].folded if index + 1 < len(tokens) else ""
        followed_by_verb = following in verbish
        rest = statement.folded[token.end :]
        if matchers.impersonal.match(statement.folded, token.end + len(rest) - len(rest.lstrip())):
            continue  # "il faut", "it is necessary": nothing is referred to
        at_start = statement.starts_sentence(index)
        # inside a sentence, "where they are" refers back safely; "…, it shall log" starts a requirement
        if (at_start and (is_pronoun or followed_by_verb)) or (opens_clause and following in matchers.modals):
            hits.append(_Hit(RuleId.UNCLEAR_PRONOUN, token.start, token.end))
    return hits


def _multiple_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    tokens = statement.tokens
    modal_indexes = [index for index, token in enumerate(tokens) if token.folded in matchers.modals]
    hits = [_Hit(RuleId.MULTIPLE_REQUIREMENTS, tokens[i].start, tokens[i].end) for i in modal_indexes[1:]]
    if not modal_indexes:
        return hits
    for index in range(modal_indexes[0] + 1, len(tokens) - 1):
        if tokens[index].folded not in matchers.coordinators:
            continue
        verb = index + 1
        while verb < len(tokens) - 1 and _is_adverb(tokens[verb].folded, matchers):
            verb += 1
        if tokens[verb].folded not in matchers.actions:
            continue
        after = tokens[verb + 1].folded if verb + 1 < len(tokens) else ""
        before = tokens[index - 1].folded
        takes_object = after[:1].isalnum() and after not in matchers.bare_followers
        # "import and export." is two actions; "allow import and export of files" is one feature
        if takes_object or (not after[:1].isalnum() and before in matchers.actions):
            hits.append(_Hit(RuleId.MULTIPLE_REQUIREMENTS, tokens[index].start, tokens[verb].end))
    return hits


_RANGE_JOIN = re.compile(r"\s*(?:-|to|and|or|a|à|et|ou|jusqu'a)\s*(?=\d)")


def _number_hits(statement: _Statement, matchers: _Matchers, numbers: list[_Number]) -> list[_Hit]:
    folded = statement.folded
    bare: dict[int, bool] = {}
    # right to left, so that "2 to 5 seconds" can borrow the verdict of the "5" that carries the unit
    for position in range(len(numbers) - 1, -1, -1):
        number = numbers[position]
        if number.is_identifier or number.unit is not None:
            bare[position] = False
            continue
        rest = folded[number.end :]
        if rest.lstrip(" ")[:1] in ("%", "€", "$", "£", "°", "x", "×"):
            bare[position] = False
            continue
        join = _RANGE_JOIN.match(rest)
        if join and position + 1 < len(numbers) and numbers[position + 1].start == number.end + join.end():
            bare[position] = bare[position + 1]
            continue
        next_word = re.match(r"\s*(\w+)", rest)
        bare[position] = next_word is None or next_word.group(1) in matchers.bare_followers
    return [
        _Hit(RuleId.NUMBER_WITHOUT_UNIT, number.start, number.end)
        for position, number in enumerate(numbers)
        if bare[position]
    ]


_DECIMAL_COMMA = re.compile(r"^\d+,(?:\d{1,2}|\d{4,})$")
_DECIMAL_POINT = re.compile(r"^\d+\.(?:\d{1,2}|\d{4,})$")


def _decimal_hits(numbers: list[_Number], language: Language) -> list[_Hit]:
    styles = [
        (number, "comma" if _DECIMAL_COMMA.match(number.text) else "point")
        for number in numbers
        if not number.is_identifier and (_DECIMAL_COMMA.match(number.text) or _DECIMAL_POINT.match(number.text))
    ]
    expected = "comma" if language is Language.FR else "point"
    foreign = [number for number, style in styles if style != expected]
    if not foreign:
        return []
    mixed = len(foreign) < len(styles)
    # one finding per statement: the fix is one decision about style, not one per number
    return [
        _Hit(RuleId.DECIMAL_FORMAT, foreign[0].start, foreign[0].end, None if mixed else Severity.INFO),
    ]


def _has_number(text: str, matchers: _Matchers) -> bool:
    return any(char.isdigit() for char in text) or matchers.number_words.search(fold(text)) is not None


def _drop_repeats(hits: list[_Hit]) -> list[_Hit]:
    kept = []
    for hit in hits:
        outranking = _OUTRANKED_BY.get(hit.rule, frozenset())
        if any(other.rule in outranking and other.start <= hit.start and hit.end <= other.end for other in hits):
            continue
        kept.append(hit)
    unique = {(hit.rule, hit.start, hit.end): hit for hit in kept}
    return sorted(unique.values(), key=lambda hit: (hit.start, hit.end, hit.rule.value))


def _score(findings: list[Finding]) -> tuple[int, list[RuleCost]]:
    by_rule: dict[RuleId, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    breakdown = []
    for rule, rule_findings in by_rule.items():
        raw = sum(SEVERITY_COST[finding.severity] for finding in rule_findings)
        cap = FINDINGS_CHARGED_PER_RULE * max(SEVERITY_COST[finding.severity] for finding in rule_findings)
        breakdown.append(RuleCost(rule=rule, findings=len(rule_findings), cost=min(raw, cap), capped=raw > cap))
    breakdown.sort(key=lambda cost: (-cost.cost, cost.rule.value))
    return max(0, 100 - sum(cost.cost for cost in breakdown)), breakdown


# --------------------------------------------------------------------------------------------------------------
# Public API: one requirement


def check_statement(
    statement: str,
    lang: str | Language,
    *,
    kind: RequirementKind | str = RequirementKind.FUNCTIONAL,
    category: NfrCategory | str | None = None,
    acceptance_criteria: Sequence[str] = (),
    requirement_id: str | None = None,
    lexicon: Lexicon | None = None,
) -> QualityReport:
    """Check one statement against every per-requirement rule.

    Args:
        statement: the requirement text; finding offsets point into it exactly as given.
        lang: "fr" or "en", which picks the lexicon, the messages and the expected decimal separator.
        kind: a non-functional statement must contain a number somewhere to be testable.
        category: picks the rewrite template when the statement itself has no telling word.
        acceptance_criteria: a number here makes a quality requirement measurable even if the statement has none.
        requirement_id: copied into the report so that it can be stored next to the requirement.
        lexicon: a lexicon to use instead of the shipped one (tests, experiments).

    Raises:
        InputError: for a language without a lexicon.
    """
    language = _language(lang)
    lexicon = lexicon or lexicon_for(language)
    matchers = _matchers(lexicon)
    kind = RequirementKind(kind)
    category = NfrCategory(category) if category is not None else None
    parsed = _Statement(statement)
    numbers = _numbers(parsed, matchers)
    hits = _term_hits(parsed, matchers, numbers)
    hits += _passive_hits(parsed, matchers)
    hits += _pronoun_hits(parsed, matchers)
    hits += _multiple_hits(parsed, matchers)
    hits += _number_hits(parsed, matchers, numbers)
    hits += _decimal_hits(numbers, language)
    measurable = _has_number(statement, matchers) or any(_has_number(c, matchers) for c in acceptance_criteria)
    if kind is RequirementKind.NON_FUNCTIONAL and not measurable and statement.strip():
        hits.append(_Hit(RuleId.UNMEASURABLE_QUALITY, 0, len(statement)))
    findings = []
    for hit in _drop_repeats(hits):
        text = lexicon.rules[hit.rule]
        matched = statement[hit.start : hit.end]
        findings.append(
            Finding(
                rule=hit.rule,
                severity=hit.severity or RULE_SEVERITY[hit.rule],
                start=hit.start,
                end=hit.end,
                text=matched,
                message=text.message.format(match=matched),
                hint=text.hint.format(match=matched),
            )
        )
    score, breakdown = _score(findings)
    return QualityReport(
        requirement_id=requirement_id,
        language=language,
        statement=statement,
        findings=findings,
        score=score,
        breakdown=breakdown,
        suggestion=_suggest(parsed, findings, category, lexicon, matchers),
    )


def check(requirement: Requirement, lang: str | Language, *, lexicon: Lexicon | None = None) -> QualityReport:
    """Check a stored requirement: its statement, with its kind, category and acceptance criteria as context."""
    return check_statement(
        requirement.statement,
        lang,
        kind=requirement.kind,
        category=requirement.category,
        acceptance_criteria=requirement.acceptance_criteria,
        requirement_id=requirement.id,
        lexicon=lexicon,
    )
