// The network screens of regional directors (their regions) and HQ (the whole network): the
// ranking of branches, regions compared, the branch x section heat-map, trends and decline
// alerts, leaderboards. Every branch and every heat-map cell leads to the branch dashboard
// (#/branch/:id, manager.js), and from there to the audits behind the number.
//
// The ranking holds every branch in scope (5,000 for HQ): all pages are fetched at once, sorted
// in memory, and only the page on screen is in the DOM; a row is built once and reused.
import { addTexts, fmtDate, t } from "../i18n.js";
import { go } from "../main.js";
import { home, menuEntry, route } from "../routes.js";
import { app } from "../state.js";
import { badge, h, isCurrentScreen, mount } from "../ui.js";
import { barChart, fmtChange, fmtMonth, fmtScore, heatMap, trendChart } from "./charts.js";
import { checklistBySlug, errorPanel, getJson, periodSelect, qs, sectionTitle } from "./data.js";
import { branchHref } from "./manager.js";

addTexts({
  ru: {
    hq_ratings: "Рейтинги", hq_ranking: "Рейтинг филиалов", hq_regions: "Регионы", hq_heatmap: "Тепловая карта",
    hq_trends: "Динамика", hq_leaders: "Лидеры", hq_screens: "Разделы рейтингов",
    hq_region: "Регион", hq_allRegions: "Все регионы", hq_kind: "Тип филиала", hq_allKinds: "Все типы",
    hq_checklist: "Чек-лист", hq_allChecklists: "Все чек-листы", hq_channel: "Канал", hq_allChannels: "Все каналы",
    hq_kind_store: "магазин", hq_kind_restaurant: "ресторан", hq_kind_hotel: "отель", hq_kind_service_centre: "сервисный центр",
    hq_ch_visit: "визит", hq_ch_call: "звонок", hq_ch_online: "онлайн",
    hq_rank: "Место", hq_range: "Диапазон места", hq_branch: "Филиал", hq_mean: "Балл", hq_ci: "95% ДИ",
    hq_n: "Визитов", hq_change: "Изменение", hq_rankChange: "Сдвиг места", hq_flag: "Отличие от сети",
    hq_above: "значимо выше сети", hq_below: "значимо ниже сети", hq_shrunk: "Сглаж. балл",
    hq_summary: "Ранжировано филиалов: {ranked}; в вашей зоне: {total}; среднее по сети: {mean}.",
    hq_sortBy: "Сортировать по столбцу", hq_page: "Страница {page} из {pages}", hq_prevPage: "Предыдущая страница",
    hq_nextPage: "Следующая страница", hq_noRanking: "Нет оценённых филиалов за этот период.",
    hq_rankingTable: "Рейтинг филиалов", hq_regionTable: "Регионы: среднее по филиалам",
    hq_branches: "Филиалов", hq_sd: "Разброс (σ)", hq_gap: "Разрыв лучший–худший", hq_min: "Худший", hq_max: "Лучший",
    hq_by: "Столбцы", hq_bySection: "разделы", hq_byStage: "этапы", hq_heatCaption: "Филиалы × {by}: средний балл (визитов)",
    hq_pickChecklist: "Выберите чек-лист, чтобы увидеть его разделы.", hq_noRows: "Нет данных за этот период.",
    hq_networkTrend: "Сеть: средний балл филиалов по месяцам", hq_regionTrend: "Регион {name}: средний балл по месяцам",
    hq_declines: "Сигналы о снижении", hq_noDeclines: "Снижений нет.", hq_month: "Месяц", hq_drop: "Снижение",
    hq_latest: "Последний месяц", hq_trailing: "Среднее за прошлые месяцы", hq_months: "мес.",
    hq_attPeriod: "Период аттестации", hq_noPeriods: "Периодов аттестации нет.", hq_topBranches: "Лучшие филиалы сети",
    hq_mostImproved: "Наибольший рост", hq_topEmployees: "Лучшие сотрудники", hq_topStandards: "Лучше всего выполняемые стандарты",
    hq_regionLeaders: "Лучшие филиалы региона {name}", hq_value: "Значение", hq_employee: "Сотрудник",
    hq_points: "Баллы", hq_grade: "Оценка", hq_standard: "Стандарт", hq_passRate: "Выполнение", hq_audits: "Визитов",
    hq_nobody: "Пока никого.", hq_prevMean: "Прошлый период", hq_loadingRest: "(загружаются все {n}; сортировка станет доступна)",
  },
  en: {
    hq_ratings: "Ratings", hq_ranking: "Branch ranking", hq_regions: "Regions", hq_heatmap: "Heat-map",
    hq_trends: "Trends", hq_leaders: "Leaders", hq_screens: "Rating screens",
    hq_region: "Region", hq_allRegions: "All regions", hq_kind: "Branch kind", hq_allKinds: "All kinds",
    hq_checklist: "Checklist", hq_allChecklists: "All checklists", hq_channel: "Channel", hq_allChannels: "All channels",
    hq_kind_store: "store", hq_kind_restaurant: "restaurant", hq_kind_hotel: "hotel", hq_kind_service_centre: "service centre",
    hq_ch_visit: "visit", hq_ch_call: "call", hq_ch_online: "online",
    hq_rank: "Rank", hq_range: "Rank range", hq_branch: "Branch", hq_mean: "Score", hq_ci: "95% CI",
    hq_n: "Visits", hq_change: "Change", hq_rankChange: "Rank move", hq_flag: "Against the network",
    hq_above: "significantly above", hq_below: "significantly below", hq_shrunk: "Shrunk score",
    hq_summary: "Branches ranked: {ranked}; in your scope: {total}; network mean: {mean}.",
    hq_sortBy: "Sort by this column", hq_page: "Page {page} of {pages}", hq_prevPage: "Previous page",
    hq_nextPage: "Next page", hq_noRanking: "No rated branches in this period.",
    hq_rankingTable: "Branch ranking", hq_regionTable: "Regions: mean of branch means",
    hq_branches: "Branches", hq_sd: "Spread (sd)", hq_gap: "Gap best–worst", hq_min: "Worst", hq_max: "Best",
    hq_by: "Columns", hq_bySection: "sections", hq_byStage: "stages", hq_heatCaption: "Branches × {by}: mean score (visits)",
    hq_pickChecklist: "Choose a checklist to see its sections.", hq_noRows: "No data in this period.",
    hq_networkTrend: "Network: mean of branch means by month", hq_regionTrend: "Region {name}: mean by month",
    hq_declines: "Decline alerts", hq_noDeclines: "No declines.", hq_month: "Month", hq_drop: "Drop",
    hq_latest: "Latest month", hq_trailing: "Trailing mean", hq_months: "months",
    hq_attPeriod: "Attestation period", hq_noPeriods: "No attestation periods.", hq_topBranches: "Top branches of the network",
    hq_mostImproved: "Most improved", hq_topEmployees: "Top employees", hq_topStandards: "Standards most often met",
    hq_regionLeaders: "Top branches of {name}", hq_value: "Value", hq_employee: "Employee",
    hq_points: "Points", hq_grade: "Grade", hq_standard: "Standard", hq_passRate: "Met", hq_audits: "Visits",
    hq_nobody: "Nobody yet.", hq_prevMean: "Previous period", hq_loadingRest: "(loading all {n}; sorting becomes available)",
  },
});

