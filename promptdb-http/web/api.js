// The REST API over the session cookie. The CSRF token lives in memory only and goes with every
// write; errors become ApiError with the server's code, message and field.

let csrf = "";
let onSignedOut = null;

/** An error answer: `status`, `code`, `message`, `field` (the input at fault, if any). */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    let message = e.message || `The server answered ${status}.`;
    if (status === 429) message = `Too many requests; try again in ${retryAfter || "a few"} seconds.`;
    if (status === 0) message = "PromptDB cannot be reached. Check that the server is running.";
    super(message);
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "error");
    this.field = e.field || null;
  }
}

/** Keeps the CSRF token of the session. */
export const setCsrf = (token) => { csrf = token || ""; };

/** Called when a request answers 401: the session is over. */
export const onUnauthorized = (fn) => { onSignedOut = fn; };

/** A request; resolves with the parsed JSON body (null for 204). */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  const isFile = typeof Blob !== "undefined" && body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = isFile ? (opts.type || "application/octet-stream") : "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : isFile ? body : JSON.stringify(body),
      credentials: "same-origin",
      signal: opts.signal,
      keepalive: opts.keepalive || false,
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, null);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.headers.get("Retry-After"));
    if (res.status === 401 && !opts.quiet401 && onSignedOut) onSignedOut(err);
    throw err;
  }
  return data;
}

const v1 = (p) => `/api/v1${p}`;

/** The REST API, by path under `/api/v1`. */
export const api = {
  get: (p, o) => request("GET", v1(p), undefined, o),
  post: (p, b, o) => request("POST", v1(p), b === undefined ? {} : b, o),
  put: (p, b, o) => request("PUT", v1(p), b, o),
  patch: (p, b, o) => request("PATCH", v1(p), b, o),
  del: (p, o) => request("DELETE", v1(p), undefined, o),
  /** Sends a file as the body, as it is, with the content type `type`. */
  upload: (p, file, type, o) => request("POST", v1(p), file, { ...o, type }),
};

/** A slug as one path segment (`support/triage` → `support%2Ftriage`). */
export const enc = (slug) => encodeURIComponent(slug);

/** A query string from an object; arrays repeat the key; empty values are left out. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The signed-in session, or null (401). */
export async function getSession() {
  try {
    const s = await request("GET", "/auth/session", undefined, { quiet401: true });
    setCsrf(s.csrf_token);
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Signs in with an API key (sets the session cookie). */
export async function signInWithKey(apiKey) {
  await request("POST", "/auth/key", { api_key: apiKey }, { quiet401: true });
  return getSession();
}

/** Ends the session. */
export async function signOut() {
  // The server answers 303 to `/`; the redirect's page is fetched and ignored.
  await fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  setCsrf("");
}

/**
 * How one signs in to this server, from `GET /auth/methods` (no side effects):
 * `{link, api_key, oidc, login_url}`. `link`: `promptdb open` prints sign-in links (local mode);
 * `oidc`: single sign-on at `login_url`. Rejects only with AbortError (`signal`); when the
 * server cannot be asked, the API key is the one method assumed.
 */
export async function signInMethods(signal) {
  let res;
  try {
    res = await fetch("/auth/methods", { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    return { link: false, api_key: true, oidc: false, login_url: null };
  }
  if (res.ok) {
    let m = null;
    try { m = await res.json(); } catch (err) { if (err && err.name === "AbortError") throw err; }
    if (m && typeof m === "object") {
      const oidc = m.oidc === true;
      return { link: m.link === true, api_key: true, oidc, login_url: oidc ? (m.login_url || "/auth/login") : null };
    }
  }
  return { link: false, api_key: true, oidc: false, login_url: null };
}
