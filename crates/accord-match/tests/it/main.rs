//! Integration tests for `accord-match`: one binary, one module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod known_good;
mod normalize;
