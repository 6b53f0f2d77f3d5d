"""Single sign-on through a real OpenID Connect provider started on 127.0.0.1.

Each sign-in goes the whole way: the app redirects to the provider with PKCE, state and
nonce; the provider's own sign-in form is submitted as a person with claims; the app
exchanges the code over HTTP, verifies the signed ID token and decides who it is.
"""
import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from engine.accounts import NO_PASSWORD, User
from engine.runtime.models import Event
from engine.single_sign_on import parse_role_map, policy_from_settings
from tests.conftest import user_named
from tests.oidc_provider import Provider, path_of, with_changed_claims
from webapp.extensions import db

WORKER_OID = "5f1c0a64-8a8e-4b83-9a55-0d3b3c1f7a21"
ROLE_MAP = "QA.Lead=qa_lead,Audit.Manager=team_manager"


@pytest.fixture
def provider(monkeypatch):
    # The provider (Authlib's server) refuses plain HTTP unless told it is a test.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    started = Provider()
    yield started
    started.stop()


@pytest.fixture
def sso_app(make_app, provider):
    def build(**overrides):
        return make_app(OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="case-file-audit",
                        OIDC_CLIENT_SECRET="test-secret", **overrides)
    return build


def sign_in_through(provider, client, sub: str):
    """Follow the whole authorisation code flow as `sub`; returns the app's last response."""
    start = client.get("/sign-in/oidc")
    assert start.status_code == 302
    return client.get(path_of(provider.authorize(start.headers["Location"], sub)))


def signed_in_as(client) -> str | None:
    page = client.get("/inbox")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True).split("Signed in as <strong>")[1].split("<")[0]


def events(app, kind: str) -> list[dict]:
    with app.app_context():
        return [json.loads(e.payload) | {"subject_id": e.subject_id, "actor_id": e.actor_id}
                for e in db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq))]


def person(app, username: str) -> User:
    with app.app_context():
        user = user_named(db.session, username)
        db.session.expunge(user)
        return user


def test_the_sign_in_page_offers_the_council_account(sso_app):
    page = sso_app().test_client().get("/sign-in").get_data(as_text=True)
    assert "Sign in with Northbridge Council account" in page
    assert 'name="password"' in page


