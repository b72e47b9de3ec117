//! Conformance fixtures for multi-round tool calls (SEP-2322, protocol 2026-07-28): the tool
//! answers `resultType: input_required` with requests for the client (elicitation, sampling,
//! roots) and finishes when the client calls again with the responses. Test mode only, like
//! [`super::fixtures`].

use std::sync::LazyLock;

use rmcp::{
    ErrorData as McpError, RoleServer,
    handler::server::tool::{InputResponses, RequestState},
    model::{
        CallToolResponse, CallToolResult, ContentBlock, GetPromptResponse, GetPromptResult,
        InputRequests, InputRequiredResult, PromptMessage, Role,
    },
    service::RequestContext,
    tool, tool_router,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{PromptDbMcp, args::NoArgs, schema::input};

/// Per-process secret that makes `requestState` tamper-evident.
static STATE_SECRET: LazyLock<String> = LazyLock::new(|| uuid::Uuid::now_v7().to_string());

fn sign(payload: &Value) -> String {
    let data = payload.to_string();
    let mac = hex(&Sha256::digest(
        format!("{}{data}", *STATE_SECRET).as_bytes(),
    ));
    json!({ "data": data, "mac": mac }).to_string()
}

fn verify(raw: &str) -> Option<Value> {
    let envelope: Value = serde_json::from_str(raw).ok()?;
    let data = envelope.get("data")?.as_str()?;
    let mac = envelope.get("mac")?.as_str()?;
    let expected = hex(&Sha256::digest(
        format!("{}{data}", *STATE_SECRET).as_bytes(),
    ));
    (mac == expected)
        .then(|| serde_json::from_str(data).ok())
        .flatten()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn nonce() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn requests(value: Value) -> Result<InputRequests, McpError> {
    serde_json::from_value(value)
        .map_err(|e| McpError::internal_error(format!("fixture input requests: {e}"), None))
}

fn input_required(requests: InputRequests, state: Option<String>) -> CallToolResponse {
    CallToolResponse::InputRequired(InputRequiredResult::new(Some(requests), state))
}

fn done(text: impl Into<String>) -> Result<CallToolResponse, McpError> {
    Ok(CallToolResult::success(vec![ContentBlock::text(text.into())]).into())
}

fn elicit(message: &str, field: &str) -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": message,
            "requestedSchema": { "type": "object", "properties": { field: { "type": "string" } }, "required": [field] }
        }
    })
}

fn confirm() -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": "Please confirm",
            "requestedSchema": { "type": "object", "properties": { "ok": { "type": "boolean" } }, "required": ["ok"] }
        }
    })
}

fn sample(text: &str, max_tokens: u32) -> Value {
    json!({
        "method": "sampling/createMessage",
        "params": { "messages": [{ "role": "user", "content": { "type": "text", "text": text } }], "maxTokens": max_tokens }
    })
}

/// The text of `content.<field>` in an elicitation response.
fn input_text(responses: &rmcp::model::InputResponses, key: &str, field: &str) -> String {
    responses
        .get(key)
        .and_then(|r| r.pointer(&format!("/content/{field}")))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned()
}

