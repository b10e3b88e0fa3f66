"""Optimistic locking cannot be skipped: acting on an audit names its version (issue 13)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask

from tests.support import ApiClient, Fieldwork, submission, upload_photo


def _approved(as_user: Any, fieldwork: Fieldwork) -> tuple[ApiClient, dict[str, Any]]:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    assert upload_photo(shopper, audit_uuid, assignment, "receipt").status_code == 201
    body = submission(assignment)
    submitted = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)
    assert submitted.status_code == 201, submitted.get_json()
    audit = submitted.get_json()
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"]}
    )
    assert approved.status_code == 200, approved.get_json()
    return reviewer, approved.get_json()


def _missing_version(response: Any) -> None:
    assert response.status_code == 422, response.get_json()
    assert "version" in response.get_json()["error"]["fields"]


def test_release_requires_the_version(as_user: Any, fieldwork: Fieldwork) -> None:
    reviewer, audit = _approved(as_user, fieldwork)
    _missing_version(reviewer.post(f"/api/v1/audits/{audit['id']}/release", json={}))
    _missing_version(reviewer.post(f"/api/v1/audits/{audit['id']}/release", json={"version": None}))
    stale = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": audit["version"] - 1}
    )
    assert stale.status_code == 409
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": audit["version"]}
    )
    assert released.status_code == 200


def test_disputes_require_the_version(as_user: Any, fieldwork: Fieldwork) -> None:
    reviewer, audit = _approved(as_user, fieldwork)
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": audit["version"]}
    ).get_json()
    manager = as_user("manager_n1")
    path = f"/api/v1/audits/{audit['id']}/disputes"
    body = {"item_id": "greeted", "reason": "Мы здоровались", "requested_value": True}
    _missing_version(manager.post(path, json=body))
    stale = manager.post(path, json={**body, "version": released["version"] - 1})
    assert stale.status_code == 409
    dispute = manager.post(path, json={**body, "version": released["version"]})
    assert dispute.status_code == 201, dispute.get_json()
    resolve = f"/api/v1/disputes/{dispute.get_json()['id']}/resolve"
    decision = {"decision": "uphold", "reason": "Видео подтверждает"}
    _missing_version(reviewer.post(resolve, json=decision))
    assert reviewer.post(resolve, json={**decision, "version": 1}).status_code == 409
    done = reviewer.post(resolve, json={**decision, "version": released["version"]})
    assert done.status_code == 200, done.get_json()


def test_the_openapi_document_marks_version_required(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("Release", "DisputeResolve", "DisputeCreate", "Review"):
        assert "version" in schemas[name]["required"], name
