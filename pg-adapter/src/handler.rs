//! The PostgreSQL query handlers: simple and extended protocol, cursors, COPY, session
//! statements. Everything that touches data goes to the gateway as Flight SQL.
//!
//! Result rows are never materialised: a statement's Flight stream is wrapped in a lazy
//! row stream, and the protocol pulls exactly as many rows as it needs (`Execute` with
//! `max_rows`, `FETCH n`), so memory stays bounded by one Flight batch per open portal.
//! `on_query` and `on_execute` are overridden (rather than pgwire's defaults) so that every
//! row pulled races the connection's cancel signal and the statement deadline, and so that
//! `Execute` with `max_rows = 0` streams instead of collecting.

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use bytes::{BufMut, Bytes, BytesMut};
use futures::channel::oneshot;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, FieldFormat, FieldInfo, QueryResponse, Response, SendableRowStream, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, MemPortalStore, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, PgWireConnectionState, Type, DEFAULT_NAME,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::data::{DataRow, RowDescription};
use pgwire::messages::extendedquery::{Execute, PortalSuspended};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::PgWireBackendMessage;
use tokio::sync::Mutex as AsyncMutex;
use tonic::Status;

use crate::backends::{SignalError, State};
use crate::classify::{self, CopyFormat, CopyOptions, FetchCount, SignalTarget, Statement};
use crate::encode::{self, RowEncoder};
use crate::error::QueryError;
use crate::explain;
use crate::gateway::{GatewaySession, Prepared, RunningQuery};
use crate::lexer;
use crate::metrics::Metrics;
use crate::params;
use crate::rewrite;
use crate::session::Session;
use crate::timezone::Zone;

/// A parsed statement as stored in pgwire's statement/portal store.
#[derive(Clone, Debug)]
pub(crate) struct PgStatement(pub(crate) Arc<Plan>);

/// What the adapter knows about a statement after Parse.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) kind: Statement,
    /// SQL sent to the gateway (after compatibility rewrites); for DECLARE and COPY, the inner
    /// query.
    pub(crate) sql: String,
    pub(crate) prepared: Option<PreparedGuard>,
    pub(crate) param_types: Vec<Type>,
    /// Result columns as described (text format); empty for statements without rows.
    pub(crate) fields: Vec<FieldInfo>,
    pub(crate) described_types: Option<Vec<DataType>>,
    pub(crate) tag: String,
    /// The statement as the client sent it.
    pub(crate) source: String,
    /// The rewritten SQL holds facts that change while the statement is kept (the connections
    /// in `pg_stat_activity`): each execution plans it again.
    pub(crate) live: bool,
}

/// A gateway prepared statement, closed when the last PostgreSQL statement using it goes.
pub(crate) struct PreparedGuard {
    pub(crate) prepared: Prepared,
    gateway: GatewaySession,
}

impl Debug for PreparedGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedGuard").finish_non_exhaustive()
    }
}

impl PreparedGuard {
    /// The prepared statement, no longer closed when this guard goes.
    fn take(mut self) -> Prepared {
        let prepared = self.prepared.clone();
        // An empty handle marks the guard as disarmed (see Drop).
        self.prepared.handle = Bytes::new();
        prepared
    }
}

impl Drop for PreparedGuard {
    fn drop(&mut self) {
        if self.prepared.handle.is_empty() {
            return;
        }
        let gateway = self.gateway.clone();
        let handle = self.prepared.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = gateway.close_prepared(handle).await {
                    tracing::debug!(error = %e, "closing prepared statement at the gateway failed");
                }
            });
        }
    }
}

/// An open cursor (DECLARE): its description and live row stream.
pub(crate) struct Cursor {
    fields: Arc<Vec<FieldInfo>>,
    rows: SendableRowStream,
    done: bool,
}

/// Cursors of one connection, keyed by name. Stored in the session extensions.
#[derive(Default)]
pub(crate) struct Cursors(AsyncMutex<std::collections::HashMap<String, Cursor>>);

/// Handlers shared by all connections.
pub(crate) struct Handler {
    metrics: Metrics,
    parser: Arc<Parser>,
}

impl Handler {
    pub(crate) fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            parser: Arc::new(Parser),
        }
    }
}

fn session_of<C: ClientInfo + ?Sized>(client: &C) -> PgWireResult<Arc<Session>> {
    client.session_extensions().get::<Session>().ok_or_else(|| {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "FATAL".into(),
            "08003".into(),
            "no session for this connection".into(),
        )))
    })
}

fn cursors_of<C: ClientInfo + ?Sized>(client: &C) -> Arc<Cursors> {
    client
        .session_extensions()
        .get_or_insert_with(Cursors::default)
}

/// The error a statement fails with when the server ends its connection.
fn termination_error(farewell: &crate::disconnect::Farewell) -> QueryError {
    QueryError::Terminated {
        code: farewell.code,
        message: farewell.message,
    }
}

/// Races a statement's work against the connection's CancelRequest, `statement_timeout` and
/// the client going away (see `disconnect.rs`).
pub(crate) struct Guard {
    cancel: Option<oneshot::Receiver<()>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    gone: Option<tokio::sync::watch::Receiver<bool>>,
    /// `pg_terminate_backend` of this connection.
    terminated: Option<tokio::sync::watch::Receiver<Option<crate::disconnect::Farewell>>>,
}

impl Guard {
    async fn new<C: ClientInfo + ?Sized>(client: &C, session: &Session) -> Self {
        let cancel = match client.session_extensions().get::<Arc<ConnectionHandle>>() {
            Some(handle) => Some(handle.start_query().await),
            None => None,
        };
        let deadline = session
            .settings()
            .statement_timeout()
            .map(|d| Box::pin(tokio::time::sleep(d)));
        Self {
            cancel,
            deadline,
            gone: session.gone.clone(),
            terminated: session.backend.get().and_then(|b| b.terminated()),
        }
    }

    /// A signal that has already fired, checked without waiting (cheap: no futures).
    fn fired(&mut self) -> Option<QueryError> {
        if self.gone.as_ref().is_some_and(|rx| *rx.borrow()) {
            return Some(QueryError::ClientGone);
        }
        if let Some(farewell) = self.terminated.as_ref().and_then(|rx| rx.borrow().clone()) {
            return Some(termination_error(&farewell));
        }
        if let Some(rx) = self.cancel.as_mut() {
            match rx.try_recv() {
                Ok(Some(())) => return Some(QueryError::Cancelled),
                Ok(None) => {}
                // The sender was replaced (a newer statement): no cancel can come for us.
                Err(_) => self.cancel = None,
            }
        }
        if self
            .deadline
            .as_ref()
            .is_some_and(|sleep| sleep.is_elapsed())
        {
            return Some(QueryError::TimedOut);
        }
        None
    }

    async fn run<F: std::future::Future>(&mut self, fut: F) -> Result<F::Output, QueryError> {
        // Fast path, taken for nearly every row of a stream: no signal has fired and the work
        // is ready at once, so no select (and no waker registration) is needed.
        if let Some(error) = self.fired() {
            return Err(error);
        }
        tokio::pin!(fut);
        if let std::task::Poll::Ready(out) = futures::poll!(&mut fut) {
            return Ok(out);
        }
        loop {
            let cancel = async {
                match self.cancel.as_mut() {
                    Some(rx) => rx.await.is_ok(),
                    None => futures::future::pending().await,
                }
            };
            let deadline = async {
                match self.deadline.as_mut() {
                    Some(s) => s.as_mut().await,
                    None => futures::future::pending().await,
                }
            };
            let gone = async {
                match self.gone.as_mut() {
                    Some(rx) => rx.wait_for(|gone| *gone).await.is_ok(),
                    None => futures::future::pending().await,
                }
            };
            let terminated = async {
                match self.terminated.as_mut() {
                    Some(rx) => rx
                        .wait_for(Option::is_some)
                        .await
                        .ok()
                        .and_then(|farewell| farewell.clone()),
                    None => futures::future::pending().await,
                }
            };
            // The signals come first: a row stream whose next batch is always ready (a client
            // slower than the executor) would otherwise never let a cancel be seen.
            tokio::select! {
                biased;
                left = gone => {
                    if left {
                        return Err(QueryError::ClientGone);
                    }
                    // The watcher stopped without seeing a close: nothing more to wait for.
                    self.gone = None;
                }
                farewell = terminated => {
                    if let Some(farewell) = farewell {
                        return Err(termination_error(&farewell));
                    }
                    self.terminated = None;
                }
                fired = cancel => {
                    if fired {
                        return Err(QueryError::Cancelled);
                    }
                    // The sender was replaced (a newer statement): no cancel can come for us.
                    self.cancel = None;
                }
                () = deadline => return Err(QueryError::TimedOut),
                out = &mut fut => return Ok(out),
            }
        }
    }
}

