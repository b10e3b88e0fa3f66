"""Scoring an audit: answers to a checklist -> item, section, stage, role and audit scores.

Pure functions over `auditapp.domain.checklist` value objects. An answer earns
``weight * fraction`` out of ``weight``; N/A (``None``) counts in neither. Part scores are
``100 * earned / possible`` at full float precision (None when nothing is applicable); round
only for display with `display`. Critical items and the checklist's critical rule are applied
here too, and photo evidence rules are checked by `check_photo_rules`.

Pure Python: this module imports nothing outside the standard library and our domain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from auditapp.domain.checklist import Checklist, Item
from auditapp.domain.vocabulary import STAGES


@dataclass(frozen=True)
class ItemProblem:
    """Something wrong with the answer to one item (or an answer to no item)."""

    item_id: str
    message: str

    def __str__(self) -> str:
        """Render as ``item_id: message``."""
        return f"{self.item_id}: {self.message}"


class AnswerError(ValueError):
    """Answers that cannot be scored; `problems` names every offending item."""

    def __init__(self, problems: list[ItemProblem]) -> None:
        """Keep every problem; the message lists them all."""
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class ItemResult:
    """One scored item's result: `fraction` in [0, 1] (None when N/A) and its points."""

    fraction: float | None
    earned: float
    possible: float
    na: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "fraction": self.fraction,
            "earned": self.earned,
            "possible": self.possible,
            "na": self.na,
        }


@dataclass(frozen=True)
class PartScore:
    """The score of a part (section, stage, staff role): 0-100, or None if nothing applied."""

    score: float | None
    earned: float
    possible: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"score": self.score, "earned": self.earned, "possible": self.possible}


@dataclass(frozen=True)
class AuditScore:
    """The full result of scoring one audit.

    `earned`/`possible` are the audit's totals after ``zero_audit``/``zero_section`` were
    applied; a ``cap`` only limits `score`. `sections` and `stages` are keyed by section id and
    stage name in checklist order; `roles` by staff role, computed from the items' own results
    (the critical rule judges the visit, not each employee). `items` holds every scored item.
    """

    score: float | None
    earned: float
    possible: float
    sections: dict[str, PartScore]
    stages: dict[str, PartScore]
    roles: dict[str, PartScore]
    critical_failed: tuple[str, ...]
    items: dict[str, ItemResult]

    def to_dict(self) -> dict[str, Any]:
        """JSON form with full-precision floats."""
        return {
            "score": self.score,
            "earned": self.earned,
            "possible": self.possible,
            "sections": {key: part.to_dict() for key, part in self.sections.items()},
            "stages": {key: part.to_dict() for key, part in self.stages.items()},
            "roles": {key: part.to_dict() for key, part in self.roles.items()},
            "critical_failed": list(self.critical_failed),
            "items": {key: result.to_dict() for key, result in self.items.items()},
        }


