//! The DuckDB engine: one database per process, one connection per running query, queries run
//! on blocking threads and stream batches through a bounded channel (the channel bound is the
//! backpressure: DuckDB only computes the next chunk when the client has taken the previous).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_select::coalesce::BatchCoalescer;
use duckdb::types::Value;
use duckdb::InterruptHandle;
use futures::Stream;
use tavana_proto::messages::ExecutorStatus;
use tavana_proto::SessionContext;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

use crate::column_types::{tag_schema, ColumnTag};
use crate::error::{ExecutorError, SqlErrorKind};
use crate::ffi::{ConnectionSetup, Database, Description, PreparedQuery, RawConnection};
use crate::lake::{self, catalog, session::SessionCredentials};
use crate::metrics::ExecutorMetrics;
use crate::parked::ParkedStatements;
use crate::sandbox::{self, StatementPolicy};
use crate::statement_log::{Ended, StatementLog};

/// Rows per batch sent to clients. DuckDB produces 2,048-row chunks; bigger batches cut the
/// per-message cost of Flight encoding and relaying. Measured on TPC-H `lineitem` (benchmarks/,
/// 12M rows to ADBC): sending 2,048-row chunks as they are took 5.4 s, coalescing to 4K rows
/// 4.7 s, 8K 4.4 s, 16K 4.6 s, 64K 5.1 s. A planned query reads batches of this size straight
/// from DuckDB's Arrow stream; the others' chunks are coalesced.
const TARGET_BATCH_ROWS: usize = 8 * 1024;

/// Batches buffered between the DuckDB thread and the network. Small on purpose: memory per
/// query stays at a few batches whatever the result size.
const CHANNEL_BATCHES: usize = 2;

/// SQL run once at start-up to make DuckDB answer the catalog queries PostgreSQL clients send.
const PG_COMPAT_SQL: &str = include_str!("pg_compat.sql");

/// How the engine is set up; built from the command line in `config.rs`.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// DuckDB `memory_limit`, in GiB.
    pub memory_limit_gb: Option<f64>,
    /// DuckDB worker threads.
    pub threads: Option<usize>,
    /// Spill directory for larger-than-memory operators.
    pub temp_dir: Option<PathBuf>,
    /// Directory holding provisioned extensions (`<dir>/v1.5.5/linux_amd64/*.duckdb_extension`).
    pub extension_dir: Option<PathBuf>,
    /// Extensions to load at start-up when present in `extension_dir`.
    pub extensions: Vec<String>,
    /// Local folders and object-store prefixes queries may read.
    pub allowed_paths: Vec<String>,
    /// Whether statements that write (INSERT, CREATE, COPY TO, ...) are allowed.
    pub allow_writes: bool,
    /// Queries allowed to run at once; more are refused as overloaded.
    pub max_concurrent_queries: usize,
    /// Extra SQL run before the engine is locked.
    pub startup_sql: Vec<String>,
    /// Lake credentials, settings and catalog (see `lake`).
    pub lake: lake::LakeConfig,
    /// Which statements the statement log shows (failed ones always).
    pub statement_log: StatementLog,
}

/// Stops a running query from another thread, and tells how far it is.
trait Interrupt: Send + Sync {
    fn interrupt(&self);

    /// Percent done, as DuckDB estimates it; `None` when unknown.
    fn progress(&self) -> Option<f64> {
        None
    }
}

impl Interrupt for InterruptHandle {
    fn interrupt(&self) {
        InterruptHandle::interrupt(self);
    }
}

impl Interrupt for RawConnection {
    fn interrupt(&self) {
        RawConnection::interrupt(self);
    }

    fn progress(&self) -> Option<f64> {
        RawConnection::progress(self)
    }
}

/// A statement the engine is running: how to stop it, and what it has done so far.
struct RunningQuery {
    control: Arc<dyn Interrupt>,
    started: Instant,
    /// Rows sent to the caller so far.
    rows_sent: Arc<AtomicU64>,
}

