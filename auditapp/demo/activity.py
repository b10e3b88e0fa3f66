"""A year of mystery-shopper activity, played through the real services on a fake clock.

Every event is a call to the service a person would cause through the API: HQ creates a wave and
distributes its visits, a shopper uploads photos, saves a draft and submits, QA returns, rejects
or approves, the wave is released, a branch manager disputes an item and QA resolves it. The
events run in time order with the app's clock set to each event's moment, so every timestamp,
score, history entry and submission hash is the one the real rules make; the demo decides only
what people do and when.

What happens is deterministic (seeded) for a given ``today``. The quality of each branch's
service follows a small model: most branches are steady, a few are clearly weak, a few slipped
badly over the last three months and a few are improving, so ratings have something to show.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from auditapp.clock import FakeClock
from auditapp.demo.photos import demo_photo
from auditapp.demo.vocabulary import (
    DISPUTE_REASONS,
    MONTHS_RU,
    REJECT_COMMENTS,
    REJECT_RESOLUTIONS,
    RETURN_COMMENTS,
    ROLE_DESCRIPTIONS,
    ROLE_POSITIONS,
    UNKNOWN_STAFF,
    UPHOLD_RESOLUTIONS,
    VISIT_COMMENTS,
)
from auditapp.domain.checklist import Checklist, Item, localize
from auditapp.domain.scoring import item_fraction
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, Branch, ChecklistVersion, StaffPlacement, User
from auditapp.services import audits, photos, waves
from auditapp.services.checklists import checklist_of

MSK = ZoneInfo("Europe/Moscow")


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
# Branches whose service is consistently weaker (base quality), so rankings have a tail. The
# others draw theirs from 0.8-0.93.
WEAK_BRANCHES = {"URL-02": 0.52, "NW-06": 0.55, "URL-08": 0.56, "MSK-07": 0.58, "NW-05": 0.68}
# Good branches that have slipped badly over the last three months (a new manager, staff
# turnover): the quality lost, by months ago. Stores and restaurants, visited every month, so
# the drop shows against their trailing six months.
DECLINING_BRANCHES = ("MSK-03", "NW-07", "URL-04")
DECLINE_BY_MONTHS_AGO = {2: 0.26, 1: 0.32, 0: 0.36}
# Branches that started the year weak and have improved every month since.
IMPROVING_BRANCHES = {"MSK-05": 0.66, "NW-02": 0.68}
IMPROVEMENT_PER_MONTH = 0.022
# Branches whose managers have demo accounts: they dispute some released audits.
MANAGED_BRANCHES = {"MSK-01": "manager.msk01", "NW-05": "manager.nw05"}
# Shoppers differ a little in how strictly they judge.
SHOPPER_BIAS = {"shopper1": -0.03, "shopper2": 0.0, "shopper3": 0.02, "shopper4": -0.01}
# Every n-th released audit of a managed branch (with something to dispute) is disputed.
DISPUTE_EVERY = 3


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month ``months`` after (or before, if negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_time(day: date, hour: int, tz: ZoneInfo, minute: int = 0) -> datetime:
    """A local wall-clock time as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _clip(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` limited to [low, high]."""
    return max(low, min(high, value))


def best_answer(item: Item) -> Any:
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


def worst_answer(item: Item) -> Any:
    """The answer that earns nothing."""
    if item.type == "yes_no":
        return False
    if item.type == "choice":
        return min(item.options, key=lambda option: option.score).id
    if item.type == "scale":
        return item.scale_min
    uptos = [band.upto for band in item.bands if band.upto is not None]
    return int(max(uptos) * 1.6) + 1


class Timeline:
    """Events in time order; each runs with the clock set to its moment (never backwards)."""

    def __init__(self, clock: FakeClock) -> None:
        """An empty timeline driving ``clock``."""
        self.clock = clock
        self._events: list[tuple[datetime, int, Callable[[], object]]] = []
        self._order = itertools.count()

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        """Run ``action`` at ``when`` (events at the same moment run in the order given)."""
        heapq.heappush(self._events, (when, next(self._order), action))

    def run(self) -> None:
        """Run every event, including those the events schedule."""
        while self._events:
            when, _, action = heapq.heappop(self._events)
            self.clock.set(max(self.clock.now(), when))
            action()


@dataclass(frozen=True)
class ScheduledWave:
    """A wave decided in advance: its checklist, month, and when HQ creates and releases it."""

    row: ChecklistVersion
    plan: WavePlan
    month: date
    months_ago: int
    created_at: datetime
    # None when the release would fall after the cutoff (the wave has only just closed).
    release_at: datetime | None


@dataclass
class Visit:
    """One assignment's visit: what the shopper will answer and when each step happens."""

    assignment: Assignment
    branch: Branch
    shopper: User
    row: ChecklistVersion
    checklist: Checklist
    months_ago: int
    status: str
    flag: str | None
    audit_uuid: uuid.UUID
    start: datetime = field(init=False)
    end: datetime = field(init=False)
    answers: dict[str, Any] = field(default_factory=dict)
    # The answers of a first submission that QA returned (one of them was wrong), if any.
    first_answers: dict[str, Any] | None = None
    geo: dict[str, float] | None = None
    comment: str = ""
    reuse_photo: bool = False
    audit_id: int | None = None


class Year:
    """Plays a year of waves, visits, reviews, releases and disputes up to ``today``."""

    def __init__(
        self, today: date, rng: random.Random, timeline: Timeline, users: dict[str, User]
    ) -> None:
        """Remember who acts; nothing happens until the timeline runs."""
        self.rng = rng
        self.timeline = timeline
        # No event is later than noon UTC yesterday: whatever the time of day and the time
        # zone, the demo never shows something that has not happened yet.
        self.cutoff = datetime.combine(today, time(0), tzinfo=UTC) - timedelta(hours=12)
        # The newest visits are two days old; their month is the current wave.
        self.anchor = today - timedelta(days=2)
        self.current = month_start(self.anchor)
        self.first_month = month_start(self.current, -11)
        self.users = users
        self.shoppers = [users[f"shopper{number}"] for number in range(1, 6)]
        self.reviewer = users["reviewer"]
        self.admin = users["admin"]
        self.quality: dict[str, float] = {}
        self.weak_items: dict[tuple[str, str], set[str]] = {}
        # The latest photo each shopper took of each item: what a deliberately reused one is.
        self.earlier_photos: dict[tuple[int, str], bytes] = {}
        self.reuses = 0
        self.photo_number = 0
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.last_month_visits = 0
        self.late_or_short = 0
        self.released_count: dict[str, int] = defaultdict(int)
        self.resolved_count: dict[str, int] = defaultdict(int)
        self.last_release: dict[str, datetime] = {}
        self.visits_by_wave: dict[int, list[Visit]] = defaultdict(list)

    # The plan --------------------------------------------------------------------------

    def schedule(self, versions: list[ChecklistVersion], branches: list[Branch]) -> None:
        """Decide every wave of the year and put its creation on the timeline."""
        rng = self.rng
        self.quality = {
            b.code: WEAK_BRANCHES.get(
                b.code, IMPROVING_BRANCHES.get(b.code, rng.uniform(0.8, 0.93))
            )
            for b in branches
        }
        scheduled = []
        for months_ago in range(11, -1, -1):
            month = month_start(self.current, -months_ago)
            for row in versions:
                plan = WAVE_PLANS.get(row.slug, DEFAULT_PLAN)
                kinds = [b for b in branches if b.active and b.kind in row.applies_to]
                if not kinds or months_ago % plan.every_months:
                    continue
                created = local_time(month - timedelta(days=rng.randint(3, 7)), 10, MSK)
                ends_on = month_start(month, 1) - timedelta(days=1)
                # Reviewers release a wave's approved audits together, days after it closes.
                release = local_time(ends_on + timedelta(days=rng.randint(2, 6)), 11, MSK)
                wave = ScheduledWave(
                    row,
                    plan,
                    month,
                    months_ago,
                    created,
                    release if release <= self.cutoff else None,
                )
                scheduled.append(wave)
                if wave.release_at is not None:
                    for branch in kinds:
                        previous = self.last_release.get(branch.code)
                        if previous is None or previous < wave.release_at:
                            self.last_release[branch.code] = wave.release_at
        for wave in scheduled:
            self.timeline.at(wave.created_at, functools.partial(self._create_wave, wave))

    def _create_wave(self, scheduled: ScheduledWave) -> None:
        """HQ creates the wave, distributes its visits, and the visits are planned."""
        row, plan, month = scheduled.row, scheduled.plan, scheduled.month
        checklist = checklist_of(row)
        branches = list(
            db.session.execute(
                select(Branch)
                .where(Branch.active.is_(True), Branch.kind.in_(row.applies_to))
                .order_by(Branch.code)
            ).scalars()
        )
        wave = waves.create_wave(
            self.admin,
            waves.WavePlan(
                name=f"{localize(checklist.title, 'ru')} — "
                f"{MONTHS_RU[month.month - 1]} {month.year}",
                checklist_version_id=row.id,
                starts_on=month,
                ends_on=month_start(month, 1) - timedelta(days=1),
                visits_per_branch=plan.visits,
                day_parts=list(plan.day_parts),
                branch_ids=[b.id for b in branches],
            ),
        )
        assignments, unfilled = waves.auto_distribute(wave.id, [s.id for s in self.shoppers])
        assert not unfilled, unfilled
        if scheduled.release_at is not None:
            wave_id = wave.id
            self.timeline.at(scheduled.release_at, lambda: self._release(wave_id))
        for assignment in assignments:
            self._plan_visit(scheduled, wave.id, assignment, checklist)

    # One visit -------------------------------------------------------------------------

    def _after(self, previous: datetime, wanted: datetime) -> datetime:
        """``wanted``, but never after the cutoff and always after ``previous``."""
        return max(previous + timedelta(minutes=1), min(wanted, self.cutoff))

    def _uuid(self) -> uuid.UUID:
        """A random UUID from the seeded generator (reproducible, unlike uuid4)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _status(self, months_ago: int, assignment: Assignment, disputed_next: bool) -> str | None:
        """The audit's status by now, or None when the visit has not started."""
        rng = self.rng
        if months_ago == 0:
            if assignment.window_start > self.anchor - timedelta(days=1) or rng.random() < 0.2:
                return None
            return rng.choices(
                ["in_progress", "submitted", "returned", "approved"], [25, 40, 15, 20]
            )[0]
        if disputed_next:
            # The managers' newest released audit: the one with the open dispute.
            return "released"
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

    def _plan_visit(
        self, scheduled: ScheduledWave, wave_id: int, assignment: Assignment, checklist: Checklist
    ) -> None:
        """Decide what the shopper will find and answer, and put the visit's steps on the
        timeline."""
        rng = self.rng
        branch = assignment.branch
        newest = (
            branch.code in MANAGED_BRANCHES
            and scheduled.release_at is not None
            and scheduled.release_at == self.last_release.get(branch.code)
        )
        status = self._status(scheduled.months_ago, assignment, newest)
        if status is None:
            return
        shopper = next(s for s in self.shoppers if s.id == assignment.shopper_id)
        visit = Visit(
            assignment=assignment,
            branch=branch,
            shopper=shopper,
            row=scheduled.row,
            checklist=checklist,
            months_ago=scheduled.months_ago,
            status=status,
            flag=self._flag(scheduled.months_ago, status, scheduled.row.slug),
            audit_uuid=self._uuid(),
        )
        self._visit_times(visit)
        visit.answers = self._answers(visit)
        if newest and not self._disputable(checklist, visit.answers):
            # Give the manager something to dispute: one staff standard missed.
            staff_items = [
                i
                for i in checklist.items()
                if i.staff_role and i.scored and i.type != "scale" and not i.critical
            ]
            if staff_items:
                visit.answers[staff_items[0].id] = worst_answer(staff_items[0])
        if checklist.channel != "call" and branch.latitude is not None:
            assert branch.longitude is not None
            # GPS fixes a few tens of metres from the branch's pin.
            visit.geo = {
                "lat": round(branch.latitude + rng.gauss(0, 0.0006), 6),
                "lon": round(branch.longitude + rng.gauss(0, 0.0009), 6),
                "accuracy_m": round(rng.uniform(5, 40), 1),
            }
        visit.comment = rng.choice(VISIT_COMMENTS) if rng.random() < 0.4 else ""
        self.visits_by_wave[wave_id].append(visit)
        if status == "in_progress":
            self._plan_draft(visit)
            return
        # A few reports went back to the shopper for a fix before they were accepted.
        if status in ("approved", "released", "rejected") and rng.random() < 0.07:
            visit.first_answers = self._first_attempt(visit)
        # Two recent reports in the review queue carry a photo the shopper already sent once.
        visit.reuse_photo = status == "submitted" and visit.months_ago <= 1 and self.reuses < 2
        self.reuses += visit.reuse_photo
        self._plan_photos(visit, visit.answers, visit.first_answers or {})
        self._plan_reporting(visit, scheduled)

    def _visit_times(self, visit: Visit) -> None:
        """When the visit started and ended, in the assignment's window and day part."""
        rng = self.rng
        assignment = visit.assignment
        window_start, window_end = assignment.window_start, assignment.window_end
        last = min(window_end, self.anchor) if visit.months_ago == 0 else window_end
        if visit.flag == "late":
            day = window_end
        else:
            # Leave room to submit before the window closes (a hotel stay ends the next day).
            margin = 2 if visit.row.slug == "hotel-stay" else 1
            latest = max(window_start, last - timedelta(days=margin))
            day = window_start + timedelta(days=rng.randint(0, (latest - window_start).days))
        low, high = DAY_PART_HOURS.get(assignment.day_part or "", (10, 19))
        tz = ZoneInfo(visit.branch.timezone)
        visit.start = local_time(day, rng.randint(low, high - 1), tz, rng.randint(0, 59))
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

    def _first_attempt(self, visit: Visit) -> dict[str, Any]:
        """The answers of a first submission QA will return: one answer was wrong."""
        rng = self.rng
        answers = visit.answers
        candidates = [i for i in visit.checklist.items() if i.scored and answers[i.id] is not None]
        item = rng.choice([i for i in candidates if i.photo == "none"] or candidates)
        first = dict(answers)
        first[item.id] = (
            worst_answer(item) if answers[item.id] != worst_answer(item) else best_answer(item)
        )
        return first

    # Steps on the timeline ---------------------------------------------------------------

    def _plan_draft(self, visit: Visit) -> None:
        """A visit under way: filled in checklist order, interrupted somewhere in the middle."""
        rng = self.rng
        items = list(visit.checklist.items())
        cut = rng.randint(len(items) // 4, 3 * len(items) // 4)
        partial = {i.id: visit.answers[i.id] for i in items[:cut] if i.id in visit.answers}
        self._plan_photos(visit, partial, {})
        ended = visit.end if rng.random() < 0.5 else None
        draft = audits.Draft(
            assignment_id=visit.assignment.id,
            answers=partial,
            comment=visit.comment,
            visit_started_at=visit.start,
            visit_ended_at=ended,
        )
        saved = min(visit.end + timedelta(minutes=rng.uniform(1, 20)), self.cutoff)
        self.timeline.at(saved, lambda: audits.save_draft(visit.shopper, visit.audit_uuid, draft))

    def _plan_photos(
        self, visit: Visit, answers: dict[str, Any], first_answers: dict[str, Any]
    ) -> None:
        """Evidence for every item whose photo rule asks for it (under the final answers or
        those of a first submission), taken during the visit and uploaded soon after."""
        rng = self.rng
        reuse = visit.reuse_photo
        tz = ZoneInfo(visit.branch.timezone)
        for item in visit.checklist.items():
            if item.photo == "none" or not any(
                self._needs_photo(item, a) for a in (answers, first_answers)
            ):
                continue
            taken = visit.start + (visit.end - visit.start) * rng.uniform(0.05, 0.95)
            uploaded = min(taken + timedelta(seconds=rng.randint(5, 120)), self.cutoff)
            processing = timedelta(seconds=rng.uniform(1, 8))
            photo_uuid = self._uuid()
            key = (visit.shopper.id, item.id)
            if reuse and item.photo == "required" and key in self.earlier_photos:
                # The very same file as an earlier visit's photo.
                reuse = False
                data: Future[bytes] | bytes = self.earlier_photos[key]
            else:
                self.photo_number += 1
                gps = (visit.geo["lat"], visit.geo["lon"]) if visit.geo else None
                # The picture depends on its seed only, so drawing in a thread keeps it
                # deterministic while the main thread plays earlier events.
                data = self.pool.submit(
                    demo_photo,
                    rng.getrandbits(64),
                    item.id,
                    visit.branch.name,
                    self.photo_number,
                    taken.astimezone(tz),
                    gps,
                )
            upload = functools.partial(self._upload, visit, item.id, photo_uuid, data, processing)
            self.timeline.at(uploaded, upload)

    @staticmethod
    def _needs_photo(item: Item, answers: dict[str, Any]) -> bool:
        """Whether the item's photo rule asks for evidence for this answer."""
        if item.id not in answers or answers[item.id] is None:
            return False
        return item.photo == "required" or (item_fraction(item, answers[item.id]) or 0) < 1

    def _upload(
        self,
        visit: Visit,
        item_id: str,
        photo_uuid: uuid.UUID,
        data: Future[bytes] | bytes,
        processing: timedelta,
    ) -> None:
        """The shopper's phone uploads a photo; the job re-encodes it seconds later."""
        content = data.result() if isinstance(data, Future) else data
        photo, _ = photos.upload_evidence(
            visit.shopper,
            visit.audit_uuid,
            photos.EvidencePhoto(visit.assignment.id, item_id, photo_uuid, content),
        )
        visit.audit_id = photo.audit_id
        self.earlier_photos[(visit.shopper.id, item_id)] = content
        if photo.status == "processing":
            # The job queue runs beside the web server; the demo plays the worker's part
            # (a job that finds the photo processed does nothing).
            self.timeline.clock.advance(processing)
            photos.process(photo.id)

    def _plan_reporting(self, visit: Visit, scheduled: ScheduledWave) -> None:
        """Submission, QA's returns and decision, on the timeline."""
        rng = self.rng
        delay = (
            timedelta(hours=rng.uniform(26, 70))
            if visit.flag == "late"
            else timedelta(minutes=rng.uniform(5, 150))
        )
        submitted = self._after(visit.end, visit.end + delay)
        first = visit.first_answers
        self._at_submit(visit, submitted, first or visit.answers)
        if first is not None:
            returned = self._after(submitted, submitted + timedelta(hours=rng.uniform(3, 30)))
            changed = next(k for k in first if first[k] != visit.answers[k])
            clause = visit.checklist.item(changed).clause
            comment = rng.choice(RETURN_COMMENTS).format(clause=clause)
            self._at_review(visit, returned, "return", comment)
            submitted = self._after(returned, returned + timedelta(hours=rng.uniform(2, 20)))
            self._at_submit(visit, submitted, visit.answers)
        if visit.status == "submitted":
            return
        reviewed = self._after(submitted, submitted + timedelta(hours=rng.uniform(2, 48)))
        if visit.status == "approved" and scheduled.release_at is not None:
            # Approved after the wave was released: it waits for the next release.
            late = scheduled.release_at + timedelta(hours=rng.uniform(20, 120))
            reviewed = self._after(max(reviewed, scheduled.release_at), late)
        action = {"returned": "return", "rejected": "reject"}.get(visit.status, "approve")
        comment = ""
        if action == "return":
            clause = rng.choice([i for i in visit.checklist.items() if i.scored]).clause
            comment = rng.choice(RETURN_COMMENTS).format(clause=clause)
        elif action == "reject":
            comment = rng.choice(REJECT_COMMENTS)
        self._at_review(visit, reviewed, action, comment)

    def _at_submit(self, visit: Visit, when: datetime, answers: dict[str, Any]) -> None:
        """The phone sends the complete report at ``when`` (its own clock a little behind)."""
        device_lag = timedelta(seconds=self.rng.randint(1, 40))

        def submit() -> None:
            submission = audits.Submission(
                assignment_id=visit.assignment.id,
                answers=dict(answers),
                comment=visit.comment,
                visit_started_at=visit.start,
                visit_ended_at=visit.end,
                device_submitted_at=when - device_lag,
                geo=audits.Geo(**visit.geo) if visit.geo else None,
                staff=self._staff(visit, answers),
            )
            audit, _ = audits.submit(visit.shopper, visit.audit_uuid, submission)
            visit.audit_id = audit.id

        self.timeline.at(when, submit)

    def _at_review(self, visit: Visit, when: datetime, action: str, comment: str) -> None:
        """QA approves, returns or rejects the report at ``when``."""

        def review() -> None:
            assert visit.audit_id is not None
            # QA acts on the version it has just read, as the API requires.
            version = audits.get_audit(self.reviewer, visit.audit_id).version
            audits.review(self.reviewer, visit.audit_id, action, audits.Decision(version, comment))

        self.timeline.at(when, review)

    # Staff served ------------------------------------------------------------------------

    def _staff(self, visit: Visit, answers: dict[str, Any]) -> list[audits.StaffServed]:
        """Who served the shopper in each role the answers touch: a member placed at the
        branch that day, or a description when nobody fits or the name was not seen."""
        rng = self.rng
        day = visit.start.astimezone(ZoneInfo(visit.branch.timezone)).date()
        placed = db.session.execute(
            select(StaffPlacement.staff_member_id, StaffPlacement.position)
            .where(
                StaffPlacement.branch_id == visit.branch.id,
                StaffPlacement.started_on <= day,
                (StaffPlacement.ended_on.is_(None)) | (StaffPlacement.ended_on >= day),
            )
            .order_by(StaffPlacement.staff_member_id)
        ).all()
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
            present = [member for member, position in placed if position in positions]
            if present and rng.random() < 0.93:
                served.append(audits.StaffServed(role, staff_member_id=rng.choice(present)))
            else:
                description = ROLE_DESCRIPTIONS.get(role, UNKNOWN_STAFF)
                served.append(audits.StaffServed(role, description=description))
        return served

    # Release and disputes ------------------------------------------------------------------

    def _release(self, wave_id: int) -> None:
        """QA releases the wave's approved audits; the managers with demo accounts dispute
        some of their branch's: the newest dispute is still open, older ones were resolved."""
        audits.release_wave(self.reviewer, wave_id)
        released_at = self.timeline.clock.now()
        for visit in self.visits_by_wave.pop(wave_id, []):
            code = visit.branch.code
            if code not in MANAGED_BRANCHES or visit.audit_id is None:
                continue
            audit = db.session.get_one(Audit, visit.audit_id)
            if audit.status != "released" or not self._disputable(visit.checklist, audit.answers):
                continue
            newest = released_at == self.last_release.get(code)
            self.released_count[code] += 1
            if newest or self.released_count[code] % DISPUTE_EVERY == 1:
                self._dispute(visit, audit, released_at, newest)

    def _disputable(self, checklist: Checklist, answers: dict[str, Any]) -> list[str]:
        """Items a manager would dispute: staff's own standards (not the shopper's impressions
        on a scale) that earned less than full marks."""
        return [
            item.id
            for item in checklist.items()
            if item.scored
            and item.staff_role is not None
            and item.type != "scale"
            and answers.get(item.id) is not None
            and (item_fraction(item, answers[item.id]) or 0) < 1
        ]

    def _dispute(self, visit: Visit, audit: Audit, released_at: datetime, stays_open: bool) -> None:
        """The manager disputes one item within days of the release; QA resolves it days
        later (an upheld dispute changes the answer and the score), unless it is the newest."""
        rng = self.rng
        code = visit.branch.code
        manager = self.users[MANAGED_BRANCHES[code]]
        item = visit.checklist.item(rng.choice(self._disputable(visit.checklist, audit.answers)))
        fields = {
            "item_id": item.id,
            "reason": rng.choice(DISPUTE_REASONS),
            "requested_value": best_answer(item),
        }
        raised = self._after(released_at, released_at + timedelta(days=rng.uniform(1, 5)))
        audit_id = audit.id
        if stays_open:
            self.timeline.at(raised, lambda: self._raise(manager, audit_id, fields, None))
            return
        uphold = self.resolved_count[code] % 2 == 0
        self.resolved_count[code] += 1
        resolution = rng.choice(UPHOLD_RESOLUTIONS if uphold else REJECT_RESOLUTIONS)
        resolved = self._after(raised, raised + timedelta(days=rng.uniform(1, 4)))
        self.timeline.at(
            raised, lambda: self._raise(manager, audit_id, fields, (resolved, uphold, resolution))
        )

    def _raise(
        self,
        manager: User,
        audit_id: int,
        fields: dict[str, Any],
        resolution: tuple[datetime, bool, str] | None,
    ) -> None:
        """The manager raises the dispute; its resolution, if any, goes on the timeline."""
        version = audits.get_audit(manager, audit_id).version
        claim = audits.Claim(
            item_id=fields["item_id"],
            reason=fields["reason"],
            version=version,
            requested_value=fields["requested_value"],
            value_requested=True,
        )
        dispute = audits.raise_dispute(manager, audit_id, claim)
        if resolution is None:
            return
        when, uphold, reason = resolution
        dispute_id = dispute.id

        def resolve() -> None:
            seen = audits.get_audit(self.reviewer, audit_id).version
            audits.resolve_dispute(self.reviewer, dispute_id, audits.Ruling(uphold, reason, seen))

        self.timeline.at(when, resolve)

    # Answers -----------------------------------------------------------------------------

    def branch_quality(self, code: str, months_ago: int) -> float:
        """How well a branch serves, ``months_ago`` months back (before shopper and visit
        noise): the network slowly gets better, some branches decline or improve faster."""
        quality = self.quality[code] - 0.004 * months_ago
        if code in DECLINING_BRANCHES:
            quality -= DECLINE_BY_MONTHS_AGO.get(months_ago, 0.0)
        if code in IMPROVING_BRANCHES:
            quality += IMPROVEMENT_PER_MONTH * (11 - months_ago)
        return quality

    def _answers(self, visit: Visit) -> dict[str, Any]:
        """Complete, realistic answers: mostly good, worse at weak branches and on each
        branch's own weak standards, N/A where the situation did not arise."""
        rng = self.rng
        checklist = visit.checklist
        code = visit.branch.code
        quality = (
            self.branch_quality(code, visit.months_ago)
            + SHOPPER_BIAS.get(visit.shopper.login, 0.01)
            + rng.gauss(0, 0.035)
        )
        quality = _clip(quality, 0.3, 0.98)
        key = (code, checklist.slug)
        if key not in self.weak_items:
            candidates = [i.id for i in checklist.items() if i.scored and not i.critical]
            self.weak_items[key] = set(rng.sample(candidates, min(3, len(candidates))))
        weak = self.weak_items[key]
        # A critical failure zeroes a score: rare where service is good, so a good branch's
        # trend is not one unlucky visit.
        critical_failure = 0.004 if quality > 0.75 else 0.04
        not_applicable = self._not_applicable(checklist)
        answers: dict[str, Any] = {}
        for item in checklist.items():
            if item.type == "text":
                if rng.random() < 0.4:
                    answers[item.id] = rng.choice(VISIT_COMMENTS)
            elif item.id in not_applicable:
                answers[item.id] = None
            elif item.critical:
                failed = rng.random() < critical_failure
                answers[item.id] = worst_answer(item) if failed else best_answer(item)
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
