"""Command line for operators: `python -m engine.cli <command>`.

The same set-up steps the one-command demo runs, usable on their own in production
(migrate, publish the process folder) and for inspectors (verify the audit trail),
without starting the web app. Every command works in its own session and commits
only when it has succeeded, so a failure leaves the database as it was.
"""
import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from datetime import date

from sqlalchemy import func, select

import engine.qa  # noqa: F401  (registers the QA service operations the models name)
from engine.accounts import User
from engine.clock import clock
from engine.database import DEFAULT_DATABASE_URL, database_url_from_environment, make_session_factory
from engine.migrations import upgrade
from engine.organisation import directory, staff_import
from engine.qa import cycles, demo_data, register_jobs
from engine.qa.case_register import RegisterFormatError
from engine.qa.cycle_models import SAMPLE_BASES
from engine.qa import demo_activities, demo_history, retention
from engine.qa.models import Service, Team
from engine.qa.trail_export import ExportError, ExportFilters, export_directory, request_export, run_export
from engine.runtime.errors import WorkflowError
from engine.runtime.events import verify_chain
from engine.runtime.submissions import verify_submissions
from engine.runtime.models import ProcessVersion
from engine.runtime.registry import publish_all_from_disk

DEMO_SEED = 2026  # the demo council everyone sees; the same seed gives the same people


@contextmanager
def _session(url: str):
    """A session that commits on success and always releases its connections, so the
    next command (or the web app in the same process) sees the database unlocked."""
    session = make_session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        session.bind.dispose()


def migrate(url: str) -> None:
    upgrade(url)
    print("Database schema is up to date.")


def publish(url: str) -> None:
    """Publishing unchanged files is a no-op in the registry; say which case each model is."""
    with _session(url) as session:
        known = set(session.scalars(select(ProcessVersion.id)))
        versions = publish_all_from_disk(session)
    for version in versions:
        state = "Unchanged" if version.id in known else "Published"
        print(f"{state}: {version.process_key} version {version.version} ({version.content_hash[:12]}).")


def seed_demo(url: str, seed: int) -> bool:
    """Only ever into an empty database: demo people beside real ones would be a hazard.
    Returns whether the council was created."""
    with _session(url) as session:
        users = session.scalar(select(func.count()).select_from(User))
        if users:
            print(f"Not seeding demo data: the database already has {users} users.")
            return False
        counts = demo_data.generate(session, seed=seed)
    print(f"Seeded the demo council (seed {seed}): {counts['teams']} teams, "
          f"{counts['workers']} social workers, {counts['cases']} cases.")
    return True


def setup_demo(url: str, seed: int, with_history: bool = False) -> None:
    """Migrate, publish and seed an empty database; with_history also completes a few
    past cycles' audits through the real process, so reports and trackers have data."""
    migrate(url)
    publish(url)
    if seed_demo(url, seed) and with_history:
        seed_history(url, cycles=3, per_cycle=4)


def verify(url: str) -> int:
    with _session(url) as session:
        report = verify_chain(session)
        submissions = verify_submissions(session)
    if not report.ok:
        print(f"BROKEN at event {report.first_broken_seq}: {report.problem} "
              f"({report.checked} events verified before it)", file=sys.stderr)
        return 1
    print(f"OK: {report.checked} events, head hash {report.head_hash}")
    if submissions.mismatched:
        print(f"CHANGED: submitted answers {submissions.mismatched} no longer match their events", file=sys.stderr)
        return 1
    print(f"OK: {submissions.checked} submitted answer sets match their events "
          f"({submissions.anonymised} anonymised)")
    return 0


