//! The multi-index hash search gives exactly the answer of a linear scan.

use accord_media::index::{Hash, Id, Index, Match, Method};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// The reference: every live entry within `radius`, nearest first, ties by id.
fn linear(model: &BTreeMap<Id, Hash>, q: &Hash, radius: u32) -> Vec<Match> {
    let mut out: Vec<Match> = model
        .iter()
        .map(|(&id, h)| Match {
            id,
            distance: h.iter().zip(q).map(|(a, b)| (a ^ b).count_ones()).sum(),
        })
        .filter(|m| m.distance <= radius)
        .collect();
    out.sort_by_key(|m| (m.distance, m.id));
    out
}

/// `h` with `d` distinct bits flipped.
fn flip(rng: &mut StdRng, h: &Hash, d: usize) -> Hash {
    let mut out = *h;
    for bit in sample(rng, 256, d) {
        out[bit / 8] ^= 0x80 >> (bit % 8);
    }
    out
}

/// Every method of `index` answers every query at every radius as the model does.
fn assert_agrees(index: &Index<u32>, model: &BTreeMap<Id, Hash>, queries: &[Hash], radii: &[u32]) {
    assert_eq!(index.len(), model.len());
    for q in queries {
        for &r in radii {
            let expected = linear(model, q, r);
            for method in [Method::Auto, Method::Tables, Method::Scan] {
                assert_eq!(
                    index.query_using(q, r, method),
                    expected,
                    "radius {r}, {method:?}, query {q:02x?}"
                );
            }
        }
    }
}

const RADII: [u32; 10] = [0, 1, 15, 16, 31, 32, 47, 63, 64, 70];

#[test]
fn random_hashes_with_planted_neighbours_inserts_and_removes() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut index = Index::new();
    let mut model = BTreeMap::new();
    let queries: Vec<Hash> = (0..12).map(|_| rng.random()).collect();
    let mut payload = 0u32;
    // Rounds of inserts (random hashes and neighbours of the queries at distances
    // 0..=70) and removes, checked after each round so that the answer is compared while
    // entries sit in every stage: untabled, in the recent part and in the main part.
    for round in 0..6 {
        let fresh = if round == 0 { 6000 } else { 2500 };
        let mut items = Vec::new();
        for i in 0..fresh {
            let h = if i % 3 == 0 {
                let q = &queries[rng.random_range(0..queries.len())];
                let d = rng.random_range(0..=70);
                flip(&mut rng, q, d)
            } else {
                rng.random()
            };
            items.push(h);
        }
        if round % 2 == 0 {
            let ids = index
                .insert_many(items.iter().map(|&h| {
                    payload += 1;
                    (h, payload)
                }))
                .unwrap();
            model.extend(ids.into_iter().zip(items));
        } else {
            for h in items {
                payload += 1;
                let id = index.insert(h, payload).unwrap();
                model.insert(id, h);
                if rng.random_ratio(1, 7) {
                    let victim = *model.keys().nth(rng.random_range(0..model.len())).unwrap();
                    assert!(index.remove(victim).is_some());
                    model.remove(&victim);
                }
            }
        }
        // Duplicates of stored hashes, under new ids.
        for _ in 0..20 {
            let (_, &h) = model.iter().nth(rng.random_range(0..model.len())).unwrap();
            payload += 1;
            model.insert(index.insert(h, payload).unwrap(), h);
        }
        assert_agrees(&index, &model, &queries, &RADII);
    }
    index.compact();
    assert_agrees(&index, &model, &queries, &RADII);
    // Removing most entries triggers a rebuild without them.
    let victims: Vec<Id> = model
        .keys()
        .copied()
        .filter(|id| id.get() % 5 != 0)
        .collect();
    for id in victims {
        assert!(index.remove(id).is_some());
        assert!(index.remove(id).is_none());
        model.remove(&id);
    }
    assert_agrees(&index, &model, &queries, &RADII);
    assert_agrees(&index, &model, &queries[..2], &[128, 200, 256, 1000]);
}

