// The prompt library app (the `ui://` resource of `open_prompt_library`) in a real MCP Apps host:
// Debian's Chromium (playwright-core) loads apps_host.html, which runs the official AppBridge of
// @modelcontextprotocol/ext-apps over the official TypeScript MCP client, connected to the real
// `promptdb` binary (proxied onto the page's origin). In both protocol eras (2025-11-25 with
// `initialize`, 2026-07-28 per request) it checks the handshake, the tool result reaching the
// app, filtering, `ui/message` reaching the conversation, size changes, the host's theme, and
// that a message from a frame other than the host is ignored.
//
//   node tests/e2e/web/apps_test.mjs /path/to/promptdb
//
// Exits non-zero on the first failure; the last line is "N passed, N failed".

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(process.argv[2] || "target/debug/promptdb");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Screenshots of the app in both themes go to target/web-screenshots;
// PROMPTDB_SCREENSHOTS_DIR=docs/screenshots refreshes the README's.
const SHOTS = path.resolve(HERE, "../../..", process.env.PROMPTDB_SCREENSHOTS_DIR || "target/web-screenshots");
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const children = [];
const tmpDirs = [];
let browser = null;
let passed = 0;

function cleanup() {
  for (const c of children) { try { c.kill("SIGTERM"); } catch { /* gone */ } }
  for (const d of tmpDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ } }
}
process.on("exit", cleanup);

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function until(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    console.error(`\nFAIL: ${name}\n  ${err && err.stack ? err.stack.split("\n").slice(0, 8).join("\n  ") : err}`);
    console.log(`${passed} passed, 1 failed`);
    try { if (browser) await browser.close(); } catch { /* ignore */ }
    cleanup();
    process.exit(1);
  }
  passed++;
  console.log(`ok ${passed} - ${name} (${Date.now() - t0} ms)`);
}

/** axe-core over the app's frame: no serious or critical violation. */
async function axeScan(page, label) {
  const frame = await (await page.locator("iframe[title=PromptDB]").elementHandle()).contentFrame();
  await frame.evaluate(AXE_SOURCE);
  const res = await frame.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = res.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(!bad.length, `axe found serious or critical violations on ${label}:\n  ${bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(" | ")}`).join("\n  ")}`);
}

async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptdb-apps-"));
  tmpDirs.push(dir);
  const env = { ...process.env, RUST_LOG: "warn", NO_COLOR: "1" };
  const child = spawn(BIN, ["--data-dir", dir, "serve", "--bind", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  return until(() => {
    const base = /listening on (http:\/\/\S+)/.exec(out);
    const key = /^\s+(pdb_\S+)\s*$/m.exec(err);
    return base && key ? { base: base[1].replace(/\/$/, ""), key: key[1] } : null;
  }, `the server to start (${err.slice(-500)})`, 30000);
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json" };

/** The host page and node_modules, with /mcp proxied to the real server (same origin). */
function startHost(server) {
  const upstream = new URL(server.base);
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, "http://host");
    if (url.pathname.startsWith("/mcp")) {
      // As a host's own backend would call it: the server's host name, no browser origin.
      const headers = { ...req.headers, host: upstream.host };
      delete headers.origin;
      const proxied = http.request({
        host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers,
      }, (up) => { res.writeHead(up.statusCode, up.headers); up.pipe(res); });
      proxied.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      req.pipe(proxied);
      return;
    }
    if (url.pathname === "/favicon.ico") { res.writeHead(204); res.end(); return; }
    const rel = url.pathname === "/" ? "apps_host.html" : url.pathname.slice(1);
    const file = path.resolve(HERE, rel);
    if (!file.startsWith(HERE + path.sep) || !(rel === "apps_host.html" || rel.startsWith("node_modules/")) || !fs.existsSync(file)) {
      res.writeHead(404); res.end(); return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve({ srv, base: `http://127.0.0.1:${srv.address().port}` })));
}

