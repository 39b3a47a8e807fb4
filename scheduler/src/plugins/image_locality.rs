//! ImageLocality: prefers nodes that already have the pod's images, weighting each image by
//! its size and by how widely it is spread (weight 1).

use crate::framework::types::normalized_image;
use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE};

const MB: i64 = 1024 * 1024;
/// Upstream's `minThreshold`: images smaller than this earn nothing.
const MIN_THRESHOLD: i64 = 23 * MB;
/// Upstream's `maxContainerThreshold`, per container.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

const STATE: &str = "ImageLocality";

/// Per cycle: the pod's images, with how many nodes have each, and the node count.
struct Spread {
    images: Vec<(String, i64)>,
    total_nodes: i64,
}

/// The ImageLocality score.
pub struct ImageLocality;

fn pod_images(pod: &PodInfo) -> Vec<String> {
    let Some(spec) = pod.pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .filter_map(|c| c.image.as_deref())
        .map(normalized_image)
        .collect()
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }
    fn score_weight(&self) -> i64 {
        1
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        all: &[&NodeInfo],
    ) -> Status {
        let images = pod_images(pod)
            .into_iter()
            .map(|image| {
                let nodes = all.iter().filter(|n| n.images.contains_key(&image)).count();
                (image, i64::try_from(nodes).unwrap_or(i64::MAX))
            })
            .collect();
        state.write(
            STATE,
            Spread {
                images,
                total_nodes: i64::try_from(all.len()).unwrap_or(i64::MAX),
            },
        );
        Status::success()
    }
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(spread) = state.read::<Spread>(STATE) else {
            return 0;
        };
        if spread.total_nodes == 0 || spread.images.is_empty() {
            return 0;
        }
        let sum: i64 = spread
            .images
            .iter()
            .filter_map(|(image, holders)| {
                let size = *node.images.get(image)?;
                Some(size.saturating_mul(*holders) / spread.total_nodes)
            })
            .sum();
        let containers = i64::try_from(spread.images.len()).unwrap_or(1);
        let max = MAX_CONTAINER_THRESHOLD * containers;
        let clamped = sum.clamp(MIN_THRESHOLD, max);
        MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn nodes_with_the_image_score_higher() {
        let with = node(json!({"metadata": {"name": "a"}, "status": {"images": [
            {"names": ["docker.io/library/big:latest", "big"], "sizeBytes": 500 * MB}]}}));
        let without = node(json!({"metadata": {"name": "b"}}));
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "big"}]}}),
        );
        let mut state = CycleState::default();
        let all = [&with, &without];
        ImageLocality.pre_score(&mut state, &p, &all, &all);
        let a = ImageLocality.score(&state, &p, &with);
        assert!(a > 0, "{a}");
        assert_eq!(ImageLocality.score(&state, &p, &without), 0);
    }
}
