//! Authentication and client sessions. A Basic-auth handshake yields a bearer token that names a
//! session; the session holds the user, the options set with `SetSessionOptions`, and the
//! parameters bound to the session's prepared statements.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use rand::RngCore;
use tavana_proto::{SessionContext, UserStore};
use tonic::metadata::MetadataMap;
use tonic::Status;

use crate::metrics::GatewayMetrics;

/// Prepared statements one session may hold open.
const MAX_PREPARED_PER_SESSION: usize = 4096;
/// Sessions the gateway keeps at most; the least recently used is dropped beyond that.
const MAX_SESSIONS: usize = 100_000;

/// One client session.
#[derive(Debug)]
pub struct Session {
    /// Authenticated user.
    pub user: String,
    state: Mutex<SessionState>,
}

struct SessionState {
    catalog: Option<String>,
    schema: Option<String>,
    /// Object-store credential statements the session ran (never logged; see `Debug`).
    credentials: Vec<String>,
    /// Gateway handle id → the executor handle with the latest bound parameters.
    prepared: HashMap<String, Bytes>,
    /// Gateway handle id → the dataset schema (IPC) of a prepared query the gateway may
    /// answer `GetFlightInfo` for by itself (see `ExecutorStatement::runs_as_query`).
    query_schemas: HashMap<String, Bytes>,
    last_used: Instant,
}

impl std::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionState")
            .field("catalog", &self.catalog)
            .field("schema", &self.schema)
            .field(
                "credentials",
                &format_args!("[{} redacted]", self.credentials.len()),
            )
            .field("prepared", &self.prepared.len())
            .finish()
    }
}

