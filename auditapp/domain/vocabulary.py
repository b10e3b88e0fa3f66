"""The words of the business, each defined once: roles, branch kinds, channels, stages, day
parts, languages, and the statuses of audits, photos and disputes.

Models build their CHECK constraints from these tuples, schemas their ``OneOf`` choices, and
services and the scope rules compare against them, so a word cannot mean one thing in the
database and another in the API. The values are stored in the database: adding or renaming one
needs a migration (``tests/integration/test_vocabulary.py`` compares the models' constraints
with the migrated database).

Pure Python: this module imports nothing outside the standard library.
"""

from __future__ import annotations

from typing import Final

#: Who signs in (DOMAIN.md, "Who uses it").
ROLES: Final = ("admin", "reviewer", "director", "manager", "shopper", "employee")
#: HQ: the roles that see the whole network (every branch, every report, shopper identity).
HQ_ROLES: Final = ("admin", "reviewer")

#: Kinds of outlet a branch can be; a checklist says which kinds it applies to.
BRANCH_KINDS: Final = ("store", "restaurant", "hotel", "service_centre")
#: How the mystery shopper contacts the branch: in person, a call, or online.
CHANNELS: Final = ("visit", "call", "online")
#: Stages of the customer cycle a checklist section belongs to, in the cycle's order.
STAGES: Final = ("pre_purchase", "purchase", "after_sale")
#: Parts of the day a wave spreads its visits over.
DAY_PARTS: Final = ("morning", "afternoon", "evening", "night")
#: Languages of the interface and of checklist texts (a user's locale is one of them).
LANGUAGES: Final = ("ru", "en")

#: An audit's statuses; which action moves it between them is ``domain/lifecycle.py``.
AUDIT_STATUSES: Final = ("in_progress", "submitted", "returned", "approved", "rejected", "released")
#: Statuses in which the shopper may still change the report (answers, photos).
OPEN_STATUSES: Final = ("in_progress", "returned")
#: Statuses whose scores count in ratings.
COUNTING_STATUSES: Final = ("approved", "released")

#: Why a photo was uploaded: the shopper's evidence, or a manager's backing for a dispute.
PHOTO_PURPOSES: Final = ("evidence", "dispute")
#: A photo's processing state; ``withdrawn``: the shopper took it back, kept for QA.
PHOTO_STATUSES: Final = ("processing", "ready", "failed", "withdrawn")
#: How a photo matches one in another audit: the same bytes, or a near-identical picture.
REUSE_KINDS: Final = ("identical", "near")

#: A dispute of one item: waiting for a reviewer, or decided either way.
DISPUTE_STATUSES: Final = ("open", "upheld", "rejected")
