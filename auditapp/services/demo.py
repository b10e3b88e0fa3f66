"""A realistic demo network: regions, branches of every kind, staff with Russian names, users.

Deterministic (a fixed seed), so every screen shows the same data on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from auditapp.auth import hash_password
from auditapp.extensions import db
from auditapp.models import Branch, Region, StaffMember, StaffPlacement, User

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
    """Create the demo network and users; returns the credentials to print."""
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
    db.session.commit()
    return logins
