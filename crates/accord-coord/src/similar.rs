//! Near-duplicates: which distinct texts are the same message with small edits, and which
//! distinct images are the same picture.
//!
//! Comparing every pair of distinct texts is quadratic, which is what makes co-similar-text
//! the slowest behaviour of the usual tools. Here each text gets a MinHash signature of
//! [`BANDS`] × [`ROWS`] values; texts that agree on all the rows of at least one band are
//! candidates, and every candidate pair is verified by its exact Jaccard similarity, so a
//! reported pair always reaches the threshold. With 16 bands of 4 rows a pair at Jaccard
//! 0.8 is a candidate with probability 0.9998, at 0.9 with probability above 0.999999.
//!
//! Before that exact check, a candidate is refused cheaply when the sizes of the two sets,
//! or their 64-bit sketches (a bit per shingle), already rule the threshold out; both are
//! exact bounds, so they never refuse a pair that reaches it. Signatures are not kept: each
//! band is computed when it is bucketed, so memory holds the sets, a sketch per text and
//! one band's keys, 24 bytes per text beyond its set.
//!
//! Verified pairs are joined with union-find: a text's group is everything reachable
//! through verified pairs, so a chain of small edits stays one item. A text with fewer than
//! the minimum number of shingles is left alone: short texts are similar by accident.
//!
//! Images work the same way with the exact PDQ index of `accord-media` in place of MinHash:
//! every hash is looked up at the distance, except one within 8 bits of a hash already
//! looked up (a copy of a popular image), whose neighbours are taken to be that one's —
//! otherwise an image shared in thousands of slightly different copies would cost a
//! number of answers quadratic in its copies.

use std::hash::BuildHasher;

use accord_media::index::Index;
use rayon::prelude::*;

use crate::text::jaccard;

/// Bands of the MinHash signature.
pub const BANDS: usize = 16;
/// Rows (hash functions) per band.
pub const ROWS: usize = 4;
/// Verifications a text gets per bucket before the rest of the bucket is left to others,
/// so a bucket of thousands of variants of one template stays linear.
const PER_BUCKET: usize = 16;
/// A band value shared by more texts than this says nothing (it is the band of a few
/// very common words); its bucket is not verified. A near-duplicate pair agrees on about
/// six of the sixteen bands at Jaccard 0.8, so it is found through the others.
const MAX_BUCKET: usize = 2_000;

/// Sets of shingles, one after another.
#[derive(Clone, Debug, Default)]
pub struct Sets {
    values: Vec<u32>,
    ends: Vec<usize>,
}

impl Sets {
    /// Appends a sorted, deduplicated set; returns its number.
    pub fn push(&mut self, set: &[u32]) -> u32 {
        self.values.extend_from_slice(set);
        self.ends.push(self.values.len());
        (self.ends.len() - 1) as u32
    }

    /// Number of sets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no sets.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Set number `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.values[start..self.ends[i]]
    }

    /// Bytes held.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.values.capacity() * 4 + self.ends.capacity() * 8
    }
}

/// Union-find over `0..n` with path halving; the smaller number is always the root, so
/// the result does not depend on the order of unions.
#[derive(Clone, Debug)]
pub struct Groups {
    parent: Vec<u32>,
}

impl Groups {
    /// `n` singletons.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Groups {
            parent: (0..n as u32).collect(),
        }
    }

    /// The group's root.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the groups of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// The root of every element.
    #[must_use]
    pub fn roots(mut self) -> Vec<u32> {
        (0..self.parent.len() as u32)
            .map(|x| self.find(x))
            .collect()
    }
}

/// Groups of near-duplicate texts: for each set, the smallest set number in its group.
/// Sets with fewer than `min_shingles` shingles stay alone.
///
/// Signatures are never stored: each band's rows are computed when the band is bucketed,
/// which costs the same hashing as computing whole signatures and needs 16 bytes per text
/// at a time instead of 256.
#[must_use]
pub fn text_groups(sets: &Sets, threshold: f64, min_shingles: usize, threads: usize) -> Vec<u32> {
    let n = sets.len();
    let sketches: Vec<u64> = (0..n).map(|i| sketch(sets.get(i))).collect();
    let family = hash_family();
    // The bands are split in two halves, each joining groups of its own; with two threads
    // or more the halves run side by side, otherwise one after the other, so the result
    // does not depend on the number of threads.
    let half = |bands: std::ops::Range<usize>, threads: usize| -> Vec<u32> {
        let mut groups = Groups::new(n);
        let mut bucket: Vec<(u64, u32)> = Vec::new();
        for band in bands {
            band_keys(
                sets,
                band,
                &family,
                min_shingles.max(1),
                threads,
                &mut bucket,
            );
            bucket.sort_unstable();
            verify_buckets(&bucket, sets, &sketches, threshold, &mut groups);
        }
        groups.roots()
    };
    let (first, second) = if threads >= 2 && n >= 4096 {
        rayon::join(
            || half(0..BANDS / 2, threads / 2),
            || half(BANDS / 2..BANDS, threads - threads / 2),
        )
    } else {
        (half(0..BANDS / 2, threads), half(BANDS / 2..BANDS, threads))
    };
    let mut groups = Groups::new(n);
    for (i, (&a, &b)) in first.iter().zip(&second).enumerate() {
        groups.union(i as u32, a);
        groups.union(i as u32, b);
    }
    groups.roots()
}

