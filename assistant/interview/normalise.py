"""Turn amounts and dates as stakeholders say them into `Money` and `DateValue`, deterministically.

A language model copies "80 k€ HT" or "avant la rentrée 2027" out of an answer (`FoundConstraint.amount_text`,
`date_text`); this module, not the model, decides what they mean, so that the same words always give the same
value and a hallucinated figure cannot slip in. Nothing here raises on odd text: no amount or no date is `None`.

Libraries, each for what it does well, after checking what it really handles:

- `text2num` (`alpha2digit`): French and English number words, including the French irregular ones
  ("quatre-vingt-dix mille" → 90000, "dix-huit mois" → 18 mois, "le premier trimestre" → le 1er trimestre).
  It is a small compiled library that does only this; hand-written French number words would be a long list of
  exceptions to get wrong.
- `price-parser` (`parse_number`): the digits of an amount, with its tested guesses about separators
  ("120,000" → 120000, "1,5" → 1.5, "1.234,56" → 1234.56, "95 000" → 95000). Its own amount extraction is not
  used: it knows no multipliers ("80 k€" → 80), no tax basis, and no currency words ("120,000 dollars" has no
  currency for it).
- `babel` (CLDR data): currency symbols, ISO codes and currency names in French and English ("livres sterling",
  "Swiss francs", "$CA"), mapped to ISO 4217 codes, instead of a hand-kept table.
- `dateparser`: dates written to the day ("le 15 mars 2027", "March 15th, 2027", "15/03/2027", "vendredi",
  "tomorrow"), with month abbreviations, ordinals and both languages. It reads "Q3 2026" but not "T3 2026"
  (it answers March), and knows no seasons, no "fin juin", no "d'ici 18 mois" and no "rentrée"; it is also slow
  on long text (`search_dates` takes about 3 ms per 100 characters), so it is only handed the short spans that
  the rules below find, at most `_DATEPARSER_CALLS` of them per text.

Hand-written: multipliers ("k€", "M€", "Md€", "million"), the tax basis (HT/TTC, excl./incl. VAT) and every
period (quarters, halves, seasons, rentrée, début/mi/fin, relative weeks, months and years, "d'ici N mois").

Conventions:

- Currency: the one said next to the amount (symbol, ISO code or name), else the only one named within
  `_MENTION_WINDOW` characters of it ("budget en dollars : 80k"), else `default_currency` (the project's
  currency, "EUR" unless the caller says otherwise). The language does not choose a currency: an
  English-speaking stakeholder of a French company budgets in euros.
- A bare number counts as an amount only when the text says it is money (budget, coût, price, HT…) and it is
  not a year. When the text holds several amounts, the first with a currency wins, else the first with a
  multiplier ("entre 80 et 100 k€" gives 100 000: ranges are not represented).
- French "billion" is 10^12, English "billion" 10^9. Amounts above `Money`'s 10^12 give `None`.
- Dates: a period's value is its last day when the text gives a deadline or no marker ("Q3 2026", "d'ici 2027",
  "avant juin 2027", "by June": the latest day that still satisfies it), and its first day after a start marker
  ("à partir de", "dès", "from", "starting", "as of", "pas avant", "not before"). "avant" is read as "by", not
  strictly: "avant l'été" is the end of summer. A qualifier pins the day instead: début/early/beginning → first
  day, fin/end/late → last day, mi/mid → middle (the 15th of a month, 30 June of a year, the midpoint of a
  quarter or season). Precision is the granularity named, except that "début/fin <year>" is a quarter and
  "mi-<year>" a month; halves (S1, H2) have quarter precision and weeks (Monday to Sunday) day precision.
- "la rentrée" is 1 September, month precision, whatever the marker. Seasons are astronomical (spring 20 March –
  20 June, summer 21 June – 22 September, autumn 23 September – 20 December, winter 21 December – 20 March);
  "hiver 2027" is the winter that begins in December 2027.
- A period without a year is its next occurrence that has not ended ("fin juin" said in July is next June);
  "prochain/next" asks for one that has not started. Offsets ("dans 3 semaines", "d'ici 18 mois") count from
  the reference date, with day precision for days and weeks and month precision for months and years.
- Numeric dates are day first in both languages ("03/04/2027" is 3 April): Cahier serves European projects.
- When the text holds several dates, the first one wins; if it falls outside 1990–2100 the answer is `None`.
- Only the first `MAX_INPUT_CHARS` characters are read (the longest turn `Turn` accepts), and at most
  `_MAX_NUMBERS` numbers and `_MATCHES_PER_RULE` matches per date rule, so a 1 MB input costs no more than a
  long turn (under 0.1 s).

Speed, measured on the tables of `tests/unit/test_normalise.py` (2-core development machine, after first use):
median 0.05 ms per amount and 0.07 ms per date; about 1.2 ms for the dates that go to dateparser. First use
loads the libraries: about 90 ms for amounts (CLDR currency tables, price-parser) and 200 ms for the first span
handed to dateparser (its import and French data); nothing is loaded when the module is imported.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import islice
from typing import NamedTuple

from assistant.schemas import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_TURN_CHARS,
    DatePrecision,
    DateValue,
    Language,
    Money,
    TaxBasis,
)

MAX_INPUT_CHARS = MAX_TURN_CHARS
"""Characters read from the start of a text; the rest is ignored (no turn is longer)."""

MAX_AMOUNT = Decimal("1e12")
"""The largest amount `Money` accepts."""

DEFAULT_CURRENCY = "EUR"

# -- Text preparation ----------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_APOSTROPHES = re.compile(r"[’‘`´]")


def _language(lang: Language | str) -> Language:
    try:
        return Language(str(lang).strip().lower())
    except ValueError:
        raise ValueError(f"`lang` must be one of {[item.value for item in Language]}, got {lang!r}") from None


@cache
def _fold_char(char: str) -> str:
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return decomposed if len(decomposed) == 1 else char


def _fold(text: str) -> str:
    """Strip accents one character at a time, so that positions stay where they were."""
    return text if text.isascii() else "".join(_fold_char(c) for c in text)


def _prepare(text: str) -> str:
    text = _APOSTROPHES.sub("'", text[:MAX_INPUT_CHARS])
    return _SPACES.sub(" ", text).strip()


def _words_to_digits(text: str, lang: Language, threshold: int) -> str:
    from text_to_num import alpha2digit

    try:
        return alpha2digit(text, lang.value, threshold=threshold)
    except Exception:  # a third-party parser must not turn odd text into an error; the words stay words
        return text


# -- Money ---------------------------------------------------------------------------------------------------

_CURRENCY_ALIASES = {
    "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "dollar": "USD", "dollars": "USD", "dollar us": "USD", "dollars us": "USD", "us dollar": "USD",
    "us dollars": "USD", "dollar americain": "USD", "dollars americains": "USD", "buck": "USD", "bucks": "USD",
    "pound": "GBP", "pounds": "GBP", "pound sterling": "GBP", "pounds sterling": "GBP", "sterling": "GBP",
    "livre": "GBP", "livres": "GBP",
    "yen": "JPY", "yens": "JPY", "yuan": "CNY", "yuans": "CNY", "renminbi": "CNY",
}  # fmt: skip
"""Everyday single words that CLDR does not list on their own ("dollars" alone is the US dollar here)."""

_AMBIGUOUS_ALONE = frozenset({"livre", "livres", "pound", "pounds", "buck", "bucks", "sterling"})
"""Currency words trusted only right after a number: "des livres" are books and "pounds" may weigh something."""

_EXTRA_SYMBOLS = {"US$": "USD", "$US": "USD", "€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY"}

_COMMON_CODES = frozenset({"EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN"})
"""ISO codes recognised anywhere near an amount; other codes only right next to it ("ALL" is also a word)."""

_MULTIPLIERS = {
    "k": Decimal(10) ** 3, "K": Decimal(10) ** 3,
    "M": Decimal(10) ** 6, "m": Decimal(10) ** 6, "mn": Decimal(10) ** 6, "MM": Decimal(10) ** 6,
    "Md": Decimal(10) ** 9, "Mds": Decimal(10) ** 9, "Mrd": Decimal(10) ** 9, "Mrds": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9, "B": Decimal(10) ** 9, "Bn": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
}  # fmt: skip
_NEEDS_CURRENCY = frozenset({"m", "mn", "B", "Bn", "bn"})
"""Multipliers too ambiguous alone ("80 m" may be metres): only trusted next to a currency."""

_SCALE_WORDS = re.compile(r"(?<=\d)\s*(?P<word>mille|thousand|millions?|mln|mio|milliards?|billions?)\b", re.IGNORECASE)
_SCALE_TOKENS = {"mille": "k", "thousand": "k", "million": "M", "millions": "M", "mln": "M", "mio": "M"}

_HALF = re.compile(r"\b(?P<n>\d+)\s+et\s+demie?\b", re.IGNORECASE)
_AND_A_HALF = re.compile(
    r"\b(?P<n>\d+|one|two|a)\s+and\s+a\s+half\s+(?P<scale>1000|1000000|1000000000)\b", re.IGNORECASE
)

_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<num>\d{1,3}(?:[ ']\d{3})+(?:[.,]\d+)?|\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d{1,15}(?:[.,]\d+)?)"
    r"(?!\d|\s?%|[.,]\d)"
    r"(?:\s?(?P<mult>Mds|Mrds|Mrd|Md|MM|mn|Bn|bn|[kKMmBT])(?:(?![A-Za-z])|(?=(?i:eur|usd|gbp|chf))))?"
)
_MAX_NUMBERS = 1_000
"""Numbers examined per text; a turn with more is a table, and its first thousand numbers are plenty."""
_CONNECTOR = re.compile(r"\s?(?:d'|(?:de|of|en)\s)?", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_MENTION_WINDOW = 120
"""Characters on each side of an amount searched for a currency named apart from it ("en dollars : 80k")."""

_TAX_EXCL = re.compile(
    r"\b(?:H\.?T\.?|hors[\s-]+tax(?:es?)?|hors\s+TVA|sans\s+TVA|excl(?:uding|usive\s+of|\.)?\s*(?:VAT|tax(?:es)?)"
    r"|ex\.?\s+VAT|(?:VAT|tax(?:es)?)\s+excl(?:uded|\.)?|net\s+of\s+(?:VAT|tax(?:es)?)|before\s+tax(?:es)?"
    r"|pre-?tax|without\s+VAT)(?![A-Za-z])",
    re.IGNORECASE,
)
_TAX_INCL = re.compile(
    r"\b(?:T\.?T\.?C\.?|toutes\s+taxes\s+comprises|TVA\s+(?:comprise|incluse)|incl(?:uding|usive\s+of|\.)?\s*"
    r"(?:VAT|tax(?:es)?)|(?:VAT|tax(?:es)?)\s+incl(?:uded|\.)?|with\s+VAT)(?![A-Za-z])",
    re.IGNORECASE,
)
_MONEY_CUE = re.compile(
    r"\b(?:budgets?|couts?|coute|coutera|prix|montants?|enveloppe|tarifs?|factures?|depenses?|investissements?"
    r"|HT|TTC|TVA|costs?|prices?|amounts?|spend(?:ing)?|fees?|VAT|invoices?|capex|opex)\b",
    re.IGNORECASE,
)
_YEAR_LIKE = re.compile(r"(?:19|20)\d\d|2100")


class _Currencies:
    """CLDR's currency symbols, codes and names in French and English, looked up at a given position.

    Lookups go by first character or first word instead of one regex of a thousand names, which would be tried
    at every position of a long text.
    """

    def __init__(self) -> None:
        from babel import Locale
        from babel.numbers import get_currency_name, list_currencies

        self.codes = frozenset(list_currencies())
        symbols = dict(_EXTRA_SYMBOLS)
        names = dict(_CURRENCY_ALIASES)
        for tag in ("en", "fr"):  # English first: "$" is the US dollar, not whichever dollar French lists first
            locale = Locale.parse(tag)
            for code, symbol in locale.currency_symbols.items():
                symbol = _prepare(_fold(symbol))
                # Letters-only symbols are ISO codes or single letters ("R", "K") that would match ordinary words;
                # "Cg." and "¤" are an abbreviation and a placeholder that nobody types after an amount.
                if code in self.codes and len(symbol) <= 4 and not symbol.isalpha() and not set(symbol) & {".", "¤"}:
                    symbols.setdefault(symbol, code)
            for code in self.codes:
                for count in (1, 2):
                    name = _prepare(_fold(get_currency_name(code, count=count, locale=locale))).lower()
                    # One-word names are skipped: "sucre", "won" and "rand" are ordinary words too.
                    if " " in name or "-" in name:
                        names.setdefault(name, code)
        self.symbols_by_first: dict[str, list[tuple[str, str]]] = {}
        self.symbols_by_last: dict[str, list[tuple[str, str]]] = {}
        for symbol, code in sorted(symbols.items(), key=lambda item: -len(item[0])):
            self.symbols_by_first.setdefault(symbol[0], []).append((symbol, code))
            self.symbols_by_last.setdefault(symbol[-1], []).append((symbol, code))
        self.names_by_first_word: dict[str, list[tuple[str, str]]] = {}
        for name, code in sorted(names.items(), key=lambda item: -len(item[0])):
            first_word = _WORD.match(name)
            if first_word:
                self.names_by_first_word.setdefault(first_word.group(), []).append((name, code))

    def at(self, text: str, lowered: str, pos: int, *, anywhere: bool = False) -> tuple[str, int] | None:
        """The currency written from `pos` on and where it ends; `anywhere` refuses the words that need a number."""
        if pos >= len(text):
            return None
        for symbol, code in self.symbols_by_first.get(text[pos], ()):
            if text.startswith(symbol, pos):
                return code, pos + len(symbol)
        candidate = text[pos : pos + 3]
        if (
            candidate.isascii()
            and candidate.isupper()
            and candidate in (_COMMON_CODES if anywhere else self.codes)
            and not text[pos + 3 : pos + 4].isalpha()
        ):
            return candidate, pos + 3
        word = _WORD.match(lowered, pos)
        for name, code in self.names_by_first_word.get(word.group(), ()) if word else ():
            end = pos + len(name)
            if lowered.startswith(name, pos) and not lowered[end : end + 1].isalpha():
                if anywhere and name in _AMBIGUOUS_ALONE:
                    continue
                return code, end
        return None

    def before(self, text: str, pos: int) -> str | None:
        """The symbol or code written just before `pos` ("$120k", "USD 250,000"), if any."""
        end = pos - 1 if pos > 0 and text[pos - 1] == " " else pos
        if end <= 0:
            return None
        for symbol, code in self.symbols_by_last.get(text[end - 1], ()):
            if end >= len(symbol) and text.startswith(symbol, end - len(symbol)):
                return code
        candidate = text[max(0, end - 3) : end]
        if len(candidate) == 3 and candidate.isascii() and candidate.isupper() and candidate in self.codes:
            return None if text[end - 4 : end - 3].isalpha() else candidate
        return None

    def near(self, text: str, lowered: str, start: int, end: int) -> str | None:
        """The one currency named around an amount that carries none, or `None` if none or several are."""
        low, high = max(0, start - _MENTION_WINDOW), min(len(text), end + _MENTION_WINDOW)
        found = set()
        for pos in range(low, high):
            char = text[pos]
            word_start = char.isalpha() and (pos == 0 or not text[pos - 1].isalnum())
            if (word_start or char in self.symbols_by_first) and (hit := self.at(text, lowered, pos, anywhere=True)):
                found.add(hit[0])
        return found.pop() if len(found) == 1 else None


@cache
def _currencies() -> _Currencies:
    """Built once, on first use (about 0.1 s: CLDR names of 300 currencies in two languages)."""
    return _Currencies()


class _AmountMatch(NamedTuple):
    start: int
    end: int
    digits: str
    multiplier: str | None
    currency: str | None

    @property
    def bare(self) -> bool:
        """A number with neither currency nor multiplier: an amount only if the text speaks of money."""
        return self.currency is None and self.multiplier is None

    def amount(self, lang: Language) -> Decimal | None:
        # Parsed only for the candidates considered: a long text may hold thousands of numbers.
        number = _number(self.digits, lang, self.multiplier is not None)
        return None if number is None else number * _MULTIPLIERS.get(self.multiplier or "", Decimal(1))


def _canonical_scales(text: str, lang: Language) -> str:
    """Write "2,5 millions" as "2,5 M" before `alpha2digit` turns "millions" into "1000000"."""

    def token(match: re.Match[str]) -> str:
        word = match.group("word").lower()
        if word.startswith("milliard"):
            return " Md"
        if word.startswith("billion"):
            return " T" if lang is Language.FR else " Md"
        return " " + _SCALE_TOKENS[word]

    return _SCALE_WORDS.sub(token, text)


def _add_halves(text: str) -> str:
    """ "2000000 et demi" → 2500000; "2 and a half 1000000" → 2500000 (what `alpha2digit` leaves of them)."""

    def french(match: re.Match[str]) -> str:
        number = int(match.group("n"))
        for unit in (10**9, 10**6, 10**3):
            if number >= unit and number % unit == 0:
                return str(number + unit // 2)
        return match.group(0)

    def english(match: re.Match[str]) -> str:
        count = {"a": 1, "one": 1, "two": 2}.get(match.group("n").lower()) or int(match.group("n"))
        return str(count * int(match.group("scale")) + int(match.group("scale")) // 2)

    return _AND_A_HALF.sub(english, _HALF.sub(french, text))


def _number(raw: str, lang: Language, multiplied: bool) -> Decimal | None:
    from price_parser.parser import parse_number

    digits = re.sub(r"(?<=\d)['\s](?=\d)", "", raw)
    # "1,250 M€" in French is 1.25 M€: a comma before a multiplier is a decimal comma, whatever the digit count.
    separator = "," if lang is Language.FR and multiplied and re.fullmatch(r"\d+,\d+", digits) else None
    try:
        return parse_number(digits, decimal_separator=separator)
    except (InvalidOperation, ValueError, ArithmeticError):
        return None


def _lower_in_place(text: str) -> str:
    """Lower-case without moving any character ("İ".lower() is two characters), so positions stay valid."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _amount_matches(text: str, currencies: _Currencies) -> list[_AmountMatch]:
    lowered = _lower_in_place(text)
    found = []
    for match in islice(_AMOUNT.finditer(text), _MAX_NUMBERS):
        end = match.end()
        connector = _CONNECTOR.match(text, end)  # every part is optional: it always matches, maybe empty
        after = currencies.at(text, lowered, connector.end() if connector else end)
        currency: str | None
        if after is not None:
            currency, end = after
        else:
            currency = currencies.before(text, match.start())
        multiplier = match.group("mult")
        if multiplier in _NEEDS_CURRENCY and currency is None:
            multiplier, end = None, match.end("num")
        found.append(_AmountMatch(match.start(), end, match.group("num"), multiplier, currency))
    return found


