//! Just enough DER to give a certificate a subject rcgen cannot express.
//!
//! Kubernetes reads every `O` attribute of a client certificate's subject as one group, so a
//! user in two groups needs two `O` attributes. rcgen 0.14 keeps a distinguished name as a map
//! keyed by attribute type and so holds at most one `O`. Rather than pulling in a second
//! certificate builder, we let rcgen build and sign the certificate, then swap in a subject we
//! encode here and sign the new TBSCertificate with the same CA key. Only the subject changes;
//! serial, validity, key and extensions are rcgen's.

use rcgen::SigningKey;

use super::PkiError;

/// DER tag of a SEQUENCE.
const SEQUENCE: u8 = 0x30;
/// DER tag of a SET.
const SET: u8 = 0x31;
/// DER tag of a BIT STRING.
const BIT_STRING: u8 = 0x03;
/// DER tag of a UTF8String.
const UTF8_STRING: u8 = 0x0C;
/// DER tag of the explicit `[0] version` field that opens a v3 TBSCertificate.
const VERSION_TAG: u8 = 0xA0;
/// The encoded OID 2.5.4.3 (commonName).
const OID_COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
/// The encoded OID 2.5.4.10 (organizationName).
const OID_ORGANIZATION: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x0A];

/// Encodes `O=group...`, then `CN=user` as an X.509 Name, in the order Go's `pkix.Name` (and
/// so kubeadm) writes them.
pub(crate) fn subject(common_name: &str, organizations: &[&str]) -> Vec<u8> {
    let mut rdns = Vec::new();
    for organization in organizations {
        rdns.extend(attribute(OID_ORGANIZATION, organization));
    }
    rdns.extend(attribute(OID_COMMON_NAME, common_name));
    tlv(SEQUENCE, &rdns)
}

/// One single-valued RDN: `SET { SEQUENCE { type, UTF8String value } }`.
fn attribute(oid: &[u8], value: &str) -> Vec<u8> {
    let mut pair = oid.to_vec();
    pair.extend(tlv(UTF8_STRING, value.as_bytes()));
    tlv(SET, &tlv(SEQUENCE, &pair))
}

/// Returns `cert_der` with its subject replaced by `subject_der`, re-signed by `signer` (which
/// must be the key that signed `cert_der`, so the signature algorithm stays right).
pub(crate) fn replace_subject(
    cert_der: &[u8],
    subject_der: &[u8],
    signer: &impl SigningKey,
) -> Result<Vec<u8>, PkiError> {
    let certificate = single_element(cert_der, SEQUENCE)?;
    let parts = elements(certificate)?;
    let (Some(tbs), Some(signature_algorithm)) = (parts.first(), parts.get(1)) else {
        return Err(malformed("certificate has fewer than three parts"));
    };
    let tbs_fields = elements(single_element(tbs, SEQUENCE)?)?;
    // version (when present), serial, signature, issuer, validity, subject, ...
    let subject_index = match tbs_fields.first() {
        Some(first) if first.first() == Some(&VERSION_TAG) => 5,
        _ => 4,
    };
    if tbs_fields.len() <= subject_index {
        return Err(malformed("TBSCertificate has no subject"));
    }
    let mut tbs_content = Vec::with_capacity(tbs.len() + subject_der.len());
    for (index, field) in tbs_fields.iter().enumerate() {
        if index == subject_index {
            tbs_content.extend_from_slice(subject_der);
        } else {
            tbs_content.extend_from_slice(field);
        }
    }
    let new_tbs = tlv(SEQUENCE, &tbs_content);
    let signature = signer.sign(&new_tbs).map_err(|source| PkiError::Generate {
        what: "client certificate signature",
        source,
    })?;
    let mut signature_bits = vec![0u8]; // no unused bits
    signature_bits.extend(signature);
    let mut content = new_tbs;
    content.extend_from_slice(signature_algorithm);
    content.extend(tlv(BIT_STRING, &signature_bits));
    Ok(tlv(SEQUENCE, &content))
}

/// The content of the one element `input` consists of, which must carry `tag`.
fn single_element(input: &[u8], tag: u8) -> Result<&[u8], PkiError> {
    let (header, content) = header(input)?;
    if input.first() != Some(&tag) {
        return Err(malformed("unexpected tag"));
    }
    if header + content != input.len() {
        return Err(malformed("trailing bytes after element"));
    }
    Ok(&input[header..])
}

/// Splits a constructed element's content into its elements, each with tag and length.
fn elements(mut input: &[u8]) -> Result<Vec<&[u8]>, PkiError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (header, content) = header(input)?;
        let (element, rest) = input.split_at(header + content);
        out.push(element);
        input = rest;
    }
    Ok(out)
}

/// Header length and content length of the element at the start of `input` (low tag numbers
/// only, which is all a certificate's top levels use).
fn header(input: &[u8]) -> Result<(usize, usize), PkiError> {
    let Some(&first_length_byte) = input.get(1) else {
        return Err(malformed("truncated element header"));
    };
    if input.first().is_some_and(|tag| tag & 0x1F == 0x1F) {
        return Err(malformed("high tag number"));
    }
    let (header, content) = if first_length_byte < 0x80 {
        (2, usize::from(first_length_byte))
    } else {
        let count = usize::from(first_length_byte & 0x7F);
        if count == 0 || count > std::mem::size_of::<usize>() {
            return Err(malformed("unsupported length encoding"));
        }
        let Some(bytes) = input.get(2..2 + count) else {
            return Err(malformed("truncated length"));
        };
        let content = bytes
            .iter()
            .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
        (2 + count, content)
    };
    match header.checked_add(content) {
        Some(total) if total <= input.len() => Ok((header, content)),
        _ => Err(malformed("element longer than its input")),
    }
}

/// Encodes one element: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let length = content.len();
    if length < 0x80 {
        // Fits in the short form by the check above.
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|byte| **byte == 0).count();
        let significant = &bytes[skip..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// The error for a certificate we produced ourselves but cannot walk: a bug, not bad input.
fn malformed(reason: &'static str) -> PkiError {
    PkiError::MalformedDer { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_in_short_and_long_form() {
        for length in [0usize, 1, 127, 128, 255, 256, 65_535, 65_536] {
            let encoded = tlv(SEQUENCE, &vec![7u8; length]);
            let (header_len, content_len) = header(&encoded).expect("own encoding parses");
            assert_eq!(content_len, length);
            assert_eq!(header_len + content_len, encoded.len());
        }
    }

    #[test]
    fn truncated_input_is_rejected() {
        let encoded = tlv(SEQUENCE, &[1, 2, 3]);
        assert!(header(&encoded[..3]).is_err());
        assert!(header(&[0x30]).is_err());
        assert!(header(&[0x30, 0x84, 0xFF]).is_err());
    }
}
