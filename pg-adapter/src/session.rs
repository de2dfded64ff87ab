//! Per-connection state: the gateway session, the PostgreSQL settings, and open cursor names.
//!
//! Settings live here, never at the gateway or an executor: DuckDB has no notion of most of
//! them, and sessions must travel with queries rather than stick to a shared connection. The
//! adapter answers SET/SHOW/RESET itself, substitutes `current_setting(...)` in queries, and
//! enforces `statement_timeout` around each statement.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::backends::{Registration, State};
use crate::classify::TransactionModes;
use crate::error::QueryError;
use crate::gateway::GatewaySession;
use crate::timezone::Zone;

/// The server version reported to clients. psql and the drivers branch on it; 15 matches the
/// catalog queries the compatibility layer answers.
pub(crate) const SERVER_VERSION: &str = "15.0";
pub(crate) const SERVER_VERSION_NUM: &str = "150000";

/// DuckDB settings that govern an executor's resources and access. The adapter keeps other
/// unknown settings for the session, as PostgreSQL clients set many it has no use for; a SET of
/// one of these must fail as it does over Flight SQL, not appear to take effect.
const LOCKED_ENGINE_SETTINGS: &[&str] = &[
    "memory_limit",
    "max_memory",
    "threads",
    "worker_threads",
    "external_threads",
    "temp_directory",
    "max_temp_directory_size",
    "enable_external_access",
    "allowed_directories",
    "allowed_paths",
    "lock_configuration",
    "autoinstall_known_extensions",
    "autoload_known_extensions",
    "allow_community_extensions",
    "allow_unsigned_extensions",
    "extension_directory",
    "allow_persistent_secrets",
];

/// One setting's canonical spelling, default, and whether PostgreSQL reports changes of it
/// with ParameterStatus (GUC_REPORT).
struct Known {
    name: &'static str,
    default: &'static str,
    report: bool,
    description: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        name: "application_name",
        default: "",
        report: true,
        description: "Sets the application name.",
    },
    Known {
        name: "client_encoding",
        default: "UTF8",
        report: true,
        description: "Sets the client's character set encoding.",
    },
    Known {
        name: "DateStyle",
        default: "ISO, MDY",
        report: true,
        description: "Sets the display format for date and time values.",
    },
    Known {
        name: "default_transaction_isolation",
        default: "read committed",
        report: false,
        description: "Sets the transaction isolation level of each new transaction.",
    },
    Known {
        name: "default_transaction_read_only",
        default: "off",
        report: true,
        description: "Sets the default read-only status of new transactions.",
    },
    Known {
        name: "extra_float_digits",
        default: "1",
        report: false,
        description: "Sets the number of digits displayed for floating-point values.",
    },
    Known {
        name: "in_hot_standby",
        default: "off",
        report: true,
        description: "Shows whether hot standby is currently active.",
    },
    Known {
        name: "integer_datetimes",
        default: "on",
        report: true,
        description: "Shows whether datetimes are integer based.",
    },
    Known {
        name: "IntervalStyle",
        default: "postgres",
        report: true,
        description: "Sets the display format for interval values.",
    },
    Known {
        name: "is_superuser",
        default: "off",
        report: true,
        description: "Shows whether the current user is a superuser.",
    },
    Known {
        name: "lc_collate",
        default: "C",
        report: false,
        description: "Shows the collation order locale.",
    },
    Known {
        name: "lc_ctype",
        default: "C",
        report: false,
        description: "Shows the character classification locale.",
    },
    Known {
        name: "lc_messages",
        default: "C",
        report: false,
        description: "Sets the language in which messages are displayed.",
    },
    Known {
        name: "lc_monetary",
        default: "C",
        report: false,
        description: "Sets the locale for formatting monetary amounts.",
    },
    Known {
        name: "lc_numeric",
        default: "C",
        report: false,
        description: "Sets the locale for formatting numbers.",
    },
    Known {
        name: "lc_time",
        default: "C",
        report: false,
        description: "Sets the locale for formatting date and time values.",
    },
    Known {
        name: "lock_timeout",
        default: "0",
        report: false,
        description: "Sets the maximum allowed duration of any wait for a lock.",
    },
    Known {
        name: "idle_in_transaction_session_timeout",
        default: "0",
        report: false,
        description: "Sets the maximum allowed idle time between queries, when in a transaction.",
    },
    Known {
        name: "idle_session_timeout",
        default: "0",
        report: false,
        description:
            "Sets the maximum allowed idle time between queries, when not in a transaction.",
    },
    Known {
        name: "max_identifier_length",
        default: "63",
        report: false,
        description: "Shows the maximum identifier length.",
    },
    Known {
        name: "max_index_keys",
        default: "32",
        report: false,
        description: "Shows the maximum number of index keys.",
    },
    Known {
        name: "search_path",
        default: "\"$user\", public",
        report: false,
        description: "Sets the schema search order for names that are not schema-qualified.",
    },
    Known {
        name: "server_encoding",
        default: "UTF8",
        report: true,
        description: "Shows the server (database) character set encoding.",
    },
    Known {
        name: "server_version",
        default: SERVER_VERSION,
        report: true,
        description: "Shows the server version.",
    },
    Known {
        name: "server_version_num",
        default: SERVER_VERSION_NUM,
        report: false,
        description: "Shows the server version as an integer.",
    },
    Known {
        name: "session_authorization",
        default: "",
        report: true,
        description: "Sets the session user name.",
    },
    Known {
        name: "standard_conforming_strings",
        default: "on",
        report: true,
        description: "Causes '...' strings to treat backslashes literally.",
    },
    Known {
        name: "statement_timeout",
        default: "0",
        report: false,
        description: "Sets the maximum allowed duration of any statement.",
    },
    Known {
        name: "TimeZone",
        default: "UTC",
        report: true,
        description: "Sets the time zone for displaying and interpreting time stamps.",
    },
    Known {
        name: "transaction_isolation",
        default: "read committed",
        report: false,
        description: "Sets the current transaction's isolation level.",
    },
    Known {
        name: "transaction_read_only",
        default: "off",
        report: false,
        description: "Sets the current transaction's read-only status.",
    },
    Known {
        name: "bytea_output",
        default: "hex",
        report: false,
        description: "Sets the output format for bytea.",
    },
    Known {
        name: "datestyle",
        default: "ISO, MDY",
        report: false,
        description: "",
    },
];

