//! Multi-index hashing: exact search of 256-bit hashes (PDQ) by Hamming distance.
//!
//! A hash bank holds millions of hashes and a query asks for every hash within some
//! radius of a given one. Comparing against all of them costs a pass over the whole bank
//! per query, so this index follows Norouzi, Punjani and Fleet ("Fast Search in Hamming
//! Space with Multi-Index Hashing"): each hash is cut into `m` disjoint substrings, each
//! substring has a table from its value to the entries having that value, and a query at
//! radius `r = m·q + a` only looks up, in the first `a + 1` substrings, the values within
//! `q` bits of the query's, and in the others those within `q - 1` bits. By the pigeonhole
//! principle every hash within `r` is found in at least one of those look-ups, so
//! verifying each candidate by its full Hamming distance gives exactly the answer of a
//! linear scan, never an approximation.
//!
//! Why it is shaped so:
//! - **Substring width follows the bank size.** With substrings of about `log2(n)` bits a
//!   table bucket holds about one entry, which balances look-ups against candidates
//!   (Norouzi's advice). A part of the index with fewer than [`MIN_TABLED`] entries is not
//!   tabled at all but scanned.
//! - **Memory.** Each hash is stored once (32 bytes). Each substring table stores only
//!   entry numbers (4 bytes each) grouped by substring value, CSR-style, so no key is
//!   stored per entry; the bucket boundaries are packed 59 buckets to a cache line (a `u32`
//!   base and 60 `u8` offsets, about 1.08 bytes per bucket), falling back to plain `u32`
//!   offsets for a substring whose buckets are too crowded for a byte. At ten million
//!   hashes that is 11 substrings: 32 + 44 + about 12.7 bytes per hash.
//! - **Reads in flight.** At ten million hashes a query at radius 31 makes about 2,900
//!   look-ups and verifies about 2,900 candidates: some 6,000 reads of unrelated cache lines
//!   in tables far larger than the caches. It waits on memory, not on counting bits, so
//!   its speed is how many of those reads are under way at once. A query therefore goes
//!   through its look-ups in chunks and in stages (keys, then bucket boundaries, then
//!   postings, then hashes), each stage prefetching what the next one reads, rather than
//!   following each look-up to its end before starting the next (see `Segment::search`).
//!   [`Index::query_many`] adds the cores.
//! - **Serving while changing.** Tables are immutable once built. New entries go to a
//!   small list that every query scans; when it fills it is merged into a "recent" part
//!   with its own tables, and when that grows past a sixteenth of the main part
//!   everything is rebuilt into one. Removal only marks the entry; its stale postings are
//!   skipped at verification and dropped at the next rebuild. Ids are never reused.
//! - **Cost model.** For large radii the look-ups outnumber the entries, so each query
//!   compares the estimated cost of the index with a linear scan and takes the cheaper,
//!   which also makes every radius up to 256 valid.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// Number of bits in a hash.
const BITS: u32 = 256;
/// Size the list of unindexed recent entries may reach before it is tabled.
const PENDING_MAX: usize = 4096;
/// Smallest number of entries worth building substring tables for; smaller parts are
/// scanned.
pub const MIN_TABLED: usize = 1024;
/// Widest substring used, which bounds the size of one table to `2^26` buckets.
const MAX_WIDTH: u32 = 26;
/// Buckets per packed block of bucket boundaries (one 64-byte cache line holding a base
/// and the 60 boundaries of 59 buckets).
const BLOCK: usize = 59;
/// Look-ups handled together in one pass of [`Segment::search`]: enough to keep many
/// memory reads in flight, few enough that what they bring stays in the core's caches.
const CHUNK: usize = 512;
/// Cost of comparing one stored hash in a linear scan, in the units of
/// [`Segment::cost`] (one random read). Measured where the choice matters, near radius 70,
/// at one and at ten million hashes: there half a random hash is often within the radius,
/// so the scan's early rejection fails and mispredicts, and the table look-ups' reads
/// overlap each other; the two methods cost the same at about 0.45.
const SCAN_COST: f64 = 0.45;

/// A 256-bit hash, most significant byte first, as PDQ produces it.
pub type Hash = [u8; 32];

/// Identifies one entry of an [`Index`]. Ids are handed out in increasing order and never
/// reused, so a stale id of a removed entry never designates a newer one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u32);

impl Id {
    /// The id as a number, for storing it elsewhere.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }

