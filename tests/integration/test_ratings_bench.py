"""The bench's bulk path (rows inserted as released, then ``rebuild``) gives the same roll-ups as
releasing the same visits one by one through the services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from auditapp import create_app
from auditapp.extensions import db
from auditapp.models import Branch
from bench import ratings as bench
from tests.integration.test_ratings_rollups import snapshot
from tests.support import Network, Ratings, app_config, audit_at, make_user


def _by_code(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Replace branch ids by codes, and leave audit ids out (the two databases number apart)."""
    codes = dict(db.session.execute(select(Branch.id, Branch.code)).all())
    return {
        "audits": sorted((codes[r[1]], *r[2:]) for r in rows["audits"]),
        "parts": sorted((codes[r[0]], *r[1:]) for r in rows["parts"]),
        "items": sorted((codes[r[0]], *r[1:]) for r in rows["items"]),
    }


def test_bulk_path_equals_release_path(app: Flask, tmp_path: Path) -> None:
    from auditapp.services import network as net
    from auditapp.services import ratings as rating_service

    dataset = bench.generate(branches=5, regions=2, audits=40, months=3, seed=3)

    # Release path: the network, then every visit submitted, approved and released.
    network = Network()
    for index in range(dataset.regions):
        region = net.create_region({"code": f"R{index:02d}", "name": f"Регион {index + 1}"})
        network.regions[region.code] = region.id
    for spec in dataset.branches:
        branch = net.create_branch(
            {
                "region_id": network.regions[f"R{spec.region:02d}"],
                "code": spec.code,
                "name": f"Филиал {spec.code}",
                "kind": spec.kind,
                "city": "Город",
                "address": "",
                "timezone": spec.timezone,
                "latitude": None,
                "longitude": None,
                "active": True,
            }
        )
        network.branches[spec.code] = branch.id
    for login in ("admin", "reviewer"):
        network.users[login] = make_user(login, login)
    from auditapp.services import checklists

    version = checklists.import_checklist(bench.RATING_CHECKLIST, "ratings.yaml")
    shoppers = [make_user(f"rs{i}", "shopper") for i in range(8)]
    ratings = Ratings(network, version.id, shoppers)
    for visit in dataset.visits:
        audit_at(ratings, dataset.branches[visit.branch].code, visit.at, dict(visit.answers))
    released = _by_code(snapshot())
    assert len(released["audits"]) == 40 and released["parts"]

    # Bulk path, in a database of its own.
    with bench.fresh_database(os.environ.get("TEST_DATABASE_URL"), tmp_path) as (url, _):
        other = create_app(app_config(url, tmp_path))
        with other.app_context():
            from flask_migrate import upgrade

            upgrade()
            version_id, _, branch_ids, _ = bench.load_network(dataset)
            bench.load_audits(dataset, version_id, branch_ids)
            rating_service.rebuild()
            bulk = _by_code(snapshot())
            db.session.remove()
            db.engine.dispose()
    assert bulk == released
