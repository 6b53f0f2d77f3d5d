"""Timescales the process model states, as working-day deadlines for its timer events.

A timer in a diagram names its moment with these, for example
`working_days_before(audit_due, 3)` for a reminder or `working_days_after(audit_due, 1)`
for the morning an audit becomes overdue, so the process owner sets every timescale
in the model. Each returns an ISO 8601 date-time in UTC (timers are compared in UTC)
at the start of a working day in the council's time zone, so reminders and
escalations arrive in working hours. Working days skip weekends and the configured
bank holidays (engine/qa/working_days.py). The moment is worked out on the
injectable clock's calendar, never the wall clock, so tests can move time.
"""
from datetime import date, datetime, time, timedelta, timezone

from engine.clock import LOCAL_ZONE
from engine.qa.working_days import add_working_days, is_working_day
from engine.runtime.services import expression_helper

WORKING_DAY_STARTS = time(8, 0)
# Helpers run outside model code's budget (engine/runtime/script_budget.py), so they bound
# their own work: ten years of working days is past any timescale a process states.
MAX_WORKING_DAYS = 2600


@expression_helper("working_days_before")
def working_days_before(due, days: int) -> str:
    """The start of the working day `days` working days before `due`.

    0 means the due day itself (or the working day before it, if it is not a working day)."""
    day = _as_date(due)
    while not is_working_day(day):
        day -= timedelta(days=1)
    for _ in range(_count(days)):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return start_of_working_day(day)


@expression_helper("working_days_after")
def working_days_after(due, days: int) -> str:
    """The start of the working day `days` working days after `due`.

    1 is the morning work due on `due` becomes overdue; 0 is the due day itself (or the
    working day after it, if it is not a working day)."""
    day = _as_date(due)
    count = _count(days)
    if count == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return start_of_working_day(day)
    return start_of_working_day(add_working_days(day, count))


def start_of_working_day(day: date) -> str:
    """WORKING_DAY_STARTS on `day` in the council's time zone, as an ISO date-time in UTC."""
    return datetime.combine(day, WORKING_DAY_STARTS, LOCAL_ZONE).astimezone(timezone.utc).isoformat()


def _as_date(value) -> date:
    """A date from a task-data value: a date, or an ISO date or date-time string."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=LOCAL_ZONE)).astimezone(LOCAL_ZONE).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return _as_date(datetime.fromisoformat(value)) if "T" in value else date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"'{value}' is not a date: a timescale needs a due date such as 2026-12-21")


def _count(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"'{days}' is not a number of working days (0 to {MAX_WORKING_DAYS})")
    return days


def working_days_late(due: date, today: date) -> int:
    """How many working days after `due` `today` is (0 while it is not yet overdue)."""
    late, day = 0, due
    while day < today:
        day += timedelta(days=1)
        late += is_working_day(day)
    return late
