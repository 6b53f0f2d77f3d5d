"""The timer batch tests of tests/test_timers.py on PostgreSQL, where what they rely on is the
driver's: the summed row count of an executemany UPDATE (the revision check of a whole batch),
the order of a multi-row INSERT's RETURNING (each new task and notification paired with its
instance), and the statements of a batch under FOR UPDATE SKIP LOCKED."""
import pytest

from tests.test_timers import (  # noqa: F401  (collected here, on PostgreSQL)
    test_a_batch_fires_cleanly_in_a_fixed_number_of_statements_whatever_its_size,
    test_a_batch_fires_every_due_instance_and_one_that_cannot_be_loaded_stays_due,
    test_a_batch_of_tasks_assigned_to_different_people_reads_them_in_one_query,
    test_a_batch_with_an_instance_changed_since_it_was_read_fails_whole_and_overwrites_nothing,
    test_each_new_task_and_notification_of_a_batch_is_paired_with_its_own_instance)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url):
    """The SQLite tests' database, here this test's PostgreSQL copy of the seeded council."""
    return postgres_url
