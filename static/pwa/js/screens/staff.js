// Who served the shopper, per staff role of the checklist: picked from the branch's staff
// list (those in the role first) or described when the name is unknown.
import { fmtDateTime, t } from "../i18n.js";
import { go, redirect } from "../main.js";
import { assignment, checklistOf } from "../state.js";
import * as store from "../store.js";
import { h, mount, uid } from "../ui.js";

/** Draw the staff screen of the visit `uuid`. */
export async function renderStaff(view, uuid) {
  const draft = await store.getDraft(uuid);
  if (!draft) { redirect(view, "#/"); return; }
  const row = assignment(draft.assignment_id);
  const checklist = checklistOf(row);
  const staff = row.branch.staff || [];
  const fields = checklist.staff_roles.map((role) => {
    const current = draft.staff.find((s) => s.staff_role === role) || null;
    const selectId = uid("staff");
    const descId = uid("desc");
    const inRole = staff.filter((s) => s.position === role);
    const others = staff.filter((s) => s.position !== role);
    const option = (s) => h("option", { value: String(s.id), selected: current?.staff_member_id === s.id }, `${s.full_name} — ${s.position}`);
    const describing = current && current.staff_member_id == null;
    const desc = h("textarea", { id: descId, name: `desc-${role}`, rows: 2, maxlength: 500 }, current?.description || "");
    const descWrap = h("div", { class: "stack", hidden: !describing }, h("label", { for: descId }, t("describe")), desc);
    const select = h("select", { id: selectId, name: `staff-${role}` },
      h("option", { value: "" }, t("notChosen")),
      inRole.length ? h("optgroup", { label: role }, inRole.map(option)) : null,
      others.length ? h("optgroup", { label: "…" }, others.map(option)) : null,
      h("option", { value: "describe", selected: describing }, t("unknownDescribe")));
    const save = () => store.updateDraft(uuid, (d) => {
      d.staff = d.staff.filter((s) => s.staff_role !== role);
      if (select.value === "describe") d.staff.push({ staff_role: role, staff_member_id: null, description: desc.value });
      else if (select.value) d.staff.push({ staff_role: role, staff_member_id: Number(select.value), description: "" });
    });
    select.addEventListener("change", () => { descWrap.hidden = select.value !== "describe"; save(); });
    desc.addEventListener("input", save);
    return h("div", { class: "card stack" }, h("label", { for: selectId }, `${t("role")}: ${role}`), select, descWrap);
  });
  mount(view,
    h("p", {}, h("a", { href: `#/a/${row.id}` }, `← ${row.branch.name}`)),
    h("h1", {}, t("staffServed")),
    h("p", { class: "muted" }, `${t("visitStarted")}: ${fmtDateTime(draft.visit_started_at)} · `,
      draft.geo ? t("location") : t("noLocation")),
    h("p", {}, t("staffHint")),
    fields,
    h("button", { type: "button", class: "primary", onclick: () => go(`#/v/${uuid}/s/0`) }, t("toChecklist")));
}
