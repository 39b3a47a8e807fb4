//! Resource quantities in the canonical form upstream's `Quantity.String()` prints (`1Gi`
//! for `1024Mi`, `2k` for `2000`, `1500m` for `1.5`), since cells show decoded quantities.

use super::node::Node;

/// The most precise scale upstream keeps (nano); finer values are rounded up.
const NANO: i32 = -9;

/// How a quantity is written, from its suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `Ki`, `Mi`, ...
    BinarySi,
    /// `m`, `k`, `M`, ... or none.
    DecimalSi,
    /// `e3`, `E-2`.
    DecimalExponent,
}

/// A parsed quantity: `mantissa * 10^scale`.
struct Parsed {
    mantissa: i128,
    scale: i32,
    format: Format,
}

fn parse(text: &str) -> Option<Parsed> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = rest
        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    let (format, ten_exponent, binary_exponent) = match suffix {
        "" => (Format::DecimalSi, 0, 0),
        "n" => (Format::DecimalSi, -9, 0),
        "u" => (Format::DecimalSi, -6, 0),
        "m" => (Format::DecimalSi, -3, 0),
        "k" => (Format::DecimalSi, 3, 0),
        "M" => (Format::DecimalSi, 6, 0),
        "G" => (Format::DecimalSi, 9, 0),
        "T" => (Format::DecimalSi, 12, 0),
        "P" => (Format::DecimalSi, 15, 0),
        "E" => (Format::DecimalSi, 18, 0),
        "Ki" => (Format::BinarySi, 0, 10),
        "Mi" => (Format::BinarySi, 0, 20),
        "Gi" => (Format::BinarySi, 0, 30),
        "Ti" => (Format::BinarySi, 0, 40),
        "Pi" => (Format::BinarySi, 0, 50),
        "Ei" => (Format::BinarySi, 0, 60),
        exponent => {
            let digits = exponent
                .strip_prefix('e')
                .or_else(|| exponent.strip_prefix('E'))?;
            (Format::DecimalExponent, digits.parse::<i32>().ok()?, 0)
        }
    };
    let digits = format!("{whole}{fraction}");
    let mut mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    mantissa = mantissa.checked_mul(1i128.checked_shl(binary_exponent)?)?;
    let fraction_len = i32::try_from(fraction.len()).ok()?;
    let mut scale = ten_exponent - fraction_len;
    if scale < NANO {
        // Round away from zero to nano precision, as upstream does.
        let divisor = 10i128.checked_pow(u32::try_from(NANO - scale).ok()?)?;
        mantissa = (mantissa + divisor - 1) / divisor;
        scale = NANO;
    }
    if negative {
        mantissa = -mantissa;
    }
    Some(Parsed {
        mantissa,
        scale,
        format,
    })
}

/// The value as an integer, if it is one.
fn as_integer(parsed: &Parsed) -> Option<i128> {
    if parsed.scale >= 0 {
        return parsed
            .mantissa
            .checked_mul(10i128.checked_pow(u32::try_from(parsed.scale).ok()?)?);
    }
    let divisor = 10i128.checked_pow(u32::try_from(-parsed.scale).ok()?)?;
    (parsed.mantissa % divisor == 0).then(|| parsed.mantissa / divisor)
}

fn decimal(mut mantissa: i128, mut exponent: i32, format: Format) -> String {
    while mantissa != 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    match exponent.rem_euclid(3) {
        1 => {
            mantissa *= 10;
            exponent -= 1;
        }
        2 => {
            mantissa *= 100;
            exponent -= 2;
        }
        _ => {}
    }
    let suffix = match format {
        Format::DecimalExponent if exponent == 0 => String::new(),
        Format::DecimalExponent => format!("e{exponent}"),
        _ => match exponent {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        }
        .to_owned(),
    };
    format!("{mantissa}{suffix}")
}

fn binary(mut amount: i128) -> String {
    let mut exponent = 0;
    while amount != 0 && amount % 1024 == 0 && exponent < 6 {
        amount /= 1024;
        exponent += 1;
    }
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exponent];
    format!("{amount}{suffix}")
}

/// The canonical text of a quantity; unparsable text is shown as it is.
pub fn canonical(text: &str) -> String {
    let Some(parsed) = parse(text) else {
        return text.to_owned();
    };
    if parsed.mantissa == 0 {
        return "0".to_owned();
    }
    if parsed.format == Format::BinarySi {
        // Small or fractional binary quantities print in decimal, to avoid rounding.
        if let Some(value) = as_integer(&parsed).filter(|value| value.abs() >= 1024) {
            return binary(value);
        }
        return decimal(parsed.mantissa, parsed.scale, Format::DecimalSi);
    }
    decimal(parsed.mantissa, parsed.scale, parsed.format)
}

/// The canonical text of a quantity field (`"0"` when absent, as a zero quantity prints).
pub fn of(node: Node<'_>) -> String {
    match node.value() {
        Some(serde_json::Value::String(text)) => canonical(text),
        Some(serde_json::Value::Number(number)) => canonical(&number.to_string()),
        _ => "0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn quantities_print_canonically() {
        for (given, want) in [
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1.5Gi", "1536Mi"),
            ("512", "512"),
            ("0.5Ki", "512"),
            ("0.1Ki", "102400m"),
            ("2000", "2k"),
            ("100", "100"),
            ("10k", "10k"),
            ("1.5", "1500m"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1e3", "1e3"),
            ("1e4", "10e3"),
            ("250M", "250M"),
            ("-1Gi", "-1Gi"),
            ("0", "0"),
            ("0Mi", "0"),
            ("1n", "1n"),
            ("0.0000000001", "1n"),
            ("bogus", "bogus"),
        ] {
            assert_eq!(canonical(given), want, "{given}");
        }
    }
}
