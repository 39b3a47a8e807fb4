//! The JSON forms of the apimachinery types whose wire form is not their JSON form: times
//! and int-or-strings. Written to match Go's encoders byte for byte.

use serde_json::Value;

use super::wire::WireError;

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) since the Unix epoch.
const GO_ZERO_SECONDS: i64 = -62_135_596_800;

/// `metav1.Time`: upstream drops the nanoseconds when decoding protobuf, and writes whole
/// seconds in RFC 3339 (`2006-01-02T15:04:05Z`); the zero time is `null`.
pub(super) fn time(seconds: i64) -> Result<Value, WireError> {
    if seconds == GO_ZERO_SECONDS {
        return Ok(Value::Null);
    }
    Ok(Value::String(format!("{}Z", civil(seconds)?)))
}

/// `metav1.MicroTime`: nanoseconds truncated to microseconds, written with six fractional
/// digits (`2006-01-02T15:04:05.000000Z`); the zero time is `null`.
pub(super) fn micro_time(seconds: i64, nanos: i32) -> Result<Value, WireError> {
    let micros = i64::from(nanos) / 1000;
    // Go normalizes nanoseconds outside [0, 1s) into the seconds.
    let seconds = seconds + micros.div_euclid(1_000_000);
    let micros = micros.rem_euclid(1_000_000);
    if seconds == GO_ZERO_SECONDS && micros == 0 {
        return Ok(Value::Null);
    }
    Ok(Value::String(format!("{}.{micros:06}Z", civil(seconds)?)))
}

/// `2006-01-02T15:04:05` in UTC.
fn civil(seconds: i64) -> Result<String, WireError> {
    let timestamp = jiff::Timestamp::from_second(seconds)
        .map_err(|_| WireError::Invalid(format!("time out of range: {seconds} seconds")))?;
    Ok(timestamp.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

/// `intstr.IntOrString`: a number for type 0, a string for type 1.
pub(super) fn int_or_string(
    kind: i64,
    int_value: i32,
    string_value: String,
) -> Result<Value, WireError> {
    match kind {
        0 => Ok(Value::from(int_value)),
        1 => Ok(Value::String(string_value)),
        _ => Err(WireError::Invalid("impossible IntOrString.Type".to_owned())),
    }
}

/// A `double` as Go's JSON encoder writes it: integers without a fraction.
pub(super) fn double(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{double, int_or_string, micro_time, time, WireError};

    #[test]
    fn times_read_like_go() -> Result<(), WireError> {
        assert_eq!(time(1_700_000_000)?, json!("2023-11-14T22:13:20Z"));
        assert_eq!(time(0)?, json!("1970-01-01T00:00:00Z"));
        assert_eq!(time(-62_135_596_800)?, json!(null));
        assert_eq!(
            micro_time(1_700_000_000, 123_456_789)?,
            json!("2023-11-14T22:13:20.123456Z")
        );
        assert_eq!(
            micro_time(1_700_000_000, 0)?,
            json!("2023-11-14T22:13:20.000000Z")
        );
        assert_eq!(micro_time(-62_135_596_800, 999)?, json!(null));
        assert!(time(i64::MAX).is_err());
        Ok(())
    }

    #[test]
    fn int_or_string_and_doubles() -> Result<(), WireError> {
        assert_eq!(int_or_string(0, 8080, String::new())?, json!(8080));
        assert_eq!(int_or_string(1, 0, "http".to_owned())?, json!("http"));
        assert!(int_or_string(2, 0, String::new()).is_err());
        assert_eq!(double(2.0), json!(2));
        assert_eq!(double(0.5), json!(0.5));
        assert_eq!(double(f64::NAN), json!(null));
        Ok(())
    }
}