/** Who opens the network screens (the API limits a director to their regions). */
export const NETWORK_READERS = ["director", "admin", "reviewer"];
const KINDS = ["store", "restaurant", "hotel", "service_centre"];
const CHANNELS = ["visit", "call", "online"];
const PAGE_SIZE = 100;
const FETCH_PAGE = 500; // the API's largest page
// The ranking's page may hold a whole network: every page ranks all branches again, so one
// request of 5,000 costs a tenth of ten of 500 (bench/screens.py).
const RANKING_PAGE = 5000;

/** Fill "{name}" placeholders of a text. */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

/** The previous complete quarter ("2026-Q3" on 30 November 2026): a period with enough visits
 * to compare branches, unlike a month just begun. */
export function lastQuarter(now = new Date()) {
  let year = now.getUTCFullYear();
  let quarter = Math.floor(now.getUTCMonth() / 3);
  if (quarter === 0) { quarter = 4; year -= 1; }
  return `${year}-Q${quarter}`;
}

/** Every page of a list endpoint (`key` holds the rows), fetched in parallel after the first;
 * `size` is the page size the endpoint allows. */
export async function fetchAll(path, params, key = "items", size = FETCH_PAGE) {
  const first = await getJson(`${path}${qs({ ...params, page: 1, per_page: size })}`);
  const pages = Math.ceil((first.total || 0) / size);
  const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) }, (_, i) =>
    getJson(`${path}${qs({ ...params, page: i + 2, per_page: size })}`)));
  return { first, rows: [first, ...rest].flatMap((page) => page[key]) };
}

