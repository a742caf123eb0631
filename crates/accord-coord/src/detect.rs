//! The engine: posts to actions, actions to co-acting account pairs within a sliding time
//! window, pairs to weighted edges, edges to clusters with evidence.
//!
//! Definitions, which every output follows:
//! - An **action** is one post acting on one **item** in one behaviour: a link it shares
//!   (canonical URL by `accord-match`'s normaliser, or its registrable domain), its
//!   normalised text ([`crate::text::normalize`]), its group of near-duplicate texts or
//!   images ([`crate::similar`]), the post it reposts or replies to (keyed by platform and
//!   post id), or its set of hashtags. A repost carries its original's links and text, so
//!   reposts take part only in co-repost and co-reply.
//! - Two actions **co-act** when they are on the same item, by two different accounts, at
//!   most the window apart (`|t1 − t2| ≤ W`, a sliding window, not fixed bins).
//! - An item's **popularity** `n` is the number of distinct accounts that acted on it. Its
//!   **weight** is 1 when `n ≤ popular`; above that it falls with the item's rarity,
//!   `ln(A/n) / ln(A/popular)` where `A` is the number of accounts active in the
//!   behaviour, reaching 0 for an item everyone acted on. An item with `n > viral` is
//!   **viral**: its co-actions are not paired at all (counted in the stats). Fans of a
//!   viral post repost it within seconds of each other by the thousand; without this they
//!   would form the biggest "cluster" of every run, and pairing them would take memory
//!   quadratic in the item's audience.
//! - An item's actions fall into **bursts**: runs in which each action comes at most the
//!   window after the one before. An **episode** is one burst on one item; no co-action
//!   spans two episodes.
//! - The **weight of an edge** between two accounts in a behaviour is the sum, over the
//!   episodes they co-acted in, of the item's weight: a pair counts once per episode
//!   however many times it co-acted in it, so one spammed burst makes no edge on its own,
//!   while the same link, text or hashtags pushed together again hours later counts again.
//!   An item active without pause all day (a popular hashtag) is one episode.
//! - Busy accounts meet by chance: two accounts that each repost hundreds of popular posts
//!   a day co-act within a minute now and then. An edge is kept only if its weight is at
//!   least the minimum and its episodes are at least `min_overlap` (0.1) of the actions
//!   of the quieter of the two accounts in that behaviour — the *overlap*. Members of an
//!   operation co-act in a good part of what they do; busy strangers in a sliver of it.
//! - **Evidence** for an edge: for each of its episodes, the pair of posts closest in time.
//!
//! How it runs: [`Detector::add`] turns batches of posts into compact actions (24 bytes
//! each; item values are interned, and an item's readable value is kept only once a
//! second account acts on it), using every thread for the normalisation. [`Detector::finish`]
//! then, per behaviour, groups actions by item with a counting sort, walks each item's
//! actions in time order to find co-acting pairs (threads take disjoint ranges of items),
//! keeps the pairs at or above the minimum weight, walks again for their evidence, and
//! finally clusters the accounts ([`crate::cluster`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

use accord_match::normalize;
use rayon::prelude::*;

use crate::batch::{Batch, PostView};
use crate::cluster::louvain;
use crate::intern::Interner;
use crate::model::{
    Account, Behaviour, BehaviourStats, Cluster, Detection, Edge, Evidence, Item, Post, PostRef,
    Stats,
};
use crate::similar::{self, Sets};
use crate::spill::Log;
use crate::text;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Longest readable item value kept (texts are cut there, on a character boundary).
const DISPLAY_MAX: usize = 280;
/// Item weights are counted in units of 2^-20.
const WEIGHT_UNIT: f64 = (1u64 << 20) as f64;

/// See [`Config::item_weight`].
fn weight_units(config: &Config, n: u32, active: u64) -> u64 {
    let popular = f64::from(config.popular.max(1));
    if n <= config.popular || active as f64 <= popular {
        return 1 << 20;
    }
    let a = active as f64;
    let w = ((a / f64::from(n)).ln() / (a / popular).ln()).clamp(0.0, 1.0);
    (w * WEIGHT_UNIT).round() as u64
}

/// Posts per batch handed to each normalising thread.
const PARALLEL_MIN: usize = 2048;

/// What to detect and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Behaviours to detect, each on its own.
    pub behaviours: Vec<Behaviour>,
    /// Two actions on the same item co-act when at most this many milliseconds apart.
    pub window_ms: i64,
    /// Edges lighter than this are dropped.
    pub min_weight: f64,
    /// Edges whose episodes are a smaller share than this of the quieter account's
    /// actions in the behaviour are dropped (see the module documentation).
    pub min_overlap: f64,
    /// co-link: compare links by registrable domain rather than by canonical URL.
    pub link_domain: bool,
    /// co-similar-text: the Jaccard similarity two texts must reach.
    pub similarity: f64,
    /// co-similar-text: words per shingle.
    pub shingle: usize,
    /// co-similar-text: texts with fewer distinct shingles than this are not compared.
    pub min_shingles: usize,
    /// co-media: the largest PDQ distance at which two images are the same item.
    pub pdq_distance: u32,
    /// An item acted on by at most this many accounts weighs 1; more popular items weigh
    /// less.
    pub popular: u32,
    /// An item acted on by more than this many accounts is viral: its co-actions are not
    /// paired at all.
    pub viral: u32,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Where gathered data goes once more than [`Config::memory`] bytes of it are held;
    /// `None` keeps everything in memory.
    pub spill_dir: Option<PathBuf>,
    /// Bytes of actions, readable values and post ids held in memory before they are
    /// moved to [`Config::spill_dir`].
    pub memory: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            behaviours: Behaviour::ALL.to_vec(),
            window_ms: 60_000,
            min_weight: 5.0,
            min_overlap: 0.1,
            link_domain: false,
            similarity: 0.8,
            shingle: 1,
            min_shingles: 4,
            pdq_distance: 31,
            popular: 100,
            viral: 5_000,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            spill_dir: None,
            memory: 1 << 30,
        }
    }
}

impl Config {
    /// The weight of one co-action on an item `n` accounts acted on, in a behaviour where
    /// `active` accounts acted at all (see the module documentation). Weights are
    /// multiples of 2^-20, so that edge weights add up exactly whatever the order.
    #[must_use]
    pub fn item_weight(&self, n: u32, active: u64) -> f64 {
        weight_units(self, n, active) as f64 / WEIGHT_UNIT
    }
}

/// One post acting on one item.
#[derive(Clone, Copy, Debug, Default)]
struct Action {
    time: i64,
    item: u32,
    account: u32,
    post: u32,
}

/// Bytes of an action in a lane's log.
const ACTION_BYTES: usize = 20;

impl Action {
    fn write(&self, log: &mut Log) {
        log.record(ACTION_BYTES, |out| {
            out.extend_from_slice(&self.time.to_le_bytes());
            out.extend_from_slice(&self.item.to_le_bytes());
            out.extend_from_slice(&self.account.to_le_bytes());
            out.extend_from_slice(&self.post.to_le_bytes());
        });
    }

    /// Decodes the [`ACTION_BYTES`] bytes of `r`.
    fn read(r: &[u8]) -> Action {
        let word = |i: usize| u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
        let mut time = [0u8; 8];
        time.copy_from_slice(&r[..8]);
        Action {
            time: i64::from_le_bytes(time),
            item: word(8),
            account: word(12),
            post: word(16),
        }
    }
}

