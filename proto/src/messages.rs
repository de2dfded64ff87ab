//! Envelopes carried inside opaque Flight SQL fields.

use bytes::Bytes;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::EnvelopeError;

/// The envelope version this build writes and accepts.
pub const ENVELOPE_VERSION: u32 = 1;

/// A ticket handed out by the gateway: names the executor that will serve it and carries the
/// executor's own ticket unchanged.
#[derive(Clone, PartialEq, Message)]
pub struct GatewayTicket {
    /// Envelope version, [`ENVELOPE_VERSION`].
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// Address of the executor that owns the ticket (as configured in the gateway).
    #[prost(string, tag = "2")]
    pub executor: String,
    /// The query id minted by the gateway for this query.
    #[prost(string, tag = "3")]
    pub query_id: String,
    /// The executor's ticket bytes, passed through untouched.
    #[prost(bytes = "bytes", tag = "4")]
    pub inner: Bytes,
}

/// A prepared-statement handle handed out by the gateway.
#[derive(Clone, PartialEq, Message)]
pub struct GatewayHandle {
    /// Envelope version, [`ENVELOPE_VERSION`].
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// Gateway-side id; bound parameters are remembered under it.
    #[prost(string, tag = "2")]
    pub id: String,
    /// Address of the executor that prepared the statement.
    #[prost(string, tag = "3")]
    pub executor: String,
    /// The executor's handle bytes.
    #[prost(bytes = "bytes", tag = "4")]
    pub inner: Bytes,
}

/// What an executor needs to run a statement: used as its prepared-statement handle and inside
/// its `TicketStatementQuery`. Executors keep no per-statement state, so a handle survives an
/// executor restart and any executor can serve it.
#[derive(Clone, PartialEq, Message)]
pub struct ExecutorStatement {
    /// Envelope version, [`ENVELOPE_VERSION`].
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// The SQL text.
    #[prost(string, tag = "2")]
    pub sql: String,
    /// Bound parameters as an Arrow IPC stream (schema + one batch, one row per execution);
    /// empty when nothing is bound.
    #[prost(bytes = "bytes", tag = "3")]
    pub parameters_ipc: Bytes,
    /// Query id, for logs and cancellation.
    #[prost(string, tag = "4")]
    pub query_id: String,
    /// Set when the statement returns no rows and already ran when it was submitted: the
    /// number of rows it affected. Fetching such a ticket returns this count and runs nothing.
    #[prost(int64, optional, tag = "5")]
    pub completed_count: Option<i64>,
    /// HMAC-SHA256 over the envelope (with this field empty), keyed by the internal token, set
    /// by the executor that checked the statement against its sandbox. An executor that can
    /// verify it skips preparing the statement a second time when the ticket is fetched.
    #[prost(bytes = "bytes", tag = "6")]
    pub signature: Bytes,
    /// Set by the executor on a prepared-statement handle whose statement returns rows and
    /// takes no parameters. The gateway may then answer `GetFlightInfo` for it without an
    /// executor, from the schema `CreatePreparedStatement` returned, with the query itself as
    /// the ticket: one round trip less per execution.
    #[prost(bool, tag = "7")]
    pub runs_as_query: bool,
}

macro_rules! envelope_codec {
    ($ty:ty, $name:literal) => {
        impl $ty {
            /// Encodes the envelope.
            pub fn to_bytes(&self) -> Bytes {
                Bytes::from(self.encode_to_vec())
            }

            /// Decodes and version-checks an envelope.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
                let decoded = <$ty>::decode(bytes).map_err(|source| EnvelopeError::Malformed {
                    what: $name,
                    source,
                })?;
                if decoded.version != ENVELOPE_VERSION {
                    return Err(EnvelopeError::Version {
                        what: $name,
                        found: decoded.version,
                        expected: ENVELOPE_VERSION,
                    });
                }
                Ok(decoded)
            }
        }
    };
}

