//! Well-known fields against upstream's v1.35 tags, and the table's own invariants.

use std::collections::BTreeSet;

use super::{
    atomic_structs, fields, is_atomic_struct, patch_meta, ListType, MapType, PatchMeta,
    PatchStrategy, ATOMIC_STRUCT_TABLES, TABLES,
};

const CORE: &str = "io.k8s.api.core.v1.";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.";

fn meta(definition: &str, field: &str) -> Result<PatchMeta, String> {
    patch_meta(definition, field)
        .copied()
        .ok_or_else(|| format!("no row for {definition}.{field}"))
}

/// `patchStrategy=merge`, `patchMergeKey=key`, `+listType=map`, `+listMapKey=keys`.
fn merged_map(key: &'static str, keys: &'static [&'static str]) -> PatchMeta {
    PatchMeta {
        strategy: Some(PatchStrategy::Merge),
        merge_key: Some(key),
        list_type: Some(ListType::Map),
        map_keys: keys,
        map_type: None,
    }
}

#[test]
fn pod_spec_lists_merge_by_name() -> Result<(), String> {
    let pod_spec = format!("{CORE}PodSpec");
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        assert_eq!(
            meta(&pod_spec, field)?,
            merged_map("name", &["name"]),
            "{field}"
        );
    }
    assert_eq!(
        meta(&pod_spec, "imagePullSecrets")?,
        merged_map("name", &["name"])
    );
    let volumes = meta(&pod_spec, "volumes")?;
    assert_eq!(volumes.strategy, Some(PatchStrategy::MergeRetainKeys));
    assert_eq!(
        volumes.strategy.map(PatchStrategy::as_str),
        Some("merge,retainKeys")
    );
    assert_eq!(volumes.merge_key, Some("name"));
    assert_eq!(volumes.list_type, Some(ListType::Map));
    assert_eq!(volumes.map_keys, ["name"]);
    assert_eq!(
        meta(&pod_spec, "topologySpreadConstraints")?,
        merged_map("topologyKey", &["topologyKey", "whenUnsatisfiable"])
    );
    Ok(())
}

#[test]
fn container_lists_keep_upstream_keys() -> Result<(), String> {
    for container in ["Container", "EphemeralContainer"] {
        let definition = format!("{CORE}{container}");
        // The patch merge key and the list-map keys differ: SMP merges by port alone,
        // server-side apply by port and protocol.
        assert_eq!(
            meta(&definition, "ports")?,
            merged_map("containerPort", &["containerPort", "protocol"])
        );
        assert_eq!(meta(&definition, "env")?, merged_map("name", &["name"]));
        assert_eq!(
            meta(&definition, "volumeMounts")?,
            merged_map("mountPath", &["mountPath"])
        );
        assert_eq!(
            meta(&definition, "command")?.list_type,
            Some(ListType::Atomic)
        );
    }
    assert_eq!(
        meta(&format!("{CORE}ServiceSpec"), "ports")?,
        merged_map("port", &["port", "protocol"])
    );
    Ok(())
}

#[test]
fn object_meta_lists() -> Result<(), String> {
    let object_meta = format!("{META}ObjectMeta");
    let finalizers = meta(&object_meta, "finalizers")?;
    assert_eq!(finalizers.strategy, Some(PatchStrategy::Merge));
    assert_eq!(finalizers.merge_key, None);
    assert_eq!(finalizers.list_type, Some(ListType::Set));
    assert_eq!(
        meta(&object_meta, "ownerReferences")?,
        merged_map("uid", &["uid"])
    );
    assert_eq!(
        meta(&object_meta, "managedFields")?.list_type,
        Some(ListType::Atomic)
    );
    // Maps merge key by key by default: no row.
    assert_eq!(patch_meta(&object_meta, "labels"), None);
    assert_eq!(patch_meta(&object_meta, "annotations"), None);
    Ok(())
}

#[test]
fn atomic_lists_and_maps_have_no_patch_strategy() -> Result<(), String> {
    let pod_spec = format!("{CORE}PodSpec");
    let tolerations = meta(&pod_spec, "tolerations")?;
    assert_eq!(tolerations.list_type, Some(ListType::Atomic));
    assert_eq!(tolerations.strategy, None);
    assert_eq!(tolerations.merge_key, None);
    let node_selector = meta(&pod_spec, "nodeSelector")?;
    assert_eq!(node_selector.map_type, Some(MapType::Atomic));
    assert_eq!(node_selector.strategy, None);
    Ok(())
}

