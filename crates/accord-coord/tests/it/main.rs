#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster;
mod detect;
mod output;
mod text;
