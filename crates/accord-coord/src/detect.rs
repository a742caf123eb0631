//! The engine: posts to actions, actions to co-acting account pairs within a sliding time
//! window, pairs to weighted edges, edges to clusters with evidence.

use crate::model::Behaviour;

/// What to detect and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Behaviours to detect, each on its own.
    pub behaviours: Vec<Behaviour>,
    /// Two actions on the same item co-act when at most this many milliseconds apart.
    pub window_ms: i64,
    /// Edges lighter than this are dropped.
    pub min_weight: f64,
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            behaviours: Behaviour::ALL.to_vec(),
            window_ms: 60_000,
            min_weight: 5.0,
            link_domain: false,
            similarity: 0.8,
            shingle: 1,
            min_shingles: 4,
            pdq_distance: 31,
            popular: 100,
            viral: 5_000,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}
