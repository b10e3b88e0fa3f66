"""A realistic demo: a network, its users, and a year of mystery-shopper activity.

The network has regions, branches of every kind, staff with Russian names and users of every
role. The activity is twelve months of waves for every checklist in ``checklists/``, a few
hundred audits in every status with scores from the real scoring engine, reviews, releases,
disputes, the history of all of it with past timestamps, and generated photo evidence run
through the real photo pipeline.

Deterministic (fixed seeds), so every screen shows the same data on every machine for a given
``today``. Rows are built directly rather than through the services, because the services stamp
"now" and the history is append-only: a year of past events can only be written as it happened.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import random
import uuid
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select

from auditapp.adapters.images import inspect_upload, process_photo
from auditapp.adapters.storage import PhotoStorage, photo_key
from auditapp.auth import hash_password
from auditapp.domain.checklist import Checklist, Item, localize
from auditapp.domain.distribution import Slot, slots_for
from auditapp.domain.scoring import item_fraction, score_audit
from auditapp.extensions import db
from auditapp.models import (
    Assignment,
    Audit,
    AuditHistory,
    AuditPhoto,
    AuditStaff,
    Branch,
    ChecklistVersion,
    Dispute,
    Region,
    StaffMember,
    StaffPlacement,
    User,
    Wave,
)
from auditapp.services.checklists import checklist_of, import_checklist
from auditapp.services.photos import storage
from auditapp.services.waves import due_at

REGIONS = [
    (
        "MSK",
        "Москва и область",
        [("Москва", 55.7558, 37.6173), ("Химки", 55.8970, 37.4297), ("Подольск", 55.4242, 37.5547)],
        "Europe/Moscow",
    ),
    (
        "NW",
        "Северо-Запад",
        [
            ("Санкт-Петербург", 59.9343, 30.3351),
            ("Великий Новгород", 58.5215, 31.2755),
            ("Псков", 57.8194, 28.3318),
        ],
        "Europe/Moscow",
    ),
    (
        "URL",
        "Урал",
        [
            ("Екатеринбург", 56.8389, 60.6057),
            ("Челябинск", 55.1644, 61.4368),
            ("Пермь", 58.0105, 56.2502),
        ],
        "Asia/Yekaterinburg",
    ),
]
KIND_NAMES = {
    "store": ["Электроника", "ТехноМир", "Цифровой"],
    "restaurant": ["Трапеза", "Самовар", "Пельменная №1"],
    "hotel": ["Гостиница «Волга»", "Отель «Северный»", "Гостиница «Урал»"],
    "service_centre": ["Сервисный центр"],
}
POSITIONS = {
    "store": ["consultant", "consultant", "consultant", "cashier", "cashier", "manager"],
    "restaurant": ["waiter", "waiter", "waiter", "host", "cashier", "manager"],
    "hotel": [
        "receptionist",
        "receptionist",
        "housekeeping",
        "porter",
        "concierge",
        "reservations_agent",
        "manager",
    ],
    "service_centre": ["engineer", "receptionist", "manager"],
}
STREETS = [
    "ул. Ленина",
    "пр. Мира",
    "ул. Гагарина",
    "ул. Советская",
    "Невский пр.",
    "ул. Пушкина",
    "ул. Малышева",
    "Комсомольский пр.",
    "ул. Садовая",
    "ул. Победы",
]
MALE_FIRST = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Иван",
    "Евгений",
    "Павел",
    "Роман",
    "Олег",
]
FEMALE_FIRST = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Екатерина",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Дарья",
    "Анастасия",
    "Ксения",
    "Полина",
    "Алина",
    "Виктория",
]
SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
]
PATRONYMIC_ROOTS = [
    "Александров",
    "Дмитриев",
    "Сергеев",
    "Андреев",
    "Алексеев",
    "Иванов",
    "Петров",
    "Николаев",
    "Михайлов",
    "Владимиров",
    "Викторов",
    "Юрьев",
]


@dataclass(frozen=True)
class DemoLogin:
    """A demo user's credentials, printed for whoever runs the demo."""

    login: str
    password: str
    role: str
    scope: str


def russian_name(rng: random.Random) -> str:
    """Surname, first name and patronymic, with the grammatical gender right."""
    surname, root = rng.choice(SURNAMES), rng.choice(PATRONYMIC_ROOTS)
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MALE_FIRST)} {root}ич"
    return f"{surname}а {rng.choice(FEMALE_FIRST)} {root}на"


def has_data() -> bool:
    """True when the database already holds a network (the demo never overwrites one)."""
    return bool(db.session.execute(select(func.count(Region.id))).scalar_one())


