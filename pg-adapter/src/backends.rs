//! The adapter's connections seen as PostgreSQL shows its backends: `pg_backend_pid()`,
//! `pg_stat_activity`, `pg_cancel_backend(pid)` and `pg_terminate_backend(pid)`.
//!
//! A connection's "backend pid" is the process id pgwire sent it in BackendKeyData, the one a
//! CancelRequest names. Each pg-adapter process lists and signals its own connections only (as
//! a CancelRequest reaches only the process that holds the connection); with several adapters
//! behind one load balancer, an operator sees the connections of the adapter they reached.
//!
//! As in PostgreSQL, every user sees every connection, but the query text, state and client
//! address only of their own; a user may cancel or terminate only their own connections.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use pgwire::api::ConnectionHandle;
use tokio::sync::watch;

use crate::catalog::quote_literal;
use crate::disconnect::Farewell;

/// How a signal sent with `pg_cancel_backend` / `pg_terminate_backend` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Cancel the connection's running statement (SQLSTATE 57014 there).
    Cancel,
    /// End the connection (its running statement fails with 57P01, then it is closed).
    Terminate,
}

impl Signal {
    /// The PostgreSQL function that sends this signal.
    pub(crate) fn function(self) -> &'static str {
        match self {
            Signal::Cancel => "pg_cancel_backend",
            Signal::Terminate => "pg_terminate_backend",
        }
    }
}

/// Why a signal was not sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SignalError {
    /// No connection of this adapter has that pid (PostgreSQL answers `false` with a warning).
    #[error("PID {0} is not a PostgreSQL server process")]
    NoSuchBackend(i32),
    /// The connection belongs to another user.
    #[error("permission denied to {action} process {pid}: only connections of user \"{user}\" may be signalled by \"{user}\"")]
    NotOwner {
        action: &'static str,
        pid: i32,
        user: String,
    },
}

/// What a connection is doing, as `pg_stat_activity.state` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Idle,
    Active,
    IdleInTransaction,
    IdleInFailedTransaction,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Active => "active",
            State::IdleInTransaction => "idle in transaction",
            State::IdleInFailedTransaction => "idle in transaction (aborted)",
        }
    }
}

#[derive(Debug, Clone)]
struct Activity {
    application_name: String,
    state: State,
    /// The statement running, or the last one (PostgreSQL keeps it while idle).
    query: String,
    query_start: Option<SystemTime>,
    xact_start: Option<SystemTime>,
    state_change: SystemTime,
}

/// One client connection.
pub(crate) struct Backend {
    pid: i32,
    user: String,
    database: String,
    client: SocketAddr,
    started: SystemTime,
    activity: Mutex<Activity>,
    cancel: Option<Arc<ConnectionHandle>>,
    terminate: Option<watch::Sender<Option<Farewell>>>,
    /// Whether the connection negotiated TLS.
    tls: bool,
}

impl Backend {
    /// The pid the client was given in BackendKeyData.
    pub(crate) fn pid(&self) -> i32 {
        self.pid
    }

    fn activity(&self) -> MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What closes this connection (`pg_terminate_backend`, the idle timeouts).
    pub(crate) fn closer(&self) -> Option<Closer> {
        Some(Closer {
            terminate: self.terminate.clone()?,
            tls: self.tls,
        })
    }

    /// A statement starts.
    pub(crate) fn begin(&self, query: &str) {
        let now = SystemTime::now();
        let mut activity = self.activity();
        activity.state = State::Active;
        activity.query.clear();
        activity.query.push_str(shown_query(query));
        activity.query_start = Some(now);
        activity.xact_start.get_or_insert(now);
        activity.state_change = now;
    }

    /// The statement ended; `state` is what the connection is left in, `application_name`
    /// its setting now (only a statement, `SET`, changes it).
    pub(crate) fn finish(&self, state: State, application_name: &str) {
        let mut activity = self.activity();
        activity.state = state;
        activity.state_change = SystemTime::now();
        if state == State::Idle {
            activity.xact_start = None;
        }
        if activity.application_name != application_name {
            activity.application_name = application_name.to_owned();
        }
    }
}

