//! Gateway command-line flags (each with an environment twin).

use std::path::PathBuf;
use std::time::Duration;

/// Flags of `tavana gateway`.
#[derive(clap::Args, Debug, Clone)]
pub struct GatewayArgs {
    /// Port for Flight SQL clients; 0 picks a free port.
    #[arg(long, env = "FLIGHT_SQL_PORT", default_value_t = 50051)]
    pub flight_sql_port: u16,

    /// Executors to route to: comma-separated `http://host:port` (or `https://`).
    #[arg(long, env = "WORKER_ADDR", value_delimiter = ',', required = true)]
    pub worker_addr: Vec<String>,

    /// Users allowed to connect: `name:password,...`.
    #[arg(long, env = "TAVANA_USERS", hide_env_values = true, default_value = "")]
    pub users: String,

    /// File of users (`name:password`, one per line or comma-separated), read again when it
    /// changes: users and passwords change without a restart. Instead of --users.
    #[arg(long, env = "TAVANA_USERS_FILE")]
    pub users_file: Option<PathBuf>,

    /// Accept unauthenticated clients (every caller is user `anonymous`). Off by default.
    #[arg(long, env = "TAVANA_AUTH_DISABLED")]
    pub auth_disabled: bool,

    /// Shared secret presented to executors.
    #[arg(long, env = "TAVANA_INTERNAL_TOKEN", hide_env_values = true)]
    pub internal_token: Option<String>,

    /// Key that signs session tokens, at least 32 bytes. Gateways sharing it open each
    /// other's sessions again from their tokens: sessions survive a gateway restart and a
    /// reconnection to another gateway. `new,old` rotates keys: the first signs, both verify.
    /// Unset: a random key for this process, whose sessions end with it.
    #[arg(long, env = "TAVANA_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,

    /// Idle time after which a session (and its prepared statements) is dropped, in seconds.
    #[arg(long, env = "TAVANA_SESSION_IDLE_SECS", default_value_t = 8 * 3600)]
    pub session_idle_secs: u64,

    /// Queries streaming at once through this gateway; more wait in the queue. Default: 16 per
    /// executor, the executors' own default limit, so the gateway queues instead of sending
    /// executors more than they accept.
    #[arg(long, env = "TAVANA_MAX_RUNNING_QUERIES")]
    pub max_running_queries: Option<usize>,

    /// Queries one user may stream at once through this gateway; more wait in the queue (and
    /// hold no gateway slot meanwhile). Default: no per-user limit.
    #[arg(long, env = "TAVANA_MAX_RUNNING_QUERIES_PER_USER")]
    pub max_running_queries_per_user: Option<usize>,

    /// Seconds a result stream may go without its client reading anything before the query is
    /// stopped and its slots freed (0: never). A client that stops reading a large result
    /// otherwise holds an executor slot and a gateway slot until it closes the stream.
    #[arg(long, env = "TAVANA_STREAM_IDLE_TIMEOUT_SECS", default_value_t = 0)]
    pub stream_idle_timeout_secs: u64,

    /// Longest a query may run, in seconds, from leaving the queue to the end of its result
    /// stream (0: no limit). A query past it is stopped on its executor and its client gets
    /// `DEADLINE_EXCEEDED` (SQLSTATE 57014 through the pg-adapter). Also bounds a call that
    /// runs a statement returning no rows.
    #[arg(long, env = "TAVANA_MAX_QUERY_SECS", default_value_t = 0)]
    pub max_query_secs: u64,

    /// How long a query may wait in the queue before it is refused as overloaded, in seconds.
    #[arg(long, env = "TAVANA_QUEUE_TIMEOUT_SECS", default_value_t = 30)]
    pub queue_timeout_secs: u64,

    /// Serve TLS (requires --tls-cert and --tls-key).
    #[arg(long, env = "TLS_ENABLED")]
    pub tls_enabled: bool,

    /// PEM certificate chain for TLS.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA bundle to verify executors served over `https://`.
    #[arg(long, env = "TAVANA_EXECUTOR_CA")]
    pub executor_ca: Option<PathBuf>,

    /// The executor scaler (off unless `TAVANA_SCALER=kubernetes`).
    #[command(flatten)]
    pub scaler: tavana_scaler::ScalerArgs,
}

impl GatewayArgs {
    /// Session idle timeout.
    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_secs)
    }

    /// Longest a query may run (`None`: no limit).
    pub fn max_query_duration(&self) -> Option<Duration> {
        (self.max_query_secs > 0).then(|| Duration::from_secs(self.max_query_secs))
    }

    /// Queue wait limit.
    pub fn queue_timeout(&self) -> Duration {
        Duration::from_secs(self.queue_timeout_secs)
    }
}
