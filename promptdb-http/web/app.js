// PromptDB web app: the shell (header, navigation, routing, session, theme). Each page is a
// module under pages/, loaded when first visited.

import { api, getSession, onUnauthorized, signOut } from "./api.js";
import { $, errorNotice, h, icon, replace, toast } from "./dom.js";
import { bind, bindPage, install as installKeys } from "./keyboard.js";
import { beginVisit, current, link, navigate, route, start } from "./router.js";
import { applyTheme } from "./theme.js";

const PAGES = {
  library: () => import("./pages/library.js"),
  prompt: () => import("./pages/prompt.js"),
  editor: () => import("./pages/editor.js"),
  drafts: () => import("./pages/drafts.js"),
  review: () => import("./pages/review.js"),
  import: () => import("./pages/import.js"),
  keys: () => import("./pages/keys.js"),
  settings: () => import("./pages/settings.js"),
  signin: () => import("./pages/signin.js"),
};

route("/", "library");
route("/prompts/:slug", "prompt");
route("/prompts/:slug/edit", "editor");
route("/new", "editor");
route("/drafts", "drafts");
route("/review", "review");
route("/import", "import");
route("/keys", "keys");
route("/settings", "settings");

const NAV = [
  ["library", "Library", link()],
  ["drafts", "Drafts", link("drafts")],
  ["review", "Review", link("review")],
  ["import", "Import & export", link("import")],
  ["keys", "API keys", link("keys")],
  ["settings", "Settings", link("settings")],
];

const state = { session: null, page: null, navLinks: new Map(), draftBadge: null, signedOutNotice: "" };
const main = $("app");

/** What pages can call back into. */
const app = {
  get session() { return state.session; },
  refreshDrafts,
  signOut: doSignOut,
  signedIn,
  applyTheme,
  takeNotice() { const n = state.signedOutNotice; state.signedOutNotice = ""; return n; },
  signedOut(notice) { state.signedOutNotice = notice || ""; showSignedOut(); },
};

function header(session) {
  const bar = $("topbar");
  const menuId = "main-nav";
  const toggle = h("button", { class: "btn btn-icon nav-toggle", type: "button", "aria-expanded": "false", "aria-controls": menuId },
    icon("menu"), h("span", { class: "visually-hidden", text: "Menu" }));
  const nav = h("nav", { id: menuId, class: "main-nav", "aria-label": "Main" });
  const list = h("ul");
  state.navLinks.clear();
  for (const [name, label, href] of NAV) {
    const a = h("a", { href }, label);
    if (name === "drafts") {
      state.draftBadge = h("span", { class: "badge", hidden: true });
      a.append(" ", state.draftBadge);
    }
    state.navLinks.set(name, a);
    list.append(h("li", {}, a));
  }
  nav.append(list);
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
  nav.addEventListener("click", (e) => {
    if (e.target.closest("a")) { toggle.setAttribute("aria-expanded", "false"); nav.classList.remove("open"); }
  });
  const who = h("span", { class: "who", title: `Signed in as ${session.display_name || "you"}`, text: session.display_name || "Signed in" });
  const out = h("button", { class: "btn btn-quiet", type: "button", on: { click: () => doSignOut() } }, "Sign out");
  const newBtn = h("a", { class: "btn btn-primary new-prompt", href: link("new"), "aria-keyshortcuts": "n" }, icon("plus"), h("span", { text: "New prompt" }));
  replace(bar,
    h("a", { class: "brand", href: link() }, h("span", { class: "brand-mark", "aria-hidden": "true", text: "P" }), h("span", { text: "PromptDB" })),
    toggle, nav, h("div", { class: "topbar-end" }, newBtn, who, out));
}

function headerSignedOut() {
  replace($("topbar"),
    h("a", { class: "brand", href: link() }, h("span", { class: "brand-mark", "aria-hidden": "true", text: "P" }), h("span", { text: "PromptDB" })));
}

async function refreshDrafts() {
  if (!state.draftBadge) return;
  try {
    const s = await api.get("/drafts/summary");
    state.draftBadge.hidden = !s.count;
    state.draftBadge.textContent = String(s.count);
    state.draftBadge.setAttribute("aria-label", `${s.count} unsaved`);
  } catch { /* the badge is a hint */ }
}

async function loadPreferences() {
  try {
    const prefs = await api.get("/preferences");
    applyTheme(prefs.theme || "system");
  } catch { /* keep the device's theme */ }
}

async function doSignOut() {
  await leavePage();
  try { await signOut(); } catch { /* the cookie may already be gone */ }
  state.session = null;
  state.signedOutNotice = "You are signed out.";
  showSignedOut();
}

