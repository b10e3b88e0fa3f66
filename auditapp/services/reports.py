"""Reports people print and forward: the audit report PDF and the branch scorecard PDF.

Every document is built from what the caller may see: an audit from its redacted view
(``visibility.audit_view``, through ``audits.audit_view`` which applies the scope rules), photo
thumbnails only where ``visibility.serves_photo_file`` allows them, ratings from the ratings
service (which applies the same scope). A manager's or director's document therefore never
names the shopper and carries no photo metadata: thumbnails are the processed copies, which
keep no EXIF, and originals are never read here.

Read-only: nothing here writes to the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import or_, select

from auditapp import visibility
from auditapp.adapters import pdf
from auditapp.clock import now as clock_now
from auditapp.domain.checklist import STAGES, Checklist, Item, localize
from auditapp.domain.ratings import Period
from auditapp.domain.scoring import display
from auditapp.extensions import db
from auditapp.models import (
    Audit,
    AuditPhoto,
    Branch,
    ChecklistVersion,
    StaffPlacement,
    User,
)
from auditapp.services import attestation as attestation_service
from auditapp.services import audits as audit_service
from auditapp.services import photos as photo_service
from auditapp.services import ratings as rating_service
from auditapp.services.checklists import checklist_of

LANGUAGES: Final = ("ru", "en")

#: Every fixed text of the documents, in both languages.
LABELS: Final[dict[str, dict[str, str]]] = {
    "ru": {
        "audit_report": "Отчёт о проверке",
        "branch": "Филиал",
        "region": "Регион",
        "visit": "Визит",
        "channel": "Канал",
        "checklist": "Чек-лист",
        "version": "версия",
        "standard": "Стандарт",
        "status": "Статус",
        "shopper": "Тайный покупатель",
        "score": "Итоговая оценка",
        "points": "Баллы",
        "critical_rule": "Правило критических пунктов",
        "critical_failed": "Провалены критические пункты",
        "stages": "Этапы",
        "sections": "Разделы",
        "items": "Пункты",
        "item": "Пункт",
        "answer": "Ответ",
        "earned": "Баллы",
        "clause": "Пункт ст.",
        "guidance": "Как должно быть",
        "critical": "КРИТИЧЕСКИЙ",
        "photos": "Фото",
        "comment": "Комментарий",
        "staff": "Обслуживали",
        "disputes": "Оспаривания",
        "history": "История после публикации",
        "none": "нет",
        "part_score": "Оценка",
        "status_released": "опубликован",
        "status_approved": "одобрен",
        "status_submitted": "отправлен на проверку",
        "status_returned": "возвращён на доработку",
        "status_rejected": "отклонён",
        "status_in_progress": "заполняется",
        "history_at": "Когда",
        "history_action": "Событие",
        "history_change": "Изменение и причина",
        "yes": "Да",
        "no": "Нет",
        "na": "Н/П",
        "generated": "Сформирован",
        "page": "стр. {page} из {pages}",
        "scorecard": "Карта показателей филиала",
        "period": "Период",
        "rating": "Рейтинг",
        "ci": "95% доверительный интервал",
        "visits": "визитов",
        "too_few": "мало визитов для надёжной оценки",
        "rank": "Место",
        "rank_range": "возможный диапазон мест",
        "in_region": "в регионе",
        "in_network": "в сети",
        "network_mean": "Среднее по сети",
        "change": "Изменение к прошлому периоду",
        "trend": "Динамика по месяцам",
        "branch_series": "Филиал",
        "weakest": "Самые слабые стандарты",
        "pass_rate": "Выполнение",
        "decline": "Сигнал о снижении",
        "decline_text": "{month}: {latest} — на {drop} ниже среднего за {window} мес. ({trailing})",
        "no_decline": "Снижения не обнаружено",
        "not_rated": "нет оценки",
        "raised": "подано",
        "resolved": "решено",
        "open": "открыто",
        "upheld": "удовлетворено",
        "rejected": "отклонено",
        "released": "опубликован",
        "disputed": "оспорен",
        "dispute_upheld": "оспаривание удовлетворено",
        "dispute_rejected": "оспаривание отклонено",
        "score_changed": "оценка изменена",
        "pre_purchase": "До покупки",
        "purchase": "Покупка",
        "after_sale": "После покупки",
        "zero_audit": "провал критического пункта обнуляет проверку",
        "zero_section": "провал критического пункта обнуляет раздел",
        "cap": "при провале критического пункта оценка не выше {cap}",
        "visit_channel": "визит",
        "call": "звонок",
        "online": "онлайн",
        "significance_above": "значимо выше среднего по сети",
        "significance_below": "значимо ниже среднего по сети",
        "significance_none": "не отличается значимо от среднего по сети",
        "comparison": "Сравнение филиалов",
        "network": "вся сеть",
        "spread": "Разброс между филиалами",
        "spread_text": "{branches} филиалов, {audits} проверок; среднее {mean}, минимум {min}, "
        "максимум {max}, ст. откл. {sd}, разрыв {gap}",
        "ranking": "Рейтинг филиалов",
        "heatmap": "Филиалы × разделы",
        "mean": "Среднее",
        "shrunk": "Сглаж.",
        "range": "Диапазон",
        "sheet": "Аттестационный лист",
        "bundle": "Аттестационные листы филиала",
        "employee": "Сотрудник",
        "position": "Должность",
        "rule_set": "Правила аттестации",
        "state": "Состояние",
        "state_live": "период открыт: расчёт на дату формирования",
        "state_pending": "зафиксирован {at}, ответа сотрудника нет",
        "state_acknowledged": "зафиксирован {at}, сотрудник ознакомлен",
        "state_objected": "зафиксирован {at}, сотрудник возразил",
        "state_answered": "зафиксирован {at}, возражение рассмотрено",
        "result": "Итог",
        "grade": "Оценка",
        "not_gradable": "не аттестуется в этом периоде",
        "external_share": "Доля внешних объективных данных",
        "formula": "Расчёт",
        "components": "Компоненты",
        "component": "Компонент",
        "kind": "Вид",
        "external": "внешний",
        "internal_kind": "внутренний",
        "weight": "Вес",
        "weight_used": "Вес в расчёте",
        "component_score": "Балл",
        "note": "Примечание",
        "individual_detail": "{audits} проверок, {earned} из {possible} баллов по пунктам",
        "collective_detail": "{code}: {days} дн., среднее {mean}",
        "internal_detail": "{score}: {reason} ({by}, {at})",
        "evidence": "Проверки, на которых основан индивидуальный результат",
        "visit_date": "Дата визита",
        "role": "Роль",
        "audit": "Проверка",
        "no_evidence": "проверок с участием сотрудника за период нет",
        "signatures": "Подписи",
        "signature_employee": "Сотрудник (ознакомлен)",
        "signature_manager": "Руководитель филиала",
        "signature_hr": "Отдел персонала / аттестационная комиссия",
        "signature_line": "подпись ______________  расшифровка ____________________  "
        "дата ___________",
        "staff_count": "Сотрудников",
    },
    "en": {
        "audit_report": "Audit report",
        "branch": "Branch",
        "region": "Region",
        "visit": "Visit",
        "channel": "Channel",
        "checklist": "Checklist",
        "version": "version",
        "standard": "Standard",
        "status": "Status",
        "shopper": "Mystery shopper",
        "score": "Overall score",
        "points": "Points",
        "critical_rule": "Critical rule",
        "critical_failed": "Critical items failed",
        "stages": "Stages",
        "sections": "Sections",
        "items": "Items",
        "item": "Item",
        "answer": "Answer",
        "earned": "Points",
        "clause": "Clause",
        "guidance": "Guidance",
        "critical": "CRITICAL",
        "photos": "Photos",
        "comment": "Comment",
        "staff": "Served by",
        "disputes": "Disputes",
        "history": "History since release",
        "none": "none",
        "part_score": "Score",
        "status_released": "released",
        "status_approved": "approved",
        "status_submitted": "submitted for review",
        "status_returned": "returned for fixes",
        "status_rejected": "rejected",
        "status_in_progress": "in progress",
        "history_at": "When",
        "history_action": "Event",
        "history_change": "Change and reason",
        "yes": "Yes",
        "no": "No",
        "na": "N/A",
        "generated": "Generated",
        "page": "page {page} of {pages}",
        "scorecard": "Branch scorecard",
        "period": "Period",
        "rating": "Rating",
        "ci": "95% confidence interval",
        "visits": "visits",
        "too_few": "too few visits for a reliable rating",
        "rank": "Rank",
        "rank_range": "plausible rank range",
        "in_region": "in the region",
        "in_network": "in the network",
        "network_mean": "Network mean",
        "change": "Change from the previous period",
        "trend": "Monthly trend",
        "branch_series": "Branch",
        "weakest": "Weakest standards",
        "pass_rate": "Pass rate",
        "decline": "Decline alert",
        "decline_text": "{month}: {latest}, {drop} below the {window}-month mean ({trailing})",
        "no_decline": "No decline detected",
        "not_rated": "not rated",
        "raised": "raised",
        "resolved": "resolved",
        "open": "open",
        "upheld": "upheld",
        "rejected": "rejected",
        "released": "released",
        "disputed": "disputed",
        "dispute_upheld": "dispute upheld",
        "dispute_rejected": "dispute rejected",
        "score_changed": "score changed",
        "pre_purchase": "Before the purchase",
        "purchase": "Purchase",
        "after_sale": "After the sale",
        "zero_audit": "a failed critical item sets the audit to 0",
        "zero_section": "a failed critical item sets its section to 0",
        "cap": "a failed critical item caps the score at {cap}",
        "visit_channel": "visit",
        "call": "call",
        "online": "online",
        "significance_above": "significantly above the network mean",
        "significance_below": "significantly below the network mean",
        "significance_none": "not significantly different from the network mean",
        "comparison": "Branch comparison",
        "network": "whole network",
        "spread": "Spread between branches",
        "spread_text": "{branches} branches, {audits} audits; mean {mean}, min {min}, "
        "max {max}, sd {sd}, gap {gap}",
        "ranking": "Branch ranking",
        "heatmap": "Branches × sections",
        "mean": "Mean",
        "shrunk": "Shrunk",
        "range": "Range",
        "sheet": "Attestation sheet",
        "bundle": "Attestation sheets of the branch",
        "employee": "Employee",
        "position": "Position",
        "rule_set": "Attestation rules",
        "state": "State",
        "state_live": "period open: computed when generated",
        "state_pending": "frozen {at}, no response from the employee",
        "state_acknowledged": "frozen {at}, acknowledged by the employee",
        "state_objected": "frozen {at}, the employee objected",
        "state_answered": "frozen {at}, the objection was answered",
        "result": "Result",
        "grade": "Grade",
        "not_gradable": "not gradable this period",
        "external_share": "External objective share",
        "formula": "Computation",
        "components": "Components",
        "component": "Component",
        "kind": "Kind",
        "external": "external",
        "internal_kind": "internal",
        "weight": "Weight",
        "weight_used": "Weight used",
        "component_score": "Score",
        "note": "Note",
        "individual_detail": "{audits} audits, {earned} of {possible} item points",
        "collective_detail": "{code}: {days} days, mean {mean}",
        "internal_detail": "{score}: {reason} ({by}, {at})",
        "evidence": "Audits behind the individual result",
        "visit_date": "Visit date",
        "role": "Role",
        "audit": "Audit",
        "no_evidence": "no audit named the employee in the period",
        "signatures": "Signatures",
        "signature_employee": "Employee (acknowledged)",
        "signature_manager": "Branch manager",
        "signature_hr": "HR / attestation board",
        "signature_line": "signature ______________  name ____________________  date ___________",
        "staff_count": "Employees",
    },
}

THUMB_BOX: Final = 28 * pdf.mm  # the largest side of a thumbnail beside its item


@dataclass(frozen=True)
class Document:
    """A rendered document and the file name it is served under."""

    content: bytes
    filename: str
    media_type: str = "application/pdf"


def language(requested: str | None, accept: str | None) -> str:
    """The document's language: ``?lang=`` when given, else the best of the Accept-Language
    header, else Russian (the product's first language)."""
    if requested in LANGUAGES:
        return requested
    best: tuple[float, str] | None = None
    for part in (accept or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0 and (best is None or quality > best[0]):
            best = (quality, primary)
    return best[1] if best else "ru"


def _p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (never read as markup)."""
    return pdf.Text(text, pdf.styles()[style])


def _short(text: str) -> Any:
    """Short text as a plain table cell (cheap to lay out); longer text as a wrapping
    paragraph."""
    return text if len(text) <= 14 and "\n" not in text else _p(text)


def _local(moment: datetime | None, timezone: str) -> str:
    """A moment as the branch's wall-clock time with its zone's abbreviation."""
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _number(value: float) -> str:
    """Points without a needless ".0"."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _safe_name(text: str) -> str:
    """Characters safe in a file name on every system."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "report"


def _footer(words: Mapping[str, str], generated: datetime, timezone: str, versions: str) -> Any:
    """The footer function: page X of Y, the generated-at time in the branch's zone, versions."""
    stamp = f"{words['generated']} {_local(generated, timezone)}"

    def footer(page: int, pages: int) -> str:
        parts = [words["page"].format(page=page, pages=pages), stamp]
        if versions:
            parts.append(versions)
        return " · ".join(parts)

    return footer


def _table(rows: list[list[Any]], widths: Sequence[float], extra: Sequence[Any] = ()) -> Table:
    """A table with a bold header row, thin grid and top-aligned cells."""
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf.FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("FONTNAME", (0, 0), (-1, 0), pdf.FONT_BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), pdf.LIGHT_GREY),
                ("GRID", (0, 0), (-1, -1), 0.25, pdf.GREY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                *extra,
            ]
        )
    )
    return table


