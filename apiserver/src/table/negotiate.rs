//! `Accept` negotiation for get, list and watch, as kube-apiserver does it: the first clause
//! (by quality, then specificity) naming a media type the resource is served in, whose
//! `as`/`g`/`v` parameters, if any, name a conversion the endpoint allows (`Table` in JSON
//! or YAML, `PartialObjectMetadata[List]` in any), wins; if none does, 406.

use crate::status::{ApiError, Reason};

/// JSON, the default.
pub const JSON: &str = "application/json";
/// YAML.
pub const YAML: &str = "application/yaml";
/// Protobuf (built-in kinds only, unless the response is converted).
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// Every media type a resource's responses may be negotiated to, in upstream's order.
const SERVED: [&str; 3] = [JSON, YAML, PROTOBUF];

/// The `meta.k8s.io` version a converted response is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaVersion {
    /// `meta.k8s.io/v1`.
    V1,
    /// `meta.k8s.io/v1beta1`.
    V1Beta1,
}

impl MetaVersion {
    /// The `apiVersion` of objects in this version.
    pub fn api_version(self) -> &'static str {
        match self {
            Self::V1 => "meta.k8s.io/v1",
            Self::V1Beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// What the response carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The object or list itself.
    Object,
    /// A `Table` of it.
    Table(MetaVersion),
    /// Its `PartialObjectMetadata`.
    PartialObjectMetadata(MetaVersion),
    /// Its `PartialObjectMetadataList`.
    PartialObjectMetadataList(MetaVersion),
}

/// The outcome of negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The media type to encode the response in.
    pub media_type: &'static str,
    /// What the response carries.
    pub target: Target,
}

/// One clause of an `Accept` header, as goautoneg parses it.
#[derive(Debug)]
struct Clause<'a> {
    kind: &'a str,
    subtype: &'a str,
    quality: f32,
    params: Vec<(&'a str, &'a str)>,
}

/// goautoneg's `ParseAccept`, including its (insertion) sort by quality and specificity.
fn clauses(header: &str) -> Vec<Clause<'_>> {
    let mut clauses = Vec::new();
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or_default();
        let mut halves = range.split('/');
        let kind = halves.next().unwrap_or_default().trim_matches(' ');
        let subtype = match (halves.next(), halves.next()) {
            (None, _) if kind == "*" => "*",
            (Some(subtype), None) => subtype.trim_matches(' '),
            _ => continue,
        };
        let mut clause = Clause {
            kind,
            subtype,
            quality: 1.0,
            params: Vec::new(),
        };
        for param in pieces {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim_matches(' ');
            if key == "q" {
                clause.quality = value.parse().unwrap_or(0.0);
            } else {
                clause.params.push((key, value.trim_matches(' ')));
            }
        }
        clauses.push(clause);
    }
    let less = |a: &Clause<'_>, b: &Clause<'_>| {
        a.quality > b.quality
            || (a.kind != "*" && b.kind == "*")
            || (a.subtype != "*" && b.subtype == "*")
    };
    for index in 1..clauses.len() {
        let mut at = index;
        while at > 0 && less(&clauses[at], &clauses[at - 1]) {
            clauses.swap(at, at - 1);
            at -= 1;
        }
    }
    clauses
}

/// Whether `media_type` has a watch (stream) encoding.
fn streams(media_type: &str) -> bool {
    media_type != YAML
}

/// `acceptMediaTypeOptions` with the endpoint's restrictions: the target a clause asks for
/// in `media_type`, or `None` when the clause cannot be honoured.
fn accept(params: &[(&str, &str)], media_type: &'static str, custom: bool) -> Option<Target> {
    let (mut kind, mut group, mut version) = (None, None, None);
    for (key, value) in params {
        match *key {
            "as" => kind = Some(*value),
            "g" => group = Some(*value),
            "v" => version = Some(*value),
            "stream" if !value.is_empty() && (!streams(media_type) || *value != "watch") => {
                return None
            }
            "sv" if !value.is_empty() && *value != "v1" => return None,
            _ => {}
        }
    }
    if kind.is_none() && group.is_none() && version.is_none() {
        // Custom resources have no protobuf form of their own.
        return (!custom || media_type != PROTOBUF).then_some(Target::Object);
    }
    if group != Some("meta.k8s.io") {
        return None;
    }
    let version = match version {
        Some("v1") => MetaVersion::V1,
        Some("v1beta1") => MetaVersion::V1Beta1,
        _ => return None,
    };
    match kind.unwrap_or_default() {
        "Table" if media_type == JSON || media_type == YAML => Some(Target::Table(version)),
        "PartialObjectMetadata" => Some(Target::PartialObjectMetadata(version)),
        "PartialObjectMetadataList" => Some(Target::PartialObjectMetadataList(version)),
        _ => None,
    }
}

