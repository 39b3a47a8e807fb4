//! Registry rows borrow `'static` strings; custom resources get theirs by interning: each
//! distinct name is leaked once and reused, so CRD churn costs memory only for names never
//! seen before.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

fn strings() -> &'static Mutex<HashSet<&'static str>> {
    static STRINGS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    STRINGS.get_or_init(Mutex::default)
}

fn lists() -> &'static Mutex<HashSet<&'static [&'static str]>> {
    static LISTS: OnceLock<Mutex<HashSet<&'static [&'static str]>>> = OnceLock::new();
    LISTS.get_or_init(Mutex::default)
}

/// A `'static` copy of `text`, shared with every earlier copy.
pub fn intern(text: &str) -> &'static str {
    let mut strings = strings()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(existing) = strings.get(text) {
        return existing;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    strings.insert(leaked);
    leaked
}

/// A `'static` copy of a list of names.
pub fn intern_list(items: &[String]) -> &'static [&'static str] {
    let interned: Vec<&'static str> = items.iter().map(|item| intern(item)).collect();
    let mut lists = lists()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(existing) = lists.get(interned.as_slice()) {
        return existing;
    }
    let leaked: &'static [&'static str] = Box::leak(interned.into_boxed_slice());
    lists.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::{intern, intern_list};

    #[test]
    fn interning_reuses_copies() {
        let a = intern("widgets");
        let b = intern(&String::from("widgets"));
        assert!(std::ptr::eq(a, b));
        let list = intern_list(&["w".to_owned(), "wd".to_owned()]);
        assert!(std::ptr::eq(
            list,
            intern_list(&["w".to_owned(), "wd".to_owned()])
        ));
    }
}
