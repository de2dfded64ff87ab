//! Data lakes: credentials configured once per deployment, HTTP and caching settings, a
//! reloadable catalog of named tables, per-session credentials on isolated engines, and error
//! messages that name the location and the cause. The format and settings are documented in
//! `docs/lakes.md`.
//!
//! What runs where:
//! - at start-up, before the engine is locked: [`startup_statements`] (settings, the operator's
//!   secrets);
//! - after the lock-down, and again whenever the catalog file changes: the catalog's views
//!   ([`catalog::Catalog::reload`]), on an internal connection; views are part of the engine's
//!   catalog, so every connection sees them;
//! - per query of a session that brought credentials: that session's own engine
//!   ([`session`]).

pub mod catalog;
pub mod credentials;
pub mod session;

use std::path::PathBuf;
use std::time::Duration;

use tracing::warn;

pub use catalog::{Cache, CopyLoad, CopyOutcome, Format, ReloadReport, TableDef};
pub use credentials::{CredentialArgs, ParamValue, SecretSpec};

use crate::sandbox::quote_literal;

/// Invalid lake configuration (credentials or catalog).
#[derive(Debug, thiserror::Error)]
pub enum LakeConfigError {
    /// The credentials flags or file are inconsistent or unreadable.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The catalog file cannot be read or parsed.
    #[error("catalog: {0}")]
    Catalog(String),
    /// A setting is out of range.
    #[error("{0}")]
    Setting(String),
}

/// Lake flags of `tavana executor` (each with its environment twin).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LakeArgs {
    /// Deployment credentials.
    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Catalog file (TOML) naming lake tables: `[sales] orders = "delta, s3://lake/orders"`.
    #[arg(long, env = "TAVANA_CATALOG_FILE")]
    pub catalog_file: Option<PathBuf>,

    /// Seconds between checks of the catalog file for changes; 0 checks only on SIGHUP. Tables
    /// that could not be opened are retried every 30 s.
    #[arg(long, env = "TAVANA_CATALOG_POLL_SECS", default_value_t = 10)]
    pub catalog_poll_secs: u64,

    /// Timeout of one HTTP request to object storage, in seconds (DuckDB `http_timeout`).
    #[arg(long, env = "TAVANA_HTTP_TIMEOUT_SECS", default_value_t = 30)]
    pub http_timeout_secs: u64,

    /// Retries of a failed HTTP request (DuckDB `http_retries`).
    #[arg(long, env = "TAVANA_HTTP_RETRIES", default_value_t = 2)]
    pub http_retries: u64,

    /// Cache HTTP metadata (file sizes, modification times) for the life of the process. Only
    /// safe when files are never rewritten in place (fine for Delta and Iceberg data files, not
    /// for Parquet/CSV/JSON paths that are overwritten, nor for Iceberg version hints).
    #[arg(long, env = "TAVANA_HTTP_METADATA_CACHE")]
    pub http_metadata_cache: bool,

    /// Seconds a statement may spend opening lake tables (reading Delta logs, Iceberg metadata,
    /// Parquet footers) before it fails as unavailable; bounds what the HTTP settings cannot
    /// (the Delta kernel's own client retries for up to three minutes). 0: no limit.
    #[arg(long, env = "TAVANA_LAKE_OPEN_TIMEOUT_SECS", default_value_t = 60)]
    pub lake_open_timeout_secs: u64,

    /// Extra endpoints (`host:port`) session secrets may name besides those of the deployment's
    /// own secrets. Comma-separated.
    #[arg(
        long = "session-endpoint",
        env = "TAVANA_SESSION_ENDPOINTS",
        value_delimiter = ','
    )]
    pub session_endpoints: Vec<String>,

    /// Isolated engines kept for sessions with their own credentials.
    #[arg(long, env = "TAVANA_SESSION_ENGINES", default_value_t = 16)]
    pub session_engines: usize,

    /// Seconds an unused session engine is kept.
    #[arg(long, env = "TAVANA_SESSION_ENGINE_IDLE_SECS", default_value_t = 300)]
    pub session_engine_idle_secs: u64,
}

