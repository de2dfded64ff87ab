//! The gateway's Flight SQL service: authenticates, admits and routes each call to an executor
//! and relays the executor's answer. Query results are passed through as received, below
//! tonic's codec (see `relay`): the gateway never decodes or re-encodes them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::metadata::{SqlInfoData, XdbcTypeInfoData};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, Command, CommandGetCatalogs,
    CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys,
    CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandGetXdbcTypeInfo, CommandPreparedStatementQuery, CommandPreparedStatementUpdate,
    CommandStatementIngest, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, DoPutUpdateResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightData,
    FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use futures::{Stream, StreamExt};
use prost::Message;
use tavana_proto::messages::ENVELOPE_VERSION;
use tavana_proto::messages::{is_credential_statement, SESSION_CREDENTIAL_ACTION};
use tavana_proto::session_options::{
    self as options, CloseSessionResult, CloseSessionStatus, GetSessionOptionsResult, OptionValue,
    SessionOptionValue, SetSessionOptionsError, SetSessionOptionsErrorValue,
    SetSessionOptionsRequest, SetSessionOptionsResult,
};
use tavana_proto::{headers, ExecutorStatement, GatewayHandle, GatewayTicket, SessionContext};
use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, instrument, Span};

use crate::admission::Admission;
use crate::metrics::GatewayMetrics;
use crate::relay::{self, QueryDeadline, StreamLimits};
use crate::sessions::{Session, Sessions};
use crate::sql_info;
use crate::workers::{Worker, WorkerPool};

/// DuckDB's default catalog (the in-memory database) and schema.
const DEFAULT_CATALOG: &str = "memory";
const DEFAULT_SCHEMA: &str = "main";

type DoGetStream = Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send + 'static>>;
type DoActionStream =
    Pin<Box<dyn Stream<Item = Result<arrow_flight::Result, Status>> + Send + 'static>>;

/// Everything the service shares between calls.
pub struct GatewayState {
    /// Authentication and sessions.
    pub sessions: Sessions,
    /// Executors.
    pub pool: WorkerPool,
    /// Token presented to executors.
    pub internal_token: Option<String>,
    /// Metrics.
    pub metrics: GatewayMetrics,
    /// Admission: the gateway's and each user's limit on streaming queries, and the queue.
    pub admission: Admission,
    /// How long a result stream may go unread before it is ended (`None`: never).
    pub stream_idle_timeout: Option<std::time::Duration>,
    /// Longest a query may run (`None`: no limit).
    pub max_query_duration: Option<std::time::Duration>,
    sql_info: SqlInfoData,
    xdbc_info: XdbcTypeInfoData,
}

impl GatewayState {
    /// Assembles the shared state.
    pub fn new(
        sessions: Sessions,
        pool: WorkerPool,
        internal_token: Option<String>,
        metrics: GatewayMetrics,
        admission: Admission,
        stream_idle_timeout: Option<std::time::Duration>,
        max_query_duration: Option<std::time::Duration>,
    ) -> Self {
        Self {
            sessions,
            pool,
            internal_token,
            metrics,
            admission,
            stream_idle_timeout,
            max_query_duration,
            sql_info: sql_info::sql_info(),
            xdbc_info: sql_info::xdbc_type_info(),
        }
    }

    /// Adds the internal token to a call for an executor.
    pub fn authorize_internal<T>(&self, request: &mut Request<T>) {
        if let Some(token) = &self.internal_token {
            if let Ok(value) = MetadataValue::try_from(token.as_str()) {
                request
                    .metadata_mut()
                    .insert(headers::INTERNAL_TOKEN, value);
            }
        }
    }
}

/// The Flight SQL service clients talk to.
#[derive(Clone)]
pub struct GatewayService {
    state: Arc<GatewayState>,
}

