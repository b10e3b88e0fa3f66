"""The audit detail, role by role, for a rich audit (photos, staff served by name, history, a
dispute): the answer is what the documented marshmallow shape makes of the redacted view
(``AuditDetailSchema`` / ``BranchAuditDetailSchema``: the path the view used before its fast
dumper), also of the view made from the ORM collections (the detail reads narrow rows); it
validates against the OpenAPI document and holds exactly the fields the role table gives each
audience."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from flask import Flask

from auditapp import visibility
from auditapp.extensions import db
from auditapp.models import User
from auditapp.schemas.audits import AuditDetailSchema, BranchAuditDetailSchema
from auditapp.services import audits as audit_service
from tests.api.test_visibility import _released_audit_with_dispute_photo
from tests.support import Fieldwork, Network

BRANCH_KEYS = {
    "id",
    "status",
    "branch_id",
    "branch_code",
    "checklist_version_id",
    "checklist_slug",
    "checklist_version",
    "channel",
    "visit_started_at",
    "visit_ended_at",
    "submitted_at",
    "released_at",
    "score",
    "score_detail",
    "answers",
    "comment",
    "version",
    "photos",
    "staff_served",
    "disputes",
    "history",
}
HQ_KEYS = BRANCH_KEYS | {
    "client_uuid",
    "assignment_id",
    "shopper_id",
    "shopper_name",
    "first_submitted_at",
    "device_submitted_at",
    "geo_lat",
    "geo_lon",
    "geo_accuracy_m",
    "review_comment",
    "reviewed_at",
}
ROLES = [
    ("admin", "AuditDetail", HQ_KEYS | {"flags"}),
    ("reviewer", "AuditDetail", HQ_KEYS | {"flags"}),
    ("shopper", "AuditDetail", HQ_KEYS),
    ("manager_n1", "BranchAuditDetail", BRANCH_KEYS),
    ("director_n", "BranchAuditDetail", BRANCH_KEYS),
    ("employee_n1", "BranchAuditDetail", BRANCH_KEYS),
]


def _strict(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable`` as a ``null`` type, and objects with
    listed properties closed (a field the document does not name fails)."""
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


@pytest.mark.parametrize(("login", "component", "keys"), ROLES)
def test_the_detail_is_the_documented_shape_of_the_redacted_view(
    app: Flask,
    as_user: Any,
    fieldwork: Fieldwork,
    network: Network,
    login: str,
    component: str,
    keys: set[str],
) -> None:
    audit_id, photo_ids, _ = _released_audit_with_dispute_photo(as_user, fieldwork)
    api = as_user(login)
    response = api.get(f"/api/v1/audits/{audit_id}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    # The role table, top level: exactly these fields, and a rich audit behind them.
    assert set(body) == keys
    assert {p["id"] for p in body["photos"]} == set(photo_ids.values())
    assert [s["staff_role"] for s in body["staff_served"]] == ["barista"]
    assert body["staff_served"][0]["staff_member_name"]
    assert [d["item_id"] for d in body["disputes"]] == ["table_clean"]
    assert "disputed" in {h["action"] for h in body["history"]}
    assert body["branch_code"] == "N1"

    # The same bytes the marshmallow shape makes of the redacted view (the old path).
    user = db.session.get(User, network.users[login])
    assert user is not None
    view = audit_service.audit_view(user, audit_id)
    schema = AuditDetailSchema() if component == "AuditDetail" else BranchAuditDetailSchema()
    expected = json.loads(app.json.dumps(schema.dump(view)))
    assert body == expected
    assert response.get_data() == app.json.response(expected).get_data()
    # ... and the view made from the audit's ORM collections (the detail reads narrow rows).
    orm_view = visibility.audit_view(
        user, audit_service.get_audit(user, audit_id), audit_service.flags_of
    )
    assert json.loads(app.json.dumps(schema.dump(orm_view))) == expected
    db.session.rollback()

    # Valid against the documented response, closed to fields the document does not name.
    spec = api.get("/api/v1/openapi.json").get_json()
    documented = spec["paths"]["/api/v1/audits/{audit_id}"]["get"]["responses"]["200"]
    refs = [s["$ref"] for s in documented["content"]["application/json"]["schema"]["anyOf"]]
    assert f"#/components/schemas/{component}" in refs
    strict = _strict(copy.deepcopy(spec))
    jsonschema.validate(
        body,
        {"$ref": f"#/components/schemas/{component}", "components": strict["components"]},
    )
