"""Amounts and dates as stakeholders say them become the same `Money` and `DateValue` every time, in French and
English, and odd text gives `None` quickly instead of an error or an invented value."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import pytest

from assistant.interview.normalise import MAX_INPUT_CHARS, parse_date, parse_money
from assistant.schemas import DatePrecision, DateValue, Language, Money, TaxBasis

EXCL, INCL, UNSPEC = TaxBasis.EXCL_TAX, TaxBasis.INCL_TAX, TaxBasis.UNSPECIFIED
DAY, MONTH, QUARTER, YEAR = DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.QUARTER, DatePrecision.YEAR

REFERENCE = date(2026, 3, 10)
"""The day of the turn in the date cases: a Tuesday in the first quarter."""

# text, language, amount, currency, tax basis
MONEY_CASES = [
    ("80 k€ HT", "fr", "80000", "EUR", EXCL),
    ("quatre-vingt-dix mille euros", "fr", "90000", "EUR", UNSPEC),
    ("$120k", "en", "120000", "USD", UNSPEC),
    ("1,5 M€", "fr", "1500000", "EUR", UNSPEC),
    ("95 000 € TTC", "fr", "95000", "EUR", INCL),
    ("120,000 dollars", "en", "120000", "USD", UNSPEC),
    ("£40k", "en", "40000", "GBP", UNSPEC),
    ("2.5 million euros excluding VAT", "en", "2500000", "EUR", EXCL),
    ("budget de 50K", "fr", "50000", "EUR", UNSPEC),
    ("deux millions et demi d'euros", "fr", "2500000", "EUR", UNSPEC),
    ("two and a half million dollars", "en", "2500000", "USD", UNSPEC),
    ("un budget de cinquante mille euros hors taxes", "fr", "50000", "EUR", EXCL),
    ("un million d'euros TTC", "fr", "1000000", "EUR", INCL),
    ("cent vingt mille dollars US", "fr", "120000", "USD", UNSPEC),
    ("We can spend 75 thousand dollars", "en", "75000", "USD", UNSPEC),
    ("80 kEUR", "fr", "80000", "EUR", UNSPEC),
    ("USD 250,000", "en", "250000", "USD", UNSPEC),
    ("CHF 12'000 TTC", "fr", "12000", "CHF", INCL),
    ("500 000 francs suisses", "fr", "500000", "CHF", UNSPEC),
    ("nous prévoyons 200 000 livres sterling", "fr", "200000", "GBP", UNSPEC),
    ("around 40,000 pounds before tax", "en", "40000", "GBP", EXCL),
    ("¥5M", "en", "5000000", "JPY", UNSPEC),
    ("$2bn", "en", "2000000000", "USD", UNSPEC),
    ("1,2 Md€", "fr", "1200000000", "EUR", UNSPEC),
    ("1,250 M€", "fr", "1250000", "EUR", UNSPEC),  # a comma before a multiplier is a decimal comma in French
    ("1 billion euros", "en", "1000000000", "EUR", UNSPEC),
    ("1 billion d'euros", "fr", "1000000000000", "EUR", UNSPEC),  # French billion = 10^12
    ("12 500,50 €", "fr", "12500.50", "EUR", UNSPEC),
    ("1.234.567,89 €", "fr", "1234567.89", "EUR", UNSPEC),
    ("2 500 000 € toutes taxes comprises", "fr", "2500000", "EUR", INCL),
    ("€80k incl. VAT", "en", "80000", "EUR", INCL),
    ("HT : 80 000 €", "fr", "80000", "EUR", EXCL),
    ("budget 2027 : 300 000 € HT", "fr", "300000", "EUR", EXCL),  # the year is not the amount
    ("3 équipes de 5 personnes pour 150 k€", "fr", "150000", "EUR", UNSPEC),
    ("le budget est de 300 000", "fr", "300000", "EUR", UNSPEC),  # a bare number where the text speaks of money
    ("budget en dollars : 80k", "fr", "80000", "USD", UNSPEC),  # the currency named apart from the amount
    ("entre 80 et 100 k€ HT", "fr", "100000", "EUR", EXCL),  # ranges: the bound that carries the currency
]

NO_AMOUNT = [
    "",
    "   ",
    "n'importe quoi",
    "3 équipes et 12 commerciaux",
    "80 %",
    "livraison en 2027",
    "80 m de câble",
    "1e50",
    "2 000 000 000 000 €",  # above the 10^12 that `Money` accepts
    "9" * 40 + " €",
    "€€€ $$$ k M",
]

# text, language, expected day, precision, reference (the day the words were said)
DATE_CASES = [
    ("avant la rentrée 2027", "fr", date(2027, 9, 1), MONTH, REFERENCE),
    ("end of Q2 next year", "en", date(2027, 6, 30), QUARTER, REFERENCE),
    ("d'ici 18 mois", "fr", date(2027, 9, 10), MONTH, REFERENCE),
    ("fin juin", "fr", date(2026, 6, 30), MONTH, REFERENCE),
    ("fin juin", "fr", date(2027, 6, 30), MONTH, date(2026, 7, 15)),  # the next June that has not ended
    ("Q3 2026", "en", date(2026, 9, 30), QUARTER, REFERENCE),
    ("T3 2026", "fr", date(2026, 9, 30), QUARTER, REFERENCE),
    ("from Q3 2026", "en", date(2026, 7, 1), QUARTER, REFERENCE),  # a start marker takes the first day
    ("Q1", "en", date(2027, 3, 31), QUARTER, date(2026, 5, 1)),
    ("deuxième trimestre 2027", "fr", date(2027, 6, 30), QUARTER, REFERENCE),
    ("printemps 2027", "fr", date(2027, 6, 20), QUARTER, REFERENCE),
    ("summer 2027", "en", date(2027, 9, 22), QUARTER, REFERENCE),
    ("hiver 2027", "fr", date(2028, 3, 20), QUARTER, REFERENCE),  # the winter that begins in December 2027
    ("janvier prochain", "fr", date(2027, 1, 31), MONTH, REFERENCE),
    ("janvier prochain", "fr", date(2027, 1, 31), MONTH, date(2026, 1, 15)),  # "prochain": not this January
    ("in two weeks", "en", date(2026, 3, 24), DAY, REFERENCE),
    ("dans une quinzaine de jours", "fr", date(2026, 3, 25), DAY, REFERENCE),
    ("3 months from now", "en", date(2026, 6, 10), MONTH, REFERENCE),
    ("within a year", "en", date(2027, 3, 10), MONTH, REFERENCE),
    ("dans un an et demi", "fr", date(2027, 9, 10), MONTH, REFERENCE),
    ("2027", "fr", date(2027, 12, 31), YEAR, REFERENCE),
    ("à partir de 2027", "fr", date(2027, 1, 1), YEAR, REFERENCE),
    ("d'ici deux mille trente", "fr", date(2030, 12, 31), YEAR, REFERENCE),
    ("next year", "en", date(2027, 12, 31), YEAR, REFERENCE),
    ("le 15 mars 2027", "fr", date(2027, 3, 15), DAY, REFERENCE),
    ("avant le 1er avril 2027", "fr", date(2027, 4, 1), DAY, REFERENCE),
    ("au plus tard le 30 septembre", "fr", date(2026, 9, 30), DAY, REFERENCE),
    ("le 10 mars", "fr", date(2026, 3, 10), DAY, REFERENCE),  # said on 10 March: today, not next year
    ("March 15th, 2027", "en", date(2027, 3, 15), DAY, REFERENCE),
    ("15/03/2027", "fr", date(2027, 3, 15), DAY, REFERENCE),
    ("03/04/2027", "en", date(2027, 4, 3), DAY, REFERENCE),  # day first in both languages
    ("vendredi prochain", "fr", date(2026, 3, 13), DAY, REFERENCE),
    ("next Friday", "en", date(2026, 3, 13), DAY, REFERENCE),
    ("demain", "fr", date(2026, 3, 11), DAY, REFERENCE),
    ("mi-2026", "fr", date(2026, 6, 30), MONTH, REFERENCE),
    ("mid-June", "en", date(2026, 6, 15), MONTH, REFERENCE),
    ("début 2027", "fr", date(2027, 1, 1), QUARTER, REFERENCE),
    ("d'ici fin 2027", "fr", date(2027, 12, 31), QUARTER, REFERENCE),
    ("late 2027", "en", date(2027, 12, 31), QUARTER, REFERENCE),
    ("à partir de janvier 2027", "fr", date(2027, 1, 1), MONTH, REFERENCE),
    ("pas avant septembre 2027", "fr", date(2027, 9, 1), MONTH, REFERENCE),
    ("06/2027", "fr", date(2027, 6, 30), MONTH, REFERENCE),
    ("in May", "en", date(2026, 5, 31), MONTH, REFERENCE),
    ("le mois prochain", "fr", date(2026, 4, 30), MONTH, REFERENCE),
    ("by next month", "en", date(2026, 4, 30), MONTH, REFERENCE),
    ("d'ici la fin de l'année", "fr", date(2026, 12, 31), QUARTER, REFERENCE),
    ("We need it live by the end of the year", "en", date(2026, 12, 31), QUARTER, REFERENCE),
    ("au premier semestre 2027", "fr", date(2027, 6, 30), QUARTER, REFERENCE),
    ("first half of 2027", "en", date(2027, 6, 30), QUARTER, REFERENCE),
    ("la mise en production est prévue pour le T2 2027, avec un pilote avant", "fr", date(2027, 6, 30), QUARTER,
     REFERENCE),
]  # fmt: skip

NO_DATE = [
    "",
    "blah",
    "80 k€ HT",
    "le projet a été lancé",  # "été" is a participle here, not the summer
    "we may need more users",  # "may" is a verb here
    "two licences per month",
    "dans quelques mois",  # too vague to be a date
    "2000 utilisateurs",
    "2150",  # outside 1990–2100
    "le 15 mars 1850",  # outside 1990–2100, and not replaced by the bare "mars" it contains
    "1985",
]


def _money_id(case: tuple) -> str:
    return f"{case[1]}:{case[0]}"


@pytest.mark.parametrize(("text", "lang", "amount", "currency", "basis"), MONEY_CASES, ids=map(_money_id, MONEY_CASES))
def test_parse_money_reads_amount_currency_and_tax_basis(
    text: str, lang: str, amount: str, currency: str, basis: TaxBasis
) -> None:
    """Each way of saying an amount gives the stated value, the currency named (or the default) and HT/TTC."""
    assert parse_money(text, lang) == Money(amount=Decimal(amount), currency=currency, tax_basis=basis)


@pytest.mark.parametrize("text", NO_AMOUNT)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_parse_money_returns_none_without_an_amount(text: str, lang: str) -> None:
    """Text that states no amount (or one `Money` cannot hold) gives `None`, never a guess or an error."""
    assert parse_money(text, lang) is None


def test_parse_money_uses_the_default_currency_only_when_none_is_named() -> None:
    """The project's currency fills in only when the text names none; the language never picks a currency."""
    assert parse_money("budget de 50K", "fr").currency == "EUR"
    assert parse_money("a 50k budget", Language.EN).currency == "EUR"
    assert parse_money("budget de 50K", "fr", default_currency="usd").currency == "USD"
    assert parse_money("80 k€", "en", default_currency="USD").currency == "EUR"