def _choose_amount(text: str, matches: list[_AmountMatch], lang: Language) -> tuple[_AmountMatch, Decimal] | None:
    """The amount the text states: the first with a currency, else the first with a multiplier, else (when the
    text speaks of money) the first bare number that is not a year."""
    stated = sorted((m for m in matches if not m.bare), key=lambda m: (m.currency is None, m.multiplier is None))
    bare = [m for m in matches if m.bare] if not stated and _MONEY_CUE.search(text) else []
    for match in stated or bare:
        if match.bare and _YEAR_LIKE.fullmatch(match.digits):
            continue
        if (amount := match.amount(lang)) is not None:
            return match, amount
    return None


def _tax_basis(text: str, start: int, end: int) -> TaxBasis:
    best: tuple[int, TaxBasis] | None = None
    for pattern, basis in ((_TAX_EXCL, TaxBasis.EXCL_TAX), (_TAX_INCL, TaxBasis.INCL_TAX)):
        for match in pattern.finditer(text):
            # A marker after the amount ("80 k€ HT") is the usual place; one before it ("HT : 80 k€") counts less.
            distance = match.start() - end if match.start() >= end else 2 * (start - match.end()) + 1
            if best is None or distance < best[0]:
                best = (distance, basis)
    return best[1] if best else TaxBasis.UNSPECIFIED


