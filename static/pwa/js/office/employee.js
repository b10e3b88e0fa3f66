// Attestation sheets: an employee's own sheets (their home) and one sheet with everything
// behind the points: components, weights, the formula with its numbers, and for the individual
// component every visit and item that earned or lost points. The employee acknowledges a
// frozen sheet or objects with a reason; managers, directors and HQ read the same sheet.
import { ApiError, request } from "../api.js";
import { addTexts, fmtDate, fmtDateTime, getLang, t } from "../i18n.js";
import { render } from "../main.js";
import { home, menuEntry, route } from "../routes.js";
import { app } from "../state.js";
import { badge, h, mount, uid } from "../ui.js";
import { barChart, fmtScore } from "./charts.js";
import { errorPanel, getJson } from "./data.js";

addTexts({
  ru: {
    empMySheets: "Моя аттестация", empNoPeriods: "Периодов аттестации пока нет.", empPeriod: "Период",
    empSheet: "Аттестационный лист", empPoints: "Баллы", empGrade: "Оценка", empNotGradable: "Не аттестуется в этом периоде",
    empExternalShare: "Доля внешней оценки", empRules: "Правила", empFormula: "Формула",
    empComponents: "Составляющие", empComponent: "Составляющая", empWeight: "Вес", empEffWeight: "Вес после пересчёта",
    empScore: "Балл", empStatus: "Статус", empEvidence: "Визиты и пункты за баллами",
    empVisit: "Визит", empBranch: "Филиал", empItem: "Пункт", empEarned: "Получено", empPossible: "Возможно",
    empPhotos: "Фото", empNoEvidence: "Визитов, где вы указаны, за период нет.",
    empCollective: "Филиалы (коллективный результат)", empDays: "Дней", empMean: "Средний балл",
    empInternal: "Внутренняя оценка", empEnteredBy: "Выставил", empState: "Состояние листа",
    empAcknowledge: "Ознакомлен(а), согласен(на)", empObject: "Возразить", empObjectReason: "С чем вы не согласны",
    empCommentOptional: "Комментарий (необязательно)", empSendObjection: "Отправить возражение",
    empResponses: "Ознакомление и возражения", empAnswer: "Ответ", empAcknowledged: "Ознакомление",
    empObjection: "Возражение", empDone: "Сохранено.", empFrozen: "Лист зафиксирован",
    empOpenPeriod: "Период открыт: баллы пересчитываются по мере новых проверок.",
    empChart: "Баллы составляющих", empByItem: "по пунктам визита", empCounted: "учтено",
    empCs_counted: "учтено", empCs_insufficient_evidence: "мало визитов", empCs_no_evidence: "нет данных",
    empCs_not_entered: "не выставлена", empCs_unused: "не используется",
  },
  en: {
    empMySheets: "My attestation", empNoPeriods: "No attestation periods yet.", empPeriod: "Period",
    empSheet: "Attestation sheet", empPoints: "Points", empGrade: "Grade", empNotGradable: "Not gradable this period",
    empExternalShare: "External share", empRules: "Rules", empFormula: "Formula",
    empComponents: "Components", empComponent: "Component", empWeight: "Weight", empEffWeight: "Weight after re-normalising",
    empScore: "Score", empStatus: "Status", empEvidence: "Visits and items behind the points",
    empVisit: "Visit", empBranch: "Branch", empItem: "Item", empEarned: "Earned", empPossible: "Possible",
    empPhotos: "Photos", empNoEvidence: "No visit names you in this period.",
    empCollective: "Branches (collective result)", empDays: "Days", empMean: "Mean score",
    empInternal: "Internal score", empEnteredBy: "Entered by", empState: "Sheet state",
    empAcknowledge: "I have read it and agree", empObject: "Object", empObjectReason: "What you disagree with",
    empCommentOptional: "Comment (optional)", empSendObjection: "Send the objection",
    empResponses: "Acknowledgements and objections", empAnswer: "Answer", empAcknowledged: "Acknowledged",
    empObjection: "Objection", empDone: "Saved.", empFrozen: "Sheet frozen",
    empOpenPeriod: "The period is open: points change as new audits are released.",
    empChart: "Component scores", empByItem: "by item of the visit", empCounted: "counted",
    empCs_counted: "counted", empCs_insufficient_evidence: "too few visits", empCs_no_evidence: "no data",
    empCs_not_entered: "not entered", empCs_unused: "not used",
  },
});

