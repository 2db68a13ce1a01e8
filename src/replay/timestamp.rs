//! Reading a timestamp: unix seconds, unix milliseconds or RFC 3339.

use std::fmt;

#[cfg(feature = "json")]
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The latest instant accepted, 9999-12-31T23:59:59.999Z, in unix
/// milliseconds. Anything later is absurd for a delivery and would only
/// invite overflow in the arithmetic that follows.
pub(crate) const MAX_UNIX_MILLIS: i64 = 253_402_300_799_999;

/// Longer input is refused before any parsing, so a huge header costs
/// nothing. The longest RFC 3339 value (nanoseconds and an offset) is 35
/// bytes.
const MAX_LEN: usize = 64;

/// Below this, [`TimestampFormat::Auto`] reads a number as seconds; from it
/// on, as milliseconds. 10¹¹ seconds is the year 5138, 10¹¹ milliseconds is
/// March 1973: no current timestamp is ambiguous.
const AUTO_MILLIS_FROM: u64 = 100_000_000_000;

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Digits are unix seconds below 10¹¹ and unix milliseconds from 10¹¹
    /// on (the cut-off is the year 5138 in seconds, 1973 in milliseconds);
    /// anything else is read as RFC 3339.
    #[default]
    Auto,
    /// Unix seconds: ASCII digits only (`1700000000`), or a JSON integer.
    Seconds,
    /// Unix milliseconds: ASCII digits only (`1700000000123`), or a JSON
    /// integer.
    Milliseconds,
    /// RFC 3339 (`2023-11-14T22:13:20Z`, `2023-11-14T22:13:20.5+01:00`),
    /// with any offset and up to nanosecond precision; sub-millisecond
    /// digits are truncated.
    Rfc3339,
}

/// Why a timestamp was not understood. Every variant is answered with
/// `timestamp_malformed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampError {
    /// The value is empty.
    Empty,
    /// The value is longer than any timestamp.
    TooLong,
    /// The value is not written in the expected format (signs, decimals,
    /// exponents, whitespace and non-ASCII digits included).
    Malformed,
    /// The value is before 1970 or after the year 9999.
    OutOfRange,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampError::Empty => "timestamp is empty",
            TimestampError::TooLong => "timestamp is too long",
            TimestampError::Malformed => "timestamp is not in the expected format",
            TimestampError::OutOfRange => "timestamp is before 1970 or after 9999",
        })
    }
}

impl std::error::Error for TimestampError {}

impl TimestampFormat {
    /// Parse `text` into unix milliseconds, up to the last millisecond of year 9999
    /// (253,402,300,799,999).
    ///
    /// Strict: no surrounding whitespace, no sign, no fraction of a second in
    /// the numeric formats. Never panics, whatever the input.
    ///
    /// ```
    /// use tower_webhook::replay::TimestampFormat;
    ///
    /// assert_eq!(TimestampFormat::Seconds.parse("1700000000"), Some(1_700_000_000_000));
    /// assert_eq!(TimestampFormat::Auto.parse("1700000000123"), Some(1_700_000_000_123));
    /// assert_eq!(
    ///     TimestampFormat::Rfc3339.parse("2023-11-14T23:13:20.5+01:00"),
    ///     Some(1_700_000_000_500)
    /// );
    /// assert_eq!(TimestampFormat::Seconds.parse("-1"), None);
    /// assert_eq!(TimestampFormat::Auto.parse("10000-01-01T00:00:00Z"), None);
    /// ```
    pub fn parse(self, text: &str) -> Option<i64> {
        self.read(text).ok()
    }

    /// [`parse`](Self::parse), saying why a text is refused.
    pub(crate) fn read(self, text: &str) -> Result<i64, TimestampError> {
        if text.is_empty() {
            return Err(TimestampError::Empty);
        }
        if text.len() > MAX_LEN {
            return Err(TimestampError::TooLong);
        }
        let digits = text.bytes().all(|b| b.is_ascii_digit());
        match self {
            TimestampFormat::Auto if digits => auto(parse_digits(text)?),
            TimestampFormat::Auto | TimestampFormat::Rfc3339 => rfc3339(text),
            TimestampFormat::Seconds if digits => seconds(parse_digits(text)?),
            TimestampFormat::Milliseconds if digits => milliseconds(parse_digits(text)?),
            TimestampFormat::Seconds | TimestampFormat::Milliseconds => {
                Err(TimestampError::Malformed)
            }
        }
    }

    /// Parse a JSON value: a string as [`parse`](Self::parse) does, or, for
    /// the numeric formats, a non-negative integer. Floats, exponents,
    /// negative numbers and other JSON types are malformed.
    #[cfg(feature = "json")]
    pub(crate) fn parse_json(self, value: &Value) -> Result<i64, TimestampError> {
        match value {
            Value::String(text) => self.read(text),
            Value::Number(number) => {
                let Some(number) = number.as_u64() else {
                    return Err(TimestampError::Malformed);
                };
                match self {
                    TimestampFormat::Auto => auto(number),
                    TimestampFormat::Seconds => seconds(number),
                    TimestampFormat::Milliseconds => milliseconds(number),
                    TimestampFormat::Rfc3339 => Err(TimestampError::Malformed),
                }
            }
            _ => Err(TimestampError::Malformed),
        }
    }
}

