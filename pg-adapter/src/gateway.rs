//! The adapter's only neighbour: a Flight SQL client for the gateway.
//!
//! We use the raw `FlightServiceClient` rather than `FlightSqlServiceClient` because the latter
//! folds every `tonic::Status` into an `ArrowError` string, and the gRPC code is exactly what the
//! SQLSTATE mapping needs (see `error.rs`). One `GatewaySession` exists per PostgreSQL
//! connection; it shares the adapter-wide tonic `Channel` and carries the connection's bearer
//! token.
//!
//! A gateway forgets a session when it restarts or when the session idles past
//! `TAVANA_SESSION_IDLE_SECS`, while the PostgreSQL connection lives on (a pooled connection
//! idle overnight, a gateway container restarted beside its adapter). Every call refused as
//! `UNAUTHENTICATED` is a call the gateway did not run, so the session signs in again with the
//! connection's credentials, gives the new gateway session what the old one held (the schema
//! from `search_path`, the object-store credential statements), and makes the call once more.
//! Gateways sharing a session key open a lost session again from its token by themselves (but
//! not one that held credentials); the adapter keeps the token they last sent, so the one it
//! presents always carries the session's current schema.

use std::future::Future;
use std::sync::{Arc, Mutex};

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandPreparedStatementQuery, CommandStatementQuery,
    DoPutPreparedStatementResult, ProstMessageExt,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, FlightDescriptor, FlightInfo, HandshakeRequest, IpcMessage,
    Ticket,
};
use base64::Engine as _;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

const CREATE_PREPARED_STATEMENT: &str = "CreatePreparedStatement";
const CLOSE_PREPARED_STATEMENT: &str = "ClosePreparedStatement";
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";

/// A Flight SQL session with the gateway on behalf of one PostgreSQL connection.
#[derive(Clone)]
pub(crate) struct GatewaySession {
    client: FlightServiceClient<Channel>,
    login: Arc<Login>,
}

/// What it takes to open the connection's gateway session again (see the module's docs).
struct Login {
    user: String,
    password: String,
    current: Mutex<SessionState>,
    /// Held while signing in again, so that concurrent calls of one connection (a cancel beside
    /// its statement) sign in once.
    renewing: tokio::sync::Mutex<()>,
    /// Gateway sessions opened again (`tavana_pg_adapter_gateway_sessions_renewed_total`).
    renewed: prometheus::IntCounter,
}

/// The gateway session as the adapter knows it.
#[derive(Default)]
struct SessionState {
    authorization: Option<Authorization>,
    /// Bumped by every new sign-in: a refused call renews only the session it was refused in.
    generation: u64,
    /// The schema last set with `SetSessionOptions`.
    schema: Option<String>,
    /// Credential statements the gateway accepted, in order (they are secrets: never logged).
    credentials: Vec<String>,
}

type Authorization = MetadataValue<Ascii>;

/// A statement prepared at the gateway: its handle and both schemas.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) handle: Bytes,
    pub(crate) dataset_schema: SchemaRef,
    pub(crate) parameter_schema: SchemaRef,
}

/// A running query: the FlightInfo (kept for `CancelFlightInfo`; none for a query run from its
/// ticket) and its batch stream.
pub(crate) struct RunningQuery {
    pub(crate) info: Option<FlightInfo>,
    pub(crate) schema: SchemaRef,
    pub(crate) batches: futures::stream::BoxStream<'static, Result<RecordBatch, Status>>,
}