#[test]
fn query_many_answers_each_query_like_a_linear_scan() {
    // Enough queries that every core takes several batches, over an index with entries in
    // every stage (main part, recent part, untabled) and some removed.
    let mut rng = StdRng::seed_from_u64(0x3a7);
    let queries: Vec<Hash> = (0..80).map(|_| rng.random()).collect();
    let mut index = Index::new();
    let mut model = BTreeMap::new();
    let planted = |rng: &mut StdRng| {
        let q = &queries[rng.random_range(0..queries.len())];
        let d = rng.random_range(0..=40);
        flip(rng, q, d)
    };
    let bank: Vec<Hash> = (0..12_000)
        .map(|i| {
            if i % 4 == 0 {
                planted(&mut rng)
            } else {
                rng.random()
            }
        })
        .collect();
    let ids = index.insert_many(bank.iter().map(|&h| (h, 0))).unwrap();
    model.extend(ids.into_iter().zip(bank));
    for i in 0..6000 {
        let h = planted(&mut rng);
        model.insert(index.insert(h, i).unwrap(), h);
    }
    let victims: Vec<Id> = model.keys().copied().step_by(9).collect();
    for id in victims {
        index.remove(id).unwrap();
        model.remove(&id);
    }
    for r in [0, 31, 40] {
        let expected: Vec<Vec<Match>> = queries.iter().map(|q| linear(&model, q, r)).collect();
        assert!(expected.iter().any(|e| e.len() > 1), "radius {r}");
        assert_eq!(index.query_many(&queries, r), expected, "radius {r}");
    }
    assert_eq!(index.query_many(&[], 31), Vec::<Vec<Match>>::new());
}

#[test]
fn crowded_buckets_are_searched_like_the_others() {
    // Thousands of copies of a few hashes (blank images all hash alike) overflow the
    // packed bucket boundaries of every substring table, which then fall back to wide
    // ones.
    let mut rng = StdRng::seed_from_u64(0xb1a7);
    let common: Vec<Hash> = (0..3).map(|_| rng.random()).collect();
    let mut index = Index::new();
    let items: Vec<Hash> = (0..12_000)
        .map(|i| match i % 3 {
            0 => common[i % common.len()],
            1 => flip(&mut rng, &common[i % common.len()], i % 50),
            _ => rng.random(),
        })
        .collect();
    let ids = index
        .insert_many(items.iter().enumerate().map(|(i, &h)| (h, i as u32)))
        .unwrap();
    let model: BTreeMap<Id, Hash> = ids.into_iter().zip(items).collect();
    let mut queries = common.clone();
    queries.extend(common.iter().map(|h| flip(&mut rng, h, 20)));
    queries.push(rng.random());
    assert_agrees(&index, &model, &queries, &[0, 15, 31, 47]);
}

/// Entries given by `(hash, removed)`; a query; its expected `(entry number, distance)`.
fn check(entries: &[(Hash, bool)], q: Hash, radius: u32, expected: &[(usize, u32)]) {
    let mut index = Index::new();
    let ids: Vec<Id> = entries
        .iter()
        .enumerate()
        .map(|(i, (h, _))| index.insert(*h, i).unwrap())
        .collect();
    for (id, (_, removed)) in ids.iter().zip(entries) {
        if *removed {
            assert_eq!(index.remove(*id), Some(id.get() as usize));
            assert_eq!(index.get(*id), None);
        } else {
            let (h, _) = index.get(*id).unwrap();
            assert_eq!(h, &entries[id.get() as usize].0);
        }
    }
    let expected: Vec<Match> = expected
        .iter()
        .map(|&(i, distance)| Match {
            id: ids[i],
            distance,
        })
        .collect();
    for method in [Method::Auto, Method::Tables, Method::Scan] {
        assert_eq!(
            index.query_using(&q, radius, method),
            expected,
            "{method:?}"
        );
    }
    assert_eq!(index.query_many(&[q, q], radius), vec![expected.clone(); 2]);
}

