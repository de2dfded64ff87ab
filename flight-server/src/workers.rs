//! Executors the gateway routes to: discovery, health and least-loaded choice.
//!
//! Discovery is a trait so a Kubernetes implementation (watching executor pods) can replace
//! the static list without touching routing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, Empty};
use tavana_proto::messages::{ExecutorStatus, EXECUTOR_STATUS_ACTION};
use tavana_proto::net;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::Status;

use crate::metrics::GatewayMetrics;

/// How the gateway learns its executors.
pub trait WorkerDiscovery: Send + Sync {
    /// The executor addresses right now.
    fn addresses(&self) -> Vec<String>;
}

/// A fixed list of executors (`WORKER_ADDR`).
pub struct StaticWorkers(pub Vec<String>);

impl WorkerDiscovery for StaticWorkers {
    fn addresses(&self) -> Vec<String> {
        self.0.clone()
    }
}

/// One executor and what the gateway knows about it.
pub struct Worker {
    /// Address as configured; tickets name executors by it.
    pub address: String,
    client: FlightServiceClient<Channel>,
    channel: Channel,
    running: AtomicUsize,
    /// Times `pick` chose this executor: breaks ties between equally loaded executors, so a
    /// burst of GetFlightInfo calls (tickets handed out before any stream starts) is spread
    /// round-robin instead of all naming the first executor.
    picked: AtomicUsize,
    healthy: AtomicBool,
    /// Health checks failed in a row (a warning is logged on the first and then every
    /// `FAILURE_LOG_EVERY`).
    failed_checks: AtomicUsize,
}

/// Consecutive failed health checks between two warnings about the same executor.
const FAILURE_LOG_EVERY: usize = 30;

impl Worker {
    /// A client for calls to this executor (cheap clone of a multiplexed channel).
    pub fn client(&self) -> FlightServiceClient<Channel> {
        self.client.clone()
    }

    /// The channel beneath [`Worker::client`], for calls made below tonic's codec.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Queries this gateway is currently relaying from the executor.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Counts a query as running until the returned guard drops.
    pub fn track(self: &Arc<Self>) -> RunningGuard {
        self.running.fetch_add(1, Ordering::Relaxed);
        RunningGuard(Arc::clone(self))
    }
}

