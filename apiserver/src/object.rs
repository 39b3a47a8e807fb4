//! Objects as the server handles them: JSON maps in the client's field order, with typed
//! accessors for the `metadata` fields the generic handlers read and write.

use serde_json::{Map, Value};

use crate::status::{ApiError, Reason};
use crate::storage::Revision;

/// One API object.
#[derive(Clone, Debug, PartialEq)]
pub struct Object(pub Map<String, Value>);

impl Object {
    /// Decodes a request body or stored value; anything but a JSON object is a bad request.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::new(
                Reason::BadRequest,
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
            )),
            Err(error) => Err(ApiError::new(
                Reason::BadRequest,
                format!("couldn't get version/kind; json parse error: {error}"),
            )),
        }
    }

    /// The encoded form, for storage and responses.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// A top-level string field such as `apiVersion` or `kind`.
    pub fn str_field(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    /// Sets a top-level field.
    pub fn set(&mut self, field: &str, value: Value) {
        self.0.insert(field.to_owned(), value);
    }

    /// `metadata`, if present and an object.
    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.0.get("metadata").and_then(Value::as_object)
    }

    /// `metadata`, created empty when missing (or not an object).
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let slot = self
            .0
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(map) => map,
            _ => unreachable!("metadata was just made an object"),
        }
    }

    /// A string field of `metadata`; empty strings count as absent, as in Go.
    pub fn meta_str(&self, field: &str) -> Option<&str> {
        self.metadata()
            .and_then(|meta| meta.get(field))
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Sets a string field of `metadata`.
    pub fn set_meta_str(&mut self, field: &str, value: &str) {
        self.metadata_mut()
            .insert(field.to_owned(), Value::String(value.to_owned()));
    }

    /// Removes a field of `metadata`.
    pub fn remove_meta(&mut self, field: &str) -> Option<Value> {
        self.metadata_mut().remove(field)
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.meta_str("name")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.meta_str("namespace")
    }

    /// `metadata.resourceVersion` as a revision. A value that is not a number is a bad
    /// request, as upstream answers.
    pub fn resource_version(&self) -> Result<Option<Revision>, ApiError> {
        match self.meta_str("resourceVersion") {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::new(
                    Reason::BadRequest,
                    format!("invalid resource version: {text:?}"),
                )
            }),
        }
    }

    /// Sets `metadata.resourceVersion` from the store revision.
    pub fn set_resource_version(&mut self, revision: Revision) {
        self.set_meta_str("resourceVersion", &revision.to_string());
    }

    /// `metadata.labels` as pairs.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.metadata()
            .and_then(|meta| meta.get("labels"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|labels| {
                labels
                    .iter()
                    .filter_map(|(key, value)| value.as_str().map(|value| (key.as_str(), value)))
            })
    }

    /// `metadata.finalizers`.
    pub fn finalizers(&self) -> Vec<&str> {
        self.metadata()
            .and_then(|meta| meta.get("finalizers"))
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// Decodes a stored value and stamps it with the revision it was read at.
pub fn from_storage(value: &[u8], revision: Revision) -> Result<Object, ApiError> {
    let mut object = Object::from_json(value).map_err(|error| {
        ApiError::new(
            Reason::InternalError,
            format!("stored object is corrupt: {}", error.message),
        )
    })?;
    object.set_resource_version(revision);
    Ok(object)
}

/// Now, as `metav1.Time` serializes it (RFC 3339, whole seconds, UTC).
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    let seconds = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::{now_rfc3339, Object};

    #[test]
    fn metadata_accessors() -> Result<(), Box<dyn std::error::Error>> {
        let mut object = Object::from_json(
            br#"{"kind":"Pod","metadata":{"name":"a","namespace":"","labels":{"app":"x"},"resourceVersion":"12"}}"#,
        )?;
        assert_eq!(object.name(), Some("a"));
        assert_eq!(object.namespace(), None);
        assert_eq!(object.resource_version()?, Some(12));
        assert_eq!(object.labels().collect::<Vec<_>>(), [("app", "x")]);
        object.set_resource_version(13);
        assert_eq!(object.resource_version()?, Some(13));
        Ok(())
    }

    #[test]
    fn non_objects_are_bad_requests() {
        assert!(Object::from_json(b"[1]").is_err());
        assert!(Object::from_json(b"{").is_err());
        assert!(
            Object::from_json(br#"{"metadata":{"resourceVersion":"x"}}"#)
                .ok()
                .is_some_and(|object| object.resource_version().is_err())
        );
    }

    #[test]
    fn timestamps_are_whole_seconds() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z'));
    }
}
