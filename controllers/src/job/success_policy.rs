//! `spec.successPolicy` of Indexed Jobs: the Job succeeds early once the rule's indexes (or
//! enough of them) have succeeded.

use k8s_openapi::api::batch::v1::SuccessPolicy;

use super::indexes::Intervals;

/// The message of the first matching rule ("Matched rules at index N"), if any matches.
pub fn matched(
    policy: Option<&SuccessPolicy>,
    completions: i32,
    succeeded: &Intervals,
) -> Option<String> {
    let policy = policy?;
    if succeeded.is_empty() {
        return None;
    }
    for (index, rule) in policy.rules.iter().enumerate() {
        let hit = if let Some(text) = &rule.succeeded_indexes {
            let required = Intervals::parse(text, completions);
            if required.is_empty() {
                continue;
            }
            let contained = overlap(&required, succeeded);
            contained == required.total()
                || rule.succeeded_count.is_some_and(|count| contained >= count)
        } else {
            rule.succeeded_count
                .is_some_and(|count| succeeded.total() >= count)
        };
        if hit {
            return Some(format!("Matched rules at index {index}"));
        }
    }
    None
}

/// How many indexes of `rule` are in `succeeded`.
fn overlap(rule: &Intervals, succeeded: &Intervals) -> i32 {
    let mut total = 0;
    for a in &rule.0 {
        for b in &succeeded.0 {
            let shared = a.last.min(b.last) - a.first.max(b.first) + 1;
            if shared > 0 {
                total += shared;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::SuccessPolicy;
    use serde_json::json;

    use super::matched;
    use crate::job::indexes::Intervals;

    #[test]
    fn rules_by_indexes_and_count() {
        let policy: SuccessPolicy = serde_json::from_value(json!({"rules": [
            {"succeededIndexes": "0-2", "succeededCount": 2},
            {"succeededCount": 4}
        ]}))
        .unwrap_or_default();
        let done = |text: &str| Intervals::parse(text, 10);
        assert_eq!(matched(Some(&policy), 10, &done("3")), None);
        assert_eq!(
            matched(Some(&policy), 10, &done("0,2")),
            Some("Matched rules at index 0".to_owned())
        );
        assert_eq!(
            matched(Some(&policy), 10, &done("5-8")),
            Some("Matched rules at index 1".to_owned())
        );
    }
}
