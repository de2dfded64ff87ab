//! The few DuckDB C API calls the safe `duckdb` crate does not expose: opening a database we
//! keep a raw handle to; describing a statement — result schema, parameter schema and
//! statement type — without executing it; and later running that same statement, so a query is
//! planned once. A plain query is planned by `cpp/plan_once.cpp` (DuckDB would plan a prepared
//! one again when it runs); other statements are prepared. Every unsafe block is here.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use duckdb::ffi;
use duckdb::types::Value;

use crate::column_types::{tag_schema, ColumnTag};

// cpp/plan_once.cpp, compiled by build.rs.
extern "C" {
    fn tavana_configure_connection(connection: ffi::duckdb_connection, integer_division: bool);
    fn tavana_register_interval_division(database: ffi::duckdb_database) -> bool;
    fn tavana_plan_query(
        connection: ffi::duckdb_connection,
        query: *const c_char,
        values: *const ffi::duckdb_value,
        value_count: ffi::idx_t,
        out_result: *mut ffi::duckdb_pending_result,
        use_prepare: *mut bool,
    ) -> ffi::duckdb_state;
    fn tavana_pending_column_count(pending: ffi::duckdb_pending_result) -> ffi::idx_t;
    fn tavana_pending_column_name(
        pending: ffi::duckdb_pending_result,
        index: ffi::idx_t,
    ) -> *const c_char;
    fn tavana_pending_column_type(
        pending: ffi::duckdb_pending_result,
        index: ffi::idx_t,
    ) -> ffi::duckdb_logical_type;
    fn tavana_result_arrow_stream(
        result: *mut ffi::duckdb_result,
        batch_rows: ffi::idx_t,
    ) -> *mut FFI_ArrowArrayStream;
}

/// What a statement is, as DuckDB classifies it after parsing and binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementType(pub(crate) ffi::duckdb_statement_type);

impl StatementType {
    /// Whether the statement produces a result set. The others (DDL, DML, SET, ...) run as soon
    /// as they are submitted, like in every SQL database, not when their result is fetched.
    pub fn returns_rows(self) -> bool {
        matches!(
            self.0,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_RELATION
                | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXECUTE
        )
    }

    /// Upper-case name, as users know the statement.
    pub fn name(self) -> &'static str {
        match self.0 {
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT => "SELECT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT => "INSERT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE => "UPDATE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN => "EXPLAIN",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DELETE => "DELETE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PREPARE => "PREPARE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE => "CREATE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXECUTE => "EXECUTE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ALTER => "ALTER",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_TRANSACTION => "TRANSACTION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY => "COPY",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ANALYZE => "ANALYZE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VARIABLE_SET => "SET VARIABLE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE_FUNC => "CREATE FUNCTION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DROP => "DROP",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPORT => "EXPORT",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA => "PRAGMA",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VACUUM => "VACUUM",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL => "CALL",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SET => "SET",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOAD => "LOAD",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_RELATION => "RELATION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXTENSION => "EXTENSION",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOGICAL_PLAN => "LOGICAL PLAN",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH => "ATTACH",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DETACH => "DETACH",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MULTI => "MULTI",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY_DATABASE => "COPY DATABASE",
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE_EXTENSIONS => {
                "UPDATE EXTENSIONS"
            }
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MERGE_INTO => "MERGE INTO",
            _ => "UNKNOWN",
        }
    }
}

/// A prepared statement's shape, known before it runs.
#[derive(Debug, Clone)]
pub struct Description {
    /// What kind of statement it is.
    pub statement_type: StatementType,
    /// Schema of the rows it returns.
    pub dataset_schema: SchemaRef,
    /// Schema of its parameters (`Null` where DuckDB cannot infer a type).
    pub parameter_schema: SchemaRef,
}

/// How a fresh connection is set up for a session before it runs the session's statement.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionSetup {
    /// SQL run first, such as `USE sales`.
    pub(crate) preamble: Option<String>,
    /// `/` of two integers divides as integers, as PostgreSQL's does (DuckDB's `integer_division`).
    pub(crate) integer_division: bool,
}

impl ConnectionSetup {
    /// The setup as SQL, for a connection of the safe API ([`Database::connect`]).
    pub(crate) fn as_sql(&self) -> Option<String> {
        let division = self
            .integer_division
            .then_some("SET integer_division = true");
        match (&self.preamble, division) {
            (None, None) => None,
            (Some(preamble), None) => Some(preamble.clone()),
            (None, Some(division)) => Some(division.to_owned()),
            (Some(preamble), Some(division)) => Some(format!("{preamble}; {division}")),
        }
    }
}

/// An open DuckDB database whose raw handle we own.
pub(crate) struct Database {
    raw: ffi::duckdb_database,
}

