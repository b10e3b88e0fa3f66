"""Streaming exports: audits and answers as CSV or XLSX, and an audit's display photos as ZIP.

Rows come from the database in server-side batches (``yield_per``) and leave as they are
made: a CSV response starts with the first batch and never holds every row. XLSX is written
with openpyxl in write-only mode (rows go to a temporary file, not to memory); a ZIP archive
is written as a stream, photo by photo.

Scope and redaction are those of the JSON reads: audits through ``access.audit_filter``, each
audit read through its redacted ``visibility.audit_summary`` view (the branch side's view has
no shopper: a shopper column exists only for those who may know them), photos through
``visibility.photo_view`` / ``serves_photo_file`` (display copies only, which keep no EXIF;
originals are never read here).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Final, cast
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from auditapp import access, visibility
from auditapp.domain.checklist import Checklist, localize
from auditapp.domain.ratings import Period
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, AuditPhoto, Branch, ChecklistVersion, User
from auditapp.services import attestation as attestation_service
from auditapp.services import audits as audit_service
from auditapp.services import photos as photo_service
from auditapp.services import ratings as rating_service
from auditapp.services.checklists import checklist_of

#: Audits read from the database per round trip (a server-side cursor on PostgreSQL).
BATCH: Final = 500
#: CSV text gathered before it is sent (bytes, roughly).
CHUNK: Final = 64 * 1024

CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE: Final = "application/zip"

_HEADERS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "audit_id": "audit_id",
        "status": "status",
        "branch_code": "branch_code",
        "branch_name": "branch_name",
        "checklist": "checklist",
        "version": "version",
        "channel": "channel",
        "visit_started_local": "visit_started_local",
        "timezone": "timezone",
        "submitted_at_utc": "submitted_at_utc",
        "released_at_utc": "released_at_utc",
        "score": "score",
        "earned": "earned",
        "possible": "possible",
        "critical_failed": "critical_failed",
        "shopper_id": "shopper_id",
        "shopper_name": "shopper_name",
        "stage": "stage",
        "section": "section",
        "section_title": "section_title",
        "item_id": "item_id",
        "clause": "clause",
        "item_text": "item_text",
        "critical": "critical",
        "answer": "answer",
        "na": "na",
        "item_earned": "item_earned",
        "item_possible": "item_possible",
        "rank": "rank",
        "of": "of",
        "region_id": "region_id",
        "n": "n",
        "mean": "mean",
        "sd": "sd",
        "ci_low": "ci_low",
        "ci_high": "ci_high",
        "too_few_visits": "too_few_visits",
        "rank_best": "rank_best",
        "rank_worst": "rank_worst",
        "significance": "significance",
        "shrunk_mean": "shrunk_mean",
        "shrunk_rank": "shrunk_rank",
        "previous_rank": "previous_rank",
        "rank_change": "rank_change",
        "previous_mean": "previous_mean",
        "mean_change": "mean_change",
        "period": "period",
        "employee_code": "employee_code",
        "full_name": "full_name",
        "position": "position",
        "branches": "branches",
        "rule_set": "rule_set",
        "rule_version": "rule_version",
        "sheet_status": "status",
        "points": "points",
        "grade": "grade",
        "grade_label": "grade_label",
        "external_share": "external_share",
        "sufficient_evidence": "sufficient_evidence",
        "state": "state",
        "individual_weight": "individual_weight",
        "individual_weight_used": "individual_weight_used",
        "individual_score": "individual_score",
        "individual_status": "individual_status",
        "individual_audits": "individual_audits",
        "individual_earned": "individual_earned",
        "individual_possible": "individual_possible",
        "collective_weight": "collective_weight",
        "collective_weight_used": "collective_weight_used",
        "collective_score": "collective_score",
        "collective_status": "collective_status",
        "internal_weight": "internal_weight",
        "internal_weight_used": "internal_weight_used",
        "internal_score": "internal_score",
        "internal_status": "internal_status",
        "audit_ids": "audit_ids",
    },
    "ru": {
        "audit_id": "Проверка",
        "status": "Статус",
        "branch_code": "Код филиала",
        "branch_name": "Филиал",
        "checklist": "Чек-лист",
        "version": "Версия",
        "channel": "Канал",
        "visit_started_local": "Начало визита (местное)",
        "timezone": "Часовой пояс",
        "submitted_at_utc": "Отправлен (UTC)",
        "released_at_utc": "Опубликован (UTC)",
        "score": "Оценка",
        "earned": "Баллы",
        "possible": "Из баллов",
        "critical_failed": "Провалены критические",
        "shopper_id": "ID тайного покупателя",
        "shopper_name": "Тайный покупатель",
        "stage": "Этап",
        "section": "Раздел",
        "section_title": "Название раздела",
        "item_id": "Пункт",
        "clause": "Пункт стандарта",
        "item_text": "Текст пункта",
        "critical": "Критический",
        "answer": "Ответ",
        "na": "Н/П",
        "item_earned": "Баллы за пункт",
        "item_possible": "Из баллов за пункт",
        "rank": "Место",
        "of": "Из",
        "region_id": "ID региона",
        "n": "Проверок",
        "mean": "Среднее",
        "sd": "Ст. откл.",
        "ci_low": "95% ДИ от",
        "ci_high": "95% ДИ до",
        "too_few_visits": "Мало визитов",
        "rank_best": "Лучшее место",
        "rank_worst": "Худшее место",
        "significance": "Значимость",
        "shrunk_mean": "Сглаженное среднее",
        "shrunk_rank": "Место по сглаженному",
        "previous_rank": "Прошлое место",
        "rank_change": "Изменение места",
        "previous_mean": "Прошлое среднее",
        "mean_change": "Изменение среднего",
        "period": "Период",
        "employee_code": "Табельный номер",
        "full_name": "Сотрудник",
        "position": "Должность",
        "branches": "Филиалы (дней)",
        "rule_set": "Правила",
        "rule_version": "Версия правил",
        "sheet_status": "Статус",
        "points": "Баллы",
        "grade": "Оценка",
        "grade_label": "Оценка (название)",
        "external_share": "Доля внешних данных, %",
        "sufficient_evidence": "Достаточно проверок",
        "state": "Состояние",
        "individual_weight": "Индивидуальный: вес",
        "individual_weight_used": "Индивидуальный: вес в расчёте",
        "individual_score": "Индивидуальный: балл",
        "individual_status": "Индивидуальный: статус",
        "individual_audits": "Индивидуальный: проверок",
        "individual_earned": "Индивидуальный: набрано",
        "individual_possible": "Индивидуальный: из",
        "collective_weight": "Коллективный: вес",
        "collective_weight_used": "Коллективный: вес в расчёте",
        "collective_score": "Коллективный: балл",
        "collective_status": "Коллективный: статус",
        "internal_weight": "Внутренний: вес",
        "internal_weight_used": "Внутренний: вес в расчёте",
        "internal_score": "Внутренний: балл",
        "internal_status": "Внутренний: статус",
        "audit_ids": "Проверки",
    },
}

_AUDIT_COLUMNS: Final = (
    "audit_id",
    "status",
    "branch_code",
    "branch_name",
    "checklist",
    "version",
    "channel",
    "visit_started_local",
    "timezone",
    "submitted_at_utc",
    "released_at_utc",
    "score",
    "earned",
    "possible",
    "critical_failed",
)
_SHOPPER_COLUMNS: Final = ("shopper_id", "shopper_name")
_ANSWER_COLUMNS: Final = (
    "audit_id",
    "branch_code",
    "checklist",
    "version",
    "channel",
    "visit_started_local",
    "stage",
    "section",
    "section_title",
    "item_id",
    "clause",
    "item_text",
    "critical",
    "answer",
    "na",
    "item_earned",
    "item_possible",
)

_RATING_COLUMNS: Final = (
    "rank",
    "of",
    "branch_code",
    "branch_name",
    "region_id",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "too_few_visits",
    "rank_best",
    "rank_worst",
    "significance",
    "shrunk_mean",
    "shrunk_rank",
    "previous_rank",
    "rank_change",
    "previous_mean",
    "mean_change",
)

_ATTESTATION_COLUMNS: Final = (
    "period",
    "employee_code",
    "full_name",
    "position",
    "branches",
    "rule_set",
    "rule_version",
    "sheet_status",
    "points",
    "grade",
    "grade_label",
    "external_share",
    "sufficient_evidence",
    "state",
    "individual_weight",
    "individual_weight_used",
    "individual_score",
    "individual_status",
    "individual_audits",
    "individual_earned",
    "individual_possible",
    "collective_weight",
    "collective_weight_used",
    "collective_score",
    "collective_status",
    "internal_weight",
    "internal_weight_used",
    "internal_score",
    "internal_status",
    "audit_ids",
)
#: Sheets computed per round trip of an attestation export (an open period's sheets are
#: computed in sets: a handful of queries per page).
SHEET_BATCH: Final = 500


@dataclass(frozen=True)
class Export:
    """A streamed file: its chunks, media type and name."""

    chunks: Iterator[bytes]
    media_type: str
    filename: str


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds")


def _local(moment: datetime | None, timezone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).isoformat("T", "seconds")


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers stay numbers, booleans 1/0, the rest text.

    Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote: an
    exported comment must not become a formula on a manager's computer.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


#: What the answers export reads of an audit: these columns only, not the ORM object (building
#: an object per audit, its identity-map entry and every other column cost a third of the time).
_ANSWER_SOURCE: Final = (
    Audit.id,
    Audit.branch_id,
    Audit.checklist_version_id,
    Audit.channel,
    Audit.visit_started_at,
    # The JSON as text, decoded here by ``_loads`` (the driver's ``json.loads`` was a third of
    # the time on PostgreSQL).
    sa.cast(Audit.answers, sa.Text).label("answers"),
    # Only the item results of the score detail: decoding its sections, stages and roles too
    # was a fifth of the time. (``->>`` of an object is its JSON text.)
    Audit.score_detail["items"].as_string().label("item_results"),
)

#: orjson reads an integer beyond 64 bits as a float; such a float is at least this large.
_BIG: Final = 2.0**63


def _loads(text: str | None) -> Any:
    """JSON text as Python data, as ``json.loads`` reads it: orjson (a few times faster), but
    the standard library again for anything orjson refuses or for a float this large (an
    answer to a "number" item may be any integer, which orjson would turn into a float)."""
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_big_float(value) else value


def _has_big_float(value: Any) -> bool:
    """Whether ``value`` (JSON data) holds a float of magnitude ``_BIG`` or more."""
    if type(value) is dict:
        values: Iterable[Any] = value.values()
    elif type(value) is list:
        values = value
    else:
        return type(value) is float and not -_BIG < value < _BIG
    for inner in values:
        kind = type(inner)
        if kind is float:
            if not -_BIG < inner < _BIG:
                return True
        elif (kind is dict or kind is list) and _has_big_float(inner):
            return True
    return False


@dataclass(frozen=True)
class AuditFilters:
    """The audit list's filters an export takes (``ExportArgs``); None: not filtered on."""

    branch_id: int | None = None
    wave_id: int | None = None
    checklist_version_id: int | None = None
    status: str | None = None


