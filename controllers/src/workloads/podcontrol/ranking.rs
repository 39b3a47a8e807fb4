//! Which pods a controller deletes first when it has too many: upstream's
//! `ActivePodsWithRanks`, which prefers pods earlier in their life (unscheduled, pending,
//! not ready), cheaper to delete, doubled up on a node, ready for less time, restarting more,
//! and newer — comparing times in logarithmic buckets (`LogarithmicScaleDown`, on by
//! default) so that pods of about the same age are picked at random.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::pods::{is_ready, max_container_restarts, node_name, phase, ready_since};

/// The annotation that makes a pod cheaper or dearer to delete.
pub const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// A pod with the number of related active pods on its node.
#[derive(Clone, Debug)]
pub struct Ranked {
    /// The pod.
    pub pod: Arc<Pod>,
    /// Related active pods colocated with it (more means delete it first).
    pub rank: usize,
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        // Pending, and anything else (upstream's map lookup yields zero).
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(DELETION_COST))
        .and_then(|cost| cost.parse::<i32>().ok())
        .unwrap_or(0)
}

/// Upstream's `afterOrZero`: a zero (absent) time sorts first, else the later time.
fn after_or_zero(first: Option<Timestamp>, second: Option<Timestamp>) -> bool {
    match (first, second) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(first), Some(second)) => first > second,
    }
}

/// floor(log2(age in nanoseconds)), -1 for a time not in the past.
fn log_bucket(time: Timestamp, now: Timestamp) -> i64 {
    let age = now.as_nanosecond() - time.as_nanosecond();
    if age <= 0 {
        return -1;
    }
    i64::from(age.ilog2())
}

/// Compares two times the logarithmic way; `None` when they are in the same bucket.
fn newer_bucket(first: Option<Timestamp>, second: Option<Timestamp>, now: Timestamp) -> bool {
    match (first, second) {
        (Some(first), Some(second)) => log_bucket(first, now) < log_bucket(second, now),
        _ => after_or_zero(first, second),
    }
}

fn same_bucket(first: Option<Timestamp>, second: Option<Timestamp>, now: Timestamp) -> bool {
    match (first, second) {
        (Some(first), Some(second)) => log_bucket(first, now) == log_bucket(second, now),
        _ => false,
    }
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or("")
}

/// Upstream's `Less`: whether `a` should be deleted before `b`.
pub fn delete_first(a: &Ranked, b: &Ranked, now: Timestamp) -> bool {
    let (pa, pb) = (&*a.pod, &*b.pod);
    let (na, nb) = (node_name(pa), node_name(pb));
    // 1. Unassigned before assigned.
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return na.is_empty();
    }
    // 2. Pending before Unknown before Running.
    if phase_ordinal(pa) != phase_ordinal(pb) {
        return phase_ordinal(pa) < phase_ordinal(pb);
    }
    // 3. Not ready before ready.
    if is_ready(pa) != is_ready(pb) {
        return !is_ready(pa);
    }
    // 4. Lower deletion cost first.
    if deletion_cost(pa) != deletion_cost(pb) {
        return deletion_cost(pa) < deletion_cost(pb);
    }
    // 5. Doubled up before not doubled up.
    if a.rank != b.rank {
        return a.rank > b.rank;
    }
    // 6. Ready for less time first.
    if is_ready(pa) && is_ready(pb) {
        let (ra, rb) = (ready_since(pa), ready_since(pb));
        if ra != rb {
            if same_bucket(ra, rb, now) {
                return uid(pa) < uid(pb);
            }
            return newer_bucket(ra, rb, now);
        }
    }
    // 7. More restarts first.
    if max_container_restarts(pa) != max_container_restarts(pb) {
        return max_container_restarts(pa) > max_container_restarts(pb);
    }
    // 8. Newer first.
    let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|time| time.0);
    let (ca, cb) = (created(pa), created(pb));
    if ca != cb {
        if same_bucket(ca, cb, now) {
            return uid(pa) < uid(pb);
        }
        return newer_bucket(ca, cb, now);
    }
    false
}