impl GatewayService {
    /// Wraps the shared state.
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self { state }
    }

    fn session(&self, metadata: &MetadataMap) -> Result<Arc<Session>, Status> {
        self.state.sessions.authenticate(metadata)
    }

    /// A request for an executor carrying the internal token, the session and the query id.
    fn outgoing<T>(
        &self,
        message: T,
        session: &Session,
        query_id: &str,
        incoming: &MetadataMap,
    ) -> Request<T> {
        let mut request = Request::new(message);
        self.state.authorize_internal(&mut request);
        let metadata = request.metadata_mut();
        let mut context = session.context();
        context.integer_division = incoming
            .get(headers::INTEGER_DIVISION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"));
        if let Ok(value) = MetadataValue::try_from(context.to_header()) {
            metadata.insert(headers::SESSION, value);
        }
        if let Ok(value) = MetadataValue::try_from(query_id) {
            metadata.insert(headers::QUERY_ID, value);
        }
        if let Some(traceparent) = incoming.get(headers::TRACEPARENT) {
            metadata.insert(headers::TRACEPARENT, traceparent.clone());
        }
        request
    }

    /// Asks an executor for a `FlightInfo` and rewrites its tickets to come back here.
    async fn forward_info(
        &self,
        command: Vec<u8>,
        session: &Session,
        incoming: Request<FlightDescriptor>,
        worker: Arc<Worker>,
    ) -> Result<Response<FlightInfo>, Status> {
        let query_id = uuid::Uuid::new_v4().to_string();
        Span::current().record("query_id", query_id.as_str());
        let (metadata, _, descriptor) = incoming.into_parts();
        let request = self.outgoing(
            FlightDescriptor::new_cmd(command),
            session,
            &query_id,
            &metadata,
        );
        let deadline = self.state.max_query_duration.map(QueryDeadline::after);
        let mut info = self
            .within(deadline, &query_id, async {
                Ok(worker.client().get_flight_info(request).await?.into_inner())
            })
            .await?;
        for endpoint in &mut info.endpoint {
            if let Some(ticket) = endpoint.ticket.take() {
                endpoint.ticket = Some(wrap_ticket(&worker.address, &query_id, ticket));
            }
            endpoint.location.clear();
        }
        info.flight_descriptor = Some(descriptor);
        Ok(Response::new(info))
    }

    /// Runs a credential statement (`CREATE SECRET`, `SET s3_*`, ...) for this session: an
    /// executor validates it without touching a shared engine and returns the session's new
    /// credential list, which the gateway then sends with every later call of the session.
    async fn apply_credentials(
        &self,
        worker: &Worker,
        session: &Session,
        sql: &str,
        metadata: &MetadataMap,
    ) -> Result<(), Status> {
        let action = Action::new(SESSION_CREDENTIAL_ACTION, sql.as_bytes().to_vec());
        let request = self.outgoing(action, session, "", metadata);
        let mut results = worker.client().do_action(request).await?.into_inner();
        let answer = results.message().await?.ok_or_else(|| {
            Status::internal("executor answered a credential statement with nothing")
        })?;
        let context = std::str::from_utf8(&answer.body)
            .ok()
            .and_then(SessionContext::from_header)
            .ok_or_else(|| {
                Status::internal(
                    "executor answered a credential statement with a malformed session",
                )
            })?;
        session.set_credentials(context.credentials);
        info!(user = %session.user, "session credentials changed");
        Ok(())
    }

    /// Forwards a catalog command to the least-loaded executor: they all share one catalog.
    async fn forward_to_any(
        &self,
        command: Vec<u8>,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(request.metadata())?;
        let worker = self.state.pool.pick()?;
        self.forward_info(command, &session, request, worker).await
    }

    async fn forward_action<M: Message + Default>(
        &self,
        worker: &Worker,
        action: Action,
        session: &Session,
        metadata: &MetadataMap,
    ) -> Result<Option<M>, Status> {
        let request = self.outgoing(action, session, "", metadata);
        let mut results = worker.client().do_action(request).await?.into_inner();
        let Some(first) = results.message().await? else {
            return Ok(None);
        };
        let any = Any::decode(first.body.clone());
        let decoded = match any {
            Ok(any) if !any.type_url.is_empty() => M::decode(any.value),
            _ => M::decode(first.body),
        };
        decoded
            .map(Some)
            .map_err(|e| Status::internal(format!("executor sent a malformed action result: {e}")))
    }

    /// Forwards a statement returning no rows (`DoPut` of `command`) and returns its update
    /// count; stopped at `TAVANA_MAX_QUERY_SECS`.
    async fn forward_update(
        &self,
        worker: &Worker,
        command: Vec<u8>,
        session: &Session,
        incoming: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let query_id = uuid::Uuid::new_v4().to_string();
        let deadline = self.state.max_query_duration.map(QueryDeadline::after);
        self.within(deadline, &query_id, async {
            let mut results = self
                .forward_put(worker, command, session, incoming, &query_id)
                .await?;
            update_count(results.message().await?)
        })
        .await
    }

    /// Forwards a DoPut whose first message names `command`, rewritten for the executor.
    async fn forward_put(
        &self,
        worker: &Worker,
        command: Vec<u8>,
        session: &Session,
        incoming: Request<PeekableFlightDataStream>,
        query_id: &str,
    ) -> Result<Streaming<arrow_flight::PutResult>, Status> {
        let (metadata, _, stream) = incoming.into_parts();
        let mut first = true;
        let descriptor = FlightDescriptor::new_cmd(command);
        let rewritten = stream
            .take_while(|item| futures::future::ready(item.is_ok()))
            .filter_map(|item| futures::future::ready(item.ok()))
            .map(move |mut data: FlightData| {
                if first {
                    data.flight_descriptor = Some(descriptor.clone());
                    first = false;
                }
                data
            });
        let request = self.outgoing(rewritten, session, query_id, &metadata);
        Ok(worker.client().do_put(request).await?.into_inner())
    }

    /// Opens the executor's stream for a query ticket and relays its HTTP/2 body untouched
    /// (see `relay`), holding an admission permit for as long as the client reads.
    #[instrument(skip_all, fields(query_id))]
    pub(crate) async fn relay_statement(
        &self,
        query: TicketStatementQuery,
        metadata: &MetadataMap,
    ) -> Result<http::Response<Body>, Status> {
        let session = self.session(metadata)?;
        let envelope = decode_envelope(&query)?;
        Span::current().record("query_id", envelope.query_id.as_str());
        let worker = self.state.pool.by_address(&envelope.executor)?;
        self.relay_from(
            Route::Named(worker),
            envelope.query_id,
            Ticket::new(envelope.inner),
            &session,
            metadata,
        )
        .await
    }

    /// Runs a query given as the ticket itself (see `relay::TicketKind::Query`): as
    /// `GetFlightInfo` then `DoGet` would, in one call to the least-loaded executor, which
    /// checks the statement before it runs (the ticket carries no executor signature).
    #[instrument(skip_all, fields(query_id, user))]
    pub(crate) async fn relay_query(
        &self,
        query: CommandStatementQuery,
        metadata: &MetadataMap,
    ) -> Result<http::Response<Body>, Status> {
        let session = self.session(metadata)?;
        Span::current().record("user", session.user.as_str());
        if is_credential_statement(&query.query) {
            return Err(credential_statement_as_ticket());
        }
        self.relay_now(&session, metadata, |query_id| {
            let statement = ExecutorStatement {
                version: ENVELOPE_VERSION,
                sql: query.query,
                query_id: query_id.to_owned(),
                ..Default::default()
            };
            let ticket = TicketStatementQuery {
                statement_handle: statement.to_bytes(),
            };
            Ticket::new(ticket.as_any().encode_to_vec())
        })
        .await
    }

    /// Runs a prepared query given as the ticket itself (see `relay::TicketKind::Prepared`), with
    /// whatever `DoPut` bound to it: as `GetFlightInfo` then `DoGet` would, in one call to the
    /// least-loaded executor, which checks the statement and plans it once, with its values.
    #[instrument(skip_all, fields(query_id, user))]
    pub(crate) async fn relay_prepared(
        &self,
        command: CommandPreparedStatementQuery,
        metadata: &MetadataMap,
    ) -> Result<http::Response<Body>, Status> {
        let session = self.session(metadata)?;
        Span::current().record("user", session.user.as_str());
        let handle = decode_handle(&command.prepared_statement_handle)?;
        let inner = session.prepared(&handle.id).unwrap_or(handle.inner);
        if credential_sql(&inner).is_some() {
            return Err(credential_statement_as_ticket());
        }
        self.relay_now(&session, metadata, |_| {
            let command = CommandPreparedStatementQuery {
                prepared_statement_handle: inner,
            };
            Ticket::new(command.as_any().encode_to_vec())
        })
        .await
    }

    /// Relays a new query, whose executor ticket `ticket` makes from its query id, from the
    /// least-loaded executor.
    async fn relay_now(
        &self,
        session: &Session,
        metadata: &MetadataMap,
        ticket: impl FnOnce(&str) -> Ticket,
    ) -> Result<http::Response<Body>, Status> {
        let query_id = uuid::Uuid::new_v4().to_string();
        Span::current().record("query_id", query_id.as_str());
        let ticket = ticket(&query_id);
        self.relay_from(Route::LeastLoaded, query_id, ticket, session, metadata)
            .await
    }

    /// Admits the query, opens the executor's stream for the executor ticket `ticket` and
    /// relays it. A query free to go anywhere picks its executor once admitted, so one that
    /// waited in the queue goes to the executor least loaded when it leaves it.
    async fn relay_from(
        &self,
        route: Route,
        query_id: String,
        ticket: Ticket,
        session: &Session,
        metadata: &MetadataMap,
    ) -> Result<http::Response<Body>, Status> {
        let admitted = self.state.admission.admit(&session.user).await?;
        let deadline = self.state.max_query_duration.map(QueryDeadline::after);
        let worker = match route {
            Route::Named(worker) => worker,
            Route::LeastLoaded => self.state.pool.pick()?,
        };
        let running = worker.track();
        let outgoing = self.outgoing(ticket, session, &query_id, metadata);
        let mut channel = worker.channel();
        let opened = async {
            futures::future::poll_fn(|cx| channel.poll_ready(cx))
                .await
                .map_err(|e| Status::unavailable(format!("executor {}: {e}", worker.address)))?;
            channel
                .call(relay::do_get_request(outgoing))
                .await
                .map_err(|e| Status::unavailable(format!("executor {}: {e}", worker.address)))
        };
        let response = self.within(deadline, &query_id, opened).await?;
        debug!(%query_id, user = %session.user, worker = %worker.address, "relaying");
        Ok(relay::RelayBody::relay(
            response,
            self.state.metrics.clone(),
            query_id,
            admitted,
            running,
            StreamLimits {
                idle_timeout: self.state.stream_idle_timeout,
                deadline,
            },
        ))
    }

    /// Runs `call`, an executor call of query `query_id`, stopping it (dropping the call, which
    /// stops the statement on the executor) at `deadline`.
    async fn within<T>(
        &self,
        deadline: Option<QueryDeadline>,
        query_id: &str,
        call: impl Future<Output = Result<T, Status>>,
    ) -> Result<T, Status> {
        let Some(deadline) = deadline else {
            return call.await;
        };
        match tokio::time::timeout_at(deadline.at, call).await {
            Ok(result) => result,
            Err(_) => {
                self.state.metrics.query_timeouts_total.inc();
                info!(%query_id, limit_s = deadline.limit.as_secs(), "query ran past TAVANA_MAX_QUERY_SECS: stopped");
                Err(deadline.exceeded())
            }
        }
    }

    /// The FlightInfo of a foreign-key request (`GetImportedKeys`, `GetExportedKeys`,
    /// `GetCrossReference`), answered by the gateway: lake tables declare no keys.
    fn foreign_keys_info(
        &self,
        command: Vec<u8>,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session(request.metadata())?;
        let schema = Arc::new(foreign_keys_schema());
        self.static_info(schema, command, request.into_inner())
    }

    /// The rows of a foreign-key request: none.
    fn no_foreign_keys(&self, metadata: &MetadataMap) -> Result<Response<DoGetStream>, Status> {
        self.session(metadata)?;
        Ok(Response::new(encode_one(
            arrow::array::RecordBatch::new_empty(Arc::new(foreign_keys_schema())),
        )))
    }

    fn static_info(
        &self,
        schema: arrow::datatypes::SchemaRef,
        command: Vec<u8>,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let info = FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(command)))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }
}

