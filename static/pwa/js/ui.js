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

// Screens. Every render of a route draws into a screen of its own, opened when the render
// starts (openScreen): a detached copy of the view element that takes the view's place at its
// first mount(), so the screen on show stays until the new one has something to show (never a
// blank view in between). Opening a screen makes every earlier one stale, and mount() drops
// whatever a stale screen draws, however late its fetches come back: a slower render of an
// earlier route never draws over the current one, and screens need no checks of their own.
let generation = 0;
const screens = new WeakMap(); // screen element -> { generation, place: the element it replaces }

/** Open the screen of a render that starts now, to take the place of `shown` (the view element
 * on show) at its first mount(); every screen opened before it becomes stale. */
export function openScreen(shown) {
  generation += 1;
  const screen = shown.cloneNode(false); // the same element (id, attributes), empty
  for (const key of Object.keys(screen.dataset)) delete screen.dataset[key];
  screens.set(screen, { generation, place: shown });
  return screen;
}

/** True while `screen` is the latest one opened (false once another render has started). */
export function isCurrentScreen(screen) {
  return screens.get(screen)?.generation === generation;
}

/** Replace the contents of `parent` with `children`. A screen's first mount puts it on show;
 * a stale screen's mount is dropped (a newer render owns the view). */
export function mount(parent, ...children) {
  const screen = screens.get(parent);
  if (screen && screen.generation !== generation) return;
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  if (screen && !parent.isConnected) screen.place.replaceWith(parent);
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
