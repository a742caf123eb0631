//! The dataset: a day of posts on three synthetic platforms, organic activity with planted
//! coordinated groups, written for both tools, with the truth beside it.
//!
//! **Organic activity.** Accounts post in proportion to a heavy-tailed weight (Pareto, tail
//! index 1.1, capped), so a few post hundreds of times a day and most a handful. Times follow
//! a day's rhythm (fewest posts at 04:00, most at 16:00). Items many people act on are
//! made item by item, each with a size (Pareto, from 3 accounts up to a cap that grows with
//! the dataset) and a burst (a start time and an exponential decay of 10 minutes to 3 hours):
//! popular posts (reposted and replied to), popular links, memes (one picture re-encoded:
//! PDQ hashes a few bits apart) and copypasta (a long text edited a word or two by each
//! poster). Everything else is unique: ordinary texts, long-tail links, fresh images, with
//! hashtags drawn from a skewed vocabulary and short phrases ("good morning", "lol") that
//! thousands post word for word. So organic accounts co-act by chance, most of all the busy
//! ones on popular items, which is what makes precision a test.
//!
//! **Planted groups**, per behaviour: 10–40 accounts picked at random among the organic ones
//! (their own activity stays), 10–20 events across the day, each on a new item of that
//! behaviour, the members acting within 5–40 s of the event's start. A member sits out an
//! event now and then but never more than a fifth of them, so any two members share at
//! least three fifths of the events: at least 6, above a minimum weight of 5. Some groups
//! span two platforms (co-link, co-text, co-similar-text, co-media, co-hashtag).
//!
//! **Viral stress** (on top of the same organic and planted data): 20,000 fans repost five
//! viral posts and share one viral link within an hour of each, each fan with a latency of
//! its own (so the quick ones meet again and again), and one more post is reposted by
//! 100,000 accounts within an hour.
//!
//! Every post is written twice, in Accord's CSV and in coordination-network-toolkit's CSV,
//! with the same post ids (unique across platforms) and times, in time order.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::rng::{Alias, Rng};
use crate::words;

/// Midnight UTC on the day the posts are made, 2026-03-02.
pub const DAY0: u64 = 1_772_409_600;
const DAY: u32 = 86_400;
const NONE: u32 = u32::MAX;

/// Platforms and their share of organic posts.
pub const PLATFORMS: [(&str, f64); 3] = [("x", 0.5), ("facebook", 0.3), ("telegram", 0.2)];

/// Behaviours, in the order they are reported.
pub const BEHAVIOURS: [&str; 7] = [
    "co-link",
    "co-text",
    "co-similar-text",
    "co-media",
    "co-repost",
    "co-reply",
    "co-hashtag",
];

/// Bumped whenever the same seed would give different files, so cached datasets are remade.
pub const VERSION: u32 = 1;

/// What to make.
#[derive(Clone, Debug)]
pub struct Params {
    /// Organic and planted posts (the viral-stress posts come on top).
    pub rows: u64,
    /// Add the viral-stress posts.
    pub viral: bool,
    pub seed: u64,
    /// Write `posts.cnt.csv` too.
    pub toolkit_file: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Original,
    Repost,
    Reply,
}

struct Row {
    t: u32,
    account: u32,
    target: u32,
    media: u32,
    platform: u8,
    kind: Kind,
    text: Box<str>,
    urls: Box<str>,
    tags: Box<str>,
}

/// A planted account: behaviour, group, platform, account.
struct Truth {
    behaviour: &'static str,
    group: String,
    platform: u8,
    account: u32,
}

/// What was made, for the log and the report.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub rows: u64,
    pub accounts: u64,
    pub planted_rows: u64,
    pub viral_rows: u64,
    /// Per behaviour: groups, accounts.
    pub groups: Vec<(String, usize, usize)>,
}

struct World {
    rng: Rng,
    rows: Vec<Row>,
    media: Vec<[u8; 32]>,
    /// Per platform: account weights, and the sampler over them.
    weights: Vec<Vec<f64>>,
    samplers: Vec<Alias>,
    platform_pick: Alias,
    /// Per platform: accounts already planted or made fans, never picked again for either.
    taken: Vec<Vec<bool>>,
    /// Per platform: row indices of original posts (repost and reply targets).
    originals: Vec<Vec<u32>>,
    truth: Vec<Truth>,
    next_unique: u64,
    tags: Alias,
}

