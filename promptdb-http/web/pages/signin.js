// Signed out: sign in with an API key (always), the `promptdb open` link (local mode), or the
// identity provider (single sign-on configured): the server says which in GET /auth/methods.

import { ApiError, signInMethods, signInWithKey } from "../api.js";
import { h, newId, pageTitle } from "../dom.js";

/** The single sign-on link: the server's login URL, coming back to `/` afterwards. */
function ssoHref(loginUrl) {
  const url = new URL(loginUrl || "/auth/login", location.origin);
  if (url.origin !== location.origin) return "/auth/login?return_to=%2F";
  url.searchParams.set("return_to", "/");
  return `${url.pathname}${url.search}`;
}

export async function render({ main, app, signal, isCurrent }) {
  document.title = "Sign in · PromptDB";
  // Asked before anything is drawn, so that no card appears or vanishes afterwards.
  const methods = await signInMethods(signal);
  if (!isCurrent()) return {};
  const notice = app.takeNotice();
  const keyId = newId("key");
  const errId = newId("err");
  const input = h("input", {
    id: keyId, name: "api_key", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, placeholder: "pdb_…", "aria-describedby": `${keyId}-hint`,
  });
  const error = h("p", { id: errId, class: "field-error", hidden: true });
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Sign in");
  const form = h("form", { class: "card signin-form", novalidate: true, "aria-labelledby": "signin-key-title" },
    h("h2", { id: "signin-key-title", text: "With an API key" }),
    h("div", { class: "field" },
      h("label", { for: keyId, text: "API key" }),
      input,
      h("p", { id: `${keyId}-hint`, class: "hint" }, "The key PromptDB printed on its first start, or one from ", h("code", { text: "promptdb keys create" }), "."),
      error),
    h("div", { class: "actions" }, submit));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    if (!key) {
      showError("Enter your API key.");
      return;
    }
    submit.disabled = true;
    try {
      const session = await signInWithKey(key);
      if (!session) throw new ApiError(401, null);
      input.value = "";
      await app.signedIn(session);
    } catch (err) {
      showError(err instanceof ApiError && err.status === 401
        ? "This key was not accepted. Check that you copied all of it, and that it has not been revoked."
        : err.message);
    } finally {
      submit.disabled = false;
    }
  });

  function showError(msg) {
    error.textContent = msg;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${keyId}-hint ${errId}`);
    input.focus();
  }

  const sso = methods.oidc && h("section", { class: "card", "aria-labelledby": "signin-sso-title" },
    h("h2", { id: "signin-sso-title", text: "With your organisation's account" }),
    h("p", {}, h("a", { class: "btn btn-primary", href: ssoHref(methods.login_url) }, "Sign in with single sign-on")));
  const open = methods.link && h("section", { class: "card", "aria-labelledby": "signin-open-title" },
    h("h2", { id: "signin-open-title", text: "On this computer" }),
    h("p", {}, "Run ", h("code", { text: "promptdb open" }), " in a terminal. It opens PromptDB here, signed in, with a link that works once."),
    h("p", { class: "hint" }, "Only printing the link? ", h("code", { text: "promptdb open --print" })));

  main.append(
    h("div", { class: "signin" },
      pageTitle("Sign in to PromptDB"),
      notice && h("p", { class: "notice", role: "status", text: notice }),
      h("p", { class: "lead", text: "Your prompt library, where you already talk to AI." }),
      open,
      form,
      sso));
  input.focus();
  return {};
}
