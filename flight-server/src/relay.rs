//! `DoGet` of a query result, served beneath tonic's codec: the gateway reads the client's
//! ticket, opens the executor's stream, and hands the executor's HTTP/2 response body to the
//! client as it arrives, frame by frame. Decoding every `FlightData` message into tonic's buffer
//! and encoding it again into another cost two copies of each result byte; a 12M-row result
//! spent a quarter of the gateway's CPU in them.
//!
//! A `DoGet` may also carry a `CommandStatementQuery` or a `CommandPreparedStatementQuery` as its
//! ticket: the query runs at once, as if `GetFlightInfo` had been called first (see
//! [`TicketKind::Query`] and [`TicketKind::Prepared`]). Other calls, and `DoGet`
//! of tickets the gateway answers itself (SQL info, type info), go to the Flight SQL service
//! unchanged.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::sql::{
    Any, CommandPreparedStatementQuery, CommandStatementQuery, ProstMessageExt,
    TicketStatementQuery,
};
use arrow_flight::Ticket;
use bytes::{BufMut, Bytes, BytesMut};
use futures::task::AtomicWaker;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message;
use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::Status;
use tracing::{debug, info};

use crate::metrics::GatewayMetrics;
use crate::service::GatewayService;
use crate::workers::RunningGuard;

/// The gRPC path of `DoGet`.
const DO_GET_PATH: &str = "/arrow.flight.protocol.FlightService/DoGet";

/// Largest ticket accepted (tickets carry bound parameters; the executor takes up to 16 MiB).
const MAX_TICKET_BYTES: usize = 64 * 1024 * 1024;

/// The Flight service with `DoGet` of query results passed through (see the module docs).
#[derive(Clone)]
pub struct PassThroughDoGet<S> {
    flight: S,
    gateway: GatewayService,
}

impl<S> PassThroughDoGet<S> {
    /// Wraps `flight`, the tonic Flight service of `gateway`.
    pub fn new(flight: S, gateway: GatewayService) -> Self {
        Self { flight, gateway }
    }
}

impl<S> NamedService for PassThroughDoGet<S> {
    const NAME: &'static str = <FlightServiceServer<GatewayService> as NamedService>::NAME;
}

impl<S> Service<http::Request<Body>> for PassThroughDoGet<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.flight.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != DO_GET_PATH {
            return Box::pin(self.flight.call(request));
        }
        let gateway = self.gateway.clone();
        let mut flight = self.flight.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let framed = match read_message(body).await {
                Ok(framed) => framed,
                Err(status) => return Ok(status.into_http()),
            };
            let relayed = match ticket_kind(&framed[GRPC_HEADER_BYTES..]) {
                Ok(TicketKind::Statement(query)) => {
                    let metadata = MetadataMap::from_headers(parts.headers);
                    gateway.relay_statement(query, &metadata).await
                }
                Ok(TicketKind::Query(query)) => {
                    let metadata = MetadataMap::from_headers(parts.headers);
                    gateway.relay_query(query, &metadata).await
                }
                Ok(TicketKind::Prepared(command)) => {
                    let metadata = MetadataMap::from_headers(parts.headers);
                    gateway.relay_prepared(command, &metadata).await
                }
                // A ticket the Flight SQL service answers itself.
                Ok(TicketKind::Other) => {
                    let request = http::Request::from_parts(parts, Body::new(Full::new(framed)));
                    return flight.call(request).await;
                }
                Err(status) => Err(status),
            };
            Ok(relayed.unwrap_or_else(Status::into_http))
        })
    }
}

/// Bytes before each gRPC message: a compression flag and a big-endian length.
const GRPC_HEADER_BYTES: usize = 5;

/// Reads a unary request body: one uncompressed gRPC message, returned with its header.
async fn read_message(body: Body) -> Result<Bytes, Status> {
    let framed = Limited::new(body, MAX_TICKET_BYTES + GRPC_HEADER_BYTES)
        .collect()
        .await
        .map_err(|e| Status::invalid_argument(format!("cannot read the ticket: {e}")))?
        .to_bytes();
    if framed.len() < GRPC_HEADER_BYTES {
        return Err(Status::invalid_argument("DoGet without a ticket"));
    }
    if framed[0] != 0 {
        return Err(Status::unimplemented(
            "compressed requests are not supported",
        ));
    }
    let length = u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]]) as usize;
    if framed.len() != GRPC_HEADER_BYTES + length {
        return Err(Status::invalid_argument(
            "DoGet request must hold exactly one ticket",
        ));
    }
    Ok(framed)
}

