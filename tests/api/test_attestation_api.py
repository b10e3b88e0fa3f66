"""Staff attestation through the API on a hand-computed year (2025), built through the services.

Released audits of the ratings checklist (barista items: greeted [2], drink_quality [3 on 1..5];
the good answers earn 2 + 3 * 0.75 = 4.25 of 5):
  N1, E-N1-a served as barista: 10 Mar good (87.5; barista 4.25/5), 10 Apr greeted no (67.5;
      2.25/5), 10 May good (87.5; 4.25/5).
  N2: 10 Aug good (87.5), nobody named.
E-N1-a (all year at N1): individual 10.75 / 15 = 71.67; collective = N1's mean
  (87.5 + 67.5 + 87.5) / 3 = 80.83; internal 90 (entered by manager_n1).
  Points = (50 x 71.67 + 30 x 80.83 + 20 x 90) / 100 = (3583.5 + 2424.9 + 1800) / 100 = 78.08,
  "meets".
E-N1-b moves from N1 to N2 on 1 Jul: 181 days at N1, 184 at N2. No audit names them
  (insufficient evidence), no internal score: collective alone,
  (181 x 80.8333 + 184 x 87.5) / 365 = 84.19; points = 30 x 84.19 / 30 = 84.19, "meets".
E-S1-a: no audit at S1 (no collective), internal 95: not gradable (never on internal alone).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask

from auditapp import clock
from tests.integration.test_ratings_rollups import uphold
from tests.support import Network, Ratings, answers, audit_at, ratings_fieldwork

RULES = {
    "weights": {"individual": 50, "collective": 30, "internal": 20},
    "min_external_share": 60,
    "min_audits": 3,
}


def at(month: int, day: int = 10) -> datetime:
    return datetime(2025, month, day, 9, 0, tzinfo=UTC)


class Year:
    """The fixture year: ids of what was made."""

    def __init__(self, ratings: Ratings, audits: list[int], rule_set: int, period: int) -> None:
        self.ratings = ratings
        self.network = ratings.network
        self.audits = audits
        self.rule_set = rule_set
        self.period = period


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def year(app: Flask, network: Network, as_user: Any) -> Year:
    from auditapp.services import network as net

    ratings = ratings_fieldwork(network)
    a = network.staff["E-N1-a"]
    barista = [{"staff_role": "barista", "staff_member_id": a}]
    audits = [
        audit_at(ratings, "N1", at(3), answers(), staff=barista),
        audit_at(ratings, "N1", at(4), answers(greeted=False), staff=barista),
        audit_at(ratings, "N1", at(5), answers(), staff=barista),
        audit_at(ratings, "N2", at(8), answers()),
    ]
    net.move_staff(
        ratings.user("admin"), network.staff["E-N1-b"], network.branches["N2"], date(2025, 7, 1)
    )
    admin = as_user("admin")
    rule_set = _ok(
        admin.post(
            "/api/v1/attestation/rule-sets",
            json={"code": "staff", "name": "Аттестация персонала", "rules": RULES},
        ),
        201,
    )
    period = _ok(
        admin.post(
            "/api/v1/attestation/periods",
            json={"name": "2025", "rule_set_id": rule_set["id"], "year": 2025},
        ),
        201,
    )
    assert (period["starts_on"], period["ends_on"], period["status"]) == (
        "2025-01-01",
        "2025-12-31",
        "open",
    )
    base = f"/api/v1/attestation/periods/{period['id']}/sheets"
    _ok(
        as_user("manager_n1").post(
            f"{base}/{a}/internal-scores", json={"score": 90, "reason": "Тест по продукту"}
        ),
        201,
    )
    _ok(
        as_user("manager_s1").post(
            f"{base}/{network.staff['E-S1-a']}/internal-scores",
            json={"score": 95, "reason": "Тест по продукту"},
        ),
        201,
    )
    return Year(ratings, audits, rule_set["id"], period["id"])


def sheet_path(year: Year, code: str, period: int | None = None) -> str:
    return f"/api/v1/attestation/periods/{period or year.period}/sheets/{year.network.staff[code]}"


def test_all_three_components_by_hand(as_user: Any, year: Year) -> None:
    sheet = _ok(as_user("admin").get(sheet_path(year, "E-N1-a")))
    assert (sheet["status"], sheet["points"], sheet["grade"]["code"]) == ("graded", 78.08, "meets")
    assert sheet["state"] == "live"
    parts = {c["component"]: c for c in sheet["components"]}
    assert (parts["individual"]["score"], parts["individual"]["audits"]) == (71.67, 3)
    assert (parts["individual"]["earned"], parts["individual"]["possible"]) == (10.75, 15.0)
    assert parts["collective"]["score"] == 80.83
    assert parts["internal"]["score"] == 90.0
    assert parts["internal"]["internal"]["entered_by"] == "manager_n1"
    assert parts["internal"]["internal"]["reason"] == "Тест по продукту"
    assert "(50 × 71.67 + 30 × 80.83 + 20 × 90) / 100 = 78.08" in sheet["formula_ru"]
    assert sheet["audit_ids"] == year.audits[:3]
    # Evidence: every barista item of the three audits, with visit day, branch and clause.
    rows = [(e["audit_id"], e["item_id"], e["clause"], e["earned"]) for e in sheet["evidence"]]
    first, second, third = year.audits[:3]
    assert rows == [
        (first, "greeted", "2.1", 2.0),
        (first, "drink_quality", "3.2", 2.25),
        (second, "greeted", "2.1", 0.0),
        (second, "drink_quality", "3.2", 2.25),
        (third, "greeted", "2.1", 2.0),
        (third, "drink_quality", "3.2", 2.25),
    ]
    assert sheet["evidence"][0]["visit_date"] == "2025-03-10"
    assert sheet["evidence"][0]["branch"]["code"] == "N1"


def test_a_mover_gets_day_weighted_collective_and_renormalised_weights(
    as_user: Any, year: Year
) -> None:
    sheet = _ok(as_user("admin").get(sheet_path(year, "E-N1-b")))
    parts = {c["component"]: c for c in sheet["components"]}
    assert parts["individual"]["status"] == "insufficient_evidence"
    assert parts["internal"]["status"] == "not_entered"
    days = [(b["code"], b["days"]) for b in parts["collective"]["branches"]]
    assert days == [("N1", 181), ("N2", 184)]
    assert parts["collective"]["score"] == 84.19
    assert parts["collective"]["effective_weight"] == 100.0
    assert (sheet["points"], sheet["grade"]["code"]) == (84.19, "meets")
    assert "(30 × 84.19) / 30 = 84.19" in sheet["formula_en"]
    assert sheet["sufficient_evidence"] is False


def test_internal_score_alone_is_not_gradable(as_user: Any, year: Year) -> None:
    sheet = _ok(as_user("admin").get(sheet_path(year, "E-S1-a")))
    assert (sheet["status"], sheet["points"], sheet["grade"]) == ("not_gradable", None, None)
    assert "never graded on the internal score alone" in sheet["formula_en"]


def test_an_employee_sees_exactly_their_own_sheet(as_user: Any, year: Year) -> None:
    employee = as_user("employee_n1")
    own = _ok(employee.get(sheet_path(year, "E-N1-a")))
    assert own["staff_member"]["employee_code"] == "E-N1-a"
    for other in ("E-N1-b", "E-N2-a", "E-S1-a"):
        assert employee.get(sheet_path(year, other)).status_code == 404
    listed = _ok(employee.get(f"/api/v1/attestation/periods/{year.period}/sheets"))
    assert [s["staff_member"]["employee_code"] for s in listed["items"]] == ["E-N1-a"]
    # Never the shopper: no field of the sheet names a user who is not staff.
    text = str(own)
    assert "rshopper" not in text and "shopper_id" not in text


def test_managers_and_directors_see_their_scope(as_user: Any, year: Year) -> None:
    def codes(login: str) -> list[str]:
        body = _ok(as_user(login).get(f"/api/v1/attestation/periods/{year.period}/sheets"))
        return [s["staff_member"]["employee_code"] for s in body["items"]]

    # The mover worked at N1 during the period: N1's manager sees them too.
    assert codes("manager_n1") == ["E-N1-a", "E-N1-b"]
    assert codes("manager_s1") == ["E-S1-a"]
    assert codes("director_n") == ["E-N1-a", "E-N1-b", "E-N2-a"]
    assert len(codes("admin")) == 5
    assert as_user("manager_s1").get(sheet_path(year, "E-N1-a")).status_code == 404
    # A manager may not score staff of another branch.
    response = as_user("manager_s1").post(
        f"{sheet_path(year, 'E-N1-a')}/internal-scores", json={"score": 10, "reason": "x"}
    )
    assert response.status_code == 404


def test_rule_sets_are_validated_and_versioned(as_user: Any, year: Year) -> None:
    admin = as_user("admin")
    bad = admin.post(
        "/api/v1/attestation/rule-sets",
        json={
            "code": "staff",
            "name": "Плохие веса",
            "rules": {"weights": {"individual": 20, "collective": 20, "internal": 60}},
        },
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {
        "rules.weights": ["individual + collective = 40, below the minimum external share 60"]
    }
    second = _ok(
        admin.post(
            "/api/v1/attestation/rule-sets",
            json={"code": "staff", "name": "v2", "rules": {**RULES, "min_audits": 2}},
        ),
        201,
    )
    assert second["version"] == 2
    first = _ok(admin.get(f"/api/v1/attestation/rule-sets/{year.rule_set}"))
    assert first["version"] == 1 and first["rules"]["min_audits"] == 3


def _close(api: Any, period_id: int) -> Any:
    period = _ok(api.get(f"/api/v1/attestation/periods/{period_id}"))
    return api.post(
        f"/api/v1/attestation/periods/{period_id}/close", json={"version": period["version"]}
    )


def test_a_closed_period_is_frozen(as_user: Any, year: Year) -> None:
    """Later disputes, moves and rule versions never change a closed period's sheets, while an
    open period over the same dates follows them."""
    from auditapp.services import network as net

    admin = as_user("admin")
    closed = _ok(_close(admin, year.period))
    assert closed["status"] == "closed"
    before = _ok(admin.get(sheet_path(year, "E-N1-a")))
    assert before["state"] == "pending" and before["frozen_at"] is not None
    open_twin = _ok(
        admin.post(
            "/api/v1/attestation/periods",
            json={"name": "2025 (копия)", "rule_set_id": year.rule_set, "year": 2025},
        ),
        201,
    )
    # Upheld dispute: the April audit's greeting becomes "yes" (barista 4.25 / 5, score 87.5).
    uphold(year.ratings, year.audits[1], "manager_n1", "greeted", True)
    net.move_staff(
        year.ratings.user("admin"),
        year.network.staff["E-N1-a"],
        year.network.branches["S1"],
        date(2025, 12, 1),
    )
    _ok(
        admin.post(
            "/api/v1/attestation/rule-sets",
            json={"code": "staff", "name": "v2", "rules": {**RULES, "min_audits": 10}},
        ),
        201,
    )
    after = _ok(admin.get(sheet_path(year, "E-N1-a")))
    assert {k: v for k, v in after.items() if k != "state"} == {
        k: v for k, v in before.items() if k != "state"
    }
    assert after["points"] == 78.08
    # The open twin follows the dispute and the move: individual 12.75 / 15 = 85.
    live = _ok(admin.get(sheet_path(year, "E-N1-a", open_twin["id"])))
    assert {c["component"]: c["score"] for c in live["components"]}["individual"] == 85.0
    # Closing twice, scoring or re-pointing a closed period is refused.
    assert _close(admin, year.period).status_code == 409
    closed_now = _ok(admin.get(f"/api/v1/attestation/periods/{year.period}"))
    assert (
        admin.put(
            f"/api/v1/attestation/periods/{year.period}/rule-set",
            json={"rule_set_id": year.rule_set, "version": closed_now["version"]},
        ).status_code
        == 409
    )
    assert (
        as_user("manager_n1")
        .post(
            f"{sheet_path(year, 'E-N1-a')}/internal-scores",
            json={"score": 10, "reason": "поздно"},
        )
        .status_code
        == 409
    )


def test_acknowledge_object_and_answer(as_user: Any, year: Year) -> None:
    employee, manager = as_user("employee_n1"), as_user("manager_n1")
    path = sheet_path(year, "E-N1-a")
    # An open period's sheet can still change: nothing to acknowledge yet.
    assert employee.post(f"{path}/acknowledge", json={}).status_code == 409
    _ok(_close(as_user("admin"), year.period))
    refused = employee.post(f"{path}/object", json={"comment": "  "})
    assert refused.status_code == 422 and "comment" in refused.get_json()["error"]["fields"]
    objected = _ok(employee.post(f"{path}/object", json={"comment": "В апреле я был на обеде"}))
    assert objected["state"] == "objected"
    # Someone else's sheet: not found, even for the employee's own role.
    assert (
        employee.post(f"{sheet_path(year, 'E-N1-b')}/object", json={"comment": "x"}).status_code
        == 404
    )
    waiting = _ok(manager.get("/api/v1/attestation/objections?unanswered=true"))
    assert [o["comment"] for o in waiting["items"]] == ["В апреле я был на обеде"]
    assert _ok(as_user("manager_s1").get("/api/v1/attestation/objections"))["items"] == []
    objection = waiting["items"][0]
    answered = _ok(
        manager.post(
            f"/api/v1/attestation/objections/{objection['id']}/answer",
            json={"answer": "Проверили: визит был в 11:00", "version": objection["version"]},
        )
    )
    assert answered["answered_by"] == "manager_n1" and answered["answered_at"]
    again = manager.post(
        f"/api/v1/attestation/objections/{objection['id']}/answer",
        json={"answer": "ещё", "version": answered["version"]},
    )
    assert again.status_code == 409
    sheet = _ok(employee.get(path))
    assert sheet["state"] == "answered"
    done = _ok(employee.post(f"{path}/acknowledge", json={"comment": "Согласен"}))
    assert done["state"] == "acknowledged"
    assert [r["kind"] for r in done["responses"]] == ["objected", "acknowledged"]
    assert employee.post(f"{path}/acknowledge", json={}).status_code == 409


def test_overdue_lists_active_staff_not_attested_in_a_year(
    app: Flask, as_user: Any, year: Year
) -> None:
    _ok(_close(as_user("admin"), year.period))
    with clock.installed(clock.FakeClock(datetime(2026, 6, 1, tzinfo=UTC))):
        body = _ok(as_user("admin").get("/api/v1/attestation/overdue"))
        mine = _ok(as_user("manager_s1").get("/api/v1/attestation/overdue"))
    # Graded in 2025: E-N1-a, E-N1-b and E-N2-a (N2's one visit is a collective score).
    # Not gradable (no external evidence at S1 and S2): E-S1-a and E-S2-a.
    assert [o["staff_member"]["employee_code"] for o in body["items"]] == ["E-S1-a", "E-S2-a"]
    assert body["items"][0]["last_attested_on"] is None
    assert body["items"][0]["due_since"] == "2025-01-09"  # hired 2024-01-10 + 365 days
    assert [o["staff_member"]["employee_code"] for o in mine["items"]] == ["E-S1-a"]
    with clock.installed(clock.FakeClock(datetime(2027, 1, 2, tzinfo=UTC))):
        later = _ok(as_user("admin").get("/api/v1/attestation/overdue"))
    # 2025-12-31 is more than a year before 2 January 2027: everyone is due again.
    assert later["total"] == 5


def test_leaderboards_and_awards(as_user: Any, year: Year) -> None:
    admin = as_user("admin")
    boards = _ok(admin.get(f"/api/v1/attestation/periods/{year.period}/leaderboards"))
    # Only N1 has the three visits a board needs; only E-N1-a has sufficient evidence.
    assert [(b["branch"]["code"], b["rank"], b["value"]) for b in boards["top_branches"]] == [
        ("N1", 1, 80.83)
    ]
    assert [r["region"]["code"] for r in boards["regions"]] == ["N"]
    assert boards["most_improved"] == []  # no visits in 2024
    assert [(e["staff_member"]["employee_code"], e["points"]) for e in boards["top_employees"]] == [
        ("E-N1-a", 78.08)
    ]
    # Standards over N1's and N2's visits: receipt met 4 of 4 (100); greeted 3 of 4 (75).
    rates = {s["item_id"]: s["pass_rate"] for s in boards["standards"]}
    assert rates["receipt"] == 100.0 and rates["greeted"] == 75.0
    assert (
        _ok(as_user("manager_s1").get(f"/api/v1/attestation/periods/{year.period}/leaderboards"))[
            "top_employees"
        ]
        == []
    )
    award = _ok(
        admin.post(
            f"/api/v1/attestation/periods/{year.period}/awards",
            json={
                "kind": "employee",
                "staff_member_id": year.network.staff["E-N1-a"],
                "title": "=Лучший бариста",
            },
        ),
        201,
    )
    assert award["kind"] == "employee"
    bad = admin.post(
        f"/api/v1/attestation/periods/{year.period}/awards",
        json={"kind": "branch", "title": "Лучший филиал"},
    )
    assert bad.status_code == 422 and "branch_id" in bad.get_json()["error"]["fields"]
    _ok(
        admin.post(
            f"/api/v1/attestation/periods/{year.period}/awards",
            json={"kind": "branch", "branch_id": year.network.branches["N1"], "title": "Лучший"},
        ),
        201,
    )
    response = admin.get(f"/api/v1/attestation/periods/{year.period}/awards.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["period", "kind", "branch_code"]
    assert [(r[1], r[2], r[4], r[6]) for r in rows[1:]] == [
        ("employee", "", "E-N1-a", "'=Лучший бариста"),  # never a spreadsheet formula
        ("branch", "N1", "", "Лучший"),
    ]


def test_period_dates_must_be_whole_months(as_user: Any, year: Year) -> None:
    response = as_user("admin").post(
        "/api/v1/attestation/periods",
        json={
            "name": "x",
            "rule_set_id": year.rule_set,
            "starts_on": "2025-01-02",
            "ends_on": "2025-06-15",
        },
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"starts_on", "ends_on"}
    missing = as_user("admin").post(
        "/api/v1/attestation/periods", json={"name": "x", "rule_set_id": 987654}
    )
    assert missing.status_code == 404


def test_evidence_photos_follow_the_visibility_policy(
    as_user: Any, fieldwork: Any, network: Network
) -> None:
    """A barista item's photo is on the barista's sheet for those who may see it; a photo the
    shopper withdrew is shown to HQ only; the shopper is named nowhere."""
    from tests.support import jpeg_bytes, submission, upload_photo

    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    kept = upload_photo(shopper, audit_uuid, assignment, "greeted", jpeg_bytes(5)).get_json()
    gone_uuid = str(uuid.uuid4())
    upload_photo(shopper, audit_uuid, assignment, "drink_quality", jpeg_bytes(6), gone_uuid)
    assert shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{gone_uuid}").status_code == 200
    upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(7))
    staff = [{"staff_role": "barista", "staff_member_id": network.staff["E-N1-a"]}]
    audit = _ok(
        shopper.post(
            f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment, staff=staff)
        ),
        201,
    )
    approved = _ok(
        reviewer.post(f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"]})
    )
    _ok(
        reviewer.post(
            f"/api/v1/audits/{audit['id']}/release", json={"version": approved["version"]}
        )
    )
    admin = as_user("admin")
    rule_set = _ok(
        admin.post(
            "/api/v1/attestation/rule-sets",
            json={"code": "staff", "name": "Правила", "rules": {**RULES, "min_audits": 1}},
        ),
        201,
    )
    visit_year = datetime.fromisoformat(submission(assignment)["visit_started_at"]).year
    period = _ok(
        admin.post(
            "/api/v1/attestation/periods",
            json={"name": "год", "rule_set_id": rule_set["id"], "year": visit_year},
        ),
        201,
    )
    path = f"/api/v1/attestation/periods/{period['id']}/sheets/{network.staff['E-N1-a']}"

    def photos(login: str) -> dict[str, list[int]]:
        sheet = _ok(as_user(login).get(path))
        assert "shopper" not in str(sheet)
        return {e["item_id"]: e["photo_ids"] for e in sheet["evidence"]}

    # Only barista items are evidence (the receipt is the cashier's); the withdrawn photo of
    # drink_quality is QA's alone.
    assert set(photos("employee_n1")) == {"greeted", "drink_quality"}
    for login in ("employee_n1", "manager_n1", "director_n"):
        assert photos(login) == {"greeted": [kept["id"]], "drink_quality": []}, login
    admin_view = photos("admin")
    assert admin_view["greeted"] == [kept["id"]] and len(admin_view["drink_quality"]) == 1
