// What the office screens share: JSON reads, checklist definitions by slug (section titles,
// clauses and guidance for the ratings' keys), the period picker's choices, an error panel.
import { request } from "../api.js";
import { addTexts, t, tr } from "../i18n.js";
import { h } from "../ui.js";

addTexts({
  ru: { offNotFound: "Не найдено или недоступно вам.", offError: "Не удалось загрузить данные",
    offPeriod: "Период", offMonth: "Месяц", offQuarter: "Квартал", offYear: "Год",
    offStage_pre_purchase: "До покупки", offStage_purchase: "Покупка", offStage_after_sale: "После покупки" },
  en: { offNotFound: "Not found, or not available to you.", offError: "Could not load the data",
    offPeriod: "Period", offMonth: "Month", offQuarter: "Quarter", offYear: "Year",
    offStage_pre_purchase: "Before the purchase", offStage_purchase: "Purchase", offStage_after_sale: "After the sale" },
});

/** GET a JSON resource of the API (its `data`). */
export async function getJson(path) {
  return (await request("GET", path)).data;
}

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value != null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const definitions = new Map();

/** The definition of the latest version of a checklist (by slug), or null when the caller may
 * not read checklists. Cached for the session of the page. */
export function checklistBySlug(slug) {
  if (!definitions.has(slug)) {
    definitions.set(slug, (async () => {
      try {
        const page = await getJson(`/checklists${qs({ slug, per_page: 100 })}`);
        const latest = page.items.reduce((a, b) => (b.version > (a?.version ?? -1) ? b : a), null);
        return latest ? (await getJson(`/checklists/${latest.id}`)).definition : null;
      } catch {
        return null;
      }
    })());
  }
  return definitions.get(slug);
}

/** The definition of one checklist version by id (null when not readable). */
export async function checklistVersion(id) {
  const key = `#${id}`;
  if (!definitions.has(key)) {
    definitions.set(key, getJson(`/checklists/${id}`).then((v) => v.definition).catch(() => null));
  }
  return definitions.get(key);
}

/** Find an item (and its section) in a definition. */
export function findItem(definition, itemId) {
  for (const section of definition?.sections || []) {
    const item = section.items.find((i) => i.id === itemId);
    if (item) return { section, item };
  }
  return null;
}

/** The title of a section key "checklist:section" (the key itself when unknown). */
export async function sectionTitle(key) {
  return (await sectionInfo(key)).title;
}

/** A section key "checklist:section" as {title, order}: its title and its place in the
 * checklist (unknown sections last), so breakdowns read in the checklist's order. */
export async function sectionInfo(key) {
  const [slug, sectionId] = key.split(":");
  const definition = await checklistBySlug(slug);
  const index = definition ? definition.sections.findIndex((s) => s.id === sectionId) : -1;
  return index < 0 ? { title: key, order: [slug, 9999] }
    : { title: tr(definition.sections[index].title), order: [slug, index] };
}

/** The stages in the customer's cycle order. */
export const STAGES = ["pre_purchase", "purchase", "after_sale"];

/** This month as YYYY-MM (UTC, as the API's default period). */
export function currentMonth() {
  return new Date().toISOString().slice(0, 7);
}

/** The period picker's choices: the last 12 months, the last 4 quarters, this and last year. */
export function periodChoices(selected) {
  const now = new Date();
  const choices = [];
  for (let i = 0; i < 12; i += 1) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    choices.push({ value: d.toISOString().slice(0, 7), group: "offMonth" });
  }
  let year = now.getUTCFullYear();
  let quarter = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < 4; i += 1) {
    choices.push({ value: `${year}-Q${quarter}`, group: "offQuarter" });
    quarter -= 1;
    if (quarter === 0) { quarter = 4; year -= 1; }
  }
  for (let i = 0; i < 2; i += 1) choices.push({ value: String(now.getUTCFullYear() - i), group: "offYear" });
  if (selected && !choices.some((c) => c.value === selected)) choices.unshift({ value: selected, group: "offPeriod" });
  return choices;
}

/** A <select> of periods grouped by kind; `onchange(value)`. */
export function periodSelect(id, selected, onchange) {
  const groups = new Map();
  for (const choice of periodChoices(selected)) {
    if (!groups.has(choice.group)) groups.set(choice.group, []);
    groups.get(choice.group).push(h("option", { value: choice.value, selected: choice.value === selected }, choice.value));
  }
  return h("select", { id, name: "period", onchange: (e) => onchange(e.target.value) },
    [...groups].map(([group, options]) => h("optgroup", { label: t(group) }, options)));
}

/** The panel shown when a read fails (404 for out of scope looks like "not found"). */
export function errorPanel(error) {
  const text = error?.status === 404 ? t("offNotFound")
    : error?.status === 0 ? `${t("offError")}: ${t("offline")}` : `${t("offError")}: ${error?.message || error}`;
  return h("p", { class: "card bad", role: "alert" }, text);
}
