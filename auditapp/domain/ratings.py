"""Ratings arithmetic: branch statistics, region and network roll-ups, honest rankings, trends.

Everything here works on *moments* ``(n, sum, sum of squares)`` of audit scores (0-100), so a
rating for any period is the merge (plain addition) of the monthly roll-ups the service keeps.
No flask, no SQL: the service reads the roll-ups and calls these functions.

Definitions (the documentation in docs/ratings.md quotes them):

* branch rating: mean of its audit scores, sample standard deviation (n - 1), a 95% Student-t
  confidence interval ``mean +- t(0.975, n - 1) * sd / sqrt(n)`` (none for n < 2), and
  ``too_few_visits`` when n is below a configurable minimum (default 3);
* region / network rating: the mean of their branches' means (each branch counts once), with
  the spread across branches (min, max, sample sd, gap = max - min);
* competition ranking (1, 2, 2, 4) on the mean, highest first;
* rank range: best = 1 + the number of branches whose interval lies wholly above, worst = the
  number whose interval does not lie wholly below (itself included); no interval -> 1..N;
* significance: the interval lies wholly above (below) the network mean;
* shrunk estimate ``(n * mean + k * m) / (n + k)``, k = within-branch variance / between-branch
  variance, the latter floored at `BETWEEN_VARIANCE_FLOOR`;
* decline alert: the latest month's mean is more than `threshold` points below the mean of the
  audits of the trailing `window` months before it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar, cast

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_VISITS = 3
DEFAULT_TREND_WINDOW = 6
DEFAULT_DECLINE_POINTS = 10.0
# Variance (points squared) below which the spread of branch means is taken as "no detectable
# difference between branches": k becomes very large and every branch shrinks to the network
# mean. 1e-6 points^2 is a thousandth of a point of standard deviation, far below what a
# checklist can resolve, yet keeps k finite.
BETWEEN_VARIANCE_FLOOR = 1e-6
# Means equal to 9 decimals are ties: roll-ups merged in another order may differ in the last
# bits of a float, and a rank must not depend on summation order.
TIE_DECIMALS = 9

# t(0.975, df) for df = 1..30 (standard tables; checked in the tests against a numerical
# integration of the t density).
_T975 = (
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
)
_Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (two-sided 95%).

    A table up to 30, then the Cornish-Fisher expansion around the normal quantile, whose
    error beyond 30 degrees of freedom is below 1e-6.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z, v = _Z975, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of scores: enough for mean, sd and CI, and mergeable."""

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    def __init__(self, n: int = 0, total: float = 0.0, total_sq: float = 0.0) -> None:
        # The generated frozen __init__ sets each field through object.__setattr__: twice
        # the cost, and a reading of the network builds 5,000 of these per period.
        fields = self.__dict__
        fields["n"] = n
        fields["total"] = total
        fields["total_sq"] = total_sq

    @staticmethod
    def of(scores: Iterable[float]) -> Moments:
        """The moments of a list of scores."""
        n, total, total_sq = 0, 0.0, 0.0
        for score in scores:
            n += 1
            total += score
            total_sq += score * score
        return Moments(n, total, total_sq)

    def __add__(self, other: Moments) -> Moments:
        """Merge two disjoint sets of scores."""
        return Moments(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)


def merge(parts: Iterable[Moments]) -> Moments:
    """The moments of the union of disjoint sets."""
    # Summed field by field in the same order as ``+`` would: the same floats, without a
    # Moments object per part.
    n, total, total_sq = 0, 0.0, 0.0
    for part in parts:
        n += part.n
        total += part.total
        total_sq += part.total_sq
    return Moments(n, total, total_sq)


@dataclass(frozen=True)
class Stats:
    """A rating: mean, n, sd, 95% interval (None when n < 2) and the too-few-visits flag."""

    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    too_few_visits: bool

    @property
    def variance(self) -> float | None:
        """Sample variance (None when n < 2)."""
        return None if self.sd is None else self.sd * self.sd