let regionCache = null;
/** Regions the caller may read (a director: their own), by id. */
async function regions() {
  if (!regionCache || regionCache.user !== app.me.id) {
    regionCache = { user: app.me.id, list: (await getJson("/regions?per_page=500")).items };
  }
  return regionCache.list;
}

let slugCache = null;
/** Checklist slugs (for the filter). */
async function checklistSlugs() {
  if (!slugCache) {
    const page = await getJson("/checklists?per_page=500");
    slugCache = [...new Set(page.items.map((c) => c.slug))].sort();
  }
  return slugCache;
}

/** The filter state of a network screen, read from the hash's query. */
function filtersOf(query) {
  return {
    period: query.get("period") || lastQuarter(),
    region_id: query.get("region_id") || "",
    branch_kind: query.get("branch_kind") || "",
    checklist: query.get("checklist") || "",
    channel: query.get("channel") || "",
  };
}

function selectField(id, label, value, options, onchange) {
  return h("div", {}, h("label", { for: id }, label),
    h("select", { id, name: id, onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text))));
}

/** The filter form; a change navigates (so the URL says what is shown). */
async function filterForm(screen, filters, { kinds = true, channel = true, extra = [] } = {}) {
  const [regionList, slugs] = await Promise.all([regions(), checklistSlugs()]);
  const change = (key) => (value) => go(`#/${screen}${qs({ ...filters, [key]: value })}`);
  return h("form", { class: "card filters", id: "filters", onsubmit: (e) => e.preventDefault() },
    h("div", {}, h("label", { for: "period" }, t("offPeriod")), periodSelect("period", filters.period, change("period"))),
    selectField("region_id", t("hq_region"), filters.region_id,
      [["", t("hq_allRegions")], ...regionList.map((r) => [r.id, `${r.name} (${r.code})`])], change("region_id")),
    kinds ? selectField("branch_kind", t("hq_kind"), filters.branch_kind,
      [["", t("hq_allKinds")], ...KINDS.map((k) => [k, t(`hq_kind_${k}`)])], change("branch_kind")) : null,
    selectField("checklist", t("hq_checklist"), filters.checklist,
      [["", t("hq_allChecklists")], ...slugs.map((s) => [s, s])], change("checklist")),
    channel ? selectField("channel", t("hq_channel"), filters.channel,
      [["", t("hq_allChannels")], ...CHANNELS.map((c) => [c, t(`hq_ch_${c}`)])], change("channel")) : null,
    extra);
}

/** The sub-navigation between the network screens. */
function subNav(current, filters) {
  const keep = { period: filters.period, region_id: filters.region_id, checklist: filters.checklist };
  const link = (screen, label) => h("a", {
    href: `#/${screen}${screen === "leaders" ? "" : qs(keep)}`, "aria-current": current === screen ? "page" : null,
  }, t(label));
  return h("nav", { class: "subnav", "aria-label": t("hq_screens") },
    link("ranking", "hq_ranking"), link("regions", "hq_regions"), link("heatmap", "hq_heatmap"),
    link("trends", "hq_trends"), link("leaders", "hq_leaders"));
}

function significance(flag) {
  if (flag === "above") return badge("ok", `▲ ${t("hq_above")}`);
  if (flag === "below") return badge("bad", `▼ ${t("hq_below")}`);
  return "—";
}

function rankMove(change) {
  if (change == null) return "—";
  if (change > 0) return `↑${change}`;
  if (change < 0) return `↓${-change}`;
  return "0";
}

// Sortable columns of the ranking: key -> value to sort by (null last).
const SORTS = {
  rank: (e) => e.rank,
  branch: (e) => e.branch.code,
  mean: (e) => e.rating.mean,
  n: (e) => e.rating.n,
  change: (e) => e.mean_change,
  rank_change: (e) => e.rank_change,
  shrunk: (e) => e.shrunk_rank,
};

