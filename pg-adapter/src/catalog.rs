//! `pg_catalog` and `information_schema` emulation: which relations the adapter answers, and
//! the DuckDB table macro each one becomes.
//!
//! The design choice (where catalog queries are evaluated): in DuckDB, on the executor that
//! runs the query, because that is where the live catalog (the schemas, tables, lake views
//! and columns the service knows) is. `executor/src/pg_compat.sql` defines one table macro per
//! relation, `pg_compat_<relation>()`, with PostgreSQL 15's columns and PostgreSQL OIDs, built
//! from `duckdb_tables()`, `duckdb_columns()`, ... and from static rows exported from a real
//! PostgreSQL (see the comment at the top of that file). The adapter's part, here and in
//! `rewrite.rs`, is to turn `pg_catalog.pg_class`, `pg_class` and `information_schema.columns`
//! into calls of those macros and to hand them what only the session knows: the database the
//! client connected to, its user and its settings. Nothing is copied into the adapter, so a
//! table added to the lake catalog shows up in `\dt` on the next query, and no table macro adds
//! anything to the catalog that Flight SQL's GetTables would list.

use crate::session::Settings;

/// `pg_catalog` relations answered by `pg_compat_<name>(...)`.
const PG_CATALOG: &[&str] = &[
    "pg_aggregate",
    "pg_am",
    "pg_amop",
    "pg_amproc",
    "pg_attrdef",
    "pg_attribute",
    "pg_auth_members",
    "pg_authid",
    "pg_available_extensions",
    "pg_cast",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_conversion",
    "pg_database",
    "pg_db_role_setting",
    "pg_default_acl",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_event_trigger",
    "pg_extension",
    "pg_file_settings",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_foreign_table",
    "pg_index",
    "pg_indexes",
    "pg_inherits",
    "pg_init_privs",
    "pg_language",
    "pg_largeobject_metadata",
    "pg_locks",
    "pg_matviews",
    "pg_namespace",
    "pg_opclass",
    "pg_operator",
    "pg_opfamily",
    "pg_partitioned_table",
    "pg_policies",
    "pg_policy",
    "pg_prepared_statements",
    "pg_proc",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_range",
    "pg_replication_slots",
    "pg_rewrite",
    "pg_roles",
    "pg_rules",
    "pg_seclabel",
    "pg_sequence",
    "pg_sequences",
    "pg_settings",
    "pg_shdescription",
    "pg_stat_activity",
    "pg_stat_all_tables",
    "pg_stat_database",
    "pg_stat_replication",
    "pg_stat_ssl",
    "pg_stat_user_indexes",
    "pg_stat_user_tables",
    "pg_statio_user_indexes",
    "pg_statio_user_tables",
    "pg_statistic_ext",
    "pg_stats",
    "pg_subscription",
    "pg_tables",
    "pg_tablespace",
    "pg_transform",
    "pg_trigger",
    "pg_ts_config",
    "pg_ts_dict",
    "pg_ts_parser",
    "pg_ts_template",
    "pg_type",
    "pg_user",
    "pg_user_mappings",
    "pg_views",
];

/// `information_schema` views answered by `pg_compat_is_<name>(...)`; the others are DuckDB's.
const INFORMATION_SCHEMA: &[&str] = &[
    "applicable_roles",
    "column_privileges",
    "columns",
    "domains",
    "element_types",
    "enabled_roles",
    "parameters",
    "role_table_grants",
    "routines",
    "schemata",
    "sequences",
    "table_privileges",
    "tables",
    "triggers",
    "views",
];

/// The schema a catalog relation lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CatalogSchema {
    PgCatalog,
    InformationSchema,
}

impl CatalogSchema {
    /// The schema named `name` (as written, already case-folded for unquoted names).
    pub(crate) fn named(name: &str) -> Option<Self> {
        match name {
            "pg_catalog" => Some(Self::PgCatalog),
            "information_schema" => Some(Self::InformationSchema),
            _ => None,
        }
    }
}

/// Whether `schema.name` is a relation the adapter answers.
pub(crate) fn is_emulated(schema: CatalogSchema, name: &str) -> bool {
    match schema {
        CatalogSchema::PgCatalog => PG_CATALOG.binary_search(&name).is_ok(),
        CatalogSchema::InformationSchema => INFORMATION_SCHEMA.binary_search(&name).is_ok(),
    }
}

