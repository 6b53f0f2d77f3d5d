"""The audits a person may see, and one audit's full record with its history.

Every read of an audit record is written to the audit trail (`read_audit`), because
audits hold special category data about children; access is checked on the server
by role and scope (`engine.qa.access`) for the list and for every record.
"""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import ROLES, User
from engine.clock import clock
from engine.qa.access import can_allocate, can_view_audit, visible_audits
from engine.qa.feedback_requests import can_request as can_request_feedback
from engine.qa.audit_record import read_audit
from engine.qa.contributions import may_manage_participants
from engine.qa.models import AREAS, Audit, Team
from webapp.formatting import grade
from webapp.extensions import db
from webapp.navigation import add_item
from webapp.formatting import long_date

blueprint = Blueprint("audits", __name__)
add_item("audits.audits", "Audits")

# Payload fields worth a line in the history table, in the order they are shown.
HISTORY_FIELDS = (
    ("title", "Task"), ("case", "Case"), ("overall_grade", "Overall grade"),
    ("grade_before", "Grade before moderation"), ("grade_after", "Grade after moderation"),
    ("outcome", "Outcome"), ("reason", "Reason"), ("action", "Action"), ("status", "Status"),
    ("role", "Role"), ("assignee_id", "Assigned to"), ("auditor_id", "Auditor"), ("moderator_id", "Moderator"),
    ("worker_id", "Allocated worker"), ("team_manager_id", "Team manager"),
    ("head_of_service_id", "Head of service"), ("due_on", "Due"), ("moderation_due_on", "Moderation due"),
    ("meeting_date", "Meeting date"), ("supervision_date", "Supervision date"),
    ("safeguarding_concern", "Safeguarding concern"), ("agrees_with_grade", "Agrees with the grade"),
    ("immediate_actions", "Immediate actions"), ("outstanding_reason", "Outstanding because"),
    ("version", "Process version"), ("practitioner", "Practitioner"), ("role_on_case", "Role on the case"),
)
GRADE_FIELDS = ("overall_grade", "grade_before", "grade_after")
KIND_WORDS = {"instance": "process"}


@blueprint.route("/audits")
@login_required
def audits():
    """Every audit the signed-in person may see, newest first."""
    rows = visible_audits(db.session, current_user)
    teams = {team.id: team.name for team in db.session.scalars(select(Team))}
    return render_template("audits.html", audits=rows, teams=teams, can_allocate=can_allocate(current_user),
                           people=_names({row.auditor_id for row in rows}))


@blueprint.route("/audits/<int:audit_id>")
@login_required
def audit(audit_id: int):
    """One audit's record: grades before and after moderation, trackers and history."""
    found = db.session.get(Audit, audit_id)
    if found is None:
        abort(404)
    if not can_view_audit(db.session, current_user, audit_id):
        abort(403)
    record = read_audit(db.session, found, current_user._get_current_object())
    db.session.commit()
    names = _names({value for event in record["history"] for key, value in event["payload"].items()
                    if key.endswith("_id") and isinstance(value, int)})
    history = [{"at": event["at"], "actor": event["actor"], "what": humanise_kind(event["kind"]),
                "details": event_details(event["payload"], names)} for event in record["history"]]
    return render_template("audit.html", audit=record, history=history, today=clock.today(),
                           can_request_feedback=can_request_feedback(current_user, found),
                           added_people=[(person["case_role_label"], person["name"]) for person in record["participants"]
                                         if not person["removed_at"]],
                           can_manage_participants=may_manage_participants(current_user, found))


def humanise_kind(kind: str) -> str:
    """'audit.graded' -> 'Audit graded', so inspectors read the trail without a glossary."""
    words = [KIND_WORDS.get(word, word) for word in kind.replace("_", " ").replace(".", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def event_details(payload: dict, names: dict[int, str]) -> list[tuple[str, str]]:
    """The fields of an event worth showing, written for people (names, grades, dates)."""
    details = []
    for key, label in HISTORY_FIELDS:
        value = payload.get(key)
        if value is None or value == "":
            continue
        details.append((label, _readable(key, value, names)))
    before, after = payload.get("area_grades_before") or {}, payload.get("area_grades_after") or {}
    for area, new_grade in after.items():
        if before.get(area) != new_grade:
            details.append((AREAS.get(area, area), f"{grade(before.get(area)) or '-'} → {grade(new_grade)}"))
    return details


def _readable(key: str, value, names: dict[int, str]) -> str:
    if key in GRADE_FIELDS:
        return grade(value)
    if key.endswith("_id"):
        return names.get(value, f"user {value}")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "role":
        return ROLES.get(value, value)
    if key.endswith(("_on", "_date")):
        return long_date(value)
    if key in ("outcome", "reason", "status"):
        return str(value).replace("_", " ").capitalize()
    return str(value)


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
