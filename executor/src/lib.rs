//! Tavana executor: one DuckDB engine per process, served over Arrow Flight SQL to the gateway.
//!
//! The executor is locked down after start-up (see [`sandbox`]), keeps no per-statement state
//! beyond a short wait between a statement's `GetFlightInfo` and its `DoGet` (prepared-statement
//! handles carry the SQL and bound parameters), runs DuckDB on blocking
//! threads and streams results through a bounded channel, and interrupts a query as soon as its
//! consumer goes away.

pub mod catalog;
pub mod column_types;
pub mod config;
pub mod engine;
pub mod error;
mod ffi;
pub mod lake;
pub mod metrics;
pub mod params;
mod parked;
pub mod sandbox;
pub mod service;
pub mod signing;
pub mod statement_log;

use std::future::Future;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use tavana_proto::net;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::{Request, Status};

pub use config::{ConfigError, ExecutorArgs};
pub use engine::{Engine, EngineConfig};
pub use error::ExecutorError;
pub use ffi::{Description, StatementType};
pub use metrics::ExecutorMetrics;
pub use service::ExecutorService;

/// Largest message the executor accepts (parameters, commands).
const MAX_DECODING_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Opens and locks the engine. Blocking; call from `spawn_blocking`.
pub fn open_engine(
    config: EngineConfig,
    registry: &prometheus::Registry,
) -> Result<Arc<Engine>, ExecutorError> {
    let metrics =
        ExecutorMetrics::register(registry).map_err(|e| ExecutorError::Internal(e.to_string()))?;
    Ok(Arc::new(Engine::open(config, metrics)?))
}

/// Logs the progress of long queries every `every_secs` seconds (0: never), in the background.
fn log_progress(engine: &Arc<Engine>, every_secs: u64) {
    if every_secs == 0 {
        return;
    }
    let engine = Arc::clone(engine);
    let every = std::time::Duration::from_secs(every_secs);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticks.tick().await;
            engine.log_progress(every);
        }
    });
}

/// Serves Flight SQL for `engine` on `listener` until `shutdown` resolves; in-flight streams
/// are then allowed to finish (the caller bounds that with its grace period).
pub async fn serve(
    engine: Arc<Engine>,
    args: &ExecutorArgs,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let token = args.internal_token.clone().filter(|t| !t.is_empty());
    let check_token = move |request: Request<()>| -> Result<Request<()>, Status> {
        let Some(expected) = &token else {
            return Ok(request);
        };
        let presented = request
            .metadata()
            .get(tavana_proto::headers::INTERNAL_TOKEN)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if subtle::ConstantTimeEq::ct_eq(presented, expected.as_bytes()).into() {
            Ok(request)
        } else {
            Err(Status::unauthenticated("missing or wrong internal token"))
        }
    };
    let service = InterceptedService::new(
        FlightServiceServer::new(ExecutorService::new(
            Arc::clone(&engine),
            signing::StatementSigner::new(args.internal_token.as_deref()),
        ))
        .max_decoding_message_size(MAX_DECODING_MESSAGE_BYTES)
        .max_encoding_message_size(usize::MAX),
        check_token,
    );
    lake::watch_catalog(&engine);
    log_progress(&engine, args.progress_log_secs);
    let mut server = Server::builder()
        .trace_fn(tavana_proto::headers::call_span)
        .initial_stream_window_size(net::STREAM_WINDOW_BYTES)
        .initial_connection_window_size(net::CONNECTION_WINDOW_BYTES)
        .max_frame_size(net::MAX_FRAME_BYTES);
    let router = server.add_service(service);
    if args.tls_enabled {
        let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
            return Err(ServeError::Config(ConfigError::MissingTlsFiles));
        };
        let config = tavana_proto::tls::grpc_server_config(cert, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        router
            .serve_with_incoming_shutdown(net::tls_incoming(listener, acceptor), shutdown)
            .await?;
    } else {
        router
            .serve_with_incoming_shutdown(net::no_delay(listener), shutdown)
            .await?;
    }
    Ok(())
}

/// Why the executor could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] tavana_proto::tls::TlsConfigError),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}
