// Drafts: what the editor autosaved and was not saved as a prompt yet (kept 24 hours).

import { api } from "../api.js";
import { confirm, errorNotice, h, icon, pageTitle, replace, skeletonRows, time, toast } from "../dom.js";
import { link } from "../router.js";

export async function render({ main, app, signal, isCurrent }) {
  document.title = "Drafts · PromptDB";
  const list = h("div", {}, skeletonRows(3, "skeleton-row"));
  main.append(
    h("div", { class: "page-head" }, h("div", {}, pageTitle("Drafts"),
      h("p", { class: "lead", text: "The editor saves your work here every few seconds. Drafts are deleted 24 hours after their last change, or when you save them." }))),
    list);

  async function load() {
    let drafts;
    try {
      ({ drafts } = await api.get("/drafts", { signal }));
    } catch (err) {
      if (!isCurrent()) return;
      replace(list, errorNotice(err, load));
      return;
    }
    if (!isCurrent()) return;
    if (!drafts.length) {
      replace(list, h("div", { class: "empty" },
        h("h2", { text: "No drafts" }),
        h("p", { text: "Everything you wrote is saved. Unsaved work shows up here if you leave the editor before saving." }),
        h("p", { class: "actions" }, h("a", { class: "btn btn-primary", href: link("new") }, icon("plus"), "New prompt"))));
      return;
    }
    replace(list, h("ul", { class: "prompt-list", "aria-label": "Drafts" }, drafts.map((d) => {
      const name = (d.fields && d.fields.name) || "Untitled";
      const href = d.prompt_slug ? link("prompts", d.prompt_slug, "edit", { draft: d.id }) : link("new", { draft: d.id });
      const preview = (d.fields && (d.fields.content || (d.fields.messages || []).map((m) => m.content).join(" · "))) || "";
      return h("li", { class: "prompt-item", data: { draft: d.id } },
        h("div", { class: "item-main" },
          h("h2", { class: "h3" }, h("a", { class: "item-title", href }, name)),
          h("p", { class: "item-meta" },
            h("span", { text: d.prompt_slug ? `Changes to ${d.prompt_slug}` : "New prompt" }),
            h("span", {}, "saved ", time(d.updated_at)),
            h("span", {}, "expires ", time(d.expires_at))),
          preview ? h("p", { class: "item-desc", text: preview.slice(0, 300) }) : null),
        h("div", { class: "item-actions" },
          h("a", { class: "btn btn-sm", href, "aria-label": `Open draft ${name}` }, "Open"),
          h("button", { class: "btn btn-sm", type: "button", "aria-label": `Discard draft ${name}`, on: { click: () => discard(d, name) } }, "Discard")));
    })));
  }

  async function discard(d, name) {
    if (!(await confirm(`Discard “${name}”?`, "The draft is deleted. A saved prompt it edits stays as it is.", "Discard"))) return;
    try {
      await api.del(`/drafts/${encodeURIComponent(d.id)}`);
      toast("Draft discarded");
      app.refreshDrafts();
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  await load();
  return {};
}
