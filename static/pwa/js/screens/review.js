// Before submit: what is missing (answers, required photos, staff descriptions), each a link
// that jumps to the item; the server's objections (422, 409) with what to fix; the submit
// button, which freezes the report into the outbox.
import { fmtDateTime, t, tr } from "../i18n.js";
import { go, redirect } from "../main.js";
import { app, assignment, checklistOf } from "../state.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { locate, missing } from "../checklist.js";
import { badge, h, mount, uid } from "../ui.js";

async function photoCounts(draft) {
  const counts = {};
  for (const p of await store.photosOf(draft.uuid)) if (!p.removed) counts[p.item_id] = (counts[p.item_id] || 0) + 1;
  for (const p of draft.server_photos || []) counts[p.item_id] = (counts[p.item_id] || 0) + 1;
  return counts;
}

function serverProblems(draft, checklist) {
  const error = draft.error;
  if (!error) return null;
  const lines = [];
  for (const [field, reasons] of Object.entries(error.fields || {})) {
    if ((field === "answers" || field === "photos") && reasons && typeof reasons === "object" && !Array.isArray(reasons)) {
      for (const [itemId, why] of Object.entries(reasons)) {
        const where = locate(checklist, itemId);
        const item = where?.section.items.find((i) => i.id === itemId);
        const text = `${item ? tr(item.text) : itemId}: ${[].concat(why).join("; ")}`;
        lines.push(h("li", {}, where ? h("a", { href: `#/v/${draft.uuid}/s/${where.sectionIndex}/${itemId}` }, text) : text));
      }
    } else {
      lines.push(h("li", {}, `${field}: ${[].concat(reasons).join("; ")}`));
    }
  }
  const conflict = draft.state === "conflict";
  return h("div", { class: `card ${conflict ? "bad" : "warn"}`, role: "alert" },
    h("h2", {}, conflict ? badge("bad", t("st_conflict")) : badge("warn", t("whatToFix"))),
    h("p", {}, error.code === "submission_differs" ? t("differs") : `${t("serverSays")}: ${error.message}`),
    lines.length ? h("ul", {}, lines) : null,
    conflict ? h("button", { type: "button", class: "secondary", onclick: async () => {
      if (!confirm(t("confirmDiscard"))) return;
      await store.forgetAudit(draft.uuid);
      go("#/");
    } }, t("discardLocal")) : null);
}

/** Draw the review screen of the visit `uuid`. */
export async function renderReview(view, uuid) {
  const draft = await store.getDraft(uuid);
  if (!draft) { redirect(view, "#/"); return; }
  const row = assignment(draft.assignment_id);
  const checklist = checklistOf(row);
  const gaps = missing(checklist, draft.answers, await photoCounts(draft));
  const staffGaps = draft.staff.filter((s) => s.staff_member_id == null && !s.description.trim());
  const list = [
    ...gaps.map((g) => h("li", {}, h("a", { href: `#/v/${uuid}/s/${g.sectionIndex}/${g.item.id}` },
      `${tr(g.section.title)} → ${tr(g.item.text)}: ${t(g.reason)}`))),
    ...staffGaps.map((s) => h("li", {}, h("a", { href: `#/v/${uuid}/staff` }, `${t("staffServed")} (${s.staff_role}): ${t("staffNeedsDescription")}`))),
  ];
  const commentId = uid("comment");
  const comment = h("textarea", { id: commentId, rows: 3, maxlength: 5000 }, draft.comment || "");
  comment.addEventListener("input", () => store.updateDraft(uuid, (d) => { d.comment = comment.value; }));
  const queued = draft.state === "queued";
  const submit = h("button", { type: "button", class: "primary", id: "submit", disabled: list.length > 0 || queued, onclick: async () => {
    const fresh = await store.getDraft(uuid);
    const now = new Date().toISOString();
    const body = {
      assignment_id: fresh.assignment_id,
      answers: fresh.answers,
      comment: fresh.comment || "",
      visit_started_at: fresh.visit_started_at,
      visit_ended_at: fresh.visit_ended_at || now,
      device_submitted_at: now,
      geo: fresh.geo || null,
      staff: fresh.staff.map((s) => ({ staff_role: s.staff_role, staff_member_id: s.staff_member_id, description: s.description || "" })),
    };
    fresh.visit_ended_at = body.visit_ended_at;
    await store.queueSubmit(fresh, body, app.me.id);
    sync.syncNow().then(() => document.dispatchEvent(new Event("outbox-changed")));
    go("#/outbox");
  } }, t("submit"));
  mount(view,
    h("p", {}, h("a", { href: `#/v/${uuid}/s/${checklist.sections.length - 1}` }, `← ${t("prev")}`)),
    h("h1", {}, t("review")),
    h("p", { class: "muted" }, `${row.branch.name} · ${t("visitStarted")}: ${fmtDateTime(draft.visit_started_at)}`),
    draft.review_comment ? h("p", { class: "comment" }, h("strong", {}, `${t("reviewerComment")}: `), draft.review_comment) : null,
    serverProblems(draft, checklist),
    h("h2", {}, t("missing")),
    list.length ? h("ul", { class: "missing", id: "missing" }, list) : h("p", { id: "missing" }, badge("ok", t("nothingMissing"))),
    h("div", { class: "stack" }, h("label", { for: commentId }, t("comment")), comment),
    queued ? h("p", { class: "banner info" }, t("submitQueued")) : null,
    submit);
}
