"""The message catalog (`assistant/i18n/locales/*.yaml`): both languages agree, plurals are real, no key is dead.

The files are read with `load_entries` (one file at a time), not through `catalog()`, whose own cross-check
would refuse to load first: each test here fails by itself when the files disagree.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

import pytest
import yaml

from assistant.config import ModelProvider
from assistant.draft.template import TEMPLATE_DIR, template_for
from assistant.export import FORMATS
from assistant.i18n.catalog import LOCALE_DIR, Entry, catalog, load_entries
from assistant.models.factory import ModelState
from assistant.quality import Severity
from assistant.schemas import Coverage, Language, SectionState
from assistant.ui.i18n import tn
from assistant.ui.requirements import EDITABLE
from assistant.ui.settings import _PROVIDERS
from assistant.ui.shell import PAGE_FILES

ROOT = Path(__file__).resolve().parents[2]

# Keys the code builds at run time from a prefix and a value (`f"nav.{name}"`, `f"severity.{finding.severity}"`):
# a search for string literals cannot see them, so each prefix is listed here with the values the code fills in,
# taken from the code's own enums and constants where it has them. Only these keys count as used through their
# prefix; another key under the same prefix (`export.title`) must still appear as a literal.
DYNAMIC_KEYS: dict[str, Iterable[str]] = {
    "nav.": PAGE_FILES,  # shell.navigation
    "language.": [language.value for language in Language],  # shell, projects and settings pages
    "coverage.": [state.value for state in Coverage],  # i18n.coverage_label
    "model.": get_args(ModelState),  # shell._model_status
    "provider.": (*get_args(ModelProvider), "scripted"),  # shell._model_status (tests run a scripted model)
    "settings.providers.": _PROVIDERS,  # settings._model
    "severity.": [severity.value for severity in Severity],  # requirements._quality
    "export.": [spec.name for spec in FORMATS],  # export page: one caption per format
    "req.col_": EDITABLE,  # requirements._column_config
    # draft._event_label: the events of `workflow._event`, a section state or what happened to a proposal
    "draft.event.": (*[state.value for state in SectionState], "accepted", "dismissed", "withdrawn", "restored"),
}


def _entries(language: Language) -> dict[str, Entry]:
    return load_entries(LOCALE_DIR / f"{language.value}.yaml")


def _texts(entry: Entry) -> list[str]:
    if isinstance(entry, str):
        return [entry]
    return list(entry.values()) if isinstance(entry, dict) else list(entry)


def _placeholders(entry: Entry) -> set[str]:
    return {name for text in _texts(entry) for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _kind(entry: Entry) -> str:
    return "text" if isinstance(entry, str) else "plural" if isinstance(entry, dict) else "list"


def _source() -> str:
    paths = sorted((ROOT / "assistant").rglob("*.py")) + [ROOT / "app.py"]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def test_both_languages_have_the_same_keys_kinds_and_placeholders():
    french, english = _entries(Language.FR), _entries(Language.EN)
    assert sorted(set(french) ^ set(english)) == []
    for key in french:
        assert _kind(french[key]) == _kind(english[key]), key
        assert _placeholders(french[key]) == _placeholders(english[key]), key
        assert all(text.strip() for text in _texts(french[key]) + _texts(english[key])), key


@pytest.mark.parametrize("language", list(Language), ids=str)
def test_every_plural_entry_has_one_and_other(language: Language):
    plurals = {key: entry for key, entry in _entries(language).items() if isinstance(entry, dict)}
    assert plurals, "no plural entry at all"
    for key, forms in plurals.items():
        assert {"one", "other"} <= set(forms), key


@pytest.mark.parametrize("language", list(Language), ids=str)
def test_no_fake_plural_is_left(language: Language):
    """ "message(s)", "révoqué(e)s": a text that counts something is written once per plural form instead."""
    fake = re.compile(r"\w\((e|e?s)\)")
    template = (TEMPLATE_DIR / f"draft.{language.value}.yaml").read_text(encoding="utf-8")
    texts = [text for entry in _entries(language).values() for text in _texts(entry)]
    assert [text for text in texts if fake.search(text)] == []
    assert fake.findall(str(yaml.safe_load(template))) == []


def test_every_key_is_used():
    source = _source()
    for prefix in DYNAMIC_KEYS:  # the list above stays true: the code still builds keys from each prefix
        assert re.search(rf"""f["']{re.escape(prefix)}\{{""", source), f"no f-string builds keys from `{prefix}`"
    dynamic = {prefix + value for prefix, values in DYNAMIC_KEYS.items() for value in values}
    unused = [
        key
        for key in _entries(Language.FR)
        if key not in dynamic and not re.search(rf"""["']{re.escape(key)}["']""", source)
    ]
    assert unused == [], "keys no code uses: delete them, or list their prefix in DYNAMIC_KEYS"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # French uses the singular for 0 and 1, English for 1 only.
        (Language.FR, ["0 lien révoqué.", "1 lien révoqué.", "2 liens révoqués."]),
        (Language.EN, ["0 links revoked.", "1 link revoked.", "2 links revoked."]),
    ],
    ids=str,
)
def test_plurals_render_for_zero_one_and_two(language: Language, expected: list[str]):
    assert [tn("settings.links_revoked", count, language) for count in (0, 1, 2)] == expected
    assert [catalog(language).plural("settings.links_revoked", count) for count in (0, 1, 2)] == expected


def test_plurals_fill_their_other_placeholders():
    assert tn("draft.progress", 0, Language.FR, total=12) == "0 section approuvée sur 12"
    assert tn("draft.progress", 2, Language.FR, total=12) == "2 sections approuvées sur 12"
    assert tn("draft.progress", 1, Language.EN, total=12) == "1 of 12 sections approved"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (Language.FR, ["0 partie approuvée sur 12", "1 partie approuvée sur 12", "2 parties approuvées sur 12"]),
        (Language.EN, ["0 of 12 sections approved", "1 of 12 sections approved", "2 of 12 sections approved"]),
    ],
    ids=str,
)
def test_draft_template_plurals(language: Language, expected: list[str]):
    """The draft templates are their own files, but count the same way."""
    template = template_for(language)
    status = [template.plural(template.document.status_line, n, approved=n, total=12) for n in (0, 1, 2)]
    assert status == expected
    older = [template.plural(template.document.revisions_older, n) for n in (1, 2)]
    assert ("1 révision plus ancienne" if language is Language.FR else "1 older revision,") in older[0]
    assert ("2 révisions plus anciennes" if language is Language.FR else "2 older revisions,") in older[1]
