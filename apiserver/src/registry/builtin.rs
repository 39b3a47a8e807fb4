//! The built-in resources of the Kubernetes v1.35 API, exactly as a default
//! kube-apiserver v1.35 reports them in discovery: every group version it serves with no
//! `--runtime-config` (all GA versions; upstream serves no beta or alpha version by
//! default since `flowcontrol.apiserver.k8s.io/v1beta3` was removed in 1.32), with each
//! resource's kind, names, scope, verbs, short names, categories and subresources.
//!
//! kubectl builds its REST mapping, `api-resources` (with its verbs), short-name expansion
//! (`po`, `deploy`) and category expansion (`get all`) from discovery, so any difference
//! here is visible to it. This is data, not behaviour: rows are ordered the way upstream's
//! `/apis` lists groups (core first; within a group the preferred version first, so
//! `autoscaling/v2` precedes `autoscaling/v1`), and within a group version by plural, as
//! upstream discovery lists them.
//!
//! Subresource group and version are always spelled out; discovery omits them when they
//! equal the parent's (as upstream does), so only `scale`, `eviction` and `token` carry a
//! group of their own.

use super::resource::{ResourceInfo, Subresource, Verb, ALL_VERBS};

/// `create` only: bindings, token and access reviews, `pods/binding`, `pods/eviction`,
/// `serviceaccounts/token`.
const CREATE: &[Verb] = &[Verb::Create];

/// `get`, `list`: componentstatuses, which are computed, never stored.
const GET_LIST: &[Verb] = &[Verb::Get, Verb::List];

/// Namespaces: every verb but `deletecollection`.
const NAMESPACE_VERBS: &[Verb] = &[
    Verb::Create,
    Verb::Delete,
    Verb::Get,
    Verb::List,
    Verb::Patch,
    Verb::Update,
    Verb::Watch,
];

/// `get`, `patch`, `update`: `status`, `scale`, `approval`, `ephemeralcontainers`, `resize`.
const GET_PATCH_UPDATE: &[Verb] = &[Verb::Get, Verb::Patch, Verb::Update];

/// `create`, `get`: the streaming connect subresources `attach`, `exec`, `portforward`.
const CREATE_GET: &[Verb] = &[Verb::Create, Verb::Get];

/// `create`, `delete`, `get`, `patch`, `update`: the `proxy` subresources.
const PROXY_VERBS: &[Verb] = &[
    Verb::Create,
    Verb::Delete,
    Verb::Get,
    Verb::Patch,
    Verb::Update,
];

/// `get` only: `pods/log`.
const GET: &[Verb] = &[Verb::Get];

/// `update` only: `namespaces/finalize`.
const UPDATE: &[Verb] = &[Verb::Update];

/// The `all` category: what `kubectl get all` lists.
const ALL: &[&str] = &["all"];

/// The `api-extensions` category: resources that extend the API or admission.
const API_EXTENSIONS: &[&str] = &["api-extensions"];

/// No short names or no categories.
const NONE: &[&str] = &[];

/// A subresource.
const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [Verb],
) -> Subresource {
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

/// The `status` subresource of a kind in `group`/`version`.
const fn status(group: &'static str, version: &'static str, kind: &'static str) -> Subresource {
    sub("status", group, version, kind, GET_PATCH_UPDATE)
}

/// The `scale` subresource, which always serves `autoscaling/v1` `Scale`.
const SCALE: Subresource = sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);

