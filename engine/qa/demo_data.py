"""Generated demo data: a fictional council, its people, teams and open cases.

Everyone here is invented (Faker, seeded, so the same seed gives the same council);
cases carry references and cohorts, never children's names. Logins follow a pattern
the README lists: `qa.lead`, `hos.cincp`, `tm.safeguarding1`, `sw.safeguarding1.1`...
Services, teams and people are made through the organisation service, as the system
administrator makes them (engine/organisation/directory.py), by the system itself.
"""
import random
from dataclasses import dataclass
from datetime import timedelta

from faker import Faker
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.accounts import User
from engine.clock import clock
from engine.organisation import directory
from engine.qa.models import Case, Team
from engine.runtime import events

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class ServicePlan:
    slug: str
    name: str
    assistant_director: str
    teams: tuple[tuple[str, str, int], ...]  # (slug, name, how many)
    cohorts: tuple[str, ...]


SERVICES = (
    ServicePlan("frontdoor", "Front Door and Assessment", "safeguarding",
                (("mash", "MASH", 2), ("assessment", "Assessment", 3)), ("assessment",)),
    ServicePlan("cincp", "Child in Need and Child Protection", "safeguarding",
                (("safeguarding", "Safeguarding and Family Support", 5),), ("child_in_need", "child_protection")),
    ServicePlan("cic", "Children in Care", "corporate",
                (("cic", "Children in Care", 3),), ("child_in_care",)),
    ServicePlan("careleavers", "Care Leavers", "corporate",
                (("leavingcare", "Leaving Care", 2),), ("care_leaver",)),
    ServicePlan("disabled", "Disabled Children", "safeguarding",
                (("cwd", "Children with Disabilities", 3),), ("disabled_children", "child_in_need")),
)
TEAM_KINDS = {"mash": "front_door", "assessment": "assessment", "safeguarding": "cin_cp",
              "cic": "children_in_care", "leavingcare": "care_leavers", "cwd": "disabled_children"}
AGE_BANDS = {"care_leaver": ("18-21", "21-25")}
DEFAULT_AGE_BANDS = ("0-4", "5-9", "10-15", "16-17")
LEGAL_STATUS_BY_COHORT = {
    "child_in_care": ("care_order", "care_order", "section_20", "interim_care_order", "placement_order"),
    "care_leaver": ("relevant", "former_relevant", "former_relevant", "eligible"),
    "child_protection": ("child_protection_plan",),
    "assessment": ("none", "section_17"),
}
OTHER_LANGUAGES = ("Polish", "Urdu", "Arabic", "Romanian", "Punjabi", "Somali", "Bengali", "Portuguese")


class _Builder:
    def __init__(self, session: Session, seed: int):
        self.session = session
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.password_hash = generate_password_hash(DEMO_PASSWORD)

    def person(self, username: str, title: str, *roles: str, team: Team | None = None) -> User:
        details = directory.PersonDetails(username=username, display_name=self.fake.unique.name(), job_title=title,
                                          email=f"{username}@example.invalid", team_id=team.id if team else None)
        user, _ = directory.create_person(self.session, None, details, list(roles), password_hash=self.password_hash)
        return user