def _tidy(amount: Decimal) -> Decimal:
    rounded = amount.quantize(Decimal("0.01"))
    return Decimal(int(rounded)) if rounded == rounded.to_integral_value() else rounded


def parse_money(text: str, lang: Language | str, default_currency: str = DEFAULT_CURRENCY) -> Money | None:
    """Read the amount a stakeholder stated, with its currency and whether it includes VAT.

    Args:
        text: The amount as said ("80 k€ HT", "quatre-vingt-dix mille euros", "$120k") or a sentence holding it.
        lang: The language of the text, which decides how number words are read.
        default_currency: The ISO code used when the text names no currency (the project's currency).

    Returns:
        The amount, or `None` when the text states none (or one above 10^12).

    Raises:
        ValueError: `lang` is not a supported language or `default_currency` is not an ISO 4217 code; the text
            itself never causes an error.
    """
    language = _language(lang)
    currencies = _currencies()
    default = str(default_currency).strip().upper()
    if default not in currencies.codes:
        raise ValueError(f"`default_currency` must be an ISO 4217 code such as 'EUR', got {default_currency!r}")
    if not isinstance(text, str):
        return None
    prepared = _prepare(text)
    if not prepared:
        return None
    prepared = _fold(_add_halves(_words_to_digits(_canonical_scales(prepared, language), language, threshold=3)))

    found = _choose_amount(prepared, _amount_matches(prepared, currencies), language)
    if found is None or found[1] > MAX_AMOUNT:
        return None
    chosen, amount = found
    currency = (
        chosen.currency or currencies.near(prepared, _lower_in_place(prepared), chosen.start, chosen.end) or default
    )
    return Money(
        amount=_tidy(amount),
        currency=currency,
        tax_basis=_tax_basis(prepared, chosen.start, chosen.end),
    )


