// The editor, for a new prompt (#/new) or an edit (#/prompts/{slug}/edit). It autosaves to a
// draft every few seconds (the draft id goes into the hash), restores the draft after a reload,
// warns when the prompt changed elsewhere since the edit began, and shows the server's
// validation errors next to the field they name.

import { api, ApiError, enc } from "../api.js";
import { confirm, errorNotice, h, icon, newId, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";
import { bindPage } from "../keyboard.js";
import { link, navigate, replace as replaceHash } from "../router.js";
import { placeholders } from "../template.js";
import { diffView } from "./history.js";

const AUTOSAVE_MS = 2000;
const ROLES = ["system", "user", "assistant"];

/** A slug derived from a name the way the server does (for the hint only). */
function deriveSlug(name) {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
}

/** `prompts[0].messages[1].content` → `messages[1]`; `fields.name` → `name`. */
export function fieldKey(path) {
  const p = String(path || "").replace(/^prompts\[\d+\]\./, "").replace(/^fields\./, "");
  const m = /^([a-z_]+)(\[\d+\])?/.exec(p);
  return m ? m[1] + (m[2] || "") : p;
}

export async function render({ main, app, params, query, signal, isCurrent }) {
  const editing = !!params.slug;
  const slug = params.slug || null;
  document.title = `${editing ? "Edit" : "New prompt"} · PromptDB`;
  const loading = h("div", {}, pageTitle(editing ? `Edit ${slug}` : "New prompt"), skeletonRows(1, "skeleton-block"));
  main.append(loading);

  let prompt = null;
  let draft = null;
  let notice = null;
  try {
    if (editing) prompt = await api.get(`/prompts/${enc(slug)}`, { signal });
    const draftId = query.get("draft");
    if (draftId) {
      try {
        draft = await api.get(`/drafts/${encodeURIComponent(draftId)}`, { signal });
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 404 || err.status === 422))) throw err;
        notice = "That draft is gone: it was saved, discarded, or expired (drafts last 24 hours after their last change).";
      }
    } else if (editing) {
      const { drafts } = await api.get("/drafts", { signal });
      draft = drafts.find((d) => d.prompt_slug === slug) || null;
    }
  } catch (err) {
    // Left for another page meanwhile: that page owns `main` now.
    if (!isCurrent()) return {};
    loading.remove();
    if (err instanceof ApiError && err.status === 404) {
      main.append(pageTitle("Prompt not found"), h("p", {}, `There is no prompt “${slug}” to edit. `, h("a", { href: link() }, "Back to the library"), "."));
      return {};
    }
    main.append(pageTitle(editing ? `Edit ${slug}` : "New prompt"), errorNotice(err, () => navigate(location.hash)));
    return {};
  }
  if (!isCurrent()) return {};
  loading.remove();

  const st = {
    draftId: draft ? draft.id : null,
    baseVersion: editing ? (draft && draft.fields.base_version != null ? draft.fields.base_version : prompt.version) : null,
    dirty: false,
    timer: null,
    saving: null,
    savedOnce: false,
    acknowledged: false,
    closed: false,
  };
  if (draft) replaceHash(editing ? link("prompts", slug, "edit", { draft: draft.id }) : link("new", { draft: draft.id }));

  // ---- Fields
  const errors = new Map(); // key → {input, el}
  function field(key, label, input, hintText) {
    const id = input.id || newId(key);
    input.id = id;
    const errEl = h("p", { class: "field-error", id: `${id}-err`, hidden: true });
    const hint = hintText ? h("p", { class: "hint", id: `${id}-hint` }, hintText) : null;
    if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
    errors.set(key, { input, el: errEl, hint });
    return h("div", { class: "field", data: { field: key } }, h("label", { for: id, text: label }), input, hint, errEl);
  }
  const src = draft ? draft.fields : prompt || {};
  const nameIn = h("input", { type: "text", name: "name", autocomplete: "off", required: true, maxlength: "200" });
  nameIn.value = src.name || "";
  const slugIn = h("input", { type: "text", name: "slug", autocomplete: "off", spellcheck: "false", placeholder: "derived from the name" });
  slugIn.value = src.slug || "";
  const slugHint = h("span", {});
  const descIn = h("textarea", { name: "description", rows: "2", maxlength: "2000" });
  descIn.value = src.description || "";
  const tagsIn = h("input", { type: "text", name: "tags", autocomplete: "off", spellcheck: "false", placeholder: "dev, review" });
  tagsIn.value = (src.tags || []).join(", ");
  const contentIn = h("textarea", { name: "content", class: "content", rows: "10", spellcheck: "false" });
  contentIn.value = src.content || "";
  const commitIn = h("input", { type: "text", name: "commit_message", autocomplete: "off", placeholder: "What changed, and why" });
  commitIn.value = (draft && draft.fields.commit_message) || "";
  const configIn = h("textarea", { name: "config", rows: "4", class: "mono", spellcheck: "false", placeholder: "{\"model\": \"…\", \"temperature\": 0.2}" });
  configIn.value = src.config && Object.keys(src.config).length ? JSON.stringify(src.config, null, 2) : "";

  // Kind and chat messages
  let kind = src.kind === "chat" ? "chat" : "text";
  const kindName = newId("kind");
  const kindText = h("input", { type: "radio", name: kindName, value: "text", checked: kind === "text" });
  const kindChat = h("input", { type: "radio", name: kindName, value: "chat", checked: kind === "chat" });
  const messagesBox = h("div", { class: "messages-edit" });
  const messagesErr = h("p", { class: "field-error", hidden: true, id: newId("msgerr") });
  errors.set("messages", { input: messagesBox, el: messagesErr });
  let messageRows = [];
  function addMessage(role = "user", content = "") {
    const i = messageRows.length;
    const roleId = newId("role");
    const contentId = newId("msg");
    const roleSel = h("select", { id: roleId }, ROLES.map((r) => h("option", { value: r, selected: r === role }, r)));
    const ta = h("textarea", { id: contentId, rows: "5", spellcheck: "false", class: "mono" });
    ta.value = content;
    const errEl = h("p", { class: "field-error", id: `${contentId}-err`, hidden: true });
    const row = h("div", { class: "message-edit" },
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: roleId, text: `Message ${i + 1} role` }), roleSel),
        h("button", { class: "btn btn-sm btn-quiet", type: "button", "aria-label": `Remove message ${i + 1}`, on: { click: () => { messageRows = messageRows.filter((r) => r.row !== row); row.remove(); renumber(); changed(); } } }, icon("trash"), "Remove")),
      h("div", { class: "field" }, h("label", { for: contentId, text: `Message ${i + 1} text` }), ta, errEl));
    const entry = { row, roleSel, ta, errEl };
    messageRows.push(entry);
    messagesBox.append(row);
    roleSel.addEventListener("change", changed);
    ta.addEventListener("input", changed);
    return entry;
  }
  function renumber() {
    messageRows.forEach((r, i) => {
      r.row.querySelectorAll("label")[0].textContent = `Message ${i + 1} role`;
      r.row.querySelectorAll("label")[1].textContent = `Message ${i + 1} text`;
      r.row.querySelector("button").setAttribute("aria-label", `Remove message ${i + 1}`);
    });
  }
  for (const m of src.messages || []) addMessage(m.role, m.content);
  const chatBox = h("div", {},
    h("p", { class: "field-label", text: "Messages" }),
    messagesBox, messagesErr,
    h("button", { class: "btn btn-sm", type: "button", on: { click: () => { const r = addMessage(messageRows.length ? "user" : "system"); r.ta.focus(); changed(); } } }, icon("plus"), "Add message"));
  const contentField = field("content", "Template", contentIn, ["Write ", h("code", { text: "{{name}}" }), " where a value goes, ", h("code", { text: "{{> other-slug}}" }), " to include another prompt, ", h("code", { text: "\\{{" }), " for literal braces."]);
  function setKind(k) {
    kind = k;
    kindText.checked = k === "text";
    kindChat.checked = k === "chat";
    contentField.hidden = k !== "text";
    chatBox.hidden = k !== "chat";
    if (k === "chat" && !messageRows.length) {
      addMessage("system", "");
      addMessage("user", contentIn.value);
    }
  }
  kindText.addEventListener("change", () => { setKind("text"); changed(); });
  kindChat.addEventListener("change", () => { setKind("chat"); changed(); });

  // Variables: the placeholders in the text, plus declared ones that carry a description or default
  const declared = new Map((src.variables || []).map((v) => [v.name, { ...v }]));
  const varsBox = h("div", {});
  const varsErr = h("p", { class: "field-error", hidden: true, id: newId("varerr") });
  errors.set("variables", { input: varsBox, el: varsErr });
  let varOrder = [];
  function currentPlaceholders() {
    return kind === "chat" ? [...new Set(messageRows.flatMap((r) => placeholders(r.ta.value)))] : placeholders(contentIn.value);
  }
  function variableList() {
    const used = currentPlaceholders();
    const names = [...used];
    for (const [n, v] of declared) if (!names.includes(n) && (v.description || v.default != null)) names.push(n);
    return names.map((n) => {
      const v = declared.get(n) || { name: n, description: "", required: true };
      return { name: n, description: v.description || "", required: v.required !== false, default: v.default == null ? null : v.default, used: used.includes(n) };
    });
  }
  function renderVars() {
    const list = variableList();
    const names = list.map((v) => v.name).join("\n");
    if (names === varOrder.join("\n") && varsBox.childNodes.length) return;
    varOrder = list.map((v) => v.name);
    if (!list.length) {
      replace(varsBox, h("p", { class: "hint" }, "No variables yet. Write ", h("code", { text: "{{name}}" }), " in the text to add one."));
      return;
    }
    replace(varsBox, list.map((v, i) => {
      const d = declared.get(v.name) || { name: v.name, description: "", required: true, default: null };
      declared.set(v.name, d);
      const dId = newId("vd");
      const fId = newId("vf");
      const rId = newId("vr");
      const desc = h("input", { id: dId, type: "text", autocomplete: "off" });
      desc.value = d.description || "";
      const def = h("input", { id: fId, type: "text", autocomplete: "off", placeholder: "none" });
      def.value = d.default == null ? "" : d.default;
      const req = h("input", { id: rId, type: "checkbox", checked: d.required !== false });
      desc.addEventListener("input", () => { d.description = desc.value; changed(); });
      def.addEventListener("input", () => { d.default = def.value === "" ? null : def.value; changed(); });
      req.addEventListener("change", () => { d.required = req.checked; changed(); });
      const errEl = h("p", { class: "field-error", hidden: true, id: newId("ve") });
      errors.set(`variables[${i}]`, { input: desc, el: errEl });
      return h("div", { class: "var-edit", data: { variable: v.name } },
        h("h3", {}, `{{${v.name}}}`, v.used ? null : h("span", { class: "hint", text: " (not in the text)" })),
        h("div", { class: "field" }, h("label", { for: dId, text: "Description" }), desc),
        h("div", { class: "field" }, h("label", { for: fId, text: "Default value" }), def),
        h("label", {}, req, " Required"),
        v.used ? null : h("button", { class: "btn btn-sm btn-quiet", type: "button", on: { click: () => { declared.delete(v.name); varOrder = []; renderVars(); changed(); } } }, "Remove"),
        errEl);
    }));
  }

  // ---- Layout
  const statusEl = h("p", { class: "save-status", role: "status", "aria-live": "polite" });
  const generalErr = h("div", { class: "notice notice-error", role: "alert", hidden: true });
  const conflictBox = h("div", { class: "notice notice-warn", role: "alert", hidden: true });
  const restoredBox = h("div", { class: "notice", hidden: !draft && !notice });
  if (notice) replace(restoredBox, h("p", { text: notice }));
  else if (draft) {
    replace(restoredBox, h("p", {}, "Restored your unsaved changes from ", time(draft.updated_at), ". ",
      editing ? "Discard them to start again from the saved prompt." : "Discard the draft to start over."));
  }
  const saveBtn = h("button", { class: "btn btn-primary", type: "submit", "aria-keyshortcuts": "Control+S" }, editing ? "Save new version" : "Save prompt");
  const discardBtn = h("button", { class: "btn", type: "button", on: { click: discard } }, "Discard draft");
  const cancel = h("a", { class: "btn btn-quiet", href: editing ? link("prompts", slug) : link() }, "Cancel");

  const form = h("form", { class: "editor", novalidate: true, "aria-labelledby": "editor-title" },
    generalErr,
    field("name", "Name", nameIn),
    editing ? null : field("slug", "Slug (optional)", slugIn, slugHint),
    field("description", "Description", descIn, "What the prompt is for: it helps you and models find it."),
    field("tags", "Tags", tagsIn, "Separated by commas."),
    h("fieldset", { class: "kind-switch" }, h("legend", { text: "Kind" }),
      h("label", {}, kindText, "Text"), h("label", {}, kindChat, "Chat messages")),
    contentField,
    chatBox,
    editing ? field("commit_message", "Change note", commitIn, "Kept with the new version (optional).") : null,
    h("div", { class: "editor-bar" }, statusEl, cancel, discardBtn, saveBtn));

  const side = h("aside", {},
    h("section", { class: "card", "aria-labelledby": "vars-title" },
      h("h2", { id: "vars-title", text: "Variables" }),
      varsBox, varsErr),
    h("section", { class: "card", "aria-labelledby": "config-title" },
      h("h2", { id: "config-title", text: "Model config" }),
      field("config", "Config (JSON object)", configIn, "Model parameters and the like, kept with each version. Optional.")));

  main.append(
    h("div", { class: "page-head" }, h("div", {},
      editing ? h("p", { class: "breadcrumbs" }, h("a", { href: link("prompts", slug) }, slug), ` · version ${prompt.version}`) : null,
      pageTitle(editing ? `Edit “${prompt.name}”` : "New prompt", { id: "editor-title" }))),
    restoredBox, conflictBox,
    h("div", { class: "editor-layout" }, form, side));
  setKind(kind);
  renderVars();
  updateSlugHint();

  function updateSlugHint() {
    const d = deriveSlug(nameIn.value);
    slugHint.textContent = slugIn.value ? "Letters, digits and hyphens; / makes folders (support/triage)." : d ? `Will be “${d}”. Use / for folders (support/triage).` : "Derived from the name. Use / for folders (support/triage).";
  }

  // ---- Reading the form
  function parseConfig() {
    const t = configIn.value.trim();
    if (!t) return { ok: true, value: {} };
    try {
      const v = JSON.parse(t);
      if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, message: "Must be a JSON object: { … }." };
      return { ok: true, value: v };
    } catch (e) {
      return { ok: false, message: `Not valid JSON: ${e.message}` };
    }
  }
  function values() {
    const tags = tagsIn.value.split(",").map((t) => t.trim()).filter(Boolean);
    const v = {
      name: nameIn.value,
      description: descIn.value,
      tags,
      kind,
      variables: variableList().map(({ name, description, required, default: d }) => (d == null ? { name, description, required } : { name, description, required, default: d })),
    };
    if (kind === "chat") v.messages = messageRows.map((r) => ({ role: r.roleSel.value, content: r.ta.value }));
    else v.content = contentIn.value;
    return v;
  }
  function draftFields() {
    const f = values();
    if (!editing && slugIn.value.trim()) f.slug = slugIn.value.trim();
    if (editing) {
      f.base_version = st.baseVersion;
      if (commitIn.value) f.commit_message = commitIn.value;
    }
    const c = parseConfig();
    if (c.ok && Object.keys(c.value).length) f.config = c.value;
    return f;
  }

  // ---- Errors
  function clearErrors() {
    generalErr.hidden = true;
    for (const { input, el, hint } of errors.values()) {
      el.hidden = true;
      input.removeAttribute("aria-invalid");
      if (input.setAttribute && hint) input.setAttribute("aria-describedby", hint.id);
      else if (input.removeAttribute) input.removeAttribute("aria-describedby");
    }
    for (const r of messageRows) { r.errEl.hidden = true; r.ta.removeAttribute("aria-invalid"); }
  }
  function showError(err, focus = true) {
    const key = fieldKey(err.field);
    const msg = err.message.replace(/^[\w.[\]]+: /, "");
    let target = errors.get(key);
    const mm = /^messages\[(\d+)\]$/.exec(key);
    if (mm && messageRows[+mm[1]]) target = { input: messageRows[+mm[1]].ta, el: messageRows[+mm[1]].errEl };
    if (!target && /^tags\[/.test(key)) target = errors.get("tags");
    if (!target && /^variables\[/.test(key)) target = errors.get("variables");
    if (!target || (target.input.closest && target.input.closest("[hidden]"))) {
      generalErr.replaceChildren(h("p", { text: err.message }));
      generalErr.hidden = false;
      if (focus) generalErr.scrollIntoView({ block: "nearest" });
      return;
    }
    target.el.textContent = msg;
    target.el.hidden = false;
    if (target.input.setAttribute) {
      target.input.setAttribute("aria-invalid", "true");
      const hint = target.hint ? `${target.hint.id} ` : "";
      target.input.setAttribute("aria-describedby", `${hint}${target.el.id}`);
      if (focus && target.input.focus) target.input.focus();
    }
  }

  // ---- Autosave
  function changed() {
    st.dirty = true;
    renderVars();
    if (!st.timer) st.timer = setTimeout(() => { st.timer = null; saveDraft(); }, AUTOSAVE_MS);
    statusEl.textContent = "Unsaved changes";
  }
  async function saveDraft(keepalive = false) {
    if (st.closed && !keepalive) return;
    if (!st.dirty) return;
    if (st.saving) { await st.saving; if (!st.dirty) return; }
    st.dirty = false;
    const body = { fields: draftFields() };
    if (st.draftId) body.id = st.draftId;
    if (editing) body.prompt_slug = slug;
    st.saving = (async () => {
      try {
        const d = await api.post("/drafts", body, { keepalive });
        const isNew = !st.draftId;
        st.draftId = d.id;
        if (st.closed) return;
        if (isNew) {
          replaceHash(editing ? link("prompts", slug, "edit", { draft: d.id }) : link("new", { draft: d.id }));
          app.refreshDrafts();
        }
        statusEl.replaceChildren("Draft saved ", time(d.updated_at));
        statusEl.dataset.saved = d.updated_at;
      } catch (err) {
        if (st.closed) return;
        st.dirty = true;
        statusEl.textContent = `Draft not saved: ${err.message}`;
        if (err instanceof ApiError && err.field) { clearErrors(); showError(err, false); }
      } finally {
        st.saving = null;
      }
    })();
    await st.saving;
  }
  form.addEventListener("input", (e) => {
    if (e.target === nameIn || e.target === slugIn) updateSlugHint();
    const t = [...errors.values()].find((x) => x.input === e.target);
    if (t) { t.el.hidden = true; e.target.removeAttribute("aria-invalid"); }
    if (!e.target.closest(".message-edit") && !e.target.closest(".var-edit")) changed();
  });
  side.addEventListener("input", (e) => { if (e.target === configIn) changed(); });

  // ---- Conflicts
  async function checkConflict() {
    if (!editing || st.closed) return false;
    let now;
    try {
      now = await api.get(`/prompts/${enc(slug)}`);
    } catch {
      return false;
    }
    if (now.version === st.baseVersion || st.acknowledged === now.version) {
      conflictBox.hidden = true;
      return false;
    }
    showConflict(now);
    return true;
  }
  function showConflict(now) {
    const diffBox = h("div", {});
    replace(conflictBox,
      h("h2", { text: "This prompt changed elsewhere" }),
      h("p", {}, `You started editing version ${st.baseVersion}; it is now at version ${now.version} (changed `, time(now.updated_at), "). Saving writes your text over those changes."),
      h("div", { class: "actions" },
        h("button", { class: "btn btn-sm", type: "button", on: { click: async () => {
          try {
            const d = await api.get(`/prompts/${enc(slug)}/diff?from=${st.baseVersion}&to=${now.version}`);
            replace(diffBox, diffView(d));
          } catch (err) { replace(diffBox, errorNotice(err)); }
        } } }, "See what changed"),
        h("button", { class: "btn btn-sm", type: "button", on: { click: () => {
          st.acknowledged = now.version;
          st.baseVersion = now.version;
          conflictBox.hidden = true;
          changed();
          toast("Your changes are kept; saving will write over the other version.");
        } } }, "Keep my changes"),
        h("button", { class: "btn btn-sm", type: "button", on: { click: async () => {
          await dropDraft();
          st.closed = true;
          toast("Draft discarded");
          if (isCurrent()) navigate(link("prompts", slug, "edit"));
        } } }, "Discard mine, load theirs")),
      diffBox);
    conflictBox.hidden = false;
  }
  const onVisible = () => { if (document.visibilityState === "visible") checkConflict(); else saveDraft(true); };
  const onPageHide = () => saveDraft(true);
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("pagehide", onPageHide);
  window.addEventListener("focus", checkConflict);

  // ---- Save, discard
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const c = parseConfig();
    if (!c.ok) { showError({ field: "config", message: c.message }); return; }
    saveBtn.disabled = true;
    try {
      if (editing && (await checkConflict())) {
        statusEl.textContent = "Not saved: review the changes made elsewhere first.";
        return;
      }
      const v = values();
      v.config = c.value;
      let saved;
      if (editing) {
        if (commitIn.value.trim()) v.commit_message = commitIn.value.trim();
        saved = await api.patch(`/prompts/${enc(slug)}`, v);
      } else {
        if (slugIn.value.trim()) v.slug = slugIn.value.trim();
        const res = await api.post("/prompts", { prompts: [v] });
        saved = res.prompts[0];
      }
      if (st.timer) { clearTimeout(st.timer); st.timer = null; }
      if (st.saving) await st.saving;
      st.dirty = false;
      await dropDraft();
      st.closed = true;
      toast(editing ? (saved.version !== prompt.version ? `Saved version ${saved.version}` : "Nothing changed: no new version") : `Saved “${saved.name}”`);
      // Saved; the user may have gone elsewhere meanwhile: then they stay there.
      if (isCurrent()) navigate(link("prompts", saved.slug));
    } catch (err) {
      if (err instanceof ApiError) showError(err);
      else throw err;
    } finally {
      saveBtn.disabled = false;
    }
  });
  form.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); form.requestSubmit(); }
  });

  async function dropDraft() {
    if (st.timer) { clearTimeout(st.timer); st.timer = null; }
    if (st.saving) await st.saving;
    st.dirty = false;
    if (st.draftId) {
      try { await api.del(`/drafts/${encodeURIComponent(st.draftId)}`); } catch (err) { if (!(err instanceof ApiError && err.status === 404)) throw err; }
      st.draftId = null;
      app.refreshDrafts();
    }
  }
  async function discard() {
    if (!(await confirm("Discard this draft?", editing ? "Your unsaved changes are deleted; the saved prompt stays as it is." : "What you wrote here is deleted.", "Discard"))) return;
    await dropDraft();
    st.closed = true;
    toast("Draft discarded");
    if (!isCurrent()) return;
    if (editing) navigate(link("prompts", slug));
    else {
      replaceHash(link("new"));
      navigate(link("new"));
    }
  }

  if (draft && editing) checkConflict();
  if (!draft) nameIn.focus();
  else (kind === "chat" ? (messageRows[0] && messageRows[0].ta) : contentIn)?.focus();
  bindPage({});

  return {
    escape() {
      const a = document.activeElement;
      if (a && form.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) { a.blur(); return true; }
      navigate(editing ? link("prompts", slug) : link());
      return true;
    },
    async leave() {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("pagehide", onPageHide);
      window.removeEventListener("focus", checkConflict);
      if (st.timer) { clearTimeout(st.timer); st.timer = null; }
      const pending = !st.closed && st.dirty;
      st.closed = true;
      if (pending) saveDraft(true).then(() => app.refreshDrafts());
    },
  };
}
