//! The table against the k8s-openapi sources the documents are generated from: every row
//! names a definition and field k8s-openapi has, and every list and map k8s-openapi's
//! generated `DeepMerge` impls merge specially (its generator reads the same upstream tags
//! from upstream's OpenAPI) has the matching row. A k8s-openapi bump that adds, drops or
//! changes such a field therefore fails here until the table is brought up to date from
//! upstream's `types.go`. Skipped when the sources are not where cargo unpacks registry
//! crates.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{fields, ListType, MapType, PatchMeta};

/// The k8s-openapi version the table was checked against.
const K8S_OPENAPI: &str = "k8s-openapi-0.29.0";

/// Fields where k8s-openapi and upstream's tags part ways on purpose.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
        "verbs",
        "k8s-openapi declares the untagged `Verbs` list atomic; upstream tags nothing",
    ),
    (
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec",
        "caBundle",
        "`+listType=atomic` on a `[]byte`, a byte string to k8s-openapi: no merge call",
    ),
];

/// How a `DeepMerge` impl merges one field, keys as JSON names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Merge {
    ListAtomic,
    ListSet,
    ListMap(Vec<String>),
    MapAtomic,
}

#[test]
fn table_matches_k8s_openapi_sources() -> Result<(), String> {
    let Some(sources) = k8s_openapi_sources() else {
        eprintln!("{K8S_OPENAPI} sources not found; patch metadata not cross-checked");
        return Ok(());
    };
    let types = parse_all(&sources.join("src/v1_35"))?;
    let (json_names, merges) = extract(&types)?;
    let known = |definition: &str, field: &str| {
        KNOWN_DIFFERENCES
            .iter()
            .any(|(name, property, _)| *name == definition && *property == field)
    };
    let mut problems = Vec::new();
    for (definition, field, meta) in fields() {
        match json_names.get(definition) {
            None => problems.push(format!("{definition}: not a k8s-openapi definition")),
            Some(names) if !names.iter().any(|name| name == field) => {
                problems.push(format!("{definition}.{field}: not a k8s-openapi field"));
            }
            Some(_) => {}
        }
        let specific = meta.list_type.is_some() || meta.map_type == Some(MapType::Atomic);
        let key = (definition.to_owned(), field.to_owned());
        if specific && !merges.contains_key(&key) && !known(definition, field) {
            problems.push(format!(
                "{definition}.{field}: {meta:?} but k8s-openapi merges it plainly"
            ));
        }
    }
    for ((definition, field), merge) in &merges {
        if known(definition, field) {
            continue;
        }
        let ours = super::patch_meta(definition, field);
        if !ours.is_some_and(|meta| agrees(meta, merge)) {
            problems.push(format!(
                "{definition}.{field}: k8s-openapi merges it as {merge:?}, the table says {ours:?}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Whether the row says what k8s-openapi's merge call encodes. Its generator makes a
/// list-map keyed by the patch merge key where there is one (whatever the list type),
/// else by the list-map keys.
fn agrees(meta: &PatchMeta, merge: &Merge) -> bool {
    match merge {
        Merge::ListAtomic => meta.list_type == Some(ListType::Atomic),
        Merge::ListSet => meta.list_type == Some(ListType::Set),
        Merge::MapAtomic => meta.map_type == Some(MapType::Atomic),
        Merge::ListMap(keys) => match meta.merge_key {
            Some(key) => keys == &[key],
            None => meta.list_type == Some(ListType::Map) && keys.as_slice() == meta.map_keys,
        },
    }
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

/// One generated type: its upstream name, its fields' JSON names and Rust types, and the
/// merge calls of its `DeepMerge` impl.
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

/// Definition → JSON field names; (definition, JSON field) → merge, for GA types (granular
/// maps, the default, left out).
type Extracted = (
    HashMap<String, Vec<String>>,
    BTreeMap<(String, String), Merge>,
);

fn extract(types: &HashMap<String, Type>) -> Result<Extracted, String> {
    let mut json_names = HashMap::new();
    let mut merges = BTreeMap::new();
    for ty in types.values() {
        let Some(schema_name) = &ty.schema_name else {
            continue;
        };
        json_names.insert(
            schema_name.clone(),
            ty.json_names.values().cloned().collect(),
        );
        let version = schema_name.rsplit('.').nth(1).unwrap_or_default();
        if version.contains("alpha") || version.contains("beta") {
            continue;
        }
        for (field, call, keys) in &ty.merges {
            let json = ty
                .json_names
                .get(field)
                .ok_or_else(|| format!("{schema_name}: no JSON name for {field}"))?;
            let merge = match call.as_str() {
                "list::atomic" => Merge::ListAtomic,
                "list::set" => Merge::ListSet,
                "map::atomic" => Merge::MapAtomic,
                "map::granular" => continue,
                // k8s-openapi keys `volumeClaimTemplates` by `metadata.name` where upstream
                // declares the list atomic.
                "list::map" if keys.iter().any(|key| key.contains('.')) => Merge::ListAtomic,
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
                                .cloned()
                                .ok_or_else(|| format!("{schema_name}.{json}: key {key}"))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Merge::ListMap(keys)
                }
                other => return Err(format!("{schema_name}.{json}: unknown {other}")),
            };
            merges.insert((schema_name.clone(), json.clone()), merge);
        }
    }
    Ok((json_names, merges))
}