async function rest(server, method, p, body) {
  const res = await fetch(`${server.base}/api/v1${p}`, {
    method, headers: { authorization: `Bearer ${server.key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

for (const era of ["legacy", "2026-07-28"]) {
  const server = await startServer();
  const host = await startHost(server);
  await rest(server, "POST", "/prompts", { prompts: [
    { slug: "code-review", name: "Code review", description: "Review a diff", content: "Review {{diff}} carefully", tags: ["dev"],
      variables: [{ name: "diff", required: true }] },
    { slug: "haiku", name: "Haiku", content: "A haiku about the sea", tags: ["fun"] },
  ] });
  const ctx = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: host.base });
  ctx.setDefaultTimeout(10000);
  const page = await ctx.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`); });
  const app = page.frameLocator("iframe[title=PromptDB]");
  const names = () => app.locator(".prompts .p-name").allTextContents();

  await step(`${era}: the host connects, reads the app and completes the handshake`, async () => {
    await page.goto(`${host.base}/#era=${era}&key=${server.key}&theme=light`);
    const state = await until(() => page.evaluate(() => {
      const h = window.__host;
      return h && (h.error || h.ready) ? { error: h.error, uri: h.uri, mimeType: h.mimeType, version: h.protocolVersion } : null;
    }), "the host to be ready");
    assert(!state.error, state.error);
    assert(state.uri === "ui://widget/prompt-library.html", `resource ${state.uri}`);
    assert(state.mimeType === "text/html;profile=mcp-app", `mime ${state.mimeType}`);
    if (era !== "legacy") assert(state.version === era, `negotiated ${state.version}`);
  });

  await step(`${era}: the tool result reaches the app; searching as you type asks the server`, async () => {
    await until(async () => (await names()).length === 2, "the listed prompts");
    await app.getByLabel("Search prompts").pressSequentially("sea", { delay: 30 });
    await until(async () => { const n = await names(); return n.length === 1 && n[0] === "Haiku"; }, "the search result (content matches)");
    await app.getByLabel("Search prompts").fill("");
    await until(async () => (await names()).length === 2, "the full list again");
  });

  await step(`${era}: a prompt opens; its variables are filled and rendered by the server, strictly`, async () => {
    await app.getByRole("button", { name: /Code review/ }).click();
    await app.getByRole("heading", { name: "Code review" }).waitFor();
    await app.getByRole("button", { name: "Preview" }).click();
    const alert = await app.getByRole("alert").textContent();
    assert(/diff/.test(alert), `a missing required value is named: ${alert}`);
    await app.getByLabel("diff").fill("x = 1");
    await app.getByRole("button", { name: "Preview" }).click();
    await until(async () => (await app.locator("#rendered").textContent()) === "Review x = 1 carefully", "the rendered text");
    // The host sends the tool result again (a re-render): the open prompt and its values stay.
    await page.evaluate(() => window.__host.resendResult());
    await page.waitForTimeout(200);
    assert((await app.getByLabel("diff").inputValue()) === "x = 1", "the values were lost on a re-render");
    assert((await app.locator("#rendered").textContent()) === "Review x = 1 carefully", "the rendered text was lost");
    fs.mkdirSync(SHOTS, { recursive: true });
    if (era === "legacy") await page.locator("iframe[title=PromptDB]").screenshot({ path: path.join(SHOTS, "mcp-app-light.png") });
    await axeScan(page, "the prompt, light");
  });

  await step(`${era}: "Insert into chat" sends the rendered prompt through the host (ui/message)`, async () => {
    await app.getByRole("button", { name: "Insert into chat" }).click();
    const messages = await until(() => page.evaluate(() => window.__host.messages.length && window.__host.messages), "ui/message");
    assert(messages[0].role === "user", JSON.stringify(messages));
    assert(messages[0].content[0].text === "Review x = 1 carefully", JSON.stringify(messages));
    await until(async () => (await rest(server, "GET", "/prompts/code-review")).usage_count === 1, "the use recorded");
  });

  await step(`${era}: copy puts the rendered prompt on the clipboard`, async () => {
    await app.getByRole("button", { name: "Copy" }).click();
    // The resource declares `clipboardWrite`; the host grants it in the frame's `allow`.
    await app.locator(".toast", { hasText: "Copied" }).first().waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert(clip === "Review x = 1 carefully", `clipboard: ${clip}`);
  });

  await step(`${era}: pin and favourite reach the server`, async () => {
    await app.getByRole("button", { name: "Pin", exact: true }).click();
    await app.getByRole("button", { name: "Unpin" }).waitFor();
    await app.getByRole("button", { name: "Favourite", exact: true }).click();
    await app.getByRole("button", { name: "Unfavourite" }).waitFor();
    const p = await rest(server, "GET", "/prompts/code-review");
    assert(p.pinned === true && p.favorite === true, JSON.stringify(p));
  });

  await step(`${era}: edit and save writes a new version; save as new makes another prompt`, async () => {
    await app.getByRole("button", { name: "Edit" }).click();
    await app.getByLabel("Content").fill("Review {{diff}} twice");
    await app.getByRole("button", { name: "Save new version" }).click();
    await until(async () => (await rest(server, "GET", "/prompts/code-review")).version === 2, "version 2");
    assert((await rest(server, "GET", "/prompts/code-review")).content === "Review {{diff}} twice", "the new content");
    await app.getByRole("button", { name: "Edit" }).click();
    await app.getByLabel("Content").fill("Review {{diff}} as a pirate");
    await app.getByRole("button", { name: "Save as new prompt" }).click();
    await app.getByRole("heading", { name: "Code review (copy)" }).waitFor();
    const copy = await rest(server, "GET", "/prompts/code-review-copy");
    assert(copy.content === "Review {{diff}} as a pirate", JSON.stringify(copy));
    await app.getByRole("button", { name: "← Back" }).click();
    await until(async () => (await names()).length === 3, "the list with the copy");
  });

  await step(`${era}: the app reports its size and follows the host's theme and locale`, async () => {
    const sizes = await until(() => page.evaluate(() => window.__host.sizes.length && window.__host.sizes), "size-changed");
    assert(sizes.at(-1).height > 50, JSON.stringify(sizes));
    await until(async () => {
      const frameHeight = await page.locator("iframe[title=PromptDB]").evaluate((f) => f.getBoundingClientRect().height);
      const last = await page.evaluate(() => window.__host.sizes.at(-1).height);
      return Math.abs(frameHeight - last) <= 2;
    }, "the frame to take the reported height");
    assert((await app.locator("html").getAttribute("data-theme")) === "light", "light from the initial context");
    await page.evaluate(() => window.__host.setTheme("dark"));
    await until(async () => (await app.locator("html").getAttribute("data-theme")) === "dark", "the dark theme");
    const bg = await app.locator("body").evaluate((b) => getComputedStyle(b).backgroundColor);
    assert(bg === "rgb(27, 28, 34)", `dark surface ${bg}`);
    assert((await app.locator("html").getAttribute("lang")) === "en-GB", "the host's locale");
    if (era === "legacy") await page.locator("iframe[title=PromptDB]").screenshot({ path: path.join(SHOTS, "mcp-app-dark.png") });
    await axeScan(page, "the library, dark");
  });

  await step(`${era}: a message from another frame is ignored`, async () => {
    // A second frame on the host page posts a forged tool result (and a forged context change)
    // straight to the app's window.
    await page.evaluate(() => new Promise((resolve) => {
      const evil = document.createElement("iframe");
      evil.setAttribute("sandbox", "allow-scripts");
      evil.srcdoc = `<script>
        const app = parent.frames[0];
        app.postMessage({ jsonrpc: "2.0", method: "ui/notifications/tool-result",
          params: { structuredContent: { prompts: [{ slug: "evil", name: "Forged", tags: [] }] } } }, "*");
        app.postMessage({ jsonrpc: "2.0", method: "ui/notifications/host-context-changed", params: { theme: "light" } }, "*");
        parent.postMessage("evil-sent", "*");
      <\/script>`;
      window.addEventListener("message", (e) => { if (e.data === "evil-sent") resolve(); });
      document.body.append(evil);
    }));
    await page.waitForTimeout(300);
    const shown = await names();
    assert(shown.length === 3 && !shown.some((n) => n.includes("Forged")), `forged prompts shown: ${shown}`);
    assert((await app.locator("html").getAttribute("data-theme")) === "dark", "a forged context changed the theme");
  });

  await step(`${era}: the health widget shows the server, its database and sign-in`, async () => {
    const healthPage = await ctx.newPage();
    healthPage.on("pageerror", (e) => problems.push(String(e)));
    healthPage.on("console", (m) => { if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`); });
    await healthPage.goto(`${host.base}/#era=${era}&key=${server.key}&theme=dark&tool=health_check`);
    const state = await until(() => healthPage.evaluate(() => {
      const h = window.__host;
      return h && (h.error || h.ready) ? { error: h.error, uri: h.uri } : null;
    }), "the health host");
    assert(!state.error, state.error);
    assert(state.uri === "ui://widget/health", `resource ${state.uri}`);
    const widget = healthPage.frameLocator("iframe[title=PromptDB]");
    await widget.getByRole("heading", { name: "PromptDB health" }).waitFor();
    const rows = await widget.locator(".health tr").allTextContents();
    assert(rows.length === 3, rows.join(" | "));
    assert(/Database.*sqlite: ok/.test(rows[1]), rows[1]);
    assert(/Sign-in.*local \(ok\)/.test(rows[2]), rows[2]);
    await widget.getByRole("button", { name: "Check again" }).click();
    await widget.locator(".health").waitFor();
    if (era === "legacy") await healthPage.locator("iframe[title=PromptDB]").screenshot({ path: path.join(SHOTS, "mcp-health-dark.png") });
    await healthPage.close();
  });

  await step(`${era}: no script errors`, async () => {
    assert(problems.length === 0, problems.join("\n"));
  });
  await ctx.close();
  host.srv.close();
}

await browser.close();
console.log(`${passed} passed, 0 failed`);
cleanup();
process.exit(0);
