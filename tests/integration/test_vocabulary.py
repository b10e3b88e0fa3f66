"""The models' CHECK constraints, built from the domain's vocabulary, still say what the
migrated database enforces: a word added to the vocabulary without a migration fails here."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from auditapp.extensions import db

# PostgreSQL spells a constraint its own way ("(status)::text = ANY (ARRAY['a'::character
# varying, ...])"); the quoted values are what both spellings share.
_QUOTED = re.compile(r"'([^']*)'")


def _model_checks() -> dict[str, list[str]]:
    checks = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                checks[str(constraint.name)] = _QUOTED.findall(str(constraint.sqltext))
    return checks


def test_every_check_constraint_names_the_values_the_database_enforces(app: Flask) -> None:
    inspector = sa.inspect(db.engine)
    in_database = {
        str(check["name"]): _QUOTED.findall(check["sqltext"])
        for table in db.metadata.sorted_tables
        for check in inspector.get_check_constraints(table.name)
    }
    models = _model_checks()
    assert set(models) <= set(in_database)
    assert {name: in_database[name] for name in models} == models
    assert models["ck_audit_status_known"] == [
        "in_progress",
        "submitted",
        "returned",
        "approved",
        "rejected",
        "released",
    ]