/// The schema of a statement that returns only its affected-row count.
fn count_schema() -> Schema {
    Schema::new(vec![Field::new("Count", DataType::Int64, false)])
}

/// A `FlightInfo` for a statement that already ran: its ticket makes the executor return a
/// count of 0 without running anything.
fn completed_info(worker: &Worker, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
    let query_id = uuid::Uuid::new_v4().to_string();
    let statement = ExecutorStatement {
        version: ENVELOPE_VERSION,
        query_id: query_id.clone(),
        completed_count: Some(0),
        ..Default::default()
    };
    let inner = Ticket::new(
        TicketStatementQuery {
            statement_handle: statement.to_bytes(),
        }
        .as_any()
        .encode_to_vec(),
    );
    Ok(FlightInfo::new()
        .try_with_schema(&count_schema())
        .map_err(|e| Status::internal(e.to_string()))?
        .with_endpoint(FlightEndpoint::new().with_ticket(wrap_ticket(
            &worker.address,
            &query_id,
            inner,
        )))
        .with_descriptor(descriptor))
}

/// The SQL of an executor handle when it is a credential statement.
fn credential_sql(inner: &[u8]) -> Option<String> {
    ExecutorStatement::from_bytes(inner)
        .ok()
        .map(|statement| statement.sql)
        .filter(|sql| is_credential_statement(sql))
}

