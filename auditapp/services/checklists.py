"""Importing checklist versions and reading them back as domain objects.

A (slug, version) row is immutable once any audit uses it: re-importing a changed file under the
same version is then refused, and a new ``version`` makes a new row. Old audits keep being
scored and shown against the version they were filled with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

from auditapp.adapters.checklist_yaml import ChecklistFormatError, load_checklist_text
from auditapp.domain.checklist import Checklist, checklist_from_dict, checklist_to_dict
from auditapp.extensions import db
from auditapp.models import Audit, ChecklistVersion, Wave
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import paginate
from auditapp.services.transactions import commit, rollback


@dataclass(frozen=True)
class ImportOutcome:
    """What importing one file did: ``created``, ``updated`` (unused version) or ``unchanged``."""

    slug: str
    version: int
    action: str
    id: int


def definition_hash(definition: dict[str, Any]) -> str:
    """A stable digest of a checklist's meaning (not of its formatting or comments)."""
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(text: str, source_name: str) -> Checklist:
    """Validate YAML text; a malformed file is an Invalid listing ``FILE:LINE: field: msg``."""
    try:
        return load_checklist_text(text, source_name)
    except ChecklistFormatError as error:
        raise Invalid(
            f"{len(error.problems)} problem(s) in {source_name}.",
            fields={"problems": error.problems},
            code="checklist_invalid",
        ) from error


def is_used(version_id: int) -> bool:
    """True once an audit or a wave refers to this version (it is then immutable)."""
    for model in (Audit, Wave):
        query = select(model.id).where(model.checklist_version_id == version_id).limit(1)
        if db.session.execute(query).first() is not None:
            return True
    return False


@dataclass(frozen=True)
class ValidationOutcome:
    """A valid file and what importing it would do: ``create``, ``update`` (an unused
    version), ``unchanged``, or ``refuse`` (the version is used by audits or waves and the
    file differs: it needs the next version number)."""

    slug: str
    version: int
    title: dict[str, str]
    sections: int
    items: int
    would: str


def validate_checklist(text: str, source_name: str) -> ValidationOutcome:
    """Validate a checklist file without storing it (a malformed file is an Invalid listing
    ``FILE:LINE: field: msg``, as for an import)."""
    checklist = parse(text, source_name)
    digest = definition_hash(checklist_to_dict(checklist))
    row = db.session.execute(
        select(ChecklistVersion)
        .where(ChecklistVersion.slug == checklist.slug)
        .where(ChecklistVersion.version == checklist.version)
    ).scalar_one_or_none()
    if row is None:
        would = "create"
    elif row.content_hash == digest:
        would = "unchanged"
    else:
        would = "refuse" if is_used(row.id) else "update"
    return ValidationOutcome(
        slug=checklist.slug,
        version=checklist.version,
        title=dict(checklist.title),
        sections=len(checklist.sections),
        items=sum(len(section.items) for section in checklist.sections),
        would=would,
    )


def import_checklist(text: str, source_name: str) -> ImportOutcome:
    """Validate and store one checklist file; idempotent for an unchanged file."""
    checklist = parse(text, source_name)
    definition = checklist_to_dict(checklist)
    digest = definition_hash(definition)
    row = db.session.execute(
        select(ChecklistVersion)
        .where(ChecklistVersion.slug == checklist.slug)
        .where(ChecklistVersion.version == checklist.version)
        .with_for_update()
    ).scalar_one_or_none()
    if row is not None and row.content_hash == digest:
        rollback()  # nothing to write: let go of the row lock now
        return ImportOutcome(checklist.slug, checklist.version, "unchanged", row.id)
    if row is not None and is_used(row.id):
        rollback()  # let go of the row lock: the CLI goes on with the next file
        raise Conflict(
            f"{checklist.slug} version {checklist.version} is already used by audits or waves "
            f"and cannot change; give the changed file version {checklist.version + 1}.",
            code="checklist_version_in_use",
        )
    action = "updated" if row is not None else "created"
    if row is None:
        row = ChecklistVersion(slug=checklist.slug, version=checklist.version)
        db.session.add(row)
    row.title = dict(checklist.title)
    row.standard_code = checklist.standard_code
    row.channel = checklist.channel
    row.applies_to = list(checklist.applies_to)
    row.definition = definition
    row.source_yaml = text
    row.source_name = source_name
    row.content_hash = digest
    # The same new version imported concurrently clashes; importing again settles it.
    commit(
        Conflict(
            f"{checklist.slug} version {checklist.version} was imported at the same moment; "
            "import again to see whether the two are the same.",
            code="checklist_import_race",
        )
    )
    return ImportOutcome(checklist.slug, checklist.version, action, row.id)


# Parsed checklists and their JSON definitions by (row id, content hash): a version's content
# never changes once used, and the hash tells an unused version's new content (or another
# database's row with the same id) apart. The row's big columns are deferred, so a cache hit
# reads neither.
_PARSED: dict[tuple[int, str], Checklist] = {}
_DEFINITIONS: dict[tuple[int, str], dict[str, Any]] = {}
_DEFINITION_JSON: dict[tuple[int, str], str] = {}


def definition_of(row: ChecklistVersion) -> dict[str, Any]:
    """The stored JSON definition of a version (read from the database once per content).

    The same dict is returned to every caller: treat it as read-only.
    """
    key = (row.id, row.content_hash)
    if key not in _DEFINITIONS:
        if len(_DEFINITIONS) > 512:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = row.definition
    return _DEFINITIONS[key]


def definition_json(row: ChecklistVersion) -> str:
    """The definition as JSON text, encoded once per content: the shopper's bundle carries it
    on every sync, and encoding the hotel checklist (102 KB) cost more than the rest of it."""
    key = (row.id, row.content_hash)
    if key not in _DEFINITION_JSON:
        if len(_DEFINITION_JSON) > 512:
            _DEFINITION_JSON.clear()
        _DEFINITION_JSON[key] = json.dumps(
            definition_of(row), ensure_ascii=False, separators=(",", ":")
        )
    return _DEFINITION_JSON[key]


def checklist_of(row: ChecklistVersion) -> Checklist:
    """The domain checklist of a stored version (parsed once per content)."""
    key = (row.id, row.content_hash)
    if key not in _PARSED:
        if len(_PARSED) > 512:
            _PARSED.clear()
        _PARSED[key] = checklist_from_dict(definition_of(row))
    return _PARSED[key]


def get_version(version_id: int) -> ChecklistVersion:
    """A stored checklist version, else NotFound."""
    # The detail shows the definition: load it with the row rather than in a second query.
    row = db.session.get(
        ChecklistVersion, version_id, options=[undefer(ChecklistVersion.definition)]
    )
    if row is None:
        raise NotFound(f"Checklist version {version_id} not found.")
    return row


def list_versions(filters: dict[str, Any]) -> dict[str, Any]:
    """Checklist versions, newest version of each slug first."""
    query = select(ChecklistVersion)
    if filters.get("slug"):
        query = query.where(ChecklistVersion.slug == filters["slug"])
    query = query.order_by(ChecklistVersion.slug, ChecklistVersion.version.desc())
    return paginate(query, filters["page"], filters["per_page"])