/// Bind parameters: values, their format codes, and the client's declared types.
type Bound<'a> = (&'a [Option<Bytes>], &'a Format, &'a [Option<Type>]);

/// What executing one statement produced.
// One value per statement, moved once: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// Rows to stream, with the description the client will get.
    Rows {
        fields: Arc<Vec<FieldInfo>>,
        rows: SendableRowStream,
        tag: String,
    },
    /// A command tag, plus ParameterStatus messages to send first.
    Done {
        tag: String,
        statuses: Vec<(String, String)>,
        txn: Option<TxnChange>,
    },
    /// A command tag after a WARNING (PostgreSQL's NoticeResponse).
    Warned { tag: String, warning: ErrorInfo },
    /// Rows already pulled from a cursor (FETCH/MOVE) or computed (SHOW).
    Fetched {
        fields: Arc<Vec<FieldInfo>>,
        rows: Vec<DataRow>,
        tag: String,
    },
    /// COPY ... TO STDOUT.
    Copy {
        query: Box<RunningQuery>,
        options: CopyOptions,
        gateway: GatewaySession,
        zone: Zone,
    },
}

#[derive(Clone, Copy)]
enum TxnChange {
    Begin,
    End,
    /// Back to a usable transaction block (ROLLBACK TO SAVEPOINT).
    Recover,
}

