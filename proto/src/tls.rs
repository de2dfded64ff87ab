//! TLS from PEM files with rustls: the server side of every listener (the gRPC ports, the
//! pg-adapter's PostgreSQL port, every process's admin port), and the client side of the
//! gateway's calls to executors and the pg-adapter's calls to the gateway.
//!
//! Certificates are read again when their files change: a renewed certificate (cert-manager
//! rewrites the mounted Secret) serves new connections without a restart, and a rotated CA
//! bundle is trusted by new connections without one. Connections already open keep what they
//! started with.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

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

/// A rustls client configuration for gRPC (HTTP/2 in ALPN) that trusts the CA certificates in
/// the PEM file `ca` (one or more: a bundle during a rotation), read again when the file
/// changes. Server names are checked as usual (DNS names and IP addresses in the certificate).
pub fn grpc_client_config(ca: &Path) -> Result<rustls::ClientConfig, TlsConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = ReloadingRoots::load(ca, Arc::clone(&provider))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?
        // Not a weakened check: every call goes to webpki's verifier for the CA file as read last.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Verifies servers against the CA certificates of a file, read again when it changes.
#[derive(Debug)]
struct ReloadingRoots(Watched<Arc<WebPkiServerVerifier>, TlsConfigError>);

impl ReloadingRoots {
    fn load(ca: &Path, provider: Arc<CryptoProvider>) -> Result<Self, TlsConfigError> {
        let watched = Watched::load(
            vec![ca.to_owned()],
            move |files| read_roots(&files[0], &provider),
            "CA certificates changed: reloaded",
            "CA certificate file changed but does not read; trusting the previous CA certificates",
        )?;
        Ok(Self(watched))
    }
}

impl ServerCertVerifier for ReloadingRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.current().verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .current()
            .verify_tls12_signature(message, cert, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .current()
            .verify_tls13_signature(message, cert, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.current().supported_verify_schemes()
    }
}

fn read_roots(
    ca: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, TlsConfigError> {
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsConfigError(format!("reading {}: {e}", ca.display())))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(TlsConfigError(format!(
            "no usable CA certificate in {}",
            ca.display()
        )));
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| TlsConfigError(format!("{}: {e}", ca.display())))
}
