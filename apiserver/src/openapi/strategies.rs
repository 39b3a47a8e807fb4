//! How each list and map field merges: the `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `x-kubernetes-patch-strategy` and
//! `x-kubernetes-patch-merge-key` extensions of the published schemas.
//!
//! k8s-openapi's JSON schemas carry none of these extensions, but its generated `DeepMerge`
//! impls encode them: k8s-openapi's code generator turns each field's upstream annotations
//! into one `merge_strategies` call (`list::atomic`, `list::set`, `list::map` with the key
//! fields, `map::atomic`, `map::granular`). `table.rs` is those calls for v1.35, extracted from
//! the k8s-openapi sources by the test below, which also checks that the table still matches
//! the k8s-openapi in use (`FERROKUBE_REGENERATE_MERGE_TABLE=1` rewrites it).
//!
//! What the `DeepMerge` calls cannot say is added by `RETAIN_KEYS`; what they lose is listed
//! on [`extensions`].

use serde_json::{json, Map, Value};

#[rustfmt::skip]
#[path = "table.rs"]
mod table;

/// How one field merges, as k8s-openapi's `DeepMerge` impl merges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strategy {
    /// `list::atomic`: the list is replaced whole.
    ListAtomic,
    /// `list::set`: a set of scalars.
    ListSet,
    /// `list::map`: items are merged by these key fields.
    ListMap(&'static [&'static str]),
    /// `map::atomic`: the map is replaced whole.
    MapAtomic,
}

/// Fields whose strategic-merge-patch strategy also keeps only the keys of the patch's
/// union member (`retainKeys`), which `DeepMerge` has no notion of: the deployment
/// strategy and the pod volumes, the two v1 fields Kubernetes marks so.
const RETAIN_KEYS: &[(&str, &str)] = &[
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy"),
    ("io.k8s.api.core.v1.PodSpec", "volumes"),
];