impl Handler {
    /// Executes one statement. `params`/`result_format` come from Bind in the extended protocol.
    async fn execute<C>(
        &self,
        client: &mut C,
        session: &Arc<Session>,
        plan: &Plan,
        bound: Option<Bound<'_>>,
        result_format: &Format,
        guard: &mut Guard,
    ) -> Result<Outcome, QueryError>
    where
        C: ClientInfo + ClientPortalStore + Send + Sync,
        C::PortalStore: PortalStore,
    {
        let status = client.transaction_status();
        if matches!(status, TransactionStatus::Error)
            && !matches!(
                plan.kind,
                Statement::Rollback | Statement::Commit | Statement::RollbackTo { .. }
            )
        {
            return Err(QueryError::InFailedTransaction);
        }
        let kind_label = match &plan.kind {
            Statement::Query => "query",
            Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. } => {
                "cursor"
            }
            Statement::CopyOut { .. } => "copy",
            _ => "session",
        };
        self.metrics
            .statements_total
            .with_label_values(&[kind_label])
            .inc();
        if matches!(
            plan.kind,
            Statement::Query
                | Statement::Declare { .. }
                | Statement::CopyOut { .. }
                | Statement::Signal { .. }
        ) {
            // As PostgreSQL's first snapshot: the transaction's isolation level is now fixed.
            session.queried();
        }
        match &plan.kind {
            Statement::Query => {
                let replanned;
                let plan = if plan.live {
                    // Kept since Parse: take a fresh look at what the query shows.
                    let client_types = bound.map(|(_, _, types)| types).unwrap_or(&[]);
                    let prepare = !plan.param_types.is_empty();
                    replanned = Box::pin(self::plan(
                        session,
                        &plan.source,
                        prepare,
                        client_types,
                        None,
                    ))
                    .await?;
                    &replanned
                } else {
                    plan
                };
                let query = guard.run(start_query(session, plan, bound)).await??;
                let query = guard.run(schema_from_first_batch(query)).await??;
                let described = if plan.prepared.is_some()
                    && !plan.fields.is_empty()
                    && plan.fields.len() == query.schema.fields().len()
                {
                    plan.described_types.clone()
                } else {
                    None
                };
                let fields = match (&plan.prepared, described.as_ref()) {
                    (Some(_), Some(_)) => with_formats(&plan.fields, result_format),
                    _ => encode::field_infos(&query.schema, |i| result_format.format_for(i)),
                };
                if !returns_rows(&plan.tag) {
                    // DDL/DML: run to completion, report the row count from DuckDB's Count column.
                    let count = guard.run(drain_count(query)).await??;
                    return Ok(Outcome::Done {
                        tag: dml_tag(&plan.tag, count),
                        statuses: vec![],
                        txn: None,
                    });
                }
                let fields = Arc::new(fields);
                let rows = row_stream(
                    query,
                    RowEncoder::new(Arc::clone(&fields), described, session.settings().zone()),
                    session.gateway.clone(),
                );
                Ok(Outcome::Rows {
                    fields,
                    rows,
                    tag: "SELECT".into(),
                })
            }
            Statement::Set { name, value }
                if name == "transaction_isolation" || name == "transaction_read_only" =>
            {
                session.set_transaction_setting(name, value.as_deref())?;
                Ok(Outcome::Done {
                    tag: "SET".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::Set { name, value } => {
                let report = session.settings().set(name, value.clone())?;
                if name == "search_path" {
                    guard.run(apply_search_path(session)).await??;
                }
                Ok(Outcome::Done {
                    tag: "SET".into(),
                    statuses: report.into_iter().collect(),
                    txn: None,
                })
            }
            Statement::Reset { name } => {
                let statuses = session.settings().reset(name.as_deref());
                if name.as_deref().is_none_or(|n| n == "search_path") {
                    guard.run(apply_search_path(session)).await??;
                }
                Ok(Outcome::Done {
                    tag: "RESET".into(),
                    statuses,
                    txn: None,
                })
            }
            Statement::Show { name } => show(session, name, result_format),
            Statement::Signal { signal, target } => {
                let pid = match *target {
                    SignalTarget::Pid(pid) => pid,
                    SignalTarget::Param(n) => {
                        signal_param(bound, &plan.param_types, n, &session.settings().zone())?
                    }
                };
                let sent = match session.backend.get() {
                    Some(backend) => backend.signal(pid, *signal).await,
                    None => Err(SignalError::NoSuchBackend(pid)),
                };
                let outcome = match &sent {
                    Ok(()) => "sent",
                    Err(SignalError::NoSuchBackend(_)) => "no_such_backend",
                    Err(SignalError::NotOwner { .. }) => "refused",
                };
                self.metrics
                    .backend_signals_total
                    .with_label_values(&[signal.function(), outcome])
                    .inc();
                let sent = match sent {
                    Ok(()) => true,
                    // PostgreSQL answers false (with a warning) for a pid that is not a backend.
                    Err(SignalError::NoSuchBackend(_)) => false,
                    Err(e @ SignalError::NotOwner { .. }) => {
                        return Err(QueryError::NotPermitted(e.to_string()))
                    }
                };
                let mut buf = BytesMut::new();
                buf.put_i32(1);
                buf.put_u8(match (result_format.format_for(0), sent) {
                    (FieldFormat::Text, true) => b't',
                    (FieldFormat::Text, false) => b'f',
                    (FieldFormat::Binary, sent) => u8::from(sent),
                });
                Ok(Outcome::Fetched {
                    fields: Arc::new(with_formats(&plan.fields, result_format)),
                    rows: vec![DataRow::new(buf, 1)],
                    tag: "SELECT".into(),
                })
            }
            Statement::Begin { modes, tag } => {
                if matches!(status, TransactionStatus::Idle) {
                    session.savepoints().clear();
                    session.settings().reset_transaction_modes();
                }
                session.set_transaction_modes(modes)?;
                Ok(Outcome::Done {
                    tag: (*tag).into(),
                    statuses: vec![],
                    txn: Some(TxnChange::Begin),
                })
            }
            Statement::Savepoint { name } => {
                if matches!(status, TransactionStatus::Idle) {
                    return Err(QueryError::NoTransactionBlock("SAVEPOINT"));
                }
                session.savepoints().push(name.clone());
                Ok(Outcome::Done {
                    tag: "SAVEPOINT".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::Release { name } | Statement::RollbackTo { name } => {
                // ROLLBACK TO undoes what came after the savepoint (nothing here writes) and,
                // in a failed block, the failure, and keeps the savepoint; RELEASE drops it.
                let rollback = matches!(plan.kind, Statement::RollbackTo { .. });
                if matches!(status, TransactionStatus::Idle) {
                    return Err(QueryError::NoTransactionBlock(if rollback {
                        "ROLLBACK TO SAVEPOINT"
                    } else {
                        "RELEASE SAVEPOINT"
                    }));
                }
                if !session.drop_savepoints_after(name, rollback) {
                    return Err(QueryError::UndefinedSavepoint(name.clone()));
                }
                Ok(Outcome::Done {
                    tag: if rollback { "ROLLBACK" } else { "RELEASE" }.into(),
                    statuses: vec![],
                    txn: rollback.then_some(TxnChange::Recover),
                })
            }
            Statement::Commit => {
                let tag = if matches!(status, TransactionStatus::Error) {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                };
                Ok(Outcome::Done {
                    tag: tag.into(),
                    statuses: vec![],
                    txn: Some(TxnChange::End),
                })
            }
            Statement::Rollback => Ok(Outcome::Done {
                tag: "ROLLBACK".into(),
                statuses: vec![],
                txn: Some(TxnChange::End),
            }),
            Statement::SetTransaction { modes } => {
                if matches!(status, TransactionStatus::Idle) {
                    // PostgreSQL warns and the modes last only for this statement.
                    return Ok(Outcome::Warned {
                        tag: "SET".into(),
                        warning: ErrorInfo::new(
                            "WARNING".into(),
                            "25P01".into(),
                            "SET TRANSACTION can only be used in transaction blocks".into(),
                        ),
                    });
                }
                session.set_transaction_modes(modes)?;
                Ok(Outcome::Done {
                    tag: "SET".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::SetSessionCharacteristics { modes } => {
                session.set_default_transaction_modes(modes)?;
                Ok(Outcome::Done {
                    tag: "SET".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::Noop { tag } => Ok(Outcome::Done {
                tag: (*tag).to_owned(),
                statuses: vec![],
                txn: None,
            }),
            Statement::Discard => {
                let statuses = session.settings().reset(None);
                guard.run(apply_search_path(session)).await??;
                close_cursors(client, session, None).await;
                Ok(Outcome::Done {
                    tag: "DISCARD ALL".into(),
                    statuses,
                    txn: None,
                })
            }
            Statement::Deallocate { name } => {
                if let Some(name) = name {
                    if let Some(store) = client
                        .portal_store()
                        .as_any()
                        .downcast_ref::<MemPortalStore<PgStatement>>()
                    {
                        store.rm_statement(name);
                    }
                }
                Ok(Outcome::Done {
                    tag: "DEALLOCATE".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::Declare { name, binary, .. } => {
                let cursors = cursors_of(client);
                if cursors.0.lock().await.contains_key(name) {
                    return Err(QueryError::DuplicateCursor(name.clone()));
                }
                let query = guard.run(start_query(session, plan, bound)).await??;
                let format = if *binary {
                    FieldFormat::Binary
                } else {
                    FieldFormat::Text
                };
                let fields = Arc::new(encode::field_infos(&query.schema, |_| format));
                let rows = row_stream(
                    query,
                    RowEncoder::new(Arc::clone(&fields), None, session.settings().zone()),
                    session.gateway.clone(),
                );
                // A description stub in pgwire's portal store lets clients Describe the cursor
                // as a portal (psycopg does); the rows live in `Cursors`.
                if let Some(store) = client
                    .portal_store()
                    .as_any()
                    .downcast_ref::<MemPortalStore<PgStatement>>()
                {
                    let stub = Plan {
                        kind: Statement::Query,
                        sql: String::new(),
                        prepared: None,
                        param_types: vec![],
                        fields: fields.as_ref().clone(),
                        described_types: None,
                        tag: "SELECT".into(),
                        source: String::new(),
                        live: false,
                    };
                    let stmt = Arc::new(StoredStatement::new(
                        name.clone(),
                        PgStatement(Arc::new(stub)),
                        vec![],
                    ));
                    store.put_portal(Arc::new(Portal::new_cursor(name.clone(), stmt)));
                }
                cursors.0.lock().await.insert(
                    name.clone(),
                    Cursor {
                        fields,
                        rows,
                        done: false,
                    },
                );
                session.cursor_names().insert(name.clone());
                Ok(Outcome::Done {
                    tag: "DECLARE CURSOR".into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::Fetch {
                name,
                count,
                is_move,
            } => {
                let cursors = cursors_of(client);
                let mut map = cursors.0.lock().await;
                let cursor = map
                    .get_mut(name)
                    .ok_or_else(|| QueryError::UndefinedCursor(name.clone()))?;
                let limit = match count {
                    FetchCount::All => u64::MAX,
                    FetchCount::Rows(n) => *n,
                };
                let mut rows = Vec::new();
                let mut moved = 0u64;
                while moved < limit && !cursor.done {
                    match guard.run(cursor.rows.next()).await? {
                        Some(row) => {
                            let row = row.map_err(pgwire_to_query_error)?;
                            if !*is_move {
                                rows.push(row);
                            }
                            moved += 1;
                        }
                        None => cursor.done = true,
                    }
                }
                let tag = if *is_move {
                    format!("MOVE {moved}")
                } else {
                    format!("FETCH {moved}")
                };
                if *is_move {
                    return Ok(Outcome::Done {
                        tag,
                        statuses: vec![],
                        txn: None,
                    });
                }
                Ok(Outcome::Fetched {
                    fields: Arc::clone(&cursor.fields),
                    rows,
                    tag,
                })
            }
            Statement::Close { name } => {
                if let Some(n) = name {
                    if !cursors_of(client).0.lock().await.contains_key(n) {
                        return Err(QueryError::UndefinedCursor(n.clone()));
                    }
                }
                close_cursors(client, session, name.as_deref()).await;
                Ok(Outcome::Done {
                    tag: if name.is_some() {
                        "CLOSE CURSOR"
                    } else {
                        "CLOSE CURSOR ALL"
                    }
                    .into(),
                    statuses: vec![],
                    txn: None,
                })
            }
            Statement::CopyOut { options, .. } => {
                let query = guard.run(start_query(session, plan, bound)).await??;
                Ok(Outcome::Copy {
                    query: Box::new(query),
                    options: options.clone(),
                    gateway: session.gateway.clone(),
                    zone: session.settings().zone(),
                })
            }
            Statement::Unsupported { what } => Err(QueryError::Unsupported(what.clone())),
            Statement::SyntaxError { message } => Err(QueryError::Syntax(message.clone())),
        }
    }

    /// Sends an outcome; returns the number of rows sent (for metrics).
    async fn send<C>(
        &self,
        client: &mut C,
        outcome: Outcome,
        describe: bool,
        guard: &mut Guard,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match outcome {
            Outcome::Rows {
                fields,
                mut rows,
                tag,
            } => {
                if describe {
                    client
                        .feed(PgWireBackendMessage::RowDescription(row_description(
                            &fields,
                        )))
                        .await?;
                }
                let (n, _) = drive(client, &mut rows, 0, guard, &self.metrics).await?;
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        format!("{tag} {n}"),
                    )))
                    .await?;
            }
            Outcome::Fetched { fields, rows, tag } => {
                if describe {
                    client
                        .feed(PgWireBackendMessage::RowDescription(row_description(
                            &fields,
                        )))
                        .await?;
                }
                self.metrics.rows_sent_total.inc_by(rows.len() as u64);
                for row in rows {
                    client.feed(PgWireBackendMessage::DataRow(row)).await?;
                }
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )))
                    .await?;
            }
            Outcome::Warned { tag, warning } => {
                client
                    .feed(PgWireBackendMessage::NoticeResponse(warning.into()))
                    .await?;
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )))
                    .await?;
            }
            Outcome::Done { tag, statuses, txn } => {
                for (k, v) in statuses {
                    client
                        .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                            k, v,
                        )))
                        .await?;
                }
                match txn {
                    Some(TxnChange::Begin) => {
                        let s = client.transaction_status().to_in_transaction_state();
                        client.set_transaction_status(s);
                    }
                    Some(TxnChange::End) => client.set_transaction_status(TransactionStatus::Idle),
                    Some(TxnChange::Recover) => {
                        client.set_transaction_status(TransactionStatus::Transaction)
                    }
                    None => {}
                }
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )))
                    .await?;
            }
            Outcome::Copy {
                query,
                options,
                gateway,
                zone,
            } => {
                let copy = CopyOut {
                    options: &options,
                    gateway,
                    zone: &zone,
                };
                send_copy(client, *query, copy, guard, &self.metrics).await?;
            }
        }
        Ok(())
    }
}

/// Makes the session's `search_path` the gateway session's schema, so that unqualified names
/// resolve in it on every executor (`USE <schema>` per query). As in PostgreSQL, entries that
/// do not exist are skipped; `"$user"` is a schema named like the user; `public` and no
/// match leave DuckDB's default (`main`).
async fn apply_search_path(session: &Session) -> Result<(), QueryError> {
    let path = session.settings().get("search_path").unwrap_or_default();
    let candidates = search_path_entries(&path, &session.user);
    let schema = if candidates.is_empty() {
        None
    } else {
        let mut query = session
            .gateway
            .query("SELECT DISTINCT schema_name FROM duckdb_schemas() WHERE database_name = current_database()")
            .await?;
        let mut existing = std::collections::BTreeSet::new();
        while let Some(batch) = query.batches.next().await {
            let batch = batch?;
            let names = arrow::compute::cast(batch.column(0), &DataType::Utf8)
                .map_err(|e| QueryError::Encoding(e.to_string()))?;
            use arrow::array::AsArray;
            existing.extend(names.as_string::<i32>().iter().flatten().map(str::to_owned));
        }
        candidates.into_iter().find(|c| existing.contains(c))
    };
    let applied = session.schema().clone();
    if applied != schema {
        session.gateway.set_schema(schema.as_deref()).await?;
        *session.schema() = schema;
    }
    Ok(())
}

/// The schemas of a `search_path` value worth looking up, in order.
fn search_path_entries(path: &str, user: &str) -> Vec<String> {
    path.split(',')
        .map(|entry| {
            let entry = entry.trim();
            match entry.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => entry.to_lowercase(),
            }
        })
        .map(|entry| {
            if entry == "$user" {
                user.to_owned()
            } else {
                entry
            }
        })
        // DuckDB's main plays public's part; the catalogs are always searched.
        .take_while(|entry| entry != "public" && entry != "main")
        .filter(|entry| !entry.is_empty() && entry != "pg_catalog" && entry != "information_schema")
        .collect()
}

async fn start_query(
    session: &Session,
    plan: &Plan,
    bound: Option<Bound<'_>>,
) -> Result<RunningQuery, QueryError> {
    let mut running = open_query(session, plan, bound).await?;
    if explain::is_explain(&plan.sql) {
        // (A statement run with parameters may only know its schema from its first batch.)
        running = explain::as_query_plan(schema_from_first_batch(running).await?);
    }
    // The gateway applied it to the session at `GetFlightInfo`: a new gateway session (see
    // `gateway.rs`) gets it too.
    if tavana_proto::messages::is_credential_statement(&plan.sql) {
        session.gateway.remember_credential_statement(&plan.sql);
    }
    Ok(running)
}

async fn open_query(
    session: &Session,
    plan: &Plan,
    bound: Option<Bound<'_>>,
) -> Result<RunningQuery, QueryError> {
    let gateway = &session.gateway;
    let has_parameters = !plan.param_types.is_empty()
        || bound
            .as_ref()
            .is_some_and(|(values, _, _)| !values.is_empty());
    // A query that returns rows runs in one gateway call, the query being its own ticket: its
    // prepared statement (if any) only described it, or, with parameters, holds what was
    // bound. Other statements keep the GetFlightInfo step, where the gateway applies what
    // changes the session.
    let runs_now = returns_rows(&plan.tag);
    if !has_parameters && runs_now {
        return Ok(gateway.stream_query(&plan.sql).await?);
    }
    match &plan.prepared {
        None => Ok(gateway.query(&plan.sql).await?),
        Some(guard) => {
            let mut handle = guard.prepared.handle.clone();
            if let Some((values, format, client_types)) = bound {
                if has_parameters {
                    let types = params::effective_types(
                        client_types,
                        &plan.param_types,
                        plan.param_types.len().max(values.len()),
                    );
                    let zone = session.settings().zone();
                    let batch = params::to_record_batch(values, format, &types, &zone)?;
                    handle = gateway.bind(&handle, batch).await?;
                }
            }
            if runs_now {
                return Ok(gateway.stream_prepared(&handle).await?);
            }
            Ok(gateway.execute_prepared(&handle).await?)
        }
    }
}

/// Some FlightInfos carry an empty schema (the executor could not type the prepared result
/// before binding); take the schema from the first batch instead, and put the batch back.
async fn schema_from_first_batch(mut query: RunningQuery) -> Result<RunningQuery, QueryError> {
    if !query.schema.fields().is_empty() {
        return Ok(query);
    }
    match query.batches.next().await {
        Some(Ok(first)) => {
            query.schema = first.schema();
            let rest = std::mem::replace(&mut query.batches, futures::stream::empty().boxed());
            query.batches = futures::stream::once(async move { Ok(first) })
                .chain(rest)
                .boxed();
            Ok(query)
        }
        Some(Err(status)) => Err(QueryError::Gateway(status)),
        None => Ok(query),
    }
}

impl From<Status> for QueryError {
    fn from(s: Status) -> Self {
        QueryError::Gateway(s)
    }
}

fn to_pgwire(e: QueryError) -> PgWireError {
    e.into()
}

/// A row stream's error, as `FETCH` reports it: with the SQLSTATE it already has (a cancel
/// stays 57014, an executor gone 57P03), not as an internal error.
fn pgwire_to_query_error(e: PgWireError) -> QueryError {
    match e {
        PgWireError::UserError(info) => QueryError::Reported(info),
        other => QueryError::Encoding(other.to_string()),
    }
}

fn with_formats(fields: &[FieldInfo], format: &Format) -> Vec<FieldInfo> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            FieldInfo::new(
                f.name().to_owned(),
                f.table_id(),
                f.column_id(),
                f.datatype().clone(),
                format.format_for(i),
            )
            .with_type_size(f.type_size())
            .with_type_modifier(f.type_modifier())
        })
        .collect()
}

