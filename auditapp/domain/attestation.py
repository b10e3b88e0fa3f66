"""Staff attestation arithmetic: rule sets, components -> points -> grade, with the formula.

An employee's sheet for a period has three components, each with a weight from the rule set
(weights sum to 100):

* ``individual``: earned / possible over the checklist items attributed to the employee (items
  whose staff role is the role in which an audit recorded them as served);
* ``collective``: the ratings of the branches they worked in, weighted by the days of the period
  they worked in each;
* ``internal``: a score entered by a manager or HR.

``individual`` and ``collective`` are the *external* (objective) part; a rule set is refused
unless their weights reach its minimum external share. A component without evidence is left out
and the remaining weights are re-normalised; when the external part of what remains falls below
the minimum share, the employee is "not gradable this period" (never graded on the internal
score alone).

Numbers people check by hand: component scores and points are rounded to two decimals (halves
up) before they are combined and graded, so the formula printed on the sheet, computed with the
numbers it shows, gives exactly the points it shows. Sums use ``math.fsum`` and inputs are
sorted, so the same data give the same points whatever order they arrive in.

Pure Python: this module imports nothing outside the standard library and our domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal

Component = Literal["individual", "collective", "internal"]
COMPONENTS: Final[tuple[Component, ...]] = ("individual", "collective", "internal")
EXTERNAL: Final[frozenset[str]] = frozenset({"individual", "collective"})

DEFAULT_MIN_EXTERNAL_SHARE: Final = 60.0
DEFAULT_MIN_AUDITS: Final = 3
# The external part must dominate (DOMAIN.md, point 7): a rule set may raise the minimum
# share, never set it at or below half.
LOWEST_MIN_EXTERNAL_SHARE: Final = 50.0
MAX_MIN_AUDITS: Final = 1000
# Tolerance when checking that weights sum to 100 (weights arrive as JSON numbers).
WEIGHT_TOLERANCE: Final = 1e-9

ComponentStatus = Literal[
    "counted", "insufficient_evidence", "no_evidence", "not_entered", "unused"
]
SheetStatus = Literal["graded", "not_gradable"]

COMPONENT_NAMES: Final[dict[str, dict[str, str]]] = {
    "individual": {"ru": "индивидуальный результат", "en": "individual result"},
    "collective": {"ru": "коллективный результат", "en": "collective result"},
    "internal": {"ru": "внутренняя оценка", "en": "internal score"},
}
STATUS_NOTES: Final[dict[str, dict[str, str]]] = {
    "counted": {"ru": "учтён", "en": "counted"},
    "insufficient_evidence": {
        "ru": "недостаточно данных: слишком мало проверок, компонент не учтён",
        "en": "insufficient evidence: too few audits, left out",
    },
    "no_evidence": {
        "ru": "нет данных за период, компонент не учтён",
        "en": "no evidence in the period, left out",
    },
    "not_entered": {
        "ru": "оценка не внесена, компонент не учтён",
        "en": "no score entered, left out",
    },
    "unused": {"ru": "вес 0, не используется", "en": "weight 0, not used"},
}


class RuleSetError(ValueError):
    """A rule set that breaks a rule; ``fields`` maps each offending field to its reasons."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        """Keep every problem; the message lists them all."""
        self.fields = {key: list(value) for key, value in fields.items()}
        super().__init__(
            "; ".join(f"{key}: {', '.join(value)}" for key, value in self.fields.items())
        )


@dataclass(frozen=True)
class Grade:
    """A grade band: points at or above ``min_points`` (and below the next band) get it."""

    code: str
    min_points: float
    label_ru: str
    label_en: str


DEFAULT_GRADES: Final = (
    Grade("exceeds", 85.0, "превышает стандарт", "exceeds the standard"),
    Grade("meets", 70.0, "соответствует стандарту", "meets the standard"),
    Grade("below", 0.0, "ниже стандарта", "below the standard"),
)
DEFAULT_WEIGHTS: Final[dict[str, float]] = {
    "individual": 50.0,
    "collective": 30.0,
    "internal": 20.0,
}


@dataclass(frozen=True)
class RuleSet:
    """What HQ sets: component weights, the minimum external share, the minimum number of
    attributed audits and the grade bands (highest first). Build it with `parse_rule_set`."""

    weights: Mapping[str, float]
    min_external_share: float = DEFAULT_MIN_EXTERNAL_SHARE
    min_audits: int = DEFAULT_MIN_AUDITS
    grades: tuple[Grade, ...] = DEFAULT_GRADES

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what `parse_rule_set` reads back)."""
        return {
            "weights": {name: float(self.weights.get(name, 0.0)) for name in COMPONENTS},
            "min_external_share": self.min_external_share,
            "min_audits": self.min_audits,
            "grades": [
                {
                    "code": g.code,
                    "min_points": g.min_points,
                    "label_ru": g.label_ru,
                    "label_en": g.label_en,
                }
                for g in self.grades
            ],
        }

    def grade_of(self, points: float) -> Grade:
        """The band ``points`` falls in (validated rule sets always have a band at 0)."""
        for grade in self.grades:
            if points >= grade.min_points:
                return grade
        return self.grades[-1]


