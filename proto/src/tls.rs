//! Server TLS from PEM files, for every listener (the gRPC ports, the pg-adapter's PostgreSQL
//! port, every process's admin port), with rustls.
//!
//! The certificate is read again when its files change: a renewed certificate (cert-manager
//! rewrites the mounted Secret) serves new connections without a restart. Connections already
//! open keep the certificate they started with.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::watched::Watched;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsConfigError(String);

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, no client certificates)
/// serving the certificate chain in `cert` with the private key in `key`, read again when
/// either file changes.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = ReloadingCertificate::load(cert, key, Arc::clone(&provider))?;
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver)))
}

/// [`server_config`] for a gRPC server: HTTP/2 offered in ALPN, as gRPC clients require.
pub fn grpc_server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsConfigError> {
    let mut config = server_config(cert, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// The certificate and key, read again when their files change.
#[derive(Debug)]
struct ReloadingCertificate(Watched<CertifiedKey, TlsConfigError>);

impl ReloadingCertificate {
    fn load(
        cert: &Path,
        key: &Path,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, TlsConfigError> {
        let watched = Watched::load(
            vec![cert.to_owned(), key.to_owned()],
            move |files| read_certified_key(&files[0], &files[1], &provider),
            "TLS certificate changed: reloaded",
            "TLS certificate files changed but do not read; serving the previous certificate",
        )?;
        Ok(Self(watched))
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }
}

fn read_certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsConfigError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsConfigError(format!("reading {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(TlsConfigError(format!(
            "no certificate in {}",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsConfigError(format!("reading {}: {e}", key.display())))?;
    let certified = CertifiedKey::from_der(certs, key, provider)
        .map_err(|e| TlsConfigError(format!("{}: {e}", cert.display())))?;
    Ok(certified)
}
