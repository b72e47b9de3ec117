// The library in an MCP Apps host (ChatGPT, Claude, any host of the io.modelcontextprotocol/ui
// extension): search, open, fill and render, insert, copy, pin, favourite, edit, save as new.
// `bridge.js` is inlined above it.

// ---------------------------------------------------------------- state and views

const state = { prompts: [], query: "", open: null, rendered: null, values: {}, editing: false, problem: null };

function problem(err) {
  state.problem = err ? String(err.message || err) : null;
}

/** Badges for a pinned or favourite prompt. */
function marks(p) {
  return [
    p.pinned && h("span", { class: "pin-badge", text: "Pinned" }),
    p.favorite && h("span", { class: "fav", title: "Favourite", text: "★" }, srOnly(" favourite")),
  ];
}

/** A short status line (one at a time: a chat's frame has little room). */
let noticeTimer;
function notify(text) {
  const box = document.getElementById("toasts");
  replace(box, h("div", { class: "toast", text }));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => replace(box), 4000);
}

function listView() {
  const search = h("input", {
    type: "search", id: "q", value: state.query, placeholder: "Search your prompts…",
    "aria-label": "Search prompts", autocomplete: "off",
    on: { input: (e) => { state.query = e.target.value; searchSoon(); } },
  });
  const items = state.prompts.map((p) => h("li", null,
    h("button", { type: "button", class: "open", on: { click: () => openPrompt(p.slug) } },
      h("span", { class: "p-name", text: p.name }),
      marks(p),
      h("span", { class: "p-slug", text: p.slug }),
      p.description && h("div", { class: "p-desc", text: p.description }))));
  return [
    h("div", { class: "bar" }, h("h1", { text: "Your prompts" }), search),
    state.problem && h("p", { class: "problem", role: "alert", text: state.problem }),
    items.length ? h("ul", { class: "prompts", "aria-label": "Prompts" }, items)
      : h("p", { class: "empty", text: state.query ? "No prompt matches." : "No prompts yet." }),
  ];
}

function detailView() {
  const p = state.open;
  const vars = (p.variables || []).map((v) => h("label", null,
    h("span", null, v.name, v.required ? h("span", { class: "req", text: " *" }) : null),
    h("input", {
      type: "text", name: v.name, value: state.values[v.name] || "",
      placeholder: v.default || v.description || "",
      on: { input: (e) => { state.values[v.name] = e.target.value; } },
    })));
  const body = state.editing
    ? [h("label", { for: "content", class: "field-label", text: "Content" }),
       h("textarea", { id: "content", value: p.content || "" })]
    : [h("pre", { "aria-label": "Content", text: p.content || (p.messages || []).map((m) => `${m.role}: ${m.content}`).join("\n") })];
  return h("section", { class: "detail", "aria-labelledby": "title" },
    h("div", { class: "bar" },
      h("button", { type: "button", class: "btn btn-sm", on: { click: back } }, "← Back"),
      h("h1", { id: "title", tabindex: "-1", text: p.name }), marks(p)),
    h("p", { class: "p-desc" }, h("span", { class: "p-slug", text: `${p.slug} · v${p.version}` }), p.description ? ` ${p.description}` : ""),
    body,
    vars.length ? h("fieldset", { class: "vars" }, h("legend", { text: "Variables" }), vars) : null,
    state.problem && h("p", { class: "problem", role: "alert", text: state.problem }),
    state.rendered !== null && h("div", null, h("h2", { text: "Ready to use" }), h("pre", { id: "rendered", text: state.rendered })),
    h("div", { class: "actions" },
      state.editing
        ? [h("button", { type: "button", class: "btn btn-primary btn-sm", on: { click: saveEdit } }, "Save new version"),
           h("button", { type: "button", class: "btn btn-sm", on: { click: saveAsNew } }, "Save as new prompt"),
           h("button", { type: "button", class: "btn btn-sm", on: { click: () => { state.editing = false; render(); } } }, "Cancel")]
        : [h("button", { type: "button", class: "btn btn-primary btn-sm", on: { click: insert } }, "Insert into chat"),
           h("button", { type: "button", class: "btn btn-sm", on: { click: preview } }, "Preview"),
           h("button", { type: "button", class: "btn btn-sm", on: { click: copy } }, "Copy"),
           h("button", { type: "button", class: "btn btn-sm", "aria-pressed": String(!!p.pinned), on: { click: () => flag("pinned") } }, p.pinned ? "Unpin" : "Pin"),
           h("button", { type: "button", class: "btn btn-sm", "aria-pressed": String(!!p.favorite), on: { click: () => flag("favorite") } }, p.favorite ? "Unfavourite" : "Favourite"),
           h("button", { type: "button", class: "btn btn-sm", on: { click: () => { state.editing = true; render(); } } }, "Edit")]));
}

