//! The executor StatefulSet as the scaler reads and changes it: replicas through the `scale`
//! subresource, memory through a strategic merge patch of its pod template.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, Patch, PatchParams};
use kube_quantity::ParsedQuantity;
use serde_json::json;

use crate::policy::{quantity, MemoryStep};
use crate::ScalerError;

/// Field manager recorded in the StatefulSet's `managedFields` for the scaler's changes.
const FIELD_MANAGER: &str = "tavana-scaler";

/// The executor container's memory as the pod template has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerMemory {
    /// `resources.limits.memory`, bytes.
    pub limit_bytes: u64,
    /// `resources.requests.memory`, bytes, if set.
    pub request_bytes: Option<u64>,
}

/// One StatefulSet in one namespace.
pub struct ExecutorStatefulSet {
    api: Api<StatefulSet>,
    name: String,
    container: String,
}

impl ExecutorStatefulSet {
    /// The StatefulSet `name` whose container `container` runs the executor.
    pub fn new(api: Api<StatefulSet>, name: String, container: String) -> Self {
        Self {
            api,
            name,
            container,
        }
    }

    /// The StatefulSet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `spec.replicas` as the `scale` subresource reports it.
    pub async fn replicas(&self) -> Result<u32, ScalerError> {
        let scale = self.api.get_scale(&self.name).await?;
        Ok(scale
            .spec
            .and_then(|spec| spec.replicas)
            .unwrap_or(0)
            .max(0) as u32)
    }

    /// Sets `spec.replicas` through the `scale` subresource (what `kubectl scale` and the
    /// HorizontalPodAutoscaler use; the RBAC grants only this for replicas).
    pub async fn set_replicas(&self, replicas: u32) -> Result<(), ScalerError> {
        let patch = json!({"spec": {"replicas": replicas}});
        self.api
            .patch_scale(
                &self.name,
                &PatchParams::apply(FIELD_MANAGER),
                &Patch::Merge(&patch),
            )
            .await?;
        Ok(())
    }

    /// The executor container's memory limit and request.
    pub async fn memory(&self) -> Result<ContainerMemory, ScalerError> {
        let set = self.api.get(&self.name).await?;
        let container = set
            .spec
            .and_then(|spec| spec.template.spec)
            .and_then(|pod| {
                pod.containers
                    .into_iter()
                    .find(|c| c.name == self.container)
            })
            .ok_or_else(|| ScalerError::NoContainer {
                statefulset: self.name.clone(),
                container: self.container.clone(),
            })?;
        let resources = container.resources.unwrap_or_default();
        let bytes = |quantity: Option<&Quantity>| -> Result<Option<u64>, ScalerError> {
            quantity
                .map(|q| {
                    ParsedQuantity::try_from(q)
                        .ok()
                        .and_then(|parsed| parsed.to_bytes_u64())
                        .ok_or_else(|| ScalerError::BadQuantity(q.0.clone()))
                })
                .transpose()
        };
        let limit = bytes(resources.limits.as_ref().and_then(|l| l.get("memory")))?;
        let request = bytes(resources.requests.as_ref().and_then(|r| r.get("memory")))?;
        let limit_bytes = limit.ok_or_else(|| ScalerError::NoMemoryLimit {
            statefulset: self.name.clone(),
            container: self.container.clone(),
        })?;
        Ok(ContainerMemory {
            limit_bytes,
            request_bytes: request,
        })
    }

    /// Writes a new memory limit and request, and DuckDB's `MAX_MEMORY_GB`, into the pod
    /// template: a strategic merge patch that merges the container and the variable by name,
    /// leaving everything else as it is. The StatefulSet controller then restarts the executors
    /// one by one.
    pub async fn set_memory(&self, step: MemoryStep, duckdb_gb: &str) -> Result<(), ScalerError> {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{
            "name": self.container,
            "resources": {
                "limits": {"memory": quantity(step.limit_bytes)},
                "requests": {"memory": quantity(step.request_bytes)},
            },
            "env": [{"name": "MAX_MEMORY_GB", "value": duckdb_gb}],
        }]}}}});
        self.api
            .patch(
                &self.name,
                &PatchParams::apply(FIELD_MANAGER),
                &Patch::Strategic(&patch),
            )
            .await?;
        Ok(())
    }
}
