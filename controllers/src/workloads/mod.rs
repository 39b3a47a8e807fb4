//! The workload controllers that own pods through ReplicaSets: the ReplicaSet and
//! ReplicationController loops (one implementation, as upstream) and the Deployment loop.

pub(crate) mod backoff;
mod deployment;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod podcontrol;
mod replicaset;

use futures::future::BoxFuture;
use futures::FutureExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::ReplicationController;

use crate::{Informers, Shared};

/// The three loops, built against `informers` (they share the pod and ReplicaSet watches).
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let loops = vec![
        replicaset::build::<ReplicaSet>(informers, shared.clone()),
        replicaset::build::<ReplicationController>(informers, shared.clone()),
        deployment::build(informers, shared),
    ];
    futures::future::join_all(loops).map(|_| ()).boxed()
}
