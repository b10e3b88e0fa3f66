"""The vocabulary is defined once and the rules built on it use only its words."""

from __future__ import annotations

import pytest

from auditapp.domain.lifecycle import TRANSITIONS
from auditapp.domain.vocabulary import (
    AUDIT_STATUSES,
    COUNTING_STATUSES,
    HQ_ROLES,
    OPEN_STATUSES,
    ROLES,
)
from auditapp.models.types import one_of


def test_the_lifecycle_moves_audits_only_between_known_statuses() -> None:
    for action, (sources, target) in TRANSITIONS.items():
        assert sources <= set(AUDIT_STATUSES), action
        assert target in (*AUDIT_STATUSES, "unchanged"), action


def test_open_statuses_are_those_a_shopper_may_still_submit_from() -> None:
    assert set(OPEN_STATUSES) == TRANSITIONS["submit"][0] == TRANSITIONS["save_draft"][0]


def test_counting_statuses_and_hq_roles_are_subsets_of_their_vocabulary() -> None:
    assert set(COUNTING_STATUSES) == {"approved", "released"}
    assert set(HQ_ROLES) <= set(ROLES)


def test_a_check_constraint_is_written_as_the_migrations_wrote_it() -> None:
    assert one_of("kind", ("store", "service_centre")) == "kind IN ('store', 'service_centre')"


@pytest.mark.parametrize("word", ["it's", "Store", "a b", "", "x') OR 1=1 --"])
def test_a_check_constraint_refuses_anything_but_a_plain_word(word: str) -> None:
    with pytest.raises(ValueError, match="not a vocabulary word"):
        one_of("kind", ("store", word))
