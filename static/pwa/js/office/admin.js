// HQ administration (role admin): checklists (versions; validate and import a YAML, problems
// shown with their line), the network (branches, staff, CSV imports with the problems of each
// row), waves (create, distribute, follow progress), attestation (rule sets, periods: open
// and close) and users (roles, scope, active).
import { request } from "../api.js";
import { addTexts, fmtDate, fmtDateTime, t, tr } from "../i18n.js";
import { go, render } from "../main.js";
import { home, menuEntry, route } from "../routes.js";
import { badge, h, mount, uid } from "../ui.js";
import { errorPanel, getJson, qs } from "./data.js";
import { fetchAll, fill } from "./director.js";

addTexts({
  ru: {
    ad_admin: "Управление", ad_checklists: "Чек-листы", ad_network: "Сеть", ad_waves: "Волны",
    ad_attestation: "Аттестация", ad_users: "Пользователи", ad_screens: "Разделы управления",
    ad_versions: "Версии чек-листов", ad_slug: "Код", ad_version: "Версия", ad_title: "Название",
    ad_channel: "Канал", ad_imported: "Загружен", ad_importTitle: "Загрузить чек-лист (YAML)",
    ad_file: "Файл YAML", ad_yaml: "Текст YAML", ad_validate: "Проверить", ad_import: "Импортировать",
    ad_problems: "Ошибки в файле: {n}", ad_line: "Строка {line}", ad_goLine: "Перейти к строке {line}",
    ad_valid: "Файл корректен: {slug}, версия {version}: разделов {sections}, пунктов {items}.",
    ad_would_create: "Импорт создаст новую версию.", ad_would_update: "Импорт заменит неиспользованную версию.",
    ad_would_unchanged: "Такая версия уже загружена, изменений нет.",
    ad_would_refuse: "Эта версия уже используется: дайте изменённому файлу следующий номер версии.",
    ad_imported_created: "Загружено: {slug}, версия {version} (новая).",
    ad_imported_updated: "Загружено: {slug}, версия {version} (обновлена).",
    ad_imported_unchanged: "{slug}, версия {version}: без изменений.",
    ad_branches: "Филиалы", ad_staff: "Сотрудники", ad_code: "Код", ad_name: "Название", ad_kind: "Тип",
    ad_region: "Регион", ad_city: "Город", ad_active: "Активен", ad_position: "Должность",
    ad_branch: "Филиал", ad_hired: "Принят", ad_fullName: "ФИО", ad_importBranches: "Импорт филиалов (CSV)",
    ad_importStaff: "Импорт сотрудников (CSV)", ad_csvFile: "Файл CSV (UTF-8)", ad_upload: "Загрузить",
    ad_rowProblems: "Файл не загружен, ошибки в строках: {n}", ad_row: "Строка", ad_column: "Столбец",
    ad_message: "Ошибка", ad_importDone: "Создано: {created}, обновлено: {updated}, без изменений: {unchanged}.",
    ad_branchColumns: "Столбцы: code, name, kind, region_code, city; необязательные: region_name, address, timezone, latitude, longitude, active.",
    ad_staffColumns: "Столбцы: employee_code, full_name, position, branch_code, hired_on; необязательные: left_on и др.",
    ad_total: "Всего: {n}", ad_yes: "да", ad_no: "нет", ad_page: "Стр. {page} из {pages}",
    ad_wave: "Волна", ad_dates: "Сроки", ad_planned: "Запланировано визитов", ad_assigned: "Назначено",
    ad_progress: "Ход волны", ad_done: "Проверено и опубликовано", ad_createWave: "Новая волна",
    ad_waveName: "Название волны", ad_checklist: "Чек-лист", ad_startsOn: "Начало", ad_endsOn: "Конец",
    ad_visitsPerBranch: "Визитов на филиал", ad_dayParts: "Части дня", ad_pickBranches: "Филиалы волны",
    ad_allOfRegion: "Все филиалы региона {name}", ad_create: "Создать", ad_created: "Волна «{name}» создана.",
    ad_distribute: "Распределить визиты", ad_shoppers: "Тайные покупатели", ad_distributed: "Назначено визитов: {created}; не распределено: {unfilled}.",
    ad_status: "Статус", ad_count: "Число", ad_open: "Открыть", ad_noWaves: "Волн нет.",
    ad_ruleSets: "Правила аттестации (версии)", ad_periods: "Периоды аттестации", ad_rules: "Правила",
    ad_weights: "Веса", ad_minExternal: "Мин. доля внешней оценки", ad_minAudits: "Мин. визитов",
    ad_close: "Закрыть период", ad_closeConfirm: "Закрыть период «{name}»? Листы аттестации будут заморожены.",
    ad_closed: "Период «{name}» закрыт.", ad_openPeriod: "Открыть период", ad_periodName: "Название периода",
    ad_year: "Год", ad_periodOpened: "Период «{name}» открыт.", ad_state_open: "открыт", ad_state_closed: "закрыт",
    ad_login: "Логин", ad_displayName: "Имя", ad_role: "Роль", ad_scope: "Зона", ad_lastLogin: "Последний вход",
    ad_createUser: "Новый пользователь", ad_password: "Пароль (не короче 10 символов)", ad_regions: "Регионы (для директора)",
    ad_branchesOf: "Филиалы (для управляющего)", ad_userCreated: "Пользователь {login} создан.",
    ad_saveRole: "Сохранить роль", ad_deactivate: "Отключить", ad_activate: "Включить", ad_saved: "Сохранено: {login}.",
    ad_allRoles: "Все роли", ad_filter: "Показать",
    ad_role_admin: "администратор", ad_role_reviewer: "проверяющий", ad_role_director: "директор региона",
    ad_role_manager: "управляющий филиалом", ad_role_shopper: "тайный покупатель", ad_role_employee: "сотрудник",
    ad_rulesOf: "Правила: {name}",
  },
  en: {
    ad_admin: "Administration", ad_checklists: "Checklists", ad_network: "Network", ad_waves: "Waves",
    ad_attestation: "Attestation", ad_users: "Users", ad_screens: "Administration sections",
    ad_versions: "Checklist versions", ad_slug: "Code", ad_version: "Version", ad_title: "Title",
    ad_channel: "Channel", ad_imported: "Imported", ad_importTitle: "Load a checklist (YAML)",
    ad_file: "YAML file", ad_yaml: "YAML text", ad_validate: "Validate", ad_import: "Import",
    ad_problems: "Problems in the file: {n}", ad_line: "Line {line}", ad_goLine: "Go to line {line}",
    ad_valid: "The file is valid: {slug}, version {version}: {sections} sections, {items} items.",
    ad_would_create: "Importing creates a new version.", ad_would_update: "Importing replaces an unused version.",
    ad_would_unchanged: "This version is already loaded, nothing changes.",
    ad_would_refuse: "This version is in use: give the changed file the next version number.",
    ad_imported_created: "Imported: {slug}, version {version} (new).",
    ad_imported_updated: "Imported: {slug}, version {version} (updated).",
    ad_imported_unchanged: "{slug}, version {version}: unchanged.",
    ad_branches: "Branches", ad_staff: "Staff", ad_code: "Code", ad_name: "Name", ad_kind: "Kind",
    ad_region: "Region", ad_city: "City", ad_active: "Active", ad_position: "Position",
    ad_branch: "Branch", ad_hired: "Hired", ad_fullName: "Full name", ad_importBranches: "Import branches (CSV)",
    ad_importStaff: "Import staff (CSV)", ad_csvFile: "CSV file (UTF-8)", ad_upload: "Upload",
    ad_rowProblems: "Nothing imported; problems in rows: {n}", ad_row: "Row", ad_column: "Column",
    ad_message: "Problem", ad_importDone: "Created: {created}, updated: {updated}, unchanged: {unchanged}.",
    ad_branchColumns: "Columns: code, name, kind, region_code, city; optional: region_name, address, timezone, latitude, longitude, active.",
    ad_staffColumns: "Columns: employee_code, full_name, position, branch_code, hired_on; optional: left_on and more.",
    ad_total: "Total: {n}", ad_yes: "yes", ad_no: "no", ad_page: "Page {page} of {pages}",
    ad_wave: "Wave", ad_dates: "Dates", ad_planned: "Visits planned", ad_assigned: "Assigned",
    ad_progress: "Progress", ad_done: "Reviewed and released", ad_createWave: "New wave",
    ad_waveName: "Wave name", ad_checklist: "Checklist", ad_startsOn: "Starts on", ad_endsOn: "Ends on",
    ad_visitsPerBranch: "Visits per branch", ad_dayParts: "Day parts", ad_pickBranches: "Branches of the wave",
    ad_allOfRegion: "All branches of {name}", ad_create: "Create", ad_created: "Wave “{name}” created.",
    ad_distribute: "Distribute the visits", ad_shoppers: "Mystery shoppers", ad_distributed: "Visits assigned: {created}; left over: {unfilled}.",
    ad_status: "Status", ad_count: "Count", ad_open: "Open", ad_noWaves: "No waves.",
    ad_ruleSets: "Attestation rules (versions)", ad_periods: "Attestation periods", ad_rules: "Rules",
    ad_weights: "Weights", ad_minExternal: "Min. external share", ad_minAudits: "Min. visits",
    ad_close: "Close the period", ad_closeConfirm: "Close the period “{name}”? The attestation sheets will be frozen.",
    ad_closed: "Period “{name}” closed.", ad_openPeriod: "Open a period", ad_periodName: "Period name",
    ad_year: "Year", ad_periodOpened: "Period “{name}” opened.", ad_state_open: "open", ad_state_closed: "closed",
    ad_login: "Login", ad_displayName: "Name", ad_role: "Role", ad_scope: "Scope", ad_lastLogin: "Last sign-in",
    ad_createUser: "New user", ad_password: "Password (10 characters or more)", ad_regions: "Regions (for a director)",
    ad_branchesOf: "Branches (for a manager)", ad_userCreated: "User {login} created.",
    ad_saveRole: "Save role", ad_deactivate: "Deactivate", ad_activate: "Activate", ad_saved: "Saved: {login}.",
    ad_allRoles: "All roles", ad_filter: "Show",
    ad_role_admin: "administrator", ad_role_reviewer: "reviewer", ad_role_director: "regional director",
    ad_role_manager: "branch manager", ad_role_shopper: "mystery shopper", ad_role_employee: "employee",
    ad_rulesOf: "Rules: {name}",
  },
});

