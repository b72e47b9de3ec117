// Settings: the theme (saved in preferences), the account, sign-out, and deleting the account.

import { api } from "../api.js";
import { errorNotice, fullDate, h, newId, pageTitle } from "../dom.js";
import { currentTheme, THEMES } from "../theme.js";

const PHRASE = "delete my account";
const LABELS = { system: "Same as the system", light: "Light", dark: "Dark" };

export async function render({ main, app, signal, isCurrent }) {
  document.title = "Settings · PromptDB";
  const [prefs, me] = await Promise.all([api.get("/preferences", { signal }).catch(() => ({})), api.get("/me", { signal }).catch((e) => ({ error: e }))]);
  if (!isCurrent()) return {};

  const theme = prefs.theme || currentTheme();
  const status = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  const group = newId("theme");
  const themeSet = h("fieldset", { class: "theme-choice" },
    h("legend", { class: "visually-hidden", text: "Theme" }),
    THEMES.map((t) => {
      const input = h("input", { type: "radio", name: group, value: t, checked: t === theme });
      input.addEventListener("change", async () => {
        if (!input.checked) return;
        app.applyTheme(t);
        status.textContent = "Saving…";
        try {
          await api.patch("/preferences", { theme: t });
          status.textContent = `Theme saved: ${LABELS[t].toLowerCase()}.`;
        } catch (err) {
          status.textContent = `Not saved: ${err.message}`;
        }
      });
      return h("label", {}, input, LABELS[t]);
    }));

  const confirmId = newId("confirm");
  const confirmIn = h("input", { id: confirmId, type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": `${confirmId}-hint` });
  const del = h("button", { class: "btn btn-danger", type: "submit", disabled: true }, "Delete my account");
  const delErr = h("p", { class: "field-error", role: "alert", hidden: true });
  confirmIn.addEventListener("input", () => { del.disabled = confirmIn.value.trim().toLowerCase() !== PHRASE; });
  const delForm = h("form", { novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    if (confirmIn.value.trim().toLowerCase() !== PHRASE) return;
    del.disabled = true;
    try {
      await api.del("/me");
      app.signedOut("Your account and everything in it were deleted.");
    } catch (err) {
      delErr.textContent = err.message;
      delErr.hidden = false;
      del.disabled = false;
    }
  } } },
    h("div", { class: "field" },
      h("label", { for: confirmId }, "Type ", h("strong", { text: PHRASE }), " to confirm"),
      confirmIn,
      h("p", { class: "hint", id: `${confirmId}-hint`, text: "Every prompt with its history, every label, draft, preference and API key is deleted at once. Export first if you may want them back." }),
      delErr),
    h("div", { class: "actions" }, del));

  main.append(
    h("div", { class: "page-head" }, h("div", {}, pageTitle("Settings"))),
    h("section", { class: "card", "aria-labelledby": "appearance-title" },
      h("h2", { id: "appearance-title", text: "Theme" }),
      themeSet, status),
    h("section", { class: "card", "aria-labelledby": "account-title" },
      h("h2", { id: "account-title", text: "Account" }),
      me.error ? errorNotice(me.error) : h("dl", { class: "facts" },
        h("dt", { text: "Name" }), h("dd", { text: me.display_name || "(none)" }),
        h("dt", { text: "User id" }), h("dd", {}, h("code", { text: me.id })),
        h("dt", { text: "Since" }), h("dd", { text: fullDate(me.created_at) })),
      h("div", { class: "actions" },
        h("button", { class: "btn", type: "button", on: { click: () => app.signOut() } }, "Sign out"))),
    h("section", { class: "card danger-zone", "aria-labelledby": "delete-title" },
      h("h2", { id: "delete-title", text: "Delete your account" }),
      delForm));
  return {};
}
