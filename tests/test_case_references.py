"""Case references must look like case references: refused by line at import, and at the
case look-ups of allocation and legal holds, by the default pattern or the council's own."""
import io

import pytest
from sqlalchemy import func, select

from engine.qa import case_references, retention
from engine.qa.allocation import AllocationError, AllocationRequest, allocate_audit
from engine.qa.case_register import import_register
from engine.qa.models import Audit, Case
from engine.qa.retention_models import LegalHold
from tests.conftest import sign_in, user_named

HEADER = "case_reference,cohort,team,worker,opened_on\n"
ROW = ",Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01"
MARKUP = ("AB<12>", "CS1&2", "X]]>", '<para>1', "CS 12", "CS\t12")
DEFAULT_MESSAGE = "the case reference may hold only letters, digits, '-' and '/'"


def register(*references: str) -> bytes:
    return (HEADER + "\n".join(f'"{reference}"{ROW}' for reference in references) + "\n").encode()


def test_references_holding_markup_are_refused_by_line_and_nothing_is_applied(session):
    before = session.scalar(select(func.count(Case.id)))
    report = import_register(session, "register.csv", register("CIN/2026-001", *MARKUP, "cp-7/B"), actor_id=None)
    assert not report.applied
    assert report.errors == [(line, DEFAULT_MESSAGE) for line in range(3, 3 + len(MARKUP))]
    assert session.scalar(select(func.count(Case.id))) == before
    good_only = import_register(session, "register.csv", register("CIN/2026-001", *MARKUP, "cp-7/B"),
                                actor_id=None, apply_good_rows=True)
    session.commit()
    assert good_only.created == 2
    assert set(session.scalars(select(Case.reference).where(Case.reference.in_(["CIN/2026-001", "CP-7/B"])))) == \
        {"CIN/2026-001", "CP-7/B"}


def test_a_council_sets_its_own_pattern(session, monkeypatch):
    monkeypatch.setenv("QA_CASE_REFERENCE_PATTERN", r"CS\d{6}")
    report = import_register(session, "register.csv", register("CS123456", "CIN-001", "CS12345"), actor_id=None)
    assert report.errors == [(3, "the case reference is not in the form this council's case references take"),
                             (4, "the case reference is not in the form this council's case references take")]
    monkeypatch.setenv("QA_CASE_REFERENCE_PATTERN", "CS[")
    with pytest.raises(ValueError, match="QA_CASE_REFERENCE_PATTERN is not a valid regular expression"):
        case_references.reference_problem("CS1")


def test_allocation_refuses_a_reference_holding_markup_before_looking_it_up(session):
    audits = session.scalar(select(func.count(Audit.id)))
    with pytest.raises(AllocationError) as refused:
        allocate_audit(session, AllocationRequest("<b>CS1</b>", user_named(session, "tm.mash1").id,
                                                  user_named(session, "hos.disabled").id), user_named(session, "qa.lead"))
    assert refused.value.field == "case_reference"
    assert str(refused.value) == "The case reference may hold only letters, digits, '-' and '/'."
    assert session.scalar(select(func.count(Audit.id))) == audits


def test_a_legal_hold_refuses_one_too(session):
    with pytest.raises(retention.RetentionError) as refused:
        retention.place_hold(session, user_named(session, "qa.lead"), "CS1&<2>", "Court proceedings")
    assert refused.value.field == "case_reference" and "only letters, digits" in str(refused.value)
    assert session.scalar(select(func.count(LegalHold.id))) == 0


def test_the_register_page_lists_the_refused_line(app):
    client = app.test_client()
    sign_in(client, "qa.lead")
    response = client.post("/register", data={"register": (io.BytesIO(register("GOOD-1", "AB<12>")), "register.csv")},
                           content_type="multipart/form-data")
    page = client.get(response.location).get_data(as_text=True)
    assert "The case reference may hold only letters, digits, &#39;-&#39; and &#39;/&#39;" in page
    assert "AB<12>" not in page
