//! Gateway metrics, registered into the registry the process hands in.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Counters and gauges describing the gateway's work.
#[derive(Clone)]
pub struct GatewayMetrics {
    /// Queries admitted, by outcome of their stream (`ok`, `error`, `cancelled`).
    pub queries_total: IntCounterVec,
    /// Result streams being relayed now.
    pub active_streams: IntGauge,
    /// Queries waiting for a gateway slot (`TAVANA_MAX_RUNNING_QUERIES`): demand the executors
    /// cannot take now (the scaler counts them).
    pub queued_queries: IntGauge,
    /// Queries waiting because their user already runs `TAVANA_MAX_RUNNING_QUERIES_PER_USER`.
    pub user_queued_queries: IntGauge,
    /// Queries refused after waiting the whole queue timeout, by the limit they waited for
    /// (`gateway`, `user`).
    pub queue_timeouts_total: IntCounterVec,
    /// Result streams ended because their client read nothing for the stream idle timeout.
    pub idle_streams_ended_total: IntCounter,
    /// Queries stopped because they ran longer than `TAVANA_MAX_QUERY_SECS`.
    pub query_timeouts_total: IntCounter,
    /// Bytes of result streams relayed to clients (gRPC messages holding Arrow IPC).
    pub relayed_bytes_total: IntCounter,
    /// Failed authentications.
    pub auth_failures_total: IntCounter,
    /// Open sessions.
    pub sessions: IntGauge,
    /// Sessions opened again from their token (after a gateway restart, or from another
    /// gateway sharing the session key).
    pub sessions_resumed_total: IntCounter,
    /// 1 when an executor answers health checks, by executor address (from configuration).
    pub worker_up: IntGaugeVec,
    /// Flight calls answered, by method and gRPC status (see `call_metrics`).
    pub calls_total: IntCounterVec,
    /// Time to answer a Flight call (to the first byte of a stream), by method.
    pub call_seconds: HistogramVec,
}

impl GatewayMetrics {
    /// Creates the metrics and registers them into `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            queries_total: IntCounterVec::new(
                Opts::new(
                    "tavana_gateway_queries_total",
                    "Relayed query streams by outcome",
                ),
                &["outcome"],
            )?,
            active_streams: IntGauge::new(
                "tavana_gateway_active_streams",
                "Result streams being relayed",
            )?,
            queued_queries: IntGauge::new(
                "tavana_gateway_queued_queries",
                "Queries waiting for a gateway slot (TAVANA_MAX_RUNNING_QUERIES)",
            )?,
            user_queued_queries: IntGauge::new(
                "tavana_gateway_user_queued_queries",
                "Queries waiting because their user runs TAVANA_MAX_RUNNING_QUERIES_PER_USER already",
            )?,
            queue_timeouts_total: IntCounterVec::new(
                Opts::new(
                    "tavana_gateway_queue_timeouts_total",
                    "Queries refused after waiting the queue timeout, by limit (gateway, user)",
                ),
                &["limit"],
            )?,
            idle_streams_ended_total: IntCounter::new(
                "tavana_gateway_idle_streams_ended_total",
                "Result streams ended because their client read nothing for TAVANA_STREAM_IDLE_TIMEOUT_SECS",
            )?,
            query_timeouts_total: IntCounter::new(
                "tavana_gateway_query_timeouts_total",
                "Queries stopped because they ran longer than TAVANA_MAX_QUERY_SECS",
            )?,
            relayed_bytes_total: IntCounter::new(
                "tavana_gateway_relayed_bytes_total",
                "Bytes of result streams relayed from executors to clients (gRPC messages of Arrow IPC)",
            )?,
            auth_failures_total: IntCounter::new(
                "tavana_gateway_auth_failures_total",
                "Failed authentications",
            )?,
            sessions: IntGauge::new("tavana_gateway_sessions", "Open client sessions")?,
            sessions_resumed_total: IntCounter::new(
                "tavana_gateway_sessions_resumed_total",
                "Sessions opened again from their token after a gateway restart or from another gateway",
            )?,
            worker_up: IntGaugeVec::new(
                Opts::new(
                    "tavana_gateway_worker_up",
                    "Whether an executor answers health checks",
                ),
                &["worker"],
            )?,
            calls_total: IntCounterVec::new(
                Opts::new(
                    "tavana_gateway_calls_total",
                    "Flight calls answered, by method and gRPC status code",
                ),
                &["method", "code"],
            )?,
            call_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "tavana_gateway_call_duration_seconds",
                    "Time to answer a Flight call (for a stream, to its first byte), by method",
                )
                // 0.25 ms to 33 s.
                .buckets(prometheus::exponential_buckets(0.000_25, 2.0, 18)?),
                &["method"],
            )?,
        };
        registry.register(Box::new(metrics.queries_total.clone()))?;
        registry.register(Box::new(metrics.active_streams.clone()))?;
        registry.register(Box::new(metrics.queued_queries.clone()))?;
        registry.register(Box::new(metrics.user_queued_queries.clone()))?;
        registry.register(Box::new(metrics.queue_timeouts_total.clone()))?;
        registry.register(Box::new(metrics.idle_streams_ended_total.clone()))?;
        registry.register(Box::new(metrics.query_timeouts_total.clone()))?;
        registry.register(Box::new(metrics.relayed_bytes_total.clone()))?;
        registry.register(Box::new(metrics.auth_failures_total.clone()))?;
        registry.register(Box::new(metrics.sessions.clone()))?;
        registry.register(Box::new(metrics.sessions_resumed_total.clone()))?;
        registry.register(Box::new(metrics.worker_up.clone()))?;
        registry.register(Box::new(metrics.calls_total.clone()))?;
        registry.register(Box::new(metrics.call_seconds.clone()))?;
        Ok(metrics)
    }
}
