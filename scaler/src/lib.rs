//! Tavana's executor scaler. Every gateway runs one; the one that holds a Kubernetes Lease acts:
//! it sets the executor StatefulSet's replicas from the queries running on the executors plus
//! those queued at the gateway, and raises the executors' memory (container request and limit,
//! and DuckDB's `MAX_MEMORY_GB`) after queries fail out of memory. Everything goes through the
//! Kubernetes API with the gateway's ServiceAccount; nothing here starts or stops processes.

pub mod lease;
pub mod metrics;
pub mod policy;
pub mod target;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use kube_quantity::ParsedQuantity;

pub use lease::LeaderElector;
pub use metrics::ScalerMetrics;
pub use policy::{MemoryPolicy, ReplicaPolicy};
pub use target::ExecutorStatefulSet;

/// Why the scaler could not be set up or act.
#[derive(Debug, thiserror::Error)]
pub enum ScalerError {
    /// A flag is missing or out of range.
    #[error("scaler: {0}")]
    Config(String),
    /// The Kubernetes API answered with an error or could not be reached.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The StatefulSet has no container of that name.
    #[error("StatefulSet {statefulset} has no container {container:?} (TAVANA_SCALER_CONTAINER)")]
    NoContainer {
        /// The StatefulSet.
        statefulset: String,
        /// The container looked for.
        container: String,
    },
    /// Memory cannot grow without a limit to grow from.
    #[error("container {container:?} of StatefulSet {statefulset} has no memory limit to raise")]
    NoMemoryLimit {
        /// The StatefulSet.
        statefulset: String,
        /// The container.
        container: String,
    },
    /// A memory quantity that is not a Kubernetes quantity.
    #[error("{0:?} is not a memory quantity")]
    BadQuantity(String),
}

/// Whether and how the gateway scales executors.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalerMode {
    /// No scaler (a fixed executor list, or a HorizontalPodAutoscaler).
    #[default]
    Off,
    /// Elect one gateway through a Lease and change the executor StatefulSet.
    Kubernetes,
}

/// Flags of the scaler (part of `tavana gateway`).
#[derive(clap::Args, Debug, Clone)]
pub struct ScalerArgs {
    /// `kubernetes`: one elected gateway changes the executor StatefulSet's replicas and memory
    /// through the Kubernetes API (in-cluster credentials, or KUBECONFIG). Off by default.
    #[arg(long = "scaler", env = "TAVANA_SCALER", value_enum, default_value_t = ScalerMode::Off)]
    pub mode: ScalerMode,

    /// Namespace of the StatefulSet and the Lease. Default: the client configuration's (the
    /// pod's own namespace in a cluster).
    #[arg(long = "scaler-namespace", env = "TAVANA_SCALER_NAMESPACE")]
    pub namespace: Option<String>,

    /// The executor StatefulSet.
    #[arg(long = "scaler-statefulset", env = "TAVANA_SCALER_STATEFULSET")]
    pub statefulset: Option<String>,

