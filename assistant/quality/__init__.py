"""Requirement quality: rule findings with character spans, a 0–100 score, EARS-style rewrites and set-level checks.

Pure Python and offline: no language model is called, and the only model-like dependency, the sentence
embedding used for near duplicates, is passed in (`embed`) so that tests can hand in a fake. Word lists,
messages and rewrite templates live in `assistant/quality/lexicons/<lang>.yaml`; they are validated when loaded, so
a typo in a list or a rule id fails at start-up with the file name instead of silently matching nothing.

Participles (passive voice) come from the lexicon alone: regular endings (-ed; -é/-ée/-és/-ées and
-i/-ie/-is/-ies), irregular forms, and a short list of look-alike adjectives; `simplemma` is not used.
Measured on the 47 sentences of `PARTICIPLE_CHECKS` in `tests/unit/test_quality.py` (25 fr, 22 en, each read by
a person as passive or not): the first lexicon (French -é endings plus irregular forms) got 43/47; adding
simplemma's lemmas as a fallback got 45/47 (it fixed "élargi" and "accueilli" but not "recueillis", and in
English it turned plural nouns after "are" into participles, because their lemma differs too); adding the -i
endings to the lexicon got 47/47, without a 19 MB dependency and its 0.2 s load on the first French lemma.

Near duplicates: two statements are flagged when the cosine similarity of their embeddings (the project's
multilingual USE model) is at least `DUPLICATE_THRESHOLD` = 0.75. Calibrated with `bench/quality_eval.py
--duplicates` on 20 hand-made pairs (10 paraphrases, 10 merely related, half French, half English):
paraphrases scored 0.60–0.92 (mean 0.77), related pairs 0.17–0.72 (mean 0.52, the closest being "export
contacts" vs "import contacts" at 0.72); 0.75 keeps every related pair out and catches 5 of the 10 paraphrases
(the close rewordings; loose paraphrases that change the subject stay below). A wrong "duplicate" costs a
reviewer's trust more than a missed one costs, hence the high threshold.

Modules, each importing only those above it: `findings` (rule ids, severities, report models), `lexicon` (the
lexicon files and their compiled matchers), `statement` (tokens and numbers of one statement), `rewrite`
(suggested rewrites), `rules` (`check_statement`, `check`), `assess` (the quality stored with a requirement)
and `sets` (`check_set`). Accent folding is `assistant.text.fold`, re-exported here.
"""

from __future__ import annotations

from assistant.quality.assess import CHECKER_VERSION, assess, current_quality, describe, quality_basis, section_scores
from assistant.quality.findings import (
    RULE_SEVERITY,
    DuplicatePair,
    Finding,
    QualityReport,
    QuantityConflict,
    RuleCost,
    RuleId,
    SetFinding,
    SetReport,
    SetRuleId,
    Severity,
    Suggestion,
    UndefinedAcronym,
)
from assistant.quality.lexicon import (
    LEXICON_DIR,
    TERM_RULES,
    Lexicon,
    LexiconError,
    RuleText,
    SetRuleText,
    Templates,
    Terms,
    Text,
    Triggers,
    Words,
    expand_term,
    lexicon_for,
    load_lexicon,
)
from assistant.quality.rules import (
    FINDINGS_CHARGED_PER_RULE,
    MEASURE_WINDOW,
    SEVERITY_COST,
    check,
    check_statement,
)
from assistant.quality.sets import (
    DUPLICATE_THRESHOLD,
    MIN_REQUIREMENTS_FOR_MUST_SHARE,
    MUST_SHARE_LIMIT,
    QUANTITY_SUBJECT_OVERLAP,
    Embed,
    check_set,
)
from assistant.text import fold

__all__ = [
    "CHECKER_VERSION",
    "DUPLICATE_THRESHOLD",
    "FINDINGS_CHARGED_PER_RULE",
    "LEXICON_DIR",
    "MEASURE_WINDOW",
    "MIN_REQUIREMENTS_FOR_MUST_SHARE",
    "MUST_SHARE_LIMIT",
    "QUANTITY_SUBJECT_OVERLAP",
    "RULE_SEVERITY",
    "SEVERITY_COST",
    "TERM_RULES",
    "DuplicatePair",
    "Embed",
    "Finding",
    "Lexicon",
    "LexiconError",
    "QualityReport",
    "QuantityConflict",
    "RuleCost",
    "RuleId",
    "RuleText",
    "SetFinding",
    "SetReport",
    "SetRuleId",
    "SetRuleText",
    "Severity",
    "Suggestion",
    "Templates",
    "Terms",
    "Text",
    "Triggers",
    "UndefinedAcronym",
    "Words",
    "assess",
    "check",
    "check_set",
    "check_statement",
    "current_quality",
    "describe",
    "expand_term",
    "fold",
    "lexicon_for",
    "load_lexicon",
    "quality_basis",
    "section_scores",
]
