//! How a timestamp is written, and reading it in one of two modes.
//!
//! The signature layer and the replay layer read the same formats but ask
//! different questions, so one [`TimestampFormat`] has two parsers over the
//! same RFC 3339 reader (the `time` crate's):
//!
//! * [`TimestampFormat::parse`] is **strict**: a value has exactly one
//!   accepted spelling in the decimal formats (no leading zero, no sign, no
//!   space, no `+`), and RFC 3339 takes a `T` between date and time and at
//!   most nine fraction digits, so the bytes a provider signed cannot be
//!   re-spelled. Several providers sign a timestamp glued to another field
//!   with no separator (HubSpot `{body}{timestamp}`, Mailgun
//!   `{timestamp}{token}`, SendGrid and Discord `{timestamp}{body}`); for
//!   those the width is fixed as well
//!   ([`TimestampFormat::parse_fixed_width`]: 10 digits of seconds, 13 of
//!   milliseconds), so no byte can move between the timestamp and its
//!   neighbour without the timestamp being refused. RFC 3339 needs no fixed
//!   width: its text starts with `YYYY-` and ends with `Z` or `±HH:MM`, so
//!   no accepted text is a proper prefix or suffix of another.
//! * [`TimestampFormat::parse_lenient`] is what a replay window reads: a
//!   value that only positions a request in time, leading zeros allowed,
//!   any instant from 1970 to the year 9999.

use std::fmt;

#[cfg(feature = "json")]
use serde_json::Value;
use time::format_description::well_known::iso8601::{Config, FormattedComponents, TimePrecision};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

/// The latest instant [`TimestampFormat::parse_lenient`] accepts,
/// 9999-12-31T23:59:59.999Z, in unix milliseconds. Anything later is absurd
/// for a delivery and would only invite overflow in the arithmetic that
/// follows.
pub(crate) const MAX_UNIX_MILLIS: i64 = 253_402_300_799_999;

/// Longer input is refused before any parsing, so a huge header costs
/// nothing. The longest RFC 3339 value (nanoseconds and an offset) is 35
/// bytes.
const MAX_LEN: usize = 64;

/// Below this, [`TimestampFormat::Auto`] reads a number as seconds; from it
/// on, as milliseconds. 10¹¹ seconds is the year 5138, 10¹¹ milliseconds is
/// March 1973: no current timestamp is ambiguous.
const AUTO_MILLIS_FROM: u64 = 100_000_000_000;

/// The digits of Unix seconds from 2001-09-09 to 2286-11-20.
const UNIX_SECONDS_DIGITS: usize = 10;

/// The digits of Unix milliseconds from 2001-09-09 to 2286-11-20.
const UNIX_MILLIS_DIGITS: usize = 13;