/// A value taken from a post for one behaviour, before interning.
enum Value {
    /// An item compared exactly: its key and readable value.
    Exact(u128, Shown),
    /// A text for co-similar-text: key of the normalised text and where its shingles are
    /// in [`Prepared::shingles`].
    Text(u128, usize, usize),
    /// An image's PDQ hash.
    Media([u8; 32]),
}

impl Value {
    /// The key the item is interned by.
    fn key(&self) -> u128 {
        match *self {
            Value::Exact(key, _) | Value::Text(key, _, _) => key,
            // Hashed like a string's key: the interner keeps 96 bits of a key, which
            // must depend on all 256 of the hash.
            Value::Media(hash) => key(&hash),
        }
    }
}

/// How to show an item, made only when needed: most items are acted on by one account
/// and never shown.
enum Shown {
    /// This stretch of [`Prepared::owned`].
    Owned(usize, usize),
    /// The post's text.
    Text,
    /// The reposted post, as `platform:id`.
    Repost,
    /// The post replied to, as `platform:id`.
    Reply,
}

impl Shown {
    fn make<'a>(&self, post: &PostView<'a>, owned: &'a str) -> Cow<'a, str> {
        let target = |t: Option<&str>| {
            Cow::Owned(format!(
                "{}:{}",
                post.platform,
                t.unwrap_or_default().trim()
            ))
        };
        match *self {
            Shown::Owned(start, end) => Cow::Borrowed(owned.get(start..end).unwrap_or_default()),
            Shown::Text => shorten(post.text.unwrap_or_default().trim()),
            Shown::Repost => target(post.repost_of),
            Shown::Reply => target(post.reply_to),
        }
    }
}

/// Everything gathered for one behaviour.
struct Lane {
    behaviour: Behaviour,
    keys: Interner,
    /// Per item while posts are taken: the first account seen on it (to notice the
    /// second one) and its readable value's number in `display_starts` (`u32::MAX`: none
    /// yet). Side by side, one cache miss for both.
    info: Vec<[u32; 2]>,
    /// Items so far.
    items: usize,
    /// Readable value of each item acted on by two accounts or more, as a number in
    /// `display_starts` (`u32::MAX`: none yet).
    display: Vec<u32>,
    /// Where each readable value starts in `displays`.
    display_starts: Vec<u64>,
    displays: Log,
    /// co-similar-text: the shingles of each distinct text.
    sets: Sets,
    /// co-media: each distinct hash.
    hashes: Vec<[u8; 32]>,
    /// Every action, [`ACTION_BYTES`] each.
    actions: Log,
}

impl Lane {
    fn new(behaviour: Behaviour) -> Lane {
        Lane {
            behaviour,
            keys: Interner::default(),
            info: Vec::new(),
            items: 0,
            display: Vec::new(),
            display_starts: Vec::new(),
            displays: Log::default(),
            sets: Sets::default(),
            hashes: Vec::new(),
            actions: Log::default(),
        }
    }

    /// The item number for `key` (already `known`, or `ABSENT`), recording `account`
    /// and keeping `readable` (made on demand) when this is the item's second account,
    /// or always with `keep_always`.
    fn intern<'a>(
        &mut self,
        key: u128,
        known: u32,
        account: u32,
        keep_always: bool,
        readable: impl FnOnce() -> Cow<'a, str>,
    ) -> (u32, bool) {
        let (item, fresh) = self.keys.intern_known(key, known);
        if fresh {
            self.info.push([account, u32::MAX]);
            self.display.push(u32::MAX);
            self.items += 1;
        }
        let i = item as usize;
        let [first, shown] = self.info[i];
        if shown == u32::MAX && (keep_always || first != account) {
            let d = self.display_starts.len() as u32;
            self.info[i][1] = d;
            self.display[i] = d;
            let at = self.displays.append(readable().as_bytes());
            self.display_starts.push(at);
        }
        (item, fresh)
    }

    /// The readable value of `item`, if kept.
    fn readable(&self, item: u32) -> std::io::Result<Option<String>> {
        let Some(&d) = self.display.get(item as usize) else {
            return Ok(None);
        };
        if d == u32::MAX {
            return Ok(None);
        }
        let d = d as usize;
        let start = self.display_starts[d];
        let end = self
            .display_starts
            .get(d + 1)
            .copied()
            .unwrap_or(self.displays.len());
        let mut bytes = Vec::new();
        self.displays
            .read_at(start, (end - start) as usize, &mut bytes)?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Records post `i` of `prepared`, number `p` of the run, of `account`, acting on
    /// `value`.
    fn take(
        &mut self,
        prepared: &Prepared,
        (i, account, p): (u32, u32, u32),
        value: &Value,
        known: u32,
    ) {
        let owned = prepared.owned.as_str();
        let batch = &prepared.batch;
        let show = |shown: &Shown| match batch.get(i as usize) {
            Some(post) => shown.make(&post, owned),
            None => Cow::Borrowed(""),
        };
        let item = match *value {
            Value::Exact(key, ref shown) => {
                self.intern(key, known, account, false, || show(shown)).0
            }
            Value::Text(key, start, end) => {
                let (item, fresh) = self.intern(key, known, account, true, || show(&Shown::Text));
                if fresh {
                    self.sets
                        .push(prepared.shingles.get(start..end).unwrap_or_default());
                }
                item
            }
            Value::Media(hash) => {
                let (item, fresh) =
                    self.intern(value.key(), known, account, true, || Cow::Owned(hex(&hash)));
                if fresh {
                    self.hashes.push(hash);
                }
                item
            }
        };
        Action {
            time: batch.time_ms(i as usize),
            item,
            account,
            post: p,
        }
        .write(&mut self.actions);
    }

    /// Bytes held in memory that may move to disk.
    fn spillable(&self) -> usize {
        self.displays.in_memory() + self.actions.in_memory()
    }
}

/// Posts between two marks in the post log.
const POSTS_PER_MARK: usize = 32;

/// Why a detection could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// Moving data to the spill directory, or reading it back, failed.
    #[error("spill directory {dir}: {source}")]
    Spill {
        /// The directory.
        dir: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
}

/// Gathers posts and finds coordination among them. Feed it with [`Detector::add`], then
/// call [`Detector::finish`].
pub struct Detector {
    config: Config,
    lanes: Vec<Lane>,
    account_keys: Interner,
    /// Each account's platform and id, joined by `\u{1f}`, by number; empty for one seen
    /// only in idle posts so far (it is named by its first post that acts).
    accounts: Vec<Box<str>>,
    /// Posts taken.
    posts: usize,
    /// The id and time of each post that acts in some behaviour: a `u32` length, the id,
    /// the time in milliseconds.
    post_log: Log,
    /// Posts in `post_log`: those that act in some behaviour, numbered in order.
    logged: usize,
    /// Where every [`POSTS_PER_MARK`]th logged post starts in `post_log`.
    post_marks: Vec<u64>,
    /// The first failure to spill; the posts after it were not taken.
    failed: Option<std::io::Error>,
}

/// Seed of [`key`] and [`key2`].
const KEY_SEED: u64 = 0x6163_636f_7264_3031;

/// Key of a value (a string's bytes, an image's hash) for interning: XXH3's 128 bits, so
/// that distinct values do not collide in any input that fits in memory (keys of
/// different kinds are never compared: each behaviour numbers its own items).
fn key(value: &[u8]) -> u128 {
    twox_hash::XxHash3_128::oneshot_with_seed(KEY_SEED, value)
}

