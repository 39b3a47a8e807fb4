//! The shape of the message table: what the wire decoder needs to know about each message
//! (its fields' tags, JSON names and types) and how to find a message by name or by kind.

#[rustfmt::skip]
#[path = "messages.rs"]
mod messages;

/// What a field holds, as far as its wire form and its JSON form go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Type {
    /// `string` (also Go's string-typed enums).
    Str,
    /// `bool`.
    Bool,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `double`.
    F64,
    /// `bytes`: base64 in JSON, as Go encodes `[]byte`.
    Bytes,
    /// Another message of the table, by definition name.
    Msg(&'static str),
    /// `metav1.Time`: whole seconds, RFC 3339 in JSON.
    Time,
    /// `metav1.MicroTime`: microseconds, RFC 3339 with six fractional digits in JSON.
    MicroTime,
    /// `intstr.IntOrString`: a JSON number or string.
    IntOrStr,
    /// `resource.Quantity`: its string.
    Quantity,
    /// `runtime.RawExtension`, apiextensions `JSON`, `metav1.FieldsV1`: JSON carried as bytes.
    RawJson,
    /// A wrapper of a string list (`ExtraValue`, `Verbs`): a JSON array.
    StrList,
    /// apiextensions `JSONSchemaPropsOrArray`: a schema or an array of schemas.
    SchemaOrArray,
    /// apiextensions `JSONSchemaPropsOrBool`: a schema or a boolean.
    SchemaOrBool,
    /// apiextensions `JSONSchemaPropsOrStringArray`: a schema or an array of strings.
    SchemaOrStrings,
}

/// How many values a field holds, and whether a zero scalar is written to JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Label {
    /// One value; a zero scalar is left out, as Go's `omitempty` leaves it out.
    Opt,
    /// One value that Go's JSON encoder writes even when zero: a pointer field
    /// (`*int32 replicas`), or one whose JSON tag lacks `omitempty`.
    Keep,
    /// One message-like value Go leaves out when zero (`omitzero`: `creationTimestamp`),
    /// where it would otherwise write `null`.
    OmitZero,
    /// A list.
    Rep,
    /// A map with string keys (entries with key 1 and value 2), a JSON object.
    Map,
    /// A message Go embeds with `json:",inline"` (`VolumeSource` in `Volume`): its fields
    /// are the parent's in JSON. The JSON name is empty.
    Inline,
}

/// One field: tag, JSON name, type and label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Field(pub u32, pub &'static str, pub Type, pub Label);

impl Field {
    /// The field's tag.
    pub(super) fn tag(&self) -> u32 {
        self.0
    }

    /// The field's JSON name.
    pub(super) fn json(&self) -> &'static str {
        self.1
    }

    /// What the field holds.
    pub(super) fn ty(&self) -> Type {
        self.2
    }

    /// How many values, and whether zero is kept.
    pub(super) fn label(&self) -> Label {
        self.3
    }
}

/// One message: its OpenAPI definition name and its fields, in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Message(pub &'static str, pub &'static [Field]);

impl Message {
    /// The definition name (`io.k8s.api.apps.v1.Deployment`).
    pub(super) fn name(&self) -> &'static str {
        self.0
    }

    /// The Go type name upstream's errors use (`Deployment`).
    pub(super) fn go_name(&self) -> &'static str {
        self.0.rsplit('.').next().unwrap_or(self.0)
    }

    /// Every field.
    pub(super) fn fields(&self) -> &'static [Field] {
        self.1
    }
}

/// The definition of `metav1.DeleteOptions`, which every group version accepts.
pub(super) const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";

/// The definition of apiextensions `JSONSchemaProps`, which the schema unions wrap.
pub(super) const JSON_SCHEMA_PROPS: &str =
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

/// The message of a definition name.
pub(super) fn message(name: &str) -> Option<&'static Message> {
    messages::MESSAGES
        .binary_search_by(|message| message.name().cmp(name))
        .ok()
        .and_then(|index| messages::MESSAGES.get(index))
}

/// The message of a kind in an API version (`apps/v1`, `Deployment`); `DeleteOptions` in
/// any version.
pub(super) fn message_of_kind(api_version: &str, kind: &str) -> Option<&'static Message> {
    if kind == "DeleteOptions" {
        return message(DELETE_OPTIONS);
    }
    messages::KINDS
        .binary_search_by(|(version, name, _)| (*version, *name).cmp(&(api_version, kind)))
        .ok()
        .and_then(|index| messages::KINDS.get(index))
        .and_then(|(_, _, definition)| message(definition))
}

/// Every message, sorted by name (for the table's own checks).
#[cfg(test)]
pub(super) fn all_messages() -> &'static [Message] {
    messages::MESSAGES
}

/// Every kind, sorted by API version and kind (for the table's own checks).
#[cfg(test)]
pub(super) fn all_kinds() -> &'static [(&'static str, &'static str, &'static str)] {
    messages::KINDS
}
