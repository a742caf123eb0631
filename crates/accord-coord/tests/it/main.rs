#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster;
mod detect;
mod input;
mod output;
mod text;
