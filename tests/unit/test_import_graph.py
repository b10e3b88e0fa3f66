"""Dependencies point one way: the domain imports only the standard library
and itself; services import nothing from the API, the schemas, the web layer or Flask-Login.

Read from the source with ``ast`` (every import, including those inside functions and under
``TYPE_CHECKING``), so no module needs to be imported to be checked.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "auditapp"

# What services must never reach: the layers that call them, and the web session machinery.
SERVICES_MUST_NOT_IMPORT = (
    "auditapp.api",
    "auditapp.schemas",
    "auditapp.web",
    "auditapp.auth",
    "flask_login",
)


def module_name(path: Path) -> str:
    """``auditapp/services/photos.py`` -> ``auditapp.services.photos``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, absolute (relative imports resolved against ``module``);
    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a module)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def reaches(name: str, target: str) -> bool:
    """True when importing ``name`` is importing ``target`` or something inside it."""
    return name == target or name.startswith(target + ".")


def layer(folder: str) -> dict[str, set[str]]:
    """Relative path -> imported modules, for every module under ``auditapp/<folder>``."""
    result = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = module_name(path)
        key = path.relative_to(PACKAGE.parent).as_posix()
        result[key] = imports_of(source, name, path.name == "__init__.py")
    return result


def test_the_reader_sees_every_kind_of_import() -> None:
    source = (
        "import flask\n"
        "from sqlalchemy.orm import Mapped\n"
        "from . import lifecycle\n"
        "from ..schemas.network import CODE\n"
        "def later():\n"
        "    from auditapp.api import require\n"
    )
    found = imports_of(source, "auditapp.domain.scoring")
    assert {"flask", "sqlalchemy.orm", "auditapp.domain.lifecycle"} <= found
    assert {"auditapp.schemas.network", "auditapp.api"} <= found


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    modules = layer("domain")
    assert "auditapp/domain/scoring.py" in modules
    assert "auditapp.domain.checklist" in modules["auditapp/domain/scoring.py"]
    wrong = {
        path: sorted(
            name
            for name in names
            if not reaches(name, "auditapp.domain")
            and name.partition(".")[0] not in sys.stdlib_module_names
            and name != "__future__"
        )
        for path, names in modules.items()
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_services_import_nothing_from_the_layers_above_them() -> None:
    modules = layer("services")
    assert "auditapp.domain.lifecycle" in modules["auditapp/services/audits/common.py"]
    wrong = {
        path: sorted(
            name for name in names for target in SERVICES_MUST_NOT_IMPORT if reaches(name, target)
        )
        for path, names in modules.items()
    }
    assert {path: names for path, names in wrong.items() if names} == {}