fn known(name: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

/// A setting's name as PostgreSQL spells it (`SHOW timezone` is a column named `TimeZone`).
pub(crate) fn setting_display_name(name: &str) -> &str {
    known(name).map_or(name, |k| k.name)
}

/// The session's PostgreSQL settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Lower-cased name → value, for everything set away from its default.
    values: BTreeMap<String, String>,
    /// Values from the startup packet (RESET returns to these).
    startup: BTreeMap<String, String>,
    /// The session's user.
    user: String,
    /// The database named in the startup packet (PostgreSQL's default: the user name).
    database: String,
    /// `TimeZone`, resolved (timestamptz output is shown in it).
    zone: Zone,
}

impl Settings {
    pub(crate) fn new(user: &str, startup: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut base = BTreeMap::new();
        base.insert("session_authorization".to_owned(), user.to_owned());
        let mut database = None;
        for (k, v) in startup {
            let k = k.to_lowercase();
            if k == "database" && !v.is_empty() {
                database = Some(v);
                continue;
            }
            if matches!(k.as_str(), "user" | "database" | "options" | "replication") {
                continue;
            }
            base.insert(k, v);
        }
        // The adapter only speaks UTF-8.
        base.insert("client_encoding".to_owned(), "UTF8".to_owned());
        // A zone the client asks for at start-up (pgJDBC sends the JVM's) that is not known
        // here falls back to UTC rather than failing the connection.
        let zone = match base.get("timezone").map(|v| Zone::parse(v)) {
            Some(Some(zone)) => zone,
            Some(None) => {
                tracing::warn!(zone = %base["timezone"], "unknown TimeZone at start-up, using UTC");
                base.insert("timezone".to_owned(), "UTC".to_owned());
                Zone::UTC
            }
            None => Zone::UTC,
        };
        Self {
            values: base.clone(),
            startup: base,
            user: user.to_owned(),
            database: database.unwrap_or_else(|| user.to_owned()),
            zone,
        }
    }

    /// The zone timestamptz values are shown in.
    pub(crate) fn zone(&self) -> Zone {
        self.zone.clone()
    }

