// A prompt's Releases tab: its labels (one version or a weighted A/B split), moving them,
// rolling back, and every recorded move.

import { api, enc, query } from "../api.js";
import { confirm, errorNotice, h, icon, newId, replace, skeletonRows, time, toast } from "../dom.js";
import { allVersions, versionSelect } from "./history.js";

/** "v3" or "v3 90% · v4 10%". */
export function targetText(t) {
  if (!t) return "nothing";
  if (t.split) return t.split.map((s) => `v${s.version} ${s.weight}%`).join(" · ");
  return `v${t.version}`;
}

function splitBar(split) {
  const bar = h("span", { class: "split-bar", "aria-hidden": "true" });
  for (const s of split) {
    const seg = h("span", {});
    seg.style.width = `${s.weight}%`; // CSSOM, allowed under style-src 'self'
    bar.append(seg);
  }
  return bar;
}

export async function releasesTab(panel, ctx) {
  const { slug, signal, isCurrent } = ctx;
  panel.append(skeletonRows(3, "skeleton-row"));
  let versions = await allVersions(slug, signal);
  if (!isCurrent()) return;
  replace(panel);

  const labelsBox = h("div", { "aria-live": "polite" });
  const movesBox = h("div", {});
  let labels = [];

  async function loadLabels() {
    const res = await api.get(`/prompts/${enc(slug)}/labels`, { signal });
    if (!isCurrent()) return;
    labels = res.labels;
    const latest = versions[0] ? versions[0].version : ctx.p.version;
    const rows = [h("li", { class: "label-row" },
      h("span", { class: "label-name", text: "latest" }),
      h("span", { class: "label-target", text: `v${latest} · always the newest version` }))];
    for (const l of labels) {
      const target = l.split ? { split: l.split } : { version: l.version };
      rows.push(h("li", { class: "label-row", data: { label: l.name } },
        h("span", { class: "label-name", text: l.name }),
        l.protected ? h("span", { class: "pill pill-warn", title: "Moving it needs the release scope", text: "protected" }) : null,
        h("span", { class: "label-target" }, targetText(target), l.split ? splitBar(l.split) : null),
        h("span", { class: "hint" }, "moved ", time(l.updated_at)),
        h("span", { class: "actions" },
          h("button", { class: "btn btn-sm", type: "button", "aria-label": `Move label ${l.name}`, on: { click: () => edit(l) } }, "Move"),
          h("button", { class: "btn btn-sm", type: "button", "aria-label": `Roll back ${l.name}`, on: { click: () => rollback(l.name) } }, "Roll back"),
          h("button", { class: "btn btn-sm btn-quiet", type: "button", "aria-label": `Remove label ${l.name}`, on: { click: () => removeLabel(l.name) } }, "Remove"))));
    }
    replace(labelsBox, h("ul", { class: "label-list", "aria-label": "Labels" }, rows));
    nameList.replaceChildren(...[...new Set(["production", "staging", ...labels.map((l) => l.name)])].map((n) => h("option", { value: n })));
  }

  async function loadMoves() {
    try {
      const page = await api.get(`/prompts/${enc(slug)}/label-moves${query({ limit: 50 })}`, { signal });
      if (!isCurrent()) return;
      if (!page.items.length) {
        replace(movesBox, h("p", { class: "hint", text: "No label has been moved yet." }));
        return;
      }
      replace(movesBox, h("ol", { class: "moves", "aria-label": "Label moves, newest first" }, page.items.map((m) =>
        h("li", {},
          h("strong", { class: "mono", text: m.label }), ": ",
          m.from ? targetText(m.from) : "new", " → ", m.to ? targetText(m.to) : "removed",
          h("span", { class: "hint" }, " · ", m.actor || "someone", " · ", time(m.moved_at))))));
    } catch (err) {
      if (!isCurrent()) return;
      replace(movesBox, errorNotice(err));
    }
  }

  // The form that moves a label
  const nameId = newId("label");
  const nameList = h("datalist", { id: `${nameId}-list` });
  const nameInput = h("input", { id: nameId, type: "text", name: "label", required: true, list: `${nameId}-list`, autocomplete: "off", spellcheck: "false", pattern: "[a-z0-9_.\\-]{1,36}", placeholder: "production" });
  const nameErr = h("p", { class: "field-error", id: `${nameId}-err`, hidden: true });
  const modeName = newId("mode");
  const modeOne = h("input", { type: "radio", name: modeName, value: "one", checked: true });
  const modeSplit = h("input", { type: "radio", name: modeName, value: "split" });
  const oneId = newId("ver");
  const oneBox = h("div", { class: "field" }, h("label", { for: oneId, text: "Version" }), versionSelect(oneId, versions, versions[0] && versions[0].version, "version"));
  const splitRows = h("div", { class: "split-rows" });
  const addVariant = h("button", { class: "btn btn-sm", type: "button", on: { click: () => addRow() } }, icon("plus"), "Add variant");
  const splitBox = h("fieldset", { class: "checks", hidden: true },
    h("legend", { text: "Split: each subject gets one version, weights sum to 100" }), splitRows, addVariant);
  const formErr = h("p", { class: "field-error", role: "alert", hidden: true });
  let rowCount = 0;
  function addRow(version, weight) {
    const i = ++rowCount;
    const vId = newId("sv");
    const wId = newId("sw");
    const w = h("input", { id: wId, type: "number", min: "1", max: "99", step: "1", name: "weight", required: true });
    w.value = weight == null ? "" : String(weight);
    const row = h("div", { class: "split-row" },
      h("div", { class: "field" }, h("label", { for: vId, text: `Variant ${i} version` }), versionSelect(vId, versions, version, "version")),
      h("div", { class: "field field-weight" }, h("label", { for: wId, text: "Weight %" }), w),
      h("button", { class: "btn btn-sm btn-quiet", type: "button", "aria-label": `Remove variant ${i}`, on: { click: () => { row.remove(); } } }, icon("close")));
    splitRows.append(row);
    return row;
  }
  function setMode(split) {
    modeOne.checked = !split;
    modeSplit.checked = split;
    oneBox.hidden = split;
    splitBox.hidden = !split;
    if (split && !splitRows.children.length) {
      const [a, b] = versions;
      addRow(b ? b.version : a.version, 90);
      addRow(a.version, 10);
    }
  }
  modeOne.addEventListener("change", () => setMode(false));
  modeSplit.addEventListener("change", () => setMode(true));

  const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Move label");
  const form = h("form", { class: "label-form", "aria-labelledby": "move-title", novalidate: true },
    h("h3", { id: "move-title", text: "Point a label at a version" }),
    h("div", { class: "field" },
      h("label", { for: nameId, text: "Label" }), nameInput, nameList,
      h("p", { class: "hint", text: "Lower-case letters, digits, . _ - (at most 36). Applications ask for production unless they name another." }),
      nameErr),
    h("fieldset", { class: "kind-switch" },
      h("legend", { text: "Points at" }),
      h("label", {}, modeOne, "One version"),
      h("label", {}, modeSplit, "A/B split")),
    oneBox, splitBox, formErr,
    h("div", { class: "actions" }, submit));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    nameErr.hidden = true;
    formErr.hidden = true;
    nameInput.removeAttribute("aria-invalid");
    const name = nameInput.value.trim();
    if (!name) return fieldError("Name the label, for example production or staging.");
    if (name === "latest") return fieldError("latest always names the newest version and cannot be moved.");
    let body;
    if (modeSplit.checked) {
      const split = [...splitRows.querySelectorAll(".split-row")].map((r) => ({
        version: +r.querySelector("select").value, weight: +r.querySelector("input").value,
      }));
      const sum = split.reduce((a, s) => a + s.weight, 0);
      if (split.length < 2) return general("A split needs two variants or more.");
      if (sum !== 100) return general(`The weights sum to ${sum}; they must sum to 100.`);
      body = { split };
    } else {
      body = { version: +oneBox.querySelector("select").value };
    }
    submit.disabled = true;
    try {
      const move = await api.put(`/prompts/${enc(slug)}/labels/${encodeURIComponent(name)}`, body);
      toast(`${name} → ${targetText(move.to)}`);
      await refresh();
    } catch (err) {
      if (err.name === "AbortError") return; // the reload after the move: the user left
      if (err.field && /label|name/.test(err.field)) fieldError(err.message);
      else general(err.status === 403 ? `${err.message} Moving a protected label needs the release scope.` : err.message);
    } finally {
      submit.disabled = false;
    }
  });
  function fieldError(msg) {
    nameErr.textContent = msg;
    nameErr.hidden = false;
    nameInput.setAttribute("aria-invalid", "true");
    nameInput.setAttribute("aria-describedby", `${nameId}-err`);
    nameInput.focus();
  }
  function general(msg) {
    formErr.textContent = msg;
    formErr.hidden = false;
  }

  function edit(l) {
    nameInput.value = l.name;
    if (l.split) {
      splitRows.replaceChildren();
      rowCount = 0;
      for (const s of l.split) addRow(s.version, s.weight);
      setMode(true);
    } else {
      oneBox.querySelector("select").value = String(l.version);
      setMode(false);
    }
    nameInput.focus();
    form.scrollIntoView({ block: "nearest" });
  }

  async function rollback(name) {
    try {
      const move = await api.post(`/prompts/${enc(slug)}/labels/${encodeURIComponent(name)}/rollback`, {});
      toast(`${name} rolled back to ${move.to ? targetText(move.to) : "nothing (removed)"}`);
      await refresh();
    } catch (err) {
      if (err.name === "AbortError") return;
      toast(err.message, "error");
    }
  }

  async function removeLabel(name) {
    if (!(await confirm(`Remove the label “${name}”?`, `Applications that ask for ${name} get “not found” until it points somewhere again. The removal is kept in the label history.`, "Remove label"))) return;
    try {
      await api.del(`/prompts/${enc(slug)}/labels/${encodeURIComponent(name)}`);
      toast(`${name} removed`);
      await refresh();
    } catch (err) {
      if (err.name === "AbortError") return;
      toast(err.message, "error");
    }
  }

  async function refresh() {
    versions = await allVersions(slug, signal);
    if (!isCurrent()) return;
    await Promise.all([loadLabels(), loadMoves()]);
  }

  panel.append(
    h("section", { class: "card", "aria-labelledby": "labels-title" },
      h("h2", { id: "labels-title", text: "Labels" }),
      h("p", { class: "hint", text: "Applications fetch a prompt at a label. Point it at one version, or split it between versions for an A/B test: the same subject always gets the same variant." }),
      labelsBox, form),
    h("section", { class: "card", "aria-labelledby": "moves-title" },
      h("h2", { id: "moves-title", text: "Label history" }),
      movesBox));
  await Promise.all([loadLabels(), loadMoves()]);
}
