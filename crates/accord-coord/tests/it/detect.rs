//! The engine against its definitions: hand-made cases for each rule, and a randomised
//! comparison with a brute-force reading of the definitions.

use std::collections::{BTreeMap, BTreeSet};

use accord_coord::model::{Behaviour, Detection, Post};
use accord_coord::{Config, Detector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn post(platform: &str, account: &str, id: &str, secs: f64) -> Post {
    Post {
        platform: platform.to_owned(),
        account: account.to_owned(),
        id: id.to_owned(),
        time_ms: (secs * 1000.0) as i64,
        ..Post::default()
    }
}

fn config(behaviours: &[Behaviour], window_secs: i64, min_weight: f64) -> Config {
    Config {
        behaviours: behaviours.to_vec(),
        window_ms: window_secs * 1000,
        min_weight,
        threads: 2,
        ..Config::default()
    }
}

/// Runs the detector in memory, and again moving everything to disk as it comes in small
/// batches, which must give the same result.
fn run(config: Config, posts: &[Post]) -> Detection {
    let mut d = Detector::new(config.clone());
    d.add(posts);
    let got = d.finish(&mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut s = Detector::new(Config {
        spill_dir: Some(dir.path().to_owned()),
        memory: 0,
        ..config
    });
    for batch in posts.chunks(7) {
        s.add(batch);
    }
    assert_eq!(
        s.finish(&mut |_| {}).unwrap(),
        got,
        "spilling changed the result"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "spill files left behind"
    );
    got
}

#[test]
fn a_spill_directory_that_cannot_be_written_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let mut d = Detector::new(Config {
        spill_dir: Some(not_a_dir.clone()),
        memory: 0,
        ..config(&[Behaviour::CoRepost], 60, 1.0)
    });
    d.add(&reposts("a", &[("t1", 0.0)]));
    let err = d.finish(&mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains(&not_a_dir.display().to_string()),
        "the error names the directory: {err}"
    );
}

/// Edges as `(behaviour, "p:a", "p:b", weight)`, sorted.
fn edges(d: &Detection) -> Vec<(String, String, String, f64)> {
    let mut v: Vec<_> = d
        .edges
        .iter()
        .map(|e| {
            (
                e.behaviour.name().to_owned(),
                d.accounts[e.a as usize].key(),
                d.accounts[e.b as usize].key(),
                e.weight,
            )
        })
        .collect();
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    v
}

fn check(config: Config, posts: &[Post], expected: &[(&str, &str, &str, f64)]) {
    let got = edges(&run(config, posts));
    let want: Vec<(String, String, String, f64)> = expected
        .iter()
        .map(|&(b, x, y, w)| (b.to_owned(), x.to_owned(), y.to_owned(), w))
        .collect();
    assert_eq!(got, want);
}

fn reposts(account: &str, targets: &[(&str, f64)]) -> Vec<Post> {
    targets
        .iter()
        .enumerate()
        .map(|(i, &(target, t))| {
            let mut p = post("x", account, &format!("{account}-{i}"), t);
            p.repost_of = Some(target.to_owned());
            p
        })
        .collect()
}

#[test]
fn accounts_reposting_the_same_posts_within_the_window_form_edges_weighted_by_items() {
    let mut posts = Vec::new();
    for (k, acc) in ["a", "b", "c"].iter().enumerate() {
        let offset = k as f64 * 10.0;
        posts.extend(reposts(
            acc,
            &[
                ("p1", 100.0 + offset),
                ("p2", 1000.0 + offset),
                ("p3", 5000.0 + offset),
            ],
        ));
    }
    // "d" reposts the same posts, but always two minutes later.
    posts.extend(reposts(
        "d",
        &[("p1", 220.0), ("p2", 1120.0), ("p3", 5120.0)],
    ));
    check(
        config(&[Behaviour::CoRepost], 60, 3.0),
        &posts,
        &[
            ("co-repost", "x:a", "x:b", 3.0),
            ("co-repost", "x:a", "x:c", 3.0),
            ("co-repost", "x:b", "x:c", 3.0),
        ],
    );
    check(config(&[Behaviour::CoRepost], 60, 4.0), &posts, &[]);
}

#[test]
fn the_window_is_inclusive_and_sliding() {
    // 60 s apart exactly co-act (p1); 60.001 s do not (p2). Across a bin boundary they
    // still do (p3: 59 and 61 would fall into two fixed one-minute bins).
    let mut posts = reposts("a", &[("p1", 0.0), ("p2", 100.0), ("p3", 179.0)]);
    posts.extend(reposts(
        "b",
        &[("p1", 60.0), ("p2", 160.001), ("p3", 181.0)],
    ));
    check(
        config(&[Behaviour::CoRepost], 60, 2.0),
        &posts,
        &[("co-repost", "x:a", "x:b", 2.0)],
    );
    check(config(&[Behaviour::CoRepost], 60, 3.0), &posts, &[]);
}

#[test]
fn a_pair_counts_once_per_burst_on_an_item_and_again_in_a_later_burst() {
    // Ten co-actions in one burst (each action within 60 s of the one before): one
    // episode. The same repost target pushed together again an hour later: a second.
    let mut posts = Vec::new();
    for i in 0..10 {
        posts.extend(reposts("a", &[("p1", f64::from(i) * 50.0)]));
        posts.extend(reposts("b", &[("p1", f64::from(i) * 50.0 + 1.0)]));
    }
    for (i, p) in posts.iter_mut().enumerate() {
        p.id = format!("post{i}");
    }
    check(
        config(&[Behaviour::CoRepost], 60, 1.0),
        &posts,
        &[("co-repost", "x:a", "x:b", 1.0)],
    );
    let mut later = posts.clone();
    for (k, acc) in ["a", "b"].iter().enumerate() {
        let mut p = reposts(acc, &[("p1", 4000.0 + k as f64)]).remove(0);
        p.id = format!("later{k}");
        later.push(p);
    }
    let d = run(config(&[Behaviour::CoRepost], 60, 1.0), &later);
    assert_eq!(d.edges.len(), 1);
    assert_eq!(d.edges[0].weight, 2.0);
    assert_eq!(
        d.edges[0].evidence.len(),
        2,
        "one evidence pair per episode"
    );
}

#[test]
fn busy_accounts_meeting_by_chance_are_not_an_edge() {
    // Two accounts repost 100 posts each; six of them the same, within the window: six
    // episodes, but 6% of what the quieter one does.
    let mut posts = Vec::new();
    for (acc, offset) in [("busy1", 0.0), ("busy2", 30.0)] {
        let targets: Vec<(String, f64)> = (0..100)
            .map(|i| {
                let shared = i < 6;
                let target = if shared {
                    format!("hot{i}")
                } else {
                    format!("{acc}-own{i}")
                };
                (
                    target,
                    f64::from(i) * 600.0 + if shared { offset } else { 0.0 },
                )
            })
            .collect();
        let targets: Vec<(&str, f64)> = targets.iter().map(|(t, x)| (t.as_str(), *x)).collect();
        posts.extend(reposts(acc, &targets));
    }
    let mut c = config(&[Behaviour::CoRepost], 60, 5.0);
    assert_eq!(c.min_overlap, 0.1, "the default");
    assert!(run(c.clone(), &posts).edges.is_empty());
    c.min_overlap = 0.05;
    check(c, &posts, &[("co-repost", "x:busy1", "x:busy2", 6.0)]);
}

#[test]
fn an_account_never_co_acts_with_itself() {
    let posts = reposts("a", &[("p1", 0.0), ("p1", 1.0), ("p1", 2.0)]);
    let d = run(config(&[Behaviour::CoRepost], 60, 1.0), &posts);
    assert!(d.edges.is_empty());
    assert_eq!(d.stats.behaviours[0].pairs, 0);
}

#[test]
fn viral_items_are_not_paired_and_are_counted() {
    let mut posts = Vec::new();
    for i in 0..50 {
        posts.extend(reposts(&format!("fan{i}"), &[("viral", f64::from(i))]));
    }
    let mut c = config(&[Behaviour::CoRepost], 60, 1.0);
    c.viral = 49;
    let d = run(c.clone(), &posts);
    assert!(d.edges.is_empty());
    assert_eq!(d.stats.behaviours[0].viral_items, 1);
    c.viral = 50;
    c.popular = 50;
    let d = run(c, &posts);
    assert_eq!(d.edges.len(), 50 * 49 / 2);
    assert_eq!(d.stats.behaviours[0].viral_items, 0);
}

#[test]
fn popular_items_weigh_less_by_rarity() {
    let c = Config {
        popular: 10,
        ..Config::default()
    };
    assert_eq!(c.item_weight(2, 1_000_000), 1.0);
    assert_eq!(c.item_weight(10, 1_000_000), 1.0);
    let w100 = c.item_weight(100, 1_000_000);
    let w1000 = c.item_weight(1000, 1_000_000);
    assert!((w100 - (10_000f64).ln() / (100_000f64).ln()).abs() < 1e-6);
    assert!(w1000 < w100 && w100 < 1.0);
    assert_eq!(c.item_weight(1_000_000, 1_000_000), 0.0);
    assert_eq!(
        c.item_weight(15, 15),
        0.0,
        "an item every active account acted on"
    );
}

#[test]
fn links_compare_canonically_and_by_domain_on_request() {
    let mut a = post("x", "a", "1", 0.0);
    a.urls = vec!["HTTP://Example.COM/vote#top".into(), "".into()];
    let mut b = post("fb", "b", "2", 10.0);
    b.urls = vec![
        "http://example.com/vote".into(),
        "http://example.com/vote".into(),
    ];
    let mut c = post("x", "c", "3", 20.0);
    c.urls = vec!["https://news.example.com/other".into()];
    let mut d = post("x", "d", "4", 30.0);
    d.urls = vec!["https://news.example.com/other?id=7&utm_source=tw&fbclid=abc".into()];
    let mut e = post("x", "e", "5", 31.0);
    e.urls = vec!["https://news.example.com/other?UTM_MEDIUM=x&id=7".into()];
    let posts = vec![a, b, c, d, e];
    check(
        config(&[Behaviour::CoLink], 60, 1.0),
        &posts,
        &[
            ("co-link", "fb:b", "x:a", 1.0),
            ("co-link", "x:d", "x:e", 1.0),
        ],
    );
    let mut by_domain = config(&[Behaviour::CoLink], 60, 1.0);
    by_domain.link_domain = true;
    check(
        by_domain,
        &posts,
        &[
            ("co-link", "fb:b", "x:a", 1.0),
            ("co-link", "fb:b", "x:c", 1.0),
            ("co-link", "fb:b", "x:d", 1.0),
            ("co-link", "fb:b", "x:e", 1.0),
            ("co-link", "x:a", "x:c", 1.0),
            ("co-link", "x:a", "x:d", 1.0),
            ("co-link", "x:a", "x:e", 1.0),
            ("co-link", "x:c", "x:d", 1.0),
            ("co-link", "x:c", "x:e", 1.0),
            ("co-link", "x:d", "x:e", 1.0),
        ],
    );
}

#[test]
fn empty_fields_are_no_items() {
    // The failure of tools that read an empty cell as the value "": every post without a
    // link would share the link "" with every other.
    let mut posts = Vec::new();
    for (i, acc) in ["a", "b", "c"].iter().enumerate() {
        let mut p = post("x", acc, &i.to_string(), i as f64);
        p.urls = vec![String::new(), " ".into()];
        p.repost_of = Some(String::new());
        p.reply_to = Some("  ".into());
        p.text = Some("   ".into());
        p.hashtags = vec![String::new(), "#".into()];
        posts.push(p);
    }
    let d = run(config(&Behaviour::ALL, 60, 1.0), &posts);
    assert!(d.edges.is_empty());
    assert!(
        d.stats.behaviours.iter().all(|b| b.actions == 0),
        "{:?}",
        d.stats
    );
}

#[test]
fn texts_match_after_normalisation_and_reposts_do_not_count_as_text_or_links() {
    let mut a = post("x", "a", "1", 0.0);
    a.text = Some("@bob VOTE early   at https://t.example/x the hall".into());
    let mut b = post("x", "b", "2", 5.0);
    b.text = Some("vote early at the hall".into());
    let mut c = post("x", "c", "3", 6.0);
    c.text = Some("vote early at the hall".into());
    c.urls = vec!["https://t.example/x".into()];
    c.repost_of = Some("1".into());
    let mut d = post("x", "d", "4", 7.0);
    d.urls = vec!["https://t.example/x".into()];
    check(
        config(&[Behaviour::CoText, Behaviour::CoLink], 60, 1.0),
        &[a, b, c, d],
        &[("co-text", "x:a", "x:b", 1.0)],
    );
}

#[test]
fn near_duplicate_texts_co_act_and_different_texts_do_not() {
    let base = "the count in the northern district was rigged by officials last night";
    let texts = [
        base.to_owned(),
        base.replace("rigged", "stolen"),
        base.replace("last night", "yesterday night"),
        "completely different words about the weather and the football match".to_owned(),
    ];
    let posts: Vec<Post> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut p = post("x", &format!("u{i}"), &i.to_string(), i as f64);
            p.text = Some(t.clone());
            p
        })
        .collect();
    let d = run(config(&[Behaviour::CoSimilarText], 60, 1.0), &posts);
    let got = edges(&d);
    assert_eq!(
        got.iter()
            .map(|e| (e.1.as_str(), e.2.as_str()))
            .collect::<Vec<_>>(),
        [("x:u0", "x:u1"), ("x:u0", "x:u2"), ("x:u1", "x:u2")]
    );
    let mut strict = config(&[Behaviour::CoSimilarText], 60, 1.0);
    strict.similarity = 0.95;
    assert!(run(strict, &posts).edges.is_empty());
}

