//! RFC 3339 timestamps as STIX requires them (UTC, `Z`), and the clock.
//!
//! A [`Timestamp`] keeps the text it was parsed from, so that a version string round-trips
//! exactly, and an integer count of nanoseconds since the Unix epoch, so that versions compare
//! and index cheaply. Code that needs "now" takes a [`Clock`], so tests control time.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

/// Why a string is not a STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.s+]Z`.
    #[error("`{0}` is not an RFC 3339 timestamp of the form YYYY-MM-DDTHH:MM:SS[.sss]Z")]
    Syntax(String),
    /// Well formed, but a field is out of range (month 13, 31 April...).
    #[error("`{0}` is not a real date and time")]
    Range(String),
    /// A time zone other than `Z`: STIX requires UTC.
    #[error("`{0}` must be in UTC and end in `Z`")]
    NotUtc(String),
}

/// A parsed STIX timestamp.
#[derive(Clone)]
pub struct Timestamp {
    /// Nanoseconds since the epoch; i128 so that every year from 0000 to 9999 fits.
    nanos: i128,
    text: String,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`. Digits of the fraction beyond nanoseconds are
    /// kept in the text but ignored for ordering.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        Ok(Timestamp {
            nanos: Self::parse_nanos(s)?,
            text: s.to_owned(),
        })
    }

    /// Parses like [`Timestamp::parse`] and returns only the nanoseconds since the epoch,
    /// without keeping the text: for code that only compares times.
    pub fn parse_nanos(s: &str) -> Result<i128, TimestampError> {
        let syntax = || TimestampError::Syntax(s.to_owned());
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err(syntax());
        }
        let digits = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = b.get(r).ok_or_else(syntax)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(syntax());
            }
            Ok(part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
        };
        let year = digits(0..4)?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        let hour = digits(11..13)?;
        let minute = digits(14..16)?;
        let second = digits(17..19)?;
        if b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(syntax());
        }
        let mut i = 19;
        let mut frac_nanos = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 9 {
                    frac_nanos = frac_nanos * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(syntax());
            }
            for _ in (i - start)..9 {
                frac_nanos *= 10;
            }
        }
        match &b[i..] {
            b"Z" | b"z" => {}
            [b'+' | b'-', ..] => return Err(TimestampError::NotUtc(s.to_owned())),
            _ => return Err(syntax()),
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(TimestampError::Range(s.to_owned()));
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
        Ok(i128::from(secs) * 1_000_000_000 + i128::from(frac_nanos))
    }

    /// A timestamp from nanoseconds since the epoch, printed with microsecond precision (the
    /// precision TAXII uses for `date_added`).
    pub fn from_nanos(nanos: i64) -> Self {
        Timestamp {
            nanos: i128::from(nanos),
            text: format_nanos(nanos, 6),
        }
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// Nanoseconds since the epoch as an `i64`, which covers 1677-09-21 to 2262-04-11; `None`
    /// outside that range.
    pub fn nanos_i64(&self) -> Option<i64> {
        i64::try_from(self.nanos).ok()
    }

    /// Nanoseconds since the epoch as an `i64`, clamped to its range: for comparisons with
    /// stored times, which always lie inside it.
    pub fn nanos_clamped(&self) -> i64 {
        i64::try_from(self.nanos).unwrap_or(if self.nanos < 0 { i64::MIN } else { i64::MAX })
    }

    /// The text, exactly as parsed or formatted.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}
impl Eq for Timestamp {}
impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats nanoseconds since the epoch with `digits` (0-9) fractional digits.
pub fn format_nanos(nanos: i64, digits: u32) -> String {
    let mut s = String::with_capacity(21 + digits.min(9) as usize);
    push_nanos(&mut s, nanos, digits);
    s
}

/// Appends what [`format_nanos`] returns to `s`, for writers that format many times into
/// one buffer.
pub fn push_nanos(s: &mut String, nanos: i64, digits: u32) {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let digits = digits.min(9);
    // Written digit by digit: this runs for every time in every output.
    if (0..=9999).contains(&y) {
        push_digits(s, y, 4);
    } else {
        s.push_str(&format!("{y:04}"));
    }
    s.push('-');
    push_digits(s, mo, 2);
    s.push('-');
    push_digits(s, d, 2);
    s.push('T');
    push_digits(s, sod / 3600, 2);
    s.push(':');
    push_digits(s, sod % 3600 / 60, 2);
    s.push(':');
    push_digits(s, sod % 60, 2);
    if digits > 0 {
        s.push('.');
        push_digits(s, frac / 10i64.pow(9 - digits), digits);
    }
    s.push('Z');
}

/// Appends `n` (0 or more, below 10^`width`, `width` at most 9) in exactly `width`
/// digits.
fn push_digits(s: &mut String, n: i64, width: u32) {
    // Right to left, dividing by the constant 10, which compiles to a multiplication:
    // a division by a variable power of ten costs tens of cycles for every digit.
    let mut digits = [b'0'; 9];
    let width = (width as usize).min(digits.len());
    let mut n = n.unsigned_abs();
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    s.extend(digits[..width].iter().map(|&d| char::from(d)));
}

/// A source of the current time. Everything that stamps or compares times takes one.
pub trait Clock: Send + Sync {
    /// Nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> i64;

    /// The current time as a timestamp with microsecond precision.
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.now_nanos() / 1000 * 1000)
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until moved; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `ts`.
    pub fn at(ts: &str) -> Result<Self, TimestampError> {
        Ok(ManualClock(AtomicI64::new(
            Timestamp::parse(ts)?.nanos_clamped(),
        )))
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1_000_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_nanos_writes_what_format_would() {
        let reference = |nanos: i64, digits: u32| {
            let secs = nanos.div_euclid(1_000_000_000);
            let frac = nanos.rem_euclid(1_000_000_000);
            let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
            let sod = secs.rem_euclid(86_400);
            let mut s = format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
                sod / 3600,
                sod % 3600 / 60,
                sod % 60
            );
            let digits = digits.min(9);
            if digits > 0 {
                let f = frac / 10i64.pow(9 - digits);
                s.push_str(&format!(".{f:0width$}", width = digits as usize));
            }
            s.push('Z');
            s
        };
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Every time an i64 holds (years 1677 to 2262), each number of digits.
            let nanos = match i % 4 {
                0 => -((x % 4_000_000_000_000_000_000) as i64),
                1 => (x % 4_000_000_000_000_000_000) as i64,
                2 => x as i64,
                _ => i64::from(i) * 999_999_937,
            };
            let digits = i % 11;
            assert_eq!(
                format_nanos(nanos, digits),
                reference(nanos, digits),
                "{nanos} {digits}"
            );
        }
    }

    fn check(input: &str, expected: Result<i128, &str>) {
        match (Timestamp::parse(input), expected) {
            (Ok(t), Ok(n)) => assert_eq!(t.nanos(), n, "{input}"),
            (Err(e), Err(kind)) => assert!(format!("{e:?}").starts_with(kind), "{input}: {e:?}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parse() {
        check("1970-01-01T00:00:00Z", Ok(0));
        check("1970-01-01T00:00:01.5Z", Ok(1_500_000_000));
        check("2016-04-06T20:03:48.123Z", Ok(1_459_973_028_123_000_000));
        check("2000-02-29T00:00:00Z", Ok(951_782_400_000_000_000));
        check("1900-02-29T00:00:00Z", Err("Range"));
        check("2016-13-06T20:03:48Z", Err("Range"));
        check("2016-04-31T20:03:48Z", Err("Range"));
        check("2016-04-06T20:03:48+01:00", Err("NotUtc"));
        check("2016-04-06 20:03:48Z", Err("Syntax"));
        check("2016-04-06T20:03:48.Z", Err("Syntax"));
        check("2016-04-06T20:03:48", Err("Syntax"));
        check(
            "2016-04-06T20:03:48.1234567891Z",
            Ok(1_459_973_028_123_456_789),
        );
        // The years STIX data uses for "never" and "long ago" do not overflow.
        check("9999-12-31T23:59:59Z", Ok(253_402_300_799_000_000_000));
        check("0001-01-01T00:00:00Z", Ok(-62_135_596_800_000_000_000));
        let never = Timestamp::parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(never.nanos_i64(), None);
        assert_eq!(never.nanos_clamped(), i64::MAX);
    }

    #[test]
    fn format_round_trips() {
        for n in [
            0,
            1_459_973_028_123_456_000,
            951_782_400_000_001_000,
            -86_400_000_000_000,
        ] {
            let t = Timestamp::from_nanos(n);
            assert_eq!(Timestamp::parse(t.as_str()).unwrap().nanos(), i128::from(n));
        }
        assert_eq!(
            format_nanos(1_459_973_028_123_000_000, 3),
            "2016-04-06T20:03:48.123Z"
        );
        assert_eq!(format_nanos(0, 0), "1970-01-01T00:00:00Z");
    }
}
