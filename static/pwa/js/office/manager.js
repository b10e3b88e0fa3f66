// The branch dashboard (a store manager's home; directors, reviewers and admins drill down to
// it): rating with its interval, places in the region and the network, change, trend, stage
// and section scores, weakest standards with what to train, decline alert, the audits behind
// the number, disputes, staff attestation sheets and downloads. Numbers come from the API
// as they are; only their display is rounded (one decimal, as the PDFs print them).
import { addTexts, fmtDate, getLang, t, tr } from "../i18n.js";
import { go } from "../main.js";
import { home, menuEntry, route } from "../routes.js";
import { app } from "../state.js";
import { badge, h, mount } from "../ui.js";
import { barChart, fmtChange, fmtMonth, fmtScore, trendChart } from "./charts.js";
import { checklistBySlug, currentMonth, errorPanel, findItem, getJson, periodSelect, qs, sectionInfo, STAGES } from "./data.js";

addTexts({
  ru: {
    mgrBranch: "Филиал", mgrPickBranch: "Выберите филиал", mgrDashboard: "Показатели филиала",
    mgrRating: "Рейтинг", mgrVisits: "визитов", mgrCi: "95% ДИ", mgrNoCi: "интервал не считается (меньше 2 визитов)",
    mgrTooFew: "Мало визитов для надёжной оценки", mgrChange: "Изменение к прошлому периоду",
    mgrPrevious: "прошлый период", mgrRankRegion: "Место в регионе", mgrRankNetwork: "Место в сети",
    mgrOf: "из", mgrRange: "возможные места", mgrRankChange: "изменение места",
    mgrAbove: "Значимо выше среднего по сети", mgrBelow: "Значимо ниже среднего по сети",
    mgrNetworkMean: "Среднее по сети", mgrTrend: "Динамика по месяцам", mgrMonths: "месяцев",
    mgrMonthlyMean: "Средний балл", mgrStages: "Баллы по этапам", mgrSections: "Баллы по разделам",
    mgrScore: "Балл", mgrWeakest: "Слабые стандарты: чему обучать",
    mgrPassRate: "выполнение", mgrApplied: "визитов, где применимо", mgrClause: "п.",
    mgrNoWeak: "Нет данных за период.", mgrDecline: "Снижение показателей",
    mgrDeclineText: "Средний балл за {month} — {latest}, на {drop} ниже среднего за предыдущие месяцы ({trailing}).",
    mgrNoDecline: "Снижения не обнаружено.", mgrAudits: "Проверки за период",
    mgrVisitDay: "Дата визита", mgrChecklist: "Чек-лист", mgrChannel: "Канал", mgrNoAudits: "Опубликованных проверок за период нет.",
    mgrDisputes: "Оспаривания", mgrNoDisputes: "Оспариваний нет.", mgrAudit: "Проверка", mgrItem: "Пункт",
    mgrRaised: "Подано", mgrState: "Статус", mgrResolution: "Решение",
    mgrDs_open: "на рассмотрении", mgrDs_upheld: "удовлетворено", mgrDs_rejected: "отклонено",
    mgrSheets: "Аттестационные листы сотрудников", mgrEmployee: "Сотрудник", mgrPoints: "Баллы",
    mgrGrade: "Оценка", mgrNoSheets: "Листов нет.", mgrNoPeriod: "Периодов аттестации нет.",
    mgrSheet_live: "период открыт", mgrSheet_pending: "ждёт ознакомления", mgrSheet_objected: "есть возражение",
    mgrSheet_answered: "дан ответ", mgrSheet_acknowledged: "ознакомлен",
    mgrDownloads: "Отчёты и выгрузки", mgrScorecard: "Карточка филиала (PDF)",
    mgrAuditsCsv: "Проверки (CSV)", mgrAuditsXlsx: "Проверки (XLSX)", mgrAnswersCsv: "Ответы (CSV)",
    mgrAnswersXlsx: "Ответы (XLSX)", mgrShow: "Показать", mgrNotGraded: "не аттестуется",
    mgrCh_visit: "визит", mgrCh_call: "звонок", mgrCh_online: "онлайн",
  },
  en: {
    mgrBranch: "Branch", mgrPickBranch: "Choose a branch", mgrDashboard: "Branch results",
    mgrRating: "Rating", mgrVisits: "visits", mgrCi: "95% CI", mgrNoCi: "no interval (fewer than 2 visits)",
    mgrTooFew: "Too few visits for a reliable rating", mgrChange: "Change against the previous period",
    mgrPrevious: "previous period", mgrRankRegion: "Place in the region", mgrRankNetwork: "Place in the network",
    mgrOf: "of", mgrRange: "plausible places", mgrRankChange: "change of place",
    mgrAbove: "Significantly above the network mean", mgrBelow: "Significantly below the network mean",
    mgrNetworkMean: "Network mean", mgrTrend: "Monthly trend", mgrMonths: "months",
    mgrMonthlyMean: "Mean score", mgrStages: "Scores by stage", mgrSections: "Scores by section",
    mgrScore: "Score", mgrWeakest: "Weakest standards: what to train",
    mgrPassRate: "met", mgrApplied: "visits where it applied", mgrClause: "cl.",
    mgrNoWeak: "No data for the period.", mgrDecline: "Decline",
    mgrDeclineText: "The mean for {month} is {latest}, {drop} below the mean of the months before ({trailing}).",
    mgrNoDecline: "No decline found.", mgrAudits: "Audits in the period",
    mgrVisitDay: "Visit day", mgrChecklist: "Checklist", mgrChannel: "Channel", mgrNoAudits: "No released audits in the period.",
    mgrDisputes: "Disputes", mgrNoDisputes: "No disputes.", mgrAudit: "Audit", mgrItem: "Item",
    mgrRaised: "Raised", mgrState: "Status", mgrResolution: "Decision",
    mgrDs_open: "under review", mgrDs_upheld: "upheld", mgrDs_rejected: "rejected",
    mgrSheets: "Staff attestation sheets", mgrEmployee: "Employee", mgrPoints: "Points",
    mgrGrade: "Grade", mgrNoSheets: "No sheets.", mgrNoPeriod: "No attestation periods.",
    mgrSheet_live: "period open", mgrSheet_pending: "awaiting acknowledgement", mgrSheet_objected: "objected",
    mgrSheet_answered: "answered", mgrSheet_acknowledged: "acknowledged",
    mgrDownloads: "Reports and exports", mgrScorecard: "Branch scorecard (PDF)",
    mgrAuditsCsv: "Audits (CSV)", mgrAuditsXlsx: "Audits (XLSX)", mgrAnswersCsv: "Answers (CSV)",
    mgrAnswersXlsx: "Answers (XLSX)", mgrShow: "Show", mgrNotGraded: "not gradable",
    mgrCh_visit: "visit", mgrCh_call: "call", mgrCh_online: "online",
  },
});

