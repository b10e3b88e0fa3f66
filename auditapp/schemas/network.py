"""Request and response shapes for regions, branches and staff."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from auditapp.domain.network import CODE_PATTERN, CODE_RULE, timezone_problem
from auditapp.domain.vocabulary import BRANCH_KINDS
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta

CODE = validate.Regexp(CODE_PATTERN, error=CODE_RULE)


def check_timezone(value: str) -> None:
    """An IANA time zone name such as Europe/Moscow."""
    problem = timezone_problem(value)
    if problem is not None:
        raise ValidationError(problem)


class RegionSchema(ApiSchema):
    """A region."""

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class RegionPatchSchema(RegionSchema):
    """Partial update of a region."""

    code = fields.String(validate=CODE)
    name = fields.String(validate=validate.Length(min=1, max=200))


class RegionPageSchema(PageMeta):
    """A page of regions."""

    items = fields.List(fields.Nested(RegionSchema))


class BranchSchema(ApiSchema):
    """A branch (outlet)."""

    id = fields.Integer(dump_only=True)
    region_id = Id(required=True)
    region_code = fields.Function(lambda b: b.region.code, dump_only=True)
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(BRANCH_KINDS))
    city = fields.String(required=True, validate=validate.Length(min=1, max=120))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    timezone = fields.String(load_default="Europe/Moscow")
    latitude = fields.Float(allow_none=True, load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, load_default=None, validate=validate.Range(-180, 180))
    active = fields.Boolean(load_default=True)

    @validates("timezone")
    def _timezone(self, value: str, **_: object) -> None:
        check_timezone(value)


class BranchPatchSchema(ApiSchema):
    """Partial update of a branch: only the fields given change."""

    region_id = Id()
    code = fields.String(validate=CODE)
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(BRANCH_KINDS))
    city = fields.String(validate=validate.Length(min=1, max=120))
    address = fields.String(validate=validate.Length(max=300))
    timezone = fields.String()
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    active = fields.Boolean()

    @validates("timezone")
    def _timezone(self, value: str, **_: object) -> None:
        check_timezone(value)


class BranchQuery(PageArgs):
    """Filters for the branch list."""

    region_id = Id()
    kind = fields.String(validate=validate.OneOf(BRANCH_KINDS))
    city = fields.String()
    active = fields.Boolean()
    q = fields.String(metadata={"description": "Substring of the code or name"})


class BranchPageSchema(PageMeta):
    """A page of branches."""

    items = fields.List(fields.Nested(BranchSchema))


class PlacementSchema(ApiSchema):
    """A period a staff member worked at a branch."""

    branch_id = Id()
    branch_code = fields.Function(lambda p: p.branch.code)
    position = fields.String()
    started_on = fields.Date()
    ended_on = fields.Date(allow_none=True)


class StaffSchema(ApiSchema):
    """A staff member with the branch they work at now and their placement history."""

    id = fields.Integer(dump_only=True)
    employee_code = fields.String(required=True, validate=CODE)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    position = fields.String(required=True, validate=validate.Length(min=1, max=60))
    branch_id = Id(required=True, load_only=True)
    hired_on = fields.Date(required=True)
    left_on = fields.Date(allow_none=True, load_default=None)
    current_branch_id = fields.Method("_current_branch", dump_only=True)
    placements = fields.List(fields.Nested(PlacementSchema), dump_only=True)

    def _current_branch(self, staff: object) -> int | None:
        for placement in getattr(staff, "placements", []):
            if placement.ended_on is None:
                return int(placement.branch_id)
        return None


class StaffPatchSchema(ApiSchema):
    """Partial update of a staff member's own fields (moves go through /move)."""

    employee_code = fields.String(validate=CODE)
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    position = fields.String(validate=validate.Length(min=1, max=60))
    hired_on = fields.Date()
    left_on = fields.Date(allow_none=True)


class StaffMoveSchema(ApiSchema):
    """Move a staff member to another branch (or position) from a date on."""

    branch_id = Id(required=True)
    position = fields.String(validate=validate.Length(min=1, max=60))
    on = fields.Date(required=True, metadata={"description": "First day at the new branch"})


class StaffQuery(PageArgs):
    """Filters for the staff list."""

    branch_id = Id(metadata={"description": "Currently placed at this branch"})
    position = fields.String()
    q = fields.String(metadata={"description": "Substring of the name or employee code"})


class StaffPageSchema(PageMeta):
    """A page of staff members."""

    items = fields.List(fields.Nested(StaffSchema))
