"""What the app does when a dependency fails, in process (tests/cluster does it for real):
the database or the photo storage gone is a 503 with Retry-After and nothing saved; a queue that
is down does not fail an upload, and the worker's sweep queues the photo later; ``photos gc``
removes stored files no row names, older than the grace age."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

from auditapp import clock, jobs
from auditapp.adapters.storage import LocalStorage, StorageUnavailable
from auditapp.extensions import db
from auditapp.models import AuditPhoto
from auditapp.services import audits as audit_service
from auditapp.services import photos as photo_service
from tests.support import Fieldwork, jpeg_bytes, upload_photo


def _unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_database_gone_is_a_503(
    as_user: Any, fieldwork: Fieldwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = as_user("shopper")

    def lost(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(audit_service, "shopper_bundle_json", lost)
    _unavailable(shopper.get("/api/v1/shopper/bundle"))


def test_storage_failing_refuses_the_upload_and_stores_nothing(
    as_user: Any, fieldwork: Fieldwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = as_user("shopper")

    def failing(self: Any, key: str, data: bytes) -> None:
        raise StorageUnavailable("S3 answered 500")

    monkeypatch.setattr(LocalStorage, "put", failing)
    photo_uuid = str(uuid.uuid4())
    response = upload_photo(
        shopper,
        str(uuid.uuid4()),
        fieldwork.assignments["shopper_n1"],
        "receipt",
        photo_uuid=photo_uuid,
    )
    _unavailable(response)
    assert (
        db.session.execute(
            sa.select(AuditPhoto).where(AuditPhoto.client_uuid == uuid.UUID(photo_uuid))
        ).first()
        is None
    )


def test_queue_down_keeps_the_upload_and_the_sweep_queues_it_later(
    as_user: Any, fieldwork: Fieldwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = as_user("shopper")
    queued: list[int] = []

    def down(name: str, *args: Any) -> None:
        raise ConnectionError("Redis refused the connection")

    monkeypatch.setattr(jobs.huey, "immediate", False)
    monkeypatch.setattr(jobs, "enqueue", down)
    response = upload_photo(
        shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt"
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "processing"
    photo_id = response.get_json()["id"]

    monkeypatch.setattr(jobs, "enqueue", lambda name, *args: queued.append(args[0]))
    # Not yet stale: left to the queue.
    assert photo_service.requeue_stale(timedelta(minutes=5)) == 0
    with clock.installed(clock.FakeClock(clock.now() + timedelta(minutes=6))):
        # While jobs wait in the queue the worker's sweep leaves the photo to them ...
        monkeypatch.setattr(jobs, "pending", lambda: 3)
        assert photo_service.requeue_stale(timedelta(minutes=5), only_when_idle=True) == 0
        # ... once it is empty, a photo still "processing" has lost its job.
        monkeypatch.setattr(jobs, "pending", lambda: 0)
        assert photo_service.requeue_stale(timedelta(minutes=5), only_when_idle=True) == 1
    assert queued == [photo_id]


def test_photos_gc_removes_only_old_files_no_row_names(
    app: Flask, as_user: Any, fieldwork: Fieldwork, tmp_path: Path
) -> None:
    shopper = as_user("shopper")
    response = upload_photo(
        shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt"
    )
    assert response.status_code == 201
    photo = db.session.get(AuditPhoto, response.get_json()["id"])
    assert photo is not None and photo.status == "ready"
    store = photo_service.storage()
    assert isinstance(store, LocalStorage)
    orphan = "originals/00/11/" + "0011" + "a" * 60 + ".jpg"
    store.put(orphan, jpeg_bytes(9))
    old = time.time() - 7200
    os.utime(store.path(orphan), (old, old))
    young = "thumbs/00/22/" + "0022" + "b" * 60 + ".jpg"
    store.put(young, b"in flight")
    # A temporary file left by a put killed half-way.
    leftover = store.path("display/00") / ".tmp-abc.part"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half")
    os.utime(leftover, (old, old))

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["photos", "gc", "--dry-run", "--grace-minutes", "60"])
    assert listed.exit_code == 0, listed.output
    keys = {line.split("\t")[0] for line in listed.stdout.splitlines() if "\t" in line}
    assert keys == {orphan, "display/00/.tmp-abc.part"}
    assert store.exists(orphan)  # a dry run deletes nothing

    removed = runner.invoke(args=["photos", "gc", "--grace-minutes", "60"])
    assert removed.exit_code == 0, removed.output
    assert not store.exists(orphan)
    assert not leftover.exists()
    assert store.exists(young)
    for key in (photo.original_key, photo.display_key, photo.thumb_key):
        assert key is not None and store.exists(key)