fn row_description(fields: &[FieldInfo]) -> RowDescription {
    RowDescription::new(fields.iter().map(Into::into).collect())
}

/// How often `drive` checks a statement's cancel, timeout and client-gone signals while its
/// rows are ready without waiting.
const ROWS_PER_GUARD_CHECK: usize = 256;

/// Pulls up to `limit` rows (0: all) and feeds them; returns (rows sent, stream exhausted).
async fn drive<C>(
    client: &mut C,
    rows: &mut SendableRowStream,
    limit: usize,
    guard: &mut Guard,
    metrics: &Metrics,
) -> PgWireResult<(usize, bool)>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let mut n = 0;
    let result = loop {
        if limit != 0 && n >= limit {
            break Ok((n, false));
        }
        // Most rows are ready at once (the rest of an encoded batch): take them without the
        // guard, whose signals are checked every `ROWS_PER_GUARD_CHECK` rows and whenever
        // the stream has to wait.
        let ready = if n % ROWS_PER_GUARD_CHECK == 0 {
            None
        } else {
            rows.next().now_or_never()
        };
        let next = match ready {
            Some(item) => Ok(item),
            None => guard.run(rows.next()).await,
        };
        match next {
            Err(e) => break Err(to_pgwire(e)),
            Ok(None) => break Ok((n, true)),
            Ok(Some(Err(e))) => break Err(e),
            Ok(Some(Ok(row))) => {
                client.feed(PgWireBackendMessage::DataRow(row)).await?;
                n += 1;
            }
        }
    };
    metrics.rows_sent_total.inc_by(n as u64);
    result
}

