//! A seeded generator (SplitMix64) for the workload: small, fast, and the same sequence on
//! every platform and every version of this benchmark, so a seed names one workload.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; the bias is below 2^-32 for the sizes used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    pub fn hash(&mut self) -> [u8; 32] {
        let mut h = [0u8; 32];
        for chunk in h.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        h
    }

    /// `hash` with exactly `d` distinct bits flipped (`d <= 256`).
    pub fn flip(&mut self, hash: &[u8; 32], d: u32) -> [u8; 32] {
        let mut bits: Vec<u16> = (0..256).collect();
        let mut out = *hash;
        for i in 0..d as usize {
            let j = i + self.below((256 - i) as u64) as usize;
            bits.swap(i, j);
            let b = usize::from(bits[i]);
            out[b / 8] ^= 1 << (b % 8);
        }
        out
    }
}