impl GatewaySession {
    /// Authenticates `user` at the gateway with Basic auth and keeps the bearer token it returns
    /// (and the credentials, to sign in again; `renewed` counts those sign-ins).
    pub(crate) async fn connect(
        channel: Channel,
        user: &str,
        password: &str,
        renewed: prometheus::IntCounter,
    ) -> Result<Self, Status> {
        let client = FlightServiceClient::new(channel)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let authorization = handshake(client.clone(), user, password).await?;
        Ok(Self {
            client,
            login: Arc::new(Login {
                user: user.to_owned(),
                password: password.to_owned(),
                current: Mutex::new(SessionState {
                    authorization,
                    ..SessionState::default()
                }),
                renewing: tokio::sync::Mutex::new(()),
                renewed,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.login.current.lock().expect("gateway session state")
    }

    /// Makes a gateway call with the session's token; when the gateway no longer knows the
    /// session, signs in again and makes it once more. A new token in the response (the
    /// gateway refreshes tokens that no longer describe their session, see the gateway's
    /// `tokens`) replaces the session's.
    async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T, Status>
    where
        F: FnMut(FlightServiceClient<Channel>, Option<Authorization>) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let (authorization, generation) = self.token();
        let had_token = authorization.is_some();
        let (response, generation) = match attempt(self.client.clone(), authorization).await {
            Err(status) if status.code() == Code::Unauthenticated && had_token => {
                self.renew(generation, &status).await?;
                let (authorization, generation) = self.token();
                (
                    attempt(self.client.clone(), authorization).await?,
                    generation,
                )
            }
            result => (result?, generation),
        };
        self.take_refreshed_token(generation, &response);
        Ok(response.into_inner())
    }

    /// The session's token now, and the sign-in it belongs to.
    fn token(&self) -> (Option<Authorization>, u64) {
        let state = self.state();
        (state.authorization.clone(), state.generation)
    }

    /// Keeps the token a gateway response carries, if any, unless the session was renewed
    /// meanwhile.
    fn take_refreshed_token<T>(&self, generation: u64, response: &Response<T>) {
        if let Some(token) = refreshed_token(response) {
            let mut state = self.state();
            if state.generation == generation {
                state.authorization = Some(token);
            }
        }
    }

    /// Signs in again after the gateway refused the token of session `generation`, and gives
    /// the new session the schema and credentials the old one had.
    async fn renew(&self, generation: u64, refusal: &Status) -> Result<(), Status> {
        let _renewing = self.login.renewing.lock().await;
        if self.state().generation != generation {
            return Ok(()); // a concurrent call of this connection did it
        }
        let mut authorization =
            handshake(self.client.clone(), &self.login.user, &self.login.password).await?;
        let (schema, credentials) = {
            let state = self.state();
            (state.schema.clone(), state.credentials.clone())
        };
        if schema.is_some() {
            let response = set_schema(
                self.client.clone(),
                authorization.clone(),
                schema.as_deref(),
            )
            .await?;
            authorization = refreshed_token(&response).or(authorization);
        }
        for sql in &credentials {
            let cmd = CommandStatementQuery {
                query: sql.clone(),
                transaction_id: None,
            };
            let descriptor = FlightDescriptor::new_cmd(cmd.as_any().encode_to_vec());
            let mut client = self.client.clone();
            let response = client
                .get_flight_info(authorized(descriptor, authorization.clone()))
                .await?;
            authorization = refreshed_token(&response).or(authorization);
        }
        {
            let mut state = self.state();
            state.authorization = authorization;
            state.generation += 1;
        }
        self.login.renewed.inc();
        tracing::info!(
            user = %self.login.user,
            refusal = refusal.message(),
            replayed_credentials = credentials.len(),
            "the gateway no longer knew this connection's session (it restarted, or the session \
             idled out); signed in again"
        );
        Ok(())
    }

    /// Remembers a credential statement the gateway accepted, to give it to a new gateway
    /// session should this one be lost.
    pub(crate) fn remember_credential_statement(&self, sql: &str) {
        self.state().credentials.push(sql.to_owned());
    }

    async fn flight_info(&self, cmd: Any) -> Result<FlightInfo, Status> {
        let descriptor = FlightDescriptor::new_cmd(cmd.encode_to_vec());
        self.call(|mut client, authorization| {
            let request = authorized(descriptor.clone(), authorization);
            async move { client.get_flight_info(request).await }
        })
        .await
    }

    /// Makes a `DoAction` call and returns its results.
    async fn action(&self, action: Action) -> Result<Vec<arrow_flight::Result>, Status> {
        self.call(|mut client, authorization| {
            let request = authorized(action.clone(), authorization);
            async move { client.do_action(request).await }
        })
        .await?
        .try_collect()
        .await
    }

    /// Starts `sql` (no parameters) and opens its result stream.
    pub(crate) async fn query(&self, sql: &str) -> Result<RunningQuery, Status> {
        let cmd = CommandStatementQuery {
            query: sql.to_owned(),
            transaction_id: None,
        };
        let info = self.flight_info(cmd.as_any()).await?;
        self.open(info).await
    }

    /// Runs `sql` (no parameters, returning rows) in one call: the query itself is the `DoGet`
    /// ticket, and the schema comes from the stream (see the gateway's `relay`). Saves the
    /// `GetFlightInfo` round trip through the gateway and executor.
    pub(crate) async fn stream_query(&self, sql: &str) -> Result<RunningQuery, Status> {
        let cmd = CommandStatementQuery {
            query: sql.to_owned(),
            transaction_id: None,
        };
        let ticket = Ticket::new(cmd.as_any().encode_to_vec());
        self.open_tickets(None, Arc::new(Schema::empty()), vec![ticket])
            .await
    }

    /// Prepares `sql` at the gateway.
    pub(crate) async fn prepare(&self, sql: &str) -> Result<Prepared, Status> {
        let cmd = ActionCreatePreparedStatementRequest {
            query: sql.to_owned(),
            transaction_id: None,
        };
        let action = Action {
            r#type: CREATE_PREPARED_STATEMENT.to_owned(),
            body: cmd.as_any().encode_to_vec().into(),
        };
        let result = self
            .action(action)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Status::internal("gateway sent no prepared statement"))?;
        let any = Any::decode(result.body).map_err(|e| Status::internal(e.to_string()))?;
        let prepared: ActionCreatePreparedStatementResult = any
            .unpack()
            .map_err(|e| Status::internal(e.to_string()))?
            .ok_or_else(|| Status::internal("gateway sent an unexpected action result"))?;
        Ok(Prepared {
            handle: prepared.prepared_statement_handle,
            dataset_schema: Arc::new(decode_schema(prepared.dataset_schema)?),
            parameter_schema: Arc::new(decode_schema(prepared.parameter_schema)?),
        })
    }

    /// Binds one row of parameters to a prepared statement; returns the (possibly new) handle.
    pub(crate) async fn bind(&self, handle: &Bytes, params: RecordBatch) -> Result<Bytes, Status> {
        let cmd = CommandPreparedStatementQuery {
            prepared_statement_handle: handle.clone(),
        };
        let descriptor = FlightDescriptor::new_cmd(cmd.as_any().encode_to_vec());
        let data: Vec<_> = FlightDataEncoderBuilder::new()
            .with_flight_descriptor(Some(descriptor))
            .with_schema(params.schema())
            .build(futures::stream::iter(vec![Ok(params)]))
            .try_collect()
            .await
            .map_err(flight_to_status)?;
        let results: Vec<arrow_flight::PutResult> = self
            .call(|mut client, authorization| {
                let request = authorized(futures::stream::iter(data.clone()), authorization);
                async move { client.do_put(request).await }
            })
            .await?
            .try_collect()
            .await?;
        let mut handle = handle.clone();
        if let Some(result) = results.into_iter().next() {
            if !result.app_metadata.is_empty() {
                if let Ok(put) = DoPutPreparedStatementResult::decode(result.app_metadata) {
                    if let Some(new_handle) = put.prepared_statement_handle {
                        handle = new_handle;
                    }
                }
            }
        }
        Ok(handle)
    }

    /// Executes a prepared statement (with whatever was bound) and opens its result stream.
    pub(crate) async fn execute_prepared(&self, handle: &Bytes) -> Result<RunningQuery, Status> {
        let cmd = CommandPreparedStatementQuery {
            prepared_statement_handle: handle.clone(),
        };
        let info = self.flight_info(cmd.as_any()).await?;
        self.open(info).await
    }

    /// Runs a prepared query (with whatever was bound) in one call, like [`Self::stream_query`]:
    /// the command itself is the `DoGet` ticket and the schema comes from the stream.
    pub(crate) async fn stream_prepared(&self, handle: &Bytes) -> Result<RunningQuery, Status> {
        let cmd = CommandPreparedStatementQuery {
            prepared_statement_handle: handle.clone(),
        };
        let ticket = Ticket::new(cmd.as_any().encode_to_vec());
        self.open_tickets(None, Arc::new(Schema::empty()), vec![ticket])
            .await
    }

    /// Releases a prepared statement at the gateway.
    pub(crate) async fn close_prepared(&self, handle: Bytes) -> Result<(), Status> {
        let cmd = ActionClosePreparedStatementRequest {
            prepared_statement_handle: handle,
        };
        let action = Action {
            r#type: CLOSE_PREPARED_STATEMENT.to_owned(),
            body: cmd.as_any().encode_to_vec().into(),
        };
        self.action(action).await.map(drop)
    }

    /// Ends the gateway session (Flight SQL `CloseSession`), so the gateway forgets its token
    /// and state now rather than when it has been idle for hours.
    pub(crate) async fn close_session(&self) -> Result<(), Status> {
        let action = Action {
            r#type: tavana_proto::session_options::CLOSE_SESSION.to_owned(),
            body: Bytes::new(),
        };
        // A session the gateway has lost needs no closing: no renewal here.
        let authorization = self.state().authorization.clone();
        let mut client = self.client.clone();
        let mut stream = client
            .do_action(authorized(action, authorization))
            .await?
            .into_inner();
        while stream.message().await?.is_some() {}
        Ok(())
    }

    /// Sets (or, with `None`, unsets) the gateway session's schema for unqualified names.
    pub(crate) async fn set_schema(&self, schema: Option<&str>) -> Result<(), Status> {
        self.call(|client, authorization| set_schema(client, authorization, schema))
            .await?;
        self.state().schema = schema.map(str::to_owned);
        Ok(())
    }

    /// Asks the gateway to cancel a running query (`CancelFlightInfo`).
    pub(crate) async fn cancel(&self, info: FlightInfo) -> Result<(), Status> {
        let request = CancelFlightInfoRequest::new(info);
        let action = Action {
            r#type: CANCEL_FLIGHT_INFO.to_owned(),
            body: request.encode_to_vec().into(),
        };
        self.action(action).await.map(drop)
    }

    /// Opens the stream of every endpoint of `info`, one after the other.
    async fn open(&self, info: FlightInfo) -> Result<RunningQuery, Status> {
        let schema: SchemaRef = Arc::new(
            info.clone()
                .try_decode_schema()
                .map_err(|e| Status::internal(format!("bad schema from gateway: {e}")))?,
        );
        let tickets: Vec<Ticket> = info
            .endpoint
            .iter()
            .filter_map(|e| e.ticket.clone())
            .collect();
        self.open_tickets(Some(info), schema, tickets).await
    }

    /// Opens the streams of `tickets`, one after the other; an empty `schema` is read from the
    /// first stream.
    async fn open_tickets(
        &self,
        info: Option<FlightInfo>,
        mut schema: SchemaRef,
        tickets: Vec<Ticket>,
    ) -> Result<RunningQuery, Status> {
        let mut streams = Vec::with_capacity(tickets.len());
        // Open the first stream eagerly so that an immediate failure surfaces as the
        // statement's error; later endpoints open lazily in order.
        let mut first = None;
        if let Some(ticket) = tickets.first() {
            let mut stream = self.decode(ticket.clone()).await?;
            if schema.fields().is_empty() {
                // The prepared statement could not be typed before its parameters were bound
                // (the FlightInfo has no schema): the stream's own schema message has it, even
                // when no batch follows. Pull up to the first batch to read it.
                let head = stream.next().await;
                if let Some(s) = stream.schema() {
                    schema = Arc::clone(s);
                }
                let head = futures::stream::iter(head.map(|item| item.map_err(flight_to_status)));
                first = Some(head.chain(stream.map_err(flight_to_status)).boxed());
            } else {
                first = Some(stream.map_err(flight_to_status).boxed());
            }
        }
        for ticket in tickets.into_iter().skip(1) {
            streams.push(ticket);
        }
        let this = self.clone();
        let rest = futures::stream::iter(streams)
            .then(move |ticket| {
                let this = this.clone();
                async move { this.do_get(ticket).await }
            })
            .try_flatten();
        let batches = match first {
            Some(first) => first.chain(rest).boxed(),
            None => rest.boxed(),
        };
        Ok(RunningQuery {
            info,
            schema,
            batches,
        })
    }

    async fn do_get(
        &self,
        ticket: Ticket,
    ) -> Result<futures::stream::BoxStream<'static, Result<RecordBatch, Status>>, Status> {
        Ok(self.decode(ticket).await?.map_err(flight_to_status).boxed())
    }

    /// Opens the DoGet stream of `ticket`, decoded into record batches.
    async fn decode(&self, ticket: Ticket) -> Result<FlightRecordBatchStream, Status> {
        let stream = self
            .call(|mut client, authorization| {
                let request = authorized(ticket.clone(), authorization);
                async move { client.do_get(request).await }
            })
            .await?;
        Ok(FlightRecordBatchStream::new_from_flight_data(
            stream.map_err(FlightError::from),
        ))
    }
}

/// `message` as a request carrying the session's bearer token, and asking for PostgreSQL's integer
/// division.
fn authorized<T>(message: T, authorization: Option<Authorization>) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    if let Some(authorization) = authorization {
        metadata.insert("authorization", authorization);
    }
    // `7 / 2` is 3 for PostgreSQL's clients, as on PostgreSQL.
    metadata.insert(
        tavana_proto::headers::INTEGER_DIVISION,
        MetadataValue::from_static("true"),
    );
    request
}