# The audit report ----------------------------------------------------------------------------


def _answer_text(item: Item, value: Any, words: Mapping[str, str], lang: str) -> str:
    """An answer as a person reads it: yes/no, the option's label, a number with its unit."""
    if value is None:
        return words["na"]
    if item.type == "yes_no":
        return words["yes"] if value else words["no"]
    if item.type == "choice":
        option = item.option(str(value))
        return localize(option.label, lang) if option else str(value)
    if item.type == "scale":
        return f"{value} / {item.scale_max}"
    if item.type == "number":
        unit = localize(item.unit, lang) if item.unit else ""
        return f"{_number(float(value))} {unit}".strip()
    return str(value)


def _critical_rule_text(checklist: Checklist, words: Mapping[str, str]) -> str:
    rule = checklist.critical_rule
    if rule.kind == "cap":
        return words["cap"].format(cap=_number(rule.cap or 0))
    return words[rule.kind]


def _thumbnails(user: User, view: visibility.AuditView) -> dict[str, list[bytes]]:
    """item id -> the stored JPEG thumbnails of the item's photos the caller may see.

    Only photos in the caller's view, only variants the policy serves them; a photo still
    processing or failed has no thumbnail and is left out.
    """
    result: dict[str, list[bytes]] = {}
    store = photo_service.storage()
    for shown in view.photos or ():
        if shown["status"] not in ("ready", "withdrawn"):
            continue
        photo = db.session.get(AuditPhoto, shown["id"])
        if photo is None or photo.thumb_key is None:
            continue
        if not visibility.serves_photo_file(user, photo, "thumb"):
            continue
        result.setdefault(shown["item_id"], []).append(store.get(photo.thumb_key))
    return result


