"""The answers export's CSV fast path writes exactly what ``csv.writer`` writes of the rows the
XLSX export gets, and its JSON reading reads what ``json.loads`` reads."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.services import exports

ITEMS = ("greeted", "queue", "comment", "choice")
CELLS = {
    "greeted": ("pre", "arrival", "Встреча, гостя", "greeted", "2.1", 'Said "hello"?', 1),
    "queue": ("pre", "arrival", "Встреча, гостя", "queue", "2.3", "Seconds\nwaited", 0),
    "comment": ("post", "farewell", "After", "comment", "4.9", "=Comment", 0),
    "choice": ("post", "farewell", "After", "choice", "", "", 0),
}


class Lookups:
    """What the export looks up in the database, for two branches and one version."""

    def branch_places(self) -> dict[int, tuple[str, str]]:
        return {1: ("N,1", "Europe/Moscow"), 2: ('"S2"', "Asia/Vladivostok")}

    def version(self, version_id: int) -> tuple[Any, None]:
        return SimpleNamespace(slug="=visit", version=version_id), None

    def item_cells(self, version_id: int, lang: str) -> list[tuple[str, tuple[Any, ...]]]:
        # As the real look-up makes them: each cell through the formula guard.
        return [(item, tuple(exports._cell(cell) for cell in CELLS[item])) for item in ITEMS]


text = st.text(st.sampled_from(list('ab ,"\r\n=+-@\tя')), max_size=8)
answer = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
points = st.one_of(st.none(), st.floats(min_value=0, max_value=10), st.integers(0, 5))
result = st.fixed_dictionaries(
    {}, optional={"earned": points, "possible": points, "na": st.booleans()}
)
audit = st.tuples(
    st.integers(1, 10**6),
    st.sampled_from([1, 2]),
    st.sampled_from([1, 3]),
    st.sampled_from(["visit", "phone,call"]),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(ITEMS), answer)),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(ITEMS), result)),
)


def as_source(audits: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as the query reads them: the two JSON columns as text."""
    return [
        (*head, None if a is None else json.dumps(a), None if r is None else json.dumps(r))
        for *head, a, r in audits
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(audit, max_size=6))
def test_csv_lines_are_what_csv_writer_writes_of_the_rows(audits: list[Any]) -> None:
    source = as_source(audits)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    for rows in exports._answer_rows(source, Lookups(), "en"):  # type: ignore[arg-type]
        writer.writerows(rows)
    written = "".join(exports._answer_csv(source, Lookups(), "en"))  # type: ignore[arg-type]
    assert written == expected.getvalue()


def test_a_hand_written_line() -> None:
    started = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    source = as_source(
        [
            (
                7,
                1,
                3,
                "visit",
                started,
                {"greeted": True, "comment": '-ok, "no"'},
                {"greeted": {"earned": 2.0, "possible": 2.0, "na": False}},
            )
        ]
    )
    lines = "".join(exports._answer_csv(source, Lookups(), "en"))  # type: ignore[arg-type]
    head = '7,"N,1",\'=visit,3,visit,2026-11-30T09:00:00+03:00'
    assert lines == (
        f'{head},pre,arrival,"Встреча, гостя",greeted,2.1,"Said ""hello""?",1,true,0,2.0,2.0\r\n'
        f'{head},post,farewell,After,comment,4.9,\'=Comment,0,"\'-ok, ""no""",0,,\r\n'
    )


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_value)
def test_loads_reads_what_json_loads_reads(value: Any) -> None:
    written = json.dumps(value, ensure_ascii=False)
    read = exports._loads(written)
    assert read == json.loads(written)
    assert json.dumps(read) == json.dumps(json.loads(written))  # 10**20 stays an int, 1.0 a float


def test_loads_keeps_big_integers_and_reads_none() -> None:
    assert exports._loads('{"n": 123456789012345678901234}') == {"n": 123456789012345678901234}
    assert exports._loads("[-9223372036854775809]") == [-9223372036854775809]
    assert exports._loads(None) is None
