//! Fixtures of the official MCP conformance suite (`@modelcontextprotocol/conformance`): tools,
//! prompts and resources whose names and outputs the suite's scenarios check. They are served
//! only in the conformance test mode (`promptdb serve --conformance-test-mode`), never in
//! production.

#![allow(deprecated)] // LoggingLevel & co.: see `test_tool_with_logging`.

use rmcp::{
    ErrorData as McpError, RoleServer,
    handler::server::wrapper::Parameters,
    model::{
        CallToolResult, ClientCapabilities, ContentBlock, CreateMessageRequestParams,
        ElicitRequestParams, GetPromptResult, Implementation, LoggingLevel,
        LoggingMessageNotificationParam, ProgressNotificationParam, Prompt, PromptArgument,
        PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, SamplingMessage,
        SamplingMessageContentBlock, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_router,
};

use super::{PromptDbMcp, args::NoArgs, schema::input};

/// A 1×1 red PNG.
const TEST_IMAGE_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
const TEST_AUDIO_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// The server description in test mode: every capability the scenarios exercise.
pub fn server_config(instructions: &str) -> ServerConfig {
    ServerConfig::new(
        ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .enable_completions()
            .enable_logging()
            .enable_resources_subscribe()
            .build(),
    )
    .with_server_info(
        Implementation::new("promptdb", env!("CARGO_PKG_VERSION"))
            .with_title("PromptDB (conformance test mode)"),
    )
    .with_instructions(instructions)
}

#[tool_router(router = fixture_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Returns simple text content (conformance fixture).
    #[tool(name = "test_simple_text", input_schema = input::<NoArgs>())]
    async fn test_simple_text(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )]))
    }

    /// Returns image content (conformance fixture).
    #[tool(name = "test_image_content", input_schema = input::<NoArgs>())]
    async fn test_image_content(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::image(
            TEST_IMAGE_BASE64,
            "image/png",
        )]))
    }

    /// Returns audio content (conformance fixture).
    #[tool(name = "test_audio_content", input_schema = input::<NoArgs>())]
    async fn test_audio_content(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::audio(
            TEST_AUDIO_BASE64,
            "audio/wav",
        )]))
    }

    /// Returns an embedded resource (conformance fixture).
    #[tool(name = "test_embedded_resource", input_schema = input::<NoArgs>())]
    async fn test_embedded_resource(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::resource(
            ResourceContents::text(
                "This is an embedded resource content.",
                "test://embedded-resource",
            )
            .with_mime_type("text/plain"),
        )]))
    }

    /// Returns text, image and resource content together (conformance fixture).
    #[tool(name = "test_multiple_content_types", input_schema = input::<NoArgs>())]
    async fn test_multiple_content_types(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(TEST_IMAGE_BASE64, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(
                    r#"{"test":"data","value":123}"#,
                    "test://mixed-content-resource",
                )
                .with_mime_type("application/json"),
            ),
        ]))
    }

    /// Always fails as a tool error (conformance fixture).
    #[tool(name = "test_error_handling", input_schema = input::<NoArgs>())]
    async fn test_error_handling(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )]))
    }

    /// Reports progress three times (conformance fixture).
    #[tool(name = "test_tool_with_progress", input_schema = input::<NoArgs>())]
    async fn test_tool_with_progress(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        if let Some(token) = ctx.meta.get_progress_token() {
            for step in [0.0, 50.0, 100.0] {
                let mut p = ProgressNotificationParam::new(token.clone(), step).with_total(100.0);
                p.message = Some(format!("Completed step {step} of 100"));
                let _ = ctx.peer.notify_progress(p).await;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Progress test completed",
        )]))
    }

    #[tool(
        name = "test_tool_with_logging",
        description = "Sends three log messages (conformance fixture; MCP logging is deprecated but still in the 2025-11-25 scenarios)",
        input_schema = input::<NoArgs>()
    )]
    async fn test_tool_with_logging(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        for message in [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed",
        ] {
            let _ = ctx
                .peer
                .notify_logging_message(LoggingMessageNotificationParam::new(
                    LoggingLevel::Info,
                    serde_json::json!(message),
                ))
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Logging test completed",
        )]))
    }
}