/// How a timestamp is written: by a signature scheme (strict,
/// [`parse`](Self::parse)) or in what a replay window reads (lenient,
/// [`parse_lenient`](Self::parse_lenient)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Digits are unix seconds below 10¹¹ and unix milliseconds from 10¹¹
    /// on (the cut-off is the year 5138 in seconds, 1973 in milliseconds);
    /// anything else is read as RFC 3339. The replay layer's default; a
    /// scheme that glues its timestamp to another field cannot use it.
    #[default]
    Auto,
    /// Decimal Unix seconds (`1700000000`), or a JSON integer.
    Seconds,
    /// Decimal Unix milliseconds (`1700000000000`, HubSpot), or a JSON
    /// integer.
    Millis,
    /// RFC 3339 with any offset and up to nanosecond precision
    /// (`2023-11-14T22:13:20Z`, `2019-11-16T10:11:12.634234626Z` from Twitch,
    /// `2023-11-14T23:13:20.5+01:00`); sub-millisecond digits are truncated.
    Rfc3339,
    /// An RFC 3339 date and time with no offset at all, read as UTC,
    /// fractional seconds allowed (`2024-03-27T15:42:29.551`, Orb). A text
    /// with an offset is not this format.
    Rfc3339NoOffset,
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
    /// Strict: milliseconds since the Unix epoch, or `None` if `text` is not
    /// this format's canonical spelling: decimals without a leading zero
    /// (`0` itself excepted), sign or space and of at most 18 digits; RFC
    /// 3339 with `T` between date and time and at most nine fraction
    /// digits. What a signature covers is read this way.
    ///
    /// ```
    /// use tower_webhook::TimestampFormat;
    ///
    /// assert_eq!(TimestampFormat::Seconds.parse(b"1700000000"), Some(1_700_000_000_000));
    /// assert_eq!(TimestampFormat::Seconds.parse(b"01700000000"), None);
    /// assert_eq!(TimestampFormat::Rfc3339.parse(b"2023-11-14 22:13:20Z"), None);
    /// ```
    pub fn parse(self, text: &[u8]) -> Option<i64> {
        match self {
            TimestampFormat::Auto => match canonical_decimal(text) {
                Some(number) => auto(number.unsigned_abs()).ok(),
                None => rfc3339(canonical_rfc3339(text)?, true).ok(),
            },
            TimestampFormat::Seconds => canonical_decimal(text)?.checked_mul(1000),
            TimestampFormat::Millis => canonical_decimal(text),
            TimestampFormat::Rfc3339 => rfc3339(canonical_rfc3339(text)?, true).ok(),
            TimestampFormat::Rfc3339NoOffset => rfc3339(canonical_rfc3339(text)?, false).ok(),
        }
    }

    /// Lenient: unix milliseconds from 1970 up to the last millisecond of
    /// year 9999 (253,402,300,799,999), as a replay window reads a
    /// timestamp: leading zeros allowed, RFC 3339 with any date-time
    /// separator and any number of fraction digits. Still no surrounding
    /// whitespace, no sign, no fraction of a second in the numeric formats.
    /// Never panics, whatever the input.
    ///
    /// ```
    /// use tower_webhook::TimestampFormat;
    ///
    /// assert_eq!(TimestampFormat::Seconds.parse_lenient("1700000000"), Some(1_700_000_000_000));
    /// assert_eq!(TimestampFormat::Auto.parse_lenient("1700000000123"), Some(1_700_000_000_123));
    /// assert_eq!(
    ///     TimestampFormat::Rfc3339.parse_lenient("2023-11-14T23:13:20.5+01:00"),
    ///     Some(1_700_000_000_500)
    /// );
    /// assert_eq!(TimestampFormat::Seconds.parse_lenient("-1"), None);
    /// assert_eq!(TimestampFormat::Auto.parse_lenient("10000-01-01T00:00:00Z"), None);
    /// ```
    pub fn parse_lenient(self, text: &str) -> Option<i64> {
        self.read(text).ok()
    }

    /// [`parse_lenient`](Self::parse_lenient), saying why a text is refused.
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
            TimestampFormat::Seconds if digits => seconds(parse_digits(text)?),
            TimestampFormat::Millis if digits => milliseconds(parse_digits(text)?),
            TimestampFormat::Seconds | TimestampFormat::Millis => Err(TimestampError::Malformed),
            TimestampFormat::Auto | TimestampFormat::Rfc3339 => in_range(rfc3339(text, true)),
            TimestampFormat::Rfc3339NoOffset => in_range(rfc3339(text, false)),
        }
    }

    /// Parse a JSON value: a string as [`parse_lenient`](Self::parse_lenient)
    /// does, or, for the numeric formats, a non-negative integer. Floats,
    /// exponents, negative numbers and other JSON types are malformed.
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
                    TimestampFormat::Millis => milliseconds(number),
                    TimestampFormat::Rfc3339 | TimestampFormat::Rfc3339NoOffset => {
                        Err(TimestampError::Malformed)
                    }
                }
            }
            _ => Err(TimestampError::Malformed),
        }
    }

    /// The exact length of a decimal timestamp where a provider glues it to
    /// another field without a separator: 10 digits of seconds and 13 of
    /// milliseconds (every instant from September 2001 to November 2286).
    /// `None` for the other formats: RFC 3339 delimits itself, and neither
    /// its offset-less form nor [`Auto`](Self::Auto) can be glued at all
    /// (see [`parse_fixed_width`](Self::parse_fixed_width)).
    pub const fn fixed_width(self) -> Option<usize> {
        match self {
            TimestampFormat::Seconds => Some(UNIX_SECONDS_DIGITS),
            TimestampFormat::Millis => Some(UNIX_MILLIS_DIGITS),
            TimestampFormat::Auto | TimestampFormat::Rfc3339 | TimestampFormat::Rfc3339NoOffset => {
                None
            }
        }
    }

    /// Like [`parse`](Self::parse), and of exactly
    /// [`fixed_width`](Self::fixed_width) bytes where the format has one.
    /// No accepted text is then a proper prefix or suffix of another, so a
    /// timestamp next to an unseparated field keeps its boundary.
    ///
    /// An offset-less RFC 3339 text is never accepted here: nothing marks
    /// where its fraction ends, so glued to another field its boundary could
    /// move; nor is [`Auto`](Self::Auto), whose numbers have no width. A
    /// scheme that glues either verifies nothing.
    pub fn parse_fixed_width(self, text: &[u8]) -> Option<i64> {
        match self {
            TimestampFormat::Auto | TimestampFormat::Rfc3339NoOffset => None,
            _ => match self.fixed_width() {
                Some(width) if text.len() != width => None,
                _ => self.parse(text),
            },
        }
    }

    /// `unix_seconds` written in this format, if it fits the format's
    /// [fixed width](Self::fixed_width): what a sender of a scheme that
    /// glues the timestamp to another field may send.
    pub fn format_fixed_width(self, unix_seconds: i64) -> Option<String> {
        let text = self.format(unix_seconds)?;
        self.parse_fixed_width(text.as_bytes()).map(|_| text)
    }

    /// `unix_seconds` written in this format: decimals for the numeric
    /// formats ([`Auto`](Self::Auto) writes seconds), RFC 3339 with
    /// nanoseconds and `Z` (Twitch's form), the offset-less form with
    /// milliseconds (Orb's). `None` outside the years 0 to 9999 in RFC 3339.
    pub fn format(self, unix_seconds: i64) -> Option<String> {
        const MILLIS_NO_OFFSET: Config = Config::DEFAULT
            .set_formatted_components(FormattedComponents::DateTime)
            .set_time_precision(TimePrecision::Second {
                decimal_digits: std::num::NonZeroU8::new(3),
            });
        match self {
            TimestampFormat::Auto | TimestampFormat::Seconds => Some(unix_seconds.to_string()),
            TimestampFormat::Millis => unix_seconds.checked_mul(1000).map(|ms| ms.to_string()),
            // ISO 8601's default is RFC 3339 with nine fraction digits.
            TimestampFormat::Rfc3339 => format_with(unix_seconds, &Iso8601::DEFAULT),
            TimestampFormat::Rfc3339NoOffset => {
                format_with(unix_seconds, &Iso8601::<{ MILLIS_NO_OFFSET.encode() }>)
            }
        }
    }
}

