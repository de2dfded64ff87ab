//! Authentication and client sessions. A Basic-auth handshake yields a bearer token that names a
//! session; the session holds the user, the options set with `SetSessionOptions`, the
//! object-store credentials, and the parameters bound to the session's prepared statements.
//! The token is signed and carries the user and options too (see `tokens`), so a gateway that
//! does not hold the session opens it again from the token, unless it held credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use tavana_proto::{SessionContext, UserSource};
use tonic::metadata::MetadataMap;
use tonic::Status;

use crate::metrics::GatewayMetrics;
use crate::tokens::{self, SessionKey, TokenClaims, TokenError};

/// Prepared statements one session may hold open.
const MAX_PREPARED_PER_SESSION: usize = 4096;
/// Sessions the gateway keeps at most; the least recently used is dropped beyond that.
const MAX_SESSIONS: usize = 100_000;
/// Longest time between sweeps of idle sessions.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// One client session.
#[derive(Debug)]
pub struct Session {
    /// Authenticated user.
    pub user: String,
    /// Session id (from its token); empty for a throwaway session.
    id: String,
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
    fn new(user: String, id: String) -> Self {
        Self {
            user,
            id,
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
            integer_division: false,
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
    users: UserSource,
    auth_disabled: bool,
    idle_timeout: Duration,
    key: SessionKey,
    table: Mutex<SessionTable>,
    metrics: GatewayMetrics,
}

/// The sessions this gateway holds, by session id, and the ids of sessions closed here (so
/// their tokens cannot open them again on this gateway).
struct SessionTable {
    open: HashMap<String, Arc<Session>>,
    closed: HashMap<String, Instant>,
    /// When idle sessions were last dropped (a sweep looks at every session, so it runs at
    /// most once a minute: after a gateway restart every client opens its session again at
    /// once).
    swept: Instant,
}

impl Sessions {
    /// Creates the store. With `auth_disabled`, callers without credentials get an
    /// `anonymous` session. Tokens are signed with `key`: gateways sharing a configured key
    /// open each other's sessions again from their tokens.
    pub fn new(
        users: UserSource,
        auth_disabled: bool,
        idle_timeout: Duration,
        key: SessionKey,
        metrics: GatewayMetrics,
    ) -> Self {
        Self {
            users,
            auth_disabled,
            idle_timeout,
            key,
            table: Mutex::new(SessionTable {
                open: HashMap::new(),
                closed: HashMap::new(),
                swept: Instant::now(),
            }),
            metrics,
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        self.table.lock().expect("sessions")
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
                Ok(Arc::new(Session::new(user, String::new())))
            }
            None if self.auth_disabled => {
                Ok(Arc::new(Session::new("anonymous".into(), String::new())))
            }
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
        let Ok(claims) = self.key.verify(&token) else {
            return false;
        };
        let id = claims.session_key();
        let mut table = self.table();
        let removed = table.open.remove(&id).is_some();
        if table.closed.len() >= MAX_SESSIONS {
            if let Some(oldest) = table
                .closed
                .iter()
                .min_by_key(|(_, closed)| **closed)
                .map(|(id, _)| id.clone())
            {
                table.closed.remove(&oldest);
            }
        }
        table.closed.insert(id, Instant::now());
        self.metrics.sessions.set(table.open.len() as i64);
        removed
    }

    /// A new token for the session a call presented `presented` for, when the client should
    /// take one: the session's options changed since the token was issued, or the token is old
    /// enough that it soon could not open the session again. `None` when the token is current,
    /// or when tokens die with this process anyway (no configured key).
    ///
    /// Clients that follow the Flight bearer-token convention (the ADBC Flight SQL driver, the
    /// pg-adapter) take an `authorization` header in any response as their new bearer token.
    pub fn refreshed_token(&self, presented: &str) -> Option<String> {
        if !self.key.is_configured() {
            return None;
        }
        let mut claims = self.key.verify(presented).ok()?;
        let session = self.table().open.get(&claims.session_key()).cloned()?;
        let state = session.state();
        let current = (
            state.catalog.clone(),
            state.schema.clone(),
            !state.credentials.is_empty(),
        );
        drop(state);
        let refresh_after = (self.idle_timeout.as_secs() / 8).max(1);
        if current
            == (
                claims.catalog.clone(),
                claims.schema.clone(),
                claims.has_credentials,
            )
            && claims.age_secs() < refresh_after
        {
            return None;
        }
        (claims.catalog, claims.schema, claims.has_credentials) = current;
        claims.issued_at = tokens::unix_now();
        Some(self.key.issue(&claims))
    }

    fn check_password(&self, user: &str, password: &str) -> Result<String, Status> {
        if self.users.current().verify(user, password) {
            Ok(user.to_owned())
        } else {
            self.metrics.auth_failures_total.inc();
            tracing::warn!(user, "authentication failed");
            Err(Status::unauthenticated("invalid user name or password"))
        }
    }

    fn open(&self, user: String) -> String {
        let claims = TokenClaims::new_session(&user);
        let session = Arc::new(Session::new(user, claims.session_key()));
        self.insert(session);
        self.key.issue(&claims)
    }

    /// Adds a session, or returns the one a concurrent call added under its id first.
    fn insert(&self, session: Arc<Session>) -> Arc<Session> {
        let mut table = self.table();
        if table.swept.elapsed() >= self.idle_timeout.min(SWEEP_INTERVAL)
            || table.open.len() >= MAX_SESSIONS
        {
            self.expire_idle(&mut table);
        }
        if let Some(held) = table.open.get(&session.id) {
            return Arc::clone(held);
        }
        if table.open.len() >= MAX_SESSIONS {
            if let Some(oldest) = table
                .open
                .iter()
                .min_by_key(|(_, s)| s.state().last_used)
                .map(|(id, _)| id.clone())
            {
                table.open.remove(&oldest);
            }
        }
        table.open.insert(session.id.clone(), Arc::clone(&session));
        self.metrics.sessions.set(table.open.len() as i64);
        session
    }

    fn session_for_token(&self, token: &str) -> Result<Arc<Session>, Status> {
        let claims = self.key.verify(token).map_err(|error| {
            if let TokenError::Version(_) = error {
                Status::unauthenticated(format!("{error}; authenticate again"))
            } else {
                Status::unauthenticated("unknown or expired session token; authenticate again")
            }
        })?;
        let id = claims.session_key();
        let table = self.table();
        if let Some(session) = table.open.get(&id).cloned() {
            drop(table);
            let mut state = session.state();
            if state.last_used.elapsed() > self.idle_timeout {
                return Err(Status::unauthenticated(
                    "session expired; authenticate again",
                ));
            }
            state.last_used = Instant::now();
            drop(state);
            return Ok(session);
        }
        if table.closed.contains_key(&id) {
            return Err(Status::unauthenticated(
                "session closed; authenticate again",
            ));
        }
        drop(table);
        self.resume(claims)
    }

    /// Opens again a session this gateway does not hold, from its token: the gateway restarted,
    /// or the client's connection moved to another gateway sharing the session key.
    fn resume(&self, claims: TokenClaims) -> Result<Arc<Session>, Status> {
        if claims.age_secs() > self.idle_timeout.as_secs() {
            return Err(Status::unauthenticated(
                "session expired; authenticate again",
            ));
        }
        if claims.has_credentials {
            return Err(Status::unauthenticated(
                "this session's object-store credentials did not survive a gateway restart or a \
                 move to another gateway; authenticate again and run the credential statements again",
            ));
        }
        let known_user = if self.auth_disabled && claims.user == "anonymous" {
            true
        } else {
            self.users.current().password(&claims.user).is_some()
        };
        if !known_user {
            self.metrics.auth_failures_total.inc();
            tracing::warn!(user = %claims.user, "session token of a user no longer configured");
            return Err(Status::unauthenticated(
                "unknown or expired session token; authenticate again",
            ));
        }
        let session = Arc::new(Session::new(claims.user.clone(), claims.session_key()));
        session.set_catalog(claims.catalog);
        session.set_schema(claims.schema);
        let held = self.insert(Arc::clone(&session));
        if Arc::ptr_eq(&held, &session) {
            self.metrics.sessions_resumed_total.inc();
            tracing::info!(user = %session.user, "session opened again from its token");
        }
        Ok(held)
    }

    fn expire_idle(&self, table: &mut SessionTable) {
        table.swept = Instant::now();
        let idle = self.idle_timeout;
        table
            .open
            .retain(|_, session| session.state().last_used.elapsed() <= idle);
        // A closed session's token stops opening anything once it is too old to resume.
        table.closed.retain(|_, closed| closed.elapsed() <= idle);
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

    const KEY: &[u8] = b"a key the gateways of one deployment share";

    fn sessions(auth_disabled: bool) -> Sessions {
        gateway(auth_disabled, SessionKey::ephemeral(), "alice:pw")
    }

    /// A gateway's session store with this key and these users.
    fn gateway(auth_disabled: bool, key: SessionKey, users: &str) -> Sessions {
        let metrics = GatewayMetrics::register(&prometheus::Registry::new()).unwrap();
        Sessions::new(
            UserSource::fixed(tavana_proto::UserStore::parse(users).unwrap()),
            auth_disabled,
            Duration::from_secs(3600),
            key,
            metrics,
        )
    }

    fn bearer(token: &str) -> MetadataMap {
        with_auth(&format!("Bearer {token}"))
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

    #[test]
    fn a_gateway_sharing_the_key_opens_the_session_again_with_its_options() {
        let first = gateway(false, SessionKey::configured(KEY), "alice:pw");
        let token = first.handshake(&basic("alice", "pw")).unwrap();
        let session = first.authenticate(&bearer(&token)).unwrap();
        assert_eq!(
            first.refreshed_token(&token),
            None,
            "a new token is current"
        );
        session.set_schema(Some("sales".into()));
        let refreshed = first
            .refreshed_token(&token)
            .expect("the schema changed: a new token is due");
        assert_eq!(
            first.refreshed_token(&refreshed),
            None,
            "the new token is current"
        );
        // The first gateway still answers to the old token with the session's own state.
        let again = first.authenticate(&bearer(&token)).unwrap();
        assert_eq!(again.context().schema.as_deref(), Some("sales"));

        // A restarted gateway, or another replica with the same key.
        let second = gateway(false, SessionKey::configured(KEY), "alice:pw");
        let resumed = second.authenticate(&bearer(&refreshed)).unwrap();
        assert_eq!(resumed.user, "alice");
        assert_eq!(resumed.context().schema.as_deref(), Some("sales"));
        assert_eq!(second.metrics.sessions_resumed_total.get(), 1);
        // Later calls find it held.
        second.authenticate(&bearer(&refreshed)).unwrap();
        assert_eq!(second.metrics.sessions_resumed_total.get(), 1);
        assert_eq!(second.metrics.sessions.get(), 1);
    }

    #[test]
    fn calls_racing_to_open_one_session_again_share_it() {
        let first = gateway(false, SessionKey::configured(KEY), "alice:pw");
        let token = first.handshake(&basic("alice", "pw")).unwrap();
        let claims = SessionKey::configured(KEY).verify(&token).unwrap();
        let second = gateway(false, SessionKey::configured(KEY), "alice:pw");
        // Both found the session missing before either opened it.
        let one = second.resume(claims.clone()).unwrap();
        let other = second.resume(claims).unwrap();
        assert!(Arc::ptr_eq(&one, &other));
        assert_eq!(second.metrics.sessions_resumed_total.get(), 1);
        assert_eq!(second.metrics.sessions.get(), 1);
    }

    #[test]
    fn without_a_shared_key_a_token_dies_with_its_gateway() {
        let first = gateway(false, SessionKey::ephemeral(), "alice:pw");
        let token = first.handshake(&basic("alice", "pw")).unwrap();
        first.authenticate(&bearer(&token)).unwrap();
        assert_eq!(
            first.refreshed_token(&token),
            None,
            "nothing to refresh: no other gateway could read it"
        );
        let second = gateway(false, SessionKey::ephemeral(), "alice:pw");
        let status = second.authenticate(&bearer(&token)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(
            status.message().contains("authenticate again"),
            "{status:?}"
        );
    }

    #[test]
    fn sessions_with_credentials_closed_or_of_removed_users_are_not_opened_again() {
        let first = gateway(false, SessionKey::configured(KEY), "alice:pw,bob:pw");
        let token = first.handshake(&basic("alice", "pw")).unwrap();
        first
            .authenticate(&bearer(&token))
            .unwrap()
            .set_credentials(vec!["CREATE SECRET ...".into()]);
        let with_credentials = first.refreshed_token(&token).unwrap();
        let second = gateway(false, SessionKey::configured(KEY), "alice:pw,bob:pw");
        let status = second.authenticate(&bearer(&with_credentials)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("credential"), "{status:?}");

        let closed = first.handshake(&basic("alice", "pw")).unwrap();
        assert!(first.close(&bearer(&closed)));
        let status = first.authenticate(&bearer(&closed)).unwrap_err();
        assert!(status.message().contains("closed"), "{status:?}");

        let bobs = first.handshake(&basic("bob", "pw")).unwrap();
        let without_bob = gateway(false, SessionKey::configured(KEY), "alice:pw");
        let status = without_bob.authenticate(&bearer(&bobs)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(without_bob.metrics.sessions_resumed_total.get(), 0);
    }

    #[test]
    fn a_token_older_than_the_idle_limit_opens_nothing() {
        let key = SessionKey::configured(KEY);
        let mut claims = TokenClaims::new_session("alice");
        claims.issued_at -= 3601;
        let old = key.issue(&claims);
        let status = gateway(false, key.clone(), "alice:pw")
            .authenticate(&bearer(&old))
            .unwrap_err();
        assert!(status.message().contains("expired"), "{status:?}");
        claims.issued_at += 3601 - 3600 / 8;
        let due = key.issue(&claims);
        let sessions = gateway(false, key, "alice:pw");
        sessions.authenticate(&bearer(&due)).unwrap();
        assert!(
            sessions.refreshed_token(&due).is_some(),
            "a token an eighth of the idle limit old is refreshed"
        );
    }
}