#[test]
fn near_identical_images_co_act_within_the_distance() {
    let mut base = [0u8; 32];
    for (i, b) in base.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let flip = |bits: usize| {
        let mut h = base;
        for k in 0..bits {
            h[k / 8] ^= 1 << (k % 8);
        }
        h
    };
    let hashes = [base, flip(31), flip(40)];
    let posts: Vec<Post> = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut p = post("x", &format!("u{i}"), &i.to_string(), i as f64);
            p.media = vec![*h, *h];
            p
        })
        .collect();
    let d = run(config(&[Behaviour::CoMedia], 60, 1.0), &posts);
    // u1 is 31 bits from u0; u2 is 40 from u0 and 9 from u1, so all three are one image
    // through u1.
    assert_eq!(d.edges.len(), 3);
    let mut c = config(&[Behaviour::CoMedia], 60, 1.0);
    c.pdq_distance = 8;
    assert!(run(c, &posts).edges.is_empty());
    // Images far apart are different items wherever in the hash they differ: here in
    // 32 bits of one stretch of four bytes, for each such stretch.
    for at in (0..32).step_by(4) {
        let mut far = base;
        for b in &mut far[at..at + 4] {
            *b ^= 0xff;
        }
        let mut posts = vec![post("x", "u0", "0", 0.0), post("x", "u1", "1", 1.0)];
        posts[0].media = vec![base];
        posts[1].media = vec![far];
        let d = run(config(&[Behaviour::CoMedia], 60, 1.0), &posts);
        assert!(d.edges.is_empty(), "bytes {at}..{}", at + 4);
    }
}

