"""The OpenAPI document describes what the API sends: a bounded, seeded schemathesis run.

For each role (signed in with an API token, as scripts do), every operation the role may call
(the access matrix's policy) is fuzzed in process over WSGI with a fixed number of examples,
derandomised, on a small seeded network: audits in progress, submitted, approved, released
and disputed, with photos. Path ids are drawn partly from the seeded objects' small ids, so the
fuzzing reaches real objects and not only 404s. Checks: no server error, and every response
(status, content type and body) conforms to the document. Figures: docs/security.md.
"""

from __future__ import annotations

import io
import re
import uuid
from collections import Counter
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_access_matrix import LOGIN_OF_ROLE, POLICY
from tests.support import Fieldwork, Network, jpeg_bytes, submission, upload_photo

# Examples per operation and role (123 role x operation pairs): enough to reach every view of
# every response on the seeded network, few enough to keep the run near a minute on 2 cores.
EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def openapi_path(rule: str) -> str:
    """``/audits/<int:audit_id>`` -> ``/audits/{audit_id}`` (how the document names it)."""
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def seed(as_user: Any, fieldwork: Fieldwork, network: Network) -> dict[str, Any]:
    """Audits in every status through the API (and so through the services)."""
    shopper, shopper2 = as_user("shopper"), as_user("shopper2")
    reviewer, manager = as_user("reviewer"), as_user("manager_n1")
    released_uuid = str(uuid.uuid4())
    photo = upload_photo(
        shopper, released_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(1)
    )
    assert photo.status_code == 201, photo.get_json()
    staff = [{"staff_role": "barista", "staff_member_id": network.staff["E-N1-a"]}]
    body = submission(fieldwork.assignments["shopper_n1"], staff=staff)
    audit = shopper.post(f"/api/v1/audits/{released_uuid}/submit", json=body).get_json()
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"]}
    ).get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": approved["version"]}
    )
    assert released.status_code == 200, released.get_json()
    dispute_photo = manager.post(
        f"/api/v1/audits/{audit['id']}/dispute-photos",
        data={
            "item_id": "drink_quality",
            "photo_uuid": str(uuid.uuid4()),
            "file": (io.BytesIO(jpeg_bytes(2)), "d.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert dispute_photo.status_code == 201, dispute_photo.get_json()
    dispute = manager.post(
        f"/api/v1/audits/{audit['id']}/disputes",
        json={
            "item_id": "drink_quality",
            "reason": "Камера показывает иное",
            "requested_value": 5,
            "version": released.get_json()["version"],
        },
    )
    assert dispute.status_code == 201, dispute.get_json()
    submitted_uuid = str(uuid.uuid4())
    upload_photo(
        shopper2, submitted_uuid, fieldwork.assignments["shopper2_n1"], "receipt", jpeg_bytes(3)
    )
    submitted = shopper2.post(
        f"/api/v1/audits/{submitted_uuid}/submit",
        json=submission(fieldwork.assignments["shopper2_n1"]),
    )
    assert submitted.status_code == 201, submitted.get_json()
    draft_uuid = str(uuid.uuid4())
    draft = shopper.put(
        f"/api/v1/audits/{draft_uuid}/draft",
        json={"assignment_id": fieldwork.assignments["shopper_s2"], "answers": {"greeted": True}},
    )
    assert draft.status_code == 200, draft.get_json()
    seed_attestation(as_user, network)
    return {"client_uuid": [released_uuid, submitted_uuid, draft_uuid]}


def seed_attestation(as_user: Any, network: Network) -> None:
    """A rule set, an open period with an internal score, and a closed one with an objection
    (small ids, so the fuzzing reaches them)."""
    admin, employee = as_user("admin"), as_user("employee_n1")
    rules = {"weights": {"individual": 50, "collective": 30, "internal": 20}}
    rule_set = admin.post(
        "/api/v1/attestation/rule-sets", json={"code": "staff", "name": "Правила", "rules": rules}
    ).get_json()
    staff = network.staff["E-N1-a"]
    for name in ("Открытый", "Закрытый"):
        period = admin.post(
            "/api/v1/attestation/periods", json={"name": name, "rule_set_id": rule_set["id"]}
        ).get_json()
        scored = as_user("manager_n1").post(
            f"/api/v1/attestation/periods/{period['id']}/sheets/{staff}/internal-scores",
            json={"score": 80, "reason": "Тест"},
        )
        assert scored.status_code == 201, scored.get_json()
    closed = admin.post(
        f"/api/v1/attestation/periods/{period['id']}/close", json={"version": period["version"]}
    )
    assert closed.status_code == 200, closed.get_json()
    objected = employee.post(
        f"/api/v1/attestation/periods/{period['id']}/sheets/{staff}/object",
        json={"comment": "Не согласен"},
    )
    assert objected.status_code == 200, objected.get_json()


def api_token(as_user: Any, login: str) -> str:
    response = as_user(login).post("/api/v1/auth/tokens", json={"name": "schemathesis"})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["token"])


def fuzz(
    operation: Any,
    seeded: dict[str, Any],
    token: str,
    statuses: Counter[int],
    failures: list[str],
) -> None:
    """Send ``EXAMPLES`` derandomised cases of ``operation``; collect every failed check."""
    label = f"{operation.method.upper()} {operation.path}"
    strategies = [operation.as_strategy()]
    names = {p.name for p in operation.path_parameters}
    # The seeded objects have small ids (1..6): aim a share of the examples at them.
    fixed = {
        name: (st.sampled_from(seeded[name]) if name in seeded else st.integers(1, 6))
        for name in names
        if name in seeded or name.endswith("_id")
    }
    if fixed:
        strategies.append(
            st.fixed_dictionaries(fixed).flatmap(
                lambda chosen: operation.as_strategy(path_parameters=chosen)
            )
        )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        try:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)
        # schemathesis raises a BaseExceptionGroup of failures: collect them all, so one
        # failure does not hide the others.
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{label}: {error}"[:1500])

    run()


@pytest.mark.parametrize("role", sorted(LOGIN_OF_ROLE))
def test_api_conforms_to_its_document(
    app: Flask, as_user: Any, fieldwork: Fieldwork, network: Network, role: str
) -> None:
    seeded = seed(as_user, fieldwork, network)
    token = api_token(as_user, LOGIN_OF_ROLE[role])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    allowed = {
        (method, openapi_path(rule)) for (method, rule), roles in POLICY.items() if role in roles
    }
    failures: list[str] = []
    operations = 0
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in allowed:
            continue
        if operation.path == "/api/v1/auth/logout" or (
            operation.method == "delete" and operation.path == "/api/v1/auth/tokens/{token_id}"
        ):
            continue  # would end the token the run is using
        operations += 1
        fuzz(operation, seeded, token, statuses, failures)
    # The figures in docs/security.md (pytest -s prints them).
    print(f"\n{role}: {operations} operations, {sum(statuses.values())} requests, {statuses}")
    assert operations > 0
    assert sum(statuses.values()) >= operations * EXAMPLES // 2
    assert statuses[200] > 0  # the seeded objects were reached, not only refused
    assert failures == [], f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:20])


