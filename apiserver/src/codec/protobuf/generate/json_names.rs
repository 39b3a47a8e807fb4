//! Reads every definition name and its JSON property names out of k8s-openapi's generated
//! sources (its `schema_name` and its deserializer's `"jsonName" => Field::Key_...` arms),
//! which recover the JSON names prost's snake-casing loses (`externalIPs` became
//! `external_i_ps`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Every definition's JSON names, and an index from (package, lowercased type name).
#[derive(Default)]
pub(super) struct Definitions {
    /// Definition name → its JSON property names.
    pub(super) properties: BTreeMap<String, Vec<String>>,
    /// (`io.k8s.api.core.v1`, `servicespec`) → `io.k8s.api.core.v1.ServiceSpec`.
    by_normalized: HashMap<(String, String), String>,
}

impl Definitions {
    /// The definition of a type of a package, matched case-insensitively (k8s-pb writes
    /// `AwsElasticBlockStoreVolumeSource` for `AWSElasticBlockStoreVolumeSource`).
    pub(super) fn find(&self, package: &str, name: &str) -> Option<&str> {
        self.by_normalized
            .get(&(package.to_owned(), name.to_ascii_lowercase()))
            .map(String::as_str)
    }

    /// The JSON name among `definition`'s properties that a prost field name stands for.
    pub(super) fn json_name(&self, definition: &str, prost_name: &str) -> Result<String, String> {
        let wanted = normalize(prost_name);
        let candidates: Vec<&String> = self
            .properties
            .get(definition)
            .map(|names| {
                names
                    .iter()
                    .filter(|name| normalize(name) == wanted)
                    .collect()
            })
            .unwrap_or_default();
        match candidates.as_slice() {
            [name] => Ok((*name).clone()),
            [] => Err(format!("{definition}: no JSON name for {prost_name}")),
            _ => Err(format!("{definition}: {prost_name} matches {candidates:?}")),
        }
    }
}

/// Lowercase letters and digits only: `external_i_ps` and `externalIPs` → `externalips`,
/// `x-kubernetes-list-type` → `xkuberneteslisttype`, `$ref` → `ref`.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses every type file under `root` (k8s-openapi's `src/v1_35`).
pub(super) fn parse(root: &Path) -> Result<Definitions, String> {
    let mut definitions = Definitions::default();
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
            let mut schema_name = None;
            let mut names = Vec::new();
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                let line = line.trim();
                if line.starts_with("fn schema_name()") {
                    schema_name = lines
                        .next()
                        .and_then(|next| next.trim().strip_prefix('"'))
                        .and_then(|rest| rest.split('"').next())
                        .map(str::to_owned);
                } else if let Some((json, _)) = line
                    .strip_prefix('"')
                    .and_then(|rest| rest.split_once("\" => Field::Key_"))
                {
                    names.push(json.to_owned());
                }
            }
            let Some(schema_name) = schema_name else {
                continue;
            };
            if let Some((package, name)) = schema_name.rsplit_once('.') {
                definitions.by_normalized.insert(
                    (package.to_owned(), name.to_ascii_lowercase()),
                    schema_name.clone(),
                );
            }
            definitions.properties.insert(schema_name, names);
        }
    }
    Ok(definitions)
}
