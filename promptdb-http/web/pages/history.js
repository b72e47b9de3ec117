// A prompt's History tab: its versions (newest first) and the difference between two of them.

import { api, enc, query } from "../api.js";
import { confirm, errorNotice, h, newId, replace, skeletonRows, time, toast } from "../dom.js";

/** All versions of a prompt, newest first (pages through them); `signal` cancels. */
export async function allVersions(slug, signal) {
  const out = [];
  let cursor = "";
  for (let i = 0; i < 50; i++) {
    const page = await api.get(`/prompts/${enc(slug)}/versions${query({ limit: 100, cursor })}`, { signal });
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

/** A version picker. */
export function versionSelect(id, versions, selected, name) {
  const sel = h("select", { id, name });
  for (const v of versions) {
    const o = h("option", { value: String(v.version) }, `v${v.version}${v.commit_message ? ` · ${v.commit_message.slice(0, 40)}` : ""}`);
    if (v.version === selected) o.selected = true;
    sel.append(o);
  }
  return sel;
}

function fmt(value) {
  if (Array.isArray(value)) return value.length ? value.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ") : "(none)";
  if (value && typeof value === "object") return JSON.stringify(value);
  return value === "" ? "(empty)" : String(value);
}

/** A diff (`lines` of `GET /diff`) with insertions and deletions marked. */
export function diffView(d) {
  const out = [];
  if (d.lines.length) {
    out.push(h("ol", { class: "diff", "aria-label": `Changes from version ${d.from} to version ${d.to}` }, d.lines.map((l) => {
      const sign = l.op === "insert" ? "+" : l.op === "delete" ? "−" : " ";
      const body = l.op === "insert" ? h("ins", {}, h("span", { class: "visually-hidden", text: "added: " }), l.text)
        : l.op === "delete" ? h("del", {}, h("span", { class: "visually-hidden", text: "removed: " }), l.text)
          : h("span", { text: l.text });
      return h("li", { class: ["diff-line", `diff-${l.op}`] },
        h("span", { class: "ln", "aria-hidden": "true", text: l.old == null ? "" : String(l.old) }),
        h("span", { class: "ln", "aria-hidden": "true", text: l.new == null ? "" : String(l.new) }),
        h("span", { class: "op", "aria-hidden": "true", text: sign }),
        body);
    })));
  } else if (!d.fields.length) {
    out.push(h("p", { class: "hint", text: `Versions ${d.from} and ${d.to} are the same.` }));
  } else {
    out.push(h("p", { class: "hint", text: "The text is the same." }));
  }
  if (d.fields.length) {
    out.push(h("div", { class: "table-wrap field-changes" }, h("table", {},
      h("caption", { class: "visually-hidden", text: "Other fields that changed" }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: `v${d.from}` }), h("th", { scope: "col", text: `v${d.to}` }))),
      h("tbody", {}, d.fields.map((f) => h("tr", {}, h("th", { scope: "row", text: f.field }), h("td", {}, h("del", { text: fmt(f.from) })), h("td", {}, h("ins", { text: fmt(f.to) }))))))));
  }
  return out;
}

export async function historyTab(panel, ctx) {
  const { slug, p, signal, isCurrent } = ctx;
  panel.append(skeletonRows(3, "skeleton-row"));
  const versions = await allVersions(slug, signal);
  if (!isCurrent()) return;
  replace(panel);

  // Compare
  const fromId = newId("from");
  const toId = newId("to");
  const latest = versions[0] ? versions[0].version : p.version;
  const fromSel = versionSelect(fromId, versions, Math.max(1, latest - 1), "from");
  const toSel = versionSelect(toId, versions, latest, "to");
  const diffBox = h("div", { id: "diff", "aria-live": "polite" });
  async function compare(from, to) {
    fromSel.value = String(from);
    toSel.value = String(to);
    replace(diffBox, skeletonRows(2, "skeleton-row"));
    try {
      const d = await api.get(`/prompts/${enc(slug)}/diff${query({ from, to })}`, { signal });
      if (!isCurrent()) return;
      replace(diffBox, h("h3", { class: "hint", text: `Version ${d.from} → version ${d.to}${d.changed.length ? `: ${d.changed.join(", ")} changed` : ""}` }), diffView(d));
    } catch (err) {
      if (!isCurrent()) return;
      replace(diffBox, errorNotice(err));
    }
  }
  const compareForm = h("form", { class: "diff-controls", "aria-label": "Compare versions", on: { submit: (e) => { e.preventDefault(); compare(+fromSel.value, +toSel.value); } } },
    h("div", { class: "field" }, h("label", { for: fromId, text: "From" }), fromSel),
    h("div", { class: "field" }, h("label", { for: toId, text: "To" }), toSel),
    h("button", { class: "btn", type: "submit" }, "Compare"));

  // List
  const list = h("ol", { class: "version-list", "aria-label": "Versions, newest first" }, versions.map((v) => {
    const isLatest = v.version === latest;
    return h("li", { class: "version-row", data: { version: String(v.version) } },
      h("span", { class: "version-num", text: `v${v.version}` }),
      h("div", {},
        h("div", { class: "version-msg" }, v.commit_message || h("span", { class: "muted", text: v.version === 1 ? "First version" : "No message" })),
        h("div", { class: "version-meta" },
          time(v.created_at),
          h("span", { text: `${v.usage_count || 0} ${v.usage_count === 1 ? "use" : "uses"}` }),
          (v.labels || []).map((l) => h("span", { class: ["pill", l !== "latest" && "pill-accent"], text: l })))),
      h("div", { class: "actions" },
        v.version > 1 ? h("button", { class: "btn btn-sm", type: "button", "aria-label": `Changes in version ${v.version}`, on: { click: () => { compare(v.version - 1, v.version); diffBox.scrollIntoView({ block: "nearest" }); } } }, "Changes") : null,
        !isLatest ? h("button", { class: "btn btn-sm", type: "button", "aria-label": `Restore version ${v.version}`, on: { click: () => restore(v.version) } }, "Restore") : null));
  }));

  async function restore(n) {
    if (!(await confirm(`Restore version ${n}?`, `Version ${n}'s content is saved as a new version ${latest + 1}. Nothing is lost: the versions in between stay in the history.`, "Restore", "primary"))) return;
    try {
      await api.post(`/prompts/${enc(slug)}/versions/${n}/restore`, {});
      toast(`Version ${n} restored as version ${latest + 1}`);
      ctx.reloadPage();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  panel.append(
    h("section", { class: "card", "aria-labelledby": "diff-title" },
      h("h2", { id: "diff-title", text: "Compare versions" }),
      versions.length > 1 ? [compareForm, diffBox] : h("p", { class: "hint", text: "There is one version so far. Each edit of the text, name, description, tags or variables writes a new one." })),
    h("section", { class: "card", "aria-labelledby": "versions-title" },
      h("h2", { id: "versions-title", text: `${versions.length} ${versions.length === 1 ? "version" : "versions"}` }),
      list));
  if (versions.length > 1) compare(Math.max(1, latest - 1), latest);
}