envelope_codec!(GatewayTicket, "gateway ticket");
envelope_codec!(GatewayHandle, "prepared statement handle");
envelope_codec!(ExecutorStatement, "executor statement");

/// Session state that travels with every gateway → executor call (header
/// [`crate::headers::SESSION`]).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionContext {
    /// Authenticated user name.
    pub user: String,
    /// Default catalog for unqualified names, if the session set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Default schema for unqualified names, if the session set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Object-store credentials the session brought (`CREATE SECRET`, `SET s3_*`), in the
    /// canonical form an executor returned for [`SESSION_CREDENTIAL_ACTION`]. Opaque to the
    /// gateway; secret values: never log them (`Debug` redacts them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// `/` of two integers divides as integers (`7 / 2` is 3), as in PostgreSQL; DuckDB's `/`
    /// otherwise gives a `DOUBLE`. Asked per call with [`crate::headers::INTEGER_DIVISION`]
    /// (the pg-adapter always asks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub integer_division: bool,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionContext")
            .field("user", &self.user)
            .field("catalog", &self.catalog)
            .field("schema", &self.schema)
            .field(
                "credentials",
                &format_args!("[{} redacted]", self.credentials.len()),
            )
            .field("integer_division", &self.integer_division)
            .finish()
    }
}

/// `DoAction` type the gateway sends an executor when a session runs a credential statement
/// (see [`is_credential_statement`]). The body is the statement's SQL; the call carries the
/// session header as usual. The executor validates the statement, never runs it on a shared
/// engine, and answers with one result whose body is the session's new context in header form
/// (JSON [`SessionContext`]): the gateway keeps its `credentials` and sends them with every
/// later call of that session. Errors come back as an `InvalidArgument`/`PermissionDenied`
/// status whose message never contains the secret values.
pub const SESSION_CREDENTIAL_ACTION: &str = "tavana.SessionCredential";

/// Whether `sql` sets, replaces or drops per-session object-store credentials:
/// `CREATE [OR REPLACE] [PERSISTENT | TEMP | TEMPORARY] SECRET ...`,
/// `DROP [PERSISTENT | TEMP | TEMPORARY] SECRET ...`, and `SET` / `RESET` of the `s3_*`,
/// `azure_*` and `gcs_*` settings. Front ends route these to [`SESSION_CREDENTIAL_ACTION`]
/// instead of running them as statements, and must not log their text. Comments before the
/// statement are skipped.
pub fn is_credential_statement(sql: &str) -> bool {
    // Every query passes here: its first words are read once.
    let words = crate::sql::leading_words(sql, 6, crate::sql::Lexicon::DuckDb);
    if crate::sql::starts_create_secret(&words) {
        return true;
    }
    let mut words = words.iter().map(String::as_str).peekable();
    match words.next() {
        Some("drop") => {
            if words
                .peek()
                .is_some_and(|w| matches!(*w, "persistent" | "temp" | "temporary"))
            {
                words.next();
            }
            words.next() == Some("secret")
        }
        Some("set" | "reset") => {
            if words
                .peek()
                .is_some_and(|w| matches!(*w, "session" | "local" | "global"))
            {
                words.next();
            }
            words.next().is_some_and(|name| {
                ["s3_", "azure_", "gcs_"]
                    .iter()
                    .any(|p| name.starts_with(p))
            })
        }
        _ => false,
    }
}