def stats(moments: Moments, min_visits: int = DEFAULT_MIN_VISITS) -> Stats:
    """Mean, sample sd and the Student-t 95% interval of a set of scores given by moments."""
    n = moments.n
    if n == 0:
        return Stats(0, None, None, None, None, too_few_visits=True)
    mean, sd, low, high = _summary(moments)
    return Stats(n, mean, sd, low, high, too_few_visits=n < min_visits)


def _summary(moments: Moments) -> tuple[float, float | None, float | None, float | None]:
    """Mean, sd, interval low and high of moments with n > 0: what ``stats`` reports, without
    building a ``Stats`` (a ranking of thousands reads these for every entry)."""
    n = moments.n
    mean = moments.total / n
    if n < 2:
        return mean, None, None, None
    # max(): rounding can make the centred sum of squares a hair negative for equal scores.
    variance = max(0.0, (moments.total_sq - moments.total * mean) / (n - 1))
    sd = math.sqrt(variance)
    half = t_quantile_975(n - 1) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def _sd(moments: Moments) -> float | None:
    """The sample sd of ``_summary`` alone (n > 0), without the interval's t quantile."""
    n = moments.n
    if n < 2:
        return None
    mean = moments.total / n
    return math.sqrt(max(0.0, (moments.total_sq - moments.total * mean) / (n - 1)))


@dataclass(frozen=True)
class Spread:
    """A region's or the network's rating: the mean of branch means and their spread."""

    branches: int
    mean: float | None
    min: float | None
    max: float | None
    sd: float | None
    gap: float | None


def spread(means: Iterable[float]) -> Spread:
    """Mean of the branch means (each branch once), min, max, sample sd, best-worst gap."""
    values = list(means)
    if not values:
        return Spread(0, None, None, None, None, None)
    n = len(values)
    mean = math.fsum(values) / n
    sd = (
        math.sqrt(max(0.0, math.fsum((v - mean) ** 2 for v in values) / (n - 1))) if n > 1 else None
    )
    low, high = min(values), max(values)
    return Spread(n, mean, low, high, sd, high - low)


def competition_ranks(means: Mapping[K, float]) -> dict[K, int]:
    """Competition ranking, highest mean first: ties share a rank and leave a gap (1, 2, 2, 4)."""
    rounded = {key: round(value, TIE_DECIMALS) for key, value in means.items()}
    ordered = sorted(rounded.values(), reverse=True)
    first: dict[float, int] = {}
    for index, value in enumerate(ordered):
        first.setdefault(value, index + 1)
    return {key: first[value] for key, value in rounded.items()}


def rank_ranges(
    intervals: Mapping[K, tuple[float, float] | None],
) -> dict[K, tuple[int, int]]:
    """The ranks each entry could plausibly hold, from the 95% intervals.

    best = 1 + the number of others whose interval lies wholly above its interval; worst = the
    number of entries whose interval does not lie wholly below it, itself included. An entry
    without an interval spans every rank (1..N), and counts as "not wholly below" for others.
    """
    total = len(intervals)
    lows = sorted(iv[0] for iv in intervals.values() if iv is not None)
    highs = sorted(iv[1] for iv in intervals.values() if iv is not None)
    result: dict[K, tuple[int, int]] = {}
    for key, interval in intervals.items():
        if interval is None:
            result[key] = (1, total)
            continue
        low, high = interval
        # Wholly above: other.low > high (never itself, since its low <= its high).
        above = len(lows) - bisect.bisect_right(lows, high)
        # Wholly below: other.high < low (never itself).
        below = bisect.bisect_left(highs, low)
        result[key] = (1 + above, total - below)
    return result


def significance(stat: Stats, network_mean: float | None) -> str | None:
    """ "above" / "below" when the interval excludes the network mean, else None."""
    if network_mean is None or stat.ci_low is None or stat.ci_high is None:
        return None
    if stat.ci_low > network_mean:
        return "above"
    if stat.ci_high < network_mean:
        return "below"
    return None


@dataclass(frozen=True)
class Shrinkage:
    """The shrinkage target m (network mean of audit scores) and strength k."""

    m: float | None
    k: float
    within_variance: float | None
    between_variance: float | None