def load_demo(today: date, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo network, users and a year of activity; returns the credentials to print.

    Everything but the checklists is one transaction: a failure leaves no half-loaded network
    behind (``has_data`` would otherwise refuse a second attempt).
    """
    # Imported first: import_checklist commits (or rolls back) on its own.
    versions = import_demo_checklists()
    rng = random.Random(seed)
    kinds = ["store"] * 4 + ["restaurant"] * 3 + ["hotel"] * 2 + ["service_centre"]
    branches: list[Branch] = []
    regions: list[Region] = []
    for region_code, region_name, cities, tz in REGIONS:
        region = Region(code=region_code, name=region_name)
        regions.append(region)
        db.session.add(region)
        for number in range(10):
            kind = kinds[number]
            city, lat, lon = cities[number % len(cities)]
            branch = Branch(
                region=region,
                code=f"{region_code}-{number + 1:02d}",
                name=f"{rng.choice(KIND_NAMES[kind])} — {city}",
                kind=kind,
                city=city,
                address=f"{city}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
                timezone=tz,
                latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
                longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
                active=not (number == 9 and region_code == "URL"),
            )
            branches.append(branch)
            db.session.add(branch)
    staff: list[StaffMember] = []
    code = 1000
    for branch in branches:
        for position in POSITIONS[branch.kind]:
            code += 1
            hired = today - timedelta(days=rng.randint(60, 2500))
            member = StaffMember(
                employee_code=f"E{code}",
                full_name=russian_name(rng),
                position=position,
                hired_on=hired,
            )
            member.placements.append(
                StaffPlacement(branch=branch, position=position, started_on=hired)
            )
            staff.append(member)
            db.session.add(member)
    # A few people moved between branches of the same kind: their history shows it.
    for member in rng.sample(staff, 12):
        first = member.placements[0]
        peers = [b for b in branches if b.kind == first.branch.kind and b is not first.branch]
        moved_on = first.started_on + (today - first.started_on) // 2
        first.ended_on = moved_on - timedelta(days=1)
        member.placements.append(
            StaffPlacement(branch=rng.choice(peers), position=member.position, started_on=moved_on)
        )
    # Some left.
    for member in rng.sample(staff, 6):
        left = today - timedelta(days=rng.randint(5, 50))
        if left > member.placements[-1].started_on:
            member.left_on = left
            member.placements[-1].ended_on = left
    db.session.flush()

    logins: list[DemoLogin] = []

    def add_user(login: str, name: str, role: str, scope: str, **bindings: object) -> User:
        password = f"{login}-demo-2026"
        user = User(
            login=login,
            display_name=name,
            role=role,
            password_hash=hash_password(password),
            **bindings,
        )
        db.session.add(user)
        logins.append(DemoLogin(login, password, role, scope))
        return user

    add_user("admin", "Администратор HQ", "admin", "вся сеть / whole network")
    add_user("reviewer", "Контролёр качества", "reviewer", "вся сеть / whole network")
    add_user("director.msk", "Директор региона Москва", "director", "MSK", regions=[regions[0]])
    add_user("director.nw", "Директор региона Северо-Запад", "director", "NW", regions=[regions[1]])
    add_user("manager.msk01", "Управляющий MSK-01", "manager", "MSK-01", branches=[branches[0]])
    add_user("manager.nw05", "Управляющий NW-05", "manager", "NW-05", branches=[branches[14]])
    for number in range(1, 6):
        add_user(f"shopper{number}", f"Тайный покупатель {number}", "shopper", "свои визиты")
    employee = next(
        m for m in staff if m.placements[-1].branch is branches[0] and m.left_on is None
    )
    add_user(
        "employee",
        employee.full_name,
        "employee",
        employee.employee_code,
        staff_member_id=employee.id,
    )
    db.session.flush()
    users = {user.login: user for user in db.session.execute(select(User)).scalars()}
    # A generator of its own, so the activity does not shift the network's random draws.
    _Activity(today, random.Random(seed + 1), branches, staff, users).run(versions)
    db.session.commit()
    return logins


# --- a year of activity -----------------------------------------------------------------------


@dataclass(frozen=True)
class WavePlan:
    """How often a checklist's waves run, how many visits each branch gets, and when."""

    every_months: int
    visits: int
    day_parts: tuple[str, ...]


WAVE_PLANS = {
    "electronics-store-visit": WavePlan(1, 1, ("morning", "afternoon", "evening")),
    "restaurant-visit": WavePlan(1, 1, ("afternoon", "evening")),
    # Two calls per hotel every other month, one in each half of the month.
    "hotel-reservations-call": WavePlan(2, 2, ("morning", "evening")),
    # Overnight stays and brand campaigns are expensive: once a quarter. This is also what keeps
    # the demo at a few hundred audits rather than a thousand.
    "brand-product-knowledge": WavePlan(3, 1, ("afternoon",)),
    "hotel-stay": WavePlan(3, 1, ("evening",)),
}
# A checklist added to checklists/ later gets a monthly wave with one visit per branch.
DEFAULT_PLAN = WavePlan(1, 1, ())
# Local start hours (from, to) of a visit in each day part.
DAY_PART_HOURS = {
    "morning": (9, 12),
    "afternoon": (12, 17),
    "evening": (17, 21),
    "night": (21, 23),
}
MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
# Branches whose service is consistently weaker (base quality), so rankings have a tail.
WEAK_BRANCHES = {"URL-02": 0.6, "NW-06": 0.62, "URL-08": 0.64, "MSK-07": 0.66, "NW-05": 0.7}
# A branch that was good and has been slipping for the last three months (a new manager?).
DECLINING_BRANCH = "MSK-03"
DECLINE_BY_MONTHS_AGO = {2: 0.1, 1: 0.2, 0: 0.3}
# Branches whose managers have demo accounts: they get disputes.
MANAGED_BRANCHES = {"MSK-01": "manager.msk01", "NW-05": "manager.nw05"}
# Shoppers differ a little in how strictly they judge.
SHOPPER_BIAS = {"shopper1": -0.03, "shopper2": 0.0, "shopper3": 0.02, "shopper4": -0.01}
# Checklist staff roles that are a branch position under another name.
ROLE_POSITIONS = {
    "administrator": ("manager",),
    "duty_manager": ("manager",),
    "operator": ("receptionist",),
}
# Who served the shopper when the branch has nobody on staff in that role.
ROLE_DESCRIPTIONS = {
    "promoter": "Промоутер бренда в фирменной футболке, девушка лет 25, бейджа не было",
    "doorman": "Швейцар у входа, мужчина лет 50 в форме",
    "maintenance": "Техник, пришёл по заявке через ресепшен, не представился",
    "room_service": "Сотрудник рум-сервиса, молодой человек в белой рубашке",
    "waiter": "Официант на завтраке, девушка со светлыми волосами",
    "concierge": "Консьерж за стойкой в лобби",
    "operator": "Оператор колл-центра, женский голос, имя не назвала",
}
UNKNOWN_STAFF = "Не представился, бейджа не было: высокий мужчина в очках"
VISIT_COMMENTS = (
    "Сотрудники были вежливы, но в зале было мало персонала.",
    "В целом хорошее впечатление, консультант знает ассортимент.",
    "Пришлось подождать: сотрудник разговаривал по телефону.",
    "Очень внимательное обслуживание, всё чётко по стандарту.",
    "Ответы на вопросы были неуверенными, часть информации пришлось уточнять.",
    "Сотрудник не представился, имя узнал по бейджу.",
    "Было много посетителей, но персонал справлялся.",
    "Порекомендовал бы друзьям, хотя есть мелкие недочёты.",
)
RETURN_COMMENTS = (
    "Пункт {clause}: ответ не совпадает с фото, проверьте и исправьте.",
    "Пункт {clause}: уточните ответ, в комментарии описано иначе.",
    "Не хватает описания сотрудника, который обслуживал; пункт {clause} перепроверьте.",
)
REJECT_COMMENTS = (
    "Визит выполнен вне окна и без подтверждающих фото; отчёт не засчитывается.",
    "Ответы противоречат фото и хронометражу; визит будет назначен повторно.",
    "Тайный покупатель был узнан персоналом, результаты недостоверны.",
)
DISPUTE_REASONS = (
    "На записи камеры видеонаблюдения видно, что сотрудник выполнил стандарт.",
    "В этот день на смене был стажёр, но старший продавец подошёл сразу; прошу пересмотреть.",
    "Чек был выдан, покупатель оставил его на кассе: это видно на записи.",
    "Время ожидания по журналу кассы меньше указанного в отчёте.",
)
UPHOLD_RESOLUTIONS = (
    "Запись камеры подтверждает позицию управляющего; ответ исправлен.",
    "Данные кассы подтверждают возражение; ответ исправлен.",
)
REJECT_RESOLUTIONS = (
    "Фото и комментарий тайного покупателя подтверждают исходную оценку.",
    "Запись не охватывает момент визита; исходная оценка остаётся.",
)
MSK = ZoneInfo("Europe/Moscow")


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds, for the message printed after loading it."""

    waves: int
    assignments: int
    audits: dict[str, int]
    photos: int
    reused_photos: int
    disputes: dict[str, int]
    history: int


def import_demo_checklists() -> list[ChecklistVersion]:
    """Import every ``checklists/*.yaml`` of the repository (unchanged files are left alone)."""
    from auditapp.resources import checklists_dir  # the checkout's or the wheel's copy

    folder = checklists_dir()
    ids = []
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8-sig")
        ids.append(import_checklist(text, f"checklists/{path.name}").id)
    return [db.session.get_one(ChecklistVersion, version_id) for version_id in ids]


def summary() -> DemoSummary:
    """Count what the demo created (read back from the database, so it is what is there)."""

    def count(column: Any) -> int:
        return int(db.session.execute(select(func.count(column))).scalar_one())

    def by_status(status: Any) -> dict[str, int]:
        rows = db.session.execute(select(status, func.count()).group_by(status)).all()
        return {name: int(number) for name, number in sorted(rows)}

    return DemoSummary(
        waves=count(Wave.id),
        assignments=count(Assignment.id),
        audits=by_status(Audit.status),
        photos=count(AuditPhoto.id),
        reused_photos=int(
            db.session.execute(
                select(func.count(AuditPhoto.id)).where(AuditPhoto.reuse_kind.is_not(None))
            ).scalar_one()
        ),
        disputes=by_status(Dispute.status),
        history=count(AuditHistory.id),
    )


def _month_start(day: date, months: int = 0) -> date:
    """The first day of the month ``months`` after (or before, if negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _clip(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` limited to [low, high]."""
    return max(low, min(high, value))


def _best(item: Item) -> Any:
    """The answer that earns the item's full marks."""
    if item.type == "yes_no":
        return True
    if item.type == "choice":
        return max(item.options, key=lambda option: option.score).id
    if item.type == "scale":
        return item.scale_max
    assert item.bands, item.id
    first = item.bands[0].upto
    assert first is not None
    return max(1, int(first * 0.6)) if float(first).is_integer() else round(first * 0.6, 1)


def _worst(item: Item) -> Any:
    """The answer that earns nothing."""
    if item.type == "yes_no":
        return False
    if item.type == "choice":
        return min(item.options, key=lambda option: option.score).id
    if item.type == "scale":
        return item.scale_min
    uptos = [band.upto for band in item.bands if band.upto is not None]
    return int(max(uptos) * 1.6) + 1


@dataclass
class _Visit:
    """One visit being built: the assignment, its checklist and the times of its events."""

    assignment: Assignment
    row: ChecklistVersion
    checklist: Checklist
    months_ago: int
    status: str
    flag: str | None
    start: datetime = field(init=False)
    end: datetime = field(init=False)


class _Activity:
    """Builds a year of waves, visits, reviews, photos and disputes onto a fresh network."""

    def __init__(
        self,
        today: date,
        rng: random.Random,
        branches: list[Branch],
        staff: list[StaffMember],
        users: dict[str, User],
    ) -> None:
        """Remember the network; nothing is written until ``run``."""
        self.rng = rng
        # No event is later than noon UTC yesterday: whatever the time of day and the time
        # zone, the demo never shows something that has not happened yet.
        self.cutoff = datetime.combine(today, time(0), tzinfo=UTC) - timedelta(hours=12)
        # The newest visits are two days old; their month is the current wave.
        self.anchor = today - timedelta(days=2)
        self.current = _month_start(self.anchor)
        self.branches = branches
        self.users = users
        self.shoppers = [users[f"shopper{number}"] for number in range(1, 6)]
        self.reviewer = users["reviewer"]
        self.admin = users["admin"]
        self.placements: dict[str, list[StaffPlacement]] = defaultdict(list)
        for member in staff:
            for placement in member.placements:
                self.placements[placement.branch.code].append(placement)
        self.quality = {
            branch.code: WEAK_BRANCHES.get(branch.code, rng.uniform(0.8, 0.93))
            for branch in branches
        }
        self.weak_items: dict[tuple[str, str], set[str]] = {}
        # Earlier photos by (shopper, item): where a deliberately reused photo comes from.
        self.earlier_photos: dict[tuple[int, str], list[AuditPhoto]] = defaultdict(list)
        self.reuses: list[tuple[AuditPhoto, AuditPhoto]] = []
        self.released: dict[str, list[tuple[Audit, Checklist]]] = defaultdict(list)
        self.photo_number = 0
        self.store = storage()
        self.pool: ThreadPoolExecutor
        self.pending: list[tuple[AuditPhoto, Future[_StoredPhoto]]] = []
        self.late_or_short = 0
        self.last_month_visits = 0

    def run(self, versions: list[ChecklistVersion]) -> None:
        """Create everything, oldest month first (reused photos must have an original)."""
        first_wave = _month_start(self.current, -11)
        for row in versions:
            # The checklists "existed" before the first wave used them.
            row.imported_at = datetime.combine(
                first_wave - timedelta(days=20), time(10), tzinfo=MSK
            ).astimezone(UTC)
        # Drawing, re-encoding and fsyncing photos is most of the demo's time; Pillow and fsync
        # release the GIL, so worker threads overlap them with building the rows.
        # No autoflush: photo rows are incomplete until their files are stored.
        pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
        with db.session.no_autoflush, pool as self.pool:
            for months_ago in range(11, -1, -1):
                month = _month_start(self.current, -months_ago)
                for row in versions:
                    plan = WAVE_PLANS.get(row.slug, DEFAULT_PLAN)
                    branches = [b for b in self.branches if b.active and b.kind in row.applies_to]
                    if branches and months_ago % plan.every_months == 0:
                        self._wave(row, plan, month, months_ago, branches)
            self._disputes()
            self._finish_photos()
        db.session.flush()
        for photo, original in self.reuses:
            photo.reused_from_photo_id = original.id

    # Waves and assignments ---------------------------------------------------------------

    def _wave(
        self,
        row: ChecklistVersion,
        plan: WavePlan,
        month: date,
        months_ago: int,
        branches: list[Branch],
    ) -> None:
        """One month's wave of a checklist, its assignments and the audits done so far."""
        rng = self.rng
        checklist = checklist_of(row)
        ends_on = _month_start(month, 1) - timedelta(days=1)
        created = self._local(month - timedelta(days=rng.randint(3, 7)), 10, MSK)
        wave = Wave(
            name=f"{localize(checklist.title, 'ru')} — {MONTHS_RU[month.month - 1]} {month.year}",
            checklist_version_id=row.id,
            starts_on=month,
            ends_on=ends_on,
            visits_per_branch=plan.visits,
            day_parts=list(plan.day_parts),
            created_by_id=self.admin.id,
            created_at=created,
            branches=branches,
        )
        db.session.add(wave)
        by_id = {branch.id: branch for branch in branches}
        # Distinct shoppers per branch: the database refuses a shopper twice at a branch.
        visitors = {branch.id: rng.sample(self.shoppers, plan.visits) for branch in branches}
        # Reviewers release a wave's approved audits together, a few days after it closes.
        release_at = self._local(ends_on + timedelta(days=rng.randint(2, 6)), 11, MSK)
        for slot in slots_for(
            [b.id for b in branches], month, ends_on, plan.visits, plan.day_parts, {}
        ):
            branch = by_id[slot.branch_id]
            assignment = Assignment(
                wave=wave,
                branch=branch,
                shopper_id=visitors[branch.id][slot.visit_number - 1].id,
                window_start=slot.window_start,
                window_end=slot.window_end,
                day_part=slot.day_part,
                due_at=due_at(branch, slot.window_end),
                created_at=created,
            )
            db.session.add(assignment)
            status = self._status(months_ago, slot)
            if status is not None:
                flag = self._flag(months_ago, status, row.slug)
                visit = _Visit(assignment, row, checklist, months_ago, status, flag)
                self._audit(visit, branch, slot, release_at)

    def _status(self, months_ago: int, slot: Slot) -> str | None:
        """The audit's status by now, or None when the visit has not started."""
        rng = self.rng
        if months_ago == 0:
            if slot.window_start > self.anchor - timedelta(days=1) or rng.random() < 0.2:
                return None
            return rng.choices(
                ["in_progress", "submitted", "returned", "approved"], [25, 40, 15, 20]
            )[0]
        if months_ago == 1:
            # Every fifth of last month's reports is still in the review queue (each with a
            # red flag, see _flag), so the queue always shows some.
            self.last_month_visits += 1
            if self.last_month_visits % 5 == 2:
                return "submitted"
            return rng.choices(["released", "approved", "rejected"], [68, 26, 6])[0]
        if months_ago == 2:
            return rng.choices(["released", "approved", "rejected"], [82, 12, 6])[0]
        return rng.choices(["released", "approved", "rejected"], [93, 2, 5])[0]

    def _flag(self, months_ago: int, status: str, slug: str) -> str | None:
        """Last month's reports still waiting for review were late or too short: red flags."""
        if months_ago != 1 or status != "submitted":
            return None
        self.late_or_short += 1
        # A night in a hotel is never too short; a late report is the believable problem.
        if slug == "hotel-stay" or self.late_or_short % 2:
            return "late"
        return "too_short"

    # One audit -----------------------------------------------------------------------------

    def _local(self, day: date, hour: int, tz: ZoneInfo, minute: int = 0) -> datetime:
        """A local wall-clock time as UTC."""
        return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)

    def _after(self, previous: datetime, wanted: datetime) -> datetime:
        """``wanted``, but never after the cutoff and always after ``previous``."""
        return max(previous + timedelta(minutes=1), min(wanted, self.cutoff))

    def _uuid(self) -> uuid.UUID:
        """A random UUID from the seeded generator (reproducible, unlike uuid4)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _visit_times(self, visit: _Visit, branch: Branch, slot: Slot) -> None:
        """When the visit started and ended, in the slot's window and day part."""
        rng = self.rng
        last = min(slot.window_end, self.anchor) if visit.months_ago == 0 else slot.window_end
        if visit.flag == "late":
            day = slot.window_end
        else:
            # Leave room to submit before the window closes (a hotel stay ends the next day).
            margin = 2 if visit.row.slug == "hotel-stay" else 1
            latest = max(slot.window_start, last - timedelta(days=margin))
            day = slot.window_start + timedelta(
                days=rng.randint(0, (latest - slot.window_start).days)
            )
        low, high = DAY_PART_HOURS.get(slot.day_part or "", (10, 19))
        tz = ZoneInfo(branch.timezone)
        visit.start = self._local(day, rng.randint(low, high - 1), tz, rng.randint(0, 59))
        if visit.checklist.channel == "call":
            minutes = rng.uniform(3, 10)
        elif visit.row.slug == "hotel-stay":
            minutes = rng.uniform(14 * 60, 18 * 60)  # check-in in the evening, out next morning
        elif visit.row.slug == "restaurant-visit":
            minutes = rng.uniform(30, 60)
        else:
            minutes = rng.uniform(12, 45)
        if visit.flag == "too_short":
            minutes = (
                rng.uniform(1, 1.8) if visit.checklist.channel == "call" else rng.uniform(4, 8)
            )
        visit.end = visit.start + timedelta(minutes=round(minutes, 1))

    def _audit(self, visit: _Visit, branch: Branch, slot: Slot, release_at: datetime) -> None:
        """The audit of one visit with its staff, photos, history, review and release."""
        rng = self.rng
        self._visit_times(visit, branch, slot)
        shopper = next(s for s in self.shoppers if s.id == visit.assignment.shopper_id)
        checklist = visit.checklist
        answers = self._answers(visit, branch, shopper)
        geo = None
        if checklist.channel != "call" and branch.latitude is not None:
            assert branch.longitude is not None
            # GPS fixes a few tens of metres from the branch's pin.
            geo = (
                round(branch.latitude + rng.gauss(0, 0.0006), 6),
                round(branch.longitude + rng.gauss(0, 0.0009), 6),
                round(rng.uniform(5, 40), 1),
            )
        audit = Audit(
            client_uuid=self._uuid(),
            assignment=visit.assignment,
            checklist_version_id=visit.row.id,
            branch_id=branch.id,
            shopper_id=shopper.id,
            status=visit.status,
            channel=checklist.channel,
            visit_started_at=visit.start,
            created_at=visit.start,
            comment=rng.choice(VISIT_COMMENTS) if rng.random() < 0.4 else "",
            geo_lat=geo[0] if geo else None,
            geo_lon=geo[1] if geo else None,
            geo_accuracy_m=geo[2] if geo else None,
        )
        db.session.add(audit)
        if visit.status == "in_progress":
            # Filled in checklist order, interrupted somewhere in the middle; no score yet.
            items = list(checklist.items())
            cut = rng.randint(len(items) // 4, 3 * len(items) // 4)
            audit.answers = {i.id: answers[i.id] for i in items[:cut] if i.id in answers}
            audit.visit_ended_at = visit.end if rng.random() < 0.5 else None
            self._photos(audit, visit, shopper, reuse=False)
            return
        audit.visit_ended_at = visit.end
        audit.answers = answers
        audit.staff_served = self._staff(visit, branch, answers)
        delay = (
            timedelta(hours=rng.uniform(26, 70))
            if visit.flag == "late"
            else timedelta(minutes=rng.uniform(5, 150))
        )
        submitted = self._after(visit.end, visit.end + delay)
        audit.device_submitted_at = submitted - timedelta(seconds=rng.randint(1, 40))
        audit.first_submitted_at = audit.submitted_at = submitted
        audit.submission_hash = hashlib.sha256(
            json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        self._store_score(audit, checklist, answers)
        # Two recent reports in the review queue carry a photo the shopper already sent once.
        reuse = visit.status == "submitted" and visit.months_ago <= 1 and len(self.reuses) < 2
        self._photos(audit, visit, shopper, reuse)
        # A few reports went back to the shopper for a fix before they were accepted.
        fixed_first = visit.status in ("approved", "released", "rejected") and rng.random() < 0.07
        if fixed_first:
            submitted = self._returned_and_fixed(audit, visit, shopper, answers)
        else:
            self._history(audit, shopper, "submitted", submitted, "score", None, audit.score)
        if visit.status == "submitted":
            return
        reviewed = self._after(submitted, submitted + timedelta(hours=rng.uniform(2, 48)))
        audit.reviewed_at, audit.reviewed_by_id = reviewed, self.reviewer.id
        action, new_status = {
            "returned": ("return", "returned"),
            "rejected": ("reject", "rejected"),
        }.get(visit.status, ("approve", "approved"))
        if action == "return":
            clause = rng.choice([i for i in checklist.items() if i.scored]).clause
            audit.review_comment = rng.choice(RETURN_COMMENTS).format(clause=clause)
        elif action == "reject":
            audit.review_comment = rng.choice(REJECT_COMMENTS)
        self._history(
            audit,
            self.reviewer,
            action,
            reviewed,
            "status",
            "submitted",
            new_status,
            audit.review_comment,
        )
        if visit.status != "released":
            return
        released = max(release_at, reviewed + timedelta(hours=2))
        if released > self.cutoff:
            # Not released yet after all: the wave has only just closed.
            audit.status = "approved"
            return
        audit.released_at = released
        self._history(audit, self.reviewer, "released", released, "status", "approved", "released")
        if branch.code in MANAGED_BRANCHES:
            self.released[branch.code].append((audit, checklist))

    def _returned_and_fixed(
        self, audit: Audit, visit: _Visit, shopper: User, answers: dict[str, Any]
    ) -> datetime:
        """History of a report returned once and fixed: one answer differed the first time.

        Returns when the fixed report was submitted again.
        """
        rng = self.rng
        checklist = visit.checklist
        assert audit.first_submitted_at is not None
        item = rng.choice([i for i in checklist.items() if i.scored and answers[i.id] is not None])
        first = dict(answers)
        first[item.id] = _worst(item) if answers[item.id] != _worst(item) else _best(item)
        first_score = score_audit(checklist, first).score
        at = audit.first_submitted_at
        self._history(audit, shopper, "submitted", at, "score", None, first_score)
        returned = self._after(at, at + timedelta(hours=rng.uniform(3, 30)))
        comment = rng.choice(RETURN_COMMENTS).format(clause=item.clause)
        self._history(
            audit, self.reviewer, "return", returned, "status", "submitted", "returned", comment
        )
        again = self._after(returned, returned + timedelta(hours=rng.uniform(2, 20)))
        self._history(
            audit,
            shopper,
            "answer_changed",
            again,
            f"answers.{item.id}",
            first[item.id],
            answers[item.id],
            "Fixed after the reviewer returned the report.",
        )
        self._history(audit, shopper, "resubmitted", again, "score", first_score, audit.score)
        audit.submitted_at = again
        return again

    def _store_score(self, audit: Audit, checklist: Checklist, answers: dict[str, Any]) -> None:
        """Score with the real engine, as the server does on submission."""
        detail = score_audit(checklist, answers).to_dict()
        audit.score = detail["score"]
        audit.earned = detail["earned"]
        audit.possible = detail["possible"]
        audit.score_detail = detail

    def _history(
        self,
        audit: Audit,
        actor: User,
        action: str,
        at: datetime,
        field_name: str | None,
        old: Any,
        new: Any,
        reason: str = "",
    ) -> None:
        """Append one history row (added explicitly, so ids follow the order of events)."""
        db.session.add(
            AuditHistory(
                audit=audit,
                at=at,
                actor_id=actor.id,
                actor_role=actor.role,
                action=action,
                field=field_name,
                old_value=old,
                new_value=new,
                reason=reason,
            )
        )

    # Answers -----------------------------------------------------------------------------

    def _answers(self, visit: _Visit, branch: Branch, shopper: User) -> dict[str, Any]:
        """Complete, realistic answers: mostly good, worse at weak branches and on each
        branch's own weak standards, N/A where the situation did not arise."""
        rng = self.rng
        checklist = visit.checklist
        quality = (
            self.quality[branch.code]
            - 0.004 * visit.months_ago  # the network slowly gets better
            + SHOPPER_BIAS.get(shopper.login, 0.01)
            + rng.gauss(0, 0.05)
        )
        if branch.code == DECLINING_BRANCH:
            quality -= DECLINE_BY_MONTHS_AGO.get(visit.months_ago, 0.0)
        quality = _clip(quality, 0.3, 0.98)
        key = (branch.code, checklist.slug)
        if key not in self.weak_items:
            candidates = [i.id for i in checklist.items() if i.scored and not i.critical]
            self.weak_items[key] = set(rng.sample(candidates, min(3, len(candidates))))
        weak = self.weak_items[key]
        critical_failure = 0.012 if quality > 0.75 else 0.05
        not_applicable = self._not_applicable(checklist)
        answers: dict[str, Any] = {}
        for item in checklist.items():
            if item.type == "text":
                if rng.random() < 0.4:
                    answers[item.id] = rng.choice(VISIT_COMMENTS)
            elif item.id in not_applicable:
                answers[item.id] = None
            elif item.critical:
                answers[item.id] = _worst(item) if rng.random() < critical_failure else _best(item)
            else:
                answers[item.id] = self._value(item, quality - (0.35 if item.id in weak else 0))
        return answers

    def _not_applicable(self, checklist: Checklist) -> set[str]:
        """Items answered N/A: no purchase at a store, no complaint staged, and the like."""
        rng = self.rng
        # Shoppers buy on a minority of store visits; restaurants and hotels are always paid.
        purchased = "store" not in checklist.applies_to or rng.random() < 0.4
        chosen: set[str] = set()
        for section in checklist.sections:
            optional = [i.id for i in section.items if i.scored and i.na]
            scored = [i.id for i in section.items if i.scored]
            if not purchased and section.stage != "pre_purchase":
                chosen.update(optional)
            elif optional and len(optional) == len(scored):
                # A whole optional section (a complaint, breakfast) happens or does not.
                if rng.random() < 0.35:
                    chosen.update(optional)
            else:
                chosen.update(i for i in optional if rng.random() < 0.15)
        return chosen

    def _value(self, item: Item, quality: float) -> Any:
        """One answer of the item's type, good with probability ``quality``."""
        rng = self.rng
        quality = _clip(quality, 0.05, 0.98)
        if item.type == "yes_no":
            return rng.random() < quality
        if item.type == "choice":
            options = sorted(item.options, key=lambda option: -option.score)
            if rng.random() < quality or len(options) == 1:
                return options[0].id
            # A miss is usually the next-best option, rarely the worst.
            return options[1].id if rng.random() < 0.6 else rng.choice(options[1:]).id
        if item.type == "scale":
            assert item.scale_min is not None and item.scale_max is not None
            fraction = _clip(rng.gauss(quality, 0.15))
            return item.scale_min + round(fraction * (item.scale_max - item.scale_min))
        return self._measured(item, quality)

    def _measured(self, item: Item, quality: float) -> int | float:
        """A measured time that falls in a band: the best band with probability ``quality``."""
        rng = self.rng
        bands = item.bands
        index = 0
        if rng.random() >= quality and len(bands) > 1:
            index = min(len(bands) - 1, 1 + (rng.random() < 0.35) + (rng.random() < 0.2))
        upto = bands[index].upto
        below = bands[index - 1].upto if index else None
        if upto is None:
            assert below is not None
            low, high = below, below * 1.8
        else:
            low, high = (below if below is not None else upto * 0.2), upto
        integral = all(b.upto is None or float(b.upto).is_integer() for b in bands)
        if integral:
            # Strictly above the band below, at most this band's limit.
            first = int(low) + (1 if below is not None else 0)
            return rng.randint(max(first, 1), max(first, 1, int(high)))
        return round(rng.uniform(low + 0.1 if below is not None else low, high), 1)

    # Staff served ------------------------------------------------------------------------

    def _staff(self, visit: _Visit, branch: Branch, answers: dict[str, Any]) -> list[AuditStaff]:
        """Who served the shopper in each role the answers touch: a member placed at the
        branch that day, or a description when nobody fits or the name was not seen."""
        rng = self.rng
        day = visit.start.date()
        roles = [
            role
            for role in visit.checklist.staff_roles
            if any(
                item.staff_role == role and answers.get(item.id) is not None
                for item in visit.checklist.items()
            )
        ]
        served = []
        for role in roles:
            positions = ROLE_POSITIONS.get(role, (role,))
            present = [
                p.staff_member
                for p in self.placements[branch.code]
                if p.position in positions
                and p.started_on <= day
                and (p.ended_on is None or p.ended_on >= day)
            ]
            if present and rng.random() < 0.93:
                served.append(AuditStaff(staff_role=role, staff_member=rng.choice(present)))
            else:
                description = ROLE_DESCRIPTIONS.get(role, UNKNOWN_STAFF)
                served.append(AuditStaff(staff_role=role, description=description))
        return served

    # Photos ------------------------------------------------------------------------------

    def _photos(self, audit: Audit, visit: _Visit, shopper: User, reuse: bool) -> None:
        """Evidence for every item whose photo rule asks for it; with ``reuse``, one photo is
        a copy of this shopper's earlier photo of the same item (the QA reuse flag)."""
        for item in visit.checklist.items():
            value = audit.answers.get(item.id)
            if item.id not in audit.answers or value is None or item.photo == "none":
                continue
            if item.photo == "on_fail" and item_fraction(item, value) == 1:
                continue
            earlier = self.earlier_photos.get((shopper.id, item.id))
            if reuse and item.photo == "required" and earlier:
                self._reused_photo(audit, earlier[-1], visit)
                reuse = False
                continue
            photo = self._new_photo(audit, item, visit, shopper)
            self.earlier_photos[(shopper.id, item.id)].append(photo)

    def _photo_times(self, visit: _Visit) -> tuple[datetime, datetime, datetime]:
        """Captured inside the visit, uploaded soon after, processed seconds later."""
        rng = self.rng
        captured = visit.start + (visit.end - visit.start) * rng.uniform(0.05, 0.95)
        uploaded = captured + timedelta(seconds=rng.randint(5, 120))
        return captured, uploaded, uploaded + timedelta(seconds=rng.uniform(1, 8))

    def _new_photo(self, audit: Audit, item: Item, visit: _Visit, shopper: User) -> AuditPhoto:
        """Record a photo whose file is drawn, processed and stored in the background; its
        content fields are filled in by ``_finish_photos``."""
        self.photo_number += 1
        # The picture depends on this seed only, so threads do not disturb determinism.
        seed = self.rng.getrandbits(64)
        job = self.pool.submit(
            _make_and_store_photo,
            self.store,
            seed,
            item.id,
            visit.assignment.branch.name,
            self.photo_number,
        )
        captured, uploaded, processed_at = self._photo_times(visit)
        photo = AuditPhoto(
            client_uuid=self._uuid(),
            audit=audit,
            item_id=item.id,
            purpose="evidence",
            status="ready",
            captured_at=captured,
            gps_lat=audit.geo_lat,
            gps_lon=audit.geo_lon,
            uploaded_by_id=shopper.id,
            uploaded_at=uploaded,
            processed_at=processed_at,
        )
        db.session.add(photo)
        self.pending.append((photo, job))
        return photo

    def _finish_photos(self) -> None:
        """Wait for the stored files and copy what the pipeline found onto the rows."""
        for photo, job in self.pending:
            stored = job.result()
            photo.sha256 = stored.sha256
            photo.format = stored.format
            photo.byte_size = stored.byte_size
            photo.width, photo.height = stored.display_size
            photo.original_key = stored.original_key
            photo.display_key = stored.display_key
            photo.thumb_key = stored.thumb_key
            photo.phash = stored.phash
        for photo, original in self.reuses:
            for name in (
                "sha256",
                "format",
                "byte_size",
                "width",
                "height",
                "original_key",
                "display_key",
                "thumb_key",
                "phash",
            ):
                setattr(photo, name, getattr(original, name))

    def _reused_photo(self, audit: Audit, original: AuditPhoto, visit: _Visit) -> None:
        """The very same file as an earlier audit's photo: same bytes, same capture time (the
        file's fields are copied by ``_finish_photos``, once the original's are known)."""
        _, uploaded, processed_at = self._photo_times(visit)
        photo = AuditPhoto(
            client_uuid=self._uuid(),
            audit=audit,
            item_id=original.item_id,
            purpose="evidence",
            status="ready",
            captured_at=original.captured_at,
            gps_lat=original.gps_lat,
            gps_lon=original.gps_lon,
            reuse_kind="identical",
            uploaded_by_id=original.uploaded_by_id,
            uploaded_at=uploaded,
            processed_at=processed_at,
        )
        db.session.add(photo)
        self.reuses.append((photo, original))

    # Disputes ----------------------------------------------------------------------------

    def _disputes(self) -> None:
        """The managers with demo accounts dispute a few released audits of their branch: the
        newest dispute is still open, older ones were upheld or rejected in turn."""
        rng = self.rng
        for code, login in MANAGED_BRANCHES.items():
            manager = self.users[login]
            # Released in order of creation, which is the order of the waves.
            audits = [pair for pair in self.released[code] if self._disputable(*pair)]
            if not audits:
                continue
            older = sorted(rng.sample(range(len(audits) - 1), min(4, len(audits) - 1)))
            outcomes = [("upheld", "rejected")[n % 2] for n in range(len(older))] + ["open"]
            for index, outcome in zip([*older, len(audits) - 1], outcomes, strict=True):
                audit, checklist = audits[index]
                self._dispute(audit, checklist, manager, outcome)

    def _disputable(self, audit: Audit, checklist: Checklist) -> list[str]:
        """Items a manager would dispute: staff's own standards (not the shopper's impressions
        on a scale) that earned less than full marks."""
        detail = audit.score_detail or {}
        return [
            item_id
            for item_id, result in detail.get("items", {}).items()
            if not result["na"]
            and result["fraction"] < 1
            and checklist.item(item_id).staff_role is not None
            and checklist.item(item_id).type != "scale"
        ]

    def _dispute(self, audit: Audit, checklist: Checklist, manager: User, outcome: str) -> None:
        """One dispute, resolved as ``outcome`` (an upheld one changes the answer and score)."""
        rng = self.rng
        assert audit.released_at is not None
        item = checklist.item(rng.choice(self._disputable(audit, checklist)))
        requested = _best(item)
        reason = rng.choice(DISPUTE_REASONS)
        # Within the dispute window (14 days by default) after the release.
        raised = self._after(
            audit.released_at, audit.released_at + timedelta(days=rng.uniform(1, 5))
        )
        dispute = Dispute(
            audit=audit,
            item_id=item.id,
            status=outcome,
            reason=reason,
            requested_value=requested,
            raised_by_id=manager.id,
            raised_at=raised,
        )
        db.session.add(dispute)
        old_value = audit.answers.get(item.id)
        self._history(
            audit, manager, "disputed", raised, f"answers.{item.id}", old_value, requested, reason
        )
        if outcome == "open":
            return
        resolved = self._after(raised, raised + timedelta(days=rng.uniform(1, 4)))
        dispute.resolved_by_id, dispute.resolved_at = self.reviewer.id, resolved
        if outcome == "rejected":
            dispute.resolution = rng.choice(REJECT_RESOLUTIONS)
            self._history(
                audit,
                self.reviewer,
                "dispute_rejected",
                resolved,
                f"answers.{item.id}",
                old_value,
                old_value,
                dispute.resolution,
            )
            return
        dispute.resolution = rng.choice(UPHOLD_RESOLUTIONS)
        old_score = audit.score
        answers = dict(audit.answers)
        answers[item.id] = requested
        audit.answers = answers
        self._store_score(audit, checklist, answers)
        self._history(
            audit,
            self.reviewer,
            "dispute_upheld",
            resolved,
            f"answers.{item.id}",
            old_value,
            requested,
            dispute.resolution,
        )
        self._history(
            audit,
            self.reviewer,
            "score_changed",
            resolved,
            "score",
            old_score,
            audit.score,
            dispute.resolution,
        )


# --- generated photo evidence -------------------------------------------------------------------

# Small, to keep the photo pipeline at ~15 ms a photo; still a believable phone shot.
PHOTO_SIZE = (640, 480)
# What a photo of an item shows, by words in the item's id (first match wins).
SCENES = (
    ("receipt", ("receipt", "bill", "invoice")),
    ("document", ("warranty", "box_contents")),
    ("shelf", ("price", "planogram", "brand", "pos_", "demo", "display")),
    ("table", ("table", "dish", "food", "menu", "buffet", "room_service")),
    ("room", ("room", "bed", "bathroom", "amenities", "minibar", "equipment", "daily_service")),
)
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class _StoredPhoto:
    """What the photo pipeline made of one generated photo."""

    sha256: str
    format: str
    byte_size: int
    display_size: tuple[int, int]
    original_key: str
    display_key: str
    thumb_key: str
    phash: str


def _make_and_store_photo(
    store: PhotoStorage, seed: int, item_id: str, place: str, number: int
) -> _StoredPhoto:
    """Draw a photo and run it through the real pipeline: inspect, store the original,
    re-encode, store the display copy and thumbnail (runs in a worker thread)."""
    data = demo_photo(random.Random(seed), item_id, place, number)
    info = inspect_upload(data)
    processed = process_photo(data)
    keys = [photo_key(kind, info.sha256, "jpg") for kind in ("originals", "display", "thumbs")]
    for key, content in zip(keys, (data, processed.display, processed.thumbnail), strict=True):
        store.put(key, content)
    return _StoredPhoto(
        sha256=info.sha256,
        format=info.format,
        byte_size=info.byte_size,
        display_size=processed.display_size,
        original_key=keys[0],
        display_key=keys[1],
        thumb_key=keys[2],
        phash=processed.perceptual_hash,
    )


@functools.cache
def _gradient() -> Image.Image:
    """The brightness ramp every photo is lit with (made once: resizing it is not free)."""
    return Image.linear_gradient("L").resize(PHOTO_SIZE)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (it has Cyrillic) when installed, else Pillow's bundled font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> Colour:
    """A random colour with every channel in [low, high]."""
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _price(rng: random.Random) -> str:
    """A price as a Russian price tag writes it: ``12 990 ₽``."""
    return f"{rng.randint(5, 180) * 500 - 10:,} ₽".replace(",", " ")


def demo_photo(rng: random.Random, item_id: str, place: str, number: int) -> bytes:
    """A small JPEG that looks like evidence for the item: a receipt, a shelf, a table...

    Shapes, colours and text vary with ``rng``, so no two photos share a perceptual hash.
    """
    width, height = PHOTO_SIZE
    scene = next(
        (name for name, words in SCENES if any(word in item_id for word in words)), "interior"
    )
    # A lit-from-above gradient: flat colour is what no camera produces.
    image = Image.composite(
        Image.new("RGB", PHOTO_SIZE, _colour(rng, 20, 120)),
        Image.new("RGB", PHOTO_SIZE, _colour(rng, 110, 235)),
        _gradient(),
    )
    draw = ImageDraw.Draw(image)
    painter = {
        "receipt": _paint_receipt,
        "document": _paint_document,
        "shelf": _paint_shelf,
        "table": _paint_table,
        "room": _paint_room,
    }.get(scene, _paint_interior)
    painter(draw, rng, width, height, place, number)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=rng.randint(78, 90))
    return out.getvalue()


def _paint_receipt(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """A till receipt lying on a table."""
    left = rng.randint(180, 300)
    top = rng.randint(20, 60)
    draw.rectangle([left, top, left + 300, h - rng.randint(10, 40)], fill=(246, 244, 236))
    lines = [place[:24], f"Чек №{1000 + number}", "Кассир: " + rng.choice(SURNAMES)]
    total = 0
    for _ in range(rng.randint(2, 6)):
        price = rng.randint(2, 400) * 10
        total += price
        lines.append(f"Позиция {rng.randint(100, 999)}   {price:>6},00")
    lines += ["", f"ИТОГО   {total:>8},00 ₽", "Спасибо за покупку!"]
    for index, line in enumerate(lines):
        draw.text((left + 14, top + 16 + index * 30), line, fill=(40, 40, 40), font=_font(18))


def _paint_document(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """A filled-in warranty card with a stamp."""
    left, top = rng.randint(60, 160), rng.randint(30, 80)
    draw.rectangle([left, top, w - left, h - top], fill=(250, 250, 245), outline=(90, 90, 90))
    draw.text((left + 30, top + 24), "ГАРАНТИЙНЫЙ ТАЛОН", fill=(20, 20, 20), font=_font(24))
    for row in range(rng.randint(3, (h - 2 * top - 110) // 48)):
        y = top + 90 + row * 48
        draw.line([left + 30, y + 30, w - left - 30, y + 30], fill=(150, 150, 150), width=1)
        text = rng.choice(["Модель", "Серийный №", "Дата продажи", "Продавец", "Срок"])
        label = f"{text}: {rng.randint(10000, 99999)}"
        draw.text((left + 30, y), label, fill=(30, 30, 120), font=_font(16))
    cx, cy = w - left - rng.randint(80, 140), h - top - rng.randint(70, 110)
    draw.ellipse([cx - 55, cy - 55, cx + 55, cy + 55], outline=(40, 60, 180), width=4)
    draw.text((cx - 35, cy - 8), f"№{number}", fill=(40, 60, 180), font=_font(16))


def _paint_shelf(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """Shelves of boxed products with price tags and a brand banner."""
    draw.rectangle([0, 0, w, 70], fill=_colour(rng, 0, 120))
    draw.text((30, 18), rng.choice(["Смартфоны", "Ноутбуки", "Аксессуары", "ТВ"]), font=_font(30))
    shelves = rng.randint(3, 4)
    for shelf in range(shelves):
        base = 70 + (shelf + 1) * (h - 80) // shelves
        draw.rectangle([0, base, w, base + 12], fill=(120, 90, 60))
        x = rng.randint(5, 40)
        while x < w - 60:
            box_w, box_h = rng.randint(40, 110), rng.randint(50, (h - 80) // shelves - 30)
            draw.rectangle([x, base - box_h, x + box_w, base], fill=_colour(rng))
            draw.rectangle([x, base + 14, x + 70, base + 34], fill=(255, 230, 60))
            draw.text((x + 3, base + 16), _price(rng), fill=(0, 0, 0), font=_font(13))
            x += box_w + rng.randint(12, 40)


def _paint_table(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """A laid table seen from above: plates with food, a glass, cutlery."""
    draw.rectangle([0, h // 4, w, h], fill=_colour(rng, 90, 170))
    for _ in range(rng.randint(1, 3)):
        cx, cy, r = rng.randint(150, w - 150), rng.randint(h // 2, h - 120), rng.randint(70, 110)
        draw.ellipse([cx - r, cy - r * 0.8, cx + r, cy + r * 0.8], fill=(245, 245, 245))
        fr = r * rng.uniform(0.4, 0.6)
        draw.ellipse([cx - fr, cy - fr * 0.7, cx + fr, cy + fr * 0.7], fill=_colour(rng, 60, 220))
        draw.line([cx + r + 15, cy - 60, cx + r + 15, cy + 60], fill=(200, 200, 210), width=5)
    gx, gy = rng.randint(60, w - 60), rng.randint(h // 4 + 30, h // 2)
    draw.ellipse([gx - 28, gy - 28, gx + 28, gy + 28], outline=(220, 230, 240), width=4)


def _paint_room(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """A hotel room: wall, floor, a window, a made bed and a lamp."""
    floor = rng.randint(h // 2, 2 * h // 3)
    draw.rectangle([0, floor, w, h], fill=_colour(rng, 60, 150))
    wx = rng.randint(40, w - 260)
    draw.rectangle([wx, 60, wx + 200, floor - 120], fill=(170, 205, 235), outline=(240, 240, 240))
    bx = rng.randint(60, w - 420)
    draw.rectangle([bx, floor - 90, bx + 360, floor + 90], fill=(250, 250, 250))
    draw.rectangle([bx, floor - 90, bx + 360, floor - 40], fill=_colour(rng, 100, 220))
    for pillow in range(2):
        px = bx + 20 + pillow * 170
        draw.ellipse([px, floor - 130, px + 150, floor - 80], fill=(255, 255, 255))
    # A bedside table with a lamp, left of the bed.
    nx = bx - 55
    draw.rectangle([nx, floor - 40, nx + 45, floor + 40], fill=_colour(rng, 60, 140))
    draw.line([nx + 22, floor - 40, nx + 22, floor - 80], fill=(60, 60, 60), width=3)
    shade = [
        (nx, floor - 80),
        (nx + 45, floor - 80),
        (nx + 35, floor - 110),
        (nx + 10, floor - 110),
    ]
    draw.polygon(shade, fill=(245, 222, 179))


def _paint_interior(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, place: str, number: int
) -> None:
    """An entrance or a hall: a floor in perspective, a door and a sign."""
    horizon = rng.randint(h // 3, h // 2)
    floor = [(0, h), (w, h), (w * 0.65, horizon), (w * 0.35, horizon)]
    draw.polygon(floor, fill=_colour(rng, 70, 190))
    dx = rng.randint(250, 450)
    draw.rectangle([dx, horizon - 200, dx + 110, horizon], fill=_colour(rng, 30, 120))
    draw.rectangle([dx - 60, 30, dx + 170, 80], fill=(250, 250, 250))
    draw.text((dx - 50, 40), place[:16], fill=(30, 30, 30), font=_font(24))
    for _ in range(rng.randint(3, 8)):
        x, y = rng.randint(0, w - 60), rng.randint(horizon, h - 60)
        draw.rectangle([x, y, x + rng.randint(20, 60), y + rng.randint(20, 60)], fill=_colour(rng))