    /// The session's user.
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// The database the client connected to (what `current_database()` answers).
    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    /// Current value of `name` (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        self.values
            .get(&lower)
            .cloned()
            .or_else(|| known(&lower).map(|k| k.default.to_owned()))
    }

    /// `SET name = value` (`None`: DEFAULT). Returns the ParameterStatus to send, if any.
    pub(crate) fn set(
        &mut self,
        name: &str,
        value: Option<String>,
    ) -> Result<Option<(String, String)>, QueryError> {
        let lower = name.to_lowercase();
        if LOCKED_ENGINE_SETTINGS.contains(&lower.as_str()) {
            return Err(QueryError::LockedSetting(lower));
        }
        let value = match value {
            None => {
                self.values.remove(&lower);
                if let Some(v) = self.startup.get(&lower) {
                    self.values.insert(lower.clone(), v.clone());
                }
                if lower == "timezone" {
                    self.zone = self
                        .get("timezone")
                        .and_then(|v| Zone::parse(&v))
                        .unwrap_or(Zone::UTC);
                }
                return Ok(self.report(&lower));
            }
            Some(v) => v,
        };
        let value = match lower.as_str() {
            "client_encoding" => {
                let norm = value.to_uppercase().replace(['-', '_'], "");
                if norm != "UTF8" && norm != "UNICODE" {
                    return Err(QueryError::InvalidSettingValue {
                        name: "client_encoding".into(),
                        value,
                    });
                }
                "UTF8".to_owned()
            }
            "statement_timeout"
            | "lock_timeout"
            | "idle_in_transaction_session_timeout"
            | "idle_session_timeout" => {
                let parsed =
                    parse_duration_ms(&value).ok_or_else(|| QueryError::InvalidSettingValue {
                        name: lower.clone(),
                        value: value.clone(),
                    })?;
                format_duration_ms(parsed)
            }
            "datestyle" => {
                let upper = value.to_uppercase();
                if upper.contains("ISO") || upper.is_empty() {
                    "ISO, MDY".to_owned()
                } else {
                    return Err(QueryError::Unsupported(format!(
                        "DateStyle \"{value}\" (only ISO is supported)"
                    )));
                }
            }
            "transaction_isolation" | "default_transaction_isolation" => isolation_level(&value)
                .ok_or_else(|| QueryError::InvalidSettingValue {
                    name: lower.clone(),
                    value: value.clone(),
                })?
                .to_owned(),
            "transaction_read_only" | "default_transaction_read_only" => {
                on_off(bool_setting(&lower, &value)?).to_owned()
            }
            "timezone" => {
                let value = value.trim().trim_matches('\'').to_owned();
                self.zone = Zone::parse(&value).ok_or_else(|| QueryError::InvalidSettingValue {
                    name: "TimeZone".into(),
                    value: value.clone(),
                })?;
                value
            }
            _ => value,
        };
        self.values.insert(lower.clone(), value);
        Ok(self.report(&lower))
    }

    /// The next transaction's modes: `transaction_isolation` and `transaction_read_only` from
    /// their `default_` settings, as a transaction starts with them.
    pub(crate) fn reset_transaction_modes(&mut self) {
        for name in ["transaction_isolation", "transaction_read_only"] {
            let default = self.get(&format!("default_{name}")).unwrap_or_default();
            self.values.insert(name.to_owned(), default);
        }
    }

    /// `RESET name` / `RESET ALL`.
    pub(crate) fn reset(&mut self, name: Option<&str>) -> Vec<(String, String)> {
        match name {
            Some(n) => {
                let _ = self.set(n, None);
                self.report(&n.to_lowercase()).into_iter().collect()
            }
            None => {
                self.values = self.startup.clone();
                self.zone = self
                    .get("timezone")
                    .and_then(|v| Zone::parse(&v))
                    .unwrap_or(Zone::UTC);
                KNOWN
                    .iter()
                    .filter(|k| k.report)
                    .filter_map(|k| self.report(&k.name.to_lowercase()))
                    .collect()
            }
        }
    }

    fn report(&self, lower: &str) -> Option<(String, String)> {
        let k = known(lower).filter(|k| k.report)?;
        Some((k.name.to_owned(), self.get(lower).unwrap_or_default()))
    }

    /// Whether `name` is a setting SHOW can answer.
    pub(crate) fn is_known(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        known(&lower).is_some() || self.values.contains_key(&lower)
    }

    /// Every setting for `SHOW ALL`: (name, setting, description).
    pub(crate) fn all(&self) -> Vec<(String, String, String)> {
        let mut names: BTreeSet<String> = KNOWN
            .iter()
            .filter(|k| k.name != "datestyle")
            .map(|k| k.name.to_owned())
            .collect();
        for k in self.values.keys() {
            if known(k).is_none() {
                names.insert(k.clone());
            }
        }
        names
            .into_iter()
            .map(|n| {
                let desc = known(&n)
                    .map(|k| k.description.to_owned())
                    .unwrap_or_default();
                (n.clone(), self.get(&n).unwrap_or_default(), desc)
            })
            .collect()
    }

    /// The ParameterStatus set sent at start-up.
    pub(crate) fn startup_report(&self) -> Vec<(String, String)> {
        KNOWN
            .iter()
            .filter(|k| k.report)
            .map(|k| (k.name.to_owned(), self.get(k.name).unwrap_or_default()))
            .collect()
    }

    /// `statement_timeout` as a duration (`None` when disabled).
    pub(crate) fn statement_timeout(&self) -> Option<Duration> {
        self.timeout("statement_timeout")
    }

    /// A timeout setting (milliseconds, or with a unit) as a duration; `None` when 0 (off).
    pub(crate) fn timeout(&self, name: &str) -> Option<Duration> {
        let ms = parse_duration_ms(&self.get(name)?)?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }
}

