// Real-browser tests of the PromptDB web app: Debian's Chromium driven by playwright-core.
//
//   node tests/e2e/web/web_test.mjs [/path/to/promptdb]    (default /tmp/promptdb-web-bin/promptdb)
//
// Starts its own server on a fresh data directory (PROMPTDB_WEB_DIR is passed on only when it is
// set for this test; without it the embedded assets are tested), drives every journey, checks
// that the Content-Security-Policy and Trusted Types produced no error, scans every page with
// axe-core, measures the first load of the library, and writes screenshots (see SHOTS).
// Then two users of one server: the local OpenID provider (tests/e2e/oidc, installed by
// scripts/setup-e2e) and a second server in OIDC mode, each user in their own browser context,
// signing in through the provider's real login page; neither sees the other's prompts.
// Exits non-zero on the first failure; the last line is "N passed, N failed".

import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../../..");
// Screenshots go to target/web-screenshots; PROMPTDB_SCREENSHOTS_DIR=docs/screenshots refreshes
// the README's.
const SHOTS = path.resolve(REPO, process.env.PROMPTDB_SCREENSHOTS_DIR || "target/web-screenshots");
const BIN = path.resolve(process.argv[2] || "/tmp/promptdb-web-bin/promptdb");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const FIRST_LOAD_BUDGET = 150 * 1024;
const DESKTOP = { width: 1280, height: 860 };

let passed = 0;
const children = [];
const tmpDirs = [];
let browser = null;

// ---------------------------------------------------------------- plumbing

function cleanup() {
  for (const c of children) { try { c.kill("SIGTERM"); } catch { /* gone */ } }
  for (const d of tmpDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ } }
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { cleanup(); process.exit(130); });

/** Extra context printed when a step fails (e.g. the tail of a server's log). */
const failureNotes = [];

async function die(name, err) {
  console.error(`\nFAIL: ${name}\n  ${err && err.stack ? err.stack.split("\n").slice(0, 6).join("\n  ") : err}`);
  for (const note of failureNotes) { try { console.error(note()); } catch { /* best effort */ } }
  console.log(`${passed} passed, 1 failed`);
  try { if (browser) await browser.close(); } catch { /* ignore */ }
  cleanup();
  process.exit(1);
}

class Failure extends Error {}
function assert(cond, msg) { if (!cond) throw new Failure(msg); }
function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Failure(`${msg}: expected ${e}, got ${a}`);
}

/** Polls `fn` until it returns a truthy value. */
async function until(fn, msg, timeout = 8000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Failure(`timed out: ${msg}${last instanceof Error ? ` (${last.message})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let currentStep = "";
async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  try {
    await fn();
    checkPageErrors(name);
  } catch (err) {
    await die(name, err);
  }
  passed++;
  console.log(`ok ${passed} - ${name} (${Date.now() - t0} ms)`);
}

// ---------------------------------------------------------------- servers

async function startServer(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `promptdb-web-${label}-`));
  tmpDirs.push(dir);
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn", NO_COLOR: "1" };
  delete env.PROMPTDB_WEB_DIR;
  if (process.env.PROMPTDB_WEB_DIR) env.PROMPTDB_WEB_DIR = path.resolve(process.env.PROMPTDB_WEB_DIR);
  const child = spawn(BIN, ["--data-dir", dir, "serve", "--bind", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  const exited = new Promise((_, rej) => child.on("exit", (code) => rej(new Error(`server exited with ${code}: ${err.slice(-2000)}`))));
  const ready = until(() => {
    const base = /listening on (http:\/\/\S+)/.exec(out);
    const key = /^\s+(pdb_\S+)\s*$/m.exec(err);
    const link = /(http:\/\/\S+\/auth\/link\?token=\S+)/.exec(err);
    return base && key && link ? { base: base[1].replace(/\/$/, ""), key: key[1], link: link[1], dir, child } : null;
  }, `server ${label} to start (stdout: ${out.slice(0, 200)})`, 30000);
  return Promise.race([ready, exited]);
}

/** A fresh one-time sign-in link (`promptdb open --print`; `--url` names the port picked). */
function freshLink(dir, base) {
  const out = execFileSync(BIN, ["--data-dir", dir, "open", "--print", "--url", base], { encoding: "utf8", env: { ...process.env, RUST_LOG: "error" } });
  const m = /(http:\/\/\S+\/auth\/link\?token=\S+)/.exec(out);
  assert(m, `open --print printed no link: ${out}`);
  return m[1];
}

// ---------------------------------------------------------------- OpenID Connect (two users)

// The local OpenID provider (tests/e2e/oidc, the certified `oidc-provider` package): any user
// name and any password sign in; `sub` is the user name.
const OIDC_DIR = path.resolve(HERE, "../oidc");
const OIDC_CLIENT_ID = "promptdb-test";
const OIDC_CLIENT_SECRET = "s3cret";

/** A port that was free a moment ago (the caller retries if it is taken in between). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept; `ended` resolves with its exit code. */
function spawnKept(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const p = { child, out: "", err: "", exitCode: null };
  child.stdout.on("data", (d) => { p.out += d; });
  child.stderr.on("data", (d) => { p.err += d; });
  p.ended = new Promise((resolve) => child.on("exit", (code, sig) => { p.exitCode = code ?? sig; resolve(p.exitCode); }));
  child.on("error", (e) => { p.err += `\n${e.message}`; });
  return p;
}

/** Waits for `re` on the process's stdout; rejects when it exits first. */
async function waitOutput(p, re, what, timeout = 30000) {
  return Promise.race([
    until(() => re.exec(p.out), what, timeout),
    p.ended.then((code) => { throw new Failure(`${what}: exited with ${code} first:\n${p.err.slice(-2000)}`); }),
  ]);
}

/** The provider, for a PromptDB whose public URL is `resource`. */
async function startProvider(resource) {
  assert(fs.existsSync(path.join(OIDC_DIR, "node_modules/oidc-provider/package.json")),
    "the OpenID provider is not installed: run scripts/setup-e2e (npm ci in tests/e2e/oidc)");
  const p = spawnKept(process.execPath, [
    path.join(OIDC_DIR, "provider.mjs"), "--port", "0", "--resource", resource,
    "--client-id", OIDC_CLIENT_ID, "--client-secret", OIDC_CLIENT_SECRET,
    "--redirect-uri", `${resource}/auth/callback`, "--access-ttl", "300",
  ], { cwd: OIDC_DIR });
  const m = await waitOutput(p, /^ready (http:\/\/\S+)$/m, "the OpenID provider to start");
  p.issuer = m[1];
  return p;
}

/**
 * A provider and a `promptdb serve` in OIDC mode that trusts it, on a fresh data directory.
 * The provider picks its own port; PromptDB's must be known before either starts (it is the
 * provider's redirect URI and the tokens' audience), so a free port is picked and, should
 * another process take it before PromptDB binds, everything starts again on a new one.
 */
async function startOidcServer() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const provider = await startProvider(base);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptdb-web-oidc-"));
    tmpDirs.push(dir);
    const env = {
      ...process.env, RUST_LOG: "info", NO_COLOR: "1",
      PROMPTDB_AUTH_MODE: "oidc",
      PROMPTDB_PUBLIC_URL: base,
      PROMPTDB_OIDC_ISSUER: provider.issuer,
      PROMPTDB_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
      PROMPTDB_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
    };
    for (const k of ["PROMPTDB_WEB_DIR", "PROMPTDB_URL", "PROMPTDB_API_KEY", "PROMPTDB_DATABASE_URL", "PROMPTDB_CONFIG", "PROMPTDB_BIND", "PROMPTDB_DATA_DIR"]) delete env[k];
    if (process.env.PROMPTDB_WEB_DIR) env.PROMPTDB_WEB_DIR = path.resolve(process.env.PROMPTDB_WEB_DIR);
    const server = spawnKept(BIN, ["--data-dir", dir, "serve", "--bind", `127.0.0.1:${port}`], { env });
    try {
      const m = await waitOutput(server, /listening on (http:\/\/\S+)/, "the OIDC-mode server to start");
      eq(m[1].replace(/\/$/, ""), base, "the server's URL");
      return { base, issuer: provider.issuer, dir, server, provider };
    } catch (err) {
      provider.child.kill("SIGTERM");
      if (attempt < 5 && /already in use|os error 98/i.test(server.err)) {
        console.log(`   port ${port} was taken before the server bound it; again on another port`);
        continue;
      }
      throw err;
    }
  }
}

