"""A person's own API tokens: see which still work and revoke any of them.

Only the person's own tokens are ever listed or revoked here; another person's token id
is answered as not found, so ids reveal nothing. (Changing one's password lives beside
signing in, in webapp.views.auth.)"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from engine.accounts import ApiToken, live_api_tokens_of, revoke_api_token
from webapp.extensions import db

blueprint = Blueprint("account", __name__, url_prefix="/account")


@blueprint.route("/tokens")
@login_required
def tokens():
    return render_template("account_tokens.html", tokens=live_api_tokens_of(db.session, current_user.id))


@blueprint.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    if revoke_api_token(db.session, row):
        db.session.commit()
        flash("The API token has been revoked. Anything using it can no longer reach the service.", "success")
    else:
        flash("That API token had already been revoked.", "info")
    return redirect(url_for("account.tokens"))
