//! meta/v1, apiextensions.k8s.io/v1 and apiregistration.k8s.io/v1: apimachinery's
//! `pkg/apis/meta/v1/types.go`, apiextensions-apiserver's `pkg/apis/apiextensions/v1/types.go`
//! and `types_jsonschema.go`, kube-aggregator's `pkg/apis/apiregistration/v1/types.go`.

use super::PatchStrategy::Merge;
use super::{map, Definition, ATOMIC, SET};

/// Each definition's fields that carry patch or merge metadata, sorted.
pub(super) const FIELDS: &[Definition] = &[
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames",
        &[("categories", ATOMIC), ("shortNames", ATOMIC)],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec",
        &[("versions", ATOMIC)],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus",
        &[("conditions", map(&["type"])), ("storedVersions", ATOMIC)],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion",
        &[
            ("additionalPrinterColumns", ATOMIC),
            ("selectableFields", ATOMIC),
        ],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        &[
            ("allOf", ATOMIC),
            ("anyOf", ATOMIC),
            ("enum", ATOMIC),
            ("oneOf", ATOMIC),
            ("required", ATOMIC),
            ("x-kubernetes-list-map-keys", ATOMIC),
            (
                "x-kubernetes-validations",
                map(&["rule"]).patch(Merge).key("rule"),
            ),
        ],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion",
        &[("conversionReviewVersions", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
        &[("serverAddressByClientCIDRs", ATOMIC), ("versions", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
        &[("groups", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
        &[("categories", ATOMIC), ("shortNames", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        &[("resources", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
        &[("serverAddressByClientCIDRs", ATOMIC), ("versions", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        &[("dryRun", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
        &[("values", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        &[("matchExpressions", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        &[("values", ATOMIC)],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            ("finalizers", SET.patch(Merge)),
            ("managedFields", ATOMIC),
            ("ownerReferences", map(&["uid"]).patch(Merge).key("uid")),
        ],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
        &[("causes", ATOMIC)],
    ),
    (
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec",
        &[("caBundle", ATOMIC)],
    ),
    (
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus",
        &[("conditions", map(&["type"]).patch(Merge).key("type"))],
    ),
];

/// The structs upstream marks `+structType=atomic`, sorted.
pub(super) const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
];
