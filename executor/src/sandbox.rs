//! What a query may do. DuckDB's own settings do most of the work after start-up
//! (`allowed_directories`, `enable_external_access = false`, `lock_configuration = true`); this
//! module closes the holes those leave (see DESIGN.md): writes into allowed directories,
//! user-created secrets on the shared instance, and EXPLAIN ANALYZE of a refused statement.

use duckdb::ffi;

use crate::error::ExecutorError;
use crate::ffi::StatementType;
use tavana_proto::sql::{self, Lexicon};

/// The SQL that locks the engine down after start-up. Everything after it is refused by DuckDB.
pub(crate) fn lockdown_sql(allowed_paths: &[String]) -> String {
    let list = allowed_paths
        .iter()
        .map(|path| quote_literal(path))
        .collect::<Vec<_>>()
        .join(", ");
    // `integer_division` changes how `/` parses, nothing a query may reach: sessions that
    // divide as PostgreSQL does set it on their connections (see `SessionContext`).
    format!(
        "SET allowed_directories = [{list}];
         SET enable_external_access = false;
         SET allowed_configs = ['integer_division'];
         SET lock_configuration = true;"
    )
}

/// Quotes a SQL string literal.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Quotes a SQL identifier.
pub(crate) fn quote_identifier(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Which statements the executor runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatementPolicy {
    /// Allow INSERT/CREATE/COPY TO/... (off by default: Tavana serves reads over lakes).
    pub(crate) allow_writes: bool,
}

impl StatementPolicy {
    /// Checks a prepared statement. `describe_inner` prepares the statement inside an EXPLAIN
    /// and returns its type.
    #[allow(non_upper_case_globals)]
    pub(crate) fn check(
        &self,
        sql: &str,
        statement_type: StatementType,
        describe_inner: impl Fn(&str) -> Option<StatementType>,
    ) -> Result<(), ExecutorError> {
        use ffi::*;
        let refused = |why: &str| {
            Err(ExecutorError::Refused(format!(
                "Permission Error: {} statements are not allowed on this Tavana executor: {why}",
                statement_type.name()
            )))
        };
        match statement_type.0 {
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SET
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VARIABLE_SET
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_TRANSACTION => Ok(()),
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN => {
                let inner = strip_explain(sql);
                match describe_inner(inner) {
                    Some(inner_type)
                        if inner_type.0 != duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN =>
                    {
                        self.check(inner, inner_type, describe_inner)
                    }
                    _ => refused("the explained statement could not be checked"),
                }
            }
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DELETE
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ALTER
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DROP
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE_FUNC
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ANALYZE
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VACUUM
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MERGE_INTO => {
                if sql::is_create_secret(sql) {
                    refused("secrets are configured by the operator; a secret created here would be shared with every session")
                } else if self.allow_writes {
                    Ok(())
                } else {
                    refused("the service is read-only (start the executor with --allow-writes to change that)")
                }
            }
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PREPARE
            | duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXECUTE => refused(
                "a session's statements may run on different engine connections, so SQL-level \
                 prepared statements would not be found again; use the client's prepared \
                 statements (Flight SQL CreatePreparedStatement, PostgreSQL's extended protocol)",
            ),
            _ => {
                refused("it could change the engine or reach outside the configured data locations")
            }
        }
    }
}

/// Statements refused before DuckDB even prepares them: binding some of them already has
/// effects (`EXPORT DATABASE` creates its target directory while being bound).
const REFUSED_BEFORE_PREPARE: &[&str] = &[
    "export", "import", "attach", "detach", "install", "force", "load",
];

/// Refuses, by its first keyword, a statement whose preparation alone could touch the outside.
pub(crate) fn refuse_before_prepare(sql: &str) -> Result<(), ExecutorError> {
    let words = sql::leading_words(sql, 1, Lexicon::DuckDb);
    let keyword = words.first().map_or("", String::as_str);
    if REFUSED_BEFORE_PREPARE.contains(&keyword) {
        return Err(ExecutorError::Refused(format!(
            "Permission Error: {} statements are not allowed on this Tavana executor",
            keyword.to_ascii_uppercase()
        )));
    }
    Ok(())
}

/// `EXPLAIN [ANALYZE | ANALYSE | (options)] <statement>` → `<statement>`.
fn strip_explain(sql: &str) -> &str {
    let tokens = sql::tokenize(sql, Lexicon::DuckDb);
    if !tokens.first().is_some_and(|t| t.is_word("explain")) {
        return sql;
    }
    let mut at = 1;
    if tokens
        .get(at)
        .is_some_and(|t| t.is_word("analyze") || t.is_word("analyse"))
    {
        at += 1;
    }
    if tokens.get(at).is_some_and(|t| t.is_punct("(")) {
        let mut depth = 0;
        while let Some(token) = tokens.get(at) {
            at += 1;
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
        }
    }
    tokens.get(at).map_or("", |t| &sql[t.start..])
}

#[cfg(test)]
#[allow(non_upper_case_globals)]
mod tests {
    use super::*;
    use ffi::*;

    fn t(code: duckdb_statement_type) -> StatementType {
        StatementType(code)
    }

    #[test]
    fn read_only_policy() {
        let policy = StatementPolicy {
            allow_writes: false,
        };
        let none = |_: &str| None;
        assert!(policy
            .check(
                "SELECT 1",
                t(duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT),
                none
            )
            .is_ok());
        for code in [
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY,
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT,
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH,
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOAD,
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXTENSION,
            duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPORT,
        ] {
            let error = policy.check("x", t(code), none).unwrap_err();
            assert!(matches!(error, ExecutorError::Refused(_)), "{code}");
        }
    }

    #[test]
    fn writes_when_allowed_but_never_secrets_or_attach() {
        let policy = StatementPolicy { allow_writes: true };
        let none = |_: &str| None;
        let create = t(duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE);
        assert!(policy.check("CREATE TABLE t(i INT)", create, none).is_ok());
        assert!(policy
            .check(
                "create or replace temporary secret s (TYPE s3)",
                create,
                none
            )
            .is_err());
        assert!(policy
            .check("CREATE SECRET (TYPE s3)", create, none)
            .is_err());
        assert!(policy
            .check(
                "x",
                t(duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH),
                none
            )
            .is_err());
    }

    #[test]
    fn explain_analyze_is_checked_by_its_inner_statement() {
        let policy = StatementPolicy {
            allow_writes: false,
        };
        let explain = t(duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN);
        let inner = |sql: &str| {
            Some(t(if sql.to_ascii_lowercase().starts_with("copy") {
                duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY
            } else {
                duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT
            }))
        };
        assert!(policy.check("EXPLAIN SELECT 1", explain, inner).is_ok());
        assert!(policy
            .check("explain analyze COPY (SELECT 1) TO 'x.csv'", explain, inner)
            .is_err());
        assert!(policy
            .check(
                "EXPLAIN (FORMAT json) COPY (SELECT 1) TO 'x'",
                explain,
                inner
            )
            .is_err());
        assert_eq!(strip_explain("EXPLAIN ANALYZE select 1"), "select 1");
        assert_eq!(
            strip_explain("explain select analyze_x"),
            "select analyze_x"
        );
        assert_eq!(
            strip_explain("/* c */ EXPLAIN (FORMAT json, x (1)) -- d\n COPY t TO 'x'"),
            "COPY t TO 'x'"
        );
        assert_eq!(strip_explain("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn side_effecting_statements_are_refused_before_prepare() {
        for sql in [
            "EXPORT DATABASE '/data/out'",
            "  -- note\n /* x */ export database 'x'",
            "/* a /* nested */ comment */ EXPORT DATABASE 'x'",
            "((/* x */ ATTACH 'x.db'))",
            "ATTACH 'x.db'",
            "install httpfs",
            "FORCE INSTALL x",
            "LOAD '/tmp/x.duckdb_extension'",
        ] {
            assert!(refuse_before_prepare(sql).is_err(), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "(SELECT 1)",
            "-- c\nSELECT 'export'",
            "/* a /* nested */ EXPORT */ SELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
        ] {
            assert!(refuse_before_prepare(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn lockdown_quotes_paths() {
        let sql = lockdown_sql(&["/data/it's".into(), "s3://bucket/".into()]);
        assert!(sql.contains("['/data/it''s', 's3://bucket/']"), "{sql}");
        assert!(sql.contains("lock_configuration = true"));
    }
}
