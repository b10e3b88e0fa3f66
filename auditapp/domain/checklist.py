"""Checklist value objects, the checklist format's rules, and its JSON form.

A checklist turns a service standard into items a mystery shopper answers. This module holds
the immutable value objects (`Checklist` -> `Section` -> `Item`), the vocabulary constants, and
`parse_checklist`, which checks a plain document (the YAML format, already loaded into dicts and
lists) against every rule of the format and reports all problems at once, each with its field
path. `checklist_to_dict` writes the same format back with every default spelled out, so
`checklist_from_dict(checklist_to_dict(c)) == c` (the database stores that JSON and the API
sends it to phones).

Pure Python: this module imports nothing outside the standard library and the domain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import get_close_matches
from typing import Any, Final, Literal, TypeVar

from auditapp.domain.vocabulary import BRANCH_KINDS, CHANNELS, LANGUAGES, STAGES

Text = Mapping[str, str]
"""Translations of one text by language code; the key ``"*"`` means "any language"."""

ANY_LANGUAGE: Final = "*"
ITEM_TYPES: Final = ("yes_no", "scale", "number", "choice", "text")
PHOTO_RULES: Final = ("none", "required", "on_fail")
CRITICAL_RULE_KINDS: Final = ("zero_audit", "zero_section", "cap")

SLUG_PATTERN: Final = re.compile(r"[a-z0-9-]+")
# Ids end up as JSON keys, URL parts and CSV headers: keep them to a safe alphabet, but allow
# dots so an item id can mirror a clause number ("4.2.1").
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CAP_PATTERN: Final = re.compile(r"cap_(\d+(?:\.\d+)?)")

Path = tuple[str | int, ...]
_T = TypeVar("_T")


def localize(text: Text, lang: str) -> str:
    """Return the translation of `text` for `lang`.

    Falls back to the language-neutral text, then Russian, then English, then whatever exists,
    so a phone set to any language always shows something.
    """
    for key in (lang, ANY_LANGUAGE, "ru", "en"):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


@dataclass(frozen=True)
class CriticalRule:
    """What a failed critical item does to the score.

    `kind` is ``zero_audit`` (audit score 0), ``zero_section`` (the failed item's section earns
    0) or ``cap`` (audit score at most `cap`, 0-100).
    """

    kind: Literal["zero_audit", "zero_section", "cap"] = "zero_audit"
    cap: float | None = None

    def __str__(self) -> str:
        """Spell the rule as the format does: ``zero_audit``, ``zero_section``, ``cap_60``."""
        if self.kind != "cap":
            return self.kind
        assert self.cap is not None
        if self.cap.is_integer():
            return f"cap_{int(self.cap)}"
        # Via Decimal of the shortest repr: plain digits (no "1e-05") that read back exactly.
        return f"cap_{Decimal(repr(self.cap)):f}"


@dataclass(frozen=True)
class Band:
    """One band of a `number` item: answers up to `upto` (inclusive) earn `score` (0-1).

    The last band of an item has `upto` None and catches every larger answer.
    """

    upto: float | None
    score: float


@dataclass(frozen=True)
class Option:
    """One option of a `choice` item, earning `score` (0-1) when picked."""

    id: str
    label: Text
    score: float


@dataclass(frozen=True)
class Item:
    """One question of a checklist, citing the clause of the standard it checks.

    Type-specific fields are empty for other types: `scale_min`/`scale_max` for ``scale``,
    `unit`/`bands` for ``number``, `options` for ``choice``.
    """

    id: str
    clause: str
    text: Text
    guidance: Text | None = None
    type: str = "yes_no"
    weight: float = 1.0
    na: bool = False
    critical: bool = False
    photo: str = "none"
    staff_role: str | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    unit: Text | None = None
    bands: tuple[Band, ...] = ()
    options: tuple[Option, ...] = ()

    @property
    def scored(self) -> bool:
        """True for items that must be answered (or N/A) and enter the score.

        Only free-text comments are unscored. An item of weight 0 is still scored: it must be
        answered and its fraction is reported, it just adds nothing to earned or possible.
        """
        return self.type != "text"

    def option(self, option_id: str) -> Option | None:
        """Return the option with this id, or None."""
        for option in self.options:
            if option.id == option_id:
                return option
        return None


@dataclass(frozen=True)
class Section:
    """A group of items belonging to one stage of the customer cycle."""

    id: str
    stage: str
    title: Text
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Checklist:
    """One version of a checklist: immutable once any audit uses it."""

    slug: str
    version: int
    title: Text
    standard_code: str
    standard_title: Text
    applies_to: tuple[str, ...]
    channel: str
    critical_rule: CriticalRule
    staff_roles: tuple[str, ...]
    sections: tuple[Section, ...]
    _index: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the item index once; duplicate item ids would make lookups ambiguous."""
        index: dict[str, Item] = {}
        for section in self.sections:
            for item in section.items:
                if item.id in index:
                    raise ValueError(f"duplicate item id {item.id!r}")
                index[item.id] = item
        # The dataclass is frozen; this is the one write, done while constructing.
        object.__setattr__(self, "_index", index)

    def items(self) -> Iterator[Item]:
        """Iterate over all items, section by section, in checklist order."""
        return iter(self._index.values())

    def item(self, item_id: str) -> Item:
        """Return the item with this id; raise KeyError if there is none."""
        return self._index[item_id]

    def has_item(self, item_id: str) -> bool:
        """Tell whether an item with this id exists."""
        return item_id in self._index