/// Signs `user` in with Basic auth; returns the bearer token the gateway gives (none when it
/// runs without authentication).
async fn handshake(
    mut client: FlightServiceClient<Channel>,
    user: &str,
    password: &str,
) -> Result<Option<Authorization>, Status> {
    let mut request = Request::new(futures::stream::iter(vec![HandshakeRequest {
        protocol_version: 0,
        payload: Bytes::new(),
    }]));
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    request.metadata_mut().insert(
        "authorization",
        basic
            .parse()
            .map_err(|_| Status::invalid_argument("user name is not a valid header"))?,
    );
    let response = client.handshake(request).await?;
    let authorization = response.metadata().get("authorization").cloned();
    // Drain the handshake responses so the stream ends cleanly.
    let _ = response.into_inner().try_collect::<Vec<_>>().await?;
    Ok(authorization)
}

/// The new bearer token a gateway response carries, if any.
fn refreshed_token<T>(response: &Response<T>) -> Option<Authorization> {
    response.metadata().get("authorization").cloned()
}

/// `SetSessionOptions` of the session's schema (`None`: unset). The response's headers are
/// kept: they carry the session's new token.
async fn set_schema(
    mut client: FlightServiceClient<Channel>,
    authorization: Option<Authorization>,
    schema: Option<&str>,
) -> Result<Response<()>, Status> {
    use tavana_proto::session_options::{
        OptionValue, SessionOptionValue, SetSessionOptionsRequest, SetSessionOptionsResult,
        SET_SESSION_OPTIONS,
    };
    let value = SessionOptionValue {
        option_value: schema.map(|s| OptionValue::StringValue(s.to_owned())),
    };
    let request = SetSessionOptionsRequest {
        session_options: [("schema".to_owned(), value)].into_iter().collect(),
    };
    let action = Action {
        r#type: SET_SESSION_OPTIONS.to_owned(),
        body: request.encode_to_vec().into(),
    };
    let (metadata, mut stream, extensions) = client
        .do_action(authorized(action, authorization))
        .await?
        .into_parts();
    while let Some(result) = stream.message().await? {
        let result = SetSessionOptionsResult::decode(result.body)
            .map_err(|e| Status::internal(format!("bad SetSessionOptions result: {e}")))?;
        if let Some((name, error)) = result.errors.into_iter().next() {
            return Err(Status::invalid_argument(format!(
                "the gateway did not set session option {name} ({:?})",
                error.value
            )));
        }
    }
    Ok(Response::from_parts(metadata, (), extensions))
}

fn decode_schema(bytes: Bytes) -> Result<Schema, Status> {
    if bytes.is_empty() {
        return Ok(Schema::empty());
    }
    Schema::try_from(IpcMessage(bytes))
        .map_err(|e| Status::internal(format!("bad schema from gateway: {e}")))
}

/// Keeps a gRPC status intact through arrow-flight's error type.
pub(crate) fn flight_to_status(error: FlightError) -> Status {
    match error {
        FlightError::Tonic(status) => *status,
        other => Status::internal(other.to_string()),
    }
}
