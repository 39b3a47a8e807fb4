//! The Swagger `definitions` every served document is cut from, generated once per process
//! from k8s-openapi's `JsonSchema` impls: upstream's names (`io.k8s.api.apps.v1.Deployment`),
//! descriptions, types, formats and required fields, with `$ref`s in Swagger's
//! `#/definitions/` form. What k8s-openapi's schemas lack is added here: each kind's
//! `x-kubernetes-group-version-kind`, the `List` kinds (k8s-openapi has one generic
//! `List<T>`), the merge extensions (`strategies`) and upstream's plain-string forms of
//! `IntOrString` and `Quantity`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use k8s_openapi::api::{
    admissionregistration::v1 as admissionregistration, apps::v1 as apps,
    authentication::v1 as authentication, authorization::v1 as authorization,
    autoscaling::v1 as autoscaling_v1, autoscaling::v2 as autoscaling_v2, batch::v1 as batch,
    certificates::v1 as certificates, coordination::v1 as coordination, core::v1 as core,
    discovery::v1 as discovery, events::v1 as events, flowcontrol::v1 as flowcontrol,
    networking::v1 as networking, node::v1 as node, policy::v1 as policy, rbac::v1 as rbac,
    resource::v1 as resource, scheduling::v1 as scheduling, storage::v1 as storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use k8s_openapi::{ListableResource, Resource};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use super::{strategies, OpenApiError};

/// Where Swagger 2.0 keeps named schemas.
pub(super) const DEFINITIONS: &str = "#/definitions/";

const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

/// One kind the documents describe.
struct Kind {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    /// Its definition's name.
    definition: String,
    /// The list kind and its definition's name, for kinds that have one.
    list: Option<(&'static str, String)>,
}

impl Kind {
    fn single<T: Resource + JsonSchema>(generator: &mut SchemaGenerator) -> Self {
        generator.subschema_for::<T>();
        Self {
            group: T::GROUP,
            version: T::VERSION,
            kind: T::KIND,
            definition: T::schema_name().into_owned(),
            list: None,
        }
    }

    fn listed<T: ListableResource + JsonSchema>(generator: &mut SchemaGenerator) -> Self {
        let name = T::schema_name().into_owned();
        Self {
            list: Some((T::LIST_KIND, format!("{name}List"))),
            ..Self::single::<T>(generator)
        }
    }
}

/// The k8s-openapi type of every kind the registry serves (`listed` have a `List` kind),
/// of the kinds its subresources take, and of the `meta/v1` kinds its endpoints return.
macro_rules! kinds {
    (listed: [$($listed:ty),* $(,)?], single: [$($single:ty),* $(,)?] $(,)?) => {
        fn kinds(generator: &mut SchemaGenerator) -> Vec<Kind> {
            vec![
                $(Kind::listed::<$listed>(generator),)*
                $(Kind::single::<$single>(generator),)*
            ]
        }
    };
}

kinds! {
    listed: [
        core::ComponentStatus, core::ConfigMap, core::Endpoints, core::Event,
        core::LimitRange, core::Namespace, core::Node, core::PersistentVolumeClaim,
        core::PersistentVolume, core::Pod, core::PodTemplate, core::ReplicationController,
        core::ResourceQuota, core::Secret, core::ServiceAccount, core::Service,
        apiregistration::APIService,
        apps::ControllerRevision, apps::DaemonSet, apps::Deployment, apps::ReplicaSet,
        apps::StatefulSet,
        events::Event,
        autoscaling_v2::HorizontalPodAutoscaler, autoscaling_v1::HorizontalPodAutoscaler,
        batch::CronJob, batch::Job,
        certificates::CertificateSigningRequest,
        networking::IngressClass, networking::Ingress, networking::IPAddress,
        networking::NetworkPolicy, networking::ServiceCIDR,
        policy::PodDisruptionBudget,
        rbac::ClusterRoleBinding, rbac::ClusterRole, rbac::RoleBinding, rbac::Role,
        storage::CSIDriver, storage::CSINode, storage::CSIStorageCapacity,
        storage::StorageClass, storage::VolumeAttachment, storage::VolumeAttributesClass,
        admissionregistration::MutatingWebhookConfiguration,
        admissionregistration::ValidatingAdmissionPolicy,
        admissionregistration::ValidatingAdmissionPolicyBinding,
        admissionregistration::ValidatingWebhookConfiguration,
        apiextensions::CustomResourceDefinition,
        scheduling::PriorityClass,
        coordination::Lease,
        node::RuntimeClass,
        discovery::EndpointSlice,
        resource::DeviceClass, resource::ResourceClaim, resource::ResourceClaimTemplate,
        resource::ResourceSlice,
        flowcontrol::FlowSchema, flowcontrol::PriorityLevelConfiguration,
    ],
    single: [
        core::Binding,
        authentication::SelfSubjectReview, authentication::TokenReview,
        authentication::TokenRequest,
        authorization::LocalSubjectAccessReview, authorization::SelfSubjectAccessReview,
        authorization::SelfSubjectRulesReview, authorization::SubjectAccessReview,
        autoscaling_v1::Scale,
        policy::Eviction,
        meta::Status, meta::APIResourceList, meta::APIGroup, meta::APIGroupList,
        meta::APIVersions,
    ],
}

/// Definitions whose k8s-openapi schema is richer than upstream's Swagger text, which has
/// only a description (and, for the first two, a plain `string` type): upstream's form.
const PLAIN: &[(&str, &[(&str, &str)])] = &[
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        &[("format", "int-or-string"), ("type", "string")],
    ),
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        &[("type", "string")],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        &[],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        &[],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        &[],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
        &[],
    ),
];