def _query(user: User, filters: AuditFilters, columns: Sequence[Any] = ()) -> Any:
    """The caller's audits matching the API's filters, oldest first, read in server-side
    batches: whole audits, or only ``columns`` of each."""
    query = (
        (select(Audit).options(lazyload("*")) if not columns else select(*columns))
        .where(access.audit_filter(user))
        .order_by(Audit.id)
        .execution_options(yield_per=BATCH, stream_results=True)
    )
    if filters.branch_id is not None:
        query = query.where(Audit.branch_id == filters.branch_id)
    if filters.status is not None:
        query = query.where(Audit.status == filters.status)
    if filters.checklist_version_id is not None:
        query = query.where(Audit.checklist_version_id == filters.checklist_version_id)
    if filters.wave_id is not None:
        query = query.join(Assignment, Assignment.id == Audit.assignment_id).where(
            Assignment.wave_id == filters.wave_id
        )
    return query


def _audits(user: User, filters: AuditFilters) -> Iterator[visibility.AuditView]:
    """The caller's audits as redacted views."""
    # The session's identity map holds rows weakly: an audit already written out is freed.
    for audit in db.session.execute(_query(user, filters)).scalars():
        yield visibility.audit_summary(user, audit)


def _audit_rows(user: User, filters: AuditFilters, columns: Sequence[Any]) -> Iterator[Any]:
    """Only ``columns`` of the caller's audits, as plain rows (tuples)."""
    yield from db.session.execute(_query(user, filters, columns))


