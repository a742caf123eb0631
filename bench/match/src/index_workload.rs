//! The workload of `bench-match index`: indicator patterns of mixed types and observables,
//! some of which are planted hits on known indicators.
//!
//! Everything is a pure function of the seed and a position, so indicators and observables
//! can be made in chunks (the run never holds all the text at once) and the indicator a
//! planted observable must hit can be rebuilt from its number.
//!
//! Values are unique by construction, not by chance: each carries a *token*, ten base-32
//! characters spelling a 50-bit number that a bijection derives from (namespace, position,
//! part). Indicators use namespace 0 and the misses other namespaces, so a miss can never
//! equal an indicator's value, end with a suffix indicator's domain or match a `MATCHES`
//! pattern. IPv4 addresses are split the same way: ranges (`ISSUBSET`) live under eight
//! first octets of their own, single addresses under 64 others, where a bijection on 30 bits
//! keeps indicator and miss addresses apart. So the number of hits a run must find is known
//! exactly: one per planted observable, on the indicator it was planted from.

use crate::workload::Rng;

/// What one indicator is, in the shares of `SHARES` (per 10,000 indicators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `[domain-name:value = '…']`
    Domain,
    /// `[url:value = '…']`
    Url,
    /// `[ipv4-addr:value = '…']`
    Ipv4,
    /// `[file:hashes.'SHA-256' = '…']`
    Sha256,
    /// `[email-addr:value = '…']`
    Email,
    /// `[user-account:account_type = 'twitter' AND user-account:account_login = '…']`
    Twitter,
    /// `[domain-name:value IN ('…', '…', '…')]`
    DomainIn,
    /// `[domain-name:value LIKE '%.…']`
    Suffix,
    /// `[ipv4-addr:value ISSUBSET '…/24']` (or `/28`)
    Cidr,
    /// `[domain-name:value MATCHES '^…$']`, anchored, so the index files it under the
    /// literal suffix; the first `fallback` of them unanchored, so they have no probe and are
    /// evaluated against every domain name.
    Regex,
}

/// Indicators of each kind per 10,000, in a fixed order; they sum to 10,000.
pub const SHARES: &[(Kind, usize)] = &[
    (Kind::Domain, 3_000),
    (Kind::Url, 2_000),
    (Kind::Ipv4, 1_500),
    (Kind::Sha256, 1_900),
    (Kind::Email, 500),
    (Kind::Twitter, 500),
    (Kind::DomainIn, 200),
    (Kind::Suffix, 200),
    (Kind::Cidr, 199),
    (Kind::Regex, 1),
];

const BLOCK: usize = 10_000;
/// Coprime with `BLOCK`, so `p * STRIDE % BLOCK` mixes the kinds within every block.
const STRIDE: usize = 7_919;

/// The kind of indicator `i` and its rank among the indicators of that kind. Every block
/// of 10,000 indicators holds exactly `SHARES` of each kind, in a mixed order.
pub fn kind(i: usize) -> (Kind, usize) {
    let slot = (i % BLOCK) * STRIDE % BLOCK;
    let mut start = 0;
    for &(kind, share) in SHARES {
        if slot < start + share {
            return (kind, i / BLOCK * share + slot - start);
        }
        start += share;
    }
    // The shares sum to BLOCK, so every slot falls in one of them.
    (Kind::Domain, i)
}

/// How many of the first `n` indicators are of `kind`.
pub fn count(n: usize, of: Kind) -> usize {
    let per_block = (0..BLOCK).filter(|i| kind(*i).0 == of).count();
    let rest = (n / BLOCK * BLOCK..n).filter(|i| kind(*i).0 == of).count();
    n / BLOCK * per_block + rest
}

