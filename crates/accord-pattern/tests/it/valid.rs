//! Patterns that must parse, and the canonical printing of each, which must parse back to
//! the same tree.

use accord_pattern::{Pattern, parse};

/// Parses `input`, checks that its canonical text is `canonical` (or the input itself when
/// `None`), and that the canonical text parses to the same tree and prints unchanged.
fn check(input: &str, canonical: Option<&str>) {
    let tree = parse(input).unwrap_or_else(|e| panic!("{input}\n  rejected: {e}"));
    let text = tree.to_string();
    assert_eq!(
        text,
        canonical.unwrap_or(input),
        "canonical text of {input}"
    );
    let again: Pattern = text
        .parse()
        .unwrap_or_else(|e| panic!("canonical {text}\n  rejected: {e}"));
    assert_eq!(again, tree, "round trip of {input}");
    assert_eq!(again.to_string(), text, "canonical text is a fixed point");
}

/// The examples of the STIX 2.1 specification, section 9 (as collected in
/// oasis-open/cti-pattern-validator `stix2patterns/test/spec_examples.txt`, BSD-3-Clause;
/// the `windows-pebinary-ext` key is quoted as the 2.1 grammar requires and the 2.1
/// specification writes it).
pub(crate) const SPEC: &[(&str, Option<&str>)] = &[
    (
        r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        None,
    ),
    (
        r"[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']",
        None,
    ),
    (
        r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
        None,
    ),
    (
        r"[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        None,
    ),
    (
        r"([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS",
        None,
    ),
    (
        r"[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
        None,
    ),
    (
        r"[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']",
        None,
    ),
    (
        r"[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']",
        None,
    ),
    (
        r"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
        None,
    ),
    (
        r"[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
        None,
    ),
    (
        r"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
        None,
    ),
    (
        r"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
        None,
    ),
    (
        r"[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
        None,
    ),
    (
        r"[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
        None,
    ),
    (
        r"[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
        None,
    ),
    (
        r"[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']",
        None,
    ),
    (
        r"[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
        None,
    ),
    (
        r"[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
        None,
    ),
    (
        r"[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
        None,
    ),
    (
        r"[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
        None,
    ),
    (
        r"[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
        None,
    ),
    (
        r"([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
        Some(
            r"[file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar'] OR [process:name = 'fooproc' OR process:name = 'procfoo']",
        ),
    ),
    (
        r"([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS",
        None,
    ),
    (
        r"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        None,
    ),
];

#[test]
fn spec_examples() {
    for (p, canonical) in SPEC {
        check(p, *canonical);
    }
}

/// A subset of the passing cases of oasis-open/cti-pattern-validator
/// (`stix2patterns/test/v21/test_validator.py`, BSD-3-Clause), patterns only, with the
/// canonical text Accord prints for each. Cases the two validators disagree on are in
/// `invalid::oasis_disagreements`.
pub(crate) const OASIS_PASS: &[(&str, Option<&str>)] = &[
    ("[file:size = 1280]", None),
    ("[file:size != 1280]", None),
    ("[file:size < 1024]", None),
    ("[file:size <= 1024]", None),
    ("[file:size > 1024]", None),
    ("[file:size >= 1024]", None),
    ("[file:file_name = 'my_file_name']", None),
    ("[file:extended_properties.'ntfs-ext'.sid = '234']", None),
    (
        r"[emailaddr:value MATCHES '.+\\@ibm\\.com$' OR file:name MATCHES '^Final Report.+\\.exe$']",
        None,
    ),
    ("[ipv4addr:value ISSUBSET '192.168.0.1/24']", None),
    ("[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']", None),
    (
        "[user-account:value = 'Peter'] AND [user-account:value != 'Paul'] AND [user-account:value = 'Mary'] WITHIN 5 SECONDS",
        None,
    ),
    ("[file:file_system_properties.file_name LIKE 'name%']", None),
    (
        "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
        None,
    ),
    ("[file:size IN (1024, 2048, 4096)]", None),
    (
        "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
        None,
    ),
    (
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS",
        None,
    ),
    ("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", None),
    (
        "[foo:bar=1] REPEATS 9 TIMES",
        Some("[foo:bar = 1] REPEATS 9 TIMES"),
    ),
    ("[network-traffic:start = '2018-04-20T12:36:24.558Z']", None),
    (
        "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
        Some(
            "[network-traffic:dst_port IN (443, 6443, 8443) AND network-traffic:src_packets != 0]",
        ),
    ),
    (
        r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES",
        None,
    ),
    (
        r"[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
        Some(
            r"[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
        ),
    ),
];

#[test]
fn oasis_validator_cases() {
    for (p, canonical) in OASIS_PASS {
        check(p, *canonical);
    }
}