/// HTTP and caching settings applied at start-up (and visible in `duckdb_settings()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `http_timeout`, seconds.
    pub timeout_secs: u64,
    /// `http_retries`.
    pub retries: u64,
    /// `enable_http_metadata_cache`.
    pub metadata_cache: bool,
}

impl HttpSettings {
    /// `(setting, value)` pairs; those of `httpfs` only when it is loaded.
    pub fn settings(&self, httpfs_loaded: bool) -> Vec<(&'static str, String)> {
        let mut out = vec![
            // Parquet footers and the external file cache are validated against the file's
            // modification time on every open: safe for files that change.
            ("parquet_metadata_cache", "true".to_owned()),
            ("enable_external_file_cache", "true".to_owned()),
        ];
        if httpfs_loaded {
            out.extend([
                ("http_timeout", self.timeout_secs.to_string()),
                ("http_retries", self.retries.to_string()),
                ("http_retry_wait_ms", "100".to_owned()),
                ("http_keep_alive", "true".to_owned()),
                ("httpfs_connection_caching", "true".to_owned()),
                (
                    "enable_http_metadata_cache",
                    self.metadata_cache.to_string(),
                ),
            ]);
        }
        out
    }
}

/// Validated lake configuration.
#[derive(Debug, Clone, Default)]
pub struct LakeConfig {
    /// The deployment's secrets.
    pub secrets: Vec<SecretSpec>,
    /// HTTP and cache settings (none: DuckDB's defaults).
    pub http: Option<HttpSettings>,
    /// Catalog file.
    pub catalog_file: Option<PathBuf>,
    /// How often the catalog file is checked (zero: only on SIGHUP).
    pub catalog_poll: Duration,
    /// Deadline for opening lake tables in one statement.
    pub open_timeout: Option<Duration>,
    /// Endpoints session secrets may name.
    pub session_endpoints: Vec<String>,
    /// Session engines kept.
    pub session_engines: usize,
    /// How long an unused session engine is kept.
    pub session_engine_idle: Duration,
}

impl LakeArgs {
    /// Validates the flags (reads the credentials file and checks the catalog file parses).
    pub fn config(&self) -> Result<LakeConfig, LakeConfigError> {
        let secrets = self.credentials.secrets()?;
        if self.http_timeout_secs == 0 {
            return Err(LakeConfigError::Setting(
                "TAVANA_HTTP_TIMEOUT_SECS must be at least 1".into(),
            ));
        }
        if let Some(file) = &self.catalog_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                LakeConfigError::Catalog(format!("reading {}: {e}", file.display()))
            })?;
            catalog::parse_catalog(&text)
                .map_err(|e| LakeConfigError::Catalog(format!("{}: {e}", file.display())))?;
        }
        let mut session_endpoints: Vec<String> = secrets
            .iter()
            .flat_map(SecretSpec::endpoints)
            .chain(
                self.session_endpoints
                    .iter()
                    .filter(|e| !e.is_empty())
                    .map(|e| credentials::endpoint_host(e)),
            )
            .collect();
        session_endpoints.sort();
        session_endpoints.dedup();
        Ok(LakeConfig {
            secrets,
            http: Some(HttpSettings {
                timeout_secs: self.http_timeout_secs,
                retries: self.http_retries,
                metadata_cache: self.http_metadata_cache,
            }),
            catalog_file: self.catalog_file.clone(),
            catalog_poll: Duration::from_secs(self.catalog_poll_secs),
            open_timeout: (self.lake_open_timeout_secs > 0)
                .then(|| Duration::from_secs(self.lake_open_timeout_secs)),
            session_endpoints,
            session_engines: self.session_engines,
            session_engine_idle: Duration::from_secs(self.session_engine_idle_secs),
        })
    }
}

