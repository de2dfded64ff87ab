//! Leader election with a `coordination.k8s.io/v1` Lease, the way Kubernetes' own controllers
//! elect theirs (client-go's `leaderelection`): the holder renews the Lease; the others take it
//! over once it has not changed for its whole duration, measured on their own clock (so clock
//! skew between pods does not matter); every write carries the `resourceVersion` it read, so of
//! two candidates only one wins; a holder that stops releases the Lease for an immediate
//! hand-over.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};

/// What of a Lease tells whether its holder is alive: any change is a renewal.
#[derive(Debug, Clone, PartialEq)]
struct Record {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    transitions: Option<i32>,
}

impl Record {
    fn of(spec: &LeaseSpec) -> Self {
        Self {
            holder: spec.holder_identity.clone().filter(|h| !h.is_empty()),
            renew_time: spec.renew_time.clone(),
            transitions: spec.lease_transitions,
        }
    }
}

/// A Lease record as last seen, and when this candidate saw it change.
#[derive(Debug, Clone)]
struct Observed {
    record: Record,
    seen_at: Instant,
}

/// One candidate for the Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
    observed: Option<Observed>,
    last_renewed: Option<Instant>,
}

impl LeaderElector {
    /// A candidate called `identity` for the Lease `name`, held for `duration` between renewals.
    pub fn new(api: Api<Lease>, name: String, identity: String, duration: Duration) -> Self {
        Self {
            api,
            name,
            identity,
            duration,
            observed: None,
            last_renewed: None,
        }
    }

    /// This candidate's name in the Lease's `holderIdentity`.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Whether this candidate still holds the Lease as far as it knows: it renewed it within
    /// the last two thirds of its duration (client-go's renew deadline), so it stops acting
    /// before anyone else may take over.
    pub fn is_leading(&self, now: Instant) -> bool {
        self.last_renewed
            .is_some_and(|at| now.saturating_duration_since(at) < self.duration * 2 / 3)
    }

    /// Acquires or renews the Lease. `Ok(true)` when this candidate holds it now.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = Instant::now();
        let Some(current) = self.api.get_opt(&self.name).await? else {
            return self.create(now).await;
        };
        let spec = current.spec.clone().unwrap_or_default();
        let record = Record::of(&spec);
        let since = match &self.observed {
            Some(observed) if observed.record == record => observed.seen_at,
            _ => now,
        };
        self.observed = Some(Observed {
            record: record.clone(),
            seen_at: since,
        });
        let held_by_me = record.holder.as_deref() == Some(self.identity.as_str());
        if let Some(other) = record.holder.as_deref().filter(|_| !held_by_me) {
            let held_for = spec
                .lease_duration_seconds
                .map_or(self.duration, |s| Duration::from_secs(s.max(1) as u64));
            if now.saturating_duration_since(since) < held_for {
                tracing::trace!(lease = %self.name, holder = other, "lease held by another gateway");
                self.last_renewed = None;
                return Ok(false);
            }
            tracing::info!(lease = %self.name, previous = other, "lease expired; taking it over");
        }
        let mut next = current;
        next.spec = Some(self.claim(spec));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &next)
            .await
        {
            Ok(written) => {
                self.remember(&written, now);
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.is_conflict() => {
                // Someone else wrote it first: read it again next time.
                self.last_renewed = None;
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    async fn create(&mut self, now: Instant) -> Result<bool, kube::Error> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(self.claim(LeaseSpec::default())),
        };
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(written) => {
                tracing::info!(lease = %self.name, "lease created");
                self.remember(&written, now);
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// `previous` (an empty spec for a new Lease) as held by this candidate from now: renewed,
    /// and acquired (one more transition) unless it already held it.
    fn claim(&self, previous: LeaseSpec) -> LeaseSpec {
        let held_by_me = previous.holder_identity.as_deref() == Some(self.identity.as_str());
        let stamp = MicroTime(Timestamp::now());
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.duration.as_secs().max(1) as i32),
            acquire_time: if held_by_me {
                previous.acquire_time
            } else {
                Some(stamp.clone())
            },
            renew_time: Some(stamp),
            lease_transitions: Some(
                previous
                    .lease_transitions
                    .map_or(0, |n| n + i32::from(!held_by_me)),
            ),
            ..previous
        }
    }

    fn remember(&mut self, written: &Lease, now: Instant) {
        self.observed = Some(Observed {
            record: Record::of(&written.spec.clone().unwrap_or_default()),
            seen_at: now,
        });
        self.last_renewed = Some(now);
    }

    /// Gives the Lease up, if held, so another candidate takes over at once instead of after
    /// its duration: the holder is cleared and the duration set to one second.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        if self.last_renewed.take().is_none() {
            return Ok(());
        }
        let Some(mut current) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let mut spec = current.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        current.spec = Some(spec);
        self.api
            .replace(&self.name, &PostParams::default(), &current)
            .await?;
        tracing::info!(lease = %self.name, "lease released");
        Ok(())
    }
}