/// A millisecond time setting as PostgreSQL shows it: in the largest unit that divides it
/// (`1500ms`, `2s`, `1min`, `1h`, `1d`; `0` for off).
pub(crate) fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0".to_owned();
    }
    for (unit, factor) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1_000),
    ] {
        if ms.is_multiple_of(factor) {
            return format!("{}{unit}", ms / factor);
        }
    }
    format!("{ms}ms")
}

/// Parses PostgreSQL time settings: plain numbers are milliseconds; units ms, s, min, h, d.
pub(crate) fn parse_duration_ms(value: &str) -> Option<u64> {
    let v = value.trim().trim_matches('\'').trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let num: f64 = num.parse().ok()?;
    let factor = match unit.trim().to_lowercase().as_str() {
        "" | "ms" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000.0,
        "min" | "mins" | "minute" | "minutes" => 60_000.0,
        "h" | "hour" | "hours" => 3_600_000.0,
        "d" | "day" | "days" => 86_400_000.0,
        "us" => 0.001,
        _ => return None,
    };
    Some((num * factor).round() as u64)
}

/// An isolation level as `transaction_isolation` shows it, from a SET's value.
fn isolation_level(value: &str) -> Option<&'static str> {
    let words: Vec<String> = value
        .trim_matches('\'')
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    Some(match words.join(" ").as_str() {
        "serializable" => "serializable",
        "repeatable read" => "repeatable read",
        "read committed" => "read committed",
        "read uncommitted" => "read uncommitted",
        _ => return None,
    })
}