/// Every resource a default kube-apiserver v1.35 serves, in discovery order.
pub const BUILTIN: &[ResourceInfo] = &[
    // ---- core (/api/v1) ----
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Binding",
        plural: "bindings",
        singular: "binding",
        namespaced: true,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ComponentStatus",
        plural: "componentstatuses",
        singular: "componentstatus",
        namespaced: false,
        verbs: GET_LIST,
        short_names: &["cs"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["cm"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ep"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ev"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "LimitRange",
        plural: "limitranges",
        singular: "limitrange",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["limits"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        verbs: NAMESPACE_VERBS,
        short_names: &["ns"],
        categories: NONE,
        subresources: &[
            sub("finalize", "", "v1", "Namespace", UPDATE),
            status("", "v1", "Namespace"),
        ],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["no"],
        categories: NONE,
        subresources: &[
            sub("proxy", "", "v1", "NodeProxyOptions", PROXY_VERBS),
            status("", "v1", "Node"),
        ],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["pvc"],
        categories: NONE,
        subresources: &[status("", "v1", "PersistentVolumeClaim")],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "PersistentVolume",
        plural: "persistentvolumes",
        singular: "persistentvolume",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["pv"],
        categories: NONE,
        subresources: &[status("", "v1", "PersistentVolume")],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["po"],
        categories: ALL,
        subresources: &[
            sub("attach", "", "v1", "PodAttachOptions", CREATE_GET),
            sub("binding", "", "v1", "Binding", CREATE),
            sub("ephemeralcontainers", "", "v1", "Pod", GET_PATCH_UPDATE),
            sub("eviction", "policy", "v1", "Eviction", CREATE),
            sub("exec", "", "v1", "PodExecOptions", CREATE_GET),
            sub("log", "", "v1", "Pod", GET),
            sub("portforward", "", "v1", "PodPortForwardOptions", CREATE_GET),
            sub("proxy", "", "v1", "PodProxyOptions", PROXY_VERBS),
            sub("resize", "", "v1", "Pod", GET_PATCH_UPDATE),
            status("", "v1", "Pod"),
        ],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "PodTemplate",
        plural: "podtemplates",
        singular: "podtemplate",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ReplicationController",
        plural: "replicationcontrollers",
        singular: "replicationcontroller",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["rc"],
        categories: ALL,
        subresources: &[SCALE, status("", "v1", "ReplicationController")],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ResourceQuota",
        plural: "resourcequotas",
        singular: "resourcequota",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["quota"],
        categories: NONE,
        subresources: &[status("", "v1", "ResourceQuota")],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["sa"],
        categories: NONE,
        subresources: &[sub(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE,
        )],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["svc"],
        categories: ALL,
        subresources: &[
            sub("proxy", "", "v1", "ServiceProxyOptions", PROXY_VERBS),
            status("", "v1", "Service"),
        ],
    },
    // ---- apiregistration.k8s.io/v1 (served by the aggregator) ----
    ResourceInfo {
        group: "apiregistration.k8s.io",
        version: "v1",
        kind: "APIService",
        plural: "apiservices",
        singular: "apiservice",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: API_EXTENSIONS,
        subresources: &[status("apiregistration.k8s.io", "v1", "APIService")],
    },
    // ---- apps/v1 ----
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "ControllerRevision",
        plural: "controllerrevisions",
        singular: "controllerrevision",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        singular: "daemonset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ds"],
        categories: ALL,
        subresources: &[status("apps", "v1", "DaemonSet")],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["deploy"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "Deployment")],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["rs"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "ReplicaSet")],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        singular: "statefulset",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["sts"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "StatefulSet")],
    },
    // ---- events.k8s.io/v1 ----
    ResourceInfo {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ev"],
        categories: NONE,
        subresources: &[],
    },
    // ---- authentication.k8s.io/v1 ----
    ResourceInfo {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "SelfSubjectReview",
        plural: "selfsubjectreviews",
        singular: "selfsubjectreview",
        namespaced: false,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "TokenReview",
        plural: "tokenreviews",
        singular: "tokenreview",
        namespaced: false,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- authorization.k8s.io/v1 ----
    ResourceInfo {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "LocalSubjectAccessReview",
        plural: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        namespaced: true,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectAccessReview",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        namespaced: false,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectRulesReview",
        plural: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        namespaced: false,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SubjectAccessReview",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        namespaced: false,
        verbs: CREATE,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- autoscaling: v2 is the preferred version, so it comes first ----
    ResourceInfo {
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[status("autoscaling", "v2", "HorizontalPodAutoscaler")],
    },
    ResourceInfo {
        group: "autoscaling",
        version: "v1",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[status("autoscaling", "v1", "HorizontalPodAutoscaler")],
    },
    // ---- batch/v1 ----
    ResourceInfo {
        group: "batch",
        version: "v1",
        kind: "CronJob",
        plural: "cronjobs",
        singular: "cronjob",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["cj"],
        categories: ALL,
        subresources: &[status("batch", "v1", "CronJob")],
    },
    ResourceInfo {
        group: "batch",
        version: "v1",
        kind: "Job",
        plural: "jobs",
        singular: "job",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: ALL,
        subresources: &[status("batch", "v1", "Job")],
    },
    // ---- certificates.k8s.io/v1 ----
    ResourceInfo {
        group: "certificates.k8s.io",
        version: "v1",
        kind: "CertificateSigningRequest",
        plural: "certificatesigningrequests",
        singular: "certificatesigningrequest",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["csr"],
        categories: NONE,
        subresources: &[
            sub(
                "approval",
                "certificates.k8s.io",
                "v1",
                "CertificateSigningRequest",
                GET_PATCH_UPDATE,
            ),
            status("certificates.k8s.io", "v1", "CertificateSigningRequest"),
        ],
    },
    // ---- networking.k8s.io/v1 ----
    ResourceInfo {
        group: "networking.k8s.io",
        version: "v1",
        kind: "IngressClass",
        plural: "ingressclasses",
        singular: "ingressclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "networking.k8s.io",
        version: "v1",
        kind: "Ingress",
        plural: "ingresses",
        singular: "ingress",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["ing"],
        categories: NONE,
        subresources: &[status("networking.k8s.io", "v1", "Ingress")],
    },
    ResourceInfo {
        group: "networking.k8s.io",
        version: "v1",
        kind: "IPAddress",
        plural: "ipaddresses",
        singular: "ipaddress",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["ip"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "networking.k8s.io",
        version: "v1",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        singular: "networkpolicy",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["netpol"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "networking.k8s.io",
        version: "v1",
        kind: "ServiceCIDR",
        plural: "servicecidrs",
        singular: "servicecidr",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[status("networking.k8s.io", "v1", "ServiceCIDR")],
    },
    // ---- policy/v1 ----
    ResourceInfo {
        group: "policy",
        version: "v1",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: &["pdb"],
        categories: NONE,
        subresources: &[status("policy", "v1", "PodDisruptionBudget")],
    },
    // ---- rbac.authorization.k8s.io/v1 ----
    ResourceInfo {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        singular: "clusterrole",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        singular: "rolebinding",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        plural: "roles",
        singular: "role",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- storage.k8s.io/v1 ----
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSIDriver",
        plural: "csidrivers",
        singular: "csidriver",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSINode",
        plural: "csinodes",
        singular: "csinode",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "CSIStorageCapacity",
        plural: "csistoragecapacities",
        singular: "csistoragecapacity",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["sc"],
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "VolumeAttachment",
        plural: "volumeattachments",
        singular: "volumeattachment",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[status("storage.k8s.io", "v1", "VolumeAttachment")],
    },
    ResourceInfo {
        group: "storage.k8s.io",
        version: "v1",
        kind: "VolumeAttributesClass",
        plural: "volumeattributesclasses",
        singular: "volumeattributesclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["vac"],
        categories: NONE,
        subresources: &[],
    },
    // ---- admissionregistration.k8s.io/v1 ----
    ResourceInfo {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations",
        singular: "mutatingwebhookconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: API_EXTENSIONS,
        subresources: &[],
    },
    ResourceInfo {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingAdmissionPolicy",
        plural: "validatingadmissionpolicies",
        singular: "validatingadmissionpolicy",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: API_EXTENSIONS,
        subresources: &[status(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicy",
        )],
    },
    ResourceInfo {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingAdmissionPolicyBinding",
        plural: "validatingadmissionpolicybindings",
        singular: "validatingadmissionpolicybinding",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: API_EXTENSIONS,
        subresources: &[],
    },
    ResourceInfo {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations",
        singular: "validatingwebhookconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: API_EXTENSIONS,
        subresources: &[],
    },
    // ---- apiextensions.k8s.io/v1 (served by the apiextensions server) ----
    ResourceInfo {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["crd", "crds"],
        categories: API_EXTENSIONS,
        subresources: &[status(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
        )],
    },
    // ---- scheduling.k8s.io/v1 ----
    ResourceInfo {
        group: "scheduling.k8s.io",
        version: "v1",
        kind: "PriorityClass",
        plural: "priorityclasses",
        singular: "priorityclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: &["pc"],
        categories: NONE,
        subresources: &[],
    },
    // ---- coordination.k8s.io/v1 ----
    ResourceInfo {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- node.k8s.io/v1 ----
    ResourceInfo {
        group: "node.k8s.io",
        version: "v1",
        kind: "RuntimeClass",
        plural: "runtimeclasses",
        singular: "runtimeclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- discovery.k8s.io/v1 ----
    ResourceInfo {
        group: "discovery.k8s.io",
        version: "v1",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- resource.k8s.io/v1 (dynamic resource allocation, GA since 1.34) ----
    ResourceInfo {
        group: "resource.k8s.io",
        version: "v1",
        kind: "DeviceClass",
        plural: "deviceclasses",
        singular: "deviceclass",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "resource.k8s.io",
        version: "v1",
        kind: "ResourceClaim",
        plural: "resourceclaims",
        singular: "resourceclaim",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[status("resource.k8s.io", "v1", "ResourceClaim")],
    },
    ResourceInfo {
        group: "resource.k8s.io",
        version: "v1",
        kind: "ResourceClaimTemplate",
        plural: "resourceclaimtemplates",
        singular: "resourceclaimtemplate",
        namespaced: true,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    ResourceInfo {
        group: "resource.k8s.io",
        version: "v1",
        kind: "ResourceSlice",
        plural: "resourceslices",
        singular: "resourceslice",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[],
    },
    // ---- flowcontrol.apiserver.k8s.io/v1 ----
    ResourceInfo {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kind: "FlowSchema",
        plural: "flowschemas",
        singular: "flowschema",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[status("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema")],
    },
    ResourceInfo {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kind: "PriorityLevelConfiguration",
        plural: "prioritylevelconfigurations",
        singular: "prioritylevelconfiguration",
        namespaced: false,
        verbs: ALL_VERBS,
        short_names: NONE,
        categories: NONE,
        subresources: &[status(
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "PriorityLevelConfiguration",
        )],
    },
];

/// Whether `group` is one of the built-in API groups.
pub fn is_builtin_group(group: &str) -> bool {
    BUILTIN.iter().any(|resource| resource.group == group)
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::{ResourceInfo, Verb, ALL_VERBS, BUILTIN};

    fn find(group: &str, version: &str, plural: &str) -> Result<&'static ResourceInfo, String> {
        BUILTIN
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .ok_or_else(|| format!("{group}/{version} {plural} missing"))
    }

    fn is_lower(name: &str) -> bool {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }

    #[test]
    fn no_duplicate_group_version_resource() {
        let mut seen = HashSet::new();
        for r in BUILTIN {
            assert!(
                seen.insert((r.group, r.version, r.plural)),
                "duplicate {}/{} {}",
                r.group,
                r.version,
                r.plural
            );
        }
    }

    #[test]
    fn names_are_lowercase_and_kinds_capitalised() {
        for r in BUILTIN {
            assert!(is_lower(r.plural), "plural {:?}", r.plural);
            assert!(is_lower(r.singular), "singular {:?}", r.singular);
            assert!(
                r.kind.starts_with(|c: char| c.is_ascii_uppercase()),
                "kind {:?}",
                r.kind
            );
            for name in r.short_names {
                assert!(is_lower(name), "short name {name:?} of {}", r.plural);
            }
            for category in r.categories {
                assert!(
                    category.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                    "category {category:?}"
                );
            }
        }
    }

    /// A short name names one resource. The same resource served in several group
    /// versions carries it in each (`hpa` in autoscaling v1 and v2; `ev` for core and
    /// events.k8s.io events, which kubectl resolves by group priority), but two different
    /// resources never share one, and no short name shadows a plural.
    #[test]
    fn short_names_name_one_resource() {
        let plurals: HashSet<&str> = BUILTIN.iter().map(|r| r.plural).collect();
        let mut owner: HashMap<&str, (&str, &str)> = HashMap::new();
        for r in BUILTIN {
            let mut in_resource = HashSet::new();
            for name in r.short_names {
                assert!(in_resource.insert(*name), "{name} twice on {}", r.plural);
                assert!(!plurals.contains(name), "short name {name} is a plural");
                let previous = owner.entry(name).or_insert((r.plural, r.kind));
                assert_eq!(
                    *previous,
                    (r.plural, r.kind),
                    "short name {name} names two resources"
                );
            }
        }
        let mut group_versions: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
        for r in BUILTIN {
            let names = group_versions.entry((r.group, r.version)).or_default();
            for name in r.short_names {
                assert!(
                    names.insert(*name),
                    "{name} twice in {}/{}",
                    r.group,
                    r.version
                );
            }
        }
    }

    #[test]
    fn verbs_and_subresources_are_sorted_and_unique() {
        for r in BUILTIN {
            assert!(!r.verbs.is_empty(), "{} has no verbs", r.plural);
            assert!(
                r.verbs.windows(2).all(|w| w[0] < w[1]),
                "verbs of {}",
                r.plural
            );
            assert!(
                r.subresources.windows(2).all(|w| w[0].name < w[1].name),
                "subresources of {}",
                r.plural
            );
            for s in r.subresources {
                assert!(is_lower(s.name), "subresource {:?}", s.name);
                assert!(!s.verbs.is_empty(), "{}/{} has no verbs", r.plural, s.name);
                assert!(
                    s.verbs.windows(2).all(|w| w[0] < w[1]),
                    "verbs of {}/{}",
                    r.plural,
                    s.name
                );
                assert!(
                    !s.version.is_empty(),
                    "{}/{} has no version",
                    r.plural,
                    s.name
                );
                if s.name == "status" {
                    assert_eq!(
                        (s.group, s.version, s.kind),
                        (r.group, r.version, r.kind),
                        "status of {}/{} {}",
                        r.group,
                        r.version,
                        r.plural
                    );
                }
                if s.name == "scale" {
                    assert_eq!((s.group, s.version, s.kind), ("autoscaling", "v1", "Scale"));
                }
            }
        }
    }

    /// Groups are contiguous, core comes first, each group version's rows are sorted by
    /// plural, and the preferred version of a group comes first.
    #[test]
    fn discovery_order() {
        assert_eq!(BUILTIN.first().map(|r| r.group), Some(""));
        let mut groups: Vec<&str> = Vec::new();
        let mut group_versions: Vec<(&str, &str)> = Vec::new();
        for r in BUILTIN {
            if groups.last() != Some(&r.group) {
                assert!(!groups.contains(&r.group), "group {} split", r.group);
                groups.push(r.group);
            }
            if group_versions.last() != Some(&(r.group, r.version)) {
                assert!(
                    !group_versions.contains(&(r.group, r.version)),
                    "{}/{} split",
                    r.group,
                    r.version
                );
                group_versions.push((r.group, r.version));
            }
        }
        for (group, version) in &group_versions {
            let plurals: Vec<&str> = BUILTIN
                .iter()
                .filter(|r| r.group == *group && r.version == *version)
                .map(|r| r.plural)
                .collect();
            assert!(
                plurals.windows(2).all(|w| w[0] < w[1]),
                "{group}/{version} not sorted: {plurals:?}"
            );
        }
        assert_eq!(
            groups,
            [
                "",
                "apiregistration.k8s.io",
                "apps",
                "events.k8s.io",
                "authentication.k8s.io",
                "authorization.k8s.io",
                "autoscaling",
                "batch",
                "certificates.k8s.io",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "storage.k8s.io",
                "admissionregistration.k8s.io",
                "apiextensions.k8s.io",
                "scheduling.k8s.io",
                "coordination.k8s.io",
                "node.k8s.io",
                "discovery.k8s.io",
                "resource.k8s.io",
                "flowcontrol.apiserver.k8s.io",
            ]
        );
        let autoscaling: Vec<&str> = group_versions
            .iter()
            .filter(|(group, _)| *group == "autoscaling")
            .map(|(_, version)| *version)
            .collect();
        assert_eq!(autoscaling, ["v2", "v1"]);
        // Only GA versions are served by default.
        for (group, version) in &group_versions {
            assert!(
                !version.contains("alpha") && !version.contains("beta"),
                "{group}/{version} is not GA"
            );
        }
    }

    #[test]
    fn counts_per_group_version() {
        let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
        for r in BUILTIN {
            *counts.entry((r.group, r.version)).or_default() += 1;
        }
        let expected = [
            (("", "v1"), 17),
            (("apps", "v1"), 5),
            (("autoscaling", "v1"), 1),
            (("autoscaling", "v2"), 1),
            (("networking.k8s.io", "v1"), 5),
            (("storage.k8s.io", "v1"), 6),
            (("admissionregistration.k8s.io", "v1"), 4),
            (("resource.k8s.io", "v1"), 4),
            (("rbac.authorization.k8s.io", "v1"), 4),
            (("authorization.k8s.io", "v1"), 4),
        ];
        for (group_version, count) in expected {
            assert_eq!(
                counts.get(&group_version),
                Some(&count),
                "{group_version:?}"
            );
        }
        assert_eq!(BUILTIN.len(), 66);
    }

    #[test]
    fn well_known_scopes() -> Result<(), String> {
        for (group, plural, namespaced) in [
            ("", "pods", true),
            ("", "services", true),
            ("", "events", true),
            ("", "bindings", true),
            ("", "nodes", false),
            ("", "namespaces", false),
            ("", "persistentvolumes", false),
            ("", "componentstatuses", false),
            ("apps", "deployments", true),
            ("rbac.authorization.k8s.io", "clusterroles", false),
            ("rbac.authorization.k8s.io", "roles", true),
            ("authorization.k8s.io", "localsubjectaccessreviews", true),
            ("authorization.k8s.io", "subjectaccessreviews", false),
            ("storage.k8s.io", "csistoragecapacities", true),
            ("storage.k8s.io", "storageclasses", false),
            ("apiextensions.k8s.io", "customresourcedefinitions", false),
            ("resource.k8s.io", "resourceclaims", true),
            ("resource.k8s.io", "resourceslices", false),
        ] {
            let r = find(group, "v1", plural)?;
            assert_eq!(r.namespaced, namespaced, "{group} {plural}");
        }
        Ok(())
    }

    #[test]
    fn well_known_verbs() -> Result<(), String> {
        assert_eq!(find("", "v1", "bindings")?.verbs, [Verb::Create]);
        assert_eq!(
            find("", "v1", "componentstatuses")?.verbs,
            [Verb::Get, Verb::List]
        );
        assert_eq!(find("", "v1", "events")?.verbs, ALL_VERBS);
        let namespaces = find("", "v1", "namespaces")?;
        assert!(!namespaces.verbs.contains(&Verb::DeleteCollection));
        assert_eq!(namespaces.verbs.len(), 7);
        for (group, plural) in [
            ("authentication.k8s.io", "tokenreviews"),
            ("authentication.k8s.io", "selfsubjectreviews"),
            ("authorization.k8s.io", "subjectaccessreviews"),
            ("authorization.k8s.io", "selfsubjectaccessreviews"),
            ("authorization.k8s.io", "selfsubjectrulesreviews"),
            ("authorization.k8s.io", "localsubjectaccessreviews"),
        ] {
            assert_eq!(find(group, "v1", plural)?.verbs, [Verb::Create], "{plural}");
        }
        let token = find("", "v1", "serviceaccounts")?
            .subresources
            .iter()
            .find(|s| s.name == "token")
            .ok_or("no serviceaccounts/token")?;
        assert_eq!(
            (token.group, token.version, token.kind, token.verbs),
            (
                "authentication.k8s.io",
                "v1",
                "TokenRequest",
                &[Verb::Create][..]
            )
        );
        let pods = find("", "v1", "pods")?;
        let names: Vec<&str> = pods.subresources.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "attach",
                "binding",
                "ephemeralcontainers",
                "eviction",
                "exec",
                "log",
                "portforward",
                "proxy",
                "resize",
                "status"
            ]
        );
        let eviction = pods
            .subresources
            .iter()
            .find(|s| s.name == "eviction")
            .ok_or("no pods/eviction")?;
        assert_eq!(
            (eviction.group, eviction.version, eviction.kind),
            ("policy", "v1", "Eviction")
        );
        Ok(())
    }

    #[test]
    fn well_known_short_names_and_categories() -> Result<(), String> {
        for (group, plural, short) in [
            ("", "pods", "po"),
            ("", "services", "svc"),
            ("", "configmaps", "cm"),
            ("", "namespaces", "ns"),
            ("", "nodes", "no"),
            ("", "limitranges", "limits"),
            ("", "resourcequotas", "quota"),
            ("apps", "deployments", "deploy"),
            ("batch", "cronjobs", "cj"),
            ("networking.k8s.io", "networkpolicies", "netpol"),
            ("apiextensions.k8s.io", "customresourcedefinitions", "crd"),
            ("scheduling.k8s.io", "priorityclasses", "pc"),
        ] {
            assert!(
                find(group, "v1", plural)?.short_names.contains(&short),
                "{plural} lacks {short}"
            );
        }
        let all: Vec<&str> = BUILTIN
            .iter()
            .filter(|r| r.categories.contains(&"all"))
            .map(|r| r.plural)
            .collect();
        assert_eq!(
            all,
            [
                "pods",
                "replicationcontrollers",
                "services",
                "daemonsets",
                "deployments",
                "replicasets",
                "statefulsets",
                "horizontalpodautoscalers",
                "horizontalpodautoscalers",
                "cronjobs",
                "jobs",
            ]
        );
        assert_eq!(
            find("apiextensions.k8s.io", "v1", "customresourcedefinitions")?.categories,
            ["api-extensions"]
        );
        Ok(())
    }
}