/// Adds the merge extensions of every listed field to `definitions` (Swagger `definitions`,
/// keyed by upstream name).
///
/// A `list::map` on one key is what k8s-openapi generates both for upstream's
/// `patchStrategy=merge` + `patchMergeKey` and for `listType=map` with one key; both sets of
/// extensions are written, as most such fields in the v1 API carry both. A `list::set` gets
/// `x-kubernetes-list-type: set` only. Not recoverable: `listType=map` keys beyond the patch
/// merge key when both are present, and atomic struct types (`x-kubernetes-map-type: atomic`
/// on a definition such as `LabelSelector`).
pub(super) fn extensions(definitions: &mut Map<String, Value>) {
    for (definition, property, strategy) in table::TABLE {
        let Some(schema) = definitions
            .get_mut(*definition)
            .and_then(|schema| schema.pointer_mut(&format!("/properties/{property}")))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        match strategy {
            Strategy::ListAtomic => {
                schema.insert("x-kubernetes-list-type".to_owned(), json!("atomic"));
            }
            Strategy::ListSet => {
                schema.insert("x-kubernetes-list-type".to_owned(), json!("set"));
            }
            Strategy::ListMap(keys) => {
                schema.insert("x-kubernetes-list-map-keys".to_owned(), json!(keys));
                schema.insert("x-kubernetes-list-type".to_owned(), json!("map"));
                if let [key] = keys {
                    schema.insert("x-kubernetes-patch-merge-key".to_owned(), json!(key));
                    schema.insert("x-kubernetes-patch-strategy".to_owned(), json!("merge"));
                }
            }
            Strategy::MapAtomic => {
                schema.insert("x-kubernetes-map-type".to_owned(), json!("atomic"));
            }
        }
    }
    for (definition, property) in RETAIN_KEYS {
        let Some(schema) = definitions
            .get_mut(*definition)
            .and_then(|schema| schema.pointer_mut(&format!("/properties/{property}")))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let strategy = match schema
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
        {
            Some(existing) => format!("{existing},retainKeys"),
            None => "retainKeys".to_owned(),
        };
        schema.insert("x-kubernetes-patch-strategy".to_owned(), json!(strategy));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    use serde_json::{json, Map, Value};

    use super::{extensions, table, Strategy};

    /// The strategy of `property` of `definition`, if the table names one.
    fn strategy(definition: &str, property: &str) -> Option<Strategy> {
        table::TABLE
            .iter()
            .find(|(name, field, _)| *name == definition && *field == property)
            .map(|(_, _, strategy)| *strategy)
    }

    /// The k8s-openapi version whose sources the table was extracted from.
    const K8S_OPENAPI: &str = "k8s-openapi-0.29.0";

    #[test]
    fn table_knows_well_known_fields() {
        assert_eq!(
            strategy("io.k8s.api.core.v1.PodSpec", "containers"),
            Some(Strategy::ListMap(&["name"]))
        );
        assert_eq!(
            strategy("io.k8s.api.core.v1.Container", "ports"),
            Some(Strategy::ListMap(&["containerPort"]))
        );
        assert_eq!(
            strategy("io.k8s.api.core.v1.PodSpec", "tolerations"),
            Some(Strategy::ListAtomic)
        );
        assert_eq!(
            strategy(
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "finalizers"
            ),
            Some(Strategy::ListSet)
        );
        assert_eq!(
            strategy("io.k8s.api.core.v1.PodSpec", "nodeSelector"),
            Some(Strategy::MapAtomic)
        );
        // k8s-openapi's own override (a nested key); upstream's list is atomic.
        assert_eq!(
            strategy("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates"),
            Some(Strategy::ListAtomic)
        );
        // Maps merge granularly by default: not listed.
        assert_eq!(
            strategy("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels"),
            None
        );
    }

    #[test]
    fn extensions_follow_upstream_spelling() -> Result<(), String> {
        let mut definitions: Map<String, Value> = serde_json::from_value(json!({
            "io.k8s.api.core.v1.PodSpec": {"properties": {
                "volumes": {"type": "array"},
                "containers": {"type": "array"},
                "tolerations": {"type": "array"},
            }},
            "io.k8s.api.apps.v1.DeploymentSpec": {"properties": {"strategy": {"$ref": "x"}}},
        }))
        .map_err(|error| error.to_string())?;
        extensions(&mut definitions);
        let pod = definitions
            .get("io.k8s.api.core.v1.PodSpec")
            .ok_or("no PodSpec")?;
        assert_eq!(
            pod.pointer("/properties/volumes"),
            Some(&json!({
                "type": "array",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge,retainKeys",
            }))
        );
        assert_eq!(
            pod.pointer("/properties/tolerations/x-kubernetes-list-type"),
            Some(&json!("atomic"))
        );
        assert_eq!(
            definitions
                .get("io.k8s.api.apps.v1.DeploymentSpec")
                .and_then(|spec| spec.pointer("/properties/strategy/x-kubernetes-patch-strategy")),
            Some(&json!("retainKeys"))
        );
        Ok(())
    }

    /// The table must be what the k8s-openapi sources say. Skipped when the sources are not
    /// where cargo unpacks registry crates; `FERROKUBE_REGENERATE_MERGE_TABLE=1` rewrites it.
    #[test]
    fn table_matches_k8s_openapi_sources() -> Result<(), String> {
        let Some(sources) = k8s_openapi_sources() else {
            eprintln!("{K8S_OPENAPI} sources not found; merge table not checked");
            return Ok(());
        };
        let generated = render(&extract(&sources.join("src/v1_35"))?);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/openapi/table.rs");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if std::env::var_os("FERROKUBE_REGENERATE_MERGE_TABLE").is_some() {
                std::fs::write(&path, &generated).map_err(|error| error.to_string())?;
            } else {
                return Err(format!(
                    "{} is stale: rerun with FERROKUBE_REGENERATE_MERGE_TABLE=1",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    /// `$CARGO_HOME/registry/src/*/k8s-openapi-0.29.0`.
    fn k8s_openapi_sources() -> Option<PathBuf> {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
        std::fs::read_dir(cargo_home.join("registry/src"))
            .ok()?
            .flatten()
            .map(|index| index.path().join(K8S_OPENAPI))
            .find(|path| path.join("src/v1_35").is_dir())
    }

    /// One generated type: its upstream name, its fields' JSON names and Rust types, and
    /// the merge calls of its `DeepMerge` impl.
    #[derive(Default)]
    struct Type {
        schema_name: Option<String>,
        /// Rust field name → JSON name.
        json_names: HashMap<String, String>,
        /// Rust field name → the item type's path (`api::core::v1::Container`).
        item_types: HashMap<String, String>,
        /// (Rust field, call, Rust key fields).
        merges: Vec<(String, String, Vec<String>)>,
    }

    /// Every type under `root`, keyed by module path and name (`api::core::v1::Container`).
    fn parse_all(root: &Path) -> Result<HashMap<String, Type>, String> {
        let mut types = HashMap::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|error| error.to_string())? {
                let path = entry.map_err(|error| error.to_string())?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|error| error.to_string())?;
                let Some(name) = text
                    .lines()
                    .find_map(|line| line.strip_prefix("pub struct "))
                    .and_then(|rest| rest.split([' ', '<', '(', ';']).next())
                else {
                    continue;
                };
                let module = path
                    .parent()
                    .and_then(|parent| parent.strip_prefix(root).ok())
                    .map(|relative| relative.to_string_lossy().replace('/', "::"))
                    .unwrap_or_default();
                types.insert(format!("{module}::{name}"), parse(&text));
            }
        }
        Ok(types)
    }

    fn parse(text: &str) -> Type {
        let mut parsed = Type::default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let line = line.trim();
            if line.starts_with("fn schema_name()") {
                parsed.schema_name = lines
                    .next()
                    .and_then(|next| next.trim().strip_prefix('"'))
                    .and_then(|rest| rest.split('"').next())
                    .map(str::to_owned);
            } else if let Some((json, rest)) = line
                .strip_prefix('"')
                .and_then(|rest| rest.split_once("\" => Field::Key_"))
            {
                let rust = rest.trim_end_matches(',');
                parsed.json_names.insert(rust.to_owned(), json.to_owned());
            } else if let Some((field, ty)) = line
                .strip_prefix("pub ")
                .and_then(|rest| rest.split_once(": "))
            {
                if let Some(item) = ty
                    .split("std::vec::Vec<crate::")
                    .nth(1)
                    .and_then(|rest| rest.split('>').next())
                {
                    parsed.item_types.insert(field.to_owned(), item.to_owned());
                }
            } else if let Some(call) = line
                .strip_prefix("crate::merge_strategies::")
                .and_then(|rest| rest.split('(').next())
            {
                // The call's arguments, up to the item closure (for `list::map`, on the
                // following lines).
                let mut arguments = line
                    .split_once('(')
                    .map(|(_, a)| a)
                    .unwrap_or("")
                    .to_owned();
                if call == "list::map" {
                    for next in lines.by_ref() {
                        if next.contains("|current_item, other_item|") {
                            break;
                        }
                        arguments.push_str(next.trim());
                    }
                }
                let Some(field) = arguments
                    .strip_prefix("&mut self.")
                    .and_then(|rest| rest.split(',').next())
                else {
                    continue; // a nested call on a collection's items
                };
                let keys = arguments
                    .split("lhs.")
                    .skip(1)
                    .filter_map(|rest| rest.split(" == ").next())
                    .map(str::to_owned)
                    .collect();
                parsed
                    .merges
                    .push((field.to_owned(), call.to_owned(), keys));
            }
        }
        parsed
    }

    /// (definition, JSON property) → strategy, for every GA type; granular maps, the
    /// default, are left out.
    fn extract(root: &Path) -> Result<BTreeMap<(String, String), String>, String> {
        let types = parse_all(root)?;
        let mut table = BTreeMap::new();
        for ty in types.values() {
            let Some(schema_name) = &ty.schema_name else {
                continue;
            };
            let version = schema_name.rsplit('.').nth(1).unwrap_or_default();
            if version.contains("alpha") || version.contains("beta") {
                continue;
            }
            for (field, call, keys) in &ty.merges {
                let json = ty
                    .json_names
                    .get(field)
                    .ok_or_else(|| format!("{schema_name}: no JSON name for {field}"))?;
                let strategy = match call.as_str() {
                    "list::atomic" => "ListAtomic".to_owned(),
                    "list::set" => "ListSet".to_owned(),
                    "map::atomic" => "MapAtomic".to_owned(),
                    "map::granular" => continue,
                    // k8s-openapi keys `volumeClaimTemplates` by `metadata.name` where
                    // upstream declares the list atomic.
                    "list::map" if keys.iter().any(|key| key.contains('.')) => {
                        "ListAtomic".to_owned()
                    }
                    "list::map" => {
                        let item = ty
                            .item_types
                            .get(field)
                            .and_then(|path| types.get(path))
                            .ok_or_else(|| format!("{schema_name}.{json}: no item type"))?;
                        let keys = keys
                            .iter()
                            .map(|key| {
                                item.json_names
                                    .get(key)
                                    .map(|name| format!("{name:?}"))
                                    .ok_or_else(|| format!("{schema_name}.{json}: key {key}"))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        format!("ListMap(&[{}])", keys.join(", "))
                    }
                    other => return Err(format!("{schema_name}.{json}: unknown {other}")),
                };
                table.insert((schema_name.clone(), json.clone()), strategy);
            }
        }
        Ok(table)
    }

    fn render(table: &BTreeMap<(String, String), String>) -> String {
        let mut out = String::from(
            "//! Generated from k8s-openapi 0.29.0's v1_35 `DeepMerge` impls by\n\
             //! `strategies::tests::table_matches_k8s_openapi_sources`; do not edit.\n\
             //! (definition, property, strategy) for every GA field that is not a granular map.\n\n\
             use super::Strategy::{self, ListAtomic, ListMap, ListSet, MapAtomic};\n\n\
             /// Every field's merge strategy, sorted by definition and property.\n\
             pub(super) const TABLE: &[(&str, &str, Strategy)] = &[\n",
        );
        for ((definition, property), strategy) in table {
            let _ = writeln!(out, "    ({definition:?}, {property:?}, {strategy}),");
        }
        out.push_str("];\n");
        out
    }
}
