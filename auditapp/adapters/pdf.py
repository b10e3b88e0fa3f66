"""PDF rendering with reportlab: the embedded Cyrillic font, A4 pages with a footer (page X of
Y, generated-at time, versions), JPEG images passed through as stored, and charts.

What goes into a document is decided by ``auditapp/services/reports.py`` from the redacted
views of ``auditapp/visibility.py``; this module only lays out what it is given.

Speed: reportlab's default writes every stream (images, font subsets, page contents) through
ASCII85, and ``Canvas.drawImage`` decodes each JPEG to hash its pixels. Here image streams and
every other stream are binary, and a JPEG is embedded byte for byte (``DCTDecode``), keyed by a
hash of its bytes, so a report with 20 thumbnails costs little more than one without.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from reportlab import rl_config
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.pdfutils import readJPEGInfo
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

# Binary streams: ASCII85 inflates every stream by a quarter and costs most of the render time.
rl_config.useA85 = 0
# No check of every attribute set on a chart's shapes and widgets (reportlab.graphics): a
# development aid that was a sixth of a scorecard's time. tests/unit/test_pdf.py draws every
# chart with the checks on.
rl_config.shapeChecking = 0

FONT: Final = "DejaVuSans"
FONT_BOLD: Final = "DejaVuSans-Bold"
_FONT_FILES: Final = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
#: Where the fonts are looked for: the copy shipped inside the package first, then the usual
#: system places of Debian's fonts-dejavu-core and others.
FONT_DIRS: Final = (
    Path(__file__).resolve().parent.parent / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 15 * mm
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN

RED: Final = colors.HexColor("#b3261e")
LIGHT_RED: Final = colors.HexColor("#fbe4e2")
GREY: Final = colors.HexColor("#666666")
LIGHT_GREY: Final = colors.HexColor("#eeeeee")
BLUE: Final = colors.HexColor("#1f5f99")


class FontMissing(RuntimeError):
    """No font with Cyrillic glyphs could be found: a PDF would show empty boxes."""


def _font_path(file_name: str) -> Path:
    """The first existing copy of a font file among ``FONT_DIRS``."""
    for folder in FONT_DIRS:
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(folder) for folder in FONT_DIRS)
    raise FontMissing(
        f"Font {file_name} (DejaVu Sans, needed for Cyrillic text in PDFs) was not found in "
        f"{looked}. Reinstall auditapp (the wheel ships it in auditapp/fonts) or install "
        "Debian's fonts-dejavu-core."
    )


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register DejaVu Sans regular and bold with reportlab once per process."""
    for name, file_name in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(_font_path(file_name))))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles every document uses (DejaVu Sans; sizes for A4)."""
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=GREY),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=16, leading=20),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=6,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "bold": ParagraphStyle("bold", parent=base, fontName=FONT_BOLD),
        # A table's header cell that may wrap (the tables' own text is 8 pt).
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=8, leading=9.5),
        "critical": ParagraphStyle("critical", parent=base, fontName=FONT_BOLD, textColor=RED),
        "big": ParagraphStyle("big", parent=base, fontName=FONT_BOLD, fontSize=22, leading=26),
        "score": ParagraphStyle("score", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19),
    }


_TEMPLATES: dict[str, Any] = {}


class Text(Paragraph):
    """Plain text laid out like a paragraph of ``style``, made without reportlab's markup
    parser and wrapped once per width.

    User text is never markup, so parsing it (an HTML parser per paragraph) buys nothing; and a
    table lays each cell out several times (measuring rows, splitting over pages, drawing), so
    the line breaks for a width are kept. Measured on the audit report: a tenth of its time.
    """

    def __init__(
        self, text: str | None, style: ParagraphStyle, bulletText: Any = None, frags: Any = None
    ) -> None:
        """One run of ``text`` in ``style``'s font, size and colour (``frags``: the pieces of a
        split paragraph, as reportlab passes them)."""
        if frags is None:
            template = _TEMPLATES.get(style.name)
            if template is None or template[0] is not style:
                template = (style, Paragraph("x", style).frags[0])
                _TEMPLATES[style.name] = template
            frags = [template[1].clone(text=text or "")]
        super().__init__(text, style, bulletText=bulletText, frags=frags)
        self._wrapped_for: float | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """The size at this width, computed once per width."""
        # reportlab drops the line breaks (``blPara``) when it rewinds a frame: then break again.
        if self._wrapped_for != available_width or not hasattr(self, "blPara"):
            super().wrap(available_width, available_height)
            self._wrapped_for = available_width
        return self.width, self.height


class JpegImage(Flowable):
    """A JPEG drawn from its stored bytes, unchanged (``DCTDecode``), scaled to fit a box.

    The same bytes drawn twice are embedded once (the image is named by their hash).
    """

    def __init__(self, data: bytes, max_width: float, max_height: float) -> None:
        """Fit the image in ``max_width`` x ``max_height`` points, keeping its proportions."""
        super().__init__()
        width, height, components = readJPEGInfo(io.BytesIO(data))[:3]
        self.data = data
        self.pixels = (width, height)
        self.components = components
        scale = min(max_width / width, max_height / height)
        self.width = width * scale
        self.height = height * scale

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """The image's size on the page."""
        return self.width, self.height

    def draw(self) -> None:
        """Place the image, registering its XObject the first time these bytes are seen."""
        canvas = self.canv
        name = "J" + hashlib.sha1(self.data, usedforsecurity=False).hexdigest()
        document = canvas._doc
        registered = document.getXObjectName(name)
        if document.idToObject.get(registered) is None:
            image = pdfdoc.PDFImageXObject(name)
            image.width, image.height = self.pixels
            image.bitsPerComponent = 8
            image.colorSpace = {1: "DeviceGray", 3: "DeviceRGB"}.get(self.components, "DeviceCMYK")
            if image.colorSpace == "DeviceCMYK":
                image._dotrans = 1  # Adobe CMYK JPEGs are stored inverted
            image.streamContent = self.data
            image._filters = ("DCTDecode",)
            image.mask = None
            image.name = name
            canvas._setXObjects(image)
            document.Reference(image, registered)
            document.addForm(name, image)
        canvas.saveState()
        canvas.scale(self.width, self.height)
        canvas._code.append(f"/{registered} Do")
        canvas.restoreState()
        canvas._formsinuse.append(name)  # lists the image in this page's resources


