"""Properties of the ratings arithmetic that must hold for any data."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.domain import ratings as r
from auditapp.domain.ratings import Moments

scores = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)
score_lists = st.lists(scores, min_size=0, max_size=30)
branches = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), score_lists, max_size=12)
# Speed is the bench's business (deadline=None below): on a loaded machine a 200 ms deadline
# only makes flakes.


@settings(deadline=None)
@given(score_lists, st.lists(st.integers(min_value=0, max_value=30), max_size=5))
def test_merged_rollups_equal_direct_computation(values: list[float], cuts: list[int]) -> None:
    """Splitting audits into months and merging the roll-ups gives the direct statistics."""
    bounds = sorted({0, len(values), *[min(c, len(values)) for c in cuts]})
    parts = [Moments.of(values[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    merged, direct = r.stats(r.merge(parts)), r.stats(Moments.of(values))
    assert merged.n == direct.n
    for a, b in (
        (merged.mean, direct.mean),
        (merged.sd, direct.sd),
        (merged.ci_low, direct.ci_low),
        (merged.ci_high, direct.ci_high),
    ):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a == pytest.approx(b, abs=1e-6)


@settings(deadline=None)
@given(branches)
def test_rank_range_contains_the_rank(data: dict[str, list[float]]) -> None:
    moments = {key: Moments.of(values) for key, values in data.items()}
    ranked = r.rank(moments, 70.0, r.shrinkage(moments))
    rated = sum(1 for m in moments.values() if m.n)
    assert len(ranked) == rated
    for entry in ranked:
        assert 1 <= entry.rank_best <= entry.rank <= entry.rank_worst <= rated


@given(branches, st.randoms(use_true_random=False))
@settings(max_examples=50, deadline=None)
def test_ranking_does_not_depend_on_input_order(
    data: dict[str, list[float]], rnd: random.Random
) -> None:
    moments = {key: Moments.of(values) for key, values in data.items()}
    keys = list(moments)
    rnd.shuffle(keys)
    shuffled = {key: moments[key] for key in keys}

    def table(source: dict[str, Moments]) -> dict[str, tuple[object, ...]]:
        shrink = r.shrinkage(source)
        return {
            e.key: (e.rank, e.rank_best, e.rank_worst, e.significance, e.shrunk_rank)
            for e in r.rank(source, 60.0, shrink)
        }

    assert table(moments) == table(shuffled)


@settings(deadline=None)
@given(st.lists(scores, min_size=1, max_size=40))
def test_spread_bounds(means: list[float]) -> None:
    s = r.spread(means)
    assert s.min is not None and s.max is not None and s.mean is not None and s.gap is not None
    assert s.min - 1e-9 <= s.mean <= s.max + 1e-9
    assert s.gap >= 0


@settings(deadline=None)
@given(branches)
def test_shrunk_estimate_lies_between_mean_and_network_mean(data: dict[str, list[float]]) -> None:
    moments = {key: Moments.of(values) for key, values in data.items()}
    shrink = r.shrinkage(moments)
    assert shrink.k >= 0
    for mom in moments.values():
        value = r.shrunk_mean(mom, shrink)
        if mom.n == 0:
            assert value is None
            continue
        assert value is not None and shrink.m is not None
        mean = mom.total / mom.n
        assert min(mean, shrink.m) - 1e-6 <= value <= max(mean, shrink.m) + 1e-6


@settings(deadline=None)
@given(score_lists)
def test_interval_contains_the_mean(values: list[float]) -> None:
    s = r.stats(Moments.of(values))
    if s.ci_low is not None and s.ci_high is not None and s.mean is not None:
        assert s.ci_low - 1e-9 <= s.mean <= s.ci_high + 1e-9


# Few distinct scores: ties of means, of shrunk means and touching intervals are common.
tied_branches = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=2),
    st.lists(st.sampled_from([40.0, 60.0, 70.0, 80.0, 100.0]), max_size=5),
    max_size=12,
)


@settings(deadline=None)
@given(st.one_of(branches, tied_branches), st.sampled_from([None, 55.0, 70.0]))
def test_one_place_equals_its_entry_in_the_full_ranking(
    data: dict[str, list[float]], network_mean: float | None
) -> None:
    """``place`` (one pass, for a scorecard) gives every number the full ranking gives."""
    moments = {key: Moments.of(values) for key, values in data.items()}
    shrink = r.shrinkage(moments)
    full = {e.key: e for e in r.rank(moments, network_mean, shrink)}
    for key in moments:
        assert r.place(key, moments, network_mean, shrink) == full.get(key)
    assert r.place("not-a-branch", moments, network_mean, shrink) is None
    means = {e.key: e.stats.mean for e in full.values() if e.stats.mean is not None}
    ranks = r.competition_ranks(means)
    for key in means:
        assert r.competition_rank(key, means) == ranks[key]


# Ties are likely: few distinct scores, and small branches.
tied_scores = st.lists(st.sampled_from([50.0, 62.5, 75.0, 87.5, 100.0]), min_size=0, max_size=6)
tied_branches = st.dictionaries(st.integers(0, 40), tied_scores, max_size=25)


@settings(max_examples=200, deadline=None)
@given(st.one_of(branches, tied_branches), st.sampled_from([None, 70.0, 87.5]))
def test_league_entries_are_the_full_ranking(
    data: dict[object, list[float]], mean: float | None
) -> None:
    """A page of a League is the same entries, in the same order, as the full ranking."""
    moments = {key: Moments.of(values) for key, values in data.items()}
    shrink = r.shrinkage(moments)
    ranked = r.rank(moments, mean, shrink)
    league = r.League(moments, mean, shrink)
    assert league.order == [entry.key for entry in ranked]
    assert len(league) == len(ranked)
    assert [league.entry(entry.key) for entry in ranked] == ranked


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.integers(0, 40), st.sampled_from([1.0, 2.0, 2.0 + 1e-12, 3.5]), max_size=25)
)
def test_ranks_are_competition_ranks(means: dict[int, float]) -> None:
    ranks = r.Ranks(means)
    expected = r.competition_ranks(means)
    assert len(ranks) == len(means)
    assert {key: ranks.get(key) for key in means} == expected
    assert ranks.get(-1) is None


@settings(max_examples=200, deadline=None)
@given(st.one_of(branches, tied_branches), st.sampled_from([None, 70.0, 87.5]))
def test_place_is_the_entry_of_the_full_ranking(
    data: dict[object, list[float]], mean: float | None
) -> None:
    """One branch's place, found without ranking the others, is its entry of the ranking."""
    moments = {key: Moments.of(values) for key, values in data.items()}
    shrink = r.shrinkage(moments)
    ranked = {entry.key: entry for entry in r.rank(moments, mean, shrink)}
    for key in moments:
        assert r.place(key, moments, mean, shrink) == ranked.get(key)
