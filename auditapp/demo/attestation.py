"""The demo's staff attestation: two rule set versions, a closed and an open period, internal
scores, sheets in every state (live, pending, acknowledged, objected, answered) and awards.

Everything goes through ``auditapp.services.attestation`` on the demo's clock, after the year of
audits, so the sheets are computed from the demo's real released audits and placements.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import or_, select

from auditapp.demo.network import DemoLogin, users_by_login
from auditapp.domain.ratings import add_months
from auditapp.extensions import db
from auditapp.models import Branch, StaffMember, StaffPlacement
from auditapp.services import attestation, users

RULES = {
    "weights": {"individual": 50, "collective": 30, "internal": 20},
    "min_external_share": 60,
    "min_audits": 3,
}
# The second version asks for fewer audits: the open period uses it, the closed one keeps v1.
RULES_V2 = {**RULES, "min_audits": 2}
INTERNAL_REASONS = (
    "Тест на знание ассортимента",
    "Аттестационное собеседование",
    "Проверка знания стандарта обслуживания",
)


def _month_end(first: date, months: int) -> date:
    return add_months(first, months) - timedelta(days=1)


def _staff_at(branch_code: str, starts_on: date, ends_on: date) -> list[StaffMember]:
    """Staff placed at the branch during the dates, by employee code."""
    return list(
        db.session.execute(
            select(StaffMember)
            .join(StaffPlacement, StaffPlacement.staff_member_id == StaffMember.id)
            .join(Branch, Branch.id == StaffPlacement.branch_id)
            .where(
                Branch.code == branch_code,
                StaffPlacement.started_on <= ends_on,
                or_(StaffPlacement.ended_on.is_(None), StaffPlacement.ended_on >= starts_on),
            )
            .order_by(StaffMember.employee_code)
            .distinct()
        ).scalars()
    )


def load_attestation(first_month: date, today: date, rng: random.Random) -> list[DemoLogin]:
    """Rule sets, periods, internal scores, responses and awards; returns the logins of the
    extra employee accounts made so that every sheet state has an owner who acted on it."""
    accounts = users_by_login()
    admin, manager = accounts["admin"], accounts["manager.msk01"]
    first = attestation.create_rule_set_version(
        admin, attestation.RuleSetCommand("staff", "Аттестация персонала", RULES)
    )
    second = attestation.create_rule_set_version(
        admin, attestation.RuleSetCommand("staff", "Аттестация персонала (мин. 2 визита)", RULES_V2)
    )
    closed = attestation.create_period(
        admin,
        attestation.PeriodCommand(
            "Первое полугодие",
            first.id,
            starts_on=first_month,
            ends_on=_month_end(first_month, 6),
        ),
    )
    current = attestation.create_period(
        admin,
        attestation.PeriodCommand(
            "Второе полугодие",
            second.id,
            starts_on=add_months(first_month, 6),
            ends_on=_month_end(today.replace(day=1), 1),
        ),
    )
    for period in (closed, current):
        staff = _staff_at("MSK-01", period.starts_on, period.ends_on)
        # Most get an internal score; a few do not (their sheets say "not entered").
        for member in staff[: max(1, len(staff) - 2)]:
            attestation.enter_internal_score(
                manager,
                period.id,
                member.id,
                attestation.InternalScoreEntry(
                    float(rng.randrange(60, 101)), rng.choice(INTERNAL_REASONS)
                ),
            )
    attestation.close_period(admin, closed.id, closed.version)

    # Employee accounts: the demo's employee acknowledges; three colleagues object (one is
    # answered), or leave the sheet pending.
    employee = accounts["employee"]
    colleagues = [
        m
        for m in _staff_at("MSK-01", closed.starts_on, closed.ends_on)
        if m.id != employee.staff_member_id
    ][:3]
    logins = []
    made = []
    for index, member in enumerate(colleagues, start=2):
        login, password = f"employee{index}", f"employee{index}-demo-2026"
        made.append(
            users.create_user(
                users.NewUser(
                    login=login,
                    display_name=member.full_name,
                    role="employee",
                    password=password,
                    email=None,
                    locale="ru",
                    active=True,
                    region_ids=[],
                    branch_ids=[],
                    staff_member_id=member.id,
                )
            )
        )
        logins.append(DemoLogin(login, password, "employee", member.employee_code))
    if employee.staff_member_id is not None:
        attestation.respond(
            employee, closed.id, employee.staff_member_id, "acknowledged", "Ознакомлен(а)"
        )
    comments = (
        "В марте меня не было в смене, визит засчитан мне по ошибке.",
        "Прошу учесть пройденное обучение по стандарту.",
    )
    for user, comment in zip(made[:2], comments, strict=False):
        assert user.staff_member_id is not None
        attestation.respond(user, closed.id, user.staff_member_id, "objected", comment)
    answered = attestation.list_objections(
        manager, attestation.ObjectionFilters(per_page=10, unanswered=True)
    )["items"]
    if answered:
        objection = answered[0]
        attestation.answer_objection(
            manager,
            objection["id"],
            attestation.ObjectionAnswer(
                "Проверили график смен: визит пришёлся на вашу смену, оценка остаётся.",
                objection["version"],
            ),
        )

    boards = attestation.leaderboards(admin, closed.id, 3)
    for entry in boards["top_branches"][:1]:
        attestation.create_award(
            admin,
            closed.id,
            attestation.AwardCommand(
                "branch", "Лучший филиал полугодия", branch_id=entry["branch"]["id"]
            ),
        )
    for winner in boards["top_employees"][:2]:
        attestation.create_award(
            admin,
            closed.id,
            attestation.AwardCommand(
                "employee",
                "Лучший сотрудник полугодия",
                staff_member_id=winner["staff_member"]["id"],
            ),
        )
    return logins
