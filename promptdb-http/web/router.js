// Hash routing: `#/prompts/support%2Ftriage?tab=history`. Each path segment is URI-encoded, so a
// slug with folders stays one segment. The server serves `/` only; everything else is the hash.

const routes = [];
let handler = null;

/** Registers a route: `pattern` like `/prompts/:slug/edit`; `name` is handed to the handler. */
export function route(pattern, name) {
  routes.push({ parts: pattern.split("/").filter(Boolean), name });
}

/** The current location: `{name, params, query, path}`; name `notfound` when nothing matches. */
export function current() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [pathPart, queryPart = ""] = raw.split("?");
  const segs = pathPart.split("/").filter(Boolean);
  const query = new URLSearchParams(queryPart);
  for (const r of routes) {
    if (r.parts.length !== segs.length) continue;
    const params = {};
    let ok = true;
    r.parts.forEach((p, i) => {
      let seg;
      try { seg = decodeURIComponent(segs[i]); } catch { ok = false; return; }
      if (p.startsWith(":")) params[p.slice(1)] = seg;
      else if (p !== seg) ok = false;
    });
    if (ok) return { name: r.name, params, query, path: pathPart };
  }
  return { name: "notfound", params: {}, query, path: pathPart };
}

/** A hash link: `link("prompts", slug)` → `#/prompts/support%2Ftriage`; `q` adds a query. */
export function link(...segments) {
  let q = "";
  if (segments.length && typeof segments[segments.length - 1] === "object") {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(segments.pop())) {
      if (v === undefined || v === null || v === "") continue;
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    }
    const s = params.toString();
    if (s) q = `?${s}`;
  }
  return `#/${segments.map((s) => encodeURIComponent(s)).join("/")}${q}`;
}

/** Goes to a hash (a new history entry). */
export function navigate(hash) {
  if (location.hash === hash) handler && handler(current());
  else location.hash = hash;
}

/** Replaces the current hash without a new history entry and without re-rendering. */
export function replace(hash) {
  history.replaceState(history.state, "", hash);
}

// ---- Visits
// Every render of a page is one visit. Starting the next visit (any navigation, sign-in or
// sign-out) ends the one before: its `signal` aborts, which cancels the requests made with it,
// and its `isCurrent()` turns false. A page passes `signal` to the requests it loads with and,
// after every await, returns without touching the page (main, title, hash, focus, shortcuts)
// unless `isCurrent()`: an answer that arrives after the user has left is dropped.

let visitController = null;

/** Ends the current visit and starts the next: `{signal, isCurrent}`. */
export function beginVisit() {
  if (visitController) visitController.abort();
  const controller = new AbortController();
  visitController = controller;
  const { signal } = controller;
  return { signal, isCurrent: () => !signal.aborted };
}

/** Starts routing: `fn(location)` runs now and on every hash change. */
export function start(fn) {
  handler = fn;
  window.addEventListener("hashchange", () => {
    // In-page anchors (`#app`, the skip link) are not routes.
    if (location.hash && !location.hash.startsWith("#/")) return;
    fn(current());
  });
  fn(current());
}
