//! The data that flows through detection: posts in, edges, clusters and evidence out.
//!
//! These types are the contract between the readers ([`crate::input`]), the engine
//! ([`crate::detect`]) and the writers ([`crate::output`]), so they are plain data with
//! public fields and no behaviour beyond naming.

use std::fmt;

/// One post (message, tweet, share...) as read from any input format.
///
/// A missing or empty field means "no item": an empty `repost_of` is not a repost of "",
/// an empty URL list shares no link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Post {
    /// Platform the post was made on ("x", "facebook", "telegram"...). Accounts are keyed
    /// by platform and account id together.
    pub platform: String,
    /// The posting account's id on its platform (or a keyed hash of it).
    pub account: String,
    /// The post's id on its platform.
    pub id: String,
    /// When the post was made, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The post's text, if any.
    pub text: Option<String>,
    /// Links in the post, as written.
    pub urls: Vec<String>,
    /// Hashtags in the post, without or with the leading `#`.
    pub hashtags: Vec<String>,
    /// PDQ hashes of the images or video frames attached to the post.
    pub media: Vec<[u8; 32]>,
    /// The id of the post this one reposts verbatim (retweet, share, reblog), if any.
    pub repost_of: Option<String>,
    /// The id of the post this one replies to, if any.
    pub reply_to: Option<String>,
}

/// A kind of coordinated behaviour: what two accounts must both do, on the same item and
/// within the time window, to co-act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Behaviour {
    /// Sharing the same link (canonical URL, or its registrable domain as an option).
    CoLink,
    /// Posting the same text, after normalisation.
    CoText,
    /// Posting near-duplicate text (Jaccard similarity of word shingles at a threshold).
    CoSimilarText,
    /// Posting the same or a near-identical image (PDQ within a distance).
    CoMedia,
    /// Reposting the same post.
    CoRepost,
    /// Replying to the same post.
    CoReply,
    /// Posting the same set of hashtags.
    CoHashtag,
}

impl Behaviour {
    /// Every behaviour, in the order they are reported.
    pub const ALL: [Behaviour; 7] = [
        Behaviour::CoLink,
        Behaviour::CoText,
        Behaviour::CoSimilarText,
        Behaviour::CoMedia,
        Behaviour::CoRepost,
        Behaviour::CoReply,
        Behaviour::CoHashtag,
    ];

    /// The behaviour's name on the command line and in every output: `co-link`...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::CoLink => "co-link",
            Behaviour::CoText => "co-text",
            Behaviour::CoSimilarText => "co-similar-text",
            Behaviour::CoMedia => "co-media",
            Behaviour::CoRepost => "co-repost",
            Behaviour::CoReply => "co-reply",
            Behaviour::CoHashtag => "co-hashtag",
        }
    }

    /// The behaviour named `name` (as printed by [`Behaviour::name`]), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Behaviour> {
        Behaviour::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An account that appears in at least one edge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    /// Its platform.
    pub platform: String,
    /// Its id on that platform.
    pub id: String,
}

impl Account {
    /// The account as one string, `platform:id`, used as the node id in every output.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}:{}", self.platform, self.id)
    }
}

/// A post as cited in evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostRef {
    /// The post's id on its platform (the platform is its account's).
    pub id: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub time_ms: i64,
}

/// One episode two accounts co-acted in: the item, and the closest pair of their posts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Index into [`Detection::items`].
    pub item: u32,
    /// The post of the edge's account `a`.
    pub post_a: PostRef,
    /// The post of the edge's account `b`.
    pub post_b: PostRef,
}

/// Two accounts that co-acted in one behaviour at least the minimum weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Index into [`Detection::accounts`]; `a < b`.
    pub a: u32,
    /// Index into [`Detection::accounts`].
    pub b: u32,
    /// The behaviour they co-acted in.
    pub behaviour: Behaviour,
    /// Sum, over the episodes (an item and one burst of activity on it) they co-acted in,
    /// of the item's weight (1 for an item few accounts act on, less for popular ones; see
    /// [`crate::detect`]).
    pub weight: f64,
    /// Evidence: one entry per episode, the closest pair of posts in it.
    pub evidence: Vec<Evidence>,
}

/// An item accounts co-acted on.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The behaviour it belongs to.
    pub behaviour: Behaviour,
    /// What it is, readably: the canonical URL (or domain), the text, the hashtag set
    /// (`#a #b`), the PDQ hash in hex, or `platform:post id` for reposts and replies.
    pub value: String,
    /// Distinct accounts that acted on it in the whole input.
    pub accounts: u32,
    /// The weight one co-action on it adds to an edge (see [`Edge::weight`]).
    pub weight: f64,
}

/// A community of accounts found in the graph of edges.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Number of the cluster, from 0, largest total weight first.
    pub id: u32,
    /// Indices into [`Detection::accounts`], sorted.
    pub members: Vec<u32>,
    /// Indices into [`Detection::edges`] of the edges between members.
    pub edges: Vec<u32>,
    /// Indices into [`Detection::items`] the members co-acted on, most co-actions first.
    pub items: Vec<u32>,
    /// Sum of the weights of its edges.
    pub weight: f64,
    /// Earliest and latest evidence post, in milliseconds since the Unix epoch.
    pub first_ms: i64,
    /// See `first_ms`.
    pub last_ms: i64,
    /// Platforms of its members, sorted.
    pub platforms: Vec<String>,
    /// Behaviours of its edges, in [`Behaviour::ALL`] order.
    pub behaviours: Vec<Behaviour>,
}

/// Counts a person reads to judge a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Posts accepted.
    pub posts: u64,
    /// Distinct accounts among them.
    pub accounts: u64,
    /// Per behaviour (in [`Behaviour::ALL`] order, only those selected): actions taken,
    /// distinct items, items skipped as viral, co-acting account pairs found before the
    /// minimum weight, edges kept.
    pub behaviours: Vec<BehaviourStats>,
}

/// Counts for one behaviour; see [`Stats::behaviours`].
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourStats {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Actions (post, item) considered.
    pub actions: u64,
    /// Distinct items.
    pub items: u64,
    /// Items acted on by more than the viral limit of accounts, whose co-actions were not
    /// paired.
    pub viral_items: u64,
    /// Account pairs that co-acted at least once.
    pub pairs: u64,
    /// Edges at or above the minimum weight.
    pub edges: u64,
}

/// Everything a detection run found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detection {
    /// Accounts that appear in an edge.
    pub accounts: Vec<Account>,
    /// Edges, by behaviour then weight, heaviest first.
    pub edges: Vec<Edge>,
    /// Items cited by evidence.
    pub items: Vec<Item>,
    /// Clusters, heaviest first.
    pub clusters: Vec<Cluster>,
    /// Counts.
    pub stats: Stats,
}