    /// An id from a number previously obtained by [`Id::get`].
    #[must_use]
    pub fn from_u32(n: u32) -> Self {
        Self(n)
    }

    fn slot(self) -> usize {
        self.0 as usize
    }
}

/// One answer to a query: an entry and its Hamming distance to the query hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Match {
    /// Bits that differ between the query and the entry's hash (0..=256).
    pub distance: u32,
    /// The matching entry.
    pub id: Id,
}

/// Why an index refused an operation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexError {
    /// Every id has been handed out: an index holds at most `u32::MAX` insertions over
    /// its lifetime, removed entries included.
    #[error("the index is full: all {} ids have been used", u32::MAX)]
    Full,
}

/// How a query is answered; all methods give the same answer at different costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Method {
    /// Whichever of the others is estimated cheaper for the radius and index size.
    #[default]
    Auto,
    /// Look-ups in the substring tables, whatever the radius. At large radii the number
    /// of look-ups grows combinatorially: meant for testing and measuring.
    Tables,
    /// A comparison with every stored hash.
    Scan,
}

/// Asks the processor to start loading the cache line of `x`, without waiting for it.
///
/// A query reads thousands of unrelated cache lines from an index far larger than the
/// caches, so its speed is the number of reads in flight at once. On ten million hashes,
/// stages that touched the next stage's lines with plain loads answered about 11,500
/// queries per second on one core, the same stages with prefetches about 16,500: a load
/// holds its place in the reorder buffer until the line arrives, a prefetch retires at
/// once. Stable Rust has no safe prefetch, hence the one `unsafe` block of the crate.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch<T>(x: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    // SAFETY: `_mm_prefetch` only needs SSE, which the `cfg` guarantees (it is part of
    // the x86-64 baseline). A prefetch is a hint: it reads nothing into the program,
    // cannot fault, and `x` is a live reference anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast::<i8>());
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = x;
}

/// A stored hash, aligned so that it never straddles a cache line.
#[derive(Clone, Copy)]
#[repr(align(32))]
struct Stored(Hash);

/// The Hamming distance between two hashes if it is at most `r`. Most candidates are
/// far, and half the hash almost always tells so: without a popcount instruction in the
/// baseline x86-64 target, counting bits is most of the cost of verification.
#[inline]
fn within(a: &Hash, b: &Hash, r: u32) -> Option<u32> {
    let (x, _) = a.as_chunks::<8>();
    let (y, _) = b.as_chunks::<8>();
    let word = |i: usize| match (x.get(i), y.get(i)) {
        (Some(x), Some(y)) => (u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y)).count_ones(),
        _ => 0,
    };
    let half = word(0) + word(1);
    if half > r {
        return None;
    }
    let d = half + word(2) + word(3);
    (d <= r).then_some(d)
}

/// The hash as four words, most significant first, for cutting substrings.
fn words(h: &Hash) -> [u64; 4] {
    let (chunks, _) = h.as_chunks::<8>();
    let mut out = [0u64; 4];
    for (w, c) in out.iter_mut().zip(chunks) {
        *w = u64::from_be_bytes(*c);
    }
    out
}

/// Where one substring lies in a hash: `width` bits read from a 128-bit window over
/// words `word` and `word + 1`, shifted right by `shift`.
#[derive(Clone, Copy, Debug)]
struct Part {
    word: usize,
    shift: u32,
    width: u32,
}

impl Part {
    /// The substring of `width` bits starting at bit `start` (bit 0 is the most
    /// significant bit of the first byte). Requires `start + width <= 256`, `width <= 32`.
    fn new(start: u32, width: u32) -> Self {
        let word = (start / 64) as usize;
        let offset = start % 64;
        Self {
            word,
            shift: 128 - offset - width,
            width,
        }
    }

    #[inline]
    fn key(&self, w: &[u64; 4]) -> u32 {
        let hi = u128::from(w.get(self.word).copied().unwrap_or(0));
        let lo = u128::from(w.get(self.word + 1).copied().unwrap_or(0));
        let window = (hi << 64) | lo;
        let mask = (1u128 << self.width) - 1;
        // The mask keeps at most 32 bits, so the conversion never truncates.
        ((window >> self.shift) & mask) as u32
    }
}

