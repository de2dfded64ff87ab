//! Tavana's PostgreSQL wire adapter.
//!
//! A separate process that speaks the PostgreSQL protocol (through `pgwire`) to psql, JDBC,
//! BI tools and drivers, and turns every statement into Flight SQL calls to the gateway. It
//! holds sessions, portals and cursors; it never links DuckDB and never buffers a whole result.
//!
//! Layout: `config` (flags), `auth` (start-up, SCRAM, gateway handshake), `handler`
//! (simple/extended query, cursors, COPY), `classify` (session statements), `rewrite`
//! (catalog compatibility), `encode`/`params` (Arrow ↔ PostgreSQL values), `gateway`
//! (Flight SQL client), `session` (settings), `error` (SQLSTATE mapping), `metrics`.

mod auth;
mod backends;
mod catalog;
mod classify;
mod config;
mod disconnect;
mod encode;
mod epoch;
mod error;
mod explain;
mod gateway;
mod handler;
mod lexer;
mod metrics;
mod params;
mod rewrite;
mod session;
mod timezone;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::{ConnectionManager, PgWireServerHandlers};
use pgwire::tokio::{process_socket, TlsAcceptor};
use tavana_proto::net;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::transport::Endpoint;

pub use config::PgAdapterArgs;
pub use error::PgAdapterError;

struct Handlers {
    startup: Arc<auth::Startup>,
    queries: Arc<handler::Handler>,
    cancels: Arc<auth::Cancels>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::clone(&self.cancels)
    }
}

/// How long a terminated connection may take to report 57P01 before it is closed.
const TERMINATE_GRACE: Duration = Duration::from_millis(500);