/// The `FlightInfo` of a prepared query the gateway can answer without an executor: one that
/// returns rows, takes no parameters and has none bound (`ExecutorStatement::runs_as_query`),
/// prepared in this session. Its schema is the one `CreatePreparedStatement` returned and its
/// ticket is the query itself, which `DoGet` admits and runs like the pg-adapter's queries.
/// The executor still holds the plan it made for `CreatePreparedStatement` and runs it then.
/// Nothing runs before the `DoGet`, so `CancelFlightInfo` of it has nothing to cancel.
fn prepared_query_info(
    session: &Session,
    id: &str,
    inner: &[u8],
    descriptor: &FlightDescriptor,
) -> Option<FlightInfo> {
    let schema = session.query_schema(id)?;
    let statement = ExecutorStatement::from_bytes(inner).ok()?;
    // Credential statements never carry the mark: the gateway prepares them itself.
    if !statement.runs_as_query || !statement.parameters_ipc.is_empty() {
        return None;
    }
    let query = CommandStatementQuery {
        query: statement.sql,
        transaction_id: None,
    };
    let mut info = FlightInfo::new()
        .with_endpoint(
            FlightEndpoint::new().with_ticket(Ticket::new(query.as_any().encode_to_vec())),
        )
        .with_descriptor(descriptor.clone())
        .with_ordered(true);
    info.schema = schema;
    Some(info)
}