def _part_rows(
    parts: Mapping[str, Any], names: Mapping[str, str], words: Mapping[str, str]
) -> list[list[Any]]:
    rows: list[list[Any]] = [["", words["part_score"], words["points"]]]
    for key, part in parts.items():
        rows.append(
            [
                _p(names.get(key, key)),
                display(part.get("score")),
                f"{_number(part['earned'])} / {_number(part['possible'])}",
            ]
        )
    return rows


def audit_report(user: User, audit_id: int, lang: str) -> Document:
    """The audit report PDF of one audit, as the caller may see it (scope: ``GET /audits/{id}``)."""
    view = audit_service.audit_view(user, audit_id)
    words = LABELS[lang]
    branch = view.branch
    version = view.checklist_version
    checklist = checklist_of(version)
    detail: dict[str, Any] = view.score_detail or {}
    results: dict[str, Any] = detail.get("items") or {}
    critical_failed = set(detail.get("critical_failed") or ())
    answers: dict[str, Any] = view.answers or {}
    thumbs = _thumbnails(user, view)
    timezone = branch.timezone

    story: list[Flowable] = [
        _p(f"{words['audit_report']} № {view.id}", "title"),
        Spacer(1, 4),
    ]
    facts = [
        [words["branch"], f"{branch.code} — {branch.name}, {branch.city}"],
        [
            words["visit"],
            f"{_local(view.visit_started_at, timezone)} — {_local(view.visit_ended_at, timezone)}",
        ],
        [
            words["channel"],
            words.get(f"{view.channel}_channel", words.get(view.channel, view.channel)),
        ],
        [
            words["checklist"],
            f"{localize(checklist.title, lang)} ({version.slug}, {words['version']} "
            f"{version.version})",
        ],
        [
            words["standard"],
            f"{checklist.standard_code} {localize(checklist.standard_title, lang)}",
        ],
        [words["status"], words.get(f"status_{view.status}", view.status)],
    ]
    # Only those who may know the shopper find them in the report; the branch view has no
    # shopper at all (AttributeError), so a mistake here cannot leak them.
    shopper = getattr(view, "shopper", None)
    if shopper is not None:
        facts.append([words["shopper"], shopper.display_name])
    story.append(
        Table(
            [[_p(k, "bold"), _p(v)] for k, v in facts],
            colWidths=[40 * pdf.mm, pdf.CONTENT_WIDTH - 40 * pdf.mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)],
        )
    )
    score_line = (
        f"{words['score']}: {display(view.score)} "
        f"({_number(detail.get('earned', 0))} / {_number(detail.get('possible', 0))} "
        f"{words['points'].lower()})"
    )
    story += [Spacer(1, 6), _p(score_line, "score")]
    story.append(_p(f"{words['critical_rule']}: {_critical_rule_text(checklist, words)}", "small"))
    if critical_failed:
        names = ", ".join(
            f"{item_id} ({checklist.item(item_id).clause})"
            for item_id in checklist_order(checklist, critical_failed)
        )
        story.append(_p(f"{words['critical_failed']}: {names}", "critical"))

    stage_names = {stage: words.get(stage, stage) for stage in detail.get("stages") or {}}
    section_names = {s.id: localize(s.title, lang) for s in checklist.sections}
    story.append(_p(words["stages"], "h2"))
    story.append(
        _table(
            _part_rows(detail.get("stages") or {}, stage_names, words),
            [90 * pdf.mm, 30 * pdf.mm, 40 * pdf.mm],
        )
    )
    story.append(_p(words["sections"], "h2"))
    story.append(
        _table(
            _part_rows(detail.get("sections") or {}, section_names, words),
            [90 * pdf.mm, 30 * pdf.mm, 40 * pdf.mm],
        )
    )

    story.append(_p(words["items"], "h2"))
    widths = [
        pdf.CONTENT_WIDTH - 22 * pdf.mm - 28 * pdf.mm - 20 * pdf.mm - THUMB_BOX - 4 * pdf.mm,
        22 * pdf.mm,
        28 * pdf.mm,
        20 * pdf.mm,
        THUMB_BOX + 4 * pdf.mm,
    ]
    for section in checklist.sections:
        rows: list[list[Any]] = [
            [
                _p(localize(section.title, lang), "bold"),
                words["clause"],
                words["answer"],
                words["earned"],
                words["photos"],
            ]
        ]
        highlight: list[Any] = []
        for item in section.items:
            if item.id not in answers and item.id not in results:
                continue
            result = results.get(item.id)
            text: list[Flowable] = [_p(localize(item.text, lang))]
            failed = (
                result is not None
                and not result.get("na")
                and (result.get("fraction") is not None and result["fraction"] < 1)
            )
            if item.critical:
                style = "critical" if item.id in critical_failed else "small"
                text.insert(0, _p(words["critical"], style))
            if failed and item.guidance:
                text.append(_p(f"{words['guidance']}: {localize(item.guidance, lang)}", "small"))
            points = (
                "—"
                if result is None
                else words["na"]
                if result.get("na")
                else f"{_number(result['earned'])} / {_number(result['possible'])}"
            )
            images: list[Flowable] = [
                pdf.JpegImage(data, THUMB_BOX, THUMB_BOX) for data in thumbs.get(item.id, [])
            ]
            rows.append(
                [
                    text,
                    item.clause,
                    _short(_answer_text(item, answers.get(item.id), words, lang)),
                    points,
                    images or "",
                ]
            )
            if item.id in critical_failed:
                row = len(rows) - 1
                highlight.append(("BACKGROUND", (0, row), (-1, row), pdf.LIGHT_RED))
        if len(rows) > 1:
            story += [_table(rows, widths, highlight), Spacer(1, 6)]

    if view.comment:
        story += [_p(words["comment"], "h2"), _p(view.comment)]
    staff = list(view.staff_served or ())
    if staff:
        story.append(_p(words["staff"], "h2"))
        for served in staff:
            name = served.staff_member.full_name if served.staff_member is not None else ""
            described = ", ".join(x for x in (served.staff_role, name, served.description) if x)
            story.append(_p(described))

    story.append(_p(words["disputes"], "h2"))
    disputes = list(view.disputes or ())
    if not disputes:
        story.append(_p(words["none"]))
    for dispute in disputes:
        lines = [
            f"{dispute.item_id}: {words.get(dispute.status, dispute.status)} — "
            f"{words['raised']} {_local(dispute.raised_at, timezone)}",
            dispute.reason,
        ]
        if dispute.resolved_at is not None:
            lines.append(
                f"{words['resolved']} {_local(dispute.resolved_at, timezone)}: {dispute.resolution}"
            )
        story.append(KeepTogether([_p(line) for line in lines] + [Spacer(1, 3)]))
    history = [h for h in view.history or () if h["action"] in visibility.BRANCH_HISTORY_ACTIONS]
    if history:
        story.append(_p(words["history"], "h2"))
        rows = [[words["history_at"], words["history_action"], words["history_change"]]]
        for entry in history:
            change = ""
            if entry["field"]:
                change = f"{entry['field']}: {entry['old_value']} → {entry['new_value']}"
            rows.append(
                [
                    _local(entry["at"], timezone),
                    words.get(entry["action"], entry["action"]),
                    _p(" ".join(x for x in (change, entry["reason"]) if x)),
                ]
            )
        story.append(_table(rows, [38 * pdf.mm, 40 * pdf.mm, 102 * pdf.mm]))

    versions = f"{version.slug} v{version.version}"
    generated = clock_now()
    content = pdf.render(
        story,
        title=f"{words['audit_report']} {view.id}",
        footer=_footer(words, generated, timezone, versions),
    )
    filename = f"audit-{view.id}-{_safe_name(branch.code)}-{lang}.pdf"
    return Document(content, filename)