function render(focus) {
  replace(app, state.open ? detailView() : listView());
  save();
  if (focus) {
    const el = document.getElementById(focus);
    if (el) el.focus();
  }
}

// ---------------------------------------------------------------- actions

const searchSoon = debounce(search, 200);

async function search() {
  const query = state.query.trim();
  try {
    const out = query
      ? await callTool("search_prompts", { query, limit: 50 })
      : await callTool("list_prompts", { limit: 50 });
    if (query !== state.query.trim()) return; // a newer search is on its way
    state.prompts = out.prompts || [];
    problem(null);
  } catch (e) {
    problem(e);
  }
  if (!state.open) render("q");
}

async function openPrompt(slug) {
  try {
    const out = await callTool("get_prompt", { slug });
    Object.assign(state, { open: out.prompt, rendered: null, values: {}, editing: false });
    problem(null);
    render("title");
  } catch (e) {
    problem(e);
    render();
  }
}

function back() {
  Object.assign(state, { open: null, rendered: null, editing: false });
  problem(null);
  render("q");
  search();
}

/** The prompt rendered by the server (strict: a missing required value is an error). */
async function renderOpen() {
  const p = state.open;
  if (!(p.variables || []).length) return p.content || "";
  const variables = {};
  for (const [k, v] of Object.entries(state.values)) if (v !== "") variables[k] = v;
  const out = await callTool("get_prompt", { slug: p.slug, variables });
  return out.rendered || "";
}

async function preview() {
  try {
    state.rendered = await renderOpen();
    problem(null);
  } catch (e) {
    state.rendered = null;
    problem(e);
  }
  render("rendered");
}

async function insert() {
  try {
    const text = await renderOpen();
    await sendMessage(text);
    callTool("track_prompt_use", { slug: state.open.slug, version: state.open.version }).catch(() => {});
    problem(null);
    notify("Inserted into the conversation");
  } catch (e) {
    problem(e);
  }
  render();
}

async function copy() {
  try {
    const text = await renderOpen();
    notify((await copyText(text)) ? "Copied" : "Copying is not allowed here");
    problem(null);
  } catch (e) {
    problem(e);
  }
  render();
}

async function flag(field) {
  try {
    const out = await callTool("update_prompt", { slug: state.open.slug, [field]: !state.open[field] });
    state.open = out.prompt;
    problem(null);
  } catch (e) {
    problem(e);
  }
  render();
}

async function saveEdit() {
  const content = document.getElementById("content").value;
  try {
    const out = await callTool("update_prompt", { slug: state.open.slug, content });
    Object.assign(state, { open: out.prompt, editing: false, rendered: null });
    problem(null);
    notify(`Saved as version ${out.prompt.version}`);
  } catch (e) {
    problem(e);
  }
  render("title");
}

async function saveAsNew() {
  const content = document.getElementById("content").value;
  const name = `${state.open.name} (copy)`;
  try {
    const out = await callTool("save_prompts", { prompts: [{ name, content, tags: state.open.tags || [] }] });
    const saved = (out.prompts || out.saved || [])[0];
    if (saved && saved.slug) {
      await openPrompt(saved.slug);
      notify(`Saved as ${saved.slug}`);
      return;
    }
    state.editing = false;
    problem(null);
  } catch (e) {
    problem(e);
  }
  render();
}

// ---------------------------------------------------------------- start

/** ChatGPT keeps a widget's state across re-renders of the conversation: the search and the
 * prompt open. (Other hosts keep the frame, and with it this page's memory.) */
function save() {
  if (openai && openai.setWidgetState) {
    openai.setWidgetState({ query: state.query, open: state.open ? state.open.slug : null });
  }
}

function restore() {
  const saved = openai && openai.widgetState;
  if (!saved) return;
  if (typeof saved.query === "string") state.query = saved.query;
  if (typeof saved.open === "string") openPrompt(saved.open);
}

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && state.open && !state.editing) back();
});

function show(output) {
  if (output && Array.isArray(output.prompts)) {
    state.prompts = output.prompts;
    if (!state.open) render();
  }
}

connect("promptdb-library", show);
restore();
render();