/// A time of day, following the day's rhythm: fewest posts at 04:00, most at 16:00.
fn diurnal(rng: &mut Rng) -> u32 {
    loop {
        let t = rng.unit() * f64::from(DAY);
        let hour = t / 3600.0;
        let density = 1.0 + 0.75 * ((hour - 10.0) / 24.0 * std::f64::consts::TAU).sin();
        if rng.unit() * 1.75 < density {
            return t as u32;
        }
    }
}

impl World {
    fn new(params: &Params) -> World {
        let rng = Rng::new(params.seed);
        let mut arng = rng.fork(1);
        let mut weights = Vec::new();
        let mut samplers = Vec::new();
        for (_, share) in PLATFORMS {
            let n = ((params.rows as f64 * share / 12.0) as usize).max(300);
            let w: Vec<f64> = (0..n).map(|_| arng.pareto(1.0, 1.1).min(300.0)).collect();
            samplers.push(Alias::new(&w));
            weights.push(w);
        }
        let taken = weights.iter().map(|w| vec![false; w.len()]).collect();
        // Hashtags: a skewed vocabulary (Zipf, exponent 1.05), the first ones used by everyone.
        let tag_weights: Vec<f64> = (1..=20_000).map(|k| f64::from(k).powf(-1.05)).collect();
        World {
            rows: Vec::with_capacity(params.rows as usize + 1024),
            media: Vec::new(),
            weights,
            samplers,
            platform_pick: Alias::new(&PLATFORMS.map(|(_, s)| s)),
            taken,
            originals: vec![Vec::new(); PLATFORMS.len()],
            truth: Vec::new(),
            next_unique: 0,
            tags: Alias::new(&tag_weights),
            rng,
        }
    }

    fn unique(&mut self) -> u64 {
        self.next_unique += 1;
        self.next_unique
    }

    fn push(&mut self, row: Row) -> u32 {
        let i = self.rows.len() as u32;
        if row.kind == Kind::Original {
            self.originals[usize::from(row.platform)].push(i);
        }
        self.rows.push(row);
        i
    }

    fn media(&mut self, hash: [u8; 32]) -> u32 {
        self.media.push(hash);
        (self.media.len() - 1) as u32
    }

    fn original(&mut self, t: u32, platform: u8, account: u32, text: String) -> Row {
        Row {
            t,
            account,
            target: NONE,
            media: NONE,
            platform,
            kind: Kind::Original,
            text: text.into(),
            urls: "".into(),
            tags: "".into(),
        }
    }

    fn sentence(rng: &mut Rng) -> String {
        let mut s = String::with_capacity(64);
        words::sentence(rng, 5, 18, &mut s);
        s
    }

    /// Hashtag number `k` of the vocabulary, with its `#`.
    fn tag(k: usize) -> String {
        let n = words::WORDS.len();
        let ascii = |i: usize| {
            let w = words::WORDS[i % n];
            if w.is_ascii() { w } else { "news" }
        };
        if k < n {
            format!("#{}", ascii(k))
        } else {
            format!("#{}{}{}", ascii(k % n), ascii(k / n * 7 + 3), k / (n * n))
        }
    }

    fn account(&mut self, platform: u8, rng: &mut Rng) -> u32 {
        self.samplers[usize::from(platform)].sample(rng) as u32
    }

    /// An account nobody planted or made a fan yet, picked uniformly (so mostly a quiet one).
    fn free_account(&mut self, platform: u8, rng: &mut Rng) -> u32 {
        let p = usize::from(platform);
        loop {
            let a = rng.index(self.taken[p].len());
            if !self.taken[p][a] {
                self.taken[p][a] = true;
                return a as u32;
            }
        }
    }

    /// New accounts on a platform (for the viral crowd); returns the first.
    fn new_accounts(&mut self, platform: u8, n: usize) -> u32 {
        let p = usize::from(platform);
        let first = self.weights[p].len() as u32;
        self.weights[p].extend(std::iter::repeat_n(1.0, n));
        self.taken[p].extend(std::iter::repeat_n(true, n));
        first
    }
}