/// How to cut hashes into substrings for a part holding `n` entries: widths of about
/// `log2(n)` bits, the wider ones first.
fn layout(n: usize) -> Vec<Part> {
    let log = usize::BITS - n.max(2).leading_zeros() - 1;
    let width = log.clamp(8, MAX_WIDTH - 1);
    let m = BITS / width;
    let base = BITS / m;
    let extra = BITS % m;
    let mut parts = Vec::with_capacity(m as usize);
    let mut start = 0;
    for k in 0..m {
        let w = base + u32::from(k < extra);
        parts.push(Part::new(start, w));
        start += w;
    }
    parts
}

/// The boundaries of 59 buckets in one cache line: bucket `i` of the block holds the
/// postings `base + rel[i]..base + rel[i + 1]`, so that a look-up reads one line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block {
    base: u32,
    rel: [u8; BLOCK + 1],
}

/// Bucket boundaries of one substring table.
enum Offsets {
    /// Packed boundaries, one [`Block`] per 59 buckets.
    Packed(Vec<Block>),
    /// One `u32` per bucket plus the total, for tables with crowded buckets.
    Wide(Vec<u32>),
}

impl Offsets {
    /// Starts loading the boundaries of bucket `key`.
    #[inline]
    fn prefetch(&self, key: u32) {
        let key = key as usize;
        match self {
            Self::Packed(blocks) => {
                if let Some(block) = blocks.get(key / BLOCK) {
                    prefetch(block);
                }
            }
            Self::Wide(offsets) => {
                if let Some(start) = offsets.get(key) {
                    prefetch(start);
                }
            }
        }
    }

    /// The range of postings of bucket `key`.
    #[inline]
    fn range(&self, key: u32) -> (usize, usize) {
        let key = key as usize;
        match self {
            Self::Packed(blocks) => match blocks.get(key / BLOCK) {
                Some(block) => {
                    let i = key % BLOCK;
                    let start = block.base + u32::from(block.rel[i]);
                    let end = block.base + u32::from(block.rel[i + 1]);
                    (start as usize, end as usize)
                }
                None => (0, 0),
            },
            Self::Wide(offsets) => match (offsets.get(key), offsets.get(key + 1)) {
                (Some(&s), Some(&e)) => (s as usize, e as usize),
                _ => (0, 0),
            },
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Packed(b) => b.capacity() * size_of::<Block>(),
            Self::Wide(w) => w.capacity() * size_of::<u32>(),
        }
    }
}

/// The table of one substring: entry numbers grouped by substring value.
struct Table {
    offsets: Offsets,
    postings: Vec<u32>,
}

impl Table {
    /// Groups `ids` by their value of substring `part` (a counting sort, which keeps the
    /// ids of one bucket in their given order).
    fn build(part: Part, ids: &[u32], store: &[Stored]) -> Self {
        let key_of = |id: u32| {
            store
                .get(id as usize)
                .map_or(0, |s| part.key(&words(&s.0)) as usize)
        };
        let mut postings = vec![0u32; ids.len()];
        // Counted in bytes, and placed through the packed blocks themselves: the build
        // holds nothing the size of a `u32` per bucket unless some block is too crowded.
        let mut counts = vec![0u8; 1 << part.width];
        for &id in ids {
            if let Some(c) = counts.get_mut(key_of(id)) {
                *c = c.saturating_add(1);
            }
        }
        if let Some(mut blocks) = Self::starts(&counts) {
            drop(counts);
            for &id in ids {
                let key = key_of(id);
                if let Some(block) = blocks.get_mut(key / BLOCK)
                    && let Some(cursor) = block.rel.get_mut(key % BLOCK + 1)
                    && let Some(slot) = postings.get_mut((block.base + u32::from(*cursor)) as usize)
                {
                    *slot = id;
                    *cursor += 1;
                }
            }
            return Self {
                offsets: Offsets::Packed(blocks),
                postings,
            };
        }
        drop(counts);
        // Too crowded to pack: plain `u32` boundaries, `starts[k + 1]` made the start of
        // bucket `k` (counting it at `k + 2` and summing), which placing moves to its end.
        let mut starts = vec![0u32; (1 << part.width) + 1];
        for &id in ids {
            if let Some(count) = starts.get_mut(key_of(id) + 2) {
                *count += 1;
            }
        }
        for k in 2..starts.len() {
            starts[k] += starts[k - 1];
        }
        for &id in ids {
            if let Some(cursor) = starts.get_mut(key_of(id) + 1)
                && let Some(slot) = postings.get_mut(*cursor as usize)
            {
                *slot = id;
                *cursor += 1;
            }
        }
        Self {
            offsets: Offsets::Wide(starts),
            postings,
        }
    }

