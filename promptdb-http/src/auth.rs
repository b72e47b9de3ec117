//! Authentication middleware: `Authorization: Bearer pdb_…` API keys.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use promptdb_core::{Error, Principal};

use crate::{error::ApiError, state::AppState};

/// Resolves the caller and stores the [`Principal`] in the request extensions, or answers 401.
pub async fn require_principal(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    match authenticate(&state, req.headers()).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The principal behind the request's credentials.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return state.anonymous.clone().ok_or(Error::Unauthorized);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(Error::Unauthorized)?;
    state.db.authenticate_api_key(token).await
}
