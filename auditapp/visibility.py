"""Who may see what of an audit: one policy for every output (JSON now; PDF, CSV, ZIP later).

``access.py`` decides *which* audits a user reaches; this module decides *how much* of a reached
audit they see. There are three audiences:

* ``qa`` (HQ admins and reviewers): everything, including red flags, reuse verdicts, photo
  metadata (capture time, GPS, the original's hash) and withdrawn photos;
* ``shopper`` (the audit's own shopper): their report, but none of QA's judgements (no red
  flags, no reuse verdict) and no photo metadata beyond the receipt of their own uploads;
* ``branch`` (managers, directors, employees): the released report without the shopper's
  identity, the device's location, withdrawn photos, photo metadata or QA's exchanges with the
  shopper before release.

Every output builds its data from the view objects made here (``audit_view``, ``photo_view``),
never from the ORM rows, so a new output cannot forget a redaction. A view reads like the
audit for the fields its audience may see; asking for any other field raises
``AttributeError`` (``KeyError`` for photos and history entries), which a marshmallow schema
treats as "absent" and leaves out. The table in ``docs/security.md`` mirrors ``PHOTO_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import Row

from auditapp import access
from auditapp.domain.review import RedFlag
from auditapp.models import Audit, AuditHistory, AuditPhoto, User


class ColumnRecord:
    """A row of named columns taken out of a wider row (an audit's parts are read in one
    statement): its columns as attributes; any other name raises ``AttributeError``."""

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        """``names[i]`` is ``values[i]``."""
        self.__dict__.update(zip(names, values, strict=True))

    def __getattr__(self, name: str) -> Any:
        """Only reached for a name the row does not hold."""
        raise AttributeError(name)


#: A photo or history entry: the ORM object, or a row of (at least) the columns named below.
PhotoLike = AuditPhoto | Row[Any] | ColumnRecord
HistoryLike = AuditHistory | Row[Any] | ColumnRecord


@dataclass(frozen=True, slots=True)
class BranchFacts:
    """What an audit's detail and red flags read of its branch."""

    code: str
    timezone: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    """What the red flags read of an audit's assignment: its window and due time."""

    due_at: datetime
    window_start: date
    window_end: date


@dataclass(frozen=True, slots=True)
class VersionFacts:
    """Which checklist version an audit was filled on."""

    slug: str
    version: int


@dataclass(frozen=True, slots=True)
class ShopperName:
    """Who the shopper was, as HQ and the shopper themself see it."""

    display_name: str


@dataclass(frozen=True, slots=True)
class StaffName:
    """The name of a staff member who served the shopper."""

    full_name: str


@dataclass(frozen=True, slots=True)
class StaffServedRecord:
    """One staff role served on a visit: reads like ``AuditStaff`` for what outputs show."""

    staff_role: str
    staff_member_id: int | None
    description: str
    staff_member: StaffName | None


class AuditRecord:
    """An audit read as one row of its own columns plus what its detail reads of its branch,
    assignment, checklist version and shopper (a Core row, no ORM object), with its staff
    served and disputes: reads like ``Audit`` for everything the API's detail and the red flags
    read. An attribute the row does not hold raises ``AttributeError``, as a view's would."""

    __slots__ = (
        "row",
        "branch",
        "assignment",
        "checklist_version",
        "shopper",
        "staff_served",
        "disputes",
    )

    def __init__(
        self, row: Row[Any], staff_served: Sequence[StaffServedRecord], disputes: Sequence[Any]
    ) -> None:
        """Wrap ``row`` (of ``reading._record_statement``: ``_``-prefixed extra columns)."""
        self.row = row
        self.branch = BranchFacts(
            row._branch_code, row._branch_timezone, row._branch_latitude, row._branch_longitude
        )
        self.assignment = AssignmentFacts(row._due_at, row._window_start, row._window_end)
        self.checklist_version = VersionFacts(row._version_slug, row._version_version)
        self.shopper = ShopperName(row._shopper_name)
        self.staff_served = staff_served
        self.disputes = disputes

    def __getattr__(self, name: str) -> Any:
        """One of the audit's own columns."""
        return getattr(self.row, name)


#: An audit as the views read it: the ORM object, or an ``AuditRecord``.
AuditLike = Audit | AuditRecord

Audience = Literal["qa", "shopper", "branch"]