/// Every definition, built once per process and shared by the published documents and
/// field validation.
pub(super) fn definitions() -> Result<&'static Map<String, Value>, OpenApiError> {
    static DEFINITIONS: OnceLock<Result<Map<String, Value>, String>> = OnceLock::new();
    DEFINITIONS
        .get_or_init(generate)
        .as_ref()
        .map_err(|message| OpenApiError::Malformed(message.clone()))
}

fn generate() -> Result<Map<String, Value>, String> {
    let mut generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.definitions_path = "/definitions".into();
            settings.meta_schema = None;
            settings.transforms.clear();
        })
        .into_generator();
    let kinds = kinds(&mut generator);
    generator.subschema_for::<meta::ListMeta>();
    generator.subschema_for::<meta::DeleteOptions>();
    generator
        .subschema_for::<meta::WatchEvent<k8s_openapi::apimachinery::pkg::runtime::RawExtension>>();
    generator.subschema_for::<meta::Patch>();
    generator.subschema_for::<k8s_openapi::apimachinery::pkg::version::Info>();
    let mut definitions = generator.take_definitions(false);

    for (name, keep) in PLAIN {
        if let Some(Value::Object(schema)) = definitions.get_mut(*name) {
            schema.retain(|key, _| key == "description");
            for (key, value) in *keep {
                schema.insert((*key).to_owned(), json!(value));
            }
        }
    }

    let mut group_versions = BTreeSet::from([("", "v1")]);
    for kind in &kinds {
        group_versions.insert((kind.group, kind.version));
        let schema = definitions
            .get_mut(&kind.definition)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("no definition {}", kind.definition))?;
        schema.insert(
            "x-kubernetes-group-version-kind".to_owned(),
            json!([{"group": kind.group, "kind": kind.kind, "version": kind.version}]),
        );
        if let Some((list_kind, list_definition)) = &kind.list {
            let list = list_schema(schema, kind, list_kind);
            definitions.insert(list_definition.clone(), list);
        }
    }
    // The options and events every group version shares name each of them.
    for name in [DELETE_OPTIONS, WATCH_EVENT] {
        let kind = name.rsplit('.').next().unwrap_or_default();
        if let Some(Value::Object(schema)) = definitions.get_mut(name) {
            let gvks: Vec<Value> = group_versions
                .iter()
                .map(|(group, version)| json!({"group": group, "kind": kind, "version": version}))
                .collect();
            schema.insert(
                "x-kubernetes-group-version-kind".to_owned(),
                Value::Array(gvks),
            );
        }
    }

    for schema in definitions.values_mut() {
        if let Some(schema) = schema.as_object_mut() {
            drop_generated_requirements(schema);
        }
    }
    strategies::extensions(&mut definitions);
    let mut definitions = match sorted(Value::Object(definitions)) {
        Value::Object(definitions) => definitions,
        _ => Map::new(),
    };
    definitions.sort_keys();
    Ok(definitions)
}

