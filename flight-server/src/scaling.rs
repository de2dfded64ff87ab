//! The gateway's side of the executor scaler: the load it reads (each executor's status plus
//! this gateway's queue).

use std::sync::Arc;

use tavana_scaler::{ExecutorLoad, LoadSample, LoadSource};

use crate::service::GatewayState;

/// Reads the load from the executors this gateway routes to.
pub struct GatewayLoad(pub Arc<GatewayState>);

#[async_trait::async_trait]
impl LoadSource for GatewayLoad {
    async fn sample(&self) -> LoadSample {
        let state = &self.0;
        let executors = state
            .pool
            .statuses(|request| state.authorize_internal(request))
            .await
            .into_iter()
            .map(|(address, status)| ExecutorLoad {
                address,
                running_queries: status.running_queries,
                out_of_memory_failures: status.out_of_memory_failures,
            })
            .collect();
        LoadSample {
            executors,
            queued: state.metrics.queued_queries.get().max(0) as u64,
        }
    }
}