/// Makes the dataset in memory and writes `posts.csv`, `posts.cnt.csv`, `truth.csv` and
/// `summary.txt` into `dir`.
pub fn generate(params: &Params, dir: &Path) -> Result<Summary> {
    let mut w = World::new(params);
    let mut summary = Summary::default();
    plant(&mut w, params, &mut summary);
    summary.planted_rows = w.rows.len() as u64;
    if params.viral {
        viral(&mut w);
        summary.viral_rows = w.rows.len() as u64 - summary.planted_rows;
    }
    let organic = params.rows.saturating_sub(summary.planted_rows);
    organic_rows(&mut w, params, organic);
    summary.rows = w.rows.len() as u64;
    summary.accounts = write(&w, dir, params.toolkit_file)?;
    let mut text = format!(
        "rows {}\naccounts {}\nplanted_rows {}\nviral_rows {}\nseed {}\nversion {}\nparams {} {}\n",
        summary.rows,
        summary.accounts,
        summary.planted_rows,
        summary.viral_rows,
        params.seed,
        VERSION,
        params.rows,
        params.viral
    );
    for (b, g, a) in &summary.groups {
        let _ = writeln!(text, "groups {b} {g} {a}");
    }
    std::fs::write(dir.join("summary.txt"), text)?;
    Ok(summary)
}

/// Reads back the summary of a dataset made earlier, with the seed, the generator's
/// version and the parameters (rows, viral) it was made with.
pub fn read_summary(dir: &Path) -> Option<(Summary, u64, u32, u64, bool)> {
    let text = std::fs::read_to_string(dir.join("summary.txt")).ok()?;
    let mut s = Summary::default();
    let (mut seed, mut version, mut params) = (None, None, None);
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            ["rows", v] => s.rows = v.parse().ok()?,
            ["accounts", v] => s.accounts = v.parse().ok()?,
            ["planted_rows", v] => s.planted_rows = v.parse().ok()?,
            ["viral_rows", v] => s.viral_rows = v.parse().ok()?,
            ["seed", v] => seed = v.parse().ok(),
            ["version", v] => version = v.parse().ok(),
            ["params", r, v] => params = Some((r.parse().ok()?, v.parse().ok()?)),
            ["groups", b, g, a] => s
                .groups
                .push((b.to_string(), g.parse().ok()?, a.parse().ok()?)),
            _ => {}
        }
    }
    let (rows, viral) = params?;
    Some((s, seed?, version?, rows, viral))
}

/// The planted groups, their events and their targets.
fn plant(w: &mut World, params: &Params, summary: &mut Summary) {
    let groups = ((8.0 * (params.rows as f64 / 1e6).sqrt()).round() as usize).clamp(3, 30);
    for (bi, &behaviour) in BEHAVIOURS.iter().enumerate() {
        let mut rng = w.rng.fork(100 + bi as u64);
        let mut accounts = 0;
        for g in 0..groups {
            let name = format!("{behaviour}-{}", g + 1);
            let size = rng.between(10, 40) as usize;
            let events = rng.between(10, 20) as usize;
            let spread = rng.between(5, 40);
            let cross = g % 2 == 1
                && matches!(
                    behaviour,
                    "co-link" | "co-text" | "co-similar-text" | "co-media" | "co-hashtag"
                );
            let p1 = w.platform_pick.sample(&mut rng) as u8;
            let p2 = (p1 + 1 + rng.below(2) as u8) % 3;
            let members: Vec<(u8, u32)> = (0..size)
                .map(|i| {
                    let p = if cross && i % 5 >= 3 { p2 } else { p1 };
                    (p, w.free_account(p, &mut rng))
                })
                .collect();
            accounts += members.len();
            for &(platform, account) in &members {
                w.truth.push(Truth {
                    behaviour,
                    group: name.clone(),
                    platform,
                    account,
                });
                if behaviour == "co-text" {
                    // The same text is also a near-duplicate (Jaccard 1).
                    w.truth.push(Truth {
                        behaviour: "co-similar-text",
                        group: name.clone(),
                        platform,
                        account,
                    });
                }
            }
            let max_skips = events / 5;
            let mut skips = vec![0usize; size];
            let campaign_domain = format!(
                "{}{}.example",
                words::WORDS[rng.index(200)].trim_matches(|c: char| !c.is_ascii_alphabetic()),
                rng.below(1000)
            );
            let campaign_tag = format!("#{}{}", words::WORDS[100 + rng.index(300)], rng.below(100));
            let campaign_tag =
                campaign_tag.replace(|c: char| !c.is_ascii_alphanumeric() && c != '#', "");
            for e in 0..events {
                let t0 = 1800 + rng.below(u64::from(DAY - 3600 - spread)) as u32;
                let item = ItemForEvent::new(
                    behaviour,
                    w,
                    &mut rng,
                    t0,
                    p1,
                    e,
                    &campaign_domain,
                    &campaign_tag,
                );
                let mut combos: Vec<usize> = (0..64).collect();
                for (m, &(platform, account)) in members.iter().enumerate() {
                    if skips[m] < max_skips && rng.chance(0.12) {
                        skips[m] += 1;
                        continue;
                    }
                    let t = t0 + rng.between(0, spread);
                    let row = item.row(w, &mut rng, t, platform, account, &mut combos);
                    w.push(row);
                }
            }
        }
        summary
            .groups
            .push((behaviour.to_string(), groups, accounts));
    }
}