const WORDS: &[&str] = &[
    "secure",
    "login",
    "update",
    "account",
    "verify",
    "portal",
    "cloud",
    "cdn",
    "mail",
    "support",
    "billing",
    "wallet",
    "service",
    "auth",
    "docs",
    "static",
    "api",
    "news",
    "elections",
    "vote",
    "office",
    "drive",
    "invoice",
    "track",
];
const SUBS: &[&str] = &["www", "mail", "login", "cdn", "api", "m", "secure", "files"];
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "io", "xyz", "top", "ru", "co", "online",
];
const PATHS: &[&str] = &[
    "/",
    "/login.php",
    "/wp-admin/admin-ajax.php",
    "/download/invoice.exe",
    "/gate.php",
    "/account/verify",
    "/index.html?id=",
];
const LOCALS: &[&str] = &[
    "billing", "support", "noreply", "admin", "hr", "it-desk", "security",
];
const PROVIDERS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "proton.me",
    "mail.ru",
    "yahoo.com",
];
/// First octets of the CIDR ranges; no single address is ever drawn under them.
const RANGE_OCTETS: [u32; 8] = [23, 31, 37, 45, 46, 62, 77, 91];
/// How many ranges there can be: one per /24 under `RANGE_OCTETS`.
pub const MAX_RANGES: usize = RANGE_OCTETS.len() << 16;

/// Namespaces of tokens and addresses: indicators, and the misses.
const NS_INDICATOR: u64 = 0;
const NS_MISS: u64 = 1;

const MASK50: u64 = (1 << 50) - 1;

/// A bijection on `bits`-bit numbers, keyed by the seed: multiplications by odd numbers
/// and right xor-shifts are each invertible modulo 2^bits.
fn permute(x: u64, bits: u32, seed: u64) -> u64 {
    let mask = (1u64 << bits) - 1;
    let mut x = (x ^ seed) & mask;
    for k in [0x9E37_79B9_7F4A_7C15u64, 0xBF58_476D_1CE4_E5B9] {
        x = x.wrapping_mul(k | 1) & mask;
        x ^= x >> (bits / 2);
    }
    x
}

/// A unique 50-bit number for (namespace, position, part).
fn token(ns: u64, pos: usize, part: u64, seed: u64) -> u64 {
    let id = (ns << 43) | ((pos as u64) << 3) | part;
    permute(id & MASK50, 50, seed)
}

