//! Cron schedules as upstream reads them (robfig/cron v3's `ParseStandard`): five fields
//! (minute, hour, day of month, month, day of week) with `*`/`?`, ranges, steps, lists and
//! month/weekday names, the `@yearly` ... `@hourly` and `@every <duration>` descriptors,
//! and a `TZ=`/`CRON_TZ=` prefix naming the zone. Error texts are robfig's, as the CronJob
//! controller puts them in its events.

use std::time::Duration;

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};

/// Why a schedule does not parse (robfig's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// The bit robfig sets on a field written as `*` or `?` (day matching differs then).
const STAR: u64 = 1 << 63;

#[derive(Clone, Copy)]
struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
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
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// A parsed schedule.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// Field-based times in a zone.
    Spec(SpecSchedule),
    /// `@every <duration>`: fixed intervals (whole seconds, at least one).
    Every(Duration),
}

/// Which minutes, hours, days and months match, as bit sets.
#[derive(Clone, Debug)]
pub struct SpecSchedule {
    minute: u64,
    hour: u64,
    day_of_month: u64,
    month: u64,
    day_of_week: u64,
    zone: TimeZone,
}

/// Parses `spec` like robfig's `ParseStandard`; times without a zone prefix are read in
/// `local` (kube-controller-manager's local zone).
pub fn parse_standard(spec: &str, local: &TimeZone) -> Result<Schedule, ScheduleError> {
    if spec.is_empty() {
        return Err(ScheduleError("empty spec string".to_owned()));
    }
    let mut zone = local.clone();
    let mut rest = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let (name_part, tail) = match spec.find(' ') {
            Some(space) => (&spec[..space], &spec[space..]),
            None => (spec, ""),
        };
        let name = name_part
            .split_once('=')
            .map(|(_, name)| name)
            .unwrap_or_default();
        zone = load_location(name)
            .map_err(|why| ScheduleError(format!("provided bad location {name}: {why}")))?;
        rest = tail.trim();
    }
    if rest.starts_with('@') {
        return descriptor(rest, zone);
    }
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ScheduleError(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        )));
    }
    Ok(Schedule::Spec(SpecSchedule {
        minute: field(fields[0], MINUTES)?,
        hour: field(fields[1], HOURS)?,
        day_of_month: field(fields[2], DAYS_OF_MONTH)?,
        month: field(fields[3], MONTHS)?,
        day_of_week: field(fields[4], DAYS_OF_WEEK)?,
        zone,
    }))
}

/// A zone as Go's `time.LoadLocation` names it: "" is UTC, "Local" the system zone.
pub fn load_location(name: &str) -> Result<TimeZone, String> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|_| format!("unknown time zone {name}")),
    }
}

fn all(bounds: Bounds) -> u64 {
    bits(bounds.min, bounds.max, 1) | STAR
}

fn descriptor(spec: &str, zone: TimeZone) -> Result<Schedule, ScheduleError> {
    let first = |bounds: Bounds| 1u64 << bounds.min;
    let (day_of_month, month, day_of_week, hour) = match spec {
        "@yearly" | "@annually" => (
            first(DAYS_OF_MONTH),
            first(MONTHS),
            all(DAYS_OF_WEEK),
            first(HOURS),
        ),
        "@monthly" => (
            first(DAYS_OF_MONTH),
            all(MONTHS),
            all(DAYS_OF_WEEK),
            first(HOURS),
        ),
        "@weekly" => (
            all(DAYS_OF_MONTH),
            all(MONTHS),
            first(DAYS_OF_WEEK),
            first(HOURS),
        ),
        "@daily" | "@midnight" => (
            all(DAYS_OF_MONTH),
            all(MONTHS),
            all(DAYS_OF_WEEK),
            first(HOURS),
        ),
        "@hourly" => (
            all(DAYS_OF_MONTH),
            all(MONTHS),
            all(DAYS_OF_WEEK),
            all(HOURS),
        ),
        _ => {
            if let Some(text) = spec.strip_prefix("@every ") {
                let every = super::duration::parse_go_duration(text).map_err(|why| {
                    ScheduleError(format!("failed to parse duration {spec}: {why}"))
                })?;
                // Less than a second is a second; fractions of a second are dropped.
                let seconds = every.as_secs().max(1);
                return Ok(Schedule::Every(Duration::from_secs(seconds)));
            }
            return Err(ScheduleError(format!("unrecognized descriptor: {spec}")));
        }
    };
    Ok(Schedule::Spec(SpecSchedule {
        minute: first(MINUTES),
        hour,
        day_of_month,
        month,
        day_of_week,
        zone,
    }))
}

fn field(text: &str, bounds: Bounds) -> Result<u64, ScheduleError> {
    let mut set = 0;
    for expression in text.split(',').filter(|part| !part.is_empty()) {
        set |= range(expression, bounds)?;
    }
    Ok(set)
}

fn range(expression: &str, bounds: Bounds) -> Result<u64, ScheduleError> {
    let range_and_step: Vec<&str> = expression.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end, mut extra);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = bounds.min;
        end = bounds.max;
        extra = STAR;
    } else {
        start = int_or_name(low_and_high[0], bounds)?;
        end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], bounds)?,
            _ => return Err(ScheduleError(format!("too many hyphens: {expression}"))),
        };
        extra = 0;
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = number(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = bounds.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(ScheduleError(format!("too many slashes: {expression}"))),
    };
    if start < bounds.min {
        return Err(ScheduleError(format!(
            "beginning of range ({start}) below minimum ({}): {expression}",
            bounds.min
        )));
    }
    if end > bounds.max {
        return Err(ScheduleError(format!(
            "end of range ({end}) above maximum ({}): {expression}",
            bounds.max
        )));
    }
    if start > end {
        return Err(ScheduleError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expression}"
        )));
    }
    if step == 0 {
        return Err(ScheduleError(format!(
            "step of range should be a positive number: {expression}"
        )));
    }
    Ok(bits(start, end, step) | extra)
}

