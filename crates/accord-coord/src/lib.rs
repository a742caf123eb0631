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
