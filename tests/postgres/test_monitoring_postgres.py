"""The dashboard's numbers on PostgreSQL, the production database: each is still the total of
the list its link opens, on finished instances and within a head of service's scope; the list
past its count pages on as on SQLite; and its default order is one an index can give.

There each number is its own subquery, planned apart from the others over the indexes of
the open work (engine/runtime/monitoring.dashboard, migration 0029), so the checks of
tests/test_monitoring.py run here unchanged against the web app on a database of its own.
"""
import pytest
import sqlalchemy
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.runtime.monitoring import InstanceFilters, list_instances

from tests.postgres.conftest import postgres_server_url, postgres_url, seeded_postgres_template  # noqa: F401
from tests.postgres.test_oversized_numbers_postgres import app  # noqa: F401  (the web app on PostgreSQL)
from tests.test_monitoring import (council, qa,  # noqa: F401  (fixtures, on this module's `app`)
                                   test_an_instance_started_about_a_case_is_seen_by_the_head_of_the_cases_service,
                                   test_past_its_count_the_list_says_more_than_and_pages_on_with_next,
                                   test_every_dashboard_number_is_its_lists_total_on_finished_instances_and_in_scope,
                                   test_the_dashboard_numbers_link_to_the_lists_behind_them)

pytestmark = pytest.mark.postgres

__all__ = ["test_an_instance_started_about_a_case_is_seen_by_the_head_of_the_cases_service",
           "test_past_its_count_the_list_says_more_than_and_pages_on_with_next",
           "test_every_dashboard_number_is_its_lists_total_on_finished_instances_and_in_scope",
           "test_the_dashboard_numbers_link_to_the_lists_behind_them"]


def page_query_plan(session, who: str, filters: InstanceFilters, *, prices_out: tuple[str, ...] = ()) -> str:
    """EXPLAIN of the query `list_instances` sends for its page (as `who`), with the planner's
    `prices_out` choices (enable_sort, ...) made to cost too much to take where another exists."""
    user = session.scalar(select(User).where(User.username == who))
    sent = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))
    sqlalchemy.event.listen(session.get_bind(), "before_cursor_execute", keep)
    try:
        list_instances(session, user, filters, clock.today())
    finally:
        sqlalchemy.event.remove(session.get_bind(), "before_cursor_execute", keep)
    statement, parameters = next((statement, parameters) for statement, parameters in sent
                                 if "ORDER BY" in statement and "LIMIT" in statement)
    cursor = session.connection().connection.driver_connection.cursor()
    for setting in prices_out:
        cursor.execute(f"SET LOCAL {setting} = off")
    cursor.execute("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("who", ["qa.lead", "hos.cincp"])
def test_a_long_lists_first_page_is_read_off_the_last_change_index(council, session, monkeypatch, who):  # noqa: F811
    """Past its count, the list's page in the default order (last changed first) is one the
    index can give: explained with sorting and sequential scans priced out, it walks
    ix_process_instances_updated and sorts nothing. Were the order ever one the index cannot
    give (NULLS LAST on it, say), PostgreSQL would sort every instance in scope, and the first
    page would grow with the history again (bench/README.md, sixth round)."""
    from engine.runtime import monitoring
    monkeypatch.setattr(monitoring, "LIST_COUNTED_UP_TO", 0)  # any instance in scope makes "many"
    plan = page_query_plan(session, who, InstanceFilters(), prices_out=("enable_seqscan", "enable_sort"))
    assert "ix_process_instances_updated" in plan and "Sort" not in plan, plan


def test_a_short_lists_matches_are_read_whole_then_sorted(council, session):  # noqa: F811
    """With few matches (a filter that matches nothing here), the page reads them first through
    the filter's own indexes and sorts them: never a walk of the whole history in order, which
    PostgreSQL chose for such a filter when left to (100 ms at 100,000 instances, against 1)."""
    plan = page_query_plan(session, "qa.lead", InstanceFilters(status="terminated"))
    assert "CTE matches" in plan and "ix_process_instances_updated" not in plan, plan
