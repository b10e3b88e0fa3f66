// The one client of the REST API: JSON in and out, the CSRF token on every write, a fresh
// token when the server refuses a stale one, and retries with backoff for reads.
const BASE = "/api/v1";
let csrfToken = null;
const listeners = new Set();

/** An API failure: `status` 0 means no connection (or no answer) at all. */
export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }

  /** True when trying again later may work (no connection, server busy or failing). */
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** True when the shopper must sign in again. */
  get unauthenticated() {
    return this.status === 401;
  }
}

/** Call `fn(event)` on "unauthenticated" (the session is gone). */
export function onAuthLost(fn) {
  listeners.add(fn);
}

/** Tell the listeners that the session is gone (the shopper must sign in again). */
export function authLost() {
  listeners.forEach((fn) => fn());
}

/** Remember the CSRF token (from sign-in or /auth/me). */
export function setCsrf(token) {
  csrfToken = token;
}

async function raw(method, path, { json, form, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  if (method !== "GET" && csrfToken) init.headers["X-CSRFToken"] = csrfToken;
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    throw new ApiError(0, "network", String(error));
  }
  if (response.status === 304) return { status: 304, data: null, headers: response.headers };
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(response.status, err.code, err.message, err.fields);
  }
  return { status: response.status, data, headers: response.headers };
}

/** A request; a refused CSRF token is renewed once through /auth/me and the request repeated.
 * 401 tells the listeners (the app asks the shopper to sign in; nothing local is dropped). */
export async function request(method, path, options = {}) {
  try {
    return await raw(method, path, options);
  } catch (error) {
    if (error.status === 400 && error.code === "csrf_failed") {
      await refreshMe();
      return raw(method, path, options);
    }
    if (error.unauthenticated && !path.startsWith("/auth/login")) {
      listeners.forEach((fn) => fn());
    }
    throw error;
  }
}

/** GET with retries and exponential backoff on transient failures (not on 4xx). */
export async function getWithRetry(path, { tries = 3, headers } = {}) {
  let delay = 500;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request("GET", path, { headers });
    } catch (error) {
      if (!error.transient || error.status === 0 || attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay *= 2;
    }
  }
}

/** The signed-in user with a fresh CSRF token. */
export async function refreshMe() {
  const { data } = await raw("GET", "/auth/me");
  csrfToken = data.csrf_token;
  return data;
}

/** Sign in; returns the user (and keeps its CSRF token). */
export async function login(loginName, password) {
  // "remember": the PWA runs on the shopper's own phone and must survive a browser restart
  // with unsent reports; the server still ends the session on logout or a password change.
  const { data } = await raw("POST", "/auth/login", { json: { login: loginName, password, remember: true } });
  csrfToken = data.csrf_token;
  return data;
}

/** End the session on the server (best effort: offline, the cookie simply stays). */
export async function logout() {
  try { await raw("POST", "/auth/logout"); } catch { /* offline: nothing more to do */ }
  csrfToken = null;
}
