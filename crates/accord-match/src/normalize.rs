//! Canonical forms of observables and of the pattern constants compared with them.
//!
//! Indicators arrive from many tools, each writing the same thing its own way:
//! `HTTP://Vote-Example.COM:80/a/../b`, `sha256:ABC…`, `@JDoe on X`. Matching compares
//! strings, so every value is first put into one canonical form, and the same rules are
//! applied on both sides: to observables ([`parse_observable`], [`sco`]) and to the constants
//! in patterns ([`path`], [`constant`], [`like_constant`]). A rule applied on one side only
//! would make matches silently disappear, which is why the pattern helpers live here, next
//! to the rules they must agree with.
//!
//! # Rules
//!
//! - **URL** ([`url()`]): surrounding whitespace trimmed; a URL without a scheme
//!   (`evil.example/path`) gets `http://` (`//host/…` gets `http:`); scheme and host lower
//!   case; the host mapped to ASCII by IDNA (punycode), a trailing dot removed, IPv4 and IPv6
//!   hosts written canonically; default ports dropped (http 80, https 443, ftp 21, ws 80,
//!   wss 443); in the path, percent-escapes of unreserved characters (letters, digits,
//!   `-._~`) decoded and the hex digits of other escapes upper case; dot segments removed; the
//!   empty path of a URL with a host becomes `/`; the fragment dropped. The query and the
//!   user information are kept as given (beyond the escaping the WHATWG URL standard
//!   requires), because their meaning belongs to the server. Opaque URLs (`mailto:`,
//!   `data:`, `javascript:`, `urn:`, `tel:`, `magnet:`, `about:`) keep their scheme.
//! - **Domain name** ([`domain`]): trimmed, one trailing dot removed, lower case, mapped to
//!   ASCII by IDNA (UTS 46, so `bücher.example` becomes `xn--bcher-kva.example`); labels of 1
//!   to 63 bytes of letters, digits, hyphens and underscores, at most 253 bytes in all; an
//!   all-digit last label is refused, since that is an IP address, not a name.
//! - **IP address** ([`ip`]): IPv4 as a strict dotted quad (no leading zeros, no short
//!   forms), IPv6 in RFC 5952 form (lower case, longest run of zeros compressed). A range
//!   `addr/len` becomes its network (`10.1.2.3/8` is `10.0.0.0/8`), and a full-length range
//!   (`/32`, `/128`) the bare address. The family decides the STIX type: `ipv4-addr` or
//!   `ipv6-addr`.
//! - **E-mail address** ([`email`]): `mailto:` (and any `?…` after the address) removed,
//!   `Name <a@b>` reduced to `a@b`, trimmed, lower case as a whole; exactly one `@`, a
//!   non-empty local part of at most 64 bytes without spaces or the characters
//!   `<>()[],;:\"`, and a domain valid by the rule above (so it is IDNA-mapped too).
//! - **Hashes** ([`hash_algorithm`], [`hash`]): algorithm names in the STIX vocabulary
//!   (`MD5`, `SHA-1`, `SHA-256`, `SHA-512`, `SHA3-256`, `SHA3-512`, `SSDEEP`, `TLSH`);
//!   case, `-`, `_` and spaces in a name are ignored, so `sha256`, `SHA_256` and `Sha-256` are
//!   all `SHA-256`. Hex digests lower case, of the algorithm's length (32, 40, 64, 128, 64,
//!   128 digits). SSDEEP digests are trimmed and otherwise kept, but must have the shape
//!   `blocksize:hash:hash`. TLSH digests upper case (as the reference implementation prints
//!   them), with or without the `T1` version prefix, of 70, 74, 134 or 138 hex digits after
//!   it. A file observable is `{"type":"file","hashes":{ALGORITHM:DIGEST}}`.
//! - **Social-media account**: `user-account:PLATFORM/HANDLE` is an account login (one
//!   leading `@` removed, lower case) and `user-account:PLATFORM/id=ID` an account id (kept
//!   as given, trimmed). The platform is lower case, with aliases: `x`, `x.com`,
//!   `twitter.com` are `twitter`; `fb`, `facebook.com` are `facebook`; `ig`,
//!   `instagram.com` are `instagram`; `yt`, `youtube.com` are `youtube`; `t.me`,
//!   `telegram.me` are `telegram`; `tiktok.com` is `tiktok`. Logins are folded to lower case
//!   whatever the account type, so observed data and pattern constants agree.
//!
//! # Text forms
//!
//! [`parse_observable`] reads `type:value` where the type is one of `url`, `domain-name`
//! (or `domain`), `ipv4-addr`, `ipv6-addr`, `ip`, `email-addr` (or `email`),
//! `user-account`, `file` (a hex digest, its algorithm told by its length) or a hash
//! algorithm name (`md5:`, `sha1:`, `sha-256:`, `ssdeep:` …). Any other text before the
//! first colon is part of a bare value (`http://x` is a URL, not type `http`). A bare value
//! is a URL if it contains `://` or starts with `www.`; an e-mail address if it starts with
//! `mailto:` or has an `@` followed by a valid domain; an IP address or range if it looks
//! like one; a hash if it is 32, 40, 64 or 128 hex digits (MD5, SHA-1, SHA-256, SHA-512);
//! a domain name if it is a valid one with a dot and a non-numeric last label. Anything
//! else is refused with a request to write `type:value`. The [`Display`](fmt::Display) form
//! of an [`Observable`] is its canonical text, and reads back as the same observable; files
//! print as `ALGORITHM:DIGEST` with the short lower-case algorithm prefix (`sha256:…`),
//! since a digest's length does not tell SHA-256 from SHA3-256.
//!
//! # The public suffix list
//!
//! [`registrable_domain`] uses Mozilla's Public Suffix List (both its ICANN and its private
//! section) as compiled into the `psl` crate. The list is published under the Mozilla
//! Public License 2.0 (<https://mozilla.org/MPL/2.0/>); the crate that embeds it is MIT or
//! Apache-2.0.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use accord_pattern::PathStep;
use serde_json::{Map, Value};