/// Cancels the query at the gateway if its stream is dropped before the end (client gone,
/// CancelRequest, statement_timeout, cursor closed early). Dropping the DoGet stream already
/// stops the executor; `CancelFlightInfo` makes it explicit for queued queries too. A query run
/// from its ticket has no FlightInfo: the dropped stream is all it takes.
struct CancelOnDrop {
    pending: Option<(GatewaySession, arrow_flight::FlightInfo)>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some((gateway, info)) = self.pending.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = gateway.cancel(info).await;
                });
            }
        }
    }
}

/// A query's rows, encoded one batch at a time as the client pulls them.
struct RowState {
    batches: futures::stream::BoxStream<'static, Result<arrow::record_batch::RecordBatch, Status>>,
    encoder: RowEncoder,
    /// The encoded rows of the current batch not yet taken.
    rows: std::vec::IntoIter<DataRow>,
    guard: CancelOnDrop,
}

/// The row stream handed to pgwire. It polls its state in place: a stream built with
/// `unfold` moves its whole state (stream, encoder, FlightInfo) in and out of a future for
/// every row, a copy that cost ~6% of the pg-adapter's CPU on a large result.
struct RowStream {
    /// `None` once the stream has ended; dropping the state early (an encoding error, or
    /// pgwire dropping the stream) cancels the query through its guard.
    state: Option<RowState>,
}

impl Stream for RowStream {
    type Item = PgWireResult<DataRow>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        loop {
            let Some(state) = self.state.as_mut() else {
                return Poll::Ready(None);
            };
            if let Some(row) = state.rows.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            let item = match state.batches.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            match item {
                None => {
                    // The query finished: nothing to cancel.
                    state.guard.pending = None;
                    self.state = None;
                    return Poll::Ready(None);
                }
                Some(Err(status)) => {
                    state.guard.pending = None;
                    self.state = None;
                    return Poll::Ready(Some(Err(QueryError::Gateway(status).into())));
                }
                Some(Ok(batch)) => match state.encoder.encode(&batch) {
                    Ok(rows) => state.rows = rows.into_iter(),
                    Err(e) => {
                        // Dropping the state cancels the query, which still runs.
                        self.state = None;
                        return Poll::Ready(Some(Err(QueryError::Encoding(e.to_string()).into())));
                    }
                },
            }
        }
    }
}

/// A lazy stream of encoded rows over a running query.
fn row_stream(
    query: RunningQuery,
    encoder: RowEncoder,
    gateway: GatewaySession,
) -> SendableRowStream {
    Box::pin(RowStream {
        state: Some(RowState {
            batches: query.batches,
            encoder,
            rows: Vec::new().into_iter(),
            guard: CancelOnDrop {
                pending: query.info.map(|info| (gateway, info)),
            },
        }),
    })
}

/// Runs a DDL/DML statement to completion; returns DuckDB's affected-row count if reported.
async fn drain_count(query: RunningQuery) -> Result<Option<i64>, QueryError> {
    let mut batches = query.batches;
    let mut count = None;
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        if count.is_none() && batch.num_rows() > 0 && batch.num_columns() == 1 {
            let col = arrow::compute::cast(batch.column(0), &DataType::Int64).ok();
            if let Some(col) = col {
                use arrow::array::AsArray;
                let ints = col.as_primitive::<arrow::datatypes::Int64Type>();
                if !ints.is_null(0) {
                    count = Some(ints.value(0));
                }
            }
        }
    }
    Ok(count)
}

use arrow::array::Array as _;

/// The first keyword(s) decide the command tag, as PostgreSQL reports it.
pub(crate) fn command_tag(sql: &str) -> String {
    let tokens = lexer::tokenize(sql);
    let words: Vec<String> = tokens
        .iter()
        .take(4)
        .map(|t| match &t.kind {
            lexer::TokenKind::Word(w) => w.clone(),
            lexer::TokenKind::Punct(p) => p.clone(),
            _ => String::new(),
        })
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        "insert" => "INSERT".into(),
        "update" => "UPDATE".into(),
        "delete" => "DELETE".into(),
        "merge" => "MERGE".into(),
        "create" | "drop" | "alter" => {
            let mut i = 1;
            while matches!(
                w(i),
                "or" | "replace" | "temp" | "temporary" | "unique" | "if" | "not" | "exists"
            ) {
                i += 1;
            }
            let object = match w(i) {
                "" => String::new(),
                o if o == "macro" || o == "function" => "FUNCTION".into(),
                o => o.to_uppercase(),
            };
            format!("{} {}", w(0).to_uppercase(), object)
                .trim()
                .to_owned()
        }
        "set" | "reset" => w(0).to_uppercase(),
        "attach" | "detach" | "use" | "load" | "install" | "checkpoint" | "vacuum" | "analyze"
        | "export" | "import" | "prepare" | "execute" | "copy" | "comment" | "truncate"
        | "grant" | "revoke" => w(0).to_uppercase(),
        _ => "SELECT".into(),
    }
}

fn returns_rows(tag: &str) -> bool {
    tag == "SELECT" || tag == "EXECUTE"
}

fn dml_tag(tag: &str, count: Option<i64>) -> String {
    let n = count.unwrap_or(0);
    match tag {
        "INSERT" => format!("INSERT 0 {n}"),
        "UPDATE" | "DELETE" | "MERGE" | "COPY" => format!("{tag} {n}"),
        other => other.to_owned(),
    }
}

/// What a connection in `status` is doing between statements (`pg_stat_activity.state`).
fn backend_state(status: TransactionStatus) -> State {
    match status {
        TransactionStatus::Idle => State::Idle,
        TransactionStatus::Transaction => State::IdleInTransaction,
        TransactionStatus::Error => State::IdleInFailedTransaction,
    }
}

/// The pid bound to parameter `$n` of a signal function, decoded as any parameter is (text or
/// binary, of the type the client declared, int4 otherwise).
fn signal_param(
    bound: Option<Bound<'_>>,
    param_types: &[Type],
    n: usize,
    zone: &Zone,
) -> Result<i32, QueryError> {
    let (values, format, client_types) = bound.unwrap_or((&[], &Format::UnifiedText, &[]));
    let types = params::effective_types(client_types, param_types, values.len());
    let batch = params::to_record_batch(values, format, &types, zone)?;
    let pid = batch
        .columns()
        .get(n.wrapping_sub(1))
        .and_then(|column| arrow::compute::cast(column, &DataType::Int64).ok())
        .and_then(|column| {
            use arrow::array::AsArray;
            let pids = column.as_primitive::<arrow::datatypes::Int64Type>();
            pids.is_valid(0).then(|| pids.value(0))
        });
    pid.and_then(|pid| i32::try_from(pid).ok()).ok_or_else(|| {
        QueryError::Parameter(params::ParamError::InvalidText {
            ty: "integer".into(),
            value: values
                .get(n.wrapping_sub(1))
                .cloned()
                .flatten()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_else(|| "NULL".into()),
        })
    })
}

fn show(session: &Session, name: &str, format: &Format) -> Result<Outcome, QueryError> {
    let text_field = |n: &str, i: usize| {
        FieldInfo::new(n.to_owned(), None, None, Type::TEXT, format.format_for(i))
    };
    let cell = |buf: &mut BytesMut, v: &str| {
        buf.put_i32(v.len() as i32);
        buf.put_slice(v.as_bytes());
    };
    if name == "all" {
        let fields = Arc::new(vec![
            text_field("name", 0),
            text_field("setting", 1),
            text_field("description", 2),
        ]);
        let rows = session
            .settings()
            .all()
            .into_iter()
            .map(|(n, v, d)| {
                let mut buf = BytesMut::new();
                cell(&mut buf, &n);
                cell(&mut buf, &v);
                cell(&mut buf, &d);
                DataRow::new(buf, 3)
            })
            .collect();
        return Ok(Outcome::Fetched {
            fields,
            rows,
            tag: "SHOW".into(),
        });
    }
    let settings = session.settings();
    if !settings.is_known(name) {
        return Err(QueryError::UndefinedSetting(name.to_owned()));
    }
    let value = settings.get(name).unwrap_or_default();
    let mut buf = BytesMut::new();
    cell(&mut buf, &value);
    Ok(Outcome::Fetched {
        fields: Arc::new(vec![text_field(
            crate::session::setting_display_name(name),
            0,
        )]),
        rows: vec![DataRow::new(buf, 1)],
        tag: "SHOW".into(),
    })
}