/// The item one event of a planted group acts on.
enum ItemForEvent {
    Link(String),
    Text(String),
    Similar {
        words: Vec<&'static str>,
        slots: [usize; 2],
        alts: [Vec<&'static str>; 2],
    },
    Media([u8; 32]),
    Target(u32, Kind),
    Tags(String),
}

impl ItemForEvent {
    #[allow(clippy::too_many_arguments)]
    fn new(
        behaviour: &str,
        w: &mut World,
        rng: &mut Rng,
        t0: u32,
        platform: u8,
        event: usize,
        domain: &str,
        tag: &str,
    ) -> ItemForEvent {
        match behaviour {
            "co-link" => {
                let mut url = format!("https://{domain}/");
                words::slug(rng, w.unique(), &mut url);
                ItemForEvent::Link(url)
            }
            "co-text" => {
                let mut s = String::new();
                words::sentence(rng, 10, 16, &mut s);
                ItemForEvent::Text(s)
            }
            "co-similar-text" => {
                // 18–24 distinct words, two of them slots with 8 alternatives each: any two
                // posts differ in at most two words, so their word sets have Jaccard at
                // least (n-2)/(n+2) >= 0.8.
                let n = rng.between(18, 24) as usize;
                let all = words::distinct_words(rng, n + 14);
                let words = all[..n].to_vec();
                let s1 = rng.index(n);
                let mut s2 = rng.index(n);
                while s2 == s1 {
                    s2 = rng.index(n);
                }
                let mut a1 = vec![words[s1]];
                a1.extend_from_slice(&all[n..n + 7]);
                let mut a2 = vec![words[s2]];
                a2.extend_from_slice(&all[n + 7..n + 14]);
                ItemForEvent::Similar {
                    words,
                    slots: [s1, s2],
                    alts: [a1, a2],
                }
            }
            "co-media" => ItemForEvent::Media(rng.hash()),
            "co-repost" | "co-reply" => {
                let author = w.account(platform, rng);
                let t = t0.saturating_sub(rng.between(60, 1800));
                let text = World::sentence(rng);
                let row = w.original(t, platform, author, text);
                let kind = if behaviour == "co-repost" {
                    Kind::Repost
                } else {
                    Kind::Reply
                };
                ItemForEvent::Target(w.push(row), kind)
            }
            _ => {
                // co-hashtag: the campaign's tag, one for the event, and now and then a
                // popular one: a set no one else uses.
                let mut tags = format!("{tag} {tag}x{event}");
                if rng.chance(0.5) {
                    tags.push(' ');
                    tags.push_str(&World::tag(rng.index(20)));
                }
                ItemForEvent::Tags(tags)
            }
        }
    }