#[test]
fn hashtag_sets_and_replies_are_items() {
    let mut posts = Vec::new();
    for (i, acc) in ["a", "b"].iter().enumerate() {
        let mut p = post("x", acc, &format!("h{i}"), i as f64);
        p.hashtags = if i == 0 {
            vec!["#Vote".into(), "#Now".into()]
        } else {
            vec!["now".into(), "VOTE".into()]
        };
        p.reply_to = Some("root".into());
        posts.push(p);
    }
    // The same reply target on another platform is another post.
    let mut other = post("fb", "c", "h2", 2.0);
    other.reply_to = Some("root".into());
    posts.push(other);
    check(
        config(&[Behaviour::CoHashtag, Behaviour::CoReply], 60, 1.0),
        &posts,
        &[
            ("co-hashtag", "x:a", "x:b", 1.0),
            ("co-reply", "x:a", "x:b", 1.0),
        ],
    );
}

#[test]
fn evidence_names_the_closest_posts_of_each_account_for_every_item() {
    let mut posts = Vec::new();
    posts.extend(reposts("b", &[("p1", 100.0), ("p2", 900.0)]));
    posts.extend(reposts("a", &[("p1", 130.0), ("p1", 101.0), ("p2", 950.0)]));
    let d = run(config(&[Behaviour::CoRepost], 60, 2.0), &posts);
    assert_eq!(d.edges.len(), 1);
    let e = &d.edges[0];
    assert_eq!(d.accounts[e.a as usize].id, "a");
    let ev: Vec<(String, &str, &str, i64, i64)> = e
        .evidence
        .iter()
        .map(|v| {
            (
                d.items[v.item as usize].value.clone(),
                v.post_a.id.as_str(),
                v.post_b.id.as_str(),
                v.post_a.time_ms,
                v.post_b.time_ms,
            )
        })
        .collect();
    assert_eq!(
        ev,
        [
            ("x:p1".to_owned(), "a-1", "b-0", 101_000, 100_000),
            ("x:p2".to_owned(), "a-2", "b-1", 950_000, 900_000),
        ]
    );
    assert_eq!(d.clusters.len(), 1);
    let c = &d.clusters[0];
    assert_eq!(c.members, [0, 1]);
    assert_eq!((c.first_ms, c.last_ms), (100_000, 950_000));
    assert_eq!(c.behaviours, [Behaviour::CoRepost]);
}