class _Lookups:
    """Branches and checklist versions by id, loaded on first use (few rows, many audits)."""

    def __init__(self) -> None:
        self.branches: dict[int, Branch] = {}
        self.versions: dict[int, tuple[ChecklistVersion, Checklist]] = {}
        self.items: dict[tuple[int, str], list[tuple[str, tuple[Any, ...]]]] = {}
        self.places: dict[int, tuple[str, str]] | None = None

    def branch(self, branch_id: int) -> Branch:
        if branch_id not in self.branches:
            branch = db.session.get(Branch, branch_id)
            assert branch is not None
            self.branches[branch_id] = branch
        return self.branches[branch_id]

    def branch_places(self) -> dict[int, tuple[str, str]]:
        """Every branch's code and time zone by id, read in one query (a query per branch was
        a third of a 5,000-branch answers export's time on PostgreSQL)."""
        if self.places is None:
            rows = db.session.execute(select(Branch.id, Branch.code, Branch.timezone))
            self.places = {branch_id: (code, zone) for branch_id, code, zone in rows}
        return self.places

    def version(self, version_id: int) -> tuple[ChecklistVersion, Checklist]:
        if version_id not in self.versions:
            row = db.session.get(ChecklistVersion, version_id)
            assert row is not None
            self.versions[version_id] = (row, checklist_of(row))
        return self.versions[version_id]

    def item_cells(self, version_id: int, lang: str) -> list[tuple[str, tuple[Any, ...]]]:
        """(item id, the answer row's cells that depend only on the item), in checklist order:
        made once per checklist version, not once per answer."""
        key = (version_id, lang)
        if key not in self.items:
            _, checklist = self.version(version_id)
            self.items[key] = [
                (
                    item.id,
                    (
                        section.stage,
                        _cell(section.id),
                        _cell(localize(section.title, lang)),
                        _cell(item.id),
                        _cell(item.clause),
                        _cell(localize(item.text, lang)),
                        _cell(item.critical),
                    ),
                )
                for section in checklist.sections
                for item in section.items
            ]
        return self.items[key]


