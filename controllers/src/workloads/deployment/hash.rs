//! The pod-template hash that names a Deployment's ReplicaSets (`<deployment>-<hash>`) and
//! labels their pods (`pod-template-hash`), and template equality ignoring that label.
//!
//! Upstream hashes the Go struct's printed form with FNV-1a (32 bits), then appends the
//! collision count, and encodes the decimal number in a consonant-and-digit alphabet. We
//! hash the template's canonical JSON the same way: the same shape of name and the same
//! stability (a template always hashes alike), though not the same digits as Go's printer.

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The label (and selector key) that keeps a Deployment's ReplicaSets apart.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Upstream's `rand.SafeEncodeString` alphabet: no vowels, no look-alike characters.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn fnv32a(state: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(state, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// Upstream's `SafeEncodeString`: each character mapped into the safe alphabet.
fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| char::from(ALPHANUMS[usize::from(byte) % ALPHANUMS.len()]))
        .collect()
}

/// Upstream's `ComputeHash`: the template's hash, salted with the collision count.
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // Serialising API types to JSON cannot fail (string keys, no custom serialisers that err).
    let canonical = serde_json::to_vec(template).unwrap_or_default();
    let mut hash = fnv32a(0x811c_9dc5, &canonical);
    if let Some(count) = collision_count {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        hash = fnv32a(hash, &bytes);
    }
    safe_encode(&hash.to_string())
}

/// The template without the hash label, with empty label and annotation maps absent (Go's
/// semantic equality does not tell an empty map from a missing one).
fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut template = template.clone();
    if let Some(meta) = template.metadata.as_mut() {
        if let Some(labels) = meta.labels.as_mut() {
            labels.remove(POD_TEMPLATE_HASH);
        }
        if meta.labels.as_ref().is_some_and(|labels| labels.is_empty()) {
            meta.labels = None;
        }
        if meta.annotations.as_ref().is_some_and(|a| a.is_empty()) {
            meta.annotations = None;
        }
    }
    if template
        .metadata
        .as_ref()
        .is_some_and(|meta| *meta == Default::default())
    {
        template.metadata = None;
    }
    template
}

/// Upstream's `EqualIgnoreHash`: the same template apart from `pod-template-hash`.
pub fn equal_ignore_hash(first: &PodTemplateSpec, second: &PodTemplateSpec) -> bool {
    without_hash(first) == without_hash(second)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::{compute_hash, equal_ignore_hash, fnv32a, safe_encode, POD_TEMPLATE_HASH};

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_owned(), "web".to_owned())].into()),
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "web".to_owned(),
                    image: Some(image.to_owned()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
        }
    }

    #[test]
    fn fnv_and_alphabet_match_upstream() {
        // FNV-1a test vectors.
        assert_eq!(fnv32a(0x811c_9dc5, b""), 0x811c_9dc5);
        assert_eq!(fnv32a(0x811c_9dc5, b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(0x811c_9dc5, b"foobar"), 0xbf9c_f968);
        // '0' is byte 48: 48 % 27 = 21 → '4'; '9' is 57 % 27 = 3 → 'f'.
        assert_eq!(safe_encode("09"), "4f");
    }

    #[test]
    fn hash_is_stable_and_salted() {
        let web = template("nginx:1.25");
        let hash = compute_hash(&web, None);
        assert_eq!(hash, compute_hash(&web.clone(), None));
        assert_ne!(hash, compute_hash(&template("nginx:1.26"), None));
        assert_ne!(hash, compute_hash(&web, Some(1)));
        assert!(hash
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert!((8..=10).contains(&hash.len()));
    }

    #[test]
    fn equality_ignores_only_the_hash_label() {
        let mut labelled = template("nginx:1.25");
        if let Some(labels) = labelled.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.insert(POD_TEMPLATE_HASH.to_owned(), "abc".to_owned());
        }
        assert!(equal_ignore_hash(&labelled, &template("nginx:1.25")));
        assert!(!equal_ignore_hash(&labelled, &template("nginx:1.26")));
    }
}
