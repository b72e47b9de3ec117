// Review: prompts harvested from conversations wait here until the user saves or dismisses
// each. A transcript can be uploaded here too (Claude Code .jsonl, ChatGPT conversations.json,
// Markdown or text chat logs): PromptDB finds the reusable prompts in it without a model.

import { api, ApiError, enc } from "../api.js";
import { confirm, errorNotice, h, icon, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";
import { link } from "../router.js";
import { markedTemplate } from "./prompt.js";

/** How each transcript format is sent: its content type. */
const FORMATS = [
  ["claude-code", "Claude Code session log (.jsonl)", "application/x-ndjson"],
  ["chatgpt", "ChatGPT export (conversations.json)", "application/json"],
  ["markdown", "Markdown chat log", "text/markdown"],
  ["text", "Text chat log", "text/plain"],
];

/** The format a file name suggests, or null. */
function formatOf(name) {
  const n = name.toLowerCase();
  if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return "claude-code";
  if (n.endsWith(".json")) return "chatgpt";
  if (n.endsWith(".md") || n.endsWith(".markdown")) return "markdown";
  if (n.endsWith(".txt") || n.endsWith(".log")) return "text";
  return null;
}

const ORIGINS = {
  model: "found by your assistant",
  "claude-code": "from Claude Code logs",
  chatgpt: "from a ChatGPT export",
  markdown: "from a Markdown chat log",
  text: "from a chat log",
};

function facts(c) {
  const out = [];
  out.push(`${c.occurrences} use${c.occurrences === 1 ? "" : "s"} in ${c.sessions} session${c.sessions === 1 ? "" : "s"}`);
  if (c.score !== null && c.score !== undefined) out.push(`score ${Number(c.score).toFixed(2)}`);
  out.push(ORIGINS[c.origin] || c.origin);
  return out;
}

export async function render({ main, signal, isCurrent }) {
  document.title = "Review · PromptDB";
  const list = h("div", { id: "candidates" }, skeletonRows(3, "skeleton-row"));
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const fileInput = h("input", { id: "harvest-file", type: "file", accept: ".jsonl,.ndjson,.json,.md,.markdown,.txt,.log" });
  const formatSelect = h("select", { id: "harvest-format" },
    h("option", { value: "", text: "From the file name" }),
    FORMATS.map(([value, label]) => h("option", { value, text: label })));
  const uploadResult = h("div", { "aria-live": "polite" });
  const uploadBtn = h("button", { class: "btn", type: "submit" }, icon("upload"), "Find prompts");
  const uploadForm = h("form", { class: "card", "aria-labelledby": "harvest-title", on: { submit: (e) => { e.preventDefault(); upload(); } } },
    h("h2", { id: "harvest-title", text: "Harvest a transcript" }),
    h("p", { class: "hint", text: "A Claude Code session log (.jsonl under ~/.claude/projects), a ChatGPT export's conversations.json, or a Markdown or text chat log, up to 16 MB. PromptDB picks out the instructions you repeat and turns what changes into {{variables}}; nothing is saved until you accept it. For whole folders, use promptdb harvest on your computer." }),
    h("div", { class: "field" }, h("label", { for: "harvest-file", text: "Transcript file" }), fileInput),
    h("div", { class: "field" }, h("label", { for: "harvest-format", text: "Format" }), formatSelect),
    h("div", { class: "actions" }, uploadBtn),
    uploadResult);

  main.append(
    h("div", { class: "page-head" }, h("div", {}, pageTitle("Review"),
      h("p", { class: "lead", text: "Prompts found in your conversations wait here for 30 days. Save the ones worth keeping (as new prompts, or as a new version of one you have), dismiss the rest; dismissed ones are not proposed again." }))),
    status, list, uploadForm);

  async function upload() {
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      replace(uploadResult, h("p", { class: "field-error", text: "Choose a transcript file first." }));
      fileInput.focus();
      return;
    }
    const format = formatSelect.value || formatOf(file.name);
    if (!format) {
      replace(uploadResult, h("p", { class: "field-error", text: `PromptDB cannot tell what kind of transcript ${file.name} is from its name: choose its format.` }));
      formatSelect.focus();
      return;
    }
    const type = FORMATS.find(([value]) => value === format)[2];
    uploadBtn.disabled = true;
    replace(uploadResult, h("p", { class: "hint", text: `Reading ${file.name}…` }));
    try {
      const r = await api.upload(`/harvest?name=${encodeURIComponent(file.name.slice(0, 200))}`, file, type, { signal });
      if (!r.read.messages) {
        replace(uploadResult, h("p", { class: "field-error", text: `Found none of your messages in ${file.name}. Is it a ${FORMATS.find(([v]) => v === format)[1]}? Choose another format if not.` }));
        return;
      }
      const h2 = r.harvested;
      const skipped = r.read.malformed ? `, ${r.read.malformed} unreadable line${r.read.malformed === 1 ? "" : "s"} skipped` : "";
      replace(uploadResult, h("p", { class: "notice", text: `Read ${r.read.messages} of your messages (${r.format}${skipped}): ${h2.added.length} new prompt${h2.added.length === 1 ? "" : "s"} to review, ${h2.merged.length} already waiting, ${h2.skipped} reviewed before.` }));
      fileInput.value = "";
      await load();
    } catch (err) {
      if (err && err.name === "AbortError") return;
      replace(uploadResult, h("p", { class: "field-error", text: err.message }));
    } finally {
      uploadBtn.disabled = false;
    }
  }

  async function load(focusAfter) {
    let data;
    try {
      data = await api.get("/candidates?limit=100", { signal });
    } catch (err) {
      if (!isCurrent()) return;
      replace(list, errorNotice(err, load));
      return;
    }
    if (!isCurrent()) return;
    const { candidates, pending } = data;
    if (!candidates.length) {
      replace(list, h("div", { class: "empty" },
        h("h2", { text: "Nothing to review" }),
        h("p", {}, "Ask your assistant to harvest a conversation (the ", h("code", { text: "harvest" }), " prompt in Claude or any MCP client), run ",
          h("code", { text: "promptdb harvest ~/.claude/projects" }), ", or upload a transcript below.")));
      return;
    }
    const more = pending > candidates.length ? h("p", { class: "hint", text: `Showing the best ${candidates.length} of ${pending}.` }) : null;
    replace(list, more, h("ul", { class: "prompt-list candidate-list", "aria-label": "Candidates" }, candidates.map(card)));
    if (focusAfter !== undefined) {
      const items = list.querySelectorAll(".candidate .item-title");
      const next = items[Math.min(focusAfter, items.length - 1)];
      if (next) next.focus();
    }
  }

  function card(c, index) {
    const titleId = `cand-${c.id}`;
    const errEl = h("p", { class: "field-error", role: "alert", hidden: true });
    const into = c.duplicate_of || (c.similar[0] && c.similar[0].slug) || null;
    const editor = editForm(c, errEl, index);
    const similar = c.similar.length
      ? h("p", { class: "item-meta" }, "Resembles ", c.similar.map((s, i) => [
        i ? ", " : "", h("a", { href: link("prompts", s.slug) }, s.name), ` (${Math.round(s.similarity * 100)} %)`]))
      : null;
    return h("li", { class: "prompt-item candidate", data: { candidate: c.id } },
      h("div", { class: "item-main" },
        h("h2", { class: "h3", id: titleId }, h("span", { class: "item-title", tabindex: "-1", text: c.name })),
        h("p", { class: "item-meta" }, facts(c).map((f) => h("span", { text: f })), h("span", {}, "expires ", time(c.expires_at))),
        c.reason ? h("p", { class: "item-desc", text: c.reason }) : null,
        similar,
        markedTemplate(c.content),
        c.excerpt && c.excerpt !== c.content ? h("details", {}, h("summary", { text: "Where it came from" }), h("pre", { class: "template excerpt", text: c.excerpt })) : null,
        errEl,
        editor.form),
      h("div", { class: "item-actions" },
        h("button", { class: "btn btn-sm btn-primary", type: "button", "aria-describedby": titleId, on: { click: () => accept(c, {}, errEl, index) } }, "Save"),
        into ? h("button", { class: "btn btn-sm", type: "button", "aria-describedby": titleId, on: { click: () => accept(c, { into }, errEl, index) } }, `Add to ${into}`) : null,
        h("button", { class: "btn btn-sm", type: "button", "aria-expanded": "false", "aria-describedby": titleId, on: { click: (e) => editor.toggle(e.currentTarget) } }, "Edit…"),
        h("button", { class: "btn btn-sm", type: "button", "aria-describedby": titleId, on: { click: () => dismiss(c, index) } }, "Dismiss")));
  }

  function editForm(c, errEl, index) {
    const id = (k) => `edit-${c.id}-${k}`;
    const name = h("input", { id: id("name"), type: "text", value: c.name, maxlength: 200, required: true });
    const slug = h("input", { id: id("slug"), type: "text", value: c.slug, maxlength: 128, spellcheck: "false", autocapitalize: "off" });
    const content = h("textarea", { id: id("content"), rows: 6, required: true }, c.content);
    const tags = h("input", { id: id("tags"), type: "text", value: (c.tags || []).join(", "), placeholder: "comma, separated" });
    const form = h("form", { class: "candidate-edit", hidden: true, "aria-label": `Edit ${c.name} before saving`, on: { submit: (e) => {
      e.preventDefault();
      accept(c, {
        name: name.value,
        slug: slug.value.trim() || undefined,
        content: content.value,
        tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
      }, errEl, index);
    } } },
    h("div", { class: "field" }, h("label", { for: id("name"), text: "Name" }), name),
    h("div", { class: "field" }, h("label", { for: id("slug"), text: "Slug" }), slug),
    h("div", { class: "field" }, h("label", { for: id("content"), text: "Prompt" }), content,
      h("p", { class: "hint", text: "Write {{name}} where the text changes from use to use." })),
    h("div", { class: "field" }, h("label", { for: id("tags"), text: "Tags" }), tags),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save as new prompt")));
    return {
      form,
      toggle(button) {
        const open = form.hidden;
        form.hidden = !open;
        button.setAttribute("aria-expanded", String(open));
        if (open) name.focus();
      },
    };
  }

  async function accept(c, edits, errEl, index) {
    errEl.hidden = true;
    try {
      const r = await api.post(`/candidates/${enc(c.id)}/accept`, edits, { signal });
      const msg = r.created ? `Saved “${r.prompt.name}” as ${r.prompt.slug}` : `Saved as version ${r.prompt.version} of ${r.prompt.slug}`;
      toast(msg);
      status.textContent = msg;
      await load(index);
    } catch (err) {
      if (err && err.name === "AbortError") return;
      errEl.textContent = err instanceof ApiError && err.field ? `${err.field}: ${err.message.replace(/^[a-z_\[\]0-9.]+: /, "")}` : err.message;
      errEl.hidden = false;
    }
  }

  async function dismiss(c, index) {
    if (!(await confirm(`Dismiss “${c.name}”?`, "It leaves the queue, and later harvests will not propose it again.", "Dismiss"))) return;
    try {
      await api.post(`/candidates/${enc(c.id)}/dismiss`, {}, { signal });
      status.textContent = `Dismissed ${c.name}`;
      toast("Dismissed");
      await load(index);
    } catch (err) {
      if (err && err.name === "AbortError") return;
      toast(err.message, "error");
    }
  }

  await load();
  return {};
}