/// k8s-openapi lists as required two kinds of fields upstream does not: `metadata`
/// (every Go kind's `ObjectMeta` or `ListMeta` is `omitempty`; core/v1 `Event` alone is
/// required upstream too, and loses that here), and the `name` of the local object
/// references (`LocalObjectReference` and the types embedding it), which upstream defaults
/// to `""` and k8s-openapi therefore makes a plain `String`. kubectl explain prints
/// `-required-` after required fields, so both are taken out.
fn drop_generated_requirements(schema: &mut Map<String, Value>) {
    let optional: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, property)| {
            let reference = property.get("$ref").and_then(Value::as_str);
            let description = property
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (*name == "metadata"
                && reference.is_some_and(|target| {
                    target.ends_with(".meta.v1.ObjectMeta") || target.ends_with(".meta.v1.ListMeta")
                }))
                || (*name == "name" && description.contains("effectively required, but due to backwards compatibility is allowed to be empty"))
        })
        .map(|(name, _)| name.clone())
        .collect();
    if optional.is_empty() {
        return;
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| {
            !name
                .as_str()
                .is_some_and(|name| optional.iter().any(|o| o == name))
        });
        if required.is_empty() {
            schema.remove("required");
        }
    }
}

/// The `List` kind of `kind`, as upstream words its generic parts.
fn list_schema(item: &Map<String, Value>, kind: &Kind, list_kind: &str) -> Value {
    let property = |name: &str| {
        item.get("properties")
            .and_then(|properties| properties.get(name))
            .cloned()
            .unwrap_or_else(|| json!({"type": "string"}))
    };
    json!({
        "description": format!("{list_kind} is a list of {} objects.", kind.kind),
        "properties": {
            "apiVersion": property("apiVersion"),
            "items": {
                "description": format!("Items is the list of {} objects.", kind.kind),
                "items": {"$ref": format!("{DEFINITIONS}{}", kind.definition)},
                "type": "array",
            },
            "kind": property("kind"),
            "metadata": {
                "$ref": format!("{DEFINITIONS}{LIST_META}"),
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
            },
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [
            {"group": kind.group, "kind": list_kind, "version": kind.version},
        ],
    })
}

/// A copy with every object's keys in order, as upstream's published documents are.
pub(super) fn sorted(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut out: Map<String, Value> = object
                .into_iter()
                .map(|(key, value)| (key, sorted(value)))
                .collect();
            out.sort_keys();
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{definitions, DEFINITIONS};

    #[test]
    fn definitions_carry_upstream_names_text_and_kinds() -> Result<(), String> {
        let definitions = definitions().map_err(|error| error.to_string())?;
        let deployment = definitions
            .get("io.k8s.api.apps.v1.Deployment")
            .ok_or("no Deployment")?;
        assert_eq!(
            deployment.get("x-kubernetes-group-version-kind"),
            Some(&json!([{"group": "apps", "kind": "Deployment", "version": "v1"}]))
        );
        assert_eq!(
            deployment.pointer("/properties/spec/$ref"),
            Some(&json!("#/definitions/io.k8s.api.apps.v1.DeploymentSpec"))
        );
        let replicas = definitions
            .get("io.k8s.api.apps.v1.DeploymentSpec")
            .and_then(|spec| spec.pointer("/properties/replicas"))
            .ok_or("no replicas")?;
        assert_eq!(replicas.get("format"), Some(&json!("int32")));
        assert!(replicas
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|text| text.starts_with("Number of desired pods.")));
        let list = definitions
            .get("io.k8s.api.apps.v1.DeploymentList")
            .ok_or("no DeploymentList")?;
        assert_eq!(
            list.pointer("/properties/items/items/$ref"),
            Some(&json!("#/definitions/io.k8s.api.apps.v1.Deployment"))
        );
        assert_eq!(
            list.pointer("/x-kubernetes-group-version-kind/0/kind"),
            Some(&json!("DeploymentList"))
        );
        assert_eq!(
            definitions
                .get("io.k8s.apimachinery.pkg.util.intstr.IntOrString")
                .and_then(|s| s.get("format")),
            Some(&json!("int-or-string"))
        );
        let delete_options = definitions
            .get("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
            .and_then(|schema| schema.get("x-kubernetes-group-version-kind"))
            .and_then(Value::as_array)
            .ok_or("no DeleteOptions GVKs")?;
        assert!(delete_options
            .contains(&json!({"group": "apps", "kind": "DeleteOptions", "version": "v1"})));
        for name in [
            "io.k8s.api.autoscaling.v1.Scale",
            "io.k8s.api.policy.v1.Eviction",
            "io.k8s.api.authentication.v1.TokenRequest",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            "io.k8s.apimachinery.pkg.version.Info",
        ] {
            assert!(definitions.contains_key(name), "{name} missing");
        }
        // Every reference resolves.
        let text = serde_json::to_string(definitions).map_err(|error| error.to_string())?;
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            let name = target.strip_prefix(DEFINITIONS).ok_or(target.to_owned())?;
            assert!(definitions.contains_key(name), "dangling {target}");
        }
        Ok(())
    }
}
