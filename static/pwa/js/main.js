// Start-up and routing: the signed-in user (cached for offline), the header, the banners
// (session expired, new version, low storage), and one screen per route.
import * as api from "./api.js";
import { getLang, setLang, t } from "./i18n.js";
import { app, loadCached, refreshFromServer } from "./state.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { h, isCurrentScreen, mount, openScreen } from "./ui.js";
import { renderLogin } from "./screens/login.js";
import { renderAssignments, renderAssignment } from "./screens/assignments.js";
import { renderAudits } from "./screens/audits.js";
import { renderStaff } from "./screens/staff.js";
import { renderSection } from "./screens/section.js";
import { renderReview } from "./screens/review.js";
import { renderOutbox } from "./screens/outbox.js";
import { home, homeOf, menuEntry, menuFor, resolve, route } from "./routes.js";
import "./office/index.js";

export const APP_VERSION = "2026.11.30-3";
/** The view element on show (each render draws a screen that replaces it: ui.openScreen). */
const shownView = () => document.getElementById("view");
const banners = { session: null, update: null, space: null, persist: null };

/** True when the signed-in user is a shopper (the only role with a bundle and an outbox). */
const isShopper = () => app.me?.role === "shopper";

/** Go to a route (hash). */
export function go(route) {
  if (location.hash === route) render();
  else location.hash = route;
}

/** A render that finds nothing to draw sends the user on, unless a newer render has taken over
 * meanwhile (then the user has already gone elsewhere: a late redirect would undo that). */
export function redirect(screen, route) {
  if (isCurrentScreen(screen)) go(route);
}

function setBanner(name, node) {
  banners[name] = node;
  mount(document.getElementById("banners"), Object.values(banners).filter(Boolean));
}

/** A menu entry is current on its own route and the routes under it (#/branch/7?period=…). */
function isCurrent(href, current) {
  return current === href || current.startsWith(`${href}/`) || current.startsWith(`${href}?`);
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
  const current = location.hash || "#/";
  const link = (entry) => h("a", {
    href: entry.href, "aria-current": isCurrent(entry.href, current) ? "page" : null,
  }, t(entry.label), entry.count && count ? h("span", { class: "count" }, ` (${count})`) : null);
  mount(tabs,
    menuFor(app.me.role).map(link),
    h("button", { type: "button", class: "linklike", onclick: signOut }, t("signout")));
}

// The shopper's screens (the branch side's and HQ's register themselves in office/).
const SHOPPER = ["shopper"];
route("/", SHOPPER, (v) => renderAssignments(v));
route("/a/:id", SHOPPER, (v, p) => renderAssignment(v, p.id));
route("/v/:id/staff", SHOPPER, (v, p) => renderStaff(v, p.id));
route("/v/:id/s/:n", SHOPPER, (v, p) => renderSection(v, p.id, Number(p.n)));
route("/v/:id/s/:n/:item", SHOPPER, (v, p) => renderSection(v, p.id, Number(p.n), p.item));
route("/v/:id/review", SHOPPER, (v, p) => renderReview(v, p.id));
route("/outbox", SHOPPER, (v) => renderOutbox(v));
route("/audits", SHOPPER, (v) => renderAudits(v));
menuEntry({ href: "#/", label: "assignments", roles: SHOPPER, order: 10 });
menuEntry({ href: "#/audits", label: "pastAudits", roles: SHOPPER, order: 20 });
menuEntry({ href: "#/outbox", label: "outbox", roles: SHOPPER, order: 30, count: true });
home("shopper", "#/");

/** The page for a route the role may not open, or one that does not exist. */
function renderRefusal(target, title, text) {
  mount(target, h("h1", {}, t(title)), h("section", { class: "card stack", role: "alert" },
    h("p", {}, t(text)), h("a", { href: homeOf(app.me.role) }, t("toHome"))));
}

async function signOut() {
  if ((await sync.pendingCount()) > 0 && !confirm(t("confirmLogout"))) return;
  await api.logout();
  app.me = null;
  await store.setKV("me", null);
  render();
}

/** Draw the current route into a screen of its own: the screen on show stays until this one
 * mounts, and once another render has started, this one's output is dropped (ui.mount). */
export async function render() {
  const screen = openScreen(shownView());
  await renderChrome();
  if (!isCurrentScreen(screen)) return; // a newer render reads the address itself
  const route = (location.hash || "#/").slice(1);
  screen.dataset.screen = app.me ? route.split("/")[1]?.split("?")[0] || (isShopper() ? "assignments" : "home") : "login";
  if (!app.me) {
    renderLogin(screen, { onSignedIn });
    return;
  }
  let path = route || "/";
  if (path === "/" && homeOf(app.me.role) !== "#/") path = homeOf(app.me.role).slice(1);
  const found = resolve(path, app.me.role);
  if (!found) renderRefusal(screen, "notFound", "notFoundText");
  else if (!found.allowed) renderRefusal(screen, "notAllowed", "notAllowedText");
  else await found.route.render(screen, found.params, found.query);
  if (!isCurrentScreen(screen) || !screen.isConnected) return;
  const heading = screen.querySelector("h1");
  if (heading && !screen.contains(document.activeElement)) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

async function onSignedIn(me) {
  app.me = me;
  await store.setKV("me", me);
  sync.setUser(me.id);
  setBanner("session", null);
  if (isShopper()) {
    try { await refreshFromServer(); } catch { /* offline: the cached bundle serves */ }
    await sync.syncNow();
  }
  checkStorage();
  render();
}

/** The storage banners concern the shopper's unsent reports only (office roles keep nothing
 * on the device); drawn in the current language, again after a language switch. */
async function checkStorage() {
  if (!isShopper()) {
    setBanner("persist", null);
    setBanner("space", null);
    return;
  }
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
    checkStorage();
    render();
  });
  window.addEventListener("hashchange", render);
  // The skip link moves focus to the screen without touching the address (the address is the
  // route: "#view" would read as an unknown screen).
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    const screen = shownView();
    const target = screen.querySelector("h1") || screen;
    target.tabIndex = -1;
    target.focus();
  });
  const netChanged = () => { app.online = navigator.onLine; renderChrome(); };
  window.addEventListener("online", netChanged);
  window.addEventListener("offline", netChanged);
  document.addEventListener("report-sent", async () => {
    try { await refreshFromServer(); } catch { /* the cached bundle stays */ }
    if (["assignments", "audits"].includes(shownView().dataset.screen)) render();
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
  if (isShopper()) {
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
    if (document.visibilityState === "visible" && isShopper()) sync.syncNow();
  });
}

boot();
