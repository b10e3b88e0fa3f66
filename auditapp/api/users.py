"""User accounts (HQ admins only)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from auditapp.api import require
from auditapp.schemas.users import UserPageSchema, UserPatchSchema, UserQuery, UserSchema
from auditapp.services import users as user_service

blp = Blueprint("users", __name__, description="User accounts and their scope")


@blp.route("/users")
@require("admin")
@blp.arguments(UserQuery, location="query")
@blp.response(200, UserPageSchema)
def list_users(filters: user_service.UserFilters) -> Any:
    """All users."""
    return user_service.list_users(filters)


@blp.route("/users", methods=["POST"])
@require("admin")
@blp.arguments(UserSchema)
@blp.response(201, UserSchema)
def create_user(new: user_service.NewUser) -> Any:
    """Create a user with a role and its scope (regions, branches or staff member)."""
    return user_service.create_user(new)


@blp.route("/users/<int:user_id>")
@require("admin")
@blp.response(200, UserSchema)
def get_user(user_id: int) -> Any:
    """A user."""
    return user_service.get_user(user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def update_user(changes: user_service.UserChanges, user_id: int) -> Any:
    """Change a user; a new password, role or deactivation signs them out everywhere."""
    return user_service.update_user(user_id, changes)


@blp.route("/users/<int:user_id>", methods=["DELETE"])
@require("admin")
@blp.response(200, UserSchema)
def deactivate_user(user_id: int) -> Any:
    """Deactivate a user (users are never deleted, so their actions stay attributable)."""
    return user_service.deactivate_user(user_id, current_user)
