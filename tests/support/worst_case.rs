//! The worst request of each input shape, at or near the 16 MiB body limit: what an attacker (or
//! a schema-driven fuzzer) would send. Shared by the `worst_case` benchmark, which times them
//! through the real router, and the `worst_case` test, which expects each one's answer.

#![allow(dead_code, unreachable_pub, missing_debug_implementations)]

use serde_json::{Value, json};

/// The body limit, less room for the envelope.
const BIG: usize = promptdb_http::MAX_BODY_BYTES - 4096;

/// One request.
pub struct Shape {
    /// Benchmark id.
    pub name: &'static str,
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
    /// The status it must get.
    pub status: u16,
}

fn shape(name: &'static str, method: &'static str, path: &str, body: String, status: u16) -> Shape {
    assert!(
        body.len() <= 16 * 1024 * 1024,
        "{name}: {} bytes",
        body.len()
    );
    Shape {
        name,
        method,
        path: path.to_owned(),
        body: Some(body),
        status,
    }
}

/// A list of `n` copies of `item`, as JSON text.
fn list(item: &str, n: usize) -> String {
    let mut out = String::with_capacity(n * (item.len() + 1) + 2);
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// How many `item`s fit in `bytes`.
fn fit(item: &str, bytes: usize) -> usize {
    bytes / (item.len() + 1)
}

fn prompt_with(field: &str, value: &str) -> String {
    format!(r#"{{"prompts": [{{"slug": "p", "name": "n", "content": "c", "{field}": {value}}}]}}"#)
}

/// Content of at most `bytes` made of `unit` repeated.
fn repeat_to(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

/// Every shape. The slug `taken` must exist for the conflict shapes.
pub fn all() -> Vec<Shape> {
    let mut out = Vec::new();
    let var = r#"{"name": "v"}"#;
    // The issue's case: 80,000 variables (1.6 MB), then as many as fit in the limit.
    let vars: Vec<String> = (0..80_000)
        .map(|i| format!(r#"{{"name": "v{i}"}}"#))
        .collect();
    out.push(shape(
        "variables_80k",
        "POST",
        "/api/v1/prompts",
        prompt_with("variables", &format!("[{}]", vars.join(","))),
        422,
    ));
    out.push(shape(
        "variables_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("variables", &list(var, fit(var, BIG))),
        422,
    ));
    out.push(shape(
        "tags_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("tags", &list(r#""t""#, fit(r#""t""#, BIG))),
        422,
    ));
    out.push(shape(
        "labels_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("labels", &list(r#""l""#, fit(r#""l""#, BIG))),
        422,
    ));
    let message = r#"{"role": "user", "content": "hi"}"#;
    out.push(shape(
        "messages_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("messages", &list(message, fit(message, BIG))),
        422,
    ));
    let tiny = r#"{"slug": "x", "name": "n", "content": "c"}"#;
    out.push(shape(
        "batch_at_body_limit",
        "POST",
        "/api/v1/prompts",
        format!(r#"{{"prompts": {}}}"#, list(tiny, fit(tiny, BIG))),
        422,
    ));
    // Config: one huge array value, many entries, deep nesting.
    out.push(shape(
        "config_huge_value",
        "POST",
        "/api/v1/prompts",
        prompt_with(
            "config",
            &format!(r#"{{"a": {}}}"#, list("0", fit("0", BIG))),
        ),
        422,
    ));
    let entries: Vec<String> = (0..fit(r#""k0000000":0"#, BIG))
        .map(|i| format!(r#""k{i:07}":0"#))
        .collect();
    out.push(shape(
        "config_entries_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("config", &format!("{{{}}}", entries.join(","))),
        422,
    ));
    out.push(shape(
        "config_deep",
        "POST",
        "/api/v1/prompts",
        prompt_with(
            "config",
            &format!(r#"{{"a": {}0{}}}"#, "[".repeat(100), "]".repeat(100)),
        ),
        422,
    ));
    out.push(shape(
        "json_nested_at_body_limit",
        "POST",
        "/api/v1/prompts",
        "[".repeat(BIG),
        422,
    ));
    out.push(shape(
        "config_nested_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("config", &format!(r#"{{"a": {}"#, "[".repeat(BIG))),
        400,
    ));
    out.push(shape(
        "whitespace_at_body_limit",
        "POST",
        "/api/v1/prompts",
        format!("{}{{}}", " ".repeat(BIG)),
        422,
    ));
    // Content: one string as long as the limit allows, plain and escaped.
    out.push(shape(
        "string_at_body_limit",
        "POST",
        "/api/v1/prompts",
        prompt_with("description", &format!(r#""{}""#, "x".repeat(BIG))),
        422,
    ));
    let escaped = repeat_to(r"\u00e9", BIG);
    out.push(shape(
        "content_escaped_at_body_limit",
        "POST",
        "/api/v1/prompts",
        format!(r#"{{"prompts": [{{"slug": "p", "name": "n", "content": "{escaped}"}}]}}"#),
        422,
    ));
    // Placeholders: distinct names past the limit, and the densest valid content.
    let distinct: String = (0..20_000).map(|i| format!("{{{{v{i}}}}}")).collect();
    let distinct = &distinct[..distinct.len().min(128 * 1024)];
    let distinct = &distinct[..distinct.rfind("{{").unwrap()];
    out.push(shape(
        "placeholders_distinct",
        "POST",
        "/api/v1/prompts",
        format!(r#"{{"prompts": [{{"slug": "p", "name": "n", "content": "{distinct}"}}]}}"#),
        422,
    ));
    let unclosed = repeat_to("{{ ", 128 * 1024);
    out.push(shape(
        "placeholders_unclosed",
        "POST",
        "/api/v1/prompts",
        format!(r#"{{"prompts": [{{"slug": "taken", "name": "n", "content": "{unclosed}"}}]}}"#),
        409,
    ));
    let includes = repeat_to("{{> a/b/c/d/e/f@production }}", 128 * 1024);
    out.push(shape(
        "includes_dense",
        "POST",
        "/api/v1/prompts",
        format!(r#"{{"prompts": [{{"slug": "p", "name": "n", "content": "{includes}"}}]}}"#),
        422,
    ));
    // The heaviest valid batch: as many prompts as fit in the body, each of 128 KiB dense with
    // placeholders, 20 tags and 32 variables; refused only at the end, as a conflict, so every
    // check runs.
    let content = repeat_to("{{a}} {{ b }} word ", 128 * 1024);
    let tags: Vec<String> = (0..20)
        .map(|i| format!(r#""{}{i:02}""#, "t".repeat(38)))
        .collect();
    let vars: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"name": "v{i}", "default": "{}"}}"#, "d".repeat(500)))
        .collect();
    let heavy = |slug: &str| {
        format!(
            r#"{{"slug": "{slug}", "name": "{}", "description": "{}", "content": "{content}", "tags": [{}], "variables": [{}]}}"#,
            "n".repeat(200),
            "d".repeat(2000),
            tags.join(","),
            vars.join(",")
        )
    };
    let n = BIG / (heavy("heavy-00").len() + 1);
    let batch: Vec<String> = (0..n)
        .map(|i| {
            heavy(&if i + 1 == n {
                "taken".to_owned()
            } else {
                format!("heavy-{i:02}")
            })
        })
        .collect();
    let batch = format!(r#"{{"prompts": [{}]}}"#, batch.join(","));
    out.push(shape(
        "batch_heaviest_valid",
        "POST",
        "/api/v1/prompts",
        batch,
        409,
    ));
    // Patching one prompt and saving a draft with the most content.
    out.push(shape(
        "patch_content",
        "PATCH",
        "/api/v1/prompts/patched",
        format!(
            r#"{{"content": "{content}", "variables": [{}]}}"#,
            vars.join(",")
        ),
        200,
    ));
    out.push(shape(
        "draft_content",
        "POST",
        "/api/v1/drafts",
        format!(r#"{{"id": "{DRAFT_ID}", "fields": {{"content": "{content}"}}}}"#),
        200,
    ));
    // Rendering and resolving with the most values.
    let values: Vec<String> = (0..1024)
        .map(|i| format!(r#""v{i}": "{}""#, "x".repeat(3_000)))
        .collect();
    out.push(shape(
        "render_values",
        "POST",
        "/api/v1/prompts/taken/render",
        format!(r#"{{"variables": {{{}}}}}"#, values.join(",")),
        422,
    ));
    // `taken` repeats each variable eight times: values of 128 KiB render past the 1 MiB limit,
    // values of 60 KiB just under it.
    let over = format!(
        r#"{{"a": "{}", "b": "{}"}}"#,
        "x".repeat(128 * 1024),
        "y".repeat(128 * 1024)
    );
    out.push(shape(
        "render_past_output_limit",
        "POST",
        "/api/v1/prompts/taken/render",
        format!(r#"{{"variables": {over}}}"#),
        422,
    ));
    let under = format!(
        r#"{{"a": "{}", "b": "{}"}}"#,
        "x".repeat(60 * 1024),
        "y".repeat(60 * 1024)
    );
    out.push(shape(
        "render_largest_output",
        "POST",
        "/api/v1/prompts/taken/render",
        format!(r#"{{"variables": {under}}}"#),
        200,
    ));
    // 50 renderings of 560 KiB: past the 8 MiB a batch answers with, the rest answer with errors.
    let mid = format!(
        r#"{{"a": "{}", "b": "{}"}}"#,
        "x".repeat(35 * 1024),
        "y".repeat(35 * 1024)
    );
    let items: Vec<String> = (0..50)
        .map(|_| format!(r#"{{"slug": "taken", "label": "latest", "variables": {mid}}}"#))
        .collect();
    out.push(shape(
        "resolve_batch_rendered",
        "POST",
        "/api/v1/resolve",
        format!(r#"{{"prompts": [{}]}}"#, items.join(",")),
        200,
    ));
    // Preferences, keys and labels.
    out.push(shape(
        "preferences_huge_value",
        "PUT",
        "/api/v1/preferences",
        format!(r#"{{"theme": {}}}"#, list("0", fit("0", BIG))),
        422,
    ));
    let split: Vec<String> = (0..fit(r#"{"version":1,"weight":1}"#, BIG))
        .map(|_| r#"{"version":1,"weight":1}"#.to_owned())
        .collect();
    out.push(shape(
        "split_at_body_limit",
        "PUT",
        "/api/v1/prompts/taken/labels/staging",
        format!(r#"{{"split": [{}]}}"#, split.join(",")),
        422,
    ));
    out.push(shape(
        "key_scopes_at_body_limit",
        "POST",
        "/api/v1/keys",
        format!(
            r#"{{"name": "k", "scopes": {}}}"#,
            list(r#""read""#, fit(r#""read""#, BIG))
        ),
        422,
    ));
    // Query strings: a long search and many tag filters (bounded by the URI length).
    let words: Vec<String> = (0..4000).map(|i| format!("w{i}")).collect();
    out.push(Shape {
        name: "search_long_query",
        method: "GET",
        path: format!("/api/v1/prompts?q={}", words.join("+")),
        body: None,
        status: 422,
    });
    let tags: Vec<String> = (0..4000).map(|i| format!("tag=t{i}")).collect();
    out.push(Shape {
        name: "search_many_tags",
        method: "GET",
        path: format!("/api/v1/prompts?{}", tags.join("&")),
        body: None,
        status: 422,
    });
    let terms: Vec<String> = (0..16).map(|i| format!("w{i}{}", "x".repeat(25))).collect();
    out.push(Shape {
        name: "search_most_terms",
        method: "GET",
        path: format!("/api/v1/prompts?q={}", terms.join("+")),
        body: None,
        status: 200,
    });
    out
}

/// The draft the draft shape updates.
pub const DRAFT_ID: &str = "01a20000-0000-7000-8000-000000000001";

/// The prompts the shapes refer to: `taken` (each of its variables `a` and `b` eight times) and
/// `patched`.
pub fn seed_body() -> Value {
    json!({ "prompts": [
        { "slug": "taken", "name": "Taken", "content": "{{a}} {{b}} ".repeat(8) },
        { "slug": "patched", "name": "Patched", "content": "{{a}}" },
    ] })
}
