"""The organisation pages: services, teams and people, managed by system administrators.

The QA lead sees every page read-only. Each form posts to the organisation service
(engine/organisation/directory.py), which checks who asks and every rule; a refusal
comes back on the same page with what was typed kept, nothing changed, and the
message next to its field. Edits of a person carry the version they were made from,
so of two administrators saving the same person at once, the second is told.
"""
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import ROLES, User
from engine.organisation import directory
from engine.organisation.open_work import may_hand_over, open_work
from engine.qa.models import TEAM_KINDS, Service, Team
from engine.runtime import events
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, Field, Option, read_date
from webapp.navigation import add_item
from webapp.views.outcome import perform

blueprint = Blueprint("organisation", __name__, url_prefix="/organisation")
add_item("organisation.people", "Organisation", directory.may_view)


@blueprint.route("/services")
@login_required
def services():
    _require_view()
    rows = db.session.execute(select(Service, User.display_name).outerjoin(User, User.id == Service.head_of_service_id)
                              .order_by(Service.name)).all()
    _viewed("services")
    return render_template("organisation_services.html", rows=rows, manage=_manage())


@blueprint.route("/services/new", methods=["GET", "POST"])
@blueprint.route("/services/<int:service_id>", methods=["GET", "POST"])
@login_required
def service(service_id: int | None = None):
    """Create a service, or change one: its name and head of service."""
    existing = _get(Service, service_id)
    _require_manage_or_view(existing)
    errors = {}
    if request.method == "POST":
        _require_manage()
        name, head = request.form.get("name", ""), _id("head_of_service_id")
        errors = perform(lambda: directory.change_service(db.session, _me(), existing.id, name, head) if existing
                          else directory.create_service(db.session, _me(), name, head),
                          "Service saved")
        if not errors:
            return redirect(url_for("organisation.services"))
    value = _value_from(existing, "name", "head_of_service_id")
    fields = [_text("name", "Name", value("name"), errors),
              _select("head_of_service_id", "Head of service", _people_with("head_of_service"),
                      value("head_of_service_id"), errors, optional=True)]
    return _form_page(_title(existing, "service"), fields, errors,
                      back=url_for("organisation.services"), button="Save the service")


@blueprint.route("/teams")
@login_required
def teams():
    _require_view()
    rows = db.session.execute(select(Team, User.display_name).outerjoin(User, User.id == Team.manager_id)
                              .order_by(Team.name)).all()
    _viewed("teams")
    return render_template("organisation_teams.html", rows=rows, kinds=TEAM_KINDS, manage=_manage())


@blueprint.route("/teams/new", methods=["GET", "POST"])
@blueprint.route("/teams/<int:team_id>", methods=["GET", "POST"])
@login_required
def team(team_id: int | None = None):
    """Create a team, or change its name, service, kind or manager."""
    existing = _get(Team, team_id)
    _require_manage_or_view(existing)
    errors = {}
    if request.method == "POST":
        _require_manage()
        form = request.form
        values = (form.get("name", ""), _id("service_id"), form.get("kind", ""), _id("manager_id"))
        errors = perform(lambda: directory.change_team(db.session, _me(), existing.id, *values) if existing
                          else directory.create_team(db.session, _me(), *values), "Team saved")
        if not errors:
            return redirect(url_for("organisation.teams"))
    value = _value_from(existing, "name", "service_id", "kind", "manager_id")
    service_options = [Option(str(s.id), s.name) for s in db.session.scalars(select(Service).order_by(Service.name))]
    fields = [_text("name", "Name", value("name"), errors),
              _select("service_id", "Service", service_options, value("service_id"), errors),
              _select("kind", "Kind of team", [Option(k, v) for k, v in TEAM_KINDS.items()], value("kind"), errors),
              _select("manager_id", "Team manager", _people_with("team_manager"), value("manager_id"), errors,
                      optional=True, hint="A team manager who works in one of the service's teams.")]
    return _form_page(_title(existing, "team"), fields, errors,
                      back=url_for("organisation.teams"), button="Save the team")


