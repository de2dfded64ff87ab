//! The executor's Arrow Flight SQL service. The gateway is its only client: it forwards the
//! commands users send and relays the `FlightData` this service produces without decoding it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetPrimaryKeys, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightDescriptor,
    FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket,
};
use duckdb::types::Value;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tavana_proto::messages::ENVELOPE_VERSION;
use tavana_proto::{headers, ExecutorStatement, SessionContext};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};
use tracing::{info_span, instrument, Instrument};

use crate::engine::{Engine, WaitingFor};
use crate::error::ExecutorError;
use crate::ffi::PreparedQuery;
use crate::params;
use crate::signing::StatementSigner;
use crate::statement_log::Ended;

/// Largest parameter payload accepted in one `DoPut` (parameters are values, not data loads).
const MAX_PARAMETER_BYTES: usize = 16 * 1024 * 1024;

type FlightDataStream =
    Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send + 'static>>;

/// Serves one DuckDB [`Engine`] over Flight SQL.
#[derive(Clone)]
pub struct ExecutorService {
    engine: Arc<Engine>,
    signer: StatementSigner,
}

impl ExecutorService {
    /// Wraps an open engine; `signer` vouches for the statements this executor checked.
    pub fn new(engine: Arc<Engine>, signer: StatementSigner) -> Self {
        Self { engine, signer }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine) -> Result<T, ExecutorError> + Send + 'static,
    ) -> Result<T, Status> {
        let engine = Arc::clone(&self.engine);
        tokio::task::spawn_blocking(move || work(&engine))
            .await
            .map_err(|e| Status::internal(format!("engine task failed: {e}")))?
            .map_err(Status::from)
    }

    /// Runs `sql`, a statement returning no rows, once per row of `rows` (once when there are
    /// none) on a blocking thread, registered as `query_id`, and returns the rows it affected.
    /// With `check`, the statement is first checked against the sandbox (no executor vouched
    /// for it). If the call is dropped first (the client went away, or the gateway stopped
    /// the query at `TAVANA_MAX_QUERY_SECS`), the statement is interrupted.
    async fn run_update(
        &self,
        session: SessionContext,
        sql: String,
        query_id: String,
        rows: Vec<Vec<Value>>,
        check: bool,
    ) -> Result<i64, Status> {
        let started = Instant::now();
        let unfinished = CancelOnDrop {
            engine: Arc::clone(&self.engine),
            query_id: Some(query_id.clone()),
            user: session.user.clone(),
            sql: sql.clone(),
            started,
        };
        let result = self
            .blocking(move |engine| {
                if check {
                    engine.describe(&session, &sql)?;
                }
                engine.execute_update(&session, &sql, rows, &query_id)
            })
            .await;
        let ended = match &result {
            Ok(count) => Ended::Finished {
                rows: u64::try_from(*count).unwrap_or_default(),
            },
            Err(status) if status.code() == tonic::Code::Cancelled => Ended::Cancelled,
            Err(status) => Ended::Failed(status.message()),
        };
        unfinished.finish(ended);
        result
    }

    async fn prepare(
        &self,
        session: &SessionContext,
        sql: String,
        parameters: Vec<Value>,
    ) -> Result<PreparedQuery, Status> {
        let started = Instant::now();
        let logged = sql.clone();
        self.engine
            .prepare(session.clone(), sql, parameters)
            .await
            .map_err(|error| {
                let status = Status::from(error);
                self.engine.statement_log().record(
                    &session.user,
                    &logged,
                    started.elapsed(),
                    Ended::Failed(status.message()),
                );
                status
            })
    }

    /// The plan a `CreatePreparedStatement` kept for this session and text (and so checked
    /// already) when no `parameters` are to be bound, or a new one with them bound.
    async fn reuse_or_prepare(
        &self,
        session: &SessionContext,
        sql: &str,
        parameters: Vec<Value>,
    ) -> Result<PreparedQuery, Status> {
        let kept = parameters
            .is_empty()
            .then(|| self.engine.take_parked(WaitingFor::SameText, session, sql))
            .flatten();
        match kept {
            Some(prepared) => Ok(prepared),
            None => self.prepare(session, sql.to_owned(), parameters).await,
        }
    }

    /// Prepares a statement for its `FlightInfo` and returns the schema its ticket's stream
    /// will have. A query is kept prepared, its parameters bound, for the `DoGet` (see
    /// `parked`); a statement that returns no rows runs now (see [`Self::run_if_no_rows`]).
    async fn plan_statement(
        &self,
        session: &SessionContext,
        statement: &mut ExecutorStatement,
    ) -> Result<SchemaRef, Status> {
        let bound = Bound::of(statement)?;
        let batch = matches!(bound, Bound::Batch(_));
        let prepared = self
            .reuse_or_prepare(session, &statement.sql, bound.into_single())
            .await?;
        let schema = self
            .run_if_no_rows(session, statement, &prepared.description)
            .await?;
        if statement.completed_count.is_none() && !batch {
            let waiting_for = WaitingFor::DoGet(&statement.query_id);
            self.engine
                .park(waiting_for, session, &statement.sql, prepared);
        }
        Ok(schema)
    }

    fn statement_info(
        &self,
        statement: &ExecutorStatement,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let ticket = TicketStatementQuery {
            statement_handle: self.signer.seal(statement),
        };
        info_for(
            schema,
            Ticket::new(ticket.as_any().encode_to_vec()),
            descriptor,
        )
    }

    async fn stream_statement(
        &self,
        session: SessionContext,
        statement: ExecutorStatement,
        checked: bool,
    ) -> Result<FlightDataStream, Status> {
        if let Some(count) = statement.completed_count {
            let batch = RecordBatch::try_new(
                count_schema(),
                vec![Arc::new(arrow::array::Int64Array::from(vec![count]))],
            )
            .map_err(|e| Status::internal(e.to_string()))?;
            return Ok(one_batch(batch));
        }
        let span = info_span!("query", query_id = %statement.query_id, user = %session.user);
        // A ticket is only as trustworthy as its bearer: unless an executor signed it after
        // checking the statement, check it again now. A signed one may find its statement
        // still prepared, with its parameters bound.
        let parked = checked
            .then(|| {
                self.engine.take_parked(
                    WaitingFor::DoGet(&statement.query_id),
                    &session,
                    &statement.sql,
                )
            })
            .flatten();
        let (prepared, rows) = match (parked, Bound::of(&statement)?) {
            (Some(parked), _) => (Some(parked), Vec::new()),
            (None, Bound::Batch(rows)) => {
                if !checked {
                    self.prepare(&session, statement.sql.clone(), Vec::new())
                        .instrument(span.clone())
                        .await?;
                }
                (None, rows)
            }
            (None, single) => {
                let prepared = self
                    .reuse_or_prepare(&session, &statement.sql, single.into_single())
                    .instrument(span.clone())
                    .await?;
                (Some(prepared), Vec::new())
            }
        };
        let stream = self
            .engine
            .start_query(&session, statement.sql, rows, statement.query_id, prepared)
            .instrument(span)
            .await
            .map_err(Status::from)?;
        Ok(encode_batches(
            stream.schema(),
            stream.map_err(|e| FlightError::Tonic(Box::new(e.into()))),
        ))
    }

    /// Runs a statement that returns no rows now (DDL, DML, SET, ...) and records its count in
    /// the ticket; returns the schema the ticket's stream will have.
    async fn run_if_no_rows(
        &self,
        session: &SessionContext,
        statement: &mut ExecutorStatement,
        description: &crate::ffi::Description,
    ) -> Result<SchemaRef, Status> {
        if description.statement_type.returns_rows() {
            return Ok(Arc::clone(&description.dataset_schema));
        }
        let rows = params::decode_parameters(&statement.parameters_ipc).map_err(Status::from)?;
        let count = self
            .run_update(
                session.clone(),
                statement.sql.clone(),
                statement.query_id.clone(),
                rows,
                false,
            )
            .await?;
        statement.completed_count = Some(count);
        Ok(count_schema())
    }

    async fn metadata_batch(&self, command: MetadataCommand) -> Result<RecordBatch, Status> {
        self.blocking(move |engine| crate::catalog::build(engine, command))
            .await
    }

    async fn metadata_stream(
        &self,
        command: MetadataCommand,
    ) -> Result<Response<FlightDataStream>, Status> {
        let batch = self.metadata_batch(command).await?;
        Ok(Response::new(one_batch(batch)))
    }
}

