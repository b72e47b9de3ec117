//! [`AuthLayer`]: PromptDB's authentication (API keys, provider tokens, session cookies), limits
//! and scope checks as a tower layer, to wrap [`crate::rest::router`], [`crate::mcp::router`]
//! or any route of an embedding application. Routes behind it find the caller's
//! [`promptdb_core::Principal`] in the request extensions.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{extract::Request, response::Response};
use tower::{Layer, Service};

use super::{Surface, admit, finish};
use crate::AppState;

/// Wraps a service in PromptDB's authentication for one [`Surface`].
///
/// ```no_run
/// # fn demo(state: promptdb_http::AppState, db: promptdb_core::PromptDb) -> axum::Router {
/// use promptdb_http::auth::{AuthLayer, Surface};
/// let mcp = promptdb_http::mcp::router(db, promptdb_http::mcp::McpOptions::default());
/// axum::Router::new().nest("/mcp", mcp.layer(AuthLayer::new(state, Surface::Mcp)))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AuthLayer {
    state: AppState,
    surface: Surface,
}

impl AuthLayer {
    /// Authentication with `state`'s settings, keys and identity provider, answering failures
    /// the way `surface` expects (challenges, cookies).
    pub fn new(state: AppState, surface: Surface) -> Self {
        Self { state, surface }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            state: self.state.clone(),
            surface: self.surface,
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    state: AppState,
    surface: Surface,
}

impl<S> Service<Request> for AuthService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone is ready only if polled; use the one that was, keep the clone for later.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        let surface = self.surface;
        Box::pin(async move {
            match admit(&state, req, surface).await {
                Ok(admitted) => {
                    let response = inner.call(admitted.request).await?;
                    Ok(finish(&state, surface, admitted.token, response))
                }
                Err(refusal) => Ok(refusal),
            }
        })
    }
}
