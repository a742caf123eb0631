//! Reading files on every core, the posts still taken in the order of the files.
//!
//! Each of `threads` workers in turn takes the next piece of input under a lock (for CSV
//! a chunk of raw bytes cut after a line end, which is cheap; for JSON lines and Parquet
//! a batch read there), then, outside any lock, parses it into a [`Batch`] and hands it
//! to `prepare` (for detection: normalising and hashing every item, the bulk of the
//! work). Results wait in a map by piece number; whichever worker finds the taker free
//! hands them to `take` in order, so that a run gives the same result on any number of
//! threads. A worker that finds too many results waiting helps take them, or waits, so
//! that memory stays bounded however slow `take` is.
//!
//! A CSV chunk is cut where the quotes seen so far say a record ends; when a stray quote
//! makes that wrong, the chunk's parse ends inside a record, and the taker parses that
//! record's bytes again with the next chunk, throwing away the next chunk's own parse
//! (which began mid-record). So every cut is checked, and a bad row's line is exact.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

use super::csv_in::{Chunk, Open, Tail};
use super::jsonl::Lines;
use super::{BadRow, InputError, Reader};
use crate::batch::Batch;

/// How [`read_parallel`] splits the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parallel {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Bytes of CSV per chunk.
    pub chunk_bytes: usize,
}

impl Default for Parallel {
    fn default() -> Parallel {
        Parallel {
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            chunk_bytes: 1 << 18,
        }
    }
}

/// A piece of input to be parsed on a worker.
pub(super) enum Piece {
    /// Raw CSV.
    Chunk(Chunk),
    /// Whole lines of JSON.
    Lines(Lines),
    /// Posts read already, and the bad rows among them (lines counted in the file).
    Ready(Batch, Vec<BadRow>),
}

/// Reads `readers` one after the other, on `options.threads` threads. Every batch of
/// posts read goes through `prepare` on some thread, and its result to `take`, in the
/// order of the input, with the bad rows of that batch (lines counted in their file) and
/// the bytes of all the files consumed up to it (for a progress bar). `take` may give
/// back the batch once done with it, to be filled again (which spares allocating and
/// touching fresh memory for each).
///
/// The readers run on the current rayon pool (see [`crate::on_threads`]), the calling
/// thread one of them; `prepare` and `take` may run pool jobs of their own.
///
/// # Errors
/// Reading a file failed part-way: what was read before is taken, the rest is not, and
/// the files after it are not read.
pub fn read_parallel<T: Send>(
    readers: Vec<Reader>,
    options: &Parallel,
    prepare: &(dyn Fn(Batch) -> T + Sync),
    take: &mut (dyn FnMut(T, Vec<BadRow>, u64) -> Option<Batch> + Send),
) -> Result<(), InputError> {
    let threads = options.threads.max(1);
    let shared = Shared {
        feed: Mutex::new(Feed {
            readers: readers.into(),
            done_before: 0,
            next: 0,
            error: None,
        }),
        spare: Mutex::new(Vec::new()),
        batches: Mutex::new(Vec::new()),
        waiting: Mutex::new(BTreeMap::new()),
        changed: Condvar::new(),
        taker: Mutex::new(Taker {
            take,
            prepare,
            line: 1,
            carry: None,
        }),
        next: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        limit: 2 * threads,
        chunk_bytes: options.chunk_bytes.max(1),
        prepare,
    };
    // On the threads of the current pool (see [`crate::on_threads`]), this one among them.
    // `take` and `prepare` may run pool jobs. A thread waiting for them takes work from its
    // own queue, where workers not started yet may lie (other threads steal those first,
    // being the oldest, so this is unlikely): a worker run so inside another does nothing,
    // since it would wait for the taker its own thread holds; the others read everything.
    rayon::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|_| {
                if !WORKING.with(Cell::get) {
                    shared.work();
                }
            });
        }
        shared.work();
    });
    debug_assert!(lock(&shared.waiting).is_empty());
    match lock(&shared.feed).error.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The files still to cut into pieces.
struct Feed {
    readers: VecDeque<Reader>,
    /// Bytes of the files finished.
    done_before: u64,
    /// Number of the next piece.
    next: u64,
    error: Option<InputError>,
}

