"""Concurrent and retried submissions: stored exactly once, whatever the timing.

Runs on SQLite too, but it is PostgreSQL (CI sets TEST_DATABASE_URL) whose row locks and
unique constraints these tests are really about.
"""

from __future__ import annotations

import io
import threading
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask

from auditapp.extensions import db
from auditapp.models import Audit, AuditHistory, AuditPhoto
from tests.support import Fieldwork, jpeg_bytes, submission

THREADS = 20


def _token(app: Flask, login: str) -> str:
    from tests.support import ApiClient

    api = ApiClient(app.test_client())
    assert api.login(login).status_code == 200
    return str(api.post("/api/v1/auth/tokens", json={"name": "phone"}).get_json()["token"])


def _hammer(app: Flask, token: str, call: Any, threads: int = THREADS) -> list[int]:
    """Run ``call(client, headers)`` from ``threads`` threads released at the same moment."""
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        barrier.wait()
        status = call(client, headers)
        with lock:
            statuses.append(status)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    return statuses


def test_concurrent_identical_submits_store_one(app: Flask, fieldwork: Fieldwork) -> None:
    token = _token(app, "shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    upload = app.test_client().post(
        f"/api/v1/audits/{audit_uuid}/photos",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "assignment_id": str(assignment),
            "item_id": "receipt",
            "photo_uuid": str(uuid.uuid4()),
            "file": (io.BytesIO(jpeg_bytes()), "r.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    body = submission(assignment)

    def submit(client: Any, headers: dict[str, str]) -> int:
        return int(
            client.post(
                f"/api/v1/audits/{audit_uuid}/submit", json=body, headers=headers
            ).status_code
        )

    statuses = _hammer(app, token, submit)
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    db.session.expire_all()
    audits = db.session.execute(sa.select(Audit)).scalars().all()
    assert len(audits) == 1 and audits[0].status == "submitted"
    submitted = db.session.execute(
        sa.select(sa.func.count()).where(AuditHistory.action == "submitted")
    ).scalar_one()
    assert submitted == 1


def test_concurrent_first_uploads_create_one_draft_and_one_photo(
    app: Flask, fieldwork: Fieldwork
) -> None:
    token = _token(app, "shopper")
    assignment = fieldwork.assignments["shopper_s2"]
    audit_uuid, photo_uuid, data = str(uuid.uuid4()), str(uuid.uuid4()), jpeg_bytes(7)

    def upload(client: Any, headers: dict[str, str]) -> int:
        form = {
            "assignment_id": str(assignment),
            "item_id": "receipt",
            "photo_uuid": photo_uuid,
            "file": (io.BytesIO(data), "r.jpg"),
        }
        return int(
            client.post(
                f"/api/v1/audits/{audit_uuid}/photos",
                data=form,
                headers=headers,
                content_type="multipart/form-data",
            ).status_code
        )

    statuses = _hammer(app, token, upload)
    db.session.expire_all()
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert db.session.execute(sa.select(sa.func.count(Audit.id))).scalar_one() == 1
    assert db.session.execute(sa.select(sa.func.count(AuditPhoto.id))).scalar_one() == 1


def test_concurrent_first_photos_of_a_new_report_share_one_draft(
    app: Flask, fieldwork: Fieldwork
) -> None:
    """Different photos arriving together for a report nobody has created yet: the draft is
    made inside each upload's transaction, and the uploads that find it being made yield to
    it instead of failing, so every photo is stored, under one audit. (Fewer threads than the
    connection pool: each upload also re-encodes its photo inline, holding a connection.)"""
    uploads = 8
    token = _token(app, "shopper")
    assignment = fieldwork.assignments["shopper_s2"]
    audit_uuid = str(uuid.uuid4())
    counter = iter(range(uploads))
    lock = threading.Lock()

    def upload(client: Any, headers: dict[str, str]) -> int:
        with lock:
            number = next(counter)
        form = {
            "assignment_id": str(assignment),
            "item_id": "receipt",
            "photo_uuid": str(uuid.uuid4()),
            "file": (io.BytesIO(jpeg_bytes(100 + number)), "r.jpg"),
        }
        return int(
            client.post(
                f"/api/v1/audits/{audit_uuid}/photos",
                data=form,
                headers=headers,
                content_type="multipart/form-data",
            ).status_code
        )

    statuses = _hammer(app, token, upload, uploads)
    db.session.expire_all()
    assert statuses == [201] * uploads
    assert db.session.execute(sa.select(sa.func.count(Audit.id))).scalar_one() == 1
    photos = db.session.execute(sa.select(AuditPhoto.audit_id)).scalars().all()
    assert len(photos) == uploads and len(set(photos)) == 1


def test_failed_commit_leaves_nothing_half_done(
    app: Flask, fieldwork: Fieldwork, monkeypatch: Any
) -> None:
    """A crash after the audit row is written but before commit leaves no trace."""
    from auditapp.services.audits import submission as submission_service

    token = _token(app, "shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    client.post(
        f"/api/v1/audits/{audit_uuid}/photos",
        headers=headers,
        data={
            "assignment_id": str(assignment),
            "item_id": "receipt",
            "photo_uuid": str(uuid.uuid4()),
            "file": (io.BytesIO(jpeg_bytes()), "r.jpg"),
        },
        content_type="multipart/form-data",
    )

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(submission_service, "store_score", crash)
    response = client.post(
        f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment), headers=headers
    )
    assert response.status_code == 500
    db.session.expire_all()
    audit = db.session.execute(sa.select(Audit)).scalar_one()
    assert audit.status == "in_progress" and audit.score is None
    assert db.session.execute(sa.select(sa.func.count(AuditHistory.id))).scalar_one() == 0
    monkeypatch.undo()
    retry = client.post(
        f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment), headers=headers
    )
    assert retry.status_code == 201