/** A sortable table over `entries` with the page on screen only. Rows are built once (on
 * first show) and kept, so re-sorting and paging only move existing nodes. */
function rankingTable(firstEntries, total, filters, regionCodes) {
  let entries = firstEntries;
  const state = { key: "rank", dir: 1, page: 0 };
  const built = new Map();
  const tbody = h("tbody", {});
  const status = h("p", { class: "muted", id: "ranking-page", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "secondary small", onclick: () => show(state.page - 1) }, `← ${t("hq_prevPage")}`);
  const next = h("button", { type: "button", class: "secondary small", onclick: () => show(state.page + 1) }, `${t("hq_nextPage")} →`);
  let order = entries.slice();
  const rowOf = (e) => {
    let row = built.get(e.branch.id);
    if (!row) {
      const r = e.rating;
      row = h("tr", { dataset: { branch: e.branch.id } },
        h("td", { class: "num", "data-test": "rank" }, String(e.rank)),
        h("td", { class: "num", "data-test": "range" }, `${e.rank_best}–${e.rank_worst}`),
        h("th", { scope: "row" }, h("a", { href: branchHref(e.branch.id, filters.period) }, `${e.branch.name} (${e.branch.code})`)),
        h("td", {}, regionCodes.get(e.branch.region_id) || ""),
        h("td", {}, t(`hq_kind_${e.branch.kind}`)),
        h("td", { class: "num", "data-test": "mean" }, fmtScore(r.mean)),
        h("td", { class: "num" }, r.ci_low == null ? "—" : `${fmtScore(r.ci_low)}–${fmtScore(r.ci_high)}`),
        h("td", { class: "num", "data-test": "n" }, String(r.n)),
        h("td", { class: "num" }, fmtChange(e.mean_change)),
        h("td", { class: "num" }, rankMove(e.rank_change)),
        h("td", { class: "num" }, e.shrunk_mean == null ? "—" : `${fmtScore(e.shrunk_mean)} (${e.shrunk_rank})`),
        h("td", { "data-test": "flag" }, significance(e.significance)));
      built.set(e.branch.id, row);
    }
    return row;
  };
  const pages = () => Math.max(1, Math.ceil(Math.max(order.length, total) / PAGE_SIZE));
  const complete = () => entries.length >= total;
  function show(page) {
    state.page = Math.max(0, Math.min(pages() - 1, page));
    const fragment = document.createDocumentFragment();
    for (const e of order.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE)) fragment.append(rowOf(e));
    tbody.replaceChildren(fragment);
    status.textContent = fill(t("hq_page"), { page: state.page + 1, pages: pages() })
      + (complete() ? "" : ` ${fill(t("hq_loadingRest"), { n: total })}`);
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages() - 1 || !complete();
    for (const button of sortButtons) button.disabled = !complete();
  }
  const sortButtons = [];
  const headers = [];
  function sortBy(key) {
    state.dir = state.key === key ? -state.dir : (key === "mean" || key === "change" ? -1 : 1);
    state.key = key;
    const value = SORTS[key];
    order = entries.slice().sort((a, b) => {
      const x = value(a); const y = value(b);
      if (x == null && y == null) return a.rank - b.rank;
      if (x == null) return 1;
      if (y == null) return -1;
      return (x < y ? -1 : x > y ? 1 : a.rank - b.rank) * (x === y ? 1 : state.dir);
    });
    for (const th of headers) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (state.dir > 0 ? "ascending" : "descending") : "none");
    }
    show(0);
  }
  const head = (label, key, numeric) => {
    if (!key) return h("th", { scope: "col", class: numeric ? "num" : null }, label);
    const th = h("th", { scope: "col", class: numeric ? "num" : null, "aria-sort": key === "rank" ? "ascending" : "none", dataset: { key } },
      h("button", { type: "button", class: "sort", title: t("hq_sortBy"), onclick: () => sortBy(key) }, label));
    headers.push(th);
    sortButtons.push(th.querySelector("button"));
    return th;
  };
  const table = h("table", { class: "data ranking", id: "ranking" },
    h("caption", {}, t("hq_rankingTable")),
    h("thead", {}, h("tr", {},
      head(t("hq_rank"), "rank", true), head(t("hq_range"), null, true), head(t("hq_branch"), "branch"),
      head(t("hq_region")), head(t("hq_kind")), head(t("hq_mean"), "mean", true), head(t("hq_ci"), null, true),
      head(t("hq_n"), "n", true), head(t("hq_change"), "change", true), head(t("hq_rankChange"), "rank_change", true),
      head(t("hq_shrunk"), "shrunk", true), head(t("hq_flag")))),
    tbody);
  show(0);
  const node = h("div", {},
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("hq_rankingTable") }, table),
    h("div", { class: "row pager" }, prev, status, next));
  /** Every entry has arrived: sorting and paging work over all of them. */
  node.complete = (all) => {
    entries = all;
    order = all.slice();
    show(state.page);
  };
  return node;
}