/// `unix_seconds` as RFC 3339 in UTC, whole seconds and `Z`, exactly as the
/// `time` crate writes it (Shopify's `X-Shopify-Triggered-At`); `None`
/// outside the years 0 to 9999.
pub(crate) fn rfc3339_seconds(unix_seconds: i64) -> Option<String> {
    format_with(unix_seconds, &Rfc3339)
}

fn format_with(
    unix_seconds: i64,
    format: &(impl time::formatting::Formattable + ?Sized),
) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp(unix_seconds).ok()?;
    if !(0..=9999).contains(&at.year()) {
        return None;
    }
    at.format(format).ok()
}

/// A non-negative decimal of at most 18 digits in its one canonical
/// spelling: no sign, no space, no leading zero.
fn canonical_decimal(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || (text.len() > 1 && text[0] == b'0') {
        return None;
    }
    text.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// `text` if its spelling is one the strict parser accepts, before the
/// `time` crate reads it: that reader takes any byte between date and time
/// and any number of fraction digits, two ways to re-spell a signed text.
fn canonical_rfc3339(text: &[u8]) -> Option<&str> {
    if text.len() > MAX_LEN || !matches!(text.get(10), Some(b'T' | b't')) {
        return None;
    }
    if let Some((b'.', fraction)) = text.get(19..).and_then(<[u8]>::split_first) {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 9 {
            return None;
        }
    }
    std::str::from_utf8(text).ok()
}

/// Unix milliseconds of an RFC 3339 text (`offset`), or of one without an
/// offset read as UTC; sub-millisecond digits truncated.
fn rfc3339(text: &str, offset: bool) -> Result<i64, TimestampError> {
    let at = if offset {
        OffsetDateTime::parse(text, &Rfc3339)
    } else {
        // The same reader on the text with `Z` appended, on the stack: a
        // text that had an offset now has two and is refused.
        let mut buffer = [0u8; MAX_LEN + 1];
        let with_utc = buffer
            .get_mut(..text.len() + 1)
            .ok_or(TimestampError::TooLong)?;
        with_utc[..text.len()].copy_from_slice(text.as_bytes());
        with_utc[text.len()] = b'Z';
        let with_utc = std::str::from_utf8(with_utc).map_err(|_| TimestampError::Malformed)?;
        OffsetDateTime::parse(with_utc, &Rfc3339)
    }
    .map_err(|_| TimestampError::Malformed)?;
    let millis = at.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(millis).map_err(|_| TimestampError::OutOfRange)
}

fn in_range(millis: Result<i64, TimestampError>) -> Result<i64, TimestampError> {
    millis.and_then(|millis| {
        if (0..=MAX_UNIX_MILLIS).contains(&millis) {
            Ok(millis)
        } else {
            Err(TimestampError::OutOfRange)
        }
    })
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

#[cfg(test)]
mod strict_tests {
    use super::TimestampFormat::*;

    #[test]
    fn seconds_and_millis() {
        assert_eq!(Seconds.parse(b"1700000000"), Some(1_700_000_000_000));
        assert_eq!(Millis.parse(b"1700000000123"), Some(1_700_000_000_123));
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b" 1",
            b"1e3",
            b"1234567890123456789",
            b"01700000000",
            b"00",
            b"1700000000 ",
            b"17000 00000",
        ] {
            assert_eq!(Seconds.parse(bad), None, "{bad:?}");
        }
        assert_eq!(Seconds.parse(b"0"), Some(0));
    }

    #[test]
    fn fixed_width() {
        assert_eq!(
            Seconds.parse_fixed_width(b"1700000000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            Millis.parse_fixed_width(b"1693657560000"),
            Some(1_693_657_560_000)
        );
        for (format, bad) in [
            (Seconds, &b"170000000"[..]),
            (Seconds, b"17000000000"),
            (Seconds, b"0170000000"),
            (Millis, b"169365756000"),
            (Millis, b"16936575600000"),
            (Millis, b"0169365756000"),
        ] {
            assert_eq!(format.parse_fixed_width(bad), None, "{format:?} {bad:?}");
        }
        assert_eq!(
            Rfc3339.parse_fixed_width(b"2019-11-16T10:11:12.634234626Z"),
            Some(1_573_899_072_634)
        );
    }

    #[test]
    fn rfc3339_without_offset_is_utc_and_never_glued() {
        assert_eq!(
            Rfc3339NoOffset.parse(b"2024-03-27T15:42:29.551"),
            Rfc3339.parse(b"2024-03-27T15:42:29.551Z")
        );
        assert_eq!(
            Rfc3339NoOffset.parse(b"2024-03-27T15:42:29"),
            Some(1_711_554_149_000)
        );
        for bad in [
            &b"2024-03-27T15:42:29Z"[..],
            b"2024-03-27T15:42:29+00:00",
            b"2024-03-27T15:42:29.",
            b"2024-03-27 15:42:29",
        ] {
            assert_eq!(Rfc3339NoOffset.parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            Rfc3339NoOffset.parse_fixed_width(b"2024-03-27T15:42:29.551"),
            None
        );
        let text = Rfc3339NoOffset.format(1_711_554_149).unwrap();
        assert_eq!(text, "2024-03-27T15:42:29.000");
        assert_eq!(Rfc3339NoOffset.format_fixed_width(1_711_554_149), None);
    }

    #[test]
    fn rfc3339_round_trip() {
        for seconds in [0, 1_700_000_000, 951_782_400, 4_102_444_800, -86_400] {
            let text = Rfc3339.format(seconds).unwrap();
            assert_eq!(
                Rfc3339.parse(text.as_bytes()),
                Some(seconds * 1000),
                "{text}"
            );
        }
        assert_eq!(
            Rfc3339.parse(b"2019-11-16T10:11:12.634234626Z"),
            Some(1_573_899_072_634)
        );
        assert_eq!(
            Rfc3339.parse(b"2019-11-16T12:11:12+02:00"),
            Some(1_573_899_072_000)
        );
        for bad in [
            &b"2019-02-29T00:00:00Z"[..],
            b"2019-11-16T10:11:12",
            b"2019-11-16T10:11:12.Z",
            b"2019-11-16T10:11:12.1234567890Z",
        ] {
            assert_eq!(Rfc3339.parse(bad), None);
        }
    }

    use proptest::prelude::*;

    fn any_format() -> impl Strategy<Value = super::TimestampFormat> {
        prop_oneof![
            Just(Auto),
            Just(Seconds),
            Just(Millis),
            Just(Rfc3339),
            Just(Rfc3339NoOffset)
        ]
    }

    fn rfc3339_text() -> impl Strategy<Value = String> {
        (
            0u32..10_000,
            1u32..13,
            1u32..29,
            0u32..24,
            0u32..60,
            0u32..60,
            proptest::option::of("[0-9]{1,9}"),
            prop_oneof![
                Just("Z".to_owned()),
                Just("z".to_owned()),
                "[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]"
            ],
        )
            .prop_map(|(y, mo, d, h, mi, s, fraction, zone)| {
                let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
            })
    }

    proptest! {
        /// A decimal value has one accepted spelling: whatever parses is
        /// exactly what formatting the value writes.
        #[test]
        fn decimal_spelling_is_unique(text in "[0-9+ -]{0,20}") {
            if let Some(millis) = Seconds.parse(text.as_bytes()) {
                prop_assert_eq!(Seconds.format(millis / 1000), Some(text.clone()));
            }
            if let Some(millis) = Millis.parse(text.as_bytes()) {
                prop_assert_eq!(millis.to_string(), text);
            }
        }

        #[test]
        fn decimals_round_trip(seconds in 0i64..9_999_999_999) {
            let text = Seconds.format(seconds).unwrap();
            prop_assert_eq!(Seconds.parse(text.as_bytes()), Some(seconds * 1000));
            let millis = Millis.format(seconds).unwrap();
            prop_assert_eq!(Millis.parse(millis.as_bytes()), Some(seconds * 1000));
            prop_assert_eq!(
                Seconds.parse_fixed_width(text.as_bytes()).is_some(),
                text.len() == 10
            );
        }

        /// The splicing property: no accepted fixed-width text is a proper
        /// prefix or suffix of another, so bytes cannot move between a
        /// timestamp and an unseparated neighbour.
        #[test]
        fn fixed_width_texts_are_prefix_and_suffix_free(
            format in any_format(),
            text in prop_oneof!["[0-9]{9,14}", rfc3339_text()],
            cut in 1usize..30,
            extra in "[0-9:.Z+-]{1,6}",
        ) {
            let bytes = text.as_bytes();
            if format.parse_fixed_width(bytes).is_some() {
                if cut < bytes.len() {
                    prop_assert_eq!(format.parse_fixed_width(&bytes[..cut]), None);
                    prop_assert_eq!(format.parse_fixed_width(&bytes[cut..]), None);
                }
                let longer = format!("{text}{extra}");
                prop_assert_eq!(format.parse_fixed_width(longer.as_bytes()), None);
                let longer = format!("{extra}{text}");
                prop_assert_eq!(format.parse_fixed_width(longer.as_bytes()), None);
            }
        }

        #[test]
        fn never_panics(format in any_format(), bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = format.parse(&bytes);
            let _ = format.parse_fixed_width(&bytes);
        }
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;
    use TimestampFormat::{Auto, Millis, Seconds};
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
            (Millis, "9223372036854775807", TimestampError::OutOfRange),
            (Millis, "99999999999999999999", TimestampError::OutOfRange),
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
        assert_eq!(Millis.read("253402300799999"), Ok(MAX_UNIX_MILLIS));
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