function restClient(base, key) {
  return async function rest(method, p, body, k = key) {
    const res = await fetch(`${base}/api/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${k}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: res.status, data };
  };
}

// ---------------------------------------------------------------- page error capture

const pageErrors = [];
const serverErrors = [];

/** Watches a page for console errors, uncaught exceptions, CSP and Trusted Types violations. */
async function watch(context) {
  await context.exposeBinding("__pdbReportViolation", (_src, v) => {
    pageErrors.push(`securitypolicyviolation: ${v}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__pdbReportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const onPage = (page) => {
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const t = m.text();
      // A failed HTTP request is logged by the browser itself; the journeys provoke 401 (signed
      // out), 404 (no single sign-on here), 422/409
      // (validation) and 429 (a held-back answer of the fast-navigation step) on purpose.
      // Server errors are caught from the responses below.
      if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(t)) return;
      pageErrors.push(`console error: ${t}`);
    });
    page.on("pageerror", (e) => pageErrors.push(`uncaught exception: ${e.message}`));
    if (process.env.DEBUG) page.on("request", (r) => { if (/\/api\/|\/auth\//.test(r.url())) console.log(`   > ${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`); });
    page.on("response", (r) => { if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  };
  context.on("page", onPage);
  for (const p of context.pages()) onPage(p);
}

function checkPageErrors(where) {
  if (pageErrors.length || serverErrors.length) {
    const all = [...pageErrors.splice(0), ...serverErrors.splice(0)];
    throw new Failure(`errors in the page during "${where}":\n  ${all.join("\n  ")}`);
  }
}

// ---------------------------------------------------------------- helpers on pages

async function signInWithKey(page, base, key) {
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
}

/** A browser context for one user of the OIDC server (own cookies, watched for errors). */
async function userContext(offsite) {
  const c = await browser.newContext({ viewport: DESKTOP, colorScheme: "light" });
  c.setDefaultTimeout(10000);
  await watch(c);
  // The provider's development login pages @import a Google font; the test runs offline, so
  // requests that leave this machine get an empty answer (and are listed, to check that none
  // came from PromptDB's pages).
  await c.route((u) => u.hostname !== "127.0.0.1", (r) => {
    let from = "";
    try { from = r.request().frame().url(); } catch { /* not from a frame */ }
    offsite.push({ url: r.request().url(), from });
    return r.fulfill({ status: 200, contentType: "text/css", body: "" });
  });
  return c;
}

/**
 * Signs in from PromptDB's sign-in page through the provider: the single sign-on button, the
 * provider's login form (any password), its consent page, back to the library.
 */
async function signInWithSso(page, oidc, user) {
  await page.goto(`${oidc.base}/`);
  await page.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
  const sso = page.getByRole("link", { name: "Sign in with single sign-on", exact: true });
  await sso.waitFor(); // shown once GET /auth/methods said there is single sign-on
  await sso.click();
  const login = page.locator('input[name="login"]');
  await login.waitFor();
  assert(page.url().startsWith(`${oidc.issuer}/interaction/`), `not on the provider's login page: ${page.url()}`);
  await login.fill(user);
  await page.locator('input[name="password"]').fill(`${user}'s password`);
  await page.getByRole("button", { name: "Sign-in", exact: true }).click();
  const consent = page.getByRole("button", { name: "Continue", exact: true });
  const library = page.getByRole("heading", { name: "Library", level: 1, exact: true });
  await consent.or(library).first().waitFor();
  if (await consent.isVisible()) await consent.click();
  await library.waitFor();
  eq(new URL(page.url()).origin, oidc.base, "back on PromptDB after the login");
  eq((await page.locator("#topbar .who").textContent()).trim(), user, "the signed-in user's name in the header");
}

/** A REST call from the page, with its session cookie and CSRF token (as the app sends it). */
async function pageRest(page, method, p, body) {
  return page.evaluate(async ([method, p, body]) => {
    const s = await fetch("/auth/session");
    const csrf = s.ok ? (await s.json()).csrf_token : "";
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== null) headers["Content-Type"] = "application/json";
    const res = await fetch(`/api/v1${p}`, { method, headers, body: body === null ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: res.status, data };
  }, [method, p, body === undefined ? null : body]);
}

/** Writes a new prompt in the editor and saves it; ends on its page. */
async function createInEditor(page, base, { name, slug, content }) {
  await page.goto(`${base}/#/new`);
  await page.getByRole("heading", { name: "New prompt", level: 1, exact: true }).waitFor();
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="slug"]').fill(slug);
  await page.locator('textarea[name="content"]').fill(content);
  await page.getByRole("button", { name: "Save prompt", exact: true }).click();
  await page.getByRole("heading", { name, level: 1, exact: true }).waitFor();
}

async function confirmDialog(page, buttonName) {
  const dlg = page.locator("dialog[open]");
  await dlg.waitFor();
  await dlg.getByRole("button", { name: buttonName, exact: true }).click();
  await dlg.waitFor({ state: "detached" });
}

async function items(page) {
  return page.locator(".prompt-item").evaluateAll((els) => els.map((e) => e.dataset.slug));
}

async function waitItems(page, pred, msg) {
  return until(async () => { const s = await items(page); return pred(s) ? s : null; }, msg);
}

async function clipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText());
}

async function waitDraftSaved(page, after = "") {
  return until(async () => {
    const saved = await page.locator(".save-status").getAttribute("data-saved");
    return saved && saved !== after ? saved : null;
  }, "the draft to be autosaved", 10000);
}

async function axeScan(page, label) {
  await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = res.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = res.filter((v) => !bad.includes(v));
  if (minor.length) console.log(`   axe ${label}: ${minor.length} minor/moderate: ${minor.map((v) => v.id).join(", ")}`);
  assert(!bad.length, `axe found serious or critical violations on ${label}:\n  ${bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(" | ")}`).join("\n  ")}`);
  return res.length;
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => { if (document.activeElement) document.activeElement.blur(); return document.fonts && document.fonts.ready; });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(fs.existsSync(BIN), `no server binary at ${BIN}`);
  assert(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  console.log(`# server ${BIN}${process.env.PROMPTDB_WEB_DIR ? ` with PROMPTDB_WEB_DIR=${process.env.PROMPTDB_WEB_DIR}` : " (embedded assets)"}`);

  const s1 = await startServer("main").catch((e) => die("start the server", e));
  const { base, key } = s1;
  const rest = restClient(base, key);
  console.log(`# server at ${base}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const ctx = await browser.newContext({ viewport: DESKTOP, colorScheme: "light", acceptDownloads: true });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  ctx.setDefaultTimeout(10000);
  await watch(ctx);
  const page = await ctx.newPage();
  let pg = page; // replaced when the tab is closed and opened again

  // ------------------------------------------------------------ the page itself
  await step("index.html is served with the strict CSP and hashed assets", async () => {
    const res = await fetch(`${base}/`, { headers: { "Accept-Encoding": "gzip" } });
    eq(res.status, 200, "GET /");
    const csp = res.headers.get("content-security-policy") || "";
    for (const d of ["default-src 'none'", "script-src 'self'", "require-trusted-types-for 'script'", "frame-ancestors 'none'"]) {
      assert(csp.includes(d), `CSP lacks ${d}: ${csp}`);
    }
    const html = await res.text();
    assert(html.includes('id="topbar"'), "this binary embeds an older web app (the placeholder?): rebuild it, or set PROMPTDB_WEB_DIR=promptdb-http/web with a debug build");
    assert(!html.includes("%ASSETS%"), "index.html still has %ASSETS%");
    assert(/\/assets\/[0-9a-f]+\/app\.js/.test(html), "index.html does not load /assets/<hash>/app.js");
    assert(!/<script>[^<]|style=|\son[a-z]+=/i.test(html), "index.html has inline script, style or handler");
  });

  // ------------------------------------------------------------ sign-in
  await step("sign in with the one-time link", async () => {
    await page.goto(s1.link);
    await page.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();
    assert(await page.getByRole("link", { name: "New prompt" }).first().isVisible(), "no New prompt link in the empty state");
    const s = await page.evaluate(async () => (await fetch("/auth/session")).status);
    eq(s, 200, "session after the link");
  });

  await step("a used sign-in link does not sign in again", async () => {
    const res = await fetch(s1.link, { redirect: "manual" });
    assert(!/pdb_session=[^;]+;/.test(res.headers.get("set-cookie") || "") || res.status >= 400, "the link worked twice");
  });

  await step("sign out", async () => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
    await page.getByText("You are signed out.").waitFor();
    const s = await page.evaluate(async () => (await fetch("/auth/session")).status);
    eq(s, 401, "session after sign-out");
    assert(await page.getByText("promptdb open", { exact: true }).isVisible(), "no promptdb open hint");
    assert(await page.getByRole("link", { name: "Sign in with single sign-on" }).isHidden(), "SSO offered without OIDC");
    const methods = await fetch(`${base}/auth/methods`);
    eq(methods.status, 200, "GET /auth/methods");
    const m = await methods.json();
    eq({ link: m.link, api_key: m.api_key, oidc: m.oidc, login_url: m.login_url }, { link: true, api_key: true, oidc: false, login_url: null }, "GET /auth/methods in local mode");
  });

  await step("screenshots of the sign-in page", async () => {
    await page.emulateMedia({ colorScheme: "light" });
    await shot(page, "signin-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "signin-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  await step("a wrong API key shows an error next to the field", async () => {
    await page.getByLabel("API key", { exact: true }).fill("pdb_not_a_real_key");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const err = page.locator(".signin-form .field .field-error");
    await err.waitFor();
    assert(/not accepted/.test(await err.textContent()), "error text");
    eq(await page.getByLabel("API key", { exact: true }).getAttribute("aria-invalid"), "true", "aria-invalid on the key");
    const described = await page.getByLabel("API key", { exact: true }).getAttribute("aria-describedby");
    assert(described.includes(await err.getAttribute("id")), "the error is not tied to the field");
  });

  await step("sign in with an API key", async () => {
    await page.getByLabel("API key", { exact: true }).fill(key);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
    assert(!(await page.content()).includes(key), "the key is still in the page");
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert(!stored.includes("pdb_") && !/csrf/i.test(stored), `a credential in web storage: ${stored}`);
  });

  // ------------------------------------------------------------ data
  const notes = Array.from({ length: 22 }, (_, i) => ({
    name: `Daily note ${String(i + 1).padStart(2, "0")}`,
    slug: `daily-note-${i + 1}`,
    description: "A short daily reflection prompt.",
    content: `Write today's note number ${i + 1} about {{topic}}.`,
    tags: ["notes"],
  }));
  await step("seed the library through the REST API", async () => {
    const r = await rest("POST", "/prompts", { prompts: [
      { name: "Ticket triage", slug: "support/triage", description: "Sort an incoming support ticket.", tags: ["support", "ops"],
        content: "Classify this ticket from {{customer}}:\n{{ticket}}\nAnswer in {{language}}.",
        variables: [{ name: "language", description: "Reply language", required: false, default: "English" }] },
      { name: "Refund reply", slug: "support/billing/refunds", description: "Answer a refund request politely.", tags: ["support", "billing"], content: "Reply to {{customer}} about their refund." },
      { name: "Tone check", slug: "writing/tone-check", description: "Check the tone of a draft.", tags: ["writing"], content: "Is this friendly? {{text}}" },
      { name: "Code review", slug: "code-review", description: "Review a diff for bugs and style.", tags: ["dev", "review"], content: "Review this code:\n{{code}}" },
      { name: "Friendly assistant", slug: "assistant", kind: "chat", tags: ["chat"], description: "A chat prompt.",
        messages: [{ role: "system", content: "You are a {{tone}} assistant." }, { role: "user", content: "Hello! {{question}}" }] },
      ...notes,
    ] });
    eq(r.status, 201, `seed: ${JSON.stringify(r.data).slice(0, 300)}`);
  });

  // ------------------------------------------------------------ library
  await step("library: ranked list with pagination (Load more)", async () => {
    await page.goto(`${base}/#/`);
    await page.reload();
    await waitItems(page, (s) => s.length === 20, "20 items on the first page");
    await page.getByRole("button", { name: "Load more", exact: true }).click();
    await waitItems(page, (s) => s.length === 27, "27 items after Load more");
    assert(await page.getByRole("button", { name: "Load more", exact: true }).isHidden(), "Load more still shown on the last page");
    const all = await items(page);
    eq(new Set(all).size, 27, "no duplicates across pages");
  });

  await step("library: search as you type (words and #tags)", async () => {
    const search = page.locator("#search");
    await search.click();
    await search.pressSequentially("triag", { delay: 40 });
    await waitItems(page, (s) => s.length === 1 && s[0] === "support/triage", "search for 'triag'");
    assert(page.url().includes("q=triag"), `the query is not in the URL: ${page.url()}`);
    await search.fill("");
    await search.pressSequentially("#billing", { delay: 30 });
    await waitItems(page, (s) => s.length === 1 && s[0] === "support/billing/refunds", "search for #billing");
    await search.press("Escape");
    await waitItems(page, (s) => s.length === 20, "Esc clears the search");
    eq(await search.inputValue(), "", "search box after Esc");
  });

  await step("library: empty state for a search without results", async () => {
    const search = page.locator("#search");
    await search.fill("zzqqxx");
    await page.getByRole("heading", { name: "Nothing matches" }).waitFor();
    await page.getByRole("button", { name: "Clear search and filters", exact: true }).click();
    await waitItems(page, (s) => s.length === 20, "list after clearing");
  });

  await step("library: tag filter with counts", async () => {
    const tag = page.locator('.tag-filter[data-tag="support"]');
    assert((await tag.textContent()).includes("2"), `tag count: ${await tag.textContent()}`);
    await page.locator('.tag-filter[data-tag="review"]').click();
    await waitItems(page, (s) => s.length === 1 && s[0] === "code-review", "tag review");
    eq(await page.locator('.tag-filter[data-tag="review"]').getAttribute("aria-pressed"), "true", "pressed tag");
    await page.locator('.tag-filter[data-tag="review"]').click();
    await waitItems(page, (s) => s.length === 20, "tag filter off");
  });

  await step("library: folder filter (and nested folders)", async () => {
    await page.locator('.folder[data-folder="support"]').click();
    await waitItems(page, (s) => s.length === 2 && s.every((x) => x.startsWith("support/")), "folder support");
    await page.locator('.folder[data-folder="support/billing"]').click();
    await waitItems(page, (s) => s.length === 1 && s[0] === "support/billing/refunds", "folder support/billing");
    await page.locator('.folder[data-folder=""]').click();
    await waitItems(page, (s) => s.length === 20, "all folders");
  });

  await step("library: pin and favourite toggles; pinned first", async () => {
    const pin = page.locator('.prompt-item[data-slug="code-review"] .toggle-pinned');
    await pin.click();
    await until(async () => (await pin.getAttribute("aria-pressed")) === "true", "pin pressed");
    await page.locator("#search").fill("triage");
    await waitItems(page, (x) => x.length === 1, "search triage");
    const fav = page.locator('.prompt-item[data-slug="support/triage"] .toggle-favorite');
    await fav.click();
    await until(async () => (await fav.getAttribute("aria-pressed")) === "true", "favourite pressed");
    const a = await rest("GET", "/prompts/code-review");
    eq(a.data.pinned, true, "code-review pinned (REST)");
    const b = await rest("GET", "/prompts/support%2Ftriage");
    eq(b.data.favorite, true, "triage favourite (REST)");
    await page.goto(`${base}/#/`);
    await page.reload();
    const s = await waitItems(page, (x) => x.length === 20, "list after reload");
    eq(s[0], "code-review", "the pinned prompt lists first");
    await page.getByRole("button", { name: "Pinned", exact: true }).click();
    await waitItems(page, (x) => x.length === 1 && x[0] === "code-review", "Pinned filter");
    await page.getByRole("button", { name: "All", exact: true }).click();
    await waitItems(page, (x) => x.length === 20, "All");
  });

  // ------------------------------------------------------------ prompt page
  await step("prompt page: variables marked, form with live preview (server-rendered)", async () => {
    await page.goto(`${base}/#/prompts/support%2Ftriage`);
    await page.getByRole("heading", { name: "Ticket triage", level: 1, exact: true }).waitFor();
    const marks = await page.locator(".template mark.var").allTextContents();
    eq(marks, ["{{customer}}", "{{ticket}}", "{{language}}"], "marked variables");
    await page.locator('textarea[name="customer"]').fill("ACME");
    await page.locator("#preview").getByText("Fill in “ticket”").waitFor();
    await page.locator('textarea[name="ticket"]').fill("The printer is on fire");
    const expected = (await rest("POST", "/prompts/support%2Ftriage/render", { variables: { customer: "ACME", ticket: "The printer is on fire" } })).data.text;
    await until(async () => (await page.locator("#preview pre").textContent().catch(() => "")) === expected, "preview equals the server's render");
    assert(expected.includes("Answer in English."), "default applied");
  });

  await step("prompt page: copy rendered and raw; uses and last use", async () => {
    await page.getByRole("button", { name: "Copy rendered", exact: true }).click();
    await until(async () => (await clipboard(page)).includes("The printer is on fire"), "rendered text on the clipboard");
    await until(async () => (await page.locator("dt:text-is('Uses') + dd").textContent()) === "1", "uses = 1 on the page");
    await page.getByRole("button", { name: "Copy template", exact: true }).click();
    await until(async () => (await clipboard(page)) === "Classify this ticket from {{customer}}:\n{{ticket}}\nAnswer in {{language}}.", "raw template on the clipboard");
    await until(async () => (await page.locator("dt:text-is('Uses') + dd").textContent()) === "2", "uses = 2 on the page");
    const r = await until(async () => { const x = await rest("GET", "/prompts/support%2Ftriage"); return x.data.usage_count === 2 ? x : null; }, "two uses recorded (REST)", 8000);
    assert(r.data.last_used_at, "last use recorded");
    assert(!/never/.test(await page.locator("dt:text-is('Last use') + dd").textContent()), "last use shown");
  });

  await step("prompt page: chat prompts show their messages", async () => {
    await page.goto(`${base}/#/prompts/assistant`);
    await page.getByRole("heading", { name: "Friendly assistant", level: 1, exact: true }).waitFor();
    eq(await page.locator(".message .role").allTextContents(), ["system", "user"], "roles");
    eq(await page.locator(".message mark.var").allTextContents(), ["{{tone}}", "{{question}}"], "marked variables in messages");
    await page.locator('textarea[name="tone"]').fill("cheerful");
    await page.locator('textarea[name="question"]').fill("How are you?");
    await until(async () => /cheerful assistant/.test(await page.locator("#preview pre").textContent().catch(() => "")), "chat preview");
  });

  await step("prompt page: versions and a diff", async () => {
    eq((await rest("PATCH", "/prompts/support%2Ftriage", { content: "Classify this ticket from {{customer}}:\n{{ticket}}\nReply in {{language}}.", commit_message: "Say reply" })).status, 200, "v2");
    eq((await rest("PATCH", "/prompts/support%2Ftriage", { content: "Classify this ticket from {{customer}}:\n{{ticket}}\nReply in {{language}}, briefly.", commit_message: "Be brief" })).status, 200, "v3");
    await page.goto(`${base}/#/prompts/support%2Ftriage?tab=history`);
    await page.locator(".version-row").nth(2).waitFor();
    eq(await page.locator(".version-row .version-num").allTextContents(), ["v3", "v2", "v1"], "versions newest first");
    await page.locator("#diff .diff-insert").first().waitFor();
    assert((await page.locator("#diff .diff-insert").allTextContents()).some((t) => t.includes("briefly.")), "inserted line");
    assert((await page.locator("#diff .diff-delete").allTextContents()).some((t) => t.includes("Reply in {{language}}.")), "deleted line");
    await page.getByLabel("From", { exact: true }).selectOption("1");
    await page.getByLabel("To", { exact: true }).selectOption("3");
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    await until(async () => (await page.locator("#diff .diff-delete").allTextContents()).some((t) => t.includes("Answer in {{language}}.")), "diff 1 → 3");
    eq(await page.locator("#diff ins").count() > 0 && await page.locator("#diff del").count() > 0, true, "ins/del elements");
  });

  await step("prompt page: move a label, a 90/10 split, rollback, label history", async () => {
    await page.getByRole("tab", { name: "Releases" }).click();
    await page.getByRole("heading", { name: "Labels" }).waitFor();
    await page.getByLabel("Label", { exact: true }).fill("staging");
    await page.locator(".label-form select").first().selectOption("2");
    await page.getByRole("button", { name: "Move label", exact: true }).click();
    await until(async () => (await page.locator('.label-row[data-label="staging"] .label-target').textContent().catch(() => "")) === "v2", "staging → v2 shown");
    let l = (await rest("GET", "/prompts/support%2Ftriage/labels")).data.labels.find((x) => x.name === "staging");
    eq(l.version, 2, "staging at v2 (REST)");

    await page.getByRole("button", { name: "Move label staging", exact: true }).click();
    await page.getByLabel("A/B split").check();
    const rows = page.locator(".split-row");
    eq(await rows.count(), 2, "two split rows");
    await rows.nth(0).locator("select").selectOption("2");
    await rows.nth(0).locator("input").fill("90");
    await rows.nth(1).locator("select").selectOption("3");
    await rows.nth(1).locator("input").fill("10");
    await page.getByRole("button", { name: "Move label", exact: true }).click();
    await until(async () => (await page.locator('.label-row[data-label="staging"] .label-target').textContent().catch(() => "")).startsWith("v2 90% · v3 10%"), "split shown");
    l = (await rest("GET", "/prompts/support%2Ftriage/labels")).data.labels.find((x) => x.name === "staging");
    eq(l.split, [{ version: 2, weight: 90 }, { version: 3, weight: 10 }], "split (REST)");

    await page.getByLabel("Label", { exact: true }).fill("production");
    await page.getByLabel("One version").check();
    await page.locator(".label-form select").first().selectOption("3");
    await page.getByRole("button", { name: "Move label", exact: true }).click();
    await until(async () => (await page.locator('.label-row[data-label="production"] .label-target').textContent().catch(() => "")) === "v3", "production → v3");

    await page.getByRole("button", { name: "Roll back staging", exact: true }).click();
    await until(async () => (await page.locator('.label-row[data-label="staging"] .label-target').textContent().catch(() => "")) === "v2", "rollback shown");
    l = (await rest("GET", "/prompts/support%2Ftriage/labels")).data.labels.find((x) => x.name === "staging");
    eq(l.version, 2, "staging rolled back to v2 (REST)");
    const moves = await page.locator(".moves li").count();
    assert(moves >= 4, `label history has ${moves} moves`);
    const versions = (await rest("GET", "/prompts/support%2Ftriage/versions")).data.items;
    assert(versions.find((v) => v.version === 3).labels.includes("production"), "production on v3");
  });

  await step("prompt page: restore an old version", async () => {
    await page.getByRole("tab", { name: "History" }).click();
    await page.getByRole("button", { name: "Restore version 1", exact: true }).click();
    await confirmDialog(page, "Restore");
    await until(async () => (await rest("GET", "/prompts/support%2Ftriage")).data.version === 4, "v4 written");
    eq((await rest("GET", "/prompts/support%2Ftriage")).data.content, "Classify this ticket from {{customer}}:\n{{ticket}}\nAnswer in {{language}}.", "v1 content restored");
  });

  // ------------------------------------------------------------ editor
  let newDraftId = null;
  await step("editor: `n` opens it; typing autosaves a draft (id in the URL)", async () => {
    await page.goto(`${base}/#/`);
    await page.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("n");
    await page.getByRole("heading", { name: "New prompt", level: 1, exact: true }).waitFor();
    await page.locator('input[name="name"]').fill("Meeting summary");
    await page.locator('input[name="tags"]').fill("work, meetings");
    await page.locator('textarea[name="content"]').fill("Summarise {{notes}} for {{audience}}.");
    await waitDraftSaved(page);
    newDraftId = await until(() => new URL(page.url()).hash.match(/draft=([0-9a-f-]+)/)?.[1], "draft id in the hash");
    const d = await rest("GET", `/drafts/${newDraftId}`);
    eq(d.status, 200, "draft exists");
    eq(d.data.fields.name, "Meeting summary", "draft name");
    eq(d.data.fields.content, "Summarise {{notes}} for {{audience}}.", "draft content");
    eq(await page.locator(".var-edit h3").allTextContents(), ["{{notes}}", "{{audience}}"], "variables listed in the editor");
  });

  await step("editor: reloading restores the draft", async () => {
    await page.reload();
    await page.getByText("Restored your unsaved changes").waitFor();
    eq(await page.locator('input[name="name"]').inputValue(), "Meeting summary", "name restored");
    eq(await page.locator('textarea[name="content"]').inputValue(), "Summarise {{notes}} for {{audience}}.", "content restored");
    eq(await page.locator('input[name="tags"]').inputValue(), "work, meetings", "tags restored");
  });

  await step("editor: closing the tab and coming back restores the draft", async () => {
    await page.locator('input[name="name"]').fill("Meeting summary (weekly)");
    const url = page.url();
    const before = await page.locator(".save-status").getAttribute("data-saved");
    await waitDraftSaved(page, before);
    const p2 = await ctx.newPage();
    await page.close();
    await p2.goto(url);
    await p2.getByText("Restored your unsaved changes").waitFor();
    eq(await p2.locator('input[name="name"]').inputValue(), "Meeting summary (weekly)", "name after reopening");
    pg = p2;
  });

  await step("editor: a validation error shows next to its field", async () => {
    await pg.locator('input[name="slug"]').fill("Not A Slug!");
    await pg.getByRole("button", { name: "Save prompt", exact: true }).click();
    const slugErr = pg.locator('.field[data-field="slug"] .field-error');
    await slugErr.waitFor();
    eq(await pg.locator('input[name="slug"]').getAttribute("aria-invalid"), "true", "slug aria-invalid");
    await pg.locator('input[name="slug"]').fill("");
    await pg.locator('input[name="name"]').fill("");
    await pg.getByRole("button", { name: "Save prompt", exact: true }).click();
    const nameErr = pg.locator('.field[data-field="name"] .field-error');
    await until(async () => (await nameErr.isVisible()) && /empty/.test(await nameErr.textContent()), "name error next to the name field");
    eq(await pg.locator('input[name="name"]').getAttribute("aria-invalid"), "true", "name aria-invalid");
    assert((await pg.locator('input[name="name"]').getAttribute("aria-describedby")).includes(await nameErr.getAttribute("id")), "error described-by");
    eq((await rest("GET", "/prompts/meeting-summary-weekly")).status, 404, "nothing saved");
  });

  await step("editor: save a new prompt; its draft is deleted", async () => {
    await pg.locator('input[name="name"]').fill("Meeting summary");
    await pg.getByRole("button", { name: "Save prompt", exact: true }).click();
    await pg.getByRole("heading", { name: "Meeting summary", level: 1, exact: true }).waitFor();
    const r = await rest("GET", "/prompts/meeting-summary");
    eq(r.status, 200, "saved");
    eq(r.data.tags, ["work", "meetings"], "tags saved");
    eq(r.data.variables.map((v) => v.name), ["notes", "audience"], "variables saved");
    eq((await rest("GET", `/drafts/${newDraftId}`)).status, 404, "draft deleted after saving");
  });

  await step("editor: discard a draft from the editor", async () => {
    await pg.goto(`${base}/#/prompts/code-review/edit`);
    await pg.getByRole("heading", { name: "Edit “Code review”" }).waitFor();
    await pg.locator('textarea[name="content"]').fill("Review this code carefully:\n{{code}}");
    await waitDraftSaved(pg);
    const id = new URL(pg.url()).hash.match(/draft=([0-9a-f-]+)/)[1];
    await pg.getByRole("button", { name: "Discard draft", exact: true }).click();
    await confirmDialog(pg, "Discard");
    await pg.getByRole("heading", { name: "Code review", level: 1, exact: true }).waitFor();
    eq((await rest("GET", `/drafts/${id}`)).status, 404, "draft discarded");
    eq((await rest("GET", "/prompts/code-review")).data.version, 1, "prompt unchanged");
  });

  await step("editor: a change made elsewhere shows a warning; save writes a new version", async () => {
    await pg.goto(`${base}/#/prompts/writing%2Ftone-check/edit`);
    await pg.getByRole("heading", { name: "Edit “Tone check”" }).waitFor();
    await pg.locator('textarea[name="content"]').fill("Is this friendly and clear? {{text}}");
    await waitDraftSaved(pg);
    eq((await rest("PATCH", "/prompts/writing%2Ftone-check", { description: "Changed through the API", commit_message: "elsewhere" })).data.version, 2, "API edit → v2");
    await pg.reload();
    await pg.getByRole("heading", { name: "This prompt changed elsewhere" }).waitFor();
    assert(/version 1; it is now at version 2/.test(await pg.locator(".notice-warn").textContent()), "warning names the versions");
    await pg.getByRole("button", { name: "See what changed", exact: true }).click();
    await pg.locator(".notice-warn table").getByText("Changed through the API").waitFor();
    // Saving without deciding is refused
    await pg.getByRole("button", { name: "Save new version", exact: true }).click();
    await pg.getByText("review the changes made elsewhere first").waitFor();
    eq((await rest("GET", "/prompts/writing%2Ftone-check")).data.version, 2, "not saved over the other change");
    await pg.getByRole("button", { name: "Keep my changes", exact: true }).click();
    await pg.locator('input[name="commit_message"]').fill("Clearer");
    await pg.getByRole("button", { name: "Save new version", exact: true }).click();
    await pg.getByRole("heading", { name: "Tone check", level: 1, exact: true }).waitFor();
    const r = await rest("GET", "/prompts/writing%2Ftone-check");
    eq(r.data.version, 3, "new version");
    eq(r.data.content, "Is this friendly and clear? {{text}}", "content saved");
    eq(r.data.commit_message, "Clearer", "commit message");
    eq((await rest("GET", "/drafts")).data.drafts.filter((d) => d.prompt_slug === "writing/tone-check").length, 0, "draft gone");
  });

  await step("editor: the warning also appears without a reload, on save", async () => {
    await pg.goto(`${base}/#/prompts/support%2Fbilling%2Frefunds/edit`);
    await pg.getByRole("heading", { name: "Edit “Refund reply”" }).waitFor();
    await pg.locator('input[name="tags"]').fill("support, billing, money");
    await rest("PATCH", "/prompts/support%2Fbilling%2Frefunds", { content: "Reply kindly to {{customer}} about their refund." });
    await pg.getByRole("button", { name: "Save new version", exact: true }).click();
    await pg.getByRole("heading", { name: "This prompt changed elsewhere" }).waitFor();
    await pg.getByRole("button", { name: "Discard mine, load theirs", exact: true }).click();
    await until(async () => (await pg.locator('textarea[name="content"]').inputValue()) === "Reply kindly to {{customer}} about their refund.", "their version loaded");
  });

  await step("editor: chat prompts edit their messages", async () => {
    await pg.goto(`${base}/#/prompts/assistant/edit`);
    await pg.getByRole("heading", { name: "Edit “Friendly assistant”" }).waitFor();
    eq(await pg.locator(".message-edit select").evaluateAll((s) => s.map((x) => x.value)), ["system", "user"], "roles in the editor");
    await pg.getByLabel("Message 2 text").fill("Hi there! {{question}}");
    await pg.getByRole("button", { name: "Save new version", exact: true }).click();
    await pg.getByRole("heading", { name: "Friendly assistant", level: 1, exact: true }).waitFor();
    const r = await rest("GET", "/prompts/assistant");
    eq(r.data.messages[1].content, "Hi there! {{question}}", "message saved");
    eq(r.data.version, 2, "chat v2");
  });

  // ------------------------------------------------------------ drafts
  await step("drafts page: list, open, discard", async () => {
    await pg.goto(`${base}/#/new`);
    await pg.locator('input[name="name"]').fill("Half-written idea");
    await waitDraftSaved(pg);
    const id = new URL(pg.url()).hash.match(/draft=([0-9a-f-]+)/)[1];
    await pg.getByRole("link", { name: /^Drafts/ }).click();
    await pg.getByRole("heading", { name: "Drafts", level: 1, exact: true }).waitFor();
    const row = pg.locator(`.prompt-item[data-draft="${id}"]`);
    await row.waitFor();
    assert((await row.textContent()).includes("Half-written idea"), "draft listed");
    await row.getByRole("link", { name: "Open draft Half-written idea" }).click();
    await until(async () => (await pg.locator('input[name="name"]').inputValue().catch(() => "")) === "Half-written idea", "opened in the editor");
    await pg.getByRole("link", { name: /^Drafts/ }).click();
    await pg.getByRole("button", { name: "Discard draft Half-written idea", exact: true }).click();
    await confirmDialog(pg, "Discard");
    await row.waitFor({ state: "detached" });
    eq((await rest("GET", `/drafts/${id}`)).status, 404, "draft deleted");
  });

  // ------------------------------------------------------------ harvest review
  await step("review: upload a transcript; add one to a similar prompt, edit and save one, dismiss one", async () => {
    const FIX = path.join(REPO, "promptdb-core/tests/fixtures/harvest");
    eq((await rest("POST", "/prompts", { prompts: [{ slug: "haiku-classic", name: "Classic haiku",
      content: "Write a haiku about {{topic}}. Keep the traditional 5-7-5 syllable count." }] })).status, 201, "seed");
    await pg.goto(`${base}/#/review`);
    await pg.getByRole("heading", { name: "Review", level: 1, exact: true }).waitFor();
    await pg.getByRole("heading", { name: "Nothing to review" }).waitFor();
    // Nothing chosen: the form says so next to the field.
    await pg.getByRole("button", { name: "Find prompts", exact: true }).click();
    await pg.getByText("Choose a transcript file first.").waitFor();
    // A file whose name says nothing: the format is asked for; a file with none of the user's
    // messages in it says so.
    const odd = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "promptdb-harvest-")), "notes.bin");
    tmpDirs.push(path.dirname(odd));
    fs.writeFileSync(odd, "Just some notes, no chat in here.\n");
    await pg.locator("#harvest-file").setInputFiles(odd);
    await pg.getByRole("button", { name: "Find prompts", exact: true }).click();
    await pg.getByText(/choose its format/).waitFor();
    await pg.getByLabel("Format", { exact: true }).selectOption("text");
    await pg.getByRole("button", { name: "Find prompts", exact: true }).click();
    await pg.getByText(/Found none of your messages in notes.bin/).waitFor();
    await pg.getByLabel("Format", { exact: true }).selectOption("");
    await pg.locator("#harvest-file").setInputFiles(path.join(FIX, "chatgpt/conversations.json"));
    await pg.getByRole("button", { name: "Find prompts", exact: true }).click();
    await until(async () => /Read \d+ of your messages \(chatgpt\): [1-9]\d* new prompts? to review/.test(await pg.locator(".notice").textContent().catch(() => "")), "upload report");
    const items = pg.locator(".candidate");
    await until(async () => (await items.count()) >= 2, "candidates listed");
    // The haiku resembles the saved prompt: add it as that prompt's next version.
    const haiku = pg.locator(".candidate", { hasText: "Write a haiku about" });
    assert((await haiku.textContent()).includes("Classic haiku"), "the similar prompt is named");
    await haiku.getByRole("button", { name: "Add to haiku-classic", exact: true }).click();
    await haiku.waitFor({ state: "detached" });
    const classic = (await rest("GET", "/prompts/haiku-classic")).data;
    eq(classic.version, 2, "a new version of the similar prompt");
    assert(classic.content.includes("avoid cliches"), `harvested text saved: ${classic.content}`);
    // Edit before saving: another name and slug.
    const editor = pg.locator(".candidate", { hasText: "technical editor" });
    await editor.getByRole("button", { name: "Edit…", exact: true }).click();
    const form = editor.locator("form.candidate-edit");
    await form.getByLabel("Name", { exact: true }).fill("Technical editor");
    await form.getByLabel("Slug", { exact: true }).fill("writing/tech-editor");
    await form.getByRole("button", { name: "Save as new prompt", exact: true }).click();
    await editor.waitFor({ state: "detached" });
    const saved = (await rest("GET", "/prompts/writing%2Ftech-editor")).data;
    eq(saved.name, "Technical editor", "edited name saved");
    // One whose slug is taken: the error shows on the card; then dismiss it.
    eq((await rest("POST", "/candidates", { candidates: [{ name: "Classic haiku", slug: "haiku-classic", content: "A different poem about {{topic}}" }] })).status, 201, "queued");
    await pg.reload();
    const taken = pg.locator(".candidate", { hasText: "A different poem" });
    await taken.getByRole("button", { name: "Save", exact: true }).click();
    await taken.locator(".field-error").waitFor();
    assert(/slug/.test(await taken.locator(".field-error").textContent()), "the error names the slug");
    await taken.getByRole("button", { name: "Dismiss", exact: true }).click();
    await confirmDialog(pg, "Dismiss");
    await taken.waitFor({ state: "detached" });
    const left = (await rest("GET", "/candidates")).data;
    assert(left.candidates.every((c) => !c.content.includes("A different poem")), "dismissed");
    // The same export again brings back nothing already reviewed.
    await pg.locator("#harvest-file").setInputFiles(path.join(FIX, "chatgpt/conversations.json"));
    await pg.getByRole("button", { name: "Find prompts", exact: true }).click();
    await until(async () => /0 new prompts to review/.test(await pg.locator(".notice").textContent().catch(() => "")), "second upload report");
    assert(/[1-9]\d* reviewed before/.test(await pg.locator(".notice").textContent()), "reviewed ones skipped");
  });

  // ------------------------------------------------------------ import and export
  await step("import: an export file and Markdown files (Claude Code commands)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptdb-import-"));
    tmpDirs.push(dir);
    const exp = { format: "promptdb-export", version: 2, exported_at: new Date().toISOString(), user: { id: "x", display_name: "x", created_at: new Date().toISOString() }, drafts: [], preferences: {},
      prompts: [
        { id: "a", slug: "imported/haiku", name: "Haiku", description: "Seventeen syllables", content: "A haiku about {{topic}}", tags: ["poetry"], variables: [{ name: "topic", description: "", required: true }], pinned: false, favorite: true, usage_count: 0, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", version: 1, versions: [] },
        { id: "b", slug: "code-review", name: "Code review (old copy)", description: "", content: "x", tags: [], variables: [], pinned: false, favorite: false, usage_count: 0, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", version: 1, versions: [] },
      ] };
    fs.writeFileSync(path.join(dir, "export.json"), JSON.stringify(exp));
    fs.writeFileSync(path.join(dir, "release-notes.md"), "---\nname: Release notes\ndescription: Write release notes\ntags: [docs, release]\n---\nWrite release notes for {{version}}.\n");
    fs.writeFileSync(path.join(dir, "fix-issue.md"), "---\ndescription: Fix a GitHub issue\nargument-hint: issue number\nallowed-tools: Bash\n---\nFix issue $ARGUMENTS and keep {{this}} literal.\n");
    await pg.goto(`${base}/#/import`);
    await pg.getByRole("heading", { name: "Import & export", level: 1, exact: true }).waitFor();
    await pg.locator("#import-files").setInputFiles([path.join(dir, "export.json"), path.join(dir, "release-notes.md"), path.join(dir, "fix-issue.md")]);
    await pg.getByRole("button", { name: "Import 4 prompts", exact: true }).click();
    const report = pg.locator("#import-report");
    await report.waitFor();
    assert(/Imported 3, skipped 1/.test(await report.textContent()), `report: ${await report.textContent()}`);
    assert((await report.textContent()).includes("code-review"), "skipped slug named");
    const haiku = await rest("GET", "/prompts/imported%2Fhaiku");
    eq([haiku.status, haiku.data.favorite], [200, true], "export prompt imported");
    const fix = (await rest("GET", "/prompts/fix-issue")).data;
    eq(fix.content, "Fix issue {{arguments}} and keep \\{{this}} literal.\n", "Claude Code command content");
    eq(fix.variables, [{ name: "arguments", description: "issue number", required: false }], "arguments variable");
    eq(fix.description, "Fix a GitHub issue", "command description");
    const notes2 = (await rest("GET", "/prompts/release-notes")).data;
    eq([notes2.name, notes2.tags], ["Release notes", ["docs", "release"]], "Markdown front matter");
    eq((await rest("GET", "/prompts/code-review")).data.name, "Code review", "existing prompt not overwritten");
  });

  await step("import: a folder of commands keeps subfolders in the slug", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptdb-cmds-"));
    tmpDirs.push(dir);
    fs.mkdirSync(path.join(dir, "commands/frontend"), { recursive: true });
    fs.writeFileSync(path.join(dir, "commands/frontend/lint.md"), "Lint the $ARGUMENTS files.\n");
    await pg.locator("#import-folder").setInputFiles(path.join(dir, "commands"));
    await pg.getByRole("button", { name: "Import 1 prompt", exact: true }).click();
    await until(async () => /Imported 1, skipped 0/.test(await pg.locator("#import-report").textContent().catch(() => "")), "folder import report");
    eq((await rest("GET", "/prompts/frontend-lint")).status, 200, "frontend/lint.md → frontend-lint, as promptdb import names it");
  });

  await step("export: downloads everything as a JSON file", async () => {
    const [download] = await Promise.all([pg.waitForEvent("download"), pg.locator("#export-link").click()]);
    assert(/^promptdb-export-[0-9-]+\.json$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
    const file = await download.path();
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    eq(doc.format, "promptdb-export", "format");
    const count = (await rest("GET", "/export")).data.prompts.length;
    eq(doc.prompts.length, count, "every prompt exported");
    assert(doc.prompts.find((p) => p.slug === "support/triage").versions.length === 4, "history exported");
  });

  // ------------------------------------------------------------ API keys
  await step("API keys: create (secret shown once, copy), use, revoke", async () => {
    await pg.goto(`${base}/#/keys`);
    await pg.getByRole("heading", { name: "API keys", level: 1, exact: true }).waitFor();
    await pg.getByLabel("Name", { exact: true }).fill("ci bot");
    await pg.getByLabel("Write", { exact: true }).uncheck();
    await pg.getByRole("button", { name: "Create key", exact: true }).click();
    const secretEl = pg.locator("#new-secret");
    await secretEl.waitFor();
    const secret = await secretEl.textContent();
    assert(/^pdb_\S{20,}$/.test(secret), `secret ${secret}`);
    await pg.getByRole("button", { name: "Copy key", exact: true }).click();
    await until(async () => (await clipboard(pg)) === secret, "secret on the clipboard");
    const me = await rest("GET", "/me", undefined, secret);
    eq([me.status, me.data.scopes], [200, ["read"]], "the new key works, read-only");
    eq((await rest("POST", "/prompts", { prompts: [{ name: "nope" }] }, secret)).status, 403, "read-only key cannot write");
    const row = pg.locator("tr", { hasText: "ci bot" });
    await row.waitFor();
    assert(/never|just now|ago/.test(await row.textContent()), "last use column");
    await pg.getByRole("button", { name: "Done, I saved it", exact: true }).click();
    await secretEl.waitFor({ state: "detached" });
    await pg.reload();
    await pg.locator("tr", { hasText: "ci bot" }).waitFor();
    assert(!(await pg.content()).includes(secret), "the secret is shown again after a reload");
    await pg.getByRole("button", { name: "Revoke ci bot", exact: true }).click();
    await confirmDialog(pg, "Revoke key");
    await pg.locator("tr", { hasText: "ci bot" }).waitFor({ state: "detached" });
    eq((await rest("GET", "/me", undefined, secret)).status, 401, "revoked key refused");
  });

  // ------------------------------------------------------------ settings
  await step("settings: theme applies at once and persists across reloads", async () => {
    await pg.goto(`${base}/#/settings`);
    await pg.getByRole("heading", { name: "Settings", level: 1, exact: true }).waitFor();
    await pg.getByLabel("Dark", { exact: true }).check();
    await until(async () => (await pg.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark applied");
    await until(async () => (await rest("GET", "/preferences")).data.theme === "dark", "preference saved");
    const bg = await pg.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(bg === "rgb(18, 19, 23)", `dark background, got ${bg}`);
    // The account's preference wins over this device's memory
    await pg.evaluate(() => localStorage.clear());
    await pg.reload();
    await until(async () => (await pg.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark after reload");
    await pg.getByLabel("Light", { exact: true }).check();
    await until(async () => (await rest("GET", "/preferences")).data.theme === "light", "light saved");
    await pg.reload();
    await until(async () => (await pg.evaluate(() => document.documentElement.dataset.theme)) === "light", "light after reload");
    await pg.getByLabel("Same as the system").check();
    await until(async () => (await rest("GET", "/preferences")).data.theme === "system", "system saved");
    eq(await pg.evaluate(() => document.documentElement.dataset.theme || "system"), "system", "system applied");
  });

  // ------------------------------------------------------------ keyboard
  await step("keyboard: / focuses search, ? lists shortcuts, Esc closes, e edits, Esc leaves the editor", async () => {
    await pg.goto(`${base}/#/prompts/code-review`);
    await pg.getByRole("heading", { name: "Code review", level: 1, exact: true }).waitFor();
    await pg.keyboard.press("/");
    await until(async () => (await pg.evaluate(() => document.activeElement && document.activeElement.id)) === "search", "search focused from another page");
    await pg.keyboard.type("daily");
    await waitItems(pg, (s) => s.length > 0 && s.every((x) => x.startsWith("daily-note")), "typed search");
    await pg.keyboard.press("Escape");
    await waitItems(pg, (s) => s.length === 20, "Esc cleared");
    await pg.keyboard.press("Escape"); // leaves the search box
    await pg.keyboard.press("?");
    const dlg = pg.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dlg.waitFor();
    assert(/New prompt/.test(await dlg.textContent()), "shortcuts listed");
    await pg.keyboard.press("Escape");
    await dlg.waitFor({ state: "detached" });
    await pg.goto(`${base}/#/prompts/code-review`);
    await pg.getByRole("heading", { name: "Code review", level: 1, exact: true }).waitFor();
    await pg.keyboard.press("e");
    await pg.getByRole("heading", { name: "Edit “Code review”" }).waitFor();
    await pg.keyboard.press("Escape"); // out of the name field
    await pg.keyboard.press("Escape"); // cancel
    await pg.getByRole("heading", { name: "Code review", level: 1, exact: true }).waitFor();
  });

  await step("fast navigation: a late answer for a page already left does not show on the next", async () => {
    // A missing prompt's page (404) and its editor (an error), each left for another page before
    // the server's answer, held back here, arrives: the late "Prompt not found" or error notice
    // must not land on the page the user went to.
    const missing = "no-such-prompt";
    const apiPath = `/api/v1/prompts/${missing}`;
    const cases = [
      { from: `#/prompts/${missing}`, to: "#/", title: "Library", answer: null },
      { from: `#/prompts/${missing}/edit`, to: "#/drafts", title: "Drafts",
        answer: { status: 429, headers: { "Retry-After": "7" }, contentType: "application/json", body: JSON.stringify({ error: { code: "rate_limited", message: "Too many requests" } }) } },
    ];
    for (const c of cases) {
      await pg.goto(`${base}/#/settings`);
      await pg.getByRole("heading", { name: "Settings", level: 1, exact: true }).waitFor();
      let release;
      const held = new Promise((r) => { release = r; });
      const asked = [];
      const ended = [];
      let handled = false;
      const matcher = (u) => u.pathname === apiPath;
      const handler = async (route) => {
        asked.push(route.request().url());
        await held;
        // The app may have cancelled the request meanwhile: then there is nothing to answer.
        try { await (c.answer ? route.fulfill(c.answer) : route.continue()); } catch { /* cancelled */ }
        handled = true;
      };
      const onEnd = (failed) => (r) => { if (new URL(r.url()).pathname === apiPath) ended.push(failed ? `failed: ${r.failure() && r.failure().errorText}` : "answered"); };
      const onFinished = onEnd(false);
      const onFailed = onEnd(true);
      await pg.route(matcher, handler);
      pg.on("requestfinished", onFinished);
      pg.on("requestfailed", onFailed);
      try {
        await pg.evaluate((h) => { location.hash = h; }, c.from);
        await until(() => asked.length > 0, `the page ${c.from} to ask for the missing prompt`);
        await pg.evaluate((h) => { location.hash = h; }, c.to);
        await pg.getByRole("heading", { name: c.title, level: 1, exact: true }).waitFor();
        if (c.to === "#/") await waitItems(pg, (s) => s.length === 20, "the library's list");
        release();
        await until(() => handled && ended.length > 0, "the held-back request to end (answered or cancelled)");
        await pg.waitForTimeout(400); // time for a late render to (wrongly) write
        eq(await pg.locator("#app h1").allTextContents(), [c.title], `the headings after ${c.from} → ${c.to}`);
        eq(await pg.getByText("Prompt not found").count(), 0, `"Prompt not found" on ${c.to}`);
        eq(await pg.locator("#app .notice-error").count(), 0, `an error notice on ${c.to}`);
        eq(await pg.locator("#toasts .toast-error").count(), 0, `an error toast on ${c.to}`);
        eq(new URL(pg.url()).hash, c.to, "the address");
        eq(await pg.title(), `${c.title} · PromptDB`, "the document title");
        // Leaving a page cancels the requests it was loading.
        assert(ended[0].startsWith("failed"), `the request of ${c.from} was not cancelled on leaving: ${ended[0]}`);
      } finally {
        release();
        pg.off("requestfinished", onFinished);
        pg.off("requestfailed", onFailed);
        await pg.unroute(matcher, handler);
      }
    }
  });

  await step("focus is visible on keyboard focus", async () => {
    await pg.goto(`${base}/#/`);
    await pg.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
    await pg.keyboard.press("Tab");
    await pg.keyboard.press("Tab");
    const outline = await pg.evaluate(() => { const s = getComputedStyle(document.activeElement); return `${s.outlineStyle} ${s.outlineWidth}`; });
    assert(/solid 3px/.test(outline), `focus outline: ${outline}`);
  });

  // ------------------------------------------------------------ screenshots
  await step("screenshots of the main pages, light and dark, and the phone width", async () => {
    const shots = [
      ["library", "#/", async (p) => { await waitItems(p, (s) => s.length === 20, "library"); }],
      ["prompt", "#/prompts/support%2Ftriage", async (p) => {
        await p.locator('textarea[name="customer"]').fill("ACME");
        await p.locator('textarea[name="ticket"]').fill("The printer is on fire");
        await p.locator("#preview pre").waitFor();
      }],
      ["prompt-history", "#/prompts/support%2Ftriage?tab=history", async (p) => { await p.locator("#diff .diff-line").first().waitFor(); }],
      ["prompt-releases", "#/prompts/support%2Ftriage?tab=releases", async (p) => { await p.locator(".moves li").first().waitFor(); }],
      ["editor", "#/prompts/support%2Ftriage/edit", async (p) => { await p.locator('input[name="name"]').waitFor(); await p.locator('input[name="name"]').blur(); }],
      ["settings", "#/settings", async (p) => { await p.getByRole("heading", { name: "Settings", level: 1, exact: true }).waitFor(); }],
      ["review", "#/review", async (p) => { await p.locator(".candidate").first().waitFor(); }],
    ];
    // Something to review in the screenshots, as a harvest leaves it.
    eq((await rest("POST", "/candidates", { origin: "claude-code", source: "~/.claude/projects", candidates: [
      { name: "Review Rust code for lifetime bugs", content: "Review this Rust code for lifetime bugs and explain each one:\n{{code}}",
        reason: "Used in 4 sessions; opens with an instruction; 1 part that changes from use to use.", score: 0.85, occurrences: 5, sessions: 4,
        excerpt: "Review this Rust code for lifetime bugs and explain each one:\nfn longest<'a>(x: &'a str, y: &str) -> &'a str { … }" },
      { name: "Triage a support ticket", content: "Triage this ticket for {{customer}}: say what is broken, how urgent it is, and who should own it.\n{{ticket}}",
        reason: "Used in 2 sessions; 2 parts that change from use to use.", score: 0.75, occurrences: 2, sessions: 2 },
    ] })).status, 201, "candidates for the screenshots");
    for (const scheme of ["light", "dark"]) {
      await pg.emulateMedia({ colorScheme: scheme });
      for (const [name, hash, ready] of shots) {
        await pg.goto(`${base}/${hash}`);
        await ready(pg);
        await shot(pg, `${name}-${scheme}`);
      }
    }
    // The editor leaves no draft behind when nothing was typed
    eq((await rest("GET", "/drafts")).data.drafts.length, 0, "no stray drafts");
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 360, height: 780 });
    for (const scheme of ["light", "dark"]) {
      await phone.emulateMedia({ colorScheme: scheme });
      await phone.goto(`${base}/#/`);
      await waitItems(phone, (s) => s.length === 20, "phone library");
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the library scrolls sideways at 360 px by ${overflow} px`);
      await shot(phone, `library-phone-${scheme}`);
    }
    await phone.getByRole("button", { name: "Menu", exact: true }).click();
    await phone.getByRole("link", { name: "Settings" }).click();
    await phone.getByRole("heading", { name: "Settings", level: 1, exact: true }).waitFor();
    for (const hash of ["#/prompts/support%2Ftriage", "#/prompts/support%2Ftriage/edit", "#/keys", "#/import", "#/review"]) {
      await phone.goto(`${base}/${hash}`);
      await phone.locator(".page-title").waitFor();
      await phone.waitForTimeout(300);
      const o = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(o <= 0, `${hash} scrolls sideways at 360 px by ${o} px`);
    }
    await phone.close();
    await pg.emulateMedia({ colorScheme: "light" });
  });

  // ------------------------------------------------------------ accessibility
  await step("axe-core: no serious or critical violations on any page, light and dark", async () => {
    const actx = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    await actx.request.post(`${base}/auth/key`, { data: { api_key: key } });
    const ap = await actx.newPage();
    const pages = [
      ["library", "#/", (p) => waitItems(p, (s) => s.length === 20, "library")],
      ["library without results", "#/?q=zzqqxx", (p) => p.getByRole("heading", { name: "Nothing matches" }).waitFor()],
      ["prompt", "#/prompts/support%2Ftriage", (p) => p.locator("#preview").waitFor()],
      ["prompt history", "#/prompts/support%2Ftriage?tab=history", (p) => p.locator("#diff .diff-line").first().waitFor()],
      ["prompt releases", "#/prompts/support%2Ftriage?tab=releases", (p) => p.locator(".moves li").first().waitFor()],
      ["chat prompt", "#/prompts/assistant", (p) => p.locator(".message").first().waitFor()],
      ["editor (new)", "#/new", (p) => p.locator('input[name="name"]').waitFor()],
      ["editor (edit)", "#/prompts/assistant/edit", (p) => p.locator(".message-edit").first().waitFor()],
      ["drafts", "#/drafts", (p) => p.locator(".empty, .prompt-item").first().waitFor()],
      ["import", "#/import", (p) => p.locator(".dropzone").waitFor()],
      ["API keys", "#/keys", (p) => p.locator("table").waitFor()],
      ["settings", "#/settings", (p) => p.locator(".theme-choice").waitFor()],
      ["review", "#/review", (p) => p.locator(".candidate, .empty").first().waitFor()],
    ];
    let scanned = 0;
    for (const scheme of ["light", "dark"]) {
      await ap.emulateMedia({ colorScheme: scheme });
      for (const [label, hash, ready] of pages) {
        await ap.goto(`${base}/${hash}`);
        await ready(ap);
        await ap.waitForTimeout(250);
        await axeScan(ap, `${label} (${scheme})`);
        scanned++;
      }
      // A validation error on screen, and a dialog
      await ap.goto(`${base}/#/new`);
      await ap.getByRole("button", { name: "Save prompt", exact: true }).click();
      await ap.locator('.field[data-field="name"] .field-error').waitFor();
      await axeScan(ap, `editor with an error (${scheme})`);
      await ap.goto(`${base}/#/`);
      await waitItems(ap, (s) => s.length === 20, "library");
      await ap.locator("body").click({ position: { x: 5, y: 300 } });
      await ap.keyboard.press("?");
      await ap.getByRole("dialog").waitFor();
      await axeScan(ap, `shortcuts dialog (${scheme})`);
      await ap.keyboard.press("Escape");
      scanned += 2;
    }
    // Signed out
    const sctx = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    const sp = await sctx.newPage();
    for (const scheme of ["light", "dark"]) {
      await sp.emulateMedia({ colorScheme: scheme });
      await sp.goto(`${base}/`);
      await sp.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
      await axeScan(sp, `sign-in (${scheme})`);
      scanned++;
    }
    await sctx.close();
    await actx.close();
    console.log(`   axe scanned ${scanned} page states`);
  });

  // ------------------------------------------------------------ performance
  await step("first load of the library: bytes transferred, requests, layout shift", async () => {
    const fctx = await browser.newContext({ viewport: DESKTOP });
    await fctx.request.post(`${base}/auth/key`, { data: { api_key: key } });
    await fctx.addInitScript(() => {
      window.__cls = 0;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; })
        .observe({ type: "layout-shift", buffered: true });
    });
    const fp = await fctx.newPage();
    const cdp = await fctx.newCDPSession(fp);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    let bytes = 0;
    let requests = 0;
    const byType = {};
    const urls = new Map();
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.loadingFinished", (e) => {
      bytes += e.encodedDataLength;
      requests++;
      const u = urls.get(e.requestId) || "";
      const kind = /\/api\/|\/auth\//.test(u) ? "api" : /\.js$/.test(u) ? "js" : /\.css$/.test(u) ? "css" : "other";
      byType[kind] = (byType[kind] || 0) + e.encodedDataLength;
    });
    await fp.goto(`${base}/`);
    await waitItems(fp, (s) => s.length === 20, "first load");
    await fp.waitForLoadState("networkidle");
    const cls = await fp.evaluate(() => window.__cls);
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log(`   first load: ${kb(bytes)} in ${requests} requests (js ${kb(byType.js || 0)}, css ${kb(byType.css || 0)}, api ${kb(byType.api || 0)}, other ${kb(byType.other || 0)}); layout shift ${cls.toFixed(4)}`);
    if (process.env.PROMPTDB_WEB_DIR) {
      const zlib = await import("node:zlib");
      const dir = path.resolve(process.env.PROMPTDB_WEB_DIR);
      let gz = 0;
      for (const f of fs.readdirSync(dir, { recursive: true })) {
        const full = path.join(dir, f);
        if (fs.statSync(full).isFile()) gz += zlib.gzipSync(fs.readFileSync(full), { level: 9 }).length;
      }
      console.log(`   (PROMPTDB_WEB_DIR serves files uncompressed; every file of the app gzipped adds up to ${kb(gz)})`);
    }
    assert(bytes <= FIRST_LOAD_BUDGET, `first load ${kb(bytes)} is over the ${kb(FIRST_LOAD_BUDGET)} budget`);
    assert(cls < 0.1, `cumulative layout shift ${cls}`);
    await fctx.close();
  });

  // ------------------------------------------------------------ a second library
  await step("a second server's library shows none of the first one's prompts", async () => {
    const s2 = await startServer("other");
    const octx = await browser.newContext({ viewport: DESKTOP });
    await watch(octx);
    const op = await octx.newPage();
    await op.goto(s2.link);
    await op.getByRole("heading", { name: "Your library is empty" }).waitFor();
    eq((await items(op)).length, 0, "no prompts");
    const other = restClient(s2.base, s2.key);
    eq((await other("GET", "/prompts/support%2Ftriage")).status, 404, "the first library's prompt is unknown there");
    eq((await other("GET", "/me", undefined, key)).status, 401, "the first server's key is refused");
    // The one-time link of `promptdb open --print` works too
    await octx.clearCookies();
    await op.goto(freshLink(s2.dir, s2.base));
    await op.getByRole("heading", { name: "Library", level: 1, exact: true }).waitFor();
    await octx.close();
    s2.child.kill("SIGTERM");
  });

  // ------------------------------------------------------------ account deletion (last)
  await step("account deletion needs the typed phrase, then everything is gone", async () => {
    await pg.goto(`${base}/#/settings`);
    await pg.getByRole("heading", { name: "Settings", level: 1, exact: true }).waitFor();
    const input = pg.getByLabel("Type delete my account to confirm");
    const btn = pg.getByRole("button", { name: "Delete my account", exact: true });
    await input.fill("delete my acount");
    assert(await btn.isDisabled(), "enabled with a typo");
    await input.fill("delete my account");
    assert(await btn.isEnabled(), "disabled with the phrase");
    await btn.click();
    await pg.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
    await pg.getByText("Your account and everything in it were deleted.").waitFor();
    eq((await rest("GET", "/me")).status, 401, "the key died with the account");
    eq(await pg.evaluate(async () => (await fetch("/auth/session")).status), 401, "session gone");
  });

  // ------------------------------------------------------------ two users of one server (OIDC)
  // A real OpenID provider and a server in OIDC mode; two browsers, one user each.
  let oidc = null;
  const offsite = [];
  let actx = null;
  let bctx = null;
  let pa = null;
  let pb = null;
  const plan = { name: "Launch plan", slug: "plans/launch" };
  const planPath = `/prompts/${encodeURIComponent(plan.slug)}`;
  const aContent = "Alice's plan for {{codename}}: zebra-alpha.";
  const bContent = "Bob's plan for {{codename}}: yak-bravo.";

  await step("OIDC: a provider and a server in OIDC mode start on free ports", async () => {
    oidc = await startOidcServer();
    const tail = (text) => text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").slice(-25).join("\n    ");
    failureNotes.push(() => `  OIDC-mode server log (last lines):\n    ${tail(oidc.server.err)}\n  provider log (last lines):\n    ${tail(oidc.provider.err)}`);
    console.log(`   provider at ${oidc.issuer}, server at ${oidc.base}`);
    const res = await fetch(`${oidc.base}/auth/login?return_to=%2F`, { redirect: "manual" });
    eq(res.status, 303, "GET /auth/login");
    assert((res.headers.get("location") || "").startsWith(`${oidc.issuer}/auth?`), `/auth/login sends to ${res.headers.get("location")}`);
    const meta = await (await fetch(`${oidc.base}/.well-known/oauth-protected-resource`)).json();
    eq(meta.authorization_servers, [oidc.issuer], "the protected resource names the provider");
    eq((await fetch(`${oidc.base}/api/v1/prompts`)).status, 401, "no data without signing in");
  });

  await step("OIDC: the sign-in page offers single sign-on", async () => {
    actx = await userContext(offsite);
    pa = await actx.newPage();
    const logins = [];
    const onRequest = (r) => { if (new URL(r.url()).pathname === "/auth/login") logins.push(r.url()); };
    pa.on("request", onRequest);
    await pa.goto(`${oidc.base}/`);
    await pa.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
    const sso = pa.getByRole("link", { name: "Sign in with single sign-on", exact: true });
    await sso.waitFor();
    pa.off("request", onRequest);
    eq(await sso.getAttribute("href"), "/auth/login?return_to=%2F", "the single sign-on link");
    await pa.getByRole("heading", { name: "With your organisation's account" }).waitFor();
    assert(await pa.getByLabel("API key", { exact: true }).isVisible(), "no API key form in OIDC mode");
    // GET /auth/methods says which ways in there are; the page asks it instead of probing /auth/login.
    const methods = await fetch(`${oidc.base}/auth/methods`);
    eq(methods.status, 200, "GET /auth/methods");
    const m = await methods.json();
    eq({ link: m.link, api_key: m.api_key, oidc: m.oidc, login_url: m.login_url }, { link: false, api_key: true, oidc: true, login_url: "/auth/login" }, "GET /auth/methods in OIDC mode");
    eq(await pa.getByText("promptdb open", { exact: true }).count(), 0, "the promptdb open hint in OIDC mode");
    eq(logins, [], "requests to /auth/login before the button was clicked (the old probe)");
    // Sign-in links sign in as the local user, which a server with a provider does not have.
    eq((await fetch(`${oidc.base}/auth/link?token=x`, { redirect: "manual" })).status, 404, "GET /auth/link in OIDC mode");
    await shot(pa, "signin-sso-light");
    // The card shown only in OIDC mode passes axe too (axe needs the CSP bypassed to load).
    const xctx = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    const xp = await xctx.newPage();
    for (const scheme of ["light", "dark"]) {
      await xp.emulateMedia({ colorScheme: scheme });
      await xp.goto(`${oidc.base}/`);
      await xp.getByRole("link", { name: "Sign in with single sign-on", exact: true }).waitFor();
      await axeScan(xp, `sign-in with single sign-on (${scheme})`);
    }
    await xctx.close();
  });

  let aliceId = null;
  await step("OIDC: user A signs in through the provider's login page", async () => {
    await signInWithSso(pa, oidc, "alice");
    await pa.getByRole("heading", { name: "Your library is empty" }).waitFor();
    const session = await pa.evaluate(async () => (await fetch("/auth/session")).json());
    eq(session.display_name, "alice", "session user");
    const cookies = await actx.cookies(oidc.base);
    const sid = cookies.find((c) => c.name === "pdb_session");
    assert(sid && sid.httpOnly && sid.sameSite === "Lax", `session cookie ${JSON.stringify(sid)}`);
    assert(!(await pa.evaluate(() => document.cookie)).includes("pdb_session"), "scripts can read the session cookie");
    const me = await pageRest(pa, "GET", "/me");
    eq(me.status, 200, "GET /me");
    aliceId = me.data.id;
    assert(aliceId, `no user id: ${JSON.stringify(me.data)}`);
  });

  await step("OIDC: user A writes a prompt in the editor and finds it in the library", async () => {
    await createInEditor(pa, oidc.base, { ...plan, content: aContent });
    await pa.goto(`${oidc.base}/#/`);
    await waitItems(pa, (s) => s.length === 1 && s[0] === plan.slug, "A's library lists the prompt");
    await pa.locator("#search").fill("zebra");
    await until(async () => (await pa.locator(".result-summary").textContent()) === "1 prompt for “zebra”", "A's search for zebra");
    eq(await items(pa), [plan.slug], "A finds it by a word of its text");
    const r = await pageRest(pa, "GET", planPath);
    eq([r.status, r.data.content, r.data.version], [200, aContent, 1], "A's prompt (REST with A's session)");
  });

  await step("OIDC: user B, in another browser, signs in to an empty library", async () => {
    bctx = await userContext(offsite);
    pb = await bctx.newPage();
    await signInWithSso(pb, oidc, "bob");
    await pb.getByRole("heading", { name: "Your library is empty" }).waitFor();
    eq((await items(pb)).length, 0, "B's library");
    const me = await pageRest(pb, "GET", "/me");
    eq(me.status, 200, "GET /me for B");
    assert(me.data.id && me.data.id !== aliceId, `B is another user: ${me.data.id} vs ${aliceId}`);
    const list = await pageRest(pb, "GET", "/prompts");
    eq([list.status, list.data.items], [200, []], "B's list (REST)");
  });

  await step("OIDC: B cannot find, open or change A's prompt", async () => {
    const search = pb.locator("#search");
    for (const q of ["launch plan", "zebra"]) {
      await search.fill(q);
      await pb.getByText(`No prompt has every word of “${q}”.`).waitFor();
      eq((await items(pb)).length, 0, `B's search for ${q}`);
      const r = await pageRest(pb, "GET", `/prompts?q=${encodeURIComponent(q)}`);
      eq([r.status, r.data.items], [200, []], `B's search for ${q} (REST)`);
    }
    await search.press("Escape");
    await pb.getByRole("heading", { name: "Your library is empty" }).waitFor();
    // A's prompt's page, its editor and its history: not found. Each page's own sentence is
    // awaited so that a heading left by the page before cannot pass for it.
    for (const [hash, sentence] of [
      [planPath, `There is no prompt “${plan.slug}” in your library.`],
      [`${planPath}/edit`, `There is no prompt “${plan.slug}” to edit.`],
      [`${planPath}?tab=history`, `There is no prompt “${plan.slug}” in your library.`],
    ]) {
      if (hash.includes("?")) {
        await pb.goto(`${oidc.base}/#/`);
        await pb.getByRole("heading", { name: "Your library is empty" }).waitFor();
      }
      await pb.goto(`${oidc.base}/#${hash}`);
      await pb.getByText(sentence).waitFor();
      eq(await pb.locator("#app h1").allTextContents(), ["Prompt not found"], `the headings of #${hash}`);
      assert(!(await pb.content()).includes("zebra-alpha"), `A's text on B's page #${hash}`);
    }
    for (const [method, p, body] of [
      ["GET", planPath],
      ["GET", `${planPath}/versions`],
      ["POST", `${planPath}/render`, { variables: { codename: "x" } }],
      ["PATCH", planPath, { content: "Taken over by B" }],
      ["DELETE", planPath],
    ]) {
      const r = await pageRest(pb, method, p, body);
      eq(r.status, 404, `B's ${method} ${p}`);
      assert(!JSON.stringify(r.data).includes("zebra"), `B's ${method} ${p} shows A's text`);
    }
    const a = await pageRest(pa, "GET", planPath);
    eq([a.status, a.data.content, a.data.version], [200, aContent, 1], "A's prompt untouched by B");
  });

  await step("OIDC: B writes a prompt with the same slug; each sees only their own", async () => {
    await createInEditor(pb, oidc.base, { ...plan, content: bContent });
    assert(/yak-bravo/.test(await pb.locator(".template").textContent()), "B's text on B's prompt page");
    await pb.goto(`${oidc.base}/#/`);
    await waitItems(pb, (s) => s.length === 1 && s[0] === plan.slug, "B's library lists B's prompt");
    const b = await pageRest(pb, "GET", planPath);
    eq([b.status, b.data.content, b.data.version], [200, bContent, 1], "B's prompt (REST)");
    // A, after a reload: one prompt, A's own version
    await pa.goto(`${oidc.base}/#/`);
    await pa.reload();
    await waitItems(pa, (s) => s.length === 1 && s[0] === plan.slug, "A's library still lists one prompt");
    await pa.locator("#search").fill("yak");
    await pa.getByText("No prompt has every word of “yak”.").waitFor();
    await pa.goto(`${oidc.base}/#${planPath}`);
    await pa.getByRole("heading", { name: plan.name, level: 1, exact: true }).waitFor();
    const text = await pa.locator(".template").textContent();
    assert(text.includes("zebra-alpha") && !text.includes("yak-bravo"), `A's prompt page shows ${JSON.stringify(text)}`);
    const a = await pageRest(pa, "GET", planPath);
    eq([a.status, a.data.content, a.data.version], [200, aContent, 1], "A's prompt (REST) after B's save");
    const aList = await pageRest(pa, "GET", "/prompts");
    eq(aList.data.items.map((p) => p.slug), [plan.slug], "A's list (REST)");
    assert(!JSON.stringify(aList.data).includes("yak-bravo"), "B's text in A's list");
  });

  await step("OIDC: both sign out; their sessions end", async () => {
    for (const [page, ctx, who] of [[pa, actx, "A"], [pb, bctx, "B"]]) {
      const sid = (await ctx.cookies(oidc.base)).find((c) => c.name === "pdb_session");
      assert(sid && sid.value, `${who} has no session cookie`);
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await page.getByRole("heading", { name: "Sign in to PromptDB" }).waitFor();
      await page.getByText("You are signed out.").waitFor();
      await page.getByRole("link", { name: "Sign in with single sign-on", exact: true }).waitFor();
      eq(await page.evaluate(async () => (await fetch("/auth/session")).status), 401, `${who}'s session after sign-out`);
      const old = await fetch(`${oidc.base}/api/v1/prompts`, { headers: { Cookie: `pdb_session=${sid.value}` } });
      eq(old.status, 401, `${who}'s old session cookie after sign-out`);
    }
    const fromPromptDb = offsite.filter((o) => { try { return new URL(o.from).origin === oidc.base; } catch { return false; } });
    eq(fromPromptDb, [], "requests to other hosts from PromptDB's pages");
    const hosts = [...new Set(offsite.map((o) => new URL(o.url).hostname))];
    assert(hosts.every((h) => /^fonts\.(googleapis|gstatic)\.com$/.test(h)), `requests to other hosts: ${hosts.join(", ")}`);
    await actx.close();
    await bctx.close();
    oidc.server.child.kill("SIGTERM");
    oidc.provider.child.kill("SIGTERM");
  });

  await browser.close();
  browser = null;
  console.log(`${passed} passed, 0 failed`);
  cleanup();
  process.exit(0);
}

main().catch((err) => die(currentStep || "setup", err));
