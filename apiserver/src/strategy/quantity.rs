//! Resource quantities (`500m`, `1Gi`, `2e3`), read far enough to compare them and see
//! their sign, which is all validation needs.

use serde_json::Value;

/// The value of a quantity, or `None` when it is not one.
pub(super) fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .char_indices()
        .find(|(at, ch)| !(ch.is_ascii_digit() || *ch == '.' || (*at == 0 && "+-".contains(*ch))))
        .map_or(text.len(), |(at, _)| at);
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number == "+" || number == "-" {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent => {
            let digits = exponent
                .strip_prefix('e')
                .or_else(|| exponent.strip_prefix('E'))?;
            10f64.powi(digits.parse().ok()?)
        }
    };
    Some(number * scale)
}

/// A quantity as JSON carries it (a string, or a bare number).
pub(super) fn of(value: &Value) -> Option<f64> {
    match value {
        Value::String(text) => parse(text),
        Value::Number(number) => number.as_f64(),
        _ => None,
    }
}

/// The text of a quantity as given, for messages.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn suffixes() {
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("1Gi"), Some(1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("2e3"), Some(2000.0));
        assert_eq!(parse("-1"), Some(-1.0));
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("1Xi"), None);
    }
}
