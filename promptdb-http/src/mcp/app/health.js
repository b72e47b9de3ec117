// The health widget (`health_check` in an MCP Apps host): the server, its database and how
// callers sign in, with a button to check again. `bridge.js` is inlined above it.

let health = null;
let failure = null;

function row(label, value, ok) {
  return h("tr", null,
    h("th", { scope: "row", text: label }),
    h("td", null, h("span", { class: ["status", ok ? "status-ok" : "status-bad"], text: ok ? "● " : "▲ " }), value));
}

function view() {
  const rows = health ? [
    row("Server", `PromptDB ${health.version}`, true),
    row("Database", `${health.store}: ${health.status}`, health.status === "ok"),
    row("Sign-in", health.identity.issuer
      ? `${health.identity.mode}: ${health.identity.issuer} (${health.identity.status})`
      : `${health.identity.mode} (${health.identity.status})`, health.identity.status === "ok"),
  ] : [];
  return [
    h("div", { class: "bar" }, h("h1", { text: "PromptDB health" }),
      h("button", { type: "button", class: "btn btn-sm", on: { click: check } }, "Check again")),
    failure && h("p", { class: "problem", role: "alert", text: failure }),
    health ? h("table", { class: "health" }, h("tbody", null, rows))
      : !failure && h("p", { class: "empty", text: "Checking…" }),
  ];
}

function paint() {
  replace(app, view());
}

async function check() {
  try {
    health = await callTool("health_check", {});
    failure = null;
  } catch (e) {
    failure = String(e.message || e);
  }
  paint();
}

connect("promptdb-health", (output) => {
  if (output && output.version) {
    health = output;
    paint();
  }
});
paint();