/// The connections of this adapter, by pid.
#[derive(Default)]
pub(crate) struct Backends {
    by_pid: Mutex<BTreeMap<i32, Arc<Backend>>>,
}

/// A connection's entry in [`Backends`], removed when dropped (when the connection ends).
pub(crate) struct Registration {
    backend: Arc<Backend>,
    registry: Arc<Backends>,
}

impl std::ops::Deref for Registration {
    type Target = Backend;
    fn deref(&self) -> &Backend {
        &self.backend
    }
}

impl Registration {
    /// Sends `signal` to connection `pid` on behalf of this connection's user.
    pub(crate) async fn signal(&self, pid: i32, signal: Signal) -> Result<(), SignalError> {
        self.registry.signal(pid, signal, &self.backend.user).await
    }

    /// `pg_stat_activity` as this connection sees it while it runs `query`.
    pub(crate) fn stat_activity_sql(&self, query: &str) -> String {
        self.registry.stat_activity_sql(&self.backend, query)
    }

    /// Whether this connection has been terminated (`pg_terminate_backend`, an idle timeout).
    pub(crate) fn terminated(&self) -> Option<watch::Receiver<Option<Farewell>>> {
        self.backend
            .terminate
            .as_ref()
            .map(watch::Sender::subscribe)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut map = self.registry.lock();
        if map
            .get(&self.backend.pid)
            .is_some_and(|b| Arc::ptr_eq(b, &self.backend))
        {
            map.remove(&self.backend.pid);
        }
    }
}

/// Closes one connection, with PostgreSQL's FATAL for the reason.
pub(crate) struct Closer {
    terminate: watch::Sender<Option<Farewell>>,
    tls: bool,
}

impl Closer {
    /// Closes the connection: `code` and `message` are what PostgreSQL says.
    pub(crate) fn close(&self, code: &'static str, message: &'static str) {
        self.terminate.send_replace(Some(Farewell {
            code,
            message,
            tls: self.tls,
        }));
    }
}

/// What a new connection brings to its registration.
pub(crate) struct NewBackend {
    pub(crate) pid: i32,
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) application_name: String,
    pub(crate) client: SocketAddr,
    /// Fires the connection's CancelRequest path.
    pub(crate) cancel: Option<Arc<ConnectionHandle>>,
    /// Closes the connection (see `lib.rs`'s accept loop).
    pub(crate) terminate: Option<watch::Sender<Option<Farewell>>>,
    /// Whether the connection negotiated TLS.
    pub(crate) tls: bool,
}

impl Backends {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<i32, Arc<Backend>>> {
        self.by_pid.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection that has just authenticated.
    pub(crate) fn register(self: &Arc<Self>, new: NewBackend) -> Registration {
        let now = SystemTime::now();
        let backend = Arc::new(Backend {
            pid: new.pid,
            user: new.user,
            database: new.database,
            client: new.client,
            started: now,
            activity: Mutex::new(Activity {
                application_name: new.application_name,
                state: State::Idle,
                query: String::new(),
                query_start: None,
                xact_start: None,
                state_change: now,
            }),
            cancel: new.cancel,
            terminate: new.terminate,
            tls: new.tls,
        });
        self.lock().insert(backend.pid, Arc::clone(&backend));
        Registration {
            backend,
            registry: Arc::clone(self),
        }
    }

