"""A retried internal-score POST is stored once: the client's ``request_id`` makes it idempotent.

Runs on SQLite and PostgreSQL; the concurrent retry is about PostgreSQL's unique constraint
(CI sets TEST_DATABASE_URL).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from auditapp.extensions import db
from auditapp.models import InternalScore, User
from tests.support import ApiClient, Network

THREADS = 12


@pytest.fixture
def sheets(app: Flask, network: Network) -> str:
    """An open 2025 period; returns the internal-scores path of E-N1-a's sheet."""
    from auditapp.services import attestation

    admin = db.session.execute(sa.select(User).where(User.login == "admin")).scalar_one()
    rules = attestation.create_rule_set_version(
        admin,
        attestation.RuleSetCommand(
            "staff", "Аттестация", {"weights": {"individual": 50, "collective": 30, "internal": 20}}
        ),
    )
    period = attestation.create_period(admin, attestation.PeriodCommand("2025", rules.id, 2025))
    staff = network.staff["E-N1-a"]
    return f"/api/v1/attestation/periods/{period.id}/sheets/{staff}/internal-scores"


def _stored() -> list[tuple[float, str]]:
    db.session.expire_all()
    return [
        (entry.score, entry.reason)
        for entry in db.session.execute(sa.select(InternalScore).order_by(InternalScore.id))
        .scalars()
        .all()
    ]


def test_retry_with_the_same_request_id_returns_the_stored_entry(as_user: Any, sheets: str) -> None:
    api = as_user("manager_n1")
    body = {"score": 88, "reason": "Тест по продукту", "request_id": str(uuid.uuid4())}
    first = api.post(sheets, json=body)
    assert first.status_code == 201, first.get_json()
    again = api.post(sheets, json=body)
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert first.get_json()["request_id"] == body["request_id"]
    assert _stored() == [(88.0, "Тест по продукту")]
    listed = api.get(sheets).get_json()
    assert len(listed) == 1


def test_same_request_id_with_another_body_is_409(as_user: Any, sheets: str) -> None:
    api = as_user("manager_n1")
    request_id = str(uuid.uuid4())
    assert (
        api.post(sheets, json={"score": 88, "reason": "Тест", "request_id": request_id})
    ).status_code == 201
    other = api.post(sheets, json={"score": 70, "reason": "Тест", "request_id": request_id})
    assert other.status_code == 409
    error = other.get_json()["error"]
    assert error["code"] == "request_id_reused"
    assert "score" in error["message"] and "reason" not in error["message"]
    # Another person with the same id and body is not a retry of this entry either.
    by_admin = as_user("admin").post(
        sheets, json={"score": 88, "reason": "Тест", "request_id": request_id}
    )
    assert by_admin.status_code == 409
    assert "entered_by" in by_admin.get_json()["error"]["message"]
    assert _stored() == [(88.0, "Тест")]


def test_without_request_id_every_post_is_an_entry(as_user: Any, sheets: str) -> None:
    api = as_user("manager_n1")
    for _ in range(2):
        assert api.post(sheets, json={"score": 80, "reason": "Тест"}).status_code == 201
    assert _stored() == [(80.0, "Тест"), (80.0, "Тест")]


def test_bad_request_id_is_422_naming_the_field(as_user: Any, sheets: str) -> None:
    response = as_user("manager_n1").post(
        sheets, json={"score": 80, "reason": "Тест", "request_id": "not-a-uuid"}
    )
    assert response.status_code == 422
    assert "request_id" in str(response.get_json())


def test_concurrent_retries_store_one(app: Flask, network: Network, sheets: str) -> None:
    body = {"score": 91, "reason": "Тест по продукту", "request_id": str(uuid.uuid4())}
    clients = []
    for _ in range(THREADS):
        api = ApiClient(app.test_client())
        assert api.login("manager_n1").status_code == 200
        clients.append(api)
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(api: ApiClient) -> None:
        barrier.wait()
        status = api.post(sheets, json=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert _stored() == [(91.0, "Тест по продукту")]