fn parse_digits(text: &str) -> Result<u64, TimestampError> {
    // Only ASCII digits reach here; the one failure left is overflow.
    text.parse().map_err(|_| TimestampError::OutOfRange)
}

fn auto(number: u64) -> Result<i64, TimestampError> {
    if number < AUTO_MILLIS_FROM {
        seconds(number)
    } else {
        milliseconds(number)
    }
}

fn seconds(number: u64) -> Result<i64, TimestampError> {
    number
        .checked_mul(1000)
        .ok_or(TimestampError::OutOfRange)
        .and_then(milliseconds)
}

fn milliseconds(number: u64) -> Result<i64, TimestampError> {
    i64::try_from(number)
        .ok()
        .filter(|millis| *millis <= MAX_UNIX_MILLIS)
        .ok_or(TimestampError::OutOfRange)
}

fn rfc3339(text: &str) -> Result<i64, TimestampError> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError::Malformed)?;
    let millis = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(millis)
        .ok()
        .filter(|millis| (0..=MAX_UNIX_MILLIS).contains(millis))
        .ok_or(TimestampError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimestampFormat::{Auto, Milliseconds, Seconds};
    const RFC3339: TimestampFormat = TimestampFormat::Rfc3339;

    #[test]
    fn absurd_values_are_refused() {
        let cases: &[(TimestampFormat, &str, TimestampError)] = &[
            (Auto, "", TimestampError::Empty),
            (Seconds, " ", TimestampError::Malformed),
            (Seconds, " 1700000000", TimestampError::Malformed),
            (Seconds, "+1700000000", TimestampError::Malformed),
            (Seconds, "-1", TimestampError::Malformed),
            (Seconds, "1e99", TimestampError::Malformed),
            (Seconds, "1700000000.5", TimestampError::Malformed),
            (Seconds, "１７００００００００", TimestampError::Malformed),
            (Seconds, "9223372036854775807", TimestampError::OutOfRange),
            (
                Milliseconds,
                "9223372036854775807",
                TimestampError::OutOfRange,
            ),
            (
                Milliseconds,
                "99999999999999999999",
                TimestampError::OutOfRange,
            ),
            (Seconds, "253402300800", TimestampError::OutOfRange),
            (RFC3339, "10000-01-01T00:00:00Z", TimestampError::Malformed),
            (RFC3339, "1969-12-31T23:59:59Z", TimestampError::OutOfRange),
            (RFC3339, "1700000000", TimestampError::Malformed),
            (Auto, "0000-01-01T00:00:00Z", TimestampError::OutOfRange),
            (Auto, &"1".repeat(65), TimestampError::TooLong),
        ];
        for (format, text, error) in cases {
            assert_eq!(format.read(text), Err(*error), "{format:?} {text:?}");
        }
    }

    #[test]
    fn limits_of_the_range() {
        assert_eq!(Seconds.read("0"), Ok(0));
        assert_eq!(Seconds.read("253402300799"), Ok(MAX_UNIX_MILLIS - 999));
        assert_eq!(Milliseconds.read("253402300799999"), Ok(MAX_UNIX_MILLIS));
        assert_eq!(
            RFC3339.read("9999-12-31T23:59:59.999999999Z"),
            Ok(MAX_UNIX_MILLIS)
        );
        // An offset can push a 9999 date past the range.
        assert_eq!(
            RFC3339.read("9999-12-31T23:59:59-01:00"),
            Err(TimestampError::OutOfRange)
        );
    }

    #[test]
    fn auto_tells_seconds_from_milliseconds() {
        assert_eq!(Auto.read("99999999999"), Ok(99_999_999_999_000));
        assert_eq!(Auto.read("100000000000"), Ok(100_000_000_000));
        assert_eq!(Auto.read("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_values() {
        use serde_json::json;
        assert_eq!(
            Seconds.parse_json(&json!(1_700_000_000)),
            Ok(1_700_000_000_000)
        );
        assert_eq!(Auto.parse_json(&json!("1700000000")), Ok(1_700_000_000_000));
        for value in [
            json!(-1),
            json!(1.7e9),
            json!(null),
            json!(true),
            json!([1_700_000_000]),
            json!({"seconds": 1}),
        ] {
            assert_eq!(Seconds.parse_json(&value), Err(TimestampError::Malformed));
        }
        assert_eq!(
            RFC3339.parse_json(&json!(1)),
            Err(TimestampError::Malformed)
        );
        assert_eq!(
            Seconds.parse_json(&json!(u64::MAX)),
            Err(TimestampError::OutOfRange)
        );
    }
}
