// The host bridge of PromptDB's MCP Apps views (the library, the health widget): JSON-RPC on
// postMessage with the window that embeds the view (and with nobody else), the `ui/initialize`
// handshake, the host's theme and locale, size reports, PromptDB's tools through the host
// (`tools/call`), and ChatGPT's `window.openai` where the host offers it instead. The web app's
// `dom.js` is inlined above this file and the view's own script below it, in one module.

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

// ---------------------------------------------------------------- the host's messages

/** The view's handler of tool results (`structuredContent`), set by the view. */
let onToolOutput = () => {};

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
  if (m.method === "ui/notifications/tool-result" && m.params) onToolOutput(m.params.structuredContent);
  if (m.method === "ui/notifications/host-context-changed") context(m.params);
  if (m.method === "ui/resource-teardown" && m.id !== undefined) post({ id: m.id, result: {} });
});

/** Starts talking to the host: `show` receives each tool result's structured content. */
function connect(name, show) {
  onToolOutput = show;
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
      protocolVersion: "2026-01-26", appInfo: { name, version: "2" }, appCapabilities: {},
    } });
  }
}