/// A prepared-statement handle for a credential statement, made without an executor.
fn credential_prepared(
    session: &Session,
    worker: &Worker,
    sql: String,
) -> Result<ActionCreatePreparedStatementResult, Status> {
    let inner = ExecutorStatement {
        version: ENVELOPE_VERSION,
        sql,
        ..Default::default()
    }
    .to_bytes();
    let id = uuid::Uuid::new_v4().to_string();
    session.remember_prepared(&id, inner.clone())?;
    let handle = GatewayHandle {
        version: ENVELOPE_VERSION,
        id,
        executor: worker.address.clone(),
        inner,
    };
    let schema_bytes = |schema: &Schema| -> Result<bytes::Bytes, Status> {
        let arrow_flight::IpcMessage(bytes) =
            arrow_flight::SchemaAsIpc::new(schema, &arrow::ipc::writer::IpcWriteOptions::default())
                .try_into()
                .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(bytes)
    };
    Ok(ActionCreatePreparedStatementResult {
        prepared_statement_handle: handle.to_bytes(),
        dataset_schema: schema_bytes(&count_schema())?,
        parameter_schema: schema_bytes(&Schema::empty())?,
    })
}

/// Why a credential statement cannot be a `DoGet` ticket: it changes the session, which only
/// `GetFlightInfo` carries over to the session's later calls.
fn credential_statement_as_ticket() -> Status {
    Status::invalid_argument(
        "credential statements change the session: send them with GetFlightInfo",
    )
}

fn wrap_ticket(executor: &str, query_id: &str, ticket: Ticket) -> Ticket {
    let envelope = GatewayTicket {
        version: ENVELOPE_VERSION,
        executor: executor.to_owned(),
        query_id: query_id.to_owned(),
        inner: ticket.ticket,
    };
    let command = TicketStatementQuery {
        statement_handle: envelope.to_bytes(),
    };
    Ticket::new(command.as_any().encode_to_vec())
}

fn decode_handle(bytes: &[u8]) -> Result<GatewayHandle, Status> {
    GatewayHandle::from_bytes(bytes).map_err(|e| Status::invalid_argument(e.to_string()))
}

/// The envelope of a query ticket this gateway handed out.
fn decode_envelope(query: &TicketStatementQuery) -> Result<GatewayTicket, Status> {
    GatewayTicket::from_bytes(&query.statement_handle)
        .map_err(|e| Status::invalid_argument(e.to_string()))
}

