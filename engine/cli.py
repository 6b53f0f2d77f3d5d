"""Command line for operators: `python -m engine.cli <command>`.

The same set-up steps the one-command demo runs, usable on their own in production
(migrate, publish the process folder) and for inspectors (verify the audit trail),
without starting the web app. Every command works in its own session and commits
only when it has succeeded, so a failure leaves the database as it was.
"""
import argparse
import sys
from contextlib import contextmanager

from sqlalchemy import func, select

import engine.qa  # noqa: F401  (registers the QA service operations the models name)
from engine.accounts import User
from engine.database import DEFAULT_DATABASE_URL, database_url_from_environment, make_session_factory
from engine.migrations import upgrade
from engine.qa import demo_data
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