// SAFETY: a `duckdb_database` is a handle to a thread-safe DatabaseInstance; DuckDB allows
// connecting to it from any thread.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Opens an in-memory database with start-up settings applied through `duckdb_config`
    /// (settings such as `threads` that can only be set at start-up go here).
    pub(crate) fn open_in_memory(settings: &[(String, String)]) -> Result<Self, String> {
        // SAFETY: standard config/open sequence of the C API; every out-pointer is initialised
        // by DuckDB on success and released on every path.
        unsafe {
            let mut config: ffi::duckdb_config = ptr::null_mut();
            if ffi::duckdb_create_config(&mut config) != ffi::duckdb_state_DuckDBSuccess {
                return Err("could not allocate a DuckDB configuration".into());
            }
            for (name, value) in settings {
                let (c_name, c_value) = (cstring(name)?, cstring(value)?);
                if ffi::duckdb_set_config(config, c_name.as_ptr(), c_value.as_ptr())
                    != ffi::duckdb_state_DuckDBSuccess
                {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(format!("DuckDB rejected setting {name} = {value:?}"));
                }
            }
            let path = CString::new(":memory:").expect("no NUL");
            let mut raw: ffi::duckdb_database = ptr::null_mut();
            let mut error: *mut c_char = ptr::null_mut();
            let state = ffi::duckdb_open_ext(path.as_ptr(), &mut raw, config, &mut error);
            ffi::duckdb_destroy_config(&mut config);
            if state != ffi::duckdb_state_DuckDBSuccess {
                let message = take_owned_message(error)
                    .unwrap_or_else(|| "unknown error opening DuckDB".into());
                return Err(message);
            }
            let database = Self { raw };
            // `interval / 2` on connections that divide integers as PostgreSQL does.
            if !tavana_register_interval_division(raw) {
                return Err("could not give DuckDB's // operator its INTERVAL overload".into());
            }
            Ok(database)
        }
    }

    /// A new connection through the safe API. Connections are cheap; Tavana uses one per
    /// running query so no session state is ever shared.
    pub(crate) fn connect(&self) -> duckdb::Result<duckdb::Connection> {
        // SAFETY: `raw` stays open for as long as `self` lives, and DuckDB keeps the instance
        // alive while connections to it exist.
        unsafe { duckdb::Connection::open_from_raw(self.raw) }
    }

    /// Prepares `sql` on a fresh connection set up for the session (`USE sales`, ...) and
    /// reads its shape without running it.
    pub(crate) fn describe(
        &self,
        setup: &ConnectionSetup,
        sql: &str,
    ) -> Result<Description, String> {
        self.prepare(setup, sql, &[])
            .map(PreparedQuery::into_description)
    }

    /// Prepares `sql` on a fresh connection set up for the session, binds
    /// `parameters` (one value per placeholder, or none to describe a statement that takes
    /// some) and describes it; the statement can then run once with [`PreparedQuery::execute`].
    /// A query with its values bound is planned once, with the values as constants.
    pub(crate) fn prepare(
        &self,
        setup: &ConnectionSetup,
        sql: &str,
        parameters: &[Value],
    ) -> Result<PreparedQuery, String> {
        let c_sql = cstring(sql)?;
        let c_preamble = setup.preamble.as_deref().map(cstring).transpose()?;
        let values = parameters
            .iter()
            .map(OwnedValue::new)
            .collect::<Result<Vec<_>, _>>()?;
        let raw_values: Vec<ffi::duckdb_value> = values.iter().map(|value| value.0).collect();
        // SAFETY: the connection is owned by `RawConnection` from here on and the statement by
        // `PreparedQuery` once prepared; all strings DuckDB hands out are copied before their
        // owner is destroyed.
        unsafe {
            let mut raw: ffi::duckdb_connection = ptr::null_mut();
            if ffi::duckdb_connect(self.raw, &mut raw) != ffi::duckdb_state_DuckDBSuccess {
                return Err("could not open a DuckDB connection".into());
            }
            let connection = Arc::new(RawConnection { raw });
            tavana_configure_connection(raw, setup.integer_division);
            if let Some(preamble) = &c_preamble {
                let mut result: ffi::duckdb_result = std::mem::zeroed();
                let state = ffi::duckdb_query(raw, preamble.as_ptr(), &mut result);
                let error = (state != ffi::duckdb_state_DuckDBSuccess).then(|| {
                    borrowed_message(ffi::duckdb_result_error(&mut result)).unwrap_or_default()
                });
                ffi::duckdb_destroy_result(&mut result);
                if let Some(error) = error {
                    return Err(error);
                }
            }
            let mut options: ffi::duckdb_arrow_options = ptr::null_mut();
            ffi::duckdb_connection_get_arrow_options(raw, &mut options);
            let mut pending: ffi::duckdb_pending_result = ptr::null_mut();
            let mut use_prepare = true;
            let state = tavana_plan_query(
                raw,
                c_sql.as_ptr(),
                raw_values.as_ptr(),
                raw_values.len() as ffi::idx_t,
                &mut pending,
                &mut use_prepare,
            );
            if !use_prepare {
                let described = if state == ffi::duckdb_state_DuckDBSuccess {
                    describe_pending(pending, options)
                } else {
                    Err(borrowed_message(ffi::duckdb_pending_error(pending))
                        .unwrap_or_else(|| "could not plan the query".into()))
                };
                return match described {
                    Ok(description) => Ok(PreparedQuery {
                        connection,
                        planned: Planned::Query(pending),
                        options,
                        description,
                    }),
                    Err(error) => {
                        ffi::duckdb_destroy_pending(&mut pending);
                        ffi::duckdb_destroy_arrow_options(&mut options);
                        Err(error)
                    }
                };
            }
            let mut statement: ffi::duckdb_prepared_statement = ptr::null_mut();
            let state = ffi::duckdb_prepare(raw, c_sql.as_ptr(), &mut statement);
            if state != ffi::duckdb_state_DuckDBSuccess {
                let error = borrowed_message(ffi::duckdb_prepare_error(statement))
                    .unwrap_or_else(|| "could not prepare statement".into());
                ffi::duckdb_destroy_prepare(&mut statement);
                ffi::duckdb_destroy_arrow_options(&mut options);
                return Err(error);
            }
            let mut prepared = PreparedQuery {
                connection,
                planned: Planned::Statement(statement),
                options,
                description: Description {
                    statement_type: StatementType(ffi::duckdb_prepared_statement_type(statement)),
                    dataset_schema: Arc::new(Schema::empty()),
                    parameter_schema: Arc::new(Schema::empty()),
                },
            };
            prepared.description = describe_prepared(statement, options)?;
            for (index, value) in raw_values.iter().enumerate() {
                if ffi::duckdb_bind_value(statement, index as ffi::idx_t + 1, *value)
                    != ffi::duckdb_state_DuckDBSuccess
                {
                    return Err(borrowed_message(ffi::duckdb_prepare_error(statement))
                        .unwrap_or_else(|| format!("could not bind parameter {}", index + 1)));
                }
            }
            Ok(prepared)
        }
    }
}