def test_photo_uploads_are_declared_multipart_with_a_binary_file(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/audits/{client_uuid}/photos",
        "/api/v1/audits/{audit_id}/dispute-photos",
    ):
        content = spec["paths"][path]["post"]["requestBody"]["content"]
        assert list(content) == ["multipart/form-data"], path
        body = spec["components"]["schemas"][content["multipart/form-data"]["schema"]["$ref"][21:]]
        assert body["properties"]["file"] == {
            "type": "string",
            "format": "binary",
            "description": "JPEG, PNG, WebP or HEIC",
        }
        assert "file" in body["required"]


def test_upload_without_a_file_part_names_the_field(as_user: Any, fieldwork: Fieldwork) -> None:
    response = as_user("shopper").post(
        f"/api/v1/audits/{uuid.uuid4()}/photos",
        data={
            "assignment_id": str(fieldwork.assignments["shopper_n1"]),
            "item_id": "receipt",
            "photo_uuid": str(uuid.uuid4()),
            "file": "not a file",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "file": ["Send the photo as a file part, not as a text field."]
    }


def test_shopper_bundle_is_described_field_by_field(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    bundle = schemas["Bundle"]
    assert bundle["required"] == ["assignments", "checklists"]
    assignment = schemas[bundle["properties"]["assignments"]["items"]["$ref"][21:]]
    assert {"branch", "audit", "due_at", "checklist_version_id"} <= set(assignment["required"])
    definition = schemas[bundle["properties"]["checklists"]["additionalProperties"]["$ref"][21:]]
    assert definition["additionalProperties"] is False
    assert "sections" in definition["required"]


def test_audit_reads_declare_both_views(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, views in (
        ("/api/v1/audits", ["AuditPage", "BranchAuditPage"]),
        ("/api/v1/audits/{audit_id}", ["AuditDetail", "BranchAuditDetail"]),
    ):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert [ref["$ref"][21:] for ref in schema["schema"]["anyOf"]] == views