    /// The executor's container in the StatefulSet's pods.
    #[arg(
        long = "scaler-container",
        env = "TAVANA_SCALER_CONTAINER",
        default_value = "executor"
    )]
    pub container: String,

    /// The Lease the gateways elect the scaler with. Default: `<statefulset>-scaler`.
    #[arg(long = "scaler-lease", env = "TAVANA_SCALER_LEASE")]
    pub lease: Option<String>,

    /// This gateway's name in the Lease. Default: HOSTNAME (the pod's name).
    #[arg(long = "scaler-identity", env = "TAVANA_SCALER_IDENTITY")]
    pub identity: Option<String>,

    /// Seconds between two evaluations of the load.
    #[arg(
        long = "scaler-interval-secs",
        env = "TAVANA_SCALER_INTERVAL_SECS",
        default_value_t = 15
    )]
    pub interval_secs: u64,

    /// Seconds the Lease is held between renewals; another gateway takes over after this.
    #[arg(
        long = "scaler-lease-secs",
        env = "TAVANA_SCALER_LEASE_SECS",
        default_value_t = 15
    )]
    pub lease_secs: u64,

    /// Change the replica count (off: memory only, e.g. beside a HorizontalPodAutoscaler).
    #[arg(
        long = "scaler-replicas",
        env = "TAVANA_SCALER_REPLICAS",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub replicas: bool,

    /// Fewest executors.
    #[arg(
        long = "scaler-min-replicas",
        env = "TAVANA_SCALER_MIN_REPLICAS",
        default_value_t = 1
    )]
    pub min_replicas: u32,

    /// Most executors. Default: the number of executor addresses (WORKER_ADDR).
    #[arg(long = "scaler-max-replicas", env = "TAVANA_SCALER_MAX_REPLICAS")]
    pub max_replicas: Option<u32>,

    /// Queries (running on executors plus queued here) one executor should carry.
    #[arg(
        long = "scaler-queries-per-executor",
        env = "TAVANA_SCALER_QUERIES_PER_EXECUTOR",
        default_value_t = 8.0
    )]
    pub queries_per_executor: f64,

    /// Seconds a lower executor count must be wanted before the scaler scales in.
    #[arg(
        long = "scaler-scale-down-delay-secs",
        env = "TAVANA_SCALER_SCALE_DOWN_DELAY_SECS",
        default_value_t = 600
    )]
    pub scale_down_delay_secs: u64,

    /// Highest executor memory limit (a Kubernetes quantity, `32Gi`). Unset: memory is not
    /// changed.
    #[arg(long = "scaler-memory-max", env = "TAVANA_SCALER_MEMORY_MAX")]
    pub memory_max: Option<String>,

    /// Factor the memory limit grows by per step.
    #[arg(
        long = "scaler-memory-step",
        env = "TAVANA_SCALER_MEMORY_STEP",
        default_value_t = 1.5
    )]
    pub memory_step: f64,

    /// Share of the container memory limit given to DuckDB (MAX_MEMORY_GB).
    #[arg(
        long = "scaler-memory-fraction",
        env = "TAVANA_SCALER_MEMORY_FRACTION",
        default_value_t = 0.75
    )]
    pub memory_fraction: f64,

    /// Seconds after a memory change before the next (the executors restart one by one).
    #[arg(
        long = "scaler-memory-cooldown-secs",
        env = "TAVANA_SCALER_MEMORY_COOLDOWN_SECS",
        default_value_t = 900
    )]
    pub memory_cooldown_secs: u64,
}

/// A validated scaler configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalerConfig {
    /// Namespace, if given (else the client's default).
    pub namespace: Option<String>,
    /// The executor StatefulSet.
    pub statefulset: String,
    /// The executor container.
    pub container: String,
    /// The Lease.
    pub lease: String,
    /// This gateway's name in the Lease.
    pub identity: String,
    /// Time between evaluations.
    pub interval: Duration,
    /// Lease duration.
    pub lease_duration: Duration,
    /// Replica rules, if the scaler owns the count.
    pub replicas: Option<ReplicaPolicy>,
    /// Memory rules, if the scaler raises memory.
    pub memory: Option<MemoryPolicy>,
}

impl ScalerArgs {
    /// The configuration, or `None` when the scaler is off. `executors` is the number of
    /// executor addresses the gateway knows (the default maximum).
    pub fn config(&self, executors: usize) -> Result<Option<ScalerConfig>, ScalerError> {
        if self.mode == ScalerMode::Off {
            return Ok(None);
        }
        let bad = |message: &str| Err(ScalerError::Config(message.to_string()));
        let Some(statefulset) = self.statefulset.clone().filter(|s| !s.is_empty()) else {
            return bad("TAVANA_SCALER_STATEFULSET names the executor StatefulSet; it is not set");
        };
        if self.interval_secs == 0 || self.lease_secs < 2 {
            return bad("TAVANA_SCALER_INTERVAL_SECS must be at least 1 and TAVANA_SCALER_LEASE_SECS at least 2");
        }
        let replicas = if self.replicas {
            let max = self.max_replicas.unwrap_or(executors as u32);
            if self.min_replicas == 0 || self.min_replicas > max {
                return bad(&format!(
                    "executor replicas must satisfy 1 <= TAVANA_SCALER_MIN_REPLICAS ({}) <= TAVANA_SCALER_MAX_REPLICAS ({max})",
                    self.min_replicas
                ));
            }
            if !(self.queries_per_executor > 0.0 && self.queries_per_executor.is_finite()) {
                return bad("TAVANA_SCALER_QUERIES_PER_EXECUTOR must be above 0");
            }
            Some(ReplicaPolicy {
                min: self.min_replicas,
                max,
                queries_per_executor: self.queries_per_executor,
                scale_down_delay: Duration::from_secs(self.scale_down_delay_secs),
            })
        } else {
            None
        };
        let memory = match &self.memory_max {
            None => None,
            Some(max) => {
                let max_bytes = ParsedQuantity::try_from(max.as_str())
                    .ok()
                    .and_then(|q| q.to_bytes_u64())
                    .filter(|bytes| *bytes > 0)
                    .ok_or_else(|| ScalerError::BadQuantity(max.clone()))?;
                if !(self.memory_step > 1.0 && self.memory_step.is_finite()) {
                    return bad("TAVANA_SCALER_MEMORY_STEP must be above 1");
                }
                if !(self.memory_fraction > 0.0 && self.memory_fraction <= 1.0) {
                    return bad("TAVANA_SCALER_MEMORY_FRACTION must be in (0, 1]");
                }
                Some(MemoryPolicy {
                    max_bytes,
                    step: self.memory_step,
                    fraction: self.memory_fraction,
                    cooldown: Duration::from_secs(self.memory_cooldown_secs),
                })
            }
        };
        if replicas.is_none() && memory.is_none() {
            return bad("nothing to scale: TAVANA_SCALER_REPLICAS is false and TAVANA_SCALER_MEMORY_MAX is not set");
        }
        let identity = self
            .identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("gateway-{}", std::process::id()));
        Ok(Some(ScalerConfig {
            namespace: self.namespace.clone().filter(|s| !s.is_empty()),
            lease: self
                .lease
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("{statefulset}-scaler")),
            statefulset,
            container: self.container.clone(),
            identity,
            interval: Duration::from_secs(self.interval_secs),
            lease_duration: Duration::from_secs(self.lease_secs),
            replicas,
            memory,
        }))
    }
}