#[tool_router(router = fixture_stateless_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Needs the client's sampling capability; without it fails with -32021 (2026-07-28
    /// diagnostic fixture).
    #[tool(name = "test_missing_capability", input_schema = input::<NoArgs>())]
    async fn test_missing_capability(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        if ctx.client_capabilities().and_then(|c| c.sampling).is_none() {
            return Err(McpError::missing_required_client_capability(
                ClientCapabilities::builder().enable_sampling().build(),
            ));
        }
        Ok(CallToolResult::success(vec![ContentBlock::text("Success")]))
    }

    /// Answers on the response stream without server-to-client requests (2026-07-28 diagnostic
    /// fixture).
    #[tool(name = "test_streaming_elicitation", input_schema = input::<NoArgs>())]
    async fn test_streaming_elicitation(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Streaming complete",
        )]))
    }

    /// Sends no log messages unless the request asks for a log level (2026-07-28 diagnostic
    /// fixture).
    #[tool(name = "test_logging_tool", input_schema = input::<NoArgs>())]
    async fn test_logging_tool(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Logging evaluated",
        )]))
    }
}

/// Arguments of `test_sampling`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct SamplingArgs {
    /// The prompt to send to the client's model.
    pub prompt: String,
}

/// Arguments of `test_elicitation`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ElicitationArgs {
    /// The message to show the user.
    pub message: String,
}

async fn elicit(
    ctx: &RequestContext<RoleServer>,
    request: serde_json::Value,
) -> Result<CallToolResult, McpError> {
    let params: ElicitRequestParams = serde_json::from_value(request)
        .map_err(|e| McpError::internal_error(format!("fixture elicitation request: {e}"), None))?;
    let result = ctx
        .peer
        .create_elicitation(params)
        .await
        .map_err(|e| McpError::internal_error(format!("elicitation failed: {e}"), None))?;
    let action = serde_json::to_value(&result.action).unwrap_or_default();
    let action = action.as_str().unwrap_or("unknown");
    let content = result.content.unwrap_or(serde_json::Value::Null);
    Ok(CallToolResult::success(vec![ContentBlock::text(format!(
        "Elicitation completed: action={action}, content={content}"
    ))]))
}

#[tool_router(router = fixture_client_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Asks the client's model to complete a prompt (conformance fixture).
    #[tool(name = "test_sampling", input_schema = input::<SamplingArgs>())]
    async fn test_sampling(
        &self,
        Parameters(args): Parameters<SamplingArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let request = CreateMessageRequestParams::new(
            vec![SamplingMessage::new(
                Role::User,
                SamplingMessageContentBlock::text(args.prompt),
            )],
            100,
        );
        let result = ctx
            .peer
            .create_message(request)
            .await
            .map_err(|e| McpError::internal_error(format!("sampling failed: {e}"), None))?;
        let text = serde_json::to_value(&result.message)
            .ok()
            .and_then(|m| {
                m.pointer("/content/text")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "LLM response: {text}"
        ))]))
    }

    /// Asks the user for a username and an e-mail address (conformance fixture).
    #[tool(name = "test_elicitation", input_schema = input::<ElicitationArgs>())]
    async fn test_elicitation(
        &self,
        Parameters(args): Parameters<ElicitationArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let request = serde_json::json!({
            "mode": "form",
            "message": args.message,
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "username": { "type": "string", "description": "User's response" },
                    "email": { "type": "string", "description": "User's email address" }
                },
                "required": ["username", "email"]
            }
        });
        let result = elicit(&ctx, request).await?;
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.replace("Elicitation completed: ", "User response: "))
            .unwrap_or_default();
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }

    /// Elicitation with a default for every primitive type (conformance fixture, SEP-1034).
    #[tool(name = "test_elicitation_sep1034_defaults", input_schema = input::<NoArgs>())]
    async fn test_elicitation_sep1034_defaults(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        elicit(
            &ctx,
            serde_json::json!({
                "mode": "form",
                "message": "Please review and update the form fields with defaults",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "User name", "default": "John Doe" },
                        "age": { "type": "integer", "description": "User age", "default": 30 },
                        "score": { "type": "number", "description": "User score", "default": 95.5 },
                        "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                        "verified": { "type": "boolean", "description": "Verification status", "default": true }
                    }
                }
            }),
        )
        .await
    }

    /// Elicitation with every enum form (conformance fixture, SEP-1330).
    #[tool(name = "test_elicitation_sep1330_enums", input_schema = input::<NoArgs>())]
    async fn test_elicitation_sep1330_enums(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        elicit(
            &ctx,
            serde_json::json!({
                "mode": "form",
                "message": "Please select options from the enum fields",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "untitledSingle": { "type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"] },
                        "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" }
                        ] },
                        "legacyEnum": { "type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                        "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3,
                            "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                        "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3,
                            "items": { "anyOf": [
                                { "const": "value1", "title": "First Choice" },
                                { "const": "value2", "title": "Second Choice" },
                                { "const": "value3", "title": "Third Choice" }
                            ] } }
                    }
                }
            }),
        )
        .await
    }
}