@blueprint.route("/people")
@login_required
def people():
    """Everyone, with a search by name, username, email, job title or employee id."""
    _require_view()
    search = request.args.get("q", "").strip()[:100]
    found = directory.people(db.session, search)
    teams_by_id = {t.id: t.name for t in db.session.scalars(select(Team))}
    _viewed("people", search=search)
    return render_template("organisation_people.html", people=found, search=search, teams=teams_by_id,
                           manage=_manage())


@blueprint.route("/people/new", methods=["GET", "POST"])
@login_required
def new_person():
    """Add a person with their roles; their one-time password is shown once, on this response only."""
    _require_manage()
    errors = {}
    if request.method == "POST":
        details, errors = _details_from_form()
        roles = request.form.getlist("roles")
        created = []
        if not errors:
            errors = perform(lambda: created.append(directory.create_person(
                db.session, _me(), details, roles, reason=request.form.get("reason", ""))), None)
        if not errors:
            person, one_time = created[0]
            return render_template("organisation_created.html", person=person, one_time=one_time)
    return _form_page("Add a person", _person_fields(None, errors), errors, back=url_for("organisation.people"),
                      button="Add the person", roles=_role_choices(request.form.getlist("roles"), errors))


@blueprint.route("/people/<int:person_id>")
@login_required
def person(person_id: int):
    """A person's details, roles and the open work they hold."""
    person = _get(User, person_id)
    if person is None:
        abort(404)
    _require_view()
    line_manager = db.session.get(User, person.line_manager_id) if person.line_manager_id else None
    work = open_work(db.session, person)
    _viewed("person", subject=("user", person.id))
    team = db.session.get(Team, person.team_id) if person.team_id else None
    return render_template("organisation_person.html", person=person, team=team,
                           line_manager=line_manager, work=work, manage=_manage(),
                           hand_over=may_hand_over(current_user))


@blueprint.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(person_id: int):
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        details, errors = _details_from_form(team_id=person.team_id)
        if not errors:
            errors = perform(lambda: directory.change_person(db.session, _me(), person.id, _version(), details),
                              f"{person.display_name}'s details saved")
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    return _form_page(f"Change {person.display_name}'s details", _person_fields(person, errors), errors,
                      back=url_for("organisation.person", person_id=person.id), button="Save the details",
                      version=person.version if request.method == "GET" else request.form.get("version"))


@blueprint.route("/people/<int:person_id>/roles", methods=["GET", "POST"])
@login_required
def roles(person_id: int):
    """Grant one role, or remove one with a reason."""
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        role, reason, change = request.form.get("role", ""), request.form.get("reason", ""), request.form.get("change")
        operation = directory.grant_role if change == "grant" else directory.remove_role
        done = f"{ROLES.get(role, role)} {'granted to' if change == 'grant' else 'removed from'} {person.display_name}"
        errors = perform(lambda: operation(db.session, _me(), person.id, role, reason, _version()), done)
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    change = Field(kind="radios", name="change", id="change", label="Change", value=request.form.get("change", "grant"),
                   options=[Option("grant", "Grant a role"), Option("remove", "Remove a role")], inline=True)
    fields = [change, _select("role", "Role", [Option(k, v) for k, v in ROLES.items()], request.form.get("role", ""),
                              errors),
              _reason_field(errors, "Required to remove a role; kept in the audit trail.")]
    return _form_page(f"Change {person.display_name}'s roles", fields, errors,
                      back=url_for("organisation.person", person_id=person.id), button="Change the roles",
                      version=person.version if request.method == "GET" else request.form.get("version"),
                      held=sorted(ROLES[role] for role in person.roles if role in ROLES))


@blueprint.route("/people/<int:person_id>/move", methods=["GET", "POST"])
@login_required
def move(person_id: int):
    """Move a person to another team, with a reason; then hand over what they leave behind."""
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        errors = perform(lambda: directory.move_person(db.session, _me(), person.id, _id("team_id"),
                                                        request.form.get("reason", ""), _version()),
                          f"{person.display_name} moved")
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    fields = [_select("team_id", "New team", _team_options(), request.form.get("team_id", ""), errors),
              _reason_field(errors)]
    return _form_page(f"Move {person.display_name} to another team", fields, errors,
                      back=url_for("organisation.person", person_id=person.id), button="Move",
                      version=person.version if request.method == "GET" else request.form.get("version"))


