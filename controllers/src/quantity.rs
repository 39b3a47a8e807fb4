//! Resource quantities (`100m`, `1.5`, `128Mi`, `2G`) as exact sums: what quota usage adds
//! up, formatted the way upstream's canonical form prints them for these values.

/// A quantity in thousandths of the unit, remembering whether it was written with binary
/// suffixes (so memory sums print as `Mi`/`Gi`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quantity {
    /// Value × 1000.
    pub milli: i128,
    /// Written with `Ki`, `Mi`, ...
    pub binary: bool,
}

impl Quantity {
    /// Parses a Kubernetes quantity; `None` if malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let (mantissa, exponent) = match suffix {
            "" => (number, 0i32),
            _ if suffix.starts_with(['e', 'E']) => (number, suffix[1..].parse().ok()?),
            _ => (number, 0),
        };
        let (binary, multiplier): (bool, i128) = match suffix {
            "Ki" => (true, 1 << 10),
            "Mi" => (true, 1 << 20),
            "Gi" => (true, 1 << 30),
            "Ti" => (true, 1 << 40),
            "Pi" => (true, 1 << 50),
            "Ei" => (true, 1 << 60),
            "n" | "u" | "m" | "" | "k" | "M" | "G" | "T" | "P" | "E" => (false, 1),
            _ if suffix.starts_with(['e', 'E']) => (false, 1),
            _ => return None,
        };
        let decimal_exponent: i32 = match suffix {
            "n" => -9,
            "u" => -6,
            "m" => -3,
            "k" => 3,
            "M" => 6,
            "G" => 9,
            "T" => 12,
            "P" => 15,
            "E" => 18,
            _ => exponent,
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let negative = whole.starts_with('-');
        let whole = whole.trim_start_matches(['+', '-']);
        let digits = format!("{whole}{fraction}");
        let mut value: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let mut scale = decimal_exponent + 3 - i32::try_from(fraction.len()).ok()?;
        while scale > 0 {
            value = value.checked_mul(10)?;
            scale -= 1;
        }
        while scale < 0 {
            // Round up as upstream does when a value needs more precision than milli.
            value = (value + 9) / 10;
            scale += 1;
        }
        let milli = value.checked_mul(multiplier)?;
        Some(Self {
            milli: if negative { -milli } else { milli },
            binary,
        })
    }

    /// The sum of two quantities.
    pub fn add(self, other: Self) -> Self {
        Self {
            milli: self.milli + other.milli,
            binary: self.binary || other.binary,
        }
    }

    /// `n` of a thing.
    pub fn count(n: usize) -> Self {
        Self {
            milli: i128::try_from(n).unwrap_or(i128::MAX / 1000) * 1000,
            binary: false,
        }
    }

    /// Upstream's canonical form for these values: `200m`, `2`, `128Mi`, `1500M`.
    pub fn format(self) -> String {
        if self.milli % 1000 != 0 {
            return format!("{}m", self.milli);
        }
        let units = self.milli / 1000;
        if units == 0 {
            return "0".to_owned();
        }
        if self.binary {
            for (suffix, size) in [
                ("Ei", 1i128 << 60),
                ("Pi", 1 << 50),
                ("Ti", 1 << 40),
                ("Gi", 1 << 30),
                ("Mi", 1 << 20),
                ("Ki", 1 << 10),
            ] {
                if units % size == 0 {
                    return format!("{}{suffix}", units / size);
                }
            }
            return units.to_string();
        }
        for (suffix, size) in [
            ("E", 1_000_000_000_000_000_000i128),
            ("P", 1_000_000_000_000_000),
            ("T", 1_000_000_000_000),
            ("G", 1_000_000_000),
            ("M", 1_000_000),
            ("k", 1_000),
        ] {
            if units % size == 0 && units.abs() >= size {
                return format!("{}{suffix}", units / size);
            }
        }
        units.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    fn sum(values: &[&str]) -> String {
        values
            .iter()
            .filter_map(|v| Quantity::parse(v))
            .fold(Quantity::default(), Quantity::add)
            .format()
    }

    #[test]
    fn sums_print_canonically() {
        assert_eq!(sum(&["100m", "100m"]), "200m");
        assert_eq!(sum(&["500m", "1.5"]), "2");
        assert_eq!(sum(&["64Mi", "64Mi"]), "128Mi");
        assert_eq!(sum(&["1Gi", "512Mi"]), "1536Mi");
        assert_eq!(sum(&["1", "2"]), "3");
        assert_eq!(sum(&["1k", "500"]), "1500");
        assert_eq!(Quantity::parse("bad"), None);
    }
}