/// Sorts `pods` so that the ones to delete first come first. A merge sort of our own: the
/// bucketed comparison is not a strict total order, which the standard sorts may reject.
pub fn sort_for_deletion(pods: Vec<Ranked>, now: Timestamp) -> Vec<Ranked> {
    if pods.len() <= 1 {
        return pods;
    }
    let mut left = pods;
    let right = left.split_off(left.len() / 2);
    let (left, right) = (sort_for_deletion(left, now), sort_for_deletion(right, now));
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => delete_first(r, l, now),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        merged.extend(next);
    }
    merged
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::{SignedDuration, Timestamp};

    use super::{log_bucket, sort_for_deletion, Ranked, DELETION_COST};

    fn pod(name: &str, node: &str, phase: &str, ready: bool, age_secs: i64) -> Ranked {
        let now = Timestamp::now();
        let mut pod = Pod::default();
        pod.metadata.name = Some(name.to_owned());
        pod.metadata.uid = Some(format!("uid-{name}"));
        pod.metadata.creation_timestamp = Some(Time(now - SignedDuration::from_secs(age_secs)));
        pod.spec = Some(PodSpec {
            node_name: (!node.is_empty()).then(|| node.to_owned()),
            ..PodSpec::default()
        });
        pod.status = Some(PodStatus {
            phase: Some(phase.to_owned()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".to_owned(),
                status: if ready { "True" } else { "False" }.to_owned(),
                last_transition_time: Some(Time(now - SignedDuration::from_secs(age_secs))),
                ..PodCondition::default()
            }]),
            ..PodStatus::default()
        });
        Ranked {
            pod: Arc::new(pod),
            rank: 0,
        }
    }

    fn names(pods: &[Ranked]) -> Vec<String> {
        pods.iter()
            .map(|r| r.pod.metadata.name.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn earlier_in_life_goes_first() {
        let pods = vec![
            pod("running-ready-old", "n1", "Running", true, 10_000),
            pod("running-not-ready", "n1", "Running", false, 10_000),
            pod("pending", "n1", "Pending", false, 10_000),
            pod("unscheduled", "", "Pending", false, 10_000),
            pod("unknown", "n1", "Unknown", false, 10_000),
            pod("running-ready-new", "n1", "Running", true, 10),
        ];
        let sorted = sort_for_deletion(pods, Timestamp::now());
        assert_eq!(
            names(&sorted),
            [
                "unscheduled",
                "pending",
                "unknown",
                "running-not-ready",
                "running-ready-new",
                "running-ready-old"
            ]
        );
    }

    #[test]
    fn deletion_cost_and_colocation_rank() {
        let mut cheap = pod("cheap", "n1", "Running", true, 100);
        let mut doubled = pod("doubled", "n1", "Running", true, 100);
        let plain = pod("plain", "n1", "Running", true, 100);
        let mut annotated = (*cheap.pod).clone();
        annotated.metadata.annotations = Some([(DELETION_COST.to_owned(), "-5".to_owned())].into());
        cheap.pod = Arc::new(annotated);
        doubled.rank = 3;
        let sorted = sort_for_deletion(vec![plain, doubled, cheap], Timestamp::now());
        assert_eq!(names(&sorted), ["cheap", "doubled", "plain"]);
    }

    #[test]
    fn buckets_are_log2_of_nanoseconds() {
        let now = Timestamp::now();
        assert_eq!(log_bucket(now, now), -1);
        assert_eq!(log_bucket(now - SignedDuration::from_nanos(1), now), 0);
        assert_eq!(log_bucket(now - SignedDuration::from_nanos(1024), now), 10);
        assert_eq!(log_bucket(now - SignedDuration::from_nanos(1023), now), 9);
    }
}
