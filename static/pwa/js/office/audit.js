// One released audit as the branch side reads it: answers by section with each item's clause,
// points and photos, the guidance of every item that was not met (what to train), the score
// breakdown, the disputes of each item, and (managers) disputing an item with a reason and
// an optional photo. The shopper is never shown: the API does not send who it was.
import { ApiError, request } from "../api.js";
import { addTexts, fmtDateTime, getLang, t, tr } from "../i18n.js";
import { render } from "../main.js";
import { preparePhoto } from "../photo.js";
import { route } from "../routes.js";
import { app, newUuid } from "../state.js";
import { badge, h, mount, uid } from "../ui.js";
import { barChart, fmtScore } from "./charts.js";
import { checklistVersion, errorPanel, getJson, STAGES } from "./data.js";
import { BRANCH_READERS } from "./manager.js";

addTexts({
  ru: {
    audTitle: "Проверка", audVisit: "Визит", audReleased: "Опубликована", audScore: "Итоговый балл",
    audBreakdown: "Баллы по разделам", audStages: "Баллы по этапам", audAnswer: "Ответ",
    audPoints: "баллы", audMet: "выполнено", audPartly: "частично", audNotMet: "не выполнено",
    audNa: "не применимо", audCriticalFailed: "Провален критичный пункт", audWhatToTrain: "Чему обучать (стандарт)",
    audPhotosOf: "Фото к пункту", audDispute: "Оспорить пункт", audDisputeReason: "Почему вы не согласны",
    audDisputePhoto: "Фото в подтверждение (необязательно)", audDisputeSend: "Отправить оспаривание",
    audDisputeSent: "Оспаривание отправлено.", audDisputes: "Оспаривания пункта", audCancel: "Отмена",
    audReportPdf: "Отчёт о проверке (PDF)", audPhotosZip: "Фото проверки (ZIP)", audToBranch: "К показателям филиала",
    audComment: "Комментарий проверяющего визит", audStaff: "Кто обслуживал", audNoChecklist: "Описание чек-листа недоступно.",
    audDisputeStatus: "Статус", audWindowClosed: "Срок оспаривания истёк.", audAlreadyOpen: "Этот пункт уже оспаривается.",
    audStale: "Проверка изменилась, пока вы её читали. Обновите страницу и повторите.",
    audRequested: "Верный, по-вашему, ответ (необязательно)", audNoRequest: "— не указывать —",
  },
  en: {
    audTitle: "Audit", audVisit: "Visit", audReleased: "Released", audScore: "Total score",
    audBreakdown: "Scores by section", audStages: "Scores by stage", audAnswer: "Answer",
    audPoints: "points", audMet: "met", audPartly: "partly met", audNotMet: "not met",
    audNa: "not applicable", audCriticalFailed: "A critical item failed", audWhatToTrain: "What to train (the standard)",
    audPhotosOf: "Photos of the item", audDispute: "Dispute this item", audDisputeReason: "Why you disagree",
    audDisputePhoto: "A photo in support (optional)", audDisputeSend: "Send the dispute",
    audDisputeSent: "The dispute is sent.", audDisputes: "Disputes of the item", audCancel: "Cancel",
    audReportPdf: "Audit report (PDF)", audPhotosZip: "Audit photos (ZIP)", audToBranch: "To the branch results",
    audComment: "Comment of the visit", audStaff: "Who served", audNoChecklist: "The checklist's description is not available.",
    audDisputeStatus: "Status", audWindowClosed: "The time to dispute is over.", audAlreadyOpen: "This item is already disputed.",
    audStale: "The audit changed while you were reading it. Reload the page and try again.",
    audRequested: "The answer you think is right (optional)", audNoRequest: "— do not say —",
  },
});

const API = "/api/v1";

function answerText(item, value) {
  if (value === undefined) return "—";
  if (value === null) return t("audNa");
  if (item.type === "yes_no") return value ? t("yes") : t("no");
  if (item.type === "choice") return tr(item.options?.find((o) => o.id === value)?.label) || String(value);
  if (item.type === "number") return `${value}${item.unit ? ` ${tr(item.unit)}` : ""}`;
  if (item.type === "scale") return `${value} / ${item.max}`;
  return String(value);
}

function resultBadge(result) {
  if (!result) return null;
  if (result.na) return badge("info", t("audNa"));
  if (result.fraction >= 1) return badge("ok", t("audMet"));
  if (result.fraction > 0) return badge("warn", t("audPartly"));
  return badge("bad", t("audNotMet"));
}