/// A catalog command served from DuckDB's own catalog.
pub(crate) enum MetadataCommand {
    Catalogs(CommandGetCatalogs),
    Schemas(CommandGetDbSchemas),
    Tables(CommandGetTables),
    TableTypes(CommandGetTableTypes),
    PrimaryKeys,
}

/// The schema a result's stream carries. arrow-flight's encoder sends dictionary columns
/// (DuckDB's ENUM) as their values and rebuilds union fields as non-nullable, so every schema
/// announced before the stream (FlightInfo, prepared statements, table schemas) is given in the
/// same form: ADBC refuses a stream whose schema differs from the one announced.
pub(crate) fn wire_schema(schema: &Schema) -> std::borrow::Cow<'_, Schema> {
    fn changes_on_the_wire(data_type: &DataType) -> bool {
        match data_type {
            DataType::Dictionary(_, _) | DataType::Union(_, _) => true,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _)
            | DataType::Map(f, _) => changes_on_the_wire(f.data_type()),
            DataType::Struct(fields) => fields.iter().any(|f| changes_on_the_wire(f.data_type())),
            DataType::RunEndEncoded(_, values) => changes_on_the_wire(values.data_type()),
            _ => false,
        }
    }
    if !schema
        .fields()
        .iter()
        .any(|f| changes_on_the_wire(f.data_type()))
    {
        return std::borrow::Cow::Borrowed(schema);
    }
    let sent = FlightDataEncoderBuilder::new()
        .with_schema(Arc::new(schema.clone()))
        .build(futures::stream::empty())
        .known_schema();
    match sent {
        Some(sent) => std::borrow::Cow::Owned(sent.as_ref().clone()),
        None => std::borrow::Cow::Borrowed(schema),
    }
}

