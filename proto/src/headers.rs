//! gRPC metadata keys Tavana sets on internal and external calls.

/// A query id minted by the gateway; it follows the query to the executor and appears in every
/// log line about the query.
pub const QUERY_ID: &str = "x-tavana-query-id";

/// The caller's session, JSON-encoded [`crate::SessionContext`], sent gateway → executor on every
/// call: sessions travel with queries, they are never left on a shared connection.
pub const SESSION: &str = "x-tavana-session";

/// Shared secret the gateway presents to executors (`Bearer`-style value, compared in constant
/// time by the executor).
pub const INTERNAL_TOKEN: &str = "x-tavana-internal-token";

/// W3C trace context, propagated over both hops.
pub const TRACEPARENT: &str = "traceparent";
