//! The client side of the workload: one keep-alive connection, sequential requests.
//!
//! Responses are parsed only as far as the workload needs (status counts, `more`, `next`
//! and object ids), so the client's own cost stays small next to the server's.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use ureq::Agent;
use ureq::config::AutoHeaderValue;

use crate::workload::Workload;

pub const TAXII: &str = "application/taxii+json;version=2.1";
const MAX_BODY: u64 = 1 << 30;

/// Where one server's collection is and how to authenticate to it.
#[derive(Clone)]
pub struct Target {
    pub api_root_url: String,
    pub objects_url: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// What one phase took.
pub struct Measured {
    pub objects: usize,
    pub requests: usize,
    pub elapsed: Duration,
    /// The first request alone (the first page, where a server may do most of its work).
    pub first: Duration,
    /// Of `elapsed`, the time the client spent parsing answers (not the server's doing).
    pub parsing: Duration,
}

impl Measured {
    pub fn objects_per_sec(&self) -> f64 {
        self.objects as f64 / self.elapsed.as_secs_f64()
    }

    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    #[serde(default)]
    total_count: usize,
    #[serde(default)]
    success_count: usize,
    #[serde(default)]
    failure_count: usize,
    #[serde(default)]
    failures: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

pub struct Client {
    agent: Agent,
    target: Target,
    timeout: Duration,
}

impl Client {
    pub fn new(target: Target, timeout: Duration) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .accept_encoding(AutoHeaderValue::None)
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Client {
            agent,
            target,
            timeout,
        }
    }

    fn get(&self, url: &str) -> Result<Vec<u8>> {
        let mut response = self
            .agent
            .get(url)
            .header("Accept", TAXII)
            .header("Authorization", &self.target.authorization)
            .call()
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()?;
        if status != 200 {
            bail!("GET {url}: HTTP {status}: {}", excerpt(&body));
        }
        Ok(body)
    }

    fn post(&self, url: &str, body: &[u8]) -> Result<Vec<u8>> {
        let mut response = self
            .agent
            .post(url)
            .header("Accept", TAXII)
            .header("Content-Type", TAXII)
            .header("Authorization", &self.target.authorization)
            .send(body)
            .with_context(|| format!("POST {url}"))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()?;
        if status != 202 {
            bail!(
                "POST {url}: HTTP {status} (expected 202): {}",
                excerpt(&body)
            );
        }
        Ok(body)
    }

    /// Reads the discovery-free part of the API: does the collection answer at all?
    pub fn check(&self) -> Result<()> {
        self.get(&format!("{}?limit=1", self.target.objects_url))
            .map(|_| ())
    }

    /// POSTs every bundle; a "pending" status is polled until complete, inside the clock.
    pub fn post_all(&self, work: &Workload) -> Result<Measured> {
        let url = &self.target.objects_url;
        let mut pending = Vec::new();
        let mut first = Duration::ZERO;
        let mut parsing = Duration::ZERO;
        let start = Instant::now();
        for (i, (count, body)) in work.bundles.iter().enumerate() {
            let answer = self.post(url, body)?;
            let parse = Instant::now();
            let status: Status = serde_json::from_slice(&answer)
                .with_context(|| format!("POST {url}: the answer is not a status resource"))?;
            parsing += parse.elapsed();
            if i == 0 {
                first = start.elapsed();
            }
            if status.status == "complete" {
                check_status(&status, *count)?;
            } else {
                pending.push((status.id, *count));
            }
        }
        for (id, count) in pending {
            let status_url = format!("{}status/{id}/", self.target.api_root_url);
            loop {
                let status: Status = serde_json::from_slice(&self.get(&status_url)?)?;
                if status.status == "complete" {
                    check_status(&status, count)?;
                    break;
                }
                ensure!(start.elapsed() < self.timeout, "status {id} still pending");
            }
        }
        Ok(Measured {
            objects: work.ids.len(),
            requests: work.bundles.len(),
            elapsed: start.elapsed(),
            first,
            parsing,
        })
    }

    /// Pages through the whole collection with `limit` and `next`; checks every id came back once.
    pub fn page_all(&self, work: &Workload, limit: usize) -> Result<Measured> {
        let base = format!("{}?limit={limit}", self.target.objects_url);
        let mut seen: Vec<String> = Vec::with_capacity(work.ids.len());
        let mut requests = 0usize;
        let mut first = Duration::ZERO;
        let mut parsing = Duration::ZERO;
        let mut url = base.clone();
        let start = Instant::now();
        loop {
            let answer = self.get(&url)?;
            let parse = Instant::now();
            let page: Page = serde_json::from_slice(&answer)
                .with_context(|| format!("GET {url}: the answer is not an envelope"))?;
            parsing += parse.elapsed();
            requests += 1;
            if requests == 1 {
                first = start.elapsed();
            }
            ensure!(
                page.objects.len() <= limit,
                "GET {url} returned {} objects",
                page.objects.len()
            );
            seen.extend(page.objects.into_iter().map(|o| o.id));
            match (page.more, page.next) {
                (false, _) => break,
                (true, Some(next)) => url = format!("{base}&next={}", percent_encode(&next)),
                (true, None) => bail!("GET {url}: more is true but there is no next"),
            }
            ensure!(requests <= work.ids.len() + 1, "paging does not end");
        }
        let elapsed = start.elapsed();
        let mut got = seen.clone();
        got.sort_unstable();
        got.dedup();
        let mut want = work.ids.clone();
        want.sort_unstable();
        ensure!(
            got.len() == seen.len(),
            "paging returned {} duplicate objects",
            seen.len() - got.len()
        );
        ensure!(
            got == want,
            "paging returned {} distinct objects, {} were posted",
            got.len(),
            want.len()
        );
        Ok(Measured {
            objects: seen.len(),
            requests,
            elapsed,
            first,
            parsing,
        })
    }

    /// One GET `?match[id]=ID` per lookup id; each must return exactly that object.
    pub fn lookups(&self, work: &Workload) -> Result<Measured> {
        let urls: Vec<String> = work
            .lookups
            .iter()
            .map(|id| format!("{}?match%5Bid%5D={id}", self.target.objects_url))
            .collect();
        let mut first = Duration::ZERO;
        let mut parsing = Duration::ZERO;
        let start = Instant::now();
        for (i, (url, id)) in urls.iter().zip(&work.lookups).enumerate() {
            let answer = self.get(url)?;
            let parse = Instant::now();
            let page: Page = serde_json::from_slice(&answer)?;
            parsing += parse.elapsed();
            if i == 0 {
                first = start.elapsed();
            }
            ensure!(
                page.objects.len() == 1 && &page.objects[0].id == id,
                "GET {url} returned {} objects instead of {id}",
                page.objects.len()
            );
        }
        Ok(Measured {
            objects: urls.len(),
            requests: urls.len(),
            elapsed: start.elapsed(),
            first,
            parsing,
        })
    }
}

fn check_status(status: &Status, count: usize) -> Result<()> {
    ensure!(
        status.total_count == count && status.success_count == count && status.failure_count == 0,
        "status {}: {} of {} objects succeeded, {} failed (first failures: {:?})",
        status.id,
        status.success_count,
        count,
        status.failure_count,
        status.failures.iter().take(3).collect::<Vec<_>>()
    );
    Ok(())
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(500).collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(percent_encode("0f-Z_~."), "0f-Z_~.");
    }
}
