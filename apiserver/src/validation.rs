//! Field validation with upstream's messages, and the 422 Invalid error that carries them as
//! `details.causes` so kubectl prints the same lines it would for kube-apiserver.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

use crate::status::{ApiError, Reason};

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const LABEL_VALUE_MAX: usize = 63;
const QUALIFIED_NAME_MAX: usize = 63;

const DNS1123_LABEL_HELP: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_HELP: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_HELP: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_HELP: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// One field error, as upstream's `field.Error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, ...
    pub reason: &'static str,
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The message without the field path.
    pub message: String,
}

impl FieldError {
    fn with_detail(
        reason: &'static str,
        field: impl Into<String>,
        head: String,
        why: &str,
    ) -> Self {
        let message = if why.is_empty() {
            head
        } else {
            format!("{head}: {why}")
        };
        Self {
            reason,
            field: field.into(),
            message,
        }
    }

    /// `Invalid value: "x": why` for a string value.
    pub fn invalid(field: impl Into<String>, value: &str, why: &str) -> Self {
        Self::invalid_raw(field, &go_quote(value), why)
    }

    /// `Invalid value: <value>: why` for a value already rendered as upstream prints it
    /// (numbers bare, maps and structs in Go syntax).
    pub fn invalid_raw(field: impl Into<String>, rendered: &str, why: &str) -> Self {
        Self::with_detail(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {rendered}"),
            why,
        )
    }

    /// `Forbidden: why`.
    pub fn forbidden(field: impl Into<String>, why: &str) -> Self {
        Self::with_detail("FieldValueForbidden", field, "Forbidden".to_owned(), why)
    }

    /// `Unsupported value: "x": supported values: ...`.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        Self::not_supported_raw(field, &go_quote(value), supported)
    }

    /// `Unsupported value: <value>: supported values: ...` for a value already rendered.
    pub fn not_supported_raw(field: impl Into<String>, rendered: &str, supported: &[&str]) -> Self {
        let supported: Vec<String> = supported.iter().map(|value| go_quote(value)).collect();
        let why = if supported.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", supported.join(", "))
        };
        Self::with_detail(
            "FieldValueNotSupported",
            field,
            format!("Unsupported value: {rendered}"),
            &why,
        )
    }

    /// `Required value: why`.
    pub fn required(field: impl Into<String>, why: &str) -> Self {
        Self::with_detail(
            "FieldValueRequired",
            field,
            "Required value".to_owned(),
            why,
        )
    }

    /// `Duplicate value: <value>` for a value already rendered.
    pub fn duplicate(field: impl Into<String>, rendered: &str) -> Self {
        Self::with_detail(
            "FieldValueDuplicate",
            field,
            format!("Duplicate value: {rendered}"),
            "",
        )
    }

    /// `Not found: <value>` for a value already rendered.
    pub fn not_found(field: impl Into<String>, rendered: &str) -> Self {
        Self::with_detail(
            "FieldValueNotFound",
            field,
            format!("Not found: {rendered}"),
            "",
        )
    }

    /// `Too long: must have at most N bytes` (the value is never shown).
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::with_detail(
            "FieldValueTooLong",
            field,
            "Too long".to_owned(),
            &format!("must have at most {max} bytes"),
        )
    }

    /// `Too many: N: must have at most M items`.
    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Self {
        Self::with_detail(
            "FieldValueTooMany",
            field,
            format!("Too many: {actual}"),
            &format!("must have at most {max} items"),
        )
    }
}

/// A string as Go's `%q` prints it, which is how upstream shows string values in messages.
pub fn go_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for ch in value.chars() {
        match ch {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\u{b}' => quoted.push_str("\\v"),
            ch if (ch as u32) < 0x20 || ch as u32 == 0x7f => {
                quoted.push_str(&format!("\\x{:02x}", ch as u32));
            }
            ch if ch.is_control() => {
                let code = ch as u32;
                if code <= 0xffff {
                    quoted.push_str(&format!("\\u{code:04x}"));
                } else {
                    quoted.push_str(&format!("\\U{code:08x}"));
                }
            }
            ch => quoted.push(ch),
        }
    }
    quoted.push('"');
    quoted
}

/// The 422 for an object that failed validation: `Kind.group "name" is invalid: [errors]`,
/// with every error as a cause (kubectl prints the causes, one a line).
pub fn invalid(kind: &str, group: &str, name: &str, errors: Vec<FieldError>) -> ApiError {
    let mut seen = std::collections::BTreeSet::new();
    let rendered: Vec<String> = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .filter(|line| seen.insert(line.clone()))
        .collect();
    let summary = match rendered.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let qualified = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    ApiError {
        reason: Reason::Invalid,
        message: format!("{qualified} {} is invalid: {summary}", go_quote(name)),
        details: Some(Box::new(StatusDetails {
            name: Some(name.to_owned()),
            group: Some(group.to_owned()).filter(|group| !group.is_empty()),
            kind: Some(kind.to_owned()),
            causes: Some(
                errors
                    .into_iter()
                    .map(|error| StatusCause {
                        reason: Some(error.reason.to_owned()),
                        message: Some(error.message),
                        field: Some(error.field),
                    })
                    .collect(),
            ),
            ..StatusDetails::default()
        })),
    }
}

