// Everything the shopper enters lives here (IndexedDB) from the moment it is entered: drafts,
// photos, the outbox of what waits to be sent, and the cached bundle. Nothing is deleted until
// the server has confirmed it.
import { openDB } from "../vendor/idb-8.0.4.js";

const DB_NAME = "auditapp";
const DB_VERSION = 1;

let dbPromise = null;

/** The database, created on first use. Schema changes go through `upgrade` (never a wipe). */
export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore("kv");
          database.createObjectStore("drafts", { keyPath: "uuid" });
          const photos = database.createObjectStore("photos", { keyPath: "uuid" });
          photos.createIndex("audit", "audit_uuid");
          const outbox = database.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
          outbox.createIndex("audit", "audit_uuid");
        }
      },
    });
  }
  return dbPromise;
}

/** A value kept under `key` (settings, the bundle, the signed-in user). */
export async function getKV(key) {
  return (await db()).get("kv", key);
}

/** Keep `value` under `key`. */
export async function setKV(key, value) {
  return (await db()).put("kv", value, key);
}

/** One draft by the audit UUID. */
export async function getDraft(uuid) {
  return (await db()).get("drafts", uuid);
}

/** Every draft on this phone. */
export async function allDrafts() {
  return (await db()).getAll("drafts");
}

/** Write the whole draft (called on every change, so nothing waits in memory). */
export async function putDraft(draft) {
  draft.updated_at = new Date().toISOString();
  return (await db()).put("drafts", draft);
}

/** Change a draft with `change(draft)` in one transaction and return it. */
export async function updateDraft(uuid, change) {
  const tx = (await db()).transaction("drafts", "readwrite");
  const draft = await tx.store.get(uuid);
  if (!draft) throw new Error(`no draft ${uuid}`);
  change(draft);
  draft.updated_at = new Date().toISOString();
  await tx.store.put(draft);
  await tx.done;
  return draft;
}

/** Photos of one audit, oldest first. */
export async function photosOf(auditUuid) {
  const list = await (await db()).getAllFromIndex("photos", "audit", auditUuid);
  return list.sort((a, b) => a.taken_at.localeCompare(b.taken_at));
}

/** One photo record. */
export async function getPhoto(uuid) {
  return (await db()).get("photos", uuid);
}

/** Store a photo and its upload in the outbox in one transaction: both or neither. */
export async function addPhoto(photo, userId) {
  const tx = (await db()).transaction(["photos", "outbox"], "readwrite");
  await tx.objectStore("photos").put(photo);
  await tx.objectStore("outbox").add({
    kind: "photo", audit_uuid: photo.audit_uuid, photo_uuid: photo.uuid, user_id: userId,
    attempts: 0, created_at: new Date().toISOString(),
  });
  await tx.done;
}

/** Remove a photo: an unsent one is simply dropped with its upload; a sent one is withdrawn
 * on the server through the outbox (the local record goes when the server confirms). */
export async function removePhoto(photoUuid, auditUuid, userId, { onServer }) {
  const tx = (await db()).transaction(["photos", "outbox"], "readwrite");
  const outbox = tx.objectStore("outbox");
  let pendingUpload = null;
  for (const entry of await outbox.index("audit").getAll(auditUuid)) {
    if (entry.kind === "photo" && entry.photo_uuid === photoUuid) pendingUpload = entry;
  }
  const photo = await tx.objectStore("photos").get(photoUuid);
  if (pendingUpload && !onServer) {
    await outbox.delete(pendingUpload.id);
    await tx.objectStore("photos").delete(photoUuid);
  } else {
    if (photo) {
      photo.removed = true;
      await tx.objectStore("photos").put(photo);
    }
    await outbox.add({
      kind: "withdraw", audit_uuid: auditUuid, photo_uuid: photoUuid, user_id: userId,
      attempts: 0, created_at: new Date().toISOString(),
    });
  }
  await tx.done;
}

/** Queue the final submission: the body is frozen here so every retry sends the same bytes
 * (the server recognises a retry by the content under the audit UUID). */
export async function queueSubmit(draft, body, userId) {
  const tx = (await db()).transaction(["drafts", "outbox"], "readwrite");
  const outbox = tx.objectStore("outbox");
  for (const entry of await outbox.index("audit").getAll(draft.uuid)) {
    if (entry.kind === "submit") await outbox.delete(entry.id);
  }
  await outbox.add({
    kind: "submit", audit_uuid: draft.uuid, body, user_id: userId, attempts: 0,
    created_at: new Date().toISOString(),
  });
  draft.state = "queued";
  draft.error = null;
  draft.updated_at = new Date().toISOString();
  await tx.objectStore("drafts").put(draft);
  await tx.done;
}

/** The outbox, oldest first (the order it is sent in). */
export async function outboxEntries() {
  return (await db()).getAll("outbox");
}

/** Update one outbox entry. */
export async function putEntry(entry) {
  return (await db()).put("outbox", entry);
}

/** Drop one outbox entry (after the server confirmed it, or when it became moot). */
export async function deleteEntry(id) {
  return (await db()).delete("outbox", id);
}

/** Forget an audit on this phone: its draft, photos and outbox entries, in one transaction.
 * Called only after the server confirmed the submission (or when the shopper discards a
 * copy the server refused). */
export async function forgetAudit(auditUuid) {
  const tx = (await db()).transaction(["drafts", "photos", "outbox"], "readwrite");
  await tx.objectStore("drafts").delete(auditUuid);
  for (const key of await tx.objectStore("photos").index("audit").getAllKeys(auditUuid)) {
    await tx.objectStore("photos").delete(key);
  }
  for (const key of await tx.objectStore("outbox").index("audit").getAllKeys(auditUuid)) {
    await tx.objectStore("outbox").delete(key);
  }
  await tx.done;
}

/** Mark a photo as stored on the server (it stays on the phone until the report is sent). */
export async function markPhotoUploaded(photoUuid) {
  const database = await db();
  const photo = await database.get("photos", photoUuid);
  if (photo) {
    photo.uploaded = true;
    await database.put("photos", photo);
  }
}

/** Delete a photo record (a confirmed withdrawal). */
export async function deletePhoto(photoUuid) {
  return (await db()).delete("photos", photoUuid);
}
