// The assignment list (open visits, returned reports with the reviewer's comment) and one
// assignment with the button that starts (or continues) the visit.
import { fmtDate, fmtDateTime, t, tr } from "../i18n.js";
import { go, redirect } from "../main.js";
import { app, assignment, checklistOf, draftOfAssignment, refreshFromServer, startVisit } from "../state.js";
import * as store from "../store.js";
import { badge, h, mount } from "../ui.js";

function statusOf(row, draft) {
  if (draft) {
    const kind = { queued: "info", needs_fix: "warn", conflict: "bad" }[draft.state] || "info";
    return badge(kind, t(draft.state === "editing" ? "st_draft" : `st_${draft.state}`));
  }
  const status = row.audit ? row.audit.status : "assigned";
  return badge(status === "returned" ? "warn" : "info", t(`st_${status}`));
}

function windowText(row) {
  const part = row.day_part ? `, ${t(`dp_${row.day_part}`)}` : "";
  return `${fmtDate(row.window_start)} – ${fmtDate(row.window_end)}${part}`;
}

/** The list of open assignments. */
export async function renderAssignments(view) {
  if (!app.bundle) {
    mount(view, h("h1", {}, t("assignments")), h("p", {}, t("needOnlineFirst")),
      h("button", { type: "button", onclick: async () => {
        try { await refreshFromServer(); } catch { /* still offline */ }
        go("#/");
      } }, t("refresh")));
    return;
  }
  const drafts = await store.allDrafts();
  // Reports sent since the bundle was fetched are no longer open (until QA returns them).
  const sent = ((await store.getKV("sent")) || []).filter((s) => s.local_sent_at > app.bundle.fetched_at);
  const open = app.bundle.assignments.filter((row) => !sent.some((s) => s.assignment_id === row.id));
  const rows = open.map((row) => {
    const draft = drafts.find((d) => d.assignment_id === row.id);
    const checklist = checklistOf(row);
    return h("li", { class: "card" },
      h("h2", {}, h("a", { href: `#/a/${row.id}` }, `${row.branch.name} (${row.branch.code})`)),
      h("p", {}, [row.branch.city, row.branch.address].filter(Boolean).join(", ")),
      h("p", {}, `${t("window")}: ${windowText(row)}`),
      h("p", {}, `${t("checklist")}: ${tr(checklist?.title)}`),
      h("p", {}, statusOf(row, draft)),
      row.audit?.review_comment ? h("p", { class: "comment" }, h("strong", {}, `${t("reviewerComment")}: `), row.audit.review_comment) : null);
  });
  mount(view,
    h("h1", {}, t("assignments")),
    h("p", { class: "muted" }, `${t("lastSynced")} ${fmtDateTime(app.bundle.fetched_at)}`),
    rows.length ? h("ul", { class: "list" }, rows) : h("p", {}, t("noAssignments")));
}

/** One assignment: where, when, which checklist; start or continue the visit. */
export async function renderAssignment(view, id) {
  const row = assignment(id);
  if (!row) { redirect(view, "#/"); return; }
  const draft = await draftOfAssignment(row.id);
  const checklist = checklistOf(row);
  const label = draft ? t("continueVisit") : row.audit?.status === "returned" ? t("fixReport") : t("startVisit");
  mount(view,
    h("p", {}, h("a", { href: "#/" }, `← ${t("assignments")}`)),
    h("h1", {}, `${row.branch.name} (${row.branch.code})`),
    h("dl", { class: "facts" },
      h("dt", {}, t("address")), h("dd", {}, [row.branch.city, row.branch.address].filter(Boolean).join(", ") || "—"),
      h("dt", {}, t("window")), h("dd", {}, windowText(row)),
      h("dt", {}, t("checklist")), h("dd", {}, tr(checklist?.title)),
      h("dt", {}, t("status")), h("dd", {}, statusOf(row, draft))),
    row.audit?.review_comment ? h("div", { class: "card comment" }, h("h2", {}, t("reviewerComment")), h("p", {}, row.audit.review_comment)) : null,
    h("button", { type: "button", class: "primary", id: "start-visit", onclick: async () => {
      const started = await startVisit(row);
      go(checklist.staff_roles?.length ? `#/v/${started.uuid}/staff` : `#/v/${started.uuid}/s/0`);
    } }, label));
}
