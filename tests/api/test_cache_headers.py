"""Signed-in API answers are not kept by caches (issue 13, item 9)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import Fieldwork, Network, upload_photo


def test_signed_in_json_is_not_stored(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    for path in ("/api/v1/auth/me", "/api/v1/users", "/api/v1/branches"):
        assert admin.get(path).headers.get("Cache-Control") == "no-store", path
    token = admin.post("/api/v1/auth/tokens", json={"name": "t"})
    assert token.headers.get("Cache-Control") == "no-store"


def test_photos_are_private_with_an_etag(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid = str(uuid.uuid4())
    uploaded = upload_photo(shopper, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt")
    assert uploaded.status_code == 201, uploaded.get_json()
    for variant in ("display", "thumb"):
        response = reviewer.get(f"/api/v1/photos/{uploaded.get_json()['id']}/{variant}")
        assert response.status_code == 200
        cache = response.headers.get("Cache-Control", "")
        assert "private" in cache and "no-store" not in cache, cache
        assert response.headers.get("ETag")


def test_the_shopper_bundle_is_not_stored_but_still_revalidates(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    first = shopper.get("/api/v1/shopper/bundle")
    assert first.status_code == 200
    assert first.headers.get("Cache-Control") == "no-store"
    again = shopper.get("/api/v1/shopper/bundle", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
