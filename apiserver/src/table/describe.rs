//! Column descriptions from the API's own documentation: upstream's printers describe most
//! columns with the field's `SwaggerDoc()`, the same text k8s-openapi's schemas carry.

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

/// The description of `property` in `T`'s schema; empty when `T` has no such property (as
/// Go's map lookup of a missing `SwaggerDoc()` key yields).
pub fn field<T: JsonSchema>(property: &str) -> String {
    let mut generator = SchemaGenerator::default();
    let schema = T::json_schema(&mut generator);
    schema
        .get("properties")
        .and_then(|properties| properties.get(property))
        .and_then(|field| field.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::field;

    #[test]
    fn descriptions_come_from_the_schema() {
        assert!(field::<ObjectMeta>("name").starts_with("Name must be unique within a namespace"));
        assert!(field::<PodStatus>("podIP").contains("IP address"));
        assert_eq!(field::<ObjectMeta>("handler"), "");
    }
}
