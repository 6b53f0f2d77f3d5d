"""The dashboard's numbers on PostgreSQL, the production database: each is still the total of
the list its link opens, on finished instances and within a head of service's scope.

There each number is its own subquery, planned apart from the others over the indexes of
the open work (engine/runtime/monitoring.dashboard, migration 0029), so the checks of
tests/test_monitoring.py run here unchanged against the web app on a database of its own.
"""
import pytest

from tests.postgres.conftest import postgres_server_url, postgres_url, seeded_postgres_template  # noqa: F401
from tests.postgres.test_oversized_numbers_postgres import app  # noqa: F401  (the web app on PostgreSQL)
from tests.test_monitoring import (council, qa,  # noqa: F401  (fixtures, on this module's `app`)
                                   test_an_instance_started_about_a_case_is_seen_by_the_head_of_the_cases_service,
                                   test_every_dashboard_number_is_its_lists_total_on_finished_instances_and_in_scope,
                                   test_the_dashboard_numbers_link_to_the_lists_behind_them)

pytestmark = pytest.mark.postgres

__all__ = ["test_an_instance_started_about_a_case_is_seen_by_the_head_of_the_cases_service",
           "test_every_dashboard_number_is_its_lists_total_on_finished_instances_and_in_scope",
           "test_the_dashboard_numbers_link_to_the_lists_behind_them"]
