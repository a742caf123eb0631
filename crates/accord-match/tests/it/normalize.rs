//! Canonical forms: each rule as a table of inputs and what they become, refusals included.

use accord_match::normalize::{self, NormError, Observable, parse_observable};
use accord_pattern::PathStep;
use serde_json::{Map, Value};

/// Compares a normaliser's result with `expected`: the canonical value, or `error: ` and a
/// piece of the reason. A refusal must also repeat the value it refused.
fn expect(input: &str, got: Result<String, NormError>, expected: &str) {
    match (got, expected.strip_prefix("error: ")) {
        (Ok(value), None) => assert_eq!(value, expected, "input {input:?}"),
        (Ok(value), Some(_)) => panic!("input {input:?} became {value:?}, expected {expected}"),
        (Err(e), None) => panic!("input {input:?} was refused ({e}), expected {expected:?}"),
        (Err(e), Some(reason)) => {
            let message = e.to_string();
            assert!(
                message.contains(reason),
                "input {input:?}: error {message:?} does not say {reason:?}"
            );
            names_value(input, &message);
        }
    }
}

/// Whether an error message repeats the value (or, for `type:value`, the value part).
fn names_value(input: &str, message: &str) {
    let whole = input.trim().trim_end_matches('.');
    if whole.is_empty() || whole.len() > 100 {
        return;
    }
    let after = whole.split_once(':').map_or(whole, |(_, v)| v.trim());
    assert!(
        message.contains(whole) || message.contains(after),
        "error {message:?} does not name the value {input:?}"
    );
}

/// Every observable reads back from its text form as itself.
fn round_trip(obs: &Observable) {
    let text = obs.to_string();
    let again =
        parse_observable(&text).unwrap_or_else(|e| panic!("{text:?} does not read back: {e}"));
    assert_eq!(&again, obs, "{text:?}");
    assert_eq!(again.sco(), obs.sco(), "{text:?}");
    assert_eq!(again.value(), obs.value(), "{text:?}");
    assert_eq!(
        normalize::sco(obs.sco()).as_ref(),
        Ok(obs.sco()),
        "the SCO of {text:?} is not canonical"
    );
    for d in obs.derived() {
        round_trip(&d);
    }
}

/// Checks a table through `typed`: the same values given with a type prefix must give
/// observables that round-trip.
fn round_trip_typed(prefix: &str, cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        if expected.starts_with("error: ") {
            continue;
        }
        let obs = parse_observable(&format!("{prefix}:{input}"))
            .unwrap_or_else(|e| panic!("{prefix}:{input}: {e}"));
        assert_eq!(obs.value(), *expected, "{prefix}:{input}");
        round_trip(&obs);
    }
}

mod url {
    use super::*;

    fn check(input: &str, expected: &str) {
        expect(input, normalize::url(input), expected);
        if let Ok(once) = normalize::url(input) {
            assert_eq!(normalize::url(&once), Ok(once.clone()), "not idempotent");
        }
    }

