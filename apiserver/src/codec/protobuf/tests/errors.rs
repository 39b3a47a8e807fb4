//! Malformed bodies get upstream's 400 wording.

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;

use super::{envelope, string, Expected};

const DEPLOYMENT: Expected<'static> = Expected {
    api_version: "apps/v1",
    kind: "Deployment",
};

fn error(body: &[u8]) -> String {
    super::decode_protobuf(body, &DEPLOYMENT)
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default()
}

fn deployment() -> apps::Deployment {
    apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: string("web"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn envelope_errors_summarize_the_body() {
    assert_eq!(
        error(b""),
        "the object provided is unrecognized (must be of type Deployment): empty data (<empty>)"
    );
    assert_eq!(
        error(b"{\"kind\":\"Deployment\"}"),
        "the object provided is unrecognized (must be of type Deployment): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\":\"Deployment\"})"
    );
    assert_eq!(
        error(b"k8s\x00"),
        "the object provided is unrecognized (must be of type Deployment): empty body (6b387300)"
    );
    assert_eq!(
        error(b"k8s\x00\x0a\x05"),
        "the object provided is unrecognized (must be of type Deployment): unexpected EOF (6b3873000a05)"
    );
}

#[test]
fn object_errors_name_the_kind() {
    let mut body = envelope("apps/v1", "Deployment", &deployment());
    // Cut the body short inside `raw` (before the four bytes of the empty content encoding
    // and type): the envelope's own length check fails first.
    body.truncate(body.len() - 5);
    let message = error(&body);
    assert!(
        message.starts_with(
            "the object provided is unrecognized (must be of type Deployment): unexpected EOF (6b387300"
        ) && message.ends_with(" ...)"),
        "{message}"
    );

    // A truncated object inside a well-formed envelope.
    let mut raw = prost::Message::encode_to_vec(&deployment());
    raw.truncate(raw.len() - 2);
    let body = envelope("apps/v1", "Deployment", &RawBytes(raw));
    assert_eq!(
        error(&body),
        "Deployment in version \"v1\" cannot be handled as a Deployment: unexpected EOF"
    );

    // `spec.replicas` (field 2.1) sent as bytes.
    let body = envelope(
        "apps/v1",
        "Deployment",
        &RawBytes(vec![0x12, 0x03, 0x0a, 0x01, b'x']),
    );
    assert_eq!(
        error(&body),
        "Deployment in version \"v1\" cannot be handled as a Deployment: proto: wrong wireType = 2 for field Replicas"
    );

    let body = envelope("apps/v1", "Widget", &deployment());
    assert_eq!(
        error(&body),
        "Widget in version \"v1\" cannot be handled as a Deployment: no kind \"Widget\" is registered for version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
    );
}

#[test]
fn an_empty_type_meta_defaults_to_the_resource() -> Result<(), String> {
    let body = envelope("", "", &deployment());
    let object = super::decode_protobuf(&body, &DEPLOYMENT)
        .map_err(|error| error.to_string())?
        .object;
    assert_eq!(
        object.get("apiVersion"),
        Some(&serde_json::json!("apps/v1"))
    );
    assert_eq!(object.get("kind"), Some(&serde_json::json!("Deployment")));
    Ok(())
}

/// Bytes passed through as a message's encoding.
#[derive(Clone, PartialEq, Default, Debug)]
struct RawBytes(Vec<u8>);

impl prost::Message for RawBytes {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        _tag: u32,
        _wire_type: prost::encoding::WireType,
        _buf: &mut impl prost::bytes::Buf,
        _ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
