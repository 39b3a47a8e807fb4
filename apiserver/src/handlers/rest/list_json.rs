//! A JSON list written straight from the objects: no intermediate tree per item and no
//! copy of objects already in the version served, so a 10,000-pod list costs its bytes.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::conversion;
use crate::object::Object;
use crate::registry::ResourceInfo;

/// An item without `kind` and `apiVersion`, which upstream leaves to the list.
struct Item<'a>(&'a Map<String, Value>);

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.0 {
            if key != "kind" && key != "apiVersion" {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// The whole list (`kind`, `apiVersion`, `metadata`, `items`) as JSON.
pub(super) fn encode(
    resource: &ResourceInfo,
    metadata: &Map<String, Value>,
    items: &[Arc<Object>],
) -> Vec<u8> {
    let estimate = items
        .first()
        .map_or(0, |_| items.len().saturating_mul(4096));
    let mut out = Vec::with_capacity(estimate + 256);
    out.extend_from_slice(b"{\"kind\":");
    write(&mut out, &format!("{}List", resource.kind));
    out.extend_from_slice(b",\"apiVersion\":");
    write(&mut out, &resource.api_version());
    out.extend_from_slice(b",\"metadata\":");
    write(&mut out, metadata);
    out.extend_from_slice(b",\"items\":[");
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let served = conversion::to_served(resource, item);
        write(&mut out, &Item(&served.0));
    }
    out.extend_from_slice(b"]}");
    out
}

/// Appends `value`; JSON maps, strings and numbers always serialize.
fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if let Err(error) = serde_json::to_writer(&mut *out, value) {
        tracing::warn!(%error, "encoding a list item");
    }
}