# -- Dates ---------------------------------------------------------------------------------------------------

_MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_MONTH_ABBREVIATIONS = {
    "jan": 1, "janv": 1, "feb": 2, "fev": 2, "fevr": 2, "mar": 3, "apr": 4, "avr": 4, "jun": 6, "jul": 7,
    "juil": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_VERB_LIKE_MONTHS = frozenset({"may", "march"})
"""English months that are also verbs: trusted only with a preposition, a qualifier, a day or a year."""

_ORDINALS = {"first": 1, "premier": 1, "second": 2, "deuxieme": 2, "third": 3, "troisieme": 3, "fourth": 4,
             "quatrieme": 4}  # fmt: skip
_SEASONS = {"printemps": "spring", "ete": "summer", "automne": "autumn", "hiver": "winter", "spring": "spring",
            "summer": "summer", "autumn": "autumn", "fall": "autumn", "winter": "winter"}  # fmt: skip
_SEASON_BOUNDS = {"spring": ((3, 20), (6, 20)), "summer": ((6, 21), (9, 22)), "autumn": ((9, 23), (12, 20)),
                  "winter": ((12, 21), (3, 20))}  # fmt: skip

_FULL_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ANY_MONTH = "|".join(sorted([*_MONTHS, *_MONTH_ABBREVIATIONS], key=len, reverse=True))
_WEEKDAY = (
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)

_QUALIFIER = (
    r"(?:\b(?:(?P<q_start>debut|beginning|start|early)|(?P<q_end>fin|end|late)|(?P<q_mid>mi|mid|middle|milieu))"
    r"(?:\s*-\s*|\s+)(?:of\s+(?:the\s+)?|de\s+l'|de\s+la\s+|du\s+|de\s+|d')?)"
)
_YEAR_SPEC = (
    r"(?:\s*[,/-]?\s*(?:de\s+|of\s+|d'|du\s+|in\s+)?(?:(?P<year>(?:19|20|21)\d\d)(?!\d|[.,]\d)"
    r"|(?P<next_year>next\s+year|(?:l')?annee\s+(?:prochaine|suivante)|(?:l')?an\s+prochain|the\s+following\s+year)"
    r"|(?P<this_year>this\s+year|cette\s+annee|(?:l')?annee\s+en\s+cours)))"
)
_NEXT = r"(?:\s+(?P<next>prochaine?|suivante?|next(?!\s+year)|a\s+venir))"
_START_MARKER = re.compile(
    r"\b(?:a\s+partir|a\s+compter|des|from|starting|as\s+of|commencing|pas\s+avant|not\s+before|no\s+earlier\s+than"
    r"|au\s+plus\s+tot)(?:\s*(?:\b(?:de|du|des|le|la|les|in|on|the|en|of|au|a)\b|[dl]'))*\s*$"
)
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:in|by|before|until|till|from|since|of|during|around|this|next|en|avant|courant|mois\s+de)\s+$"
)
_NEXT_BEFORE = re.compile(r"\b(?:next|coming)\s+$")