const ADMIN = ["admin"];
const ROLES = ["admin", "reviewer", "director", "manager", "shopper", "employee"];
const DAY_PARTS = ["morning", "afternoon", "evening", "weekend"];
const STATUSES = ["assigned", "in_progress", "submitted", "returned", "approved", "rejected", "released", "disputed", "resolved"];
let notice = null;

function noticeCard() {
  const text = notice;
  notice = null;
  return text ? h("p", { class: "banner info", role: "status", id: "notice" }, text) : null;
}

function subNav(current) {
  const link = (screen, label) => h("a", { href: `#/admin/${screen}`, "aria-current": current === screen ? "page" : null }, t(label));
  return h("nav", { class: "subnav", "aria-label": t("ad_screens") },
    link("checklists", "ad_checklists"), link("network", "ad_network"), link("waves", "ad_waves"),
    link("attestation", "ad_attestation"), link("users", "ad_users"));
}

function page(view, screen, title, ...body) {
  mount(view, h("h1", {}, t(title)), subNav(screen), noticeCard(), ...body);
}

/** A field with its label: returns [label, control]. */
function field(label, control) {
  if (!control.id) control.id = uid("f");
  return [h("label", { for: control.id }, label), control];
}

function table(caption, head, rows, id) {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "data", id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
}

