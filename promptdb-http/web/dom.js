// Building the DOM safely: elements from createElement, user text as text nodes only. Nothing
// here parses HTML (the page's Trusted Types policy forbids it anyway).

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate", "open"]);

/**
 * Creates an element. `attrs`: `class`, `text`, `on: {event: fn}`, `data: {key: value}`,
 * properties (`value`, `checked`, `disabled`, `hidden`, …) and any other attribute. Children:
 * nodes, strings (as text), arrays, and null/false/undefined (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) {
      if (PROPS.has(k)) el[k] = false;
      continue;
    }
    if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (k === "text") el.textContent = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    else if (PROPS.has(k)) el[k] = v;
    else if (k.startsWith("on") || k === "style" || k === "srcdoc") throw new Error(`refused attribute ${k}`);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** Appends children (see `h`). */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** `document.getElementById`. */
export const $ = (id) => document.getElementById(id);

let uid = 0;
/** A fresh id for label/aria wiring. */
export const newId = (prefix = "id") => `${prefix}-${++uid}`;

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  pin: "M14.5 3.5l6 6-2.2.7-3.6 3.6-.6 4.6-1.6 1.6-3.5-3.5L4.5 21 3 19.5l4.5-4.5L4 11.5l1.6-1.6 4.6-.6 3.6-3.6z",
  star: "M12 3.2l2.6 5.6 6.1.7-4.5 4.2 1.2 6L12 16.8l-5.4 2.9 1.2-6-4.5-4.2 6.1-.7z",
  copy: "M8 8h11v13H8zM5 3h11v3H7v11H5z",
  plus: "M11 4h2v7h7v2h-7v7h-2v-7H4v-2h7z",
  search: "M10 3a7 7 0 0 1 5.6 11.2l5.1 5.1-1.4 1.4-5.1-5.1A7 7 0 1 1 10 3zm0 2a5 5 0 1 0 0 10 5 5 0 0 0 0-10z",
  edit: "M15.2 4.2l4.6 4.6L9 19.6H4.4V15zm0 2.8L6.4 15.8v1.8h1.8l8.8-8.8z",
  trash: "M9 3h6l1 2h4v2H4V5h4zM6 9h12l-1 12H7z",
  menu: "M4 6h16v2H4zm0 5h16v2H4zm0 5h16v2H4z",
  folder: "M3 5h7l2 2h9v12H3z",
  tag: "M3 3h8l10 10-8 8L3 11zm4 3a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z",
  close: "M6.4 5l5.6 5.6L17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z",
  upload: "M11 16V7.8L7.4 11.4 6 10l6-6 6 6-1.4 1.4L13 7.8V16zm-6 2h14v2H5z",
  download: "M11 4h2v8.2l3.6-3.6L18 10l-6 6-6-6 1.4-1.4 3.6 3.6zm-6 14h14v2H5z",
};

/** A decorative icon (hidden from assistive technology: the control carries the name). */
export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name] || "");
  svg.append(path);
  return svg;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "3 minutes ago" for an ISO date. */
export function relative(iso) {
  if (!iso) return "never";
  const secs = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(secs);
  const [n, unit] =
    abs < 45 ? [secs, "second"] :
    abs < 2700 ? [secs / 60, "minute"] :
    abs < 79200 ? [secs / 3600, "hour"] :
    abs < 2160000 ? [secs / 86400, "day"] :
    abs < 28512000 ? [secs / 2592000, "month"] : [secs / 31536000, "year"];
  if (unit === "second") return secs < 0 ? "just now" : "in a moment";
  return rtf.format(Math.round(n), unit);
}

/** A `<time>` element showing a relative time, with the full date as its title. */
export function time(iso) {
  if (!iso) return h("span", { class: "muted", text: "never" });
  return h("time", { datetime: iso, title: dtf.format(new Date(iso)), text: relative(iso) });
}

/** A full, localised date. */
export const fullDate = (iso) => (iso ? dtf.format(new Date(iso)) : "");

/** Announces a short message (a polite live region) and shows it as a toast. */
export function toast(message, kind = "info") {
  const box = $("toasts");
  if (!box) return;
  const t = h("div", { class: ["toast", `toast-${kind}`], text: message });
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}

/** Text hidden on screen but read by assistive technology. */
export const srOnly = (text) => h("span", { class: "visually-hidden", text });

/**
 * A modal dialog (`<dialog>`, closed with Esc). `body` is a node or an array of nodes; `actions`
 * are `{label, value, kind}`; resolves with the chosen action's value, or null when cancelled.
 */
export function dialog({ title, body, actions = [{ label: "OK", value: true, kind: "primary" }], cancel = "Cancel", init }) {
  return new Promise((resolve) => {
    const titleId = newId("dlg");
    const buttons = actions.map((a) =>
      h("button", { type: "submit", value: a.value === true ? "__true" : String(a.value), class: ["btn", a.kind && `btn-${a.kind}`] }, a.label));
    const form = h("form", { method: "dialog" },
      h("h2", { id: titleId, text: title }),
      h("div", { class: "dialog-body" }, body),
      h("div", { class: "dialog-actions" },
        cancel && h("button", { type: "button", class: "btn", value: "", on: { click: () => dlg.close("") } }, cancel),
        buttons));
    const dlg = h("dialog", { "aria-labelledby": titleId, class: "dialog" }, form);
    dlg.addEventListener("close", () => {
      const v = dlg.returnValue;
      dlg.remove();
      const action = actions.find((a) => (a.value === true ? "__true" : String(a.value)) === v);
      resolve(action ? action.value : null);
    });
    document.body.append(dlg);
    if (init) init(dlg, buttons);
    dlg.showModal();
  });
}

/** A yes/no confirmation. */
export async function confirm(title, message, confirmLabel = "Confirm", kind = "danger") {
  const v = await dialog({ title, body: h("p", { text: message }), actions: [{ label: confirmLabel, value: true, kind }] });
  return v === true;
}

/** Copies text to the clipboard; falls back to a selection when the async API is refused. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { class: "offscreen", readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

/** Calls `fn` `ms` after the last call. */
export function debounce(fn, ms) {
  let t;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** A page heading that receives focus after navigation. */
export const pageTitle = (text, extra) => h("h1", { class: "page-title", tabindex: "-1", ...extra }, text);

/** An error notice for a failed load. */
export function errorNotice(err, retry) {
  return h("div", { class: "notice notice-error", role: "alert" },
    h("p", { text: err && err.message ? err.message : "Something went wrong." }),
    retry && h("button", { class: "btn", type: "button", on: { click: retry } }, "Try again"));
}

/** Placeholder rows shown while a list loads, of the same height as the real ones. */
export function skeletonRows(n, cls = "skeleton-row") {
  return h("div", { class: "skeleton", "aria-hidden": "true" },
    Array.from({ length: n }, () => h("div", { class: cls })));
}
