"""Amounts and dates written the way a French or English reader of a specification expects them.

Babel holds the locale rules (grouping, decimal mark, currency position, month names), so "80 000 € HT" and
"€80,000 excl. VAT" come from the same `Money`. Dates keep the precision the stakeholder gave: a quarter is
printed as a quarter ("T2 2027", "Q2 2027"), never as its first day.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta
from babel.numbers import format_currency

from assistant.schemas import DatePrecision, DateValue, Money


def format_amount(amount: Decimal, currency: str, locale: str) -> str:
    """An amount in the locale's currency format, without decimals when it is a whole number."""
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    if amount == amount.to_integral_value():
        # "80 000 €", not "80 000,00 €": budgets are quoted in whole euros, the cents are noise
        pattern = pattern.replace(".00", "")
        return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)
    return format_currency(amount, currency, locale=locale)


def format_money(money: Money, locale: str, tax_labels: dict[str, str]) -> str:
    """The amount followed by its tax basis label ("HT", "TTC", "excl. VAT"…), from the draft template."""
    label = tax_labels[money.tax_basis.value]
    return f"{format_amount(money.amount, money.currency, locale)} {label}".strip()


def format_duration(seconds: float, locale: str) -> str:
    """A rounded duration as a person says it: "30 secondes", "2 minutes" (an estimate, never "1 min 37 s")."""
    return format_timedelta(timedelta(seconds=max(seconds, 1.0)), threshold=1.5, locale=locale)


def format_day(value: date, locale: str) -> str:
    """A full date, e.g. "30 juin 2027" or "30 June 2027"."""
    return format_date(value, format="long", locale=locale)


def format_date_value(value: DateValue, locale: str, quarter_pattern: str) -> str:
    """A date as precise as it was given.

    Args:
        quarter_pattern: how the language writes a quarter, with `{quarter}` and `{year}` ("T{quarter} {year}").
    """
    day = value.value
    if value.precision is DatePrecision.YEAR:
        return str(day.year)
    if value.precision is DatePrecision.QUARTER:
        return quarter_pattern.format(quarter=(day.month - 1) // 3 + 1, year=day.year)
    if value.precision is DatePrecision.MONTH:
        return format_skeleton("yMMMM", day, locale=locale)
    return format_day(day, locale)