impl Feed {
    /// The next piece, its number and the bytes consumed once it is read.
    fn next(
        &mut self,
        chunk_bytes: usize,
        spare: &Mutex<Vec<Vec<u8>>>,
    ) -> Option<(u64, Piece, u64)> {
        loop {
            let reader = self.readers.front_mut()?;
            match reader.next_piece(chunk_bytes, lock(spare).pop()) {
                Ok(Some(piece)) => {
                    let n = self.next;
                    self.next += 1;
                    return Some((n, piece, self.done_before + reader.position()));
                }
                Ok(None) => {
                    self.done_before += reader.len();
                    self.readers.pop_front();
                }
                Err(e) => {
                    self.error = Some(e);
                    self.readers.clear();
                    return None;
                }
            }
        }
    }
}

/// A piece parsed and prepared, waiting its turn.
struct Done<T> {
    value: T,
    bad: Vec<BadRow>,
    position: u64,
    /// For a CSV chunk: the chunk (kept in case the one before it ends inside a record),
    /// its line ends, and how it ended.
    chunk: Option<(Chunk, u64, Tail)>,
    /// The buffer of a piece of JSON lines, to reuse.
    buffer: Option<Vec<u8>>,
}

/// What takes the pieces in order.
struct Taker<'a, T> {
    take: &'a mut (dyn FnMut(T, Vec<BadRow>, u64) -> Option<Batch> + Send),
    prepare: &'a (dyn Fn(Batch) -> T + Sync),
    /// The line the next CSV chunk starts on.
    line: u64,
    /// The unfinished record at the end of the last chunk, and the line it starts on.
    carry: Option<(Box<Open>, u64)>,
}

impl<T> Taker<'_, T> {
    /// Takes one piece; gives back its batch and chunk buffer for reuse, if it can.
    fn take(&mut self, done: Done<T>) -> (Option<Batch>, Option<Vec<u8>>) {
        let Some((chunk, newlines, tail)) = done.chunk else {
            return (
                (self.take)(done.value, done.bad, done.position),
                done.buffer,
            );
        };
        if let Some(first) = chunk.first_line {
            self.line = first;
            self.carry = None;
        }
        let (value, mut bad, resumed, newlines, tail, carried) = match self.carry.take() {
            None => (done.value, done.bad, None, newlines, tail, None),
            Some((open, line)) => {
                // This chunk's own parse began inside a record: finish that record, and
                // parse the rest of the chunk again after it.
                drop(done.value);
                let mut batch = Batch::new();
                let parsed = chunk.parse_resumed(open, &mut batch);
                // The carried record is bad on the line it started on.
                let resumed = parsed.resumed_bad.map(|b| BadRow { line, ..b });
                let value = (self.prepare)(batch);
                (
                    value,
                    parsed.bad,
                    resumed,
                    parsed.newlines,
                    parsed.tail,
                    Some(line),
                )
            }
        };
        for b in &mut bad {
            b.line += self.line;
        }
        if let Some(b) = resumed {
            bad.insert(0, b);
        }
        let batch = (self.take)(value, bad, done.position);
        if let Tail::Partial { open, line } = tail {
            let start = match line {
                Some(l) => self.line + l,
                None => carried.unwrap_or(self.line),
            };
            self.carry = Some((open, start));
        }
        self.line += newlines;
        (batch, Some(chunk.bytes))
    }
}

struct Shared<'a, T> {
    feed: Mutex<Feed>,
    /// Results by piece number.
    waiting: Mutex<BTreeMap<u64, Done<T>>>,
    /// Signalled when a result is added or taken.
    changed: Condvar,
    taker: Mutex<Taker<'a, T>>,
    /// Batches given back, to fill again.
    batches: Mutex<Vec<Batch>>,
    /// Chunk buffers done with, to read into again.
    spare: Mutex<Vec<Vec<u8>>>,
    /// Number of the next piece to take.
    next: AtomicU64,
    /// Set when a worker panicked: the others stop rather than wait for its piece.
    failed: AtomicBool,
    /// Results waiting beyond which a worker stops reading.
    limit: usize,
    chunk_bytes: usize,
    prepare: &'a (dyn Fn(Batch) -> T + Sync),
}