# --- the format's rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a checklist document, at a field path like ``sections[2].weight``."""

    path: Path
    message: str

    @property
    def field(self) -> str:
        """The path as text: ``sections[2].items[5].weight``; ``(checklist)`` for the root."""
        return format_path(self.path)

    def __str__(self) -> str:
        """Render as ``field: message``."""
        return f"{self.field}: {self.message}"


class ChecklistInvalid(ValueError):
    """A checklist document breaks the format; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        """Keep every problem; the message lists them one per line."""
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def format_path(path: Path) -> str:
    """Render a field path with 0-based list indexes: ``sections[2].items[5].weight``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(checklist)"


_TOP_REQUIRED: Final = ("checklist", "version", "title", "standard", "applies_to", "channel")
_TOP_OPTIONAL: Final = ("critical_rule", "staff_roles")
_SECTION_FIELDS: Final = ("id", "stage", "title", "items")
_ITEM_REQUIRED: Final = ("id", "clause", "text", "type")
_ITEM_OPTIONAL: Final = ("guidance", "weight", "na", "critical", "photo", "staff_role")
_TYPE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "yes_no": (),
    "scale": ("min", "max"),
    "number": ("unit", "bands"),
    "choice": ("options",),
    "text": (),
}
_ALL_TYPE_FIELDS: Final = tuple(name for names in _TYPE_FIELDS.values() for name in names)