_DAY_SUFFIX = r"(?:er|st|nd|rd|th|eme|e)?"
_YEAR_TAIL = r"(?:,?\s+\d{4}(?!\d))?"


class _Reading(NamedTuple):
    """What a rule read: the day and how precise the words were (checked against 1990–2100 afterwards)."""

    value: date
    precision: DatePrecision


class _Period(NamedTuple):
    start: date
    end: date
    precision: DatePrecision


@dataclass(frozen=True)
class _Context:
    reference: date
    languages: tuple[str, str]
    before: str
    """Up to 40 characters of text before the match, where "à partir de", "in" or "next" stand."""

    @property
    def start_marker(self) -> bool:
        return bool(_START_MARKER.search(self.before))

    @property
    def preceded_by_preposition(self) -> bool:
        return bool(_PREPOSITION_BEFORE.search(self.before))


def _month_period(year: int, month: int) -> _Period:
    return _Period(date(year, month, 1), date(year, month, monthrange(year, month)[1]), DatePrecision.MONTH)


def _quarter_period(year: int, quarter: int) -> _Period:
    first, last = _month_period(year, 3 * quarter - 2), _month_period(year, 3 * quarter)
    return _Period(first.start, last.end, DatePrecision.QUARTER)


def _half_period(year: int, half: int) -> _Period:
    first, last = _month_period(year, 6 * half - 5), _month_period(year, 6 * half)
    return _Period(first.start, last.end, DatePrecision.QUARTER)


def _season_period(year: int, season: str) -> _Period:
    (start_month, start_day), (end_month, end_day) = _SEASON_BOUNDS[season]
    end_year = year + 1 if end_month < start_month else year
    return _Period(date(year, start_month, start_day), date(end_year, end_month, end_day), DatePrecision.QUARTER)


