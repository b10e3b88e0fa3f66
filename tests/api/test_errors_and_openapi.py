"""The API's error shape and its OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Flask


def test_openapi_document_lists_the_endpoints(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/branches",
        "/api/v1/branches/{branch_id}",
        "/api/v1/users",
        "/api/v1/staff/import",
        "/api/v1/auth/login",
    ):
        assert path in spec["paths"], path
    branch = spec["components"]["schemas"]["Branch"]
    assert branch["properties"]["kind"]["enum"] == [
        "store",
        "restaurant",
        "hotel",
        "service_centre",
    ]


def test_validation_error_names_fields(as_user: Any) -> None:
    admin = as_user("admin")
    response = admin.post(
        "/api/v1/branches",
        json={
            "code": "bad code!",
            "name": "",
            "kind": "bar",
            "region_id": "x",
            "city": "Омск",
            "timezone": "Mars/Olympus",
        },
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"code", "name", "kind", "region_id", "timezone"}


def test_unknown_fields_are_refused(as_user: Any) -> None:
    response = as_user("admin").post("/api/v1/regions", json={"code": "W", "name": "З", "x": 1})
    assert response.status_code == 422
    assert "x" in response.get_json()["error"]["fields"]


def test_malformed_json_is_a_4xx_json_error(as_user: Any) -> None:
    response = as_user("admin").post(
        "/api/v1/regions", data="{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.get_json()


def test_unknown_api_route_and_method_are_json(as_user: Any) -> None:
    admin = as_user("admin")
    missing = admin.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = admin.put("/api/v1/branches")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_unexpected_exception_is_json_500_and_rolls_back(make_app: Any) -> None:
    app: Flask = make_app()

    from auditapp.api import public

    @app.route("/api/v1/_boom")
    @public
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/api/v1/_boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal"


def test_security_headers_and_pwa_shell(client: Any) -> None:
    with client.get("/") as page:
        assert page.status_code == 200
        assert "Аудит" in page.get_data(as_text=True)
        headers = [page.headers]
    with client.get("/api/v1/auth/me") as api:
        headers.append(api.headers)
    for header in headers:
        assert header["X-Content-Type-Options"] == "nosniff"
        assert header["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in header["Content-Security-Policy"]
    with client.get("/sw.js") as worker:
        assert worker.status_code == 200
        assert worker.headers["Service-Worker-Allowed"] == "/"
    with client.get("/manifest.webmanifest") as manifest:
        assert manifest.get_json()["lang"] == "ru"


def test_openapi_documents_our_error_shape(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error"}
    body = spec["components"]["schemas"][error["properties"]["error"]["$ref"].split("/")[-1]]
    assert set(body["properties"]) == {"code", "message", "fields"}
