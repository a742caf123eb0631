//! The workload both servers get: N distinct STIX 2.1 indicators, serialised into TAXII
//! envelopes of one bundle size before any clock starts, and the ids to look up.
//!
//! Everything derives from one seed, so a smaller workload (for a slower peer) is a prefix
//! of a larger one and two runs with the same flags send the same bytes.

use anyhow::Result;
use serde_json::{Value, json};

/// SplitMix64: tiny, seedable, good enough to pick ids and make UUIDs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniformly drawn index below `n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A random (version 4) UUID in its canonical text form.
    pub fn uuid4(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// One server's share of the work, ready to send.
pub struct Workload {
    /// Every indicator id, in posting order.
    pub ids: Vec<String>,
    /// POST bodies (`{"objects": [...]}`) with the number of objects in each.
    pub bundles: Vec<(usize, Vec<u8>)>,
    /// Ids for the filtered GETs, drawn at random from `ids`.
    pub lookups: Vec<String>,
}

/// One indicator; `n` makes its pattern (and name) distinct.
pub fn indicator(id: &str, n: usize) -> Value {
    let domain = format!("x{n}.example");
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created": "2024-10-01T12:00:00.000Z",
        "modified": "2024-10-01T12:00:00.000Z",
        "name": format!("Phishing domain {domain}"),
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[domain-name:value = '{domain}']"),
        "pattern_type": "stix",
        "valid_from": "2024-10-01T12:00:00Z",
    })
}

impl Workload {
    pub fn new(objects: usize, bundle: usize, lookups: usize, seed: u64) -> Result<Self> {
        anyhow::ensure!(objects > 0, "--objects must be at least 1");
        anyhow::ensure!(bundle > 0, "--bundle must be at least 1");
        let mut rng = Rng::new(seed);
        let ids: Vec<String> = (0..objects)
            .map(|_| format!("indicator--{}", rng.uuid4()))
            .collect();
        let mut bundles = Vec::with_capacity(objects.div_ceil(bundle));
        for (chunk_no, chunk) in ids.chunks(bundle).enumerate() {
            let objects: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| indicator(id, chunk_no * bundle + i))
                .collect();
            let body = serde_json::to_vec(&json!({ "objects": objects }))?;
            bundles.push((chunk.len(), body));
        }
        let mut pick = Rng::new(seed ^ 0x05ee_d1d5);
        let lookups = (0..lookups)
            .map(|_| ids[pick.below(ids.len())].clone())
            .collect();
        Ok(Workload {
            ids,
            bundles,
            lookups,
        })
    }

    pub fn bytes(&self) -> usize {
        self.bundles.iter().map(|(_, b)| b.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaller_workload_is_a_prefix() -> Result<()> {
        let big = Workload::new(25, 10, 5, 7)?;
        let small = Workload::new(12, 10, 5, 7)?;
        assert_eq!(small.ids[..], big.ids[..12]);
        assert_eq!(small.bundles[0].1, big.bundles[0].1);
        assert_eq!(
            big.bundles.iter().map(|b| b.0).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        Ok(())
    }

    #[test]
    fn ids_are_distinct_v4_uuids() -> Result<()> {
        let w = Workload::new(2000, 1000, 10, 1)?;
        let set: std::collections::HashSet<_> = w.ids.iter().collect();
        assert_eq!(set.len(), 2000);
        let uuid = &w.ids[0]["indicator--".len()..];
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"));
        Ok(())
    }

    #[test]
    fn bodies_are_envelopes() -> Result<()> {
        let w = Workload::new(3, 2, 1, 1)?;
        let env: Value = serde_json::from_slice(&w.bundles[0].1)?;
        let objects = env["objects"].as_array().map(Vec::len);
        assert_eq!(objects, Some(2));
        assert_eq!(
            env["objects"][1]["pattern"],
            "[domain-name:value = 'x1.example']"
        );
        Ok(())
    }
}
