//! The scaler's Prometheus metrics (registered on the gateway's registry).

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Metrics of one gateway's scaler.
#[derive(Clone)]
pub struct ScalerMetrics {
    /// 1 while this gateway holds the Lease and acts, 0 otherwise.
    pub leader: IntGauge,
    /// Queries running on executors plus queued at this gateway, at the last evaluation.
    pub demand_queries: IntGauge,
    /// Executors the scaler wants, at the last evaluation.
    pub desired_executors: IntGauge,
    /// Executors that reported their load at the last evaluation.
    pub executors_reporting: IntGauge,
    /// Evaluations of the executors' load this gateway finished while leading.
    pub evaluations_total: IntCounter,
    /// Changes written to the StatefulSet, by resource (`replicas`, `memory`) and outcome
    /// (`applied`, `failed`).
    pub changes_total: IntCounterVec,
    /// Kubernetes API calls that failed, by operation (`lease`, `read`, `scale`, `memory`,
    /// `timeout`: an evaluation that took longer than a third of the Lease).
    pub api_errors_total: IntCounterVec,
}

impl ScalerMetrics {
    /// Registers the metrics on `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            leader: IntGauge::new(
                "tavana_gateway_scaler_leader",
                "1 while this gateway is the elected scaler",
            )?,
            demand_queries: IntGauge::new(
                "tavana_gateway_scaler_demand_queries",
                "Queries running on executors plus queued at this gateway, last evaluation",
            )?,
            desired_executors: IntGauge::new(
                "tavana_gateway_scaler_desired_executors",
                "Executors the scaler wants, last evaluation",
            )?,
            executors_reporting: IntGauge::new(
                "tavana_gateway_scaler_executors_reporting",
                "Executors that reported their load at the scaler's last evaluation",
            )?,
            evaluations_total: IntCounter::new(
                "tavana_gateway_scaler_evaluations_total",
                "Evaluations of the executors' load finished by this gateway as the scaler",
            )?,
            changes_total: IntCounterVec::new(
                Opts::new(
                    "tavana_gateway_scaler_changes_total",
                    "Changes the scaler wrote to the executor StatefulSet",
                ),
                &["resource", "outcome"],
            )?,
            api_errors_total: IntCounterVec::new(
                Opts::new(
                    "tavana_gateway_scaler_api_errors_total",
                    "Kubernetes API calls of the scaler that failed",
                ),
                &["operation"],
            )?,
        };
        registry.register(Box::new(metrics.leader.clone()))?;
        registry.register(Box::new(metrics.demand_queries.clone()))?;
        registry.register(Box::new(metrics.desired_executors.clone()))?;
        registry.register(Box::new(metrics.executors_reporting.clone()))?;
        registry.register(Box::new(metrics.evaluations_total.clone()))?;
        registry.register(Box::new(metrics.changes_total.clone()))?;
        registry.register(Box::new(metrics.api_errors_total.clone()))?;
        Ok(metrics)
    }
}
