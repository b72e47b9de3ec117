// Keyboard shortcuts: single keys that act when no text field has focus. `?` lists them.

import { dialog, h } from "./dom.js";

const global = new Map();
let pageKeys = new Map();

const typing = (el) =>
  el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) &&
  !(el.tagName === "INPUT" && /^(checkbox|radio|button|submit|reset)$/.test(el.type));

/** A shortcut for every page. */
export function bind(key, description, fn) {
  global.set(key, { description, fn });
}

/** Shortcuts of the current page (replaced on navigation). */
export function bindPage(keys) {
  pageKeys = new Map(Object.entries(keys));
}

/** Lists every shortcut in a dialog. */
export function showHelp() {
  if (document.querySelector("dialog[open]")) return;
  const rows = [...global.entries(), ...pageKeys.entries()].map(([key, { description }]) =>
    h("div", { class: "shortcut" }, h("dt", {}, h("kbd", { text: key })), h("dd", { text: description })));
  rows.push(h("div", { class: "shortcut" }, h("dt", {}, h("kbd", { text: "Esc" })), h("dd", { text: "Close a dialog, clear the search, or leave the editor" })));
  dialog({ title: "Keyboard shortcuts", body: h("dl", { class: "shortcuts" }, rows), actions: [], cancel: "Close" });
}

/** Installs the listener; `onEscape` runs for Esc when no dialog is open. */
export function install(onEscape) {
  bind("?", "Show these shortcuts", showHelp);
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys
    if (e.key === "Escape") {
      if (onEscape(e)) e.preventDefault();
      return;
    }
    if (typing(document.activeElement)) return;
    const s = pageKeys.get(e.key) || global.get(e.key);
    if (s) {
      e.preventDefault();
      s.fn(e);
    }
  });
}