/** The ranking of branches in scope, each placed among all (network or the chosen region).
 * The first page (in rank order, as shown first) comes in its own small request and is drawn
 * at once; every entry then comes in one request (a page of up to 5,000) and sorting and
 * paging cover them all. */
export async function renderRanking(view, _params, query) {
  const started = performance.now();
  delete view.dataset.rows; // set again once every entry is in (bench/screens.py waits for it)
  const filters = filtersOf(query);
  mount(view, h("h1", {}, t("hq_ranking")), subNav("ranking", filters), h("p", { class: "loading" }, t("loading")));
  let first; let form; let regionList;
  try {
    [first, form, regionList] = await Promise.all([
      getJson(`/ratings/rankings/branches${qs({ ...filters, page: 1, per_page: PAGE_SIZE })}`),
      filterForm("ranking", filters), regions()]);
  } catch (error) {
    mount(view, h("h1", {}, t("hq_ranking")), subNav("ranking", filters), errorPanel(error));
    return;
  }
  const fetched = performance.now();
  const regionCodes = new Map(regionList.map((r) => [r.id, r.code]));
  const table = first.entries.length ? rankingTable(first.entries, first.total, filters, regionCodes) : null;
  mount(view,
    h("h1", {}, t("hq_ranking")),
    subNav("ranking", filters),
    form,
    h("p", { id: "ranking-summary" }, fill(t("hq_summary"), { ranked: first.ranked, total: first.total, mean: fmtScore(first.network_mean) })),
    table || h("p", {}, t("hq_noRanking")));
  // bench/screens.py reads these marks (reading a size forces style and layout now).
  view.getBoundingClientRect();
  performance.measure("ranking-first-fetch", { start: started, end: fetched });
  performance.measure("ranking-first-render", { start: fetched, end: performance.now() });
  let rows = first.entries;
  if (table && first.total > first.entries.length) {
    try {
      rows = (await fetchAll("/ratings/rankings/branches", filters, "entries", RANKING_PAGE)).rows;
    } catch (error) {
      if (isCurrentScreen(view)) view.append(errorPanel(error));
      return;
    }
    // The rest goes into the drawn table, not through mount(): once another render has started,
    // leave this screen as it is.
    if (!isCurrentScreen(view)) return;
    const all = performance.now();
    table.complete(rows);
    view.getBoundingClientRect();
    performance.measure("ranking-all-fetch", { start: fetched, end: all });
    performance.measure("ranking-all-render", { start: all, end: performance.now() });
  }
  view.dataset.rows = String(rows.length);
}

