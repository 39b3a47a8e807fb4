//! core/v1: `staging/src/k8s.io/api/core/v1/types.go`.

use super::PatchStrategy::{Merge, MergeRetainKeys};
use super::{map, Definition, ATOMIC, MAP_ATOMIC, MAP_GRANULAR, SET};

/// Each definition's fields that carry patch or merge metadata, sorted.
pub(super) const FIELDS: &[Definition] = &[
    (
        "io.k8s.api.core.v1.Capabilities",
        &[("add", ATOMIC), ("drop", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.CephFSPersistentVolumeSource",
        &[("monitors", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.CephFSVolumeSource",
        &[("monitors", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ComponentStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.core.v1.ConfigMapProjection",
        &[("items", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ConfigMapVolumeSource",
        &[("items", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.Container",
        &[
            ("args", ATOMIC),
            ("command", ATOMIC),
            ("env", map(&["name"]).patch(Merge).key("name")),
            ("envFrom", ATOMIC),
            (
                "ports",
                map(&["containerPort", "protocol"])
                    .patch(Merge)
                    .key("containerPort"),
            ),
            ("resizePolicy", ATOMIC),
            ("restartPolicyRules", ATOMIC),
            (
                "volumeDevices",
                map(&["devicePath"]).patch(Merge).key("devicePath"),
            ),
            (
                "volumeMounts",
                map(&["mountPath"]).patch(Merge).key("mountPath"),
            ),
        ],
    ),
    ("io.k8s.api.core.v1.ContainerImage", &[("names", ATOMIC)]),
    (
        "io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes",
        &[("values", SET)],
    ),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        &[
            (
                "allocatedResourcesStatus",
                map(&["name"]).patch(Merge).key("name"),
            ),
            (
                "volumeMounts",
                map(&["mountPath"]).patch(Merge).key("mountPath"),
            ),
        ],
    ),
    (
        "io.k8s.api.core.v1.DownwardAPIProjection",
        &[("items", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.DownwardAPIVolumeSource",
        &[("items", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.EndpointSubset",
        &[
            ("addresses", ATOMIC),
            ("notReadyAddresses", ATOMIC),
            ("ports", ATOMIC),
        ],
    ),
    ("io.k8s.api.core.v1.Endpoints", &[("subsets", ATOMIC)]),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        &[
            ("args", ATOMIC),
            ("command", ATOMIC),
            ("env", map(&["name"]).patch(Merge).key("name")),
            ("envFrom", ATOMIC),
            (
                "ports",
                map(&["containerPort", "protocol"])
                    .patch(Merge)
                    .key("containerPort"),
            ),
            ("resizePolicy", ATOMIC),
            ("restartPolicyRules", ATOMIC),
            (
                "volumeDevices",
                map(&["devicePath"]).patch(Merge).key("devicePath"),
            ),
            (
                "volumeMounts",
                map(&["mountPath"]).patch(Merge).key("mountPath"),
            ),
        ],
    ),
    ("io.k8s.api.core.v1.ExecAction", &[("command", ATOMIC)]),
    (
        "io.k8s.api.core.v1.FCVolumeSource",
        &[("targetWWNs", ATOMIC), ("wwids", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        &[("httpHeaders", ATOMIC)],
    ),
    ("io.k8s.api.core.v1.HostAlias", &[("hostnames", ATOMIC)]),
    (
        "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
        &[("portals", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ISCSIVolumeSource",
        &[("portals", ATOMIC)],
    ),
    ("io.k8s.api.core.v1.LimitRangeSpec", &[("limits", ATOMIC)]),
    (
        "io.k8s.api.core.v1.LinuxContainerUser",
        &[("supplementalGroups", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.LoadBalancerIngress",
        &[("ports", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.LoadBalancerStatus",
        &[("ingress", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NamespaceSpec",
        &[("finalizers", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NamespaceStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.core.v1.NodeAffinity",
        &[("preferredDuringSchedulingIgnoredDuringExecution", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NodeSelector",
        &[("nodeSelectorTerms", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorRequirement",
        &[("values", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorTerm",
        &[("matchExpressions", ATOMIC), ("matchFields", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NodeSpec",
        &[("podCIDRs", SET.patch(Merge)), ("taints", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        &[
            ("addresses", map(&["type"]).patch(Merge).key("type")),
            ("conditions", map(&["type"]).patch(Merge).key("type")),
            ("declaredFeatures", ATOMIC),
            ("images", ATOMIC),
            ("runtimeHandlers", ATOMIC),
            ("volumesAttached", ATOMIC),
            ("volumesInUse", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        &[("accessModes", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        &[
            ("accessModes", ATOMIC),
            ("allocatedResourceStatuses", MAP_GRANULAR),
            ("conditions", map(&["type"]).patch(Merge).key("type")),
        ],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        &[
            ("accessModes", ATOMIC),
            ("claimRef", MAP_GRANULAR),
            ("mountOptions", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodAffinity",
        &[
            ("preferredDuringSchedulingIgnoredDuringExecution", ATOMIC),
            ("requiredDuringSchedulingIgnoredDuringExecution", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodAffinityTerm",
        &[
            ("matchLabelKeys", ATOMIC),
            ("mismatchLabelKeys", ATOMIC),
            ("namespaces", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodAntiAffinity",
        &[
            ("preferredDuringSchedulingIgnoredDuringExecution", ATOMIC),
            ("requiredDuringSchedulingIgnoredDuringExecution", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodDNSConfig",
        &[
            ("nameservers", ATOMIC),
            ("options", ATOMIC),
            ("searches", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodExtendedResourceClaimStatus",
        &[("requestMappings", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.PodSecurityContext",
        &[("supplementalGroups", ATOMIC), ("sysctls", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        &[
            ("containers", map(&["name"]).patch(Merge).key("name")),
            (
                "ephemeralContainers",
                map(&["name"]).patch(Merge).key("name"),
            ),
            ("hostAliases", map(&["ip"]).patch(Merge).key("ip")),
            ("imagePullSecrets", map(&["name"]).patch(Merge).key("name")),
            ("initContainers", map(&["name"]).patch(Merge).key("name")),
            ("nodeSelector", MAP_ATOMIC),
            ("readinessGates", ATOMIC),
            (
                "resourceClaims",
                map(&["name"]).patch(MergeRetainKeys).key("name"),
            ),
            ("schedulingGates", map(&["name"]).patch(Merge).key("name")),
            ("tolerations", ATOMIC),
            (
                "topologySpreadConstraints",
                map(&["topologyKey", "whenUnsatisfiable"])
                    .patch(Merge)
                    .key("topologyKey"),
            ),
            ("volumes", map(&["name"]).patch(MergeRetainKeys).key("name")),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        &[
            ("conditions", map(&["type"]).patch(Merge).key("type")),
            ("containerStatuses", ATOMIC),
            ("ephemeralContainerStatuses", ATOMIC),
            ("hostIPs", ATOMIC.patch(Merge).key("ip")),
            ("initContainerStatuses", ATOMIC),
            ("podIPs", map(&["ip"]).patch(Merge).key("ip")),
            (
                "resourceClaimStatuses",
                map(&["name"]).patch(MergeRetainKeys).key("name"),
            ),
        ],
    ),
    (
        "io.k8s.api.core.v1.ProjectedVolumeSource",
        &[("sources", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.RBDPersistentVolumeSource",
        &[("monitors", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        &[("monitors", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        &[("selector", MAP_ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.core.v1.ResourceQuotaSpec",
        &[("scopes", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ResourceRequirements",
        &[("claims", map(&["name"]))],
    ),
    (
        "io.k8s.api.core.v1.ResourceStatus",
        &[("resources", map(&["resourceID"]))],
    ),
    (
        "io.k8s.api.core.v1.ScopeSelector",
        &[("matchExpressions", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
        &[("values", ATOMIC)],
    ),
    ("io.k8s.api.core.v1.SecretProjection", &[("items", ATOMIC)]),
    (
        "io.k8s.api.core.v1.SecretVolumeSource",
        &[("items", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        &[
            ("imagePullSecrets", ATOMIC),
            ("secrets", map(&["name"]).patch(Merge).key("name")),
        ],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        &[
            ("clusterIPs", ATOMIC),
            ("externalIPs", ATOMIC),
            ("ipFamilies", ATOMIC),
            ("loadBalancerSourceRanges", ATOMIC),
            ("ports", map(&["port", "protocol"]).patch(Merge).key("port")),
            ("selector", MAP_ATOMIC),
        ],
    ),
    (
        "io.k8s.api.core.v1.ServiceStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.core.v1.TopologySelectorLabelRequirement",
        &[("values", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.TopologySelectorTerm",
        &[("matchLabelExpressions", ATOMIC)],
    ),
    (
        "io.k8s.api.core.v1.TopologySpreadConstraint",
        &[("matchLabelKeys", ATOMIC)],
    ),
];

/// The structs upstream marks `+structType=atomic`, sorted.
pub(super) const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.EndpointAddress",
    "io.k8s.api.core.v1.EndpointPort",
    "io.k8s.api.core.v1.FileKeySelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ScopeSelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
];