async function leavePage() {
  const p = state.page;
  state.page = null;
  if (p && p.leave) {
    try { await p.leave(); } catch { /* leaving must not fail */ }
  }
}

async function showSignedOut() {
  state.session = null;
  const visit = beginVisit();
  await leavePage();
  if (!visit.isCurrent()) return;
  headerSignedOut();
  bindPage({});
  const mod = await PAGES.signin();
  if (!visit.isCurrent()) return;
  main.setAttribute("aria-busy", "true");
  replace(main);
  const ctx = { main, app, params: {}, query: new URLSearchParams(), signal: visit.signal, isCurrent: visit.isCurrent };
  let page = null;
  try {
    page = await mod.render(ctx);
  } finally {
    if (visit.isCurrent()) main.setAttribute("aria-busy", "false");
  }
  settle(visit, page);
}

/** Keeps the handle a page's render returned, unless the user left while it rendered. */
function settle(visit, page) {
  if (visit.isCurrent()) {
    state.page = page || null;
    return true;
  }
  // A late render: whatever it set up (listeners, timers) is undone; it is not the page shown.
  if (page && page.leave) Promise.resolve().then(() => page.leave()).catch(() => { /* leaving must not fail */ });
  return false;
}

/** After signing in (key form): the shell and the page the hash names. */
async function signedIn(session) {
  state.session = session;
  header(session);
  loadPreferences();
  refreshDrafts();
  await show(current());
}

async function show(loc) {
  if (!state.session) return;
  const visit = beginVisit();
  await leavePage();
  if (!visit.isCurrent()) return;
  for (const [name, a] of state.navLinks) {
    if (name === loc.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  bindPage({});
  if (loc.name === "notfound") {
    replace(main, h("h1", { class: "page-title", tabindex: "-1", text: "Page not found" }),
      h("p", {}, "There is nothing at this address. ", h("a", { href: link() }, "Go to your library"), "."));
    document.title = "Not found · PromptDB";
    main.querySelector("h1").focus();
    return;
  }
  main.setAttribute("aria-busy", "true");
  let mod;
  try {
    mod = await PAGES[loc.name]();
  } catch (err) {
    if (visit.isCurrent()) replace(main, errorNotice(new Error("This page could not be loaded. Reload to try again."), () => location.reload()));
    return;
  }
  if (!visit.isCurrent()) return;
  const ctx = { main, app, params: loc.params, query: loc.query, signal: visit.signal, isCurrent: visit.isCurrent };
  replace(main);
  let page = null;
  try {
    page = await mod.render(ctx);
  } catch (err) {
    if (visit.isCurrent() && !(err && (err.status === 401 || err.name === "AbortError"))) replace(main, errorNotice(err, () => show(current())));
  } finally {
    if (visit.isCurrent()) main.setAttribute("aria-busy", "false");
  }
  if (!settle(visit, page)) return;
  // Focus the page's heading unless the page put focus somewhere itself.
  const active = document.activeElement;
  if (!active || active === document.body || !main.contains(active) && !$("topbar").contains(active)) {
    const title = main.querySelector(".page-title");
    if (title && loc.name !== "library") title.focus({ preventScroll: true });
  }
}

function onEscape() {
  const p = state.page;
  if (p && p.escape) return p.escape();
  return false;
}

async function boot() {
  installKeys(onEscape);
  bind("/", "Search your prompts", () => {
    const box = document.getElementById("search");
    if (box) box.focus();
    else navigate(link({ focus: "search" }));
  });
  bind("n", "New prompt", () => navigate(link("new")));
  onUnauthorized(() => {
    if (!state.session) return;
    state.signedOutNotice = "Your session has ended. Sign in again.";
    showSignedOut();
  });
  document.querySelector(".skip-link").addEventListener("click", (e) => {
    e.preventDefault();
    main.focus();
  });
  let session = null;
  try {
    session = await getSession();
  } catch (err) {
    replace(main, errorNotice(err, () => location.reload()));
    return;
  }
  start((loc) => {
    if (state.session) show(loc);
  });
  if (!session) {
    showSignedOut();
    return;
  }
  signedIn(session);
}

window.addEventListener("unhandledrejection", (e) => {
  const err = e.reason;
  if (err && err.name === "AbortError") { e.preventDefault(); return; }
  if (err && err.status === 401) { e.preventDefault(); return; }
  if (err && err.message) { toast(err.message, "error"); e.preventDefault(); }
});

boot();
