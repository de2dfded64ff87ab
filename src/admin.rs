//! The admin HTTP endpoint every process serves: `/metrics`, `/healthz`, `/readyz` (HTTPS when
//! given a certificate).

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Whether the process can serve right now.
pub(crate) type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

/// Serves the admin endpoint until the task is dropped: HTTPS with `tls`, else plain HTTP.
pub(crate) async fn serve(
    listener: TcpListener,
    registry: Registry,
    ready: Readiness,
    tls: Option<TlsAcceptor>,
) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "admin accept failed");
                continue;
            }
        };
        let registry = registry.clone();
        let ready = Arc::clone(&ready);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let response = respond(request.uri().path(), &registry, &ready);
                async move { Ok::<_, Infallible>(response) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
                Some(tls) => match tls.accept(stream).await {
                    Ok(stream) => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    Err(error) => tracing::debug!(%error, "admin TLS handshake failed"),
                },
            }
        });
    }
}

/// The admin endpoint's TLS acceptor when both PEM files are given; neither: plain HTTP.
pub(crate) fn tls_acceptor(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<Option<TlsAcceptor>> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let config = tavana_proto::tls::server_config(cert, key)?;
            Ok(Some(TlsAcceptor::from(Arc::new(config))))
        }
        _ => anyhow::bail!("--admin-tls-cert and --admin-tls-key go together"),
    }
}

fn respond(path: &str, registry: &Registry, ready: &Readiness) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => {
            let mut buffer = Vec::new();
            let encoder = TextEncoder::new();
            match encoder.encode(&registry.gather(), &mut buffer) {
                Ok(()) => (StatusCode::OK, encoder.format_type().to_owned(), buffer),
                Err(error) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain".into(),
                    error.to_string().into_bytes(),
                ),
            }
        }
        "/healthz" => (StatusCode::OK, "text/plain".into(), b"ok\n".to_vec()),
        "/readyz" if ready() => (StatusCode::OK, "text/plain".into(), b"ready\n".to_vec()),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain".into(),
            b"not ready\n".to_vec(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain".into(),
            b"not found\n".to_vec(),
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static response parts are valid")
}
