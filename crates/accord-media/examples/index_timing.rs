//! Rough timing of the multi-index hash search against a linear scan, over random
//! hashes: `cargo run --release -p accord-media --example index_timing -- 10000000`.
//! Prints build time, memory per hash and queries per second at radius 31.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use accord_media::index::{Hash, Index, Method};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().unwrap());
    let radius: u32 = std::env::args().nth(2).map_or(31, |a| a.parse().unwrap());
    let mut rng = StdRng::seed_from_u64(7);
    let hashes: Vec<Hash> = (0..n).map(|_| rng.random()).collect();
    let t = Instant::now();
    let mut index = Index::new();
    index
        .insert_many(hashes.iter().enumerate().map(|(i, &h)| (h, i as u32)))
        .unwrap();
    let build = t.elapsed();
    println!(
        "{n} hashes: built in {:.2} s, {:.1} bytes per hash (payload slots of 8 bytes included)",
        build.as_secs_f64(),
        index.memory_bytes() as f64 / n as f64
    );
    // Half random queries, half stored hashes with 10 bits flipped.
    let queries: Vec<Hash> = (0..20_000)
        .map(|i| {
            if i % 2 == 0 {
                rng.random()
            } else {
                let mut h = hashes[rng.random_range(0..n)];
                for _ in 0..10 {
                    let b = rng.random_range(0..256);
                    h[b / 8] ^= 1 << (b % 8);
                }
                h
            }
        })
        .collect();
    let t = Instant::now();
    let found: usize = queries.iter().map(|q| index.query(q, radius).len()).sum();
    let one = queries.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let found_many: usize = index
        .query_many(&queries, radius)
        .iter()
        .map(Vec::len)
        .sum();
    let many = queries.len() as f64 / t.elapsed().as_secs_f64();
    assert_eq!(found, found_many);
    let scans = 20.min(queries.len());
    let t = Instant::now();
    for q in &queries[..scans] {
        let _ = index.query_using(q, radius, Method::Scan);
    }
    let scan = scans as f64 / t.elapsed().as_secs_f64();
    println!(
        "radius {radius}: {one:.0} queries/s on 1 thread, {many:.0} on all cores; \
         linear scan {scan:.1} queries/s on 1 thread (index {:.0}x); {found} matches",
        one / scan
    );
}
