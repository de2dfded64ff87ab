//! What the scaler decides, apart from how it talks to Kubernetes: pure functions of the load
//! and the time, so every rule is unit-tested.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// One MiB: memory limits are written in whole MiB.
const MIB: u64 = 1 << 20;

/// How many executors the load asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaPolicy {
    /// Never fewer executors.
    pub min: u32,
    /// Never more executors (also how many addresses the gateway knows).
    pub max: u32,
    /// Queries (running on executors plus queued at the gateway) one executor should carry.
    pub queries_per_executor: f64,
    /// A lower count must be asked for this long before the scaler scales in.
    pub scale_down_delay: Duration,
}

impl ReplicaPolicy {
    /// Executors for `demand` queries, within `[min, max]`.
    pub fn recommend(&self, demand: u64) -> u32 {
        let wanted = (demand as f64 / self.queries_per_executor).ceil();
        (wanted.min(u32::MAX as f64) as u32).clamp(self.min, self.max)
    }
}

/// Recommendations of the last `scale_down_delay`: the count to run is the highest of them, so a
/// rise applies at once and a fall only once it has lasted the whole delay (the rule of
/// Kubernetes' HorizontalPodAutoscaler's scale-down stabilisation window).
#[derive(Debug, Default)]
pub struct Stabilizer {
    window: VecDeque<(Instant, u32)>,
}

impl Stabilizer {
    /// Starts a window that already holds `current` at `now`: a new leader does not scale in
    /// before a whole delay has passed under it.
    pub fn seeded(current: u32, now: Instant) -> Self {
        Self {
            window: VecDeque::from([(now, current)]),
        }
    }

    /// Adds `recommendation` at `now` and returns the count to run.
    pub fn desired(&mut self, recommendation: u32, now: Instant, delay: Duration) -> u32 {
        while self
            .window
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > delay)
        {
            self.window.pop_front();
        }
        self.window.push_back((now, recommendation));
        self.window
            .iter()
            .map(|(_, count)| *count)
            .max()
            .unwrap_or(recommendation)
    }
}

/// How executor memory grows after queries fail out of memory.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPolicy {
    /// The highest container memory limit, in bytes.
    pub max_bytes: u64,
    /// Factor applied to the limit per step (> 1).
    pub step: f64,
    /// Share of the container limit given to DuckDB (`MAX_MEMORY_GB`).
    pub fraction: f64,
    /// Time after a change before the next one (the rolling restart must finish first).
    pub cooldown: Duration,
}

/// A container's memory after one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStep {
    /// New limit, bytes (whole MiB).
    pub limit_bytes: u64,
    /// New request, bytes (whole MiB): the old request scaled like the limit.
    pub request_bytes: u64,
}

impl MemoryPolicy {
    /// The next step from `limit_bytes` (and `request_bytes`, if the container has one), or
    /// `None` at the maximum.
    pub fn next(&self, limit_bytes: u64, request_bytes: Option<u64>) -> Option<MemoryStep> {
        if limit_bytes >= self.max_bytes {
            return None;
        }
        let grown = round_up_mib((limit_bytes as f64 * self.step) as u64).max(limit_bytes + MIB);
        let limit = grown.min(self.max_bytes);
        let request = request_bytes.map_or(limit, |request| {
            let scaled = request as f64 * limit as f64 / limit_bytes.max(1) as f64;
            round_up_mib(scaled as u64).min(limit)
        });
        Some(MemoryStep {
            limit_bytes: limit,
            request_bytes: request,
        })
    }

