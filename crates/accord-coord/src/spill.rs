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
#[derive(Debug, Default)]
pub(crate) struct Log {
    file: Option<SpillFile>,
    /// Bytes in the file.
    on_disk: u64,
    /// Bytes after those in the file.
    buf: Vec<u8>,
}

impl Log {
    /// Bytes appended so far.
    pub(crate) fn len(&self) -> u64 {
        self.on_disk + self.buf.len() as u64
    }

    /// Bytes held in memory.
    pub(crate) fn in_memory(&self) -> usize {
        self.buf.len()
    }

    /// Appends `bytes`; returns where they start.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> u64 {
        let at = self.len();
        self.buf.extend_from_slice(bytes);
        at
    }

    /// The buffer to append to directly (its start is at [`Log::len`] before appending).
    pub(crate) fn tail(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Moves the bytes held in memory to the end of the log's file in `dir` (made on first
    /// use) and frees them.
    pub(crate) fn spill(&mut self, dir: &Path) -> io::Result<()> {
        if self.buf.is_empty() {
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
        w.write_all(&self.buf)?;
        w.flush()?;
        self.on_disk += self.buf.len() as u64;
        self.buf = Vec::new();
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
            let start = offset.max(self.on_disk) - self.on_disk;
            out.extend_from_slice(&self.buf[start as usize..(end - self.on_disk) as usize]);
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
        if !self.buf.is_empty() {
            each(&self.buf);
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
            for i in 0..1000u32 {
                let bytes = (i ^ u32::from(round)).to_le_bytes();
                log.append(&bytes);
                expected.extend_from_slice(&bytes);
            }
            if round % 2 == 0 {
                log.spill(&dir).unwrap();
                assert_eq!(log.in_memory(), 0);
            }
        }
        assert_eq!(log.len(), expected.len() as u64);
        let mut out = Vec::new();
        for (offset, len) in [(0, 8), (3990, 20), (7996, 12), (16000, 4000), (19996, 4)] {
            log.read_at(offset, len, &mut out).unwrap();
            assert_eq!(out, expected[offset as usize..offset as usize + len]);
        }
        assert!(log.read_at(19_998, 4, &mut out).is_err());
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
