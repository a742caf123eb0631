#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod index;
mod known_good;
mod normalize;
