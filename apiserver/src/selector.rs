//! Label and field selectors in upstream's string syntax (`app=web,tier!=db,env in (a,b),
//! !legacy`), parsed once per request and matched against each object.

use crate::status::{ApiError, Reason};

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value` (also true when the key is absent).
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)` (also true when the key is absent).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

/// A parsed label selector: all requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

fn bad(message: String) -> ApiError {
    ApiError::new(Reason::BadRequest, message)
}

impl LabelSelector {
    /// Parses `labelSelector`; an empty string selects everything.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for term in split_terms(text) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            requirements.push(parse_term(term).ok_or_else(|| {
                bad(format!(
                    "unable to parse requirement: found '{term}', expected a valid label selector"
                ))
            })?);
        }
        Ok(Self(requirements))
    }

    /// Whether an object with these labels is selected.
    pub fn matches<'a>(&self, labels: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> bool {
        let value_of = |key: &str| labels.clone().find(|(k, _)| *k == key).map(|(_, v)| v);
        self.0.iter().all(|requirement| match requirement {
            Requirement::Equals(key, value) => value_of(key) == Some(value.as_str()),
            Requirement::NotEquals(key, value) => value_of(key) != Some(value.as_str()),
            Requirement::In(key, values) => {
                value_of(key).is_some_and(|v| values.iter().any(|candidate| candidate == v))
            }
            Requirement::NotIn(key, values) => {
                !value_of(key).is_some_and(|v| values.iter().any(|candidate| candidate == v))
            }
            Requirement::Exists(key) => value_of(key).is_some(),
            Requirement::DoesNotExist(key) => value_of(key).is_none(),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && crate::validation::qualified_name(key).is_empty()
}

fn parse_set(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|value| value.trim().to_owned())
            .collect(),
    )
}

fn parse_term(term: &str) -> Option<Requirement> {
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        return valid_key(key).then(|| Requirement::DoesNotExist(key.to_owned()));
    }
    for (operator, build) in [
        (
            "==",
            Requirement::Equals as fn(String, String) -> Requirement,
        ),
        ("!=", Requirement::NotEquals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = term.split_once(operator) {
            let (key, value) = (key.trim(), value.trim());
            if !valid_key(key) || !crate::validation::label_value(value).is_empty() {
                return None;
            }
            return Some(build(key.to_owned(), value.to_owned()));
        }
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = words.next()?.trim();
    let rest = words.next().map(str::trim).unwrap_or_default();
    if rest.is_empty() {
        return valid_key(key).then(|| Requirement::Exists(key.to_owned()));
    }
    if !valid_key(key) {
        return None;
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return parse_set(set).map(|values| Requirement::NotIn(key.to_owned(), values));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return parse_set(set).map(|values| Requirement::In(key.to_owned(), values));
    }
    None
}

/// A parsed field selector: `field=value` / `field!=value` terms, all of which must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `fieldSelector`, accepting only the fields `supported` names.
    pub fn parse(text: &str, supported: impl Fn(&str) -> bool) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for term in text
            .split(',')
            .map(str::trim)
            .filter(|term| !term.is_empty())
        {
            let (field, equal, value) = if let Some((field, value)) = term.split_once("!=") {
                (field, false, value)
            } else if let Some((field, value)) = term.split_once("==") {
                (field, true, value)
            } else if let Some((field, value)) = term.split_once('=') {
                (field, true, value)
            } else {
                return Err(bad(format!(
                    "invalid selector: '{text}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            if !supported(field) {
                return Err(bad(format!("field label not supported: {field}")));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self(terms))
    }

    /// Whether an object is selected; `value_of` reads a field (absent reads as "").
    pub fn matches(&self, value_of: impl Fn(&str) -> String) -> bool {
        self.0
            .iter()
            .all(|(field, equal, value)| (value_of(field) == *value) == *equal)
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldSelector, LabelSelector, Requirement};

    fn labels<'a>(
        pairs: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
        pairs.iter().copied()
    }

    #[test]
    fn parses_every_operator() -> Result<(), super::ApiError> {
        let selector = LabelSelector::parse(
            "app=web, tier!=db,env in (a, b),zone notin (x),ready,!legacy,k==v",
        )?;
        assert_eq!(selector.0.len(), 7);
        assert_eq!(
            selector.0[2],
            Requirement::In("env".into(), vec!["a".into(), "b".into()])
        );
        assert!(LabelSelector::parse("app=")?.0.len() == 1);
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("=x").is_err());
        Ok(())
    }

    #[test]
    fn matches_like_upstream() -> Result<(), super::ApiError> {
        let object = [("app", "web"), ("env", "a"), ("ready", "")];
        assert!(
            LabelSelector::parse("app=web,env in (a,b),ready,!legacy,tier!=db")?
                .matches(labels(&object))
        );
        assert!(!LabelSelector::parse("app=db")?.matches(labels(&object)));
        assert!(LabelSelector::parse("zone notin (x)")?.matches(labels(&object)));
        assert!(!LabelSelector::parse("zone in (x)")?.matches(labels(&object)));
        assert!(LabelSelector::parse("")?.matches(labels(&object)));
        Ok(())
    }

    #[test]
    fn field_selectors() -> Result<(), super::ApiError> {
        let selector = FieldSelector::parse("metadata.name=a,metadata.namespace!=b", |f| {
            f.starts_with("metadata.")
        })?;
        assert!(selector.matches(|field| if field == "metadata.name" {
            "a".into()
        } else {
            "c".into()
        }));
        assert!(FieldSelector::parse("spec.x=1", |f| f.starts_with("metadata.")).is_err());
        Ok(())
    }
}