impl SessionContext {
    /// JSON form used in the header.
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).expect("session context serializes")
    }

    /// Parses the header form; `None` on malformed input.
    pub fn from_header(value: &str) -> Option<Self> {
        serde_json::from_str(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_round_trips() {
        let ticket = GatewayTicket {
            version: ENVELOPE_VERSION,
            executor: "http://127.0.0.1:1".into(),
            query_id: "q1".into(),
            inner: Bytes::from_static(b"abc"),
        };
        assert_eq!(
            GatewayTicket::from_bytes(&ticket.to_bytes()).unwrap(),
            ticket
        );
    }

    #[test]
    fn garbage_and_wrong_versions_are_refused() {
        assert!(matches!(
            GatewayTicket::from_bytes(b"\xff\xff\xff"),
            Err(EnvelopeError::Malformed { .. })
        ));
        let old = GatewayHandle {
            version: 99,
            ..Default::default()
        };
        assert!(matches!(
            GatewayHandle::from_bytes(&old.to_bytes()),
            Err(EnvelopeError::Version { found: 99, .. })
        ));
    }

    #[test]
    fn session_header_round_trips() {
        let session = SessionContext {
            user: "alice".into(),
            catalog: None,
            schema: Some("sales".into()),
            credentials: Vec::new(),
            integer_division: false,
        };
        assert_eq!(
            SessionContext::from_header(&session.to_header()),
            Some(session.clone())
        );
        assert!(!session.to_header().contains("credentials"));
        assert!(!session.to_header().contains("integer_division"));
        let dividing = SessionContext {
            integer_division: true,
            ..session.clone()
        };
        assert_eq!(
            SessionContext::from_header(&dividing.to_header()),
            Some(dividing.clone())
        );
        assert_eq!(SessionContext::from_header("{not json"), None);
        let with_secret = SessionContext {
            credentials: vec!["CREATE SECRET s (TYPE s3, SECRET 'hush')".into()],
            ..session
        };
        assert_eq!(
            SessionContext::from_header(&with_secret.to_header()),
            Some(with_secret.clone())
        );
        assert!(!format!("{with_secret:?}").contains("hush"));
    }

    #[test]
    fn credential_statements_are_recognised() {
        for sql in [
            "CREATE SECRET s (TYPE s3)",
            "create or replace temporary secret s (TYPE s3)",
            "CREATE PERSISTENT SECRET (TYPE gcs)",
            "  drop secret s",
            "DROP TEMPORARY SECRET IF EXISTS s",
            "SET s3_access_key_id = 'x'",
            "set session s3_region='eu-west-1'",
            "SET azure_storage_connection_string TO 'x'",
            "RESET s3_endpoint",
            "/* a comment */ CREATE SECRET s (TYPE s3, SECRET 'unterminated",
            "-- a comment\nSET s3_secret_access_key = 'x'",
        ] {
            assert!(is_credential_statement(sql), "{sql}");
        }
        for sql in [
            "SELECT 'CREATE SECRET'",
            "CREATE TABLE secret (i INT)",
            "SET threads = 4",
            "SET search_path = 'sales'",
            "DROP TABLE secret",
            "",
            "-- SET s3_region = 'x'\nSELECT 1",
        ] {
            assert!(!is_credential_statement(sql), "{sql}");
        }
        // A statement longer than the prefix read first, with its words past it.
        let long_comment = format!("/* {} */ SET s3_region = 'x'", "x".repeat(2000));
        assert!(is_credential_statement(&long_comment));
        let long_select = format!("SELECT '{}'", "x".repeat(2000));
        assert!(!is_credential_statement(&long_select));
    }
}

/// `DoAction` type the gateway sends an executor for its load (no body). The one result's body
/// is an [`ExecutorStatus`] as JSON. The gateway's scaler sums these over all executors: the
/// executors see every gateway's queries, a gateway only its own.
pub const EXECUTOR_STATUS_ACTION: &str = "tavana.ExecutorStatus";

/// An executor's load, answered to [`EXECUTOR_STATUS_ACTION`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorStatus {
    /// Queries running now (from every gateway).
    pub running_queries: u64,
    /// Queries it runs at once before refusing more (`TAVANA_MAX_CONCURRENT_QUERIES`).
    pub max_concurrent_queries: u64,
    /// Queries that failed because DuckDB ran out of memory, since the process started.
    pub out_of_memory_failures: u64,
}