/// A DuckDB connection whose raw handle we own; closed when the last holder lets go.
pub(crate) struct RawConnection {
    raw: ffi::duckdb_connection,
}

// SAFETY: a connection is used by one thread at a time (the one preparing, later the one
// running the query); `duckdb_interrupt` is the one call DuckDB allows from any thread.
unsafe impl Send for RawConnection {}
unsafe impl Sync for RawConnection {}

impl RawConnection {
    /// Interrupts whatever the connection is running; it fails with an INTERRUPT error.
    pub(crate) fn interrupt(&self) {
        // SAFETY: the handle is open for as long as `self` lives.
        unsafe { ffi::duckdb_interrupt(self.raw) }
    }

    /// DuckDB's estimate of how much of the running query is done, in percent; `None` until
    /// it has one (connections made by `Database::prepare` track progress, without printing).
    pub(crate) fn progress(&self) -> Option<f64> {
        // SAFETY: the handle is open for as long as `self` lives; DuckDB keeps the figures in
        // atomics so that other threads may read them while the query runs.
        let progress = unsafe { ffi::duckdb_query_progress(self.raw) };
        (progress.percentage >= 0.0).then_some(progress.percentage)
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: we own the handle, and every statement and result made on it holds an `Arc`
        // to this connection, so they are gone by now.
        unsafe { ffi::duckdb_disconnect(&mut self.raw) }
    }
}

/// A parameter value made through the C API, as the `duckdb` crate binds it; destroyed with
/// this.
struct OwnedValue(ffi::duckdb_value);

impl OwnedValue {
    fn new(value: &Value) -> Result<Self, String> {
        if let Value::List(items) | Value::Array(items) = value {
            return Self::list(items);
        }
        // SAFETY: each call copies its input into a new value, which `Self` owns.
        let raw = unsafe {
            match value {
                Value::Null => ffi::duckdb_create_null_value(),
                Value::Boolean(v) => ffi::duckdb_create_bool(*v),
                Value::TinyInt(v) => ffi::duckdb_create_int8(*v),
                Value::SmallInt(v) => ffi::duckdb_create_int16(*v),
                Value::Int(v) => ffi::duckdb_create_int32(*v),
                Value::BigInt(v) => ffi::duckdb_create_int64(*v),
                Value::UTinyInt(v) => ffi::duckdb_create_uint8(*v),
                Value::USmallInt(v) => ffi::duckdb_create_uint16(*v),
                Value::UInt(v) => ffi::duckdb_create_uint32(*v),
                Value::UBigInt(v) => ffi::duckdb_create_uint64(*v),
                Value::Float(v) => ffi::duckdb_create_float(*v),
                Value::Double(v) => ffi::duckdb_create_double(*v),
                Value::Text(text) => ffi::duckdb_create_varchar_length(
                    text.as_ptr() as *const c_char,
                    text.len() as ffi::idx_t,
                ),
                Value::Blob(bytes) => {
                    ffi::duckdb_create_blob(bytes.as_ptr(), bytes.len() as ffi::idx_t)
                }
                Value::Date32(days) => ffi::duckdb_create_date(ffi::duckdb_date { days: *days }),
                Value::Timestamp(unit, v) => ffi::duckdb_create_timestamp(ffi::duckdb_timestamp {
                    micros: unit.to_micros(*v),
                }),
                Value::Time64(unit, v) => ffi::duckdb_create_time(ffi::duckdb_time {
                    micros: unit.to_micros(*v),
                }),
                Value::Interval {
                    months,
                    days,
                    nanos,
                } => ffi::duckdb_create_interval(ffi::duckdb_interval {
                    months: *months,
                    days: *days,
                    micros: nanos / 1_000,
                }),
                // `Value::data_type` panics on the nested kinds, so they are named here.
                other => {
                    let kind = match other {
                        Value::Struct(_) => "STRUCT",
                        Value::Map(_) => "MAP",
                        Value::Union(_) => "UNION",
                        Value::Enum(_) => "ENUM",
                        Value::Decimal(_) => "DECIMAL",
                        Value::Geometry(_) => "GEOMETRY",
                        _ => "HUGEINT",
                    };
                    return Err(format!("parameters of type {kind} are not supported"));
                }
            }
        };
        if raw.is_null() {
            return Err("a parameter value is not valid (text must be UTF-8)".into());
        }
        Ok(Self(raw))
    }
}

