// Import (a PromptDB export, Markdown prompts, Claude Code commands) and export.

import { api, ApiError } from "../api.js";
import { h, icon, pageTitle, replace, toast } from "../dom.js";
import { fromExport, fromMarkdown } from "../markdown.js";
import { link } from "../router.js";

const BATCH = 100;

/** Saves prompts in batches of at most 100, skipping taken slugs; reports what happened. */
export async function importPrompts(prompts, progress = () => {}) {
  const report = { saved: [], skipped: [], failed: [] };
  let done = 0;
  for (let i = 0; i < prompts.length; i += BATCH) {
    let batch = prompts.slice(i, i + BATCH);
    const total = batch.length;
    while (batch.length) {
      try {
        const res = await api.post("/prompts", { prompts: batch });
        report.saved.push(...res.prompts.map((p) => p.slug));
        break;
      } catch (err) {
        const m = err instanceof ApiError && /^prompts\[(\d+)\]/.exec(err.field || "");
        if (!m || +m[1] >= batch.length) throw err;
        const [bad] = batch.splice(+m[1], 1);
        const who = bad.slug || bad.name;
        if (err.status === 409) report.skipped.push(who);
        else report.failed.push({ who, message: err.message.replace(/^prompts\[\d+\]\./, "") });
      }
    }
    done += total;
    progress(done, prompts.length);
  }
  return report;
}

async function readEntries(entry, path, out) {
  if (entry.isFile) {
    const file = await new Promise((res, rej) => entry.file(res, rej));
    out.push({ file, path });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const e of batch) await readEntries(e, path ? `${path}/${e.name}` : e.name, out);
    }
  }
}

