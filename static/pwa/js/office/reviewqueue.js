// QA's screens (reviewers and admins): the review queue with its red flags, one submitted
// report with the flags, answers and photos side by side (approve, return with a comment,
// reject; release once approved), the waves to release, and the open disputes to resolve.
// Every action sends the audit's `version` as read: a 409 means someone acted in between.
import { request } from "../api.js";
import { addTexts, fmtDateTime, t, tr } from "../i18n.js";
import { go, render } from "../main.js";
import { home, menuEntry, route } from "../routes.js";
import { badge, h, mount, uid } from "../ui.js";
import { fmtScore } from "./charts.js";
import { checklistVersion, errorPanel, findItem, getJson, qs } from "./data.js";
import { fill } from "./director.js";

addTexts({
  ru: {
    rv_queue: "Проверка отчётов", rv_disputes: "Оспаривания", rv_waves: "Публикация волн",
    rv_empty: "Очередь пуста.", rv_total: "Отчётов в очереди: {n}", rv_branch: "Филиал", rv_checklist: "Чек-лист",
    rv_shopper: "Тайный покупатель", rv_submitted: "Отправлен", rv_score: "Балл", rv_flags: "Красные флаги",
    rv_noFlags: "Флагов нет", rv_open: "Открыть", rv_report: "Отчёт", rv_visit: "Визит", rv_answers: "Ответы и фото",
    rv_photos: "Фото", rv_noPhotos: "Без фото", rv_reusedFrom: "Это фото уже было в отчёте №{id}",
    rv_thisPhoto: "Фото этого отчёта", rv_earlierPhoto: "Фото из отчёта №{id}", rv_captured: "Снято",
    rv_comment: "Комментарий для покупателя", rv_commentHint: "Обязателен при возврате и отклонении.",
    rv_approve: "Принять", rv_return: "Вернуть на доработку", rv_reject: "Отклонить", rv_release: "Опубликовать",
    rv_done_approve: "Отчёт №{id} принят.", rv_done_return: "Отчёт №{id} возвращён покупателю.",
    rv_done_reject: "Отчёт №{id} отклонён.", rv_done_release: "Отчёт №{id} опубликован.",
    rv_stale: "Отчёт изменился, пока вы его читали: страница обновлена, решите снова.",
    rv_needComment: "Напишите комментарий.", rv_confirmReject: "Отклонить отчёт? Он не будет учитываться в рейтингах.",
    rv_wave: "Волна", rv_dates: "Сроки", rv_approved: "Принято, ждёт публикации", rv_releaseWave: "Опубликовать волну",
    rv_released: "Опубликовано отчётов: {n}.", rv_noWaves: "Волн нет.", rv_shopperComment: "Комментарий покупателя",
    rv_staff: "Кто обслуживал", rv_item: "Пункт", rv_reason: "Довод филиала", rv_requested: "Просит значение",
    rv_raised: "Подано", rv_noDisputes: "Открытых оспариваний нет.", rv_decision: "Решение",
    rv_uphold: "Удовлетворить (изменить ответ)", rv_rejectDispute: "Отклонить", rv_newValue: "Новое значение ответа",
    rv_newValueHint: "JSON: true, false, число, \"текст\" или null (не применимо).", rv_resolveReason: "Обоснование решения",
    rv_resolve: "Принять решение", rv_resolved: "Оспаривание №{id} решено.", rv_current: "Текущий ответ",
    rv_history: "История", rv_status: "Статус", rv_geo: "Местоположение", rv_duration: "Длительность визита",
    rv_minutes: "мин", rv_toQueue: "К очереди",
    rv_flag_visit_too_short: "Слишком короткий визит", rv_flag_visit_time_missing: "Нет времени визита",
    rv_flag_visit_outside_window: "Визит вне срока задания", rv_flag_photo_time_outside_visit: "Фото снято вне визита",
    rv_flag_photo_reused: "Фото уже было в другом отчёте", rv_flag_far_from_branch: "Далеко от филиала",
    rv_flag_late_submission: "Поздняя отправка",
  },
  en: {
    rv_queue: "Review queue", rv_disputes: "Disputes", rv_waves: "Release waves",
    rv_empty: "The queue is empty.", rv_total: "Reports in the queue: {n}", rv_branch: "Branch", rv_checklist: "Checklist",
    rv_shopper: "Mystery shopper", rv_submitted: "Submitted", rv_score: "Score", rv_flags: "Red flags",
    rv_noFlags: "No flags", rv_open: "Open", rv_report: "Report", rv_visit: "Visit", rv_answers: "Answers and photos",
    rv_photos: "Photos", rv_noPhotos: "No photos", rv_reusedFrom: "This photo was already in report #{id}",
    rv_thisPhoto: "Photo of this report", rv_earlierPhoto: "Photo of report #{id}", rv_captured: "Taken",
    rv_comment: "Comment for the shopper", rv_commentHint: "Required to return or reject.",
    rv_approve: "Approve", rv_return: "Return for fixes", rv_reject: "Reject", rv_release: "Release",
    rv_done_approve: "Report #{id} approved.", rv_done_return: "Report #{id} returned to the shopper.",
    rv_done_reject: "Report #{id} rejected.", rv_done_release: "Report #{id} released.",
    rv_stale: "The report changed while you were reading it: the page is reloaded, decide again.",
    rv_needComment: "Write a comment.", rv_confirmReject: "Reject the report? It will never count in ratings.",
    rv_wave: "Wave", rv_dates: "Dates", rv_approved: "Approved, awaiting release", rv_releaseWave: "Release the wave",
    rv_released: "Reports released: {n}.", rv_noWaves: "No waves.", rv_shopperComment: "Shopper's comment",
    rv_staff: "Who served", rv_item: "Item", rv_reason: "Branch's reason", rv_requested: "Asks for value",
    rv_raised: "Raised", rv_noDisputes: "No open disputes.", rv_decision: "Decision",
    rv_uphold: "Uphold (change the answer)", rv_rejectDispute: "Reject", rv_newValue: "New value of the answer",
    rv_newValueHint: "JSON: true, false, a number, \"text\" or null (not applicable).", rv_resolveReason: "Reason for the decision",
    rv_resolve: "Decide", rv_resolved: "Dispute #{id} resolved.", rv_current: "Current answer",
    rv_history: "History", rv_status: "Status", rv_geo: "Location", rv_duration: "Visit length",
    rv_minutes: "min", rv_toQueue: "To the queue",
    rv_flag_visit_too_short: "Visit too short", rv_flag_visit_time_missing: "Visit time missing",
    rv_flag_visit_outside_window: "Visit outside the window", rv_flag_photo_time_outside_visit: "Photo taken outside the visit",
    rv_flag_photo_reused: "Photo seen in another report", rv_flag_far_from_branch: "Far from the branch",
    rv_flag_late_submission: "Late submission",
  },
});