#[test]
fn a_cross_platform_group_is_one_cluster_and_separate_groups_are_separate() {
    let mut posts = Vec::new();
    let mut n = 0;
    for (group, members) in [
        vec![("x", "a1"), ("fb", "a2"), ("x", "a3")],
        vec![("x", "b1"), ("x", "b2"), ("x", "b3"), ("x", "b4")],
    ]
    .iter()
    .enumerate()
    {
        for event in 0..6 {
            for (k, (platform, acc)) in members.iter().enumerate() {
                let mut p = post(
                    platform,
                    acc,
                    &format!("p{n}"),
                    f64::from(event) * 3600.0 + k as f64,
                );
                n += 1;
                p.urls = vec![format!("https://g{group}.example/{event}")];
                posts.push(p);
            }
        }
    }
    let d = run(config(&[Behaviour::CoLink], 60, 5.0), &posts);
    assert_eq!(d.edges.len(), 3 + 6);
    assert_eq!(d.clusters.len(), 2);
    let big = &d.clusters[0];
    assert_eq!(big.members.len(), 4, "heaviest first");
    let small = &d.clusters[1];
    assert_eq!(small.platforms, ["fb", "x"]);
    assert_eq!(small.items.len(), 6);
    assert_eq!(small.edges.len(), 3);
}