    /// Number of registered connections.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Sends `signal` to connection `pid` on behalf of `user`.
    async fn signal(&self, pid: i32, signal: Signal, user: &str) -> Result<(), SignalError> {
        let backend = self
            .lock()
            .get(&pid)
            .cloned()
            .ok_or(SignalError::NoSuchBackend(pid))?;
        if backend.user != user {
            return Err(SignalError::NotOwner {
                action: match signal {
                    Signal::Cancel => "cancel",
                    Signal::Terminate => "terminate",
                },
                pid,
                user: backend.user.clone(),
            });
        }
        match signal {
            Signal::Cancel => {
                if let Some(handle) = &backend.cancel {
                    handle.cancel().await;
                }
            }
            Signal::Terminate => {
                if let Some(closer) = backend.closer() {
                    closer.close(
                        "57P01",
                        "terminating connection due to administrator command",
                    );
                }
            }
        }
        tracing::info!(pid, by = %user, signal = signal.function(), "backend signalled");
        Ok(())
    }

    /// `pg_stat_activity` as a DuckDB subquery of literal rows, seen by `viewer` (the
    /// connection running the query, shown running `query`).
    fn stat_activity_sql(&self, viewer: &Backend, query: &str) -> String {
        let backends: Vec<Arc<Backend>> = self.lock().values().cloned().collect();
        let mut sql = String::from("(SELECT * FROM (VALUES ");
        let mut first = true;
        for backend in &backends {
            if !first {
                sql.push_str(", ");
            }
            first = false;
            let mut activity = backend.activity().clone();
            if backend.pid == viewer.pid {
                // The viewer is running this very query (at Parse, before Execute marks it).
                let now = SystemTime::now();
                activity.state = State::Active;
                activity.query = shown_query(query).to_owned();
                activity.query_start = Some(now);
                activity.xact_start.get_or_insert(now);
            }
            push_row(&mut sql, backend, &activity, backend.user == viewer.user);
        }
        sql.push_str(
            ") AS pg_stat_activity(datid, datname, pid, leader_pid, usesysid, usename, \
             application_name, client_addr, client_hostname, client_port, backend_start, \
             xact_start, query_start, state_change, wait_event_type, wait_event, state, \
             backend_xid, backend_xmin, query_id, query, backend_type))",
        );
        sql
    }
}

/// How much of a statement `pg_stat_activity.query` shows: PostgreSQL's default
/// `track_activity_query_size`.
const QUERY_TEXT_BYTES: usize = 1024;

/// The start of `query` that `pg_stat_activity` shows (whole characters).
fn shown_query(query: &str) -> &str {
    if query.len() <= QUERY_TEXT_BYTES {
        return query;
    }
    let mut end = QUERY_TEXT_BYTES;
    while !query.is_char_boundary(end) {
        end -= 1;
    }
    &query[..end]
}

/// One `pg_stat_activity` row; `own` rows show what only their user may see.
fn push_row(sql: &mut String, backend: &Backend, activity: &Activity, own: bool) {
    let text = |v: &str| format!("{}::VARCHAR", quote_literal(v));
    let time = |t: Option<SystemTime>| match t {
        Some(t) => format!(
            "'{}'::TIMESTAMPTZ",
            DateTime::<Utc>::from(t).format("%Y-%m-%d %H:%M:%S%.6f+00")
        ),
        None => "NULL::TIMESTAMPTZ".to_owned(),
    };
    let or_null =
        |shown: bool, value: String, null: &str| if shown { value } else { null.to_owned() };
    let idle = activity.state != State::Active;
    let _ =
        write!(
        sql,
        "(16384::BIGINT, {datname}, {pid}::INTEGER, NULL::INTEGER, {usesysid}, {usename}, {app}, \
         {addr}, NULL::VARCHAR, {port}, {backend_start}, {xact_start}, {query_start}, \
         {state_change}, {wait_type}, {wait}, {state}, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, \
         {query}, 'client backend'::VARCHAR)",
        datname = text(&backend.database),
        pid = backend.pid,
        usesysid = if own { "10::BIGINT" } else { "NULL::BIGINT" },
        usename = text(&backend.user),
        app = text(&activity.application_name),
        addr = or_null(own, text(&backend.client.ip().to_string()), "NULL::VARCHAR"),
        port = or_null(own, format!("{}::INTEGER", backend.client.port()), "NULL::INTEGER"),
        backend_start = time(Some(backend.started)),
        xact_start = or_null(own, time(activity.xact_start), "NULL::TIMESTAMPTZ"),
        query_start = or_null(own, time(activity.query_start), "NULL::TIMESTAMPTZ"),
        state_change = or_null(own, time(Some(activity.state_change)), "NULL::TIMESTAMPTZ"),
        wait_type = or_null(own && idle, text("Client"), "NULL::VARCHAR"),
        wait = or_null(own && idle, text("ClientRead"), "NULL::VARCHAR"),
        state = or_null(own, text(activity.state.label()), "NULL::VARCHAR"),
        query = if own {
            text(&activity.query)
        } else {
            text("<insufficient privilege>")
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(pid: i32, user: &str) -> NewBackend {
        NewBackend {
            pid,
            user: user.into(),
            database: "lake".into(),
            application_name: "psql".into(),
            client: "127.0.0.1:5000".parse().unwrap(),
            cancel: Some(Arc::new(ConnectionHandle::new())),
            terminate: Some(watch::channel(None).0),
            tls: false,
        }
    }

    #[tokio::test]
    async fn signals_only_own_live_connections() {
        let backends = Arc::new(Backends::default());
        let alice = backends.register(new(7, "alice"));
        let (terminate, mut terminated) = watch::channel(None);
        let bob = backends.register(NewBackend {
            terminate: Some(terminate),
            ..new(8, "bob")
        });
        assert_eq!(
            backends.signal(8, Signal::Cancel, "alice").await,
            Err(SignalError::NotOwner {
                action: "cancel",
                pid: 8,
                user: "bob".into()
            })
        );
        assert_eq!(
            backends.signal(9, Signal::Cancel, "alice").await,
            Err(SignalError::NoSuchBackend(9))
        );
        assert!(terminated.borrow_and_update().is_none());
        backends.signal(8, Signal::Terminate, "bob").await.unwrap();
        assert_eq!(
            terminated.borrow_and_update().as_ref().map(|f| f.code),
            Some("57P01")
        );
        drop(bob);
        assert_eq!(backends.len(), 1);
        assert_eq!(
            backends.signal(8, Signal::Cancel, "bob").await,
            Err(SignalError::NoSuchBackend(8))
        );
        drop(alice);
        assert_eq!(backends.len(), 0);
    }

    #[test]
    fn shows_the_first_kilobyte_of_a_query() {
        let long = format!("SELECT '{}'", "é".repeat(1000));
        let shown = shown_query(&long);
        assert!(shown.len() <= QUERY_TEXT_BYTES && shown.len() > QUERY_TEXT_BYTES - 2);
        assert!(long.starts_with(shown));
        assert_eq!(shown_query("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn lists_every_connection_and_hides_other_users_queries() {
        let backends = Arc::new(Backends::default());
        let alice = backends.register(new(7, "alice"));
        let bob = backends.register(NewBackend {
            application_name: "etl".into(),
            ..new(8, "bob")
        });
        bob.begin("SELECT 'secret'");
        let sql = backends.stat_activity_sql(&alice, "SELECT * FROM pg_stat_activity");
        assert!(sql.contains("7::INTEGER"), "{sql}");
        assert!(sql.contains("8::INTEGER"), "{sql}");
        assert!(
            sql.contains("'SELECT * FROM pg_stat_activity'::VARCHAR"),
            "{sql}"
        );
        assert!(!sql.contains("secret"), "{sql}");
        assert!(sql.contains("'<insufficient privilege>'::VARCHAR"), "{sql}");
        assert!(sql.contains("'etl'::VARCHAR"), "{sql}");
        bob.finish(State::Idle, "etl");
        let seen_by_bob = backends.stat_activity_sql(&bob, "SELECT 1");
        assert!(seen_by_bob.contains("'SELECT 1'::VARCHAR"), "{seen_by_bob}");
    }
}
