//! Deployment credentials: flags / environment and an optional TOML file, turned into DuckDB
//! `CREATE SECRET` statements that run once at start-up, before the engine is locked.
//!
//! Secret values never reach a log line: [`SecretSpec`]'s `Debug` prints parameter names only,
//! and a failing statement is reported by secret name, never by its SQL.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::LakeConfigError;
use crate::sandbox::{quote_identifier, quote_literal};

/// Prefix of the names of the operator's secrets. Session secrets are named `session_*`, which
/// sorts first: DuckDB picks the longest matching `SCOPE` and, on a tie, the first name, so a
/// session's own secret wins over the deployment's for the same scope.
pub(crate) const OPERATOR_PREFIX: &str = "tavana_";

/// A value of a secret parameter.
#[derive(Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// A string (keys, endpoints, connection strings, ...).
    Text(String),
    /// A boolean (`USE_SSL`, ...).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A list of strings (`SCOPE`, ...).
    List(Vec<String>),
}

/// Redacted: values may be secrets.
impl fmt::Debug for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Text(_) => f.write_str("Text(<redacted>)"),
            ParamValue::Bool(b) => write!(f, "Bool({b})"),
            ParamValue::Int(_) => f.write_str("Int(<redacted>)"),
            ParamValue::List(items) => write!(f, "List(<{} redacted>)", items.len()),
        }
    }
}

impl ParamValue {
    /// A value from a TOML file (credentials file, catalog options): a string, boolean,
    /// integer or list of strings.
    pub(crate) fn from_toml(value: toml::Value) -> Result<Self, &'static str> {
        Ok(match value {
            toml::Value::String(s) => ParamValue::Text(s),
            toml::Value::Boolean(b) => ParamValue::Bool(b),
            toml::Value::Integer(i) => ParamValue::Int(i),
            toml::Value::Array(items) => ParamValue::List(
                items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Ok(s),
                        _ => Err("must be a list of strings"),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err("must be a string, boolean, integer or list of strings"),
        })
    }

    /// The SQL literal.
    pub(crate) fn sql(&self) -> String {
        match self {
            ParamValue::Text(text) => quote_literal(text),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| quote_literal(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            ParamValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// One DuckDB secret (`CREATE SECRET name (TYPE t, PROVIDER p, SCOPE ..., KEY value, ...)`).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretSpec {
    /// Name without prefix.
    pub name: String,
    /// `s3`, `gcs`, `r2`, `azure`, `http`, ...
    pub secret_type: String,
    /// `config` (the default), `credential_chain`, `service_principal`, ...
    pub provider: Option<String>,
    /// Prefixes the secret applies to; empty: the type's default (`s3://`, `az://`, ...).
    pub scope: Vec<String>,
    /// Other parameters, keys in lower case.
    pub params: BTreeMap<String, ParamValue>,
}

impl fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSpec")
            .field("name", &self.name)
            .field("type", &self.secret_type)
            .field("provider", &self.provider)
            .field("scope", &self.scope)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SecretSpec {
    fn new(name: &str, secret_type: &str) -> Self {
        Self {
            name: name.to_owned(),
            secret_type: secret_type.to_owned(),
            provider: None,
            scope: Vec::new(),
            params: BTreeMap::new(),
        }
    }

    fn set(&mut self, key: &str, value: ParamValue) {
        self.params.insert(key.to_ascii_lowercase(), value);
    }

    fn set_text(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.set(key, ParamValue::Text(value.to_owned()));
        }
    }

    /// The full secret name as created in DuckDB.
    pub(crate) fn full_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.name)
    }

    /// `CREATE OR REPLACE TEMPORARY SECRET ...` with the given name prefix.
    pub(crate) fn create_sql(&self, prefix: &str) -> String {
        let mut parts = vec![format!("TYPE {}", self.secret_type)];
        if let Some(provider) = &self.provider {
            parts.push(format!("PROVIDER {provider}"));
        }
        match self.scope.len() {
            0 => {}
            1 => parts.push(format!("SCOPE {}", quote_literal(&self.scope[0]))),
            _ => parts.push(format!(
                "SCOPE {}",
                ParamValue::List(self.scope.clone()).sql()
            )),
        }
        for (key, value) in &self.params {
            parts.push(format!("{} {}", key.to_ascii_uppercase(), value.sql()));
        }
        format!(
            "CREATE OR REPLACE TEMPORARY SECRET {} ({})",
            quote_identifier(&self.full_name(prefix)),
            parts.join(", ")
        )
    }