def _columns(user: User, kind: str) -> tuple[str, ...]:
    if kind == "answers":
        return _ANSWER_COLUMNS
    if access.sees_shopper_identity(user) and user.role != "shopper":
        return _AUDIT_COLUMNS + _SHOPPER_COLUMNS
    return _AUDIT_COLUMNS


def _audit_row(view: visibility.AuditView, lookups: _Lookups, columns: Sequence[str]) -> list[Any]:
    branch = lookups.branch(view.branch_id)
    version, _ = lookups.version(view.checklist_version_id)
    detail = view.score_detail or {}
    values: dict[str, Any] = {
        "audit_id": view.id,
        "status": view.status,
        "branch_code": branch.code,
        "branch_name": branch.name,
        "checklist": version.slug,
        "version": version.version,
        "channel": view.channel,
        "visit_started_local": _local(view.visit_started_at, branch.timezone),
        "timezone": branch.timezone,
        "submitted_at_utc": _iso(view.submitted_at),
        "released_at_utc": _iso(view.released_at),
        "score": view.score,
        "earned": view.earned,
        "possible": view.possible,
        "critical_failed": " ".join(detail.get("critical_failed") or ()),
    }
    if "shopper_id" in columns:
        # Present only in a view whose audience may know the shopper (AttributeError otherwise).
        values["shopper_id"] = view.shopper_id
        values["shopper_name"] = view.shopper.display_name
    return [_cell(values[name]) for name in columns]


