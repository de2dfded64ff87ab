//! Socket set-up shared by the servers, and the TLS connections of the gRPC clients.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;

/// Accepted connections with Nagle's algorithm off. gRPC servers fed their own listener
/// (`serve_with_incoming`) do not set `TCP_NODELAY`; without it every small request-response
/// pair waits for the peer's delayed ACK (about 40 ms each way on Linux). A failed accept
/// (EMFILE, a reset before accept) is logged and skipped after a short pause: it must not stop
/// the server.
pub fn no_delay(listener: TcpListener) -> impl Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).filter_map(|accepted| async move {
        match accepted.and_then(|stream| stream.set_nodelay(true).map(|()| stream)) {
            Ok(stream) => Some(Ok(stream)),
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                None
            }
        }
    })
}

/// HTTP/2 flow-control window per stream that every Tavana gRPC peer advertises. The
/// 64 KiB default makes a receiver of a large result grant credit every few frames; a few
/// MiB lets a batch arrive without waiting for a window update.
pub const STREAM_WINDOW_BYTES: u32 = 4 * 1024 * 1024;

/// HTTP/2 flow-control window per connection (all streams on it together): the protocol's
/// largest, so it never binds before the streams' own windows do. Every query between two
/// Tavana processes shares one connection, and a result whose client stops reading keeps up
/// to [`STREAM_WINDOW_BYTES`] unread in it; with a connection window of a few stream windows,
/// three paused clients stalled every other query, health check and cancel on that connection.
/// Memory stays bounded per stream (the admission limits bound the streams).
pub const CONNECTION_WINDOW_BYTES: u32 = (1 << 31) - 1;

/// Largest HTTP/2 frame a Tavana peer accepts. The 16 KiB default cuts every batch into
/// hundreds of frames, each parsed and woken for on its own.
pub const MAX_FRAME_BYTES: u32 = 1024 * 1024;

/// Longest a client may take over its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepted connections ([`no_delay`]) after their TLS handshake with `acceptor`. Handshakes
/// run side by side, so a slow or silent client holds up nobody else; one that fails or takes
/// longer than 10 s is dropped (logged at debug). Stops accepting when the stream is dropped.
pub fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> impl Stream<Item = std::io::Result<tokio_rustls::server::TlsStream<TcpStream>>> {
    let (ready, handed_over) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut accepted = std::pin::pin!(no_delay(listener));
        loop {
            let stream = tokio::select! {
                next = accepted.next() => match next {
                    Some(Ok(stream)) => stream,
                    _ => return,
                },
                () = ready.closed() => return,
            };
            let acceptor = acceptor.clone();
            let ready = ready.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = ready.send(Ok(tls)).await;
                    }
                    Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(handed_over)
}

/// Opens the TCP and TLS connections of a gRPC client channel with a rustls configuration of
/// Tavana's own ([`crate::tls::grpc_client_config`]: a CA file read again when it changes),
/// with Nagle's algorithm off. For tonic's `Endpoint::connect_with_connector_lazy`: give the
/// endpoint the address as `http://host:port` (tonic would add a TLS layer of its own to an
/// `https://` one) and the `https://` address as its origin.
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<rustls::ClientConfig>,
}

impl TlsConnector {
    /// A connector that runs every handshake with `config`.
    pub fn new(config: rustls::ClientConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl tower_service::Service<http::Uri> for TlsConnector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.config));
        Box::pin(async move {
            let invalid =
                |reason: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, reason);
            let host = uri
                .host()
                .ok_or_else(|| invalid(format!("{uri}: no host")))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            // The address was `https://`: without a port, HTTPS's.
            let port = uri.port_u16().unwrap_or(443);
            let server_name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| invalid(format!("{host}: {e}")))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(connector.connect(server_name, tcp).await?))
        })
    }
}

/// `https://host:port` as `http://host:port`, for an endpoint connected with [`TlsConnector`];
/// `None` when `address` is not `https://`.
pub fn without_tls_scheme(address: &str) -> Option<String> {
    address
        .strip_prefix("https://")
        .map(|rest| format!("http://{rest}"))
}