/// The definitions read literally: every pair of actions, every item.
fn brute_force(config: &Config, posts: &[Post]) -> BTreeMap<(String, String, String), f64> {
    let mut out = BTreeMap::new();
    for &behaviour in &config.behaviours {
        let items = |p: &Post| -> Vec<String> {
            match behaviour {
                Behaviour::CoRepost => p
                    .repost_of
                    .iter()
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| format!("{}:{}", p.platform, t.trim()))
                    .collect(),
                Behaviour::CoHashtag if p.repost_of.is_none() => {
                    accord_coord::text::hashtag_set(&p.hashtags)
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            }
        };
        let key = |p: &Post| format!("{}:{}", p.platform, p.account);
        let mut accounts_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut active = BTreeSet::new();
        for p in posts {
            for i in items(p) {
                accounts_of.entry(i).or_default().insert(key(p));
                active.insert(key(p));
            }
        }
        // An action's burst: the item's times sorted, a new burst after every gap longer
        // than the window; named by the burst's first time.
        let mut times_of: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for p in posts {
            for i in items(p) {
                times_of.entry(i).or_default().push(p.time_ms);
            }
        }
        for times in times_of.values_mut() {
            times.sort_unstable();
        }
        let burst = |item: &str, t: i64| -> i64 {
            let times = &times_of[item];
            let mut start = times[0];
            for w in times.windows(2) {
                if w[1] > t {
                    break;
                }
                if w[1] - w[0] > config.window_ms {
                    start = w[1];
                }
            }
            start
        };
        let mut actions_of: BTreeMap<String, u32> = BTreeMap::new();
        for p in posts {
            *actions_of.entry(key(p)).or_default() += items(p).len() as u32;
        }
        let mut pair_episodes: BTreeMap<(String, String), BTreeSet<(String, i64)>> =
            BTreeMap::new();
        for x in posts {
            for y in posts {
                if key(x) >= key(y) || (x.time_ms - y.time_ms).abs() > config.window_ms {
                    continue;
                }
                for i in items(x) {
                    if items(y).contains(&i) && accounts_of[&i].len() as u32 <= config.viral {
                        let episode = (i.clone(), burst(&i, x.time_ms.min(y.time_ms)));
                        pair_episodes
                            .entry((key(x), key(y)))
                            .or_default()
                            .insert(episode);
                    }
                }
            }
        }
        for ((a, b), episodes) in pair_episodes {
            let w: f64 = episodes
                .iter()
                .map(|(i, _)| config.item_weight(accounts_of[i].len() as u32, active.len() as u64))
                .sum();
            let fewer = actions_of[&a].min(actions_of[&b]);
            let overlap = episodes.len() as f64 / f64::from(fewer);
            if w >= config.min_weight && overlap >= config.min_overlap {
                out.insert((behaviour.name().to_owned(), a, b), w);
            }
        }
    }
    out
}

