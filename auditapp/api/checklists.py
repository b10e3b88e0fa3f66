"""Checklist versions: list, read, import (HQ)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from auditapp.api import require
from auditapp.schemas.audits import (
    ChecklistImportResultSchema,
    ChecklistImportSchema,
    ChecklistPageSchema,
    ChecklistQuery,
    ChecklistValidationSchema,
    ChecklistVersionDetailSchema,
)
from auditapp.services import checklists

blp = Blueprint("checklists", __name__, description="Checklist versions")


@blp.route("/checklists")
@require("admin", "reviewer", "director", "manager")
@blp.arguments(ChecklistQuery, location="query")
@blp.response(200, ChecklistPageSchema)
def list_versions(filters: dict[str, Any]) -> Any:
    """Checklist versions (the standards and their items are training material for all)."""
    return checklists.list_versions(filters)


@blp.route("/checklists/<int:version_id>")
@require("admin", "reviewer", "director", "manager")
@blp.response(200, ChecklistVersionDetailSchema)
def get_version(version_id: int) -> Any:
    """A checklist version with its full definition (clauses, guidance)."""
    return checklists.get_version(version_id)


@blp.route("/checklists/import", methods=["POST"])
@require("admin")
@blp.arguments(ChecklistImportSchema)
@blp.response(200, ChecklistImportResultSchema)
def import_version(args: dict[str, Any]) -> Any:
    """Validate and store a checklist YAML (problems listed as FILE:LINE: field: message)."""
    return checklists.import_checklist(args["yaml"], args["filename"])


@blp.route("/checklists/validate", methods=["POST"])
@require("admin")
@blp.arguments(ChecklistImportSchema)
@blp.response(200, ChecklistValidationSchema)
def validate_version(args: dict[str, Any]) -> Any:
    """Validate a checklist YAML without storing it: 422 lists the problems as
    FILE:LINE: field: message (as an import does); 200 says what an import would do."""
    return checklists.validate_checklist(args["yaml"], args["filename"])