const API = "/api/v1";
const SHEET_READERS = ["employee", "manager", "director", "admin", "reviewer"];

function gradeText(grade) {
  if (!grade) return "—";
  return getLang() === "en" ? grade.label_en || grade.label_ru : grade.label_ru;
}

function stateBadge(state) {
  const kind = { acknowledged: "ok", objected: "warn", answered: "info", pending: "info", live: "info" }[state] || "info";
  return badge(kind, t(`mgrSheet_${state}`));
}

/** An employee's sheets, one per period, latest first. */
async function renderMySheets(view) {
  const staffId = app.me.staff_member_id;
  let rows;
  try {
    const periods = (await getJson("/attestation/periods?per_page=10")).items;
    rows = await Promise.all(periods.map(async (period) => {
      const page = await getJson(`/attestation/periods/${period.id}/sheets`);
      return { period, sheet: page.items.find((s) => s.staff_member.id === staffId) || null };
    }));
  } catch (error) {
    mount(view, h("h1", {}, t("empMySheets")), errorPanel(error));
    return;
  }
  const cards = rows.filter((r) => r.sheet).map(({ period, sheet }) => h("li", { class: "card", dataset: { period: period.id } },
    h("h2", {}, h("a", { href: `#/sheet/${period.id}/${staffId}` }, period.name)),
    h("p", { class: "muted" }, `${fmtDate(period.starts_on)} – ${fmtDate(period.ends_on)}`),
    h("p", {}, `${t("empPoints")}: `, h("strong", { "data-test": "points" }, sheet.points == null ? t("empNotGradable") : fmtScore(sheet.points)),
      sheet.grade ? ` — ${gradeText(sheet.grade)}` : ""),
    h("p", {}, stateBadge(sheet.state))));
  mount(view, h("h1", {}, t("empMySheets")),
    cards.length ? h("ul", { class: "list" }, cards) : h("p", {}, t("empNoPeriods")));
}

function componentsTable(sheet) {
  const lang = getLang();
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("empComponents") },
    h("table", { class: "data", id: "components" },
      h("caption", {}, t("empComponents")),
      h("thead", {}, h("tr", {}, [t("empComponent"), t("empWeight"), t("empEffWeight"), t("empScore"), t("empStatus")]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, sheet.components.map((c) => h("tr", { dataset: { component: c.component } },
        h("th", { scope: "row" }, lang === "en" ? c.name_en : c.name_ru,
          (lang === "en" ? c.note_en : c.note_ru) ? h("div", { class: "muted" }, lang === "en" ? c.note_en : c.note_ru) : null),
        h("td", { class: "num" }, fmtScore(c.weight)),
        h("td", { class: "num" }, fmtScore(c.effective_weight)),
        h("td", { class: "num", "data-test": "component-score" }, fmtScore(c.score)),
        h("td", {}, t(`empCs_${c.status}`)))))));
}