/// Verifies the candidates of one band's sorted `(key, set)` pairs, joining in `groups`
/// the pairs that reach the threshold.
fn verify_buckets(
    bucket: &[(u64, u32)],
    sets: &Sets,
    sketches: &[u64],
    threshold: f64,
    groups: &mut Groups,
) {
    for members in bucket.chunk_by(|x, y| x.0 == y.0) {
        if members.len() > MAX_BUCKET {
            continue;
        }
        for (k, &(_, x)) in members.iter().enumerate().skip(1) {
            let mut tried = 0;
            for &(_, y) in members[..k].iter().rev() {
                if tried == PER_BUCKET {
                    break;
                }
                if groups.find(x) == groups.find(y) {
                    continue;
                }
                tried += 1;
                let (a, b) = (sets.get(x as usize), sets.get(y as usize));
                // Cheap refusals first: sizes too far apart for the threshold, then a
                // bound from the sketches.
                let (small, large) = (a.len().min(b.len()), a.len().max(b.len()));
                if (small as f64) < threshold * large as f64
                    || jaccard_bound(
                        sketches[x as usize],
                        sketches[y as usize],
                        a.len() + b.len(),
                    ) < threshold
                {
                    continue;
                }
                if jaccard(a, b) >= threshold {
                    groups.union(x, y);
                }
            }
        }
    }
}

