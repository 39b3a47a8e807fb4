//! Label selectors as upstream's `labels.Selector`: `matchLabels` and `matchExpressions`
//! (`In`, `NotIn`, `Exists`, `DoesNotExist`) all ANDed; an empty selector selects everything.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Why a selector cannot be used (upstream: `LabelSelectorAsSelector` fails).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectorError {
    /// An operator upstream does not know.
    #[error("{0:?} is not a valid label selector operator")]
    Operator(String),
    /// `In`/`NotIn` without values, or `Exists`/`DoesNotExist` with some.
    #[error("for '{operator}' operator, the values set {requirement}")]
    Values {
        /// The operator.
        operator: String,
        /// What was wrong.
        requirement: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Equals(key, value) => labels.get(key) == Some(value),
            Self::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Self::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Self::Exists(key) => labels.contains_key(key),
            Self::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

/// Whether an API selector, possibly absent, selects `labels`: an absent or invalid selector
/// selects nothing, as `metav1.LabelSelectorAsSelector` callers treat them.
pub fn selects(
    selector: Option<&LabelSelector>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    selector
        .and_then(|selector| Selector::parse(selector).ok())
        .is_some_and(|selector| selector.matches_opt(labels))
}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Parses an API label selector.
    pub fn parse(selector: &LabelSelector) -> Result<Self, SelectorError> {
        let mut requirements: Vec<Requirement> = selector
            .match_labels
            .iter()
            .flatten()
            .map(|(key, value)| Requirement::Equals(key.clone(), value.clone()))
            .collect();
        for expression in selector.match_expressions.iter().flatten() {
            let values = expression.values.clone().unwrap_or_default();
            let key = expression.key.clone();
            let requirement = match expression.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(SelectorError::Values {
                        operator: expression.operator.clone(),
                        requirement: "must be non-empty",
                    })
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(SelectorError::Values {
                        operator: expression.operator.clone(),
                        requirement: "must be empty",
                    })
                }
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                other => return Err(SelectorError::Operator(other.to_owned())),
            };
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// The equality selector of a ReplicationController (or a Service).
    pub fn from_map(labels: &BTreeMap<String, String>) -> Self {
        Self {
            requirements: labels
                .iter()
                .map(|(key, value)| Requirement::Equals(key.clone(), value.clone()))
                .collect(),
        }
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether `labels` (possibly absent) satisfy every requirement.
    pub fn matches_opt(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        match labels {
            Some(labels) => self.matches(labels),
            None => self.matches(&BTreeMap::new()),
        }
    }

    /// Whether the selector selects everything (no requirement at all).
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

    use super::{selects, Selector, SelectorError};

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn expression(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    #[test]
    fn labels_and_expressions_are_anded() -> Result<(), SelectorError> {
        let selector = Selector::parse(&LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                expression("tier", "In", &["front", "edge"]),
                expression("canary", "DoesNotExist", &[]),
                expression("env", "NotIn", &["test"]),
            ]),
        })?;
        assert!(selector.matches(&labels(&[("app", "web"), ("tier", "edge")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "back")])));
        assert!(!selector.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("canary", "1")
        ])));
        assert!(!selector.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("env", "test")
        ])));
        assert!(!selector.matches(&labels(&[("tier", "edge")])));
        Ok(())
    }

    #[test]
    fn empty_selects_everything_and_bad_operators_fail() {
        let everything = Selector::parse(&LabelSelector::default());
        assert!(everything
            .as_ref()
            .is_ok_and(|s| s.is_everything() && s.matches_opt(None)));
        let bad = Selector::parse(&LabelSelector {
            match_expressions: Some(vec![expression("a", "Near", &["b"])]),
            ..LabelSelector::default()
        });
        assert_eq!(bad, Err(SelectorError::Operator("Near".to_owned())));
        let empty_in = Selector::parse(&LabelSelector {
            match_expressions: Some(vec![expression("a", "In", &[])]),
            ..LabelSelector::default()
        });
        assert!(empty_in.is_err());
    }

    #[test]
    fn selects_by_labels_and_expressions_and_not_when_absent() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "a"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["x", "y"]},
                {"key": "skip", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap_or_default();
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(selects(
            Some(&selector),
            Some(&labels(&[("app", "a"), ("tier", "x")]))
        ));
        assert!(!selects(
            Some(&selector),
            Some(&labels(&[("app", "a"), ("tier", "z")]))
        ));
        assert!(!selects(
            Some(&selector),
            Some(&labels(&[("app", "a"), ("tier", "x"), ("skip", "1")]))
        ));
        assert!(!selects(None, Some(&labels(&[("app", "a")]))));
    }
}