/** The regions compared: mean of branch means, interval, rank range, spread and gap. */
export async function renderRegions(view, _params, query) {
  const filters = filtersOf(query);
  mount(view, h("h1", {}, t("hq_regions")), subNav("regions", filters), h("p", { class: "loading" }, t("loading")));
  let ranking; let form; let groups;
  try {
    const base = { ...filters, region_id: "" };
    [ranking, form] = await Promise.all([getJson(`/ratings/rankings/regions${qs(base)}`), filterForm("regions", filters)]);
    groups = await Promise.all(ranking.entries.map((e) => getJson(`/ratings/regions/${e.region.id}${qs(base)}`)));
  } catch (error) {
    mount(view, h("h1", {}, t("hq_regions")), subNav("regions", filters), errorPanel(error));
    return;
  }
  const spread = new Map(groups.map((g) => [g.region.id, g.rating]));
  const rows = ranking.entries.map((e) => {
    const s = spread.get(e.region.id) || {};
    return h("tr", { dataset: { region: e.region.id } },
      h("td", { class: "num", "data-test": "rank" }, String(e.rank)),
      h("td", { class: "num" }, `${e.rank_best}–${e.rank_worst}`),
      h("th", { scope: "row" }, h("a", { href: `#/ranking${qs({ ...filters, region_id: e.region.id })}` }, `${e.region.name} (${e.region.code})`)),
      h("td", { class: "num", "data-test": "mean" }, fmtScore(e.mean)),
      h("td", { class: "num" }, e.ci_low == null ? "—" : `${fmtScore(e.ci_low)}–${fmtScore(e.ci_high)}`),
      h("td", { class: "num" }, String(e.branches)),
      h("td", { class: "num" }, fmtScore(s.min)), h("td", { class: "num" }, fmtScore(s.max)),
      h("td", { class: "num", "data-test": "gap" }, fmtScore(s.gap)), h("td", { class: "num" }, fmtScore(e.sd)),
      h("td", { class: "num" }, fmtChange(e.mean_change)), h("td", {}, significance(e.significance)));
  });
  const cols = ["hq_rank", "hq_range", "hq_region", "hq_mean", "hq_ci", "hq_branches", "hq_min", "hq_max", "hq_gap", "hq_sd", "hq_change", "hq_flag"];
  mount(view,
    h("h1", {}, t("hq_regions")),
    subNav("regions", filters),
    form,
    h("p", {}, fill(t("hq_summary"), { ranked: ranking.ranked, total: ranking.entries.length, mean: fmtScore(ranking.network_mean) })),
    rows.length ? h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("hq_regionTable") },
      h("table", { class: "data", id: "regions-table" }, h("caption", {}, t("hq_regionTable")),
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, rows))) : h("p", {}, t("hq_noRows")),
    rows.length ? h("section", { class: "card" }, barChart({
      title: t("hq_regionTable"), valueLabel: t("hq_mean"),
      rows: ranking.entries.map((e) => ({ label: e.region.code, value: e.mean, n: e.branches })),
    })) : null);
}

/** Branches x sections (of one checklist) or x stages, each cell a link to the branch. */
export async function renderHeatmap(view, _params, query) {
  const filters = filtersOf(query);
  const by = query.get("by") === "stage" ? "stage" : "section";
  const page = Math.max(0, Number(query.get("page") || 0));
  const screen = (...body) => mount(view, h("h1", {}, t("hq_heatmap")), subNav("heatmap", filters), ...body);
  screen(h("p", { class: "loading" }, t("loading")));
  let matrix; let form;
  try {
    const byField = selectField("by", t("hq_by"), by, [["section", t("hq_bySection")], ["stage", t("hq_byStage")]],
      (value) => go(`#/heatmap${qs({ ...filters, by: value })}`));
    [matrix, form] = await Promise.all([
      getJson(`/ratings/matrix${qs({ ...filters, by })}`),
      filterForm("heatmap", { ...filters, by }, { extra: [byField] })]);
  } catch (error) {
    screen(errorPanel(error));
    return;
  }
  let columns = matrix.columns;
  if (by === "section" && filters.checklist) columns = columns.filter((c) => c.startsWith(`${filters.checklist}:`));
  if (by === "section" && !filters.checklist) {
    const slugs = [...new Set(columns.map((c) => c.split(":")[0]))];
    if (slugs.length > 1) {
      screen(form, h("p", { class: "card" }, t("hq_pickChecklist")),
        h("ul", {}, slugs.map((s) => h("li", {}, h("a", { href: `#/heatmap${qs({ ...filters, checklist: s })}` }, s)))));
      return;
    }
  }
  if (by === "section" && columns.length) await checklistBySlug(columns[0].split(":")[0]);
  const labelled = await Promise.all(columns.map(async (key) =>
    ({ key, label: by === "stage" ? t(`offStage_${key}`) : await sectionTitle(key) })));
  const rows = matrix.rows.filter((r) => columns.some((c) => r.cells[c]?.n))
    .sort((a, b) => (b.rating.mean ?? -1) - (a.rating.mean ?? -1));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const pageLink = (p, label) => (p >= 0 && p < pages
    ? h("a", { href: `#/heatmap${qs({ ...filters, by, page: p || "" })}` }, label) : null);
  screen(form,
    shown.length ? heatMap({
      caption: fill(t("hq_heatCaption"), { by: by === "stage" ? t("hq_byStage") : t("hq_bySection") }),
      corner: t("hq_branch"),
      columns: labelled,
      rows: shown.map((r) => ({
        key: r.branch.id, label: `${r.branch.code} · ${fmtScore(r.rating.mean)}`,
        href: branchHref(r.branch.id, filters.period), cells: r.cells,
      })),
      cellHref: (row) => branchHref(row.key, filters.period, filters.checklist ? { checklist: filters.checklist } : {}),
    }) : h("p", {}, t("hq_noRows")),
    pages > 1 ? h("p", { class: "row pager" }, pageLink(page - 1, `← ${t("hq_prevPage")}`),
      fill(t("hq_page"), { page: page + 1, pages }), pageLink(page + 1, `${t("hq_nextPage")} →`)) : null);
  view.querySelector("table.heat")?.setAttribute("id", "heatmap");
}

