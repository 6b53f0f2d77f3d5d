"""Export a year of audits for inspectors, and check the zip file by file against its manifest.

The issue's budget: a year of audits exports in well under a minute. This makes a
fresh SQLite database with the demo council, writes a reporting year of completed
audits with the direct generator (engine.qa.demo_history: nine six-weekly cycles,
the domain's grade mix, a realistic trail of events including who viewed each audit),
then times the export the QA lead would ask for and verifies what it produced:
every file's SHA-256 and size against the manifest, nothing unlisted, one PDF per
audit, the manifest's chain head, and every exported event's hash recomputed.

    .venv/bin/python -m bench.export_year                      # 3,150 audits, about 240,000 events
    .venv/bin/python -m bench.export_year --audits-per-cycle 100 --workers 1

It is a benchmark, not a test: it prints figures and exits 1 only if the export is wrong.
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

import engine.qa  # noqa: F401  (registers the service operations)
from engine.accounts import User
from engine.database import make_session_factory
from engine.migrations import upgrade
from engine.qa import demo_data
from engine.qa.demo_history import random_plans, write_history
from engine.qa.trail_export import ExportFilters, request_export, run_export
from engine.runtime.events import canonical_json, event_hash, verify_chain
from engine.runtime.models import Event
from engine.runtime.registry import publish_all_from_disk

YEAR = ExportFilters(date(2025, 4, 1), date(2026, 3, 31))


def build_year(url: str, audits_per_cycle: int, views: tuple[int, int]) -> dict:
    """The council and a year of audits in a fresh database; returns counts and the time taken."""
    started = time.perf_counter()
    upgrade(url)
    factory = make_session_factory(url)
    with factory() as session:
        publish_all_from_disk(session)
        demo_data.generate(session, seed=2026)
        session.commit()
        plans = random_plans(session, YEAR.start, cycles=9, audits_per_cycle=audits_per_cycle, seed=2026, views=views)
        write_history(session, plans)
        session.commit()
        counts = {"audits": len(plans), "events": session.scalar(select(func.count()).select_from(Event))}
    factory.kw["bind"].dispose()
    return {**counts, "seconds": time.perf_counter() - started}


def export_year(url: str, directory: Path, workers: int):
    factory = make_session_factory(url)
    with factory() as session:
        lead = session.scalar(select(User).where(User.username == "qa.lead"))
        export_id = request_export(session, lead, YEAR).id
        session.commit()
    started = time.perf_counter()
    done = run_export(factory, export_id, directory, workers=workers)
    seconds = time.perf_counter() - started
    with factory() as session:
        chain_started = time.perf_counter()
        chain = verify_chain(session)
        chain_seconds = time.perf_counter() - chain_started
    factory.kw["bind"].dispose()
    return done, seconds, chain, chain_seconds


def check_zip(path: Path, export, audits: int) -> tuple[list[str], int, int]:
    """Everything wrong with the zip, checked against its own manifest (no problems when all is well),
    with how many files and events it holds."""
    problems = []
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        listed = {item["path"]: item for item in manifest["files"]}
        if set(archive.namelist()) != set(listed) | {"manifest.json"}:
            problems.append("the zip's files and the manifest's list differ")
        for name, item in listed.items():
            data = archive.read(name)
            if (hashlib.sha256(data).hexdigest(), len(data)) != (item["sha256"], item["bytes"]):
                problems.append(f"{name}: SHA-256 or size differs from the manifest")
        pdfs = sum(name.startswith("audits/") and name.endswith(".pdf") for name in listed)
        if pdfs != audits:
            problems.append(f"{pdfs} audit PDFs for {audits} audits")
        if manifest["chain_head"] != {"seq": export.chain_head_seq, "hash": export.chain_head_hash}:
            problems.append("the manifest's chain head is not the one the export began from")
        events = json.loads(archive.read("events.json"))["events"]
        for event in events:
            fields = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"]),
                      "payload": canonical_json(event["payload"])}
            if event_hash(fields) != event["hash"]:
                problems.append(f"event {event['seq']}: its hash does not match its content")
                break
    if hashlib.sha256(path.read_bytes()).hexdigest() != export.sha256:
        problems.append("the zip's SHA-256 differs from the one recorded")
    return problems, len(listed), len(events)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audits-per-cycle", type=int, default=350, help="nine cycles make the year (default 350)")
    parser.add_argument("--views", type=int, nargs=2, default=(45, 65), metavar=("MIN", "MAX"),
                        help="how many times each audit was opened (default 45 65)")
    parser.add_argument("--workers", type=int, default=2, help="processes drawing PDFs (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'year.sqlite'}"
        print(f"Python {platform.python_version()}, {os.cpu_count()} cores, SQLite")
        built = build_year(url, args.audits_per_cycle, tuple(args.views))
        print(f"Generated {built['audits']:,} audits and {built['events']:,} events in {built['seconds']:.1f} s")
        export, seconds, chain, chain_seconds = export_year(url, Path(scratch) / "exports", args.workers)
        if export.status != "done":
            print(f"The export failed: {export.error}")
            return 1
        path = Path(scratch) / "exports" / export.file_name
        problems, files, events = check_zip(path, export, built["audits"])
        print(f"Exported {built['audits']:,} audits ({files:,} files, {events:,} events, "
              f"{export.size_bytes / 1048576:.0f} MB zip) in {seconds:.1f} s: "
              f"{1000 * seconds / built['audits']:.1f} ms an audit, {args.workers} PDF workers")
        print(f"Verified the chain ({chain.checked:,} events) in {chain_seconds:.1f} s: {'intact' if chain.ok else chain.problem}")
        print("Checked every file against the manifest: " + ("all match" if not problems else "; ".join(problems)))
        return 1 if problems or not chain.ok else 0


if __name__ == "__main__":
    sys.exit(main())