def _year_period(year: int) -> _Period:
    return _Period(date(year, 1, 1), date(year, 12, 31), DatePrecision.YEAR)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _explicit_year(match: re.Match[str], reference: date) -> int | None:
    """The year a match names, or `None` when it names none (the period then takes its next occurrence)."""
    groups = match.groupdict()
    if groups.get("year"):
        return int(groups["year"])
    if groups.get("next_year"):
        return reference.year + 1
    if groups.get("this_year"):
        return reference.year
    return None


def _occurrence(
    build: Callable[[int], _Period], match: re.Match[str], reference: date, *, strictly_next: bool = False
) -> _Period | None:
    year = _explicit_year(match, reference)
    if year is not None:
        return build(year)
    strictly_next = strictly_next or bool(match.groupdict().get("next"))
    for candidate in range(reference.year - 1, reference.year + 3):
        period = build(candidate)
        if (period.start > reference) if strictly_next else (period.end >= reference):
            return period
    return None


def _settle(
    period: _Period | None, match: re.Match[str], context: _Context, *, is_year: bool = False
) -> _Reading | None:
    """Choose the day of a period that the words ask for (see the module docstring)."""
    if period is None:
        return None
    groups = match.groupdict()
    precision = period.precision
    if groups.get("q_start"):
        value = period.start
        precision = DatePrecision.QUARTER if is_year else precision
    elif groups.get("q_end"):
        value = period.end
        precision = DatePrecision.QUARTER if is_year else precision
    elif groups.get("q_mid"):
        if is_year:
            value, precision = date(period.start.year, 6, 30), DatePrecision.MONTH
        elif precision is DatePrecision.MONTH:
            value = period.start.replace(day=15)
        else:
            value = period.start + (period.end - period.start) / 2
    else:
        value = period.start if context.start_marker else period.end
    return _Reading(value, precision)


