// DuckDB calls the C API lacks: plan a query once (its parameters bound), for streaming,
// without running it; read a streaming result as Arrow batches of many chunks, as DuckDB's own
// clients do; and set a connection's progress tracking and integer division once the
// configuration is locked.
//
// The C API runs queries through prepared statements, and DuckDB plans a prepared statement
// that reads files (read_parquet, lake views, ...) again every time it runs it: such statements
// are marked `always_require_rebind`. A query prepared to describe it and then run was therefore
// planned twice: ~1.7 ms more per Parquet point lookup, ~2% on TPC-H. A pending query made from
// the parsed statement and its parameter values is planned once and runs when it is executed,
// as the Python client does.
//
// Compiled against the headers of the very DuckDB sources libduckdb-sys builds (see build.rs);
// the results are an ordinary C API `duckdb_pending_result` and an Arrow C stream. On a DuckDB
// upgrade, re-check the internals used here: `PendingStatementWrapper`, `DatabaseWrapper` and
// `DuckDBResultData` (main/capi/capi_internal.hpp), `ResultArrowArrayStreamWrapper`, the client
// config's `user_settings` and `OperatorFloatDivideFun`. A changed declaration fails the build; the unit tests in executor/src/ffi.rs
// cover the behaviour.

#include "duckdb/common/arrow/result_arrow_wrapper.hpp"
#include "duckdb/main/capi/capi_internal.hpp"
#include "duckdb/main/connection.hpp"
#include "duckdb/main/pending_query_result.hpp"
#include "duckdb/main/settings.hpp"
#include "duckdb/catalog/catalog.hpp"
#include "duckdb/catalog/catalog_transaction.hpp"
#include "duckdb/function/scalar/operator_functions.hpp"
#include "duckdb/parser/parsed_data/create_scalar_function_info.hpp"
#include "duckdb/parser/sql_statement.hpp"

using namespace duckdb;