async fn close_cursors<C>(client: &C, session: &Session, name: Option<&str>)
where
    C: ClientInfo + ClientPortalStore,
    C::PortalStore: PortalStore,
{
    let cursors = cursors_of(client);
    let mut map = cursors.0.lock().await;
    let names: Vec<String> = match name {
        Some(n) => vec![n.to_owned()],
        None => map.keys().cloned().collect(),
    };
    for n in names {
        map.remove(&n);
        session.cursor_names().remove(&n);
        if let Some(store) = client
            .portal_store()
            .as_any()
            .downcast_ref::<MemPortalStore<PgStatement>>()
        {
            store.rm_portal(&n);
        }
    }
}

/// COPY (query) TO STDOUT in text, csv or binary format, one CopyData per row.
/// What a COPY TO STDOUT writes, besides the rows.
struct CopyOut<'a> {
    options: &'a CopyOptions,
    gateway: GatewaySession,
    zone: &'a Zone,
}

async fn send_copy<C>(
    client: &mut C,
    query: RunningQuery,
    copy: CopyOut<'_>,
    guard: &mut Guard,
    metrics: &Metrics,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let CopyOut {
        options,
        gateway,
        zone,
    } = copy;
    let schema: SchemaRef = Arc::clone(&query.schema);
    let ncols = schema.fields().len();
    let binary = options.format == CopyFormat::Binary;
    let format_code: i16 = i16::from(binary);
    client
        .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            i8::from(binary),
            ncols as i16,
            vec![format_code; ncols],
        )))
        .await?;
    let fields = encode::field_infos(&schema, |_| {
        if binary {
            FieldFormat::Binary
        } else {
            FieldFormat::Text
        }
    });
    let delimiter = options.delimiter.clone().unwrap_or_else(|| {
        if options.format == CopyFormat::Csv {
            ",".into()
        } else {
            "\t".into()
        }
    });
    let null = options.null.clone().unwrap_or_else(|| {
        if options.format == CopyFormat::Csv {
            String::new()
        } else {
            "\\N".into()
        }
    });
    let delimiter = match delimiter.as_bytes() {
        [byte] if byte.is_ascii() => *byte,
        _ => {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "ERROR".into(),
                "0A000".into(),
                "COPY delimiter must be a single one-byte character".into(),
            ))))
        }
    };
    let mut cancel_guard = CancelOnDrop {
        pending: query.info.clone().map(|info| (gateway, info)),
    };
    let mut batches = query.batches;
    // Rows are written back to back into one buffer and split off as they are sent, so a row
    // costs no allocation of its own. Each CopyData still holds exactly one row, as the
    // protocol promises clients.
    let mut out = BytesMut::new();
    if !binary && options.header {
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                out.put_u8(delimiter);
            }
            let start = out.len();
            out.put_slice(field.name().as_bytes());
            copy_escape(&mut out, start, options.format, delimiter);
        }
        out.put_u8(b'\n');
        client
            .feed(PgWireBackendMessage::CopyData(CopyData::new(
                out.split().freeze(),
            )))
            .await?;
    }
    let mut count = 0u64;
    // Binary COPY: the header travels with the first row (clients parse whole rows per message).
    if binary {
        out.put_slice(b"PGCOPY\n\xff\r\n\0");
        out.put_i32(0);
        out.put_i32(0);
    }
    while let Some(batch) = guard.run(batches.next()).await.map_err(to_pgwire)? {
        let batch = batch.map_err(|s| to_pgwire(QueryError::Gateway(s)))?;
        let columns: Vec<arrow::array::ArrayRef> = batch.columns().to_vec();
        let cells: Vec<encode::ColumnCells<'_>> = columns
            .iter()
            .zip(&fields)
            .map(|(col, field)| encode::ColumnCells::new(col, field.datatype(), field.format()))
            .collect();
        let may_need_escape: Vec<bool> = columns
            .iter()
            .map(|col| copy_text_may_need_escape(col.data_type(), delimiter))
            .collect();
        for row in 0..batch.num_rows() {
            if out.capacity() - out.len() < COPY_ROW_RESERVE {
                out.reserve(COPY_BUFFER_BYTES);
            }
            if binary {
                out.put_i16(ncols as i16);
                for column in &cells {
                    column.write_cell(&mut out, row, FieldFormat::Binary, zone);
                }
            } else {
                for (i, column) in cells.iter().enumerate() {
                    if i > 0 {
                        out.put_u8(delimiter);
                    }
                    if column.is_null(row) {
                        out.put_slice(null.as_bytes());
                    } else {
                        let start = out.len();
                        column.write_text(&mut out, row, zone);
                        if may_need_escape[i] {
                            copy_escape(&mut out, start, options.format, delimiter);
                        }
                    }
                }
                out.put_u8(b'\n');
            }
            client
                .feed(PgWireBackendMessage::CopyData(CopyData::new(
                    out.split().freeze(),
                )))
                .await?;
            count += 1;
        }
    }
    cancel_guard.pending = None;
    if binary {
        let mut trailer = out.split();
        trailer.put_i16(-1);
        client
            .feed(PgWireBackendMessage::CopyData(CopyData::new(
                trailer.freeze(),
            )))
            .await?;
    }
    metrics.rows_sent_total.inc_by(count);
    client
        .feed(PgWireBackendMessage::CopyDone(CopyDone::new()))
        .await?;
    client
        .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
            format!("COPY {count}"),
        )))
        .await?;
    Ok(())
}

/// Free space below which the COPY buffer grows by [`COPY_BUFFER_BYTES`] before a row.
const COPY_ROW_RESERVE: usize = 4 * 1024;
/// How much the COPY buffer grows at a time (rows share that allocation).
const COPY_BUFFER_BYTES: usize = 256 * 1024;

/// Whether the text of a value of this type can hold a byte COPY must escape or quote. Numbers,
/// dates, times, booleans and UUIDs are written with digits, ASCII letters and `-.:+ `
/// only, and are never empty, so they need no scan unless the delimiter is one of those.
fn copy_text_may_need_escape(data_type: &DataType, delimiter: u8) -> bool {
    let plain = data_type.is_numeric()
        || data_type.is_temporal()
        || matches!(
            data_type,
            DataType::Boolean | DataType::FixedSizeBinary(16) | DataType::Null
        );
    !plain || delimiter.is_ascii_alphanumeric() || b"-.:+ ".contains(&delimiter)
}

