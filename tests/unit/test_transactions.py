"""Only ``auditapp/services/transactions.py`` ends a transaction in the services: every other
service module commits through its ``commit()`` (one commit point per use case, one error
translation) and never rolls back a caller's work. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "auditapp" / "services"
ENDS = {"commit", "rollback"}


def _session_ends(source: str) -> list[int]:
    """Lines calling ``<something>.session.commit()/rollback()`` or ``session.commit()``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ENDS:
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name == "session":
            lines.append(node.lineno)
    return lines


def test_the_reader_finds_a_commit() -> None:
    assert _session_ends("from x import db\ndef f():\n    db.session.commit()\n") == [3]
    assert _session_ends("def f(session):\n    session.rollback()\n") == [2]
    assert _session_ends("def f():\n    commit()\n") == []


def test_services_end_transactions_only_through_the_helper() -> None:
    found = {
        path.relative_to(SERVICES).as_posix(): _session_ends(path.read_text(encoding="utf-8"))
        for path in sorted(SERVICES.rglob("*.py"))
        if path.name != "transactions.py"
    }
    assert "audits/submission.py" in found
    assert {path: lines for path, lines in found.items() if lines} == {}