/// Decrements a worker's running count on drop.
pub struct RunningGuard(Arc<Worker>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Failure to set up the pool.
#[derive(Debug, thiserror::Error)]
pub enum WorkerPoolError {
    /// An address is not a valid URI.
    #[error("executor address {address:?} is invalid: {source}")]
    InvalidAddress {
        /// The address.
        address: String,
        /// Why.
        source: tonic::transport::Error,
    },
    /// The CA file could not be read.
    #[error("executor CA: {0}")]
    Ca(#[from] tavana_proto::tls::TlsConfigError),
    /// No executor configured.
    #[error("no executor configured (WORKER_ADDR)")]
    Empty,
}

/// All executors.
pub struct WorkerPool {
    workers: Vec<Arc<Worker>>,
    metrics: GatewayMetrics,
}

impl WorkerPool {
    /// Builds lazy connections to the discovered executors. Executors at `https://` addresses
    /// are verified against the CA certificates in `executor_ca`, read again when the file
    /// changes (a rotated CA is trusted by new connections without a restart).
    pub fn new(
        discovery: &dyn WorkerDiscovery,
        executor_ca: Option<&std::path::Path>,
        metrics: GatewayMetrics,
    ) -> Result<Self, WorkerPoolError> {
        let tls = executor_ca
            .map(tavana_proto::tls::grpc_client_config)
            .transpose()?
            .map(net::TlsConnector::new);
        let mut workers = Vec::new();
        for address in discovery.addresses() {
            let invalid = |source| WorkerPoolError::InvalidAddress {
                address: address.clone(),
                source,
            };
            let tls_here = tls.as_ref().zip(net::without_tls_scheme(&address));
            let connect_to = tls_here.as_ref().map_or(&address, |(_, plain)| plain);
            let endpoint = Endpoint::from_shared(connect_to.clone())
                .map_err(invalid)?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_while_idle(true)
                .initial_stream_window_size(net::STREAM_WINDOW_BYTES)
                .initial_connection_window_size(net::CONNECTION_WINDOW_BYTES)
                .max_frame_size(net::MAX_FRAME_BYTES);
            let channel = match tls_here {
                Some((connector, _)) => {
                    let origin = Endpoint::from_shared(address.clone()).map_err(invalid)?;
                    endpoint
                        .origin(origin.uri().clone())
                        .connect_with_connector_lazy(connector.clone())
                }
                None if address.starts_with("https://") => {
                    let tls = ClientTlsConfig::new().with_enabled_roots();
                    endpoint.tls_config(tls).map_err(invalid)?.connect_lazy()
                }
                None => endpoint.connect_lazy(),
            };
            let client = FlightServiceClient::new(channel.clone())
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            workers.push(Arc::new(Worker {
                address,
                client,
                channel,
                running: AtomicUsize::new(0),
                picked: AtomicUsize::new(0),
                healthy: AtomicBool::new(false),
                failed_checks: AtomicUsize::new(0),
            }));
        }
        if workers.is_empty() {
            return Err(WorkerPoolError::Empty);
        }
        Ok(Self { workers, metrics })
    }

    /// The healthy executor with the fewest running queries (an unhealthy one if none is
    /// known healthy yet: it may have just started); among equals, the one picked least often.
    pub fn pick(&self) -> Result<Arc<Worker>, Status> {
        let load = |w: &&Arc<Worker>| (w.running(), w.picked.load(Ordering::Relaxed));
        let healthy = self
            .workers
            .iter()
            .filter(|w| w.healthy.load(Ordering::Relaxed));
        let worker = healthy
            .min_by_key(load)
            .or_else(|| self.workers.iter().min_by_key(load))
            .cloned()
            .ok_or_else(|| Status::unavailable("no executor available"))?;
        worker.picked.fetch_add(1, Ordering::Relaxed);
        Ok(worker)
    }

    /// The executor a ticket or handle names. Only configured executors are ever contacted, so
    /// a forged ticket cannot make the gateway connect elsewhere.
    pub fn by_address(&self, address: &str) -> Result<Arc<Worker>, Status> {
        self.workers
            .iter()
            .find(|w| w.address == address)
            .cloned()
            .ok_or_else(|| {
                Status::not_found(
                    "the executor that owned this ticket is no longer known; run the query again",
                )
            })
    }

    /// Whether any executor answered its last health check.
    pub fn any_healthy(&self) -> bool {
        self.workers
            .iter()
            .any(|w| w.healthy.load(Ordering::Relaxed))
    }

    /// Asks every healthy executor for its load (`tavana.ExecutorStatus`); executors that do
    /// not answer within three seconds are left out.
    pub async fn statuses(
        &self,
        authorize: impl Fn(&mut tonic::Request<Action>),
    ) -> Vec<(String, ExecutorStatus)> {
        let asks = self
            .workers
            .iter()
            .filter(|w| w.healthy.load(Ordering::Relaxed))
            .map(|worker| {
                let mut request = tonic::Request::new(Action::new(EXECUTOR_STATUS_ACTION, ""));
                request.set_timeout(Duration::from_secs(3));
                authorize(&mut request);
                async move {
                    let mut results = worker.client().do_action(request).await.ok()?.into_inner();
                    let result = results.message().await.ok()??;
                    let status = serde_json::from_slice(&result.body).ok()?;
                    Some((worker.address.clone(), status))
                }
            });
        futures::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Checks every executor now (a `ListActions` call through the interceptor).
    pub async fn check_health(&self, mut authorize: impl FnMut(&mut tonic::Request<Empty>)) {
        for worker in &self.workers {
            let mut request = tonic::Request::new(Empty {});
            request.set_timeout(Duration::from_secs(3));
            authorize(&mut request);
            let outcome = worker.client().list_actions(request).await;
            let healthy = outcome.is_ok();
            if healthy != worker.healthy.swap(healthy, Ordering::Relaxed) {
                tracing::info!(worker = %worker.address, healthy, "executor health changed");
            }
            match outcome {
                Ok(_) => worker.failed_checks.store(0, Ordering::Relaxed),
                Err(status) => {
                    // Said at once, with the reason (a refused connection, a certificate the
                    // CA does not vouch for, a wrong internal token): an executor that never
                    // became healthy otherwise leaves no trace above DEBUG.
                    let failed = worker.failed_checks.fetch_add(1, Ordering::Relaxed);
                    if failed % FAILURE_LOG_EVERY == 0 {
                        tracing::warn!(
                            worker = %worker.address,
                            failed_checks = failed + 1,
                            error = %status.message(),
                            "executor health check failed"
                        );
                    }
                }
            }
            self.metrics
                .worker_up
                .with_label_values(&[&worker.address])
                .set(healthy as i64);
        }
    }
}
