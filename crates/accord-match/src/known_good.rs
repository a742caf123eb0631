//! Lists of known-good values: observables never to report, such as an organisation's own
//! domains and address ranges, or the exchange's.
//!
//! A hit on a known-good value is suppressed, but the suppression must be explainable, so
//! [`KnownGood::check`] returns the entry that covered the observable along with the tag the
//! list keeps for it (who added it, and why). Entries and observables are both
//! [`Observable`]s, so they meet in canonical form.
//!
//! What an entry covers:
//! - any entry covers an observable equal to it;
//! - a `domain-name` entry also covers its subdomains, URLs whose host is the domain or a
//!   subdomain, and e-mail addresses at the domain or a subdomain;
//! - an `ipv4-addr` or `ipv6-addr` entry that is a range covers the addresses and the
//!   narrower ranges inside it, and URLs whose host is such an address;
//! - `url`, `email-addr`, `file` and `user-account` entries cover only equal observables.
//!
//! The list is a hash map from an entry's canonical text to the entry. A check looks up the
//! observable itself, then each parent domain (one lookup per label), or the observable's
//! network at each prefix length some range entry has (at most 33 or 129 lookups). Its cost
//! therefore does not grow with the number of entries. When several entries cover an
//! observable, the most specific one is returned: the equal entry, then the longest domain,
//! then the longest prefix.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::normalize::{Observable, ip_network, mask};

/// A list of known-good observables, each with a tag of type `T`.
#[derive(Debug, Clone)]
pub struct KnownGood<T> {
    entries: HashMap<String, (Observable, T)>,
    /// How many IPv4 entries there are of each prefix length (an address is a /32).
    v4_lengths: [usize; 33],
    /// How many IPv6 entries there are of each prefix length (an address is a /128).
    v6_lengths: [usize; 129],
}

impl<T> Default for KnownGood<T> {
    fn default() -> Self {
        KnownGood {
            entries: HashMap::new(),
            v4_lengths: [0; 33],
            v6_lengths: [0; 129],
        }
    }
}

impl<T> KnownGood<T> {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `entry` with `tag`; an equal entry already on the list has its tag replaced.
    pub fn insert(&mut self, entry: &Observable, tag: T) {
        let key = entry.to_string();
        if self.entries.insert(key, (entry.clone(), tag)).is_none() {
            self.count(entry, true);
        }
    }

    /// Removes the entry equal to `entry`, returning its tag.
    pub fn remove(&mut self, entry: &Observable) -> Option<T> {
        let (_, tag) = self.entries.remove(&entry.to_string())?;
        self.count(entry, false);
        Some(tag)
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry that covers `obs` (see the module documentation), and its tag; `None` when
    /// no entry does.
    pub fn check(&self, obs: &Observable) -> Option<(&Observable, &T)> {
        if let Some(found) = self.get(&obs.to_string()) {
            return Some(found);
        }
        match obs.kind() {
            "domain-name" => self.check_domain(obs.value()),
            "email-addr" => {
                let (_, domain) = obs.value().rsplit_once('@')?;
                self.check_domain(domain)
            }
            "ipv4-addr" | "ipv6-addr" => {
                let (addr, len) = ip_network(obs.value())?;
                self.check_ip(addr, len)
            }
            "url" => {
                let u = url::Url::parse(obs.value()).ok()?;
                match u.host()? {
                    url::Host::Domain(host) => self.check_domain(host),
                    url::Host::Ipv4(a) => self.check_ip(IpAddr::V4(a), 32),
                    url::Host::Ipv6(a) => self.check_ip(IpAddr::V6(a), 128),
                }
            }
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<(&Observable, &T)> {
        self.entries.get(key).map(|(o, t)| (o, t))
    }

    /// The entry for `domain` or its nearest covered parent.
    fn check_domain(&self, domain: &str) -> Option<(&Observable, &T)> {
        let mut rest = domain;
        loop {
            if let Some(found) = self.get(&format!("domain-name:{rest}")) {
                return Some(found);
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// The longest range entry containing the network `addr/len` (the address itself when
    /// `len` is the full length).
    fn check_ip(&self, addr: IpAddr, len: u8) -> Option<(&Observable, &T)> {
        let (lengths, kind, full): (&[usize], _, u8) = match addr {
            IpAddr::V4(_) => (&self.v4_lengths, "ipv4-addr", 32),
            IpAddr::V6(_) => (&self.v6_lengths, "ipv6-addr", 128),
        };
        for l in (0..=len).rev() {
            if lengths.get(usize::from(l)).copied().unwrap_or(0) == 0 {
                continue;
            }
            let net = mask(addr, l);
            let key = if l == full {
                format!("{kind}:{net}")
            } else {
                format!("{kind}:{net}/{l}")
            };
            if let Some(found) = self.get(&key) {
                return Some(found);
            }
        }
        None
    }

    /// Keeps the per-prefix-length counts of address entries up to date.
    fn count(&mut self, entry: &Observable, added: bool) {
        if !matches!(entry.kind(), "ipv4-addr" | "ipv6-addr") {
            return;
        }
        let Some((addr, len)) = ip_network(entry.value()) else {
            return;
        };
        let lengths: &mut [usize] = match addr {
            IpAddr::V4(_) => &mut self.v4_lengths,
            IpAddr::V6(_) => &mut self.v6_lengths,
        };
        if let Some(n) = lengths.get_mut(usize::from(len)) {
            *n = if added { *n + 1 } else { n.saturating_sub(1) };
        }
    }
}