/// Escapes the value written at `buf[start..]` in place for COPY text or CSV. Values that need
/// nothing (numbers, dates, most strings) are only scanned: the byte checks are ASCII, which
/// UTF-8 never uses inside a multi-byte character, and the delimiter is one ASCII byte.
fn copy_escape(buf: &mut BytesMut, start: usize, format: CopyFormat, delimiter: u8) {
    let value = &buf[start..];
    match format {
        CopyFormat::Csv => {
            let quote = value.is_empty()
                || value
                    .iter()
                    .any(|&b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'));
            if !quote {
                return;
            }
            let raw = buf.split_off(start);
            buf.put_u8(b'"');
            for &b in raw.iter() {
                if b == b'"' {
                    buf.put_u8(b'"');
                }
                buf.put_u8(b);
            }
            buf.put_u8(b'"');
        }
        _ => {
            let special = |b: u8| b == delimiter || matches!(b, b'\\' | b'\n' | b'\r' | b'\t');
            if !value.iter().any(|&b| special(b)) {
                return;
            }
            let raw = buf.split_off(start);
            for &b in raw.iter() {
                match b {
                    b'\n' => buf.put_slice(b"\\n"),
                    b'\r' => buf.put_slice(b"\\r"),
                    b'\t' => buf.put_slice(b"\\t"),
                    b if special(b) => {
                        buf.put_u8(b'\\');
                        buf.put_u8(b);
                    }
                    b => buf.put_u8(b),
                }
            }
        }
    }
}

/// The client's parameter types, with an array type for each untyped placeholder that is the
/// operand of `ANY(...)` / `ALL(...)` / `unnest(...)`. PostgreSQL takes `x = ANY($1)` to be an
/// array of `x`'s type; DuckDB cannot type such a placeholder, but does type `x = $1`, so the
/// element type comes from preparing that form.
async fn array_operand_types(
    session: &Session,
    sql: &str,
    client_types: &[Option<Type>],
) -> Vec<Option<Type>> {
    let mut types = client_types.to_vec();
    let untyped: Vec<usize> = rewrite::array_operand_placeholders(sql)
        .into_iter()
        .filter(|&n| {
            types
                .get(n.wrapping_sub(1))
                .cloned()
                .flatten()
                .is_none_or(|t| t == Type::UNKNOWN)
        })
        .collect();
    if untyped.is_empty() {
        return types;
    }
    let Ok(probe) = session
        .gateway
        .prepare(&rewrite::unwrap_array_operands(sql))
        .await
    else {
        return types;
    };
    let probe = PreparedGuard {
        prepared: probe,
        gateway: session.gateway.clone(),
    };
    for n in untyped {
        let element = probe
            .prepared
            .parameter_schema
            .fields()
            .get(n - 1)
            .map(|f| params::pg_param_type(f.data_type()));
        if let Some(array) = element.as_ref().and_then(encode::array_type_of) {
            if types.len() < n {
                types.resize(n, None);
            }
            types[n - 1] = Some(array);
        }
    }
    types
}

/// Plans a statement: classify, rewrite for DuckDB, and (extended protocol) prepare it at
/// the gateway to learn its parameter and result types.
async fn plan(
    session: &Session,
    sql: &str,
    prepare: bool,
    client_types: &[Option<Type>],
    cursor_fields: Option<Arc<Vec<FieldInfo>>>,
) -> Result<Plan, QueryError> {
    let kind = classify::classify(sql);
    let inner = match &kind {
        Statement::Query => Some(sql.to_owned()),
        Statement::Declare { query, .. } => Some(query.clone()),
        Statement::CopyOut { query, .. } => Some(query.clone()),
        _ => None,
    };
    let mut plan = Plan {
        kind,
        sql: String::new(),
        prepared: None,
        param_types: vec![],
        fields: vec![],
        described_types: None,
        tag: "SELECT".into(),
        source: sql.to_owned(),
        live: false,
    };
    if let Statement::Signal { signal, target } = &plan.kind {
        plan.fields = vec![FieldInfo::new(
            signal.function().to_owned(),
            None,
            None,
            Type::BOOL,
            FieldFormat::Text,
        )];
        if let SignalTarget::Param(n) = target {
            plan.param_types = vec![Type::INT4; *n];
        }
    }
    if let Statement::Show { name } = &plan.kind {
        let names: Vec<&str> = if name == "all" {
            vec!["name", "setting", "description"]
        } else {
            vec![name.as_str()]
        };
        plan.fields = names
            .into_iter()
            .map(|n| FieldInfo::new(n.to_owned(), None, None, Type::TEXT, FieldFormat::Text))
            .collect();
    }
    if let (Statement::Fetch { is_move: false, .. }, Some(fields)) = (&plan.kind, cursor_fields) {
        plan.fields = fields.as_ref().clone();
    }
    if let Some(inner) = inner {
        let rewritten = {
            let settings = session.settings();
            rewrite::rewrite(&inner, &settings, session.backend.get())
        };
        plan.live = rewrite::has_live_relations(&inner);
        plan.tag = command_tag(&rewritten);
        if prepare {
            let placeholders = rewrite::has_placeholders(&rewritten);
            let prepared = match session.gateway.prepare(&rewritten).await {
                // A query whose result DuckDB could not type before binding (a placeholder
                // inside a macro, say) would describe no columns, and an empty result would
                // then reach the client as "no rows": prefer the typed form below.
                Ok(p)
                    if placeholders
                        && p.dataset_schema.fields().is_empty()
                        && returns_rows(&plan.tag) =>
                {
                    let untyped = PreparedGuard {
                        prepared: p,
                        gateway: session.gateway.clone(),
                    };
                    let types = array_operand_types(session, &rewritten, client_types).await;
                    let typed = rewrite::cast_placeholders(&rewritten, &types);
                    match session.gateway.prepare(&typed).await {
                        Ok(t) if !t.dataset_schema.fields().is_empty() => t,
                        Ok(t) => {
                            drop(PreparedGuard {
                                prepared: t,
                                gateway: session.gateway.clone(),
                            });
                            untyped.take()
                        }
                        Err(_) => untyped.take(),
                    }
                }
                Ok(p) => p,
                // DuckDB cannot type a placeholder used without context (`SELECT $1`): retry
                // with each placeholder cast to the type the client declared (text if none).
                Err(first) if placeholders => {
                    let types = array_operand_types(session, &rewritten, client_types).await;
                    let typed = rewrite::cast_placeholders(&rewritten, &types);
                    session.gateway.prepare(&typed).await.map_err(|_| first)?
                }
                Err(e) => return Err(e.into()),
            };
            plan.param_types = prepared
                .parameter_schema
                .fields()
                .iter()
                .map(|f| params::pg_param_type(f.data_type()))
                .collect();
            for idx in rewrite::oid_array_placeholders(&inner) {
                if let Some(ty) = plan.param_types.get_mut(idx.wrapping_sub(1)) {
                    *ty = Type::OID_ARRAY;
                }
            }
            for idx in rewrite::array_operand_placeholders(&inner) {
                if let Some(ty) = plan.param_types.get_mut(idx.wrapping_sub(1)) {
                    if let Some(array) = encode::array_type_of(ty) {
                        *ty = array;
                    } else if *ty == Type::UNKNOWN || *ty == Type::VARCHAR {
                        *ty = Type::TEXT_ARRAY;
                    }
                }
            }
            if matches!(plan.kind, Statement::Query) && returns_rows(&plan.tag) {
                let dataset_schema = if explain::is_explain(&plan.source)
                    && explain::is_duckdb_plan(&prepared.dataset_schema)
                {
                    explain::query_plan_schema()
                } else {
                    Arc::clone(&prepared.dataset_schema)
                };
                plan.fields = encode::field_infos(&dataset_schema, |_| FieldFormat::Text);
                plan.described_types = Some(
                    dataset_schema
                        .fields()
                        .iter()
                        .map(|f| f.data_type().clone())
                        .collect(),
                );
            }
            plan.prepared = Some(PreparedGuard {
                prepared,
                gateway: session.gateway.clone(),
            });
        }
        plan.sql = rewritten;
    }
    Ok(plan)
}

/// Extended-protocol Parse: plans (and prepares) the statement.
pub(crate) struct Parser;

#[async_trait]
impl QueryParser for Parser {
    type Statement = PgStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<PgStatement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = session_of(client)?;
        let cursor_fields = match classify::classify(sql) {
            Statement::Fetch { name, .. } => {
                let cursors = cursors_of(client);
                let map = cursors.0.lock().await;
                map.get(&name).map(|c| Arc::clone(&c.fields))
            }
            _ => None,
        };
        let plan = plan(&session, sql, true, types, cursor_fields).await?;
        Ok(Some(PgStatement(Arc::new(plan))))
    }

    fn get_parameter_types(&self, stmt: &PgStatement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.0.param_types.clone())
    }

    fn get_result_schema(
        &self,
        stmt: &PgStatement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(match column_format {
            Some(f) => with_formats(&stmt.0.fields, f),
            None => stmt.0.fields.clone(),
        })
    }
}

