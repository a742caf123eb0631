//! Route tests for the TAXII server: the real router and a real SQLite file, no socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod hardening;
mod harness;
mod matching;
mod media;
mod random;
mod sightings;
mod taxii;