def export_trail(url: str, by: str, months: int | None, start: str | None, end: str | None, service: str | None,
                 team: str | None, audit_type: str | None, activity: str | None = None) -> int:
    """Make an inspector export in the foreground, with progress; prints the zip's path and SHA-256."""
    with _session(url) as session:
        user = session.scalar(select(User).where(User.username == by, User.active.is_(True)))
        service_id = session.scalar(select(Service.id).where(Service.name == service)) if service else None
        team_id = session.scalar(select(Team.id).where(Team.name == team)) if team else None
        unknown = [f"no user '{by}'"] * (user is None) + [f"no service '{service}'"] * (bool(service) and not service_id) \
            + [f"no team '{team}'"] * (bool(team) and not team_id)
        if unknown:
            print(f"Not exported: there is {' and '.join(unknown)}.", file=sys.stderr)
            return 2
        choices = {"service_id": service_id, "team_id": team_id, "audit_type": audit_type, "activity": activity}
        try:
            filters = (ExportFilters(date.fromisoformat(start), date.fromisoformat(end), **choices) if start and end
                       else ExportFilters.last_months(months or 12, clock.today(), **choices))
            export_id = request_export(session, user, filters).id
        except (ExportError, ValueError) as refused:
            session.rollback()
            print(f"Not exported: {refused}", file=sys.stderr)
            return 1
    factory = make_session_factory(url)
    try:
        done = run_export(factory, export_id, export_directory(),
                          progress=lambda count, total: print(f"{count} of {total} audits", flush=True))
    finally:
        factory.kw["bind"].dispose()
    if done.status != "done":
        print(f"Export {export_id} failed: {done.error}", file=sys.stderr)
        return 1
    print(f"Export {export_id}: {export_directory() / done.file_name}\nSHA-256 {done.sha256}")
    return 0


def apply_retention(url: str) -> int:
    """Anonymise or remove what is past its retention period now, as the scheduler would."""
    with _session(url) as session:
        counts = retention.apply_retention(session)
    print(f"Retention applied: {counts['audits_anonymised']} audits anonymised, {counts['drafts_deleted']} drafts "
          f"and {counts['export_files_deleted']} export files deleted.")
    return 0


def import_cases(url: str, path: str, good_rows_only: bool, by: str | None) -> int:
    """Import the case register from a CSV or XLSX file, printing progress as rows are checked.

    The same rules as the register page: a file with bad rows changes nothing unless
    --good-rows-only; every bad row is printed with its line. Exits 1 if nothing was imported."""
    file = _existing_file(path)
    if file is None:
        return 2
    with _session(url) as session:
        known, actor = _optional_person(session, by)
        if not known:
            return 2
        job_id = register_jobs.begin(session, file.name, actor_id=actor.id if actor else None, background=False)
        session.commit()
        print(f"Reading {file.name}...", flush=True)
        try:
            report = register_jobs.run_import(
                session, job_id, file.name, file.read_bytes(), actor_id=actor.id if actor else None,
                apply_good_rows=good_rows_only,
                progress=lambda done, total: print(f"Checked {done} of {total} rows", flush=True))
        except RegisterFormatError as error:
            print(f"Cannot import {file.name}: {error} Nothing was changed.", file=sys.stderr)
            return 1
    for line, reason in report.errors:
        print(f"Line {line}: {reason}", file=sys.stderr)
    if not report.applied:
        print(f"Nothing imported: {len(report.errors)} of {report.rows} rows are wrong "
              "(correct them, or use --good-rows-only to import the rest).", file=sys.stderr)
        return 1
    print(f"Imported {report.rows - len(report.errors)} rows: {report.created} new cases, "
          f"{report.updated} updated, {report.unchanged} unchanged"
          + (f"; {len(report.errors)} bad rows left out." if report.errors else "."))
    return 0


def start_cycle(url: str, by: str, sample_basis: str | None, sample_size: int | None,
                cadence_weeks: int | None) -> int:
    """Start an allocation cycle as the QA lead named by --by (or the scheduled one early);
    settings left out come from the published cycle model."""
    with _session(url) as session:
        user = _person(session, by)
        if user is None:
            print(f"There is no active user '{by}'.", file=sys.stderr)
            return 2
        try:
            scheduled = cycles.scheduled_cycle(session)
            if scheduled is not None:
                cycle = cycles.start_scheduled_cycle_early(session, scheduled, user)
            else:
                defaults = cycles.default_settings(session)
                cycle = cycles.start_cycle(
                    session, user, sample_basis=sample_basis or defaults.sample_basis,
                    sample_size=defaults.sample_size if sample_size is None else sample_size,
                    cadence_weeks=defaults.cadence_weeks if cadence_weeks is None else cadence_weeks)
        except WorkflowError as refused:
            session.rollback()
            print(f"Not started: {refused}", file=sys.stderr)
            return 1
        drawn = len(cycles.allocations(session, cycle))
        print(f"{cycle.label} drawn with seed {cycle.seed}: {drawn} cases proposed"
              + (f" ({cycle.draw_problem})" if cycle.draw_problem else "")
              + f". Review them at /cycles/{cycle.id}/review; no audit starts until the QA lead confirms.")
    return 0


