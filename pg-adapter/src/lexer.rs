//! The adapter's SQL tokens: [`tavana_proto::sql`] with PostgreSQL's lexical rules.

use tavana_proto::sql::Lexicon;
pub(crate) use tavana_proto::sql::{Token, TokenKind};

/// Tokenizes `sql` as PostgreSQL reads it (see [`tavana_proto::sql::tokenize`]).
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    tavana_proto::sql::tokenize(sql, Lexicon::Postgres)
}

/// Splits a simple-query string into statements at top-level semicolons; empty statements are
/// dropped.
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    tavana_proto::sql::split_statements(sql, Lexicon::Postgres)
}
