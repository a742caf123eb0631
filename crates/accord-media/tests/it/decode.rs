//! Decoding with limits.
