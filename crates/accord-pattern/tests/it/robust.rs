//! Damaged patterns: every prefix and every one-character deletion of every valid pattern
//! is either rejected with an offset inside the text or accepted with a canonical text that
//! round-trips. Nothing panics.

use accord_pattern::{Pattern, parse};

use crate::valid::{MORE, OASIS_PASS, SPEC};

/// `input` is rejected at an offset within it, or round-trips through its canonical text.
fn check(input: &str) {
    match parse(input) {
        Err(e) => assert!(e.at <= input.len(), "{input}: {e}"),
        Ok(tree) => {
            let text = tree.to_string();
            let again: Pattern = text
                .parse()
                .unwrap_or_else(|e| panic!("{input}\n  canonical {text}\n  rejected: {e}"));
            assert_eq!(again, tree, "{input}");
        }
    }
}

#[test]
fn prefixes_and_deletions() {
    let all = SPEC.iter().chain(OASIS_PASS).chain(MORE).map(|(p, _)| *p);
    let mut tried = 0;
    for p in all {
        for (i, c) in p.char_indices() {
            check(&p[..i]);
            check(&format!("{}{}", &p[..i], &p[i + c.len_utf8()..]));
            tried += 2;
        }
    }
    assert!(tried > 10_000, "{tried}");
}
