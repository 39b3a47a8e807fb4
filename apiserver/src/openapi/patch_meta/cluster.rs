//! The cluster-control groups: admissionregistration.k8s.io/v1, authentication.k8s.io/v1,
//! authorization.k8s.io/v1, certificates.k8s.io/v1, flowcontrol.apiserver.k8s.io/v1,
//! rbac.authorization.k8s.io/v1 and resource.k8s.io/v1 (`staging/src/k8s.io/api/<group>/<version>/types.go`).

use super::PatchStrategy::Merge;
use super::{map, Definition, ATOMIC, SET};

/// Each definition's fields that carry patch or merge metadata, sorted.
pub(super) const FIELDS: &[Definition] = &[
    (
        "io.k8s.api.admissionregistration.v1.MatchResources",
        &[("excludeResourceRules", ATOMIC), ("resourceRules", ATOMIC)],
    ),
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhook",
        &[
            ("admissionReviewVersions", ATOMIC),
            ("matchConditions", map(&["name"]).patch(Merge).key("name")),
            ("rules", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
        &[("webhooks", map(&["name"]).patch(Merge).key("name"))],
    ),
    (
        "io.k8s.api.admissionregistration.v1.NamedRuleWithOperations",
        &[
            ("apiGroups", ATOMIC),
            ("apiVersions", ATOMIC),
            ("operations", ATOMIC),
            ("resourceNames", ATOMIC),
            ("resources", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.RuleWithOperations",
        &[
            ("apiGroups", ATOMIC),
            ("apiVersions", ATOMIC),
            ("operations", ATOMIC),
            ("resources", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.TypeChecking",
        &[("expressionWarnings", ATOMIC)],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec",
        &[("validationActions", SET)],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
        &[
            ("auditAnnotations", ATOMIC),
            ("matchConditions", map(&["name"]).patch(Merge).key("name")),
            ("validations", ATOMIC),
            ("variables", map(&["name"]).patch(Merge).key("name")),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus",
        &[("conditions", map(&["type"]))],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        &[
            ("admissionReviewVersions", ATOMIC),
            ("matchConditions", map(&["name"]).patch(Merge).key("name")),
            ("rules", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
        &[("webhooks", map(&["name"]).patch(Merge).key("name"))],
    ),
    (
        "io.k8s.api.authentication.v1.TokenRequestSpec",
        &[("audiences", ATOMIC)],
    ),
    (
        "io.k8s.api.authentication.v1.TokenReviewSpec",
        &[("audiences", ATOMIC)],
    ),
    (
        "io.k8s.api.authentication.v1.TokenReviewStatus",
        &[("audiences", ATOMIC)],
    ),
    (
        "io.k8s.api.authentication.v1.UserInfo",
        &[("groups", ATOMIC)],
    ),
    (
        "io.k8s.api.authorization.v1.FieldSelectorAttributes",
        &[("requirements", ATOMIC)],
    ),
    (
        "io.k8s.api.authorization.v1.LabelSelectorAttributes",
        &[("requirements", ATOMIC)],
    ),
    (
        "io.k8s.api.authorization.v1.NonResourceRule",
        &[("nonResourceURLs", ATOMIC), ("verbs", ATOMIC)],
    ),
    (
        "io.k8s.api.authorization.v1.ResourceRule",
        &[
            ("apiGroups", ATOMIC),
            ("resourceNames", ATOMIC),
            ("resources", ATOMIC),
            ("verbs", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.authorization.v1.SubjectAccessReviewSpec",
        &[("groups", ATOMIC)],
    ),
    (
        "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
        &[("nonResourceRules", ATOMIC), ("resourceRules", ATOMIC)],
    ),
    (
        "io.k8s.api.certificates.v1.CertificateSigningRequestSpec",
        &[("groups", ATOMIC), ("usages", ATOMIC)],
    ),
    (
        "io.k8s.api.certificates.v1.CertificateSigningRequestStatus",
        &[("conditions", map(&["type"]))],
    ),
    (
        "io.k8s.api.flowcontrol.v1.FlowSchemaSpec",
        &[("rules", ATOMIC)],
    ),
    (
        "io.k8s.api.flowcontrol.v1.FlowSchemaStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.flowcontrol.v1.NonResourcePolicyRule",
        &[("nonResourceURLs", SET), ("verbs", SET)],
    ),
    (
        "io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects",
        &[
            ("nonResourceRules", ATOMIC),
            ("resourceRules", ATOMIC),
            ("subjects", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
    (
        "io.k8s.api.flowcontrol.v1.ResourcePolicyRule",
        &[
            ("apiGroups", SET),
            ("namespaces", SET),
            ("resources", SET),
            ("verbs", SET),
        ],
    ),
    (
        "io.k8s.api.rbac.v1.AggregationRule",
        &[("clusterRoleSelectors", ATOMIC)],
    ),
    ("io.k8s.api.rbac.v1.ClusterRole", &[("rules", ATOMIC)]),
    (
        "io.k8s.api.rbac.v1.ClusterRoleBinding",
        &[("subjects", ATOMIC)],
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        &[
            ("apiGroups", ATOMIC),
            ("nonResourceURLs", ATOMIC),
            ("resourceNames", ATOMIC),
            ("resources", ATOMIC),
            ("verbs", ATOMIC),
        ],
    ),
    ("io.k8s.api.rbac.v1.Role", &[("rules", ATOMIC)]),
    ("io.k8s.api.rbac.v1.RoleBinding", &[("subjects", ATOMIC)]),
    (
        "io.k8s.api.resource.v1.AllocatedDeviceStatus",
        &[("conditions", map(&["type"]))],
    ),
    (
        "io.k8s.api.resource.v1.CapacityRequestPolicy",
        &[("validValues", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.Device",
        &[
            ("bindingConditions", ATOMIC),
            ("bindingFailureConditions", ATOMIC),
            ("consumesCounters", ATOMIC),
            ("taints", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.resource.v1.DeviceAllocationConfiguration",
        &[("requests", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceAllocationResult",
        &[("config", ATOMIC), ("results", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceClaim",
        &[
            ("config", ATOMIC),
            ("constraints", ATOMIC),
            ("requests", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.resource.v1.DeviceClaimConfiguration",
        &[("requests", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceClassSpec",
        &[("config", ATOMIC), ("selectors", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceConstraint",
        &[("requests", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceRequest",
        &[("firstAvailable", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.DeviceRequestAllocationResult",
        &[
            ("bindingConditions", ATOMIC),
            ("bindingFailureConditions", ATOMIC),
            ("tolerations", ATOMIC),
        ],
    ),
    (
        "io.k8s.api.resource.v1.DeviceSubRequest",
        &[("selectors", ATOMIC), ("tolerations", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.ExactDeviceRequest",
        &[("selectors", ATOMIC), ("tolerations", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.NetworkDeviceData",
        &[("ips", ATOMIC)],
    ),
    (
        "io.k8s.api.resource.v1.ResourceClaimStatus",
        &[
            ("devices", map(&["driver", "device", "pool", "shareID"])),
            ("reservedFor", map(&["uid"]).patch(Merge).key("uid")),
        ],
    ),
    (
        "io.k8s.api.resource.v1.ResourceSliceSpec",
        &[("devices", ATOMIC), ("sharedCounters", ATOMIC)],
    ),
];

/// The structs upstream marks `+structType=atomic`, sorted.
pub(super) const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.admissionregistration.v1.MatchResources",
    "io.k8s.api.admissionregistration.v1.NamedRuleWithOperations",
    "io.k8s.api.admissionregistration.v1.ParamKind",
    "io.k8s.api.admissionregistration.v1.ParamRef",
    "io.k8s.api.admissionregistration.v1.Variable",
    "io.k8s.api.rbac.v1.RoleRef",
    "io.k8s.api.rbac.v1.Subject",
];
