//! Statement classification: which statements the adapter answers itself (session
//! statements, transactions, cursors, COPY) and which go to the gateway.
//!
//! It matches tokens (see [`crate::lexer`]) rather than building syntax trees: PostgreSQL
//! clients send DuckDB-incompatible session statements in a handful of fixed shapes, and
//! everything else is passed through to DuckDB untouched so that DuckDB's own error messages
//! reach the user.

use crate::backends::Signal;
use crate::lexer::{tokenize, Token, TokenKind};

/// How many rows a FETCH or MOVE asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FetchCount {
    Rows(u64),
    All,
}

/// Options of `COPY ... TO STDOUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyOptions {
    pub(crate) format: CopyFormat,
    pub(crate) header: bool,
    pub(crate) delimiter: Option<String>,
    pub(crate) null: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// `[SAVEPOINT] name` after RELEASE or ROLLBACK ... TO, as `statement`.
fn savepoint_statement(tokens: &[Token], statement: impl FnOnce(String) -> Statement) -> Statement {
    let tokens = without_semicolons(tokens);
    let tokens = match tokens.first() {
        Some(first) if first.is_word("savepoint") => &tokens[1..],
        _ => tokens,
    };
    match (tokens.first().and_then(Token::ident), tokens.len()) {
        (Some(name), 1) => statement(name),
        _ => Statement::SyntaxError {
            message: "syntax error: expected a savepoint name".into(),
        },
    }
}

/// `tokens` without the semicolons that end them.
fn without_semicolons(tokens: &[Token]) -> &[Token] {
    let end = tokens
        .iter()
        .rposition(|t| !t.is_punct(";"))
        .map_or(0, |last| last + 1);
    &tokens[..end]
}

/// The transaction modes of BEGIN, START TRANSACTION, SET TRANSACTION and SET SESSION
/// CHARACTERISTICS AS TRANSACTION (`[NOT] DEFERRABLE` is accepted and has no setting here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TransactionModes {
    /// `ISOLATION LEVEL ...` as `transaction_isolation` shows it (`repeatable read`).
    pub(crate) isolation: Option<&'static str>,
    /// `READ ONLY` (`true`) or `READ WRITE`.
    pub(crate) read_only: Option<bool>,
}

/// Transaction modes, separated by commas or spaces, as PostgreSQL's grammar takes them;
/// `Err` is its syntax error.
fn transaction_modes(tokens: &[Token]) -> Result<TransactionModes, String> {
    let tokens = without_semicolons(tokens);
    let word = |i: usize| {
        tokens.get(i).and_then(|t| match &t.kind {
            TokenKind::Word(w) => Some(w.as_str()),
            _ => None,
        })
    };
    let syntax_error = |i: usize| match tokens.get(i) {
        Some(t) => format!("syntax error at or near \"{}\"", t.value()),
        None => "syntax error at end of input".to_owned(),
    };
    let mut modes = TransactionModes::default();
    let mut i = 0;
    loop {
        i = match (word(i), word(i + 1)) {
            (Some("isolation"), Some("level")) => {
                let (level, next) = match (word(i + 2), word(i + 3)) {
                    (Some("serializable"), _) => ("serializable", i + 3),
                    (Some("repeatable"), Some("read")) => ("repeatable read", i + 4),
                    (Some("read"), Some("committed")) => ("read committed", i + 4),
                    (Some("read"), Some("uncommitted")) => ("read uncommitted", i + 4),
                    (Some("repeatable" | "read"), _) => return Err(syntax_error(i + 3)),
                    _ => return Err(syntax_error(i + 2)),
                };
                modes.isolation = Some(level);
                next
            }
            (Some("isolation"), _) => return Err(syntax_error(i + 1)),
            (Some("read"), Some("only")) => {
                modes.read_only = Some(true);
                i + 2
            }
            (Some("read"), Some("write")) => {
                modes.read_only = Some(false);
                i + 2
            }
            (Some("read"), _) => return Err(syntax_error(i + 1)),
            (Some("deferrable"), _) => i + 1,
            (Some("not"), Some("deferrable")) => i + 2,
            _ => return Err(syntax_error(i)),
        };
        if i == tokens.len() {
            return Ok(modes);
        }
        if tokens[i].is_punct(",") {
            i += 1;
        }
    }
}