def _number(value: object) -> float | None:
    """A finite JSON number (not a bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_rule_set(document: Mapping[str, Any]) -> RuleSet:
    """Check a rule set document and build the `RuleSet`; raise `RuleSetError` listing every
    problem at once, each under its field (``weights.individual``, ``grades.1.min_points``)."""
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    weights: dict[str, float] = {}
    raw_weights = document.get("weights")
    if not isinstance(raw_weights, Mapping):
        fail("weights", "give a weight for each component: individual, collective, internal")
        raw_weights = {}
    for key in raw_weights:
        if key not in COMPONENTS:
            fail(f"weights.{key}", f"unknown component (known: {', '.join(COMPONENTS)})")
    for name in COMPONENTS:
        raw = raw_weights.get(name, 0)
        weight = _number(raw)
        if weight is None:
            fail(f"weights.{name}", "must be a number")
        elif not 0 <= weight <= 100:
            fail(f"weights.{name}", "must be between 0 and 100")
        else:
            weights[name] = weight
    if "weights" not in errors and len(weights) == len(COMPONENTS):
        total = math.fsum(weights.values())
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            fail("weights", f"weights must sum to 100 (they sum to {_plain(total)})")

    share = _number(document.get("min_external_share", DEFAULT_MIN_EXTERNAL_SHARE))
    if share is None:
        fail("min_external_share", "must be a number")
        share = DEFAULT_MIN_EXTERNAL_SHARE
    elif not LOWEST_MIN_EXTERNAL_SHARE <= share <= 100:
        fail(
            "min_external_share",
            f"must be between {_plain(LOWEST_MIN_EXTERNAL_SHARE)} and 100: "
            "external objective results must dominate",
        )
    elif len(weights) == len(COMPONENTS) and not errors:
        external = weights["individual"] + weights["collective"]
        if external + WEIGHT_TOLERANCE < share:
            fail(
                "weights",
                f"individual + collective = {_plain(external)}, below the minimum external "
                f"share {_plain(share)}",
            )

    raw_min = document.get("min_audits", DEFAULT_MIN_AUDITS)
    if isinstance(raw_min, bool) or not isinstance(raw_min, int):
        fail("min_audits", "must be a whole number")
        min_audits = DEFAULT_MIN_AUDITS
    elif not 1 <= raw_min <= MAX_MIN_AUDITS:
        fail("min_audits", f"must be between 1 and {MAX_MIN_AUDITS}")
        min_audits = DEFAULT_MIN_AUDITS
    else:
        min_audits = raw_min

    grades = _parse_grades(document.get("grades"), fail)
    if errors:
        raise RuleSetError(errors)
    return RuleSet(
        weights={name: weights[name] for name in COMPONENTS},
        min_external_share=share,
        min_audits=min_audits,
        grades=grades,
    )


def _parse_grades(raw: object, fail: Callable[[str, str], None]) -> tuple[Grade, ...]:
    """Grade bands from a list (absent: the defaults); sorted highest threshold first."""
    if raw is None:
        return DEFAULT_GRADES
    if not isinstance(raw, list) or not raw:
        fail("grades", "give at least one grade band")
        return DEFAULT_GRADES
    grades: list[Grade] = []
    codes: set[str] = set()
    thresholds: set[float] = set()
    for index, entry in enumerate(raw):
        where = f"grades.{index}"
        if not isinstance(entry, Mapping):
            fail(where, "must be an object with code, min_points, label_ru, label_en")
            continue
        code = entry.get("code")
        threshold = _number(entry.get("min_points"))
        label_ru, label_en = entry.get("label_ru"), entry.get("label_en", "")
        ok = True
        if not isinstance(code, str) or not code.strip() or len(code) > 40:
            fail(f"{where}.code", "must be a non-empty text of at most 40 characters")
            ok = False
        elif code in codes:
            fail(f"{where}.code", f"{code!r} is used by another band")
            ok = False
        if threshold is None or not 0 <= threshold <= 100:
            fail(f"{where}.min_points", "must be a number between 0 and 100")
            ok = False
        elif threshold in thresholds:
            fail(f"{where}.min_points", "another band has the same threshold")
            ok = False
        if not isinstance(label_ru, str) or not label_ru.strip() or len(label_ru) > 200:
            fail(f"{where}.label_ru", "must be a non-empty text of at most 200 characters")
            ok = False
        if not isinstance(label_en, str) or len(label_en) > 200:
            fail(f"{where}.label_en", "must be a text of at most 200 characters")
            ok = False
        if ok:
            assert isinstance(code, str) and threshold is not None
            assert isinstance(label_ru, str) and isinstance(label_en, str)
            codes.add(code)
            thresholds.add(threshold)
            grades.append(Grade(code, threshold, label_ru, label_en))
    if grades and len(grades) == len(raw) and 0.0 not in thresholds:
        fail("grades", "one band must start at 0 points, so every sheet gets a grade")
    return tuple(sorted(grades, key=lambda g: g.min_points, reverse=True))


# Evidence ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributedItem:
    """One checklist item of one audit attributed to the employee, with its points."""

    audit_id: int
    item_id: str
    earned: float
    possible: float


@dataclass(frozen=True)
class Placement:
    """A stretch of work at a branch: ``ended_on`` None means still there."""

    branch_id: int
    started_on: date
    ended_on: date | None


@dataclass(frozen=True)
class BranchRating:
    """A branch's rating over the period: the mean of its audit scores and their number."""

    mean: float
    audits: int