    fn row(
        &self,
        w: &mut World,
        rng: &mut Rng,
        t: u32,
        platform: u8,
        account: u32,
        combos: &mut Vec<usize>,
    ) -> Row {
        match self {
            ItemForEvent::Link(url) => {
                let mut r = w.original(t, platform, account, World::sentence(rng));
                r.urls = url.as_str().into();
                r
            }
            ItemForEvent::Text(text) => {
                // A mention in front now and then: both tools strip mentions.
                let text = if rng.chance(0.3) {
                    format!("@{}{} {text}", words::word(rng), rng.below(1000))
                } else {
                    text.clone()
                };
                w.original(t, platform, account, text)
            }
            ItemForEvent::Similar { words, slots, alts } => {
                // A combination of the two slots no other member of this event has.
                let c = combos.swap_remove(rng.index(combos.len()));
                let mut out = String::new();
                for (i, word) in words.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let word = if i == slots[0] {
                        alts[0][c % 8]
                    } else if i == slots[1] {
                        alts[1][c / 8]
                    } else {
                        word
                    };
                    out.push_str(word);
                }
                w.original(t, platform, account, out)
            }
            ItemForEvent::Media(base) => {
                let d = rng.between(0, 6);
                let hash = rng.flip(base, d);
                let mut r = w.original(t, platform, account, World::sentence(rng));
                r.media = w.media(hash);
                r
            }
            ItemForEvent::Target(target, kind) => {
                let kind = *kind;
                let text = if kind == Kind::Reply {
                    World::sentence(rng)
                } else {
                    String::new()
                };
                Row {
                    t,
                    account,
                    target: *target,
                    media: NONE,
                    platform,
                    kind,
                    text: text.into(),
                    urls: "".into(),
                    tags: "".into(),
                }
            }
            ItemForEvent::Tags(tags) => {
                let mut text = World::sentence(rng);
                text.push(' ');
                text.push_str(tags);
                let mut r = w.original(t, platform, account, text);
                r.tags = tags.as_str().into();
                r
            }
        }
    }
}

/// The viral-stress posts on platform x.
fn viral(w: &mut World) {
    let mut rng = w.rng.fork(7);
    let platform = 0u8;
    let fans = 20_000usize;
    let mut fan_ids = Vec::with_capacity(fans);
    let free = w.taken[0].iter().filter(|t| !**t).count();
    let existing = fans.min(free.saturating_sub(1000));
    for _ in 0..existing {
        fan_ids.push(w.free_account(platform, &mut rng));
    }
    let first = w.new_accounts(platform, fans - existing);
    fan_ids.extend((0..(fans - existing) as u32).map(|i| first + i));
    // Each fan's own latency: median 6 minutes, a few seconds to 55 minutes.
    let latency: Vec<f64> = fan_ids
        .iter()
        .map(|_| (360f64.ln() + rng.normal()).exp().clamp(3.0, 3300.0))
        .collect();
    let author = w.account(platform, &mut rng);
    for (j, hour) in [9.5, 12.0, 14.5, 17.0, 20.0].into_iter().enumerate() {
        let t0 = (hour * 3600.0) as u32;
        let mut text = format!("BREAKING ({}): ", j + 1);
        words::sentence(&mut rng, 8, 14, &mut text);
        let row = w.original(t0, platform, author, text);
        let target = w.push(row);
        for (f, &fan) in fan_ids.iter().enumerate() {
            if !rng.chance(0.95) {
                continue;
            }
            let t =
                f64::from(t0) + latency[f] * (1.0 + 0.05 * rng.normal()) + rng.unit() * 10.0 - 5.0;
            let t = (t.max(f64::from(t0) + 1.0)) as u32;
            w.push(Row {
                t,
                account: fan,
                target,
                media: NONE,
                platform,
                kind: Kind::Repost,
                text: "".into(),
                urls: "".into(),
                tags: "".into(),
            });
        }
    }
    // The viral link, shared by the fans in posts of their own.
    let link_t0 = 11 * 3600;
    let mut url = "https://dailynews.example/breaking/".to_string();
    words::slug(&mut rng, 0, &mut url);
    for (f, &fan) in fan_ids.iter().enumerate() {
        if !rng.chance(0.95) {
            continue;
        }
        let t =
            f64::from(link_t0) + latency[f] * (1.0 + 0.05 * rng.normal()) + rng.unit() * 10.0 - 5.0;
        let mut r = w.original(
            t.max(f64::from(link_t0) + 1.0) as u32,
            platform,
            fan,
            World::sentence(&mut rng),
        );
        r.urls = url.as_str().into();
        w.push(r);
    }
    // One post reposted by 100,000 accounts within the hour: the fans and 80,000 more.
    let t0 = 15 * 3600 + 1800;
    let mut text = "BREAKING: ".to_string();
    words::sentence(&mut rng, 8, 14, &mut text);
    let row = w.original(t0, platform, author, text);
    let target = w.push(row);
    let crowd = 100_000 - fans;
    let first = w.new_accounts(platform, crowd);
    for account in fan_ids
        .iter()
        .copied()
        .chain((0..crowd as u32).map(|i| first + i))
    {
        let mut d = rng.exp(900.0);
        while d >= 3599.0 {
            d = rng.exp(900.0);
        }
        w.push(Row {
            t: t0 + 1 + d as u32,
            account,
            target,
            media: NONE,
            platform,
            kind: Kind::Repost,
            text: "".into(),
            urls: "".into(),
            tags: "".into(),
        });
    }
}