/** Monthly trends of the network and the regions in scope, and the decline alerts. */
export async function renderTrends(view, _params, query) {
  const filters = filtersOf(query);
  const months = query.get("months") === "24" ? 24 : 12;
  const screen = (...body) => mount(view, h("h1", {}, t("hq_trends")), subNav("trends", filters), ...body);
  screen(h("p", { class: "loading" }, t("loading")));
  let form; let network; let regionTrends; let declines; let regionList;
  try {
    regionList = await regions();
    const base = { checklist: filters.checklist, channel: filters.channel, branch_kind: filters.branch_kind, months };
    const shownRegions = filters.region_id ? regionList.filter((r) => String(r.id) === String(filters.region_id)) : regionList;
    const monthsField = selectField("months", t("hq_trends"), months, [[12, `12 ${t("hq_months")}`], [24, `24 ${t("hq_months")}`]],
      (value) => go(`#/trends${qs({ ...filters, months: value })}`));
    [form, network, regionTrends, declines] = await Promise.all([
      filterForm("trends", { ...filters, months }, { extra: [monthsField] }),
      app.me.role === "director" ? null : getJson(`/ratings/network/trend${qs(base)}`),
      Promise.all(shownRegions.slice(0, 12).map(async (r) => ({ region: r, trend: await getJson(`/ratings/regions/${r.id}/trend${qs(base)}`) }))),
      getJson(`/ratings/declines${qs({ checklist: filters.checklist, channel: filters.channel, branch_kind: filters.branch_kind, region_id: filters.region_id })}`),
    ]);
  } catch (error) {
    screen(errorPanel(error));
    return;
  }
  const alerts = declines.alerts;
  const alertCard = h("section", { class: `card ${alerts.length ? "alert-card" : ""}`, id: "declines" },
    h("h2", {}, alerts.length ? badge("bad", `${t("hq_declines")}: ${alerts.length}`) : t("hq_declines")),
    h("p", { class: "muted" }, `${t("hq_month")}: ${fmtMonth(declines.month)}`),
    alerts.length ? h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("hq_declines") },
      h("table", { class: "data" },
        h("thead", {}, h("tr", {}, [t("hq_branch"), t("hq_latest"), t("hq_trailing"), t("hq_drop")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, alerts.map((a) => h("tr", { dataset: { branch: a.branch.id } },
          h("th", { scope: "row" }, h("a", { href: branchHref(a.branch.id, a.month.slice(0, 7)) }, `${a.branch.name} (${a.branch.code})`)),
          h("td", { class: "num" }, `${fmtScore(a.latest_mean)} (${a.latest_n})`),
          h("td", { class: "num" }, `${fmtScore(a.trailing_mean)} (${a.trailing_n})`),
          h("td", { class: "num", "data-test": "drop" }, `−${fmtScore(a.drop)}`))))))
      : h("p", {}, t("hq_noDeclines")));
  screen(form, alertCard,
    network ? h("section", { class: "card", id: "network-trend" },
      trendChart({ title: t("hq_networkTrend"), points: network.points, seriesLabel: t("hq_mean") })) : null,
    h("div", { class: "grid two" }, regionTrends.map(({ region, trend }) => h("section", { class: "card" },
      trendChart({ title: fill(t("hq_regionTrend"), { name: region.name }), points: trend.points, seriesLabel: t("hq_mean") })))));
}