def shrinkage(per_branch: Mapping[K, Moments]) -> Shrinkage:
    """m = the mean of all audit scores; k = mean within-branch variance / between variance.

    The within variance is the mean of the sample variances of branches with n >= 2. The
    between variance is the sample variance of the branch means minus the mean of their
    sampling variances (within variance / n_i), floored at `BETWEEN_VARIANCE_FLOOR`. With no
    branch of two visits, or fewer than two branches, nothing can be estimated: k = 0 (the
    shrunk estimate is the plain mean).
    """
    # One pass over the branches, with the arithmetic of `merge`, `_sd` and the mean inline
    # (the same floats): a ranking of the network calls this over 5,000 branches.
    counts: list[int] = []
    means: list[float] = []
    variances: list[float] = []
    all_n, all_total = 0, 0.0
    for mom in per_branch.values():
        n = mom.n
        if n <= 0:
            continue
        total_ = mom.total
        all_n += n
        all_total += total_
        mean = total_ / n
        counts.append(n)
        means.append(mean)
        if n >= 2:
            sd = math.sqrt(max(0.0, (mom.total_sq - total_ * mean) / (n - 1)))
            variances.append(sd * sd)
    m = all_total / all_n if all_n else None
    if not variances or len(means) < 2:
        return Shrinkage(m, 0.0, math.fsum(variances) / len(variances) if variances else None, None)
    within = math.fsum(variances) / len(variances)
    centre = math.fsum(means) / len(means)
    var_means = math.fsum((x - centre) ** 2 for x in means) / (len(means) - 1)
    sampling = math.fsum(within / n for n in counts) / len(counts)
    between = max(var_means - sampling, BETWEEN_VARIANCE_FLOOR)
    return Shrinkage(m, within / between, within, between)


def shrunk_mean(moments: Moments, shrink: Shrinkage) -> float | None:
    """``(n * mean + k * m) / (n + k)``: few visits pull towards the network mean."""
    if moments.n == 0:
        return None
    if shrink.m is None or shrink.k == 0:
        return moments.total / moments.n
    return (moments.total + shrink.k * shrink.m) / (moments.n + shrink.k)


@dataclass(frozen=True)
class Ranked(Generic[K]):
    """One entry of a ranking: rating, rank, rank range, significance, shrunk estimate."""

    key: K
    stats: Stats
    rank: int
    rank_best: int
    rank_worst: int
    significance: str | None
    shrunk_mean: float | None
    shrunk_rank: int


def rank(
    per_entry: Mapping[K, Moments],
    network_mean: float | None,
    shrink: Shrinkage,
    min_visits: int = DEFAULT_MIN_VISITS,
) -> list[Ranked[K]]:
    """Rank entries with at least one audit by mean; ordered by rank, then key order given.

    ``network_mean`` is what significance is judged against (the network rating);
    ``shrink`` gives the shrunk estimates and their own competition ranks.
    """
    rated = {key: mom for key, mom in per_entry.items() if mom.n > 0}
    entry_stats = {key: stats(mom, min_visits) for key, mom in rated.items()}
    means = {key: s.mean for key, s in entry_stats.items() if s.mean is not None}
    ranks = competition_ranks(means)
    ranges = rank_ranges(
        {
            key: (s.ci_low, s.ci_high) if s.ci_low is not None and s.ci_high is not None else None
            for key, s in entry_stats.items()
        }
    )
    shrunk = {key: shrunk_mean(mom, shrink) for key, mom in rated.items()}
    shrunk_ranks = competition_ranks({k: v for k, v in shrunk.items() if v is not None})
    order = list(rated)
    position = {key: index for index, key in enumerate(order)}
    order.sort(key=lambda key: (ranks[key], position[key]))
    return [
        Ranked(
            key=key,
            stats=entry_stats[key],
            rank=ranks[key],
            rank_best=ranges[key][0],
            rank_worst=ranges[key][1],
            significance=significance(entry_stats[key], network_mean),
            shrunk_mean=shrunk[key],
            shrunk_rank=shrunk_ranks[key],
        )
        for key in order
    ]


