// One section of the checklist: every item type, N/A where the item allows it, the standard's
// guidance on demand, photos per item, and progress per section. Each change is written to
// IndexedDB at once.
import { t, tr } from "../i18n.js";
import { go, redirect } from "../main.js";
import { app, assignment, checklistOf, newUuid } from "../state.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { preparePhoto } from "../photo.js";
import { badge, h, mount, uid } from "../ui.js";
import { sectionProgress } from "../checklist.js";

function setAnswer(uuid, itemId, value) {
  return store.updateDraft(uuid, (d) => {
    if (value === undefined) delete d.answers[itemId];
    else d.answers[itemId] = value;
  });
}

function radioGroup(name, options, current, onPick) {
  return h("div", { class: "choices" }, options.map(([value, label]) => {
    const id = uid("opt");
    const input = h("input", { type: "radio", id, name, value: String(value), checked: current === value });
    input.addEventListener("change", () => onPick(value));
    return h("div", { class: "choice" }, input, h("label", { for: id }, label));
  }));
}

const NA = "__na";

function answerControl(draft, item, locked, onChanged) {
  const has = Object.prototype.hasOwnProperty.call(draft.answers, item.id);
  const value = has ? (draft.answers[item.id] === null ? NA : draft.answers[item.id]) : undefined;
  const pick = async (v) => { await setAnswer(draft.uuid, item.id, v === NA ? null : v); onChanged(); };
  const name = `answer-${item.id}`;
  const na = item.na ? [[NA, t("na")]] : [];
  if (item.type === "yes_no") return radioGroup(name, [[true, t("yes")], [false, t("no")], ...na], value, pick);
  if (item.type === "scale") {
    const steps = [];
    for (let v = item.min; v <= item.max; v += 1) steps.push([v, String(v)]);
    return radioGroup(name, [...steps, ...na], value, pick);
  }
  if (item.type === "choice") {
    return radioGroup(name, [...item.options.map((o) => [o.id, tr(o.label)]), ...na], value, pick);
  }
  if (item.type === "text") {
    const id = uid("text");
    const area = h("textarea", { id, name, rows: 3, maxlength: 5000, "aria-label": tr(item.text) }, has ? value : "");
    area.addEventListener("input", () => setAnswer(draft.uuid, item.id, area.value === "" ? undefined : area.value).then(onChanged));
    return area;
  }
  // number, with a stopwatch for waiting times
  const id = uid("num");
  const unit = tr(item.unit) || "";
  const input = h("input", { id, name, type: "number", inputmode: "decimal", step: "any", min: "0",
    value: has && value !== NA ? String(value) : "", disabled: value === NA, "aria-label": `${tr(item.text)}${unit ? ` (${unit})` : ""}` });
  input.addEventListener("input", () => {
    const number = input.value === "" ? undefined : Number(input.value);
    if (number === undefined || Number.isFinite(number)) setAnswer(draft.uuid, item.id, number).then(onChanged);
  });
  const shown = h("span", { class: "stopwatch-time", "aria-hidden": "true" });
  const button = h("button", { type: "button", class: "secondary" });
  const status = h("span", { class: "visually-hidden", role: "status" });
  let tick = null;
  const paint = () => {
    const started = draft.timers?.[item.id];
    button.textContent = started ? `■ ${t("stopwatchStop")}` : `▶ ${t("stopwatchStart")}`;
    button.setAttribute("aria-pressed", started ? "true" : "false");
    shown.textContent = started ? `${t("stopwatchRunning")}: ${Math.round((Date.now() - Date.parse(started)) / 1000)} ${t("seconds")}` : "";
    if (started && !tick) tick = setInterval(() => (shown.isConnected ? paint() : clearInterval(tick)), 1000);
    if (!started && tick) { clearInterval(tick); tick = null; }
  };
  button.addEventListener("click", async () => {
    const started = draft.timers?.[item.id];
    const updated = await store.updateDraft(draft.uuid, (d) => {
      d.timers = d.timers || {};
      if (started) {
        const seconds = Math.round((Date.now() - Date.parse(started)) / 1000);
        d.answers[item.id] = seconds;
        delete d.timers[item.id];
        input.value = String(seconds);
        status.textContent = `${seconds} ${t("seconds")}`;
      } else {
        d.timers[item.id] = new Date().toISOString();
      }
    });
    draft.timers = updated.timers;
    draft.answers = updated.answers;
    paint();
    onChanged();
  });
  paint();
  const parts = [h("div", { class: "row" }, input, unit ? h("span", { "aria-hidden": "true" }, unit) : null), h("div", { class: "row" }, button, shown, status)];
  if (item.na) {
    const naId = uid("na");
    const box = h("input", { type: "checkbox", id: naId, checked: value === NA });
    box.addEventListener("change", async () => {
      input.disabled = box.checked;
      await setAnswer(draft.uuid, item.id, box.checked ? null : (input.value === "" ? undefined : Number(input.value)));
      onChanged();
    });
    parts.push(h("div", { class: "choice" }, box, h("label", { for: naId }, t("na"))));
  }
  if (locked) input.disabled = true;
  return h("div", { class: "stack" }, parts);
}