extern "C" {

// Plans `query` for streaming without running it, with `value_count` parameter values bound
// (`values[i]` to `$i+1` / the i-th `?`; values are copied). The values are bound as constants
// before planning, as DuckDB's clients bind `execute(query, parameters)`: a text value is a
// string literal, cast to whatever type its place needs. `*use_prepare` is set (and nothing else
// is done) unless `query` is one SELECT taking exactly `value_count` parameters: prepare those
// instead. Otherwise `*out_result` is a pending result, also on error (read it with
// duckdb_pending_error; destroy it with duckdb_destroy_pending), and nothing has run until
// duckdb_execute_pending.
duckdb_state tavana_plan_query(duckdb_connection connection, const char *query, const duckdb_value *values,
                               idx_t value_count, duckdb_pending_result *out_result, bool *use_prepare) {
	*out_result = nullptr;
	*use_prepare = true;
	if (!connection || !query) {
		return DuckDBError;
	}
	auto conn = reinterpret_cast<Connection *>(connection);
	vector<unique_ptr<SQLStatement>> statements;
	try {
		statements = conn->ExtractStatements(query);
	} catch (...) {
		// The prepare path reports the parser's error the way it always has.
		return DuckDBSuccess;
	}
	if (statements.size() != 1 || statements[0]->type != StatementType::SELECT_STATEMENT ||
	    statements[0]->named_param_map.size() != value_count || (value_count > 0 && !values)) {
		return DuckDBSuccess;
	}
	*use_prepare = false;
	auto wrapper = new PendingStatementWrapper();
	wrapper->allow_streaming = true;
	try {
		vector<Value> bound;
		for (idx_t i = 0; i < value_count; i++) {
			bound.push_back(*reinterpret_cast<Value *>(values[i]));
		}
		wrapper->statement =
		    conn->PendingQuery(std::move(statements[0]), bound, QueryResultOutputType::ALLOW_STREAMING);
	} catch (std::exception &ex) {
		wrapper->statement = make_uniq<PendingQueryResult>(ErrorData(ex));
	}
	*out_result = reinterpret_cast<duckdb_pending_result>(wrapper);
	return wrapper->statement->HasError() ? DuckDBError : DuckDBSuccess;
}

// Has the connection's queries track their progress (read with duckdb_query_progress) without
// printing it, and, with `integer_division`, parse `/` of two integers as integer division (as
// PostgreSQL does). Set on the client config directly: `SET enable_progress_bar` is refused once
// the engine's configuration is locked, and a `SET integer_division` statement would cost a
// round of parsing, planning and a transaction per query; both settings are per connection.
void tavana_configure_connection(duckdb_connection connection, bool integer_division) {
	if (!connection) {
		return;
	}
	auto &context = *reinterpret_cast<Connection *>(connection)->context;
	context.config.enable_progress_bar = true;
	context.config.print_progress_bar = false;
	if (integer_division) {
		context.config.user_settings.SetUserSetting(IntegerDivisionSetting::SettingIndex, Value::BOOLEAN(true));
	}
}

// Gives DuckDB's integer division operator `//` the overload of `/` it lacks, INTERVAL by
// DOUBLE: with `integer_division` on (see tavana_configure_connection) the parser turns every
// `/` into `//`, and PostgreSQL's `interval '1 day' / 2` would find no function. The overload is
// `/`'s own. Call once per database, before it is shared. Returns false when `/` has no such
// overload to copy (a DuckDB upgrade changed it; the unit test in ffi.rs says so).
bool tavana_register_interval_division(duckdb_database database) {
	if (!database) {
		return false;
	}
	auto &db = *reinterpret_cast<DatabaseWrapper *>(database)->database->instance;
	ScalarFunctionSet integer_divide("//");
	for (auto &function : OperatorFloatDivideFun::GetFunctions().functions) {
		if (function.arguments.size() == 2 && function.arguments[0].id() == LogicalTypeId::INTERVAL) {
			function.name = "//";
			integer_divide.AddFunction(function);
		}
	}
	if (integer_divide.functions.empty()) {
		return false;
	}
	try {
		CreateScalarFunctionInfo info(std::move(integer_divide));
		info.on_conflict = OnCreateConflict::ALTER_ON_CONFLICT;
		auto &catalog = Catalog::GetSystemCatalog(db);
		catalog.CreateFunction(CatalogTransaction::GetSystemTransaction(db), info);
	} catch (...) {
		return false;
	}
	return true;
}

// Columns of a planned (error-free) pending result.
idx_t tavana_pending_column_count(duckdb_pending_result pending) {
	auto wrapper = reinterpret_cast<PendingStatementWrapper *>(pending);
	return wrapper->statement->ColumnCount();
}

// The name of column `index`, owned by the pending result.
const char *tavana_pending_column_name(duckdb_pending_result pending, idx_t index) {
	auto wrapper = reinterpret_cast<PendingStatementWrapper *>(pending);
	return wrapper->statement->names[index].c_str();
}

// The type of column `index`; destroy it with duckdb_destroy_logical_type.
duckdb_logical_type tavana_pending_column_type(duckdb_pending_result pending, idx_t index) {
	auto wrapper = reinterpret_cast<PendingStatementWrapper *>(pending);
	return reinterpret_cast<duckdb_logical_type>(new LogicalType(wrapper->statement->types[index]));
}

// Moves the query out of `result` into DuckDB's Arrow C stream of `batch_rows`-row batches (the
// stream its Python client reads): each batch is appended chunk by chunk into one set of Arrow
// buffers, where the C API converts every 2,048-row chunk on its own. `result` is left empty, to
// be destroyed as usual; the stream's release callback frees the query. NULL if there is none.
ArrowArrayStream *tavana_result_arrow_stream(duckdb_result *result, idx_t batch_rows) {
	if (!result || !result->internal_data) {
		return nullptr;
	}
	auto data = reinterpret_cast<DuckDBResultData *>(result->internal_data);
	if (!data->result) {
		return nullptr;
	}
	auto wrapper = new ResultArrowArrayStreamWrapper(std::move(data->result), batch_rows);
	return &wrapper->stream;
}

} // extern "C"