class Ranks(Generic[K]):
    """``competition_ranks(means)`` answered one key at a time: the rounded values sorted
    once, each rank found by bisection (1 + the number of higher values), so that a page of a
    ranking of thousands builds no rank for the entries it does not show."""

    def __init__(self, means: Mapping[K, float]) -> None:
        self._rounded = {key: round(value, TIE_DECIMALS) for key, value in means.items()}
        self._sorted = sorted(self._rounded.values())

    def __len__(self) -> int:
        return len(self._sorted)

    def get(self, key: K) -> int | None:
        """``key``'s competition rank (None when it has no value)."""
        value = self._rounded.get(key)
        if value is None:
            return None
        return 1 + len(self._sorted) - bisect.bisect_right(self._sorted, value)


class League(Generic[K]):
    """``rank(per_entry, network_mean, shrink, min_visits)`` for a caller that shows a page of
    it: the order of every entry (by rank, then the order given) and each entry's `Ranked` on
    demand, with the same numbers. Only the means and intervals of all entries are computed
    up front, as plain floats; ranks, rank ranges and shrunk ranks are counted by bisection
    for the entries asked for (at 5,000 branches, building every entry was most of a
    ranking's time).
    """

    def __init__(
        self,
        per_entry: Mapping[K, Moments],
        network_mean: float | None,
        shrink: Shrinkage,
        min_visits: int = DEFAULT_MIN_VISITS,
    ) -> None:
        self._moments = {key: mom for key, mom in per_entry.items() if mom.n > 0}
        self._network_mean = network_mean
        self._shrink = shrink
        self._min_visits = min_visits
        keys = list(self._moments)
        rounded: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        shrunk: list[float] = []
        quantiles: dict[int, float] = {}
        k, m = shrink.k, shrink.m
        plain = m is None or k == 0
        for mom in self._moments.values():
            n, total = mom.n, mom.total
            mean = total / n
            rounded.append(round(mean, TIE_DECIMALS))
            shrunk.append(
                round(mean if plain else (total + k * cast(float, m)) / (n + k), TIE_DECIMALS)
            )
            if n >= 2:
                # As `_summary`, term for term (the same floats).
                variance = (mom.total_sq - total * mean) / (n - 1)
                sd = math.sqrt(variance if variance > 0.0 else 0.0)
                t = quantiles.get(n)
                if t is None:
                    t = quantiles[n] = t_quantile_975(n - 1)
                half = t * sd / math.sqrt(n)
                lows.append(mean - half)
                highs.append(mean + half)
        # Stable: entries of equal rank keep the order given.
        self.order: list[K] = [
            keys[i] for i in sorted(range(len(keys)), key=rounded.__getitem__, reverse=True)
        ]
        self._means = sorted(rounded)
        self._shrunk = sorted(shrunk)
        self._lows = sorted(lows)
        self._highs = sorted(highs)

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, key: object) -> bool:
        return key in self._moments

    @property
    def shrink(self) -> Shrinkage:
        """The shrinkage the shrunk estimates use."""
        return self._shrink

    def entry(self, key: K) -> Ranked[K]:
        """``key``'s entry of the ranking (KeyError when it has no audit)."""
        mom = self._moments[key]
        entry_stats = stats(mom, self._min_visits)
        mean = cast(float, entry_stats.mean)
        total = len(self.order)
        own_shrunk = cast(float, shrunk_mean(mom, self._shrink))
        if entry_stats.ci_low is None or entry_stats.ci_high is None:
            best, worst = 1, total
        else:
            above = len(self._lows) - bisect.bisect_right(self._lows, entry_stats.ci_high)
            below = bisect.bisect_left(self._highs, entry_stats.ci_low)
            best, worst = 1 + above, total - below
        return Ranked(
            key=key,
            stats=entry_stats,
            rank=1 + total - bisect.bisect_right(self._means, round(mean, TIE_DECIMALS)),
            rank_best=best,
            rank_worst=worst,
            significance=significance(entry_stats, self._network_mean),
            shrunk_mean=own_shrunk,
            shrunk_rank=1
            + total
            - bisect.bisect_right(self._shrunk, round(own_shrunk, TIE_DECIMALS)),
        )


