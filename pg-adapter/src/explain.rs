//! EXPLAIN as PostgreSQL shows it: one text column named `QUERY PLAN`, a row per line of the
//! plan. DuckDB answers EXPLAIN with `(explain_key, explain_value)` rows, each plan drawn in one
//! multi-line value, which psql and pgAdmin would show as one cell.

use std::sync::Arc;

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use tavana_proto::sql::{leading_words, Lexicon};
use tonic::Status;

use crate::gateway::RunningQuery;

/// PostgreSQL's name for EXPLAIN's column.
const COLUMN: &str = "QUERY PLAN";

/// Whether `sql` is an EXPLAIN statement. Asked of every query: the text is only tokenized when
/// the word appears in it.
pub(crate) fn is_explain(sql: &str) -> bool {
    let mentions = sql
        .as_bytes()
        .windows(7)
        .any(|w| w.eq_ignore_ascii_case(b"explain"));
    mentions
        && leading_words(sql, 1, Lexicon::Postgres)
            .first()
            .map(String::as_str)
            == Some("explain")
}

/// Whether `schema` is DuckDB's EXPLAIN result: `explain_key` and `explain_value`, both text.
pub(crate) fn is_duckdb_plan(schema: &Schema) -> bool {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names == ["explain_key", "explain_value"]
        && schema.fields().iter().all(|f| {
            matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        })
}

/// The schema of EXPLAIN's result as PostgreSQL gives it.
pub(crate) fn query_plan_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(COLUMN, DataType::Utf8, false)]))
}

/// `query`, DuckDB's EXPLAIN result, as PostgreSQL's: its plans' lines, one row each. Any other
/// result is returned as it is.
pub(crate) fn as_query_plan(query: RunningQuery) -> RunningQuery {
    if !is_duckdb_plan(&query.schema) {
        return query;
    }
    let batches = query
        .batches
        .map(|batch| {
            batch.and_then(|batch| {
                plan_lines(&batch).map_err(|e| Status::internal(format!("EXPLAIN result: {e}")))
            })
        })
        .boxed();
    RunningQuery {
        info: query.info,
        schema: query_plan_schema(),
        batches,
    }
}

/// The lines of the plans in `batch` (DuckDB's EXPLAIN result), one row each; the blank line a
/// plan ends with is dropped.
fn plan_lines(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let values = arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
    let values = values.as_string::<i32>();
    let mut lines = Vec::new();
    for row in 0..values.len() {
        if values.is_null(row) {
            continue;
        }
        lines.extend(values.value(row).trim_end_matches('\n').split('\n'));
    }
    RecordBatch::try_new(
        query_plan_schema(),
        vec![Arc::new(StringArray::from(lines))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_become_one_row_per_line() {
        let duckdb = Arc::new(Schema::new(vec![
            Field::new("explain_key", DataType::Utf8, true),
            Field::new("explain_value", DataType::Utf8, true),
        ]));
        assert!(is_duckdb_plan(&duckdb));
        let batch = RecordBatch::try_new(
            duckdb,
            vec![
                Arc::new(StringArray::from(vec!["physical_plan", "other"])),
                Arc::new(StringArray::from(vec![Some("┌──┐\n│ A │\n└──┘\n"), None])),
            ],
        )
        .unwrap();
        let plan = plan_lines(&batch).unwrap();
        assert_eq!(plan.schema(), query_plan_schema());
        let lines: Vec<&str> = plan.column(0).as_string::<i32>().iter().flatten().collect();
        assert_eq!(lines, ["┌──┐", "│ A │", "└──┘"]);
    }

    #[test]
    fn only_explain_statements_and_duckdb_plans_are_recognised() {
        assert!(is_explain("EXPLAIN SELECT 1"));
        assert!(is_explain("/* why */ explain analyze select 1"));
        assert!(!is_explain("SELECT 'explain'"));
        let other = Schema::new(vec![Field::new("explain_key", DataType::Utf8, true)]);
        assert!(!is_duckdb_plan(&other));
    }
}
