//! The workload: seeded, so every run with the same seed and sizes builds the same patterns
//! and bundles, and a smaller run's bundles are a prefix of a larger one's.
//!
//! Each bundle is a STIX 2.1 bundle of up to three observed-data objects around one moment
//! in October 2026: a network connection (`network-traffic` with `src_ref`/`dst_ref` to
//! `ipv4-addr`, ports and protocols), usually a web visit (`domain-name`, `url`), and often
//! host or mail activity (`file` with hashes, `email-addr`, `user-account`), the last
//! sometimes observed more than once. Values come from small pools so that patterns match
//! some bundles and not others.
//!
//! Patterns are drawn from templates that mix `=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET` on
//! CIDR ranges, `_ref` paths, list indexes, `AND`/`OR` inside one observation and, in a few,
//! `AND`, `FOLLOWEDBY` and `WITHIN` between observations. They avoid the corners where
//! Accord documents a departure from the reference matcher (see `accord_pattern::eval`):
//! ASCII only, IPv4 only, no regex back-references, no `$` before a line feed.

use serde_json::{Value, json};

/// A small xorshift generator: deterministic, good enough to pick from pools.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(digits);
        s
    }

    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

const DOMAINS: &[&str] = &[
    "login.columbia-elections-gov.com",
    "portal.columbia-elections-gov.com",
    "columbia-votes.info",
    "mail.example.org",
    "cdn.example.net",
    "static.example.net",
    "update.softwarecdn.com",
    "news.example.com",
    "api.tracker-metrics.io",
    "files.sharebox.net",
    "secure-login.bank-verify.co",
    "www.example.com",
];
const SUFFIXES: &[&str] = &[
    "columbia-elections-gov.com",
    "example.net",
    "example.com",
    "sharebox.net",
    "bank-verify.co",
];
const PREFIXES: &[&str] = &["198.51.100", "203.0.113", "192.0.2", "10.20.30", "172.16.5"];
const PORTS: &[u64] = &[443, 80, 53, 22, 8080, 8443, 25, 3389];
const PATHS: &[&str] = &[
    "/login",
    "/login?next=/ballot",
    "/index.html",
    "/download/update.exe",
    "/download/setup.exe",
    "/api/v1/track",
    "/static/app.js",
];
const FILE_NAMES: &[&str] = &[
    "ballot-update.docm",
    "invoice.pdf",
    "setup.exe",
    "report.xlsx",
    "photo.jpg",
    "update.ps1",
    "readme.txt",
];
const EXTENSIONS: &[&str] = &["docm", "pdf", "exe", "xlsx", "ps1"];
const LOCALS: &[&str] = &["notice", "admin", "support", "j.smith", "noreply"];
const DISPLAY_NAMES: &[&str] = &["Board of Elections", "IT Support", "John Smith", "Helpdesk"];
const LOGINS: &[&str] = &[
    "columbia_vote_news",
    "admin",
    "svc_backup",
    "svc_deploy",
    "j.smith",
    "guest",
];
const ACCOUNT_TYPES: &[&str] = &["facespace", "unix", "windows-local", "ldap"];
const REGEXES: &[&str] = &[
    "^login[.][a-z-]+[.]com$",
    "^(cdn|static)[.]",
    "votes",
    "[.](io|co)$",
];
/// How many distinct files (hash pairs) the bundles draw from.
const FILES: usize = 40;