function errorText(error) {
  const fields = Object.entries(error.fields || {})
    .filter(([k]) => k !== "rows" && k !== "problems" && k !== "summary")
    .map(([k, v]) => `${k}: ${[].concat(v).map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(", ")}`);
  return [error.message, ...fields].join(" ");
}

// Checklists --------------------------------------------------------------------------------

/** The problems of a YAML file, each with its line number, the line's text and a button that
 * puts the cursor on that line of the text box. */
function problemList(problems, textarea) {
  const lines = textarea.value.split("\n");
  return h("section", { class: "card bad", role: "alert", id: "yaml-problems" },
    h("h2", {}, badge("bad", fill(t("ad_problems"), { n: problems.length }))),
    h("ol", { class: "problems" }, problems.map((problem) => {
      const found = /^(.*?):(\d+): (.*)$/s.exec(problem);
      if (!found) return h("li", {}, problem);
      const line = Number(found[2]);
      const goToLine = () => {
        const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
        textarea.focus();
        textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
      };
      return h("li", { dataset: { line } },
        h("strong", { "data-test": "line" }, fill(t("ad_line"), { line })), `: ${found[3]}`,
        lines[line - 1] != null ? h("pre", { class: "yaml-line" }, h("code", {}, `${line} | ${lines[line - 1]}`)) : null,
        h("button", { type: "button", class: "linklike", onclick: goToLine }, fill(t("ad_goLine"), { line })));
    })));
}

