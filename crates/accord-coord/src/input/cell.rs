//! One cell's text to one field of a [`Post`](crate::model::Post), the same way for every
//! format: ids trimmed, empty and white-space-only cells as "no item", lists split,
//! PDQ hashes decoded, timestamps parsed. Errors are the reason a person reads in a
//! [`BadRow`](super::BadRow).

/// Column names of the Accord formats (CSV, JSON lines, Parquet).
pub(super) const ACCOUNT: &str = "account_id";
pub(super) const POST: &str = "post_id";
pub(super) const TIME: &str = "timestamp";
pub(super) const PLATFORM: &str = "platform";
pub(super) const TEXT: &str = "text";
pub(super) const URLS: &str = "urls";
pub(super) const HASHTAGS: &str = "hashtags";
pub(super) const MEDIA: &str = "media_pdq";
pub(super) const REPOST: &str = "repost_of";
pub(super) const REPLY: &str = "reply_to";

/// `s` without white space at either end, as [`str::trim`], at once when both ends are
/// plain ASCII (most cells).
pub(super) fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b < 0x80 && !matches!(b, 9..=13 | b' '));
    let bytes = s.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// The cell as UTF-8, or why not.
pub(super) fn utf8<'a>(bytes: &'a [u8], column: &str) -> Result<&'a str, String> {
    std::str::from_utf8(bytes).map_err(|_| format!("{column} is not valid UTF-8"))
}

/// A required id (account, post): trimmed, not empty.
pub(super) fn required<'a>(cell: Option<&'a str>, column: &str) -> Result<&'a str, String> {
    match cell {
        None => Err(format!("{column} is missing")),
        Some(s) => match trim(s) {
            "" => Err(format!("{column} is empty")),
            t => Ok(t),
        },
    }
}

/// An optional id (repost, reply, platform): trimmed, `None` when empty.
pub(super) fn optional(cell: &str) -> Option<&str> {
    match trim(cell) {
        "" => None,
        t => Some(t),
    }
}

/// A post's text, as written, `None` when empty or only white space.
pub(super) fn text(cell: &str) -> Option<&str> {
    if trim(cell).is_empty() {
        None
    } else {
        Some(cell)
    }
}

/// Links: separated by white space (a link has none of its own).
pub(super) fn urls(cell: &str) -> impl Iterator<Item = &str> {
    cell.split_whitespace()
}

/// Hashtags: separated by white space or commas, kept as written (with or without `#`;
/// the engine folds case and the `#`). A lone `#` is no hashtag.
pub(super) fn hashtags(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.trim_start_matches('#').is_empty())
}

/// PDQ hashes: 64 hexadecimal digits each, separated by white space or commas, each
/// handed to `out`.
pub(super) fn media(cell: &str, mut out: impl FnMut([u8; 32])) -> Result<(), String> {
    for h in cell.split(|c: char| c == ',' || c.is_whitespace()) {
        if h.is_empty() {
            continue;
        }
        match pdq(h) {
            Some(bytes) => out(bytes),
            None => {
                return Err(format!(
                    "{MEDIA} {} is not a PDQ hash (64 hexadecimal digits)",
                    quote(h)
                ));
            }
        }
    }
    Ok(())
}

/// Whether `cell` is only ASCII white space (and commas, with `commas`), which
/// [`urls`], [`hashtags`] and [`media`] (with `commas`) all read as no item at all. A
/// quick test for the usual empty cell, not an exact one: a cell of other white space
/// also holds no item, yet is not blank.
pub(super) fn blank(cell: &str, commas: bool) -> bool {
    cell.bytes()
        .all(|b| b.is_ascii_whitespace() || (commas && b == b','))
}

fn pdq(hex: &str) -> Option<[u8; 32]> {
    let b = hex.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `s` in single quotes for a message, cut to 60 characters.
pub(super) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        None => format!("'{s}'"),
        Some((cut, _)) => format!("'{}…'", &s[..cut]),
    }
}

/// Seconds from 0001-01-01 to 1970-01-01, negated: the earliest time accepted.
const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z: the latest.
const MAX_SECONDS: i64 = 253_402_300_799;

/// A timestamp in milliseconds since the Unix epoch (fractions of a millisecond rounded
/// down) from epoch seconds (`1700000000`, `1700000000.25`, `1.7e9`) or RFC 3339
/// (`2023-11-14T22:13:20Z`, `2023-11-14 22:13:20.250+01:00`).
pub(super) fn time_ms(cell: &str) -> Result<i64, String> {
    let s = trim(cell);
    if s.is_empty() {
        return Err(format!("{TIME} is empty"));
    }
    if let Some(ms) = epoch_ms(s) {
        return ms.ok_or_else(|| {
            format!(
                "{TIME} {} is outside years 1 to 9999 as epoch seconds (milliseconds \
                 or microseconds? the column takes seconds)",
                quote(s)
            )
        });
    }
    match rfc3339_ms(s) {
        Rfc3339::Ok(ms) => Ok(ms),
        Rfc3339::NoOffset => Err(format!(
            "{TIME} {} has no UTC offset (add Z or an offset such as +02:00)",
            quote(s)
        )),
        Rfc3339::Invalid => Err(format!(
            "{TIME} {} is neither epoch seconds nor RFC 3339",
            quote(s)
        )),
    }
}

/// Milliseconds from `seconds` (any value a Parquet float column holds), if in range.
pub(super) fn seconds_f64_ms(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() || seconds < MIN_SECONDS as f64 || seconds > MAX_SECONDS as f64 {
        return None;
    }
    Some((seconds * 1000.0).floor() as i64)
}