function disputeMessage(error) {
  if (error.code === "dispute_window_closed") return t("audWindowClosed");
  if (error.code === "dispute_open") return t("audAlreadyOpen");
  if (error.code === "stale_version") return t("audStale");
  const fields = Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`);
  return [error.message, ...fields].join(" ");
}

/** The answers a manager may ask for instead of the recorded one ([value, label]); number
 * items take a typed value instead (null here). */
function answerChoices(item) {
  const choices = [];
  if (item.type === "yes_no") choices.push([true, t("yes")], [false, t("no")]);
  else if (item.type === "scale") for (let v = item.min; v <= item.max; v += 1) choices.push([v, String(v)]);
  else if (item.type === "choice") for (const o of item.options || []) choices.push([o.id, tr(o.label)]);
  else if (item.type !== "number") return [];
  if (item.na) choices.push([null, t("audNa")]);
  return choices;
}

/** The optional "right answer" field of a dispute: {field, value()} (value undefined: none). */
function requestedField(item, id) {
  if (item.type === "number") {
    const input = h("input", { id, type: "number", inputmode: "decimal", step: "any" });
    return { field: input, value: () => (input.value === "" ? undefined : Number(input.value)) };
  }
  const choices = answerChoices(item);
  if (!choices.length) return null;
  const select = h("select", { id },
    h("option", { value: "" }, t("audNoRequest")),
    choices.map(([, label], index) => h("option", { value: String(index) }, label)));
  return { field: select, value: () => (select.value === "" ? undefined : choices[Number(select.value)][0]) };
}

/** The dispute form of one item (manager): a reason, the right answer and a photo (both
 * optional), send. */
function disputeForm(audit, item, onDone) {
  const reasonId = uid("reason");
  const photoId = uid("dphoto");
  const requestedId = uid("requested");
  const requested = requestedField(item, requestedId);
  const status = h("p", { class: "error", role: "alert" });
  const reason = h("textarea", { id: reasonId, name: "reason", required: true, minLength: 3, rows: 3 });
  const photo = h("input", { id: photoId, name: "photo", type: "file", accept: "image/*" });
  const send = h("button", { type: "submit", class: "primary" }, t("audDisputeSend"));
  const form = h("form", { class: "stack dispute-form", onsubmit: async (event) => {
    event.preventDefault();
    status.textContent = "";
    send.disabled = true;
    try {
      const body = { item_id: item.id, reason: reason.value.trim(), version: audit.version };
      const wanted = requested?.value();
      if (wanted !== undefined) body.requested_value = wanted;
      if (photo.files[0]) {
        const prepared = await preparePhoto(photo.files[0]);
        const photoUuid = newUuid();
        const upload = new FormData();
        upload.append("item_id", item.id);
        upload.append("photo_uuid", photoUuid);
        upload.append("file", new Blob([prepared.bytes], { type: "image/jpeg" }), "dispute.jpg");
        await request("POST", `/audits/${audit.id}/dispute-photos`, { form: upload });
        body.photo_uuid = photoUuid;
      }
      await request("POST", `/audits/${audit.id}/disputes`, { json: body });
      onDone();
    } catch (error) {
      status.textContent = error instanceof ApiError ? disputeMessage(error) : String(error);
      send.disabled = false;
    }
  } },
    h("label", { for: reasonId }, t("audDisputeReason")), reason,
    requested ? [h("label", { for: requestedId }, t("audRequested")), requested.field] : null,
    h("label", { for: photoId }, t("audDisputePhoto")), photo,
    h("div", { class: "row" }, send,
      h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("audCancel"))),
    status);
  return form;
}

function itemBlock(audit, item, photos, canDispute) {
  const result = audit.score_detail?.items?.[item.id];
  const value = audit.answers[item.id];
  const failed = result && !result.na && result.fraction < 1;
  const disputes = audit.disputes.filter((d) => d.item_id === item.id);
  const block = h("li", { class: "item-row", id: `audit-item-${item.id}`, dataset: { item: item.id } },
    h("h3", {}, `${t("mgrClause")} ${item.clause} — ${tr(item.text)}`),
    h("p", {}, `${t("audAnswer")}: `, h("strong", {}, answerText(item, value)), " ",
      result ? h("span", { "data-test": "points" }, `(${fmtScore(result.earned)} / ${fmtScore(result.possible)} ${t("audPoints")})`) : null,
      " ", resultBadge(result)),
    failed && item.guidance ? h("div", { class: "guidance" }, h("strong", {}, `${t("audWhatToTrain")}: `), tr(item.guidance)) : null,
    photos.length ? h("ul", { class: "thumbs", "aria-label": t("audPhotosOf") }, photos.map((p) => h("li", {},
      h("a", { href: `${API}/photos/${p.id}/display`, target: "_blank", rel: "noopener" },
        h("img", { src: `${API}/photos/${p.id}/thumb`, alt: `${t("audPhotosOf")}: ${tr(item.text)}`, loading: "lazy" }))))) : null,
    disputes.length ? h("div", {}, h("h4", {}, t("audDisputes")), h("ul", {}, disputes.map((d) => h("li", { class: "dispute" },
      badge(d.status === "open" ? "info" : d.status === "upheld" ? "ok" : "warn", t(`mgrDs_${d.status}`)), " ",
      `${fmtDateTime(d.raised_at)}: ${d.reason}`, d.resolution ? ` — ${d.resolution}` : "")))) : null);
  if (canDispute && result && !disputes.some((d) => d.status === "open")) {
    const open = h("button", { type: "button", class: "secondary small", dataset: { dispute: item.id }, onclick: () => {
      if (block.querySelector(".dispute-form")) return;
      const form = disputeForm(audit, item, async () => {
        sessionStorage.setItem("auditNotice", t("audDisputeSent"));
        await render();
      });
      block.append(form);
      form.querySelector("textarea").focus();
    } }, t("audDispute"));
    block.append(h("p", {}, open));
  }
  return block;
}

/** One audit: `#/audit/<id>`. */
export async function renderAudit(view, params) {
  const auditId = Number(params.id);
  let audit; let definition;
  try {
    audit = await getJson(`/audits/${auditId}`);
    definition = await checklistVersion(audit.checklist_version_id);
  } catch (error) {
    mount(view, h("h1", {}, t("audTitle")), errorPanel(error));
    return;
  }
  const notice = sessionStorage.getItem("auditNotice");
  sessionStorage.removeItem("auditNotice");
  const detail = audit.score_detail || {};
  const canDispute = app.me.role === "manager" && audit.status === "released";
  const photos = audit.photos.filter((p) => p.status === "ready" && p.purpose !== "dispute");
  const sections = definition?.sections || [];
  const place = (id) => { const i = sections.findIndex((s) => s.id === id); return i < 0 ? 9999 : i; };
  const sectionRows = Object.entries(detail.sections || {}).sort(([a], [b]) => place(a) - place(b)).map(([id, part]) => ({
    label: tr(sections.find((s) => s.id === id)?.title) || id, value: part.score, n: null,
  }));
  const stageRows = STAGES.filter((id) => detail.stages?.[id])
    .map((id) => ({ label: t(`offStage_${id}`), value: detail.stages[id].score, n: null }));
  const lang = getLang();
  mount(view,
    h("p", {}, h("a", { href: `#/branch/${audit.branch_id}` }, `← ${t("audToBranch")}`)),
    h("h1", {}, `${t("audTitle")} #${audit.id} — ${audit.branch_code}`),
    notice ? h("p", { class: "card", role: "status" }, badge("ok", notice)) : null,
    h("dl", { class: "kpis" },
      h("div", { class: "kpi" }, h("dt", {}, t("audScore")), h("dd", { "data-test": "audit-score" }, fmtScore(audit.score))),
      h("div", { class: "kpi" }, h("dt", {}, t("audVisit")), h("dd", {}, h("span", { class: "muted" }, fmtDateTime(audit.visit_started_at)))),
      h("div", { class: "kpi" }, h("dt", {}, t("mgrChecklist")), h("dd", {}, h("span", { class: "muted" }, `${tr(definition?.title) || audit.checklist_slug} v${audit.checklist_version}`))),
      h("div", { class: "kpi" }, h("dt", {}, t("audReleased")), h("dd", {}, h("span", { class: "muted" }, fmtDateTime(audit.released_at))))),
    (detail.critical_failed || []).length ? h("p", {}, badge("bad", `${t("audCriticalFailed")}: ${detail.critical_failed.join(", ")}`)) : null,
    h("div", { class: "grid two" },
      h("section", { class: "card" }, barChart({ title: t("audBreakdown"), rows: sectionRows, valueLabel: t("mgrScore") })),
      h("section", { class: "card" }, barChart({ title: t("audStages"), rows: stageRows, valueLabel: t("mgrScore") }))),
    definition ? sections.map((section) => h("section", { class: "card", id: `section-${section.id}` },
      h("h2", {}, `${tr(section.title)}: ${fmtScore(detail.sections?.[section.id]?.score)}`),
      h("ul", { class: "list" }, section.items.filter((item) => item.type !== "text" || audit.answers[item.id])
        .map((item) => itemBlock(audit, item, photos.filter((p) => p.item_id === item.id), canDispute)))))
      : h("p", { class: "card" }, t("audNoChecklist")),
    audit.comment ? h("section", { class: "card" }, h("h2", {}, t("audComment")), h("p", {}, audit.comment)) : null,
    h("section", { class: "card" }, h("h2", {}, t("mgrDownloads")), h("ul", { class: "downloads" },
      h("li", {}, h("a", { href: `${API}/audits/${audit.id}/report.pdf?lang=${lang}`, download: "" }, t("audReportPdf"))),
      h("li", {}, h("a", { href: `${API}/audits/${audit.id}/photos.zip`, download: "" }, t("audPhotosZip"))))));
}

route("/audit/:id", BRANCH_READERS, (v, p) => renderAudit(v, p));