/** Versions, and the validate/import form. */
export async function renderChecklists(view) {
  page(view, "checklists", "ad_checklists", h("p", { class: "loading" }, t("loading")));
  let versions;
  try {
    versions = (await getJson("/checklists?per_page=500")).items;
  } catch (error) {
    page(view, "checklists", "ad_checklists", errorPanel(error));
    return;
  }
  const fileInput = h("input", { type: "file", id: "yaml-file", accept: ".yaml,.yml,text/yaml" });
  const textarea = h("textarea", { id: "yaml-text", name: "yaml", rows: 14, spellcheck: false, class: "code" });
  const result = h("div", { id: "yaml-result", "aria-live": "polite" });
  let filename = "checklist.yaml";
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    filename = file.name;
    textarea.value = await file.text();
    result.replaceChildren();
  });
  const send = async (action) => {
    result.replaceChildren(h("p", { class: "loading" }, t("loading")));
    try {
      const { data } = await request("POST", `/checklists/${action}`, { json: { yaml: textarea.value, filename } });
      if (action === "validate") {
        result.replaceChildren(h("p", { class: "card", role: "status", id: "yaml-ok" },
          badge(data.would === "refuse" ? "warn" : "ok", fill(t("ad_valid"), data)), " ", t(`ad_would_${data.would}`)));
      } else {
        notice = fill(t(`ad_imported_${data.action}`), data);
        render();
      }
    } catch (error) {
      const problems = error.fields?.problems;
      result.replaceChildren(problems ? problemList(problems, textarea)
        : h("p", { class: "card bad", role: "alert" }, errorText(error)));
    }
  };
  const rows = versions.map((v) => h("tr", { dataset: { version: v.id } },
    h("th", { scope: "row" }, v.slug), h("td", { class: "num" }, String(v.version)), h("td", {}, tr(v.title)),
    h("td", {}, v.channel), h("td", {}, fmtDateTime(v.imported_at))));
  page(view, "checklists", "ad_checklists",
    h("section", { class: "card stack", id: "yaml-form" },
      h("h2", {}, t("ad_importTitle")),
      ...field(t("ad_file"), fileInput),
      ...field(t("ad_yaml"), textarea),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", id: "validate", onclick: () => send("validate") }, t("ad_validate")),
        h("button", { type: "button", class: "primary", id: "import", onclick: () => send("import") }, t("ad_import"))),
      result),
    table(t("ad_versions"), [t("ad_slug"), t("ad_version"), t("ad_title"), t("ad_channel"), t("ad_imported")], rows, "versions"));
}

// Network -----------------------------------------------------------------------------------

function csvImport(kind, title, columnsHelp) {
  const input = h("input", { type: "file", id: `${kind}-csv`, accept: ".csv,text/csv", required: true });
  const result = h("div", { "aria-live": "polite", id: `${kind}-result` });
  const form = h("form", { class: "card stack", onsubmit: async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) { input.focus(); return; }
    const body = new FormData();
    body.append("file", file);
    try {
      const { data } = await request("POST", `/${kind}/import`, { form: body });
      notice = fill(t("ad_importDone"), data);
      render();
    } catch (error) {
      const problems = error.fields?.rows;
      result.replaceChildren(problems ? h("section", { class: "card bad", role: "alert" },
        h("h3", {}, badge("bad", fill(t("ad_rowProblems"), { n: problems.length }))),
        table(t("ad_rowProblems").split(";")[0], [t("ad_row"), t("ad_column"), t("ad_message")],
          problems.map((p) => h("tr", {}, h("td", { class: "num", "data-test": "row" }, String(p.row)),
            h("td", {}, p.column || "—"), h("td", {}, p.message))), `${kind}-problems`))
        : h("p", { class: "card bad", role: "alert" }, errorText(error)));
    }
  } },
    h("h2", {}, title), h("p", { class: "muted" }, columnsHelp),
    ...field(t("ad_csvFile"), input),
    h("button", { type: "submit", class: "primary" }, t("ad_upload")), result);
  return form;
}

function pager(screen, query, key, pageNo, pages) {
  if (pages <= 1) return null;
  const link = (p, label) => (p >= 1 && p <= pages
    ? h("a", { href: `#/admin/${screen}${qs({ ...Object.fromEntries(query), [key]: p })}` }, label) : null);
  return h("p", { class: "row pager" }, link(pageNo - 1, "←"), fill(t("ad_page"), { page: pageNo, pages }), link(pageNo + 1, "→"));
}

