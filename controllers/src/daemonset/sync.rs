//! One sync of one DaemonSet (upstream's `syncDaemonSet` and `updateDaemonSet`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;

use super::control::view_reference;
use super::error::DaemonSetError;
use super::manage::manage;
use super::revisions::{self, History};
use super::rolling::rolling_update;
use super::status;
use super::view::{Strategy, View};
use super::Context;
use crate::workloads::podcontrol::expectations::Seen;

/// Whether the pods the DaemonSet last created or deleted are all seen in the cache.
fn expectations_satisfied(context: &Context, view: &View) -> bool {
    let pods = context.pods.state();
    let by_uid: HashMap<&str, bool> = pods
        .iter()
        .filter_map(|pod| {
            Some((
                pod.metadata.uid.as_deref()?,
                pod.metadata.deletion_timestamp.is_some(),
            ))
        })
        .collect();
    context
        .expectations
        .satisfied(&view.uid, |uid| match by_uid.get(uid) {
            None => Seen::Absent,
            Some(true) => Seen::Deleting,
            Some(false) => Seen::Present,
        })
}

/// Upstream's `updateDaemonSet`: manage, then (if nothing is in flight) roll, then prune
/// revisions.
async fn update_daemon_set(
    context: &Context,
    view: &View,
    nodes: &[Arc<Node>],
    history: History,
    requeue: &mut Option<Duration>,
) -> Result<(), DaemonSetError> {
    let hash = history.hash();
    manage(context, view, nodes, &hash, requeue).await?;
    if expectations_satisfied(context, view)
        && matches!(view.strategy, Strategy::RollingUpdate { .. })
    {
        rolling_update(context, view, nodes, &hash).await?;
    }
    revisions::cleanup(context, view, history.old).await
}

/// Upstream's `syncDaemonSet`; returns when to sync again, if a delay is due.
pub async fn sync(context: &Context, ds: &DaemonSet) -> Result<Option<Duration>, DaemonSetError> {
    let view = View::of(ds)?;
    if view.selects_all {
        context.events.warning(
            view_reference(&view),
            "SelectingAll",
            "Sync",
            "This daemon set is selecting all pods. A non-empty selector is required.".to_owned(),
        );
        return Ok(None);
    }
    // Its revisions may be gone or orphaned already; upstream leaves it alone.
    if view.deleting {
        return Ok(None);
    }
    let nodes = context.nodes.state();
    let history = revisions::construct(context, &view).await?;
    let hash = history.hash();
    let mut requeue = None;
    if !expectations_satisfied(context, &view) {
        // Counts only; the generation was not acted on.
        status::update(context, ds, &view, &nodes, &hash, false, &mut requeue).await?;
        return Ok(requeue);
    }
    let updated = update_daemon_set(context, &view, &nodes, history, &mut requeue).await;
    let stored = status::update(context, ds, &view, &nodes, &hash, true, &mut requeue).await;
    match (updated, stored) {
        (Err(error), Err(status_error)) => {
            tracing::warn!(daemonset = %view.name, error = %status_error, "failed to update status");
            Err(error)
        }
        (Err(error), Ok(())) | (Ok(()), Err(error)) => Err(error),
        (Ok(()), Ok(())) => Ok(requeue),
    }
}