impl RunningQuery {
    fn new(control: Arc<dyn Interrupt>) -> Arc<Self> {
        Arc::new(Self {
            control,
            started: Instant::now(),
            rows_sent: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// A running query's result: its schema and a stream of coalesced batches.
pub struct QueryStream {
    schema: SchemaRef,
    receiver: mpsc::Receiver<Result<RecordBatch, ExecutorError>>,
    interrupt: Arc<dyn Interrupt>,
    finished: bool,
}

impl QueryStream {
    /// The result schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, ExecutorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.receiver.poll_recv(cx);
        if let Poll::Ready(None) = polled {
            self.finished = true;
        }
        polled
    }
}

impl Drop for QueryStream {
    fn drop(&mut self) {
        if !self.finished {
            // The consumer went away (client disconnected or cancelled): stop DuckDB now rather
            // than when it next tries to hand over a batch.
            self.interrupt.interrupt();
        }
    }
}

/// Interrupts a query when dropped, unless disarmed.
struct InterruptOnDrop(Option<Arc<dyn Interrupt>>);

impl InterruptOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

/// Abandoned query ids remembered at most (see [`Engine::abandon`]).
const MAX_ABANDONED: usize = 1024;

/// One DuckDB database shared by all queries of this process.
pub struct Engine {
    db: Arc<Database>,
    config: EngineConfig,
    lake: lake::LakeState,
    metrics: ExecutorMetrics,
    running: Mutex<HashMap<String, Arc<RunningQuery>>>,
    /// Queries whose caller went away before they started (see [`Engine::abandon`]), oldest
    /// first.
    abandoned: Mutex<VecDeque<String>>,
    admission: Arc<Semaphore>,
    loaded_extensions: Vec<String>,
    parked: ParkedStatements,
    /// Queries that failed because DuckDB ran out of memory (the scaler's memory signal).
    out_of_memory_failures: AtomicU64,
}

impl Engine {
    /// Opens DuckDB, loads the provisioned extensions, locks the engine down and creates the
    /// lake catalog's views. Blocking.
    pub fn open(config: EngineConfig, metrics: ExecutorMetrics) -> Result<Self, ExecutorError> {
        let (db, loaded_extensions) = open_database(&config, None)?;
        info!(extensions = ?loaded_extensions, allowed_paths = ?config.allowed_paths, "DuckDB engine open and locked down");

        let admission = Arc::new(Semaphore::new(config.max_concurrent_queries.max(1)));
        let engine = Self {
            db: Arc::new(db),
            lake: lake::LakeState::new(&config, &metrics),
            config,
            parked: ParkedStatements::new(metrics.parked_statements_total.clone()),
            metrics,
            running: Mutex::new(HashMap::new()),
            abandoned: Mutex::new(VecDeque::new()),
            admission,
            loaded_extensions,
            out_of_memory_failures: AtomicU64::new(0),
        };
        engine.reload_catalog(true)?;
        Ok(engine)
    }

    /// Extensions that loaded at start-up.
    pub fn loaded_extensions(&self) -> &[String] {
        &self.loaded_extensions
    }

    /// Prepares `sql` without running it and checks it against the sandbox. Blocking; preparing
    /// runs on a thread of its own so that it can be abandoned at the lake open deadline. Async
    /// callers use [`Engine::prepare`], which needs no such thread.
    pub fn describe(
        &self,
        session: &SessionContext,
        sql: &str,
    ) -> Result<Description, ExecutorError> {
        self.prepare_blocking(session, sql, Vec::new())
            .map(PreparedQuery::into_description)
    }

    fn prepare_blocking(
        &self,
        session: &SessionContext,
        sql: &str,
        parameters: Vec<Value>,
    ) -> Result<PreparedQuery, ExecutorError> {
        let limit = self.config.lake.open_timeout;
        self.prepare_with(session, sql, |db, setup, sql| {
            let (db, setup, sql) = (Arc::clone(db), setup.clone(), sql.to_owned());
            lake::within(limit, move || db.prepare(&setup, &sql, &parameters))
        })
    }

    /// Prepares and checks `sql` for async callers: the statement is prepared and checked on
    /// one blocking-pool thread and the caller stops waiting at the lake open deadline (the
    /// thread then finishes on its own). Starting a thread per statement, as the blocking
    /// [`Engine::describe`] does, cost 50 µs on an idle 2-core host and up to 700 µs on a busy
    /// one: most of a `SELECT 1`. The statement can then run with [`Engine::start_query`].
    ///
    /// `parameters` are bound to the statement's placeholders, one value each; with none, a
    /// statement that takes some is only described. A query with its values is planned once.
    pub(crate) async fn prepare(
        self: &Arc<Self>,
        session: SessionContext,
        sql: String,
        parameters: Vec<Value>,
    ) -> Result<PreparedQuery, ExecutorError> {
        let engine = Arc::clone(self);
        let limit = self.config.lake.open_timeout;
        if !session.credentials.is_empty() {
            // Finding the session's engine may build it, which the deadline does not cover.
            return tokio::task::spawn_blocking(move || {
                engine.prepare_blocking(&session, &sql, parameters)
            })
            .await
            .map_err(|e| ExecutorError::Internal(format!("engine task failed: {e}")))?;
        }
        let work_sql = sql.clone();
        let work = tokio::task::spawn_blocking(move || {
            engine.prepare_with(&session, &work_sql, |db, setup, sql| {
                Some(db.prepare(setup, sql, &parameters))
            })
        });
        let joined = match limit {
            None => work.await,
            Some(limit) => match tokio::time::timeout(limit, work).await {
                Ok(joined) => joined,
                Err(_) => return Err(self.annotate(lake_open_timed_out(limit), &sql)),
            },
        };
        joined.map_err(|e| ExecutorError::Internal(format!("engine task failed: {e}")))?
    }

    /// Checks `sql` before and after `prepare` prepares it on the session's database;
    /// `prepare` returns `None` when it gave up at the lake open deadline. Blocking.
    fn prepare_with(
        &self,
        session: &SessionContext,
        sql: &str,
        prepare: impl FnOnce(
            &Arc<Database>,
            &ConnectionSetup,
            &str,
        ) -> Option<Result<PreparedQuery, String>>,
    ) -> Result<PreparedQuery, ExecutorError> {
        sandbox::refuse_before_prepare(sql)
            .inspect_err(|_| self.metrics.refused_statements_total.inc())?;
        let setup = connection_setup(session);
        let db = self.database(session)?;
        let prepared = match prepare(&db, &setup, sql) {
            Some(Ok(prepared)) => prepared,
            Some(Err(message)) => {
                return Err(self.annotate(ExecutorError::from_duckdb_message(message), sql))
            }
            None => {
                let limit = self.config.lake.open_timeout.unwrap_or_default();
                return Err(self.annotate(lake_open_timed_out(limit), sql));
            }
        };
        let policy = StatementPolicy {
            allow_writes: self.config.allow_writes,
        };
        if let Err(refusal) = policy.check(sql, prepared.description.statement_type, |inner| {
            db.describe(&setup, inner).map(|d| d.statement_type).ok()
        }) {
            self.metrics.refused_statements_total.inc();
            return Err(refusal);
        }
        Ok(prepared)
    }

    /// Keeps a statement [`Engine::prepare`] made, for the call that will run it (see
    /// `parked`).
    pub(crate) fn park(
        &self,
        waiting_for: WaitingFor<'_>,
        session: &SessionContext,
        sql: &str,
        prepared: PreparedQuery,
    ) {
        let fingerprint = ParkedStatements::fingerprint(&session.to_header(), sql);
        let key = waiting_for.key(&fingerprint);
        self.parked.park(&key, fingerprint, prepared);
    }

    /// The statement parked for `waiting_for`, when it was prepared for this session and SQL.
    pub(crate) fn take_parked(
        &self,
        waiting_for: WaitingFor<'_>,
        session: &SessionContext,
        sql: &str,
    ) -> Option<PreparedQuery> {
        let fingerprint = ParkedStatements::fingerprint(&session.to_header(), sql);
        self.parked
            .take(&waiting_for.key(&fingerprint), &fingerprint)
    }

    /// Prepares without the sandbox check: for the executor's own catalog queries.
    pub(crate) fn describe_internal(&self, sql: &str) -> Result<Description, ExecutorError> {
        // Describing a catalog view re-opens its lake table: bounded like user statements.
        let (db, sql) = (Arc::clone(&self.db), sql.to_owned());
        match lake::within(self.config.lake.open_timeout, move || {
            db.describe(&ConnectionSetup::default(), &sql)
        }) {
            Some(described) => described.map_err(ExecutorError::from_duckdb_message),
            None => Err(lake_open_timed_out(
                self.config.lake.open_timeout.unwrap_or_default(),
            )),
        }
    }

    /// Logs each statement that has been running for at least `after`: how long, how many
    /// rows it has sent, and DuckDB's estimate of how much is done.
    pub fn log_progress(&self, after: Duration) {
        let running: Vec<(String, Arc<RunningQuery>)> = self
            .running
            .lock()
            .expect("running map")
            .iter()
            .filter(|(_, query)| query.started.elapsed() >= after)
            .map(|(id, query)| (id.clone(), Arc::clone(query)))
            .collect();
        for (query_id, query) in &running {
            let progress = query.control.progress();
            info!(
                query_id = %query_id,
                elapsed_s = query.started.elapsed().as_secs(),
                rows_sent = query.rows_sent.load(Ordering::Relaxed),
                percent_done = progress.map(|p| format!("{p:.1}")),
                "query running"
            );
        }
    }

    /// This executor's load, for the gateway's scaler.
    pub fn status(&self) -> ExecutorStatus {
        ExecutorStatus {
            running_queries: self.running.lock().expect("running map").len() as u64,
            max_concurrent_queries: self.config.max_concurrent_queries as u64,
            out_of_memory_failures: self.out_of_memory_failures.load(Ordering::Relaxed),
        }
    }

    /// Interrupts a running query. Returns whether it was running here.
    pub fn cancel(&self, query_id: &str) -> bool {
        let handle = self
            .running
            .lock()
            .expect("running map")
            .get(query_id)
            .cloned();
        match handle {
            Some(handle) => {
                handle.control.interrupt();
                info!(query_id, "query cancelled");
                true
            }
            None => false,
        }
    }

    /// Stops a query whose caller went away: interrupts it if it runs, and otherwise keeps it
    /// from starting (its call was dropped while it was still being checked or connected).
    pub(crate) fn abandon(&self, query_id: &str) {
        let running = self.running.lock().expect("running map");
        if let Some(handle) = running.get(query_id) {
            handle.control.interrupt();
            info!(query_id, "query cancelled: its caller went away");
            return;
        }
        let mut abandoned = self.abandoned.lock().expect("abandoned queries");
        if abandoned.len() >= MAX_ABANDONED {
            abandoned.pop_front();
        }
        abandoned.push_back(query_id.to_owned());
    }

    /// Records a query as running, unless its caller already went away.
    fn register(&self, query_id: &str, query: Arc<RunningQuery>) -> Result<(), ExecutorError> {
        let mut running = self.running.lock().expect("running map");
        let mut abandoned = self.abandoned.lock().expect("abandoned queries");
        if let Some(at) = abandoned.iter().position(|id| id == query_id) {
            abandoned.remove(at);
            return Err(ExecutorError::QueryCancelled);
        }
        running.insert(query_id.to_owned(), query);
        Ok(())
    }

    /// Which statements the statement log shows.
    pub(crate) fn statement_log(&self) -> StatementLog {
        self.config.statement_log
    }

    fn admit(&self) -> Result<OwnedSemaphorePermit, ExecutorError> {
        Arc::clone(&self.admission)
            .try_acquire_owned()
            .map_err(|_| {
                ExecutorError::Overloaded(format!(
                    "{} queries already running (max_concurrent_queries)",
                    self.config.max_concurrent_queries
                ))
            })
    }

    /// Starts a query on a blocking thread; resolves once DuckDB has produced the schema (so
    /// errors in binding or planning surface here, before any data is sent).
    ///
    /// `prepared`, when given, is the statement [`Engine::prepare`] made (and checked) for `sql`
    /// with its parameters bound, which then runs without being planned again; the other
    /// arguments only name it. Otherwise `sql` runs once per row of `parameter_rows` (once
    /// when there are none), and the caller must have checked it with [`Engine::describe`].
    pub(crate) async fn start_query(
        self: &Arc<Self>,
        session: &SessionContext,
        sql: String,
        parameter_rows: Vec<Vec<Value>>,
        query_id: String,
        prepared: Option<PreparedQuery>,
    ) -> Result<QueryStream, ExecutorError> {
        let permit = self.admit()?;
        let logged_sql = sql.clone();
        let source = match prepared {
            Some(prepared) => QuerySource::Prepared(prepared),
            None => {
                let connection = self.database(session)?.connect()?;
                if let Some(setup) = connection_setup(session).as_sql() {
                    connection.execute_batch(&setup)?;
                }
                QuerySource::Sql {
                    connection,
                    sql,
                    parameter_rows,
                }
            }
        };
        let interrupt: Arc<dyn Interrupt> = match &source {
            QuerySource::Prepared(prepared) => prepared.connection(),
            QuerySource::Sql { connection, .. } => connection.interrupt_handle(),
        };
        let running = RunningQuery::new(Arc::clone(&interrupt));
        let rows_sent = Arc::clone(&running.rows_sent);
        self.register(&query_id, running)?;
        let (schema_tx, schema_rx) = oneshot::channel();
        let (batch_tx, receiver) = mpsc::channel(CHANNEL_BATCHES);
        let engine = Arc::clone(self);
        let thread_query_id = query_id.clone();
        let logged_user = session.user.clone();
        // The query's log lines keep the call's span (query id, trace id).
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _span = span.enter();
            let _permit = permit;
            let started = Instant::now();
            engine.metrics.running_queries.inc();
            let output = BatchOutput::new(&batch_tx, &engine.metrics, rows_sent);
            let outcome = match source {
                QuerySource::Prepared(prepared) => run_prepared(prepared, schema_tx, output),
                QuerySource::Sql {
                    connection,
                    sql,
                    parameter_rows,
                } => run_query(&connection, &sql, parameter_rows, schema_tx, output),
            };
            engine.metrics.running_queries.dec();
            engine
                .running
                .lock()
                .expect("running map")
                .remove(&thread_query_id);
            let out_of_memory = match &outcome {
                Ok(QueryEnd::FailedBeforeSchema { out_of_memory, .. }) => *out_of_memory,
                Err(error) => error.is_out_of_memory(),
                Ok(QueryEnd::Finished(_)) => false,
            };
            if out_of_memory {
                engine
                    .out_of_memory_failures
                    .fetch_add(1, Ordering::Relaxed);
            }
            let failure = match &outcome {
                Err(error) => Some(error.to_string()),
                _ => None,
            };
            let (label, ended) = match &outcome {
                Ok(QueryEnd::Finished(rows)) => {
                    debug!(query_id = %thread_query_id, rows, elapsed_ms = started.elapsed().as_millis() as u64, "query finished");
                    ("ok", Ended::Finished { rows: *rows })
                }
                Ok(QueryEnd::FailedBeforeSchema {
                    cancelled: true, ..
                })
                | Err(ExecutorError::QueryCancelled) => ("cancelled", Ended::Cancelled),
                Ok(QueryEnd::FailedBeforeSchema { message, .. }) => {
                    ("error", Ended::Failed(message))
                }
                Err(_) => (
                    "error",
                    Ended::Failed(failure.as_deref().unwrap_or_default()),
                ),
            };
            engine
                .config
                .statement_log
                .record(&logged_user, &logged_sql, started.elapsed(), ended);
            engine
                .metrics
                .queries_total
                .with_label_values(&[label])
                .inc();
            engine
                .metrics
                .query_duration_seconds
                .with_label_values(&[label])
                .observe(started.elapsed().as_secs_f64());
            if let Err(error) = outcome {
                // The receiver may be gone already; then nobody is waiting for the error.
                let _ = batch_tx.blocking_send(Err(error));
            }
        });
        // Until the schema arrives (DuckDB may first run a whole aggregation or sort), a caller
        // that goes away must still stop the query.
        let pending = InterruptOnDrop(Some(Arc::clone(&interrupt)));
        let received = schema_rx.await;
        pending.disarm();
        let schema = match received {
            Ok(Ok(schema)) => schema,
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(ExecutorError::Internal(
                    "query thread ended before a schema".into(),
                ))
            }
        };
        Ok(QueryStream {
            schema,
            receiver,
            interrupt,
            finished: false,
        })
    }