/// The table macro call that stands in for `schema.name` in this session.
pub(crate) fn relation_call(schema: CatalogSchema, name: &str, settings: &Settings) -> String {
    let db = || quote_literal(settings.database());
    let user = || quote_literal(settings.user());
    match schema {
        CatalogSchema::PgCatalog => {
            let args = match name {
                "pg_database" => db(),
                "pg_roles" | "pg_user" | "pg_authid" | "pg_tables" | "pg_views" => user(),
                "pg_settings" => settings_list(settings),
                _ => String::new(),
            };
            format!("pg_compat_{name}({args})")
        }
        CatalogSchema::InformationSchema => {
            let args = match name {
                "tables" | "columns" | "views" => db(),
                "schemata" => format!("{}, {}", db(), user()),
                _ => String::new(),
            };
            format!("pg_compat_is_{name}({args})")
        }
    }
}

/// The session's settings as a DuckDB list of structs, for `pg_settings`.
fn settings_list(settings: &Settings) -> String {
    let rows: Vec<String> = settings
        .all()
        .into_iter()
        .map(|(name, value, description)| {
            format!(
                "{{'name': {}, 'setting': {}, 'description': {}}}",
                quote_literal(&name),
                quote_literal(&value),
                quote_literal(&description)
            )
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// The session's settings as a DuckDB map from lower-case name to value, for
/// `current_setting(<expression>)`.
pub(crate) fn settings_map(settings: &Settings) -> String {
    let entries: Vec<String> = settings
        .all()
        .into_iter()
        .map(|(name, value, _)| {
            format!(
                "{}: {}",
                quote_literal(&name.to_lowercase()),
                quote_literal(&value)
            )
        })
        .collect();
    format!("MAP {{{}}}", entries.join(", "))
}

/// A SQL string literal.
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_lists_are_sorted_for_binary_search() {
        assert!(PG_CATALOG.windows(2).all(|w| w[0] < w[1]));
        assert!(INFORMATION_SCHEMA.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_relation_has_its_macro_in_the_executor_compat_sql() {
        let sql = include_str!("../../executor/src/pg_compat.sql");
        for name in PG_CATALOG {
            assert!(
                sql.contains(&format!("MACRO pg_compat_{name}(")),
                "pg_compat.sql lacks pg_compat_{name}()"
            );
        }
        for name in INFORMATION_SCHEMA {
            assert!(
                sql.contains(&format!("MACRO pg_compat_is_{name}(")),
                "pg_compat.sql lacks pg_compat_is_{name}()"
            );
        }
    }

    /// The executor runs pg_compat.sql split at every semicolon: a semicolon inside a
    /// statement (a string, a comment) would cut it in two.
    #[test]
    fn compat_sql_splits_into_whole_statements() {
        // As the executor splits it (a `;` inside a literal or a comment does not end one).
        let sql = include_str!("../../executor/src/pg_compat.sql");
        let statements =
            tavana_proto::sql::split_statements(sql, tavana_proto::sql::Lexicon::DuckDb);
        assert!(statements.len() > 50, "{} statements", statements.len());
        for statement in statements {
            let code: Vec<&str> = statement
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("--"))
                .collect();
            if let Some(first) = code.first() {
                assert!(
                    first.starts_with("CREATE OR REPLACE MACRO "),
                    "pg_compat.sql holds something other than a macro: {first}"
                );
            }
        }
    }

    #[test]
    fn relations_become_macro_calls_with_session_facts() {
        let settings = Settings::new(
            "alice",
            [
                ("database".to_owned(), "lake".to_owned()),
                ("application_name".to_owned(), "psql".to_owned()),
            ],
        );
        assert!(is_emulated(CatalogSchema::PgCatalog, "pg_class"));
        assert!(!is_emulated(CatalogSchema::PgCatalog, "pg_nothing"));
        assert!(is_emulated(CatalogSchema::InformationSchema, "columns"));
        assert!(!is_emulated(
            CatalogSchema::InformationSchema,
            "key_column_usage"
        ));
        assert_eq!(
            relation_call(CatalogSchema::PgCatalog, "pg_class", &settings),
            "pg_compat_pg_class()"
        );
        assert_eq!(
            relation_call(CatalogSchema::PgCatalog, "pg_database", &settings),
            "pg_compat_pg_database('lake')"
        );
        assert_eq!(
            relation_call(CatalogSchema::InformationSchema, "schemata", &settings),
            "pg_compat_is_schemata('lake', 'alice')"
        );
        let call = relation_call(CatalogSchema::PgCatalog, "pg_settings", &settings);
        assert!(
            call.starts_with("pg_compat_pg_settings([{'name': "),
            "{call}"
        );
        assert!(call.contains("'setting': 'psql'"), "{call}");
        assert!(settings_map(&settings).contains("'application_name': 'psql'"));
    }
}