/// The rest of the language, each feature at least once, with its canonical text.
pub(crate) const MORE: &[(&str, Option<&str>)] = &[
    // Operators and their alternative spellings.
    ("[file:name == 'a']", Some("[file:name = 'a']")),
    ("[file:name <> 'a']", Some("[file:name != 'a']")),
    ("[file:name NOT = 'x']", None),
    ("[file:name NOT IN ('a', 'b')]", None),
    ("[file:name NOT LIKE 'a%']", None),
    ("[file:name NOT MATCHES '^a']", None),
    ("[ipv4-addr:value ISSUPERSET '10.0.0.1']", None),
    ("[ipv4-addr:value NOT ISSUPERSET '10.0.0.1']", None),
    ("[file:size NOT > 5]", None),
    ("[EXISTS windows-registry-key:values]", None),
    (
        "[EXISTS file:extensions.'ntfs-ext' AND file:size > 0]",
        None,
    ),
    // Constants.
    ("[file:size IN ()]", None),
    ("[x-thing:flag = true]", None),
    ("[x-thing:flag != false]", None),
    ("[x-thing:n = -12]", None),
    ("[x-thing:n = +12]", Some("[x-thing:n = 12]")),
    ("[x-thing:n = 0]", None),
    ("[x-thing:n > -0.5]", None),
    ("[x-thing:n > .5]", Some("[x-thing:n > 0.5]")),
    ("[x-thing:n > +1.25]", Some("[x-thing:n > 1.25]")),
    ("[x-thing:n = 9223372036854775807]", None),
    ("[x-thing:n = -9223372036854775808]", None),
    (
        "[x-thing:n IN (1, 2.5, 'three', true, h'04', t'2020-01-01T00:00:00Z')]",
        None,
    ),
    (
        "[file:magic_number_hex = h'FFD8']",
        Some("[file:magic_number_hex = h'ffd8']"),
    ),
    ("[file:magic_number_hex = h'']", None),
    ("[artifact:payload_bin = b'YQ==']", None),
    ("[artifact:payload_bin = b'YWI=']", None),
    ("[artifact:payload_bin = b'YWJj']", None),
    ("[artifact:payload_bin = b'a+/9']", None),
    ("[file:created > t'2016-02-29T23:59:60.123456789Z']", None),
    ("[file:name = '']", None),
    (r"[file:name = 'it\'s']", None),
    (r"[file:name = 'back\\slash']", None),
    ("[file:name = 'naïve – ünïcödé']", None),
    ("[file:name = 'AND OR ] ) [']", None),
    // Object paths.
    ("[file:'name' = 'a']", Some("[file:name = 'a']")),
    ("[file:hashes.'SHA-256' = 'a']", None),
    ("[file:hashes.'with space' = 'a']", None),
    (r"[file:hashes.'it\'s' = 'a']", None),
    ("[file:'AND' = 'a']", None),
    ("[file:x.'true' = 'a']", None),
    ("[x-thing:a[0].b[-1].c[*] = 1]", None),
    ("[x-thing:a[+3] = 1]", Some("[x-thing:a[3] = 1]")),
    ("[x-thing:_under_score = 1]", None),
    ("[x-thing:a[*][0] = 1]", None),
    (
        "[network-traffic:src_ref.value = '10.0.0.1' AND network-traffic:dst_ref.value = '10.0.0.2']",
        None,
    ),
    ("[email-message:to_refs[*].value = 'a@example.com']", None),
    ("[file:extensions.'x-acme-ext'.score > 50]", None),
    // Comparison grouping: AND binds tighter than OR.
    ("[file:a = 1 OR file:b = 2 AND file:c = 3]", None),
    ("[(file:a = 1 OR file:b = 2) AND file:c = 3]", None),
    ("[file:a = 1 AND (file:b = 2 AND file:c = 3)]", None),
    ("[((file:a = 1))]", Some("[file:a = 1]")),
    ("[file:a = 1 OR (file:b = 2 OR file:c = 3)]", None),
    (
        "[file:a = 1 OR domain-name:value = 'x' OR (ipv4-addr:value = '1.2.3.4' AND ipv4-addr:x = 1)]",
        Some(
            "[file:a = 1 OR domain-name:value = 'x' OR ipv4-addr:value = '1.2.3.4' AND ipv4-addr:x = 1]",
        ),
    ),
    // Observation operators and qualifiers.
    ("[file:a = 1] OR [file:b = 2] AND [file:c = 3]", None),
    ("([file:a = 1] OR [file:b = 2]) AND [file:c = 3]", None),
    ("[file:a = 1] FOLLOWEDBY [file:b = 2] OR [file:c = 3]", None),
    (
        "[file:a = 1] FOLLOWEDBY ([file:b = 2] FOLLOWEDBY [file:c = 3])",
        None,
    ),
    (
        "([file:a = 1] FOLLOWEDBY [file:b = 2]) FOLLOWEDBY [file:c = 3]",
        None,
    ),
    ("(([file:a = 1]))", Some("[file:a = 1]")),
    ("[file:a = 1] AND [file:b = 2] WITHIN 5 SECONDS", None),
    ("([file:a = 1] AND [file:b = 2]) WITHIN 5 SECONDS", None),
    ("[file:a = 1] WITHIN 2.5 SECONDS", None),
    (
        "[file:a = 1] WITHIN .5 SECONDS",
        Some("[file:a = 1] WITHIN 0.5 SECONDS"),
    ),
    (
        "[file:a = 1] WITHIN 5.0 SECONDS",
        Some("[file:a = 1] WITHIN 5 SECONDS"),
    ),
    (
        "[file:a = 1] WITHIN +5 SECONDS",
        Some("[file:a = 1] WITHIN 5 SECONDS"),
    ),
    (
        "[file:a = 1] WITHIN 9223372036854775807 SECONDS",
        Some("[file:a = 1] WITHIN 9223372036854776000.0 SECONDS"),
    ),
    (
        "[file:a = 1] REPEATS 3 TIMES WITHIN 60 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        None,
    ),
    ("([file:a = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS", None),
    (
        "[network-traffic:src_port = 37020] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR [ipv4-addr:value = '192.168.122.83'] START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
        None,
    ),
    // Layout: whitespace of every kind the grammar skips, and comments.
    (
        "\t[ file:a\n=\r\n1 ]\u{a0}AND\u{3000}[file:b = 2]",
        Some("[file:a = 1] AND [file:b = 2]"),
    ),
    (
        "/* leading */ [file:a = 1] // trailing\n AND /* * / */ [file:b = 2] //",
        Some("[file:a = 1] AND [file:b = 2]"),
    ),
];

#[test]
fn more_patterns() {
    for (p, canonical) in MORE {
        check(p, *canonical);
    }
}