def display(score: float | None) -> str:
    """Format a score for people: one decimal, halves rounded up (87.25 -> "87.3"); None -> "—".

    Scores are stored at full precision; this is the only place they are rounded.
    """
    if score is None:
        return "—"
    # Go through the shortest repr so 87.25 rounds as written, not as its binary neighbour.
    return str(Decimal(repr(score)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _ratio(earned: float, possible: float) -> float | None:
    # 100 * (e / p) rather than (100 * e) / p: e <= p then keeps the result <= 100 exactly.
    return None if possible == 0 else 100.0 * (earned / possible)


def _answer_problem(item: Item, value: object) -> str | None:
    """Return what is wrong with `value` as an answer to `item`, or None if it is valid."""
    if value is None:
        if item.type == "text" or item.na:
            return None
        return "N/A is not allowed for this item"
    if item.type == "yes_no":
        if not isinstance(value, bool):
            return f"expected true or false, got {_show(value)}"
    elif item.type == "scale":
        # bool is an int subclass: True must not pass as 1.
        if isinstance(value, bool) or not isinstance(value, int):
            scale = f"{item.scale_min}..{item.scale_max}"
            return f"expected a whole number in {scale}, got {_show(value)}"
        assert item.scale_min is not None and item.scale_max is not None
        if not item.scale_min <= value <= item.scale_max:
            return f"{value} is outside the scale {item.scale_min}..{item.scale_max}"
    elif item.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {_show(value)}"
        # Only floats can be NaN or infinite (and math.isfinite overflows on huge ints).
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
    elif item.type == "choice":
        if not isinstance(value, str):
            return f"expected an option id, got {_show(value)}"
        if item.option(value) is None:
            known = ", ".join(option.id for option in item.options)
            return f"unknown option {value!r} (options: {known})"
    elif item.type == "text":
        if not isinstance(value, str):
            return f"expected text, got {_show(value)}"
    else:
        return f"unknown item type {item.type!r}"
    return None


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return repr(value)
    return type(value).__name__


def _fraction(item: Item, value: object) -> float | None:
    """The fraction earned by a valid answer (None for N/A)."""
    if value is None:
        return None
    if item.type == "yes_no":
        return 1.0 if value is True else 0.0
    if item.type == "scale":
        assert isinstance(value, int) and item.scale_min is not None and item.scale_max is not None
        return (value - item.scale_min) / (item.scale_max - item.scale_min)
    if item.type == "number":
        assert isinstance(value, int | float)
        for band in item.bands:
            if band.upto is None or value <= band.upto:
                return band.score
        # Unreachable for a valid checklist (its last band is open-ended); be safe anyway.
        return 0.0
    if item.type == "choice":
        assert isinstance(value, str)
        option = item.option(value)
        assert option is not None
        return option.score
    raise ValueError(f"item {item.id!r} of type {item.type!r} is never scored")


def item_fraction(item: Item, value: object) -> float | None:
    """Return the fraction (0-1) that `value` earns on `item`, or None for N/A.

    Raises `AnswerError` if the value is not a valid answer, and ValueError for text items,
    which are never scored.
    """
    if not item.scored:
        raise ValueError(f"item {item.id!r} of type {item.type!r} is never scored")
    problem = _answer_problem(item, value)
    if problem is not None:
        raise AnswerError([ItemProblem(item.id, problem)])
    return _fraction(item, value)


def validate_answers(
    checklist: Checklist, answers: Mapping[str, object], *, complete: bool
) -> list[ItemProblem]:
    """List every problem with `answers` (item id -> value), in checklist order.

    Checks the given values (unknown item ids, wrong types, out-of-range values, unknown
    options, N/A where not allowed). With `complete`, every scored item must also be answered
    or N/A; drafts pass ``complete=False`` because a shopper fills the checklist over time.
    """
    problems: list[ItemProblem] = []
    for item in checklist.items():
        if item.id not in answers:
            if complete and item.scored:
                problems.append(ItemProblem(item.id, "no answer (answer it or mark it N/A)"))
            continue
        problem = _answer_problem(item, answers[item.id])
        if problem is not None:
            problems.append(ItemProblem(item.id, problem))
    for item_id in answers:
        if not isinstance(item_id, str) or not checklist.has_item(item_id):
            problems.append(ItemProblem(str(item_id), "no such item in this checklist"))
    return problems


def score_audit(checklist: Checklist, answers: Mapping[str, object]) -> AuditScore:
    """Score a complete set of answers; raise `AnswerError` listing every problem at once."""
    problems = validate_answers(checklist, answers, complete=True)
    if problems:
        raise AnswerError(problems)

    items: dict[str, ItemResult] = {}
    critical_failed: list[str] = []
    sections: dict[str, PartScore] = {}
    zero_section = checklist.critical_rule.kind == "zero_section"
    for section in checklist.sections:
        earned = possible = 0.0
        section_failed = False
        for item in section.items:
            if not item.scored:
                continue
            fraction = _fraction(item, answers[item.id])
            if fraction is None:
                items[item.id] = ItemResult(fraction=None, earned=0.0, possible=0.0, na=True)
                continue
            result = ItemResult(
                fraction=fraction, earned=item.weight * fraction, possible=item.weight, na=False
            )
            items[item.id] = result
            earned += result.earned
            possible += result.possible
            # A failure is judged on the fraction: "earned nothing of what it could earn".
            if item.critical and fraction == 0:
                critical_failed.append(item.id)
                section_failed = True
        if zero_section and section_failed:
            earned = 0.0
        sections[section.id] = PartScore(_ratio(earned, possible), earned, possible)

    stages: dict[str, PartScore] = {}
    for stage in STAGES:
        parts = [sections[s.id] for s in checklist.sections if s.stage == stage]
        if parts:
            stage_earned = sum(part.earned for part in parts)
            stage_possible = sum(part.possible for part in parts)
            stages[stage] = PartScore(
                _ratio(stage_earned, stage_possible), stage_earned, stage_possible
            )

    total_earned = sum(part.earned for part in sections.values())
    total_possible = sum(part.possible for part in sections.values())
    rule = checklist.critical_rule
    if critical_failed and rule.kind == "zero_audit":
        total_earned = 0.0
    score = _ratio(total_earned, total_possible)
    if critical_failed and rule.kind == "zero_audit":
        score = 0.0
    elif critical_failed and rule.kind == "cap" and score is not None:
        assert rule.cap is not None
        score = min(score, rule.cap)

    roles: dict[str, PartScore] = {}
    for role in checklist.staff_roles:
        results = [
            items[item.id]
            for item in checklist.items()
            if item.staff_role == role and item.id in items
        ]
        role_earned = sum(result.earned for result in results)
        role_possible = sum(result.possible for result in results)
        roles[role] = PartScore(_ratio(role_earned, role_possible), role_earned, role_possible)

    return AuditScore(
        score=score,
        earned=total_earned,
        possible=total_possible,
        sections=sections,
        stages=stages,
        roles=roles,
        critical_failed=tuple(critical_failed),
        items=items,
    )


def check_photo_rules(
    checklist: Checklist, answers: Mapping[str, object], photo_counts: Mapping[str, int]
) -> list[ItemProblem]:
    """List items whose photo evidence is missing, in checklist order.

    ``required`` items need at least one photo unless answered N/A; ``on_fail`` items need one
    when their answer earns less than full marks. Unanswered or invalid answers are left to
    `validate_answers`; photos attached to unknown item ids are reported.
    """
    problems: list[ItemProblem] = []
    for item in checklist.items():
        if item.photo == "none" or photo_counts.get(item.id, 0) >= 1:
            continue
        value = answers.get(item.id)
        if item.photo == "required":
            if item.id in answers and value is None:
                continue  # N/A: there is nothing to photograph
            problems.append(ItemProblem(item.id, "a photo is required"))
        elif item.photo == "on_fail" and item.id in answers and item.scored:
            if _answer_problem(item, value) is not None:
                continue
            fraction = _fraction(item, value)
            if fraction is not None and fraction < 1:
                problems.append(
                    ItemProblem(item.id, "a photo is required when the item is not fully met")
                )
    for item_id in photo_counts:
        if not checklist.has_item(item_id):
            problems.append(ItemProblem(item_id, "photos attached to no such item"))
    return problems