def create_admin(url: str, username: str, name: str, email: str) -> int:
    """Make the first system administrator of a fresh database (or another one later) and print
    a one-time password they must change at first sign-in. Refuses a username that exists."""
    with _session(url) as session:
        if directory.person_by_username(session, username) is not None:
            print(f"Not created: there is already a user '{username}'.", file=sys.stderr)
            return 1
        try:
            person, one_time = directory.create_person(
                session, None, directory.PersonDetails(username=username, display_name=name, email=email,
                                                       job_title="System administrator"),
                [directory.ADMINISTRATOR], reason="Created with the create-admin command")
        except WorkflowError as refused:
            session.rollback()
            print(f"Not created: {refused}", file=sys.stderr)
            return 1
    print(f"Created the system administrator {person.username}.\n"
          f"One-time password (shown once; it must be changed at first sign-in): {one_time}")
    return 0


def import_staff(url: str, path: str, by: str | None, apply: bool, good_rows_only: bool) -> int:
    """Preview (or with --apply, make) the changes a staff list from HR or Active Directory brings.

    Prints who joins, moves, leaves and changes, and every bad row by line. A file with bad
    rows changes nothing unless --good-rows-only. Exits 1 if the file was not applied as asked."""
    file = _existing_file(path)
    if file is None:
        return 2
    with _session(url) as session:
        known, actor = _optional_person(session, by)
        if not known:
            return 2
        try:
            report = staff_import.import_staff(session, file.name, file.read_bytes(), by=actor, apply=apply,
                                               good_rows_only=good_rows_only)
        except (staff_import.SpreadsheetFormatError, WorkflowError) as refused:
            session.rollback()
            print(f"Cannot import {file.name}: {refused} Nothing was changed.", file=sys.stderr)
            return 1
    for kind, label in staff_import.CHANGE_KINDS.items():
        for line, what in report.of_kind(kind):
            print(f"{label}: {what} (line {line})")
    for line, reason in report.errors:
        print(f"Line {line}: {reason}", file=sys.stderr)
    summary = f"{report.rows} rows: {len(report.changes)} changes, {report.unchanged} unchanged, {len(report.errors)} bad"
    if not apply:
        print(f"Preview only ({summary}). Run again with --apply to make these changes.")
        return 0
    if not report.applied:
        print(f"Nothing imported ({summary}): correct the bad rows, or use --good-rows-only.", file=sys.stderr)
        return 1
    print(f"Imported ({summary}).")
    return 0


def _existing_file(path: str) -> Path | None:
    """The file to import, or None after saying it is not there."""
    file = Path(path)
    if not file.is_file():
        print(f"There is no file {path}.", file=sys.stderr)
        return None
    return file


def _optional_person(session, username: str | None) -> tuple[bool, User | None]:
    """Who `--by` names (None when not given); False first when it names nobody active, after saying so."""
    if not username:
        return True, None
    person = _person(session, username)
    if person is None:
        print(f"There is no active user '{username}'.", file=sys.stderr)
    return person is not None, person


def _person(session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username, User.active.is_(True)))


