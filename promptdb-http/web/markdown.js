// Files to import, read the way `promptdb import` reads them (promptdb-http/src/cli/import.rs and
// markdown.rs): a PromptDB export, or Markdown with front matter such as Claude Code commands.

/** Front matter (`key: value`, `[a, b]` and `- item` lists) and body. Errors name the line. */
export function parseMarkdown(text) {
  text = text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n");
  const lines = text.split("\n");
  if (lines[0].trimEnd() !== "---") return { front: {}, body: text };
  const front = {};
  let list = null;
  let closed = false;
  let consumed = lines[0].length + 1;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    consumed += line.length + 1;
    if (line.trimEnd() === "---") { closed = true; break; }
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    const item = line.trimStart().startsWith("- ") ? line.trimStart().slice(2) : null;
    if (item !== null) {
      if (!list) throw new Error(`front matter line ${n + 1}: a list item without a key`);
      front[list].push(unquote(item));
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) throw new Error(`front matter line ${n + 1}: expected \`key: value\``);
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    list = null;
    if (!value) { front[key] = []; list = key; }
    else if (value.startsWith("[") && value.endsWith("]")) front[key] = value.slice(1, -1).split(",").map(unquote).filter(Boolean);
    else front[key] = unquote(value);
  }
  if (!closed) throw new Error("front matter: the closing `---` line is missing");
  const body = text.slice(Math.min(consumed, text.length));
  return { front, body: body.startsWith("\n") ? body.slice(1) : body };
}

function unquote(s) {
  s = s.trim();
  if (s.length >= 2 && ((s[0] === '"' && s.endsWith('"')) || (s[0] === "'" && s.endsWith("'")))) {
    const inner = s.slice(1, -1);
    if (s[0] === '"') return inner.replace(/\\"/g, '"').replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
    return inner.replace(/''/g, "'");
  }
  return s;
}

const asText = (v) => (Array.isArray(v) ? v.join(", ") : v);
const asList = (v) => (Array.isArray(v) ? v : String(v).split(",").map((t) => t.trim()).filter(Boolean));
const asFlag = (v) => { const t = String(asText(v)).trim(); return t === "true" || t === "yes" ? true : t === "false" || t === "no" ? false : null; };

/** A slug from free text, as `Slug::derive_from` makes it. */
export function deriveSlug(text) {
  let out = "";
  for (const c of text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")) {
    if (/[A-Za-z0-9]/.test(c)) {
      if (out.length === 64) break;
      out += c.toLowerCase();
    } else if (out && !out.endsWith("-")) {
      if (out.length + 2 > 64) break;
      out += "-";
    }
  }
  return out.replace(/-+$/, "");
}

/**
 * One Markdown file as a new prompt. `path` is the file's path below the folder picked (or its
 * name): `frontend/fix.md` → slug `frontend-fix`. `{{` stays literal unless `keepVariables`;
 * `$ARGUMENTS` becomes the optional variable `arguments`.
 */
export function fromMarkdown(path, text, keepVariables = false) {
  const { front, body } = parseMarkdown(text);
  const stem = path.replace(/\.[^./]+$/, "").split("/").filter(Boolean).join(" ");
  const slug = front.slug ? asText(front.slug) : deriveSlug(stem);
  if (!slug) throw new Error("cannot make a slug from the file name; add `slug:` to the front matter");
  let content = keepVariables ? body : body.replace(/\{\{/g, "\\{{");
  const variables = [];
  if (content.includes("$ARGUMENTS")) {
    content = content.replaceAll("$ARGUMENTS", "{{arguments}}");
    variables.push({ name: "arguments", description: front["argument-hint"] ? asText(front["argument-hint"]) : "", required: false });
  }
  const p = {
    slug,
    name: asText(front.name || front.title || stem),
    description: front.description ? asText(front.description) : "",
    content,
    tags: front.tags ? asList(front.tags) : [],
    variables,
  };
  const pinned = front.pinned != null ? asFlag(front.pinned) : null;
  const favorite = front.favorite != null ? asFlag(front.favorite) : null;
  if (pinned) p.pinned = true;
  if (favorite) p.favorite = true;
  return p;
}

/** A PromptDB export's prompts as new prompts (their newest version; labels are not carried). */
export function fromExport(doc) {
  if (!doc || doc.format !== "promptdb-export" || !Array.isArray(doc.prompts)) {
    throw new Error(`not a PromptDB export${doc && doc.format ? ` (format \`${doc.format}\`)` : ""}`);
  }
  return doc.prompts.map((e) => {
    const p = {
      slug: e.slug, name: e.name, description: e.description || "", kind: e.kind || "text",
      tags: e.tags || [], variables: e.variables || [], pinned: !!e.pinned, favorite: !!e.favorite,
    };
    if (p.kind === "chat") p.messages = e.messages || [];
    else p.content = e.content || "";
    if (e.config && Object.keys(e.config).length) p.config = e.config;
    if (e.commit_message) p.commit_message = e.commit_message;
    return p;
  });
}
