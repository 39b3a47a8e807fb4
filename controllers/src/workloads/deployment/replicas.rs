//! The rollout arithmetic, as upstream's `deployment_util`: maxSurge and maxUnavailable
//! from integers or percentages (surge rounds up, unavailability down), the size of the new
//! ReplicaSet, proportional shares when scaling mid-rollout, and sums over ReplicaSets.

use std::cmp::Ordering;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::annotations::{desired_replicas, max_replicas};

/// `Some(n)` unless zero: the status fields upstream marks `omitempty`.
pub fn non_zero(value: i32) -> Option<i32> {
    (value != 0).then_some(value)
}

/// `spec.replicas` of a Deployment (defaulted to 1).
pub fn desired(deployment: &Deployment) -> i32 {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1)
}

/// `spec.replicas` of a ReplicaSet (defaulted to 1).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1)
}

/// `status.replicas`, `readyReplicas`, `availableReplicas` of a ReplicaSet.
fn rs_counts(rs: &ReplicaSet) -> (i32, i32, i32) {
    rs.status.as_ref().map_or((0, 0, 0), |status| {
        (
            status.replicas,
            status.ready_replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
        )
    })
}

/// `status.availableReplicas` of a ReplicaSet.
pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs_counts(rs).2
}

/// `status.replicas` of a ReplicaSet.
pub fn rs_actual(rs: &ReplicaSet) -> i32 {
    rs_counts(rs).0
}

/// Sum of `spec.replicas`.
pub fn total_replicas<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    sets.into_iter().map(rs_replicas).sum()
}

/// Sum of `status.replicas`.
pub fn total_actual<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    sets.into_iter().map(|rs| rs_counts(rs).0).sum()
}

/// Sum of `status.readyReplicas`.
pub fn total_ready<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    sets.into_iter().map(|rs| rs_counts(rs).1).sum()
}

/// Sum of `status.availableReplicas`.
pub fn total_available<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    sets.into_iter().map(|rs| rs_counts(rs).2).sum()
}

/// Sum of `status.terminatingReplicas`; `None` if any ReplicaSet does not report it.
pub fn total_terminating<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> Option<i32> {
    sets.into_iter()
        .map(|rs| {
            rs.status
                .as_ref()
                .and_then(|status| status.terminating_replicas)
        })
        .sum()
}

/// `spec.strategy.type`, `RollingUpdate` by default.
pub fn strategy(deployment: &Deployment) -> &str {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

/// Whether the Deployment rolls (rather than recreates).
pub fn is_rolling(deployment: &Deployment) -> bool {
    strategy(deployment) == "RollingUpdate"
}

/// Upstream's `GetScaledValueFromIntOrPercent`.
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    match value {
        IntOrString::Int(value) => Ok(*value),
        IntOrString::String(text) => {
            let Some(number) = text.strip_suffix('%') else {
                return Err(
                    "invalid value for IntOrString: invalid type: string is not a percentage"
                        .to_owned(),
                );
            };
            let percent: i64 = number
                .parse()
                .map_err(|_| format!("invalid value {text:?}: {number:?} is not a number"))?;
            let product = percent * i64::from(total);
            let value = if round_up {
                product.div_euclid(100) + i64::from(product.rem_euclid(100) != 0)
            } else {
                product.div_euclid(100)
            };
            i32::try_from(value).map_err(|_| format!("value {text:?} is out of range"))
        }
    }
}

/// Upstream's `ResolveFenceposts`: (maxSurge, maxUnavailable) for `desired` replicas; when
/// both resolve to zero, one pod may be unavailable.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true)?;
    let mut unavailable = scaled_value(max_unavailable.unwrap_or(&zero), desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

fn fenceposts(deployment: &Deployment) -> (i32, i32) {
    let rolling = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.rolling_update.as_ref());
    // Validation rejects bad values; treat them as zero as upstream ignores the error.
    resolve_fenceposts(
        rolling.and_then(|r| r.max_surge.as_ref()),
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        desired(deployment),
    )
    .unwrap_or((0, 1))
}

/// Upstream's `MaxSurge`.
pub fn max_surge(deployment: &Deployment) -> i32 {
    if !is_rolling(deployment) {
        return 0;
    }
    fenceposts(deployment).0
}

/// Upstream's `MaxUnavailable` (never more than the desired count).
pub fn max_unavailable(deployment: &Deployment) -> i32 {
    let replicas = desired(deployment);
    if !is_rolling(deployment) || replicas == 0 {
        return 0;
    }
    fenceposts(deployment).1.min(replicas)
}

/// Upstream's `NewRSNewReplicas`: how big the new ReplicaSet may be now.
pub fn new_rs_new_replicas(
    deployment: &Deployment,
    all: &[&ReplicaSet],
    new: &ReplicaSet,
) -> Result<i32, String> {
    match strategy(deployment) {
        "RollingUpdate" => {
            let replicas = desired(deployment);
            let max_total = replicas + max_surge(deployment);
            let current = total_replicas(all.iter().copied());
            if current >= max_total {
                return Ok(rs_replicas(new));
            }
            let scale_up = (max_total - current).min(replicas - rs_replicas(new));
            Ok(rs_replicas(new) + scale_up)
        }
        "Recreate" => Ok(desired(deployment)),
        other => Err(format!("deployment type {other} isn't supported")),
    }
}

