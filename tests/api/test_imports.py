"""CSV import of branches and staff: all or nothing, errors by row and column, idempotent."""

from __future__ import annotations

import io
from typing import Any

from tests.support import Network

BRANCHES = """code,name,kind,region_code,region_name,city,address,timezone
V1,Магазин «Восток»,store,V,Восток,Владивосток,"ул. Светланская, 1",Asia/Vladivostok
V2,Ресторан «Байкал»,restaurant,V,Восток,Хабаровск,,Asia/Vladivostok
N9,Отель «Полярный»,hotel,N,,Мурманск,,Europe/Moscow
"""


def _upload(api: Any, path: str, text: str, encoding: str = "utf-8") -> Any:
    data = {"file": (io.BytesIO(text.encode(encoding)), "import.csv")}
    return api.post(path, data=data, content_type="multipart/form-data")


def test_import_branches_creates_regions_and_is_idempotent(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    first = _upload(admin, "/api/v1/branches/import", BRANCHES)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"created": 3, "updated": 0, "unchanged": 0}
    again = _upload(admin, "/api/v1/branches/import", BRANCHES)
    assert again.get_json() == {"created": 0, "updated": 0, "unchanged": 3}
    codes = [b["code"] for b in admin.get("/api/v1/branches?per_page=100").get_json()["items"]]
    assert {"V1", "V2", "N9"} <= set(codes)
    # The director of N now sees the imported N9.
    director = [
        b["code"] for b in as_user("director_n").get("/api/v1/branches").get_json()["items"]
    ]
    assert "N9" in director


def test_bad_branch_file_imports_nothing_and_names_rows(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    bad = (
        "code,name,kind,region_code,city,timezone\n"
        "OK1,Хороший,store,N,Мурманск,Europe/Moscow\n"
        "BAD1,Плохой вид,bar,N,Мурманск,Europe/Moscow\n"
        "BAD2,Нет региона,store,ZZ,Омск,Europe/Moscow\n"
        "OK1,Дубликат,store,N,Мурманск,Europe/Moscow\n"
        "BAD3,Без города,store,N,,Mars/Base\n"
    )
    response = _upload(admin, "/api/v1/branches/import", bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "import_failed"
    found = {(p["row"], p["column"]) for p in error["fields"]["rows"]}
    assert found == {(3, "kind"), (4, "region_code"), (5, "code"), (6, "city"), (6, "timezone")}
    codes = [b["code"] for b in admin.get("/api/v1/branches?per_page=100").get_json()["items"]]
    assert "OK1" not in codes


def test_missing_and_unknown_columns(as_user: Any, network: Network) -> None:
    response = _upload(as_user("admin"), "/api/v1/branches/import", "code,name,colour\nA,B,red\n")
    problems = response.get_json()["error"]["fields"]["rows"]
    assert {(p["row"], p["column"], p["message"]) for p in problems} >= {
        (1, "kind", "Missing column."),
        (1, "colour", "Unknown column."),
    }


def test_excel_semicolon_and_bom_accepted(as_user: Any, network: Network) -> None:
    text = "code;name;kind;region_code;city\nX1;Склад;store;S;Ростов\n"
    response = _upload(as_user("admin"), "/api/v1/branches/import", text, "utf-8-sig")
    assert response.get_json() == {"created": 1, "updated": 0, "unchanged": 0}


def test_non_utf8_file_is_refused(as_user: Any, network: Network) -> None:
    text = "code,name,kind,region_code,city\nX1,Склад,store,S,Ростов\n"
    response = _upload(as_user("admin"), "/api/v1/branches/import", text, "cp1251")
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def test_import_staff_creates_moves_and_reports(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    text = (
        "employee_code,full_name,position,branch_code,hired_on,moved_on\n"
        "E-N1-a,Сотрудник E-N1-a,consultant,S2,2024-01-10,2025-06-01\n"
        "NEW-1,Петрова Анна Сергеевна,cashier,N2,2025-02-01,\n"
    )
    response = _upload(admin, "/api/v1/staff/import", text)
    assert response.get_json() == {"created": 1, "updated": 1, "unchanged": 0}
    moved = admin.get(f"/api/v1/staff/{network.staff['E-N1-a']}").get_json()
    assert [(p["branch_code"], p["ended_on"]) for p in moved["placements"]] == [
        ("N1", "2025-05-31"),
        ("S2", None),
    ]
    again = _upload(admin, "/api/v1/staff/import", text)
    assert again.get_json() == {"created": 0, "updated": 0, "unchanged": 2}


def test_bad_staff_file_imports_nothing(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    text = (
        "employee_code,full_name,position,branch_code,hired_on,left_on\n"
        "NEW-2,Иванов Иван,cashier,N2,2025-02-01,\n"
        "NEW-3,Сидоров Пётр,cashier,NOPE,2025-02-01,\n"
        "NEW-4,Смирнова Ольга,cashier,N2,01.02.2025,\n"
        "NEW-5,Козлов Олег,cashier,N2,2025-02-01,2025-01-01\n"
    )
    response = _upload(admin, "/api/v1/staff/import", text)
    assert response.status_code == 422
    found = {(p["row"], p["column"]) for p in response.get_json()["error"]["fields"]["rows"]}
    assert found == {(3, "branch_code"), (4, "hired_on"), (5, "left_on")}
    staff = admin.get("/api/v1/staff?q=NEW").get_json()
    assert staff["total"] == 0
