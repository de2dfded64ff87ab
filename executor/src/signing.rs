//! Tickets and handles the executor vouches for. Executors share the internal token, so an
//! executor can tell that a statement in a ticket was already checked against the sandbox by one
//! of them and skip preparing it again when the ticket is fetched (preparing a lake query
//! re-reads table metadata from object storage).

use bytes::Bytes;
use hmac::{Hmac, Mac};
use prost::Message;
use sha2::Sha256;
use tavana_proto::ExecutorStatement;
use tonic::Status;

/// Signs and verifies [`ExecutorStatement`] envelopes.
#[derive(Clone, Default)]
pub struct StatementSigner {
    key: Option<Vec<u8>>,
}

impl StatementSigner {
    /// A signer keyed by the internal token; without a token nothing is ever trusted.
    pub fn new(key: Option<&str>) -> Self {
        Self {
            key: key.filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_vec()),
        }
    }

    fn mac(&self, statement: &ExecutorStatement) -> Option<Hmac<Sha256>> {
        let key = self.key.as_ref()?;
        let mut unsigned = statement.clone();
        unsigned.signature = Bytes::new();
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(&unsigned.encode_to_vec());
        Some(mac)
    }

    /// Encodes a statement this executor has checked, with its signature.
    pub fn seal(&self, statement: &ExecutorStatement) -> Bytes {
        let mut sealed = statement.clone();
        sealed.signature = self
            .mac(statement)
            .map(|mac| Bytes::from(mac.finalize().into_bytes().to_vec()))
            .unwrap_or_default();
        sealed.to_bytes()
    }

    /// Encodes a statement nobody vouches for (no signature).
    pub fn plain(statement: &ExecutorStatement) -> Bytes {
        let mut plain = statement.clone();
        plain.signature = Bytes::new();
        plain.to_bytes()
    }

    /// Decodes an envelope; the flag says whether its signature proves an executor checked it.
    pub fn open(&self, bytes: &[u8]) -> Result<(ExecutorStatement, bool), Status> {
        let statement = ExecutorStatement::from_bytes(bytes)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let verified = !statement.signature.is_empty()
            && self
                .mac(&statement)
                .is_some_and(|mac| mac.verify_slice(&statement.signature).is_ok());
        Ok((statement, verified))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str) -> ExecutorStatement {
        ExecutorStatement {
            version: tavana_proto::messages::ENVELOPE_VERSION,
            sql: sql.into(),
            ..Default::default()
        }
    }

    #[test]
    fn sealed_statements_verify_and_tampering_does_not() {
        let signer = StatementSigner::new(Some("secret"));
        let (opened, verified) = signer.open(&signer.seal(&statement("SELECT 1"))).unwrap();
        assert!(verified);
        assert_eq!(opened.sql, "SELECT 1");

        let mut forged = opened.clone();
        forged.sql = "COPY (SELECT 1) TO '/data/x.csv'".into();
        assert!(!signer.open(&forged.to_bytes()).unwrap().1);
        assert!(!signer.open(&StatementSigner::plain(&opened)).unwrap().1);
        let other = StatementSigner::new(Some("another"));
        assert!(!other.open(&signer.seal(&statement("SELECT 1"))).unwrap().1);
    }

    #[test]
    fn without_a_key_nothing_is_trusted() {
        let signer = StatementSigner::new(None);
        assert!(!signer.open(&signer.seal(&statement("SELECT 1"))).unwrap().1);
    }
}
