//! Known-good lists: which entry covers which observable, and which it does not.

use accord_match::known_good::KnownGood;
use accord_match::normalize::parse_observable;

const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The list the coverage tables check against; each entry is tagged with its own text.
fn list() -> KnownGood<String> {
    let mut list = KnownGood::new();
    for entry in [
        "domain-name:example.com",
        "domain-name:corp.example.org",
        "ipv4-addr:10.0.0.0/8",
        "ipv4-addr:10.20.0.0/16",
        "ipv4-addr:192.0.2.7",
        "ipv6-addr:2001:db8::/32",
        "url:https://safe.example.net/page",
        "email-addr:ceo@partner.example",
        &format!("sha256:{SHA256}"),
        "user-account:twitter/ourorg",
    ] {
        let obs = parse_observable(entry).unwrap();
        list.insert(&obs, entry.to_owned());
    }
    list
}

/// `input` is covered by the entry `expected` (as its text), or by none.
fn check(list: &KnownGood<String>, input: &str, expected: Option<&str>) {
    let obs = parse_observable(input).unwrap();
    let got = list.check(&obs);
    match (got, expected) {
        (Some((entry, tag)), Some(want)) => {
            assert_eq!(
                entry.to_string(),
                want,
                "{input:?} covered by the wrong entry"
            );
            assert_eq!(tag, want, "{input:?}: the tag is not the entry's");
        }
        (None, None) => {}
        (got, want) => panic!(
            "{input:?}: covered by {:?}, expected {want:?}",
            got.map(|(e, _)| e.to_string())
        ),
    }
}

#[test]
fn domains_cover_subdomains_urls_and_addresses() {
    let list = list();
    let cases = [
        ("example.com", Some("domain-name:example.com")),
        ("www.Example.com", Some("domain-name:example.com")),
        ("a.b.example.com", Some("domain-name:example.com")),
        ("x.corp.example.org", Some("domain-name:corp.example.org")),
        (
            "https://login.example.com/x",
            Some("domain-name:example.com"),
        ),
        ("http://example.com:8080/", Some("domain-name:example.com")),
        ("jdoe@mail.example.com", Some("domain-name:example.com")),
        ("jdoe@example.com", Some("domain-name:example.com")),
        ("notexample.com", None),
        ("example.com.evil.net", None),
        ("example.org", None),
        ("other.example.org", None),
        ("com", None),
        ("http://evilexample.com/", None),
        ("https://evil.net/example.com", None),
        ("jdoe@example.net", None),
        ("example.com@evil.net", None),
    ];
    for (input, expected) in cases {
        let input = if input == "com" {
            "domain-name:com"
        } else {
            input
        };
        check(&list, input, expected);
    }
}

#[test]
fn ranges_cover_addresses_and_narrower_ranges() {
    let list = list();
    let cases = [
        ("10.1.2.3", Some("ipv4-addr:10.0.0.0/8")),
        ("10.20.3.4", Some("ipv4-addr:10.20.0.0/16")),
        ("10.20.0.0/24", Some("ipv4-addr:10.20.0.0/16")),
        ("10.0.0.0/16", Some("ipv4-addr:10.0.0.0/8")),
        ("10.0.0.0/8", Some("ipv4-addr:10.0.0.0/8")),
        ("http://10.9.9.9/admin", Some("ipv4-addr:10.0.0.0/8")),
        ("192.0.2.7", Some("ipv4-addr:192.0.2.7")),
        ("2001:db8::1", Some("ipv6-addr:2001:db8::/32")),
        ("2001:db8:1::/48", Some("ipv6-addr:2001:db8::/32")),
        ("http://[2001:db8::5]/", Some("ipv6-addr:2001:db8::/32")),
        ("10.0.0.0/7", None),
        ("11.0.0.1", None),
        ("192.0.2.8", None),
        ("192.0.2.0/24", None),
        ("2001:db9::1", None),
        ("2001:db8::/31", None),
        ("::ffff:10.1.2.3", None),
        ("http://11.0.0.1/", None),
    ];
    for (input, expected) in cases {
        check(&list, input, expected);
    }
}