/// A boolean setting's value as PostgreSQL reads it (`on`, `true`, `yes`, `1` and their
/// opposites, in any case, or a unique prefix of them).
fn parse_bool(value: &str) -> Option<bool> {
    let value = value.trim_matches('\'').trim().to_ascii_lowercase();
    match value.as_str() {
        "1" => return Some(true),
        "0" => return Some(false),
        // `o` alone is either.
        "" | "o" => return None,
        _ => {}
    }
    let is = |word: &str| word.starts_with(value.as_str());
    if is("true") || is("yes") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// A boolean setting's value, or PostgreSQL's error for one that is not a Boolean.
fn bool_setting(name: &str, value: &str) -> Result<bool, QueryError> {
    parse_bool(value).ok_or_else(|| QueryError::NotABoolean(name.to_owned()))
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// Everything one PostgreSQL connection owns.
pub(crate) struct Session {
    pub(crate) user: String,
    pub(crate) gateway: GatewaySession,
    pub(crate) settings: Mutex<Settings>,
    /// The open transaction block's savepoints, oldest first (a name may repeat).
    savepoints: Mutex<Vec<String>>,
    /// Whether the open transaction has run a query (PostgreSQL's first snapshot): its
    /// isolation level is fixed from then on.
    queried: AtomicBool,
    /// Names of open cursors (their portals live in pgwire's portal store).
    pub(crate) cursors: Mutex<BTreeSet<String>>,
    /// Set once the client has closed its connection (see `disconnect.rs`).
    pub(crate) gone: Option<tokio::sync::watch::Receiver<bool>>,
    /// The schema last given to the gateway session from `search_path` (`None`: the default).
    schema: Mutex<Option<String>>,
    /// This connection in the adapter's list of connections (`pg_stat_activity`), set once
    /// start-up has given it its pid.
    pub(crate) backend: std::sync::OnceLock<Registration>,
    /// Closes the connection when it idles longer than `idle_in_transaction_session_timeout`
    /// or `idle_session_timeout` (armed when a statement ends, disarmed when the next starts).
    idle_timer: Mutex<Option<tokio::task::AbortHandle>>,
    /// Connections closed by those timeouts.
    idle_timeouts: prometheus::IntCounterVec,
}

impl Drop for Session {
    /// The PostgreSQL connection is gone: close its gateway session too.
    fn drop(&mut self) {
        self.disarm_idle_timer();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let gateway = self.gateway.clone();
        runtime.spawn(async move {
            if let Err(status) = gateway.close_session().await {
                tracing::debug!(error = %status, "closing the gateway session failed");
            }
        });
    }
}

impl Session {
    pub(crate) fn new(
        user: String,
        gateway: GatewaySession,
        settings: Settings,
        gone: Option<tokio::sync::watch::Receiver<bool>>,
        idle_timeouts: prometheus::IntCounterVec,
    ) -> Self {
        Self {
            savepoints: Mutex::new(Vec::new()),
            queried: AtomicBool::new(false),
            idle_timer: Mutex::new(None),
            idle_timeouts,
            gone,
            backend: std::sync::OnceLock::new(),
            schema: Mutex::new(None),
            user,
            gateway,
            settings: Mutex::new(settings),
            cursors: Mutex::new(BTreeSet::new()),
        }
    }

    pub(crate) fn settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The open transaction block's savepoints, oldest first.
    pub(crate) fn savepoints(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.savepoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the savepoints made after the latest one named `name`, and that one too unless
    /// `keep`; `false` (nothing dropped) when the block has no savepoint of that name.
    pub(crate) fn drop_savepoints_after(&self, name: &str, keep: bool) -> bool {
        let mut savepoints = self.savepoints();
        let Some(at) = savepoints.iter().rposition(|s| s == name) else {
            return false;
        };
        savepoints.truncate(if keep { at + 1 } else { at });
        true
    }

    /// Notes that the open transaction ran a query (a statement that reads data).
    pub(crate) fn queried(&self) {
        self.queried.store(true, Ordering::Relaxed);
    }

    /// Gives the open transaction `modes` (SET TRANSACTION, BEGIN's modes, `SET
    /// transaction_isolation`), with PostgreSQL's rules: the isolation level changes only before
    /// the transaction's first query and outside a savepoint, and read-write mode comes back
    /// only before its first query and outside a savepoint (25001 otherwise).
    pub(crate) fn set_transaction_modes(&self, modes: &TransactionModes) -> Result<(), QueryError> {
        let queried = self.queried.load(Ordering::Relaxed);
        let in_savepoint = !self.savepoints().is_empty();
        let mut settings = self.settings();
        if let Some(level) = modes.isolation {
            if settings.get("transaction_isolation").as_deref() != Some(level) {
                if queried {
                    return Err(QueryError::ActiveTransaction(
                        "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                    ));
                }
                if in_savepoint {
                    return Err(QueryError::ActiveTransaction(
                        "SET TRANSACTION ISOLATION LEVEL must not be called in a subtransaction",
                    ));
                }
            }
        }
        let read_only = settings.get("transaction_read_only").as_deref() == Some("on");
        if modes.read_only == Some(false) && read_only {
            if in_savepoint {
                return Err(QueryError::ActiveTransaction(
                    "cannot set transaction read-write mode inside a read-only transaction",
                ));
            }
            if queried {
                return Err(QueryError::ActiveTransaction(
                    "transaction read-write mode must be set before any query",
                ));
            }
        }
        if let Some(level) = modes.isolation {
            settings.set("transaction_isolation", Some(level.to_owned()))?;
        }
        if let Some(on) = modes.read_only {
            settings.set("transaction_read_only", Some(on_off(on).to_owned()))?;
        }
        Ok(())
    }

    /// `SET transaction_isolation` / `SET transaction_read_only` (`None`: DEFAULT), checked as
    /// SET TRANSACTION is.
    pub(crate) fn set_transaction_setting(
        &self,
        name: &str,
        value: Option<&str>,
    ) -> Result<(), QueryError> {
        let value = match value {
            Some(value) => value.to_owned(),
            None => self
                .settings()
                .get(&format!("default_{name}"))
                .unwrap_or_default(),
        };
        let invalid = || QueryError::InvalidSettingValue {
            name: name.to_owned(),
            value: value.clone(),
        };
        let modes = if name == "transaction_isolation" {
            TransactionModes {
                isolation: Some(isolation_level(&value).ok_or_else(invalid)?),
                read_only: None,
            }
        } else {
            TransactionModes {
                isolation: None,
                read_only: Some(bool_setting(name, &value)?),
            }
        };
        self.set_transaction_modes(&modes)
    }

    /// SET SESSION CHARACTERISTICS AS TRANSACTION: the modes of later transactions.
    pub(crate) fn set_default_transaction_modes(
        &self,
        modes: &TransactionModes,
    ) -> Result<(), QueryError> {
        let mut settings = self.settings();
        if let Some(level) = modes.isolation {
            settings.set("default_transaction_isolation", Some(level.to_owned()))?;
        }
        if let Some(on) = modes.read_only {
            settings.set("default_transaction_read_only", Some(on_off(on).to_owned()))?;
        }
        Ok(())
    }

    /// The schema the gateway session resolves unqualified names in (see
    /// `handler::apply_search_path`).
    pub(crate) fn schema(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.schema
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks a statement as running, for `pg_stat_activity`.
    pub(crate) fn statement_started(&self, sql: &str) {
        self.disarm_idle_timer();
        if let Some(backend) = self.backend.get() {
            backend.begin(sql);
        }
    }

    /// Marks the statement as ended, leaving the connection in `state`, and arms the idle
    /// timeout that state has, if any.
    pub(crate) fn statement_ended(&self, state: State) {
        if state == State::Idle {
            // The statement's transaction (its own, or the block it ended) is over: the next
            // starts with the default modes, no query run and no savepoint.
            self.settings().reset_transaction_modes();
            self.queried.store(false, Ordering::Relaxed);
            self.savepoints().clear();
        }
        if let Some(backend) = self.backend.get() {
            let app = self.settings().get("application_name").unwrap_or_default();
            backend.finish(state, &app);
        }
        self.arm_idle_timer(state);
    }

    fn arm_idle_timer(&self, state: State) {
        let setting = match state {
            State::Active => return,
            State::Idle => "idle_session_timeout",
            State::IdleInTransaction | State::IdleInFailedTransaction => {
                "idle_in_transaction_session_timeout"
            }
        };
        let Some(timeout) = self.settings().timeout(setting) else {
            return;
        };
        let Some(closer) = self.backend.get().and_then(|b| b.closer()) else {
            return;
        };
        let (code, message) = if setting == "idle_session_timeout" {
            (
                "57P05",
                "terminating connection due to idle-session timeout",
            )
        } else {
            (
                "25P03",
                "terminating connection due to idle-in-transaction timeout",
            )
        };
        let user = self.user.clone();
        let counter = self.idle_timeouts.with_label_values(&[setting]);
        let timer = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            // The connection is closed, ending its transaction and its cursors' streams.
            tracing::info!(%user, setting, timeout_ms = timeout.as_millis() as u64, "closing an idle connection");
            counter.inc();
            closer.close(code, message);
        });
        if let Some(previous) = self
            .idle_timer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .replace(timer.abort_handle())
        {
            previous.abort();
        }
    }

    fn disarm_idle_timer(&self) {
        if let Some(timer) = self
            .idle_timer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            timer.abort();
        }
    }

    pub(crate) fn cursor_names(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.cursors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_modes_take_postgresql_values_and_start_from_the_defaults() {
        let mut s = Settings::new("alice", []);
        for (given, shown) in [
            ("'Repeatable  Read'", "repeatable read"),
            ("SERIALIZABLE", "serializable"),
        ] {
            s.set("default_transaction_isolation", Some(given.into()))
                .unwrap();
            assert_eq!(
                s.get("default_transaction_isolation").as_deref(),
                Some(shown)
            );
        }
        assert!(s
            .set("transaction_isolation", Some("snapshot".into()))
            .is_err());
        for (given, shown) in [("yes", "on"), ("OF", "off"), ("1", "on"), ("f", "off")] {
            s.set("default_transaction_read_only", Some(given.into()))
                .unwrap();
            assert_eq!(
                s.get("default_transaction_read_only").as_deref(),
                Some(shown),
                "{given}"
            );
        }
        assert!(s.set("transaction_read_only", Some("o".into())).is_err());
        let error = s
            .set("default_transaction_read_only", Some("'maybe'".into()))
            .unwrap_err();
        assert_eq!(error.sqlstate(), "22023");
        assert_eq!(
            error.to_string(),
            "parameter \"default_transaction_read_only\" requires a Boolean value"
        );
        assert_eq!(
            s.get("transaction_isolation").as_deref(),
            Some("read committed")
        );
        s.reset_transaction_modes();
        assert_eq!(
            s.get("transaction_isolation").as_deref(),
            Some("serializable")
        );
        assert_eq!(s.get("transaction_read_only").as_deref(), Some("off"));
    }

    #[test]
    fn set_show_reset() {
        let mut s = Settings::new(
            "alice",
            [("application_name".to_owned(), "psql".to_owned())],
        );
        assert_eq!(s.get("application_name").as_deref(), Some("psql"));
        assert_eq!(s.get("TimeZone").as_deref(), Some("UTC"));
        assert_eq!(s.get("session_authorization").as_deref(), Some("alice"));
        assert_eq!(
            s.set("application_name", Some("x".into())).unwrap(),
            Some(("application_name".into(), "x".into()))
        );
        assert_eq!(s.set("extra_float_digits", Some("3".into())).unwrap(), None);
        assert_eq!(s.get("EXTRA_FLOAT_DIGITS").as_deref(), Some("3"));
        for (given, shown) in [
            ("1500", "1500ms"),
            ("2000", "2s"),
            ("'60s'", "1min"),
            ("90s", "90s"),
            ("3600000", "1h"),
            ("1d", "1d"),
            ("0", "0"),
            ("500ms", "500ms"),
        ] {
            s.set("statement_timeout", Some(given.into())).unwrap();
            assert_eq!(
                s.get("statement_timeout").as_deref(),
                Some(shown),
                "{given}"
            );
        }
        s.set("statement_timeout", Some("1.5s".into())).unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_millis(1500)));
        s.set("statement_timeout", Some("0".into())).unwrap();
        assert_eq!(s.statement_timeout(), None);
        assert!(s.set("client_encoding", Some("LATIN1".into())).is_err());
        assert!(s.set("statement_timeout", Some("soon".into())).is_err());
        assert!(matches!(
            s.set("Memory_Limit", Some("100GB".into())),
            Err(QueryError::LockedSetting(name)) if name == "memory_limit"
        ));
        assert!(!s.is_known("memory_limit"));
        s.reset(None);
        assert_eq!(s.get("application_name").as_deref(), Some("psql"));
        assert_eq!(s.get("extra_float_digits").as_deref(), Some("1"));
        assert!(s.is_known("search_path"));
        assert!(!s.is_known("no_such_thing"));
        assert!(s
            .startup_report()
            .iter()
            .any(|(k, v)| k == "server_version" && v == SERVER_VERSION));
    }

    #[test]
    fn parses_durations() {
        for (input, ms) in [
            ("100", 100),
            ("5s", 5000),
            ("'2min'", 120_000),
            ("1h", 3_600_000),
            ("250ms", 250),
        ] {
            assert_eq!(parse_duration_ms(input), Some(ms), "{input}");
        }
        assert_eq!(parse_duration_ms("x"), None);
    }
}
