// The colour theme: `system` follows prefers-color-scheme; `light` and `dark` override it. The
// account's preference (`theme`) is the truth; this device remembers it for the first paint.

export const THEMES = ["system", "light", "dark"];

/** Applies a theme at once and remembers it on this device. */
export function applyTheme(theme) {
  const t = THEMES.includes(theme) ? theme : "system";
  if (t === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", t);
  try {
    if (t === "system") localStorage.removeItem("promptdb.theme");
    else localStorage.setItem("promptdb.theme", t);
  } catch { /* storage disabled */ }
  return t;
}

/** The theme in force now. */
export const currentTheme = () => document.documentElement.getAttribute("data-theme") || "system";