/// One executor's load as the gateway read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorLoad {
    /// The executor's address.
    pub address: String,
    /// Queries running on it, from every gateway.
    pub running_queries: u64,
    /// Its out-of-memory failures since it started.
    pub out_of_memory_failures: u64,
}

/// The load at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSample {
    /// Executors that answered.
    pub executors: Vec<ExecutorLoad>,
    /// Queries waiting in this gateway's queue.
    pub queued: u64,
}

impl LoadSample {
    /// Queries running on executors plus queued here.
    pub fn demand(&self) -> u64 {
        self.executors
            .iter()
            .map(|e| e.running_queries)
            .sum::<u64>()
            + self.queued
    }
}

/// Where the scaler reads the load (the gateway asks its executors).
#[async_trait::async_trait]
pub trait LoadSource: Send + Sync {
    /// The load now.
    async fn sample(&self) -> LoadSample;
}

/// A Kubernetes API call that took longer than the Lease allows.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {}ms", .0.as_millis())]
struct TimedOut(Duration);

/// What the leader remembers between evaluations; forgotten when it stops leading.
#[derive(Default)]
struct LeaderState {
    stabilizer: Option<policy::Stabilizer>,
    last_evaluation: Option<Instant>,
    out_of_memory: policy::OutOfMemoryCounter,
    memory_changed_at: Option<Instant>,
}

/// A gateway's scaler: a candidate for the Lease, and the leader's work.
pub struct Scaler {
    config: ScalerConfig,
    elector: LeaderElector,
    target: ExecutorStatefulSet,
    load: Arc<dyn LoadSource>,
    metrics: ScalerMetrics,
}