#[tool_router(router = fixture_mrtr_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Asks for the user's name through an input request (conformance fixture, SEP-2322).
    #[tool(name = "test_input_required_result_elicitation", input_schema = input::<NoArgs>())]
    async fn mrtr_elicitation(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, McpError> {
        // Only a well-formed elicitation result counts; anything else is asked for again.
        match responses {
            Some(r) if r.get("user_name").is_some_and(Value::is_object) => {
                done(format!("Hello, {}!", input_text(&r, "user_name", "name")))
            }
            _ => Ok(input_required(
                requests(json!({ "user_name": elicit("What is your name?", "name") }))?,
                None,
            )),
        }
    }

    /// Asks the client's model a question through an input request (conformance fixture).
    #[tool(name = "test_input_required_result_sampling", input_schema = input::<NoArgs>())]
    async fn mrtr_sampling(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, McpError> {
        match responses.as_ref().and_then(|r| r.get("sample_request")) {
            Some(sample) => {
                let text = sample
                    .pointer("/content/text")
                    .and_then(Value::as_str)
                    .unwrap_or("no response");
                done(format!("Sampling result: {text}"))
            }
            None => Ok(input_required(
                requests(
                    json!({ "sample_request": sample("What is the capital of France?", 100) }),
                )?,
                None,
            )),
        }
    }

    /// Asks for the client's roots through an input request (conformance fixture).
    #[tool(name = "test_input_required_result_list_roots", input_schema = input::<NoArgs>())]
    async fn mrtr_list_roots(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, McpError> {
        match responses.as_ref().and_then(|r| r.get("roots_request")) {
            Some(roots) => {
                let n = roots
                    .get("roots")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                done(format!("Found {n} root(s)"))
            }
            None => Ok(input_required(
                requests(json!({ "roots_request": { "method": "roots/list", "params": {} } }))?,
                None,
            )),
        }
    }

    /// Round-trips an opaque request state (conformance fixture).
    #[tool(name = "test_input_required_result_request_state", input_schema = input::<NoArgs>())]
    async fn mrtr_request_state(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, McpError> {
        let state_ok = state
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .is_some_and(|s| s["kind"] == "request-state");
        let confirmed = responses
            .as_ref()
            .and_then(|r| r.get("confirm"))
            .and_then(|c| c.pointer("/content/ok"))
            .and_then(Value::as_bool)
            == Some(true);
        if state_ok && confirmed {
            return done("state-ok: requestState validated");
        }
        let state = json!({ "kind": "request-state", "nonce": nonce() }).to_string();
        Ok(input_required(
            requests(json!({ "confirm": confirm() }))?,
            Some(state),
        ))
    }

    /// Asks for three inputs at once (conformance fixture).
    #[tool(name = "test_input_required_result_multiple_inputs", input_schema = input::<NoArgs>())]
    async fn mrtr_multiple_inputs(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, McpError> {
        let state_ok = state
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .is_some_and(|s| s["kind"] == "multiple-inputs");
        if let Some(r) = responses.filter(|r| {
            state_ok
                && ["user_name", "greeting", "client_roots"]
                    .iter()
                    .all(|k| r.contains_key(*k))
        }) {
            let name = input_text(&r, "user_name", "name");
            let greeting = r["greeting"]
                .pointer("/content/text")
                .and_then(Value::as_str)
                .unwrap_or("Hello there!");
            let roots = r["client_roots"]
                .get("roots")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            return done(format!(
                "Name: {name}; Greeting: {greeting}; Roots: {roots}"
            ));
        }
        let state = json!({ "kind": "multiple-inputs", "nonce": nonce() }).to_string();
        let asks = json!({
            "user_name": elicit("What is your name?", "name"),
            "greeting": sample("Generate a greeting", 50),
            "client_roots": { "method": "roots/list", "params": {} }
        });
        Ok(input_required(requests(asks)?, Some(state)))
    }

    /// Needs two rounds of input (conformance fixture).
    #[tool(name = "test_input_required_result_multi_round", input_schema = input::<NoArgs>())]
    async fn mrtr_multi_round(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, McpError> {
        let state: Option<Value> = state.as_deref().and_then(|s| serde_json::from_str(s).ok());
        let responses = responses.unwrap_or_default();
        let round = state.as_ref().and_then(|s| s["round"].as_u64());
        if round == Some(1) && responses.contains_key("step1") {
            let name = input_text(&responses, "step1", "name");
            let next = json!({ "round": 2, "name": name, "nonce": nonce() }).to_string();
            return Ok(input_required(
                requests(
                    json!({ "step2": elicit("Step 2: What is your favorite color?", "color") }),
                )?,
                Some(next),
            ));
        }
        if round == Some(2) && responses.contains_key("step2") {
            let name = state
                .as_ref()
                .and_then(|s| s["name"].as_str())
                .unwrap_or("friend")
                .to_owned();
            let color = input_text(&responses, "step2", "color");
            return done(format!("Multi-round complete for {name} who likes {color}"));
        }
        let first = json!({ "round": 1, "nonce": nonce() }).to_string();
        Ok(input_required(
            requests(json!({ "step1": elicit("Step 1: What is your name?", "name") }))?,
            Some(first),
        ))
    }

    /// Refuses a request state that was tampered with (conformance fixture).
    #[tool(name = "test_input_required_result_tampered_state", input_schema = input::<NoArgs>())]
    async fn mrtr_tampered_state(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, McpError> {
        if let Some(raw) = state {
            let Some(verified) = verify(&raw) else {
                return Err(McpError::invalid_params(
                    "requestState integrity check failed",
                    None,
                ));
            };
            if verified["kind"] == "tamper-test"
                && responses.is_some_and(|r| r.contains_key("confirm"))
            {
                return done("integrity-ok: state verified");
            }
        }
        let state = sign(&json!({ "kind": "tamper-test", "nonce": nonce() }));
        Ok(input_required(
            requests(json!({ "confirm": confirm() }))?,
            Some(state),
        ))
    }

    /// Asks only for the inputs the client declared it can give (conformance fixture).
    #[tool(name = "test_input_required_result_capabilities", input_schema = input::<NoArgs>())]
    async fn mrtr_capabilities(
        &self,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if let Some(r) = responses.filter(|r| !r.is_empty()) {
            let keys: Vec<&str> = r.keys().map(String::as_str).collect();
            return done(format!("capabilities-ok: received {}", keys.join(",")));
        }
        let caps = ctx.client_capabilities();
        let mut asks = serde_json::Map::new();
        if caps.as_ref().is_some_and(|c| c.elicitation.is_some()) {
            asks.insert("elicit_input".into(), elicit("Elicitation input", "value"));
        }
        if caps.as_ref().is_some_and(|c| c.sampling.is_some()) {
            asks.insert("sample_input".into(), sample("Sample request", 50));
        }
        if asks.is_empty() {
            return done("No supported capabilities declared");
        }
        let state = sign(&json!({ "kind": "capabilities-test", "nonce": nonce() }));
        Ok(input_required(requests(Value::Object(asks))?, Some(state)))
    }
}

/// The fixture prompt that needs client input before it renders; `None` for other prompts.
pub(super) fn get_prompt(
    name: &str,
    responses: Option<&rmcp::model::InputResponses>,
) -> Option<Result<GetPromptResponse, McpError>> {
    if name != "test_input_required_result_prompt" {
        return None;
    }
    Some(match responses.filter(|r| r.contains_key("user_context")) {
        Some(r) => Ok(GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Prompt with context: {}",
                input_text(r, "user_context", "context")
            ),
        )])
        .into()),
        None => requests(
            json!({ "user_context": elicit("What context should the prompt use?", "context") }),
        )
        .map(|asks| GetPromptResponse::InputRequired(InputRequiredResult::new(Some(asks), None))),
    })
}