/** Branches and staff, and their CSV imports. */
export async function renderNetwork(view, _params, query) {
  const bp = Math.max(1, Number(query.get("bp") || 1));
  const sp = Math.max(1, Number(query.get("sp") || 1));
  page(view, "network", "ad_network", h("p", { class: "loading" }, t("loading")));
  let branches; let staff; let regions;
  try {
    [branches, staff, regions] = await Promise.all([
      getJson(`/branches${qs({ page: bp, per_page: 100 })}`), getJson(`/staff${qs({ page: sp, per_page: 100 })}`),
      getJson("/regions?per_page=500")]);
  } catch (error) {
    page(view, "network", "ad_network", errorPanel(error));
    return;
  }
  const regionName = new Map(regions.items.map((r) => [r.id, r.code]));
  page(view, "network", "ad_network",
    h("div", { class: "grid two" },
      csvImport("branches", t("ad_importBranches"), t("ad_branchColumns")),
      csvImport("staff", t("ad_importStaff"), t("ad_staffColumns"))),
    h("h2", {}, t("ad_branches")), h("p", {}, fill(t("ad_total"), { n: branches.total })),
    table(t("ad_branches"), [t("ad_code"), t("ad_name"), t("ad_kind"), t("ad_region"), t("ad_city"), t("ad_active")],
      branches.items.map((b) => h("tr", {}, h("th", { scope: "row" }, b.code), h("td", {}, b.name), h("td", {}, b.kind),
        h("td", {}, regionName.get(b.region_id) || b.region_code || ""), h("td", {}, b.city || ""),
        h("td", {}, b.active ? t("ad_yes") : t("ad_no")))), "branches"),
    pager("network", query, "bp", bp, Math.ceil(branches.total / 100)),
    h("h2", {}, t("ad_staff")), h("p", {}, fill(t("ad_total"), { n: staff.total })),
    table(t("ad_staff"), [t("ad_code"), t("ad_fullName"), t("ad_position"), t("ad_branch"), t("ad_hired")],
      staff.items.map((s) => h("tr", {}, h("th", { scope: "row" }, s.employee_code), h("td", {}, s.full_name),
        h("td", {}, s.position), h("td", {}, s.placements?.find((p) => !p.ended_on)?.branch_code || "—"),
        h("td", {}, fmtDate(s.hired_on)))), "staff"),
    pager("network", query, "sp", sp, Math.ceil(staff.total / 100)));
}

// Waves -------------------------------------------------------------------------------------

async function progressOf(wave) {
  const { rows } = await fetchAll("/assignments", { wave_id: wave.id });
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const a of rows) counts[a.audit_status] = (counts[a.audit_status] || 0) + 1;
  const planned = wave.branch_ids.length * wave.visits_per_branch;
  const done = counts.released + counts.disputed + counts.resolved;
  return { assigned: rows.length, planned, counts, done };
}

function progressCell(progress) {
  const id = uid("prog");
  return h("div", { class: "stack" },
    h("progress", { id, max: Math.max(1, progress.planned), value: progress.done, "aria-label": t("ad_done") }),
    h("span", { class: "muted" }, `${t("ad_done")}: ${progress.done} / ${progress.planned}; ${t("ad_assigned")}: ${progress.assigned}`));
}

function waveForm(checklists, branches, regions) {
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const latest = new Map();
  for (const c of checklists) if (!latest.has(c.slug) || latest.get(c.slug).version < c.version) latest.set(c.slug, c);
  const checklist = h("select", { name: "checklist_version_id" },
    [...latest.values()].map((c) => h("option", { value: c.id }, `${tr(c.title)} (${c.slug} v${c.version})`)));
  const today = new Date().toISOString().slice(0, 10);
  const starts = h("input", { type: "date", name: "starts_on", required: true, value: today });
  const ends = h("input", { type: "date", name: "ends_on", required: true, value: today });
  const visits = h("input", { type: "number", name: "visits_per_branch", min: 1, max: 31, value: 1, required: true });
  const parts = DAY_PARTS.map((p) => {
    const box = h("input", { type: "checkbox", name: "day_parts", value: p, id: uid("dp") });
    return h("span", { class: "choice" }, box, h("label", { for: box.id }, t(`dp_${p}`)));
  });
  const byRegion = regions.map((r) => {
    const mine = branches.filter((b) => b.region_id === r.id);
    const boxes = mine.map((b) => {
      const box = h("input", { type: "checkbox", name: "branch_ids", value: b.id, id: uid("wb") });
      return h("span", { class: "choice" }, box, h("label", { for: box.id }, `${b.code}`));
    });
    const all = h("input", { type: "checkbox", id: uid("wr"), onchange: (e) => {
      for (const s of boxes) s.querySelector("input").checked = e.target.checked;
    } });
    return h("fieldset", { class: "item" }, h("legend", {}, r.name),
      h("span", { class: "choice" }, all, h("label", { for: all.id }, fill(t("ad_allOfRegion"), { name: r.code }))),
      h("div", { class: "choices" }, boxes));
  });
  const status = h("p", { class: "error", role: "alert" });
  return h("form", { class: "card stack", id: "wave-form", onsubmit: async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {
      name: name.value.trim(), checklist_version_id: Number(checklist.value),
      starts_on: starts.value, ends_on: ends.value, visits_per_branch: Number(visits.value),
      day_parts: [...form.querySelectorAll("input[name=day_parts]:checked")].map((x) => x.value),
      branch_ids: [...form.querySelectorAll("input[name=branch_ids]:checked")].map((x) => Number(x.value)),
    };
    try {
      const { data } = await request("POST", "/waves", { json: body });
      notice = fill(t("ad_created"), data);
      go(`#/admin/waves/${data.id}`);
    } catch (error) {
      status.textContent = errorText(error);
    }
  } },
    h("h2", {}, t("ad_createWave")),
    ...field(t("ad_waveName"), name), ...field(t("ad_checklist"), checklist),
    h("div", { class: "grid two" }, h("div", { class: "stack" }, ...field(t("ad_startsOn"), starts)),
      h("div", { class: "stack" }, ...field(t("ad_endsOn"), ends))),
    ...field(t("ad_visitsPerBranch"), visits),
    h("fieldset", { class: "item" }, h("legend", {}, t("ad_dayParts")), h("div", { class: "choices" }, parts)),
    h("fieldset", { class: "item" }, h("legend", {}, t("ad_pickBranches")), byRegion),
    h("button", { type: "submit", class: "primary" }, t("ad_create")), status);
}

