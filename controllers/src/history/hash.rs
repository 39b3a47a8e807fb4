//! Revision hashes and names, as upstream's `HashControllerRevision` (FNV-1, 32 bits, of the
//! data, then the collision count in decimal), `ComputeHash` (FNV-1a of the template, then
//! the count as 8 little-endian bytes) and `ControllerRevisionName`; both hashes are printed
//! in decimal and mapped into the vowel-free alphabet of `rand.SafeEncodeString`.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

fn fnv32a(state: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(state, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(FNV_PRIME)
    })
}

fn fnv32(state: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(state, |hash, byte| {
        hash.wrapping_mul(FNV_PRIME) ^ u32::from(*byte)
    })
}

fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| char::from(ALPHANUMS[usize::from(byte) % ALPHANUMS.len()]))
        .collect()
}

fn salted(bytes: &[u8], collision_count: Option<i32>) -> String {
    let mut hash = fnv32a(FNV_OFFSET, bytes);
    if let Some(count) = collision_count {
        let mut salt = [0u8; 8];
        salt[..4].copy_from_slice(&count.to_le_bytes());
        hash = fnv32a(hash, &salt);
    }
    safe_encode(&hash.to_string())
}

/// Upstream's `HashControllerRevision`: the hash of a revision's data (its JSON), salted
/// with the collision count so that a taken name leads to another.
pub fn fnv_hash(data: &Value, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(data).unwrap_or_default();
    let mut hash = fnv32(FNV_OFFSET, &bytes);
    if let Some(count) = collision_count {
        hash = fnv32(hash, count.to_string().as_bytes());
    }
    safe_encode(&hash.to_string())
}

/// Upstream's `ComputeHash`: the hash of a pod template (a DaemonSet's revision hash).
pub fn hash_template(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    salted(&bytes, collision_count)
}

/// Upstream's `ControllerRevisionName`: `<prefix>-<hash>`, the prefix cut to 223 bytes.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let mut end = prefix.len().min(223);
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}-{hash}", &prefix[..end])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{fnv32, fnv32a, fnv_hash, revision_name, FNV_OFFSET};

    #[test]
    fn fnv_variants_match_the_reference_vectors() {
        // The FNV reference values for "a".
        assert_eq!(fnv32(FNV_OFFSET, b"a"), 0x050c_5d7e);
        assert_eq!(fnv32a(FNV_OFFSET, b"a"), 0xe40c_292c);
    }

    #[test]
    fn hashes_are_stable_and_salted() {
        let data = json!({"spec": {"template": {"a": 1}}});
        assert_eq!(fnv_hash(&data, None), fnv_hash(&data, None));
        assert_ne!(fnv_hash(&data, Some(0)), fnv_hash(&data, Some(1)));
        assert!(fnv_hash(&data, None)
            .bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)));
        assert_eq!(revision_name("web", "abc"), "web-abc");
        assert_eq!(revision_name(&"x".repeat(300), "h").len(), 225);
    }
}
