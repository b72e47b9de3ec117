//! The OpenAPI document matches the router: every documented operation is routed, every other
//! method on a documented path is not, and every schema reference resolves.

mod common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use common::Api;
use serde_json::Value;

fn concrete(path: &str) -> String {
    path.replace("{slug}", "some-slug")
        .replace("{label}", "staging")
        .replace("{version}", "1")
        .replace("{id}", "01a20000-0000-7000-8000-000000000000")
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_nothing_else_is() {
    let api = Api::new().await;
    let ops = promptdb_http::openapi::operations();
    assert!(ops.len() >= 27, "{} operations", ops.len());
    let ids: HashSet<_> = ops.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), ops.len(), "operation ids are unique");

    let all = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let paths: HashSet<&str> = ops.iter().map(|o| o.path).collect();
    for routed in promptdb_http::rest::paths() {
        assert!(
            paths.contains(routed.as_str()),
            "{routed} is routed but not documented"
        );
    }
    for path in paths {
        for method in &all {
            let documented = ops
                .iter()
                .any(|o| o.path == path && o.method.eq_ignore_ascii_case(method.as_str()));
            let r = api
                .send(method.clone(), &concrete(path), Some(&api.alice), None)
                .await;
            let code = r.body["error"]["code"].as_str().unwrap_or_default();
            if documented {
                assert!(
                    code != "no_route" && code != "method_not_allowed",
                    "{method} {path} is documented but not routed: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is routed but not documented"
                );
            }
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_served_and_self_consistent() {
    let api = Api::new().await;
    let doc = api
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, promptdb_http::openapi::document());
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling ref {r}"
        );
    }
    // Request and response types the frontends use are all described.
    for schema in [
        "Prompt",
        "NewPrompt",
        "PromptPatch",
        "PromptSummary",
        "Draft",
        "SaveDraft",
        "Export",
        "ErrorBody",
        "CreatedApiKey",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema} is missing"
        );
    }
    // Writes document their validation and conflict errors.
    let create = &doc["paths"]["/api/v1/prompts"]["post"]["responses"];
    for code in ["201", "400", "401", "409", "413", "422", "503"] {
        assert!(
            create.get(code).is_some(),
            "POST /api/v1/prompts lacks {code}"
        );
    }
    assert_eq!(
        doc["paths"]["/health"]["get"]["security"],
        serde_json::json!([])
    );
}