#[test]
fn randomised_detection_equals_the_definitions_read_literally() {
    for seed in 0..40u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let accounts = rng.random_range(2..25);
        let items = rng.random_range(1..15);
        let n = rng.random_range(1..200);
        let posts: Vec<Post> = (0..n)
            .map(|i| {
                let platform = if rng.random_bool(0.2) { "fb" } else { "x" };
                let mut p = post(
                    platform,
                    &format!("u{}", rng.random_range(0..accounts)),
                    &format!("{i}"),
                    f64::from(rng.random_range(0..600u32)),
                );
                if rng.random_bool(0.6) {
                    p.repost_of = Some(format!("t{}", rng.random_range(0..items)));
                } else {
                    p.hashtags = (0..rng.random_range(0..3))
                        .map(|_| format!("#T{}", rng.random_range(0..4)))
                        .collect();
                }
                p
            })
            .collect();
        let config = Config {
            behaviours: vec![Behaviour::CoRepost, Behaviour::CoHashtag],
            window_ms: i64::from(rng.random_range(0..120u32)) * 1000,
            min_weight: [0.5, 1.0, 1.5, 2.0, 3.0][rng.random_range(0..5)],
            min_overlap: [0.0, 0.1, 0.3, 0.5][rng.random_range(0..4)],
            popular: rng.random_range(1..6),
            viral: rng.random_range(2..30),
            threads: rng.random_range(1..4),
            ..Config::default()
        };
        let want = brute_force(&config, &posts);
        let d = run(config.clone(), &posts);
        let got: BTreeMap<(String, String, String), f64> = d
            .edges
            .iter()
            .map(|e| {
                (
                    (
                        e.behaviour.name().to_owned(),
                        d.accounts[e.a as usize].key(),
                        d.accounts[e.b as usize].key(),
                    ),
                    e.weight,
                )
            })
            .collect();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "seed {seed}, {config:?}"
        );
        for (k, w) in &want {
            assert!(
                (got[k] - w).abs() < 1e-3,
                "seed {seed}: {k:?} {} vs {w}",
                got[k]
            );
        }
        // Every edge has one evidence entry per episode, each within the window and by
        // the right accounts.
        for e in &d.edges {
            let weight: f64 = e
                .evidence
                .iter()
                .map(|v| d.items[v.item as usize].weight)
                .sum();
            assert_eq!(weight, e.weight, "seed {seed}");
            for v in &e.evidence {
                assert!((v.post_a.time_ms - v.post_b.time_ms).abs() <= config.window_ms);
                let by = |id: &str| posts.iter().find(|p| p.id == id).unwrap();
                let (pa, pb) = (by(&v.post_a.id), by(&v.post_b.id));
                assert_eq!(
                    format!("{}:{}", pa.platform, pa.account),
                    d.accounts[e.a as usize].key()
                );
                assert_eq!(
                    format!("{}:{}", pb.platform, pb.account),
                    d.accounts[e.b as usize].key()
                );
            }
        }
        // The number of threads changes nothing, nor that of the pool they run on.
        let single = run(
            Config {
                threads: 1,
                ..config.clone()
            },
            &posts,
        );
        assert_eq!(single, d, "seed {seed}");
        let pool = seed as usize % 3 + 1;
        let pooled = accord_coord::on_threads(pool, || run(config.clone(), &posts));
        assert_eq!(pooled, d, "seed {seed}, a pool of {pool}");
    }
}

#[test]
fn work_runs_on_a_pool_of_the_threads_asked_for() {
    for threads in [1, 2, 3] {
        let (inside, names) = accord_coord::on_threads(threads, || {
            let name = std::thread::current().name().map(str::to_owned);
            (rayon::current_num_threads(), name)
        });
        assert_eq!(inside, threads);
        assert!(names.is_some_and(|n| n.starts_with("accord-coord-")));
    }
    // Zero is taken as one.
    assert_eq!(accord_coord::on_threads(0, rayon::current_num_threads), 1);
}
