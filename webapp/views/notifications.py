"""Each person's notifications: new tasks, reminders, overdue work, escalations.

The header link carries the unread count. A person sees only their own
notifications; opening one marks it read (and is recorded, since it names a case).
"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from engine.notifications import (NotificationNotFound, kind_label, mark_all_read, notifications_for,
                                  open_notification, unread_count)
from engine.runtime.errors import NotAllowed
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("notifications", __name__)


class _HeaderLabel:
    """The header link's text, with the signed-in person's unread count, worked out
    each time the header is drawn (the navigation registry holds one label per item)."""

    def __str__(self) -> str:
        count = unread_count(db.session, current_user.id)
        return f"Notifications ({count} unread)" if count else "Notifications"


add_item("notifications.notifications", _HeaderLabel())


@blueprint.route("/notifications")
@login_required
def notifications():
    """My notifications, newest first, the unread ones marked."""
    rows = notifications_for(db.session, current_user.id)
    return render_template("notifications.html", notifications=rows, kind_label=kind_label,
                           unread=sum(1 for row in rows if row.read_at is None))


@blueprint.route("/notifications/<int:notification_id>")
@login_required
def notification(notification_id: int):
    """One notification in full, with the link to the work it is about; now read."""
    try:
        found = open_notification(db.session, notification_id, current_user._get_current_object())
    except NotificationNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    db.session.commit()
    return render_template("notification.html", notification=found, kind_label=kind_label,
                           paragraphs=[p for p in found.text.split("\n\n") if p.strip()])


@blueprint.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    """Mark every notification read."""
    count = mark_all_read(db.session, current_user._get_current_object())
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read." if count
          else "You had no unread notifications.", "success")
    return redirect(url_for("notifications.notifications"))