impl Scaler {
    /// Connects to the Kubernetes API (in-cluster service account, or KUBECONFIG).
    pub async fn connect(
        config: ScalerConfig,
        load: Arc<dyn LoadSource>,
        metrics: ScalerMetrics,
    ) -> Result<Self, ScalerError> {
        let client = kube::Client::try_default().await?;
        let namespace = config
            .namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_string());
        let elector = LeaderElector::new(
            Api::<Lease>::namespaced(client.clone(), &namespace),
            config.lease.clone(),
            config.identity.clone(),
            config.lease_duration,
        );
        let target = ExecutorStatefulSet::new(
            Api::<StatefulSet>::namespaced(client, &namespace),
            config.statefulset.clone(),
            config.container.clone(),
        );
        tracing::info!(
            namespace,
            statefulset = %config.statefulset,
            lease = %config.lease,
            identity = %config.identity,
            replicas = ?config.replicas,
            memory = ?config.memory,
            "executor scaler configured"
        );
        Ok(Self {
            config,
            elector,
            target,
            load,
            metrics,
        })
    }

    /// Competes for the Lease and, while holding it, evaluates the load every interval, until
    /// `shutdown` resolves; then gives the Lease up.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let tick = (self.config.lease_duration / 3)
            .min(self.config.interval)
            .max(Duration::from_millis(200));
        let mut state: Option<LeaderState> = None;
        let mut failing = false;
        tokio::pin!(shutdown);
        loop {
            // A hung API call must not outlive the Lease: every call gets a third of it.
            let limit = self.config.lease_duration / 3;
            let renewed = tokio::time::timeout(limit, self.elector.try_acquire_or_renew())
                .await
                .unwrap_or_else(|_| Err(kube::Error::Service(Box::new(TimedOut(limit)))));
            match renewed {
                Ok(_) => failing = false,
                Err(error) => {
                    self.metrics
                        .api_errors_total
                        .with_label_values(&["lease"])
                        .inc();
                    // Said once per outage, not every tick.
                    if !failing {
                        tracing::warn!(lease = %self.config.lease, %error, "cannot read or renew the scaler lease");
                    }
                    failing = true;
                }
            }
            let leading = self.elector.is_leading(Instant::now());
            if leading != state.is_some() {
                if leading {
                    tracing::info!(identity = %self.elector.identity(), "this gateway is now the executor scaler");
                    state = Some(LeaderState::default());
                } else {
                    tracing::info!(identity = %self.elector.identity(), "this gateway is no longer the executor scaler");
                    state = None;
                }
                self.metrics.leader.set(i64::from(leading));
            }
            if let Some(state) = state.as_mut() {
                if state
                    .last_evaluation
                    .is_none_or(|at| at.elapsed() >= self.config.interval)
                {
                    state.last_evaluation = Some(Instant::now());
                    if tokio::time::timeout(limit, self.evaluate(state))
                        .await
                        .is_ok()
                    {
                        self.metrics.evaluations_total.inc();
                    } else {
                        self.metrics
                            .api_errors_total
                            .with_label_values(&["timeout"])
                            .inc();
                        tracing::warn!(
                            timeout_ms = limit.as_millis() as u64,
                            "executor scaler evaluation timed out; retrying next interval"
                        );
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(tick) => {}
            }
        }
        if let Err(error) = self.elector.release().await {
            tracing::warn!(%error, "could not release the scaler lease; another gateway takes over when it expires");
        }
        self.metrics.leader.set(0);
    }

    async fn evaluate(&self, state: &mut LeaderState) {
        let sample = self.load.sample().await;
        let demand = sample.demand();
        self.metrics.demand_queries.set(demand as i64);
        if let Some(policy) = &self.config.replicas {
            self.scale_replicas(policy, state, demand).await;
        }
        if let Some(policy) = &self.config.memory {
            let new_failures: u64 = sample
                .executors
                .iter()
                .map(|e| {
                    state
                        .out_of_memory
                        .observe(&e.address, e.out_of_memory_failures)
                })
                .sum();
            if new_failures > 0 {
                self.raise_memory(policy, state, new_failures).await;
            }
        }
        // After the readings above: an executor counted here has its baseline.
        self.metrics
            .executors_reporting
            .set(sample.executors.len() as i64);
    }

    async fn scale_replicas(&self, policy: &ReplicaPolicy, state: &mut LeaderState, demand: u64) {
        let current = match self.target.replicas().await {
            Ok(current) => current,
            Err(error) => {
                self.api_error("read", &error);
                return;
            }
        };
        let now = Instant::now();
        let window = state
            .stabilizer
            .get_or_insert_with(|| policy::Stabilizer::seeded(current, now));
        let recommended = policy.recommend(demand);
        let desired = window
            .desired(recommended, now, policy.scale_down_delay)
            .clamp(policy.min, policy.max);
        self.metrics.desired_executors.set(i64::from(desired));
        if desired == current {
            return;
        }
        match self.target.set_replicas(desired).await {
            Ok(()) => {
                self.change("replicas", "applied");
                tracing::info!(
                    statefulset = %self.target.name(),
                    from = current,
                    to = desired,
                    demand,
                    "scaled executors"
                );
            }
            Err(error) => {
                self.change("replicas", "failed");
                self.api_error("scale", &error);
            }
        }
    }

    async fn raise_memory(&self, policy: &MemoryPolicy, state: &mut LeaderState, failures: u64) {
        if let Some(at) = state.memory_changed_at {
            if at.elapsed() < policy.cooldown {
                tracing::info!(
                    failures,
                    cooldown_left_s = (policy.cooldown - at.elapsed()).as_secs(),
                    "queries ran out of memory; executor memory was raised recently, waiting"
                );
                return;
            }
        }
        let memory = match self.target.memory().await {
            Ok(memory) => memory,
            Err(error) => {
                self.api_error("read", &error);
                return;
            }
        };
        let Some(step) = policy.next(memory.limit_bytes, memory.request_bytes) else {
            tracing::warn!(
                failures,
                limit = %policy::quantity(memory.limit_bytes),
                "queries ran out of memory, and executor memory is at its maximum (TAVANA_SCALER_MEMORY_MAX)"
            );
            return;
        };
        let duckdb_gb = policy.duckdb_gb(step.limit_bytes);
        match self.target.set_memory(step, &duckdb_gb).await {
            Ok(()) => {
                state.memory_changed_at = Some(Instant::now());
                self.change("memory", "applied");
                tracing::warn!(
                    statefulset = %self.target.name(),
                    failures,
                    from = %policy::quantity(memory.limit_bytes),
                    to = %policy::quantity(step.limit_bytes),
                    max_memory_gb = %duckdb_gb,
                    "queries ran out of memory: raised executor memory (executors restart one by one)"
                );
            }
            Err(error) => {
                self.change("memory", "failed");
                self.api_error("memory", &error);
            }
        }
    }

    fn change(&self, resource: &str, outcome: &str) {
        self.metrics
            .changes_total
            .with_label_values(&[resource, outcome])
            .inc();
    }

    fn api_error(&self, operation: &str, error: &ScalerError) {
        self.metrics
            .api_errors_total
            .with_label_values(&[operation])
            .inc();
        tracing::warn!(operation, %error, statefulset = %self.target.name(), "executor scaler call failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        scaler: ScalerArgs,
    }

    fn config(args: &[&str]) -> Result<Option<ScalerConfig>, ScalerError> {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("flags parse")
            .scaler
            .config(4)
    }

    #[test]
    fn off_by_default() {
        assert!(config(&[]).unwrap().is_none());
    }

    #[test]
    fn defaults_follow_the_statefulset_and_the_executor_list() {
        let config = config(&[
            "--scaler",
            "kubernetes",
            "--scaler-statefulset",
            "tv-executor",
            "--scaler-identity",
            "gw-0",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.lease, "tv-executor-scaler");
        assert_eq!(config.identity, "gw-0");
        let replicas = config.replicas.unwrap();
        assert_eq!((replicas.min, replicas.max), (1, 4));
        assert!(config.memory.is_none());
    }

    #[test]
    fn memory_maximum_is_a_quantity() {
        let config = config(&[
            "--scaler",
            "kubernetes",
            "--scaler-statefulset",
            "x",
            "--scaler-memory-max",
            "12Gi",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.memory.unwrap().max_bytes, 12 << 30);
    }

    #[test]
    fn bad_settings_are_refused_with_the_variable_to_fix() {
        let base = ["--scaler", "kubernetes", "--scaler-statefulset", "x"];
        let refused = |extra: &[&str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            config(&args).unwrap_err().to_string()
        };
        assert!(config(&["--scaler", "kubernetes"])
            .unwrap_err()
            .to_string()
            .contains("TAVANA_SCALER_STATEFULSET"));
        assert!(refused(&["--scaler-min-replicas", "5"]).contains("TAVANA_SCALER_MAX_REPLICAS"));
        assert!(refused(&["--scaler-memory-max", "lots"]).contains("not a memory quantity"));
        assert!(
            refused(&["--scaler-memory-max", "1Gi", "--scaler-memory-step", "0.5"])
                .contains("TAVANA_SCALER_MEMORY_STEP")
        );
        assert!(refused(&["--scaler-replicas", "false"]).contains("nothing to scale"));
        assert!(refused(&["--scaler-queries-per-executor", "0"])
            .contains("TAVANA_SCALER_QUERIES_PER_EXECUTOR"));
    }

    #[test]
    fn demand_is_running_everywhere_plus_queued_here() {
        let sample = LoadSample {
            executors: vec![
                ExecutorLoad {
                    address: "a".into(),
                    running_queries: 3,
                    out_of_memory_failures: 0,
                },
                ExecutorLoad {
                    address: "b".into(),
                    running_queries: 2,
                    out_of_memory_failures: 1,
                },
            ],
            queued: 4,
        };
        assert_eq!(sample.demand(), 9);
    }
}
