//! The workload, networking and storage groups: apps/v1, batch/v1, autoscaling/v1 and
//! v2, policy/v1, coordination/v1, discovery.k8s.io/v1, events.k8s.io/v1, networking.k8s.io/v1,
//! node.k8s.io/v1, scheduling.k8s.io/v1 and storage.k8s.io/v1 (`staging/src/k8s.io/api/<group>/<version>/types.go`).

use super::PatchStrategy::{Merge, Replace, RetainKeys};
use super::{map, Definition, ATOMIC, MAP_ATOMIC, NONE, SET};

/// Each definition's fields that carry patch or merge metadata, sorted.
pub(super) const FIELDS: &[Definition] = &[
    (
        "io.k8s.api.apps.v1.DaemonSetStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        &[("strategy", NONE.patch(RetainKeys))],
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        &[("volumeClaimTemplates", ATOMIC)],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingRules",
        &[("policies", ATOMIC)],
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
        &[("metrics", ATOMIC)],
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        &[
            ("conditions", map(&["type"]).patch(Merge).key("type")),
            ("currentMetrics", ATOMIC),
        ],
    ),
    ("io.k8s.api.batch.v1.CronJobStatus", &[("active", ATOMIC)]),
    (
        "io.k8s.api.batch.v1.JobStatus",
        &[("conditions", ATOMIC.patch(Merge).key("type"))],
    ),
    ("io.k8s.api.batch.v1.PodFailurePolicy", &[("rules", ATOMIC)]),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        &[("values", SET)],
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyRule",
        &[("onPodConditions", ATOMIC)],
    ),
    ("io.k8s.api.batch.v1.SuccessPolicy", &[("rules", ATOMIC)]),
    (
        "io.k8s.api.batch.v1.UncountedTerminatedPods",
        &[("failed", SET), ("succeeded", SET)],
    ),
    ("io.k8s.api.discovery.v1.Endpoint", &[("addresses", SET)]),
    (
        "io.k8s.api.discovery.v1.EndpointHints",
        &[("forNodes", ATOMIC), ("forZones", ATOMIC)],
    ),
    (
        "io.k8s.api.discovery.v1.EndpointSlice",
        &[("endpoints", ATOMIC), ("ports", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.HTTPIngressRuleValue",
        &[("paths", ATOMIC)],
    ),
    ("io.k8s.api.networking.v1.IPBlock", &[("except", ATOMIC)]),
    (
        "io.k8s.api.networking.v1.IngressLoadBalancerIngress",
        &[("ports", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.IngressLoadBalancerStatus",
        &[("ingress", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.IngressSpec",
        &[("rules", ATOMIC), ("tls", ATOMIC)],
    ),
    ("io.k8s.api.networking.v1.IngressTLS", &[("hosts", ATOMIC)]),
    (
        "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
        &[("ports", ATOMIC), ("to", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
        &[("from", ATOMIC), ("ports", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        &[
            ("egress", ATOMIC),
            ("ingress", ATOMIC),
            ("policyTypes", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDRSpec",
        &[("cidrs", ATOMIC)],
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDRStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.node.v1.Scheduling",
        &[("nodeSelector", MAP_ATOMIC), ("tolerations", ATOMIC)],
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        &[("selector", NONE.patch(Replace))],
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.storage.v1.CSIDriverSpec",
        &[("tokenRequests", ATOMIC), ("volumeLifecycleModes", SET)],
    ),
    (
        "io.k8s.api.storage.v1.CSINodeDriver",
        &[("topologyKeys", ATOMIC)],
    ),
    (
        "io.k8s.api.storage.v1.CSINodeSpec",
        &[("drivers", map(&["name"]).patch(Merge).key("name"))],
    ),
    (
        "io.k8s.api.storage.v1.StorageClass",
        &[("allowedTopologies", ATOMIC), ("mountOptions", ATOMIC)],
    ),
];

/// The structs upstream marks `+structType=atomic`, sorted.
pub(super) const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    "io.k8s.api.discovery.v1.EndpointPort",
    "io.k8s.api.networking.v1.ServiceBackendPort",
];
