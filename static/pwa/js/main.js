// Start-up and routing: the signed-in user (cached for offline), the header, the banners
// (session expired, new version, low storage), and one screen per route.
import * as api from "./api.js";
import { getLang, setLang, t } from "./i18n.js";
import { app, loadCached, refreshFromServer } from "./state.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { h, mount } from "./ui.js";
import { renderLogin } from "./screens/login.js";
import { renderAssignments, renderAssignment } from "./screens/assignments.js";
import { renderAudits } from "./screens/audits.js";
import { renderStaff } from "./screens/staff.js";
import { renderSection } from "./screens/section.js";
import { renderReview } from "./screens/review.js";
import { renderOutbox } from "./screens/outbox.js";

export const APP_VERSION = "2026.11.29-1";
const view = document.getElementById("view");
const banners = { session: null, update: null, space: null, persist: null };

/** Go to a route (hash). */
export function go(route) {
  if (location.hash === route) render();
  else location.hash = route;
}

function setBanner(name, node) {
  banners[name] = node;
  mount(document.getElementById("banners"), Object.values(banners).filter(Boolean));
}

async function renderChrome() {
  document.getElementById("brand").textContent = t("title");
  document.title = t("title");
  const langButton = document.getElementById("lang");
  langButton.textContent = t("switchLang");
  langButton.setAttribute("aria-label", t("switchLangLabel"));
  langButton.setAttribute("lang", getLang() === "ru" ? "en" : "ru");
  const net = document.getElementById("net");
  net.textContent = app.online ? `● ${t("online")}` : `○ ${t("offline")}`;
  net.className = app.online ? "net on" : "net off";
  document.querySelector(".skip").textContent = t("skipTo");
  document.getElementById("version").textContent = `${t("yourVersion")} ${APP_VERSION}`;
  const tabs = document.getElementById("tabs");
  tabs.setAttribute("aria-label", t("menu"));
  tabs.hidden = !app.me;
  if (!app.me) return;
  const count = await sync.pendingCount();
  tabs.hidden = !app.me; // the session may have ended while counting
  if (!app.me) return;
  const route = location.hash || "#/";
  const link = (href, label, extra) => h("a", {
    href, "aria-current": route === href ? "page" : null,
  }, label, extra);
  mount(tabs,
    link("#/", t("assignments")),
    link("#/audits", t("pastAudits")),
    link("#/outbox", t("outbox"), count ? h("span", { class: "count" }, ` (${count})`) : null),
    h("button", { type: "button", class: "linklike", onclick: signOut }, t("signout")));
}

async function signOut() {
  if ((await sync.pendingCount()) > 0 && !confirm(t("confirmLogout"))) return;
  await api.logout();
  app.me = null;
  await store.setKV("me", null);
  render();
}

/** Draw the current route. */
export async function render() {
  await renderChrome();
  const route = (location.hash || "#/").slice(1);
  view.dataset.screen = app.me ? route.split("/")[1] || "assignments" : "login";
  if (!app.me) {
    renderLogin(view, { onSignedIn });
    return;
  }
  const parts = route.split("/").filter(Boolean);
  if (parts[0] === "a") await renderAssignment(view, parts[1]);
  else if (parts[0] === "v" && parts[2] === "staff") await renderStaff(view, parts[1]);
  else if (parts[0] === "v" && parts[2] === "s") await renderSection(view, parts[1], Number(parts[3]), parts[4]);
  else if (parts[0] === "v" && parts[2] === "review") await renderReview(view, parts[1]);
  else if (parts[0] === "outbox") await renderOutbox(view);
  else if (parts[0] === "audits") await renderAudits(view);
  else await renderAssignments(view);
  const heading = view.querySelector("h1");
  if (heading && !view.contains(document.activeElement)) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

async function onSignedIn(me) {
  app.me = me;
  await store.setKV("me", me);
  sync.setUser(me.id);
  setBanner("session", null);
  try { await refreshFromServer(); } catch { /* offline: the cached bundle serves */ }
  await sync.syncNow();
  render();
}

async function checkStorage() {
  if (!navigator.storage) return;
  try {
    const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    setBanner("persist", persisted ? null : h("p", { class: "banner info" }, t("persistDenied")));
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    const free = quota - usage;
    const low = quota > 0 && (free < 100 * 1024 * 1024 || usage / quota > 0.9);
    setBanner("space", low ? h("p", { class: "banner warn", role: "alert" }, t("lowSpace")) : null);
  } catch { /* storage API unavailable: nothing to show */ }
}

function watchUpdates() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((registration) => {
    registration.addEventListener("updatefound", () => {
      // Only a worker that replaces an active one is an update (not the first install).
      const isUpdate = Boolean(registration.active);
      const worker = registration.installing;
      worker?.addEventListener("statechange", () => {
        if (worker.state === "activated" && isUpdate) {
          // Drafts live in IndexedDB, so taking the new version loses nothing.
          setBanner("update", h("p", { class: "banner info" }, t("updateReady"), " ",
            h("button", { type: "button", onclick: () => location.reload() }, t("reload"))));
        }
      });
    });
  }).catch(() => {});
}

async function boot() {
  document.getElementById("lang").addEventListener("click", () => {
    setLang(getLang() === "ru" ? "en" : "ru");
    render();
  });
  window.addEventListener("hashchange", render);
  const netChanged = () => { app.online = navigator.onLine; renderChrome(); };
  window.addEventListener("online", netChanged);
  window.addEventListener("offline", netChanged);
  document.addEventListener("report-sent", async () => {
    try { await refreshFromServer(); } catch { /* the cached bundle stays */ }
    if (["assignments", "audits"].includes(view.dataset.screen)) render();
  });
  sync.onChange(() => { renderChrome(); document.dispatchEvent(new Event("outbox-changed")); });
  api.onAuthLost(() => {
    sync.pauseForLogin();
    setBanner("session", h("p", { class: "banner warn", role: "alert" }, t("sessionExpired")));
    app.me = null;
    render();
  });
  await loadCached();
  const cachedMe = await store.getKV("me");
  try {
    app.me = await api.refreshMe();
    await store.setKV("me", app.me);
  } catch (error) {
    // Offline: carry on as the user signed in last (the outbox waits for the server).
    app.me = error.status === 0 ? cachedMe || null : null;
    if (error.status === 401 && cachedMe && (await sync.pendingCount()) > 0) {
      setBanner("session", h("p", { class: "banner warn", role: "alert" }, t("sessionExpired")));
    }
  }
  if (app.me) sync.setUser(app.me.id);
  await render();
  watchUpdates();
  checkStorage();
  if (app.me) {
    // Sync on start even when the phone believes it is offline: a failed try only schedules
    // the next one (with backoff), and navigator.onLine is not always right.
    if (navigator.onLine) {
      try { await refreshFromServer(); } catch { /* keep the cached bundle */ }
    }
    await sync.syncNow();
    if (navigator.onLine) await render();
  }
  document.body.dataset.ready = "1";
  performance.mark("app-ready"); // bench/pwa.py reads it: time to an interactive list
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && app.me) sync.syncNow();
  });
}

boot();