fn with_bits(bits: &[usize]) -> Hash {
    let mut h = [0u8; 32];
    for &b in bits {
        h[b / 8] |= 0x80 >> (b % 8);
    }
    h
}

#[test]
fn empty_index_finds_nothing() {
    check(&[], [0; 32], 0, &[]);
    check(&[], [0xff; 32], 256, &[]);
    let index: Index<()> = Index::default();
    assert!(index.is_empty());
    assert_eq!(index.get(Id::from_u32(0)), None);
}

#[test]
fn radius_zero_is_equality() {
    let a = with_bits(&[0, 100, 255]);
    let b = with_bits(&[0, 100]);
    check(&[(a, false), (b, false)], a, 0, &[(0, 0)]);
    check(&[(a, false), (b, false)], b, 0, &[(1, 0)]);
    check(&[(a, false), (b, false)], with_bits(&[1]), 0, &[]);
}

#[test]
fn duplicate_hashes_keep_their_own_ids() {
    let a = with_bits(&[3, 64, 65]);
    let entries = [(a, false), (with_bits(&[]), false), (a, false), (a, true)];
    check(&entries, a, 0, &[(0, 0), (2, 0)]);
    check(&entries, with_bits(&[]), 3, &[(1, 0), (0, 3), (2, 3)]);
}

#[test]
fn removed_entries_are_not_found() {
    let a = with_bits(&[7]);
    let b = with_bits(&[7, 8]);
    check(&[(a, true), (b, false)], a, 5, &[(1, 1)]);
    check(&[(a, true), (b, true)], a, 256, &[]);
}

#[test]
fn radius_beyond_256_finds_everything() {
    let all_ones = [0xff; 32];
    check(
        &[(all_ones, false), (with_bits(&[]), false)],
        with_bits(&[]),
        u32::MAX,
        &[(1, 0), (0, 256)],
    );
}

/// Parses a file of 64-hex-digit hashes, one a line.
fn read_hashes(text: &str) -> Vec<Hash> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit: {c}"),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let bytes = l.as_bytes();
            assert_eq!(bytes.len(), 64, "{l}");
            let mut h = [0u8; 32];
            for (i, pair) in bytes.chunks(2).enumerate() {
                h[i] = digit(pair[0]) << 4 | digit(pair[1]);
            }
            h
        })
        .collect()
}

#[test]
fn threatexchange_haystack_and_needles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pdq");
    let (Ok(haystack), Ok(needles)) = (
        std::fs::read_to_string(dir.join("haystack.txt")),
        std::fs::read_to_string(dir.join("needles.txt")),
    ) else {
        println!(
            "SKIPPED: no haystack.txt/needles.txt under {}",
            dir.display()
        );
        return;
    };
    let haystack = read_hashes(&haystack);
    let needles = read_hashes(&needles);
    let mut index = Index::new();
    let ids = index
        .insert_many(haystack.iter().enumerate().map(|(i, &h)| (h, i as u32)))
        .unwrap();
    let model: BTreeMap<Id, Hash> = ids.into_iter().zip(haystack).collect();
    assert_agrees(&index, &model, &needles, &[31]);
    let found: usize = needles.iter().map(|q| index.query(q, 31).len()).sum();
    println!("{} needles, {found} matches at radius 31", needles.len());
}

#[test]
fn unsafe_code_is_only_the_prefetch() {
    // The workspace forbids `unsafe`; this crate only denies it, for one prefetch
    // (ARCHITECTURE.md). A second `unsafe` block, function or impl fails here.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if ["unsafe {", "unsafe fn", "unsafe impl", "unsafe extern"]
                .iter()
                .any(|u| code.contains(u))
            {
                found.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("index.rs"), "{found:?}");
}
