//! Numbering distinct 128-bit keys (accounts, items) in the order they are first seen.
//!
//! Taking posts in order is the one part of a run that cannot be split between threads,
//! and most of its time went to hash-table lookups missing the cache: a general-purpose
//! map keeps its control bytes apart from its entries, two misses a lookup. The keys here
//! are already hashes of good quality, so an open-addressing table with the key and its
//! number side by side in one 16-byte slot does with one, and [`Interner::find_many`]
//! looks up a whole batch before anything is inserted, so that the processor waits for
//! several misses at once instead of one after the other.

/// Distinct keys, numbered from 0 in order of insertion.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    /// Each slot: 96 bits of the key in three words (the high 64 bits, then the low 32),
    /// then its number plus one (0: empty). Two distinct keys agreeing on 96 bits are as
    /// good as impossible: among 2^32 keys, the most that can be numbered, the chance is
    /// below one in 2^32.
    slots: Vec<[u32; 4]>,
    len: u32,
    /// `64 - log2(slots.len())`.
    shift: u32,
}

/// Answer of [`Interner::find_many`] for a key not there.
pub(crate) const ABSENT: u32 = u32::MAX;

fn words(key: u128) -> [u32; 3] {
    [(key >> 96) as u32, (key >> 64) as u32, key as u32]
}

impl Interner {
    /// Keys so far.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len as usize
    }

    /// Where `key` is looked for first; from the 96 bits kept only, so that a rebuilt
    /// table finds it again.
    fn home(&self, key: u128) -> usize {
        let folded = (key >> 64) as u64 ^ u64::from(key as u32).rotate_left(29);
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The number of `key`, if it is there.
    #[cfg(test)]
    fn find(&self, key: u128) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.find_from(key, self.home(key))
    }

    /// [`Interner::find`], probing from slot `i` on.
    fn find_from(&self, key: u128, mut i: usize) -> Option<u32> {
        let w = words(key);
        let mask = self.slots.len() - 1;
        loop {
            let s = &self.slots[i];
            if s[3] == 0 {
                return None;
            }
            if s[..3] == w {
                return Some(s[3] - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// The number of each key in `keys` ([`ABSENT`] for those not there), appended to
    /// `out`.
    ///
    /// The keys go sixteen at a time: the home slots of all sixteen are read first, with
    /// no branch between the reads, so that their cache misses overlap; then each key is
    /// settled from its home slot, mostly without probing further.
    pub(crate) fn find_many(&self, keys: impl Iterator<Item = u128>, out: &mut Vec<u32>) {
        const GROUP: usize = 16;
        if self.slots.is_empty() {
            out.extend(keys.map(|_| ABSENT));
            return;
        }
        let mask = self.slots.len() - 1;
        let mut keys = keys.peekable();
        while keys.peek().is_some() {
            let mut group = [0u128; GROUP];
            let mut n = 0;
            for (slot, key) in group.iter_mut().zip(keys.by_ref()) {
                *slot = key;
                n += 1;
            }
            let group = &group[..n];
            let mut homes = [0usize; GROUP];
            let mut first = [[0u32; 4]; GROUP];
            for ((home, seen), &key) in homes.iter_mut().zip(&mut first).zip(group) {
                *home = self.home(key) & mask;
                *seen = self.slots[*home];
            }
            for ((&key, &home), seen) in group.iter().zip(&homes).zip(&first) {
                let answer = if seen[3] == 0 {
                    ABSENT
                } else if seen[..3] == words(key) {
                    seen[3] - 1
                } else {
                    self.find_from(key, (home + 1) & mask).unwrap_or(ABSENT)
                };
                out.push(answer);
            }
        }
    }

    /// [`Interner::intern`], unless `known` (an answer of [`Interner::find_many`] made
    /// since the last insert of this key could have happened) gives the number already.
    pub(crate) fn intern_known(&mut self, key: u128, known: u32) -> (u32, bool) {
        if known == ABSENT {
            self.intern(key)
        } else {
            (known, false)
        }
    }

    /// The number of `key`, inserting it if new; and whether it was.
    pub(crate) fn intern(&mut self, key: u128) -> (u32, bool) {
        // At most three quarters full.
        if (self.len as usize + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let w = words(key);
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = &mut self.slots[i];
            if s[3] == 0 {
                let n = self.len;
                // 2^32 - 1 keys would take a table of 128 GiB, far past any machine this
                // runs on; the check costs nothing.
                assert!(n < u32::MAX - 1, "more than 2^32 - 2 distinct keys");
                *s = [w[0], w[1], w[2], n + 1];
                self.len += 1;
                return (n, true);
            }
            if s[..3] == w {
                return (s[3] - 1, false);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![[0; 4]; size]);
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for s in old.into_iter().filter(|s| s[3] != 0) {
            let key = (u128::from(s[0]) << 96) | (u128::from(s[1]) << 64) | u128::from(s[2]);
            let mut i = self.home(key);
            while self.slots[i][3] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn numbers_follow_first_sight_and_match_a_map() {
        let mut interner = Interner::default();
        let mut map: HashMap<u128, u32> = HashMap::new();
        let mut x = 0x1234_5678_9abc_def0_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..50_000u32 {
            // Few distinct keys, some sharing a half, and 0 itself.
            let r = next() % 7_000;
            let key = match r % 3 {
                0 => u128::from(r),
                1 => u128::from(r) << 64,
                _ => (u128::from(r) << 64) | u128::from(r),
            };
            let n = map.len() as u32;
            let expected = *map.entry(key).or_insert(n);
            assert_eq!(
                interner.intern(key),
                (expected, expected == n),
                "round {round}"
            );
            assert_eq!(interner.find(key), Some(expected));
        }
        assert_eq!(interner.len(), map.len());
        // Keys of every form, present and absent, in a batch that is no multiple of the
        // groups `find_many` reads at once.
        let keys: Vec<u128> = (0..10_007u128)
            .flat_map(|k| [k, k << 64, (k << 64) | k])
            .collect();
        let mut found = Vec::new();
        interner.find_many(keys.iter().copied(), &mut found);
        assert_eq!(found.len(), keys.len());
        for (k, f) in keys.iter().zip(found) {
            assert_eq!(map.get(k).copied().unwrap_or(ABSENT), f, "{k:x}");
        }
        assert_eq!(Interner::default().find(0), None);
        let mut none = Vec::new();
        Interner::default().find_many(keys.iter().copied().take(20), &mut none);
        assert_eq!(none, vec![ABSENT; 20]);
    }
}