#[test]
fn status_conditions_merge_by_type() -> Result<(), String> {
    for definition in [
        "io.k8s.api.core.v1.PodStatus",
        "io.k8s.api.core.v1.NodeStatus",
        "io.k8s.api.apps.v1.DeploymentStatus",
        "io.k8s.api.apps.v1.StatefulSetStatus",
        "io.k8s.api.apps.v1.DaemonSetStatus",
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    ] {
        let conditions = meta(definition, "conditions")?;
        assert_eq!(
            conditions.strategy,
            Some(PatchStrategy::Merge),
            "{definition}"
        );
        assert_eq!(conditions.merge_key, Some("type"), "{definition}");
    }
    // A Job's conditions merge by type under SMP but are atomic for server-side apply.
    let job = meta("io.k8s.api.batch.v1.JobStatus", "conditions")?;
    assert_eq!(job.merge_key, Some("type"));
    assert_eq!(job.list_type, Some(ListType::Atomic));
    // meta/v1 Conditions in newer APIs: list-map without patch tags.
    let csr = meta(
        "io.k8s.api.certificates.v1.CertificateSigningRequestStatus",
        "conditions",
    )?;
    assert_eq!(csr.list_type, Some(ListType::Map));
    assert_eq!(csr.map_keys, ["type"]);
    Ok(())
}

#[test]
fn union_structs_retain_keys() -> Result<(), String> {
    let strategy = meta("io.k8s.api.apps.v1.DeploymentSpec", "strategy")?;
    assert_eq!(strategy.strategy, Some(PatchStrategy::RetainKeys));
    assert!(strategy.strategy.is_some_and(PatchStrategy::retains_keys));
    assert!(!strategy.strategy.is_some_and(PatchStrategy::merges));
    assert_eq!(strategy.list_type, None);
    assert_eq!(
        meta("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector")?.strategy,
        Some(PatchStrategy::Replace)
    );
    assert_eq!(
        meta(&format!("{CORE}PersistentVolumeSpec"), "claimRef")?.map_type,
        Some(MapType::Granular)
    );
    Ok(())
}

#[test]
fn well_known_atomic_structs() {
    for definition in [
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "io.k8s.api.core.v1.ObjectReference",
        "io.k8s.api.core.v1.LocalObjectReference",
        "io.k8s.api.core.v1.NodeSelector",
        "io.k8s.api.core.v1.SecretKeySelector",
        "io.k8s.api.rbac.v1.RoleRef",
        "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    ] {
        assert!(is_atomic_struct(definition), "{definition}");
    }
    for definition in [
        "io.k8s.api.core.v1.PodSpec",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.api.core.v1.Container",
    ] {
        assert!(!is_atomic_struct(definition), "{definition}");
    }
}

#[test]
fn tables_are_sorted_and_unique() {
    for table in TABLES {
        let names: Vec<&str> = table.iter().map(|(definition, _)| *definition).collect();
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
        for (definition, fields) in *table {
            assert!(!fields.is_empty(), "{definition}");
            assert!(
                fields.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "{definition}"
            );
        }
    }
    for table in ATOMIC_STRUCT_TABLES {
        assert!(table.windows(2).all(|pair| pair[0] < pair[1]), "{table:?}");
    }
    let definitions: BTreeSet<&str> = fields().map(|(definition, _, _)| definition).collect();
    let rows = fields().count();
    assert!(rows > 300, "{rows} rows");
    assert!(definitions.len() > 150, "{} definitions", definitions.len());
    assert_eq!(atomic_structs().count(), 27);
}

/// What the tags allow together: list-map keys only on list maps, merge keys only with a
/// merge strategy, and no list and map type on one field.
#[test]
fn rows_are_consistent() {
    for (definition, field, meta) in fields() {
        let at = format!("{definition}.{field}");
        assert_eq!(
            !meta.map_keys.is_empty(),
            meta.list_type == Some(ListType::Map),
            "{at}"
        );
        if meta.merge_key.is_some() {
            assert!(meta.strategy.is_some_and(PatchStrategy::merges), "{at}");
        }
        assert!(meta.list_type.is_none() || meta.map_type.is_none(), "{at}");
        assert_ne!(*meta, super::NONE, "{at}");
    }
}