impl Session {
    fn new(user: String) -> Self {
        Self {
            user,
            state: Mutex::new(SessionState {
                catalog: None,
                schema: None,
                credentials: Vec::new(),
                prepared: HashMap::new(),
                query_schemas: HashMap::new(),
                last_used: Instant::now(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().expect("session state")
    }

    /// The context sent to executors with every call.
    pub fn context(&self) -> SessionContext {
        let state = self.state();
        SessionContext {
            user: self.user.clone(),
            catalog: state.catalog.clone(),
            schema: state.schema.clone(),
            credentials: state.credentials.clone(),
        }
    }

    /// Replaces the session's object-store credentials (as validated by an executor).
    pub fn set_credentials(&self, credentials: Vec<String>) {
        self.state().credentials = credentials;
    }

    /// Sets the default catalog.
    pub fn set_catalog(&self, catalog: Option<String>) {
        self.state().catalog = catalog;
    }

    /// Sets the default schema.
    pub fn set_schema(&self, schema: Option<String>) {
        self.state().schema = schema;
    }

    /// Remembers the executor handle for a prepared statement.
    pub fn remember_prepared(&self, id: &str, inner: Bytes) -> Result<(), Status> {
        let mut state = self.state();
        if !state.prepared.contains_key(id) && state.prepared.len() >= MAX_PREPARED_PER_SESSION {
            return Err(Status::resource_exhausted(format!(
                "a session may hold {MAX_PREPARED_PER_SESSION} prepared statements; close some"
            )));
        }
        state.prepared.insert(id.to_owned(), inner);
        Ok(())
    }

    /// The latest executor handle for a prepared statement of this session.
    pub fn prepared(&self, id: &str) -> Option<Bytes> {
        self.state().prepared.get(id).cloned()
    }

    /// Remembers the dataset schema of a prepared statement remembered before.
    pub fn remember_query_schema(&self, id: &str, schema: Bytes) {
        let mut state = self.state();
        if state.prepared.contains_key(id) {
            state.query_schemas.insert(id.to_owned(), schema);
        }
    }

    /// The dataset schema remembered for a prepared statement, if any.
    pub fn query_schema(&self, id: &str) -> Option<Bytes> {
        self.state().query_schemas.get(id).cloned()
    }

    /// Forgets a prepared statement.
    pub fn forget_prepared(&self, id: &str) {
        let mut state = self.state();
        state.prepared.remove(id);
        state.query_schemas.remove(id);
    }
}

/// Authenticates callers and keeps their sessions.
pub struct Sessions {
    users: UserStore,
    auth_disabled: bool,
    idle_timeout: Duration,
    by_token: Mutex<HashMap<String, Arc<Session>>>,
    metrics: GatewayMetrics,
}

impl Sessions {
    /// Creates the store. With `auth_disabled`, callers without credentials get an
    /// `anonymous` session.
    pub fn new(
        users: UserStore,
        auth_disabled: bool,
        idle_timeout: Duration,
        metrics: GatewayMetrics,
    ) -> Self {
        Self {
            users,
            auth_disabled,
            idle_timeout,
            by_token: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// Handles a handshake: checks Basic credentials and opens a session. Returns the bearer
    /// token.
    pub fn handshake(&self, metadata: &MetadataMap) -> Result<String, Status> {
        let user = match authorization(metadata) {
            Some(Authorization::Basic { user, password }) => {
                self.check_password(&user, &password)?
            }
            Some(Authorization::Bearer(token)) => self.session_for_token(&token)?.user.clone(),
            None if self.auth_disabled => "anonymous".to_owned(),
            None => {
                return Err(Status::unauthenticated(
                    "send Basic credentials in the authorization header",
                ))
            }
        };
        Ok(self.open(user))
    }

    /// The session a call belongs to.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Arc<Session>, Status> {
        match authorization(metadata) {
            Some(Authorization::Bearer(token)) => self.session_for_token(&token),
            Some(Authorization::Basic { user, password }) => {
                // Clients that skip the handshake send Basic on every call: a throwaway session.
                let user = self.check_password(&user, &password)?;
                Ok(Arc::new(Session::new(user)))
            }
            None if self.auth_disabled => Ok(Arc::new(Session::new("anonymous".into()))),
            None => Err(Status::unauthenticated(
                "authenticate with a Handshake (Basic credentials) first",
            )),
        }
    }

    /// Closes the session named by the call's bearer token.
    pub fn close(&self, metadata: &MetadataMap) -> bool {
        let Some(Authorization::Bearer(token)) = authorization(metadata) else {
            return false;
        };
        let removed = self
            .by_token
            .lock()
            .expect("sessions")
            .remove(&token)
            .is_some();
        self.metrics
            .sessions
            .set(self.by_token.lock().expect("sessions").len() as i64);
        removed
    }

    fn check_password(&self, user: &str, password: &str) -> Result<String, Status> {
        if self.users.verify(user, password) {
            Ok(user.to_owned())
        } else {
            self.metrics.auth_failures_total.inc();
            tracing::warn!(user, "authentication failed");
            Err(Status::unauthenticated("invalid user name or password"))
        }
    }

    fn open(&self, user: String) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut sessions = self.by_token.lock().expect("sessions");
        self.expire_idle(&mut sessions);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.state().last_used)
                .map(|(token, _)| token.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(token.clone(), Arc::new(Session::new(user)));
        self.metrics.sessions.set(sessions.len() as i64);
        token
    }

    fn session_for_token(&self, token: &str) -> Result<Arc<Session>, Status> {
        let sessions = self.by_token.lock().expect("sessions");
        let session = sessions.get(token).cloned().ok_or_else(|| {
            Status::unauthenticated("unknown or expired session token; authenticate again")
        })?;
        let mut state = session.state();
        if state.last_used.elapsed() > self.idle_timeout {
            return Err(Status::unauthenticated(
                "session expired; authenticate again",
            ));
        }
        state.last_used = Instant::now();
        drop(state);
        Ok(session)
    }

    fn expire_idle(&self, sessions: &mut HashMap<String, Arc<Session>>) {
        let idle = self.idle_timeout;
        sessions.retain(|_, session| session.state().last_used.elapsed() <= idle);
    }
}

enum Authorization {
    Basic { user: String, password: String },
    Bearer(String),
}

fn authorization(metadata: &MetadataMap) -> Option<Authorization> {
    let value = metadata.get("authorization")?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Authorization::Bearer(credentials.trim().to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        // Go's gRPC clients (the ADBC driver) send unpadded base64; accept both forms.
        const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let decoded = LENIENT.decode(credentials.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        return Some(Authorization::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(auth_disabled: bool) -> Sessions {
        let metrics = GatewayMetrics::register(&prometheus::Registry::new()).unwrap();
        Sessions::new(
            UserStore::parse("alice:pw").unwrap(),
            auth_disabled,
            Duration::from_secs(60),
            metrics,
        )
    }

    fn with_auth(value: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", value.parse().unwrap());
        metadata
    }

    fn basic(user: &str, password: &str) -> MetadataMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        with_auth(&format!("Basic {encoded}"))
    }

    #[test]
    fn handshake_gives_a_token_that_names_the_session() {
        let sessions = sessions(false);
        let token = sessions.handshake(&basic("alice", "pw")).unwrap();
        let session = sessions
            .authenticate(&with_auth(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(session.user, "alice");
        assert!(sessions.close(&with_auth(&format!("Bearer {token}"))));
        assert!(sessions
            .authenticate(&with_auth(&format!("Bearer {token}")))
            .is_err());
    }

    #[test]
    fn accepts_unpadded_basic_credentials() {
        let sessions = sessions(false);
        // "alice:pw" is 8 bytes: padded base64 ends in "=", Go clients leave it out.
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode("alice:pw");
        assert!(!unpadded.ends_with('='));
        assert!(sessions
            .handshake(&with_auth(&format!("Basic {unpadded}")))
            .is_ok());
    }

    #[test]
    fn refuses_bad_or_missing_credentials() {
        let sessions = sessions(false);
        for metadata in [
            basic("alice", "nope"),
            basic("bob", "pw"),
            MetadataMap::new(),
            with_auth("Bearer forged"),
        ] {
            let status = sessions
                .handshake(&metadata)
                .err()
                .or(sessions.authenticate(&metadata).err())
                .unwrap();
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
    }

    #[test]
    fn auth_disabled_allows_anonymous() {
        let sessions = sessions(true);
        assert_eq!(
            sessions.authenticate(&MetadataMap::new()).unwrap().user,
            "anonymous"
        );
    }
}