    const CASES: &[(&str, &str)] = &[
        (
            "HTTP://Vote-Example.COM:80/a/../b",
            "http://vote-example.com/b",
        ),
        ("evil.example/path", "http://evil.example/path"),
        ("example.com:8080/x", "http://example.com:8080/x"),
        ("//cdn.example/x.js", "http://cdn.example/x.js"),
        ("www.example.com", "http://www.example.com/"),
        ("  https://example.com  ", "https://example.com/"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("http://example.com:443/x", "http://example.com:443/x"),
        ("ftp://files.example:21/a", "ftp://files.example/a"),
        ("ws://chat.example:80/s", "ws://chat.example/s"),
        ("wss://chat.example:443/s", "wss://chat.example/s"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("http://example.com./a", "http://example.com/a"),
        (
            "http://example.com/%7euser/%41%2f%2F%3a%5f",
            "http://example.com/~user/A%2F%2F%3A_",
        ),
        ("http://example.com/a%zz", "http://example.com/a%zz"),
        ("http://example.com/a#frag", "http://example.com/a"),
        (
            "http://example.com/a?B=1&a=%7e&c#f",
            "http://example.com/a?B=1&a=%7e&c",
        ),
        (
            "http://user:Pass@Example.com/",
            "http://user:Pass@example.com/",
        ),
        ("http://[2001:DB8:0:0:0:0:0:1]:80/", "http://[2001:db8::1]/"),
        ("http://192.168.0.1:80", "http://192.168.0.1/"),
        ("http://example.com/a/./b/../../c", "http://example.com/c"),
        ("http://example.com/a/%2e%2E/b", "http://example.com/b"),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("hxxp://Evil.Example", "hxxp://evil.example/"),
        ("hxxp://Bücher.Example./x", "hxxp://xn--bcher-kva.example/x"),
        ("mailto:Someone@Example.com", "mailto:Someone@Example.com"),
        ("file:///etc/passwd", "file:///etc/passwd"),
        ("FILE://Server/Share/a.txt", "file://server/Share/a.txt"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("", "error: is empty"),
        ("   ", "error: is empty"),
        ("http://exa mple.com/", "error: is not a valid URL"),
        ("http://example.com:99999/", "error: is not a valid URL"),
        ("https://", "error: is not a valid URL"),
    ];

    #[test]
    fn canonical_forms() {
        for (input, expected) in CASES {
            check(input, expected);
        }
    }

    #[test]
    fn round_trips() {
        round_trip_typed("url", CASES);
    }

    #[test]
    fn longer_than_8_kib_is_refused() {
        let long = format!("http://example.com/{}", "a".repeat(8 * 1024));
        check(&long, "error: at most 8192 bytes");
        let fits = format!("http://example.com/{}", "a".repeat(8000));
        check(&fits, &fits);
    }
}

mod domain {
    use super::*;

    fn check(input: &str, expected: &str) {
        expect(input, normalize::domain(input), expected);
    }

    const CASES: &[(&str, &str)] = &[
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        (" bücher.example ", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_dmarc.Example.com", "_dmarc.example.com"),
        ("-odd-.example.com", "-odd-.example.com"),
        ("localhost", "localhost"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("", "error: is empty"),
        ("exa mple.com", "error: containing ' '"),
        ("a..b", "error: empty label"),
        (".example", "error: empty label"),
        ("example.com..", "error: empty label"),
        ("*.example.com", "error: containing '*'"),
        ("example.com/path", "error: containing '/'"),
        ("1.2.3.4", "error: IP address, not a domain name"),
        ("example.123", "error: IP address, not a domain name"),
        ("xn--a.example", "error: IDNA"),
    ];

    #[test]
    fn canonical_forms() {
        for (input, expected) in CASES {
            check(input, expected);
        }
    }

    #[test]
    fn lengths() {
        let label63 = "a".repeat(63);
        check(&format!("{label63}.com"), &format!("{label63}.com"));
        check(
            &format!("{}.com", "a".repeat(64)),
            "error: a label of 64 bytes; a label may be at most 63",
        );
        let name253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(name253.len(), 253);
        check(&name253, &name253);
        let name254 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(62));
        check(
            &name254,
            "error: is 254 bytes long in ASCII; a domain name may be at most 253",
        );
    }

    #[test]
    fn round_trips() {
        round_trip_typed("domain-name", CASES);
        round_trip_typed("domain", CASES);
    }
}

mod ip {
    use super::*;

    fn check(input: &str, expected: &str) {
        expect(input, normalize::ip(input), expected);
    }

    const CASES: &[(&str, &str)] = &[
        ("10.1.2.3", "10.1.2.3"),
        (" 10.1.2.3 ", "10.1.2.3"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("192.168.77.200/26", "192.168.77.192/26"),
        ("10.1.2.3/32", "10.1.2.3"),
        ("10.1.2.3/0", "0.0.0.0/0"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        (
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "2001:db8::ff00:42:8329",
        ),
        ("2001:db8::1/128", "2001:db8::1"),
        ("2001:db8:ffff::1/32", "2001:db8::/32"),
        ("fe80::1:2/64", "fe80::/64"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::", "::"),
        ("", "error: is empty"),
        ("010.1.2.3", "error: is not an IPv4 address"),
        ("1.2.3", "error: is not an IPv4 address"),
        ("256.1.1.1", "error: is not an IPv4 address"),
        ("2001:db8:::1", "error: or an IPv6 address"),
        (
            "10.0.0.0/33",
            "error: the prefix length \"33\" is not a whole number from 0 to 32",
        ),
        ("10.0.0.0/+8", "error: the prefix length \"+8\""),
        ("10.0.0.0/", "error: the prefix length \"\""),
        ("::1/129", "error: from 0 to 128"),
        ("10.0.0.0/8/8", "error: the prefix length \"8/8\""),
    ];

    #[test]
    fn canonical_forms() {
        for (input, expected) in CASES {
            check(input, expected);
        }
    }

    #[test]
    fn round_trips() {
        round_trip_typed("ip", CASES);
    }

    #[test]
    fn the_family_decides_the_type() {
        assert_eq!(parse_observable("ip:10.0.0.1").unwrap().kind(), "ipv4-addr");
        assert_eq!(parse_observable("ip:::1").unwrap().kind(), "ipv6-addr");
        assert_eq!(
            parse_observable("ipv6-addr:2001:DB8::/32")
                .unwrap()
                .to_string(),
            "ipv6-addr:2001:db8::/32"
        );
        let e = parse_observable("ipv4-addr:2001:db8::1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2001:db8::1") && e.contains("is an IPv6 address"),
            "{e}"
        );
        let e = parse_observable("ipv6-addr:10.0.0.1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("10.0.0.1") && e.contains("is an IPv4 address"),
            "{e}"
        );
    }
}

mod email {
    use super::*;

    fn check(input: &str, expected: &str) {
        expect(input, normalize::email(input), expected);
    }

    const CASES: &[(&str, &str)] = &[
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("  jdoe@example.com  ", "jdoe@example.com"),
        ("mailto:jdoe@example.com", "jdoe@example.com"),
        ("MAILTO:JDoe@example.com?subject=hi", "jdoe@example.com"),
        ("Jane Doe <JDoe@Example.com>", "jdoe@example.com"),
        ("<jdoe@example.com>", "jdoe@example.com"),
        ("jdoe+tag@bücher.example", "jdoe+tag@xn--bcher-kva.example"),
        ("jdoe@example.com.", "jdoe@example.com"),
        ("", "error: is empty"),
        ("jdoe", "error: exactly one '@' (found 0)"),
        ("a@b@example.com", "error: exactly one '@' (found 2)"),
        ("@example.com", "error: nothing before the '@'"),
        ("jdoe@", "error: the domain \"\" after the '@' is empty"),
        (
            "jd oe@example.com",
            "error: has ' ' in the part before the '@'",
        ),
        ("jdoe@exa..mple.com", "error: empty label"),
        ("jdoe@exa mple.com", "error: containing ' '"),
        ("mailto:", "error: has no address"),
    ];

    #[test]
    fn canonical_forms() {
        for (input, expected) in CASES {
            check(input, expected);
        }
        let long = format!("{}@example.com", "a".repeat(65));
        check(
            &long,
            "error: a local part of 65 bytes; it may be at most 64",
        );
    }

    #[test]
    fn round_trips() {
        round_trip_typed("email-addr", CASES);
        round_trip_typed("email", CASES);
    }
}

mod hashes {
    use super::*;

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
    const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const TLSH: &str = "T1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4";

    fn check_algorithm(input: &str, expected: Option<&str>) {
        assert_eq!(normalize::hash_algorithm(input), expected, "{input:?}");
    }

    #[test]
    fn algorithm_names() {
        let cases = [
            ("md5", Some("MD5")),
            ("MD5", Some("MD5")),
            ("sha1", Some("SHA-1")),
            ("SHA1", Some("SHA-1")),
            ("sha-1", Some("SHA-1")),
            ("sha_1", Some("SHA-1")),
            ("SHA-1", Some("SHA-1")),
            ("sha256", Some("SHA-256")),
            ("SHA256", Some("SHA-256")),
            ("sha-256", Some("SHA-256")),
            ("Sha_256", Some("SHA-256")),
            ("SHA-256", Some("SHA-256")),
            ("sha512", Some("SHA-512")),
            ("SHA-512", Some("SHA-512")),
            ("sha3-256", Some("SHA3-256")),
            ("SHA3_256", Some("SHA3-256")),
            ("sha3-512", Some("SHA3-512")),
            ("ssdeep", Some("SSDEEP")),
            ("SSDEEP", Some("SSDEEP")),
            ("tlsh", Some("TLSH")),
            ("crc32", None),
            ("sha3", None),
            ("sha", None),
            ("", None),
        ];
        for (input, expected) in cases {
            check_algorithm(input, expected);
        }
    }

    fn check(algorithm: &str, input: &str, expected: &str) {
        // An unknown algorithm is the value the error must name.
        let named = if normalize::hash_algorithm(algorithm).is_some() {
            input
        } else {
            algorithm
        };
        expect(named, normalize::hash(algorithm, input), expected);
    }

    #[test]
    fn digests() {
        let upper_md5 = MD5.to_uppercase();
        let sha512 = "cf83".repeat(32);
        let sha3 = "a7ff".repeat(16);
        let ssdeep = "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C";
        let tlsh_lower = TLSH.to_lowercase();
        let tlsh_bare = &TLSH[2..];
        let cases: &[(&str, &str, &str)] = &[
            ("md5", &upper_md5, MD5),
            ("MD5", &format!("  {MD5}\n"), MD5),
            ("sha1", SHA1, SHA1),
            ("sha256", &SHA256.to_uppercase(), SHA256),
            ("sha512", &sha512, &sha512),
            ("sha3-256", &sha3, &sha3),
            ("ssdeep", &format!(" {ssdeep} "), ssdeep),
            ("tlsh", &tlsh_lower, TLSH),
            ("tlsh", tlsh_bare, tlsh_bare),
            (
                "md5",
                &MD5[1..],
                "error: has 31 hex digits; a MD5 digest has 32",
            ),
            (
                "sha256",
                MD5,
                "error: has 32 hex digits; a SHA-256 digest has 64",
            ),
            (
                "sha1",
                "zz39a3ee5e6b4b0d3255bfef95601890afd80709",
                "error: contains 'z'",
            ),
            ("md5", "", "error: is empty"),
            (
                "ssdeep",
                "AXGBicFlgVNhBGcL6wCrFQEv",
                "error: BLOCKSIZE:HASH:HASH",
            ),
            ("ssdeep", "3:a b:c", "error: BLOCKSIZE:HASH:HASH"),
            ("tlsh", "T1ABC", "error: is not a TLSH digest"),
            ("crc32", "abcd", "error: is not a known hash algorithm"),
        ];
        for (algorithm, input, expected) in cases {
            check(algorithm, input, expected);
        }
    }

    #[test]
    fn file_observables() {
        let obs = parse_observable(&format!("SHA256:{}", SHA256.to_uppercase())).unwrap();
        assert_eq!(obs.kind(), "file");
        assert_eq!(obs.value(), SHA256);
        let expected: Value = serde_json::json!({"type": "file", "hashes": {"SHA-256": SHA256}});
        assert_eq!(&Value::Object(obs.sco().clone()), &expected);
        assert_eq!(obs.to_string(), format!("sha256:{SHA256}"));
    }
}

mod parse {
    use super::*;

    fn check(input: &str, expected: &str) {
        match (parse_observable(input), expected.strip_prefix("error: ")) {
            (Ok(obs), None) => {
                assert_eq!(obs.to_string(), expected, "input {input:?}");
                round_trip(&obs);
            }
            (Ok(obs), Some(_)) => panic!("input {input:?} became {obs}, expected {expected}"),
            (Err(e), None) => panic!("input {input:?} was refused ({e}), expected {expected}"),
            (Err(e), Some(reason)) => {
                let message = e.to_string();
                assert!(
                    message.contains(reason),
                    "input {input:?}: error {message:?} does not say {reason:?}"
                );
                names_value(input, &message);
            }
        }
    }

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
    const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn typed_values() {
        let sha512 = "cf83".repeat(32);
        let sha3 = "a7ff".repeat(16);
        let cases: Vec<(String, String)> = vec![
            (
                "url:Example.com/A".into(),
                "url:http://example.com/A".into(),
            ),
            (
                "URL:http://x.example".into(),
                "url:http://x.example/".into(),
            ),
            (
                "domain:Example.com".into(),
                "domain-name:example.com".into(),
            ),
            (
                "domain-name:bücher.example".into(),
                "domain-name:xn--bcher-kva.example".into(),
            ),
            ("ip:2001:DB8::1".into(), "ipv6-addr:2001:db8::1".into()),
            (
                "ipv4-addr:10.1.2.3/16".into(),
                "ipv4-addr:10.1.0.0/16".into(),
            ),
            (
                "email:JDoe@Example.com".into(),
                "email-addr:jdoe@example.com".into(),
            ),
            (
                "email-addr: mailto:x@example.com".into(),
                "email-addr:x@example.com".into(),
            ),
            (format!("md5:{}", MD5.to_uppercase()), format!("md5:{MD5}")),
            (format!("sha1:{SHA1}"), format!("sha1:{SHA1}")),
            (format!("sha-1:{SHA1}"), format!("sha1:{SHA1}")),
            (format!("sha256:{SHA256}"), format!("sha256:{SHA256}")),
            (format!("SHA-256:{SHA256}"), format!("sha256:{SHA256}")),
            (format!("sha512:{sha512}"), format!("sha512:{sha512}")),
            (format!("sha3-256:{sha3}"), format!("sha3-256:{sha3}")),
            (format!("sha3-512:{sha512}"), format!("sha3-512:{sha512}")),
            (format!("file:{MD5}"), format!("md5:{MD5}")),
            (format!("file:{SHA256}"), format!("sha256:{SHA256}")),
            ("ssdeep:3:abc:def".into(), "ssdeep:3:abc:def".into()),
            (
                "user-account:X/@JDoe".into(),
                "user-account:twitter/jdoe".into(),
            ),
            (
                "user-account:twitter.com/jdoe".into(),
                "user-account:twitter/jdoe".into(),
            ),
            (
                "user-account:x.com/id=12345".into(),
                "user-account:twitter/id=12345".into(),
            ),
            (
                "user-account:FB/John.Doe".into(),
                "user-account:facebook/john.doe".into(),
            ),
            (
                "user-account:ig/someone".into(),
                "user-account:instagram/someone".into(),
            ),
            (
                "user-account:YT/@Chan".into(),
                "user-account:youtube/chan".into(),
            ),
            (
                "user-account:t.me/chan_1".into(),
                "user-account:telegram/chan_1".into(),
            ),
            (
                "user-account:tiktok.com/@Name".into(),
                "user-account:tiktok/name".into(),
            ),
            (
                "user-account:Mastodon/@Someone".into(),
                "user-account:mastodon/someone".into(),
            ),
            (
                "user-account:telegram/id= AbC ".into(),
                "user-account:telegram/id=AbC".into(),
            ),
        ];
        for (input, expected) in &cases {
            check(input, expected);
        }
    }

    #[test]
    fn bare_values() {
        let sha512 = "cf83".repeat(32);
        let cases: Vec<(String, String)> = vec![
            ("http://x.example".into(), "url:http://x.example/".into()),
            (
                "  HTTPS://X.example/Path  ".into(),
                "url:https://x.example/Path".into(),
            ),
            (
                "www.Example.com/Path".into(),
                "url:http://www.example.com/Path".into(),
            ),
            (
                "evil.example/redirect?to=http://x".into(),
                "url:http://evil.example/redirect?to=http://x".into(),
            ),
            (
                "jdoe@example.com".into(),
                "email-addr:jdoe@example.com".into(),
            ),
            (
                "mailto:JDoe@example.com".into(),
                "email-addr:jdoe@example.com".into(),
            ),
            (
                "Jane <JDoe@Example.com>".into(),
                "email-addr:jdoe@example.com".into(),
            ),
            ("10.0.0.1".into(), "ipv4-addr:10.0.0.1".into()),
            ("10.9.8.7/8".into(), "ipv4-addr:10.0.0.0/8".into()),
            ("2001:db8:0::1".into(), "ipv6-addr:2001:db8::1".into()),
            ("2001:db8::/32".into(), "ipv6-addr:2001:db8::/32".into()),
            ("::1".into(), "ipv6-addr:::1".into()),
            (MD5.to_uppercase(), format!("md5:{MD5}")),
            (SHA1.into(), format!("sha1:{SHA1}")),
            (SHA256.into(), format!("sha256:{SHA256}")),
            (sha512.clone(), format!("sha512:{sha512}")),
            ("Example.COM".into(), "domain-name:example.com".into()),
            ("file:///etc/passwd".into(), "url:file:///etc/passwd".into()),
            (
                "bücher.example.".into(),
                "domain-name:xn--bcher-kva.example".into(),
            ),
            ("deadbeef.com".into(), "domain-name:deadbeef.com".into()),
        ];
        for (input, expected) in &cases {
            check(input, expected);
        }
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", "error: is empty"),
            ("   ", "error: is empty"),
            (
                "hello",
                "error: cannot tell what kind of observable this is; write it as type:value",
            ),
            ("1234", "error: cannot tell"),
            ("localhost", "error: cannot tell"),
            ("evil.example/path", "error: cannot tell"),
            ("deadbeef", "error: cannot tell"),
            ("http:x", "error: cannot tell"),
            ("1.2.3.4.5", "error: is not an IPv4 address"),
            ("10.0.0.1/40", "error: the prefix length \"40\""),
            ("jdoe@@example.com", "error: exactly one '@' (found 2)"),
            ("url:", "error: is empty"),
            ("url:http://exa mple/", "error: is not a valid URL"),
            ("domain:exa mple.com", "error: containing ' '"),
            (
                "ipv4-addr:2001:db8::1",
                "error: is an IPv6 address; write ipv6-addr:2001:db8::1",
            ),
            ("email:jdoe", "error: exactly one '@'"),
            ("md5:xyz", "error: contains 'x'"),
            (
                "sha256:abc",
                "error: has 3 hex digits; a SHA-256 digest has 64",
            ),
            (
                "file:abc",
                "error: is not an MD5, SHA-1, SHA-256 or SHA-512 digest",
            ),
            (
                "user-account:jdoe",
                "error: names no platform; write user-account:PLATFORM/HANDLE",
            ),
            ("user-account:twitter/", "error: has an empty handle"),
            ("user-account:twitter/@", "error: has an empty handle"),
            ("user-account:/jdoe", "error: has an empty platform"),
            ("user-account:twitter/id=", "error: has an empty id"),
            (
                "user-account:twitter/j doe",
                "error: has a handle with spaces",
            ),
            ("user-account:twitter/@id=5", "error: reads as an id"),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn longer_than_8_kib_is_refused() {
        let long = "a".repeat(8 * 1024 + 1);
        let e = parse_observable(&long).unwrap_err().to_string();
        assert!(e.contains("is 8193 bytes long; at most 8192 bytes"), "{e}");
        assert!(
            e.len() < 400,
            "the error repeats the whole value: {} bytes",
            e.len()
        );
    }
}

mod derived {
    use super::*;

    fn check(input: &str, expected: &[&str]) {
        let obs = parse_observable(input).unwrap();
        let got: Vec<String> = obs.derived().iter().map(ToString::to_string).collect();
        assert_eq!(got, expected, "input {input:?}");
        round_trip(&obs);
    }

    #[test]
    fn hosts_domains_and_accounts() {
        let cases: &[(&str, &[&str])] = &[
            (
                "https://Login.Example.com/x",
                &["domain-name:login.example.com"],
            ),
            ("http://10.1.2.3/x", &["ipv4-addr:10.1.2.3"]),
            ("http://[2001:db8::1]:8080/", &["ipv6-addr:2001:db8::1"]),
            ("hxxp://evil.example/", &["domain-name:evil.example"]),
            (
                "https://twitter.com/JDoe",
                &["domain-name:twitter.com", "user-account:twitter/jdoe"],
            ),
            (
                "url:x.com/jdoe/status/1",
                &["domain-name:x.com", "user-account:twitter/jdoe"],
            ),
            (
                "https://mobile.twitter.com/@jdoe",
                &[
                    "domain-name:mobile.twitter.com",
                    "user-account:twitter/jdoe",
                ],
            ),
            (
                "https://www.facebook.com/john.doe",
                &[
                    "domain-name:www.facebook.com",
                    "user-account:facebook/john.doe",
                ],
            ),
            (
                "https://www.facebook.com/profile.php?id=1234",
                &[
                    "domain-name:www.facebook.com",
                    "user-account:facebook/id=1234",
                ],
            ),
            (
                "https://instagram.com/some_one/",
                &[
                    "domain-name:instagram.com",
                    "user-account:instagram/some_one",
                ],
            ),
            (
                "https://t.me/ChannelName",
                &["domain-name:t.me", "user-account:telegram/channelname"],
            ),
            (
                "https://t.me/s/channelname",
                &["domain-name:t.me", "user-account:telegram/channelname"],
            ),
            (
                "https://www.tiktok.com/@Name/video/1",
                &["domain-name:www.tiktok.com", "user-account:tiktok/name"],
            ),
            (
                "https://www.youtube.com/@Name/videos",
                &["domain-name:www.youtube.com", "user-account:youtube/name"],
            ),
            (
                "https://youtube.com/channel/UCabc-_1",
                &[
                    "domain-name:youtube.com",
                    "user-account:youtube/id=UCabc-_1",
                ],
            ),
            // Pages that are not profiles give only the host.
            (
                "https://www.tiktok.com/name",
                &["domain-name:www.tiktok.com"],
            ),
            (
                "https://www.youtube.com/watch?v=x",
                &["domain-name:www.youtube.com"],
            ),
            ("https://twitter.com/home", &["domain-name:twitter.com"]),
            ("https://twitter.com/", &["domain-name:twitter.com"]),
            (
                "https://twitter.com/i/web/status/1",
                &["domain-name:twitter.com"],
            ),
            ("https://x.com/intent/tweet?text=a", &["domain-name:x.com"]),
            (
                "https://www.facebook.com/photo.php?fbid=1",
                &["domain-name:www.facebook.com"],
            ),
            (
                "https://www.facebook.com/profile.php?id=abc",
                &["domain-name:www.facebook.com"],
            ),
            (
                "https://www.instagram.com/p/Cxyz/",
                &["domain-name:www.instagram.com"],
            ),
            ("https://t.me/+AbCdEf", &["domain-name:t.me"]),
            (
                "https://nottwitter.com/jdoe",
                &["domain-name:nottwitter.com"],
            ),
            ("jdoe@Mail.Example.com", &["domain-name:mail.example.com"]),
            ("example.com", &[]),
            ("10.0.0.1", &[]),
            ("d41d8cd98f00b204e9800998ecf8427e", &[]),
            ("user-account:twitter/jdoe", &[]),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }
}

mod sco {
    use super::*;

    fn check(input: &str, expected: &str) {
        let object: Map<String, Value> = serde_json::from_str(input).unwrap();
        match (normalize::sco(&object), expected.strip_prefix("error: ")) {
            (Ok(got), None) => {
                let want: Map<String, Value> = serde_json::from_str(expected).unwrap();
                assert_eq!(got, want, "input {input}");
                assert_eq!(
                    normalize::sco(&got),
                    Ok(got.clone()),
                    "not idempotent: {input}"
                );
            }
            (Ok(got), Some(_)) => panic!("{input} became {got:?}, expected {expected}"),
            (Err(e), None) => panic!("{input} was refused ({e}), expected {expected}"),
            (Err(e), Some(reason)) => {
                let message = e.to_string();
                assert!(
                    message.contains(reason),
                    "{input}: error {message:?} does not say {reason:?}"
                );
            }
        }
    }

    const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn whole_objects() {
        let upper = SHA256.to_uppercase();
        let cases: Vec<(String, String)> = vec![
            (
                r#"{"type":"url","id":"url--4c3b1f2e-1c1b-5a5a-9c3e-8a1b2c3d4e5f","value":"HTTP://Example.COM:80"}"#.into(),
                r#"{"type":"url","id":"url--4c3b1f2e-1c1b-5a5a-9c3e-8a1b2c3d4e5f","value":"http://example.com/"}"#.into(),
            ),
            (
                r#"{"type":"domain-name","value":"Bücher.Example.","resolves_to_refs":["ipv4-addr--1"]}"#.into(),
                r#"{"type":"domain-name","value":"xn--bcher-kva.example","resolves_to_refs":["ipv4-addr--1"]}"#.into(),
            ),
            (
                r#"{"type":"ipv4-addr","value":"10.1.2.3/8"}"#.into(),
                r#"{"type":"ipv4-addr","value":"10.0.0.0/8"}"#.into(),
            ),
            (
                r#"{"type":"ipv6-addr","value":"2001:DB8:0::1/128"}"#.into(),
                r#"{"type":"ipv6-addr","value":"2001:db8::1"}"#.into(),
            ),
            (
                r#"{"type":"email-addr","value":"JDoe@Example.com","display_name":"J Doe"}"#.into(),
                r#"{"type":"email-addr","value":"jdoe@example.com","display_name":"J Doe"}"#.into(),
            ),
            (
                format!(r#"{{"type":"file","name":"Evil.EXE","hashes":{{"sha256":"{upper}","X-CUSTOM":"AbC"}}}}"#),
                format!(r#"{{"type":"file","name":"Evil.EXE","hashes":{{"SHA-256":"{SHA256}","X-CUSTOM":"AbC"}}}}"#),
            ),
            (
                format!(r#"{{"type":"file","hashes":{{"sha256":"{upper}","SHA-256":"{SHA256}"}}}}"#),
                format!(r#"{{"type":"file","hashes":{{"SHA-256":"{SHA256}"}}}}"#),
            ),
            (
                r#"{"type":"artifact","hashes":{"md5":"D41D8CD98F00B204E9800998ECF8427E"}}"#.into(),
                r#"{"type":"artifact","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}}"#.into(),
            ),
            (
                r#"{"type":"user-account","account_type":"X","account_login":"@JDoe","display_name":"J"}"#.into(),
                r#"{"type":"user-account","account_type":"twitter","account_login":"jdoe","display_name":"J"}"#.into(),
            ),
            (
                r#"{"type":"user-account","account_type":"unix","user_id":"1001"}"#.into(),
                r#"{"type":"user-account","account_type":"unix","user_id":"1001"}"#.into(),
            ),
            (
                r#"{"type":"x-custom","value":"ABC"}"#.into(),
                r#"{"type":"x-custom","value":"ABC"}"#.into(),
            ),
            (r#"{"value":"ABC"}"#.into(), r#"{"value":"ABC"}"#.into()),
            (
                r#"{"type":"url","value":"http://exa mple/"}"#.into(),
                r#"error: url property value = "http://exa mple/": is not a valid URL"#.into(),
            ),
            (
                r#"{"type":"url","value":7}"#.into(),
                "error: url property value = \"7\": must be a string".into(),
            ),
            (
                r#"{"type":"ipv4-addr","value":"2001:db8::1"}"#.into(),
                r#"error: ipv4-addr property value = "2001:db8::1": is an IPv6 address, not ipv4-addr"#.into(),
            ),
            (
                r#"{"type":"email-addr","value":"nobody"}"#.into(),
                r#"error: email-addr property value = "nobody": must contain exactly one '@'"#.into(),
            ),
            (
                r#"{"type":"file","hashes":{"sha256":"abc"}}"#.into(),
                r#"error: file property hashes.sha256 = "abc": has 3 hex digits"#.into(),
            ),
            (
                r#"{"type":"file","hashes":{"MD5":5}}"#.into(),
                "error: file property hashes.MD5 = \"5\": must be a string".into(),
            ),
            (
                r#"{"type":"file","hashes":["MD5"]}"#.into(),
                "error: file property hashes = \"[\\\"MD5\\\"]\": must be an object".into(),
            ),
            (
                format!(r#"{{"type":"file","hashes":{{"SHA-256":"{SHA256}","sha256":"{}"}}}}"#, "a".repeat(64)),
                "error: file property hashes.sha256 = \"aaaa".into(),
            ),
            (
                r#"{"type":"user-account","account_login":"@"}"#.into(),
                r#"error: user-account property account_login = "@": is an empty login"#.into(),
            ),
        ];
        for (input, expected) in &cases {
            check(input, expected);
        }
    }

    #[test]
    fn two_spellings_of_one_algorithm_with_different_digests_are_refused() {
        let object: Map<String, Value> = serde_json::from_str(&format!(
            r#"{{"type":"file","hashes":{{"SHA-256":"{SHA256}","sha256":"{}"}}}}"#,
            "a".repeat(64)
        ))
        .unwrap();
        let e = normalize::sco(&object).unwrap_err().to_string();
        assert!(e.contains("another spelling of SHA-256"), "{e}");
    }
}

/// Splits `a.b.c` into key steps (`*` is any index).
fn steps(path: &str) -> Vec<PathStep> {
    path.split('.')
        .map(|k| match k {
            "*" => PathStep::AnyIndex,
            k => PathStep::Key(k.to_owned()),
        })
        .collect()
}

fn show(steps: &[PathStep]) -> String {
    steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => k.clone(),
            PathStep::Index(i) => i.to_string(),
            PathStep::AnyIndex => "*".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

mod paths {
    use super::*;

    fn check(object_type: &str, path: &str, expected: Option<&str>) {
        let got = normalize::path(object_type, &steps(path));
        assert_eq!(
            got.as_deref().map(show),
            expected.map(str::to_owned),
            "{object_type}:{path}"
        );
    }

    #[test]
    fn hash_keys() {
        let cases = [
            ("file", "hashes.SHA256", Some("hashes.SHA-256")),
            ("file", "hashes.sha-1", Some("hashes.SHA-1")),
            ("file", "hashes.sha3_256", Some("hashes.SHA3-256")),
            ("artifact", "hashes.md5", Some("hashes.MD5")),
            ("x509-certificate", "hashes.sha1", Some("hashes.SHA-1")),
            ("file", "hashes.sha256.*", Some("hashes.SHA-256.*")),
            ("file", "hashes.SHA-256", None),
            ("file", "hashes.crc32", None),
            ("file", "hashes", None),
            ("file", "name", None),
            ("file", "parent_directory_ref.path", None),
            ("file", "extensions.sha256", None),
        ];
        for (object_type, path, expected) in cases {
            check(object_type, path, expected);
        }
    }
}

mod constants {
    use super::*;

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

    fn check(object_type: &str, path: &str, value: &str, expected: Option<&str>) {
        let got = normalize::constant(object_type, &steps(path), value);
        assert_eq!(got.as_deref(), expected, "{object_type}:{path} = {value:?}");
    }

    #[test]
    fn equality_constants() {
        let upper = MD5.to_uppercase();
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            (
                "url",
                "value",
                "HTTP://Example.COM",
                Some("http://example.com/"),
            ),
            ("url", "value", "http://exa mple/", None),
            ("domain-name", "value", "Example.COM.", Some("example.com")),
            ("domain-name", "value", "*.example.com", None),
            ("ipv4-addr", "value", "10.1.2.3/8", Some("10.0.0.0/8")),
            ("ipv4-addr", "value", "::1", None),
            ("ipv6-addr", "value", "2001:DB8::0:1", Some("2001:db8::1")),
            ("ipv6-addr", "value", "10.0.0.1", None),
            (
                "email-addr",
                "value",
                "JDoe@Example.com",
                Some("jdoe@example.com"),
            ),
            ("file", "hashes.MD5", &upper, Some(MD5)),
            ("artifact", "hashes.MD5", &upper, Some(MD5)),
            ("file", "hashes.SHA-256", "zz", None),
            ("file", "hashes.X-CUSTOM", "ABC", None),
            ("user-account", "account_login", "@JDoe", Some("jdoe")),
            ("user-account", "account_type", "X", Some("twitter")),
            ("user-account", "account_type", "Unix", Some("unix")),
            ("user-account", "user_id", "ABC", None),
            ("file", "name", "Evil.EXE", None),
            ("network-traffic", "dst_ref.value", "HTTP://x", None),
            (
                "domain-name",
                "resolves_to_refs.*.value",
                "Example.com",
                None,
            ),
            ("url", "value.x", "HTTP://x", None),
            ("x-custom", "value", "ABC", None),
        ];
        for (object_type, path, value, expected) in cases {
            check(object_type, path, value, *expected);
        }
    }

    fn check_like(object_type: &str, path: &str, pattern: &str, expected: Option<&str>) {
        let got = normalize::like_constant(object_type, &steps(path), pattern);
        assert_eq!(
            got.as_deref(),
            expected,
            "{object_type}:{path} LIKE {pattern:?}"
        );
    }

    #[test]
    fn like_constants_fold_case_only() {
        let cases = [
            (
                "domain-name",
                "value",
                "%.Example.COM",
                Some("%.example.com"),
            ),
            (
                "email-addr",
                "value",
                "%@Example.com",
                Some("%@example.com"),
            ),
            ("file", "hashes.MD5", "D41D%", Some("d41d%")),
            ("file", "hashes.SHA-256", "E3B0_%", Some("e3b0_%")),
            ("file", "hashes.TLSH", "t1ab%", Some("T1AB%")),
            ("user-account", "account_login", "JDoe%", Some("jdoe%")),
            ("file", "hashes.SSDEEP", "3:AbC%", None),
            ("url", "value", "HTTP://%", None),
            ("ipv4-addr", "value", "10.%", None),
            ("user-account", "account_type", "X%", None),
            ("file", "name", "A%", None),
        ];
        for (object_type, path, pattern, expected) in cases {
            check_like(object_type, path, pattern, expected);
        }
    }
}

mod registrable {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(
            normalize::registrable_domain(input).as_deref(),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn by_the_public_suffix_list() {
        let cases = [
            ("login.vote-example.com", Some("vote-example.com")),
            ("Login.Vote-Example.COM.", Some("vote-example.com")),
            ("example.com", Some("example.com")),
            ("a.b.example.co.uk", Some("example.co.uk")),
            ("www.example.com.au", Some("example.com.au")),
            ("shop.bücher.de", Some("xn--bcher-kva.de")),
            // Wildcard and exception rules: *.kawasaki.jp, !city.kawasaki.jp.
            ("www.city.kawasaki.jp", Some("city.kawasaki.jp")),
            ("a.b.foo.kawasaki.jp", Some("b.foo.kawasaki.jp")),
            // The private section.
            ("foo.bar.github.io", Some("bar.github.io")),
            ("someone.blogspot.com", Some("someone.blogspot.com")),
            ("app.herokuapp.com", Some("app.herokuapp.com")),
            ("co.uk", None),
            ("com", None),
            ("github.io", None),
            ("foo.kawasaki.jp", None),
            ("1.2.3.4", None),
            ("", None),
            ("a..b", None),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }
}

mod robust {
    use super::*;

    /// Pieces that odd inputs are made of.
    const PIECES: &[&str] = &[
        "http://",
        "HTTPS://",
        "//",
        "www.",
        "mailto:",
        "url:",
        "ip:",
        "email:",
        "sha256:",
        "file:",
        "user-account:",
        "x/",
        "@",
        "<",
        ">",
        "a",
        "Ü",
        "ß",
        "例",
        "xn--",
        ".",
        "..",
        ":",
        "::",
        "/",
        "%",
        "%2e",
        "%7E",
        "%zz",
        "?",
        "#",
        "[",
        "]",
        "10",
        "255",
        "0",
        "ff",
        "-",
        "_",
        " ",
        "\t",
        "id=",
        "com",
        "example",
        "1.2.3.4",
        "2001:db8::",
        "/8",
        "/33",
        ":80",
        ":443",
        "\u{200b}",
        "ＡＢＣ",
        "。",
    ];

    /// A small deterministic generator, so a failure names a reproducible input.
    fn next(state: &mut u64) -> usize {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        usize::try_from(*state % 1_000_003).unwrap()
    }

    #[test]
    fn whatever_parses_reads_back_as_itself() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut parsed = 0;
        for _ in 0..20_000 {
            let n = 1 + next(&mut state) % 6;
            let text: String = (0..n)
                .map(|_| PIECES[next(&mut state) % PIECES.len()])
                .collect();
            if let Ok(obs) = parse_observable(&text) {
                parsed += 1;
                round_trip(&obs);
            }
        }
        assert!(
            parsed > 1000,
            "only {parsed} inputs parsed; the generator is too narrow"
        );
    }
}

#[test]
fn the_plain_ascii_fast_path_for_domains_agrees_with_the_idna_mapping() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    const ALPHABET: &[u8] = b"abcXYZ019-_..";
    let mut rng = StdRng::seed_from_u64(7);
    let mut checked = 0;
    for _ in 0..20_000 {
        let len = rng.random_range(1..20);
        let s: String = (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        let fast = normalize::domain(&s);
        let t = s.trim();
        let slow = normalize::domain_by_idna(t.strip_suffix('.').unwrap_or(t));
        assert_eq!(fast.is_ok(), slow.is_ok(), "{s:?}: {fast:?} vs {slow:?}");
        if let (Ok(a), Ok(b)) = (&fast, &slow) {
            assert_eq!(a, b, "{s:?}");
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} valid names drawn");
}