/// Seconds from 2026-10-01T00:00:00Z as a STIX timestamp (stays within October).
fn stamp(secs: u64) -> String {
    let secs = secs % (30 * 86_400);
    let (day, rest) = (secs / 86_400 + 1, secs % 86_400);
    format!(
        "2026-10-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The files bundles contain: (SHA-256, MD5), fixed by the seed.
fn file_hashes(seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed.wrapping_add(0xF11E));
    (0..FILES).map(|_| (rng.hex(64), rng.hex(32))).collect()
}

fn ip(rng: &mut Rng) -> String {
    format!("{}.{}", rng.pick(PREFIXES), 1 + rng.below(24))
}

fn sco(rng: &mut Rng, kind: &str, props: Value) -> Value {
    let mut obj = json!({
        "type": kind,
        "spec_version": "2.1",
        "id": format!("{kind}--{}", rng.uuid()),
    });
    if let (Some(o), Value::Object(p)) = (obj.as_object_mut(), props) {
        o.extend(p);
    }
    obj
}

fn observed(rng: &mut Rng, first: u64, last: u64, number: u64, refs: &[&Value]) -> Value {
    json!({
        "type": "observed-data",
        "spec_version": "2.1",
        "id": format!("observed-data--{}", rng.uuid()),
        "created": "2026-11-01T00:00:00.000Z",
        "modified": "2026-11-01T00:00:00.000Z",
        "first_observed": stamp(first),
        "last_observed": stamp(last),
        "number_observed": number,
        "object_refs": refs.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
    })
}

/// `n` bundles of observed data.
pub fn bundles(n: usize, seed: u64) -> Vec<Value> {
    let files = file_hashes(seed);
    let mut rng = Rng::new(seed);
    (0..n).map(|_| bundle(&mut rng, &files)).collect()
}

fn bundle(rng: &mut Rng, files: &[(String, String)]) -> Value {
    let t0 = rng.below(27 * 86_400);
    let mut objects = Vec::new();

    // A network connection.
    let (src_ip, dst_ip) = (ip(rng), ip(rng));
    let src = sco(rng, "ipv4-addr", json!({ "value": src_ip }));
    let dst = sco(rng, "ipv4-addr", json!({ "value": dst_ip }));
    let dst_port = PORTS[rng.below(PORTS.len() as u64) as usize];
    let mut protocols = vec!["ipv4", if dst_port == 53 { "udp" } else { "tcp" }];
    if matches!(dst_port, 443 | 8443) || rng.chance(10) {
        protocols.push("tls");
    }
    let (src_port, bytes) = (1024 + rng.below(64_000), rng.below(100_000));
    let traffic = sco(
        rng,
        "network-traffic",
        json!({
            "src_ref": src["id"], "dst_ref": dst["id"],
            "src_port": src_port, "dst_port": dst_port,
            "protocols": protocols, "src_byte_count": bytes,
        }),
    );
    let end = t0 + rng.below(120);
    objects.push(observed(rng, t0, end, 1, &[&traffic, &src, &dst]));
    let mut scos = vec![src, dst, traffic];

    // A web visit, usually.
    if rng.chance(80) {
        let name = rng.pick(DOMAINS);
        let domain = sco(rng, "domain-name", json!({ "value": name }));
        let url_host = if rng.chance(70) {
            name
        } else {
            rng.pick(DOMAINS)
        };
        let url_value = format!("https://{url_host}{}", rng.pick(PATHS));
        let url = sco(rng, "url", json!({ "value": url_value }));
        let first = t0 + rng.below(1_800);
        let last = first + rng.below(60);
        objects.push(observed(rng, first, last, 1, &[&domain, &url]));
        scos.extend([domain, url]);
    }

    // Host or mail activity, often; at least one object when present.
    if rng.chance(70) {
        let mut held = Vec::new();
        let all = rng.below(7) + 1; // a non-empty subset of {file, email, account}
        if all & 1 != 0 {
            let (sha, md5) = &files[rng.below(files.len() as u64) as usize];
            let (name, size) = (rng.pick(FILE_NAMES), 1_000 + rng.below(5_000_000));
            held.push(sco(
                rng,
                "file",
                json!({
                    "name": name,
                    "size": size,
                    "hashes": { "SHA-256": sha, "MD5": md5 },
                }),
            ));
        }
        if all & 2 != 0 {
            let value = format!("{}@{}", rng.pick(LOCALS), rng.pick(SUFFIXES));
            let display = rng.pick(DISPLAY_NAMES);
            held.push(sco(
                rng,
                "email-addr",
                json!({ "value": value, "display_name": display }),
            ));
        }
        if all & 4 != 0 {
            let login = rng.pick(LOGINS);
            let kind = rng.pick(ACCOUNT_TYPES);
            let service = login.starts_with("svc_") && rng.chance(80);
            held.push(sco(
                rng,
                "user-account",
                json!({
                    "account_login": login, "account_type": kind,
                    "is_service_account": service,
                }),
            ));
        }
        // Up to ten minutes before the connection, up to an hour after.
        let first = (t0 + rng.below(4_200)).saturating_sub(600);
        let last = first + rng.below(300);
        let number = if rng.chance(20) { 1 + rng.below(3) } else { 1 };
        let refs: Vec<&Value> = held.iter().collect();
        objects.push(observed(rng, first, last, number, &refs));
        scos.extend(held);
    }

    objects.extend(scos);
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", rng.uuid()),
        "objects": objects,
    })
}