fn not_acceptable(accepted: &[&str]) -> ApiError {
    ApiError::new(
        Reason::NotAcceptable,
        format!(
            "only the following media types are accepted: {}",
            accepted.join(", ")
        ),
    )
}

/// Negotiates a get or list response (`stream` false) or a watch (`stream` true) of a
/// built-in (`custom` false) or custom resource.
pub fn negotiate(accept_header: &str, custom: bool, stream: bool) -> Result<Negotiated, ApiError> {
    let negotiated = if accept_header.is_empty() {
        Some(Negotiated {
            media_type: JSON,
            target: Target::Object,
        })
    } else {
        clauses(accept_header).iter().find_map(|clause| {
            SERVED
                .iter()
                .filter(|served| {
                    let (kind, subtype) = served.split_once('/').unwrap_or_default();
                    (clause.kind == kind && (clause.subtype == subtype || clause.subtype == "*"))
                        || (clause.kind == "*" && clause.subtype == "*")
                })
                .find_map(|served| {
                    accept(&clause.params, served, custom).map(|target| Negotiated {
                        media_type: served,
                        target,
                    })
                })
        })
    };
    let negotiated = negotiated.ok_or_else(|| not_acceptable(&SERVED))?;
    if stream && !streams(negotiated.media_type) {
        return Err(not_acceptable(&[
            "application/json;stream=watch",
            "application/vnd.kubernetes.protobuf;stream=watch",
        ]));
    }
    Ok(negotiated)
}

#[cfg(test)]
mod tests {
    use super::{negotiate, MetaVersion, Negotiated, Target, JSON, PROTOBUF, YAML};

    const KUBECTL: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    fn target(accept: &str) -> Option<Target> {
        negotiate(accept, false, false).ok().map(|n| n.target)
    }

    #[test]
    fn kubectl_gets_a_v1_table() {
        assert_eq!(target(KUBECTL), Some(Target::Table(MetaVersion::V1)));
        assert_eq!(
            target("application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
            Some(Target::Table(MetaVersion::V1Beta1))
        );
    }

    #[test]
    fn unsupported_conversions_fall_through_or_406() {
        assert_eq!(
            target("application/json;as=Table;v=v2;g=meta.k8s.io,application/json"),
            Some(Target::Object)
        );
        let refused = negotiate("application/json;as=Table;v=v2;g=meta.k8s.io", false, false);
        let error = refused.err().map(|error| (error.reason, error.message));
        assert_eq!(
            error,
            Some((
                crate::status::Reason::NotAcceptable,
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf".to_owned()
            ))
        );
        assert_eq!(target("application/json;as=Table"), None);
        assert_eq!(target("text/html"), None);
        assert_eq!(
            target("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"),
            None
        );
    }

    #[test]
    fn wildcards_quality_and_metadata() {
        assert_eq!(
            negotiate("*/*", false, false).ok(),
            Some(Negotiated {
                media_type: JSON,
                target: Target::Object
            })
        );
        assert_eq!(
            negotiate(
                "application/yaml;q=0.5,application/vnd.kubernetes.protobuf",
                false,
                false
            )
            .ok()
            .map(|n| n.media_type),
            Some(PROTOBUF)
        );
        assert_eq!(
            negotiate(
                "application/vnd.kubernetes.protobuf,application/json",
                true,
                false
            )
            .ok()
            .map(|n| n.media_type),
            Some(JSON)
        );
        assert_eq!(
            target("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Some(Target::PartialObjectMetadataList(MetaVersion::V1))
        );
        assert!(negotiate(YAML, false, true).is_err());
        assert!(negotiate("", false, true).is_ok());
    }
}
