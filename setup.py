"""Build step: copy the repository's ``migrations/``, ``static/pwa/`` and ``checklists/`` into
the wheel as ``auditapp/_bundled/...``, so an installed app has them (see auditapp/resources.py).

Everything else about the package is declared in ``pyproject.toml``. The top-level folders stay
the only source; nothing is copied into the source tree, and an editable install reads them in
place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Must match auditapp.resources.RESOURCES.
BUNDLED = ("migrations", "static/pwa", "checklists")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithResources(build_py):
    """``build_py`` plus the resource folders under ``auditapp/_bundled/``."""

    def run(self) -> None:
        """Build the modules, then copy the resources beside them (not for editable installs,
        which read the checkout's folders)."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target_root = Path(self.build_lib) / "auditapp" / "_bundled"
        for relative in BUNDLED:
            source = HERE / relative
            if not source.is_dir():
                raise SystemExit(f"cannot build auditapp: {source} is missing")
            target = target_root / relative
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=IGNORE)


setup(cmdclass={"build_py": BuildWithResources})