/// The longest text accepted as one value, in bytes.
pub const MAX_LEN: usize = 8 * 1024;

/// How much of a refused value an error repeats, in characters.
const SHOWN: usize = 120;

/// Why a value is not a valid observable of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormError {
    /// The value is not valid for the kind it was given as (or detected as).
    #[error("{kind} {value:?}: {reason}")]
    Invalid {
        /// The STIX type or observable kind, e.g. `url`.
        kind: String,
        /// The value as given (shortened when long).
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A property of a cyber-observable object is not valid for its type.
    #[error("{object_type} property {property} = {value:?}: {reason}")]
    Property {
        /// The object's STIX type, e.g. `url`.
        object_type: String,
        /// The property, e.g. `value` or `hashes.SHA-256`.
        property: String,
        /// The property's value as given (shortened when long), or its JSON text when it is
        /// not a string.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

fn shorten(value: &str) -> String {
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

fn invalid(kind: &str, value: &str, reason: impl Into<String>) -> NormError {
    NormError::Invalid {
        kind: kind.to_owned(),
        value: shorten(value),
        reason: reason.into(),
    }
}

/// Trims `s` after refusing it when it is too long or blank.
fn trimmed<'a>(kind: &str, s: &'a str) -> Result<&'a str, NormError> {
    if s.len() > MAX_LEN {
        return Err(invalid(
            kind,
            s,
            format!(
                "is {} bytes long; at most {MAX_LEN} bytes are accepted",
                s.len()
            ),
        ));
    }
    let t = s.trim();
    if t.is_empty() {
        return Err(invalid(kind, s, "is empty"));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------
// Observable

/// One observable in canonical form, as a STIX cyber-observable object without an id.
///
/// Two observables are equal when their canonical forms are, so `HTTP://A.example` and
/// `a.example/` are the same URL.
#[derive(Debug, Clone)]
pub struct Observable {
    /// The SCO type.
    kind: &'static str,
    /// Whether the SCO is just `{"type": kind, "value": value}`.
    simple: bool,
    /// For a file known by one digest, its (canonical) algorithm; the SCO is then
    /// `{"type": "file", "hashes": {algorithm: value}}`.
    algorithm: Option<&'static str>,
    /// The SCO, always a JSON object (a [`Value`] so that it can be evaluated without a
    /// copy). A simple one is built only when asked for: matching reads `value` directly and
    /// needs the object only to evaluate a pattern, which most lookups never do.
    sco: std::sync::OnceLock<Value>,
    value: String,
    text: String,
}

/// What [`Observable::sco`] gives for an observable that is not an object (none is).
static NO_OBJECT: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl PartialEq for Observable {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Observable {}

impl Hash for Observable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Observable {
    /// The canonical SCO: `type` plus the properties that identify it, without an id.
    pub fn sco(&self) -> &Map<String, Value> {
        self.sco_value().as_object().unwrap_or(&NO_OBJECT)
    }

    /// The canonical SCO as a JSON value, as [`crate::Index::match_object`] takes it.
    pub fn sco_value(&self) -> &Value {
        self.sco.get_or_init(|| {
            let mut sco = Map::with_capacity(2);
            sco.insert("type".to_owned(), Value::String(self.kind.to_owned()));
            match self.algorithm {
                Some(algorithm) => {
                    let mut hashes = Map::with_capacity(1);
                    hashes.insert(algorithm.to_owned(), Value::String(self.value.clone()));
                    sco.insert("hashes".to_owned(), Value::Object(hashes));
                }
                None => {
                    sco.insert("value".to_owned(), Value::String(self.value.clone()));
                }
            }
            Value::Object(sco)
        })
    }

    /// For a file known by one digest: the canonical algorithm and the digest, all a lookup
    /// needs.
    pub fn file_hash(&self) -> Option<(&'static str, &str)> {
        self.algorithm.map(|a| (a, self.value.as_str()))
    }

    /// Whether the SCO is just a type and a `value` (a URL, domain name, address, e-mail
    /// address), so that [`Observable::value`] is all a lookup needs.
    pub fn is_simple(&self) -> bool {
        self.simple
    }

    /// The SCO type: `url`, `domain-name`, `ipv4-addr`, `ipv6-addr`, `email-addr`, `file` or
    /// `user-account`.
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The canonical main value: the URL, domain name, address or range, e-mail address; the
    /// digest of a file; the login or the id of an account.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The observables this one implies: a URL's host (as a domain name or an address) and,
    /// for a profile page on a known platform, the account; an e-mail address's domain.
    pub fn derived(&self) -> Vec<Observable> {
        match self.kind() {
            "url" => url_derived(&self.value),
            "email-addr" => match self.value.rsplit_once('@') {
                Some((_, d)) => vec![Observable::simple("domain-name", d.to_owned())],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// An observable whose SCO is `{"type": kind, "value": value}`; `value` is canonical.
    fn simple(kind: &'static str, value: String) -> Observable {
        // Concatenated rather than formatted: this runs once per observable matched.
        let mut text = String::with_capacity(kind.len() + 1 + value.len());
        text.push_str(kind);
        text.push(':');
        text.push_str(&value);
        Observable {
            kind,
            simple: true,
            algorithm: None,
            sco: std::sync::OnceLock::new(),
            value,
            text,
        }
    }

    /// An observable whose SCO is built already.
    fn built(kind: &'static str, sco: Map<String, Value>, value: String, text: String) -> Self {
        Observable {
            kind,
            simple: false,
            algorithm: None,
            sco: std::sync::OnceLock::from(Value::Object(sco)),
            value,
            text,
        }
    }

    /// A file known by one digest; `algorithm` is canonical and `digest` normalised.
    fn file(algorithm: &'static str, digest: String) -> Observable {
        let prefix = hash_prefix(algorithm);
        let mut text = String::with_capacity(prefix.len() + 1 + digest.len());
        text.push_str(prefix);
        text.push(':');
        text.push_str(&digest);
        Observable {
            kind: "file",
            simple: false,
            algorithm: Some(algorithm),
            sco: std::sync::OnceLock::new(),
            value: digest,
            text,
        }
    }

    /// An account on `platform` (canonical), by login or by id.
    fn account(platform: String, who: Account) -> Observable {
        let mut sco = Map::new();
        sco.insert("type".to_owned(), Value::String("user-account".to_owned()));
        sco.insert("account_type".to_owned(), Value::String(platform.clone()));
        let (value, text) = match who {
            Account::Login(login) => {
                let text = format!("user-account:{platform}/{login}");
                sco.insert("account_login".to_owned(), Value::String(login.clone()));
                (login, text)
            }
            Account::Id(id) => {
                let text = format!("user-account:{platform}/id={id}");
                sco.insert("user_id".to_owned(), Value::String(id.clone()));
                (id, text)
            }
        };
        Observable::built("user-account", sco, value, text)
    }

    /// An address or range observable of the right family.
    fn ip(canonical: String, family: Family) -> Observable {
        Observable::simple(family.kind(), canonical)
    }
}

enum Account {
    Login(String),
    Id(String),
}

// ---------------------------------------------------------------------------------------
// Text forms

/// Parses one observable: `type:value` or a bare value whose kind is detected (see the
/// module documentation for the forms and the order of detection).
pub fn parse_observable(text: &str) -> Result<Observable, NormError> {
    let t = trimmed("observable", text)?;
    if let Some((prefix, rest)) = t.split_once(':') {
        let prefix = prefix.trim();
        // Most prefixes arrive in lower case already: no copy for those.
        let prefix: std::borrow::Cow<'_, str> = if prefix.bytes().any(|b| b.is_ascii_uppercase()) {
            prefix.to_ascii_lowercase().into()
        } else {
            prefix.into()
        };
        if let Some(obs) = typed(&prefix, rest)? {
            return Ok(obs);
        }
    }
    bare(t)
}

/// A value with an explicit type prefix, or `None` when `prefix` names no type.
fn typed(prefix: &str, rest: &str) -> Result<Option<Observable>, NormError> {
    let obs = match prefix {
        "url" => Observable::simple("url", url(rest)?),
        "domain-name" | "domain" => Observable::simple("domain-name", domain(rest)?),
        "email-addr" | "email" => Observable::simple("email-addr", email(rest)?),
        "ip" => {
            let (canonical, family) = ip_family("ip", rest)?;
            Observable::ip(canonical, family)
        }
        "ipv4-addr" | "ipv6-addr" => {
            let (canonical, family) = ip_family(prefix, rest)?;
            if family.kind() != prefix {
                return Err(invalid(
                    prefix,
                    rest.trim(),
                    format!(
                        "is an {} address; write {}:{} or ip:{}",
                        family.name(),
                        family.kind(),
                        rest.trim(),
                        rest.trim()
                    ),
                ));
            }
            Observable::ip(canonical, family)
        }
        "user-account" => account(rest)?,
        // `file://…` is a URL, not a file's digest.
        "file" if rest.starts_with("//") => return Ok(None),
        "file" => {
            let t = trimmed("file", rest)?;
            match hex_algorithm_by_length(t) {
                Some(algorithm) => Observable::file(algorithm, hash(algorithm, t)?),
                None => {
                    return Err(invalid(
                        "file",
                        t,
                        "is not an MD5, SHA-1, SHA-256 or SHA-512 digest (32, 40, 64 or 128 hex \
                         digits); for another algorithm write ALGORITHM:DIGEST, e.g. \
                         sha3-256:…",
                    ));
                }
            }
        }
        _ => match hash_algorithm(prefix) {
            Some(algorithm) => Observable::file(algorithm, hash(algorithm, rest)?),
            None => return Ok(None),
        },
    };
    Ok(Some(obs))
}

/// A value without a type prefix, its kind detected.
fn bare(t: &str) -> Result<Observable, NormError> {
    let lower = t.to_ascii_lowercase();
    if t.contains("://") || lower.starts_with("www.") {
        return Ok(Observable::simple("url", url(t)?));
    }
    if lower.starts_with("mailto:") {
        return Ok(Observable::simple("email-addr", email(t)?));
    }
    if let Some((_, after)) = t.rsplit_once('@') {
        let after = after.trim_end_matches('>');
        if domain(after).is_ok() {
            return Ok(Observable::simple("email-addr", email(t)?));
        }
    }
    if looks_like_ip(t) {
        let (canonical, family) = ip_family("ip", t)?;
        return Ok(Observable::ip(canonical, family));
    }
    if let Some(algorithm) = hex_algorithm_by_length(t) {
        return Ok(Observable::file(algorithm, hash(algorithm, t)?));
    }
    if let Ok(d) = domain(t)
        && d.contains('.')
    {
        return Ok(Observable::simple("domain-name", d));
    }
    Err(invalid(
        "observable",
        t,
        "cannot tell what kind of observable this is; write it as type:value, e.g. \
         url:…, domain-name:…, ip:…, email-addr:…, sha256:… or user-account:PLATFORM/HANDLE",
    ))
}

fn looks_like_ip(t: &str) -> bool {
    let chars_ok = t
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':' || b == b'/');
    let addr = t.split('/').next().unwrap_or(t);
    chars_ok
        && (addr.contains(':')
            || (addr.contains('.') && addr.bytes().all(|b| b.is_ascii_digit() || b == b'.')))
}

fn hex_algorithm_by_length(t: &str) -> Option<&'static str> {
    if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match t.len() {
        32 => Some("MD5"),
        40 => Some("SHA-1"),
        64 => Some("SHA-256"),
        128 => Some("SHA-512"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// URLs

/// Schemes whose URLs have no `//` authority, and so are kept rather than taken for a host.
const OPAQUE_SCHEMES: &[&str] = &[
    "about",
    "data",
    "javascript",
    "magnet",
    "mailto",
    "tel",
    "urn",
];

/// Whether `t` starts with `scheme://` (or an opaque `scheme:`).
fn has_scheme(t: &str) -> bool {
    let Some((scheme, rest)) = t.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    let well_formed = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    well_formed
        && (rest.starts_with("//")
            || OPAQUE_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// The canonical form of a URL (see the module documentation for the rules).
pub fn url(s: &str) -> Result<String, NormError> {
    let t = trimmed("url", s)?;
    if let Some(canonical) = plain_url(t) {
        return Ok(canonical);
    }
    parsed_url(t)
}

/// The canonical form of a URL that is plainly canonical already, which most shared links
/// are: `http` or `https` in lower case, a host name of lower-case letters, digits,
/// hyphens and dots (not a number, nor punycode, which the parser would check), no port,
/// user, query or fragment, and a path of unreserved characters and slashes without `.`
/// or `..` segments. The URL parser would give it back unchanged (with `/` for an empty
/// path); this spares parsing it. `None` for any other URL.
fn plain_url(t: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = t.strip_prefix("https://") {
        ("https://", rest)
    } else {
        ("http://", t.strip_prefix("http://")?)
    };
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host_ok = host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && host.split('.').all(|label| !label.is_empty())
        && !host.contains("xn--")
        && host
            .rsplit('.')
            .next()
            .and_then(|last| last.bytes().next())
            .is_some_and(|b| b.is_ascii_lowercase());
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
        && !path.split('/').any(|seg| seg == "." || seg == "..");
    if !(host_ok && path_ok) {
        return None;
    }
    let mut out = String::with_capacity(scheme.len() + host.len() + path.len().max(1));
    out.push_str(scheme);
    out.push_str(host);
    out.push_str(if path.is_empty() { "/" } else { path });
    Some(out)
}

/// [`url`] by the URL parser.
fn parsed_url(t: &str) -> Result<String, NormError> {
    let text: Cow<'_, str> = if has_scheme(t) {
        Cow::Borrowed(t)
    } else if t.starts_with("//") {
        Cow::Owned(format!("http:{t}"))
    } else {
        Cow::Owned(format!("http://{t}"))
    };
    let mut u = url::Url::parse(&text)
        .map_err(|e| invalid("url", t, format!("is not a valid URL: {e}")))?;
    u.set_fragment(None);
    if let Some(url::Host::Domain(host)) = u.host() {
        let stripped = host.trim_end_matches('.');
        if stripped.is_empty() {
            return Err(invalid("url", t, "has an empty host name"));
        }
        // Special schemes (http, https, ftp, ws, wss, file) have their host mapped by the
        // parser already; other schemes keep it opaque, percent-encoded, so it is mapped here
        // when it is a domain name.
        let lowered = if u.is_special() {
            stripped.to_ascii_lowercase()
        } else {
            match percent_decode(stripped).and_then(|h| domain(&h).ok()) {
                Some(d) => d,
                None => stripped.to_ascii_lowercase(),
            }
        };
        if lowered != host {
            u.set_host(Some(&lowered))
                .map_err(|e| invalid("url", t, format!("has an invalid host {lowered:?}: {e}")))?;
        }
    }
    let path = normalize_escapes(u.path());
    if u.has_host() && path.is_empty() {
        u.set_path("/");
    } else if path != u.path() {
        u.set_path(&path);
    }
    Ok(u.as_str().to_owned())
}

/// Decodes percent-escapes of unreserved characters and upper-cases the hex digits of the
/// others. The input is a serialised URL path, so ASCII.
fn normalize_escapes(path: &str) -> String {
    if !path.contains('%') {
        return path.to_owned();
    }
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2))
            && let (Some(hv), Some(lv)) = (hex_value(h), hex_value(l))
        {
            let decoded = hv * 16 + lv;
            if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) {
                out.push(decoded);
            } else {
                out.extend([b'%', h.to_ascii_uppercase(), l.to_ascii_uppercase()]);
            }
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// Decodes every percent-escape of `s`; `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(hv), Some(lv)) = (
                b.get(i + 1).copied().and_then(hex_value),
                b.get(i + 2).copied().and_then(hex_value),
            )
        {
            out.push(hv * 16 + lv);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn url_derived(canonical: &str) -> Vec<Observable> {
    let Ok(u) = url::Url::parse(canonical) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match u.host() {
        Some(url::Host::Domain(host)) => {
            if let Ok(d) = domain(host) {
                out.push(Observable::simple("domain-name", d));
            }
        }
        Some(url::Host::Ipv4(a)) => out.push(Observable::ip(a.to_string(), Family::V4)),
        Some(url::Host::Ipv6(a)) => out.push(Observable::ip(a.to_string(), Family::V6)),
        None => {}
    }
    if let Some(account) = profile(&u) {
        out.push(account);
    }
    out
}

/// Paths on each platform that are not profiles.
const NOT_PROFILES: &[&str] = &[
    "about",
    "account",
    "accounts",
    "compose",
    "direct",
    "events",
    "explore",
    "gaming",
    "groups",
    "hashtag",
    "help",
    "home",
    "i",
    "intent",
    "joinchat",
    "login",
    "marketplace",
    "messages",
    "notifications",
    "p",
    "pages",
    "people",
    "permalink.php",
    "photo.php",
    "policies",
    "privacy",
    "reel",
    "reels",
    "search",
    "settings",
    "share",
    "sharer",
    "signup",
    "stories",
    "story.php",
    "tos",
    "tv",
    "watch",
];

/// The account a profile URL on a known platform names.
fn profile(u: &url::Url) -> Option<Observable> {
    let host = u.host_str()?;
    let host = ["www.", "m.", "mobile."]
        .iter()
        .find_map(|p| host.strip_prefix(p))
        .unwrap_or(host);
    let platform = match host {
        "twitter.com" | "x.com" => "twitter",
        "facebook.com" => "facebook",
        "instagram.com" => "instagram",
        "t.me" | "telegram.me" => "telegram",
        "tiktok.com" => "tiktok",
        "youtube.com" => "youtube",
        _ => return None,
    };
    let mut segments = u.path_segments()?.filter(|s| !s.is_empty());
    let first = segments.next()?;
    let login = match (platform, first) {
        ("facebook", "profile.php") => {
            let id = u.query_pairs().find(|(k, _)| k == "id")?.1;
            let id = id.trim();
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return Some(Observable::account(
                platform.to_owned(),
                Account::Id(id.to_owned()),
            ));
        }
        ("youtube", "channel") => {
            let id = segments.next()?;
            if !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return None;
            }
            return Some(Observable::account(
                platform.to_owned(),
                Account::Id(id.to_owned()),
            ));
        }
        ("telegram", "s") => segments.next()?,
        ("youtube" | "tiktok", handle) => handle.strip_prefix('@')?,
        (_, handle) => handle.strip_prefix('@').unwrap_or(handle),
    };
    let plausible = !login.is_empty()
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        && !login.ends_with(".php")
        && !NOT_PROFILES.contains(&login.to_ascii_lowercase().as_str());
    plausible.then(|| {
        Observable::account(
            platform.to_owned(),
            Account::Login(login.to_ascii_lowercase()),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Domain names

/// The canonical form of a domain name (see the module documentation for the rules).
pub fn domain(s: &str) -> Result<String, NormError> {
    let t = trimmed("domain-name", s)?;
    let t = t.strip_suffix('.').unwrap_or(t);
    // Letters, digits, hyphens, underscores and dots with no `xn--` label: the IDNA mapping
    // only lower-cases these, so do just that.
    let plain = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain
        && !t
            .split('.')
            .any(|l| l.len() >= 4 && l[..4].eq_ignore_ascii_case("xn--"))
    {
        let lower = t.to_ascii_lowercase();
        check_ascii_domain(&lower).map_err(|reason| invalid("domain-name", t, reason))?;
        return Ok(lower);
    }
    domain_by_idna(t)
}

/// [`domain`] through the full IDNA mapping (also the reference its fast path is tested
/// against).
#[doc(hidden)]
pub fn domain_by_idna(t: &str) -> Result<String, NormError> {
    let ascii =
        idna::domain_to_ascii_cow(t.as_bytes(), idna::AsciiDenyList::EMPTY).map_err(|_| {
            invalid(
                "domain-name",
                t,
                "is not a valid internationalised domain name (the IDNA mapping to ASCII \
                 failed, e.g. a disallowed character or a malformed xn-- label)",
            )
        })?;
    check_ascii_domain(&ascii).map_err(|reason| invalid("domain-name", t, reason))?;
    Ok(ascii.into_owned())
}

/// Checks an IDNA-mapped name against the length and character rules.
fn check_ascii_domain(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Err("is empty".to_owned());
    }
    if d.len() > 253 {
        return Err(format!(
            "is {} bytes long in ASCII; a domain name may be at most 253",
            d.len()
        ));
    }
    for label in d.split('.') {
        if label.is_empty() {
            return Err("has an empty label (a leading dot or two dots in a row)".to_owned());
        }
        if label.len() > 63 {
            return Err(format!(
                "has a label of {} bytes; a label may be at most 63",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "has the label {label:?} containing {c:?}; only letters, digits, hyphens and \
                 underscores are allowed"
            ));
        }
    }
    if d.rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(
            "ends in an all-digit label, so it is an IP address, not a domain name".to_owned(),
        );
    }
    Ok(())
}

/// The registrable domain of a name by the public suffix list (ICANN and private
/// sections): `login.vote-example.com` gives `vote-example.com`, `a.b.example.co.uk` gives
/// `example.co.uk`. `None` when the name is itself a public suffix (`co.uk`) or not a valid
/// domain name. A name under a suffix the list does not know falls to the list's default
/// rule, which treats its last label as the suffix.
pub fn registrable_domain(domain_name: &str) -> Option<String> {
    let d = domain(domain_name).ok()?;
    let registrable = psl::domain(d.as_bytes())?;
    std::str::from_utf8(registrable.as_bytes())
        .ok()
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// IP addresses

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn kind(self) -> &'static str {
        match self {
            Family::V4 => "ipv4-addr",
            Family::V6 => "ipv6-addr",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// The canonical form of an IP address or CIDR range (see the module documentation).
pub fn ip(s: &str) -> Result<String, NormError> {
    ip_family("ip", s).map(|(canonical, _)| canonical)
}

/// An address or range as its network and prefix length (the full length for an address).
pub(crate) fn ip_network(s: &str) -> Option<(IpAddr, u8)> {
    parse_ip("ip", s).ok()
}

fn ip_family(kind: &str, s: &str) -> Result<(String, Family), NormError> {
    let (addr, len) = parse_ip(kind, s)?;
    let (family, full) = match addr {
        IpAddr::V4(_) => (Family::V4, 32),
        IpAddr::V6(_) => (Family::V6, 128),
    };
    let text = if len == full {
        addr.to_string()
    } else {
        format!("{addr}/{len}")
    };
    Ok((text, family))
}

fn parse_ip(kind: &str, s: &str) -> Result<(IpAddr, u8), NormError> {
    let t = trimmed(kind, s)?;
    let (addr_text, len_text) = match t.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (t, None),
    };
    let addr: IpAddr = addr_text.parse().map_err(|_| {
        invalid(
            kind,
            t,
            format!(
                "{addr_text:?} is not an IPv4 address (four decimal numbers 0-255 without \
                 leading zeros) or an IPv6 address"
            ),
        )
    })?;
    let full: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len_text {
        None => full,
        Some(l) => {
            let parsed = if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) {
                l.parse::<u8>().ok().filter(|n| *n <= full)
            } else {
                None
            };
            parsed.ok_or_else(|| {
                invalid(
                    kind,
                    t,
                    format!("the prefix length {l:?} is not a whole number from 0 to {full}"),
                )
            })?
        }
    };
    Ok((mask(addr, len), len))
}

/// The network of `addr` with a prefix of `len` bits.
pub(crate) fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

// ---------------------------------------------------------------------------------------
// E-mail addresses

/// The canonical form of an e-mail address (see the module documentation for the rules).
pub fn email(s: &str) -> Result<String, NormError> {
    let t = trimmed("email-addr", s)?;
    let mut a = t;
    if let Some(rest) = a
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| a.get(7..))
    {
        a = rest;
        if let Some((before, _)) = a.split_once('?') {
            a = before;
        }
    }
    if a.ends_with('>')
        && let Some(open) = a.rfind('<')
    {
        a = &a[open + 1..a.len() - 1];
    }
    let a = a.trim();
    if a.is_empty() {
        return Err(invalid("email-addr", t, "has no address"));
    }
    let ats = a.matches('@').count();
    if ats != 1 {
        return Err(invalid(
            "email-addr",
            t,
            format!("must contain exactly one '@' (found {ats})"),
        ));
    }
    let (local, dom) = a.split_once('@').unwrap_or((a, ""));
    if local.is_empty() {
        return Err(invalid("email-addr", t, "has nothing before the '@'"));
    }
    if local.len() > 64 {
        return Err(invalid(
            "email-addr",
            t,
            format!(
                "has a local part of {} bytes; it may be at most 64",
                local.len()
            ),
        ));
    }
    if let Some(c) = local
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(*c))
    {
        return Err(invalid(
            "email-addr",
            t,
            format!("has {c:?} in the part before the '@', which an address may not contain"),
        ));
    }
    let d = domain(dom).map_err(|e| {
        let reason = match e {
            NormError::Invalid { reason, .. } => reason,
            other => other.to_string(),
        };
        invalid(
            "email-addr",
            t,
            format!("the domain {dom:?} after the '@' {reason}"),
        )
    })?;
    Ok(format!("{}@{d}", local.to_lowercase()))
}

// ---------------------------------------------------------------------------------------
// Hashes

/// The STIX name of a hash algorithm given under any common spelling (`sha256`, `SHA_256`,
/// `Sha-256` are all `SHA-256`), or `None` for an algorithm this module does not know.
pub fn hash_algorithm(name: &str) -> Option<&'static str> {
    // The name lower-cased without separators, in a small buffer: every known name fits.
    let mut buf = [0u8; 12];
    let mut n = 0;
    for b in name
        .trim()
        .bytes()
        .filter(|b| !matches!(b, b'-' | b'_' | b' '))
    {
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    Some(match &buf[..n] {
        b"md5" => "MD5",
        b"sha1" => "SHA-1",
        b"sha256" | b"sha2256" => "SHA-256",
        b"sha512" | b"sha2512" => "SHA-512",
        b"sha3256" => "SHA3-256",
        b"sha3512" => "SHA3-512",
        b"ssdeep" => "SSDEEP",
        b"tlsh" => "TLSH",
        _ => return None,
    })
}

/// The short lower-case prefix a file's text form uses for a canonical algorithm.
fn hash_prefix(algorithm: &str) -> &'static str {
    match algorithm {
        "MD5" => "md5",
        "SHA-1" => "sha1",
        "SHA-256" => "sha256",
        "SHA-512" => "sha512",
        "SHA3-256" => "sha3-256",
        "SHA3-512" => "sha3-512",
        "SSDEEP" => "ssdeep",
        _ => "tlsh",
    }
}

fn hex_length(algorithm: &str) -> Option<usize> {
    match algorithm {
        "MD5" => Some(32),
        "SHA-1" => Some(40),
        "SHA-256" | "SHA3-256" => Some(64),
        "SHA-512" | "SHA3-512" => Some(128),
        _ => None,
    }
}

/// The canonical form of a digest made with `algorithm` (any spelling
/// [`hash_algorithm`] knows). An unknown algorithm is an error.
pub fn hash(algorithm: &str, value: &str) -> Result<String, NormError> {
    let Some(alg) = hash_algorithm(algorithm) else {
        return Err(invalid(
            "hash algorithm",
            algorithm,
            "is not a known hash algorithm (MD5, SHA-1, SHA-256, SHA-512, SHA3-256, \
             SHA3-512, SSDEEP, TLSH)",
        ));
    };
    let t = trimmed(alg, value)?;
    if let Some(len) = hex_length(alg) {
        if let Some(c) = t.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(invalid(
                alg,
                t,
                format!("contains {c:?}; a {alg} digest is {len} hex digits"),
            ));
        }
        if t.len() != len {
            return Err(invalid(
                alg,
                t,
                format!("has {} hex digits; a {alg} digest has {len}", t.len()),
            ));
        }
        return Ok(t.to_ascii_lowercase());
    }
    if alg == "SSDEEP" {
        let mut parts = t.splitn(3, ':');
        let block = parts.next().unwrap_or("");
        let well_formed = !block.is_empty()
            && block.bytes().all(|b| b.is_ascii_digit())
            && parts.next().is_some()
            && parts.next().is_some()
            && !t.chars().any(char::is_whitespace);
        if !well_formed {
            return Err(invalid(
                alg,
                t,
                "is not of the form BLOCKSIZE:HASH:HASH (e.g. 3:AXGBicFlgVNhBGcL6wCrFQEv:\
                 AXGHsNhxLsr2C) without spaces",
            ));
        }
        return Ok(t.to_owned());
    }
    // TLSH
    let upper = t.to_ascii_uppercase();
    let body = upper.strip_prefix("T1").unwrap_or(&upper);
    let well_formed =
        body.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(body.len(), 70 | 74 | 134 | 138);
    if !well_formed {
        return Err(invalid(
            alg,
            t,
            "is not a TLSH digest (an optional T1 prefix and 70, 74, 134 or 138 hex digits)",
        ));
    }
    Ok(upper)
}

// ---------------------------------------------------------------------------------------
// Accounts

/// The canonical name of a platform (an account type): lower case, aliases resolved.
fn platform(name: &str) -> String {
    let p = name.trim().to_lowercase();
    let p = p.strip_prefix("www.").unwrap_or(&p);
    match p {
        "x" | "x.com" | "twitter.com" => "twitter",
        "fb" | "facebook.com" => "facebook",
        "ig" | "instagram.com" => "instagram",
        "yt" | "youtube.com" => "youtube",
        "t.me" | "telegram.me" => "telegram",
        "tiktok.com" => "tiktok",
        other => other,
    }
    .to_owned()
}

/// The canonical form of an account login: trimmed, one leading `@` removed, lower case.
fn login(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t.strip_prefix('@').unwrap_or(t);
    (!t.is_empty()).then(|| t.to_lowercase())
}

fn account(rest: &str) -> Result<Observable, NormError> {
    let t = trimmed("user-account", rest)?;
    let Some((plat, who)) = t.split_once('/') else {
        return Err(invalid(
            "user-account",
            t,
            "names no platform; write user-account:PLATFORM/HANDLE or \
             user-account:PLATFORM/id=ID, e.g. user-account:twitter/jdoe",
        ));
    };
    let plat = platform(plat);
    if plat.is_empty() {
        return Err(invalid(
            "user-account",
            t,
            "has an empty platform before the '/'",
        ));
    }
    if plat.chars().any(char::is_whitespace) {
        return Err(invalid(
            "user-account",
            t,
            "has a platform with spaces in it",
        ));
    }
    let who = who.trim();
    if let Some(id) = who.strip_prefix("id=") {
        let id = id.trim();
        if id.is_empty() {
            return Err(invalid("user-account", t, "has an empty id after id="));
        }
        return Ok(Observable::account(plat, Account::Id(id.to_owned())));
    }
    let Some(handle) = login(who) else {
        return Err(invalid(
            "user-account",
            t,
            "has an empty handle after the '/'",
        ));
    };
    if handle.chars().any(char::is_whitespace) {
        return Err(invalid("user-account", t, "has a handle with spaces in it"));
    }
    if handle.starts_with("id=") {
        return Err(invalid(
            "user-account",
            t,
            "has a handle that reads as an id; write id=ID without the @",
        ));
    }
    Ok(Observable::account(plat, Account::Login(handle)))
}

// ---------------------------------------------------------------------------------------
// Whole SCOs

fn property_error(object_type: &str, property: &str, value: &str, e: NormError) -> NormError {
    let reason = match e {
        NormError::Invalid { reason, .. } | NormError::Property { reason, .. } => reason,
    };
    NormError::Property {
        object_type: object_type.to_owned(),
        property: property.to_owned(),
        value: shorten(value),
        reason,
    }
}

fn not_a_string(object_type: &str, property: &str, value: &Value) -> NormError {
    NormError::Property {
        object_type: object_type.to_owned(),
        property: property.to_owned(),
        value: shorten(&value.to_string()),
        reason: "must be a string".to_owned(),
    }
}

/// Normalises the string property `name` of `out` with `f`, if present.
fn normalize_property(
    out: &mut Map<String, Value>,
    object_type: &str,
    name: &str,
    f: impl Fn(&str) -> Result<String, NormError>,
) -> Result<(), NormError> {
    let Some(v) = out.get_mut(name) else {
        return Ok(());
    };
    let Value::String(s) = v else {
        return Err(not_a_string(object_type, name, v));
    };
    let canonical = f(s).map_err(|e| property_error(object_type, name, s, e))?;
    *s = canonical;
    Ok(())
}

/// The canonical form of a cyber-observable object: the properties this module knows
/// (`value` of `url`, `domain-name`, `ipv4-addr`, `ipv6-addr`, `email-addr`; `hashes` of any
/// type; `account_type` and `account_login` of `user-account`) in canonical form, every
/// other property (the id included) kept. Objects of other types, or without a type, come
/// back unchanged apart from their hashes. An error names the property and why its value
/// was refused.
pub fn sco(object: &Map<String, Value>) -> Result<Map<String, Value>, NormError> {
    let mut out = object.clone();
    let object_type = match object.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => String::new(),
    };
    match object_type.as_str() {
        "url" => normalize_property(&mut out, &object_type, "value", url)?,
        "domain-name" => normalize_property(&mut out, &object_type, "value", domain)?,
        "email-addr" => normalize_property(&mut out, &object_type, "value", email)?,
        "ipv4-addr" | "ipv6-addr" => {
            let ty = object_type.clone();
            normalize_property(&mut out, &object_type, "value", |s| {
                let (canonical, family) = ip_family(&ty, s)?;
                if family.kind() == ty {
                    Ok(canonical)
                } else {
                    Err(invalid(
                        &ty,
                        s,
                        format!("is an {} address, not {ty}", family.name()),
                    ))
                }
            })?;
        }
        "user-account" => {
            normalize_property(&mut out, &object_type, "account_type", |s| Ok(platform(s)))?;
            normalize_property(&mut out, &object_type, "account_login", |s| {
                login(s).ok_or_else(|| invalid("user-account", s, "is an empty login"))
            })?;
        }
        _ => {}
    }
    if let Some(hashes) = out.get("hashes") {
        let canonical = sco_hashes(&object_type, hashes)?;
        out.insert("hashes".to_owned(), Value::Object(canonical));
    }
    Ok(out)
}

fn sco_hashes(object_type: &str, hashes: &Value) -> Result<Map<String, Value>, NormError> {
    let Value::Object(hashes) = hashes else {
        return Err(NormError::Property {
            object_type: object_type.to_owned(),
            property: "hashes".to_owned(),
            value: shorten(&hashes.to_string()),
            reason: "must be an object of algorithm names to digests".to_owned(),
        });
    };
    let mut out = Map::new();
    for (name, digest) in hashes {
        let property = format!("hashes.{name}");
        let Some(alg) = hash_algorithm(name) else {
            out.insert(name.clone(), digest.clone());
            continue;
        };
        let Value::String(d) = digest else {
            return Err(not_a_string(object_type, &property, digest));
        };
        let canonical = hash(alg, d).map_err(|e| property_error(object_type, &property, d, e))?;
        if let Some(Value::String(earlier)) = out.get(alg)
            && *earlier != canonical
        {
            return Err(NormError::Property {
                object_type: object_type.to_owned(),
                property,
                value: shorten(d),
                reason: format!(
                    "is another spelling of {alg}, which already has the different digest \
                     {earlier:?}"
                ),
            });
        }
        out.insert(alg.to_owned(), Value::String(canonical));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Pattern paths and constants

/// The canonical form of an object path in a pattern: `hashes.<alias>` becomes
/// `hashes.'<STIX name>'` for any object type (`file:hashes.SHA256` is
/// `file:hashes.'SHA-256'`). `None` when the path is already canonical or not one this
/// module knows.
pub fn path(object_type: &str, steps: &[PathStep]) -> Option<Vec<PathStep>> {
    let _ = object_type;
    match steps {
        [PathStep::Key(first), PathStep::Key(alg), rest @ ..] if first == "hashes" => {
            let canonical = hash_algorithm(alg)?;
            if canonical == alg {
                return None;
            }
            let mut out = Vec::with_capacity(steps.len());
            out.push(PathStep::Key("hashes".to_owned()));
            out.push(PathStep::Key(canonical.to_owned()));
            out.extend(rest.iter().cloned());
            Some(out)
        }
        _ => None,
    }
}

/// What a (canonical) path compares, for the paths whose constants have a canonical form.
enum Target {
    Url,
    Domain,
    Ip(Family),
    Email,
    Hash(&'static str),
    Login,
    Platform,
}

fn target(object_type: &str, steps: &[PathStep]) -> Option<Target> {
    match steps {
        [PathStep::Key(k)] => match (object_type, k.as_str()) {
            ("url", "value") => Some(Target::Url),
            ("domain-name", "value") => Some(Target::Domain),
            ("ipv4-addr", "value") => Some(Target::Ip(Family::V4)),
            ("ipv6-addr", "value") => Some(Target::Ip(Family::V6)),
            ("email-addr", "value") => Some(Target::Email),
            ("user-account", "account_login") => Some(Target::Login),
            ("user-account", "account_type") => Some(Target::Platform),
            _ => None,
        },
        [PathStep::Key(h), PathStep::Key(alg)] if h == "hashes" => {
            hash_algorithm(alg).map(Target::Hash)
        }
        _ => None,
    }
}

/// The canonical form of a string constant compared with `=`, `!=` or `IN` at a canonical
/// path: `url:value`, `domain-name:value`, `ipv4-addr:value`, `ipv6-addr:value`,
/// `email-addr:value`, `hashes.<algorithm>` of any type, `user-account:account_login` and
/// `user-account:account_type`. `None` means leave the constant as it is: the path is not
/// one of these, or the value does not normalise (an address of the other family
/// included).
pub fn constant(object_type: &str, steps: &[PathStep], value: &str) -> Option<String> {
    match target(object_type, steps)? {
        Target::Url => url(value).ok(),
        Target::Domain => domain(value).ok(),
        Target::Ip(want) => {
            let (canonical, family) = ip_family(want.kind(), value).ok()?;
            (family == want).then_some(canonical)
        }
        Target::Email => email(value).ok(),
        Target::Hash(alg) => hash(alg, value).ok(),
        Target::Login => login(value),
        Target::Platform => {
            let p = platform(value);
            (!p.is_empty()).then_some(p)
        }
    }
}

/// The form of a `LIKE` pattern at a canonical path, where only case folding is safe with
/// the `%` and `_` wildcards: lower case for `domain-name:value`, `email-addr:value`,
/// `user-account:account_login` and hex digests under `hashes`, upper case for TLSH.
/// `None` for any other path (URLs are case-sensitive past the host, so they are left
/// alone).
pub fn like_constant(object_type: &str, steps: &[PathStep], pattern: &str) -> Option<String> {
    match target(object_type, steps)? {
        Target::Domain | Target::Login => Some(pattern.to_lowercase()),
        Target::Email => Some(pattern.to_lowercase()),
        Target::Hash("TLSH") => Some(pattern.to_ascii_uppercase()),
        Target::Hash(alg) if hex_length(alg).is_some() => Some(pattern.to_ascii_lowercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{parsed_url, plain_url};

    /// Whatever the shortcut accepts, the parser turns into the same string.
    #[test]
    fn plain_urls_come_out_as_the_parser_makes_them() {
        let schemes = [
            "http://", "https://", "HTTP://", "ftp://", "http:/", "https:",
        ];
        let host_bits = [
            "a", "b", "z", "0", "9", "-", ".", "ex", "example", "xn--", "0x1", "127", "A", "_",
            "%41", "é", ":80", "@", "..",
        ];
        let path_bits = [
            "/", "a", "Z", "9", "-", ".", "_", "~", "/.", "/..", "/./", "/../", "%2e", "?", "#",
            " ", "\\", "@", ":", "é", "//", "x.html", "q=1",
        ];
        let state = std::cell::Cell::new(0x2545_f491_4f6c_dd1d_u64);
        let next = |n: usize| {
            let mut x = state.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            state.set(x);
            (x % n as u64) as usize
        };
        // Three pieces in four from the first few of each list (which the shortcut may
        // take), the rest from any.
        let pick = |bits: &[&'static str], good: usize| {
            let n = if next(4) == 0 { bits.len() } else { good };
            bits[next(n)]
        };
        let mut plain = 0;
        for _ in 0..200_000 {
            let mut u = pick(&schemes, 2).to_owned();
            for _ in 0..1 + next(4) {
                u.push_str(pick(&host_bits, 9));
            }
            for _ in 0..next(5) {
                u.push_str(pick(&path_bits, 8));
            }
            if let Some(fast) = plain_url(&u) {
                plain += 1;
                assert_eq!(parsed_url(&u).ok(), Some(fast), "{u}");
            }
        }
        assert!(plain > 20_000, "the shortcut was taken {plain} times");
    }
}