@blueprint.route("/people/<int:person_id>/deactivate", methods=["GET", "POST"])
@login_required
def deactivate(person_id: int):
    """Mark a leaver: allowed with open work, which this page lists to be handed over."""
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        errors = perform(lambda: directory.deactivate_person(db.session, _me(), person.id,
                                                              request.form.get("reason", ""), _version()),
                          f"{person.display_name} deactivated: they can no longer sign in")
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    return _form_page(f"Deactivate {person.display_name}", [_reason_field(errors)], errors,
                      back=url_for("organisation.person", person_id=person.id), button="Deactivate",
                      version=person.version if request.method == "GET" else request.form.get("version"),
                      work=open_work(db.session, person), warning=True)


@blueprint.route("/people/<int:person_id>/reactivate", methods=["GET", "POST"])
@login_required
def reactivate(person_id: int):
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        errors = perform(lambda: directory.reactivate_person(db.session, _me(), person.id,
                                                              request.form.get("reason", ""), _version()),
                          f"{person.display_name} reactivated")
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    return _form_page(f"Reactivate {person.display_name}", [_reason_field(errors)], errors,
                      back=url_for("organisation.person", person_id=person.id), button="Reactivate",
                      version=person.version if request.method == "GET" else request.form.get("version"))


@blueprint.route("/people/<int:person_id>/password", methods=["GET", "POST"])
@login_required
def reset_password(person_id: int):
    """Give someone a new one-time password, shown once on this response."""
    person = _person_or_404(person_id)
    _require_manage()
    errors = {}
    if request.method == "POST":
        made = []
        errors = perform(lambda: made.append(directory.reset_password(db.session, _me(), person.id,
                                                                       request.form.get("reason", ""))), None)
        if not errors:
            return render_template("organisation_created.html", person=person, one_time=made[0], reset=True)
    return _form_page(f"Reset {person.display_name}'s password", [_reason_field(errors)], errors,
                      back=url_for("organisation.person", person_id=person.id), button="Reset the password")


# Helpers --------------------------------------------------------------------------------

def _details_from_form(team_id: int | None = None) -> tuple[directory.PersonDetails, dict]:
    form, errors = request.form, {}
    dates = {}
    for name, label in (("active_from", "start date"), ("active_to", "leaving date")):
        text = read_date(form, name)
        try:
            dates[name] = date.fromisoformat(text) if text else None
        except ValueError:
            errors[name] = f"The {label} must be a real date, for example 27 3 2027"
    details = directory.PersonDetails(
        username=form.get("username", ""), display_name=form.get("display_name", ""), email=form.get("email", ""),
        job_title=form.get("job_title", ""), employee_id=form.get("employee_id", ""),
        team_id=_id("team_id") if team_id is None else team_id, line_manager_id=_id("line_manager_id"),
        active_from=dates.get("active_from"), active_to=dates.get("active_to"))
    return details, errors


def _person_fields(person: User | None, errors: dict) -> list[Field]:
    value = _value_from(person, "username", "display_name", "email", "job_title", "employee_id", "team_id",
                        "line_manager_id")
    fields = [_text("display_name", "Full name", value("display_name"), errors),
              _text("username", "Username", value("username"), errors,
                    hint="What they sign in with: lower-case letters, digits, dots or hyphens."),
              _text("email", "Work email address", value("email"), errors),
              _text("job_title", "Job title", value("job_title"), errors, optional=True),
              _text("employee_id", "Employee id", value("employee_id"), errors, optional=True,
                    hint="As the HR system knows them: the staff import matches people by it.")]
    if person is None:
        fields.append(_select("team_id", "Team", _team_options(), value("team_id"), errors, optional=True))
    people = [Option(str(p.id), f"{p.display_name} ({p.job_title})") for p in db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.display_name)) if person is None or p.id != person.id]
    fields.append(_select("line_manager_id", "Line manager", people, value("line_manager_id"), errors, optional=True))
    for name, label in (("active_from", "Start date"), ("active_to", "Leaving date")):
        current = getattr(person, name) if person is not None and request.method == "GET" else None
        parts = ({"day": str(current.day), "month": str(current.month), "year": str(current.year)} if current else
                 {part: request.form.get(f"{name}-{part}", "") for part in ("day", "month", "year")})
        fields.append(Field(kind="date", name=name, id=name, label=label, optional=True, value=parts,
                            hint="For example 27 3 2027", error=errors.get(name)))
    return fields


