//! Hands clients a new session token when theirs is out of date (see
//! [`Sessions::refreshed_token`]): after a call, the response carries the new token in its
//! `authorization` header, which Flight clients take as their bearer token from then on.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::server::NamedService;

use crate::service::GatewayState;
use crate::sessions::Sessions;

/// A gRPC service whose responses carry a refreshed session token when one is due.
#[derive(Clone)]
pub struct RefreshTokens<S> {
    inner: S,
    state: Arc<GatewayState>,
}

impl<S> RefreshTokens<S> {
    /// Wraps `inner`, refreshing tokens of the sessions in `state`.
    pub fn new(inner: S, state: Arc<GatewayState>) -> Self {
        Self { inner, state }
    }
}

impl<S: NamedService> NamedService for RefreshTokens<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for RefreshTokens<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // A handshake answers with its own new token.
        let presented = if request.uri().path().ends_with("/Handshake") {
            None
        } else {
            bearer_token(request.headers())
        };
        let state = Arc::clone(&self.state);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            if let Some(token) = presented {
                add_refreshed_token(&state.sessions, &token, response.headers_mut());
            }
            Ok(response)
        })
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