def competition_rank(key: K, means: Mapping[K, float]) -> int | None:
    """``key``'s rank in ``competition_ranks(means)`` without ranking the others (None if absent):
    1 + the number of entries with a higher mean at the tie precision."""
    if key not in means:
        return None
    own = round(means[key], TIE_DECIMALS)
    return 1 + sum(1 for value in means.values() if round(value, TIE_DECIMALS) > own)


def place(
    key: K,
    per_entry: Mapping[K, Moments],
    network_mean: float | None,
    shrink: Shrinkage,
    min_visits: int = DEFAULT_MIN_VISITS,
) -> Ranked[K] | None:
    """``key``'s entry of ``rank(per_entry, ...)``, in one pass over the others and no sort.

    The same numbers as the full ranking (rank, rank range, significance, shrunk rank) for one
    entry, for a caller that needs one branch's place among thousands; None when ``key`` has
    no audit.
    """
    own = per_entry.get(key)
    if own is None or own.n == 0:
        return None
    own_stats = stats(own, min_visits)
    own_shrunk = shrunk_mean(own, shrink)
    if own_stats.mean is None or own_shrunk is None:  # pragma: no cover - n > 0 gives both
        return None
    mean = round(own_stats.mean, TIE_DECIMALS)
    shrunk = round(own_shrunk, TIE_DECIMALS)
    interval = (
        (own_stats.ci_low, own_stats.ci_high)
        if own_stats.ci_low is not None and own_stats.ci_high is not None
        else None
    )
    total = higher = higher_shrunk = above = below = 0
    # The arithmetic of `_summary` and `shrunk_mean`, inline (the same floats): this loop runs
    # over every branch of the network for one branch's dashboard.
    k, m = shrink.k, shrink.m
    plain = m is None or k == 0
    quantiles: dict[int, float] = {}
    for moments in per_entry.values():
        n = moments.n
        if n == 0:
            continue
        total += 1
        other_total = moments.total
        other_mean = other_total / n
        if round(other_mean, TIE_DECIMALS) > mean:
            higher += 1
        other_shrunk = other_mean if plain else (other_total + k * cast(float, m)) / (n + k)
        if round(other_shrunk, TIE_DECIMALS) > shrunk:
            higher_shrunk += 1
        if interval is not None and n >= 2:
            variance = (moments.total_sq - other_total * other_mean) / (n - 1)
            t = quantiles.get(n)
            if t is None:
                t = quantiles[n] = t_quantile_975(n - 1)
            half = t * math.sqrt(variance if variance > 0.0 else 0.0) / math.sqrt(n)
            if other_mean - half > interval[1]:
                above += 1
            if other_mean + half < interval[0]:
                below += 1
    best, worst = (1, total) if interval is None else (1 + above, total - below)
    return Ranked(
        key=key,
        stats=own_stats,
        rank=1 + higher,
        rank_best=best,
        rank_worst=worst,
        significance=significance(own_stats, network_mean),
        shrunk_mean=own_shrunk,
        shrunk_rank=1 + higher_shrunk,
    )


@dataclass(frozen=True)
class Change:
    """Change against the previous period: positive rank change = moved up."""

    previous_rank: int | None
    rank_change: int | None
    previous_mean: float | None
    mean_change: float | None


def change(
    rank_now: int | None,
    mean_now: float | None,
    rank_before: int | None,
    mean_before: float | None,
) -> Change:
    """Rank and rating change; None where either period has no rating."""
    return Change(
        previous_rank=rank_before,
        rank_change=None if rank_now is None or rank_before is None else rank_before - rank_now,
        previous_mean=mean_before,
        mean_change=None if mean_now is None or mean_before is None else mean_now - mean_before,
    )