/// How many pattern templates there are; `patterns(n)` cycles through them.
pub const TEMPLATES: usize = 25;

/// `n` patterns, cycling through the templates with constants drawn from the same pools as
/// the bundles.
pub fn patterns(n: usize, seed: u64) -> Vec<String> {
    let files = file_hashes(seed);
    let mut rng = Rng::new(seed.wrapping_add(0x9A77));
    (0..n)
        .map(|i| pattern(i % TEMPLATES, &mut rng, &files))
        .collect()
}

fn pattern(template: usize, rng: &mut Rng, files: &[(String, String)]) -> String {
    let r = rng;
    let domain = r.pick(DOMAINS);
    let suffix = r.pick(SUFFIXES);
    let prefix = r.pick(PREFIXES);
    let port = PORTS[r.below(PORTS.len() as u64) as usize];
    let ext = r.pick(EXTENSIONS);
    let (sha, md5) = &files[r.below(files.len() as u64) as usize];
    let (sha2, _) = &files[r.below(files.len() as u64) as usize];
    let (sha3, _) = &files[r.below(files.len() as u64) as usize];
    match template {
        0 => format!("[domain-name:value = '{domain}']"),
        1 => format!(
            "[domain-name:value IN ('{domain}', '{}', 'unseen.example')]",
            r.pick(DOMAINS)
        ),
        2 => format!("[domain-name:value LIKE '%.{suffix}']"),
        3 => "[url:value MATCHES '^https://[a-z.-]+/login']".to_owned(),
        4 => format!("[network-traffic:dst_port = {port}]"),
        5 => "[network-traffic:dst_port IN (80, 443, 8443)]".to_owned(),
        6 => format!("[network-traffic:dst_ref.value ISSUBSET '{prefix}.0/24']"),
        7 => format!(
            "[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:dst_port = {port}]"
        ),
        8 => format!(
            "[network-traffic:dst_ref.value = '{}' OR network-traffic:dst_port = {port}]",
            ip(r)
        ),
        9 => format!(
            "[network-traffic:protocols[*] = 'tls' AND network-traffic:dst_ref.value ISSUBSET '{prefix}.0/24']"
        ),
        10 => format!("[file:hashes.'SHA-256' = '{sha}']"),
        11 => format!("[file:hashes.MD5 = '{md5}' OR file:hashes.'SHA-256' = '{sha2}']"),
        12 => format!(
            "[file:name LIKE '%.{ext}' AND file:size > {}]",
            r.below(4_000_000)
        ),
        13 => format!("[email-addr:value LIKE '%@{suffix}']"),
        14 => format!("[email-addr:display_name = '{}']", r.pick(DISPLAY_NAMES)),
        15 => format!(
            "[user-account:account_login = '{}' AND user-account:account_type = '{}']",
            r.pick(LOGINS),
            r.pick(ACCOUNT_TYPES)
        ),
        16 => {
            "[user-account:account_login MATCHES '^svc_' OR user-account:is_service_account = true]"
                .to_owned()
        }
        17 => format!("[url:value LIKE 'https://{domain}/%']"),
        18 => format!("[domain-name:value = '{domain}'] AND [network-traffic:dst_port = {port}]"),
        19 => format!(
            "[network-traffic:dst_ref.value ISSUBSET '{prefix}.0/24'] FOLLOWEDBY [domain-name:value LIKE '%{suffix}']"
        ),
        20 => format!(
            "([network-traffic:dst_port = {port}] AND [file:name LIKE '%.{ext}']) WITHIN 600 SECONDS"
        ),
        21 => format!(
            "[domain-name:value MATCHES '{}'] OR [url:value MATCHES 'download/[a-z]+[.]exe$']",
            r.pick(REGEXES)
        ),
        22 => "[network-traffic:src_port > 50000 AND network-traffic:dst_port < 1024]".to_owned(),
        23 => format!("[file:hashes.'SHA-256' IN ('{sha}', '{sha2}', '{sha3}')]"),
        _ => format!(
            "([email-addr:value LIKE '%@{suffix}'] FOLLOWEDBY [file:name LIKE '%.{ext}']) WITHIN 3600 SECONDS"
        ),
    }
}