    /// Packed blocks from the number of postings of each bucket (saturated at 255), with
    /// `rel[i + 1]` holding the start of bucket `i`, as cursors for placing postings (each
    /// ends at the end of its bucket, `rel[i + 1]` as [`Block`] reads it); `None` if some
    /// block would hold 255 postings or more.
    fn starts(counts: &[u8]) -> Option<Vec<Block>> {
        let mut blocks = Vec::with_capacity(counts.len().div_ceil(BLOCK));
        let mut base = 0u32;
        for chunk in counts.chunks(BLOCK) {
            let mut rel = [0u8; BLOCK + 1];
            let mut start = 0u8;
            for (r, &count) in rel.iter_mut().skip(1).zip(chunk) {
                *r = start;
                // A count of 255 may have been more.
                start = start.checked_add(count).filter(|_| count < u8::MAX)?;
            }
            blocks.push(Block { base, rel });
            base += u32::from(start);
        }
        Some(blocks)
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.heap_bytes() + self.postings.capacity() * size_of::<u32>()
    }
}

/// The buffers of [`Segment::search`], kept between the queries of one thread.
struct Scratch {
    /// `(table, key)` of the buckets to read.
    probes: Vec<(u32, u32)>,
    /// `(table, start, end)` of the non-empty ones' postings.
    ranges: Vec<(u32, u32, u32)>,
    /// The entries listed by those postings.
    candidates: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            probes: Vec::with_capacity(CHUNK),
            ranges: Vec::new(),
            candidates: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.probes.clear();
        self.ranges.clear();
        self.candidates.clear();
    }
}

/// An immutable set of entries searched together: tabled if large enough, else scanned.
struct Segment {
    parts: Vec<Part>,
    tables: Vec<Table>,
    /// The entries when there are no tables (with tables, each table lists them all).
    loose: Vec<u32>,
}

impl Segment {
    fn empty() -> Self {
        Self {
            parts: Vec::new(),
            tables: Vec::new(),
            loose: Vec::new(),
        }
    }

    /// Builds a segment over `ids`, with one thread per core for the tables.
    fn build(ids: Vec<u32>, store: &[Stored]) -> Self {
        if ids.len() < MIN_TABLED {
            return Self {
                parts: Vec::new(),
                tables: Vec::new(),
                loose: ids,
            };
        }
        let parts = layout(ids.len());
        let threads = thread::available_parallelism().map_or(1, usize::from);
        let per = parts.len().div_ceil(threads);
        let ids_ref = &ids;
        let tables = thread::scope(|s| {
            let handles: Vec<_> = parts
                .chunks(per)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|&p| Table::build(p, ids_ref, store))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut tables = Vec::with_capacity(parts.len());
            for h in handles {
                match h.join() {
                    Ok(t) => tables.extend(t),
                    // A panic while building is a bug; propagate it rather than serve a
                    // segment missing a table.
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
            tables
        });
        Self {
            parts,
            tables,
            loose: Vec::new(),
        }
    }

    fn ids(&self) -> &[u32] {
        self.tables.first().map_or(&self.loose, |t| &t.postings)
    }

    fn len(&self) -> usize {
        self.ids().len()
    }

    /// Radius to search in each substring for an overall radius `r`, or `None` for a
    /// substring that needs no look-up.
    fn radii(&self, r: u32) -> impl Iterator<Item = Option<u32>> + '_ {
        let m = self.parts.len() as u32;
        let (q, a) = (r / m.max(1), r % m.max(1));
        (0..m).map(move |k| if k <= a { Some(q) } else { q.checked_sub(1) })
    }

    /// Estimated cost of answering at radius `r` through the tables, in random accesses.
    fn cost(&self, r: u32) -> f64 {
        if self.tables.is_empty() {
            return self.loose.len() as f64 * SCAN_COST;
        }
        let n = self.len() as f64;
        let mut total = 0.0;
        for (part, radius) in self.parts.iter().zip(self.radii(r)) {
            let Some(radius) = radius else { continue };
            let probes = ball(part.width, radius);
            let per_bucket = n / f64::from(part.width).exp2();
            total += probes * (2.0 + per_bucket);
        }
        total
    }