def seed_history(url: str, cycles: int, per_cycle: int) -> int:
    """Walk a few audits per past cycle through the real process, so the demo has reports to read."""
    with _session(url) as session:
        ids = demo_history.run_demo_history(session, cycles=cycles, audits_per_cycle=per_cycle)
        thematic = demo_activities.run_thematic_history(session)
        published = f"{thematic.reference} ({len(thematic.sample)} audits)" if thematic is not None else None
        dip = demo_activities.run_dip_sample_history(session)
        dipped = dip.reference if dip is not None else None
        practice_week = demo_activities.run_practice_week_history(session)
        multi_agency = demo_activities.run_multi_agency_history(session)
        annual_report = demo_activities.run_annual_report_history(session)
    print(f"Completed {len(ids)} audits over the last {cycles} cycles through the case file audit process.")
    if published:
        print(f"Published thematic audit {published} through its process.")
    if dipped:
        print(f"Completed dip sample {dipped} through its process.")
    if practice_week:
        print("Closed a practice week through its process; the scheduler starts one each period.")
    if multi_agency:
        print("Agreed a multi-agency audit with health and police through its process.")
    if annual_report:
        print("Signed off last reporting year's annual QA report through its process.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine.cli",
        description="Operate the case file audit database. The database is QA_DATABASE_URL "
                    f"(default {DEFAULT_DATABASE_URL}).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the schema to the newest migration")
    commands.add_parser("publish", help="publish every changed process model in processes/")
    for name, text in (("seed-demo", "generate the fictional demo council, if there are no users yet"),
                       ("setup-demo", "migrate, publish and seed the demo council if empty")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--seed", type=int, default=DEMO_SEED, help="the same seed gives the same council")
    command = commands.add_parser("create-admin", help="create a system administrator with a one-time password")
    command.add_argument("username")
    command.add_argument("--name", required=True, help="their full name")
    command.add_argument("--email", required=True, help="their work email address")
    commands.add_parser("verify-chain", help="recompute the audit trail's hash chain")
    command = commands.add_parser("import-cases", help="import the open-case register from a CSV or XLSX file")
    command.add_argument("file", help="the register exported from the case management system")
    command.add_argument("--good-rows-only", action="store_true", help="import the good rows even if some are bad")
    command.add_argument("--by", metavar="USERNAME", help="who is importing, for the audit trail")
    command = commands.add_parser("import-staff", help="preview or apply a staff list from HR or Active Directory")
    command.add_argument("file", help="the CSV or XLSX export")
    command.add_argument("--by", metavar="USERNAME", help="the system administrator importing, for the trail")
    command.add_argument("--apply", action="store_true", help="make the changes (without it: preview only)")
    command.add_argument("--good-rows-only", action="store_true", help="with --apply, apply the good rows even if some are bad")
    command = commands.add_parser("start-cycle", help="start an allocation cycle (or the scheduled one early)")
    command.add_argument("--by", metavar="USERNAME", required=True, help="the QA lead starting it")
    command.add_argument("--sample-basis", choices=sorted(SAMPLE_BASES), help="count cases per team or audits per auditor")
    command.add_argument("--sample-size", type=int, help="cases per team, or audits per auditor")
    command.add_argument("--cadence-weeks", type=int, help="weeks until the next cycle starts (0: none)")
    command = commands.add_parser("export", help="export the audit trail for inspectors (a zip, made in the foreground)")
    command.add_argument("--by", metavar="USERNAME", required=True, help="the QA lead or director asking, for the trail")
    command.add_argument("--months", type=int, choices=(6, 12), help="the last 6 or 12 months (default 12)")
    command.add_argument("--start", metavar="YYYY-MM-DD", help="with --end: audits allocated from this day")
    command.add_argument("--end", metavar="YYYY-MM-DD", help="with --start: to this day")
    command.add_argument("--service", help="one service, by name")
    command.add_argument("--team", help="one team, by name")
    command.add_argument("--type", dest="audit_type", choices=("random", "thematic", "dip_sample"))
    command.add_argument("--activity", help="one activity, by process key (thematic_audit, annual_report, ...)")
    commands.add_parser("apply-retention", help="anonymise or remove records past their retention period now")
    command = commands.add_parser("seed-history", help="demo only: complete audits in past cycles through the real process")
    command.add_argument("--cycles", type=int, default=3, help="how many past six-weekly cycles (default 3)")
    command.add_argument("--per-cycle", type=int, default=4, help="audits in each (default 4)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = database_url_from_environment()
    if args.command == "migrate":
        migrate(url)
    elif args.command == "publish":
        publish(url)
    elif args.command == "seed-demo":
        seed_demo(url, args.seed)
    elif args.command == "setup-demo":
        setup_demo(url, args.seed)
    elif args.command == "create-admin":
        return create_admin(url, args.username, args.name, args.email)
    elif args.command == "verify-chain":
        return verify(url)
    elif args.command == "import-cases":
        return import_cases(url, args.file, args.good_rows_only, args.by)
    elif args.command == "import-staff":
        return import_staff(url, args.file, args.by, args.apply, args.good_rows_only)
    elif args.command == "start-cycle":
        return start_cycle(url, args.by, args.sample_basis, args.sample_size, args.cadence_weeks)
    elif args.command == "export":
        return export_trail(url, args.by, args.months, args.start, args.end, args.service, args.team, args.audit_type,
                            args.activity)
    elif args.command == "apply-retention":
        return apply_retention(url)
    elif args.command == "seed-history":
        return seed_history(url, args.cycles, args.per_cycle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