# Photo fields every audience that may see a photo gets: what the picture is and whether it
# can be shown. Nothing here is derived from the file's metadata.
_PHOTO_BASE: Final = frozenset({"id", "item_id", "purpose", "status", "width", "height", "error"})
# What a shopper gets back about a photo they uploaded themself: the receipt of the upload
# (their own photo id, the hash of the bytes that arrived, format, size, times), so the phone
# can check what the server holds. Capture time and GPS are QA's reading of the file: not here.
_PHOTO_RECEIPT: Final = _PHOTO_BASE | frozenset(
    {"client_uuid", "sha256", "format", "byte_size", "uploaded_at", "withdrawn_at"}
)
# QA: everything, including the file's metadata and the reuse verdict.
_PHOTO_QA: Final = _PHOTO_RECEIPT | frozenset(
    {"captured_at", "gps_lat", "gps_lon", "reuse_kind", "reused_from_photo_id"}
)

#: The role table for photos: audience -> (fields of one's own upload, fields of anyone else's).
PHOTO_FIELDS: Final[dict[Audience, tuple[frozenset[str], frozenset[str]]]] = {
    "qa": (_PHOTO_QA, _PHOTO_QA),
    "shopper": (_PHOTO_RECEIPT, _PHOTO_BASE),
    "branch": (_PHOTO_BASE, _PHOTO_BASE),
}

#: What the views read of a photo: a service may load only these columns (rows with these
#: attributes) instead of whole ORM objects.
PHOTO_COLUMNS: Final = tuple(sorted(_PHOTO_QA | {"uploaded_by_id"}))

#: History entries the branch side sees: release and what followed it. QA's exchanges with the
#: shopper before release (returns, fixes, comments, withdrawn photos) stay between them.
BRANCH_HISTORY_ACTIONS: Final = frozenset(
    {"released", "disputed", "dispute_upheld", "dispute_rejected", "score_changed"}
)
_HISTORY_BASE: Final = frozenset(
    {"at", "actor_role", "action", "field", "old_value", "new_value", "reason"}
)
#: History fields per audience: only QA sees who acted (as a user id); the shopper sees the role
#: (their own actions and "reviewer"), never which reviewer, as the audit hides ``reviewed_by``.
HISTORY_FIELDS: Final[dict[Audience, frozenset[str]]] = {
    "qa": _HISTORY_BASE | {"actor_id"},
    "shopper": _HISTORY_BASE,
    "branch": _HISTORY_BASE,
}
#: What the views read of a history entry (as ``PHOTO_COLUMNS``).
HISTORY_COLUMNS: Final = tuple(sorted(HISTORY_FIELDS["qa"]))

#: Audit attributes the branch side never reads: who the shopper was, where their phone was,
#: what the phone said and QA's exchanges with the shopper.
_BRANCH_HIDDEN: Final = frozenset(
    {
        "shopper",
        "shopper_id",
        "shopper_name",
        "client_uuid",
        "assignment",
        "assignment_id",
        "geo_lat",
        "geo_lon",
        "geo_accuracy_m",
        "device_submitted_at",
        "first_submitted_at",
        "submission_hash",
        "review_comment",
        "reviewed_at",
        "reviewed_by_id",
        "reviewed_by",
    }
)
_HIDDEN: Final[dict[Audience, frozenset[str]]] = {
    "qa": frozenset(),
    "shopper": frozenset({"reviewed_by_id", "reviewed_by", "submission_hash"}),
    "branch": _BRANCH_HIDDEN,
}


def audience_of(user: User) -> Audience:
    """Which of the three views of an audit ``user`` gets (scope is ``access.audit_filter``)."""
    if user.role in access.NETWORK_WIDE:
        return "qa"
    if user.role == "shopper":
        return "shopper"
    return "branch"


def hidden_fields(user: User) -> frozenset[str]:
    """The audit attributes ``user``'s view leaves out (for readers of plain columns)."""
    return _HIDDEN[audience_of(user)]


def sees_red_flags(user: User) -> bool:
    """Red flags and reuse verdicts are QA's judgement: HQ admins and reviewers only."""
    return audience_of(user) == "qa"


@dataclass(frozen=True, slots=True)
class Redacted(Mapping[str, Any]):
    """A row reduced to the fields one audience may see; a read-only mapping of them."""

    shown: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        """The value of a visible field; ``KeyError`` for a hidden or unknown one."""
        return self.shown[name]

    def __iter__(self) -> Iterator[str]:
        """The visible field names."""
        return iter(self.shown)

    def __len__(self) -> int:
        """How many fields are visible."""
        return len(self.shown)


class PhotoView(Redacted):
    """A photo as one audience may see it (see ``PHOTO_FIELDS``)."""

    __slots__ = ()


class HistoryView(Redacted):
    """One history entry as one audience may see it (see ``HISTORY_FIELDS``)."""

    __slots__ = ()


def photo_fields(user: User, photo: PhotoLike) -> frozenset[str]:
    """The photo fields ``user`` may see of ``photo`` (one's own upload shows its receipt)."""
    own, others = PHOTO_FIELDS[audience_of(user)]
    return own if photo.uploaded_by_id == user.id else others


