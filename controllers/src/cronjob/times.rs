//! When a CronJob should have started a Job, as upstream's `mostRecentScheduleTime`,
//! `nextScheduleTime` and `nextScheduleTimeDuration` compute it: only the most recent missed
//! time is run, an estimate of how many were missed decides the "too many missed start
//! times" warning, and `startingDeadlineSeconds` bounds how far back to look.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::schedule::Schedule;
use crate::clock::until;

/// Padding added to requeues against clock skew (upstream's `nextScheduleDelta`).
const NEXT_SCHEDULE_DELTA: SignedDuration = SignedDuration::from_millis(100);

/// More missed times than this is "too many" (upstream's arbitrary 100).
const TOO_MANY_MISSED: i64 = 100;

/// How many schedule times passed unmet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    /// None since the last schedule time.
    None,
    /// At most a hundred.
    Few,
    /// More than a hundred (a clock skew or a long outage).
    Many,
}

/// What the CronJob's history says about its schedule.
#[derive(Clone, Copy, Debug)]
pub struct History {
    /// When the CronJob was created.
    pub created: Timestamp,
    /// The last time a Job was scheduled, if any.
    pub last_schedule: Option<Timestamp>,
    /// `spec.startingDeadlineSeconds`.
    pub starting_deadline_seconds: Option<i64>,
}

/// The outcome of looking back from now.
#[derive(Clone, Copy, Debug)]
pub struct Recent {
    /// The last schedule time, the creation time, or the starting deadline.
    pub earliest: Timestamp,
    /// The latest time a Job should have been created, if any passed.
    pub most_recent: Option<Timestamp>,
    /// How many times were missed.
    pub missed: Missed,
}

/// Why no schedule time can be computed (upstream's text, used in `InvalidSchedule`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time difference between two schedules is less than 1 second")]
pub struct InvalidSchedule;

/// Upstream's `mostRecentScheduleTime`.
pub fn most_recent_schedule_time(
    history: &History,
    now: Timestamp,
    schedule: &Schedule,
    include_starting_deadline: bool,
) -> Result<Recent, (Timestamp, InvalidSchedule)> {
    let mut earliest = history.last_schedule.unwrap_or(history.created);
    if include_starting_deadline {
        if let Some(seconds) = history.starting_deadline_seconds {
            let deadline = now
                .checked_sub(SignedDuration::from_secs(seconds))
                .unwrap_or(now);
            if deadline > earliest {
                earliest = deadline;
            }
        }
    }
    let none = Recent {
        earliest,
        most_recent: None,
        missed: Missed::None,
    };
    // A schedule that never fires again has no spacing between its times.
    let Some(first) = schedule.next(earliest) else {
        return Err((earliest, InvalidSchedule));
    };
    if now < first {
        return Ok(none);
    }
    let Some(second) = schedule.next(first) else {
        return Err((earliest, InvalidSchedule));
    };
    if now < second {
        return Ok(Recent {
            most_recent: Some(first),
            ..none
        });
    }
    let between = rounded_seconds(second.duration_since(first));
    if between < 1 {
        return Err((earliest, InvalidSchedule));
    }
    let elapsed = now.duration_since(first).as_secs();
    let missed_count = elapsed / between + 1;
    // Start one interval before the estimated latest time and let the schedule walk to
    // it: exact for regular schedules and for irregular ones like "30 6-16/4 * * 1-5".
    let back = SignedDuration::from_secs((missed_count - 2).saturating_mul(between));
    let potential_earliest = first.checked_add(back).unwrap_or(first);
    let mut most_recent = None;
    let mut cursor = schedule.next(potential_earliest);
    while let Some(time) = cursor.filter(|time| *time <= now) {
        most_recent = Some(time);
        cursor = schedule.next(time);
    }
    let missed = if missed_count > TOO_MANY_MISSED {
        Missed::Many
    } else if missed_count > 0 {
        Missed::Few
    } else {
        Missed::None
    };
    Ok(Recent {
        earliest,
        most_recent,
        missed,
    })
}