/// The lake state an engine holds: its catalog and the session engines.
pub(crate) struct LakeState {
    pub(crate) catalog: catalog::Catalog,
    pub(crate) sessions: session::SessionEngines,
}

impl LakeState {
    pub(crate) fn new(
        config: &crate::engine::EngineConfig,
        metrics: &crate::metrics::ExecutorMetrics,
    ) -> Self {
        Self {
            catalog: catalog::Catalog::new(
                config.lake.catalog_file.clone(),
                config.allowed_paths.clone(),
            )
            .with_check_before_refresh(
                !config
                    .lake
                    .http
                    .as_ref()
                    .is_some_and(|http| http.metadata_cache),
            ),
            sessions: session::SessionEngines::new(
                config.lake.session_engines,
                config.lake.session_engine_idle,
                metrics.session_engines.clone(),
                metrics.session_engines_total.clone(),
            ),
        }
    }
}

/// Keeps the catalog current: re-applies it when the file changes (checked every poll
/// interval, which also retries tables that failed) and, forced, on SIGHUP; loads the tables
/// held in memory when they are due (at once after start-up, then as they refresh). Runs until
/// the process ends; the engine is held weakly so it never keeps it alive.
pub fn watch_catalog(engine: &std::sync::Arc<crate::Engine>) {
    if !engine.has_catalog() {
        return;
    }
    let poll = engine.catalog_poll_interval();
    let weak = std::sync::Arc::downgrade(engine);
    tokio::spawn(async move {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => Some(signal),
            Err(error) => {
                warn!(%error, "cannot listen for SIGHUP; the catalog reloads by polling only");
                None
            }
        };
        let mut next_poll = poll.map(|poll| tokio::time::Instant::now() + poll);
        // The first pass only loads tables into memory: start-up already applied the file.
        let mut reload = None;
        loop {
            let Some(engine) = weak.upgrade() else {
                return;
            };
            let outcome = tokio::task::spawn_blocking(move || {
                let reloaded = reload.map(|force| engine.reload_catalog(force));
                engine.load_tables_into_memory();
                (reloaded, engine.next_memory_load())
            })
            .await;
            let next_load = match outcome {
                Ok((reloaded, next_load)) => {
                    if let Some(Err(error)) = reloaded {
                        warn!(%error, "lake catalog not reloaded; the previous tables stay")
                    }
                    next_load.map(tokio::time::Instant::from_std)
                }
                Err(error) => {
                    warn!(%error, "lake catalog reload task failed");
                    None
                }
            };
            let wake = match (next_poll, next_load) {
                (Some(poll), Some(load)) => Some(poll.min(load)),
                (one, other) => one.or(other),
            };
            reload = tokio::select! {
                _ = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = tokio::time::Instant::now();
                    match (poll, next_poll) {
                        (Some(poll), Some(at)) if at <= now => {
                            next_poll = Some(now + poll);
                            Some(false)
                        }
                        _ => None,
                    }
                }
                Some(()) = async {
                    match hangup.as_mut() {
                        Some(signal) => signal.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::info!("SIGHUP: reloading the lake catalog");
                    Some(true)
                }
            };
        }
    });
}

