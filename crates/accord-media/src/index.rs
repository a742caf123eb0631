//! Multi-index hashing: exact search of PDQ hashes by Hamming distance.
