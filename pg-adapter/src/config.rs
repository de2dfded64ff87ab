//! Command-line and environment configuration of the PostgreSQL adapter.

use std::path::PathBuf;

/// `tavana pg-adapter` flags. Every flag has an environment twin.
#[derive(clap::Args, Debug, Clone)]
pub struct PgAdapterArgs {
    /// PostgreSQL wire port (0 picks a free port).
    #[arg(long = "pg-port", env = "PG_PORT", default_value_t = 15432)]
    pub pg_port: u16,

    /// Flight SQL address of the gateway (`http://` or `https://`).
    #[arg(
        long = "gateway-addr",
        env = "GATEWAY_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    pub gateway_addr: String,

    /// PEM CA bundle to verify the gateway's TLS certificate with (an `https://` gateway
    /// address needs it); read again when the file changes.
    #[arg(long = "gateway-ca", env = "GATEWAY_CA")]
    pub gateway_ca: Option<PathBuf>,

    /// Users as `name:password,...` (the same list the gateway authenticates against).
    #[arg(
        long = "users",
        env = "TAVANA_USERS",
        hide_env_values = true,
        default_value = ""
    )]
    pub users: String,

    /// File of users (`name:password`, one per line or comma-separated), read again when it
    /// changes: users and passwords change without a restart. Instead of --users.
    #[arg(long = "users-file", env = "TAVANA_USERS_FILE")]
    pub users_file: Option<PathBuf>,

    /// Serve TLS to PostgreSQL clients (SSLRequest) with --tls-cert/--tls-key.
    #[arg(long = "tls-enabled", env = "TLS_ENABLED", default_value_t = false)]
    pub tls_enabled: bool,

    /// PEM certificate chain for client TLS.
    #[arg(long = "tls-cert", env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for client TLS.
    #[arg(long = "tls-key", env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// Refuse connections that did not negotiate TLS.
    #[arg(long = "require-tls", env = "PG_REQUIRE_TLS", default_value_t = false)]
    pub require_tls: bool,

    /// Allow cleartext password authentication (otherwise SCRAM-SHA-256 only).
    #[arg(
        long = "allow-cleartext-password",
        env = "PG_ALLOW_CLEARTEXT_PASSWORD",
        default_value_t = false
    )]
    pub allow_cleartext_password: bool,

    /// Maximum concurrent PostgreSQL connections; further connections are refused with 53300.
    #[arg(
        long = "pg-max-connections",
        env = "PG_MAX_CONNECTIONS",
        default_value_t = 1000
    )]
    pub max_connections: usize,

    /// Seconds to wait for open connections to finish after shutdown is requested.
    #[arg(
        id = "pg_shutdown_grace_secs",
        long = "pg-shutdown-grace-secs",
        env = "PG_SHUTDOWN_GRACE_SECS",
        default_value_t = 10
    )]
    pub shutdown_grace_secs: u64,

    /// Server default of `idle_in_transaction_session_timeout` (PostgreSQL units: `30s`,
    /// `10min`; `0`: off): a connection idle inside a transaction block for longer is closed,
    /// which ends its transaction and frees what its open cursors hold on the executors.
    /// Sessions may `SET` their own.
    #[arg(
        long = "idle-in-transaction-session-timeout",
        env = "PG_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",
        default_value = "0",
        value_parser = parse_timeout_ms
    )]
    pub idle_in_transaction_session_timeout_ms: u64,

    /// Server default of `idle_session_timeout` (PostgreSQL units; `0`: off): a connection
    /// idle outside a transaction for longer is closed.
    #[arg(
        long = "idle-session-timeout",
        env = "PG_IDLE_SESSION_TIMEOUT",
        default_value = "0",
        value_parser = parse_timeout_ms
    )]
    pub idle_session_timeout_ms: u64,

    /// SCRAM-SHA-256 iteration count.
    #[arg(
        long = "scram-iterations",
        env = "PG_SCRAM_ITERATIONS",
        default_value_t = 4096
    )]
    pub scram_iterations: usize,
}

impl PgAdapterArgs {
    /// The configured PostgreSQL port.
    pub fn pg_port(&self) -> u16 {
        self.pg_port
    }

    /// Settings every session starts from (its start-up parameters override them).
    pub(crate) fn server_defaults(&self) -> Vec<(String, String)> {
        vec![
            (
                "idle_in_transaction_session_timeout".to_owned(),
                crate::session::format_duration_ms(self.idle_in_transaction_session_timeout_ms),
            ),
            (
                "idle_session_timeout".to_owned(),
                crate::session::format_duration_ms(self.idle_session_timeout_ms),
            ),
        ]
    }
}

/// A PostgreSQL duration setting (`5000`, `30s`, `10min`) in milliseconds.
fn parse_timeout_ms(value: &str) -> Result<u64, String> {
    crate::session::parse_duration_ms(value).ok_or_else(|| {
        format!("{value:?} is not a duration: a number of milliseconds, or with a unit (ms, s, min, h, d)")
    })
}
