// The library: ranked list (pinned first), search as you type, tags, folders, pin and favourite.

import { api, enc, query } from "../api.js";
import { debounce, errorNotice, h, icon, newId, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";
import { bindPage } from "../keyboard.js";
import { link, replace as replaceHash } from "../router.js";

const PAGE = 20;

export async function render({ main, query: q, signal: pageSignal, isCurrent }) {
  document.title = "Library · PromptDB";
  const filters = {
    q: q.get("q") || "",
    tag: q.getAll("tag"),
    folder: q.get("folder") || "",
    pinned: q.get("pinned") === "true",
    favorite: q.get("favorite") === "true",
  };
  let cursor = null;
  let controller = null;
  // Leaving the page (even before its first list arrived) cancels the list's request.
  pageSignal.addEventListener("abort", () => { if (controller) controller.abort(); });

  // Search box
  const search = h("input", {
    id: "search", type: "search", name: "q", autocomplete: "off", spellcheck: "false",
    placeholder: "Search words and #tags", "aria-keyshortcuts": "/", "aria-controls": "prompt-list",
  });
  search.value = filters.q;
  const searchForm = h("form", { role: "search", class: "search", on: { submit: (e) => { e.preventDefault(); typed.cancel(); reload(); } } },
    h("label", { for: "search", class: "visually-hidden", text: "Search prompts" }),
    icon("search", "icon search-icon"),
    search,
    h("kbd", { class: "search-hint", "aria-hidden": "true", text: "/" }));

  // Sidebar
  const showGroup = h("div", { class: "chip-group", role: "group", "aria-label": "Show" });
  const folderBox = h("div", { class: "folder-tree" }, skeletonRows(3, "skeleton-line"));
  const tagBox = h("div", { class: "tag-cloud" }, skeletonRows(4, "skeleton-line"));
  const sidebar = h("aside", { class: "filters", "aria-label": "Filters" },
    h("section", { class: "filter-section" }, h("h2", { text: "Show" }), showGroup),
    h("section", { class: "filter-section" }, h("h2", { text: "Folders" }), folderBox),
    h("section", { class: "filter-section" }, h("h2", { text: "Tags" }), tagBox));

  // Results
  const summaryId = newId("summary");
  const summary = h("p", { id: summaryId, class: "result-summary", role: "status", "aria-live": "polite" });
  const active = h("div", { class: "active-filters" });
  const list = h("ul", { id: "prompt-list", class: "prompt-list", "aria-describedby": summaryId });
  const more = h("button", { class: "btn load-more", type: "button", hidden: true, on: { click: () => load(true) } }, "Load more");
  const results = h("section", { class: "results", "aria-labelledby": "results-title" },
    h("h2", { id: "results-title", class: "visually-hidden", text: "Prompts" }),
    active, summary, skeletonRows(6, "skeleton-item"), list, more);

  main.append(h("div", { class: "library" },
    h("div", { class: "library-head" }, pageTitle("Library"), searchForm),
    h("div", { class: "library-body" }, sidebar, results)));

  const typed = debounce(() => reload(), 180);
  search.addEventListener("input", () => {
    filters.q = search.value;
    typed();
  });

  function syncHash() {
    replaceHash(link({
      q: filters.q.trim(), tag: filters.tag, folder: filters.folder,
      pinned: filters.pinned ? "true" : "", favorite: filters.favorite ? "true" : "",
    }));
  }

  function hasFilters() {
    return !!(filters.q.trim() || filters.tag.length || filters.folder || filters.pinned || filters.favorite);
  }

  function reload() {
    if (!isCurrent()) return; // a late keystroke's timer: the hash belongs to another page now
    syncHash();
    renderShow();
    renderActive();
    markTags();
    markFolders();
    load(false);
  }

  async function load(append) {
    if (!isCurrent()) return;
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!append) cursor = null;
    more.disabled = true;
    results.classList.add("loading");
    try {
      const page = await api.get(`/prompts${query({
        q: filters.q.trim(), tag: filters.tag, folder: filters.folder,
        pinned: filters.pinned ? "true" : "", favorite: filters.favorite ? "true" : "",
        limit: PAGE, cursor: append ? cursor : "",
      })}`, { signal });
      if (signal.aborted || !isCurrent()) return;
      results.querySelector(".skeleton")?.remove();
      if (!append) list.replaceChildren();
      for (const p of page.items) list.append(item(p));
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      more.disabled = false;
      describe(page.items.length, append);
    } catch (err) {
      if (err.name === "AbortError" || !isCurrent()) return;
      results.querySelector(".skeleton")?.remove();
      if (!append) replace(list, h("li", { class: "empty" }, errorNotice(err, () => load(false))));
      else toast(err.message, "error");
    } finally {
      if (!signal.aborted) results.classList.remove("loading");
    }
  }

  function describe(added, append) {
    const n = list.querySelectorAll(".prompt-item").length;
    const qtext = filters.q.trim();
    if (!n) {
      summary.textContent = hasFilters() ? "No prompts match." : "No prompts yet.";
      list.append(emptyState());
      return;
    }
    const plural = n === 1 ? "prompt" : "prompts";
    summary.textContent = `${n}${cursor ? "+" : ""} ${plural}${qtext ? ` for “${qtext}”` : ""}${append && added ? ` (${added} more)` : ""}`;
  }

  function emptyState() {
    if (hasFilters()) {
      return h("li", { class: "empty" },
        h("h3", { text: "Nothing matches" }),
        h("p", {}, filters.q.trim()
          ? `No prompt has every word of “${filters.q.trim()}”. Try fewer or shorter words, or search a #tag.`
          : "No prompt fits these filters."),
        h("p", {}, h("button", { class: "btn", type: "button", on: { click: clearAll } }, "Clear search and filters")));
    }
    return h("li", { class: "empty" },
      h("h3", { text: "Your library is empty" }),
      h("p", { text: "Write your first prompt, bring in the ones you have, or save one from your AI chat: PromptDB's MCP server gives Claude, Cursor and VS Code a save_prompts tool." }),
      h("p", { class: "actions" },
        h("a", { class: "btn btn-primary", href: link("new") }, icon("plus"), "New prompt"),
        h("a", { class: "btn", href: link("import") }, icon("upload"), "Import prompts")),
      h("p", { class: "hint" }, "Press ", h("kbd", { text: "n" }), " for a new prompt, ", h("kbd", { text: "?" }), " for every shortcut."));
  }

  function clearAll() {
    filters.q = "";
    search.value = "";
    filters.tag = [];
    filters.folder = "";
    filters.pinned = false;
    filters.favorite = false;
    reload();
    search.focus();
  }

  function item(p) {
    const title = h("a", { href: link("prompts", p.slug), class: "item-title" }, p.name || p.slug);
    const meta = h("p", { class: "item-meta" },
      h("span", { class: "slug", text: p.slug }),
      h("span", { text: `v${p.version}` }),
      h("span", { text: `${p.usage_count} ${p.usage_count === 1 ? "use" : "uses"}` }),
      p.last_used_at ? h("span", {}, "used ", time(p.last_used_at)) : h("span", {}, "updated ", time(p.updated_at)));
    const tags = p.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" },
      p.tags.map((t) => h("li", {}, h("button", {
        type: "button", class: "tag", "aria-pressed": String(filters.tag.includes(t)),
        on: { click: () => toggleTag(t) },
      }, `#${t}`)))) : null;
    const pin = toggle(p, "pinned", "pin", "Pin");
    const fav = toggle(p, "favorite", "star", "Favourite");
    return h("li", { class: ["prompt-item", p.pinned && "is-pinned"], data: { slug: p.slug } },
      h("div", { class: "item-main" },
        h("h3", {}, title),
        meta,
        p.description ? h("p", { class: "item-desc", text: p.description }) : null,
        tags),
      h("div", { class: "item-actions" }, pin, fav));
  }

  function toggle(p, field, iconName, on) {
    // A toggle keeps its name; aria-pressed says whether it is on.
    const label = () => `${on} ${p.name || p.slug}`;
    const btn = h("button", {
      type: "button", class: ["btn", "btn-icon", "toggle", `toggle-${field}`],
      "aria-pressed": String(p[field]), "aria-label": label(), title: on,
    }, icon(iconName));
    btn.addEventListener("click", async () => {
      const next = !p[field];
      btn.disabled = true;
      try {
        const saved = await api.patch(`/prompts/${enc(p.slug)}`, { [field]: next });
        p[field] = saved[field];
        btn.setAttribute("aria-pressed", String(p[field]));
        if (field === "pinned") btn.closest(".prompt-item").classList.toggle("is-pinned", p.pinned);
        toast(`${p.name}: ${field === "pinned" ? (p.pinned ? "pinned" : "unpinned") : (p.favorite ? "favourite" : "no longer a favourite")}`);
      } catch (err) {
        toast(err.message, "error");
      } finally {
        btn.disabled = false;
      }
    });
    return btn;
  }

  function toggleTag(t) {
    filters.tag = filters.tag.includes(t) ? filters.tag.filter((x) => x !== t) : [...filters.tag, t];
    reload();
  }

  function renderShow() {
    const mk = (label, isOn, set) => h("button", {
      type: "button", class: "chip", "aria-pressed": String(isOn), on: { click: () => { set(); reload(); } },
    }, label);
    replace(showGroup,
      mk("All", !filters.pinned && !filters.favorite, () => { filters.pinned = false; filters.favorite = false; }),
      mk("Pinned", filters.pinned, () => { filters.pinned = !filters.pinned; }),
      mk("Favourites", filters.favorite, () => { filters.favorite = !filters.favorite; }));
  }

  function renderActive() {
    const chips = [];
    if (filters.folder) chips.push(["folder", `in ${filters.folder}/`, () => { filters.folder = ""; }]);
    for (const t of filters.tag) chips.push(["tag", `#${t}`, () => { filters.tag = filters.tag.filter((x) => x !== t); }]);
    replace(active, chips.map(([kind, label, clear]) => h("button", {
      type: "button", class: "chip chip-active", "aria-label": `Remove filter ${label}`,
      on: { click: () => { clear(); reload(); } },
    }, h("span", { text: label }), icon("close", "icon icon-sm"))));
  }

  let tagButtons = [];
  let folderButtons = [];

  function markTags() {
    for (const b of tagButtons) b.setAttribute("aria-pressed", String(filters.tag.includes(b.dataset.tag)));
  }
  function markFolders() {
    for (const b of folderButtons) b.setAttribute("aria-pressed", String(filters.folder === b.dataset.folder));
  }

  async function loadTags() {
    try {
      const { tags } = await api.get("/tags", { signal: pageSignal });
      if (!isCurrent()) return;
      if (!tags.length) {
        replace(tagBox, h("p", { class: "hint", text: "Tags you give prompts appear here." }));
        return;
      }
      const shown = 30;
      tagButtons = tags.map((t) => h("button", {
        type: "button", class: "tag-filter", data: { tag: t.tag }, "aria-pressed": "false",
        on: { click: () => toggleTag(t.tag) },
      }, h("span", { text: `#${t.tag}` }), h("span", { class: "count", text: String(t.count), "aria-label": `${t.count} prompts` })));
      const ul = h("ul", { class: "tag-list" }, tagButtons.map((b, i) => h("li", { hidden: i >= shown }, b)));
      const all = tags.length > shown ? h("button", {
        type: "button", class: "btn btn-quiet btn-sm",
        on: { click: () => { ul.querySelectorAll("li[hidden]").forEach((li) => { li.hidden = false; }); all.remove(); } },
      }, `Show all ${tags.length} tags`) : null;
      replace(tagBox, ul, all);
      markTags();
    } catch (err) {
      if (!isCurrent()) return;
      replace(tagBox, h("p", { class: "hint", text: err.message }));
    }
  }

  async function loadFolders() {
    try {
      const { folders } = await api.get("/folders", { signal: pageSignal });
      if (!isCurrent()) return;
      folderButtons = [];
      if (!folders.length) {
        replace(folderBox, h("p", { class: "hint" }, "Put prompts in folders with a slash in the slug: ", h("code", { text: "support/triage" }), "."));
        return;
      }
      const btn = (path, label, count) => {
        const b = h("button", {
          type: "button", class: "folder", data: { folder: path }, "aria-pressed": "false",
          on: { click: () => { filters.folder = filters.folder === path ? "" : path; reload(); } },
        }, icon("folder", "icon icon-sm"), h("span", { class: "folder-name", text: label }),
          count === undefined ? null : h("span", { class: "count", text: String(count), "aria-label": `${count} prompts` }));
        folderButtons.push(b);
        return b;
      };
      const tree = (fs) => h("ul", {}, fs.map((f) => h("li", {}, btn(f.path, f.name, f.total), f.folders && f.folders.length ? tree(f.folders) : null)));
      const top = tree(folders);
      top.prepend(h("li", {}, btn("", "All folders")));
      replace(folderBox, top);
      markFolders();
    } catch (err) {
      if (!isCurrent()) return;
      replace(folderBox, h("p", { class: "hint", text: err.message }));
    }
  }

  renderShow();
  renderActive();
  bindPage({});
  const loading = Promise.all([load(false), loadTags(), loadFolders()]);
  if (q.get("focus") === "search" || filters.q) search.focus();
  // Returned even when the user has left meanwhile: the shell then calls leave() at once.
  await loading;

  return {
    escape() {
      if (document.activeElement === search && search.value) {
        search.value = "";
        filters.q = "";
        typed.cancel();
        reload();
        return true;
      }
      if (document.activeElement === search) { search.blur(); return true; }
      return false;
    },
    leave() {
      typed.cancel();
      if (controller) controller.abort();
    },
  };
}
