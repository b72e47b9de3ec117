// The library inside an MCP Apps host (ChatGPT, Claude, any host of the
// io.modelcontextprotocol/ui extension). The web app's `dom.js` is inlined above this file, so
// `h`, `replace`, `debounce`, `copyText` and `srOnly` are in scope. Talks to the host over
// JSON-RPC on postMessage (only with `window.parent`); calls PromptDB's tools through the host
// (`tools/call`); ChatGPT's `window.openai` is used where the host offers it instead.

const app = document.getElementById("app");
const openai = window.openai || null;
const embedded = window.parent !== window;

// ---------------------------------------------------------------- the host bridge

let nextId = 1;
const pending = new Map();

function post(message) {
  window.parent.postMessage({ jsonrpc: "2.0", ...message }, "*");
}

/** A request to the host; resolves with its result, rejects with its error. */
function request(method, params) {
  const id = ++nextId; // 1 is the initialize request
  post({ id, method, params });
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    setTimeout(() => {
      if (pending.delete(id)) reject(new Error(`the host did not answer ${method}`));
    }, 30000);
  });
}

/** Calls a PromptDB tool: its structured result, or an Error with the tool's own message. */
async function callTool(name, args) {
  const result = openai && openai.callTool
    ? await openai.callTool(name, args)
    : await request("tools/call", { name, arguments: args });
  if (result && result.isError) {
    const text = (result.content || []).map((c) => c.text || "").join(" ").trim();
    throw new Error(text || `${name} failed`);
  }
  return (result && (result.structuredContent || result)) || {};
}

/** Puts text into the conversation as the user's message. */
async function sendMessage(text) {
  if (openai && openai.sendFollowUpMessage) return openai.sendFollowUpMessage({ prompt: text });
  return request("ui/message", { role: "user", content: [{ type: "text", text }] });
}

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

// ---------------------------------------------------------------- the host's messages

function show(output) {
  if (output && Array.isArray(output.prompts)) {
    state.prompts = output.prompts;
    if (!state.open) render();
  }
}

function context(ctx) {
  if (!ctx) return;
  if (ctx.theme === "light" || ctx.theme === "dark") document.documentElement.dataset.theme = ctx.theme;
  if (typeof ctx.locale === "string" && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(ctx.locale)) document.documentElement.lang = ctx.locale;
}

let lastHeight = 0;
function reportSize() {
  const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  if (height === lastHeight || !embedded || openai) return;
  lastHeight = height;
  post({ method: "ui/notifications/size-changed", params: { width: Math.ceil(window.innerWidth), height } });
}

window.addEventListener("message", (e) => {
  if (e.source !== window.parent) return; // only the host that embeds this view speaks to it
  const m = e.data;
  if (!m || m.jsonrpc !== "2.0") return;
  if (m.id !== undefined && !m.method) {
    if (m.id === 1) {
      if (!m.result) return;
      context(m.result.hostContext);
      post({ method: "ui/notifications/initialized", params: {} });
      reportSize();
      new ResizeObserver(reportSize).observe(document.documentElement);
      return;
    }
    const waiting = pending.get(m.id);
    if (!waiting) return;
    pending.delete(m.id);
    if (m.error) waiting.reject(new Error(m.error.message || "the host refused"));
    else waiting.resolve(m.result);
    return;
  }
  if (m.method === "ui/notifications/tool-result" && m.params) show(m.params.structuredContent);
  if (m.method === "ui/notifications/host-context-changed") context(m.params);
  if (m.method === "ui/resource-teardown" && m.id !== undefined) post({ id: m.id, result: {} });
});

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && state.open && !state.editing) back();
});

if (openai) {
  context({ theme: openai.theme, locale: openai.locale });
  show(openai.toolOutput);
  window.addEventListener("openai:set_globals", (e) => {
    const g = (e.detail && e.detail.globals) || {};
    context(g);
    show(g.toolOutput || openai.toolOutput);
  });
} else if (embedded) {
  post({ id: 1, method: "ui/initialize", params: {
    protocolVersion: "2026-01-26", appInfo: { name: "promptdb-library", version: "2" }, appCapabilities: {},
  } });
}
render();
