//! The statement log, as PostgreSQL's `log_min_error_statement` and
//! `log_min_duration_statement` keep one: a line for every statement that fails, and (with
//! `TAVANA_LOG_MIN_DURATION_MS`) for every statement that ran at least that long, with its
//! user, duration, rows and text. Lines go to the `tavana_statements` log target, so
//! `LOG_LEVEL=info,tavana_statements=off` silences them.
//!
//! Credential statements are never written out, and long texts are cut.

use std::borrow::Cow;
use std::time::Duration;

use tavana_proto::messages::is_credential_statement;
use tracing::info;

/// Characters of a statement's text written to the log at most.
const MAX_LOGGED_CHARS: usize = 2048;

/// How a statement ended.
#[derive(Debug, Clone, Copy)]
pub enum Ended<'a> {
    /// It ran to the end, producing (or affecting) this many rows.
    Finished {
        /// Rows sent or affected.
        rows: u64,
    },
    /// It failed with this error.
    Failed(&'a str),
    /// It was stopped: its client went away, cancelled it, or a limit ended it.
    Cancelled,
}

/// Which statements are logged.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatementLog {
    /// Log statements that ran at least this long (`Some(0)`: every statement).
    pub min_duration: Option<Duration>,
}

impl StatementLog {
    /// Writes the statement's line if it is one to log.
    pub fn record(&self, user: &str, sql: &str, elapsed: Duration, ended: Ended<'_>) {
        let elapsed_ms = elapsed.as_millis() as u64;
        let slow = self.min_duration.is_some_and(|min| elapsed >= min);
        match ended {
            Ended::Failed(error) => info!(
                target: "tavana_statements",
                user,
                elapsed_ms,
                error,
                statement = %shown(sql),
                "statement failed"
            ),
            Ended::Finished { rows } if slow => info!(
                target: "tavana_statements",
                user,
                elapsed_ms,
                rows,
                statement = %shown(sql),
                "statement finished"
            ),
            Ended::Cancelled if slow => info!(
                target: "tavana_statements",
                user,
                elapsed_ms,
                statement = %shown(sql),
                "statement cancelled"
            ),
            Ended::Finished { .. } | Ended::Cancelled => {}
        }
    }
}

/// The statement as the log shows it: credential statements hidden, long ones cut.
fn shown(sql: &str) -> Cow<'_, str> {
    if is_credential_statement(sql) {
        return Cow::Borrowed("<credential statement, not logged>");
    }
    let sql = sql.trim();
    match sql.char_indices().nth(MAX_LOGGED_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &sql[..cut], sql.len())),
        None => Cow::Borrowed(sql),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_and_long_texts_cut() {
        assert_eq!(
            shown("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')"),
            "<credential statement, not logged>"
        );
        assert_eq!(shown("  SELECT 1\n"), "SELECT 1");
        let long = format!("SELECT '{}'", "é".repeat(3000));
        let cut = shown(&long);
        assert!(cut.starts_with("SELECT 'éé"));
        assert!(cut.ends_with(&format!("… ({} bytes)", long.len())), "{cut}");
        assert_eq!(
            cut.chars().count(),
            MAX_LOGGED_CHARS + format!("… ({} bytes)", long.len()).chars().count()
        );
    }
}
