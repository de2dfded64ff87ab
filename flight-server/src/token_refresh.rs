//! Hands clients a new session token when theirs is out of date (see
//! [`Sessions::refreshed_token`]): after a call, the response carries the new token in its
//! `authorization` header, which Flight clients take as their bearer token from then on.

use std::sync::Arc;

use tonic::body::Body;
use tonic::codegen::http;

use crate::call_hooks::CallHook;
use crate::service::GatewayState;
use crate::sessions::Sessions;

/// Adds a refreshed session token to responses when one is due (a [`CallHook`]).
#[derive(Clone)]
pub struct RefreshTokens {
    state: Arc<GatewayState>,
}

impl RefreshTokens {
    /// Refreshes tokens of the sessions in `state`.
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self { state }
    }
}

impl CallHook for RefreshTokens {
    /// The bearer token the call presented.
    type Noted = Option<String>;

    fn before(&self, request: &http::Request<Body>) -> Self::Noted {
        // A handshake answers with its own new token.
        if request.uri().path().ends_with("/Handshake") {
            None
        } else {
            bearer_token(request.headers())
        }
    }

    fn after(&self, presented: Self::Noted, response: &mut http::Response<Body>) {
        if let Some(token) = presented {
            add_refreshed_token(&self.state.sessions, &token, response.headers_mut());
        }
    }
}

/// The bearer token of a request, if it carries one.
fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn add_refreshed_token(sessions: &Sessions, presented: &str, headers: &mut http::HeaderMap) {
    let Some(token) = sessions.refreshed_token(presented) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::try_from(format!("Bearer {token}")) {
        headers.insert("authorization", value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_bearer_tokens() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", "Basic YTpi".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", "bearer  abc.def ".parse().unwrap());
        assert_eq!(bearer_token(&headers).as_deref(), Some("abc.def"));
    }
}