def _answer_rows(
    source: Iterable[Any], lookups: _Lookups, lang: str
) -> Iterator[list[tuple[Any, ...]]]:
    """The answer rows of ``source`` (rows of ``_ANSWER_SOURCE``), a list per audit.

    Per-row work is a dictionary look-up or two and one tuple: whatever depends only on the
    audit (branch, version, local visit time) or only on the item (section, stage, clause,
    texts, critical) is made once, and the answer column takes the cheap paths first.
    """
    heads: dict[tuple[int, int], tuple[tuple[Any, ...], Any, list[tuple[str, tuple[Any, ...]]]]]
    heads = {}
    for audit_id, branch_id, version_id, channel, started, answers_text, results_text in source:
        answers, results = _loads(answers_text), _loads(results_text)
        known = heads.get((branch_id, version_id))
        if known is None:
            code, timezone = lookups.branch_places()[branch_id]
            version, _ = lookups.version(version_id)
            known = heads[(branch_id, version_id)] = (
                (_cell(code), _cell(version.slug), version.version),
                ZoneInfo(timezone),
                lookups.item_cells(version_id, lang),
            )
        fixed, zone, items = known
        local = "" if started is None else started.astimezone(zone).isoformat("T", "seconds")
        head = (audit_id, *fixed, channel, local)
        answers = answers or {}
        results = results or {}
        rows: list[tuple[Any, ...]] = []
        for item_id, cells in items:
            result = results.get(item_id)
            answer = answers.get(item_id)
            if result is None:
                if item_id not in answers:
                    continue
                result = {}
            if answer is True:
                shown: Any = "true"
            elif answer is False:
                shown = "false"
            elif answer is None:
                shown = ""
            elif type(answer) is int or type(answer) is float:
                shown = answer
            else:
                shown = _cell(answer)
            earned, possible = result.get("earned"), result.get("possible")
            rows.append(
                (
                    *head,
                    *cells,
                    shown,
                    1 if result.get("na", answer is None) else 0,
                    "" if earned is None else earned,  # points are numbers: no formula guard
                    "" if possible is None else possible,
                )
            )
        yield rows


_CSV_SPECIAL: Final = re.compile(r'[,"\r\n]')


def _csv_field(text: str) -> str:
    """``text`` as one CSV field, quoted as ``csv.writer`` (QUOTE_MINIMAL) quotes it."""
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _csv_line(cells: Sequence[Any]) -> str:
    """``cells`` as ``csv.writer`` writes them, without the line end."""
    buffer = io.StringIO()
    # The same line end as the file's: the writer quotes a field holding its characters.
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().removesuffix("\r\n")


