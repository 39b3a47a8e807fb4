//! The text forms upstream's printers put in cells: human durations (`5m30s`), label maps
//! and selectors (`app=web,tier in (a,b)`), and the lists that end in `+ N more...`.

use jiff::{SignedDuration, Timestamp};

use super::node::Node;

/// `duration.HumanDuration`: ~2-3 significant figures, tolerating up to two seconds of
/// clock skew into the future.
pub fn human_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let rest = seconds % 60;
        if rest == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{rest}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let rest = minutes % 60;
        if rest == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{rest}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let rest = hours % 24;
        if rest == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{rest}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        if days == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{days}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// A `metav1.Time` (or `MicroTime`); `None` for the zero time (absent, empty or unparsable,
/// as Go decodes them).
pub fn timestamp(node: Node<'_>) -> Option<Timestamp> {
    node.as_str()
        .filter(|text| !text.is_empty())
        .and_then(|text| text.parse().ok())
}

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` for the zero time.
pub fn since(node: Node<'_>, now: Timestamp) -> String {
    match timestamp(node) {
        Some(time) => human_duration(now.duration_since(time)),
        None => "<unknown>".to_owned(),
    }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when there are none.
pub fn labels(map: Node<'_>) -> String {
    let mut pairs: Vec<(&str, &str)> = map
        .entries()
        .map(|(key, value)| (key, value.as_str().unwrap_or_default()))
        .collect();
    if pairs.is_empty() {
        return "<none>".to_owned();
    }
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.LabelSelectorAsSelector(...).String()`: `Ok("")` for a missing or empty
/// selector, `Err` for an operator upstream does not know.
pub fn selector(selector: Node<'_>) -> Result<String, ()> {
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (key, value) in selector.get("matchLabels").entries() {
        let value = value.as_str().unwrap_or_default();
        requirements.push((key.to_owned(), format!("{key}={value}")));
    }
    for expression in selector.get("matchExpressions").items() {
        let key = expression.get("key").str();
        let mut values: Vec<&str> = expression.get("values").items().map(Node::str).collect();
        values.sort_unstable();
        let rendered = match expression.get("operator").str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => return Err(()),
        };
        requirements.push((key.to_owned(), rendered));
    }
    // Upstream sorts requirements by key (stably).
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(requirements
        .into_iter()
        .map(|(_, rendered)| rendered)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: the selector, `<none>` when empty, `<error>` when invalid.
pub fn label_selector(node: Node<'_>) -> String {
    match selector(node) {
        Ok(text) if text.is_empty() => "<none>".to_owned(),
        Ok(text) => text,
        Err(()) => "<error>".to_owned(),
    }
}

/// The Go (gogo-protobuf) `String()` of a `metav1.LabelSelector`, which upstream prints for
/// a policy binding's `paramRef.selector`.
pub fn go_label_selector(node: Node<'_>) -> String {
    let mut keys: Vec<(&str, &str)> = node
        .get("matchLabels")
        .entries()
        .map(|(key, value)| (key, value.as_str().unwrap_or_default()))
        .collect();
    keys.sort_unstable();
    let labels: String = keys
        .iter()
        .map(|(key, value)| format!("{key}: {value},"))
        .collect();
    let expressions: String = node
        .get("matchExpressions")
        .items()
        .map(|expression| {
            let values: Vec<&str> = expression.get("values").items().map(Node::str).collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                expression.get("key").str(),
                expression.get("operator").str(),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

/// `listWithMoreString`: the first `max` entries, then `+ N more...`; `<unset>` for none.
pub fn list_with_more(list: &[String], count: usize, max: usize) -> String {
    let joined = list.join(",");
    if count > max {
        return format!("{joined} + {} more...", count - max);
    }
    if joined.is_empty() {
        return "<unset>".to_owned();
    }
    joined
}

/// `layoutContainerCells`: container names and images, comma separated.
pub fn containers(containers: Node<'_>) -> (String, String) {
    let names: Vec<&str> = containers.items().map(|c| c.get("name").str()).collect();
    let images: Vec<&str> = containers.items().map(|c| c.get("image").str()).collect();
    (names.join(","), images.join(","))
}

/// An `IntOrString` as Go's `String()` renders it.
pub fn int_or_string(node: Node<'_>) -> String {
    match node.as_i64() {
        Some(number) => number.to_string(),
        None => node.str().to_owned(),
    }
}

/// `printBool`: `True` or `False`.
pub fn go_bool(value: bool) -> &'static str {
    if value {
        "True"
    } else {
        "False"
    }
}

/// `<none>` for an empty string.
pub fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use serde_json::json;

    use super::{go_label_selector, human_duration, label_selector, labels, selector};
    use crate::table::node::Node;

    fn age(seconds: i64) -> String {
        human_duration(SignedDuration::from_secs(seconds))
    }

    #[test]
    fn human_durations_match_apimachinery() {
        assert_eq!(age(-5), "<invalid>");
        assert_eq!(age(-1), "0s");
        assert_eq!(age(0), "0s");
        assert_eq!(age(5), "5s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(120), "2m");
        assert_eq!(age(150), "2m30s");
        assert_eq!(age(9 * 60 + 59), "9m59s");
        assert_eq!(age(10 * 60 + 30), "10m");
        assert_eq!(age(179 * 60), "179m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 3600 + 25 * 60), "3h25m");
        assert_eq!(age(8 * 3600 + 59 * 60), "8h");
        assert_eq!(age(47 * 3600), "47h");
        assert_eq!(age(48 * 3600), "2d");
        assert_eq!(age(50 * 3600), "2d2h");
        assert_eq!(age(8 * 24 * 3600), "8d");
        assert_eq!(age(729 * 24 * 3600), "729d");
        assert_eq!(age(730 * 24 * 3600), "2y");
        assert_eq!(age(731 * 24 * 3600), "2y1d");
        assert_eq!(age(9 * 365 * 24 * 3600), "9y");
    }

    #[test]
    fn labels_and_selectors() {
        let map = json!({"tier": "db", "app": "web"});
        assert_eq!(labels(Node::of(&map)), "app=web,tier=db");
        assert_eq!(labels(Node::of(&json!({}))), "<none>");
        let sel = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
            ]
        });
        assert_eq!(
            label_selector(Node::of(&sel)),
            "app=web,env in (dev,prod),!legacy,zone notin (b)"
        );
        assert_eq!(label_selector(Node::of(&json!({}))), "<none>");
        assert_eq!(selector(Node::Missing), Ok(String::new()));
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(label_selector(Node::of(&bad)), "<error>");
        assert_eq!(
            go_label_selector(Node::of(&json!({"matchLabels": {"b": "2", "a": "1"}}))),
            "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}"
        );
    }
}
