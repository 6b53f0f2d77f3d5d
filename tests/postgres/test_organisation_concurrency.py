"""Two system administrators save the same person at the same moment on PostgreSQL:
one wins, the other is told, and the trail records only the winner's change."""
import threading

import pytest
from sqlalchemy import func, select

from engine.accounts import User
from engine.organisation import directory
from engine.organisation.directory import PersonDetails, StaleEdit
from engine.runtime.events import verify_chain
from engine.runtime.models import Event
from tests.conftest import user_named

pytestmark = pytest.mark.postgres


def test_two_administrators_editing_the_same_person_one_wins_the_other_is_told(session_factory):
    with session_factory() as setup:
        directory.create_person(setup, None, PersonDetails(
            username="second.admin", display_name="Second Admin", email="second.admin@example.invalid"),
            ["system_administrator"])
        setup.commit()
        person_id, version = user_named(setup, "sw.mash1.1").id, user_named(setup, "sw.mash1.1").version
    admins = ("sysadmin", "second.admin")
    both_read = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(admin_name: str, new_name: str) -> None:
        with session_factory() as session:
            admin = user_named(session, admin_name)
            person = session.get(User, person_id)
            details = PersonDetails(username=person.username, display_name=new_name, email=person.email,
                                    team_id=person.team_id, job_title=person.job_title)
            both_read.wait()  # both have read version `version` and passed every check before either writes
            try:
                directory.change_person(session, admin, person_id, version, details)
                threading.Event().wait(0.3)  # hold the row lock while the other writer arrives
                session.commit()
                outcomes[admin_name] = "saved"
            except StaleEdit as told:
                session.rollback()
                outcomes[admin_name] = str(told)

    threads = [threading.Thread(target=edit, args=(name, f"Edited by {name}")) for name in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted(admins)
    winners = [name for name, outcome in outcomes.items() if outcome == "saved"]
    assert len(winners) == 1, outcomes
    loser = next(name for name in admins if name not in winners)
    assert "Someone else changed" in outcomes[loser]
    with session_factory() as check:
        person = check.get(User, person_id)
        assert person.display_name == f"Edited by {winners[0]}" and person.version == version + 1
        assert check.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "person.changed", Event.subject_id == str(person_id))) == 1
        assert verify_chain(check).ok