# Periods -----------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The first day of the month of ``day``."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after (before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Months from `first` to `last` (first days of months, inclusive), whole by default.

    A range of days sets `from_day` and `to_day` too (`day_period`): `first` and `last` are
    then the months the days fall in, and the edge months may be covered only in part.
    """

    first: date
    last: date
    from_day: date | None = None
    to_day: date | None = None

    def __post_init__(self) -> None:
        """Months only, in order; days, when given, inside those months and in order."""
        if self.first.day != 1 or self.last.day != 1:
            raise ValueError("a period is made of whole months")
        if self.last < self.first:
            raise ValueError("a period ends before it starts")
        if (self.from_day is None) != (self.to_day is None):
            raise ValueError("a range of days needs both its first and its last day")
        if self.from_day is not None and self.to_day is not None:
            if month_start(self.from_day) != self.first or month_start(self.to_day) != self.last:
                raise ValueError("the days of a period lie in its first and last months")
            if self.to_day < self.from_day:
                raise ValueError("a period ends before it starts")

    @property
    def months(self) -> list[date]:
        """The first day of every month the period touches (in whole or in part)."""
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [add_months(self.first, i) for i in range(count + 1)]

    @property
    def starts_on(self) -> date:
        """The first calendar day of the period."""
        return self.from_day or self.first

    @property
    def ends_on(self) -> date:
        """The last calendar day of the period."""
        return self.to_day or add_months(self.last, 1) - timedelta(days=1)

    @property
    def whole_months(self) -> bool:
        """Whether the period is made of whole months (no edge month in part)."""
        return self.starts_on.day == 1 and self.ends_on == _month_end(self.last)

    @property
    def full_months(self) -> list[date]:
        """The months the period covers entirely, in order (contiguous; maybe none)."""
        return [m for m in self.months if self.starts_on <= m and _month_end(m) <= self.ends_on]

    @property
    def partial_days(self) -> list[tuple[date, date]]:
        """The (first, last) days of each month covered only in part, in order."""
        spans = []
        for month in self.months:
            start, end = max(month, self.starts_on), min(_month_end(month), self.ends_on)
            if (start, end) != (month, _month_end(month)):
                spans.append((start, end))
        return spans

    @property
    def days(self) -> int:
        """The number of calendar days in the period."""
        return (self.ends_on - self.starts_on).days + 1

    def previous(self) -> Period:
        """The period of the same length just before: the previous month, quarter, year or
        range of months of the same number of months; for a range of days, the same number
        of days ending the day before."""
        if self.whole_months:
            length = len(self.months)
            return Period(add_months(self.first, -length), add_months(self.first, -1))
        end = self.starts_on - timedelta(days=1)
        return day_period(end - timedelta(days=self.days - 1), end)


def _month_end(month: date) -> date:
    return add_months(month_start(month), 1) - timedelta(days=1)


def day_period(first_day: date, last_day: date) -> Period:
    """The days ``first_day`` to ``last_day`` inclusive; a span of whole months is the plain
    period of those months (so it compares and reads like one)."""
    if last_day < first_day:
        raise ValueError("a period ends before it starts")
    first, last = month_start(first_day), month_start(last_day)
    if first_day == first and last_day == _month_end(last):
        return Period(first, last)
    return Period(first, last, first_day, last_day)


def month_period(month: date) -> Period:
    """One calendar month."""
    start = month_start(month)
    return Period(start, start)


def quarter_period(year: int, quarter: int) -> Period:
    """Quarter 1-4 of a year."""
    if not 1 <= quarter <= 4:
        raise ValueError("a quarter is 1 to 4")
    first = date(year, 3 * quarter - 2, 1)
    return Period(first, add_months(first, 2))


def year_period(year: int) -> Period:
    """A calendar year."""
    return Period(date(year, 1, 1), date(year, 12, 1))


# Trends and decline ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One month of a series: its rating (mean None when no audit)."""

    month: date
    n: int
    mean: float | None


