//! Decoding images into pixels, with limits.
