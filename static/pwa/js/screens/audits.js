// Past reports: status, score and the reviewer's comment; cached for offline reading. Reports
// sent from this phone since the last refresh are listed too.
import { fmtDateTime, t } from "../i18n.js";
import { app } from "../state.js";
import * as store from "../store.js";
import { badge, h, mount } from "../ui.js";

const KINDS = { returned: "warn", rejected: "bad", approved: "ok", released: "ok" };

/** Draw the list of the shopper's reports. */
export async function renderAudits(view) {
  const known = new Set((app.audits || []).map((a) => a.client_uuid));
  const sent = ((await store.getKV("sent")) || []).filter((a) => !known.has(a.client_uuid));
  const all = [...sent, ...(app.audits || [])];
  const rows = all.map((a) => h("li", { class: "card" },
    h("h2", {}, `${a.branch_code || ""} · ${a.checklist_slug || ""}`),
    h("p", {}, badge(KINDS[a.status] || "info", t(`st_${a.status}`)),
      a.submitted_at ? ` · ${t("submittedAt")}: ${fmtDateTime(a.submitted_at)}` : ""),
    a.score != null ? h("p", {}, `${t("score")}: ${Math.round(a.score * 10) / 10}`) : null,
    a.review_comment ? h("p", { class: "comment" }, h("strong", {}, `${t("reviewerComment")}: `), a.review_comment) : null));
  mount(view, h("h1", {}, t("pastAudits")), rows.length ? h("ul", { class: "list" }, rows) : h("p", {}, t("noPastAudits")));
}
