//! Key range arithmetic shared by both backends.

/// The smallest key greater than every key starting with `prefix`, as etcd computes it: the
/// prefix with its last byte below 0xff incremented and what follows dropped. `None` when no
/// such key exists (an empty prefix or all 0xff), meaning "to the end of the keyspace".
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn increments_the_last_byte() {
        assert_eq!(
            prefix_end(b"/registry/pods/"),
            Some(b"/registry/pods0".to_vec())
        );
    }

    #[test]
    fn drops_trailing_ff_bytes() {
        assert_eq!(prefix_end(&[b'a', 0xff, 0xff]), Some(vec![b'b']));
        assert_eq!(prefix_end(&[0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