/// What a `DoGet` ticket asks for.
enum TicketKind {
    /// A query ticket this gateway handed out with a `FlightInfo`.
    Statement(TicketStatementQuery),
    /// A query to run now: `CommandStatementQuery` itself as the ticket, which skips the
    /// `GetFlightInfo` round trip for clients that take the schema from the stream (the
    /// pg-adapter does). A Tavana extension of Flight SQL.
    Query(CommandStatementQuery),
    /// A prepared query to run now, with the parameters bound to it: as [`TicketKind::Query`],
    /// for a statement prepared (and bound, with `DoPut`) in this session.
    Prepared(CommandPreparedStatementQuery),
    /// Anything else (SQL info, type info): the Flight SQL service answers it.
    Other,
}

fn ticket_kind(message: &[u8]) -> Result<TicketKind, Status> {
    let ticket = Ticket::decode(message)
        .map_err(|e| Status::invalid_argument(format!("malformed ticket: {e}")))?;
    let any = Any::decode(ticket.ticket).map_err(|_| {
        Status::invalid_argument("malformed ticket: not a ticket this service handed out")
    })?;
    let malformed =
        |e: arrow::error::ArrowError| Status::invalid_argument(format!("malformed ticket: {e}"));
    Ok(if any.type_url == TicketStatementQuery::type_url() {
        any.unpack()
            .map_err(malformed)?
            .map_or(TicketKind::Other, TicketKind::Statement)
    } else if any.type_url == CommandStatementQuery::type_url() {
        any.unpack()
            .map_err(malformed)?
            .map_or(TicketKind::Other, TicketKind::Query)
    } else if any.type_url == CommandPreparedStatementQuery::type_url() {
        any.unpack()
            .map_err(malformed)?
            .map_or(TicketKind::Other, TicketKind::Prepared)
    } else {
        TicketKind::Other
    })
}

/// A gRPC request body holding one uncompressed message.
fn grpc_message(message: &impl Message) -> Body {
    let mut framed = BytesMut::with_capacity(GRPC_HEADER_BYTES + message.encoded_len());
    framed.put_u8(0);
    framed.put_u32(message.encoded_len() as u32);
    message
        .encode(&mut framed)
        .expect("a BytesMut grows as needed");
    Body::new(Full::new(framed.freeze()))
}

/// A request for the executor's `DoGet`, from the call the gateway would make through tonic.
pub(crate) fn do_get_request(request: tonic::Request<Ticket>) -> http::Request<Body> {
    let (metadata, _, ticket) = request.into_parts();
    let mut http_request = http::Request::new(grpc_message(&ticket));
    *http_request.method_mut() = http::Method::POST;
    *http_request.uri_mut() = http::Uri::from_static(DO_GET_PATH);
    let headers = http_request.headers_mut();
    *headers = metadata.into_headers();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    http_request
}

/// The executor's response body on its way to the client: counts the bytes, notes how the
/// stream ended, and holds the admission and the executor's running count until the
/// client has read it all or gone away, or a watchdog stops it (see [`StreamLimits`]).
pub(crate) struct RelayBody {
    /// The executor's stream and what it holds; taken (dropped) by the watchdog.
    relayed: Arc<Mutex<Option<Relayed>>>,
    /// When the client last left a frame unasked for (see [`IdleClock`]).
    idle: Arc<IdleClock>,
    /// Shared with the watchdog (`None` without limits).
    stop: Option<Arc<StopSignal>>,
    /// Where the relayed bytes stand in gRPC's message framing.
    framing: MessageFraming,
    /// Whether the client was told why the watchdog stopped its stream.
    told_stopped: bool,
    metrics: GatewayMetrics,
    query_id: String,
    outcome: Option<&'static str>,
    /// The call's span (trace id, query id): the body ends in hyper's task, outside it.
    span: tracing::Span,
}

