// Charts of the office screens, drawn from the API's numbers: a trend line (uPlot, vendored,
// loaded only when a trend is shown), horizontal bars and a heat-map (plain DOM). Every chart
// comes with its numbers as a table: the line and the bars in a <details> anyone can open, the
// heat-map *is* a table (colour and the value as text). Colour is never the only signal.
// No inline style attribute anywhere (the CSP forbids them): sizes are set through the CSSOM
// (element.style.width), which the CSP allows, and colours come from classes in office.css.
import { addTexts, getLang, t } from "../i18n.js";
import { h, uid } from "../ui.js";

addTexts({
  ru: { chartTable: "Показать числа (таблица)", chartMonth: "Месяц", chartValue: "Значение",
    chartVisits: "Визитов", chartItem: "Показатель", chartNoData: "нет данных" },
  en: { chartTable: "Show the numbers (table)", chartMonth: "Month", chartValue: "Value",
    chartVisits: "Visits", chartItem: "Measure", chartNoData: "no data" },
});

const UPLOT = "/pwa/vendor/uPlot-1.6.32.esm.js";
const UPLOT_CSS = "/pwa/vendor/uPlot-1.6.32.min.css";

/** A score for people: one decimal, halves up, as the server's PDFs print it (from the
 * shortest decimal form of the number, so 87.25 gives 87.3 whatever its binary neighbour). */
export function fmtScore(value) {
  if (value == null || Number.isNaN(value)) return "—";
  const text = String(value);
  if (/e/i.test(text)) return Number(value).toFixed(1);
  const negative = text.startsWith("-");
  const [whole, frac = ""] = text.replace("-", "").split(".");
  let tenths = BigInt(whole) * 10n + BigInt(frac[0] || "0");
  if ((frac[1] || "0") >= "5") tenths += 1n;
  const digits = tenths.toString().padStart(2, "0");
  const out = `${digits.slice(0, -1)}.${digits.slice(-1)}`;
  return negative && tenths !== 0n ? `-${out}` : out;
}

/** A signed change (+2.5, −1.0, 0.0). */
export function fmtChange(value) {
  if (value == null) return "—";
  const text = fmtScore(Math.abs(value));
  if (text === "0.0") return "0.0";
  return value > 0 ? `+${text}` : `−${text}`;
}

/** A month (first day, "2026-03-01" or "2026-03") as "мар 2026" / "Mar 2026". */
export function fmtMonth(day) {
  const [y, m] = day.split("-").map(Number);
  return new Date(y, m - 1, 1).toLocaleDateString(getLang() === "ru" ? "ru-RU" : "en-GB",
    { month: "short", year: "numeric" });
}

function numbersTable(caption, head, rows) {
  return h("details", { class: "chart-table" },
    h("summary", {}, t("chartTable")),
    h("table", { class: "data" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col" }, cell)))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        row.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell))))))));
}

let cssLoaded = false;
function loadChartCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  document.head.append(h("link", { rel: "stylesheet", href: UPLOT_CSS }));
}

/** A monthly trend line: `points` [{month: "2026-03-01", mean|null, n}], 0-100. Returns a
 * <figure>; the line is drawn (to the figure's width) once the figure is on the page. */
export function trendChart({ title, points, seriesLabel, id }) {
  const figureId = id || uid("trend");
  const plot = h("div", { class: "chart-plot", "aria-hidden": "true" });
  const figure = h("figure", { class: "chart", id: figureId },
    h("figcaption", {}, title), plot,
    numbersTable(title, [t("chartMonth"), seriesLabel, t("chartVisits")],
      points.map((p) => [fmtMonth(p.month), p.n ? fmtScore(p.mean) : t("chartNoData"), String(p.n)])));
  const labels = points.map((p) => fmtMonth(p.month));
  const data = [points.map((_, i) => i), points.map((p) => (p.n && p.mean != null ? p.mean : null))];
  let chart = null;
  const observer = new ResizeObserver(async (entries) => {
    if (chart && !figure.isConnected) { // the screen was replaced: let the chart go
      observer.disconnect();
      chart.destroy();
      return;
    }
    const width = Math.floor(entries[0].contentRect.width);
    if (width <= 0) return;
    if (chart) { chart.setSize({ width, height: chart.height }); return; }
    loadChartCss();
    const { default: UPlot } = await import(UPLOT);
    if (chart || !figure.isConnected) return;
    chart = new UPlot({
      width,
      height: width < 480 ? 200 : 260,
      legend: { show: false },
      padding: [8, 28, 0, 0], // room for the last month's label at the right edge
      cursor: { show: false },
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [
        { incrs: [1, 2, 3, 6, 12], space: 48, values: (_, splits) => splits.map((s) => labels[s] || "") },
        { values: (_, splits) => splits.map((s) => String(s)), size: 40 },
      ],
      series: [{}, { label: seriesLabel, stroke: "#1f4e79", width: 2, spanGaps: false,
        points: { show: true, size: 7, fill: "#1f4e79" } }],
    }, data, plot);
    figure.dataset.drawn = "1";
  });
  observer.observe(plot);
  return figure;
}

/** Horizontal bars of scores 0-100: `rows` [{label, value|null, n, href?}]. Each bar shows
 * its value as text too; the table repeats the numbers. */
export function barChart({ title, rows, valueLabel }) {
  const bars = h("ul", { class: "bars", "aria-hidden": "true" }, rows.map((row) => {
    const fill = h("span", { class: `bar-fill ${heatClass(row.value)}` });
    fill.style.width = `${Math.max(0, Math.min(100, row.value ?? 0))}%`;
    return h("li", {},
      h("span", { class: "bar-label" }, row.label),
      h("span", { class: "bar-track" }, fill),
      h("span", { class: "bar-value" }, fmtScore(row.value)));
  }));
  return h("figure", { class: "chart" }, h("figcaption", {}, title), bars,
    numbersTable(title, [t("chartItem"), valueLabel, t("chartVisits")],
      rows.map((row) => [row.label, fmtScore(row.value), row.n == null ? "—" : String(row.n)])));
}

/** The colour class of a 0-100 value (five bands, see office.css); the value is always
 * printed beside the colour. */
export function heatClass(value) {
  if (value == null) return "heat-none";
  if (value >= 90) return "heat-4";
  if (value >= 80) return "heat-3";
  if (value >= 70) return "heat-2";
  if (value >= 60) return "heat-1";
  return "heat-0";
}

/** A heat-map as a table: `columns` [{key, label}], `rows` [{key, label, href?, cells:
 * {key: {mean, n}}}]; `cellHref(row, column)` makes a cell a link (drill-down). */
export function heatMap({ caption, corner, columns, rows, cellHref }) {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "data heat" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, corner || ""),
        columns.map((column) => h("th", { scope: "col" }, column.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        h("th", { scope: "row" }, row.href ? h("a", { href: row.href }, row.label) : row.label),
        columns.map((column) => {
          const cell = row.cells[column.key];
          const value = cell && cell.n ? cell.mean : null;
          const text = value == null ? "—" : fmtScore(value);
          const href = value != null && cellHref ? cellHref(row, column) : null;
          return h("td", { class: `heat-cell ${heatClass(value)}` },
            href ? h("a", { href }, text) : text,
            cell && cell.n ? h("span", { class: "heat-n" }, ` (${cell.n})`) : null);
        }))))));
}
