//! Reading watch event lines cheaply: the event type and our two annotations are found by
//! substring search instead of parsing each (several KB) event as JSON.

use memchr::memmem;

use crate::pod::{SENT_ANNOTATION, SEQ_ANNOTATION};

/// Substring searchers for the parts of an event line we need: cheap enough that 100
/// watchers do not steal the server's CPU the way 100 JSON parsers would.
pub(super) struct Finders {
    added: memmem::Finder<'static>,
    seq: memmem::Finder<'static>,
    sent: memmem::Finder<'static>,
}

impl Finders {
    pub(super) fn new() -> Self {
        Self {
            added: memmem::Finder::new(b"\"type\":\"ADDED\"").into_owned(),
            seq: memmem::Finder::new(format!("\"{SEQ_ANNOTATION}\"").as_bytes()).into_owned(),
            sent: memmem::Finder::new(format!("\"{SENT_ANNOTATION}\"").as_bytes()).into_owned(),
        }
    }

    /// `(sequence number, sent at)` of an ADDED event of one of our pods.
    pub(super) fn event(&self, line: &[u8]) -> Option<(u64, u64)> {
        // The type comes first in the encoded event; look only at the head.
        self.added.find(&line[..line.len().min(64)])?;
        let seq = number_after(line, self.seq.find(line)? + self.seq.needle().len())?;
        let sent = number_after(line, self.sent.find(line)? + self.sent.needle().len())?;
        Some((seq, sent))
    }
}

/// The number in the JSON string value that follows a key ending at `at` (`: "123"`).
fn number_after(line: &[u8], at: usize) -> Option<u64> {
    let rest = line.get(at..)?;
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let digits = rest.strip_prefix(b"\"")?;
    let end = digits.iter().position(|byte| !byte.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sequence_and_stamp_in_an_event_line() {
        let line = format!(
            r#"{{"type":"ADDED","object":{{"kind":"Pod","metadata":{{"name":"w-000007","annotations":{{"{SEQ_ANNOTATION}":"7","{SENT_ANNOTATION}" : "1700000000000000001"}}}}}}}}"#
        );
        assert_eq!(
            Finders::new().event(line.as_bytes()),
            Some((7, 1_700_000_000_000_000_001))
        );
        let modified = line.replace("ADDED", "MODIFIED");
        assert_eq!(Finders::new().event(modified.as_bytes()), None);
    }
}
