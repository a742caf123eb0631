//! Where the commas, quotes and line ends of a CSV chunk are, found sixty-four bytes at
//! a time.
//!
//! Splitting a record means finding, field after field, the next comma, quote, `\r` or
//! `\n`. Most fields are short (ids, times, empty cells), so looking for each one with a
//! search of its own spends more on starting searches than on looking at bytes.
//! [`Scan`] instead compares each block of 64 bytes with the four bytes at once (with
//! vector instructions where the machine has them) into a mask of one bit per byte, and
//! answers "the next such byte at or after `i`" from the mask, mostly without touching
//! the bytes again.

use wide::u8x16;

/// Bytes per block (one bit each in a `u64`).
const BLOCK: usize = 64;

/// The next comma, quote, `\r` or `\n` of `bytes`, at or after a position, found in
/// blocks of 64 bytes; positions are asked for mostly in increasing order.
pub(super) struct Scan<'a> {
    bytes: &'a [u8],
    /// The block whose mask is in `mask` (`usize::MAX`: none yet).
    block: usize,
    mask: u64,
}

impl<'a> Scan<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Scan<'a> {
        Scan {
            bytes,
            block: usize::MAX,
            mask: 0,
        }
    }

    /// The first comma, quote, `\r` or `\n` at or after `from`.
    #[inline]
    pub(super) fn next(&mut self, from: usize) -> Option<usize> {
        let mut block = from / BLOCK;
        if block != self.block {
            self.load(block)?;
        }
        let mut mask = self.mask & (u64::MAX << (from % BLOCK));
        loop {
            if mask != 0 {
                return Some(block * BLOCK + mask.trailing_zeros() as usize);
            }
            block += 1;
            self.load(block)?;
            mask = self.mask;
        }
    }

    /// Makes `block` the current block; `None` past the end of the bytes.
    fn load(&mut self, block: usize) -> Option<()> {
        let start = block.checked_mul(BLOCK)?;
        let rest = self.bytes.get(start..).filter(|r| !r.is_empty())?;
        self.mask = match rest.get(..BLOCK) {
            Some(whole) => mask(whole),
            None => {
                // The last, short block: padded with bytes that are none of the four.
                let mut padded = [0u8; BLOCK];
                padded
                    .get_mut(..rest.len())
                    .unwrap_or_default()
                    .copy_from_slice(rest);
                mask(&padded)
            }
        };
        self.block = block;
        Some(())
    }
}

/// One bit per byte of `block` (64 bytes): set for a comma, quote, `\r` or `\n`.
fn mask(block: &[u8]) -> u64 {
    let (comma, quote, cr, lf) = (
        u8x16::splat(b','),
        u8x16::splat(b'"'),
        u8x16::splat(b'\r'),
        u8x16::splat(b'\n'),
    );
    let mut bits = 0u64;
    for (k, part) in block.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(part);
        let v = u8x16::new(lanes);
        let hits = v.simd_eq(comma) | v.simd_eq(quote) | v.simd_eq(cr) | v.simd_eq(lf);
        bits |= u64::from(hits.to_bitmask()) << (16 * k);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn special(b: u8) -> bool {
        matches!(b, b',' | b'"' | b'\r' | b'\n')
    }

    /// Every position of every length of input is answered as a byte-by-byte search
    /// answers it, asked in order, out of order and from past the end.
    #[test]
    fn finds_what_a_byte_by_byte_search_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"ab,\"\r\n \xff\x00";
        for len in (0..200).chain([1000, 4096]) {
            for density in [1u64, 4, 30] {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = random();
                        if r % 31 < density {
                            alphabet[(r >> 8) as usize % alphabet.len()]
                        } else {
                            b'x'
                        }
                    })
                    .collect();
                let expect = |from: usize| {
                    bytes
                        .get(from..)
                        .and_then(|r| r.iter().position(|&b| special(b)))
                        .map(|k| from + k)
                };
                let mut scan = Scan::new(&bytes);
                for from in 0..=len + 70 {
                    assert_eq!(scan.next(from), expect(from), "len {len}, from {from}");
                }
                let mut scan = Scan::new(&bytes);
                for _ in 0..300 {
                    let from = (random() % (len as u64 + 80)) as usize;
                    assert_eq!(scan.next(from), expect(from), "len {len}, from {from}");
                }
            }
        }
    }
}
