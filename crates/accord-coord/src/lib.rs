//! Coordination detection for Accord: find the accounts that act together.
//!
//! Posts from one or several platforms go in; out come the pairs of accounts that did the
//! same thing (shared a link, posted a text or image, reposted or replied to a post, used
//! a set of hashtags) on the same item within seconds of each other, again and again; the
//! clusters those pairs form; and, for every edge, the posts behind it.
//!
//! This crate is pure: it reads input files it is pointed at and writes outputs to
//! writers it is handed, but knows nothing of HTTP, storage or the exchange.

pub mod batch;
pub mod cluster;
pub mod detect;
pub mod input;
mod intern;
pub mod model;
pub mod output;
pub mod similar;
mod spill;
pub mod text;

pub use batch::{Batch, PostView};
pub use detect::{Config, DetectError, Detector, Prepared, Preparer};
pub use model::{Behaviour, Detection, Post};

/// Runs `work` on a pool of its own of `threads` threads (at least one), on which the
/// parallel steps of reading, detection and output within it run; returns what it
/// returns. (Building `accord-media`'s index for co-media, once a run, still starts
/// threads of its own.)
///
/// Outside such a pool those steps run on the process-wide pool (one thread per core),
/// [`Config::threads`] still deciding how the work is split. A pool of its own keeps the
/// threads for the whole run: a thread started for each step would come with fresh
/// memory of its own for the allocator to map, which costs more than a small run's work.
/// Should the pool not start, `work` runs on the calling thread.
pub fn on_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("accord-coord-{i}"))
        // As much stack as the main thread has.
        .stack_size(8 << 20)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}