def _answer_csv(source: Iterable[Any], lookups: _Lookups, lang: str) -> Iterator[str]:
    """The answers export's CSV lines, one string per audit: the rows of ``_answer_rows``, as
    ``csv.writer`` would write them (``tests/unit/test_export_rows.py`` holds the two equal).

    What depends only on the item, only on the version or only on the branch is a CSV
    fragment made once; each answer is then one f-string (the csv writer, which looks at every
    field of every row again, was a fifth of the time).
    """
    heads: dict[tuple[int, int], tuple[str, Any, list[tuple[str, str]]]] = {}
    items_of: dict[int, list[tuple[str, str]]] = {}
    texts: dict[str, str] = {}  # answers given as text (options, mostly), and channels
    for audit_id, branch_id, version_id, channel, started, answers_text, results_text in source:
        answers, results = _loads(answers_text) or {}, _loads(results_text) or {}
        known = heads.get((branch_id, version_id))
        if known is None:
            code, timezone = lookups.branch_places()[branch_id]
            version, _ = lookups.version(version_id)
            if version_id not in items_of:
                items_of[version_id] = [
                    (item_id, _csv_line(cells))
                    for item_id, cells in lookups.item_cells(version_id, lang)
                ]
            known = heads[(branch_id, version_id)] = (
                _csv_line((_cell(code), _cell(version.slug), version.version)),
                ZoneInfo(timezone),
                items_of[version_id],
            )
        fixed, zone, items = known
        local = "" if started is None else started.astimezone(zone).isoformat("T", "seconds")
        if channel not in texts:
            texts[channel] = _csv_field(channel)
        head = f"{audit_id},{fixed},{texts[channel]},{local}"
        lines: list[str] = []
        for item_id, cells in items:
            result = results.get(item_id)
            answer = answers.get(item_id)
            if result is None:
                if item_id not in answers:
                    continue
                result = {}
            if answer is True:
                shown = "true"
            elif answer is False:
                shown = "false"
            elif answer is None:
                shown = ""
            elif type(answer) is int or type(answer) is float:
                shown = str(answer)
            elif type(answer) is str and answer in texts:
                shown = texts[answer]
            else:
                shown = _csv_field(str(_cell(answer)))
                if type(answer) is str and len(texts) < 10_000:
                    texts[answer] = shown
            na = 1 if result.get("na", answer is None) else 0
            earned, possible = result.get("earned"), result.get("possible")
            # A float as an f-string writes what csv.writer writes (its repr).
            lines.append(
                f"{head},{cells},{shown},{na},"
                f"{earned if type(earned) is float else _point(earned)},"
                f"{possible if type(possible) is float else _point(possible)}\r\n"
            )
        yield "".join(lines)


def _point(value: Any) -> str:
    """Points as a CSV field: a number as ``csv.writer`` writes it (no formula guard: numbers
    cannot need one), none as an empty field."""
    if value is None:
        return ""
    if type(value) is float or type(value) is int:
        return str(value)
    return _csv_field(str(value))


def _answer(value: Any) -> Any:
    """An answer as a cell: JSON's true/false for yes/no (so it is not read as a scale's 1),
    numbers as numbers, text through the formula guard of ``_cell``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if type(value) is int or type(value) is float:
        return value
    return _cell(value)


def _rows(user: User, kind: str, filters: AuditFilters, lang: str) -> Iterator[Sequence[Any]]:
    """The header row, then the export's rows, every value already a cell (``_cell``)."""
    for block in _row_blocks(user, kind, filters, lang):
        yield from block


def _row_blocks(
    user: User, kind: str, filters: AuditFilters, lang: str
) -> Iterator[Sequence[Sequence[Any]]]:
    """The export's rows in blocks: the header row alone, then one block per audit."""
    lookups = _Lookups()
    columns = _columns(user, kind)
    yield [[_HEADERS[lang][name] for name in columns]]
    if kind == "audits":
        for view in _audits(user, filters):
            yield [_audit_row(view, lookups, columns)]
        return
    yield from _answer_rows(_answer_source(user, filters), lookups, lang)


def _answer_source(user: User, filters: AuditFilters) -> Iterator[Any]:
    """The rows of ``_ANSWER_SOURCE`` of the caller's audits.

    The answer columns are visible to every audience: the check is made once, and the rows
    are then read as plain tuples (no view per audit)."""
    hidden = visibility.hidden_fields(user) & {
        "answers",
        "score_detail",
        "visit_started_at",
        "channel",
    }
    if hidden:  # a guard, not an assert: it must hold with -O too
        raise PermissionError(f"the answers export reads fields hidden from this user: {hidden}")
    return _audit_rows(user, filters, _ANSWER_SOURCE)


def _csv_blocks(
    user: User, kind: str, filters: AuditFilters, lang: str
) -> Iterator[str | Sequence[Sequence[Any]]]:
    """The export for ``_csv_chunks``: the answers as CSV text (``_answer_csv``), the audits
    as rows."""
    if kind != "answers":
        yield from _row_blocks(user, kind, filters, lang)
        return
    yield [[_HEADERS[lang][name] for name in _ANSWER_COLUMNS]]
    yield from _answer_csv(_answer_source(user, filters), _Lookups(), lang)


