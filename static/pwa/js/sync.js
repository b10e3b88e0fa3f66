// The outbox: photos, withdrawals and submissions, sent in the order they were made. It runs
// on start, when the connection returns, on demand and after every new entry; a transient
// failure stops the run and schedules another with exponential backoff. Local data is deleted
// only after the server confirmed (201, or 200 for a replay of the same content).
import { authLost, refreshMe, request } from "./api.js";
import * as store from "./store.js";

const MAX_DELAY_MS = 2 * 60 * 1000;
let running = null;
let timer = null;
let failures = 0;
let userId = null;
let paused = false; // true while the shopper must sign in again
const listeners = new Set();

export const status = { running: false, nextAt: null, lastError: null, needsLogin: false };

/** Call `fn()` whenever the outbox or its status changes. */
export function onChange(fn) {
  listeners.add(fn);
}

function changed() {
  listeners.forEach((fn) => fn());
}

/** Whose entries to send (entries of another user of this phone wait for them). */
export function setUser(id) {
  userId = id;
  paused = false;
  status.needsLogin = false;
}

/** Stop sending until the shopper signs in again (the outbox is kept). */
export function pauseForLogin() {
  paused = true;
  status.needsLogin = true;
  clearTimeout(timer);
  changed();
}

/** Run the outbox now (returns when the run ends; concurrent calls share one run). */
export function syncNow() {
  if (!running) {
    clearTimeout(timer);
    running = run().finally(() => { running = null; status.running = false; changed(); });
  }
  return running;
}

function schedule() {
  failures += 1;
  const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(failures, 8)) * (0.75 + Math.random() / 2);
  status.nextAt = Date.now() + delay;
  clearTimeout(timer);
  timer = setTimeout(syncNow, delay);
}

async function run() {
  if (paused || userId == null) return;
  status.running = true;
  changed();
  if ((await store.outboxEntries()).some((e) => e.user_id === userId && !e.blocked)) {
    // Check the session (and renew the CSRF token) before sending: a server that refuses an
    // upload early closes the connection mid-body, which looks like a network failure.
    try {
      await refreshMe();
    } catch (error) {
      if (error.unauthenticated) {
        pauseForLogin();
        authLost();
        return;
      }
      if (error.transient) {
        status.lastError = { status: error.status, code: error.code, message: error.message };
        schedule();
        changed();
        return;
      }
    }
  }
  for (;;) {
    const entries = (await store.outboxEntries()).filter((e) => e.user_id === userId && !e.blocked);
    const blockedAudits = new Set(
      (await store.outboxEntries()).filter((e) => e.blocked).map((e) => e.audit_uuid));
    const entry = entries.find((e) => !(e.kind === "submit" && blockedAudits.has(e.audit_uuid)));
    if (!entry) break;
    try {
      await send(entry);
      failures = 0;
      status.lastError = null;
      status.nextAt = null;
    } catch (error) {
      if (error.unauthenticated) {
        pauseForLogin(); // request() has told the app to ask for a sign-in
        return;
      }
      entry.attempts += 1;
      entry.last_error = { status: error.status, code: error.code, message: error.message, fields: error.fields };
      if (error.transient) {
        await store.putEntry(entry);
        status.lastError = entry.last_error;
        schedule();
        changed();
        return;
      }
      await refuse(entry, error);
    }
    changed();
  }
  status.nextAt = null;
}

async function send(entry) {
  if (entry.kind === "photo") {
    const photo = await store.getPhoto(entry.photo_uuid);
    const draft = await store.getDraft(entry.audit_uuid);
    if (!photo || !draft) { await store.deleteEntry(entry.id); return; }
    const form = new FormData();
    form.append("assignment_id", String(draft.assignment_id));
    form.append("item_id", photo.item_id);
    form.append("photo_uuid", photo.uuid);
    form.append("file", new Blob([photo.bytes], { type: "image/jpeg" }), `${photo.uuid}.jpg`);
    await request("POST", `/audits/${entry.audit_uuid}/photos`, { form });
    await store.markPhotoUploaded(photo.uuid);
    await store.deleteEntry(entry.id);
  } else if (entry.kind === "withdraw") {
    try {
      await request("DELETE", `/audits/${entry.audit_uuid}/photos/${entry.photo_uuid}`);
    } catch (error) {
      if (error.status !== 404) throw error; // 404: never reached the server, nothing to undo
    }
    await store.deletePhoto(entry.photo_uuid);
    await store.deleteEntry(entry.id);
  } else if (entry.kind === "submit") {
    const { status: code, data } = await request("POST", `/audits/${entry.audit_uuid}/submit`, { json: entry.body });
    if (code === 201 || code === 200) {
      const sent = (await store.getKV("sent")) || [];
      sent.unshift({ ...data, assignment_id: entry.body.assignment_id, local_sent_at: new Date().toISOString() });
      await store.setKV("sent", sent.slice(0, 50));
      await store.forgetAudit(entry.audit_uuid);
      document.dispatchEvent(new Event("report-sent"));
    }
  }
}

/** The server refused an entry for good (422, 409, 404): keep everything, show what to fix. */
async function refuse(entry, error) {
  const problem = { status: error.status, code: error.code, message: error.message, fields: error.fields };
  if (entry.kind === "submit") {
    await store.deleteEntry(entry.id); // the shopper fixes the draft and submits again
    await store.updateDraft(entry.audit_uuid, (draft) => {
      draft.state = error.code === "submission_differs" || error.status === 409 || error.status === 404
        ? "conflict" : "needs_fix";
      draft.error = problem;
    }).catch(() => {});
  } else {
    entry.blocked = true;
    entry.last_error = problem;
    await store.putEntry(entry);
    if (error.status === 409) {
      // The report itself is refused (taken by another report, or no longer open): show it on
      // the report, where the shopper decides what to do with the local copy.
      await store.updateDraft(entry.audit_uuid, (draft) => {
        draft.state = "conflict";
        draft.error = problem;
      }).catch(() => {});
    }
  }
}

/** How many entries wait (for the badge). */
export async function pendingCount() {
  return (await store.outboxEntries()).length;
}

window.addEventListener("online", () => { failures = 0; syncNow(); });
