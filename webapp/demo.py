"""The one-command demo: `python -m webapp.demo` (what `make demo` runs).

Sets up the database (migrate, publish the process models, seed the fictional
council if empty), starts the timer scheduler inside this process, and serves the
web app on this machine over plain HTTP. Production runs these as separate
processes instead: gunicorn for the app, `python -m engine.scheduler` for timers.
"""
import os

# Before the app reads its configuration: the demo serves plain HTTP on localhost,
# where a browser would never send back a Secure cookie.
os.environ["QA_INSECURE_COOKIES"] = "1"

from engine import cli  # noqa: E402
from engine.database import database_url_from_environment  # noqa: E402
from engine.operations_log import configure_logging  # noqa: E402
from engine.qa.demo_data import DEMO_PASSWORD  # noqa: E402
from engine.scheduler import start_background_scheduler  # noqa: E402
from webapp import create_app  # noqa: E402

HOST = "127.0.0.1"
DEMO_LOGINS = (
    ("Quality assurance lead", "qa.lead"),
    ("Head of service (Child in Need and Child Protection)", "hos.cincp"),
    ("Team manager (auditor)", "tm.safeguarding1"),
    ("Social worker (practitioner)", "sw.safeguarding1.1"),
    ("Principal social worker", "psw"),
    ("Director of children's services", "director"),
    ("Process owner", "process.owner"),
)


def main() -> None:
    configure_logging()
    database_url = database_url_from_environment()
    port = int(os.environ.get("PORT", 5000))
    cli.setup_demo(database_url, seed=cli.DEMO_SEED, with_history=True)
    scheduler = start_background_scheduler(database_url)
    print(f"\nCase file audit demo: open http://{HOST}:{port}\n")
    print(f"Demo logins (password for every one: {DEMO_PASSWORD}):")
    for role, username in DEMO_LOGINS:
        print(f"  {username:<20} {role}")
    print("\nPress Ctrl+C to stop.\n")
    try:
        create_app().run(host=HOST, port=port, debug=False, threaded=True)
    finally:
        scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