fn session_value(value: &Option<String>) -> Option<SessionOptionValue> {
    value.as_ref().map(|v| SessionOptionValue {
        option_value: Some(OptionValue::StringValue(v.clone())),
    })
}

#[tonic::async_trait]
impl FlightSqlService for GatewayService {
    type FlightService = GatewayService;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let token = self.state.sessions.handshake(request.metadata())?;
        let bearer = format!("Bearer {token}");
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let mut response: Response<
            Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>,
        > = Response::new(Box::pin(futures::stream::iter([Ok(reply)])));
        let value = MetadataValue::try_from(bearer)
            .map_err(|_| Status::internal("token is not a header value"))?;
        response.metadata_mut().insert("authorization", value);
        Ok(response)
    }

    #[instrument(skip_all, fields(query_id, user))]
    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(request.metadata())?;
        Span::current().record("user", session.user.as_str());
        let worker = self.state.pool.pick()?;
        if is_credential_statement(&query.query) {
            self.apply_credentials(&worker, &session, &query.query, request.metadata())
                .await?;
            return completed_info(&worker, request.into_inner()).map(Response::new);
        }
        self.forward_info(query.as_any().encode_to_vec(), &session, request, worker)
            .await
    }

    #[instrument(skip_all, fields(query_id, user))]
    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(request.metadata())?;
        let handle = decode_handle(&command.prepared_statement_handle)?;
        let inner = session.prepared(&handle.id).unwrap_or(handle.inner);
        if let Some(info) = prepared_query_info(&session, &handle.id, &inner, request.get_ref()) {
            debug!(user = %session.user, "prepared query answered by the gateway");
            return Ok(Response::new(info));
        }
        // Executor handles are self-contained, so any executor can run the statement.
        let worker = self.state.pool.pick()?;
        if let Some(sql) = credential_sql(&inner) {
            self.apply_credentials(&worker, &session, &sql, request.metadata())
                .await?;
            return completed_info(&worker, request.into_inner()).map(Response::new);
        }
        let command = CommandPreparedStatementQuery {
            prepared_statement_handle: inner,
        };
        self.forward_info(command.as_any().encode_to_vec(), &session, request, worker)
            .await
    }

    #[instrument(skip_all, fields(user))]
    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = self.session(request.metadata())?;
        let worker = self.state.pool.pick()?;
        if is_credential_statement(&query.query) {
            // Nothing to prepare on an executor: the statement runs as a credential action
            // when executed. The handle carries it like any executor handle.
            return credential_prepared(&session, &worker, query.query);
        }
        let action = Action::new("CreatePreparedStatement", query.as_any().encode_to_vec());
        let mut result: ActionCreatePreparedStatementResult = self
            .forward_action(&worker, action, &session, request.metadata())
            .await?
            .ok_or_else(|| Status::internal("executor returned no prepared statement"))?;
        let id = uuid::Uuid::new_v4().to_string();
        session.remember_prepared(&id, result.prepared_statement_handle.clone())?;
        if ExecutorStatement::from_bytes(&result.prepared_statement_handle)
            .is_ok_and(|statement| statement.runs_as_query)
        {
            session.remember_query_schema(&id, result.dataset_schema.clone());
        }
        let handle = GatewayHandle {
            version: ENVELOPE_VERSION,
            id,
            executor: worker.address.clone(),
            inner: result.prepared_statement_handle,
        };
        result.prepared_statement_handle = handle.to_bytes();
        Ok(result)
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let session = self.session(request.metadata())?;
        let handle = decode_handle(&query.prepared_statement_handle)?;
        session.forget_prepared(&handle.id);
        Ok(())
    }

    #[instrument(skip_all)]
    async fn do_put_prepared_statement_query(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let session = self.session(request.metadata())?;
        let handle = decode_handle(&command.prepared_statement_handle)?;
        let inner = session
            .prepared(&handle.id)
            .unwrap_or_else(|| handle.inner.clone());
        let worker = self.state.pool.pick()?;
        let forwarded = CommandPreparedStatementQuery {
            prepared_statement_handle: inner.clone(),
        };
        let mut results = self
            .forward_put(
                &worker,
                forwarded.as_any().encode_to_vec(),
                &session,
                request,
                &uuid::Uuid::new_v4().to_string(),
            )
            .await?;
        let bound = match results.message().await? {
            Some(result) => DoPutPreparedStatementResult::decode(result.app_metadata)
                .map_err(|e| {
                    Status::internal(format!("executor sent a malformed DoPut result: {e}"))
                })?
                .prepared_statement_handle
                .unwrap_or(inner),
            None => inner,
        };
        session.remember_prepared(&handle.id, bound.clone())?;
        let updated = GatewayHandle {
            inner: bound,
            ..handle
        };
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(updated.to_bytes()),
        })
    }

    #[instrument(skip_all)]
    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(request.metadata())?;
        let worker = self.state.pool.pick()?;
        if is_credential_statement(&command.query) {
            self.apply_credentials(&worker, &session, &command.query, request.metadata())
                .await?;
            return Ok(0);
        }
        self.forward_update(&worker, command.as_any().encode_to_vec(), &session, request)
            .await
    }

    #[instrument(skip_all)]
    async fn do_put_prepared_statement_update(
        &self,
        command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(request.metadata())?;
        let handle = decode_handle(&command.prepared_statement_handle)?;
        let inner = session.prepared(&handle.id).unwrap_or(handle.inner);
        let worker = self.state.pool.pick()?;
        if let Some(sql) = credential_sql(&inner) {
            self.apply_credentials(&worker, &session, &sql, request.metadata())
                .await?;
            return Ok(0);
        }
        let forwarded = CommandPreparedStatementUpdate {
            prepared_statement_handle: inner,
        };
        self.forward_update(
            &worker,
            forwarded.as_any().encode_to_vec(),
            &session,
            request,
        )
        .await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.forward_to_any(query.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.forward_to_any(query.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.forward_to_any(query.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.forward_to_any(query.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.forward_to_any(query.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.foreign_keys_info(query.as_any().encode_to_vec(), request)
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.foreign_keys_info(query.as_any().encode_to_vec(), request)
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.foreign_keys_info(query.as_any().encode_to_vec(), request)
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.no_foreign_keys(request.metadata())
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.no_foreign_keys(request.metadata())
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.no_foreign_keys(request.metadata())
    }

    async fn do_put_statement_ingest(
        &self,
        _command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.session(request.metadata())?;
        Err(Status::unimplemented(
            "bulk ingestion is not supported: Tavana queries data where it lies; write the data \
             to the lake (Parquet, Delta, Iceberg) and query it there",
        ))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session(request.metadata())?;
        let schema = query.clone().into_builder(&self.state.sql_info).schema();
        self.static_info(schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session(request.metadata())?;
        let schema = query.into_builder(&self.state.xdbc_info).schema();
        self.static_info(schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session(request.metadata())?;
        let batch = query
            .into_builder(&self.state.sql_info)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(encode_one(batch)))
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session(request.metadata())?;
        let batch = query
            .into_builder(&self.state.xdbc_info)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(encode_one(batch)))
    }

    async fn do_get_fallback(
        &self,
        _request: Request<Ticket>,
        message: Any,
    ) -> Result<Response<DoGetStream>, Status> {
        Err(Status::invalid_argument(format!(
            "ticket of type {} was not issued by this gateway",
            message.type_url
        )))
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<DoActionStream>, Status> {
        let session = self.session(request.metadata())?;
        let (metadata, _, action) = request.into_parts();
        let body = match action.r#type.as_str() {
            "CancelFlightInfo" => self
                .cancel(&session, &metadata, &action.body)
                .await?
                .encode_to_vec(),
            options::SET_SESSION_OPTIONS => {
                let set = SetSessionOptionsRequest::decode(action.body).map_err(|e| {
                    Status::invalid_argument(format!("malformed SetSessionOptionsRequest: {e}"))
                })?;
                let mut result = SetSessionOptionsResult::default();
                for (name, value) in set.session_options {
                    let text = match value.option_value {
                        Some(OptionValue::StringValue(text)) => Some(text),
                        None => None,
                        Some(_) => {
                            result.errors.insert(
                                name,
                                SetSessionOptionsError {
                                    value: SetSessionOptionsErrorValue::InvalidValue as i32,
                                },
                            );
                            continue;
                        }
                    };
                    match name.as_str() {
                        "catalog" => session.set_catalog(text),
                        "schema" => session.set_schema(text),
                        _ => {
                            result.errors.insert(
                                name,
                                SetSessionOptionsError {
                                    value: SetSessionOptionsErrorValue::InvalidName as i32,
                                },
                            );
                        }
                    }
                }
                result.encode_to_vec()
            }
            options::GET_SESSION_OPTIONS => {
                let context = session.context();
                let mut result = GetSessionOptionsResult::default();
                // Unset options report the engine's defaults: drivers read these as the
                // current catalog and schema.
                let catalog = context.catalog.or_else(|| Some(DEFAULT_CATALOG.to_owned()));
                let schema = context.schema.or_else(|| Some(DEFAULT_SCHEMA.to_owned()));
                for (name, value) in [
                    ("catalog", session_value(&catalog)),
                    ("schema", session_value(&schema)),
                ] {
                    if let Some(value) = value {
                        result.session_options.insert(name.to_owned(), value);
                    }
                }
                result.encode_to_vec()
            }
            options::CLOSE_SESSION => {
                self.state.sessions.close(&metadata);
                CloseSessionResult {
                    status: CloseSessionStatus::Closed as i32,
                }
                .encode_to_vec()
            }
            other => {
                return Err(Status::unimplemented(format!(
                    "action {other} is not supported"
                )))
            }
        };
        let result = arrow_flight::Result::new(body);
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(result)]))))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

impl GatewayService {
    /// Cancels a query: forwards `CancelFlightInfo` to the executor its ticket names.
    async fn cancel(
        &self,
        session: &Session,
        metadata: &MetadataMap,
        body: &[u8],
    ) -> Result<CancelFlightInfoResult, Status> {
        let request = CancelFlightInfoRequest::decode(body).map_err(|e| {
            Status::invalid_argument(format!("malformed CancelFlightInfoRequest: {e}"))
        })?;
        let mut status = CancelStatus::NotCancellable;
        for endpoint in request.info.map(|info| info.endpoint).unwrap_or_default() {
            let Some(ticket) = endpoint.ticket else {
                continue;
            };
            let Ok(Command::TicketStatementQuery(ticket)) = Any::decode(ticket.ticket)
                .map_err(|_| ())
                .and_then(|any| Command::try_from(any).map_err(|_| ()))
            else {
                continue;
            };
            let envelope = decode_envelope(&ticket)?;
            let worker = self.state.pool.by_address(&envelope.executor)?;
            let inner = FlightInfo::new()
                .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(envelope.inner)));
            let action = Action::new(
                "CancelFlightInfo",
                CancelFlightInfoRequest::new(inner).encode_to_vec(),
            );
            if let Some(result) = self
                .forward_action::<CancelFlightInfoResult>(&worker, action, session, metadata)
                .await?
            {
                status = result.status();
            }
            info!(query_id = %envelope.query_id, ?status, "cancel requested");
        }
        Ok(CancelFlightInfoResult::new(status))
    }
}