def test_a_demo_person_is_matched_by_email_then_by_oid(sso_app, provider):
    app = sso_app()
    provider.set_person("entra-1", oid=WORKER_OID, email="TM.Safeguarding1@example.invalid", name="Someone")
    client = app.test_client()
    start = client.get("/sign-in/oidc?next=/notifications")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    assert query["scope"] == ["openid email profile"]
    back = client.get(path_of(provider.authorize(start.headers["Location"], "entra-1")))
    assert back.status_code == 302 and back.headers["Location"].endswith("/notifications")
    assert signed_in_as(client) == person(app, "tm.safeguarding1").display_name

    # PKCE: the verifier sent with the code is the one whose S256 hash went to the provider.
    verifier = provider.token_requests[-1]["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge]

    assert person(app, "tm.safeguarding1").oidc_subject == WORKER_OID
    user_id = str(person(app, "tm.safeguarding1").id)
    assert [e["matched_by"] for e in events(app, "user.signed_in") if e["subject_id"] == user_id] == ["email"]
    assert len(events(app, "user.sso_linked")) == 1

    # Later the email changes at the provider: the stored oid still finds the same person.
    provider.set_person("entra-1", oid=WORKER_OID, email="renamed@example.invalid")
    again = app.test_client()
    assert sign_in_through(provider, again, "entra-1").status_code == 302
    assert signed_in_as(again) == person(app, "tm.safeguarding1").display_name
    signed_in = [e for e in events(app, "user.signed_in") if e["subject_id"] == user_id]
    assert [(e["method"], e["matched_by"]) for e in signed_in] == [("oidc", "email"), ("oidc", "subject")]


def test_without_oid_the_sub_claim_is_the_identity(sso_app, provider):
    app = sso_app()
    provider.set_person("plain-sub-42", email="psw@example.invalid")
    client = app.test_client()
    sign_in_through(provider, client, "plain-sub-42")
    assert person(app, "psw").oidc_subject == "plain-sub-42"


def test_roles_come_from_the_roles_claim_and_replace_the_persons_roles(sso_app, provider):
    app = sso_app(OIDC_ROLE_CLAIM="roles", OIDC_ROLE_MAP=ROLE_MAP)
    assert person(app, "tm.safeguarding1").roles == {"team_manager"}
    provider.set_person("entra-1", oid=WORKER_OID, email="tm.safeguarding1@example.invalid",
                        roles=["QA.Lead", "Some.Other.App.Role"])
    client = app.test_client()
    assert sign_in_through(provider, client, "entra-1").status_code == 302
    assert person(app, "tm.safeguarding1").roles == {"qa_lead"}
    user_id = str(person(app, "tm.safeguarding1").id)
    assert [(e["role"], e["subject_id"], e["via"]) for e in events(app, "user.role_granted")] == [
        ("qa_lead", user_id, "oidc")]
    assert [e["role"] for e in events(app, "user.role_removed")] == ["team_manager"]
    assert client.get("/audits/allocate").status_code == 200, "the mapped role takes effect at once"

    # Signing in again with the same roles changes nothing and records no change.
    sign_in_through(provider, app.test_client(), "entra-1")
    assert len(events(app, "user.role_granted")) == 1 and len(events(app, "user.role_removed")) == 1


def test_roles_can_come_from_group_ids_through_a_json_map(sso_app, provider):
    qa_group, audit_group = "9a1f0c3e-qa-group", "4b7e2d11-audit-group"
    app = sso_app(OIDC_ROLE_CLAIM="groups",
                  OIDC_ROLE_MAP=json.dumps({qa_group: ["qa_lead", "qa_officer"], audit_group: "team_manager"}))
    provider.set_person("entra-1", oid=WORKER_OID, email="tm.safeguarding1@example.invalid",
                        groups=[qa_group, audit_group, "unmapped-group"], roles=["QA.Lead"])
    assert sign_in_through(provider, app.test_client(), "entra-1").status_code == 302
    assert person(app, "tm.safeguarding1").roles == {"qa_lead", "qa_officer", "team_manager"}
    assert sorted(e["role"] for e in events(app, "user.role_granted")) == ["qa_lead", "qa_officer"]


def test_an_inactive_person_is_refused(sso_app, provider):
    app = sso_app()
    with app.app_context():
        user_named(db.session, "psw").active = False
        db.session.commit()
    provider.set_person("entra-1", oid=WORKER_OID, email="psw@example.invalid")
    client = app.test_client()
    assert sign_in_through(provider, client, "entra-1").status_code == 403
    assert signed_in_as(client) is None
    assert person(app, "psw").oidc_subject is None, "nothing is linked by a refused sign-in"
    assert [e["reason"] for e in events(app, "user.sso_sign_in_refused")] == ["inactive"]


def test_an_account_linked_to_one_identity_is_not_taken_over_by_email(sso_app, provider):
    app = sso_app()
    provider.set_person("first", oid=WORKER_OID, email="psw@example.invalid")
    sign_in_through(provider, app.test_client(), "first")
    # Later someone else at the provider is given the same email address.
    provider.set_person("second", oid="another-oid", email="psw@example.invalid")
    client = app.test_client()
    assert sign_in_through(provider, client, "second").status_code == 403
    assert signed_in_as(client) is None
    assert person(app, "psw").oidc_subject == WORKER_OID
    assert [e["reason"] for e in events(app, "user.sso_sign_in_refused")] == ["linked_to_another_identity"]


def test_a_token_with_no_mapped_role_is_refused_and_changes_nothing(sso_app, provider):
    app = sso_app(OIDC_ROLE_CLAIM="roles", OIDC_ROLE_MAP=ROLE_MAP)
    provider.set_person("entra-1", oid=WORKER_OID, email="tm.safeguarding1@example.invalid", roles=["Unrelated"])
    client = app.test_client()
    refused = sign_in_through(provider, client, "entra-1")
    assert refused.status_code == 403 and "gives you no role" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert person(app, "tm.safeguarding1").roles == {"team_manager"}
    assert person(app, "tm.safeguarding1").oidc_subject is None
    assert [e["reason"] for e in events(app, "user.sso_sign_in_refused")] == ["no_role"]
    assert events(app, "user.role_removed") == []


def test_an_unknown_person_is_refused(sso_app, provider):
    app = sso_app()
    provider.set_person("stranger", oid="0000-stranger", email="stranger@example.invalid", name="A Stranger")
    client = app.test_client()
    refused = sign_in_through(provider, client, "stranger")
    assert refused.status_code == 403 and "no account here for you" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "stranger@example.invalid")) is None
    assert events(app, "user.sso_sign_in_refused") == [
        {"reason": "unknown_person", "subject": "0000-stranger", "email": "stranger@example.invalid",
         "subject_id": None, "actor_id": None}]


