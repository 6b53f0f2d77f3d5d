"""Command line for operators: `python -m engine.cli <command>`.

The same set-up steps the one-command demo runs, usable on their own in production
(migrate, publish the process folder) and for inspectors (verify the audit trail),
without starting the web app. Every command works in its own session and commits
only when it has succeeded, so a failure leaves the database as it was.
"""
import argparse
import sys
from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select

import engine.qa  # noqa: F401  (registers the QA service operations the models name)
from engine.accounts import User
from engine.clock import clock
from engine.database import DEFAULT_DATABASE_URL, database_url_from_environment, make_session_factory
from engine.migrations import upgrade
from engine.qa import demo_data
from engine.qa import retention
from engine.qa.models import Service, Team
from engine.qa.trail_export import ExportError, ExportFilters, export_directory, request_export, run_export
from engine.runtime.events import verify_chain
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


def seed_demo(url: str, seed: int) -> None:
    """Only ever into an empty database: demo people beside real ones would be a hazard."""
    with _session(url) as session:
        users = session.scalar(select(func.count()).select_from(User))
        if users:
            print(f"Not seeding demo data: the database already has {users} users.")
            return
        counts = demo_data.generate(session, seed=seed)
    print(f"Seeded the demo council (seed {seed}): {counts['teams']} teams, "
          f"{counts['workers']} social workers, {counts['cases']} cases.")


def setup_demo(url: str, seed: int) -> None:
    migrate(url)
    publish(url)
    seed_demo(url, seed)


def verify(url: str) -> int:
    with _session(url) as session:
        report = verify_chain(session)
    if report.ok:
        print(f"OK: {report.checked} events, head hash {report.head_hash}")
        return 0
    print(f"BROKEN at event {report.first_broken_seq}: {report.problem} "
          f"({report.checked} events verified before it)", file=sys.stderr)
    return 1


def export_trail(url: str, by: str, months: int | None, start: str | None, end: str | None, service: str | None,
                 team: str | None, audit_type: str | None) -> int:
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
        choices = {"service_id": service_id, "team_id": team_id, "audit_type": audit_type}
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
    commands.add_parser("verify-chain", help="recompute the audit trail's hash chain")
    command = commands.add_parser("export", help="export the audit trail for inspectors (a zip, made in the foreground)")
    command.add_argument("--by", metavar="USERNAME", required=True, help="the QA lead or director asking, for the trail")
    command.add_argument("--months", type=int, choices=(6, 12), help="the last 6 or 12 months (default 12)")
    command.add_argument("--start", metavar="YYYY-MM-DD", help="with --end: audits allocated from this day")
    command.add_argument("--end", metavar="YYYY-MM-DD", help="with --start: to this day")
    command.add_argument("--service", help="one service, by name")
    command.add_argument("--team", help="one team, by name")
    command.add_argument("--type", dest="audit_type", choices=("random", "thematic", "dip_sample"))
    commands.add_parser("apply-retention", help="anonymise or remove records past their retention period now")
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
    elif args.command == "verify-chain":
        return verify(url)
    elif args.command == "export":
        return export_trail(url, args.by, args.months, args.start, args.end, args.service, args.team, args.audit_type)
    elif args.command == "apply-retention":
        return apply_retention(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