/// Key of a pair of values (a platform and an id): [`key`] of the first one's length, the
/// first and the second, end to end, in one pass (made for every post).
fn key2(first: &str, second: &str) -> u128 {
    let (p, a) = (first.as_bytes(), second.as_bytes());
    let fill = |out: &mut [u8]| {
        out[..8].copy_from_slice(&(p.len() as u64).to_le_bytes());
        out[8..8 + p.len()].copy_from_slice(p);
        out[8 + p.len()..].copy_from_slice(a);
    };
    let n = 8 + p.len() + a.len();
    let mut buf = [0u8; 128];
    if let Some(out) = buf.get_mut(..n) {
        fill(out);
        key(out)
    } else {
        let mut out = vec![0; n];
        fill(&mut out);
        key(&out)
    }
}

/// The key an account is numbered by, of its platform and id (a reader may make it, for
/// an idle post; see [`Batch::idle_len`]).
pub(crate) fn account_key(platform: &str, account: &str) -> u128 {
    key2(platform, account)
}

/// Cuts `s` to at most [`DISPLAY_MAX`] bytes on a character boundary.
fn shorten(s: &str) -> Cow<'_, str> {
    if s.len() <= DISPLAY_MAX {
        return Cow::Borrowed(s);
    }
    let mut end = DISPLAY_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

/// The canonical link, or its registrable domain; a value that is not a URL at all is
/// kept as written, trimmed, so that two identical odd strings still match.
fn link(raw: &str, domain: bool) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let canonical = normalize::url(raw).unwrap_or_else(|_| raw.to_owned());
    if !domain {
        return Some(untracked(canonical));
    }
    let host = canonical
        .split_once("://")
        .map_or(canonical.as_str(), |(_, rest)| rest);
    let host = host.split(['/', '?', '#']).next().unwrap_or(host);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host
    } else {
        host.split(':').next().unwrap_or(host)
    };
    Some(normalize::registrable_domain(host).unwrap_or_else(|| host.to_owned()))
}

/// Query parameters that say where a click came from, not what the link is.
fn is_tracking(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "ref_src"
                | "si"
        )
}

/// A canonical URL without its tracking parameters (the others keep their order).
fn untracked(url: String) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url;
    };
    if !query
        .split('&')
        .any(|p| is_tracking(p.split('=').next().unwrap_or(p)))
    {
        return url;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !is_tracking(p.split('=').next().unwrap_or(p)))
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Posts made ready for [`Detector::take`]: their account keys and, per behaviour, the
/// items they act on, normalised and hashed. Making them is most of the work of taking a
/// post and needs nothing from the detector but its configuration, so it is done by a
/// [`Preparer`] on any thread, side by side, while the detector takes what is ready in
/// order.
pub struct Prepared {
    /// The behaviours the values are for, in lane order.
    behaviours: Vec<Behaviour>,
    batch: Batch,
    /// Each post's account key.
    accounts: Vec<u128>,
    /// Per lane: (post in the batch, value).
    lanes: Vec<Vec<(u32, Value)>>,
    /// Readable values made here (canonical links, hashtag sets), end to end.
    owned: String,
    /// Shingles of the texts, end to end.
    shingles: Vec<u32>,
}

impl Prepared {
    /// The posts.
    #[must_use]
    pub fn batch(&self) -> &Batch {
        &self.batch
    }
}

/// Makes [`Prepared`] posts for a detector; see [`Detector::preparer`].
#[derive(Clone, Debug)]
pub struct Preparer {
    config: Config,
}

