//! Statements prepared by one call and kept for the call that runs them, so that a query is
//! parsed, bound and planned once rather than at every step: `GetFlightInfo` keeps its
//! statement for the `DoGet` that follows, and `CreatePreparedStatement` for the
//! `GetFlightInfo` of the same text. Planning is most of a small query's cost, and a TPC-H
//! query's plan reads the footers of every Parquet file it names.
//!
//! A parked statement is found by its key (the query id the gateway gave the call, or the
//! session and SQL) and only used when the later call's session and SQL are the ones it was
//! prepared for; otherwise (or once taken, expired or pushed out) the statement is prepared
//! again, as it always could be. Parked statements hold a DuckDB connection each, so they are
//! few and short-lived.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;

use crate::ffi::PreparedQuery;

/// How long a prepared statement waits for its `DoGet`. Clients fetch right after
/// `GetFlightInfo`; one that never does only delays the cleanup.
const PARK_TIME: Duration = Duration::from_secs(30);

/// Most statements parked at once; when full, the oldest makes room.
const PARK_CAPACITY: usize = 64;

/// Prepared statements waiting for their `DoGet`, by query id.
pub(crate) struct ParkedStatements {
    waiting: Mutex<HashMap<String, Parked>>,
    outcomes: IntCounterVec,
    park_time: Duration,
    capacity: usize,
}

struct Parked {
    /// The session and SQL the statement was prepared for.
    fingerprint: String,
    prepared: PreparedQuery,
    parked_at: Instant,
}

impl ParkedStatements {
    /// An empty set counting into `outcomes`: `parked`, `evicted` (parked, pushing out the
    /// oldest), `reused`, `expired` and `mismatched`.
    pub(crate) fn new(outcomes: IntCounterVec) -> Self {
        Self::with_limits(outcomes, PARK_TIME, PARK_CAPACITY)
    }

    fn with_limits(outcomes: IntCounterVec, park_time: Duration, capacity: usize) -> Self {
        Self {
            waiting: Mutex::new(HashMap::new()),
            outcomes,
            park_time,
            capacity,
        }
    }

    /// What a statement must match to be reused: the session it runs in and its SQL.
    pub(crate) fn fingerprint(session_header: &str, sql: &str) -> String {
        format!("{session_header}\n{sql}")
    }

    /// Keeps `prepared` for the `DoGet` of `query_id`.
    pub(crate) fn park(&self, query_id: &str, fingerprint: String, prepared: PreparedQuery) {
        let now = Instant::now();
        // Statements are closed after the lock is released.
        let mut closing = Vec::new();
        let outcome = {
            let mut waiting = self.waiting.lock().expect("parked statements");
            let expired: Vec<String> = waiting
                .iter()
                .filter(|(_, parked)| now.duration_since(parked.parked_at) >= self.park_time)
                .map(|(id, _)| id.clone())
                .collect();
            for id in expired {
                closing.extend(waiting.remove(&id));
                self.outcomes.with_label_values(&["expired"]).inc();
            }
            // Full: the oldest goes. A statement whose DoGet is coming is a recent one.
            let outcome = if waiting.len() >= self.capacity {
                let oldest = waiting
                    .iter()
                    .min_by_key(|(_, parked)| parked.parked_at)
                    .map(|(id, _)| id.clone());
                closing.extend(oldest.and_then(|id| waiting.remove(&id)));
                "evicted"
            } else {
                "parked"
            };
            let replaced = waiting.insert(
                query_id.to_owned(),
                Parked {
                    fingerprint,
                    prepared,
                    parked_at: now,
                },
            );
            closing.extend(replaced);
            outcome
        };
        self.outcomes.with_label_values(&[outcome]).inc();
        drop(closing);
    }

    /// The statement parked for `query_id`, if it was prepared for `fingerprint` and has not
    /// expired. It is removed either way: a ticket's statement runs once.
    pub(crate) fn take(&self, query_id: &str, fingerprint: &str) -> Option<PreparedQuery> {
        let parked = self
            .waiting
            .lock()
            .expect("parked statements")
            .remove(query_id)?;
        if parked.parked_at.elapsed() >= self.park_time {
            self.outcomes.with_label_values(&["expired"]).inc();
            return None;
        }
        if parked.fingerprint != fingerprint {
            self.outcomes.with_label_values(&["mismatched"]).inc();
            return None;
        }
        self.outcomes.with_label_values(&["reused"]).inc();
        Some(parked.prepared)
    }
}

#[cfg(test)]
mod tests {
    use prometheus::Opts;

    use super::*;
    use crate::ffi::{ConnectionSetup, Database};

    fn outcomes() -> IntCounterVec {
        IntCounterVec::new(Opts::new("parked_test", "test"), &["outcome"]).unwrap()
    }

    fn count(outcomes: &IntCounterVec, outcome: &str) -> u64 {
        outcomes.with_label_values(&[outcome]).get()
    }

    #[test]
    fn statement_is_taken_once_and_only_for_its_own_session_and_sql() {
        let db = Database::open_in_memory(&[]).unwrap();
        let counts = outcomes();
        let parked = ParkedStatements::new(counts.clone());
        let fingerprint = ParkedStatements::fingerprint("{}", "SELECT 1");
        parked.park(
            "q1",
            fingerprint.clone(),
            db.prepare(&ConnectionSetup::default(), "SELECT 1", &[])
                .unwrap(),
        );
        parked.park(
            "q2",
            fingerprint.clone(),
            db.prepare(&ConnectionSetup::default(), "SELECT 1", &[])
                .unwrap(),
        );

        let other_session = ParkedStatements::fingerprint(r#"{"schema":"s"}"#, "SELECT 1");
        assert!(parked.take("q1", &other_session).is_none());
        assert!(
            parked.take("q1", &fingerprint).is_none(),
            "taken (and dropped) already"
        );
        assert!(parked.take("q2", &fingerprint).is_some());
        assert!(
            parked.take("q2", &fingerprint).is_none(),
            "a statement runs once"
        );
        assert_eq!(count(&counts, "parked"), 2);
        assert_eq!(count(&counts, "mismatched"), 1);
        assert_eq!(count(&counts, "reused"), 1);
    }

    #[test]
    fn oldest_makes_room_and_expired_ones_are_not_run() {
        let db = Database::open_in_memory(&[]).unwrap();
        let counts = outcomes();
        let parked = ParkedStatements::with_limits(counts.clone(), Duration::from_millis(200), 2);
        let fingerprint = ParkedStatements::fingerprint("{}", "SELECT 1");
        for id in ["q1", "q2", "q3"] {
            parked.park(
                id,
                fingerprint.clone(),
                db.prepare(&ConnectionSetup::default(), "SELECT 1", &[])
                    .unwrap(),
            );
        }
        assert_eq!(count(&counts, "evicted"), 1);
        assert!(
            parked.take("q1", &fingerprint).is_none(),
            "the oldest made room"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(parked.take("q2", &fingerprint).is_none(), "expired");
        assert_eq!(count(&counts, "expired"), 1);
        // Parking sweeps what expired meanwhile (q3).
        parked.park(
            "q4",
            fingerprint.clone(),
            db.prepare(&ConnectionSetup::default(), "SELECT 1", &[])
                .unwrap(),
        );
        assert_eq!(count(&counts, "expired"), 2);
        assert!(parked.take("q4", &fingerprint).is_some());
    }
}