def generate(session: Session, seed: int = 2026, cases_per_worker: tuple[int, int] = (2, 4),
             workers_per_team: tuple[int, int] = (5, 7)) -> dict:
    """Create the whole demo council; returns counts of what was made."""
    build = _Builder(session, seed)
    build.person("director", "Director of Children's Services", "director")
    assistant_directors = {
        "safeguarding": build.person("ad.safeguarding", "Assistant Director, Safeguarding and Early Help", "assistant_director"),
        "corporate": build.person("ad.corporate", "Assistant Director, Corporate Parenting", "assistant_director"),
    }
    build.person("psw", "Principal Social Worker", "principal_social_worker")
    build.person("qa.lead", "Quality Assurance Lead", "qa_lead")
    for number in (1, 2):
        build.person(f"qa.officer{number}", "Quality Assurance Officer", "qa_officer")
    build.person("process.owner", "Practice Systems Lead (process owner)", "process_owner")
    build.person("cr.manager", "Conference and Review Manager", "conference_review_manager")
    for agency in ("health", "police", "education"):
        build.person(f"partner.{agency}", f"Safeguarding lead ({agency}), partner agency", "partner_agency")
    for number in range(1, 7):
        build.person(f"iro{number}", "Independent Reviewing Officer / CP Chair", "reviewing_officer")

    team_count = case_count = worker_count = 0
    references: set[str] = set()
    for plan in SERVICES:
        head = build.person(f"hos.{plan.slug}", f"Head of Service, {plan.name}", "head_of_service")
        service = directory.create_service(session, None, plan.name, head.id,
                                           assistant_directors[plan.assistant_director].id)
        for slug, name, count in plan.teams:
            for number in range(1, count + 1):
                team = directory.create_team(session, None, f"{name} {number}", service.id, TEAM_KINDS[slug])
                manager = build.person(f"tm.{slug}{number}", f"Team Manager, {team.name}", "team_manager", team=team)
                directory.change_team(session, None, team.id, team.name, service.id, team.kind, manager.id)
                build.person(f"atm.{slug}{number}", f"Assistant Team Manager, {team.name}", "practitioner", team=team)
                team_count += 1
                for worker_number in range(1, build.rng.randint(*workers_per_team) + 1):
                    worker = build.person(f"sw.{slug}{number}.{worker_number}", "Social Worker", "practitioner", team=team)
                    worker_count += 1
                    for _ in range(build.rng.randint(*cases_per_worker)):
                        session.add(_case(build, references, plan, team, worker))
                        case_count += 1
    # Last, so adding the administrator left every other generated name as it was.
    build.person("sysadmin", "Systems Administrator", "system_administrator")
    build.person("participation.officer", "Participation Officer", "participation_officer")
    session.flush()
    events.record(session, "demo_data.generated", payload={"seed": seed, "teams": team_count,
                                                            "workers": worker_count, "cases": case_count})
    return {"teams": team_count, "workers": worker_count, "cases": case_count}


def _case(build: _Builder, references: set[str], plan: ServicePlan, team: Team, worker: User) -> Case:
    while (reference := f"CS{build.rng.randint(100000, 999999)}") in references:
        pass
    references.add(reference)
    cohort = build.rng.choice(plan.cohorts)
    return Case(reference=reference, cohort=cohort, team_id=team.id, worker_id=worker.id,
                opened_on=clock.today() - timedelta(days=build.rng.randint(30, 900)),
                age_band=build.rng.choice(AGE_BANDS.get(cohort, DEFAULT_AGE_BANDS)), **_profile(reference, cohort))


def _profile(reference: str, cohort: str) -> dict:
    """A plausible, invented case profile for the cohort. Its own random stream (seeded by the
    reference) leaves every other generated value as it was before profiles existed."""
    rng = random.Random(f"profile-{reference}")
    in_care, leaving_care = cohort == "child_in_care", cohort == "care_leaver"
    return {
        "legal_status": rng.choice(LEGAL_STATUS_BY_COHORT.get(cohort, ("section_17",))),
        "placement_moves_12_months": rng.choice((0, 0, 0, 1, 1, 2, 3)) if in_care or leaving_care else None,
        "missing_episodes_12_months": rng.choice((0, 0, 0, 0, 1, 2, 4)) if in_care or leaving_care else rng.choice((0, 0, 0, 1)),
        "disability": cohort == "disabled_children" or rng.random() < 0.1,
        "first_language": "English" if rng.random() < 0.85 else rng.choice(OTHER_LANGUAGES),
        "referrals_12_months": rng.choice((0, 1)) if in_care or leaving_care else rng.choice((1, 1, 2, 3)),
        "s47_enquiries_12_months": rng.choice((1, 1, 2)) if cohort == "child_protection" else
        rng.choice((0, 0, 0, 1)) if cohort in ("child_in_need", "assessment") else 0,
    }
