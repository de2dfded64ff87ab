//! Session tokens: the bearer token a client gets from the handshake, signed by the gateway.
//!
//! A token names a session and carries what is needed to open it again on a gateway that does
//! not hold it (the gateway restarted, or the client reconnected to another replica): the user,
//! when the token was issued, and the session's `catalog` and `schema` options. Gateways that
//! share a session key ([`SessionKey`]) accept each other's tokens. The session's object-store
//! credentials never travel in a token; a token only records that the session had some, and
//! such a session cannot be opened again from it.
//!
//! Format: `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`, the payload a
//! protobuf [`TokenClaims`].

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use prost::Message;
use rand::RngCore;
use sha2::Sha256;

/// The claims format this build writes and accepts.
const CLAIMS_VERSION: u32 = 1;

/// Shortest session key accepted from configuration, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// What a token says about its session.
#[derive(Clone, PartialEq, Message)]
pub struct TokenClaims {
    /// Format version, [`CLAIMS_VERSION`].
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// Random session id (16 bytes): the gateway's key for the session.
    #[prost(bytes = "bytes", tag = "2")]
    pub session_id: Bytes,
    /// Authenticated user.
    #[prost(string, tag = "3")]
    pub user: String,
    /// Unix time the token was issued, in seconds.
    #[prost(uint64, tag = "4")]
    pub issued_at: u64,
    /// The session's `catalog` option when the token was issued.
    #[prost(string, optional, tag = "5")]
    pub catalog: Option<String>,
    /// The session's `schema` option when the token was issued.
    #[prost(string, optional, tag = "6")]
    pub schema: Option<String>,
    /// The session held object-store credentials when the token was issued.
    #[prost(bool, tag = "7")]
    pub has_credentials: bool,
}

impl TokenClaims {
    /// Claims for a new session of `user`, issued now.
    pub fn new_session(user: &str) -> Self {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        Self {
            version: CLAIMS_VERSION,
            session_id: Bytes::copy_from_slice(&id),
            user: user.to_owned(),
            issued_at: unix_now(),
            catalog: None,
            schema: None,
            has_credentials: false,
        }
    }

    /// Seconds since the token was issued (0 for a token from the future: clocks of gateway
    /// replicas may differ a little).
    pub fn age_secs(&self) -> u64 {
        unix_now().saturating_sub(self.issued_at)
    }

    /// The session id as a printable string (for maps and logs).
    pub fn session_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.session_id)
    }
}

/// Why a presented token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this service issued: malformed, or signed with another key.
    #[error("invalid session token")]
    Invalid,
    /// Issued by a build with another claims format.
    #[error("session token of format {0}; this gateway reads format {CLAIMS_VERSION}")]
    Version(u32),
}

/// The keys session tokens are signed with: the first signs, any verifies (so a key can be
/// replaced without ending sessions: add the new one first, later drop the old one).
#[derive(Clone)]
pub struct SessionKey {
    keys: Vec<Vec<u8>>,
    configured: bool,
}

impl SessionKey {
    /// The configured key (shared by the gateways of a deployment).
    pub fn configured(key: &[u8]) -> Self {
        Self::rotating(&[key])
    }

    /// Configured keys: `keys[0]` signs, and tokens signed with any of them verify.
    pub fn rotating(keys: &[&[u8]]) -> Self {
        assert!(!keys.is_empty(), "at least one session key");
        Self {
            keys: keys.iter().map(|key| key.to_vec()).collect(),
            configured: true,
        }
    }

    /// A random key for this process only: its tokens die with it.
    pub fn ephemeral() -> Self {
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self {
            keys: vec![key],
            configured: false,
        }
    }

    /// Whether the key was configured, so tokens outlive this process.
    pub fn is_configured(&self) -> bool {
        self.configured
    }

    fn mac(key: &[u8]) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length")
    }

    /// Signs claims into a token.
    pub fn issue(&self, claims: &TokenClaims) -> String {
        let payload = claims.encode_to_vec();
        let mut mac = Self::mac(&self.keys[0]);
        mac.update(&payload);
        let signature = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let signed_by_a_key = self.keys.iter().any(|key| {
            let mut mac = Self::mac(key);
            mac.update(&payload);
            mac.verify_slice(&signature).is_ok()
        });
        if !signed_by_a_key {
            return Err(TokenError::Invalid);
        }
        let claims = TokenClaims::decode(payload.as_slice()).map_err(|_| TokenError::Invalid)?;
        if claims.version != CLAIMS_VERSION {
            return Err(TokenError::Version(claims.version));
        }
        if claims.session_id.len() != 16 {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

/// The current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_carries_its_claims_and_verifies_with_its_key_only() {
        let key = SessionKey::configured(b"0123456789abcdef0123456789abcdef");
        let mut claims = TokenClaims::new_session("alice");
        claims.schema = Some("sales".into());
        claims.has_credentials = true;
        let token = key.issue(&claims);
        assert_eq!(key.verify(&token), Ok(claims.clone()));

        let same_key = SessionKey::configured(b"0123456789abcdef0123456789abcdef");
        assert_eq!(same_key.verify(&token), Ok(claims));
        let other_key = SessionKey::configured(b"another key, another deployment");
        assert_eq!(other_key.verify(&token), Err(TokenError::Invalid));
        assert_eq!(
            SessionKey::ephemeral().verify(&token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_rotated_key_still_verifies_the_old_tokens() {
        let old = SessionKey::configured(b"the old key of this deployment, 1");
        let token = old.issue(&TokenClaims::new_session("alice"));
        let rotating = SessionKey::rotating(&[
            b"the new key of this deployment, 2",
            b"the old key of this deployment, 1",
        ]);
        assert!(rotating.verify(&token).is_ok());
        let fresh = rotating.issue(&TokenClaims::new_session("alice"));
        assert!(SessionKey::configured(b"the new key of this deployment, 2")
            .verify(&fresh)
            .is_ok());
        assert_eq!(old.verify(&fresh), Err(TokenError::Invalid));
    }

    #[test]
    fn tampered_or_malformed_tokens_are_invalid() {
        let key = SessionKey::ephemeral();
        let token = key.issue(&TokenClaims::new_session("alice"));
        let (payload, signature) = token.split_once('.').unwrap();

        // Claim to be someone else, keeping the signature.
        let mut forged =
            TokenClaims::decode(URL_SAFE_NO_PAD.decode(payload).unwrap().as_slice()).unwrap();
        forged.user = "admin".into();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(forged.encode_to_vec())
        );
        for bad in [
            forged.as_str(),
            payload,
            "",
            ".",
            "not base64!.x",
            &format!("{payload}.{}", &signature[1..]),
        ] {
            assert_eq!(key.verify(bad), Err(TokenError::Invalid), "{bad}");
        }
    }

    #[test]
    fn another_format_version_is_named() {
        let key = SessionKey::ephemeral();
        let mut claims = TokenClaims::new_session("alice");
        claims.version = 9;
        assert_eq!(key.verify(&key.issue(&claims)), Err(TokenError::Version(9)));
    }
}