def _csv_chunks(blocks: Iterable[str | Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """CSV (UTF-8 with a BOM, so spreadsheets read Cyrillic) in chunks of about ``CHUNK``:
    each block is rows for ``csv.writer`` or lines already written as CSV."""
    buffer = io.StringIO()
    write = buffer.write
    writerows = csv.writer(buffer, lineterminator="\r\n").writerows
    write("\ufeff")
    for block in blocks:
        if type(block) is str:
            write(block)
        else:
            writerows(block)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _xlsx_chunks(rows: Iterable[Sequence[Any]], title: str) -> Iterator[bytes]:
    """An XLSX workbook written with openpyxl's write-only mode, then sent in chunks.

    The rows go to openpyxl's temporary files as they come; the archive can only be sent once
    it is complete (the format's directory is at its end).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def export(user: User, kind: str, filters: AuditFilters, file_format: str, lang: str) -> Export:
    """Audits (one row per audit) or answers (one row per answer) in the caller's scope."""
    stamp = datetime.now().strftime("%Y%m%d")
    if file_format == "xlsx":
        rows = _rows(user, kind, filters, lang)
        return Export(_xlsx_chunks(rows, kind), XLSX_TYPE, f"{kind}-{stamp}.xlsx")
    return Export(
        _csv_chunks(_csv_blocks(user, kind, filters, lang)), CSV_TYPE, f"{kind}-{stamp}.csv"
    )


class _Sink:
    """A write-only file for ``zipfile`` that hands over what was written since last asked."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are taken by ``take``."""

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def photo_archive(user: User, audit_id: int) -> Export:
    """A ZIP of the display copies of the audit's photos the caller may see (scope: ``GET
    /audits/{id}``). Display copies carry no EXIF; originals are never included."""
    view = audit_service.audit_view(user, audit_id)
    chosen: list[tuple[str, str]] = []
    for shown in view.photos or ():
        photo = db.session.get(AuditPhoto, shown["id"])
        if photo is None or photo.display_key is None or shown["status"] == "failed":
            continue
        if not visibility.serves_photo_file(user, photo, "display"):
            continue
        name = f"{shown['item_id']}-{shown['purpose']}-{shown['id']}.jpg"
        chosen.append((name, photo.display_key))
    store = photo_service.storage()

    def chunks() -> Iterator[bytes]:
        sink = _Sink()
        # No tell() or seek(): zipfile then writes a stream (sizes after each file's data).
        target = cast(IO[bytes], sink)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, key in chosen:
                archive.writestr(name, store.get(key))
                yield sink.take()
        yield sink.take()

    return Export(chunks(), ZIP_TYPE, f"audit-{view.id}-photos.zip")


def _rating_rows(
    user: User,
    period: Period,
    filters: rating_service.Filters,
    options: rating_service.Options,
    lang: str,
) -> Iterator[list[Any]]:
    """The header, then the caller's branches in rank order (placed among all). The ranking
    is asked for once: every call ranks the whole network, so reading it in pages repeated
    that work for each page (its entries are small beside the export's text)."""
    yield [_HEADERS[lang][name] for name in _RATING_COLUMNS]
    ranking = rating_service.branch_ranking(user, period, filters, options, 1, 10**9)
    for entry in ranking["entries"]:
        values = {
            **entry["rating"],
            **entry,
            "of": entry["of"],
            "branch_code": entry["branch"]["code"],
            "branch_name": entry["branch"]["name"],
            "region_id": entry["branch"]["region_id"],
        }
        yield [_cell(values.get(name)) for name in _RATING_COLUMNS]


def export_ratings(
    user: User,
    period: Period,
    filters: rating_service.Filters,
    options: rating_service.Options,
    file_format: str,
    lang: str,
) -> Export:
    """The branch ranking for a period (as ``GET /ratings/rankings/branches``, every page)."""
    if filters.region_id is not None:
        # Checked now: once the file has started, a 404 can no longer be answered.
        rating_service.visible_region(user, filters.region_id)
    rows = _rating_rows(user, period, filters, options, lang)
    first, last = period.first, period.last
    name = f"ratings-{first:%Y-%m}" + ("" if first == last else f"_{last:%Y-%m}")
    if file_format == "xlsx":
        return Export(_xlsx_chunks(rows, "ratings"), XLSX_TYPE, f"{name}.xlsx")
    return Export(_csv_chunks([row] for row in rows), CSV_TYPE, f"{name}.csv")


def _attestation_row(
    period_name: str, sheet: attestation_service.SheetResult, lang: str
) -> list[Any]:
    """One employee's sheet as a row: the result, then each component's numbers."""
    grade = sheet.get("grade")
    values: dict[str, Any] = {
        "period": period_name,
        "employee_code": sheet["staff_member"]["employee_code"],
        "full_name": sheet["staff_member"]["full_name"],
        "position": sheet["staff_member"]["position"],
        "rule_set": sheet["rule_set"]["code"],
        "rule_version": sheet["rule_set"]["version"],
        "sheet_status": sheet["status"],
        "points": sheet["points"],
        "grade": grade["code"] if grade else None,
        "grade_label": (grade.get(f"label_{lang}") or grade["code"]) if grade else None,
        "external_share": sheet["external_share"],
        "sufficient_evidence": sheet["sufficient_evidence"],
        "state": sheet["state"],
        "audit_ids": " ".join(str(audit_id) for audit_id in sheet["audit_ids"]),
    }
    days: dict[str, int] = {}
    for part in sheet["components"]:
        name = part["component"]
        values[f"{name}_weight"] = part["weight"]
        values[f"{name}_weight_used"] = part["effective_weight"]
        values[f"{name}_score"] = part["score"]
        values[f"{name}_status"] = part["status"]
        if name == "individual":
            values.update(
                individual_audits=part["audits"],
                individual_earned=part["earned"],
                individual_possible=part["possible"],
            )
        for branch in part["branches"]:
            days[branch["code"]] = branch["days"]
    values["branches"] = "; ".join(f"{code} ({count})" for code, count in days.items())
    return [_cell(values.get(name)) for name in _ATTESTATION_COLUMNS]


def _attestation_rows(
    user: User, period_id: int, branch_id: int | None, status: str | None, lang: str
) -> Iterator[list[Any]]:
    """The header, then the sheets the caller may read, by employee code, a page at a time."""
    yield [_HEADERS[lang][name] for name in _ATTESTATION_COLUMNS]
    page = 1
    while True:
        found = attestation_service.sheet_results(user, period_id, branch_id, page, SHEET_BATCH)
        for sheet in found["items"]:
            if status is None or sheet["status"] == status:
                yield _attestation_row(found["period"]["name"], sheet, lang)
        if page * SHEET_BATCH >= found["total"]:
            return
        page += 1


def export_attestation(
    user: User,
    period_id: int,
    branch_id: int | None,
    status: str | None,
    file_format: str,
    lang: str,
) -> Export:
    """The attestation results of a period (one row per employee, as the sheets the caller may
    read: ``GET /attestation/periods/{id}/sheets``), optionally of one branch's staff and of one
    status (``graded``, ``not_gradable``)."""
    # Checked now: once the file has started, a 404 can no longer be answered.
    period = attestation_service.get_period(period_id)
    if branch_id is not None:
        attestation_service.visible_branch(user, branch_id)
    rows = _attestation_rows(user, period_id, branch_id, status, lang)
    name = f"attestation-{period.id}" + ("" if branch_id is None else f"-branch-{branch_id}")
    if file_format == "xlsx":
        return Export(_xlsx_chunks(rows, "attestation"), XLSX_TYPE, f"{name}.xlsx")
    return Export(_csv_chunks([row] for row in rows), CSV_TYPE, f"{name}.csv")