    /// Runs a statement that returns no rows (or whose rows are ignored) and returns the number
    /// of affected rows, summed over all parameter rows. Blocking.
    pub fn execute_update(
        &self,
        session: &SessionContext,
        sql: &str,
        parameter_rows: Vec<Vec<Value>>,
        query_id: &str,
    ) -> Result<i64, ExecutorError> {
        let _permit = self.admit()?;
        let connection = self.database(session)?.connect()?;
        if let Some(setup) = connection_setup(session).as_sql() {
            connection.execute_batch(&setup)?;
        }
        self.register(query_id, RunningQuery::new(connection.interrupt_handle()))?;
        let result = (|| {
            let mut statement = connection.prepare(sql)?;
            let mut affected = 0i64;
            if parameter_rows.is_empty() {
                affected += statement.execute([])? as i64;
            }
            for row in parameter_rows {
                affected += statement.execute(duckdb::params_from_iter(row))? as i64;
            }
            Ok(affected)
        })();
        self.running.lock().expect("running map").remove(query_id);
        result
    }

    /// Runs one of the executor's own small catalog queries and returns every row as strings.
    /// Blocking.
    pub(crate) fn catalog_rows(
        &self,
        sql: &str,
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, ExecutorError> {
        let connection = self.db.connect()?;
        let mut statement = connection.prepare(sql)?;
        let rows = statement.query_map([], |row| {
            (0..columns)
                .map(|i| row.get::<_, Option<String>>(i))
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// Lake hooks: session engines, the catalog reload, statement deadlines.
impl Engine {
    /// The database a session's statements run on: the shared one, or, for a session that
    /// brought its own credentials, that session's isolated engine (see `lake::session`).
    fn database(&self, session: &SessionContext) -> Result<Arc<Database>, ExecutorError> {
        if session.credentials.is_empty() {
            return Ok(Arc::clone(&self.db));
        }
        let credentials = SessionCredentials::from_statements(&session.credentials)?;
        if credentials.is_empty() {
            return Ok(Arc::clone(&self.db));
        }
        credentials.check_endpoints(&self.config.lake.session_endpoints)?;
        let (tables, generation) = self.lake.catalog.snapshot();
        self.lake
            .sessions
            .get_or_build(credentials.key(), generation, || {
                let (db, _) = open_database(&self.config, Some(&credentials))?;
                let db = Arc::new(db);
                // A table the session's credentials cannot read becomes a placeholder that says
                // why.
                catalog::apply_tables(
                    &db,
                    &tables,
                    &self.config.allowed_paths,
                    self.config.lake.open_timeout,
                    None,
                );
                info!(user = %session.user, tables = tables.len(), "session engine built for the session's own credentials");
                Ok(db)
            })
    }

    /// Names the catalog tables an SQL error of `sql` concerns.
    fn annotate(&self, error: ExecutorError, sql: &str) -> ExecutorError {
        match error {
            ExecutorError::Sql { kind, message } => {
                let (tables, _) = self.lake.catalog.snapshot();
                ExecutorError::Sql {
                    kind,
                    message: lake::annotate_error(message, sql, &tables),
                }
            }
            other => other,
        }
    }

    /// Re-reads the catalog file if it changed (always when `force`) and applies it to the
    /// shared engine; session engines built from the old catalog are rebuilt on next use.
    /// Blocking.
    pub fn reload_catalog(&self, force: bool) -> Result<lake::ReloadReport, ExecutorError> {
        let outcome = self
            .lake
            .catalog
            .reload(&self.db, force, self.config.lake.open_timeout)
            .map_err(|e| ExecutorError::Internal(e.to_string()));
        let label = match &outcome {
            Ok(report) if report.applied => "applied",
            Ok(_) => "unchanged",
            Err(_) => "error",
        };
        if self.has_catalog() {
            self.metrics
                .lake_catalog_reloads_total
                .with_label_values(&[label])
                .inc();
        }
        let (tables, unavailable) = self.lake.catalog.table_counts();
        self.metrics.lake_tables.set(tables as i64);
        self.metrics.lake_tables_unavailable.set(unavailable as i64);
        outcome
    }

    /// Loads the catalog tables held in memory that are due (first loads after their view
    /// opened, refreshes, retries), one at a time. Blocking.
    pub fn load_tables_into_memory(&self) -> Vec<lake::CopyLoad> {
        let loads = self.lake.catalog.load_due_copies(&self.db);
        for load in &loads {
            self.metrics
                .lake_memory_loads_total
                .with_label_values(&[load.outcome.label()])
                .inc();
        }
        self.metrics
            .lake_tables_in_memory
            .set(self.lake.catalog.copies_loaded() as i64);
        // Every pass: copies dropped by a reload are freed once their last reader finishes.
        match self.catalog_rows(
            "SELECT (memory_usage_bytes + temporary_storage_bytes)::VARCHAR \
             FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'",
            1,
        ) {
            Ok(rows) => {
                let bytes = rows
                    .first()
                    .and_then(|row| row.first())
                    .and_then(|value| value.as_deref())
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(0);
                self.metrics.lake_memory_bytes.set(bytes);
            }
            Err(error) => debug!(%error, "cannot read DuckDB's memory use"),
        }
        loads
    }

    /// When the next catalog table is due to be loaded into memory, if any is.
    pub fn next_memory_load(&self) -> Option<Instant> {
        self.lake.catalog.next_copy_due()
    }

    /// How often the catalog file is checked for changes; `None` without a catalog file or
    /// when polling is off.
    pub fn catalog_poll_interval(&self) -> Option<std::time::Duration> {
        self.lake.catalog.file()?;
        let poll = self.config.lake.catalog_poll;
        (!poll.is_zero()).then_some(poll)
    }

    /// Whether a catalog file is configured.
    pub fn has_catalog(&self) -> bool {
        self.lake.catalog.file().is_some()
    }

    /// Applies a session's credential statement (`CREATE SECRET`, `SET s3_*`, ...) and returns
    /// the session's new context. Nothing runs on the shared engine: the statement is parsed
    /// and checked, and the session's engine is built (so DuckDB's own objections surface now,
    /// not at the next query). Blocking.
    pub fn apply_session_credential(
        &self,
        session: &SessionContext,
        sql: &str,
    ) -> Result<SessionContext, ExecutorError> {
        let credentials = lake::session::apply_statement(
            &session.credentials,
            sql,
            &self.config.lake.session_endpoints,
        )?;
        let next = SessionContext {
            credentials,
            ..session.clone()
        };
        self.database(&next)?;
        Ok(next)
    }
}

/// The error of a statement whose lake tables did not open within `limit`.
fn lake_open_timed_out(limit: std::time::Duration) -> ExecutorError {
    ExecutorError::Sql {
        kind: SqlErrorKind::Unavailable,
        message: format!(
            "IO Error: opening the lake tables of this statement took longer than {}s \
             (TAVANA_LAKE_OPEN_TIMEOUT_SECS): the object store is unreachable or too slow",
            limit.as_secs_f64()
        ),
    }
}

/// Opens one DuckDB database set up like every engine of this executor and locks it down: the
/// shared engine, or (with `session`) a session's own engine, which also holds that session's
/// secrets. Blocking.
fn open_database(
    config: &EngineConfig,
    session: Option<&SessionCredentials>,
) -> Result<(Database, Vec<String>), ExecutorError> {
    let mut settings = vec![
        (
            "autoinstall_known_extensions".to_string(),
            "false".to_string(),
        ),
        ("autoload_known_extensions".to_string(), "false".to_string()),
        (
            "allow_community_extensions".to_string(),
            "false".to_string(),
        ),
        ("allow_unsigned_extensions".to_string(), "false".to_string()),
        // Secrets live in memory only. Without this, DuckDB's first use of its secret manager
        // after the lockdown fails half-way (no file access) and every later CREATE SECRET
        // then dies with "Secret Storage with name 'memory' already registered".
        ("allow_persistent_secrets".to_string(), "false".to_string()),
    ];
    if let Some(gb) = config.memory_limit_gb {
        settings.push(("memory_limit".into(), format!("{}MB", (gb * 1024.0) as u64)));
    }
    if let Some(threads) = config.threads {
        settings.push(("threads".into(), threads.to_string()));
    }
    if let Some(dir) = &config.temp_dir {
        settings.push(("temp_directory".into(), dir.display().to_string()));
    }
    if let Some(dir) = &config.extension_dir {
        settings.push(("extension_directory".into(), dir.display().to_string()));
    }
    let db = Database::open_in_memory(&settings).map_err(ExecutorError::Internal)?;
    let connection = db.connect()?;

    let mut loaded_extensions = Vec::new();
    for extension in &config.extensions {
        match connection.execute_batch(&format!("LOAD {}", sandbox::quote_identifier(extension))) {
            Ok(()) => loaded_extensions.push(extension.clone()),
            Err(error) if session.is_none() => warn!(
                extension,
                %error,
                "extension not loaded; run scripts/provision-extensions.sh and set --extension-dir"
            ),
            Err(_) => {}
        }
    }
    if loaded_extensions.iter().any(|e| e == "icu") {
        // ICU takes the host's zone as its default; results must not depend on where an
        // executor happens to run (the pg-adapter's sessions also start in UTC).
        connection.execute_batch("SET GLOBAL TimeZone = 'UTC'")?;
    }
    for statement in
        tavana_proto::sql::split_statements(PG_COMPAT_SQL, tavana_proto::sql::Lexicon::DuckDb)
            .into_iter()
            .chain(config.startup_sql.iter().map(String::as_str))
    {
        connection.execute_batch(statement).map_err(|e| {
            ExecutorError::Internal(format!("start-up statement failed: {e}: {statement}"))
        })?;
    }
    // Their SQL may hold secrets: errors name the statement, never show it.
    for statement in lake::startup_statements(&config.lake, &loaded_extensions, session) {
        if let Err(error) = connection.execute_batch(&statement.sql) {
            let message = format!("{} failed: {error}", statement.what);
            return Err(match session {
                None => ExecutorError::Internal(format!("start-up: {message}")),
                Some(_) => ExecutorError::BadRequest(format!("session credentials: {message}")),
            });
        }
    }
    connection.execute_batch(&sandbox::lockdown_sql(&config.allowed_paths))?;
    Ok((db, loaded_extensions))
}

/// The call a parked statement waits for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WaitingFor<'a> {
    /// The `DoGet` of this query id, after its `GetFlightInfo`.
    DoGet(&'a str),
    /// A later call that runs the same SQL in the same session: a `GetFlightInfo`, or a
    /// `DoGet` whose ticket is the query itself, after `CreatePreparedStatement` (ADBC and the
    /// pg-adapter's extended protocol prepare every new query text before they run it).
    SameText,
}

impl WaitingFor<'_> {
    fn key(self, fingerprint: &str) -> String {
        match self {
            WaitingFor::DoGet(query_id) => format!("query {query_id}"),
            WaitingFor::SameText => format!("text {fingerprint}"),
        }
    }
}

/// What a query runs from: a statement planned by [`Engine::prepare`] (its parameters bound), or
/// SQL to prepare on a new connection and run once per parameter row (a batch of them).
enum QuerySource {
    Prepared(PreparedQuery),
    Sql {
        connection: duckdb::Connection,
        sql: String,
        parameter_rows: Vec<Vec<Value>>,
    },
}

/// The blocking half of a query planned earlier: executes, hands over the schema, then pumps
/// batches.
fn run_prepared(
    prepared: PreparedQuery,
    schema_tx: oneshot::Sender<Result<SchemaRef, ExecutorError>>,
    mut output: BatchOutput<'_>,
) -> Result<QueryEnd, ExecutorError> {
    let mut result = match prepared.execute(TARGET_BATCH_ROWS) {
        Ok(result) => result,
        Err(message) => {
            return Ok(fail_before_schema(
                schema_tx,
                ExecutorError::from_duckdb_message(message),
            ))
        }
    };
    let schema = result.schema();
    if schema_tx.send(Ok(Arc::clone(&schema))).is_err() {
        return Err(ExecutorError::QueryCancelled);
    }
    output.start(schema);
    while let Some(batch) = result
        .next_batch()
        .map_err(ExecutorError::from_duckdb_message)?
    {
        output.push(batch)?;
    }
    output.finish().map(QueryEnd::Finished)
}

/// The blocking half of a query from SQL: prepares, executes once per parameter row, hands
/// over the schema, then pumps batches.
fn run_query(
    connection: &duckdb::Connection,
    sql: &str,
    parameter_rows: Vec<Vec<Value>>,
    schema_tx: oneshot::Sender<Result<SchemaRef, ExecutorError>>,
    mut output: BatchOutput<'_>,
) -> Result<QueryEnd, ExecutorError> {
    let mut statement = match connection.prepare(sql) {
        Ok(statement) => statement,
        Err(error) => return Ok(fail_before_schema(schema_tx, error.into())),
    };
    let executions: Vec<Vec<Value>> = if parameter_rows.is_empty() {
        vec![Vec::new()]
    } else {
        parameter_rows
    };
    let mut schema_tx = Some(schema_tx);
    for parameters in executions {
        // Only the schema is taken from the iterator: it panics when a fetch fails mid-query,
        // so batches are pulled with `Statement::step`, which returns the error instead.
        let schema = match statement.stream_arrow(duckdb::params_from_iter(parameters)) {
            Ok(arrow) => arrow.get_schema(),
            Err(error) => match schema_tx.take() {
                Some(tx) => return Ok(fail_before_schema(tx, error.into())),
                None => return Err(error.into()),
            },
        };
        let tags: Vec<Option<ColumnTag>> = (0..schema.fields().len())
            .map(|index| {
                let logical_type = statement.column_logical_type(index);
                let is_uuid = logical_type.id() == duckdb::core::LogicalTypeId::Uuid;
                ColumnTag::of(is_uuid, logical_type.get_alias().as_deref())
            })
            .collect();
        let schema = tag_schema(schema, &tags);
        if let Some(tx) = schema_tx.take() {
            if tx.send(Ok(Arc::clone(&schema))).is_err() {
                return Err(ExecutorError::QueryCancelled);
            }
            output.start(Arc::clone(&schema));
        }
        while let Some(chunk) = statement.step()? {
            let batch = RecordBatch::from(&chunk);
            let batch = if batch.schema() == schema {
                batch
            } else {
                batch
                    .with_schema(Arc::clone(&schema))
                    .map_err(|e| ExecutorError::Internal(e.to_string()))?
            };
            output.push(batch)?;
        }
    }
    output.finish().map(QueryEnd::Finished)
}

/// How a query that did not fail mid-stream ended.
enum QueryEnd {
    /// All rows sent.
    Finished(u64),
    /// It failed before its schema was known; the error went to the caller waiting for the
    /// schema (so the client sees it as the call's error), and the query counts as failed.
    FailedBeforeSchema {
        out_of_memory: bool,
        cancelled: bool,
        message: String,
    },
}

/// Hands an error that came before the schema to the caller waiting for it.
fn fail_before_schema(
    schema_tx: oneshot::Sender<Result<SchemaRef, ExecutorError>>,
    error: ExecutorError,
) -> QueryEnd {
    let end = QueryEnd::FailedBeforeSchema {
        out_of_memory: error.is_out_of_memory(),
        cancelled: matches!(error, ExecutorError::QueryCancelled),
        message: error.to_string(),
    };
    let _ = schema_tx.send(Err(error));
    end
}

/// Where a query's batches go: coalesced to [`TARGET_BATCH_ROWS`], counted, and sent to the
/// stream's channel (blocking while the client is behind: the backpressure).
struct BatchOutput<'a> {
    coalescer: Option<BatchCoalescer>,
    sender: &'a mpsc::Sender<Result<RecordBatch, ExecutorError>>,
    metrics: &'a ExecutorMetrics,
    /// Rows sent so far; shared with the running query's progress reports.
    rows_sent: Arc<AtomicU64>,
}

impl<'a> BatchOutput<'a> {
    fn new(
        sender: &'a mpsc::Sender<Result<RecordBatch, ExecutorError>>,
        metrics: &'a ExecutorMetrics,
        rows_sent: Arc<AtomicU64>,
    ) -> Self {
        Self {
            coalescer: None,
            sender,
            metrics,
            rows_sent,
        }
    }

    /// Starts output with the stream's schema (once; later executions share it).
    fn start(&mut self, schema: SchemaRef) {
        // Batches of more than half the target (DuckDB's Arrow stream gives whole ones) go
        // out as they are; smaller ones (2,048-row chunks) are gathered.
        self.coalescer = Some(
            BatchCoalescer::new(schema, TARGET_BATCH_ROWS)
                .with_biggest_coalesce_batch_size(Some(TARGET_BATCH_ROWS / 2)),
        );
    }

    fn push(&mut self, batch: RecordBatch) -> Result<(), ExecutorError> {
        let coalescer = self.coalescer.as_mut().expect("output started");
        coalescer
            .push_batch(batch)
            .map_err(|e| ExecutorError::Internal(e.to_string()))?;
        self.send_completed()
    }

    /// Sends what is left and returns the number of rows sent.
    fn finish(mut self) -> Result<u64, ExecutorError> {
        if let Some(coalescer) = self.coalescer.as_mut() {
            coalescer
                .finish_buffered_batch()
                .map_err(|e| ExecutorError::Internal(e.to_string()))?;
            self.send_completed()?;
        }
        Ok(self.rows_sent.load(Ordering::Relaxed))
    }

    fn send_completed(&mut self) -> Result<(), ExecutorError> {
        let coalescer = self.coalescer.as_mut().expect("output started");
        while let Some(ready) = coalescer.next_completed_batch() {
            self.rows_sent
                .fetch_add(ready.num_rows() as u64, Ordering::Relaxed);
            self.metrics
                .rows_streamed_total
                .inc_by(ready.num_rows() as u64);
            if self.sender.blocking_send(Ok(ready)).is_err() {
                return Err(ExecutorError::QueryCancelled);
            }
        }
        Ok(())
    }
}

/// How a fresh connection is set up for the session: `USE` of its catalog and schema (`USE`
/// and `search_path` stay settable after the configuration is locked; they are per connection),
/// and its way of dividing integers.
fn connection_setup(session: &SessionContext) -> ConnectionSetup {
    let preamble = match (&session.catalog, &session.schema) {
        (None, None) => None,
        (Some(catalog), None) => Some(format!("USE {}", sandbox::quote_identifier(catalog))),
        (None, Some(schema)) => Some(format!("USE {}", sandbox::quote_identifier(schema))),
        (Some(catalog), Some(schema)) => Some(format!(
            "USE {}.{}",
            sandbox::quote_identifier(catalog),
            sandbox::quote_identifier(schema)
        )),
    };
    ConnectionSetup {
        preamble,
        integer_division: session.integer_division,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let metrics = ExecutorMetrics::register(&prometheus::Registry::new()).unwrap();
        let config = EngineConfig {
            max_concurrent_queries: 4,
            allow_writes: true,
            ..EngineConfig::default()
        };
        Engine::open(config, metrics).unwrap()
    }

    #[test]
    fn a_statement_abandoned_before_it_starts_never_runs() {
        let engine = engine();
        let session = SessionContext::default();
        engine.abandon("gone");
        let refused =
            engine.execute_update(&session, "CREATE TABLE never (x INT)", Vec::new(), "gone");
        assert!(
            matches!(refused, Err(ExecutorError::QueryCancelled)),
            "{refused:?}"
        );
        // Only that one: the id is forgotten, and other statements run.
        engine
            .execute_update(&session, "CREATE TABLE later (x INT)", Vec::new(), "gone")
            .unwrap();
        let tables = engine
            .catalog_rows("SELECT table_name FROM duckdb_tables() ORDER BY 1", 1)
            .unwrap();
        assert_eq!(tables, vec![vec![Some("later".to_owned())]]);
    }
}
