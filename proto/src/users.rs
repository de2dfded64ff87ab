//! The users the gateway and the pg-adapter authenticate against.

use std::collections::HashMap;

/// Errors parsing a user list.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsersError {
    /// An entry was not `name:password`.
    #[error("user entry {entry:?} is not of the form name:password")]
    MalformedEntry {
        /// The offending entry, with the password part removed.
        entry: String,
    },
    /// The same user was listed twice.
    #[error("user {0:?} is listed twice")]
    Duplicate(String),
}

/// Users and their passwords, from configuration (`TAVANA_USERS=alice:secret,bob:pw`).
///
/// Passwords are kept in memory only; the pg-adapter needs them to derive SCRAM keys and to
/// authenticate to the gateway on the user's behalf.
#[derive(Clone, Default)]
pub struct UserStore {
    users: HashMap<String, String>,
}

impl std::fmt::Debug for UserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.users.keys().collect();
        names.sort();
        f.debug_struct("UserStore").field("users", &names).finish()
    }
}

impl UserStore {
    /// Parses a comma-separated `name:password` list. Empty input gives an empty store.
    pub fn parse(list: &str) -> Result<Self, UsersError> {
        let mut users = HashMap::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, password)) = entry.split_once(':') else {
                return Err(UsersError::MalformedEntry {
                    entry: entry.to_owned(),
                });
            };
            if name.is_empty() || password.is_empty() {
                return Err(UsersError::MalformedEntry {
                    entry: format!("{name}:***"),
                });
            }
            if users.insert(name.to_owned(), password.to_owned()).is_some() {
                return Err(UsersError::Duplicate(name.to_owned()));
            }
        }
        Ok(Self { users })
    }

    /// Adds or replaces one user.
    pub fn insert(&mut self, name: impl Into<String>, password: impl Into<String>) {
        self.users.insert(name.into(), password.into());
    }

    /// The stored password of `name`, if the user exists.
    pub fn password(&self, name: &str) -> Option<&str> {
        self.users.get(name).map(String::as_str)
    }

    /// Checks a password in time independent of where the first difference is.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        match self.users.get(name) {
            Some(stored) => constant_time_eq(stored.as_bytes(), password.as_bytes()),
            None => false,
        }
    }

    /// Whether no user is configured.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_verifies() {
        let store = UserStore::parse("alice:s3cret, bob:pw:with:colons").unwrap();
        assert!(store.verify("alice", "s3cret"));
        assert!(!store.verify("alice", "s3cre"));
        assert!(!store.verify("carol", "s3cret"));
        assert_eq!(store.password("bob"), Some("pw:with:colons"));
    }

    #[test]
    fn rejects_bad_lists() {
        for (input, expected) in [
            (
                "alice",
                UsersError::MalformedEntry {
                    entry: "alice".into(),
                },
            ),
            (
                "alice:",
                UsersError::MalformedEntry {
                    entry: "alice:***".into(),
                },
            ),
            ("a:1,a:2", UsersError::Duplicate("a".into())),
        ] {
            assert_eq!(UserStore::parse(input).unwrap_err(), expected);
        }
        assert!(UserStore::parse("").unwrap().is_empty());
    }

    #[test]
    fn debug_never_prints_passwords() {
        let store = UserStore::parse("alice:topsecret").unwrap();
        assert!(!format!("{store:?}").contains("topsecret"));
    }
}
