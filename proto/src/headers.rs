//! gRPC metadata keys Tavana sets on internal and external calls.

/// A query id minted by the gateway; it follows the query to the executor and appears in every
/// log line about the query.
pub const QUERY_ID: &str = "x-tavana-query-id";

/// The caller's session, JSON-encoded [`crate::SessionContext`], sent gateway → executor on every
/// call: sessions travel with queries, they are never left on a shared connection.
pub const SESSION: &str = "x-tavana-session";

/// Set to `true` by a client (the pg-adapter on every call) whose queries divide integers as
/// PostgreSQL does: `7 / 2` is 3, not DuckDB's 3.5 (see
/// [`crate::SessionContext::integer_division`]). Any other value, or none, keeps DuckDB's `/`.
pub const INTEGER_DIVISION: &str = "x-tavana-integer-division";

/// Shared secret the gateway presents to executors (`Bearer`-style value, compared in constant
/// time by the executor).
pub const INTERNAL_TOKEN: &str = "x-tavana-internal-token";

/// W3C trace context, propagated over both hops.
pub const TRACEPARENT: &str = "traceparent";

/// The trace id of a W3C `traceparent` value (`00-<trace id>-<parent id>-<flags>`): 32
/// lowercase hex digits, not all zero. `None` for anything else, which is then ignored.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_id = parts.next()?;
    let flags = parts.next()?;
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && hex(parent_id, 16)
        && hex(flags, 2);
    valid.then_some(trace_id)
}

/// A span for one incoming call that carries a `traceparent`, naming its trace id so every log
/// line of the call can be joined with the caller's trace; no span for calls without one.
pub fn call_span<B>(request: &http::Request<B>) -> tracing::Span {
    match request
        .headers()
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(trace_id)
    {
        Some(trace_id) => tracing::info_span!("call", trace_id),
        None => tracing::Span::none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_trace_id_of_a_w3c_traceparent() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(trace_id(&format!("00-{id}-00f067aa0ba902b7-01")), Some(id));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_call_without_traceparent_gets_no_span() {
        let request = http::Request::builder().body(()).unwrap();
        assert!(call_span(&request).is_none());
    }
}
