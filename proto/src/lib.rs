//! What crosses Tavana's process boundaries beyond the Flight SQL specification.
//!
//! Everything between processes is Arrow Flight (SQL). On top of the standard commands, Tavana
//! passes a few envelopes inside opaque Flight SQL fields (tickets and prepared-statement
//! handles) and a few gRPC metadata headers. They are defined once, here, as prost messages so
//! the wire format is versionable and identical on both sides.

pub mod headers;
pub mod messages;
pub mod net;
pub mod session_options;
pub mod sql;
pub mod tls;
pub mod users;
mod watched;

pub use messages::{ExecutorStatement, GatewayHandle, GatewayTicket, SessionContext};
pub use users::{UserSource, UserStore, UsersError};

/// Arrow field metadata key naming a column's SQL type where its Arrow type does not say it:
/// DuckDB exports `UUID` as strings, so executors mark such columns `uuid` under this key.
pub const SQL_TYPE_METADATA_KEY: &str = "tavana.sql_type";

/// Errors decoding an envelope that claims to be one of ours.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The bytes were not a valid envelope (corrupt, truncated or forged).
    #[error("malformed {what}: {source}")]
    Malformed {
        /// Which envelope failed to decode.
        what: &'static str,
        /// The decode failure.
        source: prost::DecodeError,
    },
    /// The envelope was made by an incompatible version.
    #[error("{what} has version {found}, this build understands version {expected}")]
    Version {
        /// Which envelope.
        what: &'static str,
        /// Version found in the bytes.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
}