impl Preparer {
    /// Normalises and hashes the posts of `batch` for each behaviour.
    #[must_use]
    pub fn prepare(&self, batch: Batch) -> Prepared {
        let behaviours = &self.config.behaviours;
        let mut out = Prepared {
            behaviours: behaviours.clone(),
            accounts: Vec::with_capacity(batch.len()),
            lanes: behaviours.iter().map(|_| Vec::new()).collect(),
            owned: String::new(),
            shingles: Vec::new(),
            batch: Batch::new(),
        };
        let mut seen_links: Vec<u128> = Vec::new();
        // Each distinct link of the batch as written: its key and canonical form, if any.
        let mut links: Map<&str, Option<(u128, usize, usize)>> = Map::default();
        let mut seen_media: Vec<[u8; 32]> = Vec::new();
        for i in 0..batch.len() {
            let post = batch.fields(i);
            let i = i as u32;
            out.accounts
                .push(account_key(post.platform(), post.account()));
            let original = !post.is_repost();
            for (lane, &behaviour) in behaviours.iter().enumerate() {
                let values = &mut out.lanes[lane];
                match behaviour {
                    Behaviour::CoLink if original => {
                        seen_links.clear();
                        for raw in post.urls() {
                            // A link seen earlier in the batch is canonical already.
                            let known = *links.entry(raw).or_insert_with(|| {
                                link(raw, self.config.link_domain).map(|l| {
                                    let start = out.owned.len();
                                    out.owned.push_str(&l);
                                    (key(l.as_bytes()), start, out.owned.len())
                                })
                            });
                            let Some((key, start, end)) = known else {
                                continue;
                            };
                            if seen_links.contains(&key) {
                                continue;
                            }
                            seen_links.push(key);
                            values.push((i, Value::Exact(key, Shown::Owned(start, end))));
                        }
                    }
                    Behaviour::CoText if original => {
                        if let Some(t) = post.text()
                            && let Some(n) = text::normalize(t)
                        {
                            values.push((i, Value::Exact(key(n.as_bytes()), Shown::Text)));
                        }
                    }
                    Behaviour::CoSimilarText if original => {
                        if let Some(t) = post.text()
                            && let Some(n) = text::normalize(t)
                        {
                            let start = out.shingles.len();
                            out.shingles.extend(text::shingles(&n, self.config.shingle));
                            let end = out.shingles.len();
                            values.push((i, Value::Text(key(n.as_bytes()), start, end)));
                        }
                    }
                    Behaviour::CoMedia if original => {
                        seen_media.clear();
                        for h in post.media() {
                            if !seen_media.contains(h) {
                                seen_media.push(*h);
                                values.push((i, Value::Media(*h)));
                            }
                        }
                    }
                    Behaviour::CoRepost => {
                        if let Some(target) = post.repost_of().map(str::trim)
                            && !target.is_empty()
                        {
                            values.push((
                                i,
                                Value::Exact(key2(post.platform(), target), Shown::Repost),
                            ));
                        }
                    }
                    Behaviour::CoReply => {
                        if let Some(target) = post.reply_to().map(str::trim)
                            && !target.is_empty()
                        {
                            values.push((
                                i,
                                Value::Exact(key2(post.platform(), target), Shown::Reply),
                            ));
                        }
                    }
                    Behaviour::CoHashtag if original => {
                        if let Some(set) = text::hashtag_set(post.hashtags()) {
                            let start = out.owned.len();
                            out.owned.push_str(&set);
                            let end = out.owned.len();
                            values.push((
                                i,
                                Value::Exact(key(set.as_bytes()), Shown::Owned(start, end)),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
        out.batch = batch;
        out
    }
}

/// A lane and the values it is to take: (post in the batch, value).
type LaneJob<'a> = (&'a mut Lane, Vec<(u32, Value)>);

impl Detector {
    /// A detector for `config`. Behaviours listed twice are detected once.
    #[must_use]
    pub fn new(mut config: Config) -> Detector {
        let mut behaviours = config.behaviours.clone();
        behaviours.sort_unstable();
        behaviours.dedup();
        config.behaviours = behaviours;
        config.threads = config.threads.max(1);
        let lanes = config.behaviours.iter().map(|&b| Lane::new(b)).collect();
        Detector {
            config,
            lanes,
            account_keys: Interner::default(),
            accounts: Vec::new(),
            posts: 0,
            post_log: Log::default(),
            post_marks: Vec::new(),
            logged: 0,
            failed: None,
        }
    }

    /// The configuration in use (behaviours sorted and deduplicated).
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Posts taken so far.
    #[must_use]
    pub fn posts(&self) -> usize {
        self.posts
    }

    /// What makes posts ready for [`Detector::take`], on any thread.
    #[must_use]
    pub fn preparer(&self) -> Preparer {
        Preparer {
            config: self.config.clone(),
        }
    }

    /// Takes a batch of posts. Posts may come in any order of time.
    ///
    /// With a [`Config::spill_dir`], what is gathered moves there once more than
    /// [`Config::memory`] bytes of it are held. Should that fail (a full disk), the posts
    /// from then on are not taken and [`Detector::finish`] reports the failure.
    pub fn add(&mut self, posts: &[Post]) {
        let threads = self.config.threads;
        let preparer = self.preparer();
        if threads > 1 && posts.len() >= PARALLEL_MIN {
            let chunk = posts.len().div_ceil(threads);
            let preparer = &preparer;
            let prepared: Vec<Prepared> = posts
                .par_chunks(chunk)
                .map(|part| {
                    let mut batch = Batch::new();
                    for p in part {
                        batch.push(p);
                    }
                    preparer.prepare(batch)
                })
                .collect();
            for p in prepared {
                self.take(p);
            }
        } else {
            let mut batch = Batch::new();
            for p in posts {
                batch.push(p);
            }
            let _ = self.take(preparer.prepare(batch));
        }
    }

    /// Takes a batch of posts (see [`Detector::add`]).
    pub fn add_batch(&mut self, batch: Batch) {
        let prepared = self.preparer().prepare(batch);
        let _ = self.take(prepared);
    }

    /// Takes posts made ready by a [`Preparer`] (see [`Detector::add`]); batches are taken
    /// in the order given. Posts prepared for other behaviours are prepared again. Gives
    /// back the batch, to be cleared and filled again.
    pub fn take(&mut self, prepared: Prepared) -> Batch {
        if self.failed.is_some() {
            return prepared.batch;
        }
        let mut whole = prepared;
        if whole.behaviours != self.config.behaviours {
            let batch = std::mem::take(&mut whole.batch);
            whole = self.preparer().prepare(batch);
        }
        self.take_prepared(&mut whole);
        whole.batch
    }

    fn take_prepared(&mut self, prepared: &mut Prepared) {
        let threads = self.config.threads;
        let per_lane = std::mem::take(&mut prepared.lanes);
        // Accounts and posts in order here; then each lane takes its values, the lanes
        // side by side (each lane's values in post order, so nothing depends on threads).
        let mut takers: Vec<(u32, u32)> = Vec::with_capacity(prepared.batch.len());
        // Every lookup first, side by side; then inserts, in order.
        let mut known = Vec::with_capacity(prepared.accounts.len());
        self.account_keys
            .find_many(prepared.accounts.iter().copied(), &mut known);
        let mut acts = vec![false; prepared.accounts.len()];
        for values in &per_lane {
            for &(i, _) in values {
                acts[i as usize] = true;
            }
        }
        // Idle posts (accounts alone) go in their place among the others.
        let idle = prepared.batch.idle();
        let mut known_idle = Vec::with_capacity(idle.len());
        self.account_keys
            .find_many(idle.iter().map(|&(_, key)| key), &mut known_idle);
        let mut idle = idle.iter().zip(known_idle).peekable();
        for (i, (&key, &known)) in prepared.accounts.iter().zip(&known).enumerate() {
            while let Some((&(_, key), known)) = idle.next_if(|((before, _), _)| *before <= i) {
                self.take_idle(key, known);
            }
            takers.push(self.take_post(&prepared.batch, i, key, known, acts[i]));
        }
        for (&(_, key), known) in idle {
            self.take_idle(key, known);
        }
        let prepared = &*prepared;
        let takers = &takers;
        let fill = |lane: &mut Lane, values: Vec<(u32, Value)>| {
            let mut known = Vec::with_capacity(values.len());
            lane.keys
                .find_many(values.iter().map(|(_, v)| v.key()), &mut known);
            for ((i, value), known) in values.iter().zip(known) {
                let (account, p) = takers[*i as usize];
                lane.take(prepared, (*i, account, p), value, known);
            }
        };
        let busy = per_lane.iter().filter(|v| !v.is_empty()).count();
        if threads > 1 && busy > 1 {
            // Lanes dealt to threads, the busiest first, each to the least loaded.
            let mut jobs: Vec<LaneJob<'_>> = self.lanes.iter_mut().zip(per_lane).collect();
            jobs.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
            let mut shares: Vec<(usize, Vec<LaneJob<'_>>)> =
                (0..threads.min(busy)).map(|_| (0, Vec::new())).collect();
            for job in jobs {
                if let Some(share) = shares.iter_mut().min_by_key(|(load, _)| *load) {
                    share.0 += job.1.len();
                    share.1.push(job);
                }
            }
            let fill = &fill;
            rayon::scope(|scope| {
                let mut shares = shares.into_iter();
                let mine = shares.next();
                for (_, share) in shares {
                    scope.spawn(move |_| {
                        for (lane, values) in share {
                            fill(lane, values);
                        }
                    });
                }
                for (lane, values) in mine.map(|(_, s)| s).unwrap_or_default() {
                    fill(lane, values);
                }
            });
        } else {
            for (lane, values) in self.lanes.iter_mut().zip(per_lane) {
                fill(lane, values);
            }
        }
        if let Some(dir) = &self.config.spill_dir {
            let held =
                self.post_log.in_memory() + self.lanes.iter().map(Lane::spillable).sum::<usize>();
            if held > self.config.memory {
                let mut spill = || -> std::io::Result<()> {
                    self.post_log.spill(dir)?;
                    for lane in &mut self.lanes {
                        lane.actions.spill(dir)?;
                        lane.displays.spill(dir)?;
                    }
                    Ok(())
                };
                if let Err(e) = spill() {
                    self.failed = Some(e);
                }
            }
        }
    }

    /// Records post `i` of `batch`: its account's key (and number, if
    /// [`Interner::find_many`] found one); whether it acts in any behaviour.
    ///
    /// The post's strings are read only for a new account or a post that acts (a small
    /// share of most inputs): the batch was filled on another core, and reading every
    /// post of it here would move all of it across.
    fn take_post(
        &mut self,
        batch: &Batch,
        i: usize,
        account_key: u128,
        known: u32,
        acts: bool,
    ) -> (u32, u32) {
        let (account, fresh) = self.account_keys.intern_known(account_key, known);
        // An account first seen idle has no name yet; one that acts needs it.
        let unnamed = !fresh && acts && self.accounts[account as usize].is_empty();
        if fresh || unnamed {
            let (platform, account_id, _, _) = batch.basics(i);
            // The platform is kept free of the separator so that the key splits back.
            let mut key = String::with_capacity(platform.len() + account_id.len() + 1);
            key.extend(
                platform
                    .chars()
                    .map(|c| if c == '\u{1f}' { ' ' } else { c }),
            );
            key.push('\u{1f}');
            key.push_str(account_id);
            if fresh {
                self.accounts.push(key.into_boxed_str());
            } else {
                self.accounts[account as usize] = key.into_boxed_str();
            }
        }
        self.posts += 1;
        if !acts {
            // Never cited as evidence: not logged, not numbered.
            return (account, u32::MAX);
        }
        let (_, _, id, time_ms) = batch.basics(i);
        let p = self.logged as u32;
        if self.logged.is_multiple_of(POSTS_PER_MARK) {
            self.post_marks.push(self.post_log.len());
        }
        self.logged += 1;
        self.post_log.record(12 + id.len(), |log| {
            log.extend_from_slice(&(id.len() as u32).to_le_bytes());
            log.extend_from_slice(id.as_bytes());
            log.extend_from_slice(&time_ms.to_le_bytes());
        });
        (account, p)
    }

    /// Records an idle post (see [`Batch::idle_len`]) of the account of key
    /// `account_key`, whose number [`Interner::find_many`] may have found (`known`). Its
    /// name, if new, is left empty until a post of it acts.
    fn take_idle(&mut self, account_key: u128, known: u32) {
        let (_, fresh) = self.account_keys.intern_known(account_key, known);
        if fresh {
            self.accounts.push(Box::default());
        }
        self.posts += 1;
    }

    /// The id and time of each post in `wanted`, reading each stretch of the post log
    /// once.
    fn post_refs(&self, wanted: &mut Vec<u32>) -> std::io::Result<Map<u32, PostRef>> {
        wanted.sort_unstable();
        wanted.dedup();
        let mut out: Map<u32, PostRef> = Map::default();
        let mut bytes = Vec::new();
        let mut loaded = usize::MAX;
        for &p in wanted.iter() {
            let mark = p as usize / POSTS_PER_MARK;
            if mark != loaded {
                let start = self.post_marks[mark];
                let end = self
                    .post_marks
                    .get(mark + 1)
                    .copied()
                    .unwrap_or(self.post_log.len());
                self.post_log
                    .read_at(start, (end - start) as usize, &mut bytes)?;
                loaded = mark;
            }
            let mut at = 0usize;
            for _ in 0..p as usize % POSTS_PER_MARK {
                let len = u32::from_le_bytes(read4(&bytes, at)) as usize;
                at += 4 + len + 8;
            }
            let len = u32::from_le_bytes(read4(&bytes, at)) as usize;
            let id = String::from_utf8_lossy(&bytes[at + 4..at + 4 + len]).into_owned();
            let mut time = [0u8; 8];
            time.copy_from_slice(&bytes[at + 4 + len..at + 12 + len]);
            out.insert(
                p,
                PostRef {
                    id,
                    time_ms: i64::from_le_bytes(time),
                },
            );
        }
        Ok(out)
    }

    /// Finds the edges, their evidence and the clusters. `progress` is told what is being
    /// done, for a person watching.
    ///
    /// # Errors
    /// Spilling to [`Config::spill_dir`] failed during [`Detector::add`], or reading the
    /// spilled data back failed.
    pub fn finish(mut self, progress: &mut dyn FnMut(&str)) -> Result<Detection, DetectError> {
        let spill_error = |source: std::io::Error, config: &Config| DetectError::Spill {
            dir: config
                .spill_dir
                .as_deref()
                .map_or_else(|| "(none)".to_owned(), |d| d.display().to_string()),
            source,
        };
        if let Some(e) = self.failed.take() {
            return Err(spill_error(e, &self.config));
        }
        let config = self.config.clone();
        let mut lanes = std::mem::take(&mut self.lanes);
        // The interning tables are done with: free them before the heavy work.
        for lane in &mut lanes {
            lane.keys = Interner::default();
            lane.info = Vec::new();
        }
        let mut stats = Stats {
            posts: self.posts as u64,
            accounts: self.accounts.len() as u64,
            behaviours: Vec::new(),
        };
        // Edges with account numbers of this detector and items of their lane.
        let mut raw_edges: Vec<RawEdge> = Vec::new();
        // Per lane: the popularity and weight of each item cited by evidence.
        let mut lane_items: Vec<Map<u32, (u32, f64)>> = Vec::new();
        for (lane_no, lane) in lanes.iter_mut().enumerate() {
            progress(&format!("{}: grouping items", lane.behaviour));
            // Near-duplicates become one item, numbered by their group's smallest member.
            let roots = match lane.behaviour {
                Behaviour::CoSimilarText => Some(similar::text_groups(
                    &lane.sets,
                    config.similarity,
                    config.min_shingles,
                    config.threads,
                )),
                Behaviour::CoMedia => {
                    Some(similar::media_groups(&lane.hashes, config.pdq_distance))
                }
                _ => None,
            };
            lane.sets = Sets::default();
            lane.hashes = Vec::new();
            let n_items = lane.items;
            let (sorted, starts) = group_by_item(&lane.actions, n_items, roots.as_deref())
                .map_err(|e| spill_error(e, &config))?;
            drop(roots);
            lane.actions = Log::default();
            let action_count = sorted.len() as u64;
            let popularity = popularity(&sorted, &starts, self.accounts.len());
            let per_account = actions_per_account(&sorted, self.accounts.len());
            let active = per_account.iter().filter(|&&n| n > 0).count() as u64;
            let weight_of = |item: usize| weight_units(&config, popularity[item], active);
            let pairable = |item: usize| {
                let n = popularity[item];
                n >= 2 && n <= config.viral
            };
            progress(&format!("{}: pairing co-actions", lane.behaviour));
            let ranges = split(&starts, config.threads, &pairable);
            let pairs = pair_weights(
                &sorted,
                &starts,
                &ranges,
                &weight_of,
                &pairable,
                config.window_ms,
            );
            let overlap = |key: u64, episodes: u32| {
                let fewer = per_account[(key >> 32) as usize].min(per_account[key as u32 as usize]);
                f64::from(episodes) / f64::from(fewer.max(1))
            };
            let mut kept: Vec<(u64, f64)> = pairs
                .iter()
                .map(|(k, t)| (k, t.units() as f64 / WEIGHT_UNIT, t.episodes()))
                .filter(|&(k, w, episodes)| {
                    w >= config.min_weight && overlap(k, episodes) >= config.min_overlap
                })
                .map(|(k, w, _)| (k, w))
                .collect();
            kept.sort_unstable_by_key(|&(k, _)| k);
            let edge_of: Map<u64, u32> = kept
                .iter()
                .enumerate()
                .map(|(i, &(k, _))| (k, i as u32))
                .collect();
            progress(&format!("{}: gathering evidence", lane.behaviour));
            let evidence = gather_evidence(
                &sorted,
                &starts,
                &ranges,
                &pairable,
                &edge_of,
                config.window_ms,
            );
            let mut per_edge: Vec<Vec<RawEvidence>> = vec![Vec::new(); kept.len()];
            let mut cited: Map<u32, (u32, f64)> = Map::default();
            for e in evidence {
                cited.entry(e.item).or_insert_with(|| {
                    let i = e.item as usize;
                    (popularity[i], weight_of(i) as f64 / WEIGHT_UNIT)
                });
                per_edge[e.edge as usize].push(e);
            }
            stats.behaviours.push(BehaviourStats {
                behaviour: lane.behaviour,
                actions: action_count,
                items: n_items_with_actions(&starts),
                viral_items: popularity.iter().filter(|&&n| n > config.viral).count() as u64,
                pairs: pairs.len() as u64,
                edges: kept.len() as u64,
            });
            drop(pairs);
            for ((key, weight), mut evidence) in kept.into_iter().zip(per_edge) {
                evidence.sort_unstable_by_key(|e| (e.item, e.post_a, e.post_b));
                raw_edges.push(RawEdge {
                    lane: lane_no,
                    a: (key >> 32) as u32,
                    b: key as u32,
                    weight,
                    evidence,
                });
            }
            lane_items.push(cited);
        }
        progress("clustering");
        self.assemble(raw_edges, &lanes, &lane_items, stats)
            .map_err(|e| spill_error(e, &config))
    }

    /// Turns the per-lane results into the public [`Detection`].
    fn assemble(
        &self,
        raw_edges: Vec<RawEdge>,
        lanes: &[Lane],
        lane_items: &[Map<u32, (u32, f64)>],
        stats: Stats,
    ) -> std::io::Result<Detection> {
        // Accounts in edges, sorted by platform then id.
        let mut used: Vec<u32> = raw_edges.iter().flat_map(|e| [e.a, e.b]).collect();
        used.sort_unstable();
        used.dedup();
        let mut accounts: Vec<(Account, u32)> = used
            .iter()
            .map(|&a| {
                let key = &self.accounts[a as usize];
                let (platform, id) = key.split_once('\u{1f}').unwrap_or(("", key));
                (
                    Account {
                        platform: platform.to_owned(),
                        id: id.to_owned(),
                    },
                    a,
                )
            })
            .collect();
        accounts.sort();
        let mut account_index: Map<u32, u32> = Map::default();
        for (i, (_, a)) in accounts.iter().enumerate() {
            account_index.insert(*a, i as u32);
        }
        let index_of = |a: u32| account_index.get(&a).copied().unwrap_or(0);

        let mut wanted: Vec<u32> = raw_edges
            .iter()
            .flat_map(|e| e.evidence.iter().flat_map(|v| [v.post_a, v.post_b]))
            .collect();
        let posts = self.post_refs(&mut wanted)?;
        drop(wanted);
        let post_ref = |p: u32| posts.get(&p).cloned().unwrap_or_default();
        // Items cited by evidence.
        let mut item_index: Map<(usize, u32), u32> = Map::default();
        let mut items: Vec<Item> = Vec::new();
        let mut edges: Vec<Edge> = Vec::with_capacity(raw_edges.len());
        for raw in raw_edges {
            let lane = &lanes[raw.lane];
            let (mut a, mut b) = (index_of(raw.a), index_of(raw.b));
            let swap = a > b;
            if swap {
                std::mem::swap(&mut a, &mut b);
            }
            let mut evidence = Vec::with_capacity(raw.evidence.len());
            for e in &raw.evidence {
                let item = match item_index.get(&(raw.lane, e.item)) {
                    Some(&i) => i,
                    None => {
                        let (n, w) = lane_items[raw.lane]
                            .get(&e.item)
                            .copied()
                            .unwrap_or((0, 0.0));
                        items.push(Item {
                            behaviour: lane.behaviour,
                            value: lane.readable(e.item)?.unwrap_or_default(),
                            accounts: n,
                            weight: w,
                        });
                        let i = (items.len() - 1) as u32;
                        item_index.insert((raw.lane, e.item), i);
                        i
                    }
                };
                let (pa, pb) = if swap {
                    (e.post_b, e.post_a)
                } else {
                    (e.post_a, e.post_b)
                };
                evidence.push(Evidence {
                    item,
                    post_a: post_ref(pa),
                    post_b: post_ref(pb),
                });
            }
            edges.push(Edge {
                a,
                b,
                behaviour: lane.behaviour,
                weight: raw.weight,
                evidence,
            });
        }
        edges.sort_by(|x, y| {
            x.behaviour
                .cmp(&y.behaviour)
                .then(y.weight.total_cmp(&x.weight))
                .then((x.a, x.b).cmp(&(y.a, y.b)))
        });
        let accounts: Vec<Account> = accounts.into_iter().map(|(acc, _)| acc).collect();
        let clusters = clusters(&accounts, &edges, &items);
        Ok(Detection {
            accounts,
            edges,
            items,
            clusters,
            stats,
        })
    }
}

/// An edge before accounts and items are renumbered for output.
struct RawEdge {
    lane: usize,
    a: u32,
    b: u32,
    weight: f64,
    evidence: Vec<RawEvidence>,
}

/// One item of an edge and the closest pair of posts on it, `post_a` by account `a`.
#[derive(Clone, Copy, Debug)]
struct RawEvidence {
    edge: u32,
    item: u32,
    post_a: u32,
    post_b: u32,
}

fn read4(bytes: &[u8], at: usize) -> [u8; 4] {
    [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Actions grouped by item (a counting sort, reading the log twice), each group in time
/// order; `starts[i]` is where item `i`'s group begins, `starts[n]` the end. With `roots`,
/// each action's item is first replaced by its root.
fn group_by_item(
    log: &Log,
    n_items: usize,
    roots: Option<&[u32]>,
) -> std::io::Result<(Vec<Action>, Vec<usize>)> {
    let item_of = |a: &Action| match roots {
        Some(r) => r[a.item as usize] as usize,
        None => a.item as usize,
    };
    let mut starts = vec![0usize; n_items + 1];
    log.for_each_piece(ACTION_BYTES, |piece| {
        for r in piece.chunks_exact(ACTION_BYTES) {
            starts[item_of(&Action::read(r)) + 1] += 1;
        }
    })?;
    for i in 0..n_items {
        starts[i + 1] += starts[i];
    }
    let mut sorted = vec![Action::default(); starts[n_items]];
    // `starts[i]` is item i's next free slot while placing (its own start was
    // `starts[i - 1]`'s value before); the shift afterwards puts the starts back.
    let mut filled = 0usize;
    log.for_each_piece(ACTION_BYTES, |piece| {
        for r in piece.chunks_exact(ACTION_BYTES) {
            let mut a = Action::read(r);
            let item = item_of(&a);
            a.item = item as u32;
            let slot = &mut starts[item];
            sorted[*slot] = a;
            *slot += 1;
            filled += 1;
        }
    })?;
    if filled != sorted.len() {
        return Err(std::io::Error::other(
            "a spill log changed between two readings",
        ));
    }
    for i in (1..=n_items).rev() {
        starts[i] = starts[i - 1];
    }
    starts[0] = 0;
    for i in 0..n_items {
        let group = &mut sorted[starts[i]..starts[i + 1]];
        if group.len() > 1 {
            group.sort_unstable_by_key(|a| (a.time, a.account, a.post));
        }
    }
    Ok((sorted, starts))
}

fn n_items_with_actions(starts: &[usize]) -> u64 {
    starts.windows(2).filter(|w| w[1] > w[0]).count() as u64
}

/// Distinct accounts per item.
fn popularity(sorted: &[Action], starts: &[usize], n_accounts: usize) -> Vec<u32> {
    let mut last_seen = vec![u32::MAX; n_accounts];
    let mut out = Vec::with_capacity(starts.len().saturating_sub(1));
    for (i, w) in starts.windows(2).enumerate() {
        let mut n = 0;
        for a in &sorted[w[0]..w[1]] {
            let slot = &mut last_seen[a.account as usize];
            if *slot != i as u32 {
                *slot = i as u32;
                n += 1;
            }
        }
        out.push(n);
    }
    out
}

/// Actions of each account.
fn actions_per_account(sorted: &[Action], n_accounts: usize) -> Vec<u32> {
    let mut count = vec![0u32; n_accounts];
    for a in sorted {
        count[a.account as usize] = count[a.account as usize].saturating_add(1);
    }
    count
}

/// What a pair of accounts adds up to in one behaviour, in one word: the number of its
/// episodes in the top [`EPISODE_BITS`] bits, the sum of their item weights (in units of
/// 2^-20) below. Both saturate, at a million episodes and 16 million of weight, far beyond
/// any minimum weight; a word instead of two keeps the largest table of a run (co-acting
/// pairs) a third smaller.
#[derive(Clone, Copy, Debug, Default)]
struct Tally(u64);

const EPISODE_BITS: u32 = 20;
const UNITS_MAX: u64 = (1 << (64 - EPISODE_BITS)) - 1;
const EPISODES_MAX: u64 = (1 << EPISODE_BITS) - 1;

impl Tally {
    fn units(self) -> u64 {
        self.0 & UNITS_MAX
    }

    fn episodes(self) -> u32 {
        (self.0 >> (64 - EPISODE_BITS)) as u32
    }

    fn add(&mut self, units: u64, episodes: u64) {
        let u = (self.units() + units).min(UNITS_MAX);
        let e = (u64::from(self.episodes()) + episodes).min(EPISODES_MAX);
        self.0 = (e << (64 - EPISODE_BITS)) | u;
    }
}

/// Parts of the pair table, by a hash of the pair: threads fill parts of their own, and
/// merging them part by part never holds two whole tables at once.
const PAIR_PARTS: usize = 64;

fn pair_part(pair: u64) -> usize {
    (pair.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize
}

/// Every co-acting pair of a behaviour and its tally, in [`PAIR_PARTS`] parts.
///
/// Each part is a list of (pair, tally) records: appended to while pairing (in order of
/// memory, where a hash table would miss the cache on nearly every pair), then sorted by
/// pair with a radix sort and summed, pair by pair ([`Pairs::settle`]). A part is settled
/// whenever it has doubled since it last was, so that it never holds more than about twice
/// its distinct pairs, however many episodes they share.
struct Pairs {
    parts: Vec<Part>,
}

#[derive(Default)]
struct Part {
    records: Vec<(u64, Tally)>,
    /// Records at the last settling (they are sorted and distinct).
    settled: usize,
}

/// Records a part holds before it is first settled.
const SETTLE_MIN: usize = 1 << 16;

impl Part {
    fn push(&mut self, pair: u64, tally: Tally) {
        self.records.push((pair, tally));
        if self.records.len() >= SETTLE_MIN.max(2 * self.settled) {
            self.settle();
        }
    }

    /// Sorts the records by pair and sums those of the same pair.
    fn settle(&mut self) {
        radix_sort(&mut self.records);
        let mut kept = 0usize;
        for i in 0..self.records.len() {
            let (pair, tally) = self.records[i];
            if kept > 0 && self.records[kept - 1].0 == pair {
                self.records[kept - 1]
                    .1
                    .add(tally.units(), u64::from(tally.episodes()));
            } else {
                self.records[kept] = (pair, tally);
                kept += 1;
            }
        }
        self.records.truncate(kept);
        self.settled = kept;
    }
}

/// Sorts `records` by their key, least significant byte first, skipping the bytes all
/// keys share (pairs of account numbers leave most of them zero).
fn radix_sort(records: &mut Vec<(u64, Tally)>) {
    if records.len() < 2 {
        return;
    }
    let (mut or, mut and) = (0u64, u64::MAX);
    for &(k, _) in records.iter() {
        or |= k;
        and &= k;
    }
    let varying = or ^ and;
    let mut spare: Vec<(u64, Tally)> = vec![(0, Tally::default()); records.len()];
    for shift in (0..64).step_by(8) {
        if (varying >> shift) & 0xff == 0 {
            continue;
        }
        let mut counts = [0usize; 256];
        for &(k, _) in records.iter() {
            counts[((k >> shift) & 0xff) as usize] += 1;
        }
        let mut at = 0;
        for c in &mut counts {
            let n = *c;
            *c = at;
            at += n;
        }
        for &r in records.iter() {
            let d = ((r.0 >> shift) & 0xff) as usize;
            spare[counts[d]] = r;
            counts[d] += 1;
        }
        std::mem::swap(records, &mut spare);
    }
}

impl Pairs {
    fn new() -> Pairs {
        Pairs {
            parts: (0..PAIR_PARTS).map(|_| Part::default()).collect(),
        }
    }

    fn add(&mut self, pair: u64, units: u64) {
        let mut tally = Tally::default();
        tally.add(units, 1);
        self.parts[pair_part(pair)].push(pair, tally);
    }

    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.records.len()).sum()
    }

    fn iter(&self) -> impl Iterator<Item = (u64, Tally)> + '_ {
        self.parts.iter().flat_map(|p| p.records.iter().copied())
    }

    /// Joins the pairs found by each thread, part by part (each part's records freed
    /// once joined), the parts dealt to `threads` threads, and settles every part.
    fn join(all: Vec<Pairs>, threads: usize) -> Pairs {
        let mut sources: Vec<std::vec::IntoIter<Part>> =
            all.into_iter().map(|p| p.parts.into_iter()).collect();
        // Part by part: every thread's records of that part.
        let mut gathered: Vec<Vec<Part>> = (0..PAIR_PARTS)
            .map(|_| sources.iter_mut().filter_map(Iterator::next).collect())
            .collect();
        let settle = |parts: &mut [Vec<Part>]| {
            parts
                .iter_mut()
                .map(|pieces| {
                    let mut pieces = std::mem::take(pieces).into_iter();
                    let mut part = pieces.next().unwrap_or_default();
                    for more in pieces {
                        part.records.extend_from_slice(&more.records);
                    }
                    part.settle();
                    part.records.shrink_to_fit();
                    part
                })
                .collect::<Vec<Part>>()
        };
        let chunk = PAIR_PARTS.div_ceil(threads.max(1));
        let parts = gathered
            .par_chunks_mut(chunk)
            .flat_map_iter(settle)
            .collect();
        Pairs { parts }
    }
}

/// Splits the items into at most `threads` contiguous ranges of about equal pairing work.
fn split(
    starts: &[usize],
    threads: usize,
    pairable: &dyn Fn(usize) -> bool,
) -> Vec<std::ops::Range<usize>> {
    let n = starts.len().saturating_sub(1);
    let cost = |i: usize| -> u64 {
        if !pairable(i) {
            return 0;
        }
        let len = (starts[i + 1] - starts[i]) as u64;
        len * len.min(64)
    };
    let total: u64 = (0..n).map(cost).sum();
    let threads = threads.max(1);
    let share = total / threads as u64 + 1;
    let mut ranges = Vec::new();
    let mut begin = 0;
    let mut acc = 0;
    for i in 0..n {
        acc += cost(i);
        if acc >= share && ranges.len() + 1 < threads {
            ranges.push(begin..i + 1);
            begin = i + 1;
            acc = 0;
        }
    }
    ranges.push(begin..n);
    ranges
}

/// The bursts of an item's time-ordered actions: runs in which each action is at most
/// the window after the one before. No co-action spans two bursts.
fn bursts(group: &[Action], window: i64) -> impl Iterator<Item = &[Action]> {
    group.chunk_by(move |x, y| y.time - x.time <= window)
}

/// Calls `emit(pair, gap, first, second)` for every co-acting pair of actions of one
/// item's time-ordered group; `pair` is `(lower account << 32) | higher account`.
fn co_actions(group: &[Action], window: i64, mut emit: impl FnMut(u64, i64, &Action, &Action)) {
    for (i, x) in group.iter().enumerate() {
        for y in &group[i + 1..] {
            let gap = y.time - x.time;
            if gap > window {
                break;
            }
            if x.account != y.account {
                let (lo, hi) = if x.account < y.account {
                    (x.account, y.account)
                } else {
                    (y.account, x.account)
                };
                emit((u64::from(lo) << 32) | u64::from(hi), gap, x, y);
            }
        }
    }
}

/// Each co-acting pair and the sum of the weights of the episodes behind it.
fn pair_weights(
    sorted: &[Action],
    starts: &[usize],
    ranges: &[std::ops::Range<usize>],
    weight_of: &(dyn Fn(usize) -> u64 + Sync),
    pairable: &(dyn Fn(usize) -> bool + Sync),
    window: i64,
) -> Pairs {
    let work = |range: std::ops::Range<usize>| -> Pairs {
        let mut pairs = Pairs::new();
        let mut scratch: Vec<u64> = Vec::new();
        for i in range {
            if !pairable(i) {
                continue;
            }
            for burst in bursts(&sorted[starts[i]..starts[i + 1]], window) {
                scratch.clear();
                let mut compacted = 0usize;
                co_actions(burst, window, |pair, _, _, _| {
                    scratch.push(pair);
                    // A long burst on one item: deduplicate as we go so memory stays
                    // bounded by the burst's distinct pairs, not its co-actions.
                    if scratch.len() >= (1 << 22).max(2 * compacted) {
                        scratch.sort_unstable();
                        scratch.dedup();
                        compacted = scratch.len();
                    }
                });
                scratch.sort_unstable();
                scratch.dedup();
                let w = weight_of(i);
                for &pair in &scratch {
                    pairs.add(pair, w);
                }
            }
        }
        pairs
    };
    Pairs::join(run_ranges(ranges, &work), ranges.len())
}

/// For every kept edge and each of its items, the closest pair of posts.
fn gather_evidence(
    sorted: &[Action],
    starts: &[usize],
    ranges: &[std::ops::Range<usize>],
    pairable: &(dyn Fn(usize) -> bool + Sync),
    edge_of: &Map<u64, u32>,
    window: i64,
) -> Vec<RawEvidence> {
    let work = |range: std::ops::Range<usize>| -> Vec<RawEvidence> {
        let mut out = Vec::new();
        let mut best: Map<u32, (i64, u32, u32)> = Map::default();
        for i in range {
            if !pairable(i) {
                continue;
            }
            for burst in bursts(&sorted[starts[i]..starts[i + 1]], window) {
                best.clear();
                co_actions(burst, window, |pair, gap, x, y| {
                    let Some(&edge) = edge_of.get(&pair) else {
                        return;
                    };
                    let (pa, pb) = if x.account < y.account {
                        (x.post, y.post)
                    } else {
                        (y.post, x.post)
                    };
                    let entry = best.entry(edge).or_insert((i64::MAX, pa, pb));
                    if gap < entry.0 {
                        *entry = (gap, pa, pb);
                    }
                });
                for (&edge, &(_, post_a, post_b)) in &best {
                    out.push(RawEvidence {
                        edge,
                        item: i as u32,
                        post_a,
                        post_b,
                    });
                }
            }
        }
        out
    };
    run_ranges(ranges, &work).into_iter().flatten().collect()
}

/// Runs `work` on each range, side by side on the threads of the current pool (see
/// [`crate::on_threads`]); the results in the order of the ranges.
fn run_ranges<T: Send>(
    ranges: &[std::ops::Range<usize>],
    work: &(dyn Fn(std::ops::Range<usize>) -> T + Sync),
) -> Vec<T> {
    ranges.par_iter().map(|r| work(r.clone())).collect()
}

/// Communities of the graph of all edges (weights of a pair's behaviours added up), with
/// what each community shared.
fn clusters(accounts: &[Account], edges: &[Edge], items: &[Item]) -> Vec<Cluster> {
    let triples: Vec<(u32, u32, f64)> = edges.iter().map(|e| (e.a, e.b, e.weight)).collect();
    let community = louvain(accounts.len(), &triples);
    let n_communities = community.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_communities];
    for (a, &c) in community.iter().enumerate() {
        members[c as usize].push(a as u32);
    }
    let mut inside: Vec<Vec<u32>> = vec![Vec::new(); n_communities];
    for (i, e) in edges.iter().enumerate() {
        let c = community[e.a as usize];
        if c == community[e.b as usize] {
            inside[c as usize].push(i as u32);
        }
    }
    let mut out: Vec<Cluster> = Vec::new();
    for (members, edge_ids) in members.into_iter().zip(inside) {
        if members.len() < 2 || edge_ids.is_empty() {
            continue;
        }
        let mut weight = 0.0;
        let mut first = i64::MAX;
        let mut last = i64::MIN;
        let mut item_counts: Map<u32, u32> = Map::default();
        let mut behaviours: Vec<Behaviour> = Vec::new();
        for &ei in &edge_ids {
            let e = &edges[ei as usize];
            weight += e.weight;
            if !behaviours.contains(&e.behaviour) {
                behaviours.push(e.behaviour);
            }
            for ev in &e.evidence {
                *item_counts.entry(ev.item).or_insert(0) += 1;
                first = first.min(ev.post_a.time_ms).min(ev.post_b.time_ms);
                last = last.max(ev.post_a.time_ms).max(ev.post_b.time_ms);
            }
        }
        behaviours.sort_unstable();
        let mut item_list: Vec<(u32, u32)> = item_counts.into_iter().collect();
        item_list.sort_unstable_by(|x, y| {
            y.1.cmp(&x.1)
                .then_with(|| items[x.0 as usize].value.cmp(&items[y.0 as usize].value))
                .then(x.0.cmp(&y.0))
        });
        let mut platforms: Vec<String> = members
            .iter()
            .map(|&m| accounts[m as usize].platform.clone())
            .collect();
        platforms.sort_unstable();
        platforms.dedup();
        out.push(Cluster {
            id: 0,
            members,
            edges: edge_ids,
            items: item_list.into_iter().map(|(i, _)| i).collect(),
            weight,
            first_ms: if first == i64::MAX { 0 } else { first },
            last_ms: if last == i64::MIN { 0 } else { last },
            platforms,
            behaviours,
        });
    }
    out.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then_with(|| x.members.cmp(&y.members))
    });
    for (i, c) in out.iter_mut().enumerate() {
        c.id = i as u32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Pairs, Tally};
    use std::collections::HashMap;

    /// Pair tallies come out as a plain map would count them, across settlings within a
    /// part (hundreds of thousands of records) and the joining of several threads' parts.
    #[test]
    fn pairs_tally_as_a_map_does() {
        let mut x = 0x853c_49e6_748f_ea9b_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut expected: HashMap<u64, (u64, u32)> = HashMap::new();
        let mut threads = vec![Pairs::new(), Pairs::new(), Pairs::new()];
        for n in 0..600_000u64 {
            // Few distinct pairs, so that settling has much to sum; keys with high bits.
            let a = next() % 300;
            let b = next() % 3_000 + (n % 2) * (1 << 40);
            let pair = (a << 48) | b;
            let units = next() % 1000;
            threads[(n % 3) as usize].add(pair, units);
            let e = expected.entry(pair).or_default();
            e.0 += units;
            e.1 += 1;
        }
        let joined = Pairs::join(threads, 2);
        let got: HashMap<u64, (u64, u32)> = joined
            .iter()
            .map(|(k, t): (u64, Tally)| (k, (t.units(), t.episodes())))
            .collect();
        assert_eq!(joined.len(), expected.len(), "each pair once");
        assert_eq!(got, expected);
    }
}
