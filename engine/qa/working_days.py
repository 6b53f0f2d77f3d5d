"""Working days for timescales: weekends and bank holidays skipped.

Bank holidays are those of England and Wales (from the `holidays` package) unless
the council says otherwise in the environment:
  QA_BANK_HOLIDAYS   replaces that list with the dates given
  QA_EXTRA_HOLIDAYS  adds dates to it (a council's closure days between Christmas and New Year)
Dates are ISO 8601 (2026-12-29), separated by commas or spaces.
"""
import os
from datetime import date, timedelta
from functools import lru_cache

import holidays

REPLACEMENT_VARIABLE = "QA_BANK_HOLIDAYS"
EXTRA_VARIABLE = "QA_EXTRA_HOLIDAYS"


def bank_holidays(year: int) -> frozenset[date]:
    """The days off in `year` that are not weekends, as configured."""
    return _bank_holidays(year, os.environ.get(REPLACEMENT_VARIABLE), os.environ.get(EXTRA_VARIABLE, ""))


@lru_cache(maxsize=64)
def _bank_holidays(year: int, replacement: str | None, extra: str) -> frozenset[date]:
    if replacement is None:
        days = set(holidays.country_holidays("GB", subdiv="ENG", years=year))
    else:
        days = _dates(REPLACEMENT_VARIABLE, replacement)
    days |= _dates(EXTRA_VARIABLE, extra)
    return frozenset(day for day in days if day.year == year)


def _dates(variable: str, text: str) -> set[date]:
    days = set()
    for word in text.replace(",", " ").split():
        try:
            days.add(date.fromisoformat(word))
        except ValueError:
            raise ValueError(f"{variable}: '{word}' is not a date; write dates like 2026-12-29") from None
    return days


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (timescales in the framework count these)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current