def days_by_branch(
    placements: Iterable[Placement], starts_on: date, ends_on: date
) -> dict[int, int]:
    """Days of ``starts_on..ends_on`` (inclusive) worked at each branch, from the placements.

    A placement's last day is its ``ended_on``; overlapping placements are counted as given
    (the service keeps placements from overlapping).
    """
    days: dict[int, int] = {}
    for placement in placements:
        first = max(placement.started_on, starts_on)
        last = min(placement.ended_on or ends_on, ends_on)
        if last >= first:
            days[placement.branch_id] = days.get(placement.branch_id, 0) + (last - first).days + 1
    return dict(sorted(days.items()))


def calendar_year(year: int) -> tuple[date, date]:
    """The default attestation period: 1 January to 31 December."""
    return date(year, 1, 1), date(year, 12, 31)


def round2(value: float) -> float:
    """Round to two decimals, halves up, through the shortest repr (87.125 -> 87.13)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _plain(value: float) -> str:
    """A number as people write it: 80, 82.5, 82.25 (no trailing zeros, no exponent)."""
    text = f"{Decimal(repr(round2(value))):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Evidence:
    """Everything a sheet is computed from (the service reads it; this module judges it).

    ``internal`` is the entered internal score (0-100) or None when none was entered.
    """

    items: tuple[AttributedItem, ...] = ()
    days: Mapping[int, int] = field(default_factory=dict)
    branch_ratings: Mapping[int, BranchRating] = field(default_factory=dict)
    internal: float | None = None


@dataclass(frozen=True)
class ComponentResult:
    """One component on a sheet: its rule weight, the weight it got after re-normalisation,
    its score (None when left out), why it counts or not, and the numbers behind it."""

    component: str
    weight: float
    effective_weight: float
    score: float | None
    status: ComponentStatus
    audits: int = 0
    earned: float = 0.0
    possible: float = 0.0
    branches: tuple[tuple[int, int, float | None], ...] = ()  # (branch, days, mean)

    @property
    def external(self) -> bool:
        """Whether this component is external objective information."""
        return self.component in EXTERNAL


@dataclass(frozen=True)
class Sheet:
    """An employee's attestation result for a period under one rule set."""

    status: SheetStatus
    points: float | None
    grade: Grade | None
    components: tuple[ComponentResult, ...]
    external_share: float | None
    audit_ids: tuple[int, ...]
    formula_ru: str
    formula_en: str

    @property
    def sufficient_evidence(self) -> bool:
        """Whether the individual component counted (leaderboards list only those)."""
        return any(c.component == "individual" and c.status == "counted" for c in self.components)