const API = "/api/v1";
/** Who may open a branch dashboard (the API limits each to their branches). */
export const BRANCH_READERS = ["manager", "director", "admin", "reviewer"];

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

/** The link to a branch dashboard (what the HQ screens use to drill down). */
export function branchHref(branchId, period, extra = {}) {
  return `#/branch/${branchId}${qs({ period, ...extra })}`;
}

/** A manager's start: their branch's dashboard, or a choice when they have several. */
async function renderBranchPicker(view) {
  const ids = app.me.branch_ids || [];
  if (ids.length === 1) { go(branchHref(ids[0])); return; }
  let branches = [];
  try {
    branches = (await getJson("/branches?per_page=100")).items;
  } catch (error) {
    mount(view, h("h1", {}, t("mgrPickBranch")), errorPanel(error));
    return;
  }
  mount(view, h("h1", {}, t("mgrPickBranch")),
    h("ul", { class: "list" }, branches.map((b) => h("li", { class: "card" },
      h("a", { href: branchHref(b.id) }, `${b.name} (${b.code})`),
      b.city ? h("p", { class: "muted" }, b.city) : null))));
}

function periodText(period) {
  const first = fmtMonth(period.first_month);
  const last = fmtMonth(period.last_month);
  return first === last ? first : `${first} – ${last}`;
}

