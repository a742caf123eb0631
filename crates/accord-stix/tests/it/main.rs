//! Integration tests for `accord-stix`: one binary, one module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod disarm;
mod fixtures;
mod model;
mod rules;
