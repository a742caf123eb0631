//! Normalisation, shingles and hashtag sets.

use accord_coord::text::{hashtag_set, jaccard, normalize, shingles};

fn check(input: &str, expected: Option<&str>) {
    assert_eq!(
        normalize(input).as_deref(),
        expected,
        "normalising {input:?}"
    );
}

#[test]
fn normalisation_drops_links_mentions_case_and_spacing() {
    check(
        "Vote  EARLY\tat the town hall",
        Some("vote early at the town hall"),
    );
    check(
        "@alice vote early https://x.example/a www.example.org",
        Some("vote early"),
    );
    check("ＶＯＴＥ early", Some("vote early"));
    check("Élection À venir", Some("élection à venir"));
    check("@a @b https://x.example", None);
    check("   ", None);
    check("", None);
    check("@", Some("@"));
}

#[test]
fn shingles_are_sorted_distinct_and_ignore_edge_punctuation() {
    let a = shingles("vote! early, vote", 1);
    let b = shingles("vote early", 1);
    assert_eq!(a, b);
    assert_eq!(a.len(), 2);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(shingles("a b c", 2).len(), 2);
    assert_eq!(
        shingles("a", 3).len(),
        1,
        "a text shorter than a shingle is one shingle"
    );
    assert!(shingles("!!! ...", 1).is_empty());
}

#[test]
fn jaccard_is_exact() {
    let a = shingles("one two three four five six seven eight nine ten", 1);
    let b = shingles("one two three four five six seven eight nine eleven", 1);
    assert!((jaccard(&a, &b) - 9.0 / 11.0).abs() < 1e-12);
    assert!((jaccard(&a, &a) - 1.0).abs() < 1e-12);
    assert_eq!(jaccard(&a, &[]), 0.0);
}

#[test]
fn hashtag_sets_ignore_order_case_hash_signs_and_repeats() {
    let s = |v: &[&str]| hashtag_set(v.iter().copied());
    assert_eq!(
        s(&["#Vote", "election"]).as_deref(),
        Some("#election #vote")
    );
    assert_eq!(
        s(&["election", "#VOTE", "#vote"]),
        s(&["#Vote", "election"])
    );
    assert_eq!(s(&["#a,#b"]).as_deref(), Some("#a #b"));
    assert_eq!(s(&["", " ", "#"]), None);
    assert_eq!(s(&[]), None);
}