/// The decay of a burst: 10 minutes to 3 hours, evenly on a log scale.
fn burst(rng: &mut Rng) -> f64 {
    (600f64.ln() + rng.unit() * (10_800f64 / 600.0).ln()).exp()
}

/// A reply's text: a stock phrase a third of the time, else an ordinary text.
fn reply_text(rng: &mut Rng, phrases: &Alias) -> String {
    if rng.chance(0.35) {
        words::PHRASES[phrases.sample(rng)].to_string()
    } else {
        World::sentence(rng)
    }
}

fn repost_or_reply(t: u32, platform: u8, account: u32, target: u32, text: Option<String>) -> Row {
    Row {
        t,
        account,
        target,
        media: NONE,
        platform,
        kind: if text.is_some() {
            Kind::Reply
        } else {
            Kind::Repost
        },
        text: text.unwrap_or_default().into(),
        urls: "".into(),
        tags: "".into(),
    }
}

/// Organic posts, `budget` of them: 45% originals, 40% reposts, 15% replies.
fn organic_rows(w: &mut World, params: &Params, budget: u64) {
    let mut rng = w.rng.fork(3);
    let rows = params.rows as f64;
    let originals_total = (0.45 * budget as f64) as u64;
    let reposts_total = (0.40 * budget as f64) as u64;
    let replies_total = budget - originals_total - reposts_total;
    let phrase_weights: Vec<f64> = (1..=words::PHRASES.len()).map(|k| 1.0 / k as f64).collect();
    let phrases = Alias::new(&phrase_weights);
    let (mut originals, mut reposts, mut replies) = (0u64, 0u64, 0u64);

    // Popular posts: 55% of reposts and 45% of replies, in bursts.
    let repost_budget = (reposts_total as f64 * 0.55) as u64;
    let reply_ratio = replies_total as f64 * 0.45 / repost_budget.max(1) as f64;
    let cap = (rows / 300.0).max(50.0);
    while reposts < repost_budget {
        let platform = w.platform_pick.sample(&mut rng) as u8;
        let author = w.account(platform, &mut rng);
        let t0 = diurnal(&mut rng);
        let row = w.original(t0, platform, author, World::sentence(&mut rng));
        let target = w.push(row);
        originals += 1;
        let size = rng.pareto(3.0, 1.2).min(cap);
        let tau = burst(&mut rng);
        for _ in 0..size as u64 {
            let t = f64::from(t0) + 1.0 + rng.exp(tau);
            if t < f64::from(DAY) {
                let account = w.account(platform, &mut rng);
                w.push(repost_or_reply(t as u32, platform, account, target, None));
                reposts += 1;
            }
        }
        for _ in 0..(size * reply_ratio).round() as u64 {
            let t = f64::from(t0) + 1.0 + rng.exp(tau);
            if t < f64::from(DAY) {
                let account = w.account(platform, &mut rng);
                let text = reply_text(&mut rng, &phrases);
                w.push(repost_or_reply(
                    t as u32,
                    platform,
                    account,
                    target,
                    Some(text),
                ));
                replies += 1;
            }
        }
    }

    // Popular links (12% of originals), memes (3.6%) and copypasta (1%), in bursts, on
    // every platform.
    let link_budget = originals + (originals_total as f64 * 0.12) as u64;
    while originals < link_budget {
        let domain = words::DOMAINS[rng
            .index(words::DOMAINS.len())
            .min(rng.index(words::DOMAINS.len()))];
        let section = ["politics", "world", "sport", "business", "video", "opinion"][rng.index(6)];
        let mut url = format!("https://{domain}/{section}/");
        words::slug(&mut rng, w.unique(), &mut url);
        let size = rng.pareto(3.0, 1.2).min((rows / 1000.0).max(30.0));
        let (t0, tau) = (diurnal(&mut rng), burst(&mut rng));
        for _ in 0..size as u64 {
            let t = f64::from(t0) + rng.exp(tau);
            if t < f64::from(DAY) {
                let platform = w.platform_pick.sample(&mut rng) as u8;
                let account = w.account(platform, &mut rng);
                let mut r = w.original(t as u32, platform, account, World::sentence(&mut rng));
                r.urls = url.as_str().into();
                w.push(r);
                originals += 1;
            }
        }
    }
    let meme_budget = originals + (originals_total as f64 * 0.036) as u64;
    while originals < meme_budget {
        let base = rng.hash();
        let size = rng.pareto(3.0, 1.2).min((rows / 1500.0).max(30.0));
        let (t0, tau) = (diurnal(&mut rng), burst(&mut rng));
        for _ in 0..size as u64 {
            let t = f64::from(t0) + rng.exp(tau);
            if t < f64::from(DAY) {
                let platform = w.platform_pick.sample(&mut rng) as u8;
                let account = w.account(platform, &mut rng);
                let d = rng.between(0, 6);
                let hash = rng.flip(&base, d);
                let mut r = w.original(t as u32, platform, account, World::sentence(&mut rng));
                r.media = w.media(hash);
                w.push(r);
                originals += 1;
            }
        }
    }
    let pasta_budget = originals + (originals_total as f64 * 0.01) as u64;
    while originals < pasta_budget {
        let mut template = String::new();
        words::sentence(&mut rng, 20, 30, &mut template);
        let template: Vec<&str> = template.split(' ').collect();
        let size = rng.pareto(3.0, 1.2).min((rows / 2000.0).max(20.0));
        let (t0, tau) = (diurnal(&mut rng), burst(&mut rng));
        for _ in 0..size as u64 {
            let t = f64::from(t0) + rng.exp(tau);
            if t < f64::from(DAY) {
                let mut text: Vec<&str> = template.clone();
                for _ in 0..rng.between(0, 2) {
                    let i = rng.index(text.len());
                    text[i] = words::word(&mut rng);
                }
                let platform = w.platform_pick.sample(&mut rng) as u8;
                let account = w.account(platform, &mut rng);
                let r = w.original(t as u32, platform, account, text.join(" "));
                w.push(r);
                originals += 1;
            }
        }
    }

    // Everything else is unique: ordinary texts or stock phrases, long-tail links, fresh
    // images, hashtags.
    while originals < originals_total {
        let platform = w.platform_pick.sample(&mut rng) as u8;
        let account = w.account(platform, &mut rng);
        let t = diurnal(&mut rng);
        let mut text = if rng.chance(0.08) {
            words::PHRASES[phrases.sample(&mut rng)].to_string()
        } else {
            World::sentence(&mut rng)
        };
        let mut tags = String::new();
        if rng.chance(0.2) {
            let mut picked: Vec<usize> = Vec::new();
            for _ in 0..rng.between(1, 3) {
                let k = w.tags.sample(&mut rng);
                if !picked.contains(&k) {
                    picked.push(k);
                }
            }
            for k in picked {
                let tag = World::tag(k);
                text.push(' ');
                text.push_str(&tag);
                if !tags.is_empty() {
                    tags.push(' ');
                }
                tags.push_str(&tag);
            }
        }
        let mut r = w.original(t, platform, account, text);
        r.tags = tags.into();
        if rng.chance(0.2) {
            let domain = words::DOMAINS[rng.index(words::DOMAINS.len())];
            let mut url = format!("https://{domain}/");
            words::slug(&mut rng, w.unique(), &mut url);
            r.urls = url.into();
        }
        if rng.chance(0.1) {
            r.media = w.media(rng.hash());
        }
        w.push(r);
        originals += 1;
    }

    // Reposts of and replies to any earlier post of the same platform, hours later.
    while reposts < reposts_total || replies < replies_total {
        let platform = w.platform_pick.sample(&mut rng) as u8;
        let list = &w.originals[usize::from(platform)];
        let target = list[rng.index(list.len())];
        let t = f64::from(w.rows[target as usize].t) + 1.0 + rng.exp(3.0 * 3600.0);
        if t >= f64::from(DAY) {
            continue;
        }
        let account = w.account(platform, &mut rng);
        if reposts < reposts_total {
            w.push(repost_or_reply(t as u32, platform, account, target, None));
            reposts += 1;
        } else {
            let text = reply_text(&mut rng, &phrases);
            w.push(repost_or_reply(
                t as u32,
                platform,
                account,
                target,
                Some(text),
            ));
            replies += 1;
        }
    }
}

