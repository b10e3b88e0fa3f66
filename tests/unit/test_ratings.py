"""Ratings arithmetic on hand-computed fixtures (each expected value is worked out in a comment)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from auditapp.domain import ratings as r
from auditapp.domain.ratings import Moments, PassCount


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) by Simpson integration of the t density: independent of the module's table."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def pdf(x: float) -> float:
        return c * (1 + x * x / df) ** (-(df + 1) / 2)

    steps = 20000
    h = t / steps
    total = pdf(0) + pdf(t) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, steps))
    return 0.5 + total * h / 3


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 29, 30, 31, 40, 60, 120, 1000])
def test_t_quantile_is_the_975_point(df: int) -> None:
    assert _t_cdf(r.t_quantile_975(df), df) == pytest.approx(0.975, abs=1e-5)


def test_t_quantile_known_values() -> None:
    # Printed tables: t(0.975; 1) = 12.706, t(0.975; 10) = 2.228, t(0.975; 120) = 1.980.
    assert r.t_quantile_975(1) == pytest.approx(12.706, abs=1e-3)
    assert r.t_quantile_975(10) == pytest.approx(2.228, abs=1e-3)
    assert r.t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    with pytest.raises(ValueError):
        r.t_quantile_975(0)


def test_stats_of_three_visits() -> None:
    # 80, 90, 100: mean 90; squared deviations 100 + 0 + 100 = 200, / 2 -> sd 10;
    # half width 4.3027 * 10 / sqrt(3) = 24.841.
    s = r.stats(Moments.of([80.0, 90.0, 100.0]))
    assert (s.n, s.mean, s.sd, s.too_few_visits) == (3, 90.0, pytest.approx(10.0), False)
    assert s.ci_low == pytest.approx(90 - 24.841, abs=1e-3)
    assert s.ci_high == pytest.approx(90 + 24.841, abs=1e-3)


def test_one_visit_has_no_interval_and_too_few_visits() -> None:
    s = r.stats(Moments.of([75.0]))
    assert (s.n, s.mean, s.sd, s.ci_low, s.ci_high, s.too_few_visits) == (
        1,
        75.0,
        None,
        None,
        None,
        True,
    )


def test_empty_period_has_no_rating() -> None:
    s = r.stats(Moments())
    assert (s.n, s.mean, s.sd, s.ci_low) == (0, None, None, None)


def test_minimum_visits_is_configurable() -> None:
    assert r.stats(Moments.of([1.0, 2.0]), min_visits=2).too_few_visits is False
    assert r.stats(Moments.of([1.0, 2.0])).too_few_visits is True  # default 3


def test_equal_scores_have_zero_sd_not_a_math_error() -> None:
    # From (n, sum, sum of squares) the centred sum cancels to ~1e-12, never below zero.
    s = r.stats(Moments.of([87.3] * 7))
    assert s.sd is not None and 0.0 <= s.sd < 1e-4
    assert s.ci_low == pytest.approx(87.3, abs=1e-3) and s.ci_high == pytest.approx(87.3, abs=1e-3)


def test_spread_of_branch_means() -> None:
    # Means 70, 80, 90: mean 80, sd sqrt((100 + 0 + 100) / 2) = 10, gap 20.
    s = r.spread([70.0, 90.0, 80.0])
    assert (s.branches, s.mean, s.min, s.max, s.gap) == (3, 80.0, 70.0, 90.0, 20.0)
    assert s.sd == pytest.approx(10.0)
    assert r.spread([55.0]).sd is None
    assert r.spread([]).mean is None


def test_competition_ranking_with_ties() -> None:
    assert r.competition_ranks({"a": 90.0, "b": 80.0, "c": 80.0, "d": 70.0}) == {
        "a": 1,
        "b": 2,
        "c": 2,
        "d": 4,
    }


def test_one_branch_place_with_ties_and_intervals() -> None:
    # a: 80, 90 -> mean 85, interval 85 +- 12.706 * 7.071 / 1.414 = [21.47, 148.53]
    # b: 85 -> mean 85 (tie with a), no interval; c: 84, 85, 86 -> mean 85 (tie), interval
    # 85 +- 4.303 * 1 / 1.732 = [82.52, 87.48]; d: 60, 62, 64 -> 62, [57.03, 66.97];
    # e: 40, 42, 44 -> 42, [37.03, 46.97]; f: no audit (not ranked).
    moments = {
        "a": Moments.of([80.0, 90.0]),
        "b": Moments.of([85.0]),
        "c": Moments.of([84.0, 85.0, 86.0]),
        "d": Moments.of([60.0, 62.0, 64.0]),
        "e": Moments.of([40.0, 42.0, 44.0]),
        "f": Moments(),
    }
    shrink = r.shrinkage(moments)
    full = {e.key: e for e in r.rank(moments, 70.0, shrink)}
    places = {key: r.place(key, moments, 70.0, shrink) for key in moments}
    assert places == {**full, "f": None}
    # By hand: three tie at 1, then 4 and 5 (competition ranking).
    assert {k: (p.rank if p else None) for k, p in places.items()} == {
        "a": 1, "b": 1, "c": 1, "d": 4, "e": 5, "f": None,
    }  # fmt: skip
    # c: d and e lie wholly below -> 1..3; d: c above, e below -> 2..4; e: c, d above -> 3..5;
    # a's wide interval overlaps every other; b has none -> 1..5.
    ranges = {k: (p.rank_best, p.rank_worst) for k, p in places.items() if p}
    assert ranges == {"a": (1, 5), "b": (1, 5), "c": (1, 3), "d": (2, 4), "e": (3, 5)}
    assert [places[k].significance for k in "cde"] == ["above", "below", "below"]  # type: ignore[union-attr]
    assert r.competition_rank("d", {"a": 85.0, "b": 85.0, "d": 62.0}) == 3
    assert r.competition_rank("z", {"a": 85.0}) is None


def test_float_noise_is_still_a_tie() -> None:
    assert r.competition_ranks({"a": 0.1 + 0.2, "b": 0.3}) == {"a": 1, "b": 1}


def test_rank_ranges_from_intervals() -> None:
    # a [85, 95], b [70, 90], c [50, 60], d none; 4 entries.
    # a: nothing lies wholly above (lows 70, 50 are not > 95) -> best 1; c (high 60 < 85)
    #    lies wholly below -> worst 4 - 1 = 3.
    # b: no low above 90 -> best 1; c below 70 -> worst 3.
    # c: a (85 > 60) and b (70 > 60) above -> best 3; nothing below 50 -> worst 4.
    # d: no interval -> 1..4.
    ranges = r.rank_ranges({"a": (85.0, 95.0), "b": (70.0, 90.0), "c": (50.0, 60.0), "d": None})
    assert ranges == {"a": (1, 3), "b": (1, 3), "c": (3, 4), "d": (1, 4)}


def test_touching_intervals_are_not_wholly_above() -> None:
    assert r.rank_ranges({"a": (80.0, 90.0), "b": (70.0, 80.0)}) == {"a": (1, 2), "b": (1, 2)}


def test_significance_against_the_network_mean() -> None:
    high = r.stats(Moments.of([90.0, 92.0, 94.0]))  # about 92 +- 5
    assert r.significance(high, 80.0) == "above"
    assert r.significance(high, 99.0) == "below"
    assert r.significance(high, 92.0) is None
    assert r.significance(r.stats(Moments.of([90.0])), 10.0) is None  # no interval


def _three_branches() -> dict[str, Moments]:
    return {
        "A": Moments.of([80.0, 90.0]),
        "B": Moments.of([60.0, 70.0]),
        "C": Moments.of([100.0]),
    }


def test_shrinkage_by_hand() -> None:
    # Within: A and B each have variance 50 -> 50. Means 85, 65, 100: centre 83.333, variance
    # (1.667^2 + 18.333^2 + 16.667^2) / 2 = 308.333. Sampling variances 50/2, 50/2, 50/1:
    # mean 33.333. Between = 275, k = 50 / 275 = 0.18182. m = 400 / 5 = 80.
    shrink = r.shrinkage(_three_branches())
    assert shrink.m == pytest.approx(80.0)
    assert shrink.within_variance == pytest.approx(50.0)
    assert shrink.between_variance == pytest.approx(275.0)
    assert shrink.k == pytest.approx(0.181818, abs=1e-6)
    # C: (100 + 0.18182 * 80) / 1.18182 = 96.923; A: (170 + 14.545) / 2.18182 = 84.583.
    assert r.shrunk_mean(Moments.of([100.0]), shrink) == pytest.approx(96.923, abs=1e-3)
    assert r.shrunk_mean(Moments.of([80.0, 90.0]), shrink) == pytest.approx(84.583, abs=1e-3)


def test_shrinkage_floor_pulls_everyone_to_the_network_mean() -> None:
    # Equal means (80, 80): the between variance 0 - 100 is floored at 1e-6; k = 200 / 1e-6.
    shrink = r.shrinkage({"A": Moments.of([70.0, 90.0]), "B": Moments.of([90.0, 70.0])})
    assert shrink.between_variance == r.BETWEEN_VARIANCE_FLOOR
    assert shrink.k == pytest.approx(200.0 / 1e-6)
    assert r.shrunk_mean(Moments.of([100.0]), shrink) == pytest.approx(80.0, abs=1e-4)


def test_no_within_variance_means_no_shrinkage() -> None:
    shrink = r.shrinkage({"A": Moments.of([70.0]), "B": Moments.of([90.0])})
    assert shrink.k == 0.0
    assert r.shrunk_mean(Moments.of([90.0]), shrink) == 90.0


def test_one_lucky_visit_does_not_top_the_shrunk_league() -> None:
    ranked = r.rank(_three_branches(), 83.333, r.shrinkage(_three_branches()))
    by_key = {entry.key: entry for entry in ranked}
    assert [entry.key for entry in ranked] == ["C", "A", "B"]  # plain mean: C 100 first
    assert by_key["C"].rank == 1 and by_key["C"].rank_best == 1
    assert by_key["C"].rank_worst == 3  # no interval: spans every rank
    assert by_key["C"].stats.too_few_visits
    assert by_key["C"].shrunk_rank == 1  # 96.9 is still above 84.6 here ...
    heavy = {"A": Moments.of([88.0, 92.0] * 10), "C": Moments.of([100.0])}
    # ... but against a well-measured 90 with within variance 4.2 and between variance ~ 50,
    # k is small; take many more branches to make the pull visible:
    heavy.update({f"x{i}": Moments.of([50.0 + i, 54.0 + i] * 5) for i in range(10)})
    shrink = r.shrinkage(heavy)
    entries = {e.key: e for e in r.rank(heavy, None, shrink)}
    assert entries["C"].rank == 1
    assert entries["C"].shrunk_mean is not None and entries["C"].shrunk_mean < 100.0


def test_change_against_the_previous_period() -> None:
    c = r.change(2, 85.0, 5, 80.0)
    assert (c.previous_rank, c.rank_change, c.previous_mean, c.mean_change) == (5, 3, 80.0, 5.0)
    assert r.change(1, 90.0, None, None).rank_change is None


def test_periods_and_their_predecessors() -> None:
    q1 = r.quarter_period(2026, 1)
    assert q1.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert q1.ends_on == date(2026, 3, 31)
    assert q1.previous() == r.Period(date(2025, 10, 1), date(2025, 12, 1))
    assert r.month_period(date(2026, 1, 17)).previous() == r.month_period(date(2025, 12, 1))
    assert r.year_period(2025).previous() == r.year_period(2024)
    assert r.add_months(date(2026, 1, 1), -13) == date(2024, 12, 1)
    with pytest.raises(ValueError):
        r.Period(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(ValueError):
        r.quarter_period(2026, 5)


def test_ranges_of_days() -> None:
    # 15 February .. 10 April 2026: February and April in part, March whole; 55 days.
    span = r.day_period(date(2026, 2, 15), date(2026, 4, 10))
    assert (span.first, span.last) == (date(2026, 2, 1), date(2026, 4, 1))
    assert (span.starts_on, span.ends_on, span.days) == (date(2026, 2, 15), date(2026, 4, 10), 55)
    assert not span.whole_months
    assert span.full_months == [date(2026, 3, 1)]
    assert span.partial_days == [
        (date(2026, 2, 15), date(2026, 2, 28)),
        (date(2026, 4, 1), date(2026, 4, 10)),
    ]
    # The previous period: the 55 days ending on 14 February: 14 + 31 (January) + 10 of
    # December, from the 22nd.
    before = span.previous()
    assert (before.starts_on, before.ends_on) == (date(2025, 12, 22), date(2026, 2, 14))
    assert before.full_months == [date(2026, 1, 1)]
    # Days inside one month: no month whole.
    inner = r.day_period(date(2026, 3, 5), date(2026, 3, 9))
    assert inner.full_months == [] and inner.partial_days == [(date(2026, 3, 5), date(2026, 3, 9))]
    assert inner.previous() == r.day_period(date(2026, 2, 28), date(2026, 3, 4))
    # Whole months given as days are the plain period of those months.
    assert r.day_period(date(2026, 1, 1), date(2026, 3, 31)) == r.quarter_period(2026, 1)
    assert r.quarter_period(2026, 1).partial_days == []
    with pytest.raises(ValueError):
        r.day_period(date(2026, 3, 9), date(2026, 3, 5))
    with pytest.raises(ValueError):
        r.Period(date(2026, 3, 1), date(2026, 3, 1), date(2026, 4, 2), date(2026, 4, 3))


def test_trend_fills_empty_months() -> None:
    months = [date(2026, m, 1) for m in (1, 2, 3)]
    points = r.trend(months, {date(2026, 1, 1): Moments.of([80.0, 90.0])})
    assert [(p.month.month, p.n, p.mean) for p in points] == [
        (1, 2, 85.0),
        (2, 0, None),
        (3, 0, None),
    ]


def _history(latest: float) -> dict[date, Moments]:
    # January-June: two audits each at 78 and 82 (mean 80); July: one audit at `latest`.
    months = {date(2026, m, 1): Moments.of([78.0, 82.0]) for m in range(1, 7)}
    months[date(2026, 7, 1)] = Moments.of([latest])
    return months


def test_decline_alert() -> None:
    alert = r.decline(date(2026, 7, 1), _history(65.0))
    assert alert is not None
    assert (alert.latest_mean, alert.trailing_mean, alert.trailing_n, alert.drop) == (
        65.0,
        80.0,
        12,
        15.0,
    )
    assert r.decline(date(2026, 7, 1), _history(70.0)) is None  # exactly 10 is not "more than"
    assert r.decline(date(2026, 7, 1), _history(71.0)) is None
    assert r.decline(date(2026, 7, 1), _history(71.0), threshold=5.0) is not None
    assert r.decline(date(2026, 8, 1), _history(10.0)) is None  # no audit in August


def test_decline_window_is_configurable() -> None:
    history = _history(65.0)
    history[date(2026, 6, 1)] = Moments.of([60.0])  # the one month before is already low
    assert r.decline(date(2026, 7, 1), history, window=1) is None  # 60 -> 65 is a rise
    assert r.decline(date(2026, 7, 1), history, window=6) is not None


def test_weakest_standards_skip_na_only_items() -> None:
    counts = {
        "2.1": PassCount(4, 6.0, 8.0),  # 0.75
        "3.4": PassCount(4, 1.0, 4.0),  # 0.25
        "3.3": PassCount(0, 0.0, 0.0),  # N/A everywhere: no pass rate
        "4.1": PassCount(2, 1.0, 2.0),  # 0.5
    }
    weak = r.weakest(counts, limit=2)
    assert [(w.key, w.pass_rate, w.n) for w in weak] == [("3.4", 0.25, 4), ("4.1", 0.5, 2)]


def test_divergent_standards() -> None:
    counts = {
        "2.1": {"N1": PassCount(2, 2.0, 2.0), "N2": PassCount(2, 0.0, 2.0)},  # gap 1.0
        "3.2": {"N1": PassCount(2, 1.5, 2.0), "N2": PassCount(2, 1.0, 2.0)},  # gap 0.25
        "4.1": {"N1": PassCount(1, 1.0, 1.0), "N2": PassCount(1, 0.0, 0.0)},  # one branch only
    }
    rows = r.divergent(counts)
    assert [(d.key, d.best_branch, d.worst_branch, d.gap) for d in rows] == [
        ("2.1", "N1", "N2", 1.0),
        ("3.2", "N1", "N2", 0.25),
    ]


def test_matrix() -> None:
    cells = {
        ("N1", "arrival"): Moments.of([50.0, 100.0]),
        ("N1", "order"): Moments.of([80.0]),
        ("N2", "order"): Moments(),
    }
    table = r.matrix(cells)
    assert table["N1"]["arrival"].mean == 75.0
    assert table["N1"]["order"].n == 1
    assert "N2" not in table