fn info_for(
    schema: &Schema,
    ticket: Ticket,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(&wire_schema(schema))
        .map_err(|e| Status::internal(format!("cannot encode schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
        .with_descriptor(descriptor)
        .with_ordered(true))
}

fn encode_batches(
    schema: SchemaRef,
    batches: impl Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
) -> FlightDataStream {
    Box::pin(
        FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(|error| match error {
                FlightError::Tonic(status) => *status,
                other => Status::internal(other.to_string()),
            }),
    )
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: arrow::error::ArrowError| {
            Status::internal(format!("cannot encode schema: {e}"))
        })?;
    Ok(bytes)
}

/// Cancels a query when dropped, unless disarmed: a call dropped before its statement
/// finished stops the statement.
struct CancelOnDrop {
    engine: Arc<Engine>,
    query_id: Option<String>,
    /// For the statement log: who ran what, since when.
    user: String,
    sql: String,
    started: Instant,
}

impl CancelOnDrop {
    /// The statement ended as `ended`: log it, and cancel nothing.
    fn finish(mut self, ended: Ended<'_>) {
        self.query_id = None;
        self.record(ended);
    }

    fn record(&self, ended: Ended<'_>) {
        self.engine
            .statement_log()
            .record(&self.user, &self.sql, self.started.elapsed(), ended);
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(query_id) = self.query_id.take() {
            self.engine.abandon(&query_id);
            self.record(Ended::Cancelled);
        }
    }
}

fn query_id(metadata: &MetadataMap) -> String {
    metadata
        .get(headers::QUERY_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The session the gateway says this call belongs to: user (for logs) and default schema.
fn session(metadata: &MetadataMap) -> SessionContext {
    metadata
        .get(headers::SESSION)
        .and_then(|v| v.to_str().ok())
        .and_then(SessionContext::from_header)
        .unwrap_or_default()
}

/// The parameter values bound to a statement.
enum Bound {
    /// None, or one value per placeholder: bound to the statement itself, so that a query is
    /// planned once, with its values.
    Single(Vec<Value>),
    /// Several rows of values (a batch): the statement runs once per row.
    Batch(Vec<Vec<Value>>),
}

impl Bound {
    fn of(statement: &ExecutorStatement) -> Result<Self, Status> {
        let mut rows =
            params::decode_parameters(&statement.parameters_ipc).map_err(Status::from)?;
        Ok(if rows.len() > 1 {
            Bound::Batch(rows)
        } else {
            Bound::Single(rows.pop().unwrap_or_default())
        })
    }

    /// The values to bind to the statement: none for a batch, which is only described.
    fn into_single(self) -> Vec<Value> {
        match self {
            Bound::Single(values) => values,
            Bound::Batch(_) => Vec::new(),
        }
    }
}

fn decode_statement(bytes: &[u8]) -> Result<ExecutorStatement, Status> {
    ExecutorStatement::from_bytes(bytes).map_err(|e| Status::invalid_argument(e.to_string()))
}

async fn read_parameter_batches(
    stream: PeekableFlightDataStream,
) -> Result<Vec<RecordBatch>, Status> {
    let mut total = 0usize;
    let flight_data = stream.map(move |data| {
        let data = data?;
        total += data.data_body.len() + data.data_header.len();
        if total > MAX_PARAMETER_BYTES {
            return Err(Status::invalid_argument(format!(
                "bound parameters exceed {MAX_PARAMETER_BYTES} bytes"
            )));
        }
        Ok(data)
    });
    arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
        flight_data.map_err(|s| FlightError::Tonic(Box::new(s))),
    )
    .try_collect()
    .await
    .map_err(|e| Status::invalid_argument(format!("malformed parameter batch: {e}")))
}

#[tonic::async_trait]
impl FlightSqlService for ExecutorService {
    type FlightService = ExecutorService;

    #[instrument(skip_all, fields(query_id))]
    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let query_id = query_id(request.metadata());
        tracing::Span::current().record("query_id", query_id.as_str());
        let session = session(request.metadata());
        tracing::debug!(user = %session.user, "describe statement");
        let mut statement = ExecutorStatement {
            version: ENVELOPE_VERSION,
            sql: query.query,
            parameters_ipc: Default::default(),
            query_id,
            ..Default::default()
        };
        let schema = self.plan_statement(&session, &mut statement).await?;
        let info = self.statement_info(&statement, &schema, request.into_inner())?;
        Ok(Response::new(info))
    }

    #[instrument(skip_all)]
    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let mut statement = decode_statement(&command.prepared_statement_handle)?;
        statement.query_id = query_id(request.metadata());
        let session = session(request.metadata());
        let schema = self.plan_statement(&session, &mut statement).await?;
        let info = self.statement_info(&statement, &schema, request.into_inner())?;
        Ok(Response::new(info))
    }

    #[instrument(skip_all)]
    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        let (statement, checked) = self.signer.open(&ticket.statement_handle)?;
        Ok(Response::new(
            self.stream_statement(session(request.metadata()), statement, checked)
                .await?,
        ))
    }

    async fn do_get_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        let mut statement = decode_statement(&command.prepared_statement_handle)?;
        statement.query_id = query_id(request.metadata());
        Ok(Response::new(
            self.stream_statement(session(request.metadata()), statement, false)
                .await?,
        ))
    }

    #[instrument(skip_all)]
    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = session(request.metadata());
        let prepared = self
            .prepare(&session, query.query.clone(), Vec::new())
            .await?;
        let description = prepared.description.clone();
        let runs_as_query = description.statement_type.returns_rows()
            && description.parameter_schema.fields().is_empty();
        // A query is usually run right away: keep the plan for the call that runs it. A
        // statement with parameters is run with them bound, by a statement of its own.
        if runs_as_query {
            self.engine
                .park(WaitingFor::SameText, &session, &query.query, prepared);
        }
        let statement = ExecutorStatement {
            version: ENVELOPE_VERSION,
            sql: query.query,
            runs_as_query,
            ..Default::default()
        };
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: self.signer.seal(&statement),
            dataset_schema: schema_bytes(&wire_schema(&description.dataset_schema))?,
            parameter_schema: schema_bytes(&description.parameter_schema)?,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        // Handles carry everything; there is nothing to release.
        Ok(())
    }

    #[instrument(skip_all)]
    async fn do_put_prepared_statement_query(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let (mut statement, checked) = self.signer.open(&command.prepared_statement_handle)?;
        let batches = read_parameter_batches(request.into_inner()).await?;
        statement.parameters_ipc = params::encode_parameters(&batches).map_err(Status::from)?;
        // Parameters do not change what a statement is; the vouching carries over.
        let handle = if checked {
            self.signer.seal(&statement)
        } else {
            StatementSigner::plain(&statement)
        };
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle),
        })
    }

    #[instrument(skip_all)]
    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let query_id = query_id(request.metadata());
        let session = session(request.metadata());
        self.run_update(session, command.query, query_id, Vec::new(), true)
            .await
    }

    #[instrument(skip_all)]
    async fn do_put_prepared_statement_update(
        &self,
        command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let query_id = query_id(request.metadata());
        let session = session(request.metadata());
        let statement = decode_statement(&command.prepared_statement_handle)?;
        let batches = read_parameter_batches(request.into_inner()).await?;
        let mut rows = Vec::new();
        for batch in &batches {
            rows.extend(params::batch_to_rows(batch).map_err(Status::from)?);
        }
        if rows.is_empty() {
            rows = params::decode_parameters(&statement.parameters_ipc).map_err(Status::from)?;
        }
        self.run_update(session, statement.sql, query_id, rows, true)
            .await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(&query.into_builder().schema(), &query, request)
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(&query.clone().into_builder().schema(), &query, request)
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(&query.clone().into_builder().schema(), &query, request)
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(&query.into_builder().schema(), &query, request)
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        metadata_info(&primary_keys_schema(), &query, request)
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        self.metadata_stream(MetadataCommand::Catalogs(query)).await
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        self.metadata_stream(MetadataCommand::Schemas(query)).await
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        self.metadata_stream(MetadataCommand::Tables(query)).await
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        self.metadata_stream(MetadataCommand::TableTypes(query))
            .await
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        _request: Request<Ticket>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoGetStream>,
        Status,
    > {
        self.metadata_stream(MetadataCommand::PrimaryKeys).await
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<
        Response<<Self as arrow_flight::flight_service_server::FlightService>::DoActionStream>,
        Status,
    > {
        if request.get_ref().r#type == tavana_proto::messages::SESSION_CREDENTIAL_ACTION {
            let session = session(request.metadata());
            return crate::lake::session::serve_action(
                Arc::clone(&self.engine),
                session,
                request.into_inner().body,
            )
            .await;
        }
        let action = request.into_inner();
        if action.r#type == tavana_proto::messages::EXECUTOR_STATUS_ACTION {
            let status = serde_json::to_vec(&self.engine.status())
                .map_err(|e| Status::internal(format!("encoding the executor status: {e}")))?;
            let result = arrow_flight::Result::new(status);
            return Ok(Response::new(Box::pin(futures::stream::iter([Ok(result)]))));
        }
        if action.r#type != "CancelFlightInfo" {
            return Err(Status::unimplemented(format!(
                "action {} is not supported",
                action.r#type
            )));
        }
        let cancel = CancelFlightInfoRequest::decode(action.body).map_err(|e| {
            Status::invalid_argument(format!("malformed CancelFlightInfoRequest: {e}"))
        })?;
        let mut status = CancelStatus::NotCancellable;
        for endpoint in cancel.info.map(|info| info.endpoint).unwrap_or_default() {
            let Some(ticket) = endpoint.ticket else {
                continue;
            };
            let Ok(any) = Any::decode(ticket.ticket) else {
                continue;
            };
            let Ok(Some(ticket)) = any.unpack::<TicketStatementQuery>() else {
                continue;
            };
            let statement = decode_statement(&ticket.statement_handle)?;
            status = if self.engine.cancel(&statement.query_id) {
                CancelStatus::Cancelled
            } else {
                CancelStatus::NotCancellable
            };
        }
        let result = CancelFlightInfoResult::new(status);
        let body = arrow_flight::Result::new(result.encode_to_vec());
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(body)]))))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// The result of a statement that returns no rows: its affected-row count, as DuckDB reports it.
fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "Count",
        DataType::Int64,
        false,
    )]))
}

/// A `FlightInfo` whose ticket is the catalog command itself.
fn metadata_info(
    schema: &Schema,
    command: &impl ProstMessageExt,
    request: Request<FlightDescriptor>,
) -> Result<Response<FlightInfo>, Status> {
    let ticket = Ticket::new(command.as_any().encode_to_vec());
    Ok(Response::new(info_for(
        schema,
        ticket,
        request.into_inner(),
    )?))
}

fn one_batch(batch: RecordBatch) -> FlightDataStream {
    encode_batches(batch.schema(), futures::stream::iter([Ok(batch)]))
}

/// Flight SQL's `CommandGetPrimaryKeys` result schema (lakes have no declared keys: empty).
pub(crate) fn primary_keys_schema() -> Schema {
    Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ])
}
