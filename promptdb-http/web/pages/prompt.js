// A prompt: its template with the variables marked, a form for the variables with a live
// preview rendered by the server, copy buttons, uses; History and Releases in tabs.

import { api, ApiError, enc } from "../api.js";
import { confirm, copyText, debounce, errorNotice, fullDate, h, icon, newId, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";
import { bindPage } from "../keyboard.js";
import { link, navigate, replace as replaceHash } from "../router.js";
import { bodyText, placeholders, segments } from "../template.js";
import { historyTab } from "./history.js";
import { releasesTab } from "./labels.js";

/** A template with its placeholders and includes marked. */
export function markedTemplate(text) {
  return h("pre", { class: "template" }, segments(text, true).map((s) =>
    s.type === "var" ? h("mark", { class: "var", title: `Variable ${s.name}` }, s.text)
      : s.type === "include" ? h("a", { class: "include", href: link("prompts", s.name), title: `Includes ${s.name}${s.selector ? ` at ${s.selector}` : ""}` }, s.text)
        : s.text));
}

/** The body of a prompt: its template, or its chat messages. */
export function promptBody(p) {
  if (p.kind === "chat") {
    return h("ol", { class: "messages", "aria-label": "Messages" }, (p.messages || []).map((m) =>
      h("li", { class: "message" }, h("span", { class: "role", text: m.role }), markedTemplate(m.content))));
  }
  return p.content ? markedTemplate(p.content) : h("p", { class: "muted", text: "This prompt has no content yet." });
}

export async function render({ main, params, query, signal, isCurrent }) {
  const slug = params.slug;
  document.title = `${slug} · PromptDB`;
  const skeleton = h("div", {}, h("div", { class: "skeleton" }, h("div", { class: "skeleton-line" })), h("h1", { class: "page-title visually-hidden", text: slug }), skeletonRows(1, "skeleton-block"));
  main.append(skeleton);
  let p;
  try {
    p = await api.get(`/prompts/${enc(slug)}`, { signal });
  } catch (err) {
    // Left for another page meanwhile: that page owns `main` now.
    if (!isCurrent()) return {};
    skeleton.remove();
    if (err instanceof ApiError && err.status === 404) {
      main.append(pageTitle("Prompt not found"),
        h("p", {}, `There is no prompt “${slug}” in your library. It may have been deleted or renamed. `, h("a", { href: link() }, "Back to the library"), "."));
      return {};
    }
    main.append(pageTitle(slug), errorNotice(err, () => navigate(link("prompts", slug))));
    return {};
  }
  if (!isCurrent()) return {};
  skeleton.remove();
  document.title = `${p.name} · PromptDB`;
  const cleanups = [];

  // Head
  const folders = slug.split("/").slice(0, -1);
  const crumbs = folders.length ? h("nav", { class: "breadcrumbs", "aria-label": "Folders" },
    folders.map((f, i) => [h("a", { href: link({ folder: folders.slice(0, i + 1).join("/") }) }, f), " / "]),
    h("span", { text: slug.split("/").pop() })) : h("p", { class: "breadcrumbs", text: slug });
  const pinBtn = flagButton(p, "pinned", "pin", "Pin");
  const favBtn = flagButton(p, "favorite", "star", "Favourite");
  const head = h("div", { class: "page-head prompt-head" },
    h("div", {},
      crumbs,
      pageTitle(p.name),
      p.description ? h("p", { class: "lead", text: p.description }) : null,
      p.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, p.tags.map((t) => h("li", {}, h("a", { class: "tag", href: link({ tag: t }) }, `#${t}`)))) : null),
    h("div", { class: "actions" },
      h("a", { class: "btn btn-primary", href: link("prompts", slug, "edit"), "aria-keyshortcuts": "e" }, icon("edit"), "Edit"),
      pinBtn, favBtn,
      h("button", { class: "btn btn-icon", type: "button", "aria-label": `Delete ${p.name}`, title: "Delete", on: { click: remove } }, icon("trash"))));

  // Facts
  const usesEl = h("dd", { text: String(p.usage_count) });
  const lastUseEl = h("dd", {}, time(p.last_used_at));
  const facts = h("aside", { class: "card", "aria-labelledby": "facts-title" },
    h("h2", { id: "facts-title", text: "Details" }),
    h("dl", { class: "facts" },
      h("dt", { text: "Version" }), h("dd", { text: String(p.version) }),
      h("dt", { text: "Uses" }), usesEl,
      h("dt", { text: "Last use" }), lastUseEl,
      h("dt", { text: "Kind" }), h("dd", { text: p.kind === "chat" ? "Chat messages" : "Text" }),
      h("dt", { text: "Slug" }), h("dd", {}, h("code", { text: p.slug })),
      h("dt", { text: "Updated" }), h("dd", {}, time(p.updated_at)),
      h("dt", { text: "Created" }), h("dd", { text: fullDate(p.created_at) }),
      p.commit_message ? [h("dt", { text: "Change" }), h("dd", { text: p.commit_message })] : null),
    p.config && Object.keys(p.config).length ? [h("h3", { class: "hint", text: "Model config" }), h("pre", { class: "template", text: JSON.stringify(p.config, null, 2) })] : null);

  async function recordUse() {
    try {
      const u = await api.post(`/prompts/${enc(slug)}/uses`, {});
      p.usage_count = u.usage_count;
      p.last_used_at = u.last_used_at;
      usesEl.textContent = String(u.usage_count);
      replace(lastUseEl, time(u.last_used_at));
    } catch { /* the copy worked; the count is a bonus */ }
  }

  // Use tab
  const raw = bodyText(p);
  const copyRaw = h("button", { class: "btn", type: "button", on: { click: async () => {
    if (await copyText(raw)) { toast("Template copied"); recordUse(); } else toast("Copying was refused by the browser", "error");
  } } }, icon("copy"), "Copy template");
  const values = {};
  const varForm = h("form", { class: "variables-form", "aria-label": "Variables", on: { submit: (e) => e.preventDefault() } });
  const inputs = new Map();
  // The form follows the order in which the variables appear in the text.
  const order = placeholders(raw);
  const rank = (v) => { const i = order.indexOf(v.name); return i < 0 ? order.length : i; };
  for (const v of [...p.variables].sort((a, b) => rank(a) - rank(b))) {
    const id = newId("var");
    const hintId = `${id}-hint`;
    const ta = h("textarea", { id, name: v.name, rows: "2", placeholder: v.default != null ? `Default: ${v.default}` : (v.required ? "Required" : "Optional"), "aria-describedby": v.description ? hintId : null });
    ta.addEventListener("input", () => { values[v.name] = ta.value; renderSoon(); });
    inputs.set(v.name, ta);
    varForm.append(h("div", { class: "field" },
      h("label", { for: id }, h("span", { class: "mono", text: v.name }), v.required && v.default == null ? null : h("span", { class: "hint", text: " (optional)" })),
      ta,
      v.description ? h("p", { id: hintId, class: "hint", text: v.description }) : null));
  }
  const previewBox = h("div", { class: "preview", "aria-live": "polite", id: "preview" });
  let rendered = null;
  const copyRendered = h("button", { class: "btn btn-primary", type: "button", disabled: true, on: { click: async () => {
    if (rendered === null) return;
    if (await copyText(rendered)) { toast("Rendered prompt copied"); recordUse(); } else toast("Copying was refused by the browser", "error");
  } } }, icon("copy"), "Copy rendered");
  let renderCtl = null;
  async function doRender() {
    if (renderCtl) renderCtl.abort();
    const vars = {};
    for (const [k, v] of Object.entries(values)) if (v !== "") vars[k] = v;
    // Ask the server (the truth) once every required value is there; until then say what is missing.
    const missing = p.variables.filter((v) => v.required !== false && v.default == null && !(v.name in vars)).map((v) => v.name);
    if (missing.length) {
      rendered = null;
      copyRendered.disabled = true;
      replace(previewBox, h("p", { class: "hint" }, `Fill in ${missing.map((m) => `“${m}”`).join(", ")} to see the rendered prompt.`));
      return;
    }
    renderCtl = new AbortController();
    try {
      const r = await api.post(`/prompts/${enc(slug)}/render`, { variables: vars }, { signal: renderCtl.signal });
      rendered = r.text;
      replace(previewBox, h("pre", { class: "template rendered", text: r.text }));
      copyRendered.disabled = false;
      for (const ta of inputs.values()) ta.removeAttribute("aria-invalid");
    } catch (err) {
      if (err.name === "AbortError") return;
      rendered = null;
      copyRendered.disabled = true;
      const m = /^variables\.(\w+)$/.exec(err.field || "");
      const missing = m && /not given/.test(err.message);
      replace(previewBox, h("p", { class: missing ? "hint" : "preview-error" },
        missing ? `Fill in “${m[1]}” to see the rendered prompt.` : err.message));
    }
  }
  const renderSoon = debounce(doRender, 250);
  cleanups.push(() => renderSoon.cancel());
  const useTab = h("div", {},
    h("section", { class: "card", "aria-labelledby": "tpl-title" },
      h("div", { class: "section-head" }, h("h2", { id: "tpl-title", text: p.kind === "chat" ? "Messages" : "Template" }), copyRaw),
      promptBody(p)),
    h("section", { class: "card", "aria-labelledby": "fill-title" },
      h("div", { class: "section-head" }, h("h2", { id: "fill-title", text: p.variables.length ? "Fill in and preview" : "Preview" }), copyRendered),
      p.variables.length ? varForm : h("p", { class: "hint", text: "This prompt has no variables: it is used as it is." }),
      h("h3", { class: "visually-hidden", text: "Rendered" }),
      previewBox));

  // Tabs
  const tabs = [["use", "Use"], ["history", "History"], ["releases", "Releases"]];
  const panels = {};
  const tabButtons = {};
  const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Prompt sections" });
  for (const [key, label] of tabs) {
    const tabId = `tab-${key}`;
    const panelId = `panel-${key}`;
    tabButtons[key] = h("button", { id: tabId, role: "tab", type: "button", "aria-controls": panelId, "aria-selected": "false", tabindex: "-1", on: { click: () => select(key, true) } }, label);
    tablist.append(tabButtons[key]);
    panels[key] = h("div", { id: panelId, role: "tabpanel", "aria-labelledby": tabId, hidden: true, tabindex: "0" });
  }
  tablist.addEventListener("keydown", (e) => {
    const keys = tabs.map((t) => t[0]);
    const i = keys.indexOf(document.activeElement.id.replace("tab-", ""));
    let j = null;
    if (e.key === "ArrowRight") j = (i + 1) % keys.length;
    else if (e.key === "ArrowLeft") j = (i + keys.length - 1) % keys.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = keys.length - 1;
    if (j === null) return;
    e.preventDefault();
    select(keys[j], true);
    tabButtons[keys[j]].focus();
  });
  panels.use.append(useTab);
  const loaded = { use: true };
  let ctx = null;
  function select(key, fromUser) {
    for (const [k] of tabs) {
      tabButtons[k].setAttribute("aria-selected", String(k === key));
      tabButtons[k].tabIndex = k === key ? 0 : -1;
      panels[k].hidden = k !== key;
    }
    if (fromUser) replaceHash(link("prompts", slug, key === "use" ? {} : { tab: key }));
    if (!loaded[key]) {
      loaded[key] = true;
      const init = key === "history" ? historyTab : releasesTab;
      init(panels[key], ctx).catch((err) => { if (isCurrent()) replace(panels[key], errorNotice(err)); });
    }
  }

  main.append(head, h("div", { class: "prompt-layout" },
    h("div", {}, tablist, Object.values(panels)),
    facts));
  ctx = { p, slug, signal, isCurrent, reloadPage: () => { if (isCurrent()) navigate(location.hash); }, panels, select };
  const tab = query.get("tab");
  select(tabs.some((t) => t[0] === tab) ? tab : "use", false);
  doRender();

  function flagButton(prompt, field, iconName, label) {
    const btn = h("button", { class: ["btn", "toggle", `toggle-${field}`], type: "button", "aria-pressed": String(prompt[field]) },
      icon(iconName), h("span", { text: label }));
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const saved = await api.patch(`/prompts/${enc(slug)}`, { [field]: !prompt[field] });
        prompt[field] = saved[field];
        btn.setAttribute("aria-pressed", String(prompt[field]));
      } catch (err) {
        toast(err.message, "error");
      } finally {
        btn.disabled = false;
      }
    });
    return btn;
  }

  async function remove() {
    if (!(await confirm(`Delete “${p.name}”?`, "The prompt and all of its versions and labels are deleted. Applications that resolve it will get “not found”. This cannot be undone.", "Delete prompt"))) return;
    try {
      await api.del(`/prompts/${enc(slug)}`);
      toast(`Deleted ${p.name}`);
      if (isCurrent()) navigate(link());
    } catch (err) {
      toast(err.message, "error");
    }
  }

  bindPage({ e: { description: "Edit this prompt", fn: () => navigate(link("prompts", slug, "edit")) } });
  return {
    leave() { for (const c of cleanups) c(); if (renderCtl) renderCtl.abort(); },
  };
}
