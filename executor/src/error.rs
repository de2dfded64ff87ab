//! Executor errors and their one mapping to gRPC statuses.

use tonic::{Code, Status};

/// Why a request to the executor failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// DuckDB rejected or failed the statement; the message is DuckDB's own.
    #[error("{message}")]
    Sql {
        /// What kind of failure DuckDB reported.
        kind: SqlErrorKind,
        /// DuckDB's message, e.g. `Parser Error: syntax error at or near "SELEC"`.
        message: String,
    },
    /// The sandbox refused the statement before it ran.
    #[error("{0}")]
    Refused(String),
    /// The query was cancelled by its client or by the server shutting down.
    #[error("query cancelled")]
    QueryCancelled,
    /// The request itself was malformed (bad ticket, bad parameters, unknown command).
    #[error("{0}")]
    BadRequest(String),
    /// The executor is at its concurrency limit.
    #[error("executor is busy: {0}")]
    Overloaded(String),
    /// The caller did not present the internal token.
    #[error("missing or wrong internal token")]
    Unauthenticated,
    /// A bug or an unexpected engine state.
    #[error("internal error: {0}")]
    Internal(String),
}

/// DuckDB's error classes that callers treat differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// Parser, binder, conversion, constraint and other errors in the statement or its data.
    Invalid,
    /// A table, schema, file or function that does not exist.
    NotFound,
    /// Refused by the engine's security settings.
    PermissionDenied,
    /// The engine ran out of memory or disk.
    OutOfResources,
    /// The query was interrupted.
    Interrupted,
    /// Object store or network trouble; the same query may work later.
    Unavailable,
}

impl ExecutorError {
    /// Whether DuckDB ran out of memory (the gateway's scaler counts these).
    pub fn is_out_of_memory(&self) -> bool {
        matches!(
            self,
            ExecutorError::Sql {
                kind: SqlErrorKind::OutOfResources,
                ..
            }
        )
    }

    /// Classifies one of DuckDB's messages (`"<Class> Error: ..."`).
    pub fn from_duckdb_message(message: impl Into<String>) -> Self {
        let message = plain_message(message.into());
        let kind = classify_duckdb_message(&message);
        if kind == SqlErrorKind::Interrupted {
            return Self::QueryCancelled;
        }
        Self::Sql {
            kind,
            message: with_extension_hint(message),
        }
    }
}

impl From<duckdb::Error> for ExecutorError {
    fn from(error: duckdb::Error) -> Self {
        Self::from_duckdb_message(error.to_string())
    }
}

/// Some C API paths report errors as JSON (`{"exception_type": "Binder", "exception_message":
/// ...}`); turn those into DuckDB's usual `Binder Error: ...` form.
fn plain_message(message: String) -> String {
    if !message.trim_start().starts_with('{') {
        return message;
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(&message)
    else {
        return message;
    };
    match (
        fields.get("exception_type"),
        fields.get("exception_message"),
    ) {
        (Some(serde_json::Value::String(kind)), Some(serde_json::Value::String(text))) => {
            format!("{kind} Error: {text}")
        }
        _ => message,
    }
}

fn classify_duckdb_message(message: &str) -> SqlErrorKind {
    let class = message
        .split_once(" Error:")
        .map(|(class, _)| class.trim())
        .unwrap_or("");
    match class {
        "Catalog" if message.contains("does not exist") => SqlErrorKind::NotFound,
        "IO" if message.contains("No files found")
            || message.contains("No such file")
            || message.contains("does not exist") =>
        {
            SqlErrorKind::NotFound
        }
        "HTTP" if message.contains("404") => SqlErrorKind::NotFound,
        "HTTP" | "IO" if message.contains("403 Forbidden") => SqlErrorKind::PermissionDenied,
        "IO" if message.contains("Could not connect")
            || message.contains("Timeout was reached")
            || message.contains("Could not resolve hostname")
            || message.contains("error sending request") =>
        {
            SqlErrorKind::Unavailable
        }
        "Permission" => SqlErrorKind::PermissionDenied,
        "Invalid Input" if message.contains("configuration has been locked") => {
            SqlErrorKind::PermissionDenied
        }
        "Out of Memory" => SqlErrorKind::OutOfResources,
        "INTERRUPT" | "Interrupt" => SqlErrorKind::Interrupted,
        "HTTP" | "Connection" => SqlErrorKind::Unavailable,
        _ => SqlErrorKind::Invalid,
    }
}

/// Extensions come from the provisioned directory only; say how to fill it.
fn with_extension_hint(message: String) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("extension")
        && (lower.contains("not found")
            || lower.contains("could not be loaded")
            || lower.contains("autoload"))
    {
        format!(
            "{message}\nHint: Tavana loads DuckDB extensions only from its provisioned extension \
             directory; run scripts/provision-extensions.sh and point --extension-dir \
             (TAVANA_EXTENSION_DIR) at it"
        )
    } else {
        message
    }
}