/// A token as ten base-32 characters.
fn spell(mut x: u64) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = [0u8; 10];
    for b in out.iter_mut().rev() {
        *b = ALPHABET[(x & 31) as usize];
        x >>= 5;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rng_for(ns: u64, pos: usize, seed: u64) -> Rng {
    Rng::new(splitmix(seed ^ splitmix((ns << 56) ^ pos as u64)))
}

/// The values an indicator is made of, enough to write its pattern and a planted hit.
enum Spec {
    Domain(String),
    Url(String),
    Ipv4(String),
    Sha256(String),
    Email(String),
    Twitter(String),
    DomainIn([String; 3]),
    /// The registered domain; the pattern is `LIKE '%.' + it`.
    Suffix(String),
    Cidr(u32, u8),
    /// The registered domain the regular expression allows subdomains of, and whether the
    /// expression is anchored.
    Regex(String, bool),
}

/// A domain name with one token in its registered label: `word-token.tld`, sometimes under
/// a subdomain.
fn domain(rng: &mut Rng, tok: &str, sub: bool) -> String {
    let (word, tld) = (rng.pick(WORDS), rng.pick(TLDS));
    if sub {
        format!("{}.{word}-{tok}.{tld}", rng.pick(SUBS))
    } else {
        format!("{word}-{tok}.{tld}")
    }
}

fn url(rng: &mut Rng, tok: &str) -> String {
    let scheme = if rng.chance(80) { "https" } else { "http" };
    let sub = rng.chance(30);
    let host = domain(rng, tok, sub);
    let path = rng.pick(PATHS);
    if path.ends_with('=') {
        format!("{scheme}://{host}{path}{}", rng.below(100_000))
    } else {
        format!("{scheme}://{host}{path}")
    }
}

fn sha256(rng: &mut Rng, tok: u64) -> String {
    // The token's 50 bits as 13 hex digits, then 51 more.
    let mut s = format!("{tok:013x}");
    while s.len() < 64 {
        s.push_str(&format!("{:016x}", rng.next()));
    }
    s.truncate(64);
    s
}

fn email(rng: &mut Rng, tok: &str) -> String {
    format!("{}.{tok}@{}", rng.pick(LOCALS), rng.pick(PROVIDERS))
}

fn login(rng: &mut Rng, tok: &str) -> String {
    format!("{}_{tok}", rng.pick(WORDS))
}

/// The 64 first octets single addresses use: public-looking, none of `RANGE_OCTETS`.
fn single_octets() -> Vec<u32> {
    let reserved = [0, 10, 100, 127, 169, 172, 192, 198, 203];
    (1..224)
        .filter(|o| !reserved.contains(o) && !RANGE_OCTETS.contains(o))
        .take(64)
        .collect()
}

/// A single address, unique for (namespace, position).
fn ipv4(octets: &[u32], ns: u64, pos: usize, seed: u64) -> String {
    let key = permute((ns << 28) | pos as u64, 30, seed);
    let addr = (octets[(key >> 24) as usize] << 24) | (key as u32 & 0x00FF_FFFF);
    dotted(addr)
}

fn dotted(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

/// The generator: a seed and the pools derived from it.
pub struct Workload {
    seed: u64,
    octets: Vec<u32>,
    fallback: usize,
}

impl Workload {
    /// The workload of `seed` whose first `fallback` regular expressions are unanchored.
    pub fn new(seed: u64, fallback: usize) -> Self {
        Workload {
            seed,
            octets: single_octets(),
            fallback,
        }
    }

    fn spec(&self, i: usize) -> Spec {
        let seed = self.seed;
        let mut rng = rng_for(NS_INDICATOR, i, seed);
        let tok = |part: u64| spell(token(NS_INDICATOR, i, part, seed));
        match kind(i) {
            (Kind::Domain, _) => {
                let sub = rng.chance(40);
                Spec::Domain(domain(&mut rng, &tok(0), sub))
            }
            (Kind::Url, _) => Spec::Url(url(&mut rng, &tok(0))),
            (Kind::Ipv4, _) => Spec::Ipv4(ipv4(&self.octets, NS_INDICATOR, i, seed)),
            (Kind::Sha256, _) => Spec::Sha256(sha256(&mut rng, token(NS_INDICATOR, i, 0, seed))),
            (Kind::Email, _) => Spec::Email(email(&mut rng, &tok(0))),
            (Kind::Twitter, _) => Spec::Twitter(login(&mut rng, &tok(0))),
            (Kind::DomainIn, _) => Spec::DomainIn([
                domain(&mut rng, &tok(0), false),
                domain(&mut rng, &tok(1), true),
                domain(&mut rng, &tok(2), false),
            ]),
            (Kind::Suffix, _) => Spec::Suffix(domain(&mut rng, &tok(0), false)),
            (Kind::Cidr, rank) => {
                // One /24 per range, under the range octets; every eighth a /28 inside it.
                let slot = permute(rank as u64, 19, seed) as u32;
                let net = (RANGE_OCTETS[(slot >> 16) as usize] << 24) | ((slot & 0xFFFF) << 8);
                if rank % 8 == 7 {
                    Spec::Cidr(net | ((rng.below(16) as u32) << 4), 28)
                } else {
                    Spec::Cidr(net, 24)
                }
            }
            (Kind::Regex, rank) => {
                Spec::Regex(domain(&mut rng, &tok(0), false), rank >= self.fallback)
            }
        }
    }

    /// Indicator `i`'s pattern.
    pub fn pattern(&self, i: usize) -> String {
        match self.spec(i) {
            Spec::Domain(v) => format!("[domain-name:value = '{v}']"),
            Spec::Url(v) => format!("[url:value = '{v}']"),
            Spec::Ipv4(v) => format!("[ipv4-addr:value = '{v}']"),
            Spec::Sha256(v) => format!("[file:hashes.'SHA-256' = '{v}']"),
            Spec::Email(v) => format!("[email-addr:value = '{v}']"),
            Spec::Twitter(v) => format!(
                "[user-account:account_type = 'twitter' AND user-account:account_login = '{v}']"
            ),
            Spec::DomainIn([a, b, c]) => {
                format!("[domain-name:value IN ('{a}', '{b}', '{c}')]")
            }
            Spec::Suffix(v) => format!("[domain-name:value LIKE '%.{v}']"),
            Spec::Cidr(net, len) => format!("[ipv4-addr:value ISSUBSET '{}/{len}']", dotted(net)),
            Spec::Regex(v, anchored) => {
                let escaped = v.replace('.', "[.]");
                let (start, end) = if anchored { ("^", "$") } else { ("", "") };
                format!(
                    "[domain-name:value MATCHES '{start}(www|cdn|mail)[0-9]*[.]{escaped}{end}']"
                )
            }
        }
    }

    /// An observable (as `type:value` text) that hits indicator `i` and no other.
    fn hit(&self, i: usize, rng: &mut Rng) -> String {
        match self.spec(i) {
            Spec::Domain(v) => format!("domain-name:{v}"),
            Spec::Url(v) => format!("url:{v}"),
            Spec::Ipv4(v) => format!("ipv4-addr:{v}"),
            Spec::Sha256(v) => format!("sha256:{v}"),
            Spec::Email(v) => format!("email-addr:{v}"),
            Spec::Twitter(v) => format!("user-account:twitter/{v}"),
            Spec::DomainIn(list) => {
                format!("domain-name:{}", list[rng.below(3) as usize])
            }
            Spec::Suffix(v) => format!("domain-name:{}.{v}", rng.pick(SUBS)),
            Spec::Cidr(net, len) => {
                let hosts = 1u64 << (32 - len);
                let host = 1 + rng.below(hosts - 2) as u32;
                format!("ipv4-addr:{}", dotted(net | host))
            }
            Spec::Regex(v, _) => format!(
                "domain-name:{}{}.{v}",
                rng.pick(&["www", "cdn", "mail"]),
                rng.below(100)
            ),
        }
    }

    /// A miss: a value of a common type that no indicator has.
    fn miss(&self, j: usize, rng: &mut Rng) -> String {
        let number = token(NS_MISS, j, 0, self.seed);
        let tok = spell(number);
        match rng.below(100) {
            0..30 => {
                let sub = rng.chance(40);
                format!("domain-name:{}", domain(rng, &tok, sub))
            }
            30..55 => format!("url:{}", url(rng, &tok)),
            55..75 => format!("ipv4-addr:{}", ipv4(&self.octets, NS_MISS, j, self.seed)),
            75..90 => format!("sha256:{}", sha256(rng, number)),
            90..95 => format!("email-addr:{}", email(rng, &tok)),
            _ => format!("user-account:twitter/{}", login(rng, &tok)),
        }
    }

    /// Observable `j` as text, and the indicator it was planted from (`None` for a miss).
    /// About `hits_per_10k` in 10,000 observables are planted, on indicators drawn
    /// uniformly from the first `indicators`.
    pub fn observable(
        &self,
        j: usize,
        indicators: usize,
        hits_per_10k: u64,
    ) -> (String, Option<u32>) {
        let mut rng = rng_for(NS_MISS, j, self.seed);
        if rng.below(10_000) < hits_per_10k {
            let i = rng.below(indicators as u64) as usize;
            (self.hit(i, &mut rng), u32::try_from(i).ok())
        } else {
            (self.miss(j, &mut rng), None)
        }
    }
}