/// Limits on a relayed stream, enforced by a watchdog that stops the query (drops the
/// executor's stream, which stops it there) and tells the client why.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamLimits {
    /// `TAVANA_STREAM_IDLE_TIMEOUT_SECS`: stop once the client has read nothing for this long.
    pub(crate) idle_timeout: Option<Duration>,
    /// `TAVANA_MAX_QUERY_SECS`: stop the query at this instant.
    pub(crate) deadline: Option<QueryDeadline>,
}

/// When a query must be done by, and the limit that set it (for the message).
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryDeadline {
    /// The instant the query is stopped.
    pub(crate) at: tokio::time::Instant,
    /// The configured limit.
    pub(crate) limit: Duration,
}

impl QueryDeadline {
    /// A deadline `limit` from now.
    pub(crate) fn after(limit: Duration) -> Self {
        Self {
            at: tokio::time::Instant::now() + limit,
            limit,
        }
    }

    /// What the client is told when the query runs past it.
    pub(crate) fn exceeded(&self) -> Status {
        Status::deadline_exceeded(format!(
            "the query ran longer than this service allows ({} s, TAVANA_MAX_QUERY_SECS) and \
             was stopped",
            self.limit.as_secs()
        ))
    }
}

/// Why a watchdog stopped a stream.
#[derive(Clone, Copy, Debug)]
enum Stopped {
    Idle,
    Deadline(QueryDeadline),
}

/// Longest a stopped stream may take to finish the message on its way, so that its client
/// reads a whole last message and then why the stream ended (a cut message would read as a
/// broken stream).
const STOP_GRACE: Duration = Duration::from_secs(1);

/// What the watchdog and the body of a stream share.
struct StopSignal {
    /// Why the stream is stopped, once it is.
    reason: OnceLock<Stopped>,
    /// Whether everything relayed so far ends on a gRPC message boundary.
    at_boundary: AtomicBool,
    /// The body's task, woken to see that the stream was stopped.
    waker: AtomicWaker,
}

/// Follows gRPC's framing (a 5-byte header with the message length, then the message) over
/// the relayed bytes, to know where messages end.
#[derive(Default)]
struct MessageFraming {
    header: [u8; GRPC_HEADER_BYTES],
    header_bytes: usize,
    message_bytes_left: usize,
}

impl MessageFraming {
    fn advance(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.message_bytes_left > 0 {
                let taken = self.message_bytes_left.min(data.len());
                self.message_bytes_left -= taken;
                data = &data[taken..];
                continue;
            }
            let taken = (GRPC_HEADER_BYTES - self.header_bytes).min(data.len());
            self.header[self.header_bytes..self.header_bytes + taken]
                .copy_from_slice(&data[..taken]);
            self.header_bytes += taken;
            data = &data[taken..];
            if self.header_bytes == GRPC_HEADER_BYTES {
                let [_, a, b, c, d] = self.header;
                self.message_bytes_left = u32::from_be_bytes([a, b, c, d]) as usize;
                self.header_bytes = 0;
            }
        }
    }

    fn at_boundary(&self) -> bool {
        self.header_bytes == 0 && self.message_bytes_left == 0
    }
}

/// What a relayed stream holds while it lives.
struct Relayed {
    inner: Body,
    _admitted: crate::admission::Admitted,
    _running: RunningGuard,
}

/// Whether a stream waits for its client: hyper asks the body for the next frame only when
/// the client has room for it, so a frame handed over and not followed by another request
/// means the client is not reading. Milliseconds since [`epoch`] (0: not waiting for the
/// client, but inside a poll or waiting for the executor, as during a long aggregate).
#[derive(Default)]
struct IdleClock(AtomicU64);

/// The instant gateway clocks count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

