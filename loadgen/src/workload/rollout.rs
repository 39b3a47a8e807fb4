//! One Deployment driven through the phases the benchmark times: created, rolled out to a
//! new template, scaled; each phase ends when the Deployment's status says it is complete,
//! as `kubectl rollout status` decides.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

/// Why a phase could not be driven or did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// The API server refused a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// The Deployment object could not be built.
    #[error("building the Deployment: {0}")]
    Build(#[from] serde_json::Error),
    /// The phase did not complete in time.
    #[error("the Deployment did not {phase} within {limit:?} (last status: {status})")]
    Timeout {
        /// What was awaited.
        phase: &'static str,
        /// How long it was given.
        limit: Duration,
        /// The last status seen.
        status: String,
    },
}

/// The benchmark's Deployment, by name, in one namespace.
pub struct Deployments {
    api: Api<Deployment>,
    name: String,
    /// How long any phase may take before the run gives up.
    pub limit: Duration,
}

impl Deployments {
    /// Handles Deployment `name` in `namespace`.
    pub fn new(client: Client, namespace: &str, name: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            limit: Duration::from_secs(600),
        }
    }

    /// Creates it with `replicas` pods of `image` (default rolling-update strategy).
    pub async fn create(&self, replicas: i32, image: &str) -> Result<(), RolloutError> {
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": self.name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": self.name}},
                "template": {
                    "metadata": {"labels": {"app": self.name}},
                    "spec": {"containers": [{"name": "app", "image": image}]},
                },
            },
        }))?;
        self.api.create(&PostParams::default(), &deployment).await?;
        Ok(())
    }

    /// Changes the image, starting a rollout.
    pub async fn set_image(&self, image: &str) -> Result<(), RolloutError> {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
        self.api
            .patch(
                &self.name,
                &PatchParams::default(),
                &Patch::Strategic(patch),
            )
            .await?;
        Ok(())
    }

    /// Changes the replica count.
    pub async fn scale(&self, replicas: i32) -> Result<(), RolloutError> {
        let patch = json!({"spec": {"replicas": replicas}});
        self.api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }

    /// Waits until every one of `replicas` pods runs the current template and is
    /// available, and no old pod is left (kubectl's "successfully rolled out"); the time
    /// it took from `since`.
    pub async fn complete(
        &self,
        replicas: i32,
        phase: &'static str,
        since: Instant,
    ) -> Result<Duration, RolloutError> {
        let mut last = String::new();
        while since.elapsed() < self.limit {
            let deployment = self.api.get(&self.name).await?;
            let generation = deployment.metadata.generation.unwrap_or_default();
            let status = deployment.status.unwrap_or_default();
            let done = status.observed_generation.unwrap_or_default() >= generation
                && status.updated_replicas.unwrap_or_default() == replicas
                && status.replicas.unwrap_or_default() == replicas
                && status.available_replicas.unwrap_or_default() == replicas;
            if done {
                return Ok(since.elapsed());
            }
            last = format!(
                "replicas {:?} updated {:?} available {:?}",
                status.replicas, status.updated_replicas, status.available_replicas
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(RolloutError::Timeout {
            phase,
            limit: self.limit,
            status: last,
        })
    }
}
