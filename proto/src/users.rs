//! The users the gateway and the pg-adapter authenticate against: a fixed list
//! (`TAVANA_USERS`), or a file read again when it changes (`TAVANA_USERS_FILE`), so users and
//! passwords change without a restart.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::watched::Watched;

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
    /// Both a list and a file were given.
    #[error("set TAVANA_USERS (--users) or TAVANA_USERS_FILE (--users-file), not both")]
    ListAndFile,
    /// The users file could not be read.
    #[error("reading {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
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
    /// Parses a `name:password` list, entries separated by commas or new lines (a line that
    /// starts with `#` is a comment). Empty input gives an empty store.
    pub fn parse(list: &str) -> Result<Self, UsersError> {
        let mut users = HashMap::new();
        let entries = list
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty());
        for entry in entries {
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

    /// The users' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Whether no user is configured.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// The users to authenticate against, as they are now.
#[derive(Debug)]
pub struct UserSource(Source);

#[derive(Debug)]
enum Source {
    Fixed(Arc<UserStore>),
    File(Watched<UserStore, UsersError>),
}

impl UserSource {
    /// The users configured as a list (`TAVANA_USERS`) or a file (`TAVANA_USERS_FILE`).
    pub fn configured(list: &str, file: Option<&Path>) -> Result<Self, UsersError> {
        match file {
            Some(_) if !list.trim().is_empty() => Err(UsersError::ListAndFile),
            Some(path) => Self::file(path),
            None => Ok(Self::fixed(UserStore::parse(list)?)),
        }
    }

    /// A fixed list.
    pub fn fixed(store: UserStore) -> Self {
        Self(Source::Fixed(Arc::new(store)))
    }

    /// The list in `path` (as [`UserStore::parse`] reads it), read again when the file
    /// changes. The file must read now.
    pub fn file(path: &Path) -> Result<Self, UsersError> {
        let watched = Watched::load(
            vec![path.to_owned()],
            |files| read_users(&files[0]),
            "users file changed: reloaded",
            "users file changed but does not read; keeping the previous users",
        )?;
        Ok(Self(Source::File(watched)))
    }

    /// The users now. A changed file is read again (at most once a second); one that does not
    /// read keeps the previous users, with a warning, and is tried again at the next check.
    pub fn current(&self) -> Arc<UserStore> {
        match &self.0 {
            Source::Fixed(store) => Arc::clone(store),
            Source::File(watched) => watched.current(),
        }
    }
}

fn read_users(path: &Path) -> Result<UserStore, UsersError> {
    let text = std::fs::read_to_string(path).map_err(|e| UsersError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    UserStore::parse(&text)
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
    use crate::watched::RECHECK;

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
    fn a_users_file_is_read_again_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("tavana-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, "# analysts\nalice:one\nbob:two, carol:three\n").unwrap();
        let source = UserSource::file(&path).unwrap();
        assert!(source.current().verify("carol", "three"));
        std::fs::write(&path, "alice:uno\n").unwrap();
        std::thread::sleep(RECHECK + std::time::Duration::from_millis(100));
        let now = source.current();
        assert!(now.verify("alice", "uno") && !now.verify("alice", "one"));
        assert!(now.password("bob").is_none());
        // A file that does not read keeps the users it had.
        std::fs::write(&path, "alice\n").unwrap();
        std::thread::sleep(RECHECK + std::time::Duration::from_millis(100));
        assert!(source.current().verify("alice", "uno"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_never_prints_passwords() {
        let store = UserStore::parse("alice:topsecret").unwrap();
        assert!(!format!("{store:?}").contains("topsecret"));
    }
}