def checklist_order(checklist: Checklist, item_ids: set[str]) -> list[str]:
    """``item_ids`` in the checklist's order."""
    return [item.id for item in checklist.items() if item.id in item_ids]


# The branch scorecard ------------------------------------------------------------------------


def _period_text(period: Period) -> str:
    """The period as the API names it: months, or a range of days."""
    if period.from_day is not None and period.to_day is not None:
        return f"{period.from_day:%Y-%m-%d}..{period.to_day:%Y-%m-%d}"
    first, last = period.first, period.last
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m}..{last:%Y-%m}"


def _mean(value: float | None) -> str:
    return display(value)


def branch_scorecard(
    user: User,
    branch_id: int,
    period: Period,
    filters: rating_service.Filters,
    options: rating_service.Options,
    lang: str,
) -> Document:
    """A branch's scorecard for a period, from the ratings service (its scope rules apply)."""
    words = LABELS[lang]
    rating = rating_service.branch_rating(user, branch_id, period, filters, options)
    trend = rating_service.trend(user, "branch", branch_id, period.last, 12, filters, options)
    network = rating_service.trend(user, "network", None, period.last, 12, filters, options)
    weakest = rating_service.standards(user, "branch", branch_id, period, filters, 10)
    branch = rating_service.visible_branch(user, branch_id)
    stats = rating["rating"]

    story: list[Flowable] = [
        _p(f"{words['scorecard']}: {branch.code} — {branch.name}", "title"),
        _p(f"{words['period']}: {_period_text(period)} · {branch.city}", "small"),
        Spacer(1, 6),
    ]
    headline = f"{words['rating']}: {_mean(stats['mean'])}"
    story.append(_p(headline, "big"))
    if stats["ci_low"] is not None:
        story.append(
            _p(
                f"{words['ci']}: {_mean(stats['ci_low'])} – {_mean(stats['ci_high'])}; "
                f"n = {stats['n']} {words['visits']}"
            )
        )
    else:
        story.append(_p(f"n = {stats['n']} {words['visits']}"))
    if stats["too_few_visits"]:
        story.append(_p(words["too_few"], "critical"))
    story.append(_p(f"{words['network_mean']}: {_mean(rating['network_mean'])}"))
    if rating["significance"]:
        story.append(_p(words.get(f"significance_{rating['significance']}", "")))
    if rating["mean_change"] is not None:
        story.append(_p(f"{words['change']}: {rating['mean_change']:+.1f}"))

    for scope, label in (("region", words["in_region"]), ("network", words["in_network"])):
        place = rating["places"].get(scope)
        if place is None:
            story.append(_p(f"{words['rank']} {label}: {words['not_rated']}"))
            continue
        story.append(
            _p(
                f"{words['rank']} {label}: {place['rank']} / {place['of']} "
                f"({words['rank_range']} {place['rank_best']}–{place['rank_worst']})",
                "bold",
            )
        )

    story.append(_p(words["decline"], "h2"))
    alert = trend["decline"]
    if alert is None:
        story.append(_p(words["no_decline"]))
    else:
        story.append(
            _p(
                words["decline_text"].format(
                    month=f"{alert['month']:%Y-%m}",
                    latest=_mean(alert["latest_mean"]),
                    drop=f"{alert['drop']:.1f}",
                    window=options.decline_window,
                    trailing=_mean(alert["trailing_mean"]),
                ),
                "critical",
            )
        )

    story.append(_p(words["trend"], "h2"))
    months = [f"{p['month']:%Y-%m}" for p in trend["points"]]
    story.append(
        pdf.trend_chart(
            months,
            [
                (f"{words['branch_series']} {branch.code}", [p["mean"] for p in trend["points"]]),
                (words["network_mean"], [p["mean"] for p in network["points"]]),
            ],
            width=pdf.CONTENT_WIDTH,
        )
    )

    breakdowns = rating["breakdowns"]
    found = breakdowns.get("stage") or {}
    # The customer cycle's order, not the alphabet's.
    stages = {
        key: found[key] for key in (*STAGES, *sorted(set(found) - set(STAGES))) if key in found
    }
    if stages:
        story.append(_p(words["stages"], "h2"))
        story.append(
            pdf.bar_chart(
                [words.get(key, key) for key in stages],
                [s["mean"] for s in stages.values()],
                width=pdf.CONTENT_WIDTH,
            )
        )
    sections = breakdowns.get("section") or {}
    if sections:
        titles = _section_titles(set(sections), lang)
        story.append(_p(words["sections"], "h2"))
        story.append(
            pdf.bar_chart(
                [titles.get(key, key) for key in sections],
                [s["mean"] for s in sections.values()],
                width=pdf.CONTENT_WIDTH,
            )
        )

    story.append(_p(words["weakest"], "h2"))
    rows: list[list[Any]] = [[words["item"], words["clause"], words["pass_rate"], "n"]]
    for standard in weakest["weakest"]:
        text = localize(standard["text"], lang) if standard["text"] else standard["item_id"]
        rate = standard["pass_rate"]
        rows.append(
            [
                _p(text),
                _p(standard["clause"]),
                "—" if rate is None else f"{100 * rate:.1f}%",
                str(standard["n"]),
            ]
        )
    if len(rows) == 1:
        story.append(_p(words["none"]))
    else:
        story.append(_table(rows, [105 * pdf.mm, 30 * pdf.mm, 25 * pdf.mm, 20 * pdf.mm]))

    generated = clock_now()
    versions = f"{filters.checklist}" if filters.checklist else ""
    content = pdf.render(
        story,
        title=f"{words['scorecard']} {branch.code}",
        footer=_footer(words, generated, branch.timezone, versions),
    )
    filename = (
        f"scorecard-{_safe_name(branch.code)}-{_period_text(period).replace('..', '_')}-{lang}.pdf"
    )
    return Document(content, filename)


