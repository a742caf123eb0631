//! Guard rails: long and deeply nested patterns are refused with a clear error, never a
//! stack overflow, and long flat chains (which the tree keeps flat) still parse.

use accord_pattern::{ErrorKind, Limits, MAX_DEPTH, MAX_LEN, parse_with};

/// Parses `input` under `limits`; `None` means it must parse (and print), `Some(at)` that it
/// must fail at `at` with a limit error.
fn check(input: &str, limits: Limits, expected: Option<usize>) {
    match (parse_with(input, limits), expected) {
        (Ok(tree), None) => assert!(!tree.to_string().is_empty()),
        (Err(e), Some(at)) => {
            assert_eq!(e.at, at, "{e}");
            assert!(
                matches!(
                    e.kind,
                    ErrorKind::TooLong { .. } | ErrorKind::TooDeep { .. }
                ),
                "{e}"
            );
        }
        (got, want) => panic!(
            "{}…: got {:?}, want {want:?}",
            &input[..input.len().min(60)],
            got.map(|t| t.to_string().len())
        ),
    }
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

#[test]
fn depth() {
    let d = Limits::default();
    assert_eq!(d.max_depth, MAX_DEPTH);
    // `[` counts as one level, so 63 groups around an observation are the most allowed.
    check(&nested("(", "[file:a = 1]", ")", 63), d, None);
    check(&nested("(", "[file:a = 1]", ")", 64), d, Some(64));
    check(
        &format!("[{}]", nested("(", "file:a = 1", ")", 63)),
        d,
        None,
    );
    check(
        &format!("[{}]", nested("(", "file:a = 1", ")", 64)),
        d,
        Some(64),
    );
    // The list of IN counts too.
    let deep_in = format!("{}[file:a IN (1)]{}", "(".repeat(63), ")".repeat(63));
    check(&deep_in, d, Some(74));
    let tight = Limits {
        max_len: MAX_LEN,
        max_depth: 2,
    };
    check("([file:a = 1])", tight, None);
    check("(([file:a = 1]))", tight, Some(2));
    check("[(file:a = 1)]", tight, None);
    check("[((file:a = 1))]", tight, Some(2));
}

#[test]
fn depth_bomb_is_refused_not_overflowed() {
    let d = Limits::default();
    check(&"(".repeat(60_000), d, Some(64));
    check(&format!("[{}", "(".repeat(60_000)), d, Some(64));
}

#[test]
fn length() {
    let d = Limits::default();
    assert_eq!(d.max_len, 64 * 1024);
    let long_string = format!("[file:name = '{}']", "a".repeat(MAX_LEN));
    check(&long_string, d, Some(MAX_LEN));
    check(&"(".repeat(10 * MAX_LEN), d, Some(MAX_LEN));
    let exact = format!("[file:name = '{}']", "a".repeat(MAX_LEN - 16));
    assert_eq!(exact.len(), MAX_LEN);
    check(&exact, d, None);
    let small = Limits {
        max_len: 10,
        max_depth: MAX_DEPTH,
    };
    check("[file:a=1]", small, None);
    check("[file:a = 1]", small, Some(10));
}

#[test]
fn long_flat_chains_parse() {
    let d = Limits::default();
    // About 2,500 observations and 3,000 comparisons: the tree stays flat, so printing and
    // dropping it do not recurse thousands deep.
    let observations = vec!["[file:a = 1]"; 2_500].join(" FOLLOWEDBY ");
    assert!(observations.len() < MAX_LEN);
    check(&observations, d, None);
    let comparisons = format!("[{}]", vec!["file:a = 1"; 4_000].join(" OR "));
    assert!(comparisons.len() < MAX_LEN);
    check(&comparisons, d, None);
    let mut alternating = String::from("[file:a = 1]");
    for i in 0..2_000 {
        let op = ["AND", "OR", "FOLLOWEDBY"][i % 3];
        alternating.push_str(&format!(" {op} [file:a = 1]"));
    }
    assert!(alternating.len() < MAX_LEN);
    check(&alternating, d, None);
}
