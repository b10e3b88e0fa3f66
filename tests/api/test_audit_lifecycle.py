"""The audit lifecycle over the API: drafts, idempotent submission, review, release, disputes,
the history, and who may do and see what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import (
    GOOD_SCORE,
    Fieldwork,
    Network,
    jpeg_bytes,
    seed_of,
    submission,
    upload_photo,
)


def _submit(api: Any, fw: Fieldwork, key: str = "shopper_n1", **overrides: Any) -> tuple[str, Any]:
    """Upload the receipt photo and submit a complete report; returns (uuid, response)."""
    audit_uuid = str(uuid.uuid4())
    photo = upload_photo(api, audit_uuid, fw.assignments[key], "receipt", jpeg_bytes(seed_of(key)))
    assert photo.status_code == 201, photo.get_json()
    body = submission(fw.assignments[key], **overrides)
    return audit_uuid, api.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)


def _released(as_user: Any, fw: Fieldwork) -> tuple[int, Any]:
    shopper = as_user("shopper")
    _, response = _submit(shopper, fw)
    audit = response.get_json()
    reviewer = as_user("reviewer")
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"], "comment": "ok"}
    )
    assert approved.status_code == 200, approved.get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": approved.get_json()["version"]}
    )
    assert released.status_code == 200, released.get_json()
    return audit["id"], released.get_json()


def test_submit_scores_on_the_server(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    _, response = _submit(shopper, fieldwork, score=0, status="approved")
    # Unknown fields such as a client-sent score or status are refused outright.
    assert response.status_code == 422
    assert {"score", "status"} <= set(response.get_json()["error"]["fields"])
    _, response = _submit(shopper, fieldwork, key="shopper_s2")
    assert response.status_code == 201, response.get_json()
    audit = response.get_json()
    assert audit["status"] == "submitted"
    assert audit["score"] == pytest.approx(GOOD_SCORE)
    detail = audit["score_detail"]
    # Stage by hand: pre_purchase = greeted 2 + queue 2 of 4 -> 100; purchase = receipt 1 +
    # drink 2.25 + dessert 0.5 of 5 -> 75; after_sale = table 1 of 1 -> 100.
    assert detail["stages"]["purchase"]["score"] == pytest.approx(75.0)
    assert detail["stages"]["pre_purchase"]["score"] == pytest.approx(100.0)
    assert detail["critical_failed"] == []


def test_resubmitting_same_content_returns_stored_result(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    audit_uuid, first = _submit(shopper, fieldwork)
    assert first.status_code == 201
    body = submission(fieldwork.assignments["shopper_n1"])
    body["visit_started_at"] = first.get_json()["visit_started_at"]
    body["visit_ended_at"] = first.get_json()["visit_ended_at"]
    again = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    different = dict(body, answers={**body["answers"], "drink_quality": 1})
    conflict = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=different)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "submission_differs"
    listed = as_user("reviewer").get("/api/v1/audits?status=submitted").get_json()
    assert listed["total"] == 1


def test_incomplete_submission_lists_every_problem(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    audit_uuid = str(uuid.uuid4())
    answers = {
        "greeted": "yes",
        "queue_wait": -5,
        "drink_quality": 9,
        "ghost": True,
        "dessert_offer": "cake",
    }
    body = submission(fieldwork.assignments["shopper_n1"], answers=answers)
    response = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields["answers"]) == {
        "greeted",
        "drink_quality",
        "ghost",
        "dessert_offer",
        "receipt",
        "table_clean",
    } | ({"queue_wait"} if "queue_wait" in fields["answers"] else set())
    assert "receipt" in fields["photos"]
    # Nothing was stored for a refused submission.
    assert as_user("reviewer").get("/api/v1/audits").get_json()["total"] == 0


def test_draft_saves_partial_answers_then_submit(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    draft = shopper.put(
        f"/api/v1/audits/{audit_uuid}/draft",
        json={"assignment_id": assignment, "answers": {"greeted": True}},
    )
    assert draft.status_code == 200, draft.get_json()
    assert draft.get_json()["status"] == "in_progress"
    assert draft.get_json()["score"] is None
    bad = shopper.put(
        f"/api/v1/audits/{audit_uuid}/draft",
        json={"assignment_id": assignment, "answers": {"drink_quality": 6}},
    )
    assert bad.status_code == 422
    assert "drink_quality" in bad.get_json()["error"]["fields"]["answers"]
    bundle = shopper.get("/api/v1/shopper/bundle").get_json()
    mine = next(a for a in bundle["assignments"] if a["id"] == assignment)
    assert mine["audit"]["answers"] == {"greeted": True}
    upload_photo(shopper, audit_uuid, assignment, "receipt")
    done = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment))
    assert done.status_code == 201
    assert done.get_json()["id"] == draft.get_json()["id"]


def test_second_uuid_for_same_assignment_is_refused(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    _submit(shopper, fieldwork)
    other = str(uuid.uuid4())
    body = submission(fieldwork.assignments["shopper_n1"])
    response = shopper.post(f"/api/v1/audits/{other}/submit", json=body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "assignment_taken"


def test_shopper_cannot_use_someone_elses_assignment(as_user: Any, fieldwork: Fieldwork) -> None:
    intruder = as_user("shopper2")
    body = submission(fieldwork.assignments["shopper_n1"])
    response = intruder.post(f"/api/v1/audits/{uuid.uuid4()}/submit", json=body)
    assert response.status_code == 404


def test_bundle_has_assignments_branches_staff_and_checklist(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    response = as_user("shopper").get("/api/v1/shopper/bundle")
    assert response.status_code == 200
    assert response.headers.get("ETag")
    bundle = response.get_json()
    assert {a["id"] for a in bundle["assignments"]} == {
        fieldwork.assignments["shopper_n1"],
        fieldwork.assignments["shopper_s2"],
    }
    n1 = next(a for a in bundle["assignments"] if a["branch"]["code"] == "N1")
    assert {s["id"] for s in n1["branch"]["staff"]} == {
        network.staff["E-N1-a"],
        network.staff["E-N1-b"],
    }
    definition = bundle["checklists"][str(fieldwork.checklist_version_id)]
    assert definition["checklist"] == "coffee-shop-visit"
    cached = as_user("shopper").get(
        "/api/v1/shopper/bundle", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert cached.status_code == 304
    assert (
        as_user("shopper2")
        .get("/api/v1/shopper/bundle")
        .get_json()["assignments"][0]["branch"]["code"]
        == "N1"
    )


def test_staff_served_must_be_on_branch_staff(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    shopper = as_user("shopper")
    staff = [
        {"staff_role": "barista", "staff_member_id": network.staff["E-S1-a"]},
        {"staff_role": "cashier"},
        {"staff_role": "chef", "description": "высокий, в очках"},
    ]
    audit_uuid, response = _submit(shopper, fieldwork, staff=staff)
    assert response.status_code == 422
    problems = response.get_json()["error"]["fields"]["staff"]
    assert set(problems) == {"staff[0]", "staff[1]", "staff[2]"}
    ok = [
        {"staff_role": "barista", "staff_member_id": network.staff["E-N1-a"]},
        {"staff_role": "cashier", "description": "девушка без бейджа, светлые волосы"},
    ]
    # The refused submission stored nothing but the draft: the same report id goes on.
    body = submission(fieldwork.assignments["shopper_n1"], staff=ok)
    stored = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)
    assert stored.status_code == 201, stored.get_json()
    detail = as_user("reviewer").get(f"/api/v1/audits/{stored.get_json()['id']}").get_json()
    assert [(s["staff_role"], s["staff_member_id"]) for s in detail["staff_served"]] == [
        ("barista", network.staff["E-N1-a"]),
        ("cashier", None),
    ]


# Review ------------------------------------------------------------------------------------


def test_review_return_resubmit_approve_release(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid, response = _submit(shopper, fieldwork)
    audit = response.get_json()
    queue = reviewer.get("/api/v1/review/queue").get_json()
    assert [entry["id"] for entry in queue["items"]] == [audit["id"]]
    no_reason = reviewer.post(
        f"/api/v1/audits/{audit['id']}/return", json={"version": audit["version"]}
    )
    assert no_reason.status_code == 422
    returned = reviewer.post(
        f"/api/v1/audits/{audit['id']}/return",
        json={"version": audit["version"], "comment": "Уточните очередь"},
    )
    assert returned.status_code == 200
    assert returned.get_json()["status"] == "returned"
    bundle = shopper.get("/api/v1/shopper/bundle").get_json()
    mine = next(a for a in bundle["assignments"] if a["audit"])
    assert mine["audit"]["review_comment"] == "Уточните очередь"
    fixed = submission(
        fieldwork.assignments["shopper_n1"], answers={**mine["audit"]["answers"], "queue_wait": 120}
    )
    resubmitted = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=fixed)
    assert resubmitted.status_code == 201, resubmitted.get_json()
    # queue 120 s -> band <= 180 -> 0.5 of weight 2: 8.75 - 1 = 7.75 of 10.
    assert resubmitted.get_json()["score"] == pytest.approx(77.5)
    version = resubmitted.get_json()["version"]
    approved = reviewer.post(f"/api/v1/audits/{audit['id']}/approve", json={"version": version})
    assert approved.get_json()["status"] == "approved"
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": approved.get_json()["version"]}
    )
    assert released.get_json()["status"] == "released"
    history = reviewer.get(f"/api/v1/audits/{audit['id']}").get_json()["history"]
    actions = [h["action"] for h in history]
    assert actions == [
        "submitted",
        "return",
        "answer_changed",
        "resubmitted",
        "approve",
        "released",
    ]
    change = history[2]
    assert (change["field"], change["old_value"], change["new_value"]) == (
        "answers.queue_wait",
        45,
        120,
    )
    branch_view = as_user("manager_n1").get(f"/api/v1/audits/{audit['id']}")
    assert "Уточните очередь" not in branch_view.get_data(as_text=True)
    assert [h["action"] for h in branch_view.get_json()["history"]] == ["released"]


TRANSITIONS = [
    # (action, status it is tried from, allowed?)
    ("approve", "submitted", True),
    ("return", "submitted", True),
    ("reject", "submitted", True),
    ("release", "submitted", False),
    ("approve", "approved", False),
    ("return", "approved", False),
    ("reject", "approved", False),
    ("release", "approved", True),
    ("approve", "released", False),
    ("return", "released", False),
    ("release", "released", False),
    ("approve", "returned", False),
    ("reject", "returned", True),
    ("release", "rejected", False),
    ("approve", "rejected", False),
]


def _bring_to(as_user: Any, fw: Fieldwork, status: str) -> dict[str, Any]:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    _, response = _submit(shopper, fw)
    audit = response.get_json()
    steps = {
        "submitted": [],
        "approved": ["approve"],
        "released": ["approve", "release"],
        "returned": ["return"],
        "rejected": ["reject"],
    }[status]
    for step in steps:
        body = {"version": audit["version"]}
        if step != "release":
            body["comment"] = "причина"
        audit = reviewer.post(f"/api/v1/audits/{audit['id']}/{step}", json=body).get_json()
    assert audit["status"] == status
    return audit


@pytest.mark.parametrize(("action", "status", "allowed"), TRANSITIONS)
def test_transitions(
    as_user: Any, fieldwork: Fieldwork, action: str, status: str, allowed: bool
) -> None:
    audit = _bring_to(as_user, fieldwork, status)
    body = {"version": audit["version"]}
    if action != "release":
        body["comment"] = "x"
    response = as_user("reviewer").post(f"/api/v1/audits/{audit['id']}/{action}", json=body)
    if allowed:
        assert response.status_code == 200, response.get_json()
    else:
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "transition_refused"


@pytest.mark.parametrize(
    "login", ["shopper", "shopper2", "manager_n1", "director_n", "employee_n1"]
)
def test_only_hq_reviews(as_user: Any, fieldwork: Fieldwork, login: str) -> None:
    audit = _bring_to(as_user, fieldwork, "submitted")
    api = as_user(login)
    for action in ("approve", "return", "reject", "release"):
        response = api.post(
            f"/api/v1/audits/{audit['id']}/{action}",
            json={"version": audit["version"], "comment": "x"},
        )
        assert response.status_code == 403, (login, action)


def test_two_reviewers_second_gets_409(as_user: Any, fieldwork: Fieldwork) -> None:
    audit = _bring_to(as_user, fieldwork, "submitted")
    first, second = as_user("reviewer"), as_user("admin")
    ok = first.post(
        f"/api/v1/audits/{audit['id']}/return",
        json={"version": audit["version"], "comment": "исправьте"},
    )
    assert ok.status_code == 200
    late = second.post(
        f"/api/v1/audits/{audit['id']}/reject",
        json={"version": audit["version"], "comment": "отклонить"},
    )
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "stale_version"
    final = first.get(f"/api/v1/audits/{audit['id']}").get_json()
    assert final["status"] == "returned" and final["review_comment"] == "исправьте"


# Who sees what -----------------------------------------------------------------------------


def test_branch_roles_see_released_only_and_never_the_shopper(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    pending = _bring_to(as_user, fieldwork, "submitted")
    manager = as_user("manager_n1")
    assert manager.get(f"/api/v1/audits/{pending['id']}").status_code == 404
    assert manager.get("/api/v1/audits").get_json()["total"] == 0
    reviewer = as_user("reviewer")
    approved = reviewer.post(
        f"/api/v1/audits/{pending['id']}/approve", json={"version": pending["version"]}
    ).get_json()
    reviewer.post(f"/api/v1/audits/{pending['id']}/release", json={"version": approved["version"]})
    for login in ("manager_n1", "director_n"):
        api = as_user(login)
        detail = api.get(f"/api/v1/audits/{pending['id']}")
        assert detail.status_code == 200, login
        body = detail.get_json()
        text = detail.get_data(as_text=True)
        for secret in (
            "shopper_id",
            "shopper_name",
            "client_uuid",
            "geo_lat",
            "assignment_id",
            "review_comment",
            "flags",
            "actor_id",
        ):
            assert secret not in text, (login, secret)
        assert "shopper" not in text.replace('"actor_role": "shopper"', "").replace(
            '"actor_role":"shopper"', ""
        )
        assert body["score"] == pytest.approx(GOOD_SCORE)
        listed = api.get("/api/v1/audits").get_json()["items"]
        assert [a["id"] for a in listed] == [pending["id"]]
        assert "shopper_id" not in listed[0]
    for login in ("manager_s1",):
        assert as_user(login).get(f"/api/v1/audits/{pending['id']}").status_code == 404
    hq = reviewer.get(f"/api/v1/audits/{pending['id']}").get_json()
    assert hq["shopper_id"] == network.users["shopper"]
    assert as_user("shopper2").get(f"/api/v1/audits/{pending['id']}").status_code == 404
    assert as_user("shopper").get(f"/api/v1/audits/{pending['id']}").status_code == 200


def test_employee_sees_released_audits_that_name_them(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    shopper = as_user("shopper")
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    upload_photo(shopper, audit_uuid, assignment, "receipt")
    body = submission(
        assignment, staff=[{"staff_role": "barista", "staff_member_id": network.staff["E-N1-a"]}]
    )
    audit = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body).get_json()
    employee = as_user("employee_n1")
    assert employee.get(f"/api/v1/audits/{audit['id']}").status_code == 404
    reviewer = as_user("reviewer")
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"]}
    ).get_json()
    reviewer.post(f"/api/v1/audits/{audit['id']}/release", json={"version": approved["version"]})
    assert employee.get(f"/api/v1/audits/{audit['id']}").status_code == 200
    assert "shopper_id" not in employee.get(f"/api/v1/audits/{audit['id']}").get_json()


# Disputes ----------------------------------------------------------------------------------


def test_dispute_upheld_changes_answer_and_score_with_history(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    audit_id, audit = _released(as_user, fieldwork)
    manager = as_user("manager_n1")
    dispute = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={
            "item_id": "drink_quality",
            "reason": "Напиток по стандарту; запись с камеры.",
            "requested_value": 5,
            "version": audit["version"],
        },
    )
    assert dispute.status_code == 201, dispute.get_json()
    again = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={"item_id": "drink_quality", "reason": "ещё раз", "version": audit["version"]},
    )
    assert again.status_code == 409
    reviewer = as_user("reviewer")
    assert [d["id"] for d in reviewer.get("/api/v1/disputes").get_json()["items"]] == [
        dispute.get_json()["id"]
    ]
    resolved = reviewer.post(
        f"/api/v1/disputes/{dispute.get_json()['id']}/resolve",
        json={"decision": "uphold", "reason": "Подтверждено видео", "version": audit["version"]},
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "upheld"
    after = reviewer.get(f"/api/v1/audits/{audit_id}").get_json()
    assert after["answers"]["drink_quality"] == 5
    # drink 5 -> 3 of 3: 8.75 + 0.75 = 9.5 of 10.
    assert after["score"] == pytest.approx(95.0)
    tail = [(h["action"], h["field"], h["old_value"], h["new_value"]) for h in after["history"]]
    assert tail[-3:] == [
        ("disputed", "answers.drink_quality", 4, 5),
        ("dispute_upheld", "answers.drink_quality", 4, 5),
        ("score_changed", "score", pytest.approx(GOOD_SCORE), pytest.approx(95.0)),
    ]
    assert all(h["reason"] for h in after["history"][-3:])
    # The manager sees the release and the dispute, not QA's exchanges before release.
    branch_history = manager.get(f"/api/v1/audits/{audit_id}").get_json()["history"]
    assert [h["action"] for h in branch_history] == [
        "released",
        "disputed",
        "dispute_upheld",
        "score_changed",
    ]


def test_dispute_rejected_keeps_answer(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id, audit = _released(as_user, fieldwork)
    manager, reviewer = as_user("manager_n1"), as_user("reviewer")
    dispute = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={"item_id": "greeted", "reason": "Мы здоровались", "version": audit["version"]},
    ).get_json()
    resolved = reviewer.post(
        f"/api/v1/disputes/{dispute['id']}/resolve",
        json={"decision": "reject", "reason": "Аудиозапись: нет", "version": audit["version"]},
    )
    assert resolved.get_json()["status"] == "rejected"
    after = reviewer.get(f"/api/v1/audits/{audit_id}").get_json()
    assert after["score"] == pytest.approx(GOOD_SCORE)
    assert after["history"][-1]["action"] == "dispute_rejected"
    closed = reviewer.post(
        f"/api/v1/disputes/{dispute['id']}/resolve",
        json={
            "decision": "uphold",
            "reason": "передумал",
            "new_value": True,
            "version": after["version"],
        },
    )
    assert closed.status_code == 409


def test_dispute_rules(as_user: Any, fieldwork: Fieldwork, make_app: Any) -> None:
    audit_id, audit = _released(as_user, fieldwork)
    version = audit["version"]
    other_manager = as_user("manager_s1")
    response = other_manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={"item_id": "greeted", "reason": "не наш", "version": version},
    )
    assert response.status_code == 404
    manager = as_user("manager_n1")
    bad_item = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={"item_id": "comment", "reason": "текст", "version": version},
    )
    assert bad_item.status_code == 422
    bad_value = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={
            "item_id": "drink_quality",
            "reason": "x" * 5,
            "requested_value": 11,
            "version": version,
        },
    )
    assert bad_value.status_code == 422
    assert (
        as_user("director_n")
        .post(
            f"/api/v1/audits/{audit_id}/disputes",
            json={"item_id": "greeted", "reason": "xxx", "version": version},
        )
        .status_code
        == 403
    )


def test_dispute_window_closes(as_user: Any, fieldwork: Fieldwork) -> None:
    from datetime import UTC, datetime, timedelta

    from auditapp.extensions import db
    from auditapp.models import Audit

    audit_id, _ = _released(as_user, fieldwork)
    audit = db.session.get(Audit, audit_id)
    assert audit is not None
    audit.released_at = datetime.now(UTC) - timedelta(days=15)
    db.session.commit()
    response = as_user("manager_n1").post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={"item_id": "greeted", "reason": "поздно", "version": audit.version},
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dispute_window_closed"


def test_history_cannot_be_edited_or_deleted(as_user: Any, fieldwork: Fieldwork) -> None:
    import sqlalchemy as sa

    from auditapp.extensions import db
    from auditapp.models import AuditHistory

    _bring_to(as_user, fieldwork, "approved")
    with pytest.raises(sa.exc.DatabaseError):
        with db.engine.begin() as conn:
            conn.execute(sa.update(AuditHistory).values(reason="rewritten"))
    with pytest.raises(sa.exc.DatabaseError):
        with db.engine.begin() as conn:
            conn.execute(sa.delete(AuditHistory))
    count = db.session.execute(sa.select(sa.func.count(AuditHistory.id))).scalar_one()
    assert count == 2


# Waves -------------------------------------------------------------------------------------


def test_wave_distribution_is_even_and_respects_rules(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    admin = as_user("admin")
    extra = []
    for number in range(3):
        created = admin.post(
            "/api/v1/users",
            json={
                "login": f"sh{number}",
                "display_name": f"Покупатель {number}",
                "role": "shopper",
                "password": "long-enough-pass",
            },
        )
        extra.append(created.get_json()["id"])
    # One of them works at S2: never send them there.
    admin.patch(f"/api/v1/users/{extra[0]}", json={"staff_member_id": network.staff["E-S2-a"]})
    wave = admin.post(
        "/api/v1/waves",
        json={
            "name": "Декабрь",
            "checklist_version_id": fieldwork.checklist_version_id,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "visits_per_branch": 2,
            "day_parts": ["morning", "evening"],
            "branch_ids": [network.branches[c] for c in ("N1", "N2", "S2")],
        },
    )
    assert wave.status_code == 201, wave.get_json()
    wave_id = wave.get_json()["id"]
    result = admin.post(f"/api/v1/waves/{wave_id}/distribute", json={"shopper_ids": extra})
    assert result.status_code == 200, result.get_json()
    created = result.get_json()["created"]
    assert len(created) == 6 and result.get_json()["unfilled"] == []
    pairs = [(a["shopper_id"], a["branch_id"]) for a in created]
    assert len(set(pairs)) == 6
    assert (extra[0], network.branches["S2"]) not in pairs
    loads = sorted([s for s, _ in pairs].count(s) for s in extra)
    assert loads == [2, 2, 2]
    windows = sorted({(a["window_start"], a["window_end"]) for a in created})
    assert windows == [("2026-12-01", "2026-12-15"), ("2026-12-16", "2026-12-31")]
    again = admin.post(f"/api/v1/waves/{wave_id}/distribute", json={"shopper_ids": extra})
    assert again.get_json()["created"] == []
    manual = admin.post(
        f"/api/v1/waves/{wave_id}/assignments",
        json={
            "branch_id": created[0]["branch_id"],
            "shopper_id": created[0]["shopper_id"],
            "window_start": "2026-12-01",
            "window_end": "2026-12-05",
        },
    )
    assert manual.status_code == 409


def test_too_few_shoppers_reports_unfilled(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    admin = as_user("admin")
    wave = admin.post(
        "/api/v1/waves",
        json={
            "name": "Мало",
            "checklist_version_id": fieldwork.checklist_version_id,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "visits_per_branch": 2,
            "branch_ids": [network.branches["N1"]],
        },
    ).get_json()
    result = admin.post(
        f"/api/v1/waves/{wave['id']}/distribute", json={"shopper_ids": [network.users["shopper"]]}
    ).get_json()
    assert len(result["created"]) == 1 and len(result["unfilled"]) == 1


def test_wave_refuses_branches_the_checklist_does_not_apply_to(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    response = as_user("admin").post(
        "/api/v1/waves",
        json={
            "name": "Отель",
            "checklist_version_id": fieldwork.checklist_version_id,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "branch_ids": [network.branches["S1"]],
        },
    )
    assert response.status_code == 422
    assert "branch_ids" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "login", ["reviewer", "director_n", "manager_n1", "shopper", "employee_n1"]
)
def test_only_admin_plans_waves(as_user: Any, fieldwork: Fieldwork, login: str) -> None:
    api = as_user(login)
    create = api.post("/api/v1/waves", json={"name": "x"})
    assert create.status_code == 403
    distribute = api.post(
        f"/api/v1/waves/{fieldwork.wave_id}/distribute", json={"shopper_ids": [1]}
    )
    assert distribute.status_code == 403


def test_retry_with_same_instant_in_another_offset_is_the_same(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    from datetime import datetime, timedelta, timezone

    shopper = as_user("shopper")
    audit_uuid, first = _submit(shopper, fieldwork)
    body = submission(fieldwork.assignments["shopper_n1"])
    moscow = timezone(timedelta(hours=3))
    for name in ("visit_started_at", "visit_ended_at"):
        instant = datetime.fromisoformat(first.get_json()[name])
        body[name] = instant.astimezone(moscow).isoformat()
    again = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body)
    assert again.status_code == 200, again.get_json()
