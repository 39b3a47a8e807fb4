use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{parse_standard, Schedule};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn parse(spec: &str) -> Schedule {
    match parse_standard(spec, &TimeZone::UTC) {
        Ok(schedule) => schedule,
        Err(error) => panic!("{spec}: {error}"),
    }
}

fn next(spec: &str, after: &str) -> String {
    parse(spec)
        .next(at(after))
        .map(|time| time.to_string())
        .unwrap_or_default()
}

fn error(spec: &str) -> String {
    parse_standard(spec, &TimeZone::UTC)
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default()
}

#[test]
fn every_minute_and_steps() {
    assert_eq!(
        next("*/1 * * * *", "2024-05-01T10:00:00Z"),
        "2024-05-01T10:01:00Z"
    );
    assert_eq!(
        next("* * * * *", "2024-05-01T10:00:30.5Z"),
        "2024-05-01T10:01:00Z"
    );
    assert_eq!(
        next("*/15 * * * *", "2024-05-01T10:16:00Z"),
        "2024-05-01T10:30:00Z"
    );
    assert_eq!(
        next("5/20 * * * *", "2024-05-01T10:46:00Z"),
        "2024-05-01T11:05:00Z"
    );
    assert_eq!(
        next("0 9-17/4 * * *", "2024-05-01T13:00:00Z"),
        "2024-05-01T17:00:00Z"
    );
}

#[test]
fn lists_names_and_days() {
    // Weekdays by name: 2024-05-04 is a Saturday, so the next weekday 08:00 is Monday.
    assert_eq!(
        next("0 8 * * MON-FRI", "2024-05-03T09:00:00Z"),
        "2024-05-06T08:00:00Z"
    );
    assert_eq!(
        next("30 6 1,15 * *", "2024-05-02T00:00:00Z"),
        "2024-05-15T06:30:00Z"
    );
    assert_eq!(
        next("0 0 1 jan *", "2024-05-02T00:00:00Z"),
        "2025-01-01T00:00:00Z"
    );
    // Both day fields restricted: either matches (the 13th or any Friday).
    assert_eq!(
        next("0 0 13 * 5", "2024-05-01T00:00:00Z"),
        "2024-05-03T00:00:00Z"
    );
    // February 29th: the next leap year.
    assert_eq!(
        next("0 0 29 2 *", "2024-03-01T00:00:00Z"),
        "2028-02-29T00:00:00Z"
    );
    // February 31st never comes.
    assert_eq!(next("0 0 31 2 *", "2024-03-01T00:00:00Z"), "");
}

#[test]
fn descriptors() {
    assert_eq!(
        next("@hourly", "2024-05-01T10:00:00Z"),
        "2024-05-01T11:00:00Z"
    );
    assert_eq!(
        next("@daily", "2024-05-01T10:00:00Z"),
        "2024-05-02T00:00:00Z"
    );
    assert_eq!(
        next("@weekly", "2024-05-01T10:00:00Z"),
        "2024-05-05T00:00:00Z"
    );
    assert_eq!(
        next("@monthly", "2024-05-01T10:00:00Z"),
        "2024-06-01T00:00:00Z"
    );
    assert_eq!(
        next("@yearly", "2024-05-01T10:00:00Z"),
        "2025-01-01T00:00:00Z"
    );
    assert_eq!(
        next("@every 90s", "2024-05-01T10:00:00.7Z"),
        "2024-05-01T10:01:30Z"
    );
}

#[test]
fn zones_and_daylight_saving() {
    assert_eq!(
        next("TZ=America/New_York 0 9 * * *", "2024-05-01T00:00:00Z"),
        "2024-05-01T13:00:00Z"
    );
    assert_eq!(
        next("CRON_TZ=Asia/Tokyo 0 9 * * *", "2024-05-01T00:00:00Z"),
        "2024-05-02T00:00:00Z"
    );
    // 02:30 does not exist in New York on 2024-03-10: that day is skipped.
    assert_eq!(
        next("TZ=America/New_York 30 2 * * *", "2024-03-09T08:00:00Z"),
        "2024-03-11T06:30:00Z"
    );
    // 01:30 happens twice on 2024-11-03: both occurrences fire.
    assert_eq!(
        next("TZ=America/New_York 30 1 * * *", "2024-11-03T05:00:00Z"),
        "2024-11-03T05:30:00Z"
    );
    assert_eq!(
        next("TZ=America/New_York 30 1 * * *", "2024-11-03T05:30:00Z"),
        "2024-11-03T06:30:00Z"
    );
}

#[test]
fn robfig_errors() {
    assert_eq!(error(""), "empty spec string");
    assert_eq!(
        error("* * * *"),
        "expected exactly 5 fields, found 4: [* * * *]"
    );
    assert_eq!(
        error("61 * * * *"),
        "end of range (61) above maximum (59): 61"
    );
    assert_eq!(
        error("* * 0 * *"),
        "beginning of range (0) below minimum (1): 0"
    );
    assert_eq!(
        error("5-1 * * * *"),
        "beginning of range (5) beyond end of range (1): 5-1"
    );
    assert_eq!(error("1-2-3 * * * *"), "too many hyphens: 1-2-3");
    assert_eq!(error("*/2/3 * * * *"), "too many slashes: */2/3");
    assert_eq!(
        error("*/0 * * * *"),
        "step of range should be a positive number: */0"
    );
    assert_eq!(
        error("x * * * *"),
        "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
    );
    assert_eq!(error("* * * * 7"), "end of range (7) above maximum (6): 7");
    assert_eq!(error("@often"), "unrecognized descriptor: @often");
    assert_eq!(
        error("TZ=Nowhere/Atall * * * * *"),
        "provided bad location Nowhere/Atall: unknown time zone Nowhere/Atall"
    );
}