function kpi(label, value, ...notes) {
  return h("div", { class: "kpi" }, h("dt", {}, label),
    h("dd", {}, value, notes.filter(Boolean).map((note) => h("span", { class: "muted" }, note))));
}

function placeKpi(label, place, testId) {
  if (!place) return kpi(label, "—");
  const change = place.rank_change == null ? null
    : `${t("mgrRankChange")}: ${place.rank_change > 0 ? `+${place.rank_change}` : place.rank_change}`;
  return kpi(label, h("span", { "data-test": testId }, `${place.rank} ${t("mgrOf")} ${place.of}`),
    h("span", { "data-test": `${testId}-range` }, `${t("mgrRange")}: ${place.rank_best}–${place.rank_worst}`), change);
}

function ratingCard(body) {
  const r = body.rating;
  const ci = r.ci_low == null ? t("mgrNoCi")
    : h("span", { "data-test": "ci" }, `${t("mgrCi")}: ${fmtScore(r.ci_low)}–${fmtScore(r.ci_high)}`);
  const significance = body.significance === "above" ? badge("ok", t("mgrAbove"))
    : body.significance === "below" ? badge("bad", t("mgrBelow")) : null;
  return h("section", { "aria-labelledby": "kpi-h" },
    h("h2", { id: "kpi-h", class: "visually-hidden" }, t("mgrRating")),
    h("dl", { class: "kpis" },
      kpi(t("mgrRating"), h("span", { "data-test": "mean" }, fmtScore(r.mean)), ci,
        h("span", { "data-test": "n" }, `${r.n} ${t("mgrVisits")}`)),
      kpi(t("mgrChange"), h("span", { "data-test": "change" }, fmtChange(body.mean_change)),
        `${t("mgrPrevious")}: ${fmtScore(body.previous?.mean)}`),
      placeKpi(t("mgrRankRegion"), body.places?.region, "rank-region"),
      placeKpi(t("mgrRankNetwork"), body.places?.network, "rank-network")),
    r.too_few_visits ? h("p", {}, badge("warn", t("mgrTooFew"))) : null,
    significance ? h("p", {}, significance) : null,
    h("p", { class: "muted" }, `${t("mgrNetworkMean")}: ${fmtScore(body.network_mean)}`));
}

function declineCard(trend) {
  const d = trend.decline;
  if (!d) return h("p", { class: "muted", id: "decline" }, t("mgrNoDecline"));
  return h("section", { class: "card alert-card", id: "decline", role: "alert" },
    h("h2", {}, badge("bad", t("mgrDecline"))),
    h("p", {}, fill(t("mgrDeclineText"), {
      month: fmtMonth(d.month), latest: fmtScore(d.latest_mean), drop: fmtScore(d.drop), trailing: fmtScore(d.trailing_mean),
    })));
}

async function breakdownCharts(body) {
  const stages = body.breakdowns?.stage || {};
  const order = STAGES.filter((s) => stages[s]);
  const stageRows = order.map((key) => ({ label: t(`offStage_${key}`), value: stages[key].mean, n: stages[key].n }));
  const sections = body.breakdowns?.section || {};
  const infos = await Promise.all(Object.entries(sections).map(async ([key, s]) =>
    ({ info: await sectionInfo(key), value: s.mean, n: s.n })));
  infos.sort((a, b) => a.info.order[0].localeCompare(b.info.order[0]) || a.info.order[1] - b.info.order[1]);
  const sectionRows = infos.map((row) => ({ label: row.info.title, value: row.value, n: row.n }));
  return h("div", { class: "grid two" },
    h("section", { class: "card", id: "stages" }, barChart({ title: t("mgrStages"), rows: stageRows, valueLabel: t("mgrScore") })),
    h("section", { class: "card", id: "sections" }, barChart({ title: t("mgrSections"), rows: sectionRows, valueLabel: t("mgrScore") })));
}

