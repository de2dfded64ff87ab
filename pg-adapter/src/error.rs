//! Errors: what can fail in the adapter, and the one mapping from a failure to a SQLSTATE.

use pgwire::error::{ErrorInfo, PgWireError, SEVERITY_ERROR};
use tonic::{Code, Status};

use crate::params::ParamError;

/// Failures starting or running the adapter (returned by [`crate::serve`]).
#[derive(Debug, thiserror::Error)]
pub enum PgAdapterError {
    /// The configured user list could not be parsed.
    #[error("invalid user list: {0}")]
    Users(#[from] tavana_proto::UsersError),
    /// TLS was requested but its certificate or key could not be loaded.
    #[error("TLS configuration: {0}")]
    TlsConfig(String),
    /// The gateway address or its TLS settings are invalid.
    #[error("gateway address {addr:?}: {reason}")]
    GatewayAddress {
        /// The configured address.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Registering metrics failed (a name registered twice in the given registry).
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Why one statement failed. Every variant maps to a SQLSTATE in [`QueryError::sqlstate`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueryError {
    /// The gateway (or the executor behind it) refused or failed the call.
    #[error("{}", .0.message())]
    Gateway(Status),
    /// A CancelRequest arrived for this connection.
    #[error("canceling statement due to user request")]
    Cancelled,
    /// An error already in PostgreSQL's terms (a row stream's, reported again by `FETCH`).
    #[error("{}", .0.message)]
    Reported(Box<ErrorInfo>),
    /// The server ends this connection (`pg_terminate_backend`, an idle timeout): SQLSTATE and
    /// message of the reason.
    #[error("{message}")]
    Terminated {
        code: &'static str,
        message: &'static str,
    },
    /// `pg_cancel_backend` / `pg_terminate_backend` of another user's connection.
    #[error("{0}")]
    NotPermitted(String),
    /// The client closed its connection while the statement ran.
    #[error("the client closed the connection")]
    ClientGone,
    /// `statement_timeout` elapsed.
    #[error("canceling statement due to statement timeout")]
    TimedOut,
    /// A statement form the adapter does not support.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A session statement (SET, FETCH, DECLARE...) that does not parse.
    #[error("{0}")]
    Syntax(String),
    /// FETCH/MOVE/CLOSE of a cursor that does not exist.
    #[error("cursor \"{0}\" does not exist")]
    UndefinedCursor(String),
    /// DECLARE of a cursor name already in use.
    #[error("cursor \"{0}\" already exists")]
    DuplicateCursor(String),
    /// SHOW or RESET of a setting nobody knows.
    #[error("unrecognized configuration parameter \"{0}\"")]
    UndefinedSetting(String),
    /// SET of an engine setting only the executor's operator may change.
    #[error("parameter \"{0}\" cannot be changed: the executors' configuration is set by their operator and locked")]
    LockedSetting(String),
    /// SET with a value the setting cannot take.
    #[error("invalid value for parameter \"{name}\": \"{value}\"")]
    InvalidSettingValue { name: String, value: String },
    /// SET of a boolean setting with a value that is not one (PostgreSQL's wording).
    #[error("parameter \"{0}\" requires a Boolean value")]
    NotABoolean(String),
    /// A Bind parameter could not be decoded.
    #[error(transparent)]
    Parameter(#[from] ParamError),
    /// RELEASE or ROLLBACK TO of a savepoint the transaction does not have.
    #[error("savepoint \"{0}\" does not exist")]
    UndefinedSavepoint(String),
    /// SAVEPOINT, RELEASE or ROLLBACK TO outside a transaction block (the statement's name).
    #[error("{0} can only be used in transaction blocks")]
    NoTransactionBlock(&'static str),
    /// A transaction mode the open transaction can no longer take (SET TRANSACTION after its
    /// first query).
    #[error("{0}")]
    ActiveTransaction(&'static str),
    /// A statement other than ROLLBACK/COMMIT inside a failed transaction block.
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    InFailedTransaction,
    /// A result value could not be encoded for the client.
    #[error("could not encode result: {0}")]
    Encoding(String),
}

impl QueryError {
    /// The SQLSTATE sent to the client.
    pub(crate) fn sqlstate(&self) -> &str {
        match self {
            QueryError::Reported(info) => &info.code,
            QueryError::Gateway(status) => status_sqlstate(status),
            QueryError::Cancelled | QueryError::TimedOut => "57014",
            QueryError::Terminated { code, .. } => code,
            QueryError::NotPermitted(_) => "42501",
            QueryError::ClientGone => "08006",
            QueryError::Unsupported(_) => "0A000",
            QueryError::Syntax(_) => "42601",
            QueryError::UndefinedCursor(_) => "34000",
            QueryError::DuplicateCursor(_) => "42P03",
            QueryError::UndefinedSetting(_) => "42704",
            QueryError::LockedSetting(_) => "55P02",
            QueryError::InvalidSettingValue { .. } | QueryError::NotABoolean(_) => "22023",
            QueryError::Parameter(ParamError::InvalidText { .. }) => "22P02",
            QueryError::Parameter(ParamError::InvalidBinary { .. }) => "22P03",
            QueryError::Parameter(ParamError::Count { .. }) => "08P01",
            QueryError::InFailedTransaction => "25P02",
            QueryError::UndefinedSavepoint(_) => "3B001",
            QueryError::NoTransactionBlock(_) => "25P01",
            QueryError::ActiveTransaction(_) => "25001",
            QueryError::Encoding(_) => "XX000",
        }
    }

    /// Whether the statement may succeed if simply retried (overload, executor restarts).
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, QueryError::Gateway(s) if matches!(s.code(), Code::ResourceExhausted | Code::Unavailable | Code::Aborted))
    }

    pub(crate) fn into_error_info(self) -> ErrorInfo {
        if let QueryError::Reported(info) = self {
            return *info;
        }
        let code = self.sqlstate().to_owned();
        let retryable = self.is_retryable();
        let message = match &self {
            QueryError::Gateway(status) => gateway_message(status),
            other => other.to_string(),
        };
        let severity = match self {
            QueryError::Terminated { .. } => "FATAL",
            _ => SEVERITY_ERROR,
        };
        let mut info = ErrorInfo::new(severity.to_owned(), code, message);
        if retryable {
            info.hint = Some("The service is busy or restarting; retry the statement.".to_owned());
        }
        info
    }
}

impl From<QueryError> for PgWireError {
    fn from(e: QueryError) -> Self {
        PgWireError::UserError(Box::new(e.into_error_info()))
    }
}

/// The message shown to the user: DuckDB's message as the gateway relayed it, or a
/// description of the transport failure.
fn gateway_message(status: &Status) -> String {
    let unwrapped = unwrap_duckdb_json(status.message());
    let message = unwrapped.trim();
    if message.is_empty() {
        format!("gateway call failed: {}", status.code().description())
    } else {
        message.to_owned()
    }
}

/// SQLSTATE for a gateway status: DuckDB's error class (the message prefix) where the status
/// carries one, otherwise the gRPC code. Exhaustive over `tonic::Code`.
pub(crate) fn status_sqlstate(status: &Status) -> &'static str {
    if let Some(state) = duckdb_sqlstate(&unwrap_duckdb_json(status.message())) {
        return state;
    }
    match status.code() {
        Code::Cancelled | Code::DeadlineExceeded => "57014",
        Code::InvalidArgument => "42000",
        Code::NotFound => "42P01",
        Code::AlreadyExists => "42P07",
        Code::PermissionDenied => "42501",
        Code::Unauthenticated => "28000",
        Code::ResourceExhausted => "53300",
        Code::FailedPrecondition => "55000",
        Code::Aborted => "40001",
        Code::OutOfRange => "22003",
        Code::Unimplemented => "0A000",
        Code::Unavailable => "57P03",
        Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => "XX000",
    }
}

/// DuckDB sometimes reports errors as JSON (`{"exception_type":"Binder","exception_message":..}`);
/// turn that into its usual `<Class> Error: <message>` form.
fn unwrap_duckdb_json(message: &str) -> String {
    let trimmed = message.trim();
    if trimmed.starts_with("{\"exception_type\"") {
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<serde_json::Value>(trimmed)
        {
            let class = map
                .get("exception_type")
                .and_then(|v| v.as_str())
                .unwrap_or("Unknown");
            let text = map
                .get("exception_message")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            return format!("{class} Error: {text}");
        }
    }
    message.to_owned()
}

/// DuckDB error classes (`<Class> Error: ...`) → SQLSTATE.
fn duckdb_sqlstate(message: &str) -> Option<&'static str> {
    let message = message.trim_start();
    let (class, rest) = message.split_once(" Error:")?;
    let rest = rest.trim_start();
    Some(match class {
        "Parser" => "42601",
        "Catalog" => {
            if rest.starts_with("Table with name")
                || rest.starts_with("Table Function with name")
                || rest.starts_with("View with name")
            {
                if rest.contains("already exists") {
                    "42P07"
                } else {
                    "42P01"
                }
            } else if rest.starts_with("Scalar Function with name")
                || rest.starts_with("Aggregate Function with name")
                || rest.starts_with("Macro Function")
            {
                "42883"
            } else if rest.starts_with("Schema with name") {
                "3F000"
            } else if rest.starts_with("Type with name")
                || rest.contains("unrecognized configuration parameter")
            {
                "42704"
            } else if rest.contains("already exists") {
                "42710"
            } else {
                "42P01"
            }
        }
        "Binder" => {
            if rest.starts_with("Referenced column")
                || rest.contains("column") && rest.contains("not found")
            {
                "42703"
            } else if rest.starts_with("No function matches")
                || rest.contains("No function matches")
            {
                "42883"
            } else if rest.contains("must appear in the GROUP BY clause") {
                "42803"
            } else if rest.contains("Referenced table") {
                "42P01"
            } else if rest.starts_with("Ambiguous reference to column") {
                "42702"
            } else if rest.contains("Could not choose a best candidate function") {
                "42725"
            } else if rest.to_ascii_lowercase().contains("ambiguous") {
                "42702"
            } else {
                "42000"
            }
        }
        "Conversion" | "Invalid Input" => {
            if rest.starts_with("More than one row returned by a subquery") {
                "21000"
            } else if rest.starts_with("date field value out of range")
                || rest.starts_with("time field value out of range")
                || rest.starts_with("timestamp field value out of range")
            {
                "22008"
            } else if rest.starts_with("invalid date field format")
                || rest.starts_with("invalid time field format")
                || rest.starts_with("invalid timestamp field format")
            {
                "22007"
            } else if rest.contains("out of range")
                || rest.contains("Overflow")
                || rest.contains("overflow")
            {
                "22003"
            } else {
                "22P02"
            }
        }
        "Out of Range" => {
            if rest.contains("square root of a negative number") {
                "2201F"
            } else if rest.contains("logarithm of") {
                "2201E"
            } else {
                "22003"
            }
        }
        "Division By Zero" | "Divide by zero" => "22012",
        "Constraint" => {
            if rest.contains("Duplicate key") || rest.contains("unique") {
                "23505"
            } else if rest.contains("NOT NULL") {
                "23502"
            } else {
                "23000"
            }
        }
        "Permission" | "Security" => "42501",
        "Interrupt" => "57014",
        "Not implemented" => "0A000",
        "IO" | "HTTP" => "58030",
        "Out of Memory" => "53200",
        "Transaction" => "25000",
        "Dependency" => "2BP01",
        "Sequence" => "2200H",
        "Serialization" => "40001",
        "Syntax" => "42601",
        "Invalid Configuration" | "Settings" => "22023",
        "INTERNAL" | "Fatal" | "Invalid" => "XX000",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_gateway_statuses_to_sqlstates() {
        let cases = [
            (Status::invalid_argument("Parser Error: syntax error at or near \"x\""), "42601"),
            (Status::not_found("Catalog Error: Table with name foo does not exist!"), "42P01"),
            (Status::invalid_argument("Catalog Error: Scalar Function with name nope does not exist!"), "42883"),
            (Status::invalid_argument("Binder Error: Referenced column \"x\" not found in FROM clause!"), "42703"),
            (Status::invalid_argument("Conversion Error: Could not convert string 'a' to INT32"), "22P02"),
            (Status::invalid_argument("Conversion Error: Type INT64 with value 99999999999 can't be cast because the value is out of range for the destination type INT32"), "22003"),
            (Status::invalid_argument("Out of Range Error: Overflow in addition of INT32 (2147483647 + 1)!"), "22003"),
            (Status::invalid_argument("Binder Error: Ambiguous reference to column name \"x\" (use: \"t.x\" or \"u.x\")"), "42702"),
            (Status::invalid_argument("Binder Error: Could not choose a best candidate function for the function call \"+(INTEGER_LITERAL, STRING_LITERAL)\"."), "42725"),
            (Status::invalid_argument("Conversion Error: date field value out of range: \"2024-13-01\""), "22008"),
            (Status::invalid_argument("Conversion Error: invalid timestamp field format: \"x\", expected format is (YYYY-MM-DD HH:MM:SS)"), "22007"),
            (Status::invalid_argument("Out of Range Error: cannot take square root of a negative number"), "2201F"),
            (Status::invalid_argument("Out of Range Error: cannot take logarithm of zero"), "2201E"),
            (Status::invalid_argument("Invalid Input Error: More than one row returned by a subquery used as an expression - scalar subqueries can only return a single row."), "21000"),
            (Status::cancelled("query cancelled"), "57014"),
            (Status::resource_exhausted("too many queued queries"), "53300"),
            (Status::permission_denied("statement writes to storage"), "42501"),
            (Status::invalid_argument("Permission Error: File system LocalFileSystem has been disabled by configuration"), "42501"),
            (Status::unauthenticated("bad token"), "28000"),
            (Status::unavailable("no executor"), "57P03"),
            (Status::internal("boom"), "XX000"),
            (Status::invalid_argument("something else"), "42000"),
            (Status::invalid_argument(r#"{"exception_type":"Parser","exception_message":"syntax error"}"#), "42601"),
        ];
        for (status, expected) in cases {
            assert_eq!(
                QueryError::Gateway(status.clone()).sqlstate(),
                expected,
                "{status:?}"
            );
        }
    }

    #[test]
    fn overload_is_retryable_and_keeps_the_message() {
        let e = QueryError::Gateway(Status::resource_exhausted("queue full"));
        assert!(e.is_retryable());
        let info = e.into_error_info();
        assert_eq!(info.code, "53300");
        assert_eq!(info.message, "queue full");
        assert!(info.hint.is_some());
        assert!(!QueryError::Syntax("x".into()).is_retryable());
    }

    #[test]
    fn adapter_errors_have_sqlstates() {
        assert_eq!(QueryError::Cancelled.sqlstate(), "57014");
        assert_eq!(
            QueryError::TimedOut.into_error_info().message,
            "canceling statement due to statement timeout"
        );
        assert_eq!(QueryError::UndefinedCursor("c".into()).sqlstate(), "34000");
        assert_eq!(QueryError::InFailedTransaction.sqlstate(), "25P02");
    }
}
