//! Start-up: TLS requirement, SCRAM-SHA-256 (or cleartext when allowed) against the configured
//! users, then a Flight SQL handshake with the gateway as the same user before the client
//! sees `AuthenticationOk`, so a connection that cannot reach the gateway fails at connect time.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::cleartext::CleartextPasswordAuth;
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::sasl::scram::{gen_salted_password, ScramAuth, ScramSecret};
use pgwire::api::auth::{
    protocol_negotiation, save_startup_parameters_to_metadata, AuthDriver, AuthOutcome, AuthSource,
    LoginInfo, Password, ServerParameterProvider, StartupHandler,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::{ClientInfo, ConnectionHandle, ConnectionManager, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tavana_proto::{UserSource, UserStore};
use tonic::transport::Channel;

use crate::backends::{Backends, NewBackend};
use crate::disconnect::Disconnects;
use crate::gateway::GatewaySession;
use crate::metrics::Metrics;
use crate::session::{Session, Settings};

/// The configured users (read again when their file changes) and their SCRAM verifiers.
pub(crate) struct Users {
    source: UserSource,
    /// User → the password a verifier was derived from, its salt and salted password.
    scram: Mutex<HashMap<String, ScramVerifier>>,
    iterations: usize,
    /// Key of the made-up verifiers of unknown users (random per process).
    mock_key: ring::hmac::Key,
}

struct ScramVerifier {
    password: String,
    salt: Vec<u8>,
    salted: Vec<u8>,
}

impl Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Derives each user's SCRAM verifier once (random salt), so connecting costs one
    /// verification, not a PBKDF2 run. A user added or given a new password later gets
    /// theirs at their first login.
    pub(crate) fn new(source: UserSource, iterations: usize) -> Self {
        let users = Self {
            source,
            scram: Mutex::new(HashMap::new()),
            iterations,
            mock_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &rand::random::<[u8; 32]>()),
        };
        let store = users.source.current();
        for name in store.names() {
            let password = store.password(name).unwrap_or_default();
            let (salt, salted) = derive_verifier(password, users.iterations);
            users.remember(name, password, salt, salted);
        }
        users
    }

    /// The users now.
    pub(crate) fn store(&self) -> Arc<UserStore> {
        self.source.current()
    }

    /// The salt and salted password of `user`'s current `password`. Deriving one (a user added
    /// or given a new password since start-up) runs PBKDF2 on a blocking thread: thousands of
    /// SHA-256 rounds that would otherwise hold up every connection on this worker.
    async fn verifier(&self, user: &str, password: &str) -> (Vec<u8>, Vec<u8>) {
        if let Some(known) = self.remembered(user, password) {
            return known;
        }
        let iterations = self.iterations;
        let secret = password.to_owned();
        let (salt, salted) =
            tokio::task::spawn_blocking(move || derive_verifier(&secret, iterations))
                .await
                .unwrap_or_else(|_| derive_verifier(password, iterations));
        // A login that derived the same password's verifier meanwhile keeps its own: either
        // verifies the client.
        self.remember(user, password, salt.clone(), salted.clone());
        (salt, salted)
    }

    fn remembered(&self, user: &str, password: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let scram = self.scram.lock().unwrap_or_else(PoisonError::into_inner);
        scram
            .get(user)
            .filter(|known| known.password == password)
            .map(|known| (known.salt.clone(), known.salted.clone()))
    }

    fn remember(&self, user: &str, password: &str, salt: Vec<u8>, salted: Vec<u8>) {
        let mut scram = self.scram.lock().unwrap_or_else(PoisonError::into_inner);
        scram.insert(
            user.to_owned(),
            ScramVerifier {
                password: password.to_owned(),
                salt,
                salted,
            },
        );
    }

    /// A made-up verifier for a user who does not exist, as PostgreSQL's mock authentication
    /// makes one: the same salt at every attempt for the same name (a random salt per attempt
    /// would tell unknown users from known ones, whose salt stays put), and no PBKDF2 run to
    /// spend on made-up names. The exchange then fails as a wrong password does.
    fn mock_verifier(&self, user: &str) -> (Vec<u8>, Vec<u8>) {
        let derive = |purpose: &str| {
            let mut input = purpose.as_bytes().to_vec();
            input.push(0);
            input.extend_from_slice(user.as_bytes());
            ring::hmac::sign(&self.mock_key, &input).as_ref().to_vec()
        };
        let salt = derive("salt")[..16].to_vec();
        (salt, derive("salted password"))
    }
}

