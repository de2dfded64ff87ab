//! Flight SQL catalog commands answered from DuckDB's own `information_schema`.

use std::sync::Arc;

use arrow::array::{new_empty_array, RecordBatch};
use arrow::datatypes::Schema;

use crate::engine::Engine;
use crate::error::ExecutorError;
use crate::sandbox::quote_identifier;
use crate::service::{primary_keys_schema, MetadataCommand};

/// DuckDB's internal catalogs, never shown to users.
const HIDDEN_CATALOGS: &str = "('system', 'temp')";

/// The condition on `column` (a catalog name) that keeps hidden catalogs out of a listing:
/// DuckDB's internal ones and the databases holding the lake catalog's copies in memory.
fn visible_catalog(column: &str) -> String {
    format!(
        "{column} NOT IN {HIDDEN_CATALOGS} AND NOT starts_with({column}, '{}')",
        crate::lake::catalog::COPY_DATABASE_PREFIX
    )
}

fn internal(error: impl std::fmt::Display) -> ExecutorError {
    ExecutorError::Internal(error.to_string())
}

/// Builds the answer to one catalog command. Blocking.
pub(crate) fn build(
    engine: &Engine,
    command: MetadataCommand,
) -> Result<RecordBatch, ExecutorError> {
    match command {
        MetadataCommand::Catalogs(query) => {
            let mut builder = query.into_builder();
            for row in engine.catalog_rows(
                &format!(
                    "SELECT DISTINCT catalog_name FROM information_schema.schemata \
                     WHERE {} ORDER BY 1",
                    visible_catalog("catalog_name")
                ),
                1,
            )? {
                builder.append(row[0].clone().unwrap_or_default());
            }
            builder.build().map_err(internal)
        }
        MetadataCommand::Schemas(query) => {
            let mut builder = query.into_builder();
            for row in engine.catalog_rows(
                &format!(
                    "SELECT catalog_name, schema_name FROM information_schema.schemata \
                     WHERE {} ORDER BY 1, 2",
                    visible_catalog("catalog_name")
                ),
                2,
            )? {
                builder.append(
                    row[0].as_deref().unwrap_or_default(),
                    row[1].as_deref().unwrap_or_default(),
                );
            }
            builder.build().map_err(internal)
        }
        MetadataCommand::Tables(query) => {
            let mut builder = query.into_builder();
            let include_schema = builder.include_schema();
            for row in engine.catalog_rows(
                &format!(
                    "SELECT table_catalog, table_schema, table_name, \
                            CASE table_type WHEN 'BASE TABLE' THEN 'TABLE' WHEN 'LOCAL TEMPORARY' THEN 'TEMPORARY TABLE' ELSE table_type END \
                     FROM information_schema.tables \
                     WHERE {} ORDER BY 1, 2, 3",
                    visible_catalog("table_catalog")
                ),
                4,
            )? {
                let [catalog, schema, table, table_type] = [0, 1, 2, 3].map(|i| row[i].clone().unwrap_or_default());
                let table_schema = if include_schema {
                    let sql = format!(
                        "SELECT * FROM {}.{}.{}",
                        quote_identifier(&catalog),
                        quote_identifier(&schema),
                        quote_identifier(&table)
                    );
                    match engine.describe_internal(&sql) {
                        Ok(description) => {
                            Arc::new(
                                crate::service::wire_schema(&description.dataset_schema)
                                    .into_owned(),
                            )
                        }
                        // A view over an unreachable location still lists, with no columns.
                        Err(error) => {
                            tracing::warn!(%catalog, %schema, %table, %error, "could not describe table");
                            Arc::new(Schema::empty())
                        }
                    }
                } else {
                    Arc::new(Schema::empty())
                };
                builder.append(&catalog, &schema, &table, &table_type, &table_schema).map_err(internal)?;
            }
            builder.build().map_err(internal)
        }
        MetadataCommand::TableTypes(query) => {
            let mut builder = query.into_builder();
            for table_type in ["TABLE", "VIEW", "TEMPORARY TABLE"] {
                builder.append(table_type);
            }
            builder.build().map_err(internal)
        }
        MetadataCommand::PrimaryKeys => {
            let schema = Arc::new(primary_keys_schema());
            let columns = schema
                .fields()
                .iter()
                .map(|f| new_empty_array(f.data_type()))
                .collect();
            RecordBatch::try_new(schema, columns).map_err(internal)
        }
    }
}
