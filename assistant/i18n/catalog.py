"""The message catalog: every sentence Cahier shows or says, one YAML file per language, with real plurals.

`assistant/i18n/locales/fr.yaml` and `en.yaml` map dotted keys to a text, a list of texts (suggested answers)
or plural forms (`one`, `other`, … as CLDR names them; babel picks the form for a count). Both files must
have the same keys and the same `{placeholders}`; the catalog refuses to load otherwise, and a test checks
that every key is used somewhere.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import RootModel, ValidationError

from assistant.errors import CahierError
from assistant.resources import package_path
from assistant.schemas import Language

LOCALE_DIR = package_path("assistant.i18n", "locales")

PluralCategory = Literal["zero", "one", "two", "few", "many", "other"]
Entry = str | list[str] | dict[PluralCategory, str]


class CatalogError(CahierError):
    """A locale file is missing, malformed, or disagrees with the other language."""


class _Entries(RootModel[dict[str, Entry]]):
    pass


def _flatten(raw: object, prefix: str = "") -> dict[str, object]:
    """Nested mappings become dotted keys; a mapping whose keys are all plural categories is one entry."""
    if not isinstance(raw, dict):
        return {prefix: raw}
    if raw and prefix and set(raw) <= {"zero", "one", "two", "few", "many", "other"}:
        return {prefix: raw}
    flat: dict[str, object] = {}
    for key, value in raw.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def placeholders(entry: Entry) -> frozenset[str]:
    """The `{names}` an entry expects (for plurals, those of every form)."""
    texts = [entry] if isinstance(entry, str) else list(entry) if isinstance(entry, list) else list(entry.values())
    return frozenset(name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name)


def load_entries(path: Path) -> dict[str, Entry]:
    """Read one locale file into {dotted key: entry}.

    Raises:
        CatalogError: the file cannot be read, or an entry is neither a text, a list nor plural forms.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = _Entries.model_validate(_flatten(raw)).root
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read locale file {str(path)!r}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogError(f"locale file {str(path)!r}, `{first['loc'][0]}`: {first['msg']}") from exc
    for key, entry in entries.items():
        if isinstance(entry, dict) and "other" not in entry:
            raise CatalogError(f"locale file {str(path)!r}, `{key}`: plural forms need at least `other`")
    return entries


class Catalog:
    """The messages of one language."""

    def __init__(self, language: Language, entries: dict[str, Entry]) -> None:
        self.language = language
        self.entries = entries

    def _entry(self, key: str) -> Entry:
        try:
            return self.entries[key]
        except KeyError:  # a typo must fail the tests, never show a raw key to a stakeholder
            raise KeyError(f"no message `{key}` in the {self.language.value} catalog") from None

    def text(self, key: str, **values: object) -> str:
        """The text of `key`, with its `{placeholders}` filled from `values`."""
        entry = self._entry(key)
        if not isinstance(entry, str):
            raise TypeError(f"message `{key}` is not a plain text; use `options()` or `plural()`")
        return entry.format(**values) if values else entry

    def options(self, key: str) -> list[str]:
        """A list entry (suggested answers, table columns)."""
        entry = self._entry(key)
        if not isinstance(entry, list):
            raise TypeError(f"message `{key}` is not a list")
        return list(entry)

    def plural(self, key: str, count: int, **values: object) -> str:
        """The form of `key` that the language uses for `count` ("1 lien révoqué", "3 liens révoqués")."""
        from babel import Locale

        entry = self._entry(key)
        if not isinstance(entry, dict):
            raise TypeError(f"message `{key}` has no plural forms")
        category = Locale.parse(self.language.value).plural_form(abs(count))
        form = next((text for name, text in entry.items() if name == category), entry["other"])
        return form.format(count=count, **values)


@cache
def _catalogs() -> dict[Language, Catalog]:
    loaded = {language: load_entries(LOCALE_DIR / f"{language.value}.yaml") for language in Language}
    reference, *others = loaded.values()
    for language, entries in loaded.items():
        if set(entries) != set(reference):
            missing = sorted(set(reference) ^ set(entries))[:5]
            raise CatalogError(f"the {language.value} catalog and the others differ on {missing}")
        for key, entry in entries.items():
            if placeholders(entry) != placeholders(reference[key]):
                raise CatalogError(f"`{key}` has other placeholders in the {language.value} catalog")
    return {language: Catalog(language, entries) for language, entries in loaded.items()}


def catalog(language: Language | str) -> Catalog:
    """The catalog of `language` (loaded and cross-checked once per process)."""
    return _catalogs()[Language(language)]