/// Milliseconds from an integer count of `1 / per_second` seconds, if in range.
pub(super) fn scaled_ms(value: i64, per_second: i64) -> Option<i64> {
    let ms = if per_second >= 1000 {
        value.div_euclid(per_second / 1000)
    } else {
        value.checked_mul(1000 / per_second)?
    };
    (MIN_SECONDS * 1000..=MAX_SECONDS * 1000 + 999)
        .contains(&ms)
        .then_some(ms)
}

/// `None` when `s` is not a decimal number; `Some(None)` when it is one out of range.
fn epoch_ms(s: &str) -> Option<Option<i64>> {
    let b = s.as_bytes();
    // Ten digits, every time from September 2001 to 2286 (always in range): most cells.
    if let Some(seconds) = ten_digits(b) {
        return Some(Some(seconds * 1000));
    }
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &b[int_start..i];
    let mut frac_digits: &[u8] = &[];
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &b[start..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    if i < b.len() {
        // An exponent, or not a number at all.
        if !matches!(b[i], b'e' | b'E') {
            return None;
        }
        let mut j = i + 1;
        if j < b.len() && matches!(b[j], b'+' | b'-') {
            j += 1;
        }
        if j == b.len() || !b[j..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        return Some(s.parse::<f64>().ok().and_then(seconds_f64_ms));
    }
    if int_digits.len() > 15 {
        return Some(None);
    }
    let mut seconds: i64 = 0;
    for &d in int_digits {
        seconds = seconds * 10 + i64::from(d - b'0');
    }
    let mut millis: i64 = 0;
    for k in 0..3 {
        millis = millis * 10 + frac_digits.get(k).map_or(0, |&d| i64::from(d - b'0'));
    }
    let rest = frac_digits.iter().skip(3).any(|&d| d != b'0');
    let mut ms = seconds * 1000 + millis;
    if negative {
        ms = -ms - i64::from(rest);
    }
    let in_range = (MIN_SECONDS * 1000..=MAX_SECONDS * 1000 + 999).contains(&ms);
    Some(in_range.then_some(ms))
}

/// The number `b` spells when it is exactly ten ASCII digits: the first eight checked and
/// read at once, as one 64-bit word.
fn ten_digits(b: &[u8]) -> Option<i64> {
    let (eight, two) = b.split_first_chunk::<8>()?;
    let [d8, d9] = *two else {
        return None;
    };
    let word = u64::from_le_bytes(*eight);
    // Every byte 0x30..=0x39: high nibble 3, and still 3 once 6 is added.
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    if word & HIGH != ZEROS || word.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    if !d8.is_ascii_digit() || !d9.is_ascii_digit() {
        return None;
    }
    // Digit values, the first in the lowest byte; then pairs, fours and all eight
    // combined in three multiplications.
    let digits = word - ZEROS;
    let pairs = digits * 10 + (digits >> 8);
    const LOW: u64 = 0x0000_00ff_0000_00ff;
    let eight = ((pairs & LOW).wrapping_mul(100 + (1_000_000 << 32))
        + ((pairs >> 16) & LOW).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(eight as i64 * 100 + i64::from(d8 - b'0') * 10 + i64::from(d9 - b'0'))
}

enum Rfc3339 {
    Ok(i64),
    /// A date and time without `Z` or an offset.
    NoOffset,
    Invalid,
}

/// RFC 3339: `YYYY-MM-DD`, `T` (or `t` or a space), `hh:mm:ss`, optional fraction, then
/// `Z` (or `z`) or `±hh:mm`.
fn rfc3339_ms(s: &str) -> Rfc3339 {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0, 4),
        num(5, 2),
        num(8, 2),
        num(11, 2),
        num(14, 2),
        num(17, 2),
    ) else {
        return Rfc3339::Invalid;
    };
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return Rfc3339::Invalid;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
        || year < 1
    {
        return Rfc3339::Invalid;
    }
    let mut i = 19;
    let mut millis = 0;
    if at(i, b".") {
        i += 1;
        let start = i;
        while at(i, b"0123456789") {
            i += 1;
        }
        if i == start {
            return Rfc3339::Invalid;
        }
        for k in 0..3 {
            millis = millis * 10
                + b.get(start + k)
                    .filter(|_| start + k < i)
                    .map_or(0, |&d| i64::from(d - b'0'));
        }
    }
    let offset = match b.get(i) {
        None => return Rfc3339::NoOffset,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b":") => {
            let (Some(h), Some(m)) = (num(i + 1, 2), num(i + 4, 2)) else {
                return Rfc3339::Invalid;
            };
            if h > 23 || m > 59 {
                return Rfc3339::Invalid;
            }
            let o = h * 3600 + m * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return Rfc3339::Invalid,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Rfc3339::Invalid;
    }
    Rfc3339::Ok(seconds * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_digits_read_as_the_number_and_nothing_else() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for n in (0..1_000u64)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 10_000_000_000
            })
            .chain([0, 1, 9_999_999_999, 1_000_000_000, 1_772_409_602])
        {
            let s = format!("{n:010}");
            assert_eq!(super::ten_digits(s.as_bytes()), Some(n as i64), "{s}");
            assert_eq!(super::time_ms(&s), Ok(n as i64 * 1000), "{s}");
            // Any byte that is not a digit, anywhere, and it is no longer ten digits.
            for at in 0..10 {
                for byte in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                    let mut b = s.clone().into_bytes();
                    b[at] = byte;
                    assert_eq!(super::ten_digits(&b), None, "{b:?}");
                }
            }
        }
        for s in ["", "123456789", "12345678901", "１２３４５６７８９０"] {
            assert_eq!(super::ten_digits(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn trim_is_str_trim() {
        let pieces = [
            "", "a", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1f", "\u{a0}", "\u{85}", "\u{3000}",
            "é", "x y", ",", "\u{2028}",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(super::trim(&s), s.trim(), "{s:?}");
                }
            }
        }
    }
}
