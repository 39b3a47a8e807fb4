//! Builds the message table from the parsed sources: the messages reachable from every GA
//! kind (and `DeleteOptions`), each under its OpenAPI definition name, each field with its
//! JSON name, table type and label; then renders it as Rust.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use super::json_names::Definitions;
use super::k8s_pb::{Cardinality, Kind, PbField, Sources};
use super::zero_kept::{NOT_OMITEMPTY, OMIT_ZERO, POINTERS};

/// Messages whose JSON form is not an object of their fields, by k8s-pb path, with the
/// table type that stands for them.
const SPECIAL: &[(&str, &str)] = &[
    ("apimachinery::pkg::apis::meta::v1::Time", "Time"),
    ("apimachinery::pkg::apis::meta::v1::MicroTime", "MicroTime"),
    ("apimachinery::pkg::apis::meta::v1::FieldsV1", "RawJson"),
    ("apimachinery::pkg::apis::meta::v1::Verbs", "StrList"),
    ("apimachinery::pkg::util::intstr::IntOrString", "IntOrStr"),
    ("apimachinery::pkg::api::resource::Quantity", "Quantity"),
    ("apimachinery::pkg::runtime::RawExtension", "RawJson"),
    (
        "apiextensions_apiserver::pkg::apis::apiextensions::v1::Json",
        "RawJson",
    ),
    (
        "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrArray",
        "SchemaOrArray",
    ),
    (
        "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrBool",
        "SchemaOrBool",
    ),
    (
        "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaPropsOrStringArray",
        "SchemaOrStrings",
    ),
    ("api::authentication::v1::ExtraValue", "StrList"),
    ("api::authorization::v1::ExtraValue", "StrList"),
    ("api::certificates::v1::ExtraValue", "StrList"),
];

/// Messages decoded without being the kind of a resource.
const EXTRA_ROOTS: &[&str] = &[
    "apimachinery::pkg::apis::meta::v1::DeleteOptions",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1::JsonSchemaProps",
];

/// Kinds of subresources, which k8s-pb gives no `Resource` impl: (API version, kind, path).
const SUBRESOURCE_KINDS: &[(&str, &str, &str)] = &[
    ("autoscaling/v1", "Scale", "api::autoscaling::v1::Scale"),
    ("policy/v1", "Eviction", "api::policy::v1::Eviction"),
    (
        "authentication.k8s.io/v1",
        "TokenRequest",
        "api::authentication::v1::TokenRequest",
    ),
];

/// The table: (definition, rendered fields) and (API version, kind, definition).
pub(super) struct Table {
    messages: BTreeMap<String, Vec<String>>,
    kinds: BTreeSet<(String, String, String)>,
}

/// The OpenAPI definition name of a k8s-pb path.
fn definition(definitions: &Definitions, path: &str) -> Result<String, String> {
    let (module, name) = path
        .rsplit_once("::")
        .ok_or_else(|| format!("bad path {path}"))?;
    let package = format!("io.k8s.{}", module.replace("::", ".").replace('_', "-"));
    definitions
        .find(&package, name)
        .map(str::to_owned)
        .ok_or_else(|| format!("{path}: no k8s-openapi definition in {package}"))
}

/// Whether an API version is GA (`v1`, `apps/v1`, `autoscaling/v2`).
fn is_ga(api_version: &str) -> bool {
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    !version.contains("alpha") && !version.contains("beta")
}

/// The table name of a message: its definition, or for a message only ever inlined
/// (`VolumeSource`, which has no definition of its own), its package and k8s-pb name.
fn table_name(definitions: &Definitions, path: &str, inlined: bool) -> Result<String, String> {
    match definition(definitions, path) {
        Ok(name) => Ok(name),
        Err(_) if inlined => {
            let (module, name) = path
                .rsplit_once("::")
                .ok_or_else(|| format!("bad path {path}"))?;
            Ok(format!(
                "io.k8s.{}.{name}",
                module.replace("::", ".").replace('_', "-")
            ))
        }
        Err(problem) => Err(problem),
    }
}

