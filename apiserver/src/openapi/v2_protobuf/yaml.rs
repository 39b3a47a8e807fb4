//! JSON values as the YAML text gnostic stores in `Any.yaml` (go-yaml v3's block style, four
//! spaces a level). Readers parse the text back with go-yaml v2, a YAML 1.1 parser, so a
//! string is written bare only when it cannot read back as anything else; every other
//! string is double-quoted with JSON's escapes, which YAML shares.

use serde_json::Value;

/// How far a nested mapping or sequence is indented under its key.
const INDENT: usize = 4;

/// The YAML document of `value`, ending with a newline.
pub(super) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    block(value, 0, false, &mut out);
    out
}

/// Writes `value` at `indent`. `continued` means the current line already holds a `- `
/// whose item this is, so its first line needs no indentation of its own.
fn block(value: &Value, indent: usize, continued: bool, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (index, (key, item)) in map.iter().enumerate() {
                if !(continued && index == 0) {
                    pad(indent, out);
                }
                scalar_string(key, out);
                out.push(':');
                if is_block(item) {
                    out.push('\n');
                    block(item, indent + INDENT, false, out);
                } else {
                    out.push(' ');
                    scalar(item, out);
                    out.push('\n');
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                if !(continued && index == 0) {
                    pad(indent, out);
                }
                out.push_str("- ");
                if is_block(item) {
                    block(item, indent + 2, true, out);
                } else {
                    scalar(item, out);
                    out.push('\n');
                }
            }
        }
        _ => {
            scalar(value, out);
            out.push('\n');
        }
    }
}

/// Non-empty mappings and sequences take lines of their own; everything else fits inline.
fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn pad(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A value on one line: scalars, `{}` and `[]`.
fn scalar(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => scalar_string(text, out),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn scalar_string(text: &str, out: &mut String) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else {
        // JSON's string escapes are a subset of YAML's double-quoted ones.
        out.push_str(&Value::from(text).to_string());
    }
}

/// Whether `text` reads back as this same string when written bare: it starts with a letter,
/// holds only characters with no meaning to YAML, and is none of YAML 1.1's booleans or
/// nulls (numbers start with a digit, sign or dot, so they are excluded already).
fn is_plain_safe(text: &str) -> bool {
    const RESERVED: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null"];
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && !text.ends_with(' ')
        && chars
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | ',' | ' '))
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_yaml;

    #[test]
    fn scalars_are_bare_only_when_unambiguous() {
        assert_eq!(to_yaml(&json!("merge")), "merge\n");
        assert_eq!(to_yaml(&json!("retainKeys,merge")), "retainKeys,merge\n");
        assert_eq!(to_yaml(&json!("")), "\"\"\n");
        assert_eq!(to_yaml(&json!("yes")), "\"yes\"\n");
        assert_eq!(to_yaml(&json!("Off")), "\"Off\"\n");
        assert_eq!(to_yaml(&json!("1.5")), "\"1.5\"\n");
        assert_eq!(to_yaml(&json!("a: b")), "\"a: b\"\n");
        assert_eq!(to_yaml(&json!("two\nlines")), "\"two\\nlines\"\n");
        assert_eq!(to_yaml(&json!(true)), "true\n");
        assert_eq!(to_yaml(&json!(3)), "3\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
    }

    #[test]
    fn collections_use_block_style() {
        assert_eq!(
            to_yaml(&json!([{"group": "", "kind": "ConfigMap", "version": "v1"}])),
            "- group: \"\"\n  kind: ConfigMap\n  version: v1\n"
        );
        assert_eq!(
            to_yaml(&json!({"group": "apps", "kind": "Deployment", "version": "v1"})),
            "group: apps\nkind: Deployment\nversion: v1\n"
        );
        assert_eq!(to_yaml(&json!(["type", "name"])), "- type\n- name\n");
        assert_eq!(
            to_yaml(&json!([{"discriminator": "type", "fields-to-discriminateBy": {"a": "A"}}])),
            "- discriminator: type\n  fields-to-discriminateBy:\n      a: A\n"
        );
        assert_eq!(
            to_yaml(&json!({"keys": ["a", "b"], "none": [], "empty": {}})),
            "keys:\n    - a\n    - b\nnone: []\nempty: {}\n"
        );
        assert_eq!(to_yaml(&json!([["a"], "b"])), "- - a\n- b\n");
    }
}