def _resolve_quarter(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    digits = groups.get("quarter") or groups.get("quarter_n") or groups.get("quarter_d")
    quarter = int(digits) if digits else _ORDINALS[groups["quarter_w"]]
    if groups.get("year_first"):
        period = _quarter_period(int(groups["year_first"]), quarter)
        return _settle(period, match, context)
    return _settle(_occurrence(lambda y: _quarter_period(y, quarter), match, context.reference), match, context)


def _resolve_half(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    digits = groups.get("half") or groups.get("half_d")
    half = int(digits) if digits else _ORDINALS[groups["half_w"]]
    return _settle(_occurrence(lambda y: _half_period(y, half), match, context.reference), match, context)


def _resolve_season(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    anchored = any(groups.get(k) for k in ("article", "next", "year", "next_year", "this_year", "q_start", "q_end",
                                            "q_mid")) or context.preceded_by_preposition  # fmt: skip
    if not anchored:  # "a été", "prices fall": a season word alone is not a date
        return None
    season = _SEASONS[groups["season"]]
    strictly_next = (groups.get("article") or "").strip() == "next"
    period = _occurrence(lambda y: _season_period(y, season), match, context.reference, strictly_next=strictly_next)
    return _settle(period, match, context)


def _resolve_rentree(match: re.Match[str], context: _Context) -> _Reading | None:
    def build(year: int) -> _Period:
        return _Period(date(year, 9, 1), date(year, 9, 1), DatePrecision.MONTH)

    period = _occurrence(build, match, context.reference)
    return None if period is None else _Reading(period.start, DatePrecision.MONTH)


def _resolve_month_year(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    month = _MONTHS.get(groups.get("month") or "") or _MONTH_ABBREVIATIONS.get(groups.get("month") or "")
    month = month or int(groups.get("month_n") or 0)
    year = _explicit_year(match, context.reference)
    if not month or not 1 <= month <= 12 or year is None:
        return None
    return _settle(_month_period(year, month), match, context)


def _resolve_month(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    name = groups["month"]
    strictly_next = bool(groups.get("next")) or bool(_NEXT_BEFORE.search(context.before))
    anchored = any(groups.get(k) for k in ("next", "q_start", "q_end", "q_mid")) or strictly_next
    if name in _VERB_LIKE_MONTHS and not (anchored or context.preceded_by_preposition or context.start_marker):
        return None
    month = _MONTHS[name]
    period = _occurrence(lambda y: _month_period(y, month), match, context.reference, strictly_next=strictly_next)
    return _settle(period, match, context)


def _resolve_year(match: re.Match[str], context: _Context) -> _Reading | None:
    return _settle(_year_period(int(match.group("year"))), match, context, is_year=True)


def _resolve_year_words(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    qualified = any(groups.get(k) for k in ("q_start", "q_end", "q_mid"))
    following = groups.get("next") or groups.get("next_year")
    if not (qualified or following or groups.get("this_year")):
        return None
    year = context.reference.year + (1 if following else 0)
    return _settle(_year_period(year), match, context, is_year=True)


def _resolve_relative_unit(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    before = (groups.get("before") or "").strip()
    qualified = any(groups.get(k) for k in ("q_start", "q_end", "q_mid"))
    following = groups.get("next") not in (None, "en cours") or before == "next"
    if not (qualified or following or before in ("this", "ce", "cette")):  # "per month" is no date
        return None
    reference, shift = context.reference, int(following)
    if groups["unit"] in ("mois", "month"):
        first = _add_months(date(reference.year, reference.month, 1), shift)
        period = _month_period(first.year, first.month)
    elif groups["unit"] in ("trimestre", "quarter"):
        first = _add_months(date(reference.year, 3 * ((reference.month - 1) // 3) + 1, 1), 3 * shift)
        period = _quarter_period(first.year, (first.month + 2) // 3)
    else:  # a week runs Monday to Sunday
        monday = reference - timedelta(days=reference.weekday()) + timedelta(weeks=shift)
        period = _Period(monday, monday + timedelta(days=6), DatePrecision.DAY)
    return _settle(period, match, context)


_UNIT_DAYS = {"jour": 1, "day": 1, "semaine": 7, "week": 7, "quinzaine": 15, "fortnight": 14}
_UNIT_MONTHS = {"mois": 1, "month": 1, "trimestre": 3, "quarter": 3, "an": 12, "ans": 12, "annee": 12, "year": 12}


def _resolve_offset(match: re.Match[str], context: _Context) -> _Reading | None:
    groups = match.groupdict()
    if not (groups.get("within") or groups.get("later")):
        return None
    raw = groups["count"]
    count = Decimal(1) if raw in ("a", "an", "one", "un", "une") else Decimal(raw.replace(",", "."))
    if groups.get("and_half"):
        count += Decimal("0.5")
    if count > 1200:
        return None
    unit = groups["unit"].split()[0]
    unit = unit if unit in ("ans", "mois") else unit.rstrip("s")
    if unit in _UNIT_DAYS:
        value = context.reference + timedelta(days=int(count * _UNIT_DAYS[unit]))
        precision = DatePrecision.DAY
    else:
        value = _add_months(context.reference, int(count * _UNIT_MONTHS[unit]))
        precision = DatePrecision.MONTH
    return _Reading(value, precision)


def _resolve_day(match: re.Match[str], context: _Context) -> _Reading | None:
    span = match.groupdict().get("weekday_only") or match.group(0)
    parsed = _dateparser_day(span, context.reference, context.languages)
    if parsed is None:
        return None
    names_year = re.search(r"\d{4}|\d[/.-]\d{1,2}[/.-]\d", span)
    if not names_year and (parsed.month, parsed.day) == (context.reference.month, context.reference.day):
        parsed = context.reference  # dateparser's "future" skips today: "le 10 mars" said on 10 March is today
    return _Reading(parsed, DatePrecision.DAY)


def _dateparser_day(span: str, reference: date, languages: tuple[str, str]) -> date | None:
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        data = DateDataParser(languages=list(languages), settings=settings).get_date_data(span)
    except Exception:  # dateparser raises assorted errors on odd input; an unreadable span is simply no date
        return None
    if data is None or data.date_obj is None or data.period != "day":
        return None
    return data.date_obj.date()


class _Rule(NamedTuple):
    pattern: re.Pattern[str]
    resolve: Callable[[re.Match[str], _Context], _Reading | None]


def _rule(pattern: str, resolve: Callable[[re.Match[str], _Context], _Reading | None]) -> _Rule:
    return _Rule(re.compile(pattern), resolve)


@cache
def _rules() -> tuple[_Rule, ...]:
    """The date rules, compiled on first use (their month and weekday alternations take about 30 ms)."""
    return (
        _rule(
            _QUALIFIER + r"?(?:(?P<year_first>(?:19|20|21)\d\d)[\s-]?q(?P<quarter>[1-4])\b|\b[qt](?P<quarter_n>[1-4])\b"
            r"|\b(?P<quarter_d>[1-4])\s?(?:er|e|eme|nd|rd|st|th)?\s+(?:trimestre|quarter)\b"
            r"|\b(?P<quarter_w>first|second|third|fourth|premier|deuxieme|troisieme|quatrieme)\s+(?:trimestre|quarter)\b)"
            + _NEXT
            + "?"
            + _YEAR_SPEC
            + "?",
            _resolve_quarter,
        ),
        _rule(
            _QUALIFIER + r"?(?:\b[sh](?P<half>[12])\b|\b(?P<half_d>[12])\s?(?:er|e|eme|nd|st)?\s+(?:semestre|half)\b"
            r"|\b(?P<half_w>first|second|premier|deuxieme)\s+(?:semestre|half)\b)" + _NEXT + "?" + _YEAR_SPEC + "?",
            _resolve_half,
        ),
        _rule(
            _QUALIFIER
            + r"?(?P<article>\b(?:l'|le\s+|au\s+|cet\s+|ce\s+|en\s+|the\s+|this\s+|next\s+|in\s+)(?:the\s+)?)?"
            r"\b(?P<season>printemps|ete|automne|hiver|spring|summer|autumn|fall|winter)\b"
            + _NEXT
            + "?"
            + _YEAR_SPEC
            + "?",
            _resolve_season,
        ),
        _rule(r"\brentree(?:\s+scolaire|\s+de\s+septembre)?" + _NEXT + "?" + _YEAR_SPEC + "?", _resolve_rentree),
        _rule(
            r"(?:\b(?:"
            + _WEEKDAY
            + r")\s+)?(?:the\s+)?\b[0-3]?\d"
            + _DAY_SUFFIX
            + r"\s+(?:de\s+|of\s+)?(?:"
            + _ANY_MONTH
            + r")\b\.?"
            + _YEAR_TAIL,
            _resolve_day,
        ),
        _rule(
            r"\b(?:" + _ANY_MONTH + r")\b\.?\s+(?:the\s+)?[0-3]?\d(?:st|nd|rd|th)?(?!\d)\b" + _YEAR_TAIL, _resolve_day
        ),
        _rule(
            r"(?<![\d/.-])(?:(?:19|20|21)\d\d-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2}))(?![\d/-]|[.,]\d)",
            _resolve_day,
        ),
        _rule(
            r"\b(?:(?:next|this|coming|ce)\s+)?(?P<weekday_only>"
            + _WEEKDAY
            + r")\b(?:\s+(?:prochain|next\s+week|qui\s+vient))?",
            _resolve_day,
        ),
        _rule(
            r"\b(?:apres[\s-]demain|aujourd'hui|demain|today|tomorrow|(?:the\s+)?day\s+after\s+tomorrow)\b",
            _resolve_day,
        ),
        _rule(
            _QUALIFIER + r"?\b(?P<month>" + _ANY_MONTH + r")\b\.?" + _YEAR_SPEC,
            _resolve_month_year,
        ),
        _rule(
            _QUALIFIER + r"?(?<![\d/.-])(?P<month_n>0?[1-9]|1[0-2])[/.](?P<year>(?:19|20|21)\d\d)(?![\d/.-])",
            _resolve_month_year,
        ),
        _rule(
            _QUALIFIER + r"?\b(?P<month>" + _FULL_MONTH + r")\b" + _NEXT + "?",
            _resolve_month,
        ),
        _rule(
            _QUALIFIER
            + r"?(?<![\d.,/'])(?<!\d-)\b(?P<year>(?:19|20|21)\d\d)\b(?![.,]\d|\s?(?:[%€$£]|k\b|keur|eur|euros?\b|usd"
            r"|dollars?\b|ht\b|ttc\b|utilisateurs|users))",
            _resolve_year,
        ),
        _rule(
            _QUALIFIER + r"?(?:\b(?P<next_year>next\s+year|l'annee\s+(?:prochaine|suivante)|l'an\s+prochain)"
            r"|\b(?P<this_year>this\s+year|cette\s+annee|l'annee\s+en\s+cours)"
            r"|(?:\b(?:l'|the\s+))?\b(?:annee|year|an)\b" + _NEXT + "?)",
            _resolve_year_words,
        ),
        _rule(
            _QUALIFIER
            + r"?(?:\b(?P<before>next|this|ce|cette|le|la|du|de\s+la)\s+)?\b(?P<unit>mois|month|trimestre|quarter"
            r"|semaine|week)(?:-ci)?\b(?:\s+(?P<next>prochaine?|suivante?|next|a\s+venir|en\s+cours))?",
            _resolve_relative_unit,
        ),
        _rule(
            r"(?:\b(?P<within>dans|d'ici(?:\s+a)?|sous|en|in|within|over\s+the\s+next|au\s+cours\s+des|d'ici\s+les)\s+"
            r"(?:les\s+|the\s+(?:next\s+)?|next\s+|(?:un\s+)?delai\s+de\s+)?)?\b(?P<count>\d{1,4}(?:[.,]5)?|an?|one|une?)"
            r"\s+(?P<unit>jours?|days?|semaines?|weeks?|quinzaines?(?:\s+de\s+jours)?|fortnights?|mois|months?"
            r"|trimestres?|quarters?|ans|an|annees?|years?)\b(?P<and_half>\s+et\s+demie?|\s+and\s+a\s+half)?"
            r"(?P<later>\s+(?:from\s+now|from\s+today|later|plus\s+tard|a\s+partir\s+d'aujourd'hui))?",
            _resolve_offset,
        ),
    )


_MATCHES_PER_RULE = 20
_DATEPARSER_CALLS = 5
"""At most this many spans go to dateparser per text (about 2 ms each), whatever the text holds."""


def parse_date(text: str, lang: Language | str, reference: date) -> DateValue | None:
    """Read the date a stakeholder stated, as precise as they were, relative to the day they said it.

    Args:
        text: The date as said ("avant la rentrée 2027", "end of Q2 next year", "d'ici 18 mois") or a
            sentence holding it.
        lang: The language of the text, which decides how number words are read.
        reference: The day the words were said (the turn's date): "janvier prochain" and "dans 3 semaines"
            count from it.

    Returns:
        The first date of the text, or `None` when it holds none or the date falls outside 1990–2100.

    Raises:
        ValueError: `lang` is not a supported language; the text itself never causes an error.
    """
    language = _language(lang)
    if not isinstance(text, str):
        return None
    if isinstance(reference, datetime):
        reference = reference.date()
    prepared = _prepare(text)
    if not prepared:
        return None
    folded = _fold(_words_to_digits(prepared, language, threshold=0)).lower()

    candidates: list[tuple[int, int, int, re.Match[str]]] = []
    rules = _rules()
    for index, rule in enumerate(rules):
        for count, match in enumerate(rule.pattern.finditer(folded)):
            if count == _MATCHES_PER_RULE:
                break
            candidates.append((match.start(), match.start() - match.end(), index, match))
    candidates.sort(key=lambda candidate: candidate[:3])

    other = Language.EN if language is Language.FR else Language.FR
    dateparser_calls = 0
    for start, _, index, match in candidates:
        rule = rules[index]
        if rule.resolve is _resolve_day:
            dateparser_calls += 1
            if dateparser_calls > _DATEPARSER_CALLS:
                continue
        context = _Context(reference, (language.value, other.value), folded[max(0, start - 40) : start])
        if (reading := rule.resolve(match, context)) is not None:
            # The text's first date decides: one outside 1990–2100 is not replaced by a later, vaguer one.
            in_range = EARLIEST_DATE <= reading.value <= LATEST_DATE
            return DateValue(value=reading.value, precision=reading.precision) if in_range else None
    return None