impl OwnedValue {
    /// A LIST value (`WHERE id = ANY(?)`): its element type is that of its first non-NULL
    /// item, or DuckDB's NULL type (castable to any list) when it has none.
    fn list(items: &[Value]) -> Result<Self, String> {
        let items = items
            .iter()
            .map(OwnedValue::new)
            .collect::<Result<Vec<_>, _>>()?;
        // SAFETY: the item values live until the list (which copies them) is made; the type
        // of an item value is owned by that value; the NULL type made here is destroyed here.
        unsafe {
            let typed = items
                .iter()
                .find(|item| !ffi::duckdb_is_null_value(item.0))
                .map(|item| ffi::duckdb_get_value_type(item.0));
            let mut null_type = match typed {
                Some(_) => None,
                None => Some(ffi::duckdb_create_logical_type(
                    ffi::DUCKDB_TYPE_DUCKDB_TYPE_SQLNULL,
                )),
            };
            let element_type = typed.or(null_type).unwrap_or(std::ptr::null_mut());
            let mut raw_items: Vec<ffi::duckdb_value> = items.iter().map(|item| item.0).collect();
            let raw = ffi::duckdb_create_list_value(
                element_type,
                raw_items.as_mut_ptr(),
                raw_items.len() as ffi::idx_t,
            );
            if let Some(null_type) = null_type.as_mut() {
                ffi::duckdb_destroy_logical_type(null_type);
            }
            if raw.is_null() {
                return Err("a list parameter's items do not share one type".into());
            }
            Ok(Self(raw))
        }
    }
}

impl Drop for OwnedValue {
    fn drop(&mut self) {
        // SAFETY: we own the value; DuckDB copied it wherever it was bound.
        unsafe { ffi::duckdb_destroy_value(&mut self.0) }
    }
}

/// A statement planned and described on a connection of its own, ready to run once.
pub(crate) struct PreparedQuery {
    connection: Arc<RawConnection>,
    planned: Planned,
    options: ffi::duckdb_arrow_options,
    /// The statement's shape.
    pub(crate) description: Description,
}

/// How a statement waits to run.
enum Planned {
    /// A plain query, planned (by `cpp/plan_once.cpp`) and not yet run.
    Query(ffi::duckdb_pending_result),
    /// Any other statement, prepared.
    Statement(ffi::duckdb_prepared_statement),
}

// SAFETY: the statement and its connection are used by one thread at a time; the query moves
// from the thread that prepared it to the one that runs it.
unsafe impl Send for PreparedQuery {}

impl PreparedQuery {
    /// The statement's shape, closing the statement.
    pub(crate) fn into_description(self) -> Description {
        self.description.clone()
    }

    /// The connection the statement runs on, to interrupt it.
    pub(crate) fn connection(&self) -> Arc<RawConnection> {
        Arc::clone(&self.connection)
    }

    /// Runs the statement with the parameters it was prepared with, and returns its streaming
    /// result.
    pub(crate) fn execute(self, batch_rows: usize) -> Result<QueryResult, String> {
        // SAFETY: the C API result is destroyed here once its query has moved into the Arrow
        // stream, which `QueryResult` drops before the statement and connection it came from.
        unsafe {
            let mut result: ffi::duckdb_result = std::mem::zeroed();
            let state = match self.planned {
                Planned::Query(pending) => ffi::duckdb_execute_pending(pending, &mut result),
                Planned::Statement(statement) => {
                    ffi::duckdb_execute_prepared_streaming(statement, &mut result)
                }
            };
            if state != ffi::duckdb_state_DuckDBSuccess {
                let error = borrowed_message(ffi::duckdb_result_error(&mut result))
                    .unwrap_or_else(|| "query failed".into());
                ffi::duckdb_destroy_result(&mut result);
                return Err(error);
            }
            let columns = ffi::duckdb_column_count(&mut result);
            let mut types = Vec::with_capacity(columns as usize);
            let mut names = Vec::with_capacity(columns as usize);
            let mut tags = Vec::with_capacity(columns as usize);
            for index in 0..columns {
                let logical_type = ffi::duckdb_column_logical_type(&mut result, index);
                tags.push(column_tag(logical_type));
                types.push(logical_type);
                names.push(ffi::duckdb_column_name(&mut result, index));
            }
            let exported = to_arrow_schema(self.options, &mut types, &mut names);
            for mut logical_type in types {
                ffi::duckdb_destroy_logical_type(&mut logical_type);
            }
            let stream = tavana_result_arrow_stream(&mut result, batch_rows as ffi::idx_t);
            ffi::duckdb_destroy_result(&mut result);
            if stream.is_null() {
                return Err("the query has no result to read".into());
            }
            // Owns the stream from here, so the query is freed on every path.
            let batches = ArrowArrayStreamReader::from_raw(stream)
                .map_err(|e| format!("could not read DuckDB's Arrow stream: {e}"))?;
            Ok(QueryResult {
                batches,
                schema: tag_schema(exported?.into(), &tags),
                _query: self,
            })
        }
    }
}

impl Drop for PreparedQuery {
    fn drop(&mut self) {
        // SAFETY: we own both handles; results made from the statement are gone (they own it).
        unsafe {
            match &mut self.planned {
                Planned::Query(pending) => ffi::duckdb_destroy_pending(pending),
                Planned::Statement(statement) => ffi::duckdb_destroy_prepare(statement),
            }
            ffi::duckdb_destroy_arrow_options(&mut self.options);
        }
    }
}

/// The streaming result of a [`PreparedQuery`], read as Arrow record batches of
/// the rows asked for at [`PreparedQuery::execute`] (fewer for the last).
pub(crate) struct QueryResult {
    /// DuckDB's Arrow stream over the query; dropped (freeing the query) before `query`.
    batches: ArrowArrayStreamReader,
    schema: SchemaRef,
    /// The statement and connection the query came from, kept until the stream is gone.
    _query: PreparedQuery,
}

// SAFETY: read by one thread at a time (see `PreparedQuery`).
unsafe impl Send for QueryResult {}

