//! Reads the message layouts out of k8s-pb's prost-generated sources: per struct, each
//! field's `#[prost(...)]` attribute (wire type, label, tag) and Rust type (the message it
//! refers to), and per `impl crate::Resource` the kind's API version and kind.

use std::collections::BTreeMap;
use std::path::Path;

/// What a field holds on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A scalar by its proto name (`string`, `bool`, `int32`, `int64`, `double`, `bytes`).
    Scalar(String),
    /// A message, by its k8s-pb path (`api::core::v1::PodSpec`).
    Message(String),
}

/// How many values a field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Cardinality {
    /// `optional`.
    Single,
    /// `repeated`.
    Repeated,
    /// `btree_map` with string keys.
    Map,
}

/// One field of a prost struct.
#[derive(Clone, Debug)]
pub(super) struct PbField {
    /// The prost (snake-cased) name, without `r#`.
    pub(super) name: String,
    pub(super) tag: u32,
    pub(super) kind: Kind,
    pub(super) cardinality: Cardinality,
}

/// Every message by path, and every resource kind: (API version, kind, path).
#[derive(Default)]
pub(super) struct Sources {
    pub(super) messages: BTreeMap<String, Vec<PbField>>,
    pub(super) kinds: Vec<(String, String, String)>,
}

/// Parses every `mod.rs` under `root` (k8s-pb's `src`).
pub(super) fn parse(root: &Path) -> Result<Sources, String> {
    let mut sources = Sources::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|error| error.to_string())? {
            let path = entry.map_err(|error| error.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.file_name().and_then(|name| name.to_str()) != Some("mod.rs") {
                continue;
            }
            let module = path
                .parent()
                .and_then(|parent| parent.strip_prefix(root).ok())
                .map(|relative| relative.to_string_lossy().replace('/', "::"))
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|error| error.to_string())?;
            parse_module(&module, &text, &mut sources)
                .map_err(|error| format!("{}: {error}", path.display()))?;
        }
    }
    Ok(sources)
}

fn parse_module(module: &str, text: &str, sources: &mut Sources) -> Result<(), String> {
    let mut lines = text.lines();
    let mut current: Option<(String, Vec<PbField>)> = None;
    let mut resource: Option<(String, Option<String>, Option<String>)> = None;
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("pub struct ")
            .and_then(|rest| rest.split([' ', '{']).next())
        {
            if line.trim_end().ends_with("{}") {
                sources
                    .messages
                    .insert(format!("{module}::{name}"), Vec::new());
            } else {
                current = Some((name.to_owned(), Vec::new()));
            }
        } else if line == "}" {
            if let Some((name, fields)) = current.take() {
                sources.messages.insert(format!("{module}::{name}"), fields);
            }
            if let Some((name, Some(api_version), Some(kind))) = resource.take() {
                sources
                    .kinds
                    .push((api_version, kind, format!("{module}::{name}")));
            }
        } else if let Some(name) = line
            .strip_prefix("impl crate::Resource for ")
            .and_then(|rest| rest.split(' ').next())
        {
            resource = Some((name.to_owned(), None, None));
        } else if let Some((_, version, kind)) = resource.as_mut() {
            if let Some(value) = constant(line, "API_VERSION") {
                *version = Some(value);
            } else if let Some(value) = constant(line, "KIND") {
                *kind = Some(value);
            }
        } else if let Some(attribute) = line
            .trim()
            .strip_prefix("#[prost(")
            .and_then(|rest| rest.strip_suffix(")]"))
        {
            let Some((_, fields)) = current.as_mut() else {
                continue;
            };
            let mut declaration = String::new();
            for next in lines.by_ref() {
                declaration.push_str(next.trim());
                let open = declaration.matches('<').count();
                if declaration.ends_with(',') && open == declaration.matches('>').count() {
                    break;
                }
            }
            fields.push(field(module, attribute, &declaration)?);
        }
    }
    Ok(())
}

/// The value of `const NAME: &'static str = "value";`.
fn constant(line: &str, name: &str) -> Option<String> {
    line.trim()
        .strip_prefix(&format!("const {name}: &'static str = \""))
        .and_then(|rest| rest.strip_suffix("\";"))
        .map(str::to_owned)
}

/// One field from its attribute (`message, optional, tag = "1"`) and declaration
/// (`pub metadata: ::core::option::Option<...::ObjectMeta>,`).
fn field(module: &str, attribute: &str, declaration: &str) -> Result<PbField, String> {
    let (name, rust_type) = declaration
        .strip_prefix("pub ")
        .and_then(|rest| rest.split_once(':'))
        .ok_or_else(|| format!("unreadable field {declaration:?}"))?;
    let name = name.trim().trim_start_matches("r#").to_owned();
    let rust_type = rust_type.trim().trim_end_matches(',').trim();
    let tag = attribute
        .split("tag = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|tag| tag.parse().ok())
        .ok_or_else(|| format!("{name}: no tag in {attribute:?}"))?;
    if let Some(map) = attribute
        .strip_prefix("btree_map = \"")
        .and_then(|rest| rest.split('"').next())
    {
        let (key, value) = map
            .split_once(", ")
            .ok_or_else(|| format!("{name}: map {map:?}"))?;
        if key != "string" {
            return Err(format!("{name}: map key {key}"));
        }
        let kind = if value == "message" {
            let value_type = rust_type
                .split_once(',')
                .map(|(_, value)| value)
                .ok_or_else(|| format!("{name}: map type {rust_type}"))?;
            Kind::Message(resolve(module, value_type))
        } else {
            Kind::Scalar(value.to_owned())
        };
        return Ok(PbField {
            name,
            tag,
            kind,
            cardinality: Cardinality::Map,
        });
    }
    let mut parts = attribute.split(", ");
    let proto_type = parts.next().unwrap_or_default();
    let proto_type = proto_type.split(' ').next().unwrap_or_default();
    let cardinality = if attribute.contains(", repeated") {
        Cardinality::Repeated
    } else {
        Cardinality::Single
    };
    let kind = match proto_type {
        "message" => Kind::Message(resolve(module, rust_type)),
        "string" | "bool" | "int32" | "int64" | "double" | "bytes" => {
            Kind::Scalar(proto_type.to_owned())
        }
        other => return Err(format!("{name}: unknown proto type {other}")),
    };
    Ok(PbField {
        name,
        tag,
        kind,
        cardinality,
    })
}

/// The k8s-pb path of the message a Rust type names, relative to `module`.
fn resolve(module: &str, rust_type: &str) -> String {
    let mut inner = rust_type.trim();
    for wrapper in [
        "::core::option::Option<",
        "::prost::alloc::vec::Vec<",
        "::prost::alloc::boxed::Box<",
    ] {
        if let Some(rest) = inner.strip_prefix(wrapper) {
            inner = rest.trim_end_matches('>');
        }
    }
    if let Some(rest) = inner.strip_prefix("::prost::alloc::boxed::Box<") {
        inner = rest.trim_end_matches('>');
    }
    let inner = inner.trim_end_matches([',', '>']);
    let mut components: Vec<&str> = module.split("::").filter(|c| !c.is_empty()).collect();
    let mut rest = inner;
    while let Some(after) = rest.strip_prefix("super::") {
        components.pop();
        rest = after;
    }
    if let Some(after) = rest.strip_prefix("crate::") {
        components.clear();
        rest = after;
    }
    components.extend(rest.split("::"));
    components.join("::")
}
