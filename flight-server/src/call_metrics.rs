//! Every Flight call the gateway answers, counted by method and gRPC status, with the time it
//! took to answer: what an operator needs to see a rise in errors or latency per call.
//!
//! The status is the one the gateway answers with: tonic sends a call's error in the response
//! headers, and a stream that starts counts as `Ok`. How a started result stream ended is in
//! `tavana_gateway_queries_total`. The time runs to the response headers, that is the whole
//! call for `GetFlightInfo` and the actions, and the time to the first byte for a `DoGet`.

use std::time::Instant;

use tonic::body::Body;
use tonic::codegen::http;
use tonic::Code;

use crate::call_hooks::CallHook;
use crate::metrics::GatewayMetrics;

/// The Flight service's methods, the only values of the `method` label (any other path is
/// `other`, so a client cannot add label values).
const FLIGHT_METHODS: [&str; 10] = [
    "Handshake",
    "ListFlights",
    "GetFlightInfo",
    "PollFlightInfo",
    "GetSchema",
    "DoGet",
    "DoPut",
    "DoExchange",
    "DoAction",
    "ListActions",
];

/// Counts and times each call in [`GatewayMetrics`] (a [`CallHook`]).
#[derive(Clone)]
pub struct CallMetrics {
    metrics: GatewayMetrics,
}

impl CallMetrics {
    /// Records into `metrics`.
    pub fn new(metrics: GatewayMetrics) -> Self {
        Self { metrics }
    }
}

impl CallHook for CallMetrics {
    type Noted = (&'static str, Instant);

    fn before(&self, request: &http::Request<Body>) -> Self::Noted {
        (method_label(request.uri().path()), Instant::now())
    }

    fn after(&self, (method, started): Self::Noted, response: &mut http::Response<Body>) {
        let code = response_code(response.headers());
        self.metrics
            .calls_total
            .with_label_values(&[method, code_label(code)])
            .inc();
        self.metrics
            .call_seconds
            .with_label_values(&[method])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// The `method` label of a request path such as `/arrow.flight.protocol.FlightService/DoGet`.
fn method_label(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    FLIGHT_METHODS
        .iter()
        .find(|method| **method == name)
        .copied()
        .unwrap_or("other")
}

/// The status a response carries in its headers (an error answered at once), else `Ok`.
fn response_code(headers: &http::HeaderMap) -> Code {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32)
}

/// A gRPC code as its canonical name (`OK`, `UNAUTHENTICATED`, ...), as gRPC tools print it.
fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_label_is_a_flight_method_or_other() {
        assert_eq!(
            method_label("/arrow.flight.protocol.FlightService/DoGet"),
            "DoGet"
        );
        assert_eq!(
            method_label("/arrow.flight.protocol.FlightService/GetFlightInfo"),
            "GetFlightInfo"
        );
        assert_eq!(
            method_label("/arrow.flight.protocol.FlightService/Nope"),
            "other"
        );
        assert_eq!(method_label("/"), "other");
    }

    #[test]
    fn response_code_reads_grpc_status() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(response_code(&headers), Code::Ok);
        headers.insert("grpc-status", http::HeaderValue::from_static("16"));
        assert_eq!(response_code(&headers), Code::Unauthenticated);
        assert_eq!(code_label(response_code(&headers)), "UNAUTHENTICATED");
    }
}
