"""The instance list's search and scope and the tracker's filter choices on PostgreSQL, the production
database, where the search is a union of lookups through the prefix indexes of migration 0033
and each choice asks for its first matching action: the checks of
tests/test_monitoring_lookups.py run here unchanged, on a database of their own."""
import pytest

from tests.postgres.conftest import postgres_server_url, postgres_url, seeded_postgres_template  # noqa: F401
from tests.test_monitoring import council  # noqa: F401  (the fixture, on this module's `session`)
from tests.test_monitoring_lookups import (activity_action, searchable, started_about,  # noqa: F401  (fixtures)
                                           test_each_monitor_lists_exactly_the_instances_their_scope_means,
                                           test_each_search_means_the_same_within_what_each_person_sees,
                                           test_the_search_finds_by_either_reference_both_or_neither,
                                           test_the_search_sorted_by_case_keeps_its_rows,
                                           test_the_trackers_filter_choices_are_those_of_the_actions_each_person_sees)

pytestmark = pytest.mark.postgres

__all__ = ["test_each_monitor_lists_exactly_the_instances_their_scope_means",
           "test_each_search_means_the_same_within_what_each_person_sees",
           "test_the_search_finds_by_either_reference_both_or_neither",
           "test_the_search_sorted_by_case_keeps_its_rows",
           "test_the_trackers_filter_choices_are_those_of_the_actions_each_person_sees"]
