//! CronJob schedules, checked as upstream checks them (robfig/cron v3's standard parser:
//! five fields or an `@` descriptor), with that parser's error messages, which kubectl shows
//! after `spec.schedule: Invalid value: "...": `.

struct Bounds {
    min: u64,
    max: u64,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// Go's `strconv.Atoi` on `text`, with its error text.
fn atoi(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            crate::validation::go_quote(text)
        ));
    }
    text.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            crate::validation::go_quote(text)
        )
    })
}

fn parse_int(expr: &str) -> Result<u64, String> {
    let number = atoi(expr).map_err(|why| format!("failed to parse int from {expr}: {why}"))?;
    u64::try_from(number).map_err(|_| format!("negative number ({number}) not allowed: {expr}"))
}

fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    match bounds.names.iter().position(|name| *name == lower) {
        Some(at) => Ok(at as u64 + if bounds.min == 1 { 1 } else { 0 }),
        None => parse_int(expr),
    }
}

fn check_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if matches!(low_and_high[0], "*" | "?") {
        (bounds.min, bounds.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], bounds)?;
        let end = match low_and_high.as_slice() {
            [_] => start,
            [_, high] => parse_int_or_name(high, bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.as_slice() {
        [_] => 1,
        [_, step] => {
            let step = parse_int(step)?;
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Whether Go's `time.ParseDuration` accepts `text`, with its error text.
fn parse_duration(text: &str) -> Result<(), String> {
    let quoted = crate::validation::go_quote(text);
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body == "0" {
        return Ok(());
    }
    if body.is_empty() {
        return Err(format!("time: invalid duration {quoted}"));
    }
    let mut rest = body;
    while !rest.is_empty() {
        let number_end = rest
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." {
            return Err(format!("time: invalid duration {quoted}"));
        }
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|ch: char| ch.is_ascii_digit() || ch == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return Err(format!(
                "time: unknown unit {} in duration {quoted}",
                crate::validation::go_quote(unit)
            ));
        }
        rest = &rest[unit_end..];
    }
    Ok(())
}

fn parse_descriptor(spec: &str) -> Result<(), String> {
    match spec {
        "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => {
            Ok(())
        }
        other => match other.strip_prefix("@every ") {
            Some(duration) => parse_duration(duration)
                .map_err(|why| format!("failed to parse duration {other}: {why}")),
            None => Err(format!("unrecognized descriptor: {other}")),
        },
    }
}

/// Checks a schedule as `cron.ParseStandard` does; the error is upstream's text.
pub(super) fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let space = spec.find(' ').unwrap_or(spec.len());
        let equals = spec.find('=').unwrap_or_default();
        let zone = &spec[equals + 1..space];
        if jiff::tz::TimeZone::get(zone).is_err() {
            return Err(format!(
                "provided bad location {zone}: unknown time zone {zone}"
            ));
        }
        spec = spec[space..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, bounds) in
        fields
            .iter()
            .zip([&MINUTES, &HOURS, &DAYS_OF_MONTH, &MONTHS, &DAYS_OF_WEEK])
    {
        for expr in field.split(',').filter(|expr| !expr.is_empty()) {
            check_range(expr, bounds)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_standard;

    #[test]
    fn accepts_standard_schedules() {
        for spec in [
            "*/5 * * * *",
            "0 0 * * 0",
            "30 2 1-15/2 jan-jun mon,wed",
            "@hourly",
            "@every 1h30m",
            "0 9 * * ?",
        ] {
            assert_eq!(parse_standard(spec), Ok(()), "{spec}");
        }
    }

    #[test]
    fn refuses_with_upstream_messages() {
        assert_eq!(
            parse_standard("x"),
            Err("expected exactly 5 fields, found 1: [x]".to_owned())
        );
        assert_eq!(
            parse_standard("61 * * * *"),
            Err("end of range (61) above maximum (59): 61".to_owned())
        );
        assert_eq!(
            parse_standard("a * * * *"),
            Err(
                "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_standard("@fortnightly"),
            Err("unrecognized descriptor: @fortnightly".to_owned())
        );
        assert_eq!(
            parse_standard("0 0 0 * *"),
            Err("beginning of range (0) below minimum (1): 0".to_owned())
        );
        assert_eq!(
            parse_standard("@every 5"),
            Err(
                "failed to parse duration @every 5: time: missing unit in duration \"5\""
                    .to_owned()
            )
        );
    }
}