    /// `MAX_MEMORY_GB` for a container limit: the fraction, in GiB with two decimals rounded
    /// down (the Helm chart's rule).
    pub fn duckdb_gb(&self, limit_bytes: u64) -> String {
        let gib = limit_bytes as f64 / (1u64 << 30) as f64 * self.fraction;
        let hundredths = (gib * 100.0).floor() as u64;
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// A memory limit as Kubernetes writes it: `1536Mi`, or `2Gi` when whole.
pub fn quantity(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 30) {
        format!("{}Gi", bytes >> 30)
    } else {
        format!("{}Mi", bytes.div_ceil(MIB))
    }
}

fn round_up_mib(bytes: u64) -> u64 {
    bytes.div_ceil(MIB) * MIB
}

/// Out-of-memory failures seen per executor, to tell new ones from ones already counted.
#[derive(Debug, Default)]
pub struct OutOfMemoryCounter {
    last: HashMap<String, u64>,
}

impl OutOfMemoryCounter {
    /// Records an executor's counter and returns how many failures are new since the last
    /// reading. An executor seen for the first time sets a baseline (its past failures may
    /// predate any change), and a counter that went down means the executor restarted: all its
    /// failures are new.
    pub fn observe(&mut self, executor: &str, failures: u64) -> u64 {
        match self.last.insert(executor.to_string(), failures) {
            None => 0,
            Some(before) if failures >= before => failures - before,
            Some(_) => failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicas() -> ReplicaPolicy {
        ReplicaPolicy {
            min: 1,
            max: 4,
            queries_per_executor: 2.0,
            scale_down_delay: Duration::from_secs(60),
        }
    }

    #[test]
    fn recommendation_rounds_up_and_stays_within_bounds() {
        let policy = replicas();
        assert_eq!(policy.recommend(0), 1);
        assert_eq!(policy.recommend(2), 1);
        assert_eq!(policy.recommend(3), 2);
        assert_eq!(policy.recommend(8), 4);
        assert_eq!(policy.recommend(1000), 4);
    }

    #[test]
    fn rises_apply_at_once_and_falls_after_the_delay() {
        let delay = Duration::from_secs(60);
        let start = Instant::now();
        let mut window = Stabilizer::seeded(1, start);
        assert_eq!(window.desired(3, start + Duration::from_secs(1), delay), 3);
        assert_eq!(window.desired(1, start + Duration::from_secs(30), delay), 3);
        assert_eq!(window.desired(1, start + Duration::from_secs(61), delay), 3);
        assert_eq!(window.desired(2, start + Duration::from_secs(62), delay), 2);
        assert_eq!(
            window.desired(1, start + Duration::from_secs(200), delay),
            1
        );
    }

    #[test]
    fn a_new_leader_does_not_scale_in_before_the_delay() {
        let delay = Duration::from_secs(60);
        let start = Instant::now();
        let mut window = Stabilizer::seeded(4, start);
        assert_eq!(window.desired(1, start + Duration::from_secs(10), delay), 4);
        assert_eq!(window.desired(1, start + Duration::from_secs(70), delay), 1);
    }

    fn memory() -> MemoryPolicy {
        MemoryPolicy {
            max_bytes: 3 << 30,
            step: 1.5,
            fraction: 0.75,
            cooldown: Duration::from_secs(600),
        }
    }

    #[test]
    fn memory_grows_by_the_step_up_to_the_maximum() {
        let policy = memory();
        let gib = 1u64 << 30;
        assert_eq!(
            policy.next(gib, Some(gib)),
            Some(MemoryStep {
                limit_bytes: 1536 * MIB,
                request_bytes: 1536 * MIB
            })
        );
        // The request keeps its share of the limit.
        assert_eq!(
            policy.next(2 * gib, Some(gib)).unwrap(),
            MemoryStep {
                limit_bytes: 3 * gib,
                request_bytes: 1536 * MIB
            }
        );
        assert_eq!(policy.next(3 * gib, None), None);
        assert_eq!(policy.next(4 * gib, None), None);
        // A step never rounds to nothing.
        let tiny = MemoryPolicy {
            step: 1.0001,
            ..memory()
        };
        assert_eq!(tiny.next(gib, None).unwrap().limit_bytes, gib + MIB);
    }

    #[test]
    fn duckdb_gets_its_fraction_in_gib_with_two_decimals() {
        let policy = memory();
        assert_eq!(policy.duckdb_gb(1 << 30), "0.75");
        assert_eq!(policy.duckdb_gb(1536 * MIB), "1.12");
        assert_eq!(policy.duckdb_gb(8 << 30), "6.00");
    }

    #[test]
    fn quantities_are_whole_gi_or_mi() {
        assert_eq!(quantity(2 << 30), "2Gi");
        assert_eq!(quantity(1536 * MIB), "1536Mi");
    }

    #[test]
    fn out_of_memory_failures_count_once_and_survive_restarts() {
        let mut counter = OutOfMemoryCounter::default();
        assert_eq!(counter.observe("a", 3), 0, "first sight is a baseline");
        assert_eq!(counter.observe("a", 3), 0);
        assert_eq!(counter.observe("a", 5), 2);
        assert_eq!(counter.observe("a", 1), 1, "restarted executor");
        assert_eq!(counter.observe("b", 0), 0);
        assert_eq!(counter.observe("b", 1), 1);
    }
}
