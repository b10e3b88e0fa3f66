// Service worker: precaches the app shell under a versioned cache so the app opens with no
// connection. A new deployment changes VERSION: the new worker installs the new shell, takes
// over and deletes the old caches. Drafts, photos and the outbox live in IndexedDB, which no
// version change touches. API responses are never cached here.
const VERSION = "2026.11.30-3";
const SHELL = `auditapp-shell-${VERSION}`;
const SHELL_FILES = [
  "/",
  "/manifest.webmanifest",
  "/pwa/app.css",
  "/pwa/office.css",
  "/pwa/hq.css",
  "/pwa/icon.svg",
  "/pwa/icon-192.png",
  "/pwa/icon-512.png",
  "/pwa/vendor/idb-8.0.4.js",
  "/pwa/js/main.js",
  "/pwa/js/api.js",
  "/pwa/js/checklist.js",
  "/pwa/js/i18n.js",
  "/pwa/js/photo.js",
  "/pwa/js/state.js",
  "/pwa/js/store.js",
  "/pwa/js/sync.js",
  "/pwa/js/ui.js",
  "/pwa/js/routes.js",
  "/pwa/js/office/index.js",
  "/pwa/js/office/charts.js",
  "/pwa/js/office/data.js",
  "/pwa/js/office/manager.js",
  "/pwa/js/office/audit.js",
  "/pwa/js/office/employee.js",
  "/pwa/js/office/director.js",
  "/pwa/js/office/reviewqueue.js",
  "/pwa/js/office/admin.js",
  // uPlot (vendor/uPlot-*) is not precached: only the office screens import it, when a trend is
  // drawn, and those screens need the network anyway; the shopper's phone never downloads it.
  "/pwa/js/screens/assignments.js",
  "/pwa/js/screens/audits.js",
  "/pwa/js/screens/login.js",
  "/pwa/js/screens/outbox.js",
  "/pwa/js/screens/review.js",
  "/pwa/js/screens/section.js",
  "/pwa/js/screens/staff.js",
];

self.addEventListener("install", (event) => {
  // cache: "reload" skips the HTTP cache, so a new version never precaches stale files.
  event.waitUntil(
    caches.open(SHELL)
      .then((cache) => cache.addAll(SHELL_FILES.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("auditapp-shell-") && key !== SHELL).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "version") event.source?.postMessage({ version: VERSION });
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return;
  // The shell comes from this version's cache (fast and offline); pages fall back to "/".
  event.respondWith(
    caches.open(SHELL).then(async (cache) => {
      const hit = await cache.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      if (event.request.mode === "navigate") {
        const shell = await cache.match("/");
        if (shell) return shell;
      }
      return fetch(event.request);
    }),
  );
});