impl QueryResult {
    /// The result schema, with the column marks of `column_types`.
    pub(crate) fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The next batch, `None` at the end, or DuckDB's error (an interrupt is one).
    pub(crate) fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        match self.batches.next() {
            None => Ok(None),
            Some(Ok(batch)) => batch
                .with_schema(Arc::clone(&self.schema))
                .map(Some)
                .map_err(|e| format!("DuckDB's batch does not match its schema: {e}")),
            // DuckDB's own message, as the C API would give it.
            Some(Err(arrow::error::ArrowError::CDataInterface(message))) => Err(message),
            Some(Err(error)) => Err(error.to_string()),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: we own the handle; connections keep the instance alive on their own.
        unsafe { ffi::duckdb_close(&mut self.raw) }
    }
}

/// The shape of a planned query: a SELECT without parameters.
unsafe fn describe_pending(
    pending: ffi::duckdb_pending_result,
    options: ffi::duckdb_arrow_options,
) -> Result<Description, String> {
    unsafe {
        let columns = tavana_pending_column_count(pending);
        let mut types = Vec::with_capacity(columns as usize);
        // Borrowed from the pending result.
        let mut names = Vec::with_capacity(columns as usize);
        for index in 0..columns {
            types.push(tavana_pending_column_type(pending, index));
            names.push(tavana_pending_column_name(pending, index));
        }
        let dataset_schema = columns_schema(options, &mut types, &mut names);
        for mut logical_type in types {
            ffi::duckdb_destroy_logical_type(&mut logical_type);
        }
        Ok(Description {
            statement_type: StatementType(ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT),
            dataset_schema: dataset_schema?,
            parameter_schema: Arc::new(Schema::empty()),
        })
    }
}

unsafe fn describe_prepared(
    statement: ffi::duckdb_prepared_statement,
    options: ffi::duckdb_arrow_options,
) -> Result<Description, String> {
    unsafe {
        let statement_type = StatementType(ffi::duckdb_prepared_statement_type(statement));

        let columns = ffi::duckdb_prepared_statement_column_count(statement);
        let mut types = Vec::with_capacity(columns as usize);
        let mut names = Vec::with_capacity(columns as usize);
        for index in 0..columns {
            types.push(ffi::duckdb_prepared_statement_column_logical_type(
                statement, index,
            ));
            names.push(ffi::duckdb_prepared_statement_column_name(statement, index));
        }
        let dataset_schema = columns_schema(options, &mut types, &mut names);
        for name in names {
            ffi::duckdb_free(name as *mut _);
        }
        for mut logical_type in types {
            ffi::duckdb_destroy_logical_type(&mut logical_type);
        }

        let parameters = ffi::duckdb_nparams(statement);
        let mut parameter_fields = Vec::with_capacity(parameters as usize);
        for index in 1..=parameters {
            let name_ptr = ffi::duckdb_parameter_name(statement, index);
            let name = borrowed_message(name_ptr).unwrap_or_else(|| format!("${index}"));
            if !name_ptr.is_null() {
                ffi::duckdb_free(name_ptr as *mut _);
            }
            let mut logical_type = ffi::duckdb_param_logical_type(statement, index);
            let data_type = if logical_type.is_null() {
                DataType::Null
            } else {
                let type_id = ffi::duckdb_get_type_id(logical_type);
                let data_type = if matches!(
                    type_id,
                    ffi::DUCKDB_TYPE_DUCKDB_TYPE_INVALID
                        | ffi::DUCKDB_TYPE_DUCKDB_TYPE_ANY
                        | ffi::DUCKDB_TYPE_DUCKDB_TYPE_SQLNULL
                ) {
                    // DuckDB could not infer the type (`SELECT ?`): any value is accepted.
                    DataType::Null
                } else {
                    let c_name = CString::new("p").expect("no NUL");
                    let mut one_type = vec![logical_type];
                    let mut one_name = vec![c_name.as_ptr()];
                    to_arrow_schema(options, &mut one_type, &mut one_name)
                        .map(|schema| schema.field(0).data_type().clone())
                        .unwrap_or(DataType::Null)
                };
                ffi::duckdb_destroy_logical_type(&mut logical_type);
                data_type
            };
            parameter_fields.push(Field::new(name, data_type, true));
        }

        Ok(Description {
            statement_type,
            dataset_schema: dataset_schema?,
            parameter_schema: Schema::new(parameter_fields).into(),
        })
    }
}

