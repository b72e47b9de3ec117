// The template rules of promptdb_core::template, for marking placeholders and listing variables
// while typing (rendering itself is the server's: POST /prompts/{slug}/render).
//   {{ name }}  a variable ([A-Za-z_][A-Za-z0-9_]*, at most 64)
//   {{> slug}}, {{> slug@label}}, {{> slug@3}}  an include
//   \{{  a literal {{ ; anything else between braces is text

const VAR = /^ *([A-Za-z_][A-Za-z0-9_]{0,63}) *\}\}/;
const INCLUDE = /^> *([a-z0-9]+(?:-[a-z0-9]+)*(?:\/[a-z0-9]+(?:-[a-z0-9]+)*){0,5})(?:@([a-z0-9_.-]+))? *\}\}/;

/**
 * Splits a template: `[{type: "text"|"var"|"include", text, name?}]`. With `raw`, an escaped
 * `\{{` keeps its backslash (to show the template as written).
 */
export function segments(content, raw = false) {
  const out = [];
  let text = "";
  let i = 0;
  while (i < content.length) {
    const open = content.indexOf("{{", i);
    if (open < 0) {
      text += content.slice(i);
      break;
    }
    if (open > 0 && content[open - 1] === "\\") {
      text += content.slice(i, raw ? open : open - 1) + "{{";
      i = open + 2;
      continue;
    }
    text += content.slice(i, open);
    const rest = content.slice(open + 2);
    const inc = INCLUDE.exec(rest);
    const v = inc ? null : VAR.exec(rest);
    const m = inc || v;
    if (!m) {
      text += "{{";
      i = open + 2;
      continue;
    }
    if (text) out.push({ type: "text", text });
    text = "";
    const whole = content.slice(open, open + 2 + m[0].length);
    out.push(inc ? { type: "include", text: whole, name: inc[1], selector: inc[2] || null } : { type: "var", text: whole, name: v[1] });
    i = open + 2 + m[0].length;
  }
  if (text) out.push({ type: "text", text });
  return out;
}

/** The distinct variable names used, in order of first appearance. */
export function placeholders(content) {
  const seen = new Set();
  for (const s of segments(content || "")) if (s.type === "var") seen.add(s.name);
  return [...seen];
}

/** A prompt's body as text: its content, or its messages as `[role]` blocks. */
export function bodyText(p) {
  if (p.kind === "chat") return (p.messages || []).map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
  return p.content || "";
}
