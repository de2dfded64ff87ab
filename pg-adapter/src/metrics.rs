//! Adapter metrics, registered into the registry the caller passes to [`crate::serve`].

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Every metric the adapter exports (`tavana_pg_adapter_*`).
#[derive(Clone)]
pub(crate) struct Metrics {
    pub(crate) connections_total: IntCounter,
    pub(crate) connections_active: IntGauge,
    pub(crate) connections_refused_total: IntCounter,
    pub(crate) auth_failures_total: IntCounter,
    pub(crate) statements_total: IntCounterVec,
    pub(crate) statement_errors_total: IntCounterVec,
    pub(crate) statement_duration_seconds: Histogram,
    pub(crate) rows_sent_total: IntCounter,
    pub(crate) cancel_requests_total: IntCounter,
    pub(crate) backend_signals_total: IntCounterVec,
    pub(crate) idle_timeouts_total: IntCounterVec,
    pub(crate) gateway_sessions_renewed_total: IntCounter,
}

impl Metrics {
    pub(crate) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            connections_total: IntCounter::new(
                "tavana_pg_adapter_connections_total",
                "PostgreSQL connections accepted",
            )?,
            connections_active: IntGauge::new(
                "tavana_pg_adapter_connections_active",
                "PostgreSQL connections open now",
            )?,
            connections_refused_total: IntCounter::new(
                "tavana_pg_adapter_connections_refused_total",
                "Connections refused because the connection limit was reached",
            )?,
            auth_failures_total: IntCounter::new(
                "tavana_pg_adapter_auth_failures_total",
                "Failed authentications",
            )?,
            statements_total: IntCounterVec::new(
                Opts::new(
                    "tavana_pg_adapter_statements_total",
                    "Statements executed, by kind",
                ),
                &["kind"],
            )?,
            statement_errors_total: IntCounterVec::new(
                Opts::new(
                    "tavana_pg_adapter_statement_errors_total",
                    "Statements failed, by SQLSTATE class",
                ),
                &["class"],
            )?,
            statement_duration_seconds: Histogram::with_opts(HistogramOpts::new(
                "tavana_pg_adapter_statement_duration_seconds",
                "Time from statement start to its last row",
            ))?,
            rows_sent_total: IntCounter::new(
                "tavana_pg_adapter_rows_sent_total",
                "Data rows sent to clients",
            )?,
            cancel_requests_total: IntCounter::new(
                "tavana_pg_adapter_cancel_requests_total",
                "CancelRequest messages received",
            )?,
            backend_signals_total: IntCounterVec::new(
                Opts::new(
                    "tavana_pg_adapter_backend_signals_total",
                    "pg_cancel_backend / pg_terminate_backend calls, by outcome (sent, no_such_backend, refused)",
                ),
                &["signal", "outcome"],
            )?,
            idle_timeouts_total: IntCounterVec::new(
                Opts::new(
                    "tavana_pg_adapter_idle_timeouts_total",
                    "Connections closed for idling too long, by setting (idle_in_transaction_session_timeout, idle_session_timeout)",
                ),
                &["setting"],
            )?,
            gateway_sessions_renewed_total: IntCounter::new(
                "tavana_pg_adapter_gateway_sessions_renewed_total",
                "Connections whose gateway session was lost (gateway restart, session idle) and opened again",
            )?,
        };
        registry.register(Box::new(m.connections_total.clone()))?;
        registry.register(Box::new(m.connections_active.clone()))?;
        registry.register(Box::new(m.connections_refused_total.clone()))?;
        registry.register(Box::new(m.auth_failures_total.clone()))?;
        registry.register(Box::new(m.statements_total.clone()))?;
        registry.register(Box::new(m.statement_errors_total.clone()))?;
        registry.register(Box::new(m.statement_duration_seconds.clone()))?;
        registry.register(Box::new(m.rows_sent_total.clone()))?;
        registry.register(Box::new(m.cancel_requests_total.clone()))?;
        registry.register(Box::new(m.backend_signals_total.clone()))?;
        registry.register(Box::new(m.idle_timeouts_total.clone()))?;
        registry.register(Box::new(m.gateway_sessions_renewed_total.clone()))?;
        Ok(m)
    }

    /// Counts a failed statement by SQLSTATE class (two characters: bounded label values).
    pub(crate) fn statement_failed(&self, sqlstate: &str) {
        let class = sqlstate.get(..2).unwrap_or("XX");
        self.statement_errors_total
            .with_label_values(&[class])
            .inc();
    }
}
