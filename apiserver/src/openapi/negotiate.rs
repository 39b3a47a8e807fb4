//! Which encoding of `/openapi/v2` a request's `Accept` header selects, as kube-openapi's
//! handler decides it with goautoneg: clauses by falling quality (more specific first at
//! equal quality), and for each the first offer it matches, JSON before protobuf.

use axum::http::{header, HeaderMap};

/// The media type kubectl up to 1.28 asks for (and kube-openapi still accepts).
const PROTOBUF_DEPRECATED: &str = "com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type kube-openapi names its protobuf answers with.
const PROTOBUF: &str = "com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// An encoding `/openapi/v2` is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum V2Encoding {
    /// `application/json`.
    Json,
    /// gnostic's `openapi.v2.Document`.
    Protobuf,
}

impl V2Encoding {
    /// The `Content-Type` kube-openapi answers with: the protobuf answer always carries the
    /// current name, whichever of the two was asked for.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Protobuf => "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
        }
    }
}

/// What kube-openapi offers, in its order.
const OFFERS: [(&str, V2Encoding); 3] = [
    ("json", V2Encoding::Json),
    (PROTOBUF_DEPRECATED, V2Encoding::Protobuf),
    (PROTOBUF, V2Encoding::Protobuf),
];

/// One `type/subtype;q=` clause.
struct Clause {
    kind: String,
    subtype: String,
    quality: f32,
}

/// The encoding to serve, or `None` for 406. A missing or empty header accepts anything;
/// clauses of quality zero accept nothing.
pub(super) fn negotiate_v2(headers: &HeaderMap) -> Option<V2Encoding> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|accept| !accept.is_empty())
        .unwrap_or("*/*");
    let mut clauses: Vec<Clause> = accept.split(',').filter_map(clause).collect();
    clauses.sort_by(|a, b| {
        b.quality
            .total_cmp(&a.quality)
            .then((a.kind == "*").cmp(&(b.kind == "*")))
            .then((a.subtype == "*").cmp(&(b.subtype == "*")))
    });
    clauses.iter().find_map(|clause| {
        OFFERS.iter().find_map(|(subtype, encoding)| {
            let kind_matches = clause.kind == "application" || clause.kind == "*";
            let subtype_matches = clause.subtype == *subtype || clause.subtype == "*";
            (kind_matches && subtype_matches).then_some(*encoding)
        })
    })
}

fn clause(text: &str) -> Option<Clause> {
    let mut parts = text.split(';');
    let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let quality = parts
        .filter_map(|parameter| parameter.trim().strip_prefix("q="))
        .filter_map(|value| value.trim().parse::<f32>().ok())
        .next()
        .unwrap_or(1.0);
    if quality <= 0.0 || range.is_empty() {
        return None;
    }
    let (kind, subtype) = match range.split_once('/') {
        Some((kind, subtype)) => (kind.trim().to_owned(), subtype.trim().to_owned()),
        None if range == "*" => ("*".to_owned(), "*".to_owned()),
        None => return None,
    };
    Some(Clause {
        kind,
        subtype,
        quality,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    use super::{negotiate_v2, V2Encoding};

    fn with(accept: &'static str) -> Option<V2Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        negotiate_v2(&headers)
    }

    #[test]
    fn json_unless_protobuf_is_preferred() {
        assert_eq!(negotiate_v2(&HeaderMap::new()), Some(V2Encoding::Json));
        assert_eq!(with("*/*"), Some(V2Encoding::Json));
        assert_eq!(with("application/*"), Some(V2Encoding::Json));
        assert_eq!(with("application/json"), Some(V2Encoding::Json));
        assert_eq!(
            with("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
            Some(V2Encoding::Protobuf)
        );
        assert_eq!(
            with("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
            Some(V2Encoding::Protobuf)
        );
        assert_eq!(
            with(concat!(
                "application/json;q=0.5, ",
                "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
            )),
            Some(V2Encoding::Protobuf)
        );
        assert_eq!(
            with("*/*, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
            Some(V2Encoding::Protobuf)
        );
        assert_eq!(
            with("application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json"),
            Some(V2Encoding::Protobuf)
        );
    }

    #[test]
    fn anything_else_is_not_acceptable() {
        assert_eq!(with("text/plain"), None);
        assert_eq!(with("application/json;q=0, text/plain"), None);
        assert_eq!(
            with("application/com.github.proto-openapi.spec.v3@v1.0+protobuf"),
            None
        );
        assert_eq!(with("application/vnd.kubernetes.protobuf"), None);
    }
}
