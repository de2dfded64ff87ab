//! The few DuckDB C API calls the safe `duckdb` crate does not expose: opening a database we
//! keep a raw handle to, and describing a prepared statement — result schema, parameter schema
//! and statement type — without executing it. Every unsafe block is here.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ffi::FFI_ArrowSchema;
use duckdb::ffi;

use crate::column_types::{tag_schema, ColumnTag};

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
            Ok(Self { raw })
        }
    }

    /// A new connection through the safe API. Connections are cheap; Tavana uses one per
    /// running query so no session state is ever shared.
    pub(crate) fn connect(&self) -> duckdb::Result<duckdb::Connection> {
        // SAFETY: `raw` stays open for as long as `self` lives, and DuckDB keeps the instance
        // alive while connections to it exist.
        unsafe { duckdb::Connection::open_from_raw(self.raw) }
    }

    /// Prepares `sql` on a fresh connection (after running the session's `preamble`, such as
    /// `USE sales`) and reads its shape without running it.
    pub(crate) fn describe(
        &self,
        preamble: Option<&str>,
        sql: &str,
    ) -> Result<Description, String> {
        let c_sql = cstring(sql)?;
        let c_preamble = preamble.map(cstring).transpose()?;
        // SAFETY: the connection and prepared statement are created and destroyed here; all
        // strings DuckDB hands out are copied before their owner is destroyed.
        unsafe {
            let mut connection: ffi::duckdb_connection = ptr::null_mut();
            if ffi::duckdb_connect(self.raw, &mut connection) != ffi::duckdb_state_DuckDBSuccess {
                return Err("could not open a DuckDB connection".into());
            }
            if let Some(preamble) = &c_preamble {
                let mut result: ffi::duckdb_result = std::mem::zeroed();
                let state = ffi::duckdb_query(connection, preamble.as_ptr(), &mut result);
                let error = (state != ffi::duckdb_state_DuckDBSuccess).then(|| {
                    borrowed_message(ffi::duckdb_result_error(&mut result)).unwrap_or_default()
                });
                ffi::duckdb_destroy_result(&mut result);
                if let Some(error) = error {
                    ffi::duckdb_disconnect(&mut connection);
                    return Err(error);
                }
            }
            let mut statement: ffi::duckdb_prepared_statement = ptr::null_mut();
            let state = ffi::duckdb_prepare(connection, c_sql.as_ptr(), &mut statement);
            let result = if state != ffi::duckdb_state_DuckDBSuccess {
                let error = ffi::duckdb_prepare_error(statement);
                Err(borrowed_message(error).unwrap_or_else(|| "could not prepare statement".into()))
            } else {
                describe_prepared(connection, statement)
            };
            ffi::duckdb_destroy_prepare(&mut statement);
            ffi::duckdb_disconnect(&mut connection);
            result
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: we own the handle; connections keep the instance alive on their own.
        unsafe { ffi::duckdb_close(&mut self.raw) }
    }
}

unsafe fn describe_prepared(
    connection: ffi::duckdb_connection,
    statement: ffi::duckdb_prepared_statement,
) -> Result<Description, String> {
    unsafe {
        let statement_type = StatementType(ffi::duckdb_prepared_statement_type(statement));
        let mut options: ffi::duckdb_arrow_options = ptr::null_mut();
        ffi::duckdb_connection_get_arrow_options(connection, &mut options);

        let columns = ffi::duckdb_prepared_statement_column_count(statement);
        let mut types = Vec::with_capacity(columns as usize);
        let mut names = Vec::with_capacity(columns as usize);
        let mut tags = Vec::with_capacity(columns as usize);
        for index in 0..columns {
            let logical_type = ffi::duckdb_prepared_statement_column_logical_type(statement, index);
            tags.push(column_tag(logical_type));
            types.push(logical_type);
            names.push(ffi::duckdb_prepared_statement_column_name(statement, index));
        }
        let dataset_schema = match to_arrow_schema(options, &mut types, &mut names) {
            Ok(schema) => Ok(schema),
            // DuckDB reports one INVALID column when a result type depends on an untyped
            // parameter (`SELECT ?`): the shape is known only once parameters are bound.
            Err(_)
                if types.len() == 1
                    && ffi::duckdb_get_type_id(types[0])
                        == ffi::DUCKDB_TYPE_DUCKDB_TYPE_INVALID =>
            {
                Ok(Schema::empty())
            }
            // Otherwise describe unconvertible columns as Null and the rest exactly.
            Err(_) => (0..types.len())
                .map(|i| {
                    let name = borrowed_message(names[i]).unwrap_or_default();
                    let data_type = to_arrow_schema(options, &mut types[i..=i], &mut names[i..=i])
                        .map(|schema| schema.field(0).data_type().clone())
                        .unwrap_or(DataType::Null);
                    Ok(Field::new(name, data_type, true))
                })
                .collect::<Result<Vec<_>, String>>()
                .map(Schema::new),
        };
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
        ffi::duckdb_destroy_arrow_options(&mut options);

        Ok(Description {
            statement_type,
            dataset_schema: tag_schema(dataset_schema?.into(), &tags),
            parameter_schema: Schema::new(parameter_fields).into(),
        })
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

unsafe fn to_arrow_schema(
    options: ffi::duckdb_arrow_options,
    types: &mut [ffi::duckdb_logical_type],
    names: &mut [*const c_char],
) -> Result<Schema, String> {
    unsafe {
        let mut out = FFI_ArrowSchema::empty();
        let mut error = ffi::duckdb_to_arrow_schema(
            options,
            types.as_mut_ptr(),
            names.as_mut_ptr(),
            types.len() as ffi::idx_t,
            &mut out as *mut FFI_ArrowSchema as *mut ffi::ArrowSchema,
        );
        if !error.is_null() {
            let failed = ffi::duckdb_error_data_has_error(error);
            let message = borrowed_message(ffi::duckdb_error_data_message(error));
            ffi::duckdb_destroy_error_data(&mut error);
            if failed {
                return Err(message.unwrap_or_else(|| "could not convert schema to Arrow".into()));
            }
        }
        Schema::try_from(&out).map_err(|e| format!("could not read DuckDB's Arrow schema: {e}"))
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

    #[test]
    fn describes_schema_parameters_and_type_without_running() {
        let db = Database::open_in_memory(&[]).unwrap();
        let description = db
            .describe(
                None,
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
        let untyped = db.describe(None, "SELECT ? AS anything, 1 AS one").unwrap();
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
            .describe(None, "COPY (SELECT 1) TO '/tmp/x.csv'")
            .unwrap();
        assert_eq!(copy.statement_type.name(), "COPY");
        let error = db.describe(None, "SELEC 1").unwrap_err();
        assert!(error.contains("Parser Error"), "{error}");
        db.describe(None, "CREATE SCHEMA sales").unwrap();
        let in_schema = db.describe(Some("USE memory.main"), "SELECT 1").unwrap();
        assert_eq!(in_schema.statement_type.name(), "SELECT");
        let bad_schema = db.describe(Some("USE nope"), "SELECT 1").unwrap_err();
        assert!(bad_schema.contains("nope"), "{bad_schema}");
    }
}