/** Waves with their progress, and the form for a new one. */
export async function renderWaves(view) {
  page(view, "waves", "ad_waves", h("p", { class: "loading" }, t("loading")));
  let waves; let progress; let checklists; let branches; let regions;
  try {
    [waves, checklists, branches, regions] = await Promise.all([
      getJson("/waves?per_page=20").then((p) => p.items), getJson("/checklists?per_page=500").then((p) => p.items),
      fetchAll("/branches", {}).then((r) => r.rows), getJson("/regions?per_page=500").then((p) => p.items)]);
    progress = await Promise.all(waves.map(progressOf));
  } catch (error) {
    page(view, "waves", "ad_waves", errorPanel(error));
    return;
  }
  const rows = waves.map((w, i) => h("tr", { dataset: { wave: w.id } },
    h("th", { scope: "row" }, h("a", { href: `#/admin/waves/${w.id}` }, w.name)),
    h("td", {}, `${fmtDate(w.starts_on)} – ${fmtDate(w.ends_on)}`),
    h("td", { class: "num" }, String(progress[i].planned)),
    h("td", {}, progressCell(progress[i]))));
  page(view, "waves", "ad_waves",
    rows.length ? table(t("ad_waves"), [t("ad_wave"), t("ad_dates"), t("ad_planned"), t("ad_progress")], rows, "waves")
      : h("p", {}, t("ad_noWaves")),
    h("details", { class: "card" }, h("summary", {}, t("ad_createWave")), waveForm(checklists, branches, regions)));
}

/** One wave: progress by audit status, and distributing its visits among shoppers. */
export async function renderWave(view, params) {
  const id = Number(params.id);
  page(view, "waves", "ad_wave", h("p", { class: "loading" }, t("loading")));
  let wave; let progress; let shoppers;
  try {
    wave = await getJson(`/waves/${id}`);
    [progress, shoppers] = await Promise.all([progressOf(wave), fetchAll("/users", { role: "shopper" }).then((r) => r.rows)]);
  } catch (error) {
    page(view, "waves", "ad_wave", errorPanel(error));
    return;
  }
  const status = h("p", { class: "error", role: "alert" });
  const boxes = shoppers.filter((s) => s.active).map((s) => {
    const box = h("input", { type: "checkbox", name: "shopper_ids", value: s.id, id: uid("sh") });
    return h("span", { class: "choice" }, box, h("label", { for: box.id }, `${s.display_name} (${s.login})`));
  });
  const distribute = h("form", { class: "card stack", id: "distribute", onsubmit: async (event) => {
    event.preventDefault();
    const ids = [...event.target.querySelectorAll("input[name=shopper_ids]:checked")].map((x) => Number(x.value));
    try {
      const { data } = await request("POST", `/waves/${id}/distribute`, { json: { shopper_ids: ids } });
      notice = fill(t("ad_distributed"), { created: data.created.length, unfilled: data.unfilled.length });
      render();
    } catch (error) {
      status.textContent = errorText(error);
    }
  } },
    h("h2", {}, t("ad_distribute")),
    h("fieldset", { class: "item" }, h("legend", {}, t("ad_shoppers")), h("div", { class: "choices" }, boxes)),
    h("button", { type: "submit", class: "primary" }, t("ad_distribute")), status);
  mount(view, h("p", {}, h("a", { href: "#/admin/waves" }, `← ${t("ad_waves")}`)),
    h("h1", {}, wave.name), subNav("waves"), noticeCard(),
    h("p", { class: "muted" }, `${fmtDate(wave.starts_on)} – ${fmtDate(wave.ends_on)} · ${t("ad_planned")}: ${progress.planned}`),
    h("section", { class: "card" }, h("h2", {}, t("ad_progress")), progressCell(progress),
      table(t("ad_progress"), [t("ad_status"), t("ad_count")],
        STATUSES.filter((s) => progress.counts[s]).map((s) => h("tr", { dataset: { status: s } },
          h("th", { scope: "row" }, t(`st_${s}`)), h("td", { class: "num" }, String(progress.counts[s])))), "wave-progress")),
    distribute);
}

