//! Timestamp formats used by signature schemes, parsed from bytes without
//! allocation and bounded in length.
//!
//! Parsing is **canonical**: a value has exactly one accepted spelling in the
//! decimal formats (no leading zero, no sign, no space, no `+`), so the
//! bytes a provider signed cannot be re-spelled. Several providers sign a
//! timestamp glued to another field with no separator (HubSpot
//! `{body}{timestamp}`, Mailgun `{timestamp}{token}`, SendGrid and Discord
//! `{timestamp}{body}`); for those the width is fixed as well
//! ([`TimestampFormat::parse_fixed_width`]: 10 digits of seconds, 13 of
//! milliseconds), so no byte can move between the timestamp and its
//! neighbour without the timestamp being refused. RFC 3339 needs no fixed
//! width: its text starts with `YYYY-` and ends with `Z` or `±HH:MM`, so no
//! accepted text is a proper prefix or suffix of another.

use std::fmt::Write;

/// How a scheme writes its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Decimal Unix seconds (`1700000000`).
    Seconds,
    /// Decimal Unix milliseconds (`1700000000000`, HubSpot).
    Millis,
    /// RFC 3339 in UTC, fractional seconds allowed (`2023-01-01T00:00:00.123456789Z`, Twitch).
    Rfc3339,
    /// An RFC 3339 date and time with no offset at all, read as UTC,
    /// fractional seconds allowed (`2024-03-27T15:42:29.551`, Orb). A text
    /// with an offset is not this format.
    Rfc3339NoOffset,
}

impl TimestampFormat {
    /// Milliseconds since the Unix epoch, or `None` if `text` is not this
    /// format's canonical spelling: decimals without a leading zero (`0`
    /// itself excepted), sign or space; RFC 3339 with at most nine fraction
    /// digits.
    pub fn parse(self, text: &[u8]) -> Option<i64> {
        match self {
            TimestampFormat::Seconds => decimal(text)?.checked_mul(1000),
            TimestampFormat::Millis => decimal(text),
            TimestampFormat::Rfc3339 => rfc3339(text, true),
            TimestampFormat::Rfc3339NoOffset => rfc3339(text, false),
        }
    }

    /// The exact length of a decimal timestamp where a provider glues it to
    /// another field without a separator: 10 digits of seconds and 13 of
    /// milliseconds (every instant from September 2001 to November 2286).
    /// `None` for RFC 3339, which delimits itself (and for its offset-less
    /// form, which cannot be glued at all: see
    /// [`parse_fixed_width`](Self::parse_fixed_width)).
    pub const fn fixed_width(self) -> Option<usize> {
        match self {
            TimestampFormat::Seconds => Some(UNIX_SECONDS_DIGITS),
            TimestampFormat::Millis => Some(UNIX_MILLIS_DIGITS),
            TimestampFormat::Rfc3339 | TimestampFormat::Rfc3339NoOffset => None,
        }
    }

    /// Like [`parse`](Self::parse), and of exactly
    /// [`fixed_width`](Self::fixed_width) bytes where the format has one.
    /// No accepted text is then a proper prefix or suffix of another, so a
    /// timestamp next to an unseparated field keeps its boundary.
    ///
    /// An offset-less RFC 3339 text is never accepted here: nothing marks
    /// where its fraction ends, so glued to another field its boundary could
    /// move. A scheme that glues one verifies nothing.
    pub fn parse_fixed_width(self, text: &[u8]) -> Option<i64> {
        if self == TimestampFormat::Rfc3339NoOffset {
            return None;
        }
        match self.fixed_width() {
            Some(width) if text.len() != width => None,
            _ => self.parse(text),
        }
    }

    /// `unix_seconds` written in this format, if it fits the format's
    /// [fixed width](Self::fixed_width): what a sender of a scheme that
    /// glues the timestamp to another field may send.
    pub fn format_fixed_width(self, unix_seconds: i64) -> Option<String> {
        let text = self.format(unix_seconds)?;
        self.parse_fixed_width(text.as_bytes()).map(|_| text)
    }

    /// `unix_seconds` written in this format.
    pub fn format(self, unix_seconds: i64) -> Option<String> {
        match self {
            TimestampFormat::Seconds => Some(unix_seconds.to_string()),
            TimestampFormat::Millis => unix_seconds.checked_mul(1000).map(|ms| ms.to_string()),
            TimestampFormat::Rfc3339 => format_rfc3339(unix_seconds, ".000000000Z"),
            TimestampFormat::Rfc3339NoOffset => format_rfc3339(unix_seconds, ".000"),
        }
    }
}

/// The digits of Unix seconds from 2001-09-09 to 2286-11-20.
pub const UNIX_SECONDS_DIGITS: usize = 10;

/// The digits of Unix milliseconds from 2001-09-09 to 2286-11-20.
pub const UNIX_MILLIS_DIGITS: usize = 13;

/// A non-negative decimal of at most 18 digits in its one canonical
/// spelling: no sign, no space, no leading zero.
fn decimal(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || (text.len() > 1 && text[0] == b'0') {
        return None;
    }
    text.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// A fixed-width field of a date (`01`, `0042`): leading zeros belong there.
fn digits(text: &[u8], from: usize, len: usize) -> Option<i64> {
    let field = text.get(from..from + len)?;
    field.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or with `offset` false
/// `YYYY-MM-DDTHH:MM:SS[.fraction]` read as UTC.
fn rfc3339(text: &[u8], offset: bool) -> Option<i64> {
    if text.len() > 64 {
        return None;
    }
    let year = digits(text, 0, 4)?;
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let second = digits(text, 17, 2)?;
    let separators_ok = text.get(4) == Some(&b'-')
        && text.get(7) == Some(&b'-')
        && matches!(text.get(10), Some(b'T' | b't'))
        && text.get(13) == Some(&b':')
        && text.get(16) == Some(&b':');
    if !separators_ok
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut millis = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        // Nanoseconds at most (Twitch's precision): one bounded spelling.
        if len == 0 || len > 9 {
            return None;
        }
        let (fraction, after) = fraction.split_at(len);
        millis = fraction
            .iter()
            .take(3)
            .chain(std::iter::repeat(&b'0'))
            .take(3)
            .fold(0, |acc, &b| acc * 10 + i64::from(b - b'0'));
        rest = after;
    }
    let offset_minutes = match rest {
        [] if !offset => 0,
        _ if !offset => return None,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2], 0, 2)?;
            let minutes = digits(&[*m1, *m2], 0, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `unix_seconds` as `YYYY-MM-DDTHH:MM:SS` then `tail`: `.000000000Z` is
/// the nanosecond form Twitch sends, `.000` Orb's zoneless milliseconds,
/// `Z` whole seconds (Shopify's `X-Shopify-Triggered-At`). Years 0 through
/// 9999.
pub(crate) fn format_rfc3339(unix_seconds: i64, tail: &str) -> Option<String> {
    let days = unix_seconds.div_euclid(86_400);
    let in_day = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut out = String::with_capacity(30);
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{tail}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
    .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
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