/// Runs blocking `work` on its own thread and waits at most `limit` for it; `None` when the
/// limit passed (the thread then finishes on its own). Without a limit, runs it here.
pub(crate) fn within<T: Send + 'static>(
    limit: Option<Duration>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let Some(limit) = limit else {
        return Some(work());
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("tavana-lake-open".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    match spawned {
        Ok(_) => rx.recv_timeout(limit).ok(),
        Err(error) => {
            warn!(%error, "could not start a thread for a bounded open");
            None
        }
    }
}

/// One start-up statement and what it is, for error messages that must not show the SQL (it
/// may hold a secret).
pub(crate) struct StartupStatement {
    pub(crate) what: String,
    pub(crate) sql: String,
}

/// Settings and secrets to run before the engine is locked: the deployment's secrets, then the
/// session's (for a session engine).
pub(crate) fn startup_statements(
    config: &LakeConfig,
    loaded_extensions: &[String],
    session: Option<&session::SessionCredentials>,
) -> Vec<StartupStatement> {
    let mut out = Vec::new();
    if let Some(http) = &config.http {
        let httpfs = loaded_extensions.iter().any(|e| e == "httpfs");
        if !httpfs {
            warn!("httpfs is not loaded: object-store reads and HTTP settings are unavailable");
        }
        for (name, value) in http.settings(httpfs) {
            out.push(StartupStatement {
                what: format!("setting {name}"),
                sql: format!("SET GLOBAL {name} = {}", quote_literal(&value)),
            });
        }
    }
    for spec in &config.secrets {
        out.push(StartupStatement {
            what: format!(
                "secret {} (type {})",
                spec.full_name(credentials::OPERATOR_PREFIX),
                spec.secret_type
            ),
            sql: spec.create_sql(credentials::OPERATOR_PREFIX),
        });
    }
    if let Some(session) = session {
        for spec in session.secrets() {
            out.push(StartupStatement {
                what: format!("session secret {} (type {})", spec.name, spec.secret_type),
                sql: spec.create_sql(session::SESSION_PREFIX),
            });
        }
    }
    out
}

/// Makes a lake error say which named table and location it concerns, and what a Delta kernel
/// message means. `tables` is the current catalog.
pub(crate) fn annotate_error(message: String, sql: &str, tables: &[TableDef]) -> String {
    let mut message = message;
    if let Some(hint) = delta_version_hint(&message) {
        message = format!("{hint}\n{message}");
    } else if message.contains("No files in log segment") {
        message = format!(
            "Not a Delta table: the location has no _delta_log/ commits (wrong path, or not written yet).\n{message}"
        );
    }
    let class = message
        .split_once(" Error:")
        .map(|(class, _)| class.trim().to_owned())
        .unwrap_or_default();
    // Syntax and name errors are about the statement, not about storage.
    if matches!(
        class.as_str(),
        "Parser" | "Catalog" | "Binder" | "Permission"
    ) {
        return message;
    }
    let (code, literals) = split_literals(sql);
    let names = |t: &TableDef| {
        let mut names = vec![t.name.to_ascii_lowercase()];
        names.extend(t.time_travel().map(|(name, _)| name.to_ascii_lowercase()));
        names
    };
    // Tables named with their schema; failing that, by bare name.
    let qualified: Vec<&TableDef> = tables
        .iter()
        .filter(|t| {
            let schema = t.schema.to_ascii_lowercase();
            names(t).iter().any(|name| {
                mentions(&code, &format!("{schema}.{name}"))
                    || mentions(&code, &format!("\"{schema}\".\"{name}\""))
            })
        })
        .collect();
    let mentioned: Vec<&TableDef> = if qualified.is_empty() {
        tables
            .iter()
            .filter(|t| names(t).iter().any(|name| mentions(&code, name)))
            .collect()
    } else {
        qualified
    };
    let mut context: Vec<String> = mentioned
        .iter()
        .take(3)
        .map(|t| format!("{} is a {}", t.qualified(), t.describe()))
        .collect();
    // A timeout says nothing about where: name the locations the statement reads.
    if message.contains("took longer than") {
        context.extend(
            literals
                .iter()
                .filter(|l| l.contains("://") || l.starts_with('/'))
                .take(3)
                .map(|l| format!("the statement reads {l}")),
        );
    }
    if context.is_empty() {
        return message;
    }
    format!("{message}\nContext: {}", context.join("; "))
}

/// Splits SQL into its code (lower case, string literals blanked) and its string literals.
fn split_literals(sql: &str) -> (String, Vec<String>) {
    let mut code = String::with_capacity(sql.len());
    let mut literals = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            code.push(c.to_ascii_lowercase());
            continue;
        }
        let mut literal = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    literal.push('\'');
                }
                Some('\'') | None => break,
                Some(other) => literal.push(other),
            }
        }
        code.push_str("''");
        literals.push(literal);
    }
    (code, literals)
}

