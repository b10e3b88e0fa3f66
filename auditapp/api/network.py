"""Regions, branches and staff. Reads are scoped by ``auditapp.access``; writes are admin-only."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_smorest import Blueprint

from auditapp import clock
from auditapp.api import require
from auditapp.schemas.common import ImportResultSchema, PageArgs
from auditapp.schemas.network import (
    BranchPageSchema,
    BranchPatchSchema,
    BranchQuery,
    BranchSchema,
    RegionPageSchema,
    RegionPatchSchema,
    RegionSchema,
    StaffMoveSchema,
    StaffPageSchema,
    StaffPatchSchema,
    StaffQuery,
    StaffSchema,
)
from auditapp.services import imports
from auditapp.services import network as network_service
from auditapp.services.errors import Invalid

blp = Blueprint("network", __name__, description="Regions, branches and staff")

READERS = ("admin", "reviewer", "director", "manager")


# How the CSV imports take their file, for the OpenAPI document (they read it themselves).
CSV_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


def _csv_text() -> str:
    """The uploaded CSV: a multipart ``file`` field or a text/csv body, UTF-8."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else request.get_data()
    if not raw:
        raise Invalid("No CSV given.", fields={"file": ["Send a CSV file (multipart 'file')."]})
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(
            "The file is not UTF-8.",
            fields={"file": [f"Not UTF-8 at byte {error.start}; save as CSV UTF-8."]},
        ) from error


# Regions -----------------------------------------------------------------------------------


@blp.route("/regions")
@require(*READERS)
@blp.arguments(PageArgs, location="query")
@blp.response(200, RegionPageSchema)
def list_regions(args: dict[str, Any]) -> dict[str, Any]:
    """Regions in the caller's scope."""
    return network_service.list_regions(current_user, args["page"], args["per_page"])


@blp.route("/regions", methods=["POST"])
@require("admin")
@blp.arguments(RegionSchema)
@blp.response(201, RegionSchema)
def create_region(fields: network_service.RegionFields) -> Any:
    """Create a region."""
    return network_service.create_region(fields)


@blp.route("/regions/<int:region_id>")
@require(*READERS)
@blp.response(200, RegionSchema)
def get_region(region_id: int) -> Any:
    """A region in scope."""
    return network_service.get_region(current_user, region_id)


@blp.route("/regions/<int:region_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(RegionPatchSchema)
@blp.response(200, RegionSchema)
def update_region(fields: network_service.RegionChanges, region_id: int) -> Any:
    """Change a region."""
    return network_service.update_region(current_user, region_id, fields)


@blp.route("/regions/<int:region_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_region(region_id: int) -> None:
    """Delete an empty region."""
    network_service.delete_region(current_user, region_id)


# Branches ----------------------------------------------------------------------------------


@blp.route("/branches")
@require(*READERS)
@blp.arguments(BranchQuery, location="query")
@blp.response(200, BranchPageSchema)
def list_branches(filters: network_service.BranchFilters) -> dict[str, Any]:
    """Branches in the caller's scope; filters narrow, never widen."""
    return network_service.list_branches(current_user, filters)


@blp.route("/branches", methods=["POST"])
@require("admin")
@blp.arguments(BranchSchema)
@blp.response(201, BranchSchema)
def create_branch(fields: network_service.BranchFields) -> Any:
    """Create a branch."""
    return network_service.create_branch(fields)


@blp.route("/branches/import", methods=["POST"])
@require("admin")
@blp.response(200, ImportResultSchema)
@blp.doc(requestBody=CSV_BODY)
def import_branches() -> Any:
    """Import branches from CSV (all or nothing; errors name the row and column).

    Columns: code, name, kind, region_code, city; optional region_name (creates the region),
    address, timezone, latitude, longitude, active.
    """
    return imports.import_branches(_csv_text(), current_app.config["MAX_IMPORT_ROWS"])


@blp.route("/branches/<int:branch_id>")
@require(*READERS)
@blp.response(200, BranchSchema)
def get_branch(branch_id: int) -> Any:
    """A branch in scope."""
    return network_service.get_branch(current_user, branch_id)


@blp.route("/branches/<int:branch_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(BranchPatchSchema)
@blp.response(200, BranchSchema)
def update_branch(fields: network_service.BranchChanges, branch_id: int) -> Any:
    """Change a branch (deactivate with active=false)."""
    return network_service.update_branch(current_user, branch_id, fields)


@blp.route("/branches/<int:branch_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_branch(branch_id: int) -> None:
    """Delete a branch with no history."""
    network_service.delete_branch(current_user, branch_id)


# Staff -------------------------------------------------------------------------------------


@blp.route("/staff")
@require(*READERS)
@blp.arguments(StaffQuery, location="query")
@blp.response(200, StaffPageSchema)
def list_staff(filters: network_service.StaffFilters) -> dict[str, Any]:
    """Staff in the caller's scope."""
    return network_service.list_staff(current_user, filters)


@blp.route("/staff", methods=["POST"])
@require("admin")
@blp.arguments(StaffSchema)
@blp.response(201, StaffSchema)
def create_staff(fields: network_service.StaffFields) -> Any:
    """Create a staff member placed at a branch."""
    return network_service.create_staff(fields)


@blp.route("/staff/import", methods=["POST"])
@require("admin")
@blp.response(200, ImportResultSchema)
@blp.doc(requestBody=CSV_BODY)
def import_staff() -> Any:
    """Import staff from CSV (all or nothing; a new branch_code moves the person).

    Columns: employee_code, full_name, position, branch_code, hired_on; optional left_on,
    moved_on (first day at the new branch; default today).
    """
    return imports.import_staff(
        _csv_text(), current_app.config["MAX_IMPORT_ROWS"], clock.now().date()
    )


@blp.route("/staff/<int:staff_id>")
@require(*READERS, "employee")
@blp.response(200, StaffSchema)
def get_staff(staff_id: int) -> Any:
    """A staff member in scope (an employee sees only themselves)."""
    return network_service.get_staff(current_user, staff_id)


@blp.route("/staff/<int:staff_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(StaffPatchSchema)
@blp.response(200, StaffSchema)
def update_staff(fields: network_service.StaffChanges, staff_id: int) -> Any:
    """Change a staff member (set left_on when they leave)."""
    return network_service.update_staff(current_user, staff_id, fields)


@blp.route("/staff/<int:staff_id>/move", methods=["POST"])
@require("admin")
@blp.arguments(StaffMoveSchema)
@blp.response(200, StaffSchema)
def move_staff(args: dict[str, Any], staff_id: int) -> Any:
    """Move a staff member to another branch; the history is kept."""
    return network_service.move_staff(
        current_user, staff_id, args["branch_id"], args["on"], args.get("position")
    )
