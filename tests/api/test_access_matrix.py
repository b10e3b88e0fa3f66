"""Role x route: every API route refuses every role that is not meant to call it.

The table is the policy, written by hand; a new route fails the first test until it is added
here, so nobody adds an endpoint without deciding who may call it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

ALL = {"admin", "reviewer", "director", "manager", "shopper", "employee"}
HQ = {"admin", "reviewer"}
READ_NETWORK = {"admin", "reviewer", "director", "manager"}
A = {"admin"}

POLICY: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/assignments"): HQ | {"shopper"},
    ("GET", "/api/v1/assignments/<int:assignment_id>"): HQ | {"shopper"},
    ("DELETE", "/api/v1/assignments/<int:assignment_id>"): A,
    ("GET", "/api/v1/attestation/rule-sets"): HQ,
    ("POST", "/api/v1/attestation/rule-sets"): A,
    ("GET", "/api/v1/attestation/rule-sets/<int:rule_set_id>"): ALL - {"shopper"},
    ("GET", "/api/v1/attestation/periods"): ALL - {"shopper"},
    ("POST", "/api/v1/attestation/periods"): A,
    ("GET", "/api/v1/attestation/periods/<int:period_id>"): ALL - {"shopper"},
    ("PUT", "/api/v1/attestation/periods/<int:period_id>/rule-set"): A,
    ("POST", "/api/v1/attestation/periods/<int:period_id>/close"): A,
    ("GET", "/api/v1/attestation/periods/<int:period_id>/sheets"): ALL - {"shopper"},
    ("GET", "/api/v1/attestation/periods/<int:period_id>/sheets/<int:staff_id>"): ALL - {"shopper"},
    ("GET", "/api/v1/attestation/periods/<int:period_id>/sheets/<int:staff_id>/sheet.pdf"): ALL
    - {"shopper"},
    ("POST", "/api/v1/attestation/periods/<int:period_id>/bundle-jobs"): READ_NETWORK,
    ("POST", "/api/v1/attestation/periods/<int:period_id>/sheets/<int:staff_id>/acknowledge"): {
        "employee"
    },
    ("POST", "/api/v1/attestation/periods/<int:period_id>/sheets/<int:staff_id>/object"): {
        "employee"
    },
    (
        "POST",
        "/api/v1/attestation/periods/<int:period_id>/sheets/<int:staff_id>/internal-scores",
    ): {"admin", "manager"},
    ("GET", "/api/v1/attestation/objections"): {"admin", "manager"},
    ("POST", "/api/v1/attestation/objections/<int:response_id>/answer"): {"admin", "manager"},
    ("GET", "/api/v1/attestation/overdue"): READ_NETWORK,
    ("GET", "/api/v1/attestation/periods/<int:period_id>/leaderboards"): READ_NETWORK,
    ("GET", "/api/v1/attestation/periods/<int:period_id>/awards"): HQ,
    ("POST", "/api/v1/attestation/periods/<int:period_id>/awards"): A,
    ("GET", "/api/v1/attestation/periods/<int:period_id>/awards.csv"): HQ,
    ("GET", "/api/v1/audits"): ALL,
    ("GET", "/api/v1/audits/<int:audit_id>"): ALL,
    ("GET", "/api/v1/audits/<int:audit_id>/report.pdf"): ALL,
    ("GET", "/api/v1/audits/<int:audit_id>/photos.zip"): ALL,
    ("POST", "/api/v1/audits/<int:audit_id>/approve"): HQ,
    ("POST", "/api/v1/audits/<int:audit_id>/return"): HQ,
    ("POST", "/api/v1/audits/<int:audit_id>/reject"): HQ,
    ("POST", "/api/v1/audits/<int:audit_id>/release"): HQ,
    ("POST", "/api/v1/audits/<int:audit_id>/dispute-photos"): {"manager"},
    ("POST", "/api/v1/audits/<int:audit_id>/disputes"): {"manager"},
    ("PUT", "/api/v1/audits/<uuid:client_uuid>/draft"): {"shopper"},
    ("POST", "/api/v1/audits/<uuid:client_uuid>/photos"): {"shopper"},
    ("POST", "/api/v1/audits/<uuid:client_uuid>/submit"): {"shopper"},
    ("DELETE", "/api/v1/audits/<uuid:client_uuid>/photos/<uuid:photo_uuid>"): {"shopper"},
    ("POST", "/api/v1/auth/logout"): ALL,
    ("POST", "/api/v1/auth/password"): ALL,
    ("GET", "/api/v1/auth/me"): ALL,
    ("GET", "/api/v1/auth/tokens"): ALL,
    ("POST", "/api/v1/auth/tokens"): ALL,
    ("DELETE", "/api/v1/auth/tokens/<int:token_id>"): ALL,
    ("GET", "/api/v1/branches"): READ_NETWORK,
    ("POST", "/api/v1/branches"): A,
    ("GET", "/api/v1/branches/<int:branch_id>"): READ_NETWORK,
    ("PATCH", "/api/v1/branches/<int:branch_id>"): A,
    ("DELETE", "/api/v1/branches/<int:branch_id>"): A,
    ("POST", "/api/v1/branches/import"): A,
    ("GET", "/api/v1/checklists"): READ_NETWORK,
    ("GET", "/api/v1/checklists/<int:version_id>"): READ_NETWORK,
    ("POST", "/api/v1/checklists/import"): A,
    ("POST", "/api/v1/checklists/validate"): A,
    ("GET", "/api/v1/disputes"): READ_NETWORK,
    ("GET", "/api/v1/exports/<any(audits, answers):kind>"): READ_NETWORK,
    ("GET", "/api/v1/exports/ratings"): READ_NETWORK,
    ("GET", "/api/v1/exports/attestation"): READ_NETWORK,
    ("POST", "/api/v1/disputes/<int:dispute_id>/resolve"): HQ,
    ("GET", "/api/v1/photos/<int:photo_id>/<any(display, thumb, original):variant>"): ALL,
    ("GET", "/api/v1/ratings/branches/<int:branch_id>"): READ_NETWORK | {"employee"},
    ("GET", "/api/v1/ratings/branches/<int:branch_id>/audits"): READ_NETWORK,
    ("GET", "/api/v1/ratings/branches/<int:branch_id>/scorecard.pdf"): READ_NETWORK,
    ("GET", "/api/v1/ratings/branches/<int:branch_id>/standards"): READ_NETWORK,
    ("GET", "/api/v1/ratings/branches/<int:branch_id>/trend"): READ_NETWORK,
    ("GET", "/api/v1/ratings/declines"): READ_NETWORK,
    ("POST", "/api/v1/ratings/comparison-jobs"): HQ | {"director"},
    ("GET", "/api/v1/reports/jobs/<uuid:job_id>"): READ_NETWORK,
    ("GET", "/api/v1/reports/jobs/<uuid:job_id>/file"): READ_NETWORK,
    ("GET", "/api/v1/ratings/matrix"): HQ | {"director"},
    ("GET", "/api/v1/ratings/network"): READ_NETWORK,
    ("GET", "/api/v1/ratings/network/standards"): HQ,
    ("GET", "/api/v1/ratings/network/trend"): READ_NETWORK,
    ("GET", "/api/v1/ratings/rankings/branches"): READ_NETWORK,
    ("GET", "/api/v1/ratings/rankings/regions"): READ_NETWORK,
    ("GET", "/api/v1/ratings/regions/<int:region_id>"): READ_NETWORK,
    ("GET", "/api/v1/ratings/regions/<int:region_id>/standards"): HQ | {"director"},
    ("GET", "/api/v1/ratings/regions/<int:region_id>/trend"): READ_NETWORK,
    ("GET", "/api/v1/regions"): READ_NETWORK,
    ("POST", "/api/v1/regions"): A,
    ("GET", "/api/v1/regions/<int:region_id>"): READ_NETWORK,
    ("PATCH", "/api/v1/regions/<int:region_id>"): A,
    ("DELETE", "/api/v1/regions/<int:region_id>"): A,
    ("GET", "/api/v1/review/queue"): HQ,
    ("GET", "/api/v1/shopper/bundle"): {"shopper"},
    ("GET", "/api/v1/staff"): READ_NETWORK,
    ("POST", "/api/v1/staff"): A,
    ("GET", "/api/v1/staff/<int:staff_id>"): READ_NETWORK | {"employee"},
    ("PATCH", "/api/v1/staff/<int:staff_id>"): A,
    ("POST", "/api/v1/staff/<int:staff_id>/move"): A,
    ("POST", "/api/v1/staff/import"): A,
    ("GET", "/api/v1/users"): A,
    ("POST", "/api/v1/users"): A,
    ("GET", "/api/v1/users/<int:user_id>"): A,
    ("PATCH", "/api/v1/users/<int:user_id>"): A,
    ("DELETE", "/api/v1/users/<int:user_id>"): A,
    ("GET", "/api/v1/waves"): HQ,
    ("POST", "/api/v1/waves"): A,
    ("GET", "/api/v1/waves/<int:wave_id>"): HQ,
    ("POST", "/api/v1/waves/<int:wave_id>/assignments"): A,
    ("POST", "/api/v1/waves/<int:wave_id>/distribute"): A,
    ("POST", "/api/v1/waves/<int:wave_id>/release"): HQ,
}
PUBLIC = {
    ("GET", "/api/v1/auth/csrf"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/openapi.json"),
}
LOGIN_OF_ROLE = {
    "admin": "admin",
    "reviewer": "reviewer",
    "director": "director_n",
    "manager": "manager_n1",
    "shopper": "shopper",
    "employee": "employee_n1",
}


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _fill(path: str) -> str:
    """Put ids that exist nowhere into the path: allowed roles get 404/422, never 403."""
    import re

    path = path.replace("<uuid:client_uuid>", str(uuid.uuid4()))
    path = path.replace("<uuid:photo_uuid>", str(uuid.uuid4()))
    path = path.replace("<uuid:job_id>", str(uuid.uuid4()))
    path = path.replace("<any(display, thumb, original):variant>", "display")
    path = path.replace("<any(audits, answers):kind>", "answers")
    return re.sub(r"<int:[a-z_]+>", "987654", path)


def test_policy_covers_every_route(app: Flask) -> None:
    assert _routes(app) == set(POLICY) | PUBLIC


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_is_refused_where_it_does_not_belong(
    as_user: Any, network: Any, role: str
) -> None:
    api = as_user(LOGIN_OF_ROLE[role])
    wrong = []
    for (method, template), allowed in sorted(POLICY.items()):
        if template == "/api/v1/auth/logout":
            continue  # would end the session the loop is using
        response = api.open(method, _fill(template), json={})
        refused = response.status_code == 403
        if refused == (role in allowed) or response.status_code == 401:
            wrong.append((method, template, response.status_code))
    assert wrong == []


def test_anonymous_gets_401_everywhere_but_public(client: Any, network: Any) -> None:
    for method, template in sorted(POLICY):
        response = client.open(_fill(template), method=method, json={})
        assert response.status_code == 401, (method, template)
    for method, template in sorted(PUBLIC):
        response = client.open(template, method=method, json={"login": "x", "password": "y"})
        assert response.status_code != 403, (method, template)
