"""The notifications page: the unread count in the header, opening one, marking all read."""
from sqlalchemy import select

from engine.notification_models import Notification
from engine.notifications import notify
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named


def _send_two(app):
    from webapp.extensions import db
    with app.app_context():
        qa_lead = user_named(db.session, "qa.lead")
        first = notify(db.session, qa_lead.id, "overdue", "Overdue: audit AUD-2026-00001 (case CS100001)",
                       "The audit was due on 3 December 2026.\n\nPlease finish it.", link="/tasks/1")
        notify(db.session, qa_lead.id, "escalation", "Escalation: AUD-2026-00002", "Moderation is overdue.")
        db.session.commit()
        return first.id


def test_unread_count_in_the_header_and_reading(app, client):
    first = _send_two(app)
    sign_in(client, "qa.lead")
    inbox = client.get("/inbox").text
    assert "Notifications (2 unread)" in inbox

    page = client.get("/notifications").text
    assert page.count("govuk-tag--blue") == 2 and "Overdue: audit AUD-2026-00001 (case CS100001)" in page
    assert 'action="/notifications/read"' in page and 'name="csrf_token"' in page

    opened = client.get(f"/notifications/{first}")
    assert opened.status_code == 200
    assert "<p class=\"govuk-body\">Please finish it.</p>" in opened.text and 'href="/tasks/1"' in opened.text
    assert "Notifications (1 unread)" in opened.text

    done = client.post("/notifications/read", follow_redirects=True)
    assert "Marked 1 notification as read." in done.text and "Notifications (" not in done.text
    from webapp.extensions import db
    with app.app_context():
        assert all(row.read_at is not None for row in db.session.scalars(select(Notification)))
        kinds = set(db.session.scalars(select(Event.kind).where(Event.kind.like("notification.%"))))
        assert kinds == {"notification.sent", "notification.read", "notification.all_read"}


def test_someone_elses_notification_is_refused_and_unknown_is_not_found(app, client):
    first = _send_two(app)
    sign_in(client, "qa.officer1")
    assert client.get(f"/notifications/{first}").status_code == 403
    assert client.get("/notifications/999999").status_code == 404
    assert "You have no notifications." in client.get("/notifications").text