export async function render({ main }) {
  document.title = "Import & export · PromptDB";
  let items = []; // {source, prompt}
  const problems = [];

  const fileInput = h("input", { id: "import-files", type: "file", multiple: true, accept: ".json,.md,.markdown,application/json,text/markdown", hidden: true });
  const dirInput = h("input", { id: "import-folder", type: "file", multiple: true, webkitdirectory: true, hidden: true });
  const keepVars = h("input", { id: "keep-vars", type: "checkbox" });
  const drop = h("div", { class: "dropzone" },
    icon("upload"),
    h("p", {}, h("strong", { text: "Drop files or a folder here" })),
    h("p", { class: "hint", text: "A PromptDB export (.json), Markdown prompts with front matter (name, description, tags), or Claude Code commands (.claude/commands/*.md)." }),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "btn", on: { click: () => fileInput.click() } }, "Choose files"),
      h("button", { type: "button", class: "btn", on: { click: () => dirInput.click() } }, "Choose a folder")),
    fileInput, dirInput);
  const preview = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });

  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    const files = [];
    const entries = [...(e.dataTransfer.items || [])].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (entries.length) for (const en of entries) await readEntries(en, en.isDirectory ? "" : en.name, files);
    else for (const f of e.dataTransfer.files) files.push({ file: f, path: f.name });
    await addFiles(files);
  });
  fileInput.addEventListener("change", () => { addFiles([...fileInput.files].map((f) => ({ file: f, path: f.name }))); fileInput.value = ""; });
  dirInput.addEventListener("change", () => {
    // Paths below the folder picked: `commands/frontend/fix.md` → `frontend/fix.md`.
    addFiles([...dirInput.files].map((f) => ({ file: f, path: (f.webkitRelativePath || f.name).split("/").slice(1).join("/") || f.name })));
    dirInput.value = "";
  });
  keepVars.addEventListener("change", () => toast("Pick the Markdown files again to apply this."));

  async function addFiles(files) {
    replace(result);
    for (const { file, path } of files) {
      const lower = file.name.toLowerCase();
      try {
        const text = await file.text();
        if (lower.endsWith(".json")) {
          let doc;
          try { doc = JSON.parse(text); } catch (e) { throw new Error(`not JSON: ${e.message}`); }
          for (const p of fromExport(doc)) items.push({ source: file.name, prompt: p });
        } else if (lower.endsWith(".md") || lower.endsWith(".markdown")) {
          items.push({ source: path, prompt: fromMarkdown(path, text, keepVars.checked) });
        } else {
          problems.push(`${path}: not a .json or .md file; left out`);
        }
      } catch (err) {
        problems.push(`${path}: ${err.message}`);
      }
    }
    showPreview();
  }

  function showPreview() {
    if (!items.length && !problems.length) { replace(preview); return; }
    const go = h("button", { class: "btn btn-primary", type: "button", disabled: !items.length, on: { click: run } }, `Import ${items.length} ${items.length === 1 ? "prompt" : "prompts"}`);
    const clear = h("button", { class: "btn", type: "button", on: { click: () => { items = []; problems.length = 0; showPreview(); } } }, "Clear");
    replace(preview,
      problems.length ? h("div", { class: "notice notice-warn", role: "alert" }, h("p", { text: "Some files cannot be imported:" }), h("ul", {}, problems.map((p) => h("li", { text: p })))) : null,
      items.length ? h("div", { class: "table-wrap import-list" }, h("table", {},
        h("caption", { class: "visually-hidden", text: "Prompts to import" }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Slug" }), h("th", { scope: "col", text: "Name" }), h("th", { scope: "col", text: "From" }))),
        h("tbody", {}, items.map((it) => h("tr", {}, h("td", {}, h("code", { text: it.prompt.slug || "(from name)" })), h("td", { text: it.prompt.name }), h("td", { class: "hint", text: it.source })))))) : null,
      h("div", { class: "actions" }, go, clear));
  }

  async function run() {
    const prompts = items.map((i) => i.prompt);
    const btns = preview.querySelectorAll("button");
    btns.forEach((b) => { b.disabled = true; });
    const progress = h("progress", { max: String(prompts.length), value: "0", "aria-label": "Import progress" });
    replace(result, progress);
    try {
      const r = await importPrompts(prompts, (done) => { progress.value = done; });
      items = [];
      problems.length = 0;
      showPreview();
      replace(result, h("div", { class: ["notice", r.failed.length ? "notice-warn" : "notice-ok"], role: "status", id: "import-report" },
        h("p", {}, h("strong", { text: `Imported ${r.saved.length}, skipped ${r.skipped.length}${r.failed.length ? `, failed ${r.failed.length}` : ""}.` })),
        r.skipped.length ? h("p", { text: `Skipped because the slug is taken: ${r.skipped.join(", ")}` }) : null,
        r.failed.length ? h("ul", {}, r.failed.map((f) => h("li", { text: `${f.who}: ${f.message}` }))) : null,
        r.saved.length ? h("p", {}, h("a", { href: link() }, "See them in your library")) : null));
    } catch (err) {
      replace(result, h("div", { class: "notice notice-error", role: "alert" }, h("p", { text: `The import stopped: ${err.message}` })));
      btns.forEach((b) => { b.disabled = false; });
    }
  }

  const today = new Date().toISOString().slice(0, 10);
  main.append(
    h("div", { class: "page-head" }, h("div", {}, pageTitle("Import & export"))),
    h("section", { class: "card", "aria-labelledby": "import-title" },
      h("h2", { id: "import-title", text: "Import" }),
      h("p", { class: "hint", text: "Prompts whose slug you already have are skipped; nothing is overwritten." }),
      drop,
      h("p", { class: "hint" }, h("label", { for: "keep-vars" }, keepVars, " Treat {{…}} in Markdown files as variables (by default they stay literal text, as with promptdb import)")),
      preview, result),
    h("section", { class: "card", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title", text: "Export" }),
      h("p", { text: "Everything you own in one JSON file: every prompt with its full history and labels, your drafts and preferences. Import it here or with promptdb import." }),
      h("a", { class: "btn btn-primary", id: "export-link", href: "/api/v1/export", download: `promptdb-export-${today}.json` }, icon("download"), "Download export")));
  return {};
}