def test_parse_money_refuses_a_bad_language_or_default_currency() -> None:
    """Caller mistakes are errors that name the argument; they are not mistaken for text without an amount."""
    with pytest.raises(ValueError, match="`lang`"):
        parse_money("80 k€", "de")
    with pytest.raises(ValueError, match="`default_currency`"):
        parse_money("80 k€", "fr", default_currency="euros")


def _date_id(case: tuple) -> str:
    return f"{case[1]}:{case[0][:40]}@{case[4].isoformat()}"


@pytest.mark.parametrize(
    ("text", "lang", "expected", "precision", "reference"), DATE_CASES, ids=map(_date_id, DATE_CASES)
)
def test_parse_date_reads_day_and_precision(
    text: str, lang: str, expected: date, precision: DatePrecision, reference: date
) -> None:
    """Each way of saying a date gives the day of the documented convention, as precise as the words were."""
    assert parse_date(text, lang, reference) == DateValue(value=expected, precision=precision)


@pytest.mark.parametrize("text", NO_DATE)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_parse_date_returns_none_without_a_date(text: str, lang: str) -> None:
    """Text that states no date, or one outside 1990–2100, gives `None`."""
    assert parse_date(text, lang, REFERENCE) is None


def test_parse_date_refuses_a_bad_language() -> None:
    """An unsupported language is a caller's error naming `lang`, not a text without a date."""
    with pytest.raises(ValueError, match="`lang`"):
        parse_date("2027", "es", REFERENCE)