def _section_titles(keys: set[str], lang: str) -> dict[str, str]:
    """``checklist:section`` -> the section's title in the newest version of its checklist."""
    slugs = sorted({key.split(":", 1)[0] for key in keys})
    titles: dict[str, str] = {}
    versions = db.session.execute(
        select(ChecklistVersion)
        .where(ChecklistVersion.slug.in_(slugs))
        .order_by(ChecklistVersion.version)
    ).scalars()
    for version in versions:  # newest last, so newest wins
        for section in checklist_of(version).sections:
            titles[f"{version.slug}:{section.id}"] = localize(section.title, lang)
    return titles


# The region / network comparison (built by a background job) -------------------------------

_EVERY: Final = 10**9  # "every entry" as a page size


def _heat(value: float | None) -> Any:
    """A cell colour from red (0) through yellow to green (100); grey when there is no value."""
    if value is None:
        return pdf.LIGHT_GREY
    t = max(0.0, min(1.0, value / 100))
    red, green = (1.0, 0.45 + 0.55 * t * 2) if t < 0.5 else (1.0 - (t - 0.5) * 1.2, 1.0)
    return pdf.colors.Color(min(red, 1.0), min(green, 1.0), 0.55)


def comparison_pdf(
    user: User,
    region_id: int | None,
    period: Period,
    filters: rating_service.Filters,
    options: rating_service.Options,
    lang: str,
) -> Document:
    """The region's (or the network's) comparison: the spread, the ranking of every branch in
    the caller's scope, the branch x section heat-map and the monthly trend."""
    words = LABELS[lang]
    scoped = rating_service.Filters(
        filters.checklist, filters.channel, filters.branch_kind, region_id
    )
    group = rating_service.group_rating(user, region_id, period, scoped, options)
    region = group["region"]
    scope_name = f"{region['code']} — {region['name']}" if region else words["network"]
    story: list[Flowable] = [
        _p(f"{words['comparison']}: {scope_name}", "title"),
        _p(f"{words['period']}: {_period_text(period)}", "small"),
        _p(words["spread"], "h2"),
    ]
    spread = group["rating"]
    story.append(
        _p(
            words["spread_text"].format(
                branches=spread["branches"],
                audits=group["audits"],
                mean=_mean(spread["mean"]),
                min=_mean(spread["min"]),
                max=_mean(spread["max"]),
                sd=_mean(spread["sd"]),
                gap=_mean(spread["gap"]),
            )
        )
    )
    if group["mean_change"] is not None:
        story.append(_p(f"{words['change']}: {group['mean_change']:+.1f}"))

    trend = rating_service.trend(
        user, "region" if region_id else "network", region_id, period.last, 12, scoped, options
    )
    story.append(_p(words["trend"], "h2"))
    story.append(
        pdf.trend_chart(
            [f"{p['month']:%Y-%m}" for p in trend["points"]],
            [(scope_name, [p["mean"] for p in trend["points"]])],
            width=pdf.CONTENT_WIDTH,
        )
    )

    story.append(_p(words["ranking"], "h2"))
    header = [
        words["rank"],
        words["branch"],
        words["mean"],
        "95% CI",
        "n",
        words["range"],
        words["shrunk"],
    ]
    rows: list[list[Any]] = []
    # One call for every entry: each call ranks the whole network, so pages would repeat it.
    ranking = rating_service.branch_ranking(user, period, scoped, options, 1, _EVERY)
    for entry in ranking["entries"]:
        rating = entry["rating"]
        ci = (
            f"{_mean(rating['ci_low'])}–{_mean(rating['ci_high'])}"
            if rating["ci_low"] is not None
            else "—"
        )
        rows.append(
            [
                str(entry["rank"]),
                f"{entry['branch']['code']} {entry['branch']['name']}"[:48],
                _mean(rating["mean"]),
                ci,
                str(rating["n"]),
                f"{entry['rank_best']}–{entry['rank_worst']}",
                _mean(entry["shrunk_mean"]),
            ]
        )
    widths = [14 * pdf.mm, 66 * pdf.mm, 18 * pdf.mm, 30 * pdf.mm, 12 * pdf.mm, 22 * pdf.mm]
    widths.append(pdf.CONTENT_WIDTH - sum(widths))
    # One lean flowable for every row (split by rows over the pages), not reportlab's Table.
    story.append(pdf.RowTable(header, rows, widths))

    matrix = rating_service.comparison(user, period, scoped, "section", options)
    columns = list(matrix["columns"])[:12]
    titles = _section_titles(set(columns), lang)
    story.append(_p(words["heatmap"], "h2"))
    if not matrix["rows"]:
        story.append(_p(words["none"]))
    name_width = 40 * pdf.mm
    cell_width = (pdf.CONTENT_WIDTH - name_width) / max(len(columns), 1)
    head = [words["branch"]] + [titles.get(c, c) for c in columns]
    cells: list[list[str]] = []
    fills: list[list[Any]] = []
    colours: dict[str | None, Any] = {}
    for row in matrix["rows"]:
        values = [
            None if (cell := row["cells"].get(str(c))) is None else cell["mean"] for c in columns
        ]
        cells.append([row["branch"]["code"]] + [_mean(v) for v in values])
        shades = [None]
        for value in values:
            key = None if value is None else f"{value:.1f}"  # one colour object per shown value
            if key not in colours:
                colours[key] = _heat(value)
            shades.append(colours[key])
        fills.append(shades)
    if cells:
        story.append(pdf.RowTable(head, cells, [name_width] + [cell_width] * len(columns), fills))

    generated = clock_now()
    # A region may span several time zones: the comparison is stamped in UTC.
    content = pdf.render(
        story,
        title=f"{words['comparison']} {scope_name}",
        footer=_footer(words, generated, "UTC", filters.checklist or ""),
    )
    scope_file = _safe_name(region["code"]) if region else "network"
    name = f"comparison-{scope_file}-{_period_text(period).replace('..', '_')}-{lang}.pdf"
    return Document(content, name)


