//! Executor command-line flags (each with an environment twin) and their validation.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::EngineConfig;
use crate::statement_log::StatementLog;

/// Flags of `tavana executor`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExecutorArgs {
    /// Port for Arrow Flight (the gateway connects here); 0 picks a free port.
    #[arg(long, env = "GRPC_PORT", default_value_t = 50053)]
    pub grpc_port: u16,

    /// DuckDB memory limit in GiB (default: DuckDB's, 80% of RAM).
    #[arg(long, env = "MAX_MEMORY_GB")]
    pub max_memory_gb: Option<f64>,

    /// DuckDB worker threads (default: one per core).
    #[arg(long, env = "THREADS")]
    pub threads: Option<usize>,

    /// Spill directory for larger-than-memory sorts, joins and aggregates.
    #[arg(long, env = "TAVANA_TEMP_DIR")]
    pub temp_dir: Option<PathBuf>,

    /// Directory of provisioned DuckDB extensions (see scripts/provision-extensions.sh).
    #[arg(long, env = "TAVANA_EXTENSION_DIR")]
    pub extension_dir: Option<PathBuf>,

    /// Extensions loaded at start-up (those missing from the extension directory are skipped
    /// with a warning).
    #[arg(
        long,
        env = "TAVANA_EXTENSIONS",
        value_delimiter = ',',
        default_value = "icu,httpfs,aws,azure,delta,iceberg,avro"
    )]
    pub extensions: Vec<String>,

    /// Local folders and object-store prefixes (`s3://bucket/`) queries may read; everything
    /// else is refused. Comma-separated.
    #[arg(
        long = "allowed-path",
        env = "TAVANA_ALLOWED_PATHS",
        value_delimiter = ','
    )]
    pub allowed_paths: Vec<String>,

    /// Allow statements that write (INSERT, CREATE TABLE, COPY TO an allowed path). Off: the
    /// service is read-only.
    #[arg(long, env = "TAVANA_ALLOW_WRITES")]
    pub allow_writes: bool,

    /// Queries allowed to run at once; more are refused as overloaded (the gateway queues).
    #[arg(long, env = "TAVANA_MAX_CONCURRENT_QUERIES", default_value_t = 16)]
    pub max_concurrent_queries: usize,

    /// Every this many seconds, log each query that has run at least that long (elapsed time,
    /// rows sent, DuckDB's estimate of how much is done). 0: never.
    #[arg(long, env = "TAVANA_PROGRESS_LOG_SECS", default_value_t = 10)]
    pub progress_log_secs: u64,

    /// Log every statement that ran at least this many milliseconds, with its user, rows and
    /// text (0: every statement). Failed statements are always logged. Unset: no others.
    #[arg(long, env = "TAVANA_LOG_MIN_DURATION_MS")]
    pub log_min_duration_ms: Option<u64>,

    /// Shared secret the gateway must present. Required unless
    /// --insecure-no-internal-auth is given.
    #[arg(long, env = "TAVANA_INTERNAL_TOKEN", hide_env_values = true)]
    pub internal_token: Option<String>,

    /// Accept calls without the internal token (only for networks where nothing but the
    /// gateway can reach the executor).
    #[arg(long, env = "TAVANA_INSECURE_NO_INTERNAL_AUTH")]
    pub insecure_no_internal_auth: bool,

    /// Serve TLS (requires --tls-cert and --tls-key).
    #[arg(long, env = "TLS_ENABLED")]
    pub tls_enabled: bool,

    /// PEM certificate chain for TLS.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// Data lakes: credentials, HTTP settings, the table catalog (docs/lakes.md).
    #[command(flatten)]
    pub lake: crate::lake::LakeArgs,
}

/// Invalid executor configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither a token nor the explicit opt-out was given.
    #[error("set --internal-token (TAVANA_INTERNAL_TOKEN) or, on an isolated network, --insecure-no-internal-auth")]
    MissingInternalToken,
    /// TLS was asked for without its files.
    #[error("TLS_ENABLED needs --tls-cert (TLS_CERT) and --tls-key (TLS_KEY)")]
    MissingTlsFiles,
    /// A numeric setting is out of range.
    #[error("{0}")]
    OutOfRange(String),
    /// Lake credentials or catalog are invalid.
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeConfigError),
}

impl ExecutorArgs {
    /// Validates the flags and builds the engine configuration.
    pub fn engine_config(&self) -> Result<EngineConfig, ConfigError> {
        if self.internal_token.as_deref().unwrap_or("").is_empty()
            && !self.insecure_no_internal_auth
        {
            return Err(ConfigError::MissingInternalToken);
        }
        if self.tls_enabled && (self.tls_cert.is_none() || self.tls_key.is_none()) {
            return Err(ConfigError::MissingTlsFiles);
        }
        if let Some(gb) = self.max_memory_gb {
            if !(gb > 0.0 && gb.is_finite()) {
                return Err(ConfigError::OutOfRange(format!(
                    "MAX_MEMORY_GB must be positive, got {gb}"
                )));
            }
        }
        if self.threads == Some(0) {
            return Err(ConfigError::OutOfRange("THREADS must be at least 1".into()));
        }
        Ok(EngineConfig {
            memory_limit_gb: self.max_memory_gb,
            threads: self.threads,
            temp_dir: self.temp_dir.clone(),
            extension_dir: self.extension_dir.clone(),
            extensions: self
                .extensions
                .iter()
                .filter(|e| !e.is_empty())
                .cloned()
                .collect(),
            allowed_paths: self
                .allowed_paths
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            allow_writes: self.allow_writes,
            max_concurrent_queries: self.max_concurrent_queries,
            startup_sql: Vec::new(),
            lake: self.lake.config()?,
            statement_log: StatementLog {
                min_duration: self.log_min_duration_ms.map(Duration::from_millis),
            },
        })
    }
}