async function weakestCard(standards) {
  const rows = await Promise.all(standards.weakest.map(async (w) => {
    const definition = await checklistBySlug(w.checklist);
    const found = findItem(definition, w.item_id);
    const guidance = found?.item.guidance ? tr(found.item.guidance) : "";
    return h("li", { class: "item-row", dataset: { item: w.item_id } },
      h("h3", {}, `${t("mgrClause")} ${w.clause} — ${tr(w.text)}`),
      h("p", {}, h("strong", { "data-test": "pass-rate" }, `${fmtScore(w.pass_rate * 100)}%`), ` ${t("mgrPassRate")}; ${w.n} ${t("mgrApplied")}`),
      guidance ? h("p", { class: "guidance" }, guidance) : null);
  }));
  return h("section", { class: "card", id: "weakest" }, h("h2", {}, t("mgrWeakest")),
    rows.length ? h("ol", { class: "list" }, rows) : h("p", {}, t("mgrNoWeak")));
}

function auditsCard(counted) {
  if (!counted.items.length) return h("section", { class: "card", id: "audits" }, h("h2", {}, t("mgrAudits")), h("p", {}, t("mgrNoAudits")));
  return h("section", { class: "card", id: "audits" }, h("h2", {}, t("mgrAudits")),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("mgrAudits") },
      h("table", { class: "data" },
        h("thead", {}, h("tr", {}, [t("mgrVisitDay"), t("mgrChecklist"), t("mgrChannel"), t("mgrScore")]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, counted.items.map((a) => h("tr", { dataset: { audit: a.audit_id } },
          h("th", { scope: "row" }, h("a", { href: `#/audit/${a.audit_id}` }, fmtDate(a.visit_date))),
          h("td", {}, a.checklist_slug), h("td", {}, t(`mgrCh_${a.channel}`)),
          h("td", { class: "num", "data-test": "score" }, fmtScore(a.score))))))));
}

function disputesCard(disputes) {
  return h("section", { class: "card", id: "disputes" }, h("h2", {}, t("mgrDisputes")),
    disputes.items.length ? h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("mgrDisputes") },
      h("table", { class: "data" },
        h("thead", {}, h("tr", {}, [t("mgrAudit"), t("mgrItem"), t("mgrRaised"), t("mgrState"), t("mgrResolution")]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, disputes.items.map((d) => h("tr", {},
          h("th", { scope: "row" }, h("a", { href: `#/audit/${d.audit_id}` }, `#${d.audit_id}`)),
          h("td", {}, d.item_id), h("td", {}, fmtDate(d.raised_at.slice(0, 10))),
          h("td", {}, badge(d.status === "open" ? "info" : d.status === "upheld" ? "ok" : "warn", t(`mgrDs_${d.status}`))),
          h("td", {}, d.resolution || "—")))))) : h("p", {}, t("mgrNoDisputes")));
}

function sheetsCard(period, sheets) {
  const head = h("h2", {}, t("mgrSheets"), period ? ` — ${period.name}` : "");
  if (!period) return h("section", { class: "card", id: "sheets" }, head, h("p", {}, t("mgrNoPeriod")));
  if (!sheets.items.length) return h("section", { class: "card", id: "sheets" }, head, h("p", {}, t("mgrNoSheets")));
  const lang = getLang();
  return h("section", { class: "card", id: "sheets" }, head,
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("mgrSheets") },
      h("table", { class: "data" },
        h("thead", {}, h("tr", {}, [t("mgrEmployee"), t("mgrPoints"), t("mgrGrade"), t("mgrState")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, sheets.items.map((s) => h("tr", {},
          h("th", { scope: "row" }, h("a", { href: `#/sheet/${period.id}/${s.staff_member.id}` }, s.staff_member.full_name)),
          h("td", { class: "num" }, s.points == null ? t("mgrNotGraded") : fmtScore(s.points)),
          h("td", {}, s.grade ? (lang === "en" ? s.grade.label_en || s.grade.label_ru : s.grade.label_ru) : "—"),
          h("td", {}, t(`mgrSheet_${s.state}`))))))));
}

