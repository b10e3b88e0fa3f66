// Small DOM helpers: elements are built with h(), never from HTML strings (no injection, and
// the CSP forbids inline handlers anyway).

/** Create an element: h("button", {type: "button", onclick: fn}, "text", child...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace the contents of `parent` with `children`. */
export function mount(parent, ...children) {
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
}

/** A status shown as words and a symbol, never by colour alone. */
export function badge(kind, text) {
  const symbols = { ok: "✓", warn: "!", bad: "✕", info: "•" };
  return h("span", { class: `badge badge-${kind}` }, h("span", { "aria-hidden": "true" }, symbols[kind] || "•"), " ", text);
}

let counter = 0;
/** A unique element id (labels and descriptions need them). */
export function uid(prefix = "f") {
  counter += 1;
  return `${prefix}-${counter}`;
}
