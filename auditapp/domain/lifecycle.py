"""The audit lifecycle: which action may move an audit from which status to which.

``assigned -> in_progress -> submitted -> (returned -> submitted)* -> approved -> released``;
a submitted (or returned) report can also be rejected. After release, items are disputed and
resolved one by one without changing the audit's status.
"""

from __future__ import annotations

from typing import Final

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "save_draft": (frozenset({"in_progress", "returned"}), "unchanged"),
    "submit": (frozenset({"in_progress", "returned"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),
    "return": (frozenset({"submitted"}), "returned"),
    "reject": (frozenset({"submitted", "returned"}), "rejected"),
    "release": (frozenset({"approved"}), "released"),
    "dispute": (frozenset({"released"}), "unchanged"),
}


class TransitionRefused(ValueError):
    """The action is not allowed from the audit's current status."""

    def __init__(self, action: str, status: str) -> None:
        self.action = action
        self.status = status
        allowed = ", ".join(sorted(TRANSITIONS[action][0])) if action in TRANSITIONS else "-"
        super().__init__(f"cannot {action} an audit that is {status} (only when: {allowed})")


def next_status(status: str, action: str) -> str:
    """The status after ``action``; raises TransitionRefused when it is not allowed."""
    if action not in TRANSITIONS:
        raise TransitionRefused(action, status)
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionRefused(action, status)
    return status if target == "unchanged" else target