/// A CSV field, quoted when it must be.
fn field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn hex(out: &mut Vec<u8>, hash: &[u8; 32]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in hash {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

/// The first post id; ids follow time order.
const FIRST_ID: u64 = 1_000_000_000;

/// Writes `posts.csv`, `posts.cnt.csv` (both in time order, one thread each) and
/// `truth.csv`; returns the number of accounts that posted.
fn write(w: &World, dir: &Path, toolkit_file: bool) -> Result<u64> {
    let mut order: Vec<u32> = (0..w.rows.len() as u32).collect();
    order.sort_unstable_by_key(|&i| (w.rows[i as usize].t, i));
    let mut pos = vec![0u32; order.len()];
    for (p, &i) in order.iter().enumerate() {
        pos[i as usize] = p as u32;
    }
    let id = |i: u32| FIRST_ID + u64::from(pos[i as usize]);
    let accord = |out: &mut BufWriter<File>| -> std::io::Result<()> {
        out.write_all(b"platform,account_id,post_id,timestamp,text,urls,hashtags,media_pdq,repost_of,reply_to\n")?;
        let mut line = Vec::with_capacity(512);
        for &i in &order {
            let r = &w.rows[i as usize];
            line.clear();
            let _ = write!(
                line,
                "{},a{},{},{},",
                PLATFORMS[usize::from(r.platform)].0,
                r.account,
                id(i),
                DAY0 + u64::from(r.t)
            );
            field(&mut line, &r.text);
            line.push(b',');
            line.extend_from_slice(r.urls.as_bytes());
            line.push(b',');
            line.extend_from_slice(r.tags.as_bytes());
            line.push(b',');
            if r.media != NONE {
                hex(&mut line, &w.media[r.media as usize]);
            }
            line.push(b',');
            if r.kind == Kind::Repost {
                let _ = write!(line, "{}", id(r.target));
            }
            line.push(b',');
            if r.kind == Kind::Reply {
                let _ = write!(line, "{}", id(r.target));
            }
            line.push(b'\n');
            out.write_all(&line)?;
        }
        out.flush()
    };
    let cnt = |out: &mut BufWriter<File>| -> std::io::Result<()> {
        out.write_all(b"message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n")?;
        let mut line = Vec::with_capacity(512);
        for &i in &order {
            let r = &w.rows[i as usize];
            line.clear();
            let platform = PLATFORMS[usize::from(r.platform)].0;
            let _ = write!(line, "{},{platform}:a{},a{},", id(i), r.account, r.account);
            if r.kind == Kind::Repost {
                let _ = write!(line, "{}", id(r.target));
            }
            line.push(b',');
            if r.kind == Kind::Reply {
                let _ = write!(line, "{}", id(r.target));
            }
            line.push(b',');
            field(&mut line, &r.text);
            let _ = write!(line, ",{},", DAY0 + u64::from(r.t));
            line.extend_from_slice(r.urls.as_bytes());
            line.push(b'\n');
            out.write_all(&line)?;
        }
        out.flush()
    };
    let create = |name: &str| -> Result<BufWriter<File>> {
        let path = dir.join(name);
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(BufWriter::with_capacity(1 << 20, file))
    };
    let mut a = create("posts.csv")?;
    let mut c = if toolkit_file {
        Some(create("posts.cnt.csv")?)
    } else {
        None
    };
    let (ra, rc) = std::thread::scope(|s| {
        let ha = s.spawn(|| accord(&mut a));
        let rc = c.as_mut().map_or(Ok(()), cnt);
        (ha.join(), rc)
    });
    ra.map_err(|_| anyhow::anyhow!("the writer thread failed"))?
        .context("writing posts.csv")?;
    rc.context("writing posts.cnt.csv")?;

    let mut truth = create("truth.csv")?;
    truth.write_all(b"behaviour,group,platform,account_id\n")?;
    for t in &w.truth {
        writeln!(
            truth,
            "{},{},{},a{}",
            t.behaviour,
            t.group,
            PLATFORMS[usize::from(t.platform)].0,
            t.account
        )?;
    }
    truth.flush()?;

    let mut seen: Vec<Vec<bool>> = w.weights.iter().map(|w| vec![false; w.len()]).collect();
    let mut accounts = 0u64;
    for r in &w.rows {
        let s = &mut seen[usize::from(r.platform)][r.account as usize];
        if !*s {
            *s = true;
            accounts += 1;
        }
    }
    Ok(accounts)
}