impl RelayBody {
    /// Relays `response`'s body; a response that is already an error (gRPC's trailers-only
    /// form) is counted as such. A watchdog enforces `limits`.
    pub(crate) fn relay(
        response: http::Response<Body>,
        metrics: GatewayMetrics,
        query_id: String,
        admitted: crate::admission::Admitted,
        running: RunningGuard,
        limits: StreamLimits,
    ) -> http::Response<Body> {
        let (parts, inner) = response.into_parts();
        metrics.active_streams.inc();
        debug!(%query_id, "streaming");
        let relayed = Arc::new(Mutex::new(Some(Relayed {
            inner,
            _admitted: admitted,
            _running: running,
        })));
        let idle = Arc::new(IdleClock::default());
        let stop = (limits.idle_timeout.is_some() || limits.deadline.is_some()).then(|| {
            let stop = Arc::new(StopSignal {
                reason: OnceLock::new(),
                at_boundary: AtomicBool::new(true),
                waker: AtomicWaker::new(),
            });
            tokio::spawn(
                Watchdog {
                    relayed: Arc::downgrade(&relayed),
                    idle: Arc::clone(&idle),
                    stop: Arc::clone(&stop),
                    limits,
                    metrics: metrics.clone(),
                    query_id: query_id.clone(),
                }
                .watch(),
            );
            stop
        });
        let body = RelayBody {
            outcome: outcome_of(&parts.headers),
            relayed,
            idle,
            stop,
            framing: MessageFraming::default(),
            told_stopped: false,
            metrics,
            query_id,
            span: tracing::Span::current(),
        };
        http::Response::from_parts(parts, Body::new(body))
    }

    fn relayed(&self) -> std::sync::MutexGuard<'_, Option<Relayed>> {
        self.relayed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Enforces a stream's [`StreamLimits`]: once one is passed, drops the executor's stream
/// (which stops the query there) and frees the admission slot, after the message on its way
/// (for at most [`STOP_GRACE`]). Returns when the stream ends.
struct Watchdog {
    relayed: Weak<Mutex<Option<Relayed>>>,
    idle: Arc<IdleClock>,
    stop: Arc<StopSignal>,
    limits: StreamLimits,
    metrics: GatewayMetrics,
    query_id: String,
}

impl Watchdog {
    async fn watch(self) {
        let check = self
            .limits
            .idle_timeout
            .map(|timeout| (timeout / 4).max(Duration::from_millis(100)));
        loop {
            let wake = match (check, self.limits.deadline) {
                (Some(check), Some(deadline)) => {
                    deadline.at.min(tokio::time::Instant::now() + check)
                }
                (Some(check), None) => tokio::time::Instant::now() + check,
                (None, Some(deadline)) => deadline.at,
                (None, None) => return,
            };
            tokio::time::sleep_until(wake).await;
            if self.relayed.strong_count() == 0 {
                return;
            }
            let Some(reason) = self.passed_limit() else {
                continue;
            };
            let _ = self.stop.reason.set(reason);
            let live = self.relayed.upgrade().is_some_and(|relayed| {
                relayed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_some()
            });
            if live {
                match reason {
                    Stopped::Idle => {
                        self.metrics.idle_streams_ended_total.inc();
                        info!(query_id = %self.query_id, idle_s = self.limits.idle_timeout.unwrap_or_default().as_secs(), "client read nothing for the stream idle timeout: query stopped");
                    }
                    Stopped::Deadline(deadline) => {
                        self.metrics.query_timeouts_total.inc();
                        info!(query_id = %self.query_id, limit_s = deadline.limit.as_secs(), "query ran past TAVANA_MAX_QUERY_SECS: stopped");
                    }
                }
            }
            if !self.stop.at_boundary.load(Ordering::Acquire) {
                // The body ends the stream itself once the message on its way is out.
                self.stop.waker.wake();
                tokio::time::sleep(STOP_GRACE).await;
            }
            if let Some(relayed) = self.relayed.upgrade() {
                drop(
                    relayed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take(),
                );
            }
            // The body may be waiting on the executor's stream, which no longer wakes it.
            self.stop.waker.wake();
            return;
        }
    }

    /// The limit the stream has passed, if any.
    fn passed_limit(&self) -> Option<Stopped> {
        if let Some(deadline) = self.limits.deadline {
            if tokio::time::Instant::now() >= deadline.at {
                return Some(Stopped::Deadline(deadline));
            }
        }
        let timeout = self.limits.idle_timeout?;
        let since = self.idle.0.load(Ordering::Relaxed);
        (since != 0 && now_ms().saturating_sub(since) >= timeout.as_millis() as u64)
            .then_some(Stopped::Idle)
    }
}

/// How a gRPC call ended, from the `grpc-status` of its trailers (or trailers-only headers).
fn outcome_of(headers: &http::HeaderMap) -> Option<&'static str> {
    let code = headers.get("grpc-status")?;
    Some(match code.as_bytes() {
        b"0" => "ok",
        b"1" => "cancelled",
        _ => "error",
    })
}