function boardTable(caption, head, rows, id) {
  if (!rows.length) return h("section", { class: "card", id }, h("h2", {}, caption), h("p", {}, t("hq_nobody")));
  return h("section", { class: "card", id }, h("h2", {}, caption),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption },
      h("table", { class: "data" },
        h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))));
}

function branchBoard(caption, entries, period, id, change = false) {
  return boardTable(caption, [t("hq_rank"), t("hq_branch"), t("hq_region"), t("hq_value"), t("hq_audits")],
    entries.map((e) => h("tr", {},
      h("td", { class: "num" }, String(e.rank)),
      h("th", { scope: "row" }, h("a", { href: branchHref(e.branch.id, period) }, `${e.branch.name} (${e.branch.code})`)),
      h("td", {}, e.region?.code || ""),
      h("td", { class: "num", "data-test": "value" }, change ? fmtChange(e.value) : fmtScore(e.value)),
      h("td", { class: "num" }, e.audits == null ? "—" : String(e.audits)))), id);
}

/** Leaderboards of an attestation period: top branches (network and each region), most
 * improved, top employees and the standards most often met. */
export async function renderLeaders(view, _params, query) {
  const screen = (...body) => mount(view, h("h1", {}, t("hq_leaders")), subNav("leaders", filtersOf(query)), ...body);
  screen(h("p", { class: "loading" }, t("loading")));
  let periods; let boards;
  try {
    periods = (await getJson("/attestation/periods?per_page=100")).items;
    if (!periods.length) { screen(h("p", {}, t("hq_noPeriods"))); return; }
    const chosen = query.get("period_id") || periods[0].id;
    boards = await getJson(`/attestation/periods/${chosen}/leaderboards${qs({ limit: 10 })}`);
  } catch (error) {
    screen(errorPanel(error));
    return;
  }
  const p = boards.period;
  const monthOf = `${p.starts_on.slice(0, 7)}..${p.ends_on.slice(0, 7)}`;
  const picker = h("form", { class: "card filters", onsubmit: (e) => e.preventDefault() },
    selectField("period_id", t("hq_attPeriod"), p.id,
      periods.map((x) => [x.id, `${x.name} (${fmtDate(x.starts_on)} – ${fmtDate(x.ends_on)})`]),
      (value) => go(`#/leaders${qs({ period_id: value })}`)));
  const lang = document.documentElement.lang;
  screen(picker,
    h("div", { class: "grid two" },
      branchBoard(t("hq_topBranches"), boards.top_branches, monthOf, "top-branches"),
      branchBoard(t("hq_mostImproved"), boards.most_improved, monthOf, "most-improved", true),
      boardTable(t("hq_topEmployees"), [t("hq_rank"), t("hq_employee"), t("hq_points"), t("hq_grade")],
        boards.top_employees.map((e) => h("tr", {},
          h("td", { class: "num" }, String(e.rank)),
          h("th", { scope: "row" }, `${e.staff_member.full_name} (${e.staff_member.employee_code})`),
          h("td", { class: "num" }, fmtScore(e.points)),
          h("td", {}, e.grade ? (lang === "en" ? e.grade.label_en : e.grade.label_ru) : "—"))), "top-employees"),
      boardTable(t("hq_topStandards"), [t("hq_standard"), t("hq_passRate"), t("hq_audits")],
        boards.standards.map((s) => h("tr", {},
          h("th", { scope: "row" }, `${s.checklist} · ${s.clause} (${s.item_id})`),
          h("td", { class: "num" }, `${fmtScore(s.pass_rate)}%`), h("td", { class: "num" }, String(s.audits)))), "top-standards")),
    boards.regions.map((r) => branchBoard(fill(t("hq_regionLeaders"), { name: r.region?.name || "" }), r.branches, monthOf)));
}

route("/ranking", NETWORK_READERS, renderRanking);
route("/regions", NETWORK_READERS, renderRegions);
route("/heatmap", NETWORK_READERS, renderHeatmap);
route("/trends", NETWORK_READERS, renderTrends);
route("/leaders", NETWORK_READERS, renderLeaders);
menuEntry({ href: "#/ranking", label: "hq_ratings", roles: NETWORK_READERS, order: 40 });
home("director", "#/ranking");
