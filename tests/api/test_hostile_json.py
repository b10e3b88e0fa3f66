"""Crafted JSON bodies get a 400 in the API's error shape and one log line, never a 500.

Before the limits, a value nested ~900 deep crashed the NUL check with a RecursionError (and
wrote a ~99 KB traceback per 1.8 KB request), a 5,000-digit number crashed ``json.loads`` with a
ValueError, and 50,000-deep nesting crashed the decoder itself.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from tests.support import Fieldwork

LOGIN = "/api/v1/auth/login"


def nested(depth: int) -> str:
    """A JSON array ``depth`` levels deep: 2 * depth bytes."""
    return "[" * depth + "]" * depth


HOSTILE_VALUES = {
    "nested_900": nested(900),
    "nested_50000": nested(50_000),
    "digits_5000": "1" * 5000,
    "fraction_5000": "0." + "1" * 5000,
    "nested_objects_900": '{"a":' * 900 + "1" + "}" * 900,
    "nan": "NaN",
}


def _assert_refused_once(response: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_json"
    assert error["fields"]["json"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage()[:200] for r in records]
    assert records[0].exc_info is None  # one line, no traceback
    assert "\n" not in records[0].getMessage()


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_anonymous_login_with_hostile_json_is_400(
    client: Any, network: Any, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    body = '{"login": ' + HOSTILE_VALUES[name] + ', "password": "correct-horse-battery"}'
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response = client.post(LOGIN, data=body, content_type="application/json")
    _assert_refused_once(response, caplog)


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_draft_with_hostile_json_is_400(
    as_user: Any, fieldwork: Fieldwork, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    body = f'{{"assignment_id": {assignment}, "answers": {{"queue_wait": {HOSTILE_VALUES[name]}}}}}'
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response = shopper.put(
            f"/api/v1/audits/{uuid.uuid4()}/draft", data=body, content_type="application/json"
        )
    _assert_refused_once(response, caplog)


def test_honest_bodies_at_the_limits_still_work(as_user: Any, fieldwork: Fieldwork) -> None:
    """Depth 32 and a 100-character number pass the JSON check and reach the draft's rules."""
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    url = f"/api/v1/audits/{uuid.uuid4()}/draft"
    deep_answer = "[" * 30 + "]" * 30  # the body's object + answers' object + 30 = 32
    body = f'{{"assignment_id": {assignment}, "answers": {{"comment": {deep_answer}}}}}'
    response = shopper.put(url, data=body, content_type="application/json")
    # Past the JSON check, the draft's own rules judge the value: a list is not a comment.
    assert response.status_code == 422, response.get_json()
    assert "comment" in response.get_json()["error"]["fields"]["answers"]
    long_number = "4." + "0" * 98  # 100 characters: 4.000...0
    assert len(long_number) == 100
    body = f'{{"assignment_id": {assignment}, "answers": {{"queue_wait": {long_number}}}}}'
    response = shopper.put(url, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["answers"]["queue_wait"] == 4


def test_one_level_too_deep_is_refused(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    body = f'{{"assignment_id": {assignment}, "answers": {{"comment": {nested(31)}}}}}'
    response = shopper.put(
        f"/api/v1/audits/{uuid.uuid4()}/draft", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "32" in response.get_json()["error"]["message"]


def test_nul_check_survives_deep_values_on_its_own() -> None:
    """The NUL check walks with a loop: it no longer needs the API's depth limit to survive."""
    from auditapp.schemas.common import _has_nul

    deep: Any = "x\x00"
    for _ in range(5000):
        deep = [deep]
    assert _has_nul(deep)
    assert not _has_nul({"a": [{"b": ["c"]}]})
    assert _has_nul({"k\x00": 1})


def test_a_json_body_above_the_cap_is_413_and_creates_nothing(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    """Only photos may be large: a 5 MB JSON draft is refused before parsing, naming the cap."""
    from auditapp.extensions import db
    from auditapp.models import Audit

    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = uuid.uuid4()
    padding = "я" * (5 * 1024 * 1024 // 2)  # two bytes each in UTF-8
    body = f'{{"assignment_id": {assignment}, "answers": {{}}, "comment": "{padding}"}}'
    response = shopper.put(
        f"/api/v1/audits/{audit_uuid}/draft", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large"
    assert "4096 KB" in error["fields"]["json"][0]
    assert db.session.query(Audit).filter_by(client_uuid=audit_uuid).count() == 0