def _role_choices(chosen: list[str], errors: dict) -> dict:
    return {"options": list(ROLES.items()), "chosen": set(chosen), "error": errors.get("role")}


def _title(existing, noun: str) -> str:
    """'Add a team', 'Change a team', or the team's name for someone who may only read it."""
    if existing is None:
        return f"Add a {noun}"
    return f"Change a {noun}" if _manage() else existing.name


def _form_page(title: str, fields: list[Field], errors: dict, *, back: str, button: str, **extra):
    problems = [errors[""]] if errors.get("") else []
    summary = [ErrorLink(f"#{field.id}", field.error) for field in fields if field.error]
    if errors.get("role") and "roles" in extra:
        summary.append(ErrorLink("#roles", errors["role"]))
    return render_template("organisation_form.html", title=title, fields=fields, summary=summary,
                           problems=problems, back=back, button=button, readonly=not _manage(),
                           **extra), (422 if summary or problems else 200)


def _text(name: str, label: str, value, errors: dict, **extra) -> Field:
    return Field(kind="text", name=name, id=name, label=label, value=value or "", error=errors.get(name), **extra)


def _select(name: str, label: str, options: list[Option], value, errors: dict, **extra) -> Field:
    return Field(kind="select", name=name, id=name, label=label, options=options, value=str(value or ""),
                 error=errors.get(name), **extra)


def _reason_field(errors: dict, hint: str = "Kept in the audit trail with what changed.") -> Field:
    return Field(kind="textarea", name="reason", id="reason", label="Reason", hint=hint,
                 value=request.form.get("reason", ""), error=errors.get("reason"))


def _value_from(existing, *names):
    """What a field shows: what was posted, else the record's value, else blank."""
    def value(name):
        if request.method == "POST":
            return request.form.get(name, "")
        return getattr(existing, name, "") if existing is not None else ""
    return value


def _people_with(role: str) -> list[Option]:
    from engine.accounts import UserRole
    return [Option(str(p.id), p.display_name) for p in db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active.is_(True)).order_by(User.display_name))]


def _team_options() -> list[Option]:
    return [Option(str(t.id), t.name) for t in db.session.scalars(select(Team).order_by(Team.name))]


def _id(name: str) -> int | None:
    return whole_number(request.form.get(name, ""), minimum=1)


def _version() -> int | None:
    return whole_number(request.form.get("version", ""), minimum=1)


def _get(model, key):
    if key is None:
        return None
    found = db.session.get(model, key)
    if found is None:
        abort(404)
    return found


def _person_or_404(person_id: int) -> User:
    return _get(User, person_id)


def _viewed(page: str, subject=None, **payload) -> None:
    """Reading who works where is recorded, like every other read of the organisation's records."""
    events.record(db.session, "organisation.viewed", actor_id=current_user.id, subject=subject,
                  payload={"page": page, **payload})
    db.session.commit()


def _manage() -> bool:
    return directory.may_manage(current_user)


def _require_view() -> None:
    if not directory.may_view(current_user):
        abort(403)


def _require_manage() -> None:
    if not directory.may_manage(current_user):
        abort(403)


def _require_manage_or_view(existing) -> None:
    """A record's page may be read by whoever may view; a page to create one, only by a manager."""
    if existing is None:
        _require_manage()
    else:
        _require_view()


def _me() -> User:
    return current_user._get_current_object()