/// The Arrow schema of result columns, with their `column_types` marks.
unsafe fn columns_schema(
    options: ffi::duckdb_arrow_options,
    types: &mut [ffi::duckdb_logical_type],
    names: &mut [*const c_char],
) -> Result<SchemaRef, String> {
    unsafe {
        let tags: Vec<Option<ColumnTag>> = types.iter().map(|t| column_tag(*t)).collect();
        let schema = match to_arrow_schema(options, types, names) {
            Ok(schema) => schema,
            // DuckDB reports one INVALID column when a result type depends on an untyped
            // parameter (`SELECT ?`): the shape is known only once parameters are bound.
            Err(_)
                if types.len() == 1
                    && ffi::duckdb_get_type_id(types[0])
                        == ffi::DUCKDB_TYPE_DUCKDB_TYPE_INVALID =>
            {
                Schema::empty()
            }
            // Otherwise describe unconvertible columns as Null and the rest exactly.
            Err(_) => Schema::new(
                (0..types.len())
                    .map(|i| {
                        let name = borrowed_message(names[i]).unwrap_or_default();
                        let data_type =
                            to_arrow_schema(options, &mut types[i..=i], &mut names[i..=i])
                                .map(|schema| schema.field(0).data_type().clone())
                                .unwrap_or(DataType::Null);
                        Field::new(name, data_type, true)
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        Ok(tag_schema(schema.into(), &tags))
    }
}

/// What the column's DuckDB type says that its Arrow type will not (see `column_types`).
unsafe fn column_tag(logical_type: ffi::duckdb_logical_type) -> Option<ColumnTag> {
    unsafe {
        if logical_type.is_null() {
            return None;
        }
        let is_uuid = ffi::duckdb_get_type_id(logical_type) == ffi::DUCKDB_TYPE_DUCKDB_TYPE_UUID;
        let alias_ptr = ffi::duckdb_logical_type_get_alias(logical_type);
        let alias = take_owned_message(alias_ptr);
        ColumnTag::of(is_uuid, alias.as_deref())
    }
}

/// DuckDB's Arrow schema for a set of columns.
unsafe fn to_arrow_schema(
    options: ffi::duckdb_arrow_options,
    types: &mut [ffi::duckdb_logical_type],
    names: &mut [*const c_char],
) -> Result<Schema, String> {
    unsafe {
        let mut out = FFI_ArrowSchema::empty();
        let error = ffi::duckdb_to_arrow_schema(
            options,
            types.as_mut_ptr(),
            names.as_mut_ptr(),
            types.len() as ffi::idx_t,
            &mut out as *mut FFI_ArrowSchema as *mut ffi::ArrowSchema,
        );
        take_error(error, "could not convert schema to Arrow")?;
        Schema::try_from(&out).map_err(|e| format!("could not read DuckDB's Arrow schema: {e}"))
    }
}

/// Turns DuckDB's optional error data into a `Result`, destroying it.
unsafe fn take_error(mut error: ffi::duckdb_error_data, fallback: &str) -> Result<(), String> {
    unsafe {
        if error.is_null() {
            return Ok(());
        }
        let failed = ffi::duckdb_error_data_has_error(error);
        let message = borrowed_message(ffi::duckdb_error_data_message(error));
        ffi::duckdb_destroy_error_data(&mut error);
        if failed {
            return Err(message.unwrap_or_else(|| fallback.into()));
        }
        Ok(())
    }
}

fn cstring(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| "text contains a NUL byte".to_string())
}

unsafe fn borrowed_message(message: *const c_char) -> Option<String> {
    if message.is_null() {
        None
    } else {
        Some(
            unsafe { CStr::from_ptr(message) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}

unsafe fn take_owned_message(message: *mut c_char) -> Option<String> {
    let text = unsafe { borrowed_message(message) };
    if !message.is_null() {
        unsafe { ffi::duckdb_free(message as *mut _) };
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows per batch the tests read.
    const BATCH_ROWS: usize = 8 * 1024;

    #[test]
    fn describes_schema_parameters_and_type_without_running() {
        let db = Database::open_in_memory(&[]).unwrap();
        let description = db
            .describe(
                &ConnectionSetup::default(),
                "SELECT ?::INTEGER + 1 AS answer, 'x' AS label, ?::DATE AS day",
            )
            .unwrap();
        assert_eq!(description.statement_type.name(), "SELECT");
        let fields: Vec<_> = description
            .dataset_schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("answer".into(), DataType::Int32),
                ("label".into(), DataType::Utf8),
                ("day".into(), DataType::Date32),
            ]
        );
        let parameter_types: Vec<_> = description
            .parameter_schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(parameter_types, vec![DataType::Int32, DataType::Date32]);
        let untyped = db
            .describe(
                &ConnectionSetup::default(),
                "SELECT ? AS anything, 1 AS one",
            )
            .unwrap();
        assert!(
            untyped.dataset_schema.fields().is_empty(),
            "{:?}",
            untyped.dataset_schema
        );
        assert_eq!(
            untyped.parameter_schema.field(0).data_type(),
            &DataType::Null
        );
    }

    #[test]
    fn classifies_writes_and_reports_errors() {
        let db = Database::open_in_memory(&[]).unwrap();
        let copy = db
            .describe(
                &ConnectionSetup::default(),
                "COPY (SELECT 1) TO '/tmp/x.csv'",
            )
            .unwrap();
        assert_eq!(copy.statement_type.name(), "COPY");
        let error = db
            .describe(&ConnectionSetup::default(), "SELEC 1")
            .unwrap_err();
        assert!(error.contains("Parser Error"), "{error}");
        db.describe(&ConnectionSetup::default(), "CREATE SCHEMA sales")
            .unwrap();
        let in_schema = |preamble: &str| ConnectionSetup {
            preamble: Some(preamble.to_owned()),
            integer_division: false,
        };
        let described = db
            .describe(&in_schema("USE memory.main"), "SELECT 1")
            .unwrap();
        assert_eq!(described.statement_type.name(), "SELECT");
        let bad_schema = db.describe(&in_schema("USE nope"), "SELECT 1").unwrap_err();
        assert!(bad_schema.contains("nope"), "{bad_schema}");
    }

    #[test]
    fn integer_division_is_set_per_connection_on_a_locked_engine() {
        let db = Database::open_in_memory(&[]).unwrap();
        let locked = db.connect().unwrap();
        locked
            .execute_batch(&crate::sandbox::lockdown_sql(&[]))
            .unwrap();
        let divide = "SELECT 7 / 2 AS q, -7 / 2 AS n, 7.0 / 2 AS d";
        let answer = |setup: &ConnectionSetup| {
            let mut result = db
                .prepare(setup, divide, &[])
                .unwrap()
                .execute(BATCH_ROWS)
                .unwrap();
            let batch = result.next_batch().unwrap().unwrap();
            (0..3)
                .map(|i| arrow::util::display::array_value_to_string(batch.column(i), 0).unwrap())
                .collect::<Vec<_>>()
        };
        let postgres = ConnectionSetup {
            preamble: None,
            integer_division: true,
        };
        assert_eq!(answer(&postgres), ["3", "-3", "3.5"]);
        // `/` becomes `//` for every type: an interval still divides (DuckDB's `//` had no
        // INTERVAL overload).
        let mut halves = db
            .prepare(
                &postgres,
                "SELECT INTERVAL '1 day' / 2 AS h, INTERVAL '3 hours' / 1.5 AS g",
                &[],
            )
            .unwrap()
            .execute(BATCH_ROWS)
            .unwrap();
        let batch = halves.next_batch().unwrap().unwrap();
        let shown: Vec<String> = (0..2)
            .map(|i| arrow::util::display::array_value_to_string(batch.column(i), 0).unwrap())
            .collect();
        assert_eq!(shown, ["12 hours", "2 hours"]);
        // Connections without it, before and after, keep DuckDB's `/`.
        assert_eq!(answer(&ConnectionSetup::default()), ["3.5", "-3.5", "3.5"]);
        // The safe API's connections take it as SQL, which the locked engine allows.
        let connection = db.connect().unwrap();
        connection
            .execute_batch(&postgres.as_sql().unwrap())
            .unwrap();
        let quotient: i64 = connection
            .query_row("SELECT 7 / 2", [], |row| row.get(0))
            .unwrap();
        assert_eq!(quotient, 3);
        let refused = connection.execute_batch("SET threads = 1").unwrap_err();
        assert!(refused.to_string().contains("locked"), "{refused}");
    }

    #[test]
    fn prepared_query_runs_the_plan_it_described() {
        let db = Database::open_in_memory(&[]).unwrap();
        let prepared = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT i, uuid() AS id FROM range(20000) t(i)",
                &[],
            )
            .unwrap();
        let described = Arc::clone(&prepared.description.dataset_schema);
        let mut result = prepared.execute(BATCH_ROWS).unwrap();
        assert_eq!(
            result.schema(),
            described,
            "run and described schemas differ"
        );
        assert_eq!(
            result
                .schema()
                .field(1)
                .metadata()
                .get(crate::column_types::SQL_TYPE_KEY),
            Some(&"uuid".to_string())
        );
        let (mut rows, mut sum, mut sizes) = (0, 0, Vec::new());
        while let Some(batch) = result.next_batch().unwrap() {
            assert_eq!(batch.schema(), described);
            sizes.push(batch.num_rows());
            let values = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            rows += batch.num_rows();
            sum += values.iter().flatten().sum::<i64>();
        }
        assert_eq!((rows, sum), (20000, (0..20000).sum()));
        // Whole batches from DuckDB's Arrow stream, not its 2,048-row chunks.
        assert_eq!(sizes, [BATCH_ROWS, BATCH_ROWS, 20000 - 2 * BATCH_ROWS]);
        assert!(result.next_batch().unwrap().is_none(), "read past the end");
    }

    #[test]
    fn a_query_over_files_is_planned_once_when_prepared() {
        // DuckDB lists a glob's files when it plans a query. Had the query been planned again
        // when run (as DuckDB does with a prepared statement over files), it would count the
        // file written after it was prepared.
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in_memory(&[]).unwrap();
        let writer = db.connect().unwrap();
        let write = |name: &str, rows: u32| {
            let path = dir.path().join(name);
            writer
                .execute_batch(&format!(
                    "COPY (SELECT * FROM range({rows})) TO '{}' (FORMAT parquet)",
                    path.display()
                ))
                .unwrap();
        };
        write("a.parquet", 10);
        let glob = dir.path().join("*.parquet");
        let count = format!(
            "SELECT count(*) AS n FROM read_parquet('{}')",
            glob.display()
        );
        let prepared = db
            .prepare(&ConnectionSetup::default(), &count, &[])
            .unwrap();
        write("b.parquet", 5);
        let mut result = prepared.execute(BATCH_ROWS).unwrap();
        let batch = result.next_batch().unwrap().unwrap();
        let counted = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>();
        assert_eq!(counted.unwrap().value(0), 10);
        // A new plan sees both files.
        let mut result = db
            .prepare(&ConnectionSetup::default(), &count, &[])
            .unwrap()
            .execute(BATCH_ROWS)
            .unwrap();
        let batch = result.next_batch().unwrap().unwrap();
        let counted = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>();
        assert_eq!(counted.unwrap().value(0), 15);
    }

    /// The first column of the first batch, as text.
    fn first_value(prepared: PreparedQuery) -> String {
        let mut result = prepared.execute(BATCH_ROWS).unwrap();
        let batch = result.next_batch().unwrap().unwrap();
        arrow::util::display::array_value_to_string(batch.column(0), 0).unwrap()
    }

    #[test]
    fn a_query_with_parameters_is_planned_once_with_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in_memory(&[]).unwrap();
        let writer = db.connect().unwrap();
        let write = |name: &str| {
            let path = dir.path().join(name);
            writer
                .execute_batch(&format!(
                    "COPY (SELECT * FROM range(10) t(i)) TO '{}' (FORMAT parquet)",
                    path.display()
                ))
                .unwrap();
        };
        write("a.parquet");
        let count = format!(
            "SELECT count(*) FROM read_parquet('{}') WHERE i >= $1 AND $2",
            dir.path().join("*.parquet").display()
        );
        let prepared = db
            .prepare(
                &ConnectionSetup::default(),
                &count,
                &[Value::BigInt(4), Value::Boolean(true)],
            )
            .unwrap();
        // Bound as constants: the shape is that of the query with its values.
        assert!(prepared.description.parameter_schema.fields().is_empty());
        write("b.parquet");
        // Planned before b.parquet was written, and not again when run.
        assert_eq!(first_value(prepared), "6");
        // A text value is a string literal, cast to what its place needs, as in a prepared
        // statement: here an integer.
        let prepared = db
            .prepare(
                &ConnectionSetup::default(),
                &count,
                &[Value::Text("7".into()), Value::Null],
            )
            .unwrap();
        assert_eq!(first_value(prepared), "0");
        let prepared = db
            .prepare(
                &ConnectionSetup::default(),
                &count,
                &[Value::Text("7".into()), Value::Boolean(true)],
            )
            .unwrap();
        assert_eq!(first_value(prepared), "6");
        let typed = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT $1 AS day, $2 AS at, $3 AS bytes, $4 AS span, $5 AS n",
                &[
                    Value::Date32(19_000),
                    Value::Timestamp(duckdb::types::TimeUnit::Millisecond, 1_500),
                    Value::Blob(vec![0, 255]),
                    Value::Interval {
                        months: 1,
                        days: 2,
                        nanos: 3_000,
                    },
                    Value::UBigInt(u64::MAX),
                ],
            )
            .unwrap();
        let mut result = typed.execute(BATCH_ROWS).unwrap();
        let batch = result.next_batch().unwrap().unwrap();
        let shown: Vec<String> = batch
            .columns()
            .iter()
            .map(|column| arrow::util::display::array_value_to_string(column, 0).unwrap())
            .collect();
        assert_eq!(
            shown,
            [
                "2022-01-08",
                "1970-01-01T00:00:01.500",
                "00ff",
                "1 mons 2 days 0.000003000 secs",
                "18446744073709551615"
            ]
        );
    }

    #[test]
    fn parameters_bind_to_other_statements_and_wrong_counts_fail() {
        let db = Database::open_in_memory(&[]).unwrap();
        let writer = db.connect().unwrap();
        writer.execute_batch("CREATE TABLE t (i INTEGER)").unwrap();
        let insert = db
            .prepare(
                &ConnectionSetup::default(),
                "INSERT INTO t VALUES ($1), ($2)",
                &[Value::Int(3), Value::Text("4".into())],
            )
            .unwrap();
        assert_eq!(insert.description.statement_type.name(), "INSERT");
        assert_eq!(first_value(insert), "2");
        let sum = db
            .prepare(&ConnectionSetup::default(), "SELECT sum(i) FROM t", &[])
            .unwrap();
        assert_eq!(first_value(sum), "7");

        let too_few = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT $1 + $2",
                &[Value::Int(1)],
            )
            .and_then(|prepared| prepared.execute(BATCH_ROWS).map(|_| ()))
            .unwrap_err();
        assert!(too_few.contains("2"), "{too_few}");
        let too_many = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT $1",
                &[Value::Int(1), Value::Int(2)],
            )
            .err()
            .unwrap();
        assert!(too_many.contains("only has 1 parameter"), "{too_many}");
        let unsupported = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT $1",
                &[Value::Struct(vec![("a".to_owned(), Value::Int(1))].into())],
            )
            .err()
            .unwrap();
        assert!(unsupported.contains("not supported"), "{unsupported}");
    }

    #[test]
    fn list_parameters_bind_with_their_item_type() {
        use arrow::array::AsArray;
        let db = Database::open_in_memory(&[]).unwrap();
        let run = |sql: &str, value: Value| -> Vec<RecordBatch> {
            let prepared = db
                .prepare(&ConnectionSetup::default(), sql, &[value])
                .unwrap();
            let mut result = prepared.execute(BATCH_ROWS).unwrap();
            let mut batches = Vec::new();
            while let Some(batch) = result.next_batch().unwrap() {
                batches.push(batch);
            }
            batches
        };
        let ints = Value::List(vec![Value::Int(1), Value::Null, Value::Int(3)]);
        let batches = run(
            "SELECT count(*) AS n FROM range(5) t(i) WHERE i = ANY($1)",
            ints.clone(),
        );
        assert_eq!(
            batches[0]
                .column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            2
        );
        let typed = run("SELECT typeof($1) AS t", ints);
        assert_eq!(typed[0].column(0).as_string::<i32>().value(0), "INTEGER[]");
        let empty = run("SELECT typeof($1) AS t, len($1) AS n", Value::List(vec![]));
        assert_eq!(empty[0].column(0).as_string::<i32>().value(0), "\"NULL\"[]");
        let nested = Value::List(vec![Value::List(vec![Value::Text("a".into())])]);
        let typed = run("SELECT typeof($1) AS t", nested);
        assert_eq!(
            typed[0].column(0).as_string::<i32>().value(0),
            "VARCHAR[][]"
        );
    }

    #[test]
    fn prepared_query_failing_or_interrupted_reports_duckdb_error() {
        let db = Database::open_in_memory(&[]).unwrap();
        let error = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT CAST(i::VARCHAR || 'x' AS INTEGER) FROM range(3) t(i)",
                &[],
            )
            .unwrap()
            .execute(BATCH_ROWS)
            .and_then(|mut result| result.next_batch().map(|_| ()))
            .unwrap_err();
        assert!(error.contains("Conversion Error"), "{error}");

        let endless = db
            .prepare(
                &ConnectionSetup::default(),
                "SELECT count(*) FROM range(1000000000000) a, range(10) b",
                &[],
            )
            .unwrap();
        let connection = endless.connection();
        let interrupter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            connection.interrupt();
        });
        let error = endless
            .execute(BATCH_ROWS)
            .and_then(|mut result| result.next_batch().map(|_| ()))
            .unwrap_err();
        interrupter.join().unwrap();
        assert!(error.contains("INTERRUPT"), "{error}");
    }
}