def _numbered_canvas(footer: Callable[[int, int], str]) -> type[Canvas]:
    """A canvas class that holds pages back until the end, to print "page X of Y" on each."""

    class NumberedCanvas(Canvas):
        """Draws the footer on every page once the page count is known."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("pageCompression", 1)
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            """Keep the page's state; it is finished in ``save``."""
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            """Draw every page's footer with the total, then write the document."""
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(GREY)
                self.drawString(MARGIN, 9 * mm, footer(self._pageNumber, total))
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def render(
    story: Sequence[Flowable],
    *,
    title: str,
    footer: Callable[[int, int], str],
    author: str = "auditapp",
) -> bytes:
    """Lay out ``story`` on A4 pages and return the PDF; ``footer(page, pages)`` is the text at
    the foot of each page (page numbers, generated-at time, versions)."""
    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author=author,
        creator="auditapp",
    )
    document.build(list(story), canvasmaker=_numbered_canvas(footer))
    return buffer.getvalue()


def bar_chart(
    labels: Sequence[str], values: Sequence[float | None], *, width: float, bar_height: float = 12
) -> Drawing:
    """Horizontal bars on a 0-100 scale, one per label (a missing value draws no bar)."""
    register_fonts()
    count = max(len(labels), 1)
    height = count * bar_height + 24
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x = width * 0.42
    chart.y = 14
    chart.width = width * 0.52
    chart.height = count * bar_height
    chart.data = [[0.0 if v is None else v for v in reversed(values)]]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 20
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [_clip(label, 48) for label in reversed(labels)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.bars[0].fillColor = BLUE
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = lambda v: f"{v:.1f}"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def trend_chart(
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    width: float,
    height: float = 150,
) -> Drawing:
    """A line chart of monthly values (0-100) with a marker on every value; months without a
    value leave a gap, and a series without any value is named in the legend only."""
    register_fonts()
    drawing = Drawing(width, height)
    drawn = [values for _, values in series if any(v is not None for v in values)]
    if not drawn:
        drawing.add(String(30, height / 2, "—", fontName=FONT, fontSize=10, fillColor=GREY))
    chart = HorizontalLineChart()
    chart.x = 30
    chart.y = 30
    chart.width = width - 40
    chart.height = height - 50
    chart.data = [list(values) for values in drawn]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 20
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = list(months)
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    palette = (BLUE, GREY, RED)
    shown = [index for index, (_, values) in enumerate(series) if values in drawn]
    for line, index in enumerate(shown):
        chart.lines[line].strokeColor = palette[index % len(palette)]
        chart.lines[line].strokeWidth = 1.5 if index == 0 else 1
        chart.lines[line].symbol = makeMarker("FilledCircle", size=3)
        chart.lines[line].symbol.fillColor = palette[index % len(palette)]
    if drawn:
        drawing.add(chart)
    legend_x = 30.0
    for index, (name, _) in enumerate(series):
        drawing.add(
            String(
                legend_x,
                height - 10,
                name,
                fontName=FONT,
                fontSize=7,
                fillColor=palette[index % len(palette)],
            )
        )
        legend_x += pdfmetrics.stringWidth(name, FONT, 7) + 16
    return drawing


def _clip(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters with an ellipsis."""
    return text if len(text) <= length else text[: length - 1] + "…"


class RowTable(Flowable):
    """A long plain-text table drawn row by row with canvas text calls: a grid, a bold header
    on grey repeated on every page, optional background colours per cell.

    reportlab's ``Table`` measures every cell as a flowable (several times when it splits over
    pages): for the network comparison's ~100,000 cells that was most of the render time. Here
    the column widths are fixed, every row is one line of 8 pt text (clipped with "…" to its
    column), each row is one text object written in reading order, and a page break splits the
    flowable by rows. Header cells may wrap (at most a few lines).
    """

    FONT_SIZE: Final = 8.0
    HEAD_SIZE: Final = 7.5
    PAD: Final = 3.0
    ROW_HEIGHT: Final = FONT_SIZE * 1.2 + 2 * PAD

    def __init__(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        fills: Sequence[Sequence[Any]] | None = None,
        *,
        _prepared: tuple[list[list[str]], float] | None = None,
    ) -> None:
        """``rows`` of text cells under ``header`` in columns of ``widths`` points; ``fills``
        (one list per row, a colour or None per cell) paints cell backgrounds."""
        super().__init__()
        register_fonts()
        self.header = list(header)
        self.rows = rows
        self.widths = [float(w) for w in widths]
        self.fills = fills
        self.width = sum(self.widths)
        if _prepared is None:
            lines = [
                simpleSplit(text, FONT_BOLD, self.HEAD_SIZE, width - 2 * self.PAD) or [""]
                for text, width in zip(self.header, self.widths, strict=True)
            ]
            leading = self.HEAD_SIZE * 1.2
            _prepared = (lines, max(len(cell) for cell in lines) * leading + 2 * self.PAD)
        self._head_lines, self.head_height = _prepared
        self.height = self.head_height + len(rows) * self.ROW_HEIGHT

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """The whole table's size (it splits by rows when the page is shorter)."""
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """The rows that fit under the header in ``available_height``, then the rest (with the
        header again); nothing when not even one row fits."""
        fit = int((available_height - self.head_height) // self.ROW_HEIGHT)
        if fit < 1:
            return []
        if fit >= len(self.rows):
            return [self]
        parts: list[Flowable] = []
        for start, stop in ((0, fit), (fit, len(self.rows))):
            parts.append(
                RowTable(
                    self.header,
                    self.rows[start:stop],
                    self.widths,
                    None if self.fills is None else self.fills[start:stop],
                    _prepared=(self._head_lines, self.head_height),
                )
            )
        return parts

    def draw(self) -> None:
        """Backgrounds, grid, then the text: the header and one text object per row."""
        canvas = self.canv
        widths, pad, row_height = self.widths, self.PAD, self.ROW_HEIGHT
        lefts = [sum(widths[:index]) for index in range(len(widths))]
        top = self.height
        code: list[str] = []
        # Backgrounds as raw operators (one short string per cell, no state objects).
        code.append(
            f"{_rgb(LIGHT_GREY)} rg 0 {top - self.head_height:.2f} {self.width:.2f} "
            f"{self.head_height:.2f} re f"
        )
        if self.fills is not None:
            colour_ops: dict[Any, str] = {}
            for index, fills in enumerate(self.fills):
                y = top - self.head_height - (index + 1) * row_height
                for left, width, colour in zip(lefts, widths, fills, strict=False):
                    if colour is None:
                        continue
                    op = colour_ops.get(colour)
                    if op is None:
                        op = colour_ops[colour] = f"{_rgb(colour)} rg"
                    code.append(f"{op} {left:.2f} {y:.2f} {width:.2f} {row_height:.2f} re f")
        # The grid: one path of every horizontal and vertical line.
        bottom = 0.0
        path = [f"{_rgb(GREY)} RG 0.25 w"]
        for y in [top, top - self.head_height] + [
            top - self.head_height - n * row_height for n in range(1, len(self.rows) + 1)
        ]:
            path.append(f"0 {y:.2f} m {self.width:.2f} {y:.2f} l")
        for x in [*lefts, self.width]:
            path.append(f"{x:.2f} {bottom:.2f} m {x:.2f} {top:.2f} l")
        path.append("S")
        canvas.saveState()
        canvas._code.append(" ".join(code))
        canvas._code.append(" ".join(path))
        canvas.restoreState()

        canvas.setFillColor(colors.black)
        head = canvas.beginText()
        head.setFont(FONT_BOLD, self.HEAD_SIZE, self.HEAD_SIZE * 1.2)
        for left, lines in zip(lefts, self._head_lines, strict=True):
            for number, line in enumerate(lines):
                head.setTextOrigin(
                    left + pad, top - pad - self.HEAD_SIZE - number * self.HEAD_SIZE * 1.2
                )
                head.textOut(line)
        canvas.drawText(head)
        room = [width - 2 * pad for width in widths]
        y = top - self.head_height - pad - self.FONT_SIZE
        shown = _shown_cells(canvas)
        for row in self.rows:
            text = canvas.beginText()
            text.setFont(FONT, self.FONT_SIZE)
            code = text._code
            for left, space, cell in zip(lefts, room, row, strict=False):
                text.setTextOrigin(left + pad, y)
                # What textOut writes, without moving the cursor (each cell sets its origin)
                # and encoded once per text and font subset (a heat-map repeats few values).
                key = (cell, space, text._curSubset)
                known = shown.get(key)
                if known is None:
                    known = shown[key] = (
                        text._formatText(_fitted(cell, space, FONT, self.FONT_SIZE)),
                        text._curSubset,
                    )
                code.append(known[0])
                text._curSubset = known[1]
            canvas.drawText(text)
            y -= row_height


def _shown_cells(canvas: Canvas) -> dict[tuple[str, float, int], tuple[str, int]]:
    """The row tables' encoded cells of this document: ``(text, width, font subset before)``
    -> ``(PDF text operators, font subset after)``. Kept per canvas, since a TrueType font's
    subsets are numbered per document (a code, once given to a character, stays)."""
    shown = getattr(canvas, "_auditapp_cells", None)
    if shown is None:
        shown = {}
        canvas._auditapp_cells = shown
    return shown


@lru_cache(maxsize=65536)
def _fitted(text: str, width: float, font: str, size: float) -> str:
    """``text`` cut with "…" to fit ``width`` points (kept: a heat-map repeats few values)."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _rgb(colour: Any) -> str:
    """A colour as PDF operands ("r g b")."""
    return f"{colour.red:.3f} {colour.green:.3f} {colour.blue:.3f}"