async function photoArea(draft, item, onChanged) {
  const wrap = h("div", { class: "photos" });
  const paint = async () => {
    const fresh = await store.getDraft(draft.uuid);
    const local = (await store.photosOf(draft.uuid)).filter((p) => p.item_id === item.id && !p.removed);
    const remote = (fresh.server_photos || []).filter((p) => p.item_id === item.id && !local.some((l) => l.uuid === p.uuid));
    const thumbs = [];
    let n = 0;
    for (const p of remote) {
      n += 1;
      thumbs.push(thumbItem(`/api/v1/photos/${p.id}/thumb`, n, item, async () => {
        await store.removePhoto(p.uuid, draft.uuid, app.me.id, { onServer: true });
        await store.updateDraft(draft.uuid, (d) => { d.server_photos = d.server_photos.filter((x) => x.uuid !== p.uuid); });
        sync.syncNow();
        paint(); onChanged();
      }));
    }
    for (const p of local) {
      n += 1;
      thumbs.push(thumbItem(URL.createObjectURL(new Blob([p.thumb], { type: "image/jpeg" })), n, item, async () => {
        await store.removePhoto(p.uuid, draft.uuid, app.me.id, { onServer: Boolean(p.uploaded) });
        sync.syncNow();
        paint(); onChanged();
      }));
    }
    const inputId = uid("cam");
    const note = h("p", { role: "status", class: "muted" });
    const input = h("input", { type: "file", id: inputId, accept: "image/*", capture: "environment", class: "visually-hidden", multiple: true });
    input.addEventListener("change", async () => {
      for (const file of input.files) {
        note.textContent = t("photoProcessing");
        try {
          const prepared = await preparePhoto(file);
          await store.addPhoto({ uuid: newUuid(), audit_uuid: draft.uuid, item_id: item.id, ...prepared,
            taken_at: new Date().toISOString(), uploaded: false }, app.me.id);
          note.textContent = "";
        } catch {
          note.textContent = t("photoFailed");
          return;
        }
      }
      sync.syncNow();
      await paint();
      onChanged();
    });
    mount(wrap, h("ul", { class: "thumbs", "aria-label": `${t("photos")}: ${tr(item.text)}` }, thumbs),
      h("div", { class: "camera" }, input, h("label", { for: inputId, class: "button secondary" }, `+ ${t("takePhoto")}`)), note);
  };
  await paint();
  return wrap;
}

function thumbItem(src, n, item, onRemove) {
  const label = `${t("photo")} ${n}`;
  return h("li", {}, h("img", { src, alt: `${label}: ${tr(item.text)}`, width: 96, height: 96 }),
    h("button", { type: "button", class: "secondary small", "aria-label": `${t("removePhoto")} ${n}`, onclick: () => {
      if (confirm(t("removeConfirm"))) onRemove();
    } }, `✕ ${t("removePhoto")}`));
}

