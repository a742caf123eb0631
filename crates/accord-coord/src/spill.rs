//! Append-only logs whose older part moves to a file once memory runs short.
//!
//! The detector keeps what it needs only at the end — every action of a behaviour, the
//! readable value of an item, the id and time of a post — in [`Log`]s. While a run is small
//! they stay in memory; once the bytes held pass the detector's budget, every log writes
//! its buffer to a file of its own in the spill directory and goes on in memory from
//! there. Reading back sees one sequence of bytes whatever part of it is on disk.
//!
//! A spill file is removed when its log is dropped (and, on Unix, as soon as it is made:
//! it lives on through the open handle, so a killed run leaves nothing behind).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes read from a spill file at a time when streaming it back.
const CHUNK: usize = 4 << 20;

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

/// A spill file: made in a directory, gone when dropped.
#[derive(Debug)]
struct SpillFile {
    file: File,
    path: PathBuf,
    removed: bool,
}

impl SpillFile {
    fn create(dir: &Path) -> io::Result<SpillFile> {
        std::fs::create_dir_all(dir)?;
        let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("accord-coord-{}-{n}.spill", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unlinked at once where the system allows it, so nothing outlives the process.
        let removed = cfg!(unix) && std::fs::remove_file(&path).is_ok();
        Ok(SpillFile {
            file,
            path,
            removed,
        })
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if !self.removed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// An append-only sequence of bytes, its start possibly in a file.
///
/// The bytes in memory are kept in blocks that are never moved once allocated (a single
/// growing buffer copied everything at each doubling, while posts were taken in order, the
/// one part of a run that is not spread over threads); a record never straddles two.
#[derive(Debug, Default)]
pub(crate) struct Log {
    file: Option<SpillFile>,
    /// Bytes in the file.
    on_disk: u64,
    /// Bytes after those in the file, block by block.
    blocks: Vec<Vec<u8>>,
    /// Where each block starts, counted from the first byte in memory.
    starts: Vec<u64>,
    /// Bytes in the blocks.
    in_memory: u64,
}

/// Size of the first block; each next one is twice the last, up to [`MAX_BLOCK`].
const FIRST_BLOCK: usize = 64 << 10;
const MAX_BLOCK: usize = 4 << 20;

impl Log {
    /// Bytes appended so far.
    pub(crate) fn len(&self) -> u64 {
        self.on_disk + self.in_memory
    }

    /// Bytes held in memory.
    pub(crate) fn in_memory(&self) -> usize {
        self.in_memory as usize
    }

    /// Appends `bytes` as one record; returns where they start.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> u64 {
        let at = self.len();
        self.record(bytes.len(), |b| b.extend_from_slice(bytes));
        at
    }

    /// Appends one record of `len` bytes, written by `write` to the end of the buffer it
    /// is handed.
    pub(crate) fn record(&mut self, len: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let full = self
            .blocks
            .last()
            .is_none_or(|b| b.capacity() - b.len() < len);
        if full {
            let size = self
                .blocks
                .last()
                .map_or(FIRST_BLOCK, |b| (b.capacity() * 2).min(MAX_BLOCK))
                .max(len);
            self.starts.push(self.in_memory);
            self.blocks.push(Vec::with_capacity(size));
        }
        if let Some(block) = self.blocks.last_mut() {
            let before = block.len();
            write(block);
            self.in_memory += (block.len() - before) as u64;
        }
    }

    /// Moves the bytes held in memory to the end of the log's file in `dir` (made on first
    /// use) and frees them.
    pub(crate) fn spill(&mut self, dir: &Path) -> io::Result<()> {
        if self.in_memory == 0 {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(SpillFile::create(dir)?);
        }
        let Some(spill) = self.file.as_mut() else {
            return Ok(());
        };
        spill.file.seek(SeekFrom::Start(self.on_disk))?;
        let mut w = BufWriter::with_capacity(CHUNK, &mut spill.file);
        for block in &self.blocks {
            w.write_all(block)?;
        }
        w.flush()?;
        self.on_disk += self.in_memory;
        self.blocks = Vec::new();
        self.starts = Vec::new();
        self.in_memory = 0;
        Ok(())
    }

    /// Reads `len` bytes from `offset` into `out` (cleared first).
    pub(crate) fn read_at(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        let end = offset + len as u64;
        if end > self.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of a spill log",
            ));
        }
        if offset < self.on_disk {
            let from_disk = (self.on_disk.min(end) - offset) as usize;
            out.resize(from_disk, 0);
            self.read_file(offset, out)?;
        }
        if end > self.on_disk {
            let mut at = offset.max(self.on_disk) - self.on_disk;
            let end = end - self.on_disk;
            // The block holding `at`, then the ones after it.
            let mut b = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
            while at < end {
                let (Some(block), Some(&start)) = (self.blocks.get(b), self.starts.get(b)) else {
                    break;
                };
                let from = (at - start) as usize;
                let to = ((end - start) as usize).min(block.len());
                out.extend_from_slice(block.get(from..to).unwrap_or_default());
                at = start + to as u64;
                b += 1;
            }
        }
        Ok(())
    }

    fn read_file(&self, offset: u64, into: &mut [u8]) -> io::Result<()> {
        let Some(spill) = &self.file else {
            return Err(io::Error::other("a spill log lost its file"));
        };
        let mut f = &spill.file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(into)
    }

    /// Calls `each` with the whole log in order, in pieces whose lengths are multiples of
    /// `record` bytes (the log must hold whole records).
    pub(crate) fn for_each_piece(
        &self,
        record: usize,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        if self.on_disk > 0 {
            let step = (CHUNK / record).max(1) * record;
            let mut piece = vec![0u8; step];
            let mut at = 0u64;
            while at < self.on_disk {
                let n = (self.on_disk - at).min(step as u64) as usize;
                self.read_file(at, &mut piece[..n])?;
                each(&piece[..n]);
                at += n as u64;
            }
        }
        for block in &self.blocks {
            if !block.is_empty() {
                each(block);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_across_the_spill_boundary() {
        let dir = std::env::temp_dir().join(format!("accord-spill-test-{}", std::process::id()));
        let mut log = Log::default();
        let mut expected = Vec::new();
        for round in 0..5u8 {
            // Enough to fill several blocks.
            for i in 0..100_000u32 {
                let bytes = (i ^ u32::from(round)).to_le_bytes();
                if i % 2 == 0 {
                    log.append(&bytes);
                } else {
                    log.record(4, |b| b.extend_from_slice(&bytes));
                }
                expected.extend_from_slice(&bytes);
            }
            if round % 2 == 0 && round < 4 {
                log.spill(&dir).unwrap();
                assert_eq!(log.in_memory(), 0);
            }
        }
        assert_eq!(log.len(), expected.len() as u64);
        let mut out = Vec::new();
        let total = expected.len() as u64;
        let mut reads = vec![(0, 8), (3990, 20), (total - 4, 4), (1_599_990, 400_000)];
        // Around every block boundary of the part in memory (rounds 3 and 4).
        for k in 1..8u64 {
            let boundary = 1_200_000 + (FIRST_BLOCK as u64) * ((1 << k) - 1);
            if boundary + 10 < total {
                reads.push((boundary - 6, 12));
            }
        }
        for (offset, len) in reads {
            log.read_at(offset, len, &mut out).unwrap();
            assert_eq!(out, expected[offset as usize..offset as usize + len]);
        }
        assert!(log.read_at(total - 2, 4, &mut out).is_err());
        let mut streamed = Vec::new();
        log.for_each_piece(4, |p| {
            assert_eq!(p.len() % 4, 0);
            streamed.extend_from_slice(p);
        })
        .unwrap();
        assert_eq!(streamed, expected);
        drop(log);
        // Nothing is left behind in the directory.
        let left = std::fs::read_dir(&dir).map_or(0, |d| d.count());
        assert_eq!(left, 0);
        let _ = std::fs::remove_dir(&dir);
    }
}
