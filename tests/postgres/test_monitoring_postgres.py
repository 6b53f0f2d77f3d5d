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


@pytest.mark.parametrize("who", ["qa.lead", "hos.cincp"])
def test_the_lists_first_page_can_be_read_off_the_last_change_index(council, session, who):  # noqa: F811
    """The page query the list sends in its default order (last changed first), explained with
    sorting and sequential scans priced out of the planner's choice: it walks
    ix_process_instances_updated and sorts nothing. Were the order ever one the index cannot give
    (NULLS LAST on it, say), PostgreSQL would still have to sort every instance in scope, and
    the first page would grow with the history again (bench/README.md, sixth round)."""
    user = session.scalar(select(User).where(User.username == who))
    sent = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))
    sqlalchemy.event.listen(session.get_bind(), "before_cursor_execute", keep)
    try:
        list_instances(session, user, InstanceFilters(), clock.today())
    finally:
        sqlalchemy.event.remove(session.get_bind(), "before_cursor_execute", keep)
    statement, parameters = next((statement, parameters) for statement, parameters in sent
                                 if statement.startswith("SELECT process_instances.id \nFROM") and "ORDER BY" in statement)
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL enable_sort = off")
    cursor.execute("EXPLAIN " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_process_instances_updated" in plan and "Sort" not in plan, plan
