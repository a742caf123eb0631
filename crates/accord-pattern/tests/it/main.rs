//! Integration tests for `accord-pattern`: one binary, one module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod eval;
mod invalid;
mod limits;
mod robust;
mod shape;
mod valid;