/// A new random salt and the password salted with it (PBKDF2: slow on purpose).
fn derive_verifier(password: &str, iterations: usize) -> (Vec<u8>, Vec<u8>) {
    let salt: [u8; 16] = rand::random();
    let salted = gen_salted_password(password, &salt, iterations);
    (salt.to_vec(), salted)
}

fn unknown_user(login: &LoginInfo) -> PgWireError {
    PgWireError::InvalidPassword(login.user().unwrap_or_default().to_owned())
}

#[async_trait]
impl AuthSource for Users {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let store = self.store();
        let password = store.password(user).ok_or_else(|| unknown_user(login))?;
        Ok(Password::new(None, password.as_bytes().to_vec()))
    }

    async fn verify_password(
        &self,
        login: &LoginInfo,
        presented: &[u8],
    ) -> PgWireResult<Option<()>> {
        let user = login.user().unwrap_or_default();
        let presented = std::str::from_utf8(presented)
            .unwrap_or_default()
            .trim_end_matches('\0');
        if self.store().verify(user, presented) {
            Ok(None)
        } else {
            Err(unknown_user(login))
        }
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        let store = self.store();
        match store.password(user) {
            Some(password) => {
                let (salt, salted) = self.verifier(user, password).await;
                Ok((
                    ScramSecret::verifier_from_salted_password(salt, salted, self.iterations),
                    None,
                ))
            }
            // Unknown users go through a full exchange against a made-up verifier, so the
            // failure looks the same as a wrong password.
            None => {
                let (salt, salted) = self.mock_verifier(user);
                Ok((
                    ScramSecret::verifier_from_salted_password(salt, salted, self.iterations),
                    None,
                ))
            }
        }
    }
}

/// ParameterStatus at start-up comes from the session's settings.
pub(crate) struct SessionParameters;

impl ServerParameterProvider for SessionParameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let session = client.session_extensions().get::<Session>()?;
        let report = session.settings().startup_report();
        Some(report.into_iter().collect())
    }
}

/// The start-up handler.
pub(crate) struct Startup {
    driver: AuthDriver<SessionParameters>,
    scram: Arc<dyn AuthMechanismFactory>,
    cleartext: Option<Arc<dyn AuthMechanismFactory>>,
    users: Arc<Users>,
    channel: Channel,
    require_tls: bool,
    metrics: Metrics,
    connections: Connections,
    /// Settings every session starts from (`PgAdapterArgs::server_defaults`).
    server_defaults: Vec<(String, String)>,
}

/// The registries a new connection joins: pgwire's (CancelRequest), the disconnect watchers
/// and the list `pg_stat_activity` shows.
pub(crate) struct Connections {
    pub(crate) cancels: Arc<ConnectionManager>,
    pub(crate) disconnects: Arc<Disconnects>,
    pub(crate) backends: Arc<Backends>,
}