def shows_photo(audience: Audience, photo: PhotoLike) -> bool:
    """A photo the shopper withdrew is not evidence: only QA and the shopper still see it."""
    return audience != "branch" or photo.status != "withdrawn"


def serves_photo_file(user: User, photo: AuditPhoto, variant: str) -> bool:
    """Whether ``user`` (already in the audit's scope) may fetch this image file: the display
    copy and thumbnail of a photo in evidence for anyone, a withdrawn photo's copies and any
    original (which keeps the camera's metadata) for QA only."""
    if access.sees_photo_originals(user):
        return True
    return variant != "original" and photo.status != "withdrawn"


# The same tables as sorted tuples (a view lists its fields in name order), sorted once.
_PHOTO_ORDER: Final = {
    audience: (tuple(sorted(own)), tuple(sorted(others)))
    for audience, (own, others) in PHOTO_FIELDS.items()
}
_HISTORY_ORDER: Final = {audience: tuple(sorted(f)) for audience, f in HISTORY_FIELDS.items()}


def photo_view(user: User, photo: PhotoLike) -> PhotoView:
    """``photo`` with only the fields ``user`` may see (``photo_fields``)."""
    own, others = _PHOTO_ORDER[audience_of(user)]
    names = own if photo.uploaded_by_id == user.id else others
    return PhotoView({name: getattr(photo, name) for name in names})


def history_view(audience: Audience, entry: HistoryLike) -> HistoryView:
    """A history entry with only the fields ``audience`` may see."""
    return HistoryView({name: getattr(entry, name) for name in _HISTORY_ORDER[audience]})


def shows_history_entry(audience: Audience, entry: HistoryLike) -> bool:
    """The branch sees what happened from release on; the others see the whole history."""
    return audience != "branch" or entry.action in BRANCH_HISTORY_ACTIONS


class AuditView:
    """An audit as one audience may see it: reads like the audit for the visible fields.

    ``photos``, ``history`` and ``flags`` are the redacted lists (``None`` when the view was
    built for a list, without them); ``flags`` does not exist at all for those who may not see
    red flags, and neither do the audit attributes hidden from the audience.
    """

    __slots__ = ("audit", "audience", "photos", "history", "_flags")

    def __init__(
        self,
        audit: AuditLike,
        audience: Audience,
        photos: Sequence[PhotoView] | None = None,
        history: Sequence[HistoryView] | None = None,
        flags: Sequence[RedFlag] | None = None,
    ) -> None:
        """Wrap ``audit`` for ``audience``; only the policy's functions below build views."""
        self.audit = audit
        self.audience = audience
        self.photos = photos
        self.history = history
        self._flags = flags

    @property
    def flags(self) -> Sequence[RedFlag]:
        """The red flags (QA only); ``AttributeError`` for anyone else."""
        if self._flags is None:
            raise AttributeError("flags")
        return self._flags

    def __getattr__(self, name: str) -> Any:
        """Any other visible audit attribute; a hidden one does not exist here."""
        if name.startswith("_") or name in _HIDDEN[self.audience]:
            raise AttributeError(name)
        return getattr(self.audit, name)


def audit_summary(
    user: User, audit: Audit, flags: Callable[[Audit], Sequence[RedFlag]] | None = None
) -> AuditView:
    """An audit for a list: no photos or history; red flags (from ``flags``) for QA only."""
    return AuditView(audit, audience_of(user), flags=_flags_for(user, audit, flags))


def _flags_for(
    user: User, audit: AuditLike, flags: Callable[[Any], Sequence[RedFlag]] | None
) -> list[RedFlag] | None:
    """The audit's red flags when ``user`` may see them, else None (computed only then)."""
    return list(flags(audit)) if flags is not None and sees_red_flags(user) else None


def audit_view(
    user: User,
    audit: AuditLike,
    flags: Callable[[Any], Sequence[RedFlag]] | None = None,
    photos: Sequence[PhotoLike] | None = None,
    history: Sequence[HistoryLike] | None = None,
) -> AuditView:
    """One audit with its photos and history redacted for ``user``, and its red flags (from
    ``flags``, computed only when ``user`` may see them). ``photos`` and ``history`` are the
    audit's own, already loaded as rows of ``PHOTO_COLUMNS`` / ``HISTORY_COLUMNS`` (by default
    its ORM collections)."""
    audience = audience_of(user)
    if photos is None or history is None:
        if not isinstance(audit, Audit):
            raise TypeError("an AuditRecord comes with its photos and history")
        photos = audit.photos if photos is None else photos
        history = audit.history if history is None else history
    return AuditView(
        audit,
        audience,
        photos=[photo_view(user, p) for p in photos if shows_photo(audience, p)],
        history=[history_view(audience, h) for h in history if shows_history_entry(audience, h)],
        flags=_flags_for(user, audit, flags),
    )