/// Fixture prompts.
pub fn prompts() -> Vec<Prompt> {
    let required = |name: &str, description: &str| {
        PromptArgument::new(name)
            .with_description(description)
            .with_required(true)
    };
    vec![
        Prompt::new(
            "test_simple_prompt",
            Some("A simple prompt without arguments (conformance fixture)"),
            None,
        ),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A prompt with two required arguments (conformance fixture)"),
            Some(vec![
                required("arg1", "First test argument"),
                required("arg2", "Second test argument"),
            ]),
        ),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A prompt with an embedded resource (conformance fixture)"),
            Some(vec![required(
                "resourceUri",
                "URI of the resource to embed",
            )]),
        ),
        Prompt::new(
            "test_prompt_with_image",
            Some("A prompt with an image (conformance fixture)"),
            None,
        ),
    ]
}

/// Renders a fixture prompt; `None` if `name` is not one.
pub fn get_prompt(
    name: &str,
    arguments: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Option<Result<GetPromptResult, McpError>> {
    let arg = |key: &str| -> Result<String, McpError> {
        arguments
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                McpError::invalid_params(format!("missing required argument `{key}`"), None)
            })
    };
    let result = match name {
        "test_simple_prompt" => Ok(GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )])),
        "test_prompt_with_arguments" => (|| {
            let (a, b) = (arg("arg1")?, arg("arg2")?);
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with arguments: arg1='{a}', arg2='{b}'"),
            )]))
        })(),
        "test_prompt_with_embedded_resource" => (|| {
            let uri = arg("resourceUri")?;
            Ok(GetPromptResult::new(vec![
                PromptMessage::new(
                    Role::User,
                    ContentBlock::resource(
                        ResourceContents::text("Embedded resource content for testing.", uri)
                            .with_mime_type("text/plain"),
                    ),
                ),
                PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
            ]))
        })(),
        "test_prompt_with_image" => Ok(GetPromptResult::new(vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::image(TEST_IMAGE_BASE64, "image/png"),
            ),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ])),
        _ => return None,
    };
    Some(result)
}

/// Fixture resources.
pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new("test://static-text", "static-text")
            .with_description("A static text resource (conformance fixture)")
            .with_mime_type("text/plain"),
        Resource::new("test://static-binary", "static-binary")
            .with_description("A static binary resource (conformance fixture)")
            .with_mime_type("image/png"),
        Resource::new("test://watched-resource", "watched-resource")
            .with_description("A resource for subscription tests (conformance fixture)")
            .with_mime_type("text/plain"),
    ]
}

/// Fixture resource templates.
pub fn resource_templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("test://template/{id}/data", "template")
            .with_description("A templated resource (conformance fixture)")
            .with_mime_type("application/json"),
    ]
}

/// Reads a fixture resource; `None` if `uri` is not one.
pub fn read_resource(uri: &str) -> Option<ResourceContents> {
    match uri {
        "test://static-text" => Some(
            ResourceContents::text("This is the content of the static text resource.", uri)
                .with_mime_type("text/plain"),
        ),
        "test://static-binary" => {
            Some(ResourceContents::blob(TEST_IMAGE_BASE64, uri).with_mime_type("image/png"))
        }
        "test://watched-resource" => Some(
            ResourceContents::text("Watched resource content.", uri).with_mime_type("text/plain"),
        ),
        _ => {
            let id = uri
                .strip_prefix("test://template/")?
                .strip_suffix("/data")?;
            let body = serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
            Some(ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"))
        }
    }
}
