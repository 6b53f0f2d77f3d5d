"""Working-day deadlines for timer expressions, and the configurable bank holidays.

Expected moments are written out by hand from the calendar: 25 and 28 December 2026
and 1 January 2027 are bank holidays in England and Wales; summer time (BST) runs
from 29 March to 25 October 2026, so 08:00 is 07:00 UTC then.
"""
from datetime import date

import pytest

from engine.qa.allocation import default_timescales
from engine.qa.timescales import working_days_after, working_days_before, working_days_late
from engine.runtime.services import EXPRESSION_HELPERS


@pytest.mark.parametrize("helper, due, days, expected", [
    (working_days_before, "2026-12-30", 3, "2026-12-23T08:00:00+00:00"),  # over Christmas and Boxing Day
    (working_days_before, "2026-12-30", 0, "2026-12-30T08:00:00+00:00"),
    (working_days_before, "2026-12-26", 0, "2026-12-24T08:00:00+00:00"),  # due on a Saturday
    (working_days_after, "2026-12-30", 1, "2026-12-31T08:00:00+00:00"),
    (working_days_after, "2026-12-30", 2, "2027-01-04T08:00:00+00:00"),  # New Year's Day and a weekend
    (working_days_after, "2026-12-26", 0, "2026-12-29T08:00:00+00:00"),
    (working_days_after, "2026-07-03", 1, "2026-07-06T07:00:00+00:00"),  # 08:00 in summer time
    (working_days_after, date(2026, 7, 3), 1, "2026-07-06T07:00:00+00:00"),
    (working_days_before, "2026-12-30T15:00:00+00:00", 1, "2026-12-29T08:00:00+00:00"),
])
def test_deadlines_fall_at_the_start_of_a_working_day(helper, due, days, expected):
    assert helper(due, days) == expected


def test_the_helpers_are_offered_to_the_models_expressions():
    assert EXPRESSION_HELPERS["working_days_before"] is working_days_before
    assert EXPRESSION_HELPERS["working_days_after"] is working_days_after


def test_working_days_late_counts_from_the_day_after_due():
    assert working_days_late(date(2026, 12, 30), date(2026, 12, 30)) == 0
    assert working_days_late(date(2026, 12, 30), date(2026, 12, 31)) == 1
    assert working_days_late(date(2026, 12, 30), date(2027, 1, 8)) == 6


def test_extra_council_holidays_are_skipped(monkeypatch):
    monkeypatch.setenv("QA_EXTRA_HOLIDAYS", "2026-12-29, 2026-12-30")
    assert working_days_after("2026-12-24", 1) == "2026-12-31T08:00:00+00:00"
    # Allocation uses the same calendar: 15 working days from 7 December now end on 4 January, not 30 December.
    assert default_timescales(date(2026, 12, 7))[0] == date(2027, 1, 4)


def test_a_replacement_list_overrides_the_bank_holidays(monkeypatch):
    monkeypatch.setenv("QA_BANK_HOLIDAYS", "2026-12-31")
    assert working_days_after("2026-12-24", 1) == "2026-12-25T08:00:00+00:00"  # Christmas is a working day here
    assert working_days_after("2026-12-30", 1) == "2027-01-01T08:00:00+00:00"  # and 31 December is not


@pytest.mark.parametrize("variable", ["QA_EXTRA_HOLIDAYS", "QA_BANK_HOLIDAYS"])
def test_a_badly_written_holiday_is_named(monkeypatch, variable):
    monkeypatch.setenv(variable, "2026-12-29 29/12/2026")
    with pytest.raises(ValueError, match=f"{variable}: '29/12/2026' is not a date"):
        working_days_after("2026-12-24", 1)


@pytest.mark.parametrize("due, days, message", [
    ("soon", 1, "'soon' is not a date"), (None, 1, "'None' is not a date"),
    ("2026-12-30", -1, "not a number of working days"), ("2026-12-30", "3", "not a number of working days"),
    ("2026-12-30", 10**9, "not a number of working days \\(0 to 2600\\)"),  # a helper bounds its own work
])
def test_bad_arguments_say_what_is_wrong(due, days, message):
    with pytest.raises(ValueError, match=message):
        working_days_after(due, days)