def test_provisioning_creates_an_unknown_person_with_mapped_roles_and_no_team(sso_app, provider):
    app = sso_app(OIDC_PROVISIONING=True, OIDC_ROLE_CLAIM="roles", OIDC_ROLE_MAP=ROLE_MAP)
    provider.set_person("newcomer", oid="0000-new", email="new.person@example.invalid", name="New Person",
                        roles=["Audit.Manager"])
    client = app.test_client()
    assert sign_in_through(provider, client, "newcomer").status_code == 302
    assert signed_in_as(client) == "New Person"
    created = person(app, "new.person@example.invalid")
    assert (created.roles, created.team_id, created.oidc_subject) == ({"team_manager"}, None, "0000-new")
    assert created.password_hash == NO_PASSWORD
    assert "/account/two-factor" not in client.get("/inbox").get_data(as_text=True), "no local password to protect"
    assert "sign in with your council account" in client.get("/account/two-factor").get_data(as_text=True)
    assert client.post("/sign-out").status_code == 302
    local = app.test_client().post("/sign-in", data={"username": created.username, "password": ""})
    assert local.status_code == 401, "a provisioned person has no local password"
    assert [e["username"] for e in events(app, "user.provisioned")] == ["new.person@example.invalid"]


def test_provisioning_refuses_a_stranger_the_mapping_gives_no_role(sso_app, provider):
    app = sso_app(OIDC_PROVISIONING=True, OIDC_ROLE_CLAIM="roles", OIDC_ROLE_MAP=ROLE_MAP)
    provider.set_person("newcomer", oid="0000-new", email="new.person@example.invalid")
    assert sign_in_through(provider, app.test_client(), "newcomer").status_code == 403
    assert events(app, "user.provisioned") == []
    assert [e["reason"] for e in events(app, "user.sso_sign_in_refused")] == ["no_role"]


def test_an_id_token_whose_claims_were_changed_in_transit_is_refused(sso_app, provider):
    app = sso_app()
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    # Someone between the provider and the app rewrites the token to say it is the QA lead.
    provider.alter_token_response = lambda token: with_changed_claims(
        token, oid="forged", email="qa.lead@example.invalid")
    client = app.test_client()
    refused = sign_in_through(provider, client, "entra-1")
    assert refused.status_code == 403 and "could not be confirmed" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    (refusal,) = events(app, "user.sso_sign_in_refused")
    assert refusal["reason"].startswith("invalid_token: BadSignatureError")
    assert person(app, "qa.lead").oidc_subject is None