fn update_count(result: Option<arrow_flight::PutResult>) -> Result<i64, Status> {
    let Some(result) = result else { return Ok(0) };
    DoPutUpdateResult::decode(result.app_metadata)
        .map(|r| r.record_count)
        .map_err(|e| Status::internal(format!("executor sent a malformed update result: {e}")))
}

/// Flight SQL's result schema of `GetExportedKeys`, `GetImportedKeys` and `GetCrossReference`.
fn foreign_keys_schema() -> Schema {
    let name = |n: &str, nullable: bool| Field::new(n, DataType::Utf8, nullable);
    Schema::new(vec![
        name("pk_catalog_name", true),
        name("pk_db_schema_name", true),
        name("pk_table_name", false),
        name("pk_column_name", false),
        name("fk_catalog_name", true),
        name("fk_db_schema_name", true),
        name("fk_table_name", false),
        name("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        name("fk_key_name", true),
        name("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ])
}

fn encode_one(batch: arrow::array::RecordBatch) -> DoGetStream {
    let stream = arrow_flight::encode::FlightDataEncoderBuilder::new()
        .build(futures::stream::iter([Ok(batch)]))
        .map(|item| item.map_err(|e| Status::internal(e.to_string())));
    Box::pin(stream)
}

/// A client for an executor, for tests and tools.
pub type ExecutorClient = FlightServiceClient<Channel>;

/// Where a query's stream comes from.
enum Route {
    /// The executor its ticket names (it planned the query).
    Named(Arc<Worker>),
    /// The least-loaded executor, chosen once the query is admitted.
    LeastLoaded,
}
