//! Executor metrics, registered into the registry the process hands in.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// Counters and gauges describing the executor's work.
#[derive(Clone)]
pub struct ExecutorMetrics {
    /// Queries currently running on DuckDB.
    pub running_queries: IntGauge,
    /// Finished queries by outcome (`ok`, `error`, `cancelled`).
    pub queries_total: IntCounterVec,
    /// Query wall time by outcome.
    pub query_duration_seconds: HistogramVec,
    /// Rows sent to clients.
    pub rows_streamed_total: IntCounter,
    /// Statements refused by the sandbox.
    pub refused_statements_total: IntCounter,
    /// Tables the lake catalog file defines, as last applied.
    pub lake_tables: IntGauge,
    /// Catalog tables that could not be opened (placeholders that answer with the cause).
    pub lake_tables_unavailable: IntGauge,
    /// Catalog reload attempts by outcome (`applied`, `unchanged`, `error`).
    pub lake_catalog_reloads_total: IntCounterVec,
    /// Catalog tables answering from a copy in memory (`cache = "memory"`).
    pub lake_tables_in_memory: IntGauge,
    /// Loads of catalog tables into memory by outcome (`loaded`, `unchanged`, `error`).
    pub lake_memory_loads_total: IntCounterVec,
    /// Bytes DuckDB holds for in-memory tables (in memory and spilled).
    pub lake_memory_bytes: IntGauge,
    /// Statements kept from the call that prepared them for the call that runs them
    /// (`CreatePreparedStatement` → `GetFlightInfo`, `GetFlightInfo` → `DoGet`), by outcome
    /// (`parked`, `reused`, `expired`, `mismatched`, `evicted`).
    pub parked_statements_total: IntCounterVec,
    /// Engines kept for sessions that brought their own credentials.
    pub session_engines: IntGauge,
    /// Session engine lookups and removals by outcome (`built`, `reused`, `expired`, `evicted`).
    pub session_engines_total: IntCounterVec,
}

impl ExecutorMetrics {
    /// Creates the metrics and registers them into `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            running_queries: IntGauge::new(
                "tavana_executor_running_queries",
                "Queries currently running on this executor's DuckDB engine",
            )?,
            queries_total: IntCounterVec::new(
                Opts::new(
                    "tavana_executor_queries_total",
                    "Finished queries by outcome",
                ),
                &["outcome"],
            )?,
            query_duration_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "tavana_executor_query_duration_seconds",
                    "Query wall time from start to last batch, by outcome",
                )
                .buckets(prometheus::exponential_buckets(0.001, 4.0, 10)?),
                &["outcome"],
            )?,
            rows_streamed_total: IntCounter::new(
                "tavana_executor_rows_streamed_total",
                "Result rows streamed to clients",
            )?,
            refused_statements_total: IntCounter::new(
                "tavana_executor_refused_statements_total",
                "Statements refused by the executor sandbox",
            )?,
            lake_tables: IntGauge::new(
                "tavana_executor_lake_tables",
                "Tables defined by the lake catalog file, as last applied",
            )?,
            lake_tables_unavailable: IntGauge::new(
                "tavana_executor_lake_tables_unavailable",
                "Lake catalog tables that could not be opened (queries get the cause)",
            )?,
            lake_catalog_reloads_total: IntCounterVec::new(
                Opts::new(
                    "tavana_executor_lake_catalog_reloads_total",
                    "Lake catalog reload attempts by outcome (applied, unchanged, error)",
                ),
                &["outcome"],
            )?,
            lake_tables_in_memory: IntGauge::new(
                "tavana_executor_lake_tables_in_memory",
                "Lake catalog tables answering from a copy held in memory (cache = \"memory\")",
            )?,
            lake_memory_loads_total: IntCounterVec::new(
                Opts::new(
                    "tavana_executor_lake_memory_loads_total",
                    "Loads of lake catalog tables into memory (first loads and refreshes), by \
                     outcome (loaded; unchanged: a refresh found the files as they were; error)",
                ),
                &["outcome"],
            )?,
            lake_memory_bytes: IntGauge::new(
                "tavana_executor_lake_memory_bytes",
                "Bytes DuckDB holds for in-memory tables, in memory and spilled to the temp \
                 directory (the catalog's copies, and tables users create with --allow-writes)",
            )?,
            parked_statements_total: IntCounterVec::new(
                Opts::new(
                    "tavana_executor_parked_statements_total",
                    "Statements kept from the call that prepared them for the call that runs them \
                     (CreatePreparedStatement then GetFlightInfo, GetFlightInfo then DoGet), by \
                     outcome (parked, evicted, reused, expired, mismatched)",
                ),
                &["outcome"],
            )?,
            session_engines: IntGauge::new(
                "tavana_executor_session_engines",
                "DuckDB engines kept for sessions that brought their own credentials",
            )?,
            session_engines_total: IntCounterVec::new(
                Opts::new(
                    "tavana_executor_session_engines_total",
                    "Session engine lookups by outcome: built (new credentials or catalog), reused, \
                     expired (idle too long), evicted (to make room)",
                ),
                &["outcome"],
            )?,
        };
        registry.register(Box::new(metrics.running_queries.clone()))?;
        registry.register(Box::new(metrics.queries_total.clone()))?;
        registry.register(Box::new(metrics.query_duration_seconds.clone()))?;
        registry.register(Box::new(metrics.rows_streamed_total.clone()))?;
        registry.register(Box::new(metrics.refused_statements_total.clone()))?;
        registry.register(Box::new(metrics.lake_tables.clone()))?;
        registry.register(Box::new(metrics.lake_tables_unavailable.clone()))?;
        registry.register(Box::new(metrics.lake_catalog_reloads_total.clone()))?;
        registry.register(Box::new(metrics.lake_tables_in_memory.clone()))?;
        registry.register(Box::new(metrics.lake_memory_loads_total.clone()))?;
        registry.register(Box::new(metrics.lake_memory_bytes.clone()))?;
        registry.register(Box::new(metrics.parked_statements_total.clone()))?;
        registry.register(Box::new(metrics.session_engines.clone()))?;
        registry.register(Box::new(metrics.session_engines_total.clone()))?;
        Ok(metrics)
    }
}
