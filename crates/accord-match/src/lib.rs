//! Bulk indicator matching for Accord: observables in canonical form, and an index of
//! indicator patterns that finds the indicators an observable hits without evaluating them all.
//!
//! - [`normalize`] puts observables (URLs, domains, IP addresses and ranges, e-mail
//!   addresses, file hashes, social-media accounts) and the pattern constants compared with
//!   them into one canonical form, so `HTTP://Vote-Example.COM:80/a/../b` and
//!   `http://vote-example.com/b` are the same observable.
//! - [`Index`] files indicator patterns under hash keys derived from them (module `compile`
//!   says how) and answers, for an observable or a set of observations, which patterns it
//!   hits, confirming by evaluation where a key alone does not decide.
//! - [`known_good`] holds lists of values never to report (an organisation's own, the
//!   exchange's), with the entry that suppressed a hit so the suppression can be reported.
//!
//! This crate is pure: no I/O, no storage, no HTTP.

mod compile;
mod index;
pub mod input;
pub mod known_good;
pub mod normalize;

pub use compile::canonical;
pub use index::{EntryId, Hit, Index, IndexError, Stats};