const QA = ["reviewer", "admin"];
const API = "/api/v1";
let notice = null; // shown once on the next screen (after an action)

function noticeCard() {
  const text = notice;
  notice = null;
  return text ? h("p", { class: "banner info", role: "status", id: "notice" }, text) : null;
}

function flagList(flags) {
  if (!flags?.length) return h("p", { class: "flags" }, badge("ok", t("rv_noFlags")));
  return h("ul", { class: "flags list" }, flags.map((f) => h("li", { dataset: { flag: f.code } }, badge("warn", t(`rv_flag_${f.code}`)), " ", h("span", { class: "muted", lang: "en" }, f.message))));
}

function subNav(current) {
  const link = (href, label) => h("a", { href, "aria-current": current === href ? "page" : null }, t(label));
  return h("nav", { class: "subnav", "aria-label": t("rv_queue") },
    link("#/review", "rv_queue"), link("#/review/waves", "rv_waves"), link("#/disputes", "rv_disputes"));
}

/** The queue: submitted reports, oldest first, each with its flags. */
export async function renderQueue(view, _params, query) {
  const page = Math.max(1, Number(query.get("page") || 1));
  mount(view, h("h1", {}, t("rv_queue")), subNav("#/review"), h("p", { class: "loading" }, t("loading")));
  let queue;
  try {
    queue = await getJson(`/review/queue${qs({ page, per_page: 50 })}`);
  } catch (error) {
    mount(view, h("h1", {}, t("rv_queue")), subNav("#/review"), errorPanel(error));
    return;
  }
  const pages = Math.max(1, Math.ceil(queue.total / queue.per_page));
  const cards = queue.items.map((a) => h("li", { class: `card ${a.flags?.length ? "warn" : ""}`, dataset: { audit: a.id } },
    h("h2", {}, h("a", { href: `#/review/${a.id}` }, `№${a.id} · ${a.branch_code} · ${a.checklist_slug}`)),
    h("p", { class: "muted" }, `${t("rv_shopper")}: ${a.shopper_name || a.shopper_id} · ${t("rv_submitted")}: ${fmtDateTime(a.submitted_at)}`),
    h("p", {}, `${t("rv_score")}: `, h("strong", { "data-test": "score" }, fmtScore(a.score))),
    flagList(a.flags)));
  mount(view, h("h1", {}, t("rv_queue")), subNav("#/review"), noticeCard(),
    h("p", { id: "queue-total" }, fill(t("rv_total"), { n: queue.total })),
    cards.length ? h("ul", { class: "list", id: "queue" }, cards) : h("p", {}, t("rv_empty")),
    pages > 1 ? h("p", { class: "row pager" },
      page > 1 ? h("a", { href: `#/review?page=${page - 1}` }, "←") : null,
      `${page} / ${pages}`,
      page < pages ? h("a", { href: `#/review?page=${page + 1}` }, "→") : null) : null);
}