def _individual(rules: RuleSet, items: Sequence[AttributedItem]) -> ComponentResult:
    weight = float(rules.weights.get("individual", 0.0))
    ordered = sorted(items, key=lambda i: (i.audit_id, i.item_id))
    applicable = [i for i in ordered if i.possible > 0]
    audits = len({i.audit_id for i in applicable})
    earned = math.fsum(i.earned for i in applicable)
    possible = math.fsum(i.possible for i in applicable)
    if weight == 0:
        status: ComponentStatus = "unused"
    elif audits < rules.min_audits or possible <= 0:
        status = "insufficient_evidence"
    else:
        status = "counted"
    score = round2(100.0 * (earned / possible)) if possible > 0 else None
    return ComponentResult(
        "individual",
        weight,
        0.0,
        score if status == "counted" else None,
        status,
        audits=audits,
        earned=earned,
        possible=possible,
    )


def _collective(
    rules: RuleSet, days: Mapping[int, int], ratings: Mapping[int, BranchRating]
) -> ComponentResult:
    weight = float(rules.weights.get("collective", 0.0))
    rows = tuple(
        (branch, worked, ratings[branch].mean if branch in ratings else None)
        for branch, worked in sorted(days.items())
        if worked > 0
    )
    rated = [(worked, mean) for _, worked, mean in rows if mean is not None]
    total_days = sum(worked for worked, _ in rated)
    score = (
        round2(math.fsum(worked * mean for worked, mean in rated) / total_days)
        if total_days
        else None
    )
    if weight == 0:
        status: ComponentStatus = "unused"
    elif score is None:
        status = "no_evidence"
    else:
        status = "counted"
    return ComponentResult(
        "collective",
        weight,
        0.0,
        score if status == "counted" else None,
        status,
        audits=sum(ratings[b].audits for b, _, m in rows if m is not None),
        branches=rows,
    )


def _internal(rules: RuleSet, internal: float | None) -> ComponentResult:
    weight = float(rules.weights.get("internal", 0.0))
    if weight == 0:
        return ComponentResult("internal", weight, 0.0, None, "unused")
    if internal is None:
        return ComponentResult("internal", weight, 0.0, None, "not_entered")
    return ComponentResult("internal", weight, 0.0, round2(internal), "counted")


