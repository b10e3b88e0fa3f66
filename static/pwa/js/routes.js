// Route registry: every screen registers its routes with the roles that may open them, and
// its menu entries with the roles that see them. The header menu, each role's home screen and
// the "not allowed" page all come from here, so a role never sees an entry it cannot use.

const routes = [];
const menu = [];
const homes = new Map();

function compile(pattern) {
  // "/branch/:id/audits" -> /^\/branch\/([^/]+)\/audits$/ with names ["id"]
  const names = [];
  const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${source}$`), names };
}

/** Register a route: `pattern` like "/branch/:id", `roles` that may open it, and
 * `render(view, params, query)` (params by name, query a URLSearchParams). */
export function route(pattern, roles, render) {
  routes.push({ pattern, roles: new Set(roles), render, ...compile(pattern) });
}

/** Register a menu entry: `label` is an i18n key; `order` sorts the entries. */
export function menuEntry({ href, label, roles, order = 50, count = null }) {
  menu.push({ href, label, roles: new Set(roles), order, count });
}

/** The route each role lands on at "#/". */
export function home(role, href) {
  homes.set(role, href);
}

/** The home route of a role ("#/" when none is registered). */
export function homeOf(role) {
  return homes.get(role) || "#/";
}

/** The menu entries `role` sees, in order. */
export function menuFor(role) {
  return menu.filter((entry) => entry.roles.has(role)).sort((a, b) => a.order - b.order);
}

/** Find the route for a path ("/branch/7?period=2026-10"): {route, params, query, allowed}
 * or null when no route matches. */
export function resolve(path, role) {
  const [bare, search = ""] = path.split("?");
  for (const entry of routes) {
    const found = entry.regex.exec(bare);
    if (!found) continue;
    const params = Object.fromEntries(entry.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
    return { route: entry, params, query: new URLSearchParams(search), allowed: entry.roles.has(role) };
  }
  return null;
}