/// Upstream's `IsSaturated`: the new ReplicaSet holds, and has available, every replica.
pub fn is_saturated(deployment: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else {
        return false;
    };
    let replicas = desired(deployment);
    desired_replicas(rs) == Some(replicas)
        && rs_replicas(rs) == replicas
        && rs_available(rs) == replicas
}

/// Upstream's `getReplicaSetFraction`.
fn fraction(rs: &ReplicaSet, deployment: &Deployment) -> i32 {
    let replicas = desired(deployment);
    if replicas == 0 {
        return -rs_replicas(rs);
    }
    let max_now = replicas + max_surge(deployment);
    let mut max_before = max_replicas(rs).unwrap_or(0);
    if max_before == 0 {
        max_before = deployment
            .status
            .as_ref()
            .and_then(|status| status.replicas)
            .unwrap_or(0);
        if max_before == 0 {
            return 0;
        }
    }
    let scaled = f64::from(rs_replicas(rs)) * f64::from(max_now) / f64::from(max_before);
    scaled.round() as i32 - rs_replicas(rs)
}

/// Upstream's `GetReplicaSetProportion`: this ReplicaSet's share of `to_add` (negative when
/// scaling down), given `added` so far.
pub fn proportion(rs: &ReplicaSet, deployment: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let share = fraction(rs, deployment);
    let allowed = to_add - added;
    if to_add > 0 {
        share.min(allowed)
    } else {
        share.max(allowed)
    }
}

/// Upstream's `ReplicaSetsByCreationTimestamp`: older first, then by name.
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
    match created(a).cmp(&created(b)) {
        Ordering::Equal => a.metadata.name.cmp(&b.metadata.name),
        other => other,
    }
}

/// Upstream's `ReplicaSetsBySizeNewer`: larger first, then newer first.
pub fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation(b, a))
}

/// Upstream's `ReplicaSetsBySizeOlder`: larger first, then older first.
pub fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation(a, b))
}

/// Upstream's `ReplicaSetsByRevision`: lower revision first; creation order on ties or
/// unparsable revisions.
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    use super::annotations::revision;
    match (revision(a), revision(b)) {
        (Ok(ra), Ok(rb)) if ra != rb => ra.cmp(&rb),
        _ => by_creation(a, b),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{
        Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, ReplicaSetSpec,
        RollingUpdateDeployment,
    };
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use super::{
        max_surge, max_unavailable, new_rs_new_replicas, proportion, resolve_fenceposts,
        scaled_value,
    };
    use crate::workloads::deployment::annotations::MAX_REPLICAS;

    fn percent(value: &str) -> IntOrString {
        IntOrString::String(value.to_owned())
    }

    fn deployment(replicas: i32, surge: IntOrString, unavailable: IntOrString) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".to_owned()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(surge),
                        max_unavailable: Some(unavailable),
                    }),
                }),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        }
    }

    fn rs(replicas: i32, max: Option<i32>) -> ReplicaSet {
        let mut rs = ReplicaSet {
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..ReplicaSetSpec::default()
            }),
            ..ReplicaSet::default()
        };
        if let Some(max) = max {
            rs.metadata.annotations = Some([(MAX_REPLICAS.to_owned(), max.to_string())].into());
        }
        rs
    }

    #[test]
    fn percentages_round_as_upstream() {
        assert_eq!(scaled_value(&percent("25%"), 10, true), Ok(3));
        assert_eq!(scaled_value(&percent("25%"), 10, false), Ok(2));
        assert_eq!(scaled_value(&percent("25%"), 4, true), Ok(1));
        assert_eq!(scaled_value(&IntOrString::Int(7), 10, true), Ok(7));
        assert!(scaled_value(&percent("abc"), 10, true).is_err());
        assert!(scaled_value(&percent("5"), 10, true).is_err());
        // 1 desired, 25% each: surge rounds up to 1, unavailability down to 0.
        assert_eq!(
            resolve_fenceposts(Some(&percent("25%")), Some(&percent("25%")), 1),
            Ok((1, 0))
        );
        // Both zero: one may be unavailable.
        assert_eq!(
            resolve_fenceposts(Some(&percent("0%")), Some(&percent("1%")), 2),
            Ok((0, 1))
        );
    }

    #[test]
    fn surge_and_unavailability_of_a_deployment() {
        let d = deployment(10, percent("25%"), percent("25%"));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (3, 2));
        let d = deployment(2, IntOrString::Int(0), IntOrString::Int(5));
        assert_eq!(max_unavailable(&d), 2);
    }

    #[test]
    fn new_replica_set_grows_within_the_surge() {
        let d = deployment(10, percent("25%"), percent("25%"));
        let old = rs(10, None);
        let new = rs(0, None);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), Ok(3));
        let new = rs(3, None);
        let old = rs(8, None);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), Ok(5));
        let old = rs(10, None);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), Ok(3));
    }

    #[test]
    fn proportions_follow_the_max_replicas_annotation() {
        // Scaling 10 → 20 (max 13 → 25) mid-rollout with 8 old and 5 new.
        let d = deployment(20, percent("25%"), percent("25%"));
        let old = rs(8, Some(13));
        let new = rs(5, Some(13));
        let to_add = 25 - 13;
        let old_share = proportion(&old, &d, to_add, 0);
        let new_share = proportion(&new, &d, to_add, old_share);
        assert_eq!((old_share, new_share), (7, 5));
        // Scaling to zero removes everything.
        let d = deployment(0, percent("25%"), percent("25%"));
        assert_eq!(proportion(&old, &d, -13, 0), -8);
    }
}
