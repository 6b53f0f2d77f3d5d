"""The statement counts pinned on SQLite, collected again against the PostgreSQL `session` of
tests/postgres/conftest.py, where the ORM writes many rows in one INSERT and the pins differ."""
import pytest

from tests.test_cycles import (  # noqa: F401
    on_the_first_of_december, test_confirming_a_cycle_costs_a_fixed_number_of_statements_per_audit)

pytestmark = pytest.mark.postgres
