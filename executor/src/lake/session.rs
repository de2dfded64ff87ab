//! Per-session credentials: `CREATE SECRET`, `DROP SECRET`, `SET s3_*` / `RESET s3_*` that a
//! user runs for their own session.
//!
//! DuckDB keeps secrets per database instance, shared by every connection, so a user's secret
//! must never reach the shared engine. Instead:
//! 1. the front end routes a credential statement to an executor as the
//!    [`tavana_proto::messages::SESSION_CREDENTIAL_ACTION`] action; the executor parses it here
//!    (only a small, known grammar is accepted), checks it against the policy (no credential
//!    chain of the executor's own identity, no endpoints the operator did not list, no
//!    persistent secrets) and returns the session's new list of canonical statements;
//! 2. the gateway keeps that list in the session and sends it with every call
//!    ([`tavana_proto::SessionContext::credentials`]);
//! 3. a query of a session with credentials runs on that session's own in-memory DuckDB
//!    instance, set up like the shared one (extensions, settings, the operator's secrets, the
//!    catalog views) plus the session's secrets, and locked down the same way. Instances are
//!    cached by the hash of the credentials for a few minutes, so two sessions share one only
//!    when they hold exactly the same credentials.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, IntGauge};
use sha2::{Digest, Sha256};

use super::credentials::{ParamValue, SecretSpec};
use crate::error::ExecutorError;
use crate::ffi::Database;

/// Name prefix of session secrets in the session's engine (sorts before the operator's
/// `tavana_`, so the session's secret wins a tie of equally specific scopes).
pub(crate) const SESSION_PREFIX: &str = "session_";

/// Credential statements one session may hold.
const MAX_SESSION_SECRETS: usize = 16;

/// Longest credential statement accepted.
const MAX_STATEMENT_BYTES: usize = 16 * 1024;

/// Settings a session may `SET`, and the secret parameter each becomes.
const S3_SETTINGS: [(&str, &str); 8] = [
    ("s3_access_key_id", "key_id"),
    ("s3_secret_access_key", "secret"),
    ("s3_session_token", "session_token"),
    ("s3_region", "region"),
    ("s3_endpoint", "endpoint"),
    ("s3_url_style", "url_style"),
    ("s3_use_ssl", "use_ssl"),
    ("s3_url_compatibility_mode", "url_compatibility_mode"),
];
const AZURE_SETTINGS: [(&str, &str); 2] = [
    ("azure_storage_connection_string", "connection_string"),
    ("azure_account_name", "account_name"),
];

/// Parameters a session secret may carry, per type (besides TYPE, PROVIDER and SCOPE).
fn allowed_params(secret_type: &str, provider: &str) -> Option<&'static [&'static str]> {
    const S3: &[&str] = &[
        "key_id",
        "secret",
        "session_token",
        "region",
        "endpoint",
        "url_style",
        "use_ssl",
        "url_compatibility_mode",
        "kms_key_id",
        "requester_pays",
        "account_id",
    ];
    match (secret_type, provider) {
        ("s3" | "gcs" | "r2", "config") => Some(S3),
        ("azure", "config") => Some(&["connection_string", "account_name"]),
        ("azure", "service_principal") => {
            Some(&["tenant_id", "client_id", "client_secret", "account_name"])
        }
        _ => None,
    }
}

/// Why a credential statement was refused. Messages never contain secret values.
fn invalid(message: impl Into<String>) -> ExecutorError {
    ExecutorError::BadRequest(message.into())
}

fn refused(message: impl Into<String>) -> ExecutorError {
    ExecutorError::Refused(format!("Permission Error: {}", message.into()))
}

// ---------------------------------------------------------------------------------------------
// The credential statements' tokens (sqlparser's tokenizer, DuckDB's lexical rules).

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word, lower-cased.
    Word(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    /// A `'string'` literal.
    Str(String),
    /// A number.
    Num(String),
    /// `(`, `)`, `,`, `[`, `]`, `=`, `;`
    Punct(char),
}