# Attestation sheets and the branch bundle -----------------------------------------------------


def _day(moment: Any, timezone: str) -> str:
    """A stored ISO moment (or datetime) as the branch's wall-clock time."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return _local(moment, timezone)


def _evidence_texts(sheets: Sequence[Mapping[str, Any]], lang: str) -> dict[tuple[int, str], str]:
    """(audit, item) -> the item's text in ``lang``, from each audit's checklist version (a
    sheet stores the Russian text only)."""
    audit_ids = {row["audit_id"] for sheet in sheets for row in sheet["evidence"]}
    if lang == "ru" or not audit_ids:
        return {}
    by_version: dict[int, list[int]] = {}
    for audit_id, version_id in db.session.execute(
        select(Audit.id, Audit.checklist_version_id).where(Audit.id.in_(audit_ids))
    ):
        by_version.setdefault(version_id, []).append(audit_id)
    texts: dict[tuple[int, str], str] = {}
    for version_id, ids in by_version.items():
        version = db.session.get(ChecklistVersion, version_id)
        assert version is not None  # an audit's version is never deleted
        items = {item.id: localize(item.text, lang) for item in checklist_of(version).items()}
        texts.update({(audit_id, item): text for audit_id in ids for item, text in items.items()})
    return texts


def _sheet_story(
    sheet: Mapping[str, Any],
    period: Mapping[str, Any],
    lang: str,
    timezone: str,
    texts: Mapping[tuple[int, str], str],
) -> list[Flowable]:
    """One employee's sheet: who, the rules and their version, the result and how it was
    computed, each component, the audits behind the individual component, and signatures.

    Built from the sheet as the attestation service serves it: it names staff and the person
    who entered an internal score, never a shopper.
    """
    words = LABELS[lang]
    member = sheet["staff_member"]
    rules = sheet["rule_set"]
    story: list[Flowable] = [
        _p(f"{words['sheet']}: {member['full_name']}", "title"),
        Spacer(1, 4),
    ]
    frozen = _day(sheet.get("frozen_at"), timezone)
    state = words.get(f"state_{sheet['state']}", sheet["state"]).format(at=frozen)
    facts = [
        [words["employee"], f"{member['full_name']} ({member['employee_code']})"],
        [words["position"], member["position"]],
        [
            words["period"],
            f"{period['name']}: {period['starts_on']:%d.%m.%Y} — {period['ends_on']:%d.%m.%Y}",
        ],
        [
            words["rule_set"],
            f"{rules['name']} ({rules['code']}, {words['version']} {rules['version']})",
        ],
        [words["state"], state],
    ]
    story.append(
        Table(
            [[_p(k, "bold"), _p(v)] for k, v in facts],
            colWidths=[40 * pdf.mm, pdf.CONTENT_WIDTH - 40 * pdf.mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)],
        )
    )
    story.append(Spacer(1, 6))
    grade = sheet.get("grade")
    if sheet["status"] == "graded" and grade is not None:
        label = grade.get(f"label_{lang}") or grade["label_ru"] or grade["code"]
        result = f"{_number(sheet['points'])} — {words['grade']}: {label}"
        story.append(_p(f"{words['result']}: {result}", "score"))
    else:
        story.append(_p(f"{words['result']}: {words['not_gradable']}", "score"))
    if sheet.get("external_share") is not None:
        story.append(_p(f"{words['external_share']}: {_number(sheet['external_share'])}%"))
    story.append(_p(f"{words['formula']}: {sheet[f'formula_{lang}']}", "small"))

    story.append(_p(words["components"], "h2"))
    head = ("component", "kind", "weight", "weight_used", "component_score", "note")
    rows: list[list[Any]] = [[_p(words[key], "head") for key in head]]
    for part in sheet["components"]:
        notes = [part[f"note_{lang}"]]
        if part["component"] == "individual" and part["audits"]:
            notes.append(
                words["individual_detail"].format(
                    audits=part["audits"],
                    earned=_number(part["earned"]),
                    possible=_number(part["possible"]),
                )
            )
        for branch in part["branches"]:
            notes.append(
                words["collective_detail"].format(
                    code=branch["code"], days=branch["days"], mean=_mean(branch["mean"])
                )
            )
        internal = part.get("internal")
        if internal:
            notes.append(
                words["internal_detail"].format(
                    score=_number(internal["score"]),
                    reason=internal["reason"],
                    by=internal["entered_by"],
                    at=_day(internal["entered_at"], timezone),
                )
            )
        rows.append(
            [
                _p(part[f"name_{lang}"]),
                words["external"] if part["external"] else words["internal_kind"],
                _number(part["weight"]),
                _number(part["effective_weight"]),
                "—" if part["score"] is None else _number(part["score"]),
                _p("; ".join(notes), "small"),
            ]
        )
    widths = [34 * pdf.mm, 20 * pdf.mm, 13 * pdf.mm, 20 * pdf.mm, 14 * pdf.mm]
    widths.append(pdf.CONTENT_WIDTH - sum(widths))
    story.append(_table(rows, widths))

    story.append(_p(words["evidence"], "h2"))
    evidence = list(sheet["evidence"])
    if not evidence:
        story.append(_p(words["no_evidence"]))
    else:
        columns = ("audit", "visit_date", "branch", "role", "clause", "item", "earned")
        rows = [[_p(words[key], "head") for key in columns]]
        for row in evidence:
            text = texts.get((row["audit_id"], row["item_id"])) or row["item_text"]
            rows.append(
                [
                    f"№ {row['audit_id']}",
                    row["visit_date"],
                    row["branch"]["code"],
                    _short(row["staff_role"]),
                    _short(row["clause"]),
                    _p(text),
                    f"{_number(row['earned'])} / {_number(row['possible'])}",
                ]
            )
        widths = [17 * pdf.mm, 20 * pdf.mm, 16 * pdf.mm, 22 * pdf.mm, 14 * pdf.mm]
        widths += [pdf.CONTENT_WIDTH - sum(widths) - 18 * pdf.mm, 18 * pdf.mm]
        story.append(_table(rows, widths))

    story.append(_p(words["signatures"], "h2"))
    for who in ("signature_employee", "signature_manager", "signature_hr"):
        story.append(
            KeepTogether([_p(words[who], "bold"), Spacer(1, 10), _p(words["signature_line"])])
        )
        story.append(Spacer(1, 8))
    return story


def _rule_version(sheet: Mapping[str, Any]) -> str:
    rules = sheet["rule_set"]
    return f"{rules['code']} v{rules['version']}"


def _staff_timezone(staff_id: int, period: Mapping[str, Any]) -> str:
    """The time zone of the branch the employee worked in last during the period."""
    timezone = db.session.execute(
        select(Branch.timezone)
        .join(StaffPlacement, StaffPlacement.branch_id == Branch.id)
        .where(
            StaffPlacement.staff_member_id == staff_id,
            StaffPlacement.started_on <= period["ends_on"],
            or_(
                StaffPlacement.ended_on.is_(None),
                StaffPlacement.ended_on >= period["starts_on"],
            ),
        )
        .order_by(StaffPlacement.started_on.desc(), StaffPlacement.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return timezone or "UTC"


def attestation_sheet(user: User, period_id: int, staff_id: int, lang: str) -> Document:
    """One employee's attestation sheet as a PDF, scoped like ``GET
    /attestation/periods/{id}/sheets/{staff_id}`` (an employee: their own; a manager: staff of
    their branches; a director: of their regions; HQ: all; else NotFound)."""
    sheet = attestation_service.get_sheet(user, period_id, staff_id)
    period = sheet["period"]
    words = LABELS[lang]
    timezone = _staff_timezone(staff_id, period)
    story = _sheet_story(sheet, period, lang, timezone, _evidence_texts([sheet], lang))
    content = pdf.render(
        story,
        title=f"{words['sheet']} {sheet['staff_member']['employee_code']}",
        footer=_footer(words, clock_now(), timezone, _rule_version(sheet)),
    )
    code = _safe_name(sheet["staff_member"]["employee_code"])
    filename = f"attestation-{code}-{_safe_name(period['name'])}-{lang}.pdf"
    return Document(content, filename)


def attestation_bundle(user: User, period_id: int, branch_id: int, lang: str) -> Document:
    """Every sheet of a branch's staff for a period (those the caller may read) in one PDF: a
    summary table, then each sheet from a new page. Built by a background job."""
    words = LABELS[lang]
    branch = attestation_service.visible_branch(user, branch_id)
    sheets: list[attestation_service.SheetResult] = []
    page = 1
    while True:
        found = attestation_service.sheet_results(user, period_id, branch_id, page, 200)
        sheets += found["items"]
        period = found["period"]
        if page * 200 >= found["total"]:
            break
        page += 1
    story: list[Flowable] = [
        _p(f"{words['bundle']}: {branch.code} — {branch.name}", "title"),
        _p(
            f"{words['period']}: {period['name']} ({period['starts_on']:%d.%m.%Y} — "
            f"{period['ends_on']:%d.%m.%Y}) · {words['staff_count']}: {len(sheets)}",
            "small",
        ),
        Spacer(1, 6),
    ]
    rows: list[list[Any]] = [
        [words["employee"], words["position"], words["points"], words["grade"], words["state"]]
    ]
    for sheet in sheets:
        grade = sheet.get("grade")
        member = sheet["staff_member"]
        rows.append(
            [
                _p(f"{member['full_name']} ({member['employee_code']})"),
                _p(member["position"]),
                "—" if sheet["points"] is None else _number(sheet["points"]),
                _p(
                    (cast(dict[str, Any], grade).get(f"label_{lang}") or grade["code"])
                    if grade
                    else words["not_gradable"]
                ),
                _p(
                    words.get(f"state_{sheet['state']}", sheet["state"]).format(
                        at=_day(sheet.get("frozen_at"), branch.timezone)
                    )
                ),
            ]
        )
    if len(rows) == 1:
        story.append(_p(words["none"]))
    else:
        widths = [62 * pdf.mm, 30 * pdf.mm, 18 * pdf.mm, 30 * pdf.mm]
        widths.append(pdf.CONTENT_WIDTH - sum(widths))
        story.append(_table(rows, widths))
    texts = _evidence_texts(sheets, lang)
    for sheet in sheets:
        story.append(PageBreak())
        story += _sheet_story(sheet, period, lang, branch.timezone, texts)
    versions = " ".join(sorted({_rule_version(sheet) for sheet in sheets}))
    content = pdf.render(
        story,
        title=f"{words['bundle']} {branch.code}",
        footer=_footer(words, clock_now(), branch.timezone, versions),
    )
    filename = f"attestation-{_safe_name(branch.code)}-{_safe_name(period['name'])}-{lang}.pdf"
    return Document(content, filename)