impl<T: Send> Shared<'_, T> {
    /// One worker: read, parse, prepare, take when the turn comes.
    fn work(&self) {
        let _working = Working::enter();
        let _bail = Bail(self);
        while !self.failed.load(Ordering::Acquire) {
            let job = lock(&self.feed).next(self.chunk_bytes, &self.spare);
            let Some((n, piece, position)) = job else {
                break;
            };
            let done = match piece {
                Piece::Ready(batch, bad) => Done {
                    value: (self.prepare)(batch),
                    bad,
                    position,
                    chunk: None,
                    buffer: None,
                },
                Piece::Lines(lines) => {
                    let mut batch = lock(&self.batches).pop().unwrap_or_default();
                    batch.clear();
                    let bad = lines.parse(&mut batch);
                    Done {
                        value: (self.prepare)(batch),
                        bad,
                        position,
                        chunk: None,
                        buffer: Some(lines.bytes),
                    }
                }
                Piece::Chunk(chunk) => {
                    let mut batch = lock(&self.batches).pop().unwrap_or_default();
                    batch.clear();
                    let parsed = chunk.parse(&mut batch);
                    Done {
                        value: (self.prepare)(batch),
                        bad: parsed.bad,
                        position,
                        chunk: Some((chunk, parsed.newlines, parsed.tail)),
                        buffer: None,
                    }
                }
            };
            let waiting = {
                let mut w = lock(&self.waiting);
                w.insert(n, done);
                w.len()
            };
            self.changed.notify_all();
            if waiting <= self.limit {
                self.drain(false);
                continue;
            }
            // Too much waiting: take what can be taken, and wait for the piece holding
            // up the rest.
            loop {
                self.drain(true);
                let w = lock(&self.waiting);
                if w.len() <= self.limit || self.failed.load(Ordering::Acquire) {
                    break;
                }
                if w.contains_key(&self.next.load(Ordering::Acquire)) {
                    continue;
                }
                let _w = self
                    .changed
                    .wait_while(w, |w| {
                        w.len() > self.limit
                            && !w.contains_key(&self.next.load(Ordering::Acquire))
                            && !self.failed.load(Ordering::Acquire)
                    })
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        self.drain(true);
    }

    /// Takes the results whose turn has come; unless `wait`, only if no other worker is
    /// taking (that one then takes them).
    fn drain(&self, wait: bool) {
        loop {
            let mut taker = match self.taker.try_lock() {
                Ok(t) => t,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) if wait => lock(&self.taker),
                Err(TryLockError::WouldBlock) => return,
            };
            loop {
                let n = self.next.load(Ordering::Acquire);
                let Some(done) = lock(&self.waiting).remove(&n) else {
                    break;
                };
                let (batch, bytes) = taker.take(done);
                self.next.store(n + 1, Ordering::Release);
                if let Some(b) = batch {
                    lock(&self.batches).push(b);
                }
                if let Some(b) = bytes {
                    lock(&self.spare).push(b);
                }
                self.changed.notify_all();
            }
            drop(taker);
            // A result may have come while the taker was held by this worker, from one
            // that then found it busy: take it too.
            if !lock(&self.waiting).contains_key(&self.next.load(Ordering::Acquire)) {
                return;
            }
        }
    }
}

thread_local! {
    /// Whether this thread is inside a worker's loop (see [`read_parallel`]).
    static WORKING: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as inside a worker's loop until dropped.
struct Working(bool);

impl Working {
    fn enter() -> Working {
        Working(WORKING.with(|w| w.replace(true)))
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        WORKING.with(|w| w.set(self.0));
    }
}

/// Tells the other workers when this one panics, so that none waits for its piece.
struct Bail<'s, 'a, T>(&'s Shared<'a, T>);

impl<T> Drop for Bail<'_, '_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Under the lock the others wait on, so that none can check the flag, miss
            // this store and then sleep through the notification.
            let waiting = lock(&self.0.waiting);
            self.0.failed.store(true, Ordering::Release);
            drop(waiting);
            self.0.changed.notify_all();
        }
    }
}

/// The mutex's guard, whether or not a thread panicked holding it (a panic is passed on
/// when the threads are joined).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