fn lex(sql: &str) -> Result<Vec<Token>, ExecutorError> {
    use sqlparser::tokenizer::{Token as SqlToken, Tokenizer};
    let dialect = sqlparser::dialect::DuckDbDialect {};
    // The tokenizer's own messages are not passed on: they could quote a secret.
    let sql_tokens = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|_| invalid("unterminated quoted text or comment in credential statement"))?;
    let mut tokens = Vec::new();
    let mut negative = false;
    for token in sql_tokens {
        let token = match token {
            SqlToken::Whitespace(_) | SqlToken::EOF => continue,
            SqlToken::Minus if !negative => {
                negative = true;
                continue;
            }
            SqlToken::Number(digits, _) if negative => Token::Num(format!("-{digits}")),
            _ if negative => return Err(invalid("unexpected - in credential statement")),
            SqlToken::Number(digits, _) => Token::Num(digits),
            SqlToken::Word(word) if word.quote_style.is_some() => Token::Quoted(word.value),
            SqlToken::Word(word) => Token::Word(word.value.to_ascii_lowercase()),
            SqlToken::SingleQuotedString(text) | SqlToken::EscapedStringLiteral(text) => {
                Token::Str(text)
            }
            SqlToken::DollarQuotedString(text) => Token::Str(text.value),
            SqlToken::LParen => Token::Punct('('),
            SqlToken::RParen => Token::Punct(')'),
            SqlToken::Comma => Token::Punct(','),
            SqlToken::LBracket => Token::Punct('['),
            SqlToken::RBracket => Token::Punct(']'),
            SqlToken::Eq => Token::Punct('='),
            SqlToken::SemiColon => Token::Punct(';'),
            // Only a lone character is shown: another literal could hold a secret.
            SqlToken::Char(c) => {
                return Err(invalid(format!(
                    "unexpected character {c:?} in credential statement"
                )))
            }
            _ => return Err(invalid("unexpected text in credential statement")),
        };
        negative = false;
        tokens.push(token);
    }
    if negative {
        return Err(invalid("unexpected - in credential statement"));
    }
    while tokens.last() == Some(&Token::Punct(';')) {
        tokens.pop();
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn word(&mut self, word: &str) -> bool {
        if self.peek() == Some(&Token::Word(word.into())) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ExecutorError> {
        if self.word(word) {
            Ok(())
        } else {
            Err(invalid(format!(
                "expected {} in credential statement",
                word.to_ascii_uppercase()
            )))
        }
    }

    fn punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Result<String, ExecutorError> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            Some(Token::Quoted(q)) => Ok(q),
            _ => Err(invalid("expected a secret name")),
        }
    }

    fn value(&mut self) -> Result<ParamValue, ExecutorError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(ParamValue::Text(s)),
            Some(Token::Num(n)) => n
                .parse()
                .map(ParamValue::Int)
                .map_err(|_| invalid("bad number in credential statement")),
            Some(Token::Word(w)) if w == "true" || w == "false" => {
                Ok(ParamValue::Bool(w == "true"))
            }
            Some(Token::Word(w)) => Ok(ParamValue::Text(w)),
            Some(Token::Punct('[')) => {
                let mut items = Vec::new();
                if !self.punct(']') {
                    loop {
                        match self.next() {
                            Some(Token::Str(s)) => items.push(s),
                            _ => return Err(invalid("lists hold string literals only")),
                        }
                        if self.punct(']') {
                            break;
                        }
                        if !self.punct(',') {
                            return Err(invalid("expected , or ] in a list"));
                        }
                    }
                }
                Ok(ParamValue::List(items))
            }
            _ => Err(invalid("expected a value")),
        }
    }

    fn end(&self) -> Result<(), ExecutorError> {
        if self.at >= self.tokens.len() {
            Ok(())
        } else {
            Err(invalid("unexpected text after the credential statement"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statements and the session's credential state.

/// A parsed credential statement.
#[derive(Debug, Clone, PartialEq)]
enum Statement {
    CreateSecret {
        replace: bool,
        if_not_exists: bool,
        spec: SecretSpec,
    },
    DropSecret {
        if_exists: bool,
        name: String,
    },
    Set {
        name: String,
        value: ParamValue,
    },
    Reset {
        name: String,
    },
}

fn parse(sql: &str) -> Result<Statement, ExecutorError> {
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(invalid("credential statement too long"));
    }
    let mut p = Parser {
        tokens: lex(sql)?,
        at: 0,
    };
    let statement = if p.word("create") {
        let replace = if p.word("or") {
            p.expect_word("replace")?;
            true
        } else {
            false
        };
        if p.word("persistent") {
            return Err(refused(
                "persistent secrets are not allowed; a session's secret lives only as long as the session",
            ));
        }
        let _ = p.word("temp") || p.word("temporary");
        p.expect_word("secret")?;
        let if_not_exists = if p.word("if") {
            p.expect_word("not")?;
            p.expect_word("exists")?;
            true
        } else {
            false
        };
        let name = if p.peek() == Some(&Token::Punct('(')) {
            None
        } else {
            Some(p.name()?)
        };
        if p.word("in") {
            return Err(refused("secret storages are not available to sessions"));
        }
        if !p.punct('(') {
            return Err(invalid("expected ( after CREATE SECRET [name]"));
        }
        let mut params = BTreeMap::new();
        loop {
            let key = match p.next() {
                Some(Token::Word(w)) => w,
                _ => return Err(invalid("expected a secret parameter name")),
            };
            let value = p.value()?;
            if params.insert(key.clone(), value).is_some() {
                return Err(invalid(format!(
                    "parameter {} given twice",
                    key.to_ascii_uppercase()
                )));
            }
            if p.punct(')') {
                break;
            }
            if !p.punct(',') {
                return Err(invalid("expected , or ) between secret parameters"));
            }
        }
        p.end()?;
        Statement::CreateSecret {
            replace,
            if_not_exists,
            spec: secret_spec(name, params)?,
        }
    } else if p.word("drop") {
        if p.word("persistent") {
            return Err(refused("sessions have no persistent secrets"));
        }
        let _ = p.word("temp") || p.word("temporary");
        p.expect_word("secret")?;
        let if_exists = if p.word("if") {
            p.expect_word("exists")?;
            true
        } else {
            false
        };
        let name = p.name()?;
        p.end()?;
        Statement::DropSecret { if_exists, name }
    } else if p.word("set") {
        let _ = p.word("session") || p.word("local") || p.word("global");
        let name = match p.next() {
            Some(Token::Word(w)) => w,
            _ => return Err(invalid("expected a setting name")),
        };
        if !(p.punct('=') || p.word("to")) {
            return Err(invalid("expected = or TO"));
        }
        let value = p.value()?;
        p.end()?;
        setting_parameter(&name)?;
        Statement::Set { name, value }
    } else if p.word("reset") {
        let _ = p.word("session") || p.word("local") || p.word("global");
        let name = match p.next() {
            Some(Token::Word(w)) => w,
            _ => return Err(invalid("expected a setting name")),
        };
        p.end()?;
        setting_parameter(&name)?;
        Statement::Reset { name }
    } else {
        return Err(invalid(
            "not a credential statement (CREATE SECRET, DROP SECRET, SET s3_*/azure_*, RESET)",
        ));
    };
    Ok(statement)
}

/// The secret type and parameter a credential setting feeds.
fn setting_parameter(name: &str) -> Result<(&'static str, &'static str), ExecutorError> {
    S3_SETTINGS
        .iter()
        .map(|(setting, param)| ("s3", *setting, *param))
        .chain(
            AZURE_SETTINGS
                .iter()
                .map(|(setting, param)| ("azure", *setting, *param)),
        )
        .find(|(_, setting, _)| *setting == name)
        .map(|(secret_type, _, param)| (secret_type, param))
        .ok_or_else(|| {
            invalid(format!(
                "{name} is not a session credential setting (use {} or CREATE SECRET)",
                S3_SETTINGS
                    .iter()
                    .chain(AZURE_SETTINGS.iter())
                    .map(|(s, _)| *s)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn secret_spec(
    name: Option<String>,
    mut params: BTreeMap<String, ParamValue>,
) -> Result<SecretSpec, ExecutorError> {
    let secret_type = match params.remove("type") {
        Some(ParamValue::Text(t)) => t.to_ascii_lowercase(),
        _ => return Err(invalid("CREATE SECRET needs TYPE (s3, gcs, r2 or azure)")),
    };
    let provider = match params.remove("provider") {
        None => "config".to_owned(),
        Some(ParamValue::Text(p)) => p.to_ascii_lowercase(),
        Some(_) => return Err(invalid("PROVIDER must be a name")),
    };
    let Some(allowed) = allowed_params(&secret_type, &provider) else {
        return Err(refused(format!(
            "session secrets of TYPE {secret_type} with PROVIDER {provider} are not allowed: a session brings explicit keys (s3, gcs, r2: PROVIDER config; azure: config or service_principal), never the executor's own identity"
        )));
    };
    let scope = match params.remove("scope") {
        None => Vec::new(),
        Some(ParamValue::Text(s)) => vec![s],
        Some(ParamValue::List(items)) => items,
        Some(_) => return Err(invalid("SCOPE must be a string or a list of strings")),
    };
    for key in params.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(invalid(format!(
                "parameter {} is not allowed in a session secret of TYPE {secret_type} (allowed: TYPE, PROVIDER, SCOPE, {})",
                key.to_ascii_uppercase(),
                allowed.iter().map(|a| a.to_ascii_uppercase()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let name = name.unwrap_or_else(|| format!("__default_{secret_type}"));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid("secret names are letters, digits and _"));
    }
    Ok(SecretSpec {
        name: name.to_ascii_lowercase(),
        secret_type,
        provider: (provider != "config").then_some(provider),
        scope,
        params,
    })
}

/// The credentials a session holds: its secrets and its credential settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionCredentials {
    secrets: BTreeMap<String, SecretSpec>,
    settings: BTreeMap<String, ParamValue>,
}

impl SessionCredentials {
    /// Parses the canonical statements a session context carries.
    pub(crate) fn from_statements(statements: &[String]) -> Result<Self, ExecutorError> {
        let mut credentials = Self::default();
        for statement in statements {
            credentials = credentials.apply(parse(statement)?)?;
        }
        Ok(credentials)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.settings.is_empty()
    }

    fn apply(mut self, statement: Statement) -> Result<Self, ExecutorError> {
        match statement {
            Statement::CreateSecret {
                replace,
                if_not_exists,
                spec,
            } => {
                if self.secrets.contains_key(&spec.name) && !replace {
                    if if_not_exists {
                        return Ok(self);
                    }
                    return Err(invalid(format!(
                        "secret {} already exists in this session (use CREATE OR REPLACE SECRET)",
                        spec.name
                    )));
                }
                self.secrets.insert(spec.name.clone(), spec);
            }
            Statement::DropSecret { if_exists, name } => {
                if self.secrets.remove(&name.to_ascii_lowercase()).is_none() && !if_exists {
                    return Err(invalid(format!("this session has no secret {name}")));
                }
            }
            Statement::Set { name, value } => {
                self.settings.insert(name, value);
            }
            Statement::Reset { name } => {
                self.settings.remove(&name);
            }
        }
        if self.secrets.len() + self.settings.len() > MAX_SESSION_SECRETS {
            return Err(invalid(format!(
                "a session holds at most {MAX_SESSION_SECRETS} secrets and settings"
            )));
        }
        Ok(self)
    }

    /// Canonical statements, in a stable order: what the session context carries.
    pub(crate) fn to_statements(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .secrets
            .values()
            .map(|spec| spec.create_sql(""))
            .collect();
        out.extend(
            self.settings
                .iter()
                .map(|(name, value)| format!("SET {name} = {}", value.sql())),
        );
        out
    }

    /// The secrets to create in the session's engine: its own, plus one per storage type
    /// assembled from its `SET` credential settings.
    pub(crate) fn secrets(&self) -> Vec<SecretSpec> {
        let mut out: Vec<SecretSpec> = self.secrets.values().cloned().collect();
        for (secret_type, settings) in [("s3", &S3_SETTINGS[..]), ("azure", &AZURE_SETTINGS[..])] {
            let mut params = BTreeMap::new();
            for (setting, param) in settings {
                if let Some(value) = self.settings.get(*setting) {
                    params.insert((*param).to_owned(), value.clone());
                }
            }
            if !params.is_empty() {
                out.push(SecretSpec {
                    name: format!("__settings_{secret_type}"),
                    secret_type: secret_type.to_owned(),
                    provider: None,
                    scope: Vec::new(),
                    params,
                });
            }
        }
        out
    }

    /// Refuses endpoints the operator did not allow (a session's secret must not turn the
    /// executor into a proxy to internal services).
    pub(crate) fn check_endpoints(&self, allowed: &[String]) -> Result<(), ExecutorError> {
        for spec in self.secrets() {
            for endpoint in spec.endpoints() {
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&endpoint)) {
                    return Err(refused(format!(
                        "endpoint {endpoint} is not allowed for session secrets (the operator allows: {})",
                        if allowed.is_empty() {
                            "only the storage services' default endpoints".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    )));
                }
            }
        }
        Ok(())
    }

    /// Cache key: the hash of the canonical statements.
    pub(crate) fn key(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for statement in self.to_statements() {
            hasher.update(statement.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize().into()
    }
}

/// Applies one credential statement to the session's current list and returns the new list.
pub(crate) fn apply_statement(
    current: &[String],
    sql: &str,
    allowed_endpoints: &[String],
) -> Result<Vec<String>, ExecutorError> {
    let credentials = SessionCredentials::from_statements(current)?.apply(parse(sql)?)?;
    credentials.check_endpoints(allowed_endpoints)?;
    Ok(credentials.to_statements())
}

/// Serves [`tavana_proto::messages::SESSION_CREDENTIAL_ACTION`]: `body` is the statement; the
/// one result is the session's new context in header form. Never logs the statement.
pub(crate) async fn serve_action(
    engine: Arc<crate::engine::Engine>,
    session: tavana_proto::SessionContext,
    body: bytes::Bytes,
) -> Result<
    tonic::Response<
        std::pin::Pin<
            Box<
                dyn futures::Stream<Item = Result<arrow_flight::Result, tonic::Status>>
                    + Send
                    + 'static,
            >,
        >,
    >,
    tonic::Status,
> {
    let sql = String::from_utf8(body.to_vec())
        .map_err(|_| tonic::Status::invalid_argument("credential statement is not UTF-8"))?;
    let user = session.user.clone();
    let next = tokio::task::spawn_blocking(move || engine.apply_session_credential(&session, &sql))
        .await
        .map_err(|e| tonic::Status::internal(format!("engine task failed: {e}")))?
        .map_err(tonic::Status::from)?;
    tracing::info!(%user, credentials = next.credentials.len(), "session credentials changed");
    let result = arrow_flight::Result::new(next.to_header().into_bytes());
    Ok(tonic::Response::new(Box::pin(futures::stream::iter([Ok(
        result,
    )]))))
}

// ---------------------------------------------------------------------------------------------
// The sessions' own engines.

struct CachedEngine {
    db: Arc<Database>,
    generation: u64,
    last_used: Instant,
}

/// Engines of sessions that brought credentials, keyed by the hash of those credentials.
pub(crate) struct SessionEngines {
    capacity: usize,
    idle: Duration,
    cache: Mutex<HashMap<[u8; 32], CachedEngine>>,
    /// Engines kept (`tavana_executor_session_engines`).
    kept: IntGauge,
    /// Lookups by outcome (`tavana_executor_session_engines_total{outcome}`).
    events: IntCounterVec,
}

impl SessionEngines {
    pub(crate) fn new(
        capacity: usize,
        idle: Duration,
        kept: IntGauge,
        events: IntCounterVec,
    ) -> Self {
        Self {
            capacity,
            idle,
            cache: Mutex::new(HashMap::new()),
            kept,
            events,
        }
    }

    fn count(&self, outcome: &str, n: usize) {
        if n > 0 {
            self.events.with_label_values(&[outcome]).inc_by(n as u64);
        }
    }

    /// The engine for `key` at catalog `generation`, built with `build` when missing or stale.
    /// Blocking (building loads extensions and binds the catalog views).
    pub(crate) fn get_or_build(
        &self,
        key: [u8; 32],
        generation: u64,
        build: impl FnOnce() -> Result<Arc<Database>, ExecutorError>,
    ) -> Result<Arc<Database>, ExecutorError> {
        let now = Instant::now();
        {
            let mut cache = self.cache.lock().expect("session engines");
            // Idle engines go; queries still running on one keep it alive through their
            // connection.
            let before = cache.len();
            cache.retain(|_, engine| now.duration_since(engine.last_used) < self.idle);
            self.count("expired", before - cache.len());
            self.kept.set(cache.len() as i64);
            if let Some(engine) = cache.get_mut(&key) {
                if engine.generation == generation {
                    engine.last_used = now;
                    self.count("reused", 1);
                    return Ok(Arc::clone(&engine.db));
                }
            }
        }
        let db = build()?;
        let mut cache = self.cache.lock().expect("session engines");
        if !cache.contains_key(&key) && cache.len() >= self.capacity.max(1) {
            if let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, engine)| engine.last_used)
                .map(|(key, _)| *key)
            {
                cache.remove(&oldest);
                self.count("evicted", 1);
            }
        }
        cache.insert(
            key,
            CachedEngine {
                db: Arc::clone(&db),
                generation,
                last_used: Instant::now(),
            },
        );
        self.count("built", 1);
        self.kept.set(cache.len() as i64);
        Ok(db)
    }

    /// Engines currently cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cache.lock().expect("session engines").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(current: &[String], sql: &str) -> Result<Vec<String>, ExecutorError> {
        apply_statement(current, sql, &["127.0.0.1:9000".to_owned()])
    }

    #[test]
    fn create_secret_is_canonicalised() {
        let list = apply(
            &[],
            "create temporary secret Mine ( TYPE S3, KEY_ID 'AKIA', SECRET 'it''s', ENDPOINT '127.0.0.1:9000', URL_STYLE 'path', USE_SSL false, SCOPE ['s3://a/', 's3://b/'] );",
        )
        .unwrap();
        assert_eq!(
            list,
            ["CREATE OR REPLACE TEMPORARY SECRET \"mine\" (TYPE s3, SCOPE ['s3://a/', 's3://b/'], ENDPOINT '127.0.0.1:9000', KEY_ID 'AKIA', SECRET 'it''s', URL_STYLE 'path', USE_SSL false)"]
        );
        // Canonical statements parse back to themselves.
        let again = SessionCredentials::from_statements(&list).unwrap();
        assert_eq!(again.to_statements(), list);
        let spec = &again.secrets()[0];
        assert_eq!(
            spec.create_sql(SESSION_PREFIX),
            list[0].replace("\"mine\"", "\"session_mine\"")
        );
    }

    #[test]
    fn replace_drop_and_settings() {
        let one = apply(&[], "CREATE SECRET (TYPE gcs, KEY_ID 'k', SECRET 's')").unwrap();
        assert!(one[0].contains("\"__default_gcs\""));
        assert!(apply(&one, "CREATE SECRET (TYPE gcs, KEY_ID 'k2', SECRET 's')").is_err());
        assert_eq!(
            apply(
                &one,
                "CREATE SECRET IF NOT EXISTS __default_gcs (TYPE gcs, KEY_ID 'k2', SECRET 's')"
            )
            .unwrap(),
            one
        );
        let replaced = apply(
            &one,
            "CREATE OR REPLACE SECRET (TYPE gcs, KEY_ID 'k2', SECRET 's')",
        )
        .unwrap();
        assert!(replaced[0].contains("'k2'"));
        assert!(apply(&replaced, "DROP SECRET __default_gcs")
            .unwrap()
            .is_empty());
        assert!(apply(&[], "DROP SECRET nope").is_err());
        assert!(apply(&[], "DROP SECRET IF EXISTS nope").unwrap().is_empty());

        let set = apply(&[], "SET s3_access_key_id = 'AKIA'").unwrap();
        let set = apply(&set, "set session s3_secret_access_key to 'hush'").unwrap();
        let set = apply(&set, "SET s3_use_ssl=false").unwrap();
        assert_eq!(
            set,
            [
                "SET s3_access_key_id = 'AKIA'",
                "SET s3_secret_access_key = 'hush'",
                "SET s3_use_ssl = false"
            ]
        );
        let credentials = SessionCredentials::from_statements(&set).unwrap();
        assert_eq!(
            credentials.secrets()[0].create_sql(SESSION_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"session___settings_s3\" (TYPE s3, KEY_ID 'AKIA', SECRET 'hush', USE_SSL false)"
        );
        assert_eq!(apply(&set, "RESET s3_use_ssl").unwrap().len(), 2);
        assert!(apply(&[], "SET s3_uploader_thread_limit = 5").is_err());
        assert!(apply(&[], "SET threads = 5").is_err());
    }

    #[test]
    fn refuses_what_would_reach_beyond_the_session() {
        for sql in [
            "CREATE PERSISTENT SECRET (TYPE s3, KEY_ID 'a', SECRET 'b')",
            "CREATE SECRET s IN local_file (TYPE s3, KEY_ID 'a', SECRET 'b')",
            "CREATE SECRET (TYPE s3, PROVIDER credential_chain)",
            "CREATE SECRET (TYPE azure, PROVIDER credential_chain, ACCOUNT_NAME 'a')",
            "CREATE SECRET (TYPE azure, PROVIDER managed_identity, ACCOUNT_NAME 'a')",
            "CREATE SECRET (TYPE http, BEARER_TOKEN 'x')",
            "CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b', ENDPOINT '169.254.169.254')",
            "CREATE SECRET (TYPE azure, CONNECTION_STRING 'AccountName=a;AccountKey=k;BlobEndpoint=http://10.0.0.1:10000/a')",
            "SET s3_endpoint = 'metadata.internal:80'",
            "DROP PERSISTENT SECRET s",
        ] {
            let error = apply(&[], sql).unwrap_err();
            assert!(matches!(error, ExecutorError::Refused(_)), "{sql}: {error}");
        }
        for sql in [
            "CREATE SECRET (KEY_ID 'a')",
            "CREATE SECRET (TYPE s3, KEY_ID 'a', KEY_ID 'b')",
            "CREATE SECRET (TYPE s3, CHAIN 'env')",
            "CREATE SECRET (TYPE s3, KEY_ID 'a') ; SELECT 1",
            "CREATE SECRET (TYPE s3, KEY_ID 'unterminated)",
            "CREATE SECRET (TYPE s3, EXTRA_HTTP_HEADERS MAP {'a': 'b'})",
            "SELECT 1",
        ] {
            let error = apply(&[], sql).unwrap_err();
            assert!(
                matches!(error, ExecutorError::BadRequest(_)),
                "{sql}: {error}"
            );
        }
    }

    #[test]
    fn errors_never_echo_secret_values() {
        for sql in [
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH', SECRET 'hush', ENDPOINT 'evil:1')",
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH', SECRET 'hush', BOGUS 'hush')",
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH' SECRET 'hush')",
            "SET s3_secret_access_key 'hush'",
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH', SECRET N'hush')",
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH', SECRET \"hush\" || 'hush')",
            "CREATE SECRET (TYPE s3, KEY_ID 'AKIAHUSH', SECRET E'hush\\')",
        ] {
            let error = apply(&[], sql).unwrap_err().to_string();
            assert!(
                !error.contains("hush") && !error.contains("AKIAHUSH"),
                "{error}"
            );
        }
    }

    #[test]
    fn keys_differ_by_credentials_only() {
        let a =
            SessionCredentials::from_statements(&apply(&[], "SET s3_access_key_id = 'a'").unwrap())
                .unwrap();
        let b =
            SessionCredentials::from_statements(&apply(&[], "set s3_access_key_id='b'").unwrap())
                .unwrap();
        let a2 = SessionCredentials::from_statements(
            &apply(&[], "SET GLOBAL s3_access_key_id TO 'a'").unwrap(),
        )
        .unwrap();
        assert_ne!(a.key(), b.key());
        assert_eq!(a.key(), a2.key());
    }

    #[test]
    fn cache_rebuilds_on_new_generation_and_evicts() {
        let kept = IntGauge::new("kept", "kept").unwrap();
        let events =
            IntCounterVec::new(prometheus::Opts::new("events", "events"), &["outcome"]).unwrap();
        let engines = SessionEngines::new(1, Duration::from_secs(60), kept.clone(), events.clone());
        let count = |event: &str| events.with_label_values(&[event]).get();
        let open = || {
            Database::open_in_memory(&[])
                .map(Arc::new)
                .map_err(ExecutorError::Internal)
        };
        let first = engines.get_or_build([1; 32], 0, open).unwrap();
        let same = engines
            .get_or_build([1; 32], 0, || panic!("cached"))
            .unwrap();
        assert!(Arc::ptr_eq(&first, &same));
        let rebuilt = engines.get_or_build([1; 32], 1, open).unwrap();
        assert!(!Arc::ptr_eq(&first, &rebuilt));
        engines.get_or_build([2; 32], 1, open).unwrap();
        assert_eq!(engines.len(), 1);
        assert_eq!(kept.get(), 1);
        assert_eq!(
            (count("built"), count("reused"), count("evicted")),
            (3, 1, 1)
        );
    }
}
