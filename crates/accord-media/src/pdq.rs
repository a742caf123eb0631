//! The PDQ perceptual hash.