// Attestation -------------------------------------------------------------------------------

/** Rule set versions; periods (open one, close one). */
export async function renderAttestation(view) {
  page(view, "attestation", "ad_attestation", h("p", { class: "loading" }, t("loading")));
  let ruleSets; let periods;
  try {
    [ruleSets, periods] = await Promise.all([
      getJson("/attestation/rule-sets?per_page=100").then((p) => p.items),
      getJson("/attestation/periods?per_page=100").then((p) => p.items)]);
  } catch (error) {
    page(view, "attestation", "ad_attestation", errorPanel(error));
    return;
  }
  const ruleName = new Map(ruleSets.map((r) => [r.id, `${r.name} (${r.code} v${r.version})`]));
  const periodRows = periods.map((p) => {
    const status = h("span", { role: "status" });
    const close = p.status === "open" ? h("button", { type: "button", class: "secondary small", onclick: async () => {
      if (!confirm(fill(t("ad_closeConfirm"), p))) return;
      try {
        await request("POST", `/attestation/periods/${p.id}/close`, { json: { version: p.version } });
        notice = fill(t("ad_closed"), p);
        render();
      } catch (error) {
        status.textContent = errorText(error);
      }
    } }, t("ad_close")) : null;
    return h("tr", { dataset: { period: p.id } },
      h("th", { scope: "row" }, p.name), h("td", {}, `${fmtDate(p.starts_on)} – ${fmtDate(p.ends_on)}`),
      h("td", {}, ruleName.get(p.rule_set_id) || String(p.rule_set_id)),
      h("td", {}, p.status === "open" ? badge("info", t("ad_state_open")) : badge("ok", t("ad_state_closed"))),
      h("td", {}, close, status));
  });
  const name = h("input", { name: "name", required: true });
  const ruleSet = h("select", { name: "rule_set_id" }, ruleSets.map((r) => h("option", { value: r.id }, ruleName.get(r.id))));
  const year = h("input", { type: "number", name: "year", min: 2000, max: 2100, value: new Date().getUTCFullYear() });
  const formStatus = h("p", { class: "error", role: "alert" });
  const openForm = h("form", { class: "card stack", id: "period-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { data } = await request("POST", "/attestation/periods",
        { json: { name: name.value.trim(), rule_set_id: Number(ruleSet.value), year: Number(year.value) } });
      notice = fill(t("ad_periodOpened"), data);
      render();
    } catch (error) {
      formStatus.textContent = errorText(error);
    }
  } }, h("h2", {}, t("ad_openPeriod")), ...field(t("ad_periodName"), name), ...field(t("ad_rules"), ruleSet),
  ...field(t("ad_year"), year), h("button", { type: "submit", class: "primary" }, t("ad_openPeriod")), formStatus);
  const ruleRows = ruleSets.map((r) => h("tr", {},
    h("th", { scope: "row" }, `${r.name} (${r.code} v${r.version})`),
    h("td", {}, Object.entries(r.rules?.weights || {}).map(([k, v]) => `${k}: ${v}`).join(", ")),
    h("td", { class: "num" }, String(r.rules?.min_external_share ?? "—")),
    h("td", { class: "num" }, String(r.rules?.min_audits ?? "—")),
    h("td", {}, fmtDateTime(r.created_at))));
  page(view, "attestation", "ad_attestation",
    table(t("ad_periods"), [t("ad_periodName"), t("ad_dates"), t("ad_rules"), t("ad_status"), ""], periodRows, "periods"),
    openForm,
    table(t("ad_ruleSets"), [t("ad_rules"), t("ad_weights"), t("ad_minExternal"), t("ad_minAudits"), t("ad_imported")], ruleRows, "rule-sets"));
}

// Users -------------------------------------------------------------------------------------

async function patchUser(user, body, status) {
  try {
    await request("PATCH", `/users/${user.id}`, { json: body });
    notice = fill(t("ad_saved"), user);
    render();
  } catch (error) {
    status.textContent = errorText(error);
  }
}