def test_a_genuine_id_token_from_another_sign_in_is_refused(sso_app, provider):
    """Correctly signed, but issued for an earlier sign-in: its nonce is not this one's."""
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    app = sso_app()
    captured = []
    provider.alter_token_response = lambda token: captured.append(token) or token
    sign_in_through(provider, app.test_client(), "entra-1")
    provider.alter_token_response = lambda token: {**token, "id_token": captured[0]["id_token"]}
    client = app.test_client()
    assert sign_in_through(provider, client, "entra-1").status_code == 403
    assert signed_in_as(client) is None
    (refusal,) = events(app, "user.sso_sign_in_refused")
    assert refusal["reason"] == "invalid_token: InvalidClaimError: invalid_claim: Invalid claim: 'nonce'"


def test_a_genuine_id_token_issued_to_another_application_is_refused(sso_app, provider, make_app):
    """Correctly signed, with this sign-in's nonce, but for another client: the audience check stops it."""
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    app = sso_app()
    client = app.test_client()
    ours = client.get("/sign-in/oidc").headers["Location"]
    nonce = parse_qs(urlsplit(ours).query)["nonce"][0]
    other_app = make_app(OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="another-app", OIDC_CLIENT_SECRET="x")
    other_client = other_app.test_client()
    theirs = urlsplit(other_client.get("/sign-in/oidc").headers["Location"])
    their_query = {key: values[0] for key, values in parse_qs(theirs.query).items()} | {"nonce": nonce}
    captured = []
    provider.alter_token_response = lambda token: captured.append(token) or token
    other_client.get(path_of(provider.authorize(theirs._replace(query=urlencode(their_query)).geturl(), "entra-1")))
    provider.alter_token_response = lambda token: {**token, "id_token": captured[0]["id_token"]}
    assert client.get(path_of(provider.authorize(ours, "entra-1"))).status_code == 403
    assert signed_in_as(client) is None
    refusal = events(app, "user.sso_sign_in_refused")[-1]  # the first is the other app's own refusal
    assert refusal["reason"] == "invalid_token: InvalidClaimError: invalid_claim: Invalid claim: 'aud'"


def test_a_token_whose_issuer_is_not_the_configured_one_is_refused(make_app, provider):
    """The issuer is compared exactly: the provider here says it is http://127.0.0.1:<port>,
    configured with a trailing slash it is another issuer, whatever its discovery says."""
    app = make_app(OIDC_ISSUER=provider.issuer + "/", OIDC_CLIENT_ID="case-file-audit", OIDC_CLIENT_SECRET="s")
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    assert sign_in_through(provider, app.test_client(), "entra-1").status_code == 403
    (refusal,) = events(app, "user.sso_sign_in_refused")
    assert refusal["reason"] == "invalid_token: InvalidClaimError: invalid_claim: Invalid claim: 'iss'"