impl Startup {
    pub(crate) fn new(
        users: Arc<Users>,
        channel: Channel,
        require_tls: bool,
        allow_cleartext: bool,
        metrics: Metrics,
        connections: Connections,
        server_defaults: Vec<(String, String)>,
    ) -> Self {
        let mut scram = ScramAuth::new(Arc::clone(&users) as Arc<dyn AuthSource>);
        scram.set_iterations(users.iterations);
        let cleartext: Option<Arc<dyn AuthMechanismFactory>> = allow_cleartext.then(|| {
            Arc::new(CleartextPasswordAuth::new(Arc::clone(&users)))
                as Arc<dyn AuthMechanismFactory>
        });
        Self {
            driver: AuthDriver::new(SessionParameters)
                .with_connection_manager(Arc::clone(&connections.cancels)),
            scram: Arc::new(scram),
            cleartext,
            users,
            channel,
            require_tls,
            metrics,
            connections,
            server_defaults,
        }
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_owned(),
        code.to_owned(),
        message,
    )))
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.require_tls && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "SSL connection is required (the server requires TLS)".into(),
                    ));
                }
                if client
                    .metadata()
                    .get(METADATA_USER)
                    .is_none_or(String::is_empty)
                {
                    return Err(fatal(
                        "28000",
                        "no PostgreSQL user name specified in startup packet".into(),
                    ));
                }
                let mechanism = match &self.cleartext {
                    Some(c) => c.create(),
                    None => self.scram.create(),
                };
                match self.driver.begin_authentication(client, mechanism).await? {
                    AuthOutcome::InProgress => Ok(()),
                    AuthOutcome::Authenticated { final_message, .. } => {
                        self.finish(client, final_message).await
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                match self.driver.advance_authentication(client, message).await {
                    Ok(AuthOutcome::InProgress) => Ok(()),
                    Ok(AuthOutcome::Authenticated { final_message, .. }) => {
                        self.finish(client, final_message).await
                    }
                    Err(e) => {
                        self.metrics.auth_failures_total.inc();
                        Err(match e {
                            // The start-up packet's user: pgwire's SCRAM mechanism does not
                            // know it and names "".
                            PgWireError::InvalidPassword(_)
                            | PgWireError::InvalidScramMessage(_) => {
                                let user = client
                                    .metadata()
                                    .get(METADATA_USER)
                                    .cloned()
                                    .unwrap_or_default();
                                fatal(
                                    "28P01",
                                    format!("password authentication failed for user \"{user}\""),
                                )
                            }
                            other => other,
                        })
                    }
                }
            }
            _ => Ok(()),
        }
    }
}

impl Startup {
    async fn finish<C>(
        &self,
        client: &mut C,
        final_message: Option<pgwire::messages::startup::Authentication>,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let password = self
            .users
            .store()
            .password(&user)
            .unwrap_or_default()
            .to_owned();
        let gateway = GatewaySession::connect(
            self.channel.clone(),
            &user,
            &password,
            self.metrics.gateway_sessions_renewed_total.clone(),
        )
        .await
        .map_err(|status| {
            tracing::warn!(%user, error = %status, "gateway handshake failed");
            match status.code() {
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => fatal(
                    "28P01",
                    format!("the gateway refused user \"{user}\": {}", status.message()),
                ),
                _ => fatal(
                    "08006",
                    format!("could not reach the query gateway: {}", status.message()),
                ),
            }
        })?;
        // The server's defaults first: what the client sends at start-up overrides them.
        let startup: Vec<(String, String)> = self
            .server_defaults
            .iter()
            .cloned()
            .chain(
                client
                    .metadata()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            )
            .collect();
        let settings = Settings::new(&user, startup);
        let signals = self.connections.disconnects.take(&client.socket_addr());
        let (gone, terminate) = match signals {
            Some(s) => (Some(s.gone), Some(s.terminate)),
            None => (None, None),
        };
        let database = settings.database().to_owned();
        let application_name = settings.get("application_name").unwrap_or_default();
        // The session first: ParameterStatus at start-up reports its settings.
        client.session_extensions().insert(Session::new(
            user.clone(),
            gateway,
            settings,
            gone,
            self.metrics.idle_timeouts_total.clone(),
        ));
        // Assigns the connection's pid and secret key (BackendKeyData) and its cancel handle.
        self.driver
            .complete_authentication(client, final_message)
            .await?;
        let (pid, _) = client.pid_and_secret_key();
        let backend = self.connections.backends.register(NewBackend {
            pid,
            user,
            database,
            application_name,
            client: client.socket_addr(),
            cancel: client
                .session_extensions()
                .get::<Arc<ConnectionHandle>>()
                .map(|handle| Arc::clone(handle.as_ref())),
            terminate,
            tls: client.is_secure(),
        });
        if let Some(session) = client.session_extensions().get::<Session>() {
            // Set once, here: the session was created just above.
            let _ = session.backend.set(backend);
        }
        Ok(())
    }
}

/// Counts CancelRequests and forwards them to the connection they name.
pub(crate) struct Cancels {
    pub(crate) manager: Arc<ConnectionManager>,
    pub(crate) metrics: Metrics,
}

#[async_trait]
impl CancelHandler for Cancels {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.metrics.cancel_requests_total.inc();
        self.manager.cancel(request.pid, &request.secret_key).await;
    }
}