/// Whether `sql` (lower case) contains `word` as a whole identifier.
fn mentions(sql: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    sql.match_indices(word).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// `LogSegment end version 2 not the same as the specified end version 9` → a sentence.
fn delta_version_hint(message: &str) -> Option<String> {
    let rest = message.split("LogSegment end version ").nth(1)?;
    let (latest, rest) = rest.split_once(' ')?;
    let wanted = rest
        .split("specified end version ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?;
    Some(format!(
        "Delta table has no version {wanted}: its latest version is {latest}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_applied_in_order_and_secrets_are_named() {
        let config = LakeArgs {
            credentials: CredentialArgs {
                s3_access_key_id: Some("a".into()),
                s3_secret_access_key: Some("hush".into()),
                ..Default::default()
            },
            http_timeout_secs: 5,
            http_retries: 1,
            session_endpoints: vec!["http://127.0.0.1:9/".into()],
            ..Default::default()
        }
        .config()
        .unwrap();
        let statements = startup_statements(&config, &["httpfs".into()], None);
        let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert!(sql.contains(&"SET GLOBAL http_timeout = '5'"), "{sql:?}");
        assert!(sql.contains(&"SET GLOBAL http_retries = '1'"));
        assert!(sql.contains(&"SET GLOBAL enable_http_metadata_cache = 'false'"));
        let secret = statements.last().unwrap();
        assert_eq!(secret.what, "secret tavana_s3 (type s3)");
        assert!(!secret.what.contains("hush"));
        assert_eq!(config.session_endpoints, ["127.0.0.1:9"]);
        let without_httpfs = startup_statements(&config, &[], None);
        assert!(!without_httpfs
            .iter()
            .any(|s| s.sql.contains("http_timeout")));
    }

    #[test]
    fn errors_name_the_catalog_table() {
        let tables = catalog::parse_catalog(
            "[sales]\norders = \"delta, s3://lake/orders\"\nitems = \"parquet, s3://lake/items/*.parquet\"",
        )
        .unwrap();
        let message = annotate_error(
            "IO Error: DeltaKernel GenericError (5): Generic delta kernel error: LogSegment end version 2 not the same as the specified end version 9".into(),
            "SELECT * FROM sales.orders_at_version(9)",
            &tables,
        );
        assert!(
            message.starts_with("Delta table has no version 9: its latest version is 2."),
            "{message}"
        );
        assert!(
            message.ends_with("Context: sales.orders is a delta table at s3://lake/orders"),
            "{message}"
        );
        let untouched = annotate_error(
            "Catalog Error: Table with name ordersx does not exist!".into(),
            "SELECT * FROM ordersx",
            &tables,
        );
        assert!(!untouched.contains("Context"));
        let unrelated = annotate_error(
            "IO Error: boom".into(),
            "SELECT * FROM sales.orders_archive",
            &tables,
        );
        assert!(!unrelated.contains("Context"), "{unrelated}");
        let in_a_literal = annotate_error(
            "HTTP Error: 404".into(),
            "SELECT * FROM read_parquet('s3://orders-bucket/x.parquet')",
            &tables,
        );
        assert!(!in_a_literal.contains("Context"), "{in_a_literal}");
        let bare = annotate_error(
            "IO Error: boom".into(),
            "USE sales; SELECT * FROM items",
            &tables,
        );
        assert!(
            bare.ends_with("Context: sales.items is a parquet table at s3://lake/items/*.parquet"),
            "{bare}"
        );
        let timeout = annotate_error(
            "IO Error: opening took longer than 8s".into(),
            "SELECT * FROM delta_scan('s3://hang/t')",
            &tables,
        );
        assert!(
            timeout.ends_with("Context: the statement reads s3://hang/t"),
            "{timeout}"
        );
    }
}
