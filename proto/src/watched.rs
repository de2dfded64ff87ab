//! A value read from files and read again when they change: how TLS certificates and the users
//! file apply without a restart.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// How often, at most, a caller of [`Watched::current`] looks whether the files changed.
pub(crate) const RECHECK: Duration = Duration::from_secs(1);

/// What a watched value is read with: the files, in the order given, to the value or why not.
type Reader<T, E> = Box<dyn Fn(&[PathBuf]) -> Result<T, E> + Send + Sync>;

/// A value read from `files`, read again when one of their modification times changes.
pub(crate) struct Watched<T, E> {
    files: Vec<PathBuf>,
    read: Reader<T, E>,
    /// Log lines: the value was read again; the changed files do not read.
    reloaded: &'static str,
    unreadable: &'static str,
    current: Mutex<Loaded<T>>,
}

struct Loaded<T> {
    value: Arc<T>,
    stamps: Vec<Option<SystemTime>>,
    checked: Instant,
}

impl<T, E> std::fmt::Debug for Watched<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl<T, E: std::fmt::Display> Watched<T, E> {
    /// Reads the value now (an error if the files do not read), to be read again on change;
    /// `reloaded` and `unreadable` are the log lines for a change that reads and one that
    /// does not.
    pub(crate) fn load(
        files: Vec<PathBuf>,
        read: impl Fn(&[PathBuf]) -> Result<T, E> + Send + Sync + 'static,
        reloaded: &'static str,
        unreadable: &'static str,
    ) -> Result<Self, E> {
        let stamps = stamps(&files);
        let value = read(&files)?;
        Ok(Self {
            files,
            read: Box::new(read),
            reloaded,
            unreadable,
            current: Mutex::new(Loaded {
                value: Arc::new(value),
                stamps,
                checked: Instant::now(),
            }),
        })
    }

    /// The value now. Changed files are read again (looked at once per [`RECHECK`] at most);
    /// files that do not read keep the previous value, with a warning, and are tried again at
    /// the next look.
    pub(crate) fn current(&self) -> Arc<T> {
        let mut loaded = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if loaded.checked.elapsed() < RECHECK {
            return Arc::clone(&loaded.value);
        }
        loaded.checked = Instant::now();
        let stamps = stamps(&self.files);
        if stamps != loaded.stamps {
            match (self.read)(&self.files) {
                Ok(value) => {
                    loaded.value = Arc::new(value);
                    loaded.stamps = stamps;
                    tracing::info!(files = ?self.files, "{}", self.reloaded);
                }
                Err(error) => tracing::warn!(%error, "{}", self.unreadable),
            }
        }
        Arc::clone(&loaded.value)
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .collect()
}
