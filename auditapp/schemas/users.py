"""Request and response shapes for users, sessions and API tokens."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from auditapp.domain.vocabulary import LANGUAGES, ROLES
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta
from auditapp.services.users import NewUser, UserChanges, UserFilters

LOGIN = validate.Regexp(r"^[a-z0-9][a-z0-9_.@-]{1,79}$", error="Lower-case letters, digits, _.@-")
PASSWORD = validate.Length(min=10, max=200, error="Use 10 to 200 characters.")


class UserSchema(ApiSchema):
    """A user as admins see and edit it."""

    id = fields.Integer(dump_only=True)
    login = fields.String(required=True, validate=LOGIN)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    locale = fields.String(load_default="ru", validate=validate.OneOf(LANGUAGES))
    active = fields.Boolean(load_default=True)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    region_ids = fields.List(Id(), load_default=list)
    branch_ids = fields.List(Id(), load_default=list)
    staff_member_id = Id(allow_none=True, load_default=None)
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)

    @post_load
    def _new_user(self, data: dict[str, Any], **_: Any) -> NewUser:
        return NewUser(**data)


class UserPatchSchema(ApiSchema):
    """Partial update of a user; a new password or role signs them out everywhere."""

    display_name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    locale = fields.String(validate=validate.OneOf(LANGUAGES))
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=PASSWORD)
    region_ids = fields.List(Id())
    branch_ids = fields.List(Id())
    staff_member_id = Id(allow_none=True)

    @post_load
    def _changes(self, data: dict[str, Any], **_: Any) -> UserChanges:
        return UserChanges(**data)  # type: ignore[typeddict-item]


class UserQuery(PageArgs):
    """Filters for the user list."""

    role = fields.String(validate=validate.OneOf(ROLES))
    q = fields.String()

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> UserFilters:
        return UserFilters(**data)


class UserPageSchema(PageMeta):
    """A page of users."""

    items = fields.List(fields.Nested(UserSchema))


class MeSchema(ApiSchema):
    """The signed-in user, as they see themselves."""

    id = fields.Integer()
    login = fields.String()
    display_name = fields.String()
    role = fields.String()
    locale = fields.String()
    region_ids = fields.List(Id())
    branch_ids = fields.List(Id())
    staff_member_id = Id(allow_none=True)
    csrf_token = fields.String()


class LoginSchema(ApiSchema):
    """Credentials."""

    login = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    remember = fields.Boolean(load_default=False)


class CsrfSchema(ApiSchema):
    """A CSRF token for cookie sessions (send it back as X-CSRFToken)."""

    csrf_token = fields.String()


class PasswordChangeSchema(ApiSchema):
    """The caller's own password change: the current password, and the new one."""

    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=200)
    )
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"description": "10 to 200 characters, not the current password"},
    )


class TokenCreateSchema(ApiSchema):
    """A new API token for the caller."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=3650),
        metadata={
            "description": "Lifetime in days; omitted or null: the longest allowed "
            "(API_TOKEN_MAX_DAYS, 90 by default); longer: 422"
        },
    )


class TokenSchema(ApiSchema):
    """An API token; ``token`` is present only in the response that creates it."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    token = fields.String()


class TokenListSchema(ApiSchema):
    """The caller's tokens."""

    items = fields.List(fields.Nested(TokenSchema))
