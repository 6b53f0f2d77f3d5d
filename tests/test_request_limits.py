"""Request size limits: one for the whole app, a larger one for uploads, refused before reading.

Bodies are fed from a stream that counts what the app reads of it, so "refused before
it is read" is a measured fact: a 50 MB upload is refused having read nothing of it when
its length is declared, and no more than the limit when it is sent in chunks without one.
The refusal is the service's error page (or JSON under the API), and nothing changes.
"""
import io

import pytest
from sqlalchemy import func, select

from engine.runtime.model_drafts import draft_for
from engine.runtime.models import Event
from tests.conftest import sign_in

MB = 1024 * 1024
BOUNDARY = "limit-test-boundary"


class CountingBody(io.RawIOBase):
    """`size` bytes of a multipart upload, made as they are read, counting how many were read."""

    def __init__(self, size: int, field: str = "register", filename: str = "register.csv"):
        self.head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
                     "Content-Type: text/csv\r\n\r\n").encode()
        self.size, self.position, self.read_so_far = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the stream by seeking; that reads nothing
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = offset + (self.size if whence == io.SEEK_END else self.position if whence == io.SEEK_CUR else 0)
        return self.position

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.position)
        chunk = self.head[self.position:self.position + count] if self.position < len(self.head) else b""
        buffer[:count] = chunk + b"x" * (count - len(chunk))
        self.position += count
        self.read_so_far += count
        return count


@pytest.fixture
def limited_app(database_url):
    """The app with the limits set as an operator would: QA_MAX_REQUEST_MB=1, QA_MAX_UPLOAD_MB=2."""
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False, "SECRET_KEY": "test",
                      "MAX_CONTENT_LENGTH": 1 * MB, "MAX_UPLOAD_LENGTH": 2 * MB})
    yield app
    with app.app_context():
        from webapp.extensions import db
        db.session.remove()
        db.engine.dispose()


def post_streamed(client, path: str, body: CountingBody, *, declare_length: bool = True):
    headers = {"Content-Length": str(body.size)} if declare_length else {}
    return client.post(path, input_stream=body, content_type=f"multipart/form-data; boundary={BOUNDARY}",
                       headers=headers, environ_overrides={"wsgi.input_terminated": not declare_length})


def event_count(app) -> int:
    from webapp.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count(Event.seq)))


def test_the_limits_come_from_the_environment(monkeypatch):
    from webapp import config
    assert (config.from_environment()["MAX_CONTENT_LENGTH"], config.from_environment()["MAX_UPLOAD_LENGTH"]) == \
        (2 * MB, 20 * MB)
    monkeypatch.setenv("QA_MAX_REQUEST_MB", "5")
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "50")
    assert (config.from_environment()["MAX_CONTENT_LENGTH"], config.from_environment()["MAX_UPLOAD_LENGTH"]) == \
        (5 * MB, 50 * MB)
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="QA_MAX_UPLOAD_MB must be a whole number"):
        config.from_environment()


def test_a_50_mb_register_upload_is_refused_without_being_read(limited_app):
    client = limited_app.test_client()
    sign_in(client, "qa.lead")
    before = event_count(limited_app)
    body = CountingBody(50 * MB)
    response = post_streamed(client, "/register", body)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is too large" in page and "Files up to 2 MB can be uploaded here" in page
    assert "python -m engine.cli import-cases" in page and "Traceback" not in page
    assert body.read_so_far == 0
    assert event_count(limited_app) == before  # no import was begun


def test_an_upload_sent_in_chunks_is_cut_off_at_the_limit(limited_app):
    client = limited_app.test_client()
    sign_in(client, "qa.lead")
    body = CountingBody(50 * MB)
    response = post_streamed(client, "/register", body, declare_length=False)
    assert response.status_code == 413 and "The file is too large" in response.get_data(as_text=True)
    assert body.read_so_far <= 2 * MB + 64 * 1024  # the limit and one read's worth, not 50 MB


def test_a_large_model_upload_is_refused_and_no_draft_is_made(limited_app):
    client = limited_app.test_client()
    sign_in(client, "process.owner")
    body = CountingBody(50 * MB, field="model", filename="big.zip")
    response = post_streamed(client, "/models/upload", body)
    assert response.status_code == 413 and "Files up to 2 MB can be uploaded here" in response.get_data(as_text=True)
    assert body.read_so_far == 0


def test_uploads_under_their_limit_pass_the_app_wide_one(limited_app):
    """A 1.5 MB register is over the app's 1 MB but under the uploads' 2 MB: it is read and checked."""
    client = limited_app.test_client()
    sign_in(client, "qa.lead")
    csv = b"case_reference,cohort,team,worker,opened_on\n" + b"BIG0001,Child in need,MASH 1,sw.mash1.1,2026-01-01,\n" * 30000
    assert MB < len(csv) < 2 * MB
    response = client.post("/register", data={"register": (io.BytesIO(csv), "register.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/register/imports/" in response.location


def test_anyone_not_signed_in_gets_only_the_app_wide_limit_on_an_upload_address(limited_app):
    body = CountingBody(int(1.5 * MB))
    response = post_streamed(limited_app.test_client(), "/register", body)
    assert response.status_code == 413 and "What was sent is too large" in response.get_data(as_text=True)
    assert body.read_so_far == 0


def test_an_oversized_form_gets_the_page_and_nothing_changes(limited_app):
    client = limited_app.test_client()
    sign_in(client, "qa.lead")
    before = event_count(limited_app)
    response = client.post("/trail/verify", data={"note": "x" * (2 * MB)})
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "What was sent is too large" in page and "Up to 1 MB can be sent at once" in page
    assert 'class="govuk-heading-l"' in page and "Traceback" not in page
    assert event_count(limited_app) == before


def test_an_oversized_api_body_is_a_json_413(limited_app):
    response = limited_app.test_client().post("/api/v1/tokens", data=b"{" + b" " * (2 * MB) + b"}",
                                              content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"code": 413, "status": "Request Entity Too Large",
                                   "message": "The request body is too large."}


def test_the_draft_is_untouched_when_a_replacement_upload_is_too_large(limited_app):
    """A process owner replacing a draft by a too large file keeps the draft as it was."""
    from webapp.extensions import db
    from engine.runtime.registry import publish
    from engine.runtime.model_drafts import open_draft
    from tests.conftest import user_named
    from tests.model_samples import observation_files
    with limited_app.app_context():
        publish(db.session, observation_files())
        open_draft(db.session, "observation", user_named(db.session, "process.owner"))
        db.session.commit()
        revision = draft_for(db.session, "observation").revision
    client = limited_app.test_client()
    sign_in(client, "process.owner")
    response = post_streamed(client, "/models/upload?process=observation",
                             CountingBody(3 * MB, field="model", filename="observation.bpmn"))
    assert response.status_code == 413
    with limited_app.app_context():
        assert draft_for(db.session, "observation").revision == revision
