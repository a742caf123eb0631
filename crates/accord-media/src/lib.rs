//! Media matching for Accord: PDQ perceptual hashes of images, bit-exact with the reference
//! algorithm, and an exact search of many hashes by Hamming distance.
//!
//! This crate is pure: no I/O beyond decoding bytes it is handed, no storage, no HTTP.

pub mod decode;
pub mod index;
pub mod pdq;