/// A message still to render: its path, and for an inlined one, the definition its JSON
/// names are properties of (the parent's), used when it has no definition of its own.
struct Pending {
    path: String,
    json_source: Option<String>,
}

/// What rendering a field needs besides the field.
struct Context<'a> {
    definitions: &'a Definitions,
    special: &'a BTreeMap<&'a str, &'a str>,
    kept: &'a HashSet<(&'a str, &'a str)>,
    omit_zero: &'a HashSet<(&'a str, &'a str)>,
}

/// A rendered field: `F(tag, "json", Type, Label)`, its JSON name, whether one of the
/// `zero_kept` lists named it, and whether it is inlined.
struct Rendered {
    line: String,
    json: String,
    keep: bool,
    inline: bool,
}

/// Builds the table, or every problem found.
pub(super) fn build(sources: &Sources, definitions: &Definitions) -> Result<Table, String> {
    let special: BTreeMap<&str, &str> = SPECIAL.iter().copied().collect();
    let mut problems = Vec::new();
    let mut kinds = BTreeSet::new();
    let mut pending: Vec<Pending> = EXTRA_ROOTS
        .iter()
        .map(|root| Pending {
            path: (*root).to_owned(),
            json_source: None,
        })
        .collect();
    let subresources = SUBRESOURCE_KINDS.iter().map(|(version, kind, path)| {
        (
            (*version).to_owned(),
            (*kind).to_owned(),
            (*path).to_owned(),
        )
    });
    for (api_version, kind, path) in sources.kinds.iter().cloned().chain(subresources) {
        if !is_ga(&api_version) || !sources.messages.contains_key(&path) {
            continue;
        }
        match definition(definitions, &path) {
            Ok(name) => {
                kinds.insert((api_version, kind, name));
                pending.push(Pending {
                    path,
                    json_source: None,
                });
            }
            Err(problem) => problems.push(problem),
        }
    }
    let pairs = |lists: &[&[(&'static str, &'static [&'static str])]]| -> HashSet<(&'static str, &'static str)> {
        lists
            .iter()
            .flat_map(|list| list.iter())
            .flat_map(|(definition, fields)| fields.iter().map(move |field| (*definition, *field)))
            .collect()
    };
    let kept = pairs(&[POINTERS, NOT_OMITEMPTY]);
    let omit_zero = pairs(&[OMIT_ZERO]);
    let context = Context {
        definitions,
        special: &special,
        kept: &kept,
        omit_zero: &omit_zero,
    };
    let mut used_kept = HashSet::new();
    let mut seen = HashSet::new();
    let mut messages = BTreeMap::new();
    while let Some(Pending { path, json_source }) = pending.pop() {
        if !seen.insert(path.clone()) || special.contains_key(path.as_str()) {
            continue;
        }
        let Some(fields) = sources.messages.get(&path) else {
            problems.push(format!("{path}: not in k8s-pb"));
            continue;
        };
        let name = match table_name(definitions, &path, json_source.is_some()) {
            Ok(name) => name,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let json_definition = match definition(definitions, &path) {
            Ok(own) => own,
            Err(_) => json_source.clone().unwrap_or_else(|| name.clone()),
        };
        let mut rendered = Vec::new();
        for field in fields {
            match render_field(&context, field, &name, &json_definition) {
                Ok(Rendered {
                    line,
                    json,
                    keep,
                    inline,
                }) => {
                    if keep {
                        used_kept.insert((name.clone(), json));
                    }
                    if let Kind::Message(target) = &field.kind {
                        pending.push(Pending {
                            path: target.clone(),
                            json_source: inline.then(|| json_definition.clone()),
                        });
                    }
                    rendered.push(line);
                }
                Err(problem) => problems.push(problem),
            }
        }
        messages.insert(name, rendered);
    }
    for (definition, field) in kept.iter().chain(&omit_zero) {
        if !used_kept.contains(&((*definition).to_owned(), (*field).to_owned())) {
            problems.push(format!(
                "zero_kept: {definition}.{field} is not a scalar field of the table"
            ));
        }
    }
    if problems.is_empty() {
        Ok(Table { messages, kinds })
    } else {
        problems.sort();
        problems.dedup();
        Err(problems.join("\n"))
    }
}

fn render_field(
    context: &Context<'_>,
    field: &PbField,
    name: &str,
    json_definition: &str,
) -> Result<Rendered, String> {
    let found = context.definitions.json_name(json_definition, &field.name);
    let (json, inline) = match (&found, &field.kind, &field.cardinality) {
        (Ok(json), _, _) => (json.clone(), false),
        // An embedded Go struct: a proto field of its own, inlined in JSON.
        (Err(_), Kind::Message(_), Cardinality::Single) => (String::new(), true),
        (Err(problem), _, _) => return Err(problem.clone()),
    };
    let ty = match &field.kind {
        Kind::Scalar(scalar) => match scalar.as_str() {
            "string" => "Str".to_owned(),
            "bool" => "Bool".to_owned(),
            "int32" => "I32".to_owned(),
            "int64" => "I64".to_owned(),
            "double" => "F64".to_owned(),
            "bytes" => "Bytes".to_owned(),
            other => return Err(format!("{name}.{json}: scalar {other}")),
        },
        Kind::Message(target) => match context.special.get(target.as_str()) {
            Some(special) if !inline => (*special).to_owned(),
            Some(_) => return Err(format!("{name}: inlined special {target}")),
            None => format!(
                "Msg({:?})",
                table_name(context.definitions, target, inline)?
            ),
        },
    };
    let scalar = matches!(field.kind, Kind::Scalar(_));
    let single = field.cardinality == Cardinality::Single;
    let keep = scalar && single && context.kept.contains(&(name, json.as_str()));
    let omit_zero = !scalar && single && context.omit_zero.contains(&(name, json.as_str()));
    let label = match field.cardinality {
        Cardinality::Repeated => "Rep",
        Cardinality::Map => "Map",
        Cardinality::Single if inline => "Inline",
        Cardinality::Single if keep => "Keep",
        Cardinality::Single if omit_zero => "OmitZero",
        Cardinality::Single => "Opt",
    };
    Ok(Rendered {
        line: format!("F({}, {json:?}, {ty}, {label})", field.tag),
        json,
        keep: keep || omit_zero,
        inline,
    })
}

impl Table {
    /// The table as the committed `messages.rs`.
    pub(super) fn render(&self) -> String {
        let mut out = String::from(
            "//! Generated from k8s-pb 0.9.0's prost sources (message layouts) and k8s-openapi\n\
             //! 0.29.0's v1_35 sources (definition and JSON names), with `generate/zero_kept.rs`,\n\
             //! by `generate::tests::table_matches_k8s_pb_sources`; do not edit.\n\
             //! Every message reachable from a GA kind or `DeleteOptions`.\n\n\
             use super::{Field as F, Label::*, Message as M, Type::*};\n\n\
             /// (API version, kind, definition) of every GA kind, sorted.\n\
             pub(super) const KINDS: &[(&str, &str, &str)] = &[\n",
        );
        for (api_version, kind, definition) in &self.kinds {
            let _ = writeln!(out, "    ({api_version:?}, {kind:?}, {definition:?}),");
        }
        out.push_str(
            "];\n\n/// Every message, sorted by definition name.\npub(super) const MESSAGES: &[M] = &[\n",
        );
        for (name, fields) in &self.messages {
            if fields.is_empty() {
                let _ = writeln!(out, "    M({name:?}, &[]),");
                continue;
            }
            let _ = writeln!(out, "    M({name:?}, &[");
            for field in fields {
                let _ = writeln!(out, "        {field},");
            }
            out.push_str("    ]),\n");
        }
        out.push_str("];\n");
        out
    }
}