function evidenceSection(sheet, linkAudits) {
  if (!sheet.evidence.length) return h("section", { class: "card", id: "evidence" }, h("h2", {}, t("empEvidence")), h("p", {}, t("empNoEvidence")));
  const byAudit = new Map();
  for (const row of sheet.evidence) {
    if (!byAudit.has(row.audit_id)) byAudit.set(row.audit_id, []);
    byAudit.get(row.audit_id).push(row);
  }
  return h("section", { class: "card", id: "evidence" }, h("h2", {}, t("empEvidence")),
    [...byAudit].map(([auditId, rows]) => {
      const first = rows[0];
      const title = `${t("empVisit")} ${fmtDate(first.visit_date)}, ${first.branch?.name || ""} (${first.branch?.code || ""})`;
      const earned = rows.reduce((s, r) => s + r.earned, 0);
      const possible = rows.reduce((s, r) => s + r.possible, 0);
      return h("div", { class: "evidence-audit", dataset: { audit: auditId } },
        h("h3", {}, linkAudits ? h("a", { href: `#/audit/${auditId}` }, title) : title,
          " — ", h("span", { "data-test": "audit-points" }, `${fmtScore(earned)} / ${fmtScore(possible)}`)),
        h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": title },
          h("table", { class: "data evidence" },
            h("thead", {}, h("tr", {}, [t("empItem"), t("empEarned"), t("empPossible"), t("empPhotos")].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, rows.map((r) => h("tr", { dataset: { item: r.item_id } },
              h("th", { scope: "row" }, `${t("mgrClause")} ${r.clause} — ${r.item_text}`,
                r.earned < r.possible ? h("span", {}, " ", r.earned > 0 ? badge("warn", t("audPartly")) : badge("bad", t("audNotMet"))) : null),
              h("td", { class: "num", "data-test": "earned" }, fmtScore(r.earned)),
              h("td", { class: "num" }, fmtScore(r.possible)),
              h("td", {}, (r.photo_ids || []).map((id) => h("a", { href: `${API}/photos/${id}/display`, target: "_blank", rel: "noopener" },
                h("img", { class: "evidence-thumb", src: `${API}/photos/${id}/thumb`, alt: `${t("empPhotos")}: ${r.item_text}`, loading: "lazy" }))))))))));
    }));
}