    /// Appends `(distance, id)` for every entry within `r` of `q` (live or not, possibly
    /// more than once).
    ///
    /// A query at radius 31 over ten million hashes makes about 2,900 look-ups and
    /// verifies about 2,900 candidates, each a read of an unrelated cache line: its speed
    /// is how many of those reads are in flight at once. So the look-ups go in chunks of
    /// [`CHUNK`], each through stages, every stage starting the reads of the next: the
    /// probed keys (prefetching their bucket boundaries), their ranges of postings
    /// (prefetching those), the candidates (prefetching their hashes), the verification.
    fn search(
        &self,
        store: &[Stored],
        q: &Hash,
        r: u32,
        scratch: &mut Scratch,
        out: &mut Vec<(u32, u32)>,
    ) {
        if self.tables.is_empty() {
            scan(store, self.loose.iter().copied(), q, r, out);
            return;
        }
        let qw = words(q);
        scratch.clear();
        let tabled = self.parts.iter().zip(&self.tables).zip(self.radii(r));
        for (t, ((part, table), radius)) in (0u32..).zip(tabled) {
            let Some(radius) = radius else { continue };
            let key = part.key(&qw);
            for flips in Flips::new(part.width, radius) {
                let probe = key ^ flips;
                table.offsets.prefetch(probe);
                scratch.probes.push((t, probe));
                if scratch.probes.len() == CHUNK {
                    self.finish_chunk(store, q, r, scratch, out);
                }
            }
        }
        self.finish_chunk(store, q, r, scratch, out);
    }

    /// The stages of [`Segment::search`] after the first, over the probes gathered.
    fn finish_chunk(
        &self,
        store: &[Stored],
        q: &Hash,
        r: u32,
        scratch: &mut Scratch,
        out: &mut Vec<(u32, u32)>,
    ) {
        let Scratch {
            probes,
            ranges,
            candidates,
        } = scratch;
        for &(t, probe) in probes.iter() {
            let Some(table) = self.tables.get(t as usize) else {
                continue;
            };
            let (start, end) = table.offsets.range(probe);
            if start < end
                && let Some(first) = table.postings.get(start)
            {
                prefetch(first);
                ranges.push((t, start as u32, end as u32));
            }
        }
        for &(t, start, end) in ranges.iter() {
            let postings = self
                .tables
                .get(t as usize)
                .and_then(|table| table.postings.get(start as usize..end as usize));
            for &id in postings.unwrap_or(&[]) {
                if let Some(s) = store.get(id as usize) {
                    prefetch(s);
                }
                candidates.push(id);
            }
        }
        scan(store, candidates.iter().copied(), q, r, out);
        scratch.clear();
    }

    fn heap_bytes(&self) -> usize {
        self.parts.capacity() * size_of::<Part>()
            + self.tables.capacity() * size_of::<Table>()
            + self.tables.iter().map(Table::heap_bytes).sum::<usize>()
            + self.loose.capacity() * size_of::<u32>()
    }
}

/// Number of `width`-bit values within `radius` bits of a given one.
fn ball(width: u32, radius: u32) -> f64 {
    let mut total = 0.0;
    let mut term = 1.0;
    for j in 0..=radius.min(width) {
        total += term;
        term = term * f64::from(width - j) / f64::from(j + 1);
    }
    total
}

/// Every `width`-bit value with at most `radius` bits set, each once: zero, then the
/// values with one bit set in increasing order, then those with two, and so on (the next
/// value with as many bits set is Gosper's "snoob"). `width` is at most 31.
struct Flips {
    width: u32,
    radius: u32,
    /// Bits set in the values being listed.
    ones: u32,
    next: u32,
}

impl Flips {
    fn new(width: u32, radius: u32) -> Self {
        Self {
            width,
            radius: radius.min(width),
            ones: 0,
            next: 0,
        }
    }
}

impl Iterator for Flips {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.ones > self.radius {
            return None;
        }
        let value = self.next;
        // The next larger value with as many bits set: carry the lowest run of ones one
        // place up and move the rest of the run to the bottom.
        let low = value & value.wrapping_neg();
        let same_ones = (low != 0).then(|| {
            let carried = value.wrapping_add(low);
            carried | (((value ^ carried) >> 2) >> low.trailing_zeros())
        });
        self.next = match same_ones {
            Some(n) if n > value && n.checked_shr(self.width).unwrap_or(0) == 0 => n,
            // None left with this many bits: the smallest value with one more.
            _ => {
                self.ones += 1;
                1u32.checked_shl(self.ones).map_or(u32::MAX, |v| v - 1)
            }
        };
        Some(value)
    }
}

