//! Admission: at most so many queries stream through this gateway at once, and (optionally) at
//! most so many per user; the rest wait in a queue, in arrival order, for up to the queue
//! timeout. A user at their own limit waits without holding one of the gateway's slots, so one
//! user's burst cannot fill the gateway for everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tonic::Status;

use crate::metrics::GatewayMetrics;

/// A query's right to stream: released (and the next queued query admitted) on drop.
pub struct Admitted {
    _user: Option<OwnedSemaphorePermit>,
    _gateway: OwnedSemaphorePermit,
}

/// The gateway's admission limits and queue.
pub struct Admission {
    gateway: Arc<Semaphore>,
    per_user: Option<usize>,
    users: Mutex<HashMap<String, Arc<Semaphore>>>,
    queue_timeout: Duration,
    metrics: GatewayMetrics,
}

/// Which limit a query waits for.
#[derive(Clone, Copy)]
enum Limit {
    Gateway,
    User,
}

impl Admission {
    /// `max_running` queries at once, `per_user` of them per user (`None`: no user limit).
    pub fn new(
        max_running: usize,
        per_user: Option<usize>,
        queue_timeout: Duration,
        metrics: GatewayMetrics,
    ) -> Self {
        Self {
            gateway: Arc::new(Semaphore::new(max_running.max(1))),
            per_user: per_user.map(|n| n.max(1)),
            users: Mutex::new(HashMap::new()),
            queue_timeout,
            metrics,
        }
    }

    /// Waits for the user's slot, then for a gateway slot, within one queue timeout.
    pub async fn admit(&self, user: &str) -> Result<Admitted, Status> {
        let deadline = Instant::now() + self.queue_timeout;
        let user_permit = match self.per_user {
            Some(limit) => {
                let semaphore = Arc::clone(
                    self.users
                        .lock()
                        .expect("admission users")
                        .entry(user.to_string())
                        .or_insert_with(|| Arc::new(Semaphore::new(limit))),
                );
                Some(self.acquire(semaphore, deadline, Limit::User, user).await?)
            }
            None => None,
        };
        let gateway = self
            .acquire(Arc::clone(&self.gateway), deadline, Limit::Gateway, user)
            .await?;
        Ok(Admitted {
            _user: user_permit,
            _gateway: gateway,
        })
    }

    async fn acquire(
        &self,
        semaphore: Arc<Semaphore>,
        deadline: Instant,
        limit: Limit,
        user: &str,
    ) -> Result<OwnedSemaphorePermit, Status> {
        if let Ok(permit) = Arc::clone(&semaphore).try_acquire_owned() {
            return Ok(permit);
        }
        let gauge = match limit {
            Limit::Gateway => &self.metrics.queued_queries,
            Limit::User => &self.metrics.user_queued_queries,
        };
        // Counted while waiting, including when the caller goes away mid-wait (the client
        // cancels and this future is dropped): the guard, not the code after the await,
        // takes the count back.
        let waiting = Waiting::new(gauge);
        let waited = tokio::time::timeout_at(deadline, semaphore.acquire_owned()).await;
        drop(waiting);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                let (label, message) = match limit {
                    Limit::Gateway => (
                        "gateway",
                        format!(
                            "the service is at capacity and the query waited {}s in the queue; retry later",
                            self.queue_timeout.as_secs()
                        ),
                    ),
                    Limit::User => (
                        "user",
                        format!(
                            "user {user:?} already runs {} queries at once (TAVANA_MAX_RUNNING_QUERIES_PER_USER) and this one waited {}s in the queue; finish or cancel one, or retry later",
                            self.per_user.unwrap_or_default(),
                            self.queue_timeout.as_secs()
                        ),
                    ),
                };
                self.metrics
                    .queue_timeouts_total
                    .with_label_values(&[label])
                    .inc();
                Err(Status::resource_exhausted(message))
            }
        }
    }
}

/// One query counted in a queue gauge for as long as it lives.
struct Waiting<'a>(&'a prometheus::IntGauge);

impl<'a> Waiting<'a> {
    fn new(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