impl HttpBody for RelayBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        self.idle.0.store(0, Ordering::Relaxed);
        if let Some(stop) = &self.stop {
            stop.waker.register(cx.waker());
            if stop.reason.get().is_some() && self.framing.at_boundary() {
                drop(self.relayed().take());
            }
        }
        let polled = self
            .relayed()
            .as_mut()
            .map(|relayed| Pin::new(&mut relayed.inner).poll_frame(cx));
        let Some(polled) = polled else {
            return self.tell_stopped();
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.metrics.relayed_bytes_total.inc_by(data.len() as u64);
                    let this = &mut *self;
                    if let Some(stop) = &this.stop {
                        this.framing.advance(data);
                        stop.at_boundary
                            .store(this.framing.at_boundary(), Ordering::Release);
                    }
                } else if let Some(trailers) = frame.trailers_ref() {
                    self.outcome = outcome_of(trailers).or(self.outcome);
                }
            }
            Poll::Ready(Some(Err(status))) => {
                self.outcome = Some(if status.code() == tonic::Code::Cancelled {
                    "cancelled"
                } else {
                    "error"
                });
            }
            Poll::Ready(None) => {
                self.outcome.get_or_insert("ok");
            }
            Poll::Pending => {}
        }
        if matches!(&polled, Poll::Ready(Some(Ok(frame))) if frame.is_data()) {
            // Handed over: until hyper asks again, the client has not made room for more.
            self.idle.0.store(now_ms(), Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.relayed()
            .as_ref()
            .is_some_and(|relayed| relayed.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.relayed()
            .as_ref()
            .map_or_else(SizeHint::default, |relayed| relayed.inner.size_hint())
    }
}

impl RelayBody {
    /// The stream the watchdog stopped: once, the client gets gRPC trailers saying why.
    fn tell_stopped(&mut self) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.told_stopped {
            return Poll::Ready(None);
        }
        self.told_stopped = true;
        let status = match self.stop.as_ref().and_then(|stop| stop.reason.get()) {
            Some(Stopped::Deadline(deadline)) => {
                self.outcome = Some("timed_out");
                deadline.exceeded()
            }
            Some(Stopped::Idle) | None => {
                self.outcome = Some("cancelled");
                Status::cancelled(
                    "the client read nothing from this result for the stream idle timeout \
                     (TAVANA_STREAM_IDLE_TIMEOUT_SECS): the query was stopped; run it again",
                )
            }
        };
        let mut trailers = http::HeaderMap::new();
        if status.add_header(&mut trailers).is_err() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }
}

impl Drop for RelayBody {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or("cancelled");
        let _span = self.span.enter();
        self.metrics.active_streams.dec();
        self.metrics
            .queries_total
            .with_label_values(&[outcome])
            .inc();
        // Per-query lines are DEBUG: at INFO they cost the gateway measurable CPU on short
        // queries (queries_total counts outcomes); a stream that did not end well stays at INFO.
        if outcome == "ok" {
            debug!(query_id = %self.query_id, outcome, "stream ended");
        } else {
            info!(query_id = %self.query_id, outcome, "stream ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> Vec<u8> {
        let mut framed = vec![0u8];
        framed.extend_from_slice(&(len as u32).to_be_bytes());
        framed.extend(std::iter::repeat_n(7u8, len));
        framed
    }

    #[test]
    fn framing_finds_message_ends_across_any_split() {
        let mut stream = message(10);
        stream.extend(message(0));
        stream.extend(message(300));
        let ends = [15, 20, stream.len()];
        // Every way of cutting the bytes into two frames, and byte by byte.
        for cut in 0..=stream.len() {
            let mut framing = MessageFraming::default();
            framing.advance(&stream[..cut]);
            assert_eq!(
                framing.at_boundary(),
                cut == 0 || ends.contains(&cut),
                "cut at {cut}"
            );
            framing.advance(&stream[cut..]);
            assert!(framing.at_boundary());
        }
        let mut framing = MessageFraming::default();
        for (i, byte) in stream.iter().enumerate() {
            framing.advance(std::slice::from_ref(byte));
            assert_eq!(framing.at_boundary(), ends.contains(&(i + 1)), "byte {i}");
        }
    }
}