/// 64 bits, one set for each shingle (by a hash of it).
fn sketch(set: &[u32]) -> u64 {
    set.iter().fold(0, |acc, &s| {
        acc | 1 << (u64::from(s).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
    })
}

/// An upper bound on the Jaccard similarity of two sets of `sizes` elements in all, from
/// their sketches. A bit set in one sketch only comes from an element of that set only, so
/// the sets differ in at least `d` = popcount(a ^ b) elements; and Jaccard is
/// `1 − 2d / (|A| + |B| + d)` for the true `d`, which only falls as `d` grows. The bound
/// never refuses a pair that reaches the threshold.
fn jaccard_bound(a: u64, b: u64, sizes: usize) -> f64 {
    let d = f64::from((a ^ b).count_ones());
    1.0 - 2.0 * d / (sizes as f64 + d)
}

/// The multipliers and addends of the MinHash functions.
type Family = ([u64; BANDS * ROWS], [u64; BANDS * ROWS]);

/// Fills `out` with `(key of band `band`, set number)` for every set of at least
/// `min_len` shingles, in set order, on `threads` threads.
fn band_keys(
    sets: &Sets,
    band: usize,
    (mult, add): &Family,
    min_len: usize,
    threads: usize,
    out: &mut Vec<(u64, u32)>,
) {
    let hasher = foldhash::quality::FixedState::with_seed(0x42_414e_4453);
    let rows = band * ROWS..(band + 1) * ROWS;
    let key = |set: &[u32]| -> u64 {
        let mut mins = [u32::MAX; ROWS];
        for &s in set {
            let s = u64::from(s);
            for (slot, k) in mins.iter_mut().zip(rows.clone()) {
                let h = (s.wrapping_mul(mult[k]).wrapping_add(add[k]) >> 32) as u32;
                if h < *slot {
                    *slot = h;
                }
            }
        }
        hasher.hash_one(mins)
    };
    let part = |range: std::ops::Range<usize>, into: &mut Vec<(u64, u32)>| {
        for i in range {
            let set = sets.get(i);
            if set.len() >= min_len {
                into.push((key(set), i as u32));
            }
        }
    };
    out.clear();
    let n = sets.len();
    let threads = threads.clamp(1, 64);
    if threads == 1 || n < 4096 {
        part(0..n, out);
        return;
    }
    let chunk = n.div_ceil(threads);
    let ((), parts) = rayon::join(
        || part(0..chunk.min(n), out),
        || {
            (1..threads)
                .into_par_iter()
                .map(|t| {
                    let mut v = Vec::new();
                    part(t * chunk..((t + 1) * chunk).min(n), &mut v);
                    v
                })
                .collect::<Vec<Vec<_>>>()
        },
    );
    for v in parts {
        out.extend(v);
    }
}

/// The MinHash functions: `h_k(s) = high 32 bits of (s·m_k + a_k) mod 2^64`, with odd
/// multipliers drawn from a fixed seed.
fn hash_family() -> Family {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut mult = [0; BANDS * ROWS];
    let mut add = [0; BANDS * ROWS];
    for k in 0..BANDS * ROWS {
        mult[k] = next() | 1;
        add[k] = next();
    }
    (mult, add)
}

/// Hashes queried together on every core.
const QUERY_BATCH: usize = 1024;
/// A hash this close to one already queried is not queried itself.
const COVERED: u32 = 8;

/// Groups of near-identical images: for each hash, the smallest hash number in its group,
/// two hashes being joined when at most `distance` bits apart.
#[must_use]
pub fn media_groups(hashes: &[[u8; 32]], distance: u32) -> Vec<u32> {
    let mut groups = Groups::new(hashes.len());
    let mut index: Index<u32> = Index::new();
    // Built in one go: one set of tables instead of many merges of recent additions.
    if index
        .insert_many(hashes.iter().enumerate().map(|(i, h)| (*h, i as u32)))
        .is_err()
    {
        // More than four billion hashes: each stays its own item.
        return groups.roots();
    }
    // A popular image comes in thousands of slightly different copies, and querying each
    // of them would find all the others: quadratic. A hash within COVERED bits of one
    // already queried is not queried itself; its neighbours are that one's.
    let mut covered = vec![false; hashes.len()];
    let mut batch: Vec<usize> = Vec::with_capacity(QUERY_BATCH);
    let mut queries: Vec<[u8; 32]> = Vec::with_capacity(QUERY_BATCH);
    let mut next = 0;
    while next < hashes.len() {
        batch.clear();
        queries.clear();
        while next < hashes.len() && batch.len() < QUERY_BATCH {
            if !covered[next] {
                batch.push(next);
                queries.push(hashes[next]);
            }
            next += 1;
        }
        // On the pool (`Index::query_many` would start threads for every batch).
        let answers: Vec<_> = queries
            .par_iter()
            .map(|q| index.query(q, distance))
            .collect();
        for (&i, matches) in batch.iter().zip(answers) {
            for m in matches {
                if let Some((_, &j)) = index.get(m.id) {
                    groups.union(i as u32, j);
                    if m.distance <= COVERED {
                        covered[j as usize] = true;
                    }
                }
            }
        }
    }
    groups.roots()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_groups_join_near_duplicates_alike_on_one_thread_or_two() {
        // 300 templates of 20 words, 20 variants each with one word changed (Jaccard
        // 19/21 ≈ 0.9 with the template), shuffled by a fixed permutation.
        let mut sets = Sets::default();
        let mut template_of = Vec::new();
        let n = 6000u32;
        for i in 0..n {
            let i = (i * 2399) % n;
            let t = i / 20;
            let mut set: Vec<u32> = (0..20).map(|w| t * 1000 + w).collect();
            set[(i % 20) as usize] = 900_000 + i;
            set.sort_unstable();
            sets.push(&set);
            template_of.push(t);
        }
        let one = text_groups(&sets, 0.8, 4, 1);
        let two = text_groups(&sets, 0.8, 4, 2);
        assert_eq!(one, two);
        for (i, &root) in one.iter().enumerate() {
            assert_eq!(template_of[root as usize], template_of[i], "set {i}");
        }
        let groups: std::collections::HashSet<u32> = one.iter().copied().collect();
        assert_eq!(groups.len(), 300, "each template's variants are one group");
    }

    #[test]
    fn the_sketch_bound_is_never_below_the_exact_jaccard() {
        let mut state = 7u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let universe = 1 + next() % 60;
            let mut make = || {
                let mut v: Vec<u32> = (0..1 + next() % 30)
                    .map(|_| (next() % universe) as u32)
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (a, b) = (make(), make());
            let exact = jaccard(&a, &b);
            let bound = jaccard_bound(sketch(&a), sketch(&b), a.len() + b.len());
            assert!(bound + 1e-12 >= exact, "{a:?} {b:?}: {bound} < {exact}");
        }
    }
}