    /// Network endpoints (`host[:port]`) the secret sends requests to, when it names any:
    /// `ENDPOINT`, or the blob/DFS endpoints of an Azure connection string.
    pub(crate) fn endpoints(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(endpoint) = self.params.get("endpoint").and_then(ParamValue::as_text) {
            out.push(endpoint_host(endpoint));
        }
        if let Some(connection) = self
            .params
            .get("connection_string")
            .and_then(ParamValue::as_text)
        {
            out.extend(connection_string_endpoints(connection));
        }
        out
    }
}

/// `http://host:9000/` → `host:9000`; `host:9000` stays.
pub(crate) fn endpoint_host(endpoint: &str) -> String {
    let rest = endpoint
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(endpoint);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// The hosts named by `*Endpoint=` entries of an Azure connection string.
pub(crate) fn connection_string_endpoints(connection: &str) -> Vec<String> {
    connection
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| key.trim().to_ascii_lowercase().ends_with("endpoint"))
        .map(|(_, value)| endpoint_host(value.trim()))
        .collect()
}

/// Applies an S3-style endpoint given as a URL or `host:port`: `ENDPOINT host:port`, `USE_SSL`
/// from the scheme, and path-style URLs (what MinIO and emulators serve) unless `URL_STYLE` was
/// set.
fn apply_s3_endpoint(spec: &mut SecretSpec, endpoint: &str) {
    let (host, use_ssl) = match endpoint.split_once("://") {
        Some((scheme, _)) => (
            endpoint_host(endpoint),
            Some(scheme.eq_ignore_ascii_case("https")),
        ),
        None => (endpoint.trim_end_matches('/').to_owned(), None),
    };
    spec.set("endpoint", ParamValue::Text(host));
    if let Some(use_ssl) = use_ssl {
        spec.params
            .entry("use_ssl".into())
            .or_insert(ParamValue::Bool(use_ssl));
    }
    spec.params
        .entry("url_style".into())
        .or_insert(ParamValue::Text("path".into()));
}

/// Credential flags of `tavana executor` (each with its environment twin).
#[derive(clap::Args, Clone, Default)]
pub struct CredentialArgs {
    /// TOML file of `[[secret]]` entries, for several credentials or scopes (docs/lakes.md).
    #[arg(long, env = "TAVANA_CREDENTIALS_FILE")]
    pub credentials_file: Option<std::path::PathBuf>,

    /// S3 access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// S3 session token (temporary credentials).
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub s3_session_token: Option<String>,
    /// S3 region.
    #[arg(long, env = "AWS_REGION")]
    pub s3_region: Option<String>,
    /// S3-compatible endpoint (MinIO, ...): `http://host:9000` (no TLS) or `https://host`.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,
    /// `path` or `vhost` (default: `path` with a custom endpoint, else `vhost`).
    #[arg(long, env = "TAVANA_S3_URL_STYLE")]
    pub s3_url_style: Option<String>,
    /// Use the AWS default credential chain (IAM role, EKS IRSA, environment, profile). Optional
    /// value: DuckDB's `CHAIN`, e.g. `sts;instance`.
    #[arg(long, env = "TAVANA_S3_CREDENTIAL_CHAIN", num_args = 0..=1, default_missing_value = "default")]
    pub s3_credential_chain: Option<String>,

    /// Azure Storage connection string.
    #[arg(long, env = "AZURE_STORAGE_CONNECTION_STRING", hide_env_values = true)]
    pub azure_connection_string: Option<String>,
    /// Azure Storage account name (with a key, a SAS token, a service principal or the chain).
    #[arg(long, env = "AZURE_STORAGE_ACCOUNT")]
    pub azure_account_name: Option<String>,
    /// Azure Storage account key.
    #[arg(long, env = "AZURE_STORAGE_KEY", hide_env_values = true)]
    pub azure_account_key: Option<String>,
    /// Azure shared access signature (without the leading `?`).
    #[arg(long, env = "AZURE_STORAGE_SAS_TOKEN", hide_env_values = true)]
    pub azure_sas_token: Option<String>,
    /// Azure service principal: tenant id.
    #[arg(long, env = "AZURE_TENANT_ID")]
    pub azure_tenant_id: Option<String>,
    /// Azure service principal: client id.
    #[arg(long, env = "AZURE_CLIENT_ID")]
    pub azure_client_id: Option<String>,
    /// Azure service principal: client secret.
    #[arg(long, env = "AZURE_CLIENT_SECRET", hide_env_values = true)]
    pub azure_client_secret: Option<String>,
    /// Use the Azure default credential chain (AKS workload identity, managed identity, ...).
    /// Optional value: DuckDB's `CHAIN`, e.g. `workload_identity;managed_identity`.
    #[arg(long, env = "TAVANA_AZURE_CREDENTIAL_CHAIN", num_args = 0..=1, default_missing_value = "default")]
    pub azure_credential_chain: Option<String>,