/// Serves PostgreSQL clients on `listener` until `shutdown` completes, then waits up to the
/// configured grace period for open connections to finish.
pub async fn serve(
    args: PgAdapterArgs,
    listener: TcpListener,
    registry: prometheus::Registry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), PgAdapterError> {
    let source = tavana_proto::UserSource::configured(&args.users, args.users_file.as_deref())?;
    if source.current().is_empty() {
        tracing::warn!(
            "no users configured (TAVANA_USERS or TAVANA_USERS_FILE): every login will fail"
        );
    }
    let metrics = metrics::Metrics::register(&registry)?;
    let channel = gateway_channel(&args)?;
    let tls = if args.tls_enabled {
        Some(tls_acceptor(&args)?)
    } else {
        None
    };
    if args.require_tls && tls.is_none() {
        return Err(PgAdapterError::TlsConfig(
            "--require-tls needs --tls-enabled with --tls-cert and --tls-key".into(),
        ));
    }
    let users = Arc::new(auth::Users::new(source, args.scram_iterations.max(4096)));
    let manager = Arc::new(ConnectionManager::new());
    let disconnects = Arc::new(disconnect::Disconnects::default());
    let backends = Arc::new(backends::Backends::default());
    let handlers = Arc::new(Handlers {
        startup: Arc::new(auth::Startup::new(
            users,
            channel,
            args.require_tls,
            args.allow_cleartext_password,
            metrics.clone(),
            auth::Connections {
                cancels: Arc::clone(&manager),
                disconnects: Arc::clone(&disconnects),
                backends,
            },
            args.server_defaults(),
        )),
        queries: Arc::new(handler::Handler::new(metrics.clone())),
        cancels: Arc::new(auth::Cancels {
            manager,
            metrics: metrics.clone(),
        }),
    });
    let limit = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    tracing::info!(addr = ?listener.local_addr().ok(), tls = tls.is_some(), "pg-adapter listening");
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Reap finished connection tasks so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Per-connection accept errors (e.g. EMFILE, reset) must not stop the server.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                metrics.connections_total.inc();
                // Replies are written in several small writes; without this each waits for
                // the client's delayed ACK.
                let _ = socket.set_nodelay(true);
                let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                    metrics.connections_refused_total.inc();
                    connections.spawn(refuse(socket));
                    continue;
                };
                let (socket, watch, mut termination) = match disconnects.watch(socket, peer) {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "could not watch the connection");
                        continue;
                    }
                };
                let handlers = Arc::clone(&handlers);
                let tls = tls.clone();
                let metrics = metrics.clone();
                connections.spawn(async move {
                    let _watch = watch;
                    metrics.connections_active.inc();
                    // Each connection is its own task: a malformed or hostile client only ever
                    // ends its own task.
                    let connection = process_socket(socket, tls, handlers);
                    tokio::pin!(connection);
                    tokio::select! {
                        ended = &mut connection => {
                            if let Err(e) = ended {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        }
                        // pg_terminate_backend or an idle timeout. The running statement (if any) fails with 57P01
                        // and reports it; then the connection is closed. An idle connection is
                        // closed at once, as nothing reads it until the client's next message.
                        farewell = termination.requested() => {
                            let finished =
                                tokio::time::timeout(TERMINATE_GRACE, &mut connection).await.is_ok();
                            if !finished {
                                // Idle: pgwire is waiting for the client's next message (and is
                                // no longer polled). Say why, as PostgreSQL's FATAL does, and
                                // shut the socket down; the session ends with this task.
                                termination.farewell(&farewell).await;
                            }
                            tracing::info!(%peer, code = farewell.code, reason = farewell.message, "connection closed by the server");
                        }
                    }
                    metrics.connections_active.dec();
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    if tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::info!(
            open = connections.len(),
            "grace period over, closing remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Answers a connection over the limit with PostgreSQL's "too many clients" error.
async fn refuse(mut socket: tokio::net::TcpStream) {
    let message = disconnect::fatal_message("53300", "sorry, too many clients already");
    let _ = socket.write_all(&message).await;
    let _ = socket.shutdown().await;
}

fn gateway_channel(args: &PgAdapterArgs) -> Result<tonic::transport::Channel, PgAdapterError> {
    let bad = |reason: String| PgAdapterError::GatewayAddress {
        addr: args.gateway_addr.clone(),
        reason,
    };
    let tls = match (
        &args.gateway_ca,
        net::without_tls_scheme(&args.gateway_addr),
    ) {
        (Some(ca), Some(plain)) => {
            let config =
                tavana_proto::tls::grpc_client_config(ca).map_err(|e| bad(e.to_string()))?;
            Some((net::TlsConnector::new(config), plain))
        }
        (Some(_), None) => return Err(bad("--gateway-ca needs an https:// address".into())),
        (None, Some(_)) => return Err(bad("https:// needs --gateway-ca".into())),
        (None, None) => None,
    };
    let connect_to = tls.as_ref().map_or(&args.gateway_addr, |(_, plain)| plain);
    let endpoint = Endpoint::from_shared(connect_to.clone())
        .map_err(|e| bad(e.to_string()))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true)
        .initial_stream_window_size(net::STREAM_WINDOW_BYTES)
        .initial_connection_window_size(net::CONNECTION_WINDOW_BYTES)
        .max_frame_size(net::MAX_FRAME_BYTES);
    Ok(match tls {
        // The CA file is read again when it changes: new connections trust a rotated CA.
        Some((connector, _)) => {
            let origin =
                Endpoint::from_shared(args.gateway_addr.clone()).map_err(|e| bad(e.to_string()))?;
            endpoint
                .origin(origin.uri().clone())
                .connect_with_connector_lazy(connector)
        }
        None => endpoint.connect_lazy(),
    })
}

fn tls_acceptor(args: &PgAdapterArgs) -> Result<TlsAcceptor, PgAdapterError> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Err(PgAdapterError::TlsConfig(
            "--tls-enabled needs --tls-cert and --tls-key".into(),
        ));
    };
    let config = tavana_proto::tls::server_config(cert, key)
        .map_err(|e| PgAdapterError::TlsConfig(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