fn user_error_info(e: PgWireError) -> Result<ErrorInfo, PgWireError> {
    match e {
        PgWireError::UserError(info) => Ok(*info),
        PgWireError::IoError(e) => Err(PgWireError::IoError(e)),
        other => Ok(ErrorInfo::from(other)),
    }
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let session = session_of(client)?;
        let statements = lexer::split_statements(&query.query);
        if statements.is_empty() {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
        }
        for sql in statements {
            let started = Instant::now();
            session.statement_started(sql);
            let mut guard = Guard::new(client, &session).await;
            let result = async {
                let plan = plan(&session, sql, false, &[], None).await?;
                let outcome = self
                    .execute(
                        client,
                        &session,
                        &plan,
                        None,
                        &Format::UnifiedText,
                        &mut guard,
                    )
                    .await?;
                Ok::<_, QueryError>(outcome)
            }
            .await;
            let sent = match result {
                Ok(outcome) => self.send(client, outcome, true, &mut guard).await,
                Err(e) => Err(e.into()),
            };
            self.metrics
                .statement_duration_seconds
                .observe(started.elapsed().as_secs_f64());
            if let Err(e) = sent {
                let info = user_error_info(e)?;
                tracing::debug!(user = %session.user, code = %info.code, message = %info.message, "statement failed");
                self.metrics.statement_failed(&info.code);
                client
                    .feed(PgWireBackendMessage::ErrorResponse(info.into()))
                    .await?;
                let s = client.transaction_status().to_error_state();
                client.set_transaction_status(s);
                session.statement_ended(backend_state(client.transaction_status()));
                break;
            }
            session.statement_ended(backend_state(client.transaction_status()));
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        let status = client.transaction_status();
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // on_query is overridden; nothing reaches here.
        Ok(vec![])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = PgStatement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        Arc::clone(&self.parser)
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let max_rows = message.max_rows.max(0) as usize;
        let portal = match client.portal_store().get_portal(portal_name) {
            Some(Entry::Value(portal)) => portal,
            Some(Entry::Empty) => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
                return Ok(());
            }
            None => return Err(PgWireError::PortalNotFound(portal_name.to_owned())),
        };
        client.set_state(PgWireConnectionState::QueryInProgress);
        let session = session_of(client)?;
        let started = Instant::now();
        session.statement_started(&portal.statement.statement.0.source);
        let mut guard = Guard::new(client, &session).await;
        let result = self
            .execute_portal(client, &session, &portal, max_rows, &mut guard)
            .await;
        session.statement_ended(backend_state(client.transaction_status()));
        self.metrics
            .statement_duration_seconds
            .observe(started.elapsed().as_secs_f64());
        client.set_state(PgWireConnectionState::ReadyForQuery);
        if let Err(PgWireError::UserError(info)) = &result {
            self.metrics.statement_failed(&info.code);
        }
        result
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<PgStatement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let plan = &portal.statement.statement.0;
        let needs_run = plan.fields.is_empty()
            && matches!(plan.kind, Statement::Query)
            && returns_rows(&plan.tag);
        if !needs_run {
            return Ok(DescribePortalResponse::new(with_formats(
                &plan.fields,
                &portal.result_column_format,
            )));
        }
        // The prepared statement could not describe its result (placeholders without a type):
        // start the portal now, with its parameters bound, and describe what actually comes.
        let state = portal.state();
        let mut state = state.lock().await;
        if let PortalExecutionState::Suspended(response) = &*state {
            return Ok(DescribePortalResponse::new(
                response.row_schema().as_ref().clone(),
            ));
        }
        let session = session_of(client)?;
        let mut guard = Guard::new(client, &session).await;
        let bound = (
            portal.parameters.as_slice(),
            &portal.parameter_format,
            portal.statement.parameter_types.as_slice(),
        );
        match self
            .execute(
                client,
                &session,
                plan,
                Some(bound),
                &portal.result_column_format,
                &mut guard,
            )
            .await?
        {
            Outcome::Rows { fields, rows, tag } => {
                let described = fields.as_ref().clone();
                let mut response = QueryResponse::new(fields, rows);
                response.set_command_tag(&tag);
                *state = PortalExecutionState::Suspended(response);
                Ok(DescribePortalResponse::new(described))
            }
            _ => Ok(DescribePortalResponse::new(vec![])),
        }
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        _portal: &Portal<PgStatement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // on_execute is overridden; nothing reaches here.
        Ok(Response::Execution(Tag::new("")))
    }
}

impl Handler {
    async fn execute_portal<C>(
        &self,
        client: &mut C,
        session: &Arc<Session>,
        portal: &Arc<Portal<PgStatement>>,
        max_rows: usize,
        guard: &mut Guard,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let state = portal.state();
        let mut state = state.lock().await;
        if matches!(*state, PortalExecutionState::Initial) {
            let plan = &portal.statement.statement.0;
            let bound = (
                portal.parameters.as_slice(),
                &portal.parameter_format,
                portal.statement.parameter_types.as_slice(),
            );
            let outcome = self
                .execute(
                    client,
                    session,
                    plan,
                    Some(bound),
                    &portal.result_column_format,
                    guard,
                )
                .await?;
            match outcome {
                Outcome::Rows { fields, rows, tag } => {
                    if max_rows == 0 {
                        // Stream everything now; nothing is kept in the portal.
                        *state = PortalExecutionState::Finished;
                        return self
                            .send(client, Outcome::Rows { fields, rows, tag }, false, guard)
                            .await;
                    }
                    let mut response = QueryResponse::new(fields, rows);
                    response.set_command_tag(&tag);
                    *state = PortalExecutionState::Suspended(response);
                }
                other => {
                    *state = PortalExecutionState::Finished;
                    return self.send(client, other, false, guard).await;
                }
            }
        }
        match &mut *state {
            PortalExecutionState::Suspended(response) => {
                let tag = response.command_tag().to_owned();
                let (n, exhausted) =
                    drive(client, response.data_rows(), max_rows, guard, &self.metrics).await?;
                if exhausted {
                    *state = PortalExecutionState::Finished;
                    client
                        .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                            format!("{tag} {n}"),
                        )))
                        .await?;
                } else {
                    client
                        .feed(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                        .await?;
                }
            }
            _ => {
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        "SELECT 0".into(),
                    )))
                    .await?;
            }
        }
        Ok(())
    }
}

/// Keeps `Stream` in scope for the boxed row stream type.
#[allow(dead_code)]
fn _assert_stream<S: Stream>(_: &S) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_tags() {
        for (sql, tag) in [
            ("select 1", "SELECT"),
            ("WITH x AS (select 1) select * from x", "SELECT"),
            ("insert into t values (1)", "INSERT"),
            ("CREATE OR REPLACE TABLE t AS select 1", "CREATE TABLE"),
            ("create view v as select 1", "CREATE VIEW"),
            ("DROP TABLE IF EXISTS t", "DROP TABLE"),
            ("describe t", "SELECT"),
            ("pragma version", "SELECT"),
            ("SET s3_region = 'eu-west-1'", "SET"),
            ("CREATE SECRET s (TYPE s3)", "CREATE SECRET"),
        ] {
            assert_eq!(command_tag(sql), tag, "{sql}");
        }
        assert_eq!(dml_tag("INSERT", Some(3)), "INSERT 0 3");
        assert_eq!(dml_tag("CREATE TABLE", Some(3)), "CREATE TABLE");
    }

    #[test]
    fn search_path_entries_in_lookup_order() {
        assert_eq!(search_path_entries("\"$user\", public", "alice"), ["alice"]);
        assert_eq!(search_path_entries("sales, public", "alice"), ["sales"]);
        assert_eq!(
            search_path_entries("\"Lake Tables\",Sales,pg_catalog,web", "alice"),
            ["Lake Tables", "sales", "web"]
        );
        assert!(search_path_entries("public, sales", "alice").is_empty());
        assert!(search_path_entries("main", "alice").is_empty());
    }

    #[test]
    fn copy_escaping() {
        let escaped = |prefix: &str, value: &str, format, delimiter| {
            let mut buf = BytesMut::from(prefix);
            buf.put_slice(value.as_bytes());
            copy_escape(&mut buf, prefix.len(), format, delimiter);
            String::from_utf8(buf.to_vec()).unwrap()
        };
        assert_eq!(
            escaped("1\t", "a\tb\\c\n", CopyFormat::Text, b'\t'),
            "1\ta\\tb\\\\c\\n"
        );
        assert_eq!(
            escaped("1,", "a,\"b\"", CopyFormat::Csv, b','),
            "1,\"a,\"\"b\"\"\""
        );
        assert_eq!(escaped("", "plain", CopyFormat::Csv, b','), "plain");
        assert_eq!(escaped("x|", "a|b", CopyFormat::Text, b'|'), "x|a\\|b");
        assert_eq!(escaped("", "", CopyFormat::Csv, b','), "\"\"");
    }
}