fn int_or_name(text: &str, bounds: Bounds) -> Result<u32, ScheduleError> {
    let lower = text.to_ascii_lowercase();
    if let Some((_, value)) = bounds.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*value);
    }
    number(text)
}

fn number(text: &str) -> Result<u32, ScheduleError> {
    let value: i64 = text.parse().map_err(|_| {
        ScheduleError(format!(
            "failed to parse int from {text}: strconv.Atoi: parsing {text:?}: invalid syntax"
        ))
    })?;
    if value < 0 {
        return Err(ScheduleError(format!(
            "negative number ({value}) not allowed: {text}"
        )));
    }
    // Anything this large is out of every field's range anyway.
    Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

fn bits(min: u32, max: u32, step: u32) -> u64 {
    (min..=max.min(62))
        .step_by(step.max(1) as usize)
        .fold(0, |set, bit| set | (1u64 << bit))
}

impl Schedule {
    /// The first activation strictly after `after`, `None` if none comes within five years
    /// (robfig's limit; a schedule such as Feb 31 never fires).
    pub fn next(&self, after: Timestamp) -> Option<Timestamp> {
        match self {
            Self::Every(every) => {
                let whole = Timestamp::from_second(after.as_second()).ok()?;
                whole.checked_add(*every).ok()
            }
            Self::Spec(spec) => spec.next(after),
        }
    }
}

impl SpecSchedule {
    /// robfig's `SpecSchedule.Next`: months and days move in local (civil) time, hours,
    /// minutes and seconds in elapsed time, so a local time skipped by a DST change never
    /// fires and one repeated fires twice.
    fn next(&self, after: Timestamp) -> Option<Timestamp> {
        let zone = &self.zone;
        let start = Timestamp::from_second(after.as_second())
            .ok()?
            .checked_add(SignedDuration::from_secs(1))
            .ok()?;
        let mut t = start.to_zoned(zone.clone());
        let mut added = false;
        let limit = t.year().checked_add(5)?;
        'wrap: loop {
            if t.year() > limit {
                return None;
            }
            while !has(self.month, t.month()) {
                if !added {
                    added = true;
                    t = local(
                        zone,
                        t.date().first_of_month().to_datetime(Time::midnight()),
                    )?;
                }
                t = local(zone, t.datetime().checked_add(1.month()).ok()?)?;
                if t.month() == 1 {
                    continue 'wrap;
                }
            }
            while !self.day_matches(t.datetime()) {
                if !added {
                    added = true;
                    t = local(zone, t.date().to_datetime(Time::midnight()))?;
                }
                t = local(zone, t.datetime().checked_add(1.day()).ok()?)?;
                // A DST change may have moved midnight.
                let hour = i64::from(t.hour());
                if hour != 0 {
                    let shift = if hour > 12 { 24 - hour } else { -hour };
                    t = t.checked_add(SignedDuration::from_hours(shift)).ok()?;
                }
                if t.day() == 1 {
                    continue 'wrap;
                }
            }
            while !has(self.hour, t.hour()) {
                if !added {
                    added = true;
                    t = local(
                        zone,
                        t.datetime()
                            .with()
                            .minute(0)
                            .second(0)
                            .subsec_nanosecond(0)
                            .build()
                            .ok()?,
                    )?;
                }
                t = t.checked_add(SignedDuration::from_hours(1)).ok()?;
                if t.hour() == 0 {
                    continue 'wrap;
                }
            }
            while !has(self.minute, t.minute()) {
                if !added {
                    added = true;
                    t = t
                        .checked_sub(SignedDuration::from_secs(i64::from(t.second())))
                        .ok()?;
                }
                t = t.checked_add(SignedDuration::from_mins(1)).ok()?;
                if t.minute() == 0 {
                    continue 'wrap;
                }
            }
            // The seconds field of a standard schedule is always 0.
            while t.second() != 0 {
                t = t.checked_add(SignedDuration::from_secs(1)).ok()?;
                if t.second() == 0 {
                    continue 'wrap;
                }
            }
            return Some(t.timestamp());
        }
    }

    /// robfig's rule: with either day field a `*`, both must match; otherwise either.
    fn day_matches(&self, at: DateTime) -> bool {
        let day_of_month = has(self.day_of_month, at.day());
        let day_of_week = has(self.day_of_week, at.weekday().to_sunday_zero_offset());
        if self.day_of_month & STAR != 0 || self.day_of_week & STAR != 0 {
            day_of_month && day_of_week
        } else {
            day_of_month || day_of_week
        }
    }
}

/// A local time in `zone` (a skipped time moves forward, a repeated one is its first).
fn local(zone: &TimeZone, civil: DateTime) -> Option<Zoned> {
    civil.to_zoned(zone.clone()).ok()
}

fn has<T: Into<i64>>(set: u64, value: T) -> bool {
    let value = value.into();
    (0..63).contains(&value) && set & (1u64 << value) != 0
}

#[cfg(test)]
mod tests;
