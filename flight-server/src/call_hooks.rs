//! Work done around every call the gateway answers, outside the Flight service: a
//! [`CallHook`] notes what it needs from the request, and sees the response headers once the
//! call has answered. [`WithHook`] runs one around a gRPC service.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::server::NamedService;

/// Something done around each call of a gRPC service.
pub trait CallHook: Clone + Send + 'static {
    /// What [`CallHook::before`] notes for [`CallHook::after`].
    type Noted: Send + 'static;

    /// Reads what the hook needs from the request, before the call runs.
    fn before(&self, request: &http::Request<Body>) -> Self::Noted;

    /// Sees (and may add to) the response headers, once the call has answered.
    fn after(&self, noted: Self::Noted, response: &mut http::Response<Body>);
}

/// A gRPC service with a [`CallHook`] around each call.
#[derive(Clone)]
pub struct WithHook<S, H> {
    inner: S,
    hook: H,
}

impl<S, H> WithHook<S, H> {
    /// Runs `hook` around every call of `inner`.
    pub fn new(inner: S, hook: H) -> Self {
        Self { inner, hook }
    }
}

impl<S: NamedService, H> NamedService for WithHook<S, H> {
    const NAME: &'static str = S::NAME;
}

impl<S, H> Service<http::Request<Body>> for WithHook<S, H>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
    H: CallHook,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let noted = self.hook.before(&request);
        let hook = self.hook.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            hook.after(noted, &mut response);
            Ok(response)
        })
    }
}
