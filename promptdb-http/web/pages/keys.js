// API keys: list (with last use), create (the secret is shown once), revoke; scopes read, write,
// release.

import { api } from "../api.js";
import { confirm, copyText, errorNotice, h, icon, newId, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";

const SCOPES = [
  ["read", "Read", "Read prompts, drafts and preferences."],
  ["write", "Write", "Create, change and delete prompts; move labels that are not protected."],
  ["release", "Release", "Move protected labels such as production: release versions to applications."],
];

export async function render({ main, signal, isCurrent }) {
  document.title = "API keys · PromptDB";
  const nameId = newId("kname");
  const nameIn = h("input", { id: nameId, type: "text", name: "name", autocomplete: "off", required: true, placeholder: "laptop CLI, Cursor, deploy", "aria-describedby": `${nameId}-hint` });
  const nameErr = h("p", { class: "field-error", id: `${nameId}-err`, hidden: true });
  const checks = new Map();
  const scopeBox = h("fieldset", { class: "checks" }, h("legend", { text: "What it may do" }),
    SCOPES.map(([value, label, hint]) => {
      const id = newId("scope");
      const cb = h("input", { id, type: "checkbox", name: "scopes", value, checked: value !== "release", "aria-describedby": `${id}-hint` });
      checks.set(value, cb);
      return h("div", {}, h("label", { for: id }, cb, label), h("p", { class: "hint", id: `${id}-hint`, text: hint }));
    }));
  const formErr = h("p", { class: "field-error", role: "alert", hidden: true });
  const secretBox = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, icon("plus"), "Create key");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "new-key-title" },
    h("h2", { id: "new-key-title", text: "Create a key" }),
    h("div", { class: "field" }, h("label", { for: nameId, text: "Name" }), nameIn,
      h("p", { class: "hint", id: `${nameId}-hint`, text: "What the key is for, so you recognise it later." }), nameErr),
    scopeBox, formErr,
    h("div", { class: "actions" }, submit));
  const listBox = h("section", { class: "card", "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title", text: "Your keys" }), skeletonRows(2, "skeleton-row"));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    nameErr.hidden = true;
    formErr.hidden = true;
    nameIn.removeAttribute("aria-invalid");
    const scopes = [...checks].filter(([, cb]) => cb.checked).map(([v]) => v);
    if (!nameIn.value.trim()) return fieldErr("Name the key, for example “laptop CLI”.");
    if (!scopes.length) { formErr.textContent = "Choose at least one scope."; formErr.hidden = false; return; }
    submit.disabled = true;
    try {
      const key = await api.post("/keys", { name: nameIn.value.trim(), scopes });
      nameIn.value = "";
      showSecret(key);
      await load();
    } catch (err) {
      if (err.field === "name") fieldErr(err.message.replace(/^name: /, ""));
      else { formErr.textContent = err.message; formErr.hidden = false; }
    } finally {
      submit.disabled = false;
    }
  });
  function fieldErr(msg) {
    nameErr.textContent = msg;
    nameErr.hidden = false;
    nameIn.setAttribute("aria-invalid", "true");
    nameIn.setAttribute("aria-describedby", `${nameId}-hint ${nameId}-err`);
    nameIn.focus();
  }

  function showSecret(key) {
    const code = h("code", { id: "new-secret", text: key.secret });
    const done = h("button", { class: "btn", type: "button", on: { click: () => replace(secretBox) } }, "Done, I saved it");
    replace(secretBox, h("div", { class: "card notice-ok", role: "region", "aria-labelledby": "secret-title" },
      h("h2", { id: "secret-title", text: `Your new key “${key.name}”` }),
      h("p", {}, h("strong", { text: "Copy it now: it is shown only this once." }), " PromptDB keeps only a hash of it."),
      h("div", { class: "secret" }, code,
        h("button", { class: "btn btn-primary", type: "button", on: { click: async () => {
          if (await copyText(key.secret)) toast("Key copied"); else toast("Copying was refused; select the key and copy it", "error");
        } } }, icon("copy"), "Copy key")),
      h("p", { class: "hint" }, "Use it as ", h("code", { text: "Authorization: Bearer pdb_…" }), ", or ", h("code", { text: "promptdb --url … --api-key …" }), "."),
      h("div", { class: "actions" }, done)));
    done.focus();
  }

  async function load() {
    let keys;
    try {
      ({ keys } = await api.get("/keys", { signal }));
    } catch (err) {
      if (!isCurrent()) return;
      replace(listBox, h("h2", { id: "keys-title", text: "Your keys" }), errorNotice(err, load));
      return;
    }
    if (!isCurrent()) return;
    replace(listBox, h("h2", { id: "keys-title", text: "Your keys" }),
      keys.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Name", "Key", "Scopes", "Created", "Last used", ""].map((t) => h("th", { scope: "col" }, t ? t : h("span", { class: "visually-hidden", text: "Actions" }))))),
        h("tbody", {}, keys.map((k) => h("tr", { data: { key: k.id } },
          h("td", { text: k.name }),
          h("td", {}, h("code", { text: `${k.prefix}…` })),
          h("td", {}, k.scopes.map((s) => h("span", { class: ["pill", s === "release" && "pill-warn"], text: s })).flatMap((x, i) => (i ? [" ", x] : [x]))),
          h("td", {}, time(k.created_at)),
          h("td", {}, time(k.last_used_at)),
          h("td", {}, h("button", { class: "btn btn-sm", type: "button", "aria-label": `Revoke ${k.name}`, on: { click: () => revoke(k) } }, "Revoke"))))))) :
        h("p", { class: "hint", text: "No keys. Create one for the CLI, an MCP client or an application." }));
  }

  async function revoke(k) {
    if (!(await confirm(`Revoke “${k.name}”?`, `Anything using ${k.prefix}… stops working at once. This cannot be undone.`, "Revoke key"))) return;
    try {
      await api.del(`/keys/${encodeURIComponent(k.id)}`);
      toast(`Revoked ${k.name}`);
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  main.append(
    h("div", { class: "page-head" }, h("div", {}, pageTitle("API keys"),
      h("p", { class: "lead", text: "Keys let the CLI, MCP clients (Claude Code, Cursor, VS Code) and your applications use this library." }))),
    secretBox, form, listBox);
  await load();
  return {};
}
