"""Where the files the app reads beside its code live: migrations, the PWA shell, checklists.

The top-level ``migrations/``, ``static/pwa/`` and ``checklists/`` of the repository are the
source. A wheel carries copies of them under ``auditapp/_bundled/`` (``setup.py`` copies them at
build time), so an installed app finds them there; a checkout (or an editable install) has no
such copy and reads the repository's folders beside the package. Every reader asks this module,
so no code guesses ``../something`` on its own.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Filled by the build (see setup.py); absent in a checkout.
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
CHECKOUT_DIR = PACKAGE_DIR.parent

# name used by the code -> path in the repository (and under ``_bundled/`` in a wheel)
RESOURCES = {
    "migrations": "migrations",
    "pwa": "static/pwa",
    "checklists": "checklists",
}


def resource_dir(name: str) -> Path:
    """The directory of resource ``name`` (a key of ``RESOURCES``): the wheel's copy if there
    is one, else the checkout's folder; a clear error when neither exists."""
    relative = RESOURCES[name]
    # The bundled copy first: beside an installed package, ``site-packages/migrations`` may
    # belong to some other distribution.
    for candidate in (BUNDLED_DIR / relative, CHECKOUT_DIR / relative):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"auditapp's {relative}/ was found neither in the installed package ({BUNDLED_DIR}) nor "
        f"in a checkout ({CHECKOUT_DIR}); reinstall auditapp from a wheel or a full checkout"
    )


def migrations_dir() -> Path:
    """The Alembic directory (``migrations/``)."""
    return resource_dir("migrations")


def pwa_dir() -> Path:
    """The PWA shell (``static/pwa/``)."""
    return resource_dir("pwa")


def checklists_dir() -> Path:
    """The checklists shipped with the app (``checklists/*.yaml``)."""
    return resource_dir("checklists")