/** Draw section `index` of the visit `uuid`; `focusItem` scrolls to and focuses that item. */
export async function renderSection(view, uuid, index, focusItem) {
  const draft = await store.getDraft(uuid);
  if (!draft) { redirect(view, "#/"); return; }
  const row = assignment(draft.assignment_id);
  const checklist = checklistOf(row);
  const section = checklist.sections[index];
  if (!section) { redirect(view, `#/v/${uuid}/review`); return; }
  const locked = draft.state === "queued";
  const progressText = h("span");
  const progressBar = h("progress", { max: 1, value: 0, "aria-hidden": "true" });
  const nav = h("ol", { class: "sections" });
  const updateProgress = async () => {
    const fresh = await store.getDraft(uuid);
    if (!fresh) return;
    const p = sectionProgress(section, fresh.answers);
    progressText.textContent = `${t("answered")}: ${p.answered} ${t("of")} ${p.total}`;
    progressBar.max = Math.max(1, p.total);
    progressBar.value = p.answered;
    mount(nav, checklist.sections.map((s, i) => {
      const sp = sectionProgress(s, fresh.answers);
      const done = sp.answered === sp.total;
      return h("li", {}, h("a", { href: `#/v/${uuid}/s/${i}`, "aria-current": i === index ? "step" : null },
        `${tr(s.title)} — ${sp.answered}/${sp.total}`, done ? h("span", { class: "ok" }, " ✓") : null));
    }));
  };
  const errors = draft.error?.fields || {};
  const items = [];
  for (const item of section.items) {
    const itemErrors = [...(errors.answers?.[item.id] || []), ...(errors.photos?.[item.id] || [])];
    const marks = [
      item.critical ? badge("warn", t("critical")) : null,
      item.photo === "required" ? badge("info", t("photoRequired")) : null,
      item.photo === "on_fail" ? badge("info", t("photoOnFail")) : null,
    ];
    const legendId = uid("legend");
    items.push(h("fieldset", { class: "item card", id: `item-${item.id}`, disabled: locked, "aria-describedby": itemErrors.length ? `${legendId}-err` : null },
      h("legend", { id: legendId }, h("span", { class: "clause" }, item.clause), " ", tr(item.text)),
      h("p", { class: "marks" }, marks),
      item.guidance ? h("details", {}, h("summary", {}, t("guidance")), h("p", {}, tr(item.guidance))) : null,
      itemErrors.length ? h("p", { class: "error", id: `${legendId}-err` }, `⚠ ${itemErrors.join("; ")}`) : null,
      answerControl(draft, item, locked, updateProgress),
      item.photo && item.photo !== "none" ? await photoArea(draft, item, updateProgress) : null));
  }
  await updateProgress();
  const last = index === checklist.sections.length - 1;
  mount(view,
    h("p", {}, h("a", { href: `#/a/${row.id}` }, `← ${row.branch.name}`)),
    h("h1", {}, `${t("section")} ${index + 1} ${t("of")} ${checklist.sections.length}: ${tr(section.title)}`),
    h("p", { class: "progress" }, progressText, " ", progressBar),
    h("details", { class: "section-nav" }, h("summary", {}, t("menu")), nav),
    locked ? h("p", { class: "banner info" }, t("submitQueued")) : null,
    draft.review_comment ? h("p", { class: "comment" }, h("strong", {}, `${t("reviewerComment")}: `), draft.review_comment) : null,
    items,
    h("div", { class: "row nav-buttons" },
      index > 0 ? h("button", { type: "button", class: "secondary", onclick: () => go(`#/v/${uuid}/s/${index - 1}`) }, `← ${t("prev")}`)
        : h("button", { type: "button", class: "secondary", onclick: () => go(`#/v/${uuid}/staff`) }, `← ${t("staffServed")}`),
      h("button", { type: "button", class: "primary", onclick: () => go(last ? `#/v/${uuid}/review` : `#/v/${uuid}/s/${index + 1}`) },
        last ? t("review") : `${t("next")} →`)));
  if (focusItem) {
    const target = view.querySelector(`#item-${CSS.escape(focusItem)}`); // this screen's, never another's
    if (target) {
      target.scrollIntoView({ block: "start" });
      (target.querySelector("input:not([type=hidden]), textarea, select, button") || target).focus();
    }
  }
}