/// What the adapter does with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    /// Sent to the gateway.
    Query,
    /// `SET [SESSION|LOCAL] name {TO|=} value` (value `None` means DEFAULT).
    Set {
        name: String,
        value: Option<String>,
    },
    /// `RESET name` / `RESET ALL` (`None`).
    Reset {
        name: Option<String>,
    },
    /// `SHOW name` / `SHOW ALL`.
    Show {
        name: String,
    },
    /// `BEGIN [WORK | TRANSACTION] [modes]` / `START TRANSACTION [modes]`.
    Begin {
        modes: TransactionModes,
        /// The command tag, as PostgreSQL answers: `BEGIN` or `START TRANSACTION`.
        tag: &'static str,
    },
    /// `SET TRANSACTION modes`: the open transaction block's modes.
    SetTransaction {
        modes: TransactionModes,
    },
    /// `SET SESSION CHARACTERISTICS AS TRANSACTION modes`: the defaults of later transactions
    /// (`default_transaction_isolation`, `default_transaction_read_only`).
    SetSessionCharacteristics {
        modes: TransactionModes,
    },
    Commit,
    Rollback,
    /// `SAVEPOINT name`.
    Savepoint {
        name: String,
    },
    /// `RELEASE [SAVEPOINT] name`.
    Release {
        name: String,
    },
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`: leaves a failed transaction block
    /// usable again.
    RollbackTo {
        name: String,
    },
    /// Accepted and ignored, answered with this command tag (SAVEPOINT, LISTEN, SET TRANSACTION...).
    Noop {
        tag: &'static str,
    },
    /// `DISCARD ALL|PLANS|...`
    Discard,
    /// `DEALLOCATE [PREPARE] name|ALL`
    Deallocate {
        name: Option<String>,
    },
    Declare {
        name: String,
        binary: bool,
        query: String,
    },
    Fetch {
        name: String,
        count: FetchCount,
        is_move: bool,
    },
    /// `CLOSE name` / `CLOSE ALL` (`None`).
    Close {
        name: Option<String>,
    },
    /// `COPY (query) TO STDOUT` / `COPY table TO STDOUT`.
    CopyOut {
        query: String,
        options: CopyOptions,
    },
    /// `SELECT pg_cancel_backend(pid)` / `SELECT pg_terminate_backend(pid)`: signals one of
    /// this adapter's connections (see `backends.rs`).
    Signal {
        signal: Signal,
        target: SignalTarget,
    },
    /// A statement the adapter refuses with 0A000.
    Unsupported {
        what: String,
    },
    /// A malformed session statement (42601).
    SyntaxError {
        message: String,
    },
}

/// Classifies one statement (no trailing semicolon).
pub(crate) fn classify(sql: &str) -> Statement {
    // Per-session object-store credentials (`CREATE SECRET`, `SET s3_region = ...`) are the
    // gateway's: it keeps them in the session and sends them with every query.
    if tavana_proto::messages::is_credential_statement(sql) {
        return Statement::Query;
    }
    let tokens = tokenize(sql);
    let Some(first) = tokens.first() else {
        return Statement::Query;
    };
    let word = |i: usize| {
        tokens.get(i).and_then(|t| match &t.kind {
            TokenKind::Word(w) => Some(w.as_str()),
            _ => None,
        })
    };
    match &first.kind {
        TokenKind::Word(w) => match w.as_str() {
            "set" => classify_set(&tokens[1..]),
            "reset" => match tokens.get(1).and_then(Token::ident) {
                Some(name) if name == "all" => Statement::Reset { name: None },
                Some(name) => Statement::Reset {
                    name: Some(normalize_setting(&name)),
                },
                None => Statement::SyntaxError {
                    message: "syntax error at end of input".into(),
                },
            },
            "show" => classify_show(&tokens[1..]),
            "begin" | "start" => {
                let tag = if w == "start" {
                    // PostgreSQL's START takes TRANSACTION only (no WORK, no bare START).
                    if word(1) != Some("transaction") {
                        return Statement::SyntaxError {
                            message: match tokens.get(1) {
                                Some(t) => format!("syntax error at or near \"{}\"", t.value()),
                                None => "syntax error at end of input".into(),
                            },
                        };
                    }
                    "START TRANSACTION"
                } else {
                    "BEGIN"
                };
                let mut at = 1;
                if matches!(word(1), Some("work" | "transaction")) {
                    at = 2;
                }
                if without_semicolons(&tokens).len() == at {
                    Statement::Begin {
                        modes: TransactionModes::default(),
                        tag,
                    }
                } else {
                    match transaction_modes(&tokens[at..]) {
                        Ok(modes) => Statement::Begin { modes, tag },
                        Err(message) => Statement::SyntaxError { message },
                    }
                }
            }
            "commit" | "end" => Statement::Commit,
            "abort" => Statement::Rollback,
            "rollback" => {
                if let Some(to) = tokens.iter().position(|t| t.is_word("to")) {
                    savepoint_statement(&tokens[to + 1..], |name| Statement::RollbackTo { name })
                } else if word(1) == Some("prepared") {
                    Statement::Unsupported {
                        what: "ROLLBACK PREPARED".into(),
                    }
                } else {
                    Statement::Rollback
                }
            }
            "savepoint" => match (
                tokens.get(1).and_then(Token::ident),
                without_semicolons(&tokens).len(),
            ) {
                (Some(name), 2) => Statement::Savepoint { name },
                _ => Statement::SyntaxError {
                    message: "syntax error in SAVEPOINT: expected SAVEPOINT name".into(),
                },
            },
            "release" => savepoint_statement(&tokens[1..], |name| Statement::Release { name }),
            "listen" => Statement::Noop { tag: "LISTEN" },
            "unlisten" => Statement::Noop { tag: "UNLISTEN" },
            "notify" => Statement::Noop { tag: "NOTIFY" },
            "discard" => Statement::Discard,
            "deallocate" => {
                let mut i = 1;
                if word(i) == Some("prepare") {
                    i += 1;
                }
                match tokens.get(i).and_then(Token::ident) {
                    Some(n) if n == "all" && matches!(tokens[i].kind, TokenKind::Word(_)) => {
                        Statement::Deallocate { name: None }
                    }
                    Some(n) => Statement::Deallocate { name: Some(n) },
                    None => Statement::SyntaxError {
                        message: "syntax error at end of input".into(),
                    },
                }
            }
            "declare" => classify_declare(sql, &tokens),
            "fetch" => classify_fetch(&tokens[1..], false),
            "move" => classify_fetch(&tokens[1..], true),
            "close" => match tokens.get(1).and_then(Token::ident) {
                Some(n) if n == "all" && matches!(tokens[1].kind, TokenKind::Word(_)) => {
                    Statement::Close { name: None }
                }
                Some(n) => Statement::Close { name: Some(n) },
                None => Statement::SyntaxError {
                    message: "syntax error at end of input".into(),
                },
            },
            "copy" => classify_copy(sql, &tokens),
            "select" => classify_signal(&tokens[1..]).unwrap_or_else(|| {
                let signals = tokens
                    .iter()
                    .any(|t| t.is_word("pg_cancel_backend") || t.is_word("pg_terminate_backend"));
                if signals {
                    Statement::Unsupported {
                        what: "pg_cancel_backend and pg_terminate_backend inside a larger query \
                               (send SELECT pg_cancel_backend(<pid>) on its own, the pid a \
                               literal or a parameter)"
                            .into(),
                    }
                } else {
                    Statement::Query
                }
            }),
            _ => Statement::Query,
        },
        _ => Statement::Query,
    }
}

/// The connection a signal function names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalTarget {
    /// A literal pid.
    Pid(i32),
    /// Parameter `$n` (1-based).
    Param(usize),
}

/// `pg_cancel_backend(<pid>)` or `pg_terminate_backend(<pid> [, timeout])` as a whole select
/// list, the pid a literal or a parameter. Other uses reach DuckDB, which has no such functions.
fn classify_signal(tokens: &[Token]) -> Option<Statement> {
    let mut i = 0;
    if tokens.first()?.is_word("pg_catalog") && tokens.get(1)?.is_punct(".") {
        i = 2;
    }
    let signal = match &tokens.get(i)?.kind {
        TokenKind::Word(w) if w == "pg_cancel_backend" => Signal::Cancel,
        TokenKind::Word(w) if w == "pg_terminate_backend" => Signal::Terminate,
        _ => return None,
    };
    if !tokens.get(i + 1)?.is_punct("(") {
        return None;
    }
    let target = match &tokens.get(i + 2)?.kind {
        TokenKind::Number(n) => SignalTarget::Pid(n.parse().ok()?),
        TokenKind::Param(n) => SignalTarget::Param(*n),
        _ => return None,
    };
    let next = i + 3;
    let close = match tokens.get(next)? {
        t if t.is_punct(")") => next,
        // pg_terminate_backend(pid, timeout): the timeout is not waited for.
        t if t.is_punct(",") && signal == Signal::Terminate => {
            let rest = &tokens[next + 1..];
            next + 1 + rest.iter().position(|t| t.is_punct(")"))?
        }
        _ => return None,
    };
    (close + 1 == tokens.len()).then_some(Statement::Signal { signal, target })
}

fn classify_set(tokens: &[Token]) -> Statement {
    let mut i = 0;
    if tokens
        .first()
        .is_some_and(|t| t.is_word("session") || t.is_word("local"))
    {
        // `SET SESSION CHARACTERISTICS AS TRANSACTION ...`, `SET SESSION AUTHORIZATION`
        if tokens.get(1).is_some_and(|t| t.is_word("characteristics")) {
            if !(tokens.get(2).is_some_and(|t| t.is_word("as"))
                && tokens.get(3).is_some_and(|t| t.is_word("transaction")))
            {
                return Statement::Noop { tag: "SET" };
            }
            return match transaction_modes(&tokens[4..]) {
                Ok(modes) => Statement::SetSessionCharacteristics { modes },
                Err(message) => Statement::SyntaxError { message },
            };
        }
        i = 1;
    }
    let Some(name_tok) = tokens.get(i) else {
        return Statement::SyntaxError {
            message: "syntax error at end of input".into(),
        };
    };
    let Some(mut name) = name_tok.ident() else {
        return Statement::SyntaxError {
            message: format!("syntax error at or near \"{}\"", name_tok.value()),
        };
    };
    i += 1;
    // dotted custom names: a.b
    while tokens.get(i).is_some_and(|t| t.is_punct(".")) {
        if let Some(part) = tokens.get(i + 1).and_then(Token::ident) {
            name = format!("{name}.{part}");
            i += 2;
        } else {
            break;
        }
    }
    match name.as_str() {
        // `SET TRANSACTION SNAPSHOT id` is accepted as it was: there is one snapshot.
        "transaction" if !tokens.get(i).is_some_and(|t| t.is_word("snapshot")) => {
            return match transaction_modes(&tokens[i..]) {
                Ok(modes) => Statement::SetTransaction { modes },
                Err(message) => Statement::SyntaxError { message },
            };
        }
        "transaction" | "constraints" | "role" => return Statement::Noop { tag: "SET" },
        "session" if tokens.get(i).is_some_and(|t| t.is_word("authorization")) => {
            return Statement::Noop { tag: "SET" }
        }
        "time" if tokens.get(i).is_some_and(|t| t.is_word("zone")) => {
            let value = tokens[i + 1..]
                .iter()
                .map(Token::value)
                .collect::<Vec<_>>()
                .join(" ");
            let value =
                if value.eq_ignore_ascii_case("local") || value.eq_ignore_ascii_case("default") {
                    None
                } else {
                    Some(value)
                };
            return Statement::Set {
                name: "timezone".into(),
                value,
            };
        }
        "names" => {
            let value = tokens.get(i).map(Token::value);
            return Statement::Set {
                name: "client_encoding".into(),
                value,
            };
        }
        _ => {}
    }
    if tokens
        .get(i)
        .is_some_and(|t| t.is_word("to") || t.is_punct("="))
    {
        i += 1;
    } else {
        return Statement::SyntaxError {
            message: format!(
                "syntax error at or near \"{}\"",
                tokens.get(i).map(Token::value).unwrap_or_default()
            ),
        };
    }
    let rest = &tokens[i..];
    if rest.is_empty() {
        return Statement::SyntaxError {
            message: "syntax error at end of input".into(),
        };
    }
    if rest.len() == 1 && rest[0].is_word("default") {
        return Statement::Set {
            name: normalize_setting(&name),
            value: None,
        };
    }
    // Lists (search_path = a, b) keep their separators; other tokens are joined by spaces.
    let mut value = String::new();
    for t in rest {
        if t.is_punct(",") {
            value.push_str(", ");
            continue;
        }
        if !value.is_empty() && !value.ends_with(' ') {
            value.push(' ');
        }
        let v = t.value();
        if matches!(t.kind, TokenKind::Quoted(_)) && name == "search_path" {
            value.push_str(&format!("\"{v}\""));
        } else {
            value.push_str(&v);
        }
    }
    Statement::Set {
        name: normalize_setting(&name),
        value: Some(value),
    }
}

fn classify_show(tokens: &[Token]) -> Statement {
    let words: Vec<String> = tokens.iter().filter_map(Token::ident).collect();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => Statement::SyntaxError {
            message: "syntax error at end of input".into(),
        },
        ["transaction", "isolation", "level"] => Statement::Show {
            name: "transaction_isolation".into(),
        },
        ["time", "zone"] => Statement::Show {
            name: "timezone".into(),
        },
        ["session", "authorization"] => Statement::Show {
            name: "session_authorization".into(),
        },
        // SHOW TABLES / SHOW DATABASES etc. are DuckDB statements
        ["tables"] | ["databases"] | ["all", "tables"] => Statement::Query,
        [_] => Statement::Show {
            name: normalize_setting(&words[0]),
        },
        _ if tokens.len() >= 3 && tokens[1].is_punct(".") => Statement::Show {
            name: format!("{}.{}", words[0], words.get(1).cloned().unwrap_or_default()),
        },
        // `SHOW tbl` style DuckDB describe statements
        _ => Statement::Query,
    }
}

/// Canonical (lower-case) setting name, with PostgreSQL's aliases folded.
pub(crate) fn normalize_setting(name: &str) -> String {
    let lower = name.to_lowercase();
    match lower.as_str() {
        "time zone" => "timezone".into(),
        "transaction isolation level" => "transaction_isolation".into(),
        _ => lower,
    }
}

fn classify_declare(sql: &str, tokens: &[Token]) -> Statement {
    let Some(name) = tokens.get(1).and_then(Token::ident) else {
        return Statement::SyntaxError {
            message: "syntax error in DECLARE".into(),
        };
    };
    let mut binary = false;
    let mut i = 2;
    while let Some(t) = tokens.get(i) {
        match &t.kind {
            TokenKind::Word(w) if w == "binary" => binary = true,
            TokenKind::Word(w)
                if matches!(
                    w.as_str(),
                    "insensitive"
                        | "asensitive"
                        | "no"
                        | "scroll"
                        | "cursor"
                        | "with"
                        | "without"
                        | "hold"
                ) => {}
            TokenKind::Word(w) if w == "for" => {
                let query = sql[t.end..].trim().trim_end_matches(';').trim().to_owned();
                if query.is_empty() {
                    return Statement::SyntaxError {
                        message: "syntax error at end of input".into(),
                    };
                }
                return Statement::Declare {
                    name,
                    binary,
                    query,
                };
            }
            _ => {
                return Statement::SyntaxError {
                    message: format!("syntax error at or near \"{}\"", t.value()),
                };
            }
        }
        i += 1;
    }
    Statement::SyntaxError {
        message: "syntax error at end of input".into(),
    }
}

fn classify_fetch(tokens: &[Token], is_move: bool) -> Statement {
    let n = |t: Option<&Token>| -> Option<i64> {
        t.and_then(|t| match &t.kind {
            TokenKind::Number(n) => n.parse().ok(),
            _ => None,
        })
    };
    // Signed counts arrive as '-' then number.
    let mut i = 0;
    let mut count = FetchCount::Rows(1);
    let unsupported = |what: &str| Statement::Unsupported {
        what: format!("{what} (cursors can only scan forward)"),
    };
    match tokens.first().map(|t| &t.kind) {
        Some(TokenKind::Word(w)) => match w.as_str() {
            "next" => i = 1,
            "all" => {
                count = FetchCount::All;
                i = 1;
            }
            "forward" => {
                i = 1;
                if tokens.get(1).is_some_and(|t| t.is_word("all")) {
                    count = FetchCount::All;
                    i = 2;
                } else if let Some(v) = n(tokens.get(1)) {
                    count = FetchCount::Rows(v.max(0) as u64);
                    i = 2;
                }
            }
            "relative" => match n(tokens.get(1)) {
                Some(v) if v >= 0 => {
                    count = FetchCount::Rows(v as u64);
                    i = 2;
                }
                _ => return unsupported("FETCH RELATIVE with a negative count"),
            },
            "prior" | "first" | "last" | "absolute" | "backward" => {
                return unsupported(&format!("FETCH {}", w.to_uppercase()))
            }
            _ => {}
        },
        Some(TokenKind::Number(_)) => {
            count = FetchCount::Rows(n(tokens.first()).unwrap_or(1).max(0) as u64);
            i = 1;
        }
        Some(TokenKind::Punct(p)) if p == "-" => return unsupported("FETCH with a negative count"),
        Some(TokenKind::Punct(p)) if p == "+" => {
            count = FetchCount::Rows(n(tokens.get(1)).unwrap_or(1).max(0) as u64);
            i = 2;
        }
        _ => {}
    }
    if tokens
        .get(i)
        .is_some_and(|t| t.is_word("from") || t.is_word("in"))
    {
        i += 1;
    }
    match tokens.get(i).and_then(Token::ident) {
        Some(name) if i + 1 == tokens.len() => Statement::Fetch {
            name,
            count,
            is_move,
        },
        _ => Statement::SyntaxError {
            message: "syntax error in FETCH".into(),
        },
    }
}

fn classify_copy(sql: &str, tokens: &[Token]) -> Statement {
    // COPY ( query ) TO STDOUT ... | COPY name [(cols)] TO STDOUT ...
    let (query, mut i) = if tokens.get(1).is_some_and(|t| t.is_punct("(")) {
        let mut depth = 0;
        let mut close = None;
        for (j, t) in tokens.iter().enumerate().skip(1) {
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
        }
        let Some(close) = close else {
            return Statement::SyntaxError {
                message: "syntax error at end of input".into(),
            };
        };
        (
            sql[tokens[1].end..tokens[close].start].trim().to_owned(),
            close + 1,
        )
    } else {
        // table name, possibly qualified, optional column list
        let mut j = 1;
        let mut name_end = 1;
        while let Some(t) = tokens.get(j) {
            if t.is_word("to") || t.is_word("from") || t.is_punct("(") {
                break;
            }
            name_end = j + 1;
            j += 1;
        }
        if name_end == 1 {
            return Statement::SyntaxError {
                message: "syntax error in COPY".into(),
            };
        }
        let table = &sql[tokens[1].start..tokens[name_end - 1].end];
        let mut columns = "*".to_owned();
        if tokens.get(j).is_some_and(|t| t.is_punct("(")) {
            let close = tokens
                .iter()
                .skip(j)
                .position(|t| t.is_punct(")"))
                .map(|p| p + j);
            let Some(close) = close else {
                return Statement::SyntaxError {
                    message: "syntax error in COPY".into(),
                };
            };
            columns = sql[tokens[j].end..tokens[close].start].trim().to_owned();
            j = close + 1;
        }
        (format!("SELECT {columns} FROM {table}"), j)
    };
    if tokens.get(i).is_some_and(|t| t.is_word("from")) {
        return Statement::Unsupported {
            what: "COPY FROM (the service is read-only)".into(),
        };
    }
    if !tokens.get(i).is_some_and(|t| t.is_word("to"))
        || !tokens.get(i + 1).is_some_and(|t| t.is_word("stdout"))
    {
        return Statement::Unsupported {
            what: "COPY to a file (only COPY ... TO STDOUT is supported)".into(),
        };
    }
    i += 2;
    let mut options = CopyOptions {
        format: CopyFormat::Text,
        header: false,
        delimiter: None,
        null: None,
    };
    let rest: Vec<&Token> = tokens[i..]
        .iter()
        .filter(|t| !t.is_punct("(") && !t.is_punct(")") && !t.is_punct(",") && !t.is_word("with"))
        .collect();
    let mut k = 0;
    while k < rest.len() {
        let key = rest[k].value().to_lowercase();
        let next = rest.get(k + 1).map(|t| t.value());
        let next_is_value = rest.get(k + 1).is_some_and(|t| {
            matches!(t.kind, TokenKind::Str(_))
                || t.is_word("true")
                || t.is_word("false")
                || t.is_word("on")
                || t.is_word("off")
                || t.is_word("csv")
                || t.is_word("text")
                || t.is_word("binary")
        });
        match key.as_str() {
            "format" => {
                match next.as_deref().map(str::to_lowercase).as_deref() {
                    Some("csv") => options.format = CopyFormat::Csv,
                    Some("binary") => options.format = CopyFormat::Binary,
                    Some("text") => options.format = CopyFormat::Text,
                    other => {
                        return Statement::SyntaxError {
                            message: format!(
                                "COPY format \"{}\" not recognized",
                                other.unwrap_or("")
                            ),
                        }
                    }
                }
                k += 2;
            }
            "csv" => {
                options.format = CopyFormat::Csv;
                k += 1;
            }
            "binary" => {
                options.format = CopyFormat::Binary;
                k += 1;
            }
            "header" => {
                options.header = true;
                if next_is_value && !matches!(next.as_deref(), Some("csv" | "text" | "binary")) {
                    options.header = matches!(
                        next.as_deref().map(str::to_lowercase).as_deref(),
                        Some("true" | "on" | "1")
                    );
                    k += 1;
                }
                k += 1;
            }
            "delimiter" => {
                options.delimiter = next;
                k += 2;
            }
            "null" => {
                options.null = next;
                k += 2;
            }
            _ => k += 1,
        }
    }
    Statement::CopyOut { query, options }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_functions_as_the_whole_select_list() {
        let signal = |sql: &str| match classify(sql) {
            Statement::Signal { signal, target } => Some((signal, target)),
            _ => None,
        };
        assert_eq!(
            signal("SELECT pg_cancel_backend(123)"),
            Some((Signal::Cancel, SignalTarget::Pid(123)))
        );
        assert_eq!(
            signal("select pg_catalog.pg_terminate_backend($1, 5000)"),
            Some((Signal::Terminate, SignalTarget::Param(1)))
        );
        for other in [
            "select pg_cancel_backend(pid) from pg_stat_activity",
            "select pg_cancel_backend(1), 2",
            "select pg_cancel_backend(1, 2)",
            "select pg_cancel_backend(99999999999)",
        ] {
            assert!(
                matches!(classify(other), Statement::Unsupported { .. }),
                "{other}"
            );
        }
        assert_eq!(classify("select 'pg_cancel_backend(1)'"), Statement::Query);
    }

    #[test]
    fn classifies_session_statements() {
        let cases: Vec<(&str, Statement)> = vec![
            // Credentials go to the gateway, which keeps them in the session.
            ("SET s3_region = 'eu-west-1'", Statement::Query),
            ("RESET s3_access_key_id", Statement::Query),
            (
                "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
                Statement::Query,
            ),
            (
                "SET extra_float_digits = 3",
                Statement::Set {
                    name: "extra_float_digits".into(),
                    value: Some("3".into()),
                },
            ),
            (
                "set application_name to 'psql'",
                Statement::Set {
                    name: "application_name".into(),
                    value: Some("psql".into()),
                },
            ),
            (
                "SET SESSION TIME ZONE 'UTC'",
                Statement::Set {
                    name: "timezone".into(),
                    value: Some("UTC".into()),
                },
            ),
            (
                "SET TIME ZONE LOCAL",
                Statement::Set {
                    name: "timezone".into(),
                    value: None,
                },
            ),
            (
                "SET search_path TO \"$user\", public",
                Statement::Set {
                    name: "search_path".into(),
                    value: Some("\"$user\", public".into()),
                },
            ),
            (
                "SET DateStyle = ISO",
                Statement::Set {
                    name: "datestyle".into(),
                    value: Some("iso".into()),
                },
            ),
            (
                "SET statement_timeout = DEFAULT",
                Statement::Set {
                    name: "statement_timeout".into(),
                    value: None,
                },
            ),
            (
                "SET NAMES 'utf8'",
                Statement::Set {
                    name: "client_encoding".into(),
                    value: Some("utf8".into()),
                },
            ),
            (
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                Statement::SetSessionCharacteristics {
                    modes: TransactionModes {
                        isolation: None,
                        read_only: Some(true),
                    },
                },
            ),
            (
                "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
                Statement::SetTransaction {
                    modes: TransactionModes {
                        isolation: Some("read committed"),
                        read_only: None,
                    },
                },
            ),
            (
                "set transaction read write, isolation level repeatable read not deferrable;",
                Statement::SetTransaction {
                    modes: TransactionModes {
                        isolation: Some("repeatable read"),
                        read_only: Some(false),
                    },
                },
            ),
            (
                "SET TRANSACTION ISOLATION LEVEL bogus",
                Statement::SyntaxError {
                    message: "syntax error at or near \"bogus\"".into(),
                },
            ),
            (
                "SET TRANSACTION ISOLATION LEVEL READ COMMITTED,",
                Statement::SyntaxError {
                    message: "syntax error at end of input".into(),
                },
            ),
            (
                "SET TRANSACTION SNAPSHOT '1'",
                Statement::Noop { tag: "SET" },
            ),
            ("RESET ALL", Statement::Reset { name: None }),
            (
                "reset statement_timeout",
                Statement::Reset {
                    name: Some("statement_timeout".into()),
                },
            ),
            (
                "SHOW TRANSACTION ISOLATION LEVEL",
                Statement::Show {
                    name: "transaction_isolation".into(),
                },
            ),
            (
                "show server_version",
                Statement::Show {
                    name: "server_version".into(),
                },
            ),
            ("SHOW ALL", Statement::Show { name: "all".into() }),
            ("SHOW TABLES", Statement::Query),
            (
                "BEGIN",
                Statement::Begin {
                    modes: TransactionModes::default(),
                    tag: "BEGIN",
                },
            ),
            (
                "begin work;",
                Statement::Begin {
                    modes: TransactionModes::default(),
                    tag: "BEGIN",
                },
            ),
            (
                "BEGIN READ ONLY",
                Statement::Begin {
                    modes: TransactionModes {
                        isolation: None,
                        read_only: Some(true),
                    },
                    tag: "BEGIN",
                },
            ),
            (
                "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                Statement::Begin {
                    modes: TransactionModes {
                        isolation: Some("serializable"),
                        read_only: None,
                    },
                    tag: "START TRANSACTION",
                },
            ),
            (
                "start transaction",
                Statement::Begin {
                    modes: TransactionModes::default(),
                    tag: "START TRANSACTION",
                },
            ),
            (
                "START WORK",
                Statement::SyntaxError {
                    message: "syntax error at or near \"work\"".into(),
                },
            ),
            (
                "START",
                Statement::SyntaxError {
                    message: "syntax error at end of input".into(),
                },
            ),
            (
                "BEGIN ISOLATION",
                Statement::SyntaxError {
                    message: "syntax error at end of input".into(),
                },
            ),
            ("COMMIT", Statement::Commit),
            ("END", Statement::Commit),
            ("ROLLBACK", Statement::Rollback),
            (
                "ROLLBACK TO SAVEPOINT a",
                Statement::RollbackTo { name: "a".into() },
            ),
            (
                "ROLLBACK WORK TO \"Sp\"",
                Statement::RollbackTo { name: "Sp".into() },
            ),
            ("SAVEPOINT A", Statement::Savepoint { name: "a".into() }),
            (
                "RELEASE SAVEPOINT a",
                Statement::Release { name: "a".into() },
            ),
            ("RELEASE a", Statement::Release { name: "a".into() }),
            ("SAVEPOINT a;", Statement::Savepoint { name: "a".into() }),
            ("release a ;", Statement::Release { name: "a".into() }),
            ("DISCARD ALL", Statement::Discard),
            ("DEALLOCATE ALL", Statement::Deallocate { name: None }),
            (
                "DEALLOCATE PREPARE s1",
                Statement::Deallocate {
                    name: Some("s1".into()),
                },
            ),
            ("select 1", Statement::Query),
            (
                "  /* c */ WITH x AS (select 1) select * from x",
                Statement::Query,
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(classify(sql), expected, "{sql}");
        }
    }

    #[test]
    fn classifies_cursor_statements() {
        let cases: Vec<(&str, Statement)> = vec![
            (
                "declare \"SQL_CUR0x1\" cursor with hold for select * from t",
                Statement::Declare {
                    name: "SQL_CUR0x1".into(),
                    binary: false,
                    query: "select * from t".into(),
                },
            ),
            (
                "DECLARE c BINARY NO SCROLL CURSOR WITHOUT HOLD FOR SELECT 1;",
                Statement::Declare {
                    name: "c".into(),
                    binary: true,
                    query: "SELECT 1".into(),
                },
            ),
            (
                "fetch 100 in \"SQL_CUR0x1\"",
                Statement::Fetch {
                    name: "SQL_CUR0x1".into(),
                    count: FetchCount::Rows(100),
                    is_move: false,
                },
            ),
            (
                "FETCH NEXT FROM c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::Rows(1),
                    is_move: false,
                },
            ),
            (
                "FETCH c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::Rows(1),
                    is_move: false,
                },
            ),
            (
                "FETCH ALL c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::All,
                    is_move: false,
                },
            ),
            (
                "FETCH FORWARD 5 FROM c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::Rows(5),
                    is_move: false,
                },
            ),
            (
                "FETCH FORWARD ALL FROM c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::All,
                    is_move: false,
                },
            ),
            (
                "MOVE 10 IN c",
                Statement::Fetch {
                    name: "c".into(),
                    count: FetchCount::Rows(10),
                    is_move: true,
                },
            ),
            (
                "CLOSE c",
                Statement::Close {
                    name: Some("c".into()),
                },
            ),
            ("CLOSE ALL", Statement::Close { name: None }),
        ];
        for (sql, expected) in cases {
            assert_eq!(classify(sql), expected, "{sql}");
        }
        assert!(matches!(
            classify("FETCH PRIOR FROM c"),
            Statement::Unsupported { .. }
        ));
        assert!(matches!(
            classify("FETCH BACKWARD 2 FROM c"),
            Statement::Unsupported { .. }
        ));
        assert!(matches!(
            classify("DECLARE c CURSOR"),
            Statement::SyntaxError { .. }
        ));
    }

    #[test]
    fn classifies_copy() {
        let csv = CopyOptions {
            format: CopyFormat::Csv,
            header: true,
            delimiter: None,
            null: None,
        };
        assert_eq!(
            classify("COPY (select * from t where a = ')') TO STDOUT WITH (FORMAT csv, HEADER)"),
            Statement::CopyOut {
                query: "select * from t where a = ')'".into(),
                options: csv.clone()
            }
        );
        assert_eq!(
            classify("copy (select 1) to stdout with csv header"),
            Statement::CopyOut {
                query: "select 1".into(),
                options: csv
            }
        );
        assert_eq!(
            classify("COPY public.t (a, b) TO STDOUT (FORMAT binary)"),
            Statement::CopyOut {
                query: "SELECT a, b FROM public.t".into(),
                options: CopyOptions {
                    format: CopyFormat::Binary,
                    header: false,
                    delimiter: None,
                    null: None
                }
            }
        );
        assert_eq!(
            classify("COPY t TO STDOUT WITH (DELIMITER '|', NULL 'x')"),
            Statement::CopyOut {
                query: "SELECT * FROM t".into(),
                options: CopyOptions {
                    format: CopyFormat::Text,
                    header: false,
                    delimiter: Some("|".into()),
                    null: Some("x".into())
                }
            }
        );
        assert!(matches!(
            classify("COPY t FROM STDIN"),
            Statement::Unsupported { .. }
        ));
        assert!(matches!(
            classify("COPY t TO '/tmp/x'"),
            Statement::Unsupported { .. }
        ));
    }
}