function collectiveSection(sheet) {
  const collective = sheet.components.find((c) => c.component === "collective");
  const internal = sheet.components.find((c) => c.component === "internal");
  return [
    collective?.branches?.length ? h("section", { class: "card", id: "collective" },
      h("table", { class: "data" }, h("caption", {}, t("empCollective")),
        h("thead", {}, h("tr", {}, [t("empBranch"), t("empDays"), t("empMean")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, collective.branches.map((b) => h("tr", {},
          h("th", { scope: "row" }, `${b.name} (${b.code})`), h("td", { class: "num" }, String(b.days)), h("td", { class: "num" }, fmtScore(b.mean))))))) : null,
    internal?.internal ? h("section", { class: "card", id: "internal" }, h("h2", {}, t("empInternal")),
      h("p", {}, h("strong", {}, fmtScore(internal.internal.score)), ` — ${internal.internal.reason}`),
      h("p", { class: "muted" }, `${t("empEnteredBy")}: ${internal.internal.entered_by}, ${fmtDateTime(internal.internal.entered_at)}`)) : null,
  ];
}

function responsesSection(sheet) {
  if (!sheet.responses.length) return null;
  return h("section", { class: "card", id: "responses" }, h("h2", {}, t("empResponses")),
    h("ul", { class: "list" }, sheet.responses.map((r) => h("li", { class: "item-row" },
      h("p", {}, h("strong", {}, r.kind === "objected" ? t("empObjection") : t("empAcknowledged")), ` ${fmtDateTime(r.at)}`),
      r.comment ? h("p", {}, r.comment) : null,
      r.answer ? h("p", { class: "comment" }, h("strong", {}, `${t("empAnswer")} (${r.answered_by}, ${fmtDateTime(r.answered_at)}): `), r.answer) : null))));
}

function actionsSection(sheet, periodId, staffId) {
  if (app.me.role !== "employee" || !["pending", "answered"].includes(sheet.state)) return null;
  const status = h("p", { class: "error", role: "alert", id: "respond-error" });
  const send = async (kind, comment) => {
    status.textContent = "";
    try {
      await request("POST", `/attestation/periods/${periodId}/sheets/${staffId}/${kind}`, { json: { comment } });
      sessionStorage.setItem("sheetNotice", t("empDone"));
      await render();
    } catch (error) {
      status.textContent = error instanceof ApiError
        ? [error.message, ...Object.values(error.fields || {}).flat()].join(" ") : String(error);
    }
  };
  const ackId = uid("ack");
  const objId = uid("obj");
  const ackComment = h("textarea", { id: ackId, rows: 2 });
  const objComment = h("textarea", { id: objId, rows: 3, required: true });
  return h("section", { class: "card stack", id: "respond" },
    h("h2", {}, t("empState"), ": ", stateBadge(sheet.state)),
    h("form", { class: "stack", id: "acknowledge-form", onsubmit: (e) => { e.preventDefault(); send("acknowledge", ackComment.value.trim()); } },
      h("label", { for: ackId }, t("empCommentOptional")), ackComment,
      h("button", { type: "submit", class: "primary" }, t("empAcknowledge"))),
    h("form", { class: "stack", id: "object-form", onsubmit: (e) => { e.preventDefault(); send("object", objComment.value.trim()); } },
      h("label", { for: objId }, t("empObjectReason")), objComment,
      h("button", { type: "submit", class: "secondary" }, t("empObject"))),
    status);
}

/** One sheet: `#/sheet/<period>/<staff>`. */
export async function renderSheet(view, params) {
  const periodId = Number(params.period);
  const staffId = Number(params.staff);
  let sheet;
  try {
    sheet = await getJson(`/attestation/periods/${periodId}/sheets/${staffId}`);
  } catch (error) {
    mount(view, h("h1", {}, t("empSheet")), errorPanel(error));
    return;
  }
  const notice = sessionStorage.getItem("sheetNotice");
  sessionStorage.removeItem("sheetNotice");
  const lang = getLang();
  const back = app.me.role === "employee" ? h("a", { href: "#/sheets" }, `← ${t("empMySheets")}`) : null;
  mount(view,
    back ? h("p", {}, back) : null,
    h("h1", {}, `${t("empSheet")}: ${sheet.staff_member.full_name}`),
    notice ? h("p", { class: "card", role: "status" }, badge("ok", notice)) : null,
    h("p", { class: "muted" }, `${t("empPeriod")}: ${sheet.period.name} (${fmtDate(sheet.period.starts_on)} – ${fmtDate(sheet.period.ends_on)}); ${t("empRules")}: ${sheet.rule_set.name} v${sheet.rule_set.version}`),
    sheet.period.status === "open" ? h("p", {}, badge("info", t("empOpenPeriod")))
      : h("p", {}, badge("info", `${t("empFrozen")} ${fmtDateTime(sheet.frozen_at)}`)),
    h("dl", { class: "kpis" },
      h("div", { class: "kpi" }, h("dt", {}, t("empPoints")), h("dd", { "data-test": "sheet-points" }, sheet.points == null ? t("empNotGradable") : fmtScore(sheet.points))),
      h("div", { class: "kpi" }, h("dt", {}, t("empGrade")), h("dd", {}, h("span", { class: "muted" }, gradeText(sheet.grade)))),
      h("div", { class: "kpi" }, h("dt", {}, t("empExternalShare")), h("dd", { "data-test": "external-share" }, sheet.external_share == null ? "—" : `${fmtScore(sheet.external_share)}%`))),
    h("section", { class: "card", id: "formula" }, h("h2", {}, t("empFormula")), h("p", { class: "formula" }, lang === "en" ? sheet.formula_en : sheet.formula_ru)),
    h("section", { class: "card" }, componentsTable(sheet)),
    h("section", { class: "card" }, barChart({
      title: t("empChart"), valueLabel: t("empScore"),
      rows: sheet.components.filter((c) => c.score != null).map((c) => ({ label: lang === "en" ? c.name_en : c.name_ru, value: c.score, n: c.audits ?? null })),
    })),
    evidenceSection(sheet, app.me.role !== "employee"),
    collectiveSection(sheet),
    responsesSection(sheet),
    actionsSection(sheet, periodId, staffId));
}

route("/sheets", ["employee"], (v) => renderMySheets(v));
route("/sheet/:period/:staff", SHEET_READERS, (v, p) => renderSheet(v, p));
menuEntry({ href: "#/sheets", label: "empMySheets", roles: ["employee"], order: 10 });
home("employee", "#/sheets");
