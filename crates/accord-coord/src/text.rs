//! Text as the behaviours compare it: normalised for co-text, cut into shingles for
//! co-similar-text, hashtags folded into a set for co-hashtag.
//!
//! Accounts that copy a message rarely copy it byte for byte: they add a mention, a link
//! of their own, a capital or an extra space. Normalisation removes exactly those
//! differences and nothing that changes what the message says: Unicode NFKC (so
//! full-width and styled letters compare equal to plain ones), lower case, links and
//! `@mentions` dropped, runs of white space collapsed to one space.

use std::hash::BuildHasher;

use unicode_normalization::UnicodeNormalization;

/// The text two posts must share to co-act in co-text, or `None` when nothing is left
/// after normalisation (a post of only links and mentions says nothing of its own).
#[must_use]
pub fn normalize(text: &str) -> Option<String> {
    if text.is_ascii() {
        return normalize_ascii(text.as_bytes());
    }
    normalize_any(text)
}

/// [`normalize`] of ASCII text, byte by byte (most posts; the same result as
/// [`normalize_any`], several times faster).
fn normalize_ascii(text: &[u8]) -> Option<String> {
    if only_lower_cased(text) {
        return String::from_utf8(text.to_ascii_lowercase()).ok();
    }
    // The white space of `char::is_whitespace` in ASCII: tab to carriage return, space.
    let space = |c: u8| matches!(c, 9..=13 | b' ');
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut i = 0;
    // One pass: each word is copied in lower case as it is read, and taken back out if
    // it turns out to be a link or a mention.
    while i < text.len() {
        if space(text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let before = out.len();
        if before > 0 {
            out.push(b' ');
        }
        let mut link = false;
        while let Some(&c) = text.get(i) {
            if space(c) {
                break;
            }
            if c == b':' && text.get(i + 1) == Some(&b'/') && text.get(i + 2) == Some(&b'/') {
                link = true;
            }
            out.push(c.to_ascii_lowercase());
            i += 1;
        }
        let word = &text[start..i];
        if link
            || word
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"www."))
            || (word.len() > 1 && word[0] == b'@')
        {
            out.truncate(before);
        }
    }
    if out.is_empty() {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Whether normalising ASCII `text` only lower-cases it (most posts): it is not empty,
/// its words are one space apart with none before or after, and it has no `@` or `:`
/// (so no mention, no link with a scheme) and no word starting with `www.`. Looked at
/// in bulk, which the compiler turns into vector instructions.
fn only_lower_cased(text: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (text.first(), text.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' {
        return false;
    }
    let mut odd = 0u8;
    for part in text.chunks(32) {
        for &c in part {
            odd |= u8::from(matches!(c, b'@' | b':' | 9..=13));
        }
        if odd != 0 {
            return false;
        }
    }
    let mut doubled = 0u8;
    for (a, b) in text.iter().zip(text.iter().skip(1)) {
        doubled |= u8::from(*a == b' ') & u8::from(*b == b' ');
    }
    if doubled != 0 {
        return false;
    }
    // A word starting with `www.` has its dot three bytes after a space or the start.
    !memchr::memchr_iter(b'.', text).any(|dot| {
        dot >= 3
            && text[dot - 3..dot].eq_ignore_ascii_case(b"www")
            && (dot == 3 || text[dot - 4] == b' ')
    })
}

/// [`normalize`] of any text.
fn normalize_any(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let folded: String;
    let source = if text.is_ascii() {
        text
    } else {
        folded = text.nfkc().collect();
        folded.as_str()
    };
    for word in source.split_whitespace() {
        if is_link(word) || is_mention(word) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            let start = out.len();
            out.push_str(word);
            out.as_mut_str()[start..].make_ascii_lowercase();
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a word is a link: it has a scheme (`https://`) or starts with `www.`.
fn is_link(word: &str) -> bool {
    word.contains("://")
        || word
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."))
}

/// Whether a word is a mention: `@` followed by something.
fn is_mention(word: &str) -> bool {
    word.len() > 1 && word.starts_with('@')
}

/// The distinct shingles of a normalised text: hashes of each run of `k` consecutive
/// words, sorted. Words are the text's space-separated tokens with punctuation trimmed
/// from both ends, so "vote!" and "vote" are the same word.
#[must_use]
pub fn shingles(normalized: &str, k: usize) -> Vec<u32> {
    let k = k.max(1);
    let words: Vec<&str> = normalized
        .split(' ')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let hasher = foldhash::quality::FixedState::with_seed(0x5348_494e_474c_4553);
    let mut out: Vec<u32> = if words.len() < k {
        if words.is_empty() {
            Vec::new()
        } else {
            vec![fold32(hasher.hash_one(&words))]
        }
    } else {
        words
            .windows(k)
            .map(|w| fold32(hasher.hash_one(w)))
            .collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Jaccard similarity of two sorted, deduplicated shingle sets.
#[must_use]
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    both as f64 / union as f64
}

/// The hashtag set two posts must share to co-act in co-hashtag, as `#a #b` (folded to
/// lower case, leading `#` removed and put back, sorted, duplicates dropped), or `None`
/// for a post without hashtags.
#[must_use]
pub fn hashtag_set<S: AsRef<str>>(tags: impl IntoIterator<Item = S>) -> Option<String> {
    let tags: Vec<S> = tags.into_iter().collect();
    let mut folded: Vec<String> = tags
        .iter()
        .flat_map(|t| t.as_ref().split([',', ' ', '\t']))
        .map(|t| t.trim().trim_start_matches('#'))
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.is_ascii() {
                t.to_ascii_lowercase()
            } else {
                t.nfkc().flat_map(char::to_lowercase).collect()
            }
        })
        .collect();
    if folded.is_empty() {
        return None;
    }
    folded.sort_unstable();
    folded.dedup();
    let mut out = String::new();
    for t in folded {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('#');
        out.push_str(&t);
    }
    Some(out)
}

fn fold32(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

#[cfg(test)]
mod tests {
    /// The ASCII path gives what the general one does, on every kind of word.
    #[test]
    fn ascii_texts_normalise_as_any_text() {
        let bits = [
            "Vote",
            "vote",
            "VOTE!",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\x0b",
            "\x0c",
            "@",
            "@x",
            "@@",
            "a@b",
            "http://x.example/a",
            "://",
            "a:",
            "x:/",
            "https:",
            "www.",
            "WWW.x",
            "ww",
            "w",
            ".",
            "42",
            "#tag",
            "é",
            "ＶＯＴＥ",
            "\u{a0}",
        ];
        let mut x = 0x1234_5678_u64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut ascii = 0;
        for _ in 0..50_000 {
            let text: String = (0..next(8)).map(|_| bits[next(bits.len())]).collect();
            if text.is_ascii() {
                ascii += 1;
                assert_eq!(
                    super::normalize_ascii(text.as_bytes()),
                    super::normalize_any(&text),
                    "{text:?}"
                );
            }
            assert_eq!(
                super::normalize(&text),
                super::normalize_any(&text),
                "{text:?}"
            );
        }
        assert!(ascii > 10_000);
    }
}