    /// GCS HMAC key id.
    #[arg(long, env = "GCS_HMAC_KEY_ID", hide_env_values = true)]
    pub gcs_hmac_key_id: Option<String>,
    /// GCS HMAC secret.
    #[arg(long, env = "GCS_HMAC_SECRET", hide_env_values = true)]
    pub gcs_hmac_secret: Option<String>,
    /// GCS endpoint (emulators): `http://host:port`.
    #[arg(long, env = "TAVANA_GCS_ENDPOINT")]
    pub gcs_endpoint: Option<String>,
}

impl fmt::Debug for CredentialArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given = |v: &Option<String>| v.as_ref().map(|_| "<set>");
        f.debug_struct("CredentialArgs")
            .field("credentials_file", &self.credentials_file)
            .field("s3_access_key_id", &given(&self.s3_access_key_id))
            .field("s3_region", &self.s3_region)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_credential_chain", &self.s3_credential_chain)
            .field("azure_account_name", &self.azure_account_name)
            .field(
                "azure_connection_string",
                &given(&self.azure_connection_string),
            )
            .field("azure_credential_chain", &self.azure_credential_chain)
            .field("gcs_hmac_key_id", &given(&self.gcs_hmac_key_id))
            .field("gcs_endpoint", &self.gcs_endpoint)
            .finish_non_exhaustive()
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl CredentialArgs {
    /// The secrets these flags and the credentials file describe.
    pub fn secrets(&self) -> Result<Vec<SecretSpec>, LakeConfigError> {
        let mut secrets = Vec::new();
        secrets.extend(self.s3_secret()?);
        secrets.extend(self.azure_secret()?);
        secrets.extend(self.gcs_secret()?);
        if let Some(path) = &self.credentials_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                LakeConfigError::Credentials(format!("reading {}: {e}", path.display()))
            })?;
            secrets.extend(parse_credentials_file(&text, path)?);
        }
        let mut names = std::collections::BTreeSet::new();
        for secret in &secrets {
            if !names.insert(secret.name.clone()) {
                return Err(LakeConfigError::Credentials(format!(
                    "two secrets are named {:?}; give each [[secret]] its own name",
                    secret.name
                )));
            }
        }
        Ok(secrets)
    }

    fn s3_secret(&self) -> Result<Option<SecretSpec>, LakeConfigError> {
        let keys =
            given(&self.s3_access_key_id).is_some() || given(&self.s3_secret_access_key).is_some();
        let chain = given(&self.s3_credential_chain);
        // A region alone (EKS injects AWS_REGION into every pod) makes no secret: a keyless
        // secret would turn the Delta reader's own credential lookup off.
        if !keys && chain.is_none() && given(&self.s3_endpoint).is_none() {
            return Ok(None);
        }
        if keys && chain.is_some() {
            return Err(LakeConfigError::Credentials(
                "give S3 keys (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) or the credential chain (TAVANA_S3_CREDENTIAL_CHAIN), not both".into(),
            ));
        }
        if keys
            && (given(&self.s3_access_key_id).is_none()
                || given(&self.s3_secret_access_key).is_none())
        {
            return Err(LakeConfigError::Credentials(
                "S3 keys need both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            ));
        }
        let mut spec = SecretSpec::new("s3", "s3");
        if let Some(chain) = chain {
            spec.provider = Some("credential_chain".into());
            if chain != "default" {
                spec.set("chain", ParamValue::Text(chain.to_owned()));
            }
        } else {
            spec.set_text("key_id", given(&self.s3_access_key_id));
            spec.set_text("secret", given(&self.s3_secret_access_key));
            spec.set_text("session_token", given(&self.s3_session_token));
        }
        spec.set_text("region", given(&self.s3_region));
        spec.set_text("url_style", given(&self.s3_url_style));
        if let Some(endpoint) = given(&self.s3_endpoint) {
            apply_s3_endpoint(&mut spec, endpoint);
        }
        Ok(Some(spec))
    }

    fn azure_secret(&self) -> Result<Option<SecretSpec>, LakeConfigError> {
        let account = given(&self.azure_account_name);
        let mut spec = SecretSpec::new("azure", "azure");
        let principal = [
            &self.azure_tenant_id,
            &self.azure_client_id,
            &self.azure_client_secret,
        ]
        .map(given);
        let ways = [
            given(&self.azure_connection_string).is_some(),
            given(&self.azure_account_key).is_some(),
            given(&self.azure_sas_token).is_some(),
            principal.iter().any(Option::is_some),
            given(&self.azure_credential_chain).is_some(),
        ];
        match ways.iter().filter(|w| **w).count() {
            0 if account.is_none() => return Ok(None),
            0 | 1 => {}
            _ => {
                return Err(LakeConfigError::Credentials(
                    "give one way to authenticate to Azure: a connection string, an account key, a SAS token, a service principal or the credential chain".into(),
                ))
            }
        }
        let need_account = |what: &str| {
            account.ok_or_else(|| {
                LakeConfigError::Credentials(format!(
                    "Azure {what} needs the account name (AZURE_STORAGE_ACCOUNT)"
                ))
            })
        };
        if let Some(connection) = given(&self.azure_connection_string) {
            spec.set_text("connection_string", Some(connection));
        } else if let Some(key) = given(&self.azure_account_key) {
            let account = need_account("account key")?;
            spec.set(
                "connection_string",
                ParamValue::Text(format!(
                    "DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix=core.windows.net"
                )),
            );
        } else if let Some(sas) = given(&self.azure_sas_token) {
            let account = need_account("SAS token")?;
            let sas = sas.trim_start_matches('?');
            spec.set(
                "connection_string",
                ParamValue::Text(format!(
                    "BlobEndpoint=https://{account}.blob.core.windows.net;SharedAccessSignature={sas}"
                )),
            );
        } else if principal.iter().any(Option::is_some) {
            let [Some(tenant), Some(client), Some(secret)] = principal else {
                return Err(LakeConfigError::Credentials(
                    "an Azure service principal needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET".into(),
                ));
            };
            spec.provider = Some("service_principal".into());
            spec.set_text("tenant_id", Some(tenant));
            spec.set_text("client_id", Some(client));
            spec.set_text("client_secret", Some(secret));
            spec.set_text("account_name", Some(need_account("service principal")?));
        } else if let Some(chain) = given(&self.azure_credential_chain) {
            spec.provider = Some("credential_chain".into());
            if chain != "default" {
                spec.set("chain", ParamValue::Text(chain.to_owned()));
            }
            spec.set_text("account_name", Some(need_account("credential chain")?));
        } else {
            // Account name alone: anonymous access to public containers.
            spec.set_text("account_name", account);
        }
        Ok(Some(spec))
    }

    fn gcs_secret(&self) -> Result<Option<SecretSpec>, LakeConfigError> {
        let (key, secret) = (given(&self.gcs_hmac_key_id), given(&self.gcs_hmac_secret));
        if key.is_none() && secret.is_none() && given(&self.gcs_endpoint).is_none() {
            return Ok(None);
        }
        if key.is_none() != secret.is_none() {
            return Err(LakeConfigError::Credentials(
                "GCS HMAC keys need both GCS_HMAC_KEY_ID and GCS_HMAC_SECRET".into(),
            ));
        }
        let mut spec = SecretSpec::new("gcs", "gcs");
        spec.set_text("key_id", key);
        spec.set_text("secret", secret);
        if let Some(endpoint) = given(&self.gcs_endpoint) {
            apply_s3_endpoint(&mut spec, endpoint);
        }
        Ok(Some(spec))
    }
}

/// One `[[secret]]` of the credentials file; every key besides these is a secret parameter.
#[derive(Deserialize)]
struct SecretEntry {
    name: String,
    #[serde(rename = "type")]
    secret_type: String,
    provider: Option<String>,
    scope: Option<OneOrMany>,
    #[serde(flatten)]
    params: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    #[serde(default)]
    secret: Vec<SecretEntry>,
}

fn is_word(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a credentials file (see docs/lakes.md).
pub(crate) fn parse_credentials_file(
    text: &str,
    path: &Path,
) -> Result<Vec<SecretSpec>, LakeConfigError> {
    let bad =
        |message: String| LakeConfigError::Credentials(format!("{}: {message}", path.display()));
    // The parser's message may quote the offending line, which may hold a secret: keep only
    // its position.
    let file: CredentialsFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].lines().count().max(1);
                format!(" (line {line})")
            })
            .unwrap_or_default();
        bad(format!("not a valid credentials file{at}"))
    })?;
    let mut secrets = Vec::new();
    for entry in file.secret {
        if !is_word(&entry.name) {
            return Err(bad(format!(
                "secret name {:?} must be letters, digits and _",
                entry.name
            )));
        }
        let secret_type = entry.secret_type.to_ascii_lowercase();
        if !is_word(&secret_type) {
            return Err(bad(format!("secret {}: bad type", entry.name)));
        }
        let mut spec = SecretSpec::new(&entry.name, &secret_type);
        if let Some(provider) = entry.provider {
            if !is_word(&provider) {
                return Err(bad(format!("secret {}: bad provider", entry.name)));
            }
            spec.provider = Some(provider.to_ascii_lowercase());
        }
        spec.scope = match entry.scope {
            None => Vec::new(),
            Some(OneOrMany::One(one)) => vec![one],
            Some(OneOrMany::Many(many)) => many,
        };
        let mut endpoint = None;
        for (key, value) in entry.params {
            let key = key.to_ascii_lowercase();
            if !is_word(&key) {
                return Err(bad(format!("secret {}: bad parameter name", entry.name)));
            }
            let value = ParamValue::from_toml(value)
                .map_err(|why| bad(format!("secret {}: {key} {why}", entry.name)))?;
            if key == "endpoint" && matches!(secret_type.as_str(), "s3" | "gcs" | "r2") {
                endpoint = value.as_text().map(str::to_owned);
                continue;
            }
            spec.params.insert(key, value);
        }
        if let Some(endpoint) = endpoint {
            apply_s3_endpoint(&mut spec, &endpoint);
        }
        secrets.push(spec);
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CredentialArgs {
        CredentialArgs::default()
    }

    #[test]
    fn s3_keys_with_a_custom_endpoint() {
        let secrets = CredentialArgs {
            s3_access_key_id: Some("AKIA1".into()),
            s3_secret_access_key: Some("hush".into()),
            s3_region: Some("eu-west-1".into()),
            s3_endpoint: Some("http://127.0.0.1:9000".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert_eq!(secrets.len(), 1);
        assert_eq!(
            secrets[0].create_sql(OPERATOR_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"tavana_s3\" (TYPE s3, ENDPOINT '127.0.0.1:9000', \
             KEY_ID 'AKIA1', REGION 'eu-west-1', SECRET 'hush', URL_STYLE 'path', USE_SSL false)"
        );
        assert_eq!(secrets[0].endpoints(), vec!["127.0.0.1:9000"]);
        let debug = format!("{secrets:?}");
        assert!(
            !debug.contains("hush") && !debug.contains("AKIA1"),
            "{debug}"
        );
    }

    #[test]
    fn s3_credential_chain() {
        let secrets = CredentialArgs {
            s3_credential_chain: Some("default".into()),
            s3_region: Some("us-east-1".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert_eq!(
            secrets[0].create_sql(OPERATOR_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"tavana_s3\" (TYPE s3, PROVIDER credential_chain, REGION 'us-east-1')"
        );
        let both = CredentialArgs {
            s3_credential_chain: Some("default".into()),
            s3_access_key_id: Some("a".into()),
            s3_secret_access_key: Some("b".into()),
            ..args()
        };
        assert!(both.secrets().is_err());
        let half = CredentialArgs {
            s3_access_key_id: Some("a".into()),
            ..args()
        };
        assert!(half.secrets().is_err());
        let region_only = CredentialArgs {
            s3_region: Some("eu-west-1".into()),
            ..args()
        };
        assert!(region_only.secrets().unwrap().is_empty());
    }

    #[test]
    fn azure_ways() {
        let key = CredentialArgs {
            azure_account_name: Some("acct".into()),
            azure_account_key: Some("k==".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert!(key[0].create_sql(OPERATOR_PREFIX).contains(
            "CONNECTION_STRING 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;"
        ));
        let sas = CredentialArgs {
            azure_account_name: Some("acct".into()),
            azure_sas_token: Some("?sv=1&sig=x".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert!(sas[0].create_sql(OPERATOR_PREFIX).contains(
            "'BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=1&sig=x'"
        ));
        let principal = CredentialArgs {
            azure_account_name: Some("acct".into()),
            azure_tenant_id: Some("t".into()),
            azure_client_id: Some("c".into()),
            azure_client_secret: Some("s".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert!(principal[0]
            .create_sql(OPERATOR_PREFIX)
            .contains("PROVIDER service_principal, ACCOUNT_NAME 'acct', CLIENT_ID 'c', CLIENT_SECRET 's', TENANT_ID 't'"));
        let chain = CredentialArgs {
            azure_account_name: Some("acct".into()),
            azure_credential_chain: Some("workload_identity;managed_identity".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert!(chain[0].create_sql(OPERATOR_PREFIX).contains(
            "PROVIDER credential_chain, ACCOUNT_NAME 'acct', CHAIN 'workload_identity;managed_identity'"
        ));
        let partial = CredentialArgs {
            azure_tenant_id: Some("t".into()),
            azure_account_name: Some("acct".into()),
            ..args()
        };
        assert!(partial.secrets().is_err());
        let two = CredentialArgs {
            azure_connection_string: Some("x".into()),
            azure_account_key: Some("k".into()),
            azure_account_name: Some("acct".into()),
            ..args()
        };
        assert!(two.secrets().is_err());
        let connection = CredentialArgs {
            azure_connection_string: Some(
                "AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/a;".into(),
            ),
            ..args()
        }
        .secrets()
        .unwrap();
        assert_eq!(connection[0].endpoints(), vec!["127.0.0.1:10000"]);
    }

    #[test]
    fn gcs_hmac() {
        let secrets = CredentialArgs {
            gcs_hmac_key_id: Some("GOOG1".into()),
            gcs_hmac_secret: Some("s".into()),
            gcs_endpoint: Some("http://127.0.0.1:9023".into()),
            ..args()
        }
        .secrets()
        .unwrap();
        assert_eq!(
            secrets[0].create_sql(OPERATOR_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"tavana_gcs\" (TYPE gcs, ENDPOINT '127.0.0.1:9023', \
             KEY_ID 'GOOG1', SECRET 's', URL_STYLE 'path', USE_SSL false)"
        );
    }

    #[test]
    fn credentials_file() {
        let text = r#"
            [[secret]]
            name = "lake"
            type = "S3"
            scope = "s3://lake/"
            key_id = "AKIA"
            secret = "it's"
            endpoint = "https://minio.internal:9000"

            [[secret]]
            name = "raw"
            type = "s3"
            scope = ["s3://a/", "s3://b/"]
            provider = "credential_chain"
            chain = "sts"
        "#;
        let secrets = parse_credentials_file(text, Path::new("c.toml")).unwrap();
        assert_eq!(
            secrets[0].create_sql(OPERATOR_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"tavana_lake\" (TYPE s3, SCOPE 's3://lake/', \
             ENDPOINT 'minio.internal:9000', KEY_ID 'AKIA', SECRET 'it''s', URL_STYLE 'path', USE_SSL true)"
        );
        assert_eq!(
            secrets[1].create_sql(OPERATOR_PREFIX),
            "CREATE OR REPLACE TEMPORARY SECRET \"tavana_raw\" (TYPE s3, PROVIDER credential_chain, \
             SCOPE ['s3://a/', 's3://b/'], CHAIN 'sts')"
        );
        let broken = "[[secret]]\nname = \"x\"\ntype = \"s3\"\nsecret = \"hush\nmore";
        let error = parse_credentials_file(broken, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hush"), "{error}");
        assert!(error.contains("c.toml"), "{error}");
        let bad_name = "[[secret]]\nname = \"x y\"\ntype = \"s3\"";
        assert!(parse_credentials_file(bad_name, Path::new("c.toml")).is_err());
    }
}