/** Users: filter by role, change a role, (de)activate, create. */
export async function renderUsers(view, _params, query) {
  const role = query.get("role") || "";
  const pageNo = Math.max(1, Number(query.get("page") || 1));
  page(view, "users", "ad_users", h("p", { class: "loading" }, t("loading")));
  let users; let regions; let branches;
  try {
    [users, regions, branches] = await Promise.all([
      getJson(`/users${qs({ role, page: pageNo, per_page: 100 })}`),
      getJson("/regions?per_page=500").then((p) => p.items), fetchAll("/branches", {}).then((r) => r.rows)]);
  } catch (error) {
    page(view, "users", "ad_users", errorPanel(error));
    return;
  }
  const regionCode = new Map(regions.map((r) => [r.id, r.code]));
  const branchCode = new Map(branches.map((b) => [b.id, b.code]));
  const roleOptions = (selected) => ROLES.map((r) => h("option", { value: r, selected: r === selected }, t(`ad_role_${r}`)));
  const rows = users.items.map((u) => {
    const status = h("span", { role: "status", class: "error" });
    const select = h("select", { "aria-label": `${t("ad_role")}: ${u.login}` }, roleOptions(u.role));
    const scope = [...u.region_ids.map((id) => regionCode.get(id)), ...u.branch_ids.map((id) => branchCode.get(id))].filter(Boolean).join(", ");
    return h("tr", { dataset: { user: u.id } },
      h("th", { scope: "row" }, u.login), h("td", {}, u.display_name),
      h("td", {}, select, h("button", { type: "button", class: "secondary small", onclick: () => patchUser(u, { role: select.value }, status) }, t("ad_saveRole"))),
      h("td", {}, scope || "—"),
      h("td", {}, u.active ? t("ad_yes") : t("ad_no"), " ",
        h("button", { type: "button", class: "secondary small", onclick: () => patchUser(u, { active: !u.active }, status) },
          u.active ? t("ad_deactivate") : t("ad_activate"))),
      h("td", {}, u.last_login_at ? fmtDateTime(u.last_login_at) : "—", status));
  });
  const filter = h("form", { class: "card filters", onsubmit: (e) => e.preventDefault() },
    h("div", {}, ...field(t("ad_role"), h("select", { id: "role-filter", onchange: (e) => go(`#/admin/users${qs({ role: e.target.value })}`) },
      h("option", { value: "" }, t("ad_allRoles")), roleOptions(role)))));
  const login = h("input", { name: "login", required: true, autocomplete: "off" });
  const displayName = h("input", { name: "display_name", required: true });
  const newRole = h("select", { name: "role" }, roleOptions("shopper"));
  const password = h("input", { type: "password", name: "password", required: true, minlength: 10, autocomplete: "new-password" });
  const regionPick = h("select", { multiple: true, name: "region_ids", size: 4 }, regions.map((r) => h("option", { value: r.id }, `${r.name} (${r.code})`)));
  const branchPick = h("select", { multiple: true, name: "branch_ids", size: 6 }, branches.map((b) => h("option", { value: b.id }, `${b.code} — ${b.name}`)));
  const createStatus = h("p", { class: "error", role: "alert" });
  const create = h("form", { class: "card stack", id: "user-form", onsubmit: async (event) => {
    event.preventDefault();
    const picked = (select) => [...select.selectedOptions].map((o) => Number(o.value));
    try {
      await request("POST", "/users", { json: {
        login: login.value.trim(), display_name: displayName.value.trim(), role: newRole.value, password: password.value,
        region_ids: picked(regionPick), branch_ids: picked(branchPick),
      } });
      notice = fill(t("ad_userCreated"), { login: login.value.trim() });
      render();
    } catch (error) {
      createStatus.textContent = errorText(error);
    }
  } }, h("h2", {}, t("ad_createUser")), ...field(t("ad_login"), login), ...field(t("ad_displayName"), displayName),
  ...field(t("ad_role"), newRole), ...field(t("ad_password"), password), ...field(t("ad_regions"), regionPick),
  ...field(t("ad_branchesOf"), branchPick), h("button", { type: "submit", class: "primary" }, t("ad_create")), createStatus);
  const query2 = new URLSearchParams({ role });
  page(view, "users", "ad_users", filter,
    h("p", {}, fill(t("ad_total"), { n: users.total })),
    table(t("ad_users"), [t("ad_login"), t("ad_displayName"), t("ad_role"), t("ad_scope"), t("ad_active"), t("ad_lastLogin")], rows, "users"),
    pager("users", query2, "page", pageNo, Math.ceil(users.total / 100)),
    h("details", { class: "card" }, h("summary", {}, t("ad_createUser")), create));
}

route("/admin/checklists", ADMIN, renderChecklists);
route("/admin/network", ADMIN, renderNetwork);
route("/admin/waves", ADMIN, renderWaves);
route("/admin/waves/:id", ADMIN, renderWave);
route("/admin/attestation", ADMIN, renderAttestation);
route("/admin/users", ADMIN, renderUsers);
menuEntry({ href: "#/admin/checklists", label: "ad_admin", roles: ADMIN, order: 10 });
home("admin", "#/admin/checklists");
