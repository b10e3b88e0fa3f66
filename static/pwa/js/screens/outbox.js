// The outbox: what waits to be sent, attempts and the next try, what the server refused and
// why; "send now" runs the sync on demand.
import { fmtDateTime, t } from "../i18n.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { badge, h, isCurrentScreen, mount } from "../ui.js";

/** Draw the outbox. */
export async function renderOutbox(view) {
  const paint = async () => {
    if (!isCurrentScreen(view)) { // another screen took over: stop following the outbox
      document.removeEventListener("outbox-changed", paint);
      return;
    }
    const entries = await store.outboxEntries();
    const drafts = await store.allDrafts();
    const problems = drafts.filter((d) => d.state === "needs_fix" || d.state === "conflict");
    const rows = entries.map((entry) => h("li", { class: "card" },
      h("p", {}, h("strong", {}, t(`kind_${entry.kind}`)), " · ", fmtDateTime(entry.created_at)),
      entry.blocked
        ? h("p", {}, badge("bad", t("blocked")), ` ${entry.last_error?.message || ""}`,
          " ", h("button", { type: "button", class: "secondary small", onclick: async () => {
            await store.deleteEntry(entry.id);
            if (entry.kind === "photo") await store.deletePhoto(entry.photo_uuid);
            paint();
          } }, t("removePhoto")))
        : h("p", {}, badge("info", t("waiting")),
          entry.attempts ? ` · ${t("attempts")}: ${entry.attempts}` : "",
          entry.last_error ? ` · ${t("serverSays")}: ${entry.last_error.status || t("offline")}` : "")));
    const fixes = problems.map((d) => h("li", { class: "card" },
      h("p", {}, badge(d.state === "conflict" ? "bad" : "warn", t(`st_${d.state}`)), " ", d.error?.message || ""),
      h("a", { href: `#/v/${d.uuid}/review` }, t("whatToFix"))));
    mount(view,
      h("h1", {}, t("outbox")),
      h("p", { role: "status", id: "outbox-status" },
        entries.length ? `${entries.length} ${t("waiting")}` : t("outboxEmpty"),
        sync.status.running ? ` · ${t("syncing")}` : "",
        sync.status.nextAt ? ` · ${t("nextTry")} ${new Date(sync.status.nextAt).toLocaleTimeString()}` : ""),
      fixes.length ? h("ul", { class: "list" }, fixes) : null,
      rows.length ? h("ul", { class: "list", id: "outbox-list" }, rows) : null,
      h("button", { type: "button", class: "primary", id: "sync-now", onclick: () => sync.syncNow() }, t("syncNow")),
      h("p", {}, h("a", { href: "#/" }, t("assignments"))));
  };
  document.addEventListener("outbox-changed", paint);
  await paint();
}