function downloadsCard(branchId, period) {
  const lang = getLang();
  const link = (href, label) => h("li", {}, h("a", { href: `${API}${href}`, download: "" }, label));
  const exportOf = (kind, format) => `/exports/${kind}${qs({ format, branch_id: branchId, lang })}`;
  return h("section", { class: "card", id: "downloads" }, h("h2", {}, t("mgrDownloads")),
    h("ul", { class: "downloads" },
      link(`/ratings/branches/${branchId}/scorecard.pdf${qs({ period, lang })}`, t("mgrScorecard")),
      link(exportOf("audits", "csv"), t("mgrAuditsCsv")), link(exportOf("audits", "xlsx"), t("mgrAuditsXlsx")),
      link(exportOf("answers", "csv"), t("mgrAnswersCsv")), link(exportOf("answers", "xlsx"), t("mgrAnswersXlsx"))));
}

async function sheetsOf(branchId) {
  const periods = await getJson("/attestation/periods?per_page=1");
  const period = periods.items[0] || null;
  if (!period) return { period: null, sheets: { items: [] } };
  return { period, sheets: await getJson(`/attestation/periods/${period.id}/sheets${qs({ branch_id: branchId, per_page: 100 })}`) };
}

/** The dashboard of one branch for `?period=` (default this month) and `?months=12|24`. */
export async function renderBranch(view, params, query) {
  const branchId = Number(params.id);
  const period = query.get("period") || currentMonth();
  const months = query.get("months") === "24" ? 24 : 12;
  mount(view, h("h1", {}, t("mgrDashboard")), h("p", { class: "loading" }, t("loading")));
  let rating; let trend; let standards; let counted; let disputes; let attestation;
  try {
    rating = await getJson(`/ratings/branches/${branchId}${qs({ period })}`);
    const until = rating.period.last_month.slice(0, 7);
    [trend, standards, counted, disputes, attestation] = await Promise.all([
      getJson(`/ratings/branches/${branchId}/trend${qs({ months, until })}`),
      getJson(`/ratings/branches/${branchId}/standards${qs({ period, limit: 5 })}`),
      getJson(`/ratings/branches/${branchId}/audits${qs({ period, per_page: 100 })}`),
      getJson(`/disputes${qs({ branch_id: branchId, status: "any", per_page: 100 })}`),
      sheetsOf(branchId),
    ]);
  } catch (error) {
    mount(view, h("h1", {}, t("mgrDashboard")), errorPanel(error));
    return;
  }
  const b = rating.branch;
  const several = app.me.role === "manager" && (app.me.branch_ids || []).length > 1;
  const controls = h("form", { class: "card filters", onsubmit: (e) => e.preventDefault() },
    h("div", {}, h("label", { for: "period" }, t("offPeriod")),
      periodSelect("period", period, (value) => go(branchHref(branchId, value, { months })))),
    h("div", {}, h("label", { for: "months" }, t("mgrTrend")),
      h("select", { id: "months", onchange: (e) => go(branchHref(branchId, period, { months: e.target.value })) },
        [12, 24].map((m) => h("option", { value: m, selected: m === months }, `${m} ${t("mgrMonths")}`)))),
    several ? h("div", {}, h("a", { href: "#/branch" }, t("mgrPickBranch"))) : null);
  const [charts, weakest] = await Promise.all([breakdownCharts(rating), weakestCard(standards)]);
  mount(view,
    h("h1", {}, `${b.name} (${b.code})`),
    h("p", { class: "muted", id: "period-shown" }, `${t("offPeriod")}: ${periodText(rating.period)}`),
    controls,
    ratingCard(rating),
    declineCard(trend),
    h("section", { class: "card", id: "trend" }, trendChart({
      title: `${t("mgrTrend")} (${months} ${t("mgrMonths")})`, points: trend.points, seriesLabel: t("mgrMonthlyMean"),
    })),
    charts,
    weakest,
    auditsCard(counted),
    disputesCard(disputes),
    sheetsCard(attestation.period, attestation.sheets),
    downloadsCard(branchId, period));
}

route("/branch", ["manager"], (v) => renderBranchPicker(v));
route("/branch/:id", BRANCH_READERS, (v, p, q) => renderBranch(v, p, q));
menuEntry({ href: "#/branch", label: "mgrBranch", roles: ["manager"], order: 10 });
home("manager", "#/branch");
