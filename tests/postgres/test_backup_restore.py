"""Backup and restore as the README gives them: pg_dump in custom format, pg_restore into a
new database, and the audit trail still verifies there with the same counts."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine import cli
from engine.database import make_session_factory
from engine.qa.models import Audit
from engine.runtime.models import Event, ProcessInstance
from tests.postgres.conftest import new_database
from tests.postgres.running import PROJECT, environment

pytestmark = pytest.mark.postgres

TOOL_SECONDS = 300


def client_tool(name: str, server_major: int) -> str:
    """The PostgreSQL client program `name` for this server: Debian's copy for the server's
    major version if there is one, else the one on PATH, as long as it is not older than the
    server (pg_dump refuses to dump a newer server)."""
    for candidate in (f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name)):
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=True).stdout
            major = int(re.search(r"\(PostgreSQL\) (\d+)", version).group(1))
            if major >= server_major:
                return candidate
    pytest.fail(f"no {name} for PostgreSQL {server_major}: apt-get install postgresql-client-{server_major}",
                pytrace=False)


def counts(url: str) -> dict[str, int]:
    factory = make_session_factory(url)
    try:
        with factory() as session:
            return {"instances": session.scalar(select(func.count()).select_from(ProcessInstance)),
                    "events": session.scalar(select(func.count()).select_from(Event)),
                    "audits": session.scalar(select(func.count()).select_from(Audit)),
                    "closed audits": session.scalar(select(func.count()).select_from(Audit)
                                                    .where(Audit.status == "closed")),
                    "server": session.scalar(text("SHOW server_version_num"))}
    finally:
        factory.kw["bind"].dispose()


def test_a_dump_restored_into_a_new_database_verifies_with_the_same_counts(postgres_url, postgres_server_url,
                                                                           tmp_path):
    assert cli.seed_history(postgres_url, cycles=1, per_cycle=2) == 0  # audits completed through the process
    before = counts(postgres_url)
    assert before["closed audits"] >= 1 and before["events"] > 0
    server_major = int(before.pop("server")) // 10000
    dump = tmp_path / "qa.dump"

    subprocess.run([client_tool("pg_dump", server_major), "--format=custom", f"--file={dump}", postgres_url],
                   check=True, timeout=TOOL_SECONDS)
    with new_database(postgres_server_url) as restored_url:
        subprocess.run([client_tool("pg_restore", server_major), "--no-owner", "--exit-on-error",
                        f"--dbname={restored_url}", str(dump)], check=True, timeout=TOOL_SECONDS)
        verified = subprocess.run([sys.executable, "-m", "engine.cli", "verify-chain"], cwd=PROJECT,
                                  env=environment(restored_url), capture_output=True, text=True, timeout=TOOL_SECONDS)
        after = counts(restored_url)
    after.pop("server")

    assert verified.returncode == 0, verified.stderr
    assert f"OK: {before['events']} events, head hash" in verified.stdout
    assert after == before
