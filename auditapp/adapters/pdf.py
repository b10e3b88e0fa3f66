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
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.pdfutils import readJPEGInfo
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

# Binary streams: ASCII85 inflates every stream by a quarter and costs most of the render time.
rl_config.useA85 = 0

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