/// Upstream's `nextScheduleTime`: the unmet schedule time to act on now, if any, and
/// whether too many were missed (for the `TooManyMissedTimes` warning).
pub fn next_schedule_time(
    history: &History,
    now: Timestamp,
    schedule: &Schedule,
) -> Result<Option<(Timestamp, Missed)>, InvalidSchedule> {
    match most_recent_schedule_time(history, now, schedule, true) {
        Ok(recent) => Ok(recent
            .most_recent
            .filter(|time| *time <= now)
            .map(|time| (time, recent.missed))),
        Err((_, error)) => Err(error),
    }
}

/// Upstream's `nextScheduleTimeDuration`: how long until the next schedule time (plus a
/// little padding), `None` if the schedule never fires again.
pub fn next_schedule_delay(
    history: &History,
    now: Timestamp,
    schedule: &Schedule,
) -> Option<Duration> {
    let from = match most_recent_schedule_time(history, now, schedule, false) {
        Err(_) => now,
        Ok(Recent {
            most_recent: Some(time),
            ..
        }) => time,
        Ok(Recent {
            earliest,
            missed: Missed::None,
            ..
        }) => earliest,
        Ok(_) => now,
    };
    let next = schedule.next(from)?.checked_add(NEXT_SCHEDULE_DELTA).ok()?;
    Some(until(now, next))
}

/// Go's `Duration.Round(time.Second).Seconds()` as an integer.
fn rounded_seconds(duration: SignedDuration) -> i64 {
    let nanos = duration.as_nanos();
    let rounded = if nanos >= 0 {
        (nanos + 500_000_000) / 1_000_000_000
    } else {
        (nanos - 500_000_000) / 1_000_000_000
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use jiff::Timestamp;

    use super::{
        most_recent_schedule_time, next_schedule_delay, next_schedule_time, History, Missed,
    };
    use crate::cronjob::schedule::{parse_standard, Schedule};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn every_minute() -> Schedule {
        match parse_standard("*/1 * * * *", &TimeZone::UTC) {
            Ok(schedule) => schedule,
            Err(error) => panic!("{error}"),
        }
    }

    fn history(created: &str, last: Option<&str>, deadline: Option<i64>) -> History {
        History {
            created: at(created),
            last_schedule: last.map(at),
            starting_deadline_seconds: deadline,
        }
    }

    #[test]
    fn nothing_due_before_the_first_time() {
        let h = history("2024-05-01T10:00:30Z", None, None);
        let due = next_schedule_time(&h, at("2024-05-01T10:00:50Z"), &every_minute());
        assert_eq!(due, Ok(None));
        let delay = next_schedule_delay(&h, at("2024-05-01T10:00:50Z"), &every_minute());
        assert_eq!(delay.map(|d| d.as_millis()), Some(10_100));
    }

    #[test]
    fn the_most_recent_missed_time_is_run() {
        let h = history("2024-05-01T10:00:30Z", Some("2024-05-01T10:01:00Z"), None);
        let due = next_schedule_time(&h, at("2024-05-01T10:05:10Z"), &every_minute());
        assert_eq!(due, Ok(Some((at("2024-05-01T10:05:00Z"), Missed::Few))));
        let delay = next_schedule_delay(&h, at("2024-05-01T10:05:10Z"), &every_minute());
        assert_eq!(delay.map(|d| d.as_millis()), Some(50_100));
    }

    #[test]
    fn too_many_missed_and_the_starting_deadline() {
        let h = history("2024-05-01T00:00:00Z", None, None);
        let now = at("2024-05-01T05:00:30Z");
        let recent =
            most_recent_schedule_time(&h, now, &every_minute(), true).map_err(|(_, error)| error);
        assert!(matches!(
            recent,
            Ok(r) if r.missed == Missed::Many && r.most_recent == Some(at("2024-05-01T05:00:00Z"))
        ));
        // A 20s starting deadline leaves nothing to run 30s after the last time.
        let h = history("2024-05-01T00:00:00Z", None, Some(20));
        assert_eq!(next_schedule_time(&h, now, &every_minute()), Ok(None));
    }

    #[test]
    fn a_date_that_never_comes_is_invalid() {
        let Ok(never) = parse_standard("0 0 31 2 *", &TimeZone::UTC) else {
            panic!("Feb 31 parses");
        };
        let h = history("2024-05-01T00:00:00Z", None, None);
        assert!(next_schedule_time(&h, at("2024-06-01T00:00:00Z"), &never).is_err());
    }
}