def trend(months: Sequence[date], per_month: Mapping[date, Moments]) -> list[TrendPoint]:
    """A monthly series over ``months`` (every month present, empty ones with n = 0)."""
    points = []
    for month in months:
        mom = per_month.get(month, Moments())
        points.append(TrendPoint(month, mom.n, mom.total / mom.n if mom.n else None))
    return points


@dataclass(frozen=True)
class Decline:
    """A decline alert: the latest month against the trailing average before it."""

    month: date
    latest_mean: float
    latest_n: int
    trailing_mean: float
    trailing_n: int
    drop: float


def decline(
    latest: date,
    per_month: Mapping[date, Moments],
    window: int = DEFAULT_TREND_WINDOW,
    threshold: float = DEFAULT_DECLINE_POINTS,
) -> Decline | None:
    """An alert when the latest month's mean is more than ``threshold`` points below the mean
    of all audits of the ``window`` months before it; None without audits in either."""
    now = per_month.get(latest, Moments())
    before = merge(per_month.get(add_months(latest, -i), Moments()) for i in range(1, window + 1))
    if now.n == 0 or before.n == 0:
        return None
    latest_mean, trailing_mean = now.total / now.n, before.total / before.n
    drop = trailing_mean - latest_mean
    if drop <= threshold:
        return None
    return Decline(latest, latest_mean, now.n, trailing_mean, before.n, drop)


# Standards and comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class PassCount:
    """Points earned and possible on a standard (item), and how many audits applied it."""

    n: int = 0
    earned: float = 0.0
    possible: float = 0.0

    def __add__(self, other: PassCount) -> PassCount:
        """Merge two disjoint sets of answers."""
        return PassCount(
            self.n + other.n, self.earned + other.earned, self.possible + other.possible
        )

    @property
    def pass_rate(self) -> float | None:
        """earned / possible (None when never applicable)."""
        return None if self.possible == 0 else self.earned / self.possible


@dataclass(frozen=True)
class WeakStandard(Generic[K]):
    """A standard and its pass rate."""

    key: K
    n: int
    earned: float
    possible: float
    pass_rate: float


def weakest(counts: Mapping[K, PassCount], limit: int = 10) -> list[WeakStandard[K]]:
    """The standards with the lowest pass rate (N/A-only ones left out), lowest first; ties by
    more audits first, then key order given."""
    rows = [
        (c.pass_rate, -c.n, index, key, c)
        for index, (key, c) in enumerate(counts.items())
        if c.pass_rate is not None
    ]
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return [
        WeakStandard(key, c.n, c.earned, c.possible, rate) for rate, _, _, key, c in rows[:limit]
    ]


@dataclass(frozen=True)
class Divergence(Generic[K]):
    """How differently branches meet a standard: best and worst branch pass rates."""

    key: K
    branches: int
    best_branch: Hashable
    best_rate: float
    worst_branch: Hashable
    worst_rate: float
    gap: float


def divergent(
    counts: Mapping[K, Mapping[Hashable, PassCount]], limit: int = 10
) -> list[Divergence[K]]:
    """The standards whose pass rate differs most between branches (at least two branches
    where it applied), widest gap first."""
    rows: list[Divergence[K]] = []
    for key, per_branch in counts.items():
        rates = [
            (rate, branch) for branch, c in per_branch.items() if (rate := c.pass_rate) is not None
        ]
        if len(rates) < 2:
            continue
        worst = min(rates, key=lambda r: r[0])
        best = max(rates, key=lambda r: r[0])
        rows.append(
            Divergence(key, len(rates), best[1], best[0], worst[1], worst[0], best[0] - worst[0])
        )
    rows.sort(key=lambda row: -row.gap)
    return rows[:limit]


def matrix(
    cells: Mapping[tuple[K, Hashable], Moments],
) -> dict[K, dict[Hashable, Stats]]:
    """Rows x columns of ratings (e.g. branches x sections) from their moments."""
    result: dict[K, dict[Hashable, Stats]] = {}
    for (row, column), mom in cells.items():
        if mom.n:
            result.setdefault(row, {})[column] = stats(mom)
    return result
