"""Working days for timescales: weekends and bank holidays of England and Wales skipped."""
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (timescales in the framework count these)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current