impl From<ExecutorError> for Status {
    fn from(error: ExecutorError) -> Self {
        let message = error.to_string();
        let code = match &error {
            ExecutorError::Sql { kind, .. } => match kind {
                SqlErrorKind::Invalid => Code::InvalidArgument,
                SqlErrorKind::NotFound => Code::NotFound,
                SqlErrorKind::PermissionDenied => Code::PermissionDenied,
                SqlErrorKind::OutOfResources => Code::ResourceExhausted,
                SqlErrorKind::Interrupted => Code::Cancelled,
                SqlErrorKind::Unavailable => Code::Unavailable,
            },
            ExecutorError::Refused(_) => Code::PermissionDenied,
            ExecutorError::QueryCancelled => Code::Cancelled,
            ExecutorError::BadRequest(_) => Code::InvalidArgument,
            ExecutorError::Overloaded(_) => Code::ResourceExhausted,
            ExecutorError::Unauthenticated => Code::Unauthenticated,
            ExecutorError::Internal(_) => Code::Internal,
        };
        match code {
            Code::Internal => tracing::error!(%message, "internal executor error"),
            _ => tracing::debug!(?code, %message, "request failed"),
        }
        Status::new(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_messages_map_to_grpc_codes() {
        let cases = [
            ("Parser Error: syntax error at or near \"SELEC\"", Code::InvalidArgument),
            ("Catalog Error: Table with name nope does not exist!", Code::NotFound),
            ("IO Error: No files found that match the pattern \"/x/*.parquet\"", Code::NotFound),
            ("Permission Error: Cannot access file \"/etc/passwd\"", Code::PermissionDenied),
            (
                "Invalid Input Error: Cannot change configuration option \"threads\" - the configuration has been locked",
                Code::PermissionDenied,
            ),
            ("Out of Memory Error: could not allocate block", Code::ResourceExhausted),
            ("INTERRUPT Error: Interrupted!", Code::Cancelled),
            ("Conversion Error: Could not convert string 'x' to INT32", Code::InvalidArgument),
            ("HTTP Error: Unable to connect to URL", Code::Unavailable),
            (
                "HTTP Error: HTTP GET error reading 's3://b/x.parquet' in region 'us-east-1' (HTTP 403 Forbidden)",
                Code::PermissionDenied,
            ),
            (
                "IO Error: DeltaKernel ObjectStoreError (8): ... Server returned non-2xx status code: 403 Forbidden: ...",
                Code::PermissionDenied,
            ),
            (
                "IO Error: Could not connect to server error for HTTP HEAD to 'http://127.0.0.1:1/b/x.parquet'",
                Code::Unavailable,
            ),
            (
                "IO Error: Timeout was reached error for HTTP HEAD to 'http://127.0.0.1:1/b/x.parquet'",
                Code::Unavailable,
            ),
        ];
        for (message, code) in cases {
            let status = Status::from(ExecutorError::from_duckdb_message(message));
            assert_eq!(status.code(), code, "{message}");
        }
    }

    #[test]
    fn json_errors_read_like_duckdb_messages() {
        let error = ExecutorError::from_duckdb_message(
            r#"{"exception_type":"Catalog","exception_message":"Table with name t does not exist!"}"#,
        );
        assert_eq!(
            error.to_string(),
            "Catalog Error: Table with name t does not exist!"
        );
        assert_eq!(Status::from(error).code(), Code::NotFound);
    }

    #[test]
    fn missing_extension_names_the_provisioning_script() {
        let error = ExecutorError::from_duckdb_message(
            "IO Error: Extension \"/x/delta.duckdb_extension\" not found.",
        );
        assert!(error
            .to_string()
            .contains("scripts/provision-extensions.sh"));
    }
}