/// Upstream's cause reasons, for turning a 422's causes back into field errors.
const REASONS: &[&str] = &[
    "FieldValueInvalid",
    "FieldValueRequired",
    "FieldValueDuplicate",
    "FieldValueNotSupported",
    "FieldValueForbidden",
    "FieldValueTooLong",
    "FieldValueTooMany",
    "FieldValueNotFound",
    "FieldValueTypeInvalid",
    "InternalError",
];

/// The 422 for `first` (metadata problems) followed by the causes of `later`, when that is
/// a 422 too (the kind's own problems): one error listing both, as upstream reports them.
pub fn invalid_with(
    kind: &str,
    group: &str,
    name: &str,
    first: Vec<FieldError>,
    later: Option<ApiError>,
) -> ApiError {
    let mut errors = first;
    let causes = later
        .filter(|error| error.reason == Reason::Invalid)
        .and_then(|error| error.details)
        .and_then(|details| details.causes)
        .unwrap_or_default();
    for cause in causes {
        let reason = cause.reason.unwrap_or_default();
        errors.push(FieldError {
            reason: REASONS
                .iter()
                .find(|known| **known == reason)
                .copied()
                .unwrap_or("FieldValueInvalid"),
            field: cause.field.unwrap_or_default(),
            message: cause.message.unwrap_or_default(),
        });
    }
    invalid(kind, group, name, errors)
}

fn is_alnum_lower(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

/// RFC 1123 label: the rule for namespace, service and similar names.
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        problems.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !is_label_shape(value.as_bytes()) {
        problems.push(DNS1123_LABEL_HELP.to_owned());
    }
    problems
}

fn is_label_shape(bytes: &[u8]) -> bool {
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            is_alnum_lower(*first)
                && is_alnum_lower(*last)
                && bytes.iter().all(|b| is_alnum_lower(*b) || *b == b'-')
        }
        _ => false,
    }
}

/// RFC 1123 subdomain: the rule for most object names.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        problems.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    if value.is_empty() || !value.split('.').all(|part| is_label_shape(part.as_bytes())) {
        problems.push(DNS1123_SUBDOMAIN_HELP.to_owned());
    }
    problems
}

fn is_qualified_name_part(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// A label or annotation key: `[prefix/]name`.
pub fn qualified_name(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (prefix, name) = match value.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, value),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            problems.push("prefix part must be non-empty".to_owned());
        } else {
            problems.extend(
                dns1123_subdomain(prefix)
                    .into_iter()
                    .map(|problem| format!("prefix part {problem}")),
            );
        }
    }
    if name.is_empty() {
        problems.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > QUALIFIED_NAME_MAX {
            problems.push(format!(
                "name part must be no more than {QUALIFIED_NAME_MAX} characters"
            ));
        }
        if !is_qualified_name_part(name) {
            problems.push(QUALIFIED_NAME_HELP.to_owned());
        }
    }
    problems
}

/// A label value.
pub fn label_value(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        problems.push(format!("must be no more than {LABEL_VALUE_MAX} characters"));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        problems.push(LABEL_VALUE_HELP.to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::{
        dns1123_label, dns1123_subdomain, invalid, label_value, qualified_name, FieldError,
    };

    #[test]
    fn names() {
        assert!(dns1123_subdomain("web-0.example").is_empty());
        assert!(!dns1123_subdomain("Web").is_empty());
        assert!(!dns1123_subdomain("a..b").is_empty());
        assert!(!dns1123_subdomain(&"a".repeat(254)).is_empty());
        assert!(dns1123_label("kube-system").is_empty());
        assert!(!dns1123_label("a.b").is_empty());
        assert!(!dns1123_label("-a").is_empty());
    }

    #[test]
    fn labels() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert!(qualified_name("Name_1").is_empty());
        assert!(!qualified_name("/x").is_empty());
        assert!(!qualified_name("bad key").is_empty());
        assert!(label_value("").is_empty());
        assert!(!label_value("-x").is_empty());
    }

    #[test]
    fn invalid_lists_causes() {
        let error = invalid(
            "ConfigMap",
            "",
            "Bad",
            vec![FieldError::invalid("metadata.name", "Bad", "oops")],
        );
        assert_eq!(
            error.message,
            "ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": oops"
        );
        let causes = error
            .details
            .and_then(|details| details.causes.clone())
            .unwrap_or_default();
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field.as_deref(), Some("metadata.name"));
    }
}