/// Appends `(distance, id)` for every id of `ids` whose hash is within `r` of `q`.
fn scan(
    store: &[Stored],
    ids: impl Iterator<Item = u32>,
    q: &Hash,
    r: u32,
    out: &mut Vec<(u32, u32)>,
) {
    for id in ids {
        if let Some(s) = store.get(id as usize)
            && let Some(d) = within(&s.0, q, r)
        {
            out.push((d, id));
        }
    }
}

/// An exact index of 256-bit hashes, each with a payload `T`, searchable by Hamming
/// distance. Changes take `&mut self`; queries take `&self` and may run in parallel.
pub struct Index<T> {
    store: Vec<Stored>,
    values: Vec<Option<T>>,
    live: usize,
    main: Segment,
    recent: Segment,
    /// Newest entries, not yet tabled, in increasing order; always newer than any entry
    /// of `main` or `recent`.
    pending: Vec<u32>,
    /// Removed entries still listed by `main` or `recent`.
    stale: usize,
}

impl<T> std::fmt::Debug for Index<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("len", &self.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Index<T> {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self {
            store: Vec::new(),
            values: Vec::new(),
            live: 0,
            main: Segment::empty(),
            recent: Segment::empty(),
            pending: Vec::new(),
            stale: 0,
        }
    }

    /// Number of entries (inserted and not removed).
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the index holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Adds a hash with its payload. Identical hashes may be added any number of times;
    /// each gets its own id.
    ///
    /// # Errors
    /// [`IndexError::Full`] once `u32::MAX` ids have been handed out.
    pub fn insert(&mut self, hash: Hash, value: T) -> Result<Id, IndexError> {
        let id = self.push(hash, value)?;
        self.settle();
        Ok(id)
    }

    /// Adds many entries, building tables once at the end rather than as they come:
    /// the way to load a bank. Returns their ids in order.
    ///
    /// # Errors
    /// [`IndexError::Full`] once `u32::MAX` ids have been handed out; the entries added
    /// before that stay in the index.
    pub fn insert_many(
        &mut self,
        items: impl IntoIterator<Item = (Hash, T)>,
    ) -> Result<Vec<Id>, IndexError> {
        let items = items.into_iter();
        let (lower, _) = items.size_hint();
        self.store.reserve_exact(lower);
        self.values.reserve_exact(lower);
        // Reserved rather than doubled: the rebuild at the end lists the ids to table in
        // this same buffer, so a bulk load leaves no large freed buffers behind.
        self.pending.reserve_exact(lower);
        let mut ids = Vec::with_capacity(lower);
        let mut result = Ok(());
        for (hash, value) in items {
            match self.push(hash, value) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.settle();
        result.map(|()| ids)
    }

    fn push(&mut self, hash: Hash, value: T) -> Result<Id, IndexError> {
        let n = u32::try_from(self.store.len()).map_err(|_| IndexError::Full)?;
        if n == u32::MAX {
            return Err(IndexError::Full);
        }
        // Grow by an eighth rather than doubling: the hashes are most of the memory.
        if self.store.len() == self.store.capacity() {
            let more = (self.store.len() / 8).max(1024);
            self.store.reserve_exact(more);
            self.values.reserve_exact(more);
        }
        self.store.push(Stored(hash));
        self.values.push(Some(value));
        self.pending.push(n);
        self.live += 1;
        Ok(Id(n))
    }

    /// Removes an entry, returning its payload, or `None` if there is no such entry.
    pub fn remove(&mut self, id: Id) -> Option<T> {
        let value = self.values.get_mut(id.slot())?.take()?;
        self.live -= 1;
        if self.pending.first().is_some_and(|&p| id.0 >= p) {
            self.pending.retain(|&p| p != id.0);
        } else {
            self.stale += 1;
            if self.stale > MIN_TABLED && self.stale > self.live / 4 {
                self.rebuild();
            }
        }
        Some(value)
    }

    /// The hash and payload of an entry.
    #[must_use]
    pub fn get(&self, id: Id) -> Option<(&Hash, &T)> {
        let value = self.values.get(id.slot())?.as_ref()?;
        let stored = self.store.get(id.slot())?;
        Some((&stored.0, value))
    }

    /// Every entry whose hash is within `radius` bits of `hash`, nearest first, ties by
    /// id. Exact for every radius: it equals a comparison with every entry.
    #[must_use]
    pub fn query(&self, hash: &Hash, radius: u32) -> Vec<Match> {
        self.query_using(hash, radius, Method::Auto)
    }

    /// [`Index::query`] with the method chosen by the caller, to compare the methods'
    /// speed; every method gives the same answer.
    #[must_use]
    pub fn query_using(&self, hash: &Hash, radius: u32, method: Method) -> Vec<Match> {
        self.answer(hash, radius, method, &mut Scratch::new())
    }

    fn answer(
        &self,
        hash: &Hash,
        radius: u32,
        method: Method,
        scratch: &mut Scratch,
    ) -> Vec<Match> {
        let mut found = Vec::new();
        let tables = match method {
            Method::Tables => true,
            Method::Scan => false,
            Method::Auto => {
                let indexed = self.main.cost(radius) + self.recent.cost(radius);
                indexed < self.store.len() as f64 * SCAN_COST
            }
        };
        if tables {
            self.main
                .search(&self.store, hash, radius, scratch, &mut found);
            self.recent
                .search(&self.store, hash, radius, scratch, &mut found);
            scan(
                &self.store,
                self.pending.iter().copied(),
                hash,
                radius,
                &mut found,
            );
        } else {
            let all = 0..u32::try_from(self.store.len()).unwrap_or(u32::MAX);
            scan(&self.store, all, hash, radius, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter(|&(_, id)| matches!(self.values.get(id as usize), Some(Some(_))))
            .map(|(distance, id)| Match {
                distance,
                id: Id(id),
            })
            .collect()
    }

    /// Answers many queries, spread over the available cores; the answers are in the
    /// order of `hashes`. Each thread takes the next few queries as it finishes its
    /// previous ones, so a core slowed by other work does not hold up the others.
    #[must_use]
    pub fn query_many(&self, hashes: &[Hash], radius: u32) -> Vec<Vec<Match>>
    where
        T: Sync,
    {
        /// Queries a thread takes at a time.
        const TAKE: usize = 16;
        let threads = thread::available_parallelism()
            .map_or(1, usize::from)
            .min(hashes.len().div_ceil(TAKE));
        if threads < 2 {
            let mut scratch = Scratch::new();
            return hashes
                .iter()
                .map(|h| self.answer(h, radius, Method::Auto, &mut scratch))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let mut out = vec![Vec::new(); hashes.len()];
        thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut scratch = Scratch::new();
                        let mut done = Vec::new();
                        loop {
                            let first = next.fetch_add(TAKE, Ordering::Relaxed);
                            let Some(batch) = hashes.get(first..(first + TAKE).min(hashes.len()))
                            else {
                                return done;
                            };
                            for (i, h) in (first..).zip(batch) {
                                done.push((i, self.answer(h, radius, Method::Auto, &mut scratch)));
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                match h.join() {
                    Ok(done) => {
                        for (i, answer) in done {
                            if let Some(slot) = out.get_mut(i) {
                                *slot = answer;
                            }
                        }
                    }
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
        });
        out
    }

    /// Tables every entry in one part and forgets removed ones, for the fastest queries
    /// after a batch of changes.
    pub fn compact(&mut self) {
        if !self.pending.is_empty() || self.recent.len() > 0 || self.stale > 0 {
            self.rebuild();
        }
    }

    /// An estimate of the heap memory of the index itself: stored hashes, tables and
    /// bookkeeping, excluding the payloads (their slots in a `Vec<Option<T>>` included).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.store.capacity() * size_of::<Stored>()
            + self.values.capacity() * size_of::<Option<T>>()
            + self.main.heap_bytes()
            + self.recent.heap_bytes()
            + self.pending.capacity() * size_of::<u32>()
    }

    /// Moves pending entries into tables when there are enough of them.
    fn settle(&mut self) {
        if self.pending.len() < PENDING_MAX {
            return;
        }
        let grown = self.recent.len() + self.pending.len();
        if grown > (self.main.len() / 16).max(PENDING_MAX * 4) {
            self.rebuild();
        } else {
            let values = &self.values;
            let mut ids: Vec<u32> = self
                .recent
                .ids()
                .iter()
                .chain(&self.pending)
                .copied()
                .filter(|&id| matches!(values.get(id as usize), Some(Some(_))))
                .collect();
            ids.sort_unstable();
            let dropped = self.recent.len() + self.pending.len() - ids.len();
            self.stale = self.stale.saturating_sub(dropped);
            self.recent = Segment::build(ids, &self.store);
            self.pending.clear();
            self.pending.shrink_to(PENDING_MAX);
        }
    }

    /// Builds one segment of every live entry.
    fn rebuild(&mut self) {
        self.main = Segment::empty();
        self.recent = Segment::empty();
        self.stale = 0;
        let mut ids = std::mem::take(&mut self.pending);
        ids.clear();
        let live = self.values.iter().enumerate().filter(|(_, v)| v.is_some());
        ids.extend(live.filter_map(|(i, _)| u32::try_from(i).ok()));
        self.main = Segment::build(ids, &self.store);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn flips_list_every_value_within_the_radius_once() {
        for (width, radius) in [(1, 0), (1, 1), (5, 0), (5, 2), (5, 5), (5, 9), (12, 3)] {
            let got: Vec<u32> = Flips::new(width, radius).collect();
            let want: Vec<u32> = (0..1u32 << width)
                .filter(|v| v.count_ones() <= radius)
                .collect();
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, want, "width {width}, radius {radius}");
            assert_eq!(got.first(), Some(&0));
        }
        for (width, radius) in [(23, 2), (24, 2), (26, 3)] {
            let got: Vec<u32> = Flips::new(width, radius).collect();
            let mut distinct = got.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), got.len());
            assert_eq!(got.len() as f64, ball(width, radius));
            assert!(
                got.iter()
                    .all(|v| v.count_ones() <= radius && v >> width == 0)
            );
        }
    }

    /// A table of `sizes.len()` buckets (a power of two) whose bucket `k` holds `sizes[k]`
    /// entries, packed or not as `packed` says; every bucket lists exactly its entries.
    fn check_table(sizes: &[usize], packed: bool) {
        let width = sizes.len().trailing_zeros();
        let mut store = Vec::new();
        for (k, &size) in sizes.iter().enumerate() {
            let top = ((k as u32) << (32 - width)).to_be_bytes();
            for i in 0..size {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&top);
                h[31] = i as u8;
                store.push(Stored(h));
            }
        }
        // Ids in a scrambled order, to check that each bucket keeps the order given.
        let mut ids: Vec<u32> = (0..store.len() as u32).collect();
        ids.sort_by_key(|&id| (id.wrapping_mul(0x9e37_79b9), id));
        let table = Table::build(Part::new(0, width), &ids, &store);
        assert_eq!(matches!(table.offsets, Offsets::Packed(_)), packed);
        let mut first = 0;
        for (k, &size) in sizes.iter().enumerate() {
            let (start, end) = table.offsets.range(k as u32);
            assert_eq!((start, end - start), (first, size), "bucket {k}");
            let want: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|&id| store[id as usize].0[..4] == store_key(k, width))
                .collect();
            assert_eq!(&table.postings[start..end], &want[..], "bucket {k}");
            first = end;
        }
        assert_eq!(first, store.len());
        assert_eq!(
            table.offsets.range(sizes.len() as u32 + BLOCK as u32),
            (0, 0)
        );
    }

    fn store_key(k: usize, width: u32) -> [u8; 4] {
        ((k as u32) << (32 - width)).to_be_bytes()
    }

    #[test]
    fn tables_give_every_bucket_its_entries() {
        // 64 and 256 buckets: a full block and a partial one, four and a partial one.
        for width in [6, 8] {
            let sizes: Vec<usize> = (0..1usize << width).map(|k| (k * 7 + 3) % 5).collect();
            check_table(&sizes, true);
        }
        // A block holding 255 entries still packs, 256 do not.
        let mut sizes = vec![0; 256];
        sizes[BLOCK] = 200;
        sizes[BLOCK + 1] = 1;
        sizes[2 * BLOCK - 1] = 54;
        check_table(&sizes, true);
        sizes[2 * BLOCK - 2] = 1;
        check_table(&sizes, false);
        // Counts are bytes: one bucket of 255 might have been more, and is not packed.
        for crowded in [255, 300] {
            let mut sizes = vec![0; 64];
            sizes[3] = crowded;
            check_table(&sizes, false);
        }
    }
}
