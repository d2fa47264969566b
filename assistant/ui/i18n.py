"""Every word the app shows, in French and English; the project's language picks one.

The words live in the message catalog (`assistant/i18n/locales/fr.yaml` and `en.yaml`, see
`assistant.i18n.catalog`); this module is the pages' short way to it. Enum values (priorities, states, kinds…)
reuse the labels of the draft templates, so the app and the document always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from assistant.draft.template import template_for
from assistant.i18n.catalog import catalog
from assistant.interview.plan import default_plan
from assistant.schemas import Coverage, Language, SectionId

_COVERAGE_ICONS = {
    # Material icons rather than emoji: they render the same in every browser, fonts or not.
    Coverage.CLEAR: ":green[:material/check_circle:]",
    Coverage.PARTIAL: ":orange[:material/clock_loader_40:]",
    Coverage.MISSING: ":gray[:material/radio_button_unchecked:]",
}


def t(key: str, language: Language | str, **values: object) -> str:
    """The text of `key` in `language`, with `{placeholders}` filled from `values`.

    Raises:
        KeyError: `key` is not in the catalog (a typo must fail the AppTest run, not show a raw key).
    """
    return catalog(language).text(key, **values)


def tn(key: str, count: int, language: Language | str, **values: object) -> str:
    """The form of `key` that `language` uses for `count` ("1 lien révoqué", "2 liens révoqués"); `{count}` and
    the other `{placeholders}` are filled in."""
    return catalog(language).plural(key, count, **values)


def has(key: str, language: Language | str) -> bool:
    """Whether the catalog has `key` (for keys built from a value that may have no words, such as a provider)."""
    return key in catalog(language).entries


def choice_placeholder(options: Sequence[object], language: Language | str) -> str:
    """What an empty multiselect shows, instead of Streamlit's English "Choose options" / "No options to select"."""
    return t("widget.choose_options" if options else "widget.no_options", language)


def label(member: StrEnum, language: Language | str) -> str:
    """An enum value as the document prints it (e.g. `MoSCoW.MUST` → "Indispensable (Must)")."""
    return template_for(Language(language)).label(member)


def section_title(section: SectionId | str, language: Language | str) -> str:
    return default_plan().section(section).title.in_(language)


def coverage_icon(state: Coverage) -> str:
    return _COVERAGE_ICONS[state]


def coverage_label(state: Coverage, language: Language | str) -> str:
    return t(f"coverage.{Coverage(state).value}", language)