def compute_sheet(rules: RuleSet, evidence: Evidence) -> Sheet:
    """The sheet: component scores, re-normalised weights, points, grade and the formula."""
    if evidence.internal is not None and not 0 <= evidence.internal <= 100:
        raise ValueError("an internal score is between 0 and 100")
    parts = [
        _individual(rules, evidence.items),
        _collective(rules, evidence.days, evidence.branch_ratings),
        _internal(rules, evidence.internal),
    ]
    counted = [p for p in parts if p.status == "counted"]
    total = math.fsum(p.weight for p in counted)
    external = math.fsum(p.weight for p in counted if p.external)
    share = round2(100.0 * external / total) if total > 0 else None
    gradable = (
        external > 0
        and share is not None
        and share + WEIGHT_TOLERANCE >= (rules.min_external_share)
    )
    results = tuple(
        ComponentResult(
            p.component,
            p.weight,
            round2(100.0 * p.weight / total) if p.status == "counted" and gradable else 0.0,
            p.score,
            p.status,
            p.audits,
            p.earned,
            p.possible,
            p.branches,
        )
        for p in parts
    )
    audit_ids = tuple(sorted({i.audit_id for i in evidence.items if i.possible > 0}))
    if not gradable:
        ru, en = _not_gradable_text(rules, share)
        return Sheet("not_gradable", None, None, results, share, audit_ids, ru, en)
    used = [p for p in parts if p.status == "counted"]
    # Weights as set (not the rounded effective weights) over their own sum: exact for the
    # typical whole-number weights, and the printed formula shows the same division.
    points = round2(
        math.fsum(p.weight * (p.score or 0.0) for p in used) / math.fsum(p.weight for p in used)
    )
    grade = rules.grade_of(points)
    ru, en = _formula(used, total, points, grade)
    return Sheet("graded", points, grade, results, share, audit_ids, ru, en)


def _formula(
    used: Sequence[ComponentResult], total: float, points: float, grade: Grade
) -> tuple[str, str]:
    """The formula with the numbers filled in, in Russian and in English."""
    terms = " + ".join(f"{_plain(p.weight)} × {_plain(p.score or 0.0)}" for p in used)
    names_ru = " + ".join(
        f"{_plain(p.weight)} × {COMPONENT_NAMES[p.component]['ru']}" for p in used
    )
    names_en = " + ".join(
        f"{_plain(p.weight)} × {COMPONENT_NAMES[p.component]['en']}" for p in used
    )
    divisor = _plain(total)
    ru = (
        f"Баллы = ({names_ru}) / {divisor} = ({terms}) / {divisor} = {_plain(points)}"
        f" → «{grade.label_ru}»"
    )
    en = (
        f"Points = ({names_en}) / {divisor} = ({terms}) / {divisor} = {_plain(points)}"
        f" → “{grade.label_en or grade.code}”"
    )
    if total != 100:
        ru += f" (веса пересчитаны на сумму {divisor}: компоненты без данных не учтены)"
        en += f" (weights re-normalised over {divisor}: components without evidence left out)"
    return ru, en


def _not_gradable_text(rules: RuleSet, share: float | None) -> tuple[str, str]:
    """Why there is no grade, in Russian and in English."""
    minimum = _plain(rules.min_external_share)
    if share is None or share == 0:
        return (
            "Не аттестуется в этом периоде: нет внешних объективных данных "
            "(по одной внутренней оценке аттестация не проводится).",
            "Not gradable this period: no external objective evidence "
            "(never graded on the internal score alone).",
        )
    got = _plain(share)
    return (
        f"Не аттестуется в этом периоде: доля внешних объективных данных {got}% "
        f"ниже минимума {minimum}%.",
        f"Not gradable this period: the external objective share {got}% is below "
        f"the minimum {minimum}%.",
    )


# Leaderboards ------------------------------------------------------------------------------


def improvement(current: float | None, previous: float | None) -> float | None:
    """Change of a branch's mean against the previous period (None without both)."""
    if current is None or previous is None:
        return None
    return round2(current - previous)
