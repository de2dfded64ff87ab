//! Tavana gateway (`flight-server`): the Flight SQL endpoint clients connect to. It
//! authenticates, keeps sessions, admits queries (a bounded number stream at once, the rest wait
//! in a queue with a timeout), routes each to the least-loaded executor, and relays results
//! without decoding them.

pub mod admission;
pub mod call_hooks;
pub mod call_metrics;
pub mod config;
pub mod metrics;
pub mod relay;
pub mod scaling;
pub mod service;
pub mod sessions;
pub mod sql_info;
pub mod token_refresh;
pub mod tokens;
pub mod workers;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tavana_proto::{net, UserSource};
use tokio::net::TcpListener;
use tonic::transport::Server;

use call_hooks::WithHook;
pub use config::GatewayArgs;
pub use metrics::GatewayMetrics;
pub use service::{GatewayService, GatewayState};
pub use workers::{StaticWorkers, WorkerDiscovery, WorkerPool};

/// Queries an executor runs at once by default (`TAVANA_MAX_CONCURRENT_QUERIES`).
const EXECUTOR_DEFAULT_MAX_QUERIES: usize = 16;

/// How often executors are health-checked.
const HEALTH_INTERVAL: Duration = Duration::from_secs(2);

/// Why the gateway could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The user list is malformed.
    #[error("users (TAVANA_USERS, TAVANA_USERS_FILE): {0}")]
    Users(#[from] tavana_proto::UsersError),
    /// Authentication is on but nobody may log in.
    #[error("no users configured: set TAVANA_USERS=name:password or TAVANA_USERS_FILE (or --auth-disabled for a trusted network)")]
    NoUsers,
    /// TLS asked for without files.
    #[error("TLS_ENABLED needs --tls-cert (TLS_CERT) and --tls-key (TLS_KEY)")]
    MissingTlsFiles,
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] tavana_proto::tls::TlsConfigError),
    /// Executors could not be set up.
    #[error(transparent)]
    Workers(#[from] workers::WorkerPoolError),
    /// The session key is too short to sign tokens safely.
    #[error("TAVANA_SESSION_KEY must be at least {min} bytes (it is {0}); `openssl rand -base64 48` makes one", min = tokens::MIN_KEY_BYTES)]
    ShortSessionKey(usize),
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The scaler is misconfigured or cannot reach the Kubernetes API.
    #[error(transparent)]
    Scaler(#[from] tavana_scaler::ScalerError),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A configured gateway, ready to serve.
pub struct Gateway {
    state: Arc<GatewayState>,
    args: GatewayArgs,
    scaler: Option<(tavana_scaler::ScalerConfig, tavana_scaler::ScalerMetrics)>,
}

impl Gateway {
    /// Validates the configuration and prepares connections to the executors.
    pub fn new(args: GatewayArgs, registry: &prometheus::Registry) -> Result<Self, GatewayError> {
        let users = UserSource::configured(&args.users, args.users_file.as_deref())?;
        if users.current().is_empty() && !args.auth_disabled {
            return Err(GatewayError::NoUsers);
        }
        if args.tls_enabled && (args.tls_cert.is_none() || args.tls_key.is_none()) {
            return Err(GatewayError::MissingTlsFiles);
        }
        let keys: Vec<&[u8]> = args
            .session_key
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(str::as_bytes)
            .collect();
        let session_key = match keys.iter().find(|key| key.len() < tokens::MIN_KEY_BYTES) {
            Some(short) => return Err(GatewayError::ShortSessionKey(short.len())),
            None if !keys.is_empty() => tokens::SessionKey::rotating(&keys),
            None => {
                tracing::info!(
                    "no TAVANA_SESSION_KEY: sessions end when this gateway stops, and a client \
                     reconnecting to another gateway must authenticate again"
                );
                tokens::SessionKey::ephemeral()
            }
        };
        let metrics = GatewayMetrics::register(registry)?;
        let executor_count = args.worker_addr.iter().filter(|a| !a.is_empty()).count();
        let scaler = match args.scaler.config(executor_count)? {
            Some(config) => Some((config, tavana_scaler::ScalerMetrics::register(registry)?)),
            None => None,
        };
        let discovery = StaticWorkers(
            args.worker_addr
                .iter()
                .filter(|a| !a.is_empty())
                .cloned()
                .collect(),
        );
        let pool = WorkerPool::new(&discovery, args.executor_ca.as_deref(), metrics.clone())?;
        let sessions = sessions::Sessions::new(
            users,
            args.auth_disabled,
            args.session_idle(),
            session_key,
            metrics.clone(),
        );
        let state = Arc::new(GatewayState::new(
            sessions,
            pool,
            args.internal_token.clone().filter(|t| !t.is_empty()),
            metrics.clone(),
            admission::Admission::new(
                args.max_running_queries
                    .unwrap_or(EXECUTOR_DEFAULT_MAX_QUERIES * discovery.addresses().len()),
                args.max_running_queries_per_user,
                args.queue_timeout(),
                metrics,
            ),
            (args.stream_idle_timeout_secs > 0)
                .then(|| Duration::from_secs(args.stream_idle_timeout_secs)),
            args.max_query_duration(),
        ));
        Ok(Self {
            state,
            args,
            scaler,
        })
    }

    /// Ready when at least one executor answers.
    pub fn is_ready(&self) -> bool {
        self.state.pool.any_healthy()
    }

    /// A probe closure for the admin server.
    pub fn readiness(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let state = Arc::clone(&self.state);
        move || state.pool.any_healthy()
    }

    /// Serves Flight SQL on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        // The scaler connects before the gateway serves: a scaler that cannot be set up is a
        // configuration error to see at start, not a silent absence.
        let (stop_scaler, scaler_stopped) = tokio::sync::watch::channel(false);
        let scaler = match self.scaler {
            Some((config, metrics)) => {
                let load = Arc::new(scaling::GatewayLoad(Arc::clone(&self.state)));
                let scaler = tavana_scaler::Scaler::connect(config, load, metrics).await?;
                let mut stopped = scaler_stopped;
                Some(tokio::spawn(scaler.run(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })))
            }
            None => None,
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_scaler.send(true);
        };
        let health_state = Arc::clone(&self.state);
        let health = tokio::spawn(async move {
            loop {
                health_state
                    .pool
                    .check_health(|request| health_state.authorize_internal(request))
                    .await;
                tokio::time::sleep(HEALTH_INTERVAL).await;
            }
        });
        let gateway = GatewayService::new(Arc::clone(&self.state));
        let flight = relay::PassThroughDoGet::new(
            FlightServiceServer::new(gateway.clone())
                .max_decoding_message_size(64 * 1024 * 1024)
                .max_encoding_message_size(usize::MAX),
            gateway,
        );
        let service = WithHook::new(
            WithHook::new(
                flight,
                token_refresh::RefreshTokens::new(Arc::clone(&self.state)),
            ),
            call_metrics::CallMetrics::new(self.state.metrics.clone()),
        );
        let mut server = Server::builder()
            .trace_fn(tavana_proto::headers::call_span)
            .tcp_nodelay(true)
            .initial_stream_window_size(net::STREAM_WINDOW_BYTES)
            .initial_connection_window_size(net::CONNECTION_WINDOW_BYTES)
            .max_frame_size(net::MAX_FRAME_BYTES);
        let router = server.add_service(service);
        let result = if self.args.tls_enabled {
            let (Some(cert), Some(key)) = (&self.args.tls_cert, &self.args.tls_key) else {
                return Err(GatewayError::MissingTlsFiles);
            };
            let config = tavana_proto::tls::grpc_server_config(cert, key)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            router
                .serve_with_incoming_shutdown(net::tls_incoming(listener, acceptor), shutdown)
                .await
        } else {
            router
                .serve_with_incoming_shutdown(net::no_delay(listener), shutdown)
                .await
        };
        health.abort();
        if let Some(scaler) = scaler {
            // The server has dropped the shutdown future and with it the sender: the scaler
            // gives the Lease up, so another gateway takes over at once.
            let _ = tokio::time::timeout(Duration::from_secs(5), scaler).await;
        }
        Ok(result?)
    }
}
