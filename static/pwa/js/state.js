// What the screens share: the signed-in user, the cached bundle (assignments, branches with
// staff, checklists), past reports, and helpers over drafts.
import { ApiError, getWithRetry, request } from "./api.js";
import * as store from "./store.js";

export const app = { me: null, bundle: null, audits: null, online: navigator.onLine };

/** Load the cached bundle and reports, then refresh them from the server when possible. */
export async function loadCached() {
  app.bundle = (await store.getKV("bundle")) || null;
  app.audits = (await store.getKV("audits")) || null;
}

/** Fetch the bundle (conditional on its ETag), past reports and returned reports' details. */
export async function refreshFromServer() {
  const etag = await store.getKV("bundleEtag");
  const headers = etag && app.bundle ? { "If-None-Match": etag } : {};
  const response = await getWithRetry("/shopper/bundle", { headers });
  if (response.status !== 304) {
    app.bundle = { ...response.data, fetched_at: new Date().toISOString() };
    await store.setKV("bundle", app.bundle);
    await store.setKV("bundleEtag", response.headers.get("ETag"));
  }
  const audits = await getWithRetry("/audits?per_page=100");
  app.audits = audits.data.items;
  await store.setKV("audits", app.audits);
  // Reports the shopper may continue (returned, or a draft started elsewhere): their photos
  // and staff are needed to fix them offline.
  for (const assignment of app.bundle.assignments) {
    if (!assignment.audit) continue;
    const summary = app.audits.find((a) => a.client_uuid === assignment.audit.client_uuid);
    if (!summary) continue;
    try {
      const detail = await request("GET", `/audits/${summary.id}`);
      await store.setKV(`audit:${assignment.audit.client_uuid}`, detail.data);
    } catch (error) {
      if (!(error instanceof ApiError) || error.unauthenticated) throw error;
    }
  }
}

/** The assignment with `id` from the bundle. */
export function assignment(id) {
  return app.bundle?.assignments.find((a) => a.id === Number(id)) || null;
}

/** The checklist definition of an assignment. */
export function checklistOf(assignmentRow) {
  return app.bundle?.checklists[String(assignmentRow.checklist_version_id)] || null;
}

/** The local draft of an assignment, if the phone has one. */
export async function draftOfAssignment(assignmentId) {
  return (await store.allDrafts()).find((d) => d.assignment_id === Number(assignmentId)) || null;
}

/** A new UUID made on the phone (the server keys the report and its retries by it). */
export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The device position, if the shopper allows it (never blocks the visit for long). */
export function devicePosition() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: pos.coords.accuracy }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
}

/** Start a visit: the audit UUID and the start time are made here, on the phone. A returned
 * report (or one started elsewhere) keeps its UUID and answers. */
export async function startVisit(assignmentRow) {
  const existing = await draftOfAssignment(assignmentRow.id);
  if (existing) return existing;
  const server = assignmentRow.audit;
  const detail = server ? await store.getKV(`audit:${server.client_uuid}`) : null;
  const draft = {
    uuid: server ? server.client_uuid : newUuid(),
    assignment_id: assignmentRow.id,
    user_id: app.me.id,
    checklist_version_id: assignmentRow.checklist_version_id,
    answers: server ? { ...server.answers } : {},
    comment: server ? server.comment || "" : "",
    visit_started_at: detail?.visit_started_at || new Date().toISOString(),
    visit_ended_at: detail?.visit_ended_at || null,
    geo: detail?.geo_lat != null ? { lat: detail.geo_lat, lon: detail.geo_lon, accuracy_m: detail.geo_accuracy_m } : null,
    staff: (detail?.staff_served || []).map((s) => ({
      staff_role: s.staff_role, staff_member_id: s.staff_member_id ?? null, description: s.description || "",
    })),
    server_photos: (detail?.photos || []).filter((p) => p.status !== "withdrawn")
      .map((p) => ({ id: p.id, uuid: p.client_uuid, item_id: p.item_id })),
    returned: server?.status === "returned",
    review_comment: server?.review_comment || "",
    timers: {},
    state: "editing",
    error: null,
  };
  await store.putDraft(draft);
  if (!draft.geo) {
    devicePosition().then((geo) => geo && store.updateDraft(draft.uuid, (d) => { d.geo = geo; }));
  }
  return draft;
}