class _Reader:
    """Walks a checklist document, collecting every problem instead of stopping at the first.

    Each reader method returns a usable fallback when its input is wrong, so one bad field never
    hides problems elsewhere; the caller discards the result if any problem was recorded.
    """

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(FieldProblem(path, message))

    # -- generic shapes --

    def optional(
        self,
        mapping: Mapping[str, Any],
        key: str,
        path: Path,
        read: Callable[[object, Path], _T],
        default: _T,
    ) -> _T:
        """Read `mapping[key]` with `read` if present (problems at ``path.key``), else `default`."""
        return read(mapping[key], (*path, key)) if key in mapping else default

    def fields(
        self,
        value: object,
        path: Path,
        required: Sequence[str],
        optional: Sequence[str],
        elsewhere: Mapping[str, str] | None = None,
    ) -> Mapping[str, Any]:
        """Check that `value` is a mapping with the required keys and no unknown ones.

        `elsewhere` maps keys that are valid in other contexts to the reason they are not here
        (a `min` on a `choice` item), which says more than "unknown field".
        """
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a mapping, not {_describe(value)}")
            return {}
        known = (*required, *optional)
        for key in value:
            if not isinstance(key, str):
                self.problem(path, f"field name {key!r} must be text")
            elif elsewhere and key in elsewhere:
                self.problem((*path, key), elsewhere[key])
            elif key not in known:
                hint = get_close_matches(key, known, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.problem((*path, key), f"unknown field{suffix}")
        for key in required:
            if key not in value:
                self.problem((*path, key), "required field is missing")
        return value

    def sequence(self, value: object, path: Path) -> Sequence[Any]:
        if not isinstance(value, list | tuple):
            self.problem(path, f"must be a list, not {_describe(value)}")
            return ()
        if not value:
            self.problem(path, "must not be empty")
        return value

    def string(self, value: object, path: Path) -> str:
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"must be non-empty text, not {_describe(value)}")
            return ""
        return value

    def identifier(self, value: object, path: Path) -> str:
        text = self.string(value, path)
        if text and not ID_PATTERN.fullmatch(text):
            self.problem(
                path,
                f"{text!r} is not a valid id (letters, digits, '_', '.', '-'; at most 64)",
            )
        return text

    def text(self, value: object, path: Path) -> dict[str, str]:
        """A text field: a string, or a map of language code to string."""
        if isinstance(value, str):
            return {ANY_LANGUAGE: self.string(value, path)}
        if not isinstance(value, Mapping) or not value:
            self.problem(path, f"must be text or a map of language to text, not {_describe(value)}")
            return {}
        translations: dict[str, str] = {}
        allowed = (*LANGUAGES, ANY_LANGUAGE)
        for lang, translation in value.items():
            if lang not in allowed:
                self.problem(
                    (*path, str(lang)),
                    f"unknown language {lang!r} (use one of {', '.join(LANGUAGES)})",
                )
                continue
            translations[lang] = self.string(translation, (*path, lang))
        return translations

    def boolean(self, value: object, path: Path) -> bool:
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, not {_describe(value)}")
            return False
        return value

    def integer(self, value: object, path: Path, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, not {_describe(value)}")
            return 0
        if low is not None and value < low:
            self.problem(path, f"must be >= {low}, not {value}")
        return int(value)

    def number(
        self, value: object, path: Path, low: float | None = None, high: float | None = None
    ) -> float:
        # bool is an int subclass in Python; `weight: true` is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(path, f"must be a number, not {_describe(value)}")
            return 0.0
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not math.isfinite(number):
            self.problem(path, f"must be a finite number, not {value!r}")
            return 0.0
        if low is not None and number < low:
            self.problem(path, f"must be >= {_number_text(low)}, not {value!r}")
        if high is not None and number > high:
            self.problem(path, f"must be <= {_number_text(high)}, not {value!r}")
        return number

    def one_of(self, value: object, path: Path, allowed: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in allowed:
            self.problem(path, f"must be one of {', '.join(allowed)}; not {_describe(value)}")
            return ""
        return value

    # -- the checklist --

    def checklist(self, document: object) -> Checklist:
        top = self.fields(document, (), (*_TOP_REQUIRED, "sections"), _TOP_OPTIONAL)
        slug = self.optional(top, "checklist", (), self.string, "")
        if slug and not SLUG_PATTERN.fullmatch(slug):
            self.problem(("checklist",), f"{slug!r} is not a valid slug (use a-z, 0-9 and '-')")
        version = self.optional(top, "version", (), lambda v, p: self.integer(v, p, low=1), 1)
        title: dict[str, str] = self.optional(top, "title", (), self.text, {})
        no_standard: tuple[str, dict[str, str]] = ("", {})
        code, standard_title = self.optional(top, "standard", (), self.standard, no_standard)
        applies_to: tuple[str, ...] = self.optional(top, "applies_to", (), self.applies_to, ())
        channel = self.optional(top, "channel", (), lambda v, p: self.one_of(v, p, CHANNELS), "")
        rule = self.optional(top, "critical_rule", (), self.critical_rule, CriticalRule())
        staff_roles: tuple[str, ...] = self.optional(top, "staff_roles", (), self.staff_roles, ())
        sections: tuple[Section, ...] = self.optional(
            top, "sections", (), lambda v, p: self.sections(v, p, staff_roles), ()
        )
        return Checklist(
            slug=slug,
            version=version,
            title=title,
            standard_code=code,
            standard_title=standard_title,
            applies_to=applies_to,
            channel=channel,
            critical_rule=rule,
            staff_roles=staff_roles,
            sections=sections,
        )

    def standard(self, value: object, path: Path) -> tuple[str, dict[str, str]]:
        standard = self.fields(value, path, ("code", "title"), ())
        code = self.optional(standard, "code", path, self.string, "")
        return code, self.optional(standard, "title", path, self.text, {})

    def applies_to(self, value: object, path: Path) -> tuple[str, ...]:
        kinds: list[str] = []
        for index, kind in enumerate(self.sequence(value, path)):
            kind = self.one_of(kind, (*path, index), BRANCH_KINDS)
            if kind and kind in kinds:
                self.problem((*path, index), f"{kind!r} is listed twice")
            kinds.append(kind)
        return tuple(kinds)

    def critical_rule(self, value: object, path: Path) -> CriticalRule:
        if value == "zero_audit":
            return CriticalRule("zero_audit")
        if value == "zero_section":
            return CriticalRule("zero_section")
        match = _CAP_PATTERN.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.problem(path, f"must be zero_audit, zero_section or cap_N; not {_describe(value)}")
            return CriticalRule()
        cap = float(match.group(1))
        if cap > 100:
            self.problem(path, f"the cap must be between 0 and 100, not {match.group(1)}")
        return CriticalRule("cap", cap)

    def staff_roles(self, value: object, path: Path) -> tuple[str, ...]:
        if isinstance(value, list) and not value:
            return ()  # an explicit empty list is how checklist_to_dict writes "no roles"
        roles: list[str] = []
        for index, role in enumerate(self.sequence(value, path)):
            role = self.identifier(role, (*path, index))
            if role and role in roles:
                self.problem((*path, index), f"role {role!r} is listed twice")
            roles.append(role)
        return tuple(roles)

    def sections(
        self, value: object, path: Path, staff_roles: tuple[str, ...]
    ) -> tuple[Section, ...]:
        sections: list[Section] = []
        section_ids: dict[str, Path] = {}
        item_ids: dict[str, Path] = {}
        # The "no scored item" check only speaks when every item was read cleanly: otherwise a
        # broken weight or type is the real cause and is reported already.
        problems_before = len(self.problems)
        for index, raw in enumerate(self.sequence(value, path)):
            section_path: Path = (*path, index)
            section = self.fields(raw, section_path, _SECTION_FIELDS, ())
            section_id = self.optional(section, "id", section_path, self.identifier, "")
            if section_id in section_ids:
                first = format_path(section_ids[section_id])
                self.problem(
                    (*section_path, "id"), f"duplicate section id {section_id!r} ({first})"
                )
            elif section_id:
                section_ids[section_id] = section_path
            stage = self.optional(
                section, "stage", section_path, lambda v, p: self.one_of(v, p, STAGES), ""
            )
            title: dict[str, str] = self.optional(section, "title", section_path, self.text, {})
            items: list[Item] = []
            raw_items: Sequence[object] = self.optional(
                section, "items", section_path, self.sequence, ()
            )
            for item_index, raw_item in enumerate(raw_items):
                item_path: Path = (*section_path, "items", item_index)
                item = self.item(raw_item, item_path, staff_roles)
                if item.id in item_ids:
                    first = format_path(item_ids[item.id])
                    self.problem((*item_path, "id"), f"duplicate item id {item.id!r} ({first})")
                elif item.id:
                    item_ids[item.id] = item_path
                    items.append(item)
            sections.append(Section(id=section_id, stage=stage, title=title, items=tuple(items)))
        if sections and not any(i.scored and i.weight > 0 for s in sections for i in s.items):
            if len(self.problems) == problems_before:
                self.problem(path, "the checklist has no scored item with weight > 0")
        return tuple(sections)

    def item(self, value: object, path: Path, staff_roles: tuple[str, ...]) -> Item:
        raw_type = value.get("type") if isinstance(value, Mapping) else None
        item_type = raw_type if isinstance(raw_type, str) and raw_type in ITEM_TYPES else None
        if item_type is None:
            # Type unknown: accept every type's fields rather than bury the real error in noise.
            item = self.fields(value, path, _ITEM_REQUIRED, (*_ITEM_OPTIONAL, *_ALL_TYPE_FIELDS))
            if isinstance(value, Mapping) and "type" in value:
                self.problem(
                    (*path, "type"),
                    f"must be one of {', '.join(ITEM_TYPES)}; not {_describe(raw_type)}",
                )
        else:
            own = _TYPE_FIELDS[item_type]
            elsewhere = {
                name: f"not used by type {item_type}"
                for name in _ALL_TYPE_FIELDS
                if name not in own
            }
            item = self.fields(value, path, (*_ITEM_REQUIRED, *own), _ITEM_OPTIONAL, elsewhere)

        item_id = self.optional(item, "id", path, self.identifier, "")
        clause = self.optional(item, "clause", path, self.string, "")
        text: dict[str, str] = self.optional(item, "text", path, self.text, {})
        guidance = self.optional(item, "guidance", path, self.text, None)
        default_weight = 0.0 if item_type == "text" else 1.0
        weight = self.optional(
            item, "weight", path, lambda v, p: self.number(v, p, low=0), default_weight
        )
        na = self.optional(item, "na", path, self.boolean, False)
        critical = self.optional(item, "critical", path, self.boolean, False)
        photo = self.optional(
            item, "photo", path, lambda v, p: self.one_of(v, p, PHOTO_RULES), "none"
        )
        staff_role = self.optional(item, "staff_role", path, self.identifier, None)
        if staff_role and staff_role not in staff_roles:
            self.problem(
                (*path, "staff_role"), f"role {staff_role!r} is not declared in staff_roles"
            )

        if item_type == "text":
            # Free comments are never scored, so score-related settings are always mistakes.
            if weight != 0:
                self.problem((*path, "weight"), "text items are never scored: weight must be 0")
            if critical:
                self.problem((*path, "critical"), "text items are never scored: cannot be critical")
            if photo not in ("none", ""):
                self.problem((*path, "photo"), "text items are never scored: photo must be none")
        elif critical and weight == 0:
            # A critical item fails when it earns 0, which a weight-0 item always does.
            self.problem((*path, "critical"), "a critical item needs a weight > 0")

        scale_min = scale_max = None
        unit = None
        bands: tuple[Band, ...] = ()
        options: tuple[Option, ...] = ()
        if item_type == "scale":
            problems_before = len(self.problems)
            scale_min = self.optional(item, "min", path, self.integer, 0)
            scale_max = self.optional(item, "max", path, self.integer, 0)
            # Compare only two valid bounds; a missing or broken one is reported already.
            if len(self.problems) == problems_before and scale_min >= scale_max:
                self.problem(
                    (*path, "max"), f"max ({scale_max}) must be greater than min ({scale_min})"
                )
        elif item_type == "number":
            unit = self.optional(item, "unit", path, self.text, None)
            bands = self.optional(item, "bands", path, self.bands, ())
        elif item_type == "choice":
            options = self.optional(item, "options", path, self.options, ())

        return Item(
            id=item_id,
            clause=clause,
            text=text,
            guidance=guidance,
            type=item_type or "yes_no",
            weight=weight,
            na=na,
            critical=critical,
            photo=photo,
            staff_role=staff_role,
            scale_min=scale_min,
            scale_max=scale_max,
            unit=unit,
            bands=bands,
            options=options,
        )

    def bands(self, value: object, path: Path) -> tuple[Band, ...]:
        raw_bands = self.sequence(value, path)
        bands: list[Band] = []
        previous: float | None = None
        for index, raw in enumerate(raw_bands):
            band_path: Path = (*path, index)
            last = index == len(raw_bands) - 1
            band = self.fields(raw, band_path, ("score",), ("upto",))
            score = self.optional(band, "score", band_path, self.fraction, 0.0)
            upto = self.optional(band, "upto", band_path, self.number, None)
            if upto is None:
                if not last and isinstance(raw, Mapping):
                    self.problem((*band_path, "upto"), "only the last band may omit upto")
            elif last:
                self.problem(
                    (*band_path, "upto"),
                    "the last band must have no upto: it scores every larger answer",
                )
            else:
                if previous is not None and upto <= previous:
                    self.problem(
                        (*band_path, "upto"),
                        f"bands must ascend: {_number_text(upto)} is not above "
                        f"{_number_text(previous)}",
                    )
                previous = upto
            bands.append(Band(upto=None if last else upto, score=score))
        return tuple(bands)

    def options(self, value: object, path: Path) -> tuple[Option, ...]:
        options: list[Option] = []
        seen: set[str] = set()
        for index, raw in enumerate(self.sequence(value, path)):
            option_path: Path = (*path, index)
            option = self.fields(raw, option_path, ("id", "label", "score"), ())
            option_id = self.optional(option, "id", option_path, self.identifier, "")
            if option_id and option_id in seen:
                self.problem((*option_path, "id"), f"duplicate option id {option_id!r}")
            seen.add(option_id)
            label: dict[str, str] = self.optional(option, "label", option_path, self.text, {})
            score = self.optional(option, "score", option_path, self.fraction, 0.0)
            options.append(Option(id=option_id, label=label, score=score))
        return tuple(options)

    def fraction(self, value: object, path: Path) -> float:
        """A score from 0 to 1 (band and option scores)."""
        return self.number(value, path, 0, 1)


def _describe(value: object) -> str:
    """Name a wrong value for an error message without dumping a whole structure."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _number_text(number: float) -> str:
    """Print 60.0 as 60 in messages, as the author wrote it."""
    number = float(number)
    return str(int(number)) if number.is_integer() else repr(number)


def parse_checklist(document: object) -> Checklist:
    """Build a checklist from a loaded document, checking every rule of the format.

    `document` is plain data (dicts, lists, str, int, float, bool) as loaded from YAML or JSON.
    Raises `ChecklistInvalid` listing every problem found, each with its field path.
    """
    reader = _Reader()
    checklist = reader.checklist(document)
    if reader.problems:
        raise ChecklistInvalid(reader.problems)
    return checklist


# --- the JSON form ---------------------------------------------------------------------------


def checklist_to_dict(checklist: Checklist) -> dict[str, Any]:
    """Write the checklist in the YAML format's shape with every default explicit.

    JSON-safe; every text is a map of language to text (a plain string becomes ``{"*": s}``).
    `checklist_from_dict` reads it back to an equal `Checklist`.
    """
    return {
        "checklist": checklist.slug,
        "version": checklist.version,
        "title": dict(checklist.title),
        "standard": {"code": checklist.standard_code, "title": dict(checklist.standard_title)},
        "applies_to": list(checklist.applies_to),
        "channel": checklist.channel,
        "critical_rule": str(checklist.critical_rule),
        "staff_roles": list(checklist.staff_roles),
        "sections": [
            {
                "id": section.id,
                "stage": section.stage,
                "title": dict(section.title),
                "items": [_item_to_dict(item) for item in section.items],
            }
            for section in checklist.sections
        ],
    }


def _item_to_dict(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "clause": item.clause, "text": dict(item.text)}
    if item.guidance is not None:
        out["guidance"] = dict(item.guidance)
    out.update(
        type=item.type,
        weight=item.weight,
        na=item.na,
        critical=item.critical,
        photo=item.photo,
    )
    if item.staff_role is not None:
        out["staff_role"] = item.staff_role
    if item.type == "scale":
        out.update(min=item.scale_min, max=item.scale_max)
    elif item.type == "number":
        out["unit"] = dict(item.unit or {})
        out["bands"] = [
            {"score": band.score} if band.upto is None else {"upto": band.upto, "score": band.score}
            for band in item.bands
        ]
    elif item.type == "choice":
        out["options"] = [
            {"id": option.id, "label": dict(option.label), "score": option.score}
            for option in item.options
        ]
    return out


def checklist_from_dict(document: Mapping[str, Any]) -> Checklist:
    """Read a checklist back from `checklist_to_dict` output (or any valid document).

    Raises `ChecklistInvalid` if the document breaks the format.
    """
    return parse_checklist(document)
