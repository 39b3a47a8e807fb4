//! Bodies built with k8s-pb's prost messages and wrapped as client-go wraps them, decoded
//! and compared with the JSON client-go would have sent; plus the table's own consistency.

mod crd;
mod errors;
mod objects;

use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message as _;
use serde_json::{Map, Value};

use super::schema::{self, Label, Type};
use super::{decode_protobuf, encode_protobuf, Expected};

/// `k8s\0` and a `runtime.Unknown` around `message`, as client-go's protobuf serializer
/// writes a typed object.
fn envelope(api_version: &str, kind: &str, message: &impl prost::Message) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.to_owned()),
            kind: Some(kind.to_owned()),
        }),
        raw: Some(message.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\x00".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

/// Decodes `body` for a resource of `api_version`/`kind`, then checks that encoding the
/// result and decoding it again gives it back.
fn decode(body: &[u8], api_version: &str, kind: &str) -> Result<Map<String, Value>, String> {
    let expected = Expected { api_version, kind };
    let decoded = decode_protobuf(body, &expected)
        .map_err(|error| error.to_string())?
        .object;
    let encoded = encode_protobuf(&decoded).map_err(|error| error.to_string())?;
    let again = decode_protobuf(&encoded, &expected)
        .map_err(|error| error.to_string())?
        .object;
    if again != decoded {
        return Err(format!(
            "round trip differs:\n{}\n{}",
            Value::Object(decoded),
            Value::Object(again)
        ));
    }
    Ok(decoded)
}

fn string(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[test]
fn table_is_consistent() {
    let messages = schema::all_messages();
    assert!(messages.len() > 400, "{} messages", messages.len());
    assert!(messages
        .windows(2)
        .all(|pair| pair[0].name() < pair[1].name()));
    let kinds = schema::all_kinds();
    assert!(kinds
        .windows(2)
        .all(|pair| (pair[0].0, pair[0].1) < (pair[1].0, pair[1].1)));
    for (_, _, definition) in kinds {
        assert!(schema::message(definition).is_some(), "{definition}");
    }
    for message in messages {
        for field in message.fields() {
            if let Type::Msg(target) = field.ty() {
                assert!(
                    schema::message(target).is_some(),
                    "{}: {target}",
                    message.name()
                );
            }
            assert_eq!(field.json().is_empty(), field.label() == Label::Inline);
        }
    }
    for (api_version, kind) in [
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "CronJob"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("autoscaling/v1", "Scale"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("apps/v1", "DeleteOptions"),
    ] {
        assert!(
            schema::message_of_kind(api_version, kind).is_some(),
            "{api_version} {kind}"
        );
    }
    assert!(schema::message_of_kind("apps/v1beta1", "Deployment").is_none());
}

#[test]
fn external_ips_keep_their_json_spelling() {
    let spec = schema::message("io.k8s.api.core.v1.ServiceSpec");
    let names: Vec<&str> = spec
        .map(|spec| spec.fields().iter().map(|field| field.json()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"externalIPs"), "{names:?}");
    assert!(names.contains(&"clusterIPs"), "{names:?}");
}
