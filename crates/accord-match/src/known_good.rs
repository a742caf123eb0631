//! Lists of known-good values.