#[test]
fn other_entries_cover_only_equal_observables() {
    let list = list();
    let other_sha256 = "a".repeat(64);
    let sha256_entry = format!("sha256:{SHA256}");
    let cases: Vec<(String, Option<&str>)> = vec![
        (
            "https://safe.example.net/page".into(),
            Some("url:https://safe.example.net/page"),
        ),
        (
            "HTTPS://Safe.Example.net:443/page#top".into(),
            Some("url:https://safe.example.net/page"),
        ),
        ("https://safe.example.net/other".into(), None),
        ("https://safe.example.net/page?x=1".into(), None),
        ("https://www.safe.example.net/page".into(), None),
        ("safe.example.net".into(), None),
        (
            "ceo@partner.example".into(),
            Some("email-addr:ceo@partner.example"),
        ),
        (
            "CEO@Partner.example".into(),
            Some("email-addr:ceo@partner.example"),
        ),
        ("cfo@partner.example".into(), None),
        ("partner.example".into(), None),
        ("http://partner.example/".into(), None),
        (SHA256.to_uppercase(), Some(&sha256_entry)),
        (format!("file:{SHA256}"), Some(&sha256_entry)),
        (format!("sha3-256:{SHA256}"), None),
        (other_sha256, None),
        (
            "user-account:x.com/@OurOrg".into(),
            Some("user-account:twitter/ourorg"),
        ),
        ("https://twitter.com/ourorg".into(), None),
        ("user-account:twitter/other".into(), None),
        ("user-account:facebook/ourorg".into(), None),
        ("user-account:twitter/id=ourorg".into(), None),
    ];
    for (input, expected) in &cases {
        check(&list, input, *expected);
    }
}

#[test]
fn insert_replaces_and_remove_returns_the_tag() {
    let mut list: KnownGood<u32> = KnownGood::default();
    assert!(list.is_empty());
    let range = parse_observable("10.1.2.3/8").unwrap();
    let inside = parse_observable("10.200.0.1").unwrap();
    list.insert(&range, 1);
    list.insert(&parse_observable("ipv4-addr:10.0.0.0/8").unwrap(), 2);
    assert_eq!(list.len(), 1);
    assert_eq!(list.check(&inside).map(|(_, t)| *t), Some(2));

    list.insert(&parse_observable("10.200.0.0/16").unwrap(), 3);
    assert_eq!(list.len(), 2);
    assert_eq!(list.check(&inside).map(|(_, t)| *t), Some(3));

    assert_eq!(
        list.remove(&parse_observable("10.200.0.0/16").unwrap()),
        Some(3)
    );
    assert_eq!(list.check(&inside).map(|(_, t)| *t), Some(2));
    assert_eq!(list.remove(&range), Some(2));
    assert_eq!(list.remove(&range), None);
    assert_eq!(list.check(&inside), None);
    assert!(list.is_empty());

    let domain = parse_observable("example.com").unwrap();
    list.insert(&domain, 4);
    assert_eq!(
        list.check(&parse_observable("a.example.com").unwrap())
            .map(|(e, t)| (e.to_string(), *t)),
        Some(("domain-name:example.com".to_owned(), 4))
    );
    assert_eq!(list.remove(&domain), Some(4));
    assert_eq!(
        list.check(&parse_observable("a.example.com").unwrap()),
        None
    );
}

#[test]
fn a_removed_range_leaves_other_ranges_of_its_length() {
    let mut list = KnownGood::new();
    let a = parse_observable("10.0.0.0/8").unwrap();
    let b = parse_observable("172.16.0.0/8").unwrap();
    list.insert(&a, ());
    list.insert(&b, ());
    list.insert(&b, ());
    assert!(list.remove(&a).is_some());
    assert!(
        list.check(&parse_observable("172.1.2.3").unwrap())
            .is_some()
    );
    assert!(list.check(&parse_observable("10.1.2.3").unwrap()).is_none());
}

#[test]
fn a_large_list_still_finds_the_one_entry() {
    let mut list = KnownGood::new();
    for i in 0..2000u32 {
        list.insert(
            &parse_observable(&format!("host{i}.example.com")).unwrap(),
            i,
        );
        let [_, _, c, d] = i.to_be_bytes();
        list.insert(&parse_observable(&format!("10.{c}.{d}.0/24")).unwrap(), i);
    }
    assert_eq!(list.len(), 4000);
    let hit = parse_observable("https://a.host1234.example.com/").unwrap();
    assert_eq!(list.check(&hit).map(|(_, t)| *t), Some(1234));
    let [_, _, c, d] = 1234u32.to_be_bytes();
    let hit = parse_observable(&format!("10.{c}.{d}.77")).unwrap();
    assert_eq!(list.check(&hit).map(|(_, t)| *t), Some(1234));
    assert!(
        list.check(&parse_observable("host1234.example.org").unwrap())
            .is_none()
    );
    assert!(list.check(&parse_observable("11.0.0.1").unwrap()).is_none());
}
