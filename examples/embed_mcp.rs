//! PromptDB's MCP server mounted inside an existing axum service.
//!
//! The service here has routes of its own (`/`, `/whoami`) and its own notion of users: bearer
//! tokens from its own table, each naming one of its users and whether they may change things.
//! It mounts `promptdb_http::mcp::router` at a path of its choosing (`/assistant/prompts`),
//! behind its own authentication, which maps each of its users to a PromptDB user (created on
//! first sight) and a read-only or full [`Principal`]. PromptDB's own API keys and sign-in play
//! no part.
//!
//! ```sh
//! cargo run --example embed_mcp -- /tmp/app-prompts.sqlite3 127.0.0.1:3000
//! # then point an MCP client at http://127.0.0.1:3000/assistant/prompts
//! # with `Authorization: Bearer ada-secret` (or `bob-read-only`)
//! ```

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use promptdb::{Principal, PromptDb, Scope, sqlite::SqliteStore};
use promptdb_http::mcp::McpOptions;

/// The host application's users, as it knows them.
#[derive(Debug, Clone)]
struct AppUser {
    name: &'static str,
    can_edit: bool,
}

/// The host application's own credentials (a real service would have a session store).
const TOKENS: [(&str, AppUser); 2] = [
    (
        "ada-secret",
        AppUser {
            name: "ada",
            can_edit: true,
        },
    ),
    (
        "bob-read-only",
        AppUser {
            name: "bob",
            can_edit: false,
        },
    ),
];

/// The identity issuer PromptDB records for this application's users.
const ISSUER: &str = "https://example-app.invalid";

#[derive(Clone)]
struct AppState {
    prompts: PromptDb,
}

/// The host's authentication: its token → its user → a PromptDB principal in the extensions,
/// where PromptDB's MCP tools look for the caller.
async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(user) = token.and_then(|t| TOKENS.iter().find(|(k, _)| *k == t).map(|(_, u)| u))
    else {
        return (StatusCode::UNAUTHORIZED, "sign in to the example app first").into_response();
    };
    let id = match app
        .prompts
        .user_for_identity(ISSUER, user.name, user.name)
        .await
    {
        Ok(id) => id,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let scopes: &[Scope] = if user.can_edit {
        &[Scope::Read, Scope::Write]
    } else {
        &[Scope::Read]
    };
    req.extensions_mut().insert(user.clone());
    req.extensions_mut().insert(Principal::new(id, scopes));
    next.run(req).await
}

async fn whoami(req: Request) -> Json<serde_json::Value> {
    let user = req.extensions().get::<AppUser>().cloned();
    Json(serde_json::json!({
        "user": user.as_ref().map(|u| u.name),
        "can_edit": user.is_some_and(|u| u.can_edit),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("promptdb-embed-mcp.sqlite3")
            .display()
            .to_string()
    });
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());

    let store = SqliteStore::open(&path).await?;
    let prompts = PromptDb::new(Arc::new(store));
    prompts.sync_ranking().await?;
    let app = AppState {
        prompts: prompts.clone(),
    };

    let protected = Router::new()
        .route("/whoami", get(whoami))
        .nest(
            "/assistant/prompts",
            promptdb_http::mcp::router(prompts, McpOptions::default()),
        )
        .route_layer(middleware::from_fn_with_state(app.clone(), authenticate));
    let router = Router::new()
        .route(
            "/",
            get(|| async { "An application that embeds PromptDB's MCP server." }),
        )
        .merge(protected);

    let listener = tokio::net::TcpListener::bind(&bind).await?;
    // Tests and scripts learn the port from this line when binding port 0.
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
