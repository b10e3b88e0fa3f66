"""The PDF adapter's plain-text paragraphs: drawn verbatim (never read as markup), wrapped once
per width, split over pages like reportlab's own paragraphs."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from reportlab.platypus import Paragraph

from auditapp.adapters import pdf


def text_of(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_text_is_drawn_verbatim_not_as_markup() -> None:
    style = pdf.styles()["body"]
    hostile = "Гость написал <b>жирно</b> & <font size=40>x</font> <unclosed"
    content = pdf.render([pdf.Text(hostile, style)], title="t", footer=lambda p, n: f"{p}/{n}")
    assert hostile in text_of(content)


def test_text_wraps_like_a_paragraph_and_once_per_width() -> None:
    style = pdf.styles()["body"]
    words = "Сотрудник поздоровался с гостем в течение десяти секунд после входа. " * 5
    ours, theirs = pdf.Text(words, style), Paragraph(words, style)
    assert ours.wrap(200, 1000) == theirs.wrap(200, 1000)
    lines = ours.blPara.lines
    ours.wrap(200, 1000)
    assert ours.blPara.lines is lines  # the same width: not broken again
    assert ours.wrap(400, 1000)[1] < ours.wrap(200, 1000)[1]


def test_a_long_text_splits_over_pages() -> None:
    style = pdf.styles()["body"]
    words = " ".join(f"слово{n}" for n in range(3000))
    content = pdf.render([pdf.Text(words, style)], title="t", footer=lambda p, n: f"{p}/{n}")
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) > 1
    text = text_of(content)
    assert "слово0 " in text and "слово2999" in text
    assert text.count("слово1500 ") == 1


def test_row_table_writes_rows_in_order_with_the_header_on_every_page() -> None:
    header = ["Место", "Филиал", "Среднее"]
    rows = [[str(n), f"Ф{n:03d} Филиал на Невском", f"{n / 3:.1f}"] for n in range(1, 121)]
    table = pdf.RowTable(header, rows, [40, 200, 60], [[None, None, pdf.LIGHT_RED]] * 120)
    content = pdf.render([table], title="t", footer=lambda p, n: f"стр. {p} из {n}")
    reader = pypdf.PdfReader(io.BytesIO(content))
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    assert len(pages) >= 3  # 120 rows of 15.6 pt do not fit one A4 page
    found: list[int] = []
    for number, text in enumerate(pages, start=1):
        assert text.startswith("Место Филиал Среднее"), text[:60]  # the header, every page
        assert f"стр. {number} из {len(pages)}" in text
        found += [int(n) for n in re.findall(r"(\d+) Ф\d{3} Филиал на Невском", text)]
    assert found == list(range(1, 121))  # every row once, in order
    assert "7 Ф007 Филиал на Невском 2.3" in pages[0]


def test_row_table_clips_a_cell_to_its_column() -> None:
    long_name = "Очень длинное название филиала " * 4
    table = pdf.RowTable(["Филиал"], [[long_name]], [80])
    content = pdf.render([table], title="t", footer=lambda p, n: "")
    text = text_of(content)
    assert "Очень" in text and "…" in text and long_name.strip() not in text


def test_charts_pass_reportlabs_attribute_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter turns reportlab's attribute checks off for speed; with them on, every chart
    is still drawn without an illegal assignment."""
    from reportlab.graphics import renderPDF
    from reportlab.lib import attrmap

    monkeypatch.setattr(pdf.rl_config, "shapeChecking", 1)
    with pytest.raises(AttributeError):  # the checks are on: a wrong value is refused
        attrmap.validateSetattr(pdf.bar_chart(["a"], [1.0], width=200), "width", "wide")
    drawings = [
        pdf.bar_chart(["Встреча", "Заказ"], [80.0, None], width=300),
        pdf.trend_chart(
            ["2026-10", "2026-11"], [("N1", [70.0, None]), ("сеть", [None, None])], width=300
        ),
        pdf.trend_chart(["2026-11"], [("N1", [None])], width=300),
    ]
    for drawing in drawings:
        assert renderPDF.drawToString(drawing).startswith(b"%PDF")


def test_row_table_cells_encoded_once_write_the_same_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row table encodes each distinct cell once per document; the file is byte for byte the
    one written when every cell is encoded again, also when the cells use more characters
    than one font subset holds (a subset switch inside a row, and back)."""
    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "invariant", 1)  # no time stamp or random id in the file
    letters = [chr(c) for c in [*range(0x41, 0x5B), *range(0x410, 0x450), *range(0x391, 0x3AA)]]
    letters += [chr(c) for c in range(0xC0, 0x17F)]  # over 256 characters: two subsets
    rows = [
        [str(n % 7), "".join(letters[(n * 5 + k) % len(letters)] for k in range(6)), "—", "ok"]
        for n in range(400)
    ]
    header = ["n", "Имя", "Δ", "x"]

    def render() -> bytes:
        table = pdf.RowTable(header, rows, [30, 120, 30, 30])
        return pdf.render([table], title="t", footer=lambda p, n: f"{p}/{n}")

    cached = render()

    class Forgetful(dict):  # type: ignore[type-arg]
        def get(self, key: object, default: object = None) -> None:
            return None

    monkeypatch.setattr(pdf, "_shown_cells", lambda canvas: Forgetful())
    assert cached == render()
    assert len(set(letters)) > 256