function answerText(item, value) {
  if (value === undefined) return "—";
  if (value === null) return t("na");
  if (item?.type === "yes_no") return value ? t("yes") : t("no");
  if (item?.type === "choice") return tr(item.options?.find((o) => o.id === value)?.label) || String(value);
  if (item?.type === "number") return `${value}${item.unit ? ` ${tr(item.unit)}` : ""}`;
  if (item?.type === "scale") return `${value} / ${item.max}`;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function photoFigure(photoId, caption) {
  return h("figure", { class: "rv-photo" },
    h("a", { href: `${API}/photos/${photoId}/display`, target: "_blank", rel: "noopener" },
      h("img", { src: `${API}/photos/${photoId}/thumb`, alt: caption, loading: "lazy", width: 160, height: 160 })),
    h("figcaption", {}, caption));
}

/** An item's row: the answer and points on one side, its photos (and any earlier copy of a
 * reused photo) on the other. */
function itemRow(item, sectionTitle, audit) {
  const value = audit.answers[item.id];
  const result = audit.score_detail?.items?.[item.id];
  const photos = (audit.photos || []).filter((p) => p.item_id === item.id && p.status !== "withdrawn" && p.purpose !== "dispute");
  const points = result && !result.na ? `${fmtScore(result.earned)} / ${fmtScore(result.possible)}` : "";
  const photoCells = photos.map((p) => h("div", { class: "rv-pair" },
    photoFigure(p.id, `${t("rv_thisPhoto")}${p.captured_at ? ` · ${t("rv_captured")} ${fmtDateTime(p.captured_at)}` : ""}`),
    p.reused_from_photo_id ? photoFigure(p.reused_from_photo_id, fill(t("rv_earlierPhoto"), { id: p.reused_from_photo_id })) : null,
    p.reused_from_photo_id ? h("p", { class: "error" }, badge("warn", fill(t("rv_reusedFrom"), { id: p.reused_from_photo_id }))) : null));
  return h("li", { class: `rv-item ${photos.some((p) => p.reused_from_photo_id) ? "flagged" : ""}`, dataset: { item: item.id } },
    h("div", { class: "rv-answer" },
      h("h3", {}, item.clause ? h("span", { class: "clause" }, `${item.clause} `) : null, tr(item.text)),
      h("p", { class: "muted" }, sectionTitle),
      h("p", {}, h("strong", {}, answerText(item, value)), points ? ` · ${points}` : "")),
    h("div", { class: "rv-photos" }, photoCells.length ? photoCells : h("p", { class: "muted" }, t("rv_noPhotos"))));
}

async function act(audit, action, comment, status) {
  const path = action === "release" ? `/audits/${audit.id}/release` : `/audits/${audit.id}/${action}`;
  const body = action === "release" ? { version: audit.version } : { version: audit.version, comment };
  try {
    await request("POST", path, { json: body });
  } catch (error) {
    if (error.status === 409) { notice = t("rv_stale"); render(); return; }
    status.textContent = [error.message, ...Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`)].join(" ");
    return;
  }
  notice = fill(t(`rv_done_${action}`), { id: audit.id });
  go(action === "approve" ? `#/review/${audit.id}` : "#/review");
}

/** One report for QA: flags, visit facts, answers beside photos, and the decision. */
export async function renderReviewAudit(view, params) {
  const id = Number(params.id);
  mount(view, h("h1", {}, `${t("rv_report")} №${id}`), h("p", { class: "loading" }, t("loading")));
  let audit; let definition;
  try {
    audit = await getJson(`/audits/${id}`);
    definition = await checklistVersion(audit.checklist_version_id);
  } catch (error) {
    mount(view, h("h1", {}, `${t("rv_report")} №${id}`), errorPanel(error));
    return;
  }
  const commentId = uid("rv-comment");
  const comment = h("textarea", { id: commentId, name: "comment", rows: 3, maxlength: 5000, "aria-describedby": `${commentId}-hint` });
  const status = h("p", { class: "error", role: "alert", id: "action-error" });
  const needComment = (fn) => () => {
    if (!comment.value.trim()) { status.textContent = t("rv_needComment"); comment.focus(); return; }
    fn();
  };
  const actions = [];
  if (audit.status === "submitted") {
    actions.push(
      h("button", { type: "button", class: "primary", id: "approve", onclick: () => act(audit, "approve", comment.value, status) }, t("rv_approve")),
      h("button", { type: "button", class: "secondary", id: "return", onclick: needComment(() => act(audit, "return", comment.value, status)) }, t("rv_return")),
      h("button", { type: "button", class: "secondary danger", id: "reject", onclick: needComment(() => {
        if (confirm(t("rv_confirmReject"))) act(audit, "reject", comment.value, status);
      }) }, t("rv_reject")));
  } else if (audit.status === "approved") {
    actions.push(h("button", { type: "button", class: "primary", id: "release", onclick: () => act(audit, "release", "", status) }, t("rv_release")));
  }
  const minutes = audit.visit_started_at && audit.visit_ended_at
    ? Math.round((new Date(audit.visit_ended_at) - new Date(audit.visit_started_at)) / 6000) / 10 : null;
  const rows = (definition?.sections || []).flatMap((section) =>
    section.items.filter((item) => item.id in audit.answers || audit.photos?.some((p) => p.item_id === item.id))
      .map((item) => itemRow(item, tr(section.title), audit)));
  const flaggedFirst = rows.filter((r) => r.classList.contains("flagged")).concat(rows.filter((r) => !r.classList.contains("flagged")));
  mount(view,
    h("p", {}, h("a", { href: "#/review" }, `← ${t("rv_toQueue")}`)),
    h("h1", {}, `${t("rv_report")} №${audit.id} · ${audit.branch_code}`),
    subNav(""),
    noticeCard(),
    h("div", { class: "grid two rv-top" },
      h("section", { class: `card ${audit.flags?.length ? "warn" : ""}`, id: "flags" }, h("h2", {}, t("rv_flags")), flagList(audit.flags)),
      h("section", { class: "card" }, h("h2", {}, t("rv_visit")),
        h("dl", { class: "facts" },
          h("dt", {}, t("rv_status")), h("dd", { id: "audit-status" }, t(`st_${audit.status}`)),
          h("dt", {}, t("rv_checklist")), h("dd", {}, `${audit.checklist_slug} v${audit.checklist_version}`),
          h("dt", {}, t("rv_shopper")), h("dd", {}, audit.shopper_name || String(audit.shopper_id)),
          h("dt", {}, t("rv_submitted")), h("dd", {}, fmtDateTime(audit.submitted_at)),
          h("dt", {}, t("rv_duration")), h("dd", {}, minutes == null ? "—" : `${minutes} ${t("rv_minutes")}`),
          h("dt", {}, t("rv_geo")), h("dd", {}, audit.geo_lat == null ? "—" : `${audit.geo_lat.toFixed(5)}, ${audit.geo_lon.toFixed(5)} (±${Math.round(audit.geo_accuracy_m || 0)} m)`),
          h("dt", {}, t("rv_score")), h("dd", { "data-test": "score" }, fmtScore(audit.score))),
        audit.comment ? h("p", { class: "comment" }, h("strong", {}, `${t("rv_shopperComment")}: `), audit.comment) : null,
        audit.staff_served?.length ? h("p", {}, h("strong", {}, `${t("rv_staff")}: `),
          audit.staff_served.map((s) => `${s.staff_role}: ${s.staff_member_name || s.description || s.staff_member_id || "—"}`).join("; ")) : null)),
    actions.length ? h("section", { class: "card stack", id: "decision" },
      audit.status === "submitted" ? [h("label", { for: commentId }, t("rv_comment")), comment,
        h("p", { class: "muted", id: `${commentId}-hint` }, t("rv_commentHint"))] : null,
      h("div", { class: "row" }, actions), status) : null,
    h("section", { class: "card" }, h("h2", {}, t("rv_answers")),
      h("ul", { class: "list rv-items", id: "answers" }, flaggedFirst)));
}

/** Waves with approved reports waiting, and the button that releases a whole wave. */
export async function renderWaves(view) {
  mount(view, h("h1", {}, t("rv_waves")), subNav("#/review/waves"), h("p", { class: "loading" }, t("loading")));
  let waves; let approved;
  try {
    waves = (await getJson("/waves?per_page=30")).items;
    approved = await Promise.all(waves.map((w) => getJson(`/audits${qs({ wave_id: w.id, status: "approved", per_page: 1 })}`).then((p) => p.total)));
  } catch (error) {
    mount(view, h("h1", {}, t("rv_waves")), subNav("#/review/waves"), errorPanel(error));
    return;
  }
  const rows = waves.map((w, i) => {
    const result = h("span", { role: "status" });
    const button = h("button", { type: "button", class: "secondary small", disabled: approved[i] === 0, onclick: async () => {
      button.disabled = true;
      try {
        const { data } = await request("POST", `/waves/${w.id}/release`);
        notice = fill(t("rv_released"), { n: data.released ?? data.count ?? 0 });
        render();
      } catch (error) {
        result.textContent = error.message;
        button.disabled = false;
      }
    } }, t("rv_releaseWave"));
    return h("tr", { dataset: { wave: w.id } },
      h("th", { scope: "row" }, w.name),
      h("td", {}, `${w.starts_on} – ${w.ends_on}`),
      h("td", { class: "num", "data-test": "approved" }, String(approved[i])),
      h("td", {}, button, result));
  });
  mount(view, h("h1", {}, t("rv_waves")), subNav("#/review/waves"), noticeCard(),
    rows.length ? h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("rv_waves") },
      h("table", { class: "data", id: "waves" },
        h("thead", {}, h("tr", {}, [t("rv_wave"), t("rv_dates"), t("rv_approved"), ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))) : h("p", {}, t("rv_noWaves")));
}

function disputeCard(d, audit, definition) {
  const found = findItem(definition, d.item_id);
  const decisionId = uid("decision");
  const valueId = uid("value");
  const reasonId = uid("reason");
  const status = h("p", { class: "error", role: "alert" });
  const decision = h("select", { id: decisionId, name: "decision" },
    h("option", { value: "uphold" }, t("rv_uphold")), h("option", { value: "reject" }, t("rv_rejectDispute")));
  const value = h("input", { id: valueId, name: "new_value", value: d.requested_value === undefined ? "" : JSON.stringify(d.requested_value), "aria-describedby": `${valueId}-hint` });
  const reason = h("textarea", { id: reasonId, name: "reason", rows: 2, required: true });
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    status.textContent = "";
    const body = { decision: decision.value, reason: reason.value.trim(), version: audit.version };
    if (decision.value === "uphold" && value.value.trim() !== "") {
      try { body.new_value = JSON.parse(value.value); } catch { body.new_value = value.value; }
    }
    try {
      await request("POST", `/disputes/${d.id}/resolve`, { json: body });
    } catch (error) {
      status.textContent = error.status === 409 ? t("rv_stale")
        : [error.message, ...Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`)].join(" ");
      return;
    }
    notice = fill(t("rv_resolved"), { id: d.id });
    render();
  } },
    h("label", { for: decisionId }, t("rv_decision")), decision,
    h("label", { for: valueId }, t("rv_newValue")), value, h("p", { class: "muted", id: `${valueId}-hint` }, t("rv_newValueHint")),
    h("label", { for: reasonId }, t("rv_resolveReason")), reason,
    h("button", { type: "submit", class: "primary" }, t("rv_resolve")), status);
  return h("li", { class: "card", dataset: { dispute: d.id } },
    h("h2", {}, h("a", { href: `#/review/${d.audit_id}` }, `№${d.audit_id} · ${audit.branch_code}`), ` · ${found ? tr(found.item.text) : d.item_id}`),
    h("dl", { class: "facts" },
      h("dt", {}, t("rv_current")), h("dd", {}, answerText(found?.item, audit.answers?.[d.item_id])),
      h("dt", {}, t("rv_requested")), h("dd", {}, d.requested_value === undefined ? "—" : answerText(found?.item, d.requested_value)),
      h("dt", {}, t("rv_raised")), h("dd", {}, fmtDateTime(d.raised_at))),
    h("p", { class: "comment" }, h("strong", {}, `${t("rv_reason")}: `), d.reason),
    d.photo_id ? photoFigure(d.photo_id, t("rv_photos")) : null,
    form);
}

/** Open disputes, oldest first, each with the current answer and the decision form. */
export async function renderDisputes(view) {
  mount(view, h("h1", {}, t("rv_disputes")), subNav("#/disputes"), h("p", { class: "loading" }, t("loading")));
  let cards;
  try {
    const disputes = (await getJson("/disputes?per_page=100")).items;
    cards = await Promise.all(disputes.map(async (d) => {
      const audit = await getJson(`/audits/${d.audit_id}`);
      return disputeCard(d, audit, await checklistVersion(audit.checklist_version_id));
    }));
  } catch (error) {
    mount(view, h("h1", {}, t("rv_disputes")), subNav("#/disputes"), errorPanel(error));
    return;
  }
  mount(view, h("h1", {}, t("rv_disputes")), subNav("#/disputes"), noticeCard(),
    cards.length ? h("ul", { class: "list", id: "disputes" }, cards) : h("p", {}, t("rv_noDisputes")));
}

route("/review", QA, renderQueue);
route("/review/waves", QA, renderWaves);
route("/review/:id", QA, renderReviewAudit);
route("/disputes", QA, renderDisputes);
menuEntry({ href: "#/review", label: "rv_queue", roles: QA, order: 20 });
menuEntry({ href: "#/disputes", label: "rv_disputes", roles: QA, order: 30 });
home("reviewer", "#/review");
