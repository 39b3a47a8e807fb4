//! What the pod-owning controllers share, as upstream's `controller_utils`: selectors, pod
//! predicates, expectations, controller references, deletion ranking, slow-start batches and
//! pods made from templates.

pub mod claim;
pub mod control;
pub mod expectations;
pub mod owners;
pub mod pods;
pub mod ranking;
pub mod selector;

use std::future::Future;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// Upstream's `SlowStartInitialBatchSize`.
pub const SLOW_START_INITIAL_BATCH: usize = 1;

/// Upstream's `slowStartBatch`: calls `call` `count` times in batches of 1, 2, 4, ... (each
/// batch concurrently), stopping after the first batch with a failure. Returns what
/// succeeded and the first error.
pub async fn slow_start<T, E, F, Fut>(count: usize, initial: usize, call: F) -> (Vec<T>, Option<E>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut remaining = count;
    let mut done = Vec::with_capacity(count);
    let mut batch = remaining.min(initial);
    while batch > 0 {
        let results = futures::future::join_all((0..batch).map(|_| call())).await;
        let mut failure = None;
        for result in results {
            match result {
                Ok(value) => done.push(value),
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        if failure.is_some() {
            return (done, failure);
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    (done, None)
}

/// Upstream's `getPodsPrefix`: `<name>-` unless that is too long to be a name prefix.
fn pod_prefix(controller_name: &str) -> String {
    // A generated name must still be a DNS subdomain (253 characters).
    if controller_name.len() < 253 {
        format!("{controller_name}-")
    } else {
        controller_name.to_owned()
    }
}

/// Upstream's `GetPodFromTemplate`: the template's labels, annotations, finalizers and spec,
/// a generated name after the controller's, and the controller reference.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    controller_name: &str,
    controller: &OwnerReference,
) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(pod_prefix(controller_name)),
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![controller.clone()]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::slow_start;

    #[tokio::test]
    async fn slow_start_doubles_and_stops_at_the_first_failing_batch() {
        let calls = AtomicUsize::new(0);
        // Batches 1, 2, 4, 8: the 5th call (in the batch of 4) fails.
        let (done, failure) = slow_start(20, 1, || {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if call == 4 {
                    Err("quota")
                } else {
                    Ok(call)
                }
            }
        })
        .await;
        assert_eq!(failure, Some("quota"));
        assert_eq!(done.len(), 6);
        assert_eq!(calls.load(Ordering::SeqCst), 7);

        let (done, failure) = slow_start(10, 1, || async { Ok::<_, ()>(()) }).await;
        assert_eq!((done.len(), failure), (10, None));
    }
}