def test_garbage_never_raises() -> None:
    """Random characters and shuffled fragments of amounts and dates give a value or `None`, never an exception."""
    rng = random.Random(20260310)
    fragments = (
        "80|k€|HT|$|1,5|M€|2027|Q3|T4|fin|mi-|juin|may|15|/|.|'|quatre-vingt|mille|et demi|d'ici|mois|next|year|"
        "rentrée|1850|31|février|S2|ALL|\u202f|ﬁ|İ|🙂|\x00|\n|(|\\|*|?|[|" + "9" * 40
    ).split("|")
    for index in range(400):
        if index % 2:
            text = "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 40)))
        else:
            text = " ".join(rng.choice(fragments) for _ in range(rng.randint(0, 12)))
        for lang in ("fr", "en"):
            money, when = parse_money(text, lang), parse_date(text, lang, REFERENCE)
            assert money is None or isinstance(money, Money)
            assert when is None or isinstance(when, DateValue)


@pytest.mark.parametrize(
    "text",
    ["x" * 1_000_000, "80 k€ HT, " * 100_000, "1 " * 500_000, "le 15 mars 2027 " * 70_000, "9" * 1_000_000],
    ids=["letters", "amounts", "numbers", "dates", "digits"],
)
def test_a_megabyte_of_text_returns_quickly(text: str) -> None:
    """A 1 MB input is cut to `MAX_INPUT_CHARS` and bounded scans: each call returns well within a second."""
    assert len(text) >= 50 * MAX_INPUT_CHARS
    parse_money("80 k€", "fr")  # first-use loading (CLDR tables, dateparser's languages) is not timed
    parse_date("le 15 mars 2027", "fr", REFERENCE)
    start = time.perf_counter()
    parse_money(text, "fr")
    parse_date(text, "fr", REFERENCE)
    assert time.perf_counter() - start < 1.0


def test_typical_inputs_parse_in_a_few_milliseconds() -> None:
    """Once loaded, the median parse of the table's amounts and of its dates each takes under 5 ms."""
    parse_money("80 k€", "fr")  # first-use loading is not timed
    parse_date("le 15 mars 2027", "fr", REFERENCE)
    parse_date("next Friday", "en", REFERENCE)

    def median_ms(calls: list) -> float:
        timings = []
        for call in calls:
            start = time.perf_counter()
            call()
            timings.append((time.perf_counter() - start) * 1000)
        return statistics.median(timings)

    money_calls = [lambda c=case: parse_money(c[0], c[1]) for case in MONEY_CASES]
    date_calls = [lambda c=case: parse_date(c[0], c[1], c[4]) for case in DATE_CASES]
    assert median_ms(money_calls) < 5
    assert median_ms(date_calls) < 5


def test_importing_the_module_does_not_load_the_parsing_libraries() -> None:
    """dateparser, price-parser and babel load on first use, so importing Cahier stays fast."""
    code = (
        "import sys, assistant.interview.normalise; "
        "print(sorted(m for m in ('dateparser', 'price_parser', 'babel', 'text_to_num') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
