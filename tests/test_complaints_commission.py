"""A theme in the compliments and complaints log commissions a thematic audit (or, for a head
of service, a dip sample) through the Start page with the theme and its figures filled in;
only people who may start those processes are offered the link."""
import html
import re
from datetime import timedelta

from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.runtime.starting import prefilled_answers
from engine.qa.models import Service
from engine.qa.thematic_models import ThematicAudit
from engine.runtime.models import InstanceStart
from tests.test_complaints_log import GOOD_ROWS, HEADER, _import
from tests.test_thematic_audit import commission
from tests.test_web_lifecycle import Browsers, read

FIGURES = "Complaints: 2 in 12 months, 2 upheld in whole or part; compliments: 0"


def _link(page: str, words: str, theme: str) -> str:
    found = re.search(rf'href="([^"]+)">{words}<span class="govuk-visually-hidden"> on {theme}</span>', page)
    assert found, f"no link '{words}' for {theme}"
    return html.unescape(found.group(1))


def test_the_psw_commissions_a_thematic_audit_from_a_complaints_theme(app, session):
    _import(session, HEADER + GOOD_ROWS)
    psw = Browsers(app)["psw"]
    page = psw.get("/complaints").get_data(as_text=True)
    href = _link(page, "Commission a thematic audit", "Changes of worker")
    assert href.startswith("/start/thematic_audit?")
    assert "Dip sample" not in page  # the PSW may not start one

    form = psw.get(href).get_data(as_text=True)
    assert 'value="Changes of worker"' in form and FIGURES in form

    service_id = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == "Children in Care")))
    answers = {**commission(clock.today() + timedelta(days=90)), "theme": "Changes of worker",
               "why_now": "practice_concern", "why_now_detail": FIGURES}
    started = psw.post("/start/thematic_audit", data={"about": str(service_id), **answers})
    assert started.status_code == 302
    thematic = read(session, lambda s: s.scalar(select(ThematicAudit)))
    kept = read(session, lambda s: s.scalar(select(InstanceStart).where(InstanceStart.instance_id == thematic.instance_id)))
    assert thematic.theme == "Changes of worker" and kept.answers["why_now_detail"] == FIGURES


def test_only_people_who_may_start_are_offered_the_links(app, session):
    _import(session, HEADER + GOOD_ROWS)
    browsers = Browsers(app)
    director = browsers["director"].get("/complaints").get_data(as_text=True)
    assert "Changes of worker" in director
    assert "Commission a thematic audit" not in director and "Dip sample" not in director
    practitioner = browsers["sw.safeguarding1.1"].get("/complaints")
    assert practitioner.status_code == 403 and "Commission a thematic audit" not in practitioner.get_data(as_text=True)


def test_a_head_of_service_dip_samples_a_theme_in_their_service(app, session):
    _import(session, HEADER + GOOD_ROWS)
    head = read(session, lambda s: s.scalar(select(User.username).join(Service, Service.head_of_service_id == User.id)
                                            .where(Service.name == "Children in Care")))
    client = Browsers(app)[head]
    page = client.get("/complaints").get_data(as_text=True)
    assert "Commission a thematic audit" not in page
    form = client.get(_link(page, "Dip sample", "Changes of worker")).get_data(as_text=True)
    # their own service's figures only
    assert "Changes of worker. Complaints: 1 in 12 months, 1 upheld in whole or part; compliments: 0" in form


def test_a_start_form_takes_only_its_own_text_fields_from_a_link():
    schema = {"properties": {"theme": {"type": "string"}, "why_now": {"type": "string", "enum": ["review", "other"]},
                             "sample_size": {"type": "integer"}}}
    offered = {"theme": "Neglect", "why_now": "bogus", "sample_size": "5", "started_by": "1", "about_kind": "x"}
    assert prefilled_answers(schema, offered) == {"theme": "Neglect"}
    assert prefilled_answers(schema, {"why_now": "review", "theme": "x" * 3000}) == {"why_now": "review"}


def test_a_prefilled_link_with_unknown_fields_shows_only_the_form(app):
    psw = Browsers(app)["psw"]
    page = psw.get("/start/thematic_audit?theme=Neglect&started_by=99&why_now=bogus").get_data(as_text=True)
    assert 'value="Neglect"' in page and "started_by" not in page and "bogus" not in page