def test_an_expired_id_token_is_refused(make_app, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    # The provider's own option: its tokens expired ten minutes before they were issued
    # (beyond the two minutes of clock skew Authlib allows).
    expired = Provider(access_token_max_age=timedelta(minutes=-10))
    try:
        app = make_app(OIDC_ISSUER=expired.issuer, OIDC_CLIENT_ID="case-file-audit", OIDC_CLIENT_SECRET="s")
        expired.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
        client = app.test_client()
        assert sign_in_through(expired, client, "entra-1").status_code == 403
        assert signed_in_as(client) is None
        (refusal,) = events(app, "user.sso_sign_in_refused")
        assert refusal["reason"].startswith("invalid_token: ExpiredTokenError")
    finally:
        expired.stop()


def test_a_callback_with_someone_elses_state_is_refused(sso_app, provider):
    app = sso_app()
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    victim, attacker = app.test_client(), app.test_client()
    attacker_start = attacker.get("/sign-in/oidc")
    callback = provider.authorize(attacker_start.headers["Location"], "entra-1")
    victim.get("/sign-in/oidc")
    assert victim.get(path_of(callback)).status_code == 403
    assert signed_in_as(victim) is None
    assert events(app, "user.sso_sign_in_refused")[0]["reason"].startswith("invalid_token: MismatchingStateError")


def test_local_passwords_can_be_switched_off(sso_app, provider):
    app = sso_app(LOCAL_PASSWORDS=False)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Northbridge Council account" in page and 'name="password"' not in page
    refused = client.post("/sign-in", data={"username": "qa.lead", "password": "demo-password"})
    assert refused.status_code == 403 and signed_in_as(client) is None
    api = client.post("/api/v1/tokens", json={"username": "qa.lead", "password": "demo-password"})
    assert api.status_code == 403 and "token" not in api.get_json()
    assert [e["reason"] for e in events(app, "user.sign_in_failed")] == ["local_passwords_off"] * 2
    provider.set_person("entra-1", oid=WORKER_OID, email="qa.lead@example.invalid")
    assert sign_in_through(provider, client, "entra-1").status_code == 302
    assert signed_in_as(client) == person(app, "qa.lead").display_name


def test_sign_out_ends_the_session_here_and_at_the_provider(sso_app, provider):
    app = sso_app()
    provider.set_person("entra-1", oid=WORKER_OID, email="sw.safeguarding1.1@example.invalid")
    client = app.test_client()
    sign_in_through(provider, client, "entra-1")
    out = client.post("/sign-out")
    location = urlsplit(out.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/oauth2/end_session"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/sign-in"]
    assert query["client_id"] == ["case-file-audit"]
    assert signed_in_as(client) is None
    assert len(events(app, "user.signed_out")) == 1


def test_behind_a_proxy_the_addresses_given_to_the_provider_come_from_qa_base_url(sso_app, provider):
    app = sso_app(BASE_URL="https://qa.example.gov.uk")
    start = parse_qs(urlsplit(app.test_client().get("/sign-in/oidc").headers["Location"]).query)
    assert start["redirect_uri"] == ["https://qa.example.gov.uk/sign-in/oidc/callback"]


def test_a_local_sign_in_signs_out_locally_even_with_sso_on(sso_app):
    client = sso_app().test_client()
    client.post("/sign-in", data={"username": "psw", "password": "demo-password"})
    assert client.post("/sign-out").headers["Location"].endswith("/sign-in")


def test_without_an_issuer_single_sign_on_is_off(make_app):
    client = make_app().test_client()
    assert "council account" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_the_role_map_is_read_from_json_or_pairs_and_checked():
    assert parse_role_map('{"g-1": ["qa_lead", "director"], "g-2": "psw"}'.replace("psw", "principal_social_worker")) \
        == {"g-1": frozenset({"qa_lead", "director"}), "g-2": frozenset({"principal_social_worker"})}
    assert parse_role_map("QA.Lead=qa_lead, QA.Lead=qa_officer,x=y=director") == {
        "QA.Lead": frozenset({"qa_lead", "qa_officer"}), "x=y": frozenset({"director"})}
    with pytest.raises(ValueError, match="unknown roles: overlord"):
        parse_role_map("a=overlord")
    with pytest.raises(ValueError, match="not claim_value=role"):
        parse_role_map("just-a-value")
    with pytest.raises(ValueError, match="QA_OIDC_ROLE_CLAIM must be one of"):
        policy_from_settings("upn", "", False)
    with pytest.raises(ValueError, match="QA_OIDC_ROLE_CLAIM is not"):
        policy_from_settings("", "a=qa_lead", False)


def test_a_half_made_configuration_stops_the_app(make_app):
    with pytest.raises(ValueError, match="QA_OIDC_CLIENT_ID and QA_OIDC_CLIENT_SECRET"):
        make_app(OIDC_ISSUER="https://login.example.invalid/tenant/v2.0")
    with pytest.raises(ValueError, match="https://"):
        make_app(OIDC_ISSUER="http://login.example.invalid", OIDC_CLIENT_ID="a", OIDC_CLIENT_SECRET="b")
    with pytest.raises(ValueError, match="needs single sign-on"):
        make_app(LOCAL_PASSWORDS=False)
