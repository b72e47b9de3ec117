//! End to end: the web app in a real browser. `tests/e2e/web/web_test.mjs` starts the real
//! binary (with the assets it embeds), drives Debian's Chromium through playwright-core over
//! every journey (sign-in, library, search, prompt page, history, labels, editor and drafts,
//! import and export, API keys, settings, keyboard), fails on any console error or
//! Content-Security-Policy violation, scans every page state with axe-core in light and dark,
//! and measures the first load. `apps_test.mjs` runs the MCP Apps view of the library in a real
//! host.

mod support;

use std::process::Command;

use support::{assert_success, node22, output, promptdb_bin, root};

#[test]
fn the_web_app_works_in_a_real_browser() {
    let dir = root().join("tests/e2e/web");
    assert!(
        dir.join("node_modules/playwright-core/package.json")
            .exists(),
        "the browser test is not installed: run scripts/setup-e2e (npm ci in tests/e2e/web)"
    );
    let out = output(
        Command::new(node22())
            .arg(dir.join("web_test.mjs"))
            .arg(promptdb_bin())
            .current_dir(&dir)
            .env_remove("PROMPTDB_WEB_DIR"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_success("web_test.mjs", &out);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "unexpected summary: {last}"
    );
}

/// The prompt library app inside a real MCP Apps host: `tests/e2e/web/apps_test.mjs` loads a host
/// page built on the official `AppBridge` (`@modelcontextprotocol/ext-apps`) and TypeScript MCP
/// client in Chromium, connected to the real binary, in both protocol eras.
#[test]
fn the_library_app_works_in_an_mcp_apps_host() {
    let dir = root().join("tests/e2e/web");
    assert!(
        dir.join("node_modules/@modelcontextprotocol/ext-apps/package.json")
            .exists(),
        "the MCP Apps host is not installed: run scripts/setup-e2e (npm ci in tests/e2e/web)"
    );
    let out = output(
        Command::new(node22())
            .arg(dir.join("apps_test.mjs"))
            .arg(promptdb_bin())
            .current_dir(&dir),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_success("apps_test.mjs", &out);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "unexpected summary: {last}"
    );
}
