//! Accord CSV (columns by name) and coordination-network-toolkit's CSV (columns by
//! position), read into one reused record with the columns' indices found once.
//!
//! Records are split by `csv-core` under a loop of our own rather than the `csv` crate's
//! reader, which reports the line of a record preceded by blank lines as that of the
//! first blank line: here the blank lines (and the `\n` of a `\r\n`) before a record are
//! skipped and counted first, so that a bad row's line is the one its record starts on,
//! however many lines the records before it spanned.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use csv_core::ReadRecordResult;

use super::cell::{
    self, ACCOUNT, HASHTAGS, MEDIA, PLATFORM, POST, REPLY, REPOST, TEXT, TIME, URLS,
};
use super::scan::Scan;
use super::{BadRow, CNT_HEADER, Fields, Format, InputError, ReadOptions};
use crate::batch::{Batch, Row};

/// How to read the header of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Accord CSV.
    Csv,
    /// coordination-network-toolkit's CSV.
    Cnt,
    /// Whichever the header says.
    Detect,
}

/// Indices of the columns read, and the names used in messages.
struct Columns {
    account: (usize, &'static str),
    post: (usize, &'static str),
    time: (usize, &'static str),
    platform: Option<usize>,
    text: Option<(usize, &'static str)>,
    urls: Option<usize>,
    hashtags: Option<usize>,
    media: Option<usize>,
    repost: Option<(usize, &'static str)>,
    reply: Option<(usize, &'static str)>,
}

pub(super) struct CsvSource {
    records: Records,
    file: String,
    layout: Arc<Layout>,
    count: Arc<AtomicU64>,
    done: bool,
    /// Cutting the rest of the file into chunks (see [`CsvSource::next_chunk`]).
    chunks: Option<Chunker>,
}

/// How a record becomes a post; shared by the threads that do it.
pub(super) struct Layout {
    format: Format,
    columns: Columns,
    /// Fields every record must have.
    width: usize,
    platform: String,
    /// See [`ReadOptions::idle_as_keys`].
    idle_as_keys: bool,
    /// See [`ReadOptions::idle_reposts`].
    idle_reposts: bool,
}

/// State of cutting a file into chunks at record boundaries.
struct Chunker {
    /// Bytes read and not yet handed out.
    pending: Vec<u8>,
    eof: bool,
    /// Whether the last chunk (empty, if need be) was handed out.
    finished: bool,
    /// Whether the next chunk is the file's first.
    first: bool,
    /// Quotes in the chunks handed out.
    quotes: usize,
}

impl CsvSource {
    pub(super) fn open(
        stream: Box<dyn Read + Send>,
        file: &str,
        mode: Mode,
        options: &ReadOptions,
        count: Arc<AtomicU64>,
    ) -> Result<CsvSource, InputError> {
        let mut records = Records::new(stream);
        let has_header = records.next().map_err(|source| InputError::Read {
            file: file.to_owned(),
            source,
        })?;
        if records.dropped {
            return Err(InputError::Read {
                file: file.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the header row {}", too_long()),
                ),
            });
        }
        let view = records.view();
        let header: Vec<&[u8]> = if has_header {
            (0..view.len()).filter_map(|i| view.get(i)).collect()
        } else {
            Vec::new()
        };
        if header.is_empty() {
            return Err(InputError::NoHeader {
                file: file.to_owned(),
            });
        }
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let n = if i == 0 {
                    n.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(n)
                } else {
                    n
                };
                String::from_utf8_lossy(n).trim().to_ascii_lowercase()
            })
            .collect();
        let is_cnt = match mode {
            Mode::Csv => false,
            Mode::Cnt => true,
            Mode::Detect => names.iter().map(String::as_str).eq(CNT_HEADER),
        };
        let (format, columns, width) = if is_cnt {
            (Format::Cnt, cnt_columns(&options.fields), CNT_HEADER.len())
        } else {
            (
                Format::Csv,
                csv_columns(file, &names, &options.fields)?,
                names.len(),
            )
        };
        Ok(CsvSource {
            records,
            file: file.to_owned(),
            layout: Arc::new(Layout {
                format,
                columns,
                width,
                platform: options.platform.clone(),
                idle_as_keys: options.idle_as_keys,
                idle_reposts: options.idle_reposts,
            }),
            count,
            done: false,
            chunks: None,
        })
    }

    pub(super) fn format(&self) -> Format {
        self.layout.format
    }

    pub(super) fn position(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Reads at most `max` records into `batch`; idle posts as keys alone when `idle` (and
    /// the options say so; see [`ReadOptions::idle_as_keys`]).
    pub(super) fn read_batch(
        &mut self,
        max: usize,
        batch: &mut Batch,
        bad: &mut Vec<BadRow>,
        idle: bool,
    ) -> Result<bool, InputError> {
        let idle = idle && self.layout.idle_as_keys;
        if self.done || self.chunks.is_some() {
            return Ok(false);
        }
        for _ in 0..max {
            if !self.next_record()? {
                return Ok(false);
            }
            let pushed = if self.records.dropped {
                Err(too_long())
            } else {
                self.layout.push(&self.records.view(), batch, idle)
            };
            if let Err(reason) = pushed {
                bad.push(BadRow {
                    file: self.file.clone(),
                    line: self.records.line,
                    reason,
                });
            }
        }
        Ok(true)
    }

    /// Reads the next record; `false` at the end.
    fn next_record(&mut self) -> Result<bool, InputError> {
        match self.records.next() {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.done = true;
                Ok(false)
            }
            Err(source) => {
                self.done = true;
                Err(InputError::Read {
                    file: self.file.clone(),
                    source,
                })
            }
        }
    }

    /// The next stretch of the file, about `target` bytes cut after a line end, for
    /// [`Chunk::parse`] on any thread; `None` once the file is all handed out. The last
    /// chunk has `last` set (and may be empty). Records are read either this way or by
    /// [`CsvSource::read_batch`], not both.
    ///
    /// A chunk is cut after a `\n` preceded by an even number of quotes since the last
    /// cut, which in well-formed CSV is the end of a record; or, when no such line end
    /// comes within twice `target` (a stray quote in a plain field upsets the count, or
    /// lines end with `\r` alone), after the first line end past `target`, the count
    /// starting again from there. A cut may so fall inside a record: parsing then finds
    /// the chunk ending inside one ([`Tail::Partial`]), and whoever takes the chunks in
    /// order finishes that record with the next chunk and parses the rest of that chunk
    /// again. Every cut is so checked; none is trusted.
    ///
    /// `spare` is a buffer to reuse, if any.
    pub(super) fn next_chunk(
        &mut self,
        target: usize,
        spare: Option<Vec<u8>>,
    ) -> Result<Option<Chunk>, InputError> {
        if self.done && self.chunks.is_none() {
            return Ok(None);
        }
        if self.chunks.is_none() {
            // Whatever the header left in the buffer comes first.
            self.chunks = Some(Chunker {
                pending: self.records.rest().to_vec(),
                eof: self.records.eof,
                finished: false,
                first: true,
                quotes: 0,
            });
        }
        let Some(chunker) = self.chunks.as_mut() else {
            return Ok(None);
        };
        if chunker.finished {
            return Ok(None);
        }
        let target = target.max(1);
        // Room for a chunk and the read that finds the line end after it: growing the
        // buffer later means fresh memory, whose first touch costs more than the read.
        let room = target.saturating_add(1 << 16);
        if chunker.pending.capacity() < room {
            chunker.pending.reserve_exact(room - chunker.pending.len());
        }
        let mut scanned = 0usize;
        let mut quotes = chunker.quotes;
        // Where to look on for any line end, should the quotes give no cut.
        let mut fallback = target;
        let cut = loop {
            // Each byte is looked at once, the quotes before it counted.
            if let Some(at) = find_cut(&chunker.pending, &mut scanned, &mut quotes, target) {
                break Some(at);
            }
            if chunker.eof {
                break None;
            }
            if chunker.pending.len() >= target.saturating_mul(2).max(1 << 16)
                && let Some(at) = any_line_end(&chunker.pending, &mut fallback)
            {
                // The quotes say every line end so far is inside a quoted field (a stray
                // quote, most likely), or the file's lines end with `\r` alone. Cut at a
                // line end anyway, counting quotes afresh from there; should that be
                // inside a record after all, the parse says so.
                quotes = 0;
                break Some(at);
            }
            if chunker.pending.len() >= target.saturating_mul(4).max(1 << 20) {
                // No line end at all: cut anyway, inside a record (which the parse finds
                // and finishes with the next chunk), so that a file without line ends is
                // not read into one chunk.
                quotes = 0;
                break Some(chunker.pending.len());
            }
            let want = target
                .saturating_sub(chunker.pending.len())
                .max(target.min(1 << 16));
            let old = chunker.pending.len();
            chunker.pending.resize(old + want, 0);
            let got = loop {
                match self.records.input.read(&mut chunker.pending[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(source) => {
                        chunker.pending.truncate(old);
                        chunker.finished = true;
                        self.done = true;
                        return Err(InputError::Read {
                            file: self.file.clone(),
                            source,
                        });
                    }
                }
            };
            chunker.pending.truncate(old + got);
            if got == 0 {
                chunker.eof = true;
            }
        };
        let first = std::mem::replace(&mut chunker.first, false);
        let bytes = match cut {
            Some(at) => {
                // The bytes after the cut are looked at again for the next chunk.
                chunker.quotes = quotes;
                let mut rest = spare.unwrap_or_default();
                rest.clear();
                rest.reserve_exact(room);
                rest.extend_from_slice(chunker.pending.get(at..).unwrap_or_default());
                chunker.pending.truncate(at);
                std::mem::replace(&mut chunker.pending, rest)
            }
            None => {
                chunker.finished = true;
                self.done = true;
                std::mem::take(&mut chunker.pending)
            }
        };
        Ok(Some(Chunk {
            layout: Arc::clone(&self.layout),
            file: Arc::from(self.file.as_str()),
            first_line: first.then(|| self.records.line_after()),
            bytes,
            last: cut.is_none(),
        }))
    }
}

/// The first place at or after `target` to cut `bytes`: just after a `\n` preceded by
/// an even number of quotes. `quotes` is the count in `bytes[..*scanned]`; both are
/// moved on as far as looked (to the cut, or to the end if there is none). Quotes are
/// counted in bulk from one candidate line end to the next, which is much faster than
/// stopping at each.
fn find_cut(bytes: &[u8], scanned: &mut usize, quotes: &mut usize, target: usize) -> Option<usize> {
    let count = |from: usize, to: usize| {
        memchr::memchr_iter(b'"', bytes.get(from..to).unwrap_or_default()).count()
    };
    loop {
        let from = (*scanned).max(target.saturating_sub(1));
        let Some(nl) = memchr::memchr(b'\n', bytes.get(from..).unwrap_or_default()) else {
            *quotes += count(*scanned, bytes.len());
            *scanned = bytes.len();
            return None;
        };
        let at = from + nl;
        *quotes += count(*scanned, at);
        *scanned = at + 1;
        if (*quotes).is_multiple_of(2) {
            return Some(at + 1);
        }
    }
}

/// Just after the first line end (`\n`, `\r\n` or `\r` alone) at or after `*from` in
/// `bytes`, if one is known to be whole; `*from` moves on past what was looked at, so that
/// no byte is looked at twice however often more bytes are read.
fn any_line_end(bytes: &[u8], from: &mut usize) -> Option<usize> {
    let rest = bytes.get(*from..).unwrap_or_default();
    let Some(i) = memchr::memchr2(b'\n', b'\r', rest).map(|i| *from + i) else {
        *from = bytes.len().max(*from);
        return None;
    };
    match (bytes[i], bytes.get(i + 1)) {
        (b'\n', _) => Some(i + 1),
        (_, Some(b'\n')) => Some(i + 2),
        (_, Some(_)) => Some(i + 1),
        // A `\r` at the end: whether a `\n` follows is not known yet.
        (_, None) => {
            *from = i;
            None
        }
    }
}

/// A stretch of a CSV file starting at a record boundary (as far as can be told; see
/// [`CsvSource::next_chunk`]).
pub(super) struct Chunk {
    layout: Arc<Layout>,
    file: Arc<str>,
    /// For a file's first chunk: the line its first byte is on.
    pub(super) first_line: Option<u64>,
    pub(super) bytes: Vec<u8>,
    /// Whether the file ends with this chunk.
    pub(super) last: bool,
}

/// How a chunk ended.
pub(super) enum Tail {
    /// At the end of a record (or of the file).
    Clean,
    /// Inside a record, read as far as the chunk goes: it is finished with the next
    /// chunk ([`Chunk::parse_resumed`]). `line` is the line of the chunk (counted from 0)
    /// the record starts on, or `None` when it started in a chunk before.
    Partial { open: Box<Open>, line: Option<u64> },
}

/// A chunk turned into posts.
pub(super) struct Parsed {
    /// Bad rows, their lines counted from 0 at the chunk's first byte.
    pub(super) bad: Vec<BadRow>,
    /// After [`Chunk::parse_resumed`]: the record carried in, if it was bad (its line is
    /// that of the chunk it started in, unknown here: 0).
    pub(super) resumed_bad: Option<BadRow>,
    /// Line ends in the chunk, those inside an unfinished record at its end included.
    pub(super) newlines: u64,
    pub(super) tail: Tail,
}

impl Parsed {
    fn new(bad: Vec<BadRow>, resumed_bad: Option<BadRow>, newlines: u64, tail: Tail) -> Parsed {
        Parsed {
            bad,
            resumed_bad,
            newlines,
            tail,
        }
    }
}

impl Chunk {
    /// Parses the chunk's records into `batch`.
    pub(super) fn parse(&self, batch: &mut Batch) -> Parsed {
        self.parse_from(None, batch)
    }

    /// Finishes `open`, a record cut by the end of the chunks before, with this chunk's
    /// first bytes, then parses the rest of the chunk into `batch`. Only the bytes of this
    /// chunk are read, so a record running over many chunks (an unclosed quote) costs no
    /// more than reading them once.
    pub(super) fn parse_resumed(&self, open: Box<Open>, batch: &mut Batch) -> Parsed {
        self.parse_from(Some(open), batch)
    }

    fn parse_from(&self, open: Option<Box<Open>>, batch: &mut Batch) -> Parsed {
        parse_chunk(
            &self.layout,
            &self.file,
            &self.bytes,
            self.last,
            batch,
            open,
        )
    }
}

/// Longest record kept, in bytes of its fields: a longer one is bad, read to its end
/// without being kept, so that a quote left open early in a big file does not make the
/// rest of it one record in memory.
pub(crate) const MAX_RECORD_BYTES: usize = 8 << 20;

/// Most fields of a record kept; a record with more is bad as a longer one is.
const MAX_RECORD_FIELDS: usize = 1 << 16;

/// Why a record past [`MAX_RECORD_BYTES`] or [`MAX_RECORD_FIELDS`] is bad.
fn too_long() -> String {
    format!(
        "is longer than {} MiB or has more than {MAX_RECORD_FIELDS} fields (is a quote left open where it starts?); skipped to where it ends",
        MAX_RECORD_BYTES >> 20
    )
}

/// One `csv-core` read of `input` into `fields` from byte `.1` and `ends` from end `.1`,
/// moving both counts on; whichever buffer was full is doubled for the next call. Once a
/// record holds more than [`MAX_RECORD_BYTES`] or [`MAX_RECORD_FIELDS`], what it holds is
/// dropped, `dropped` set, and the rest of it read into the same buffers. Returns what
/// `csv-core` said and the input bytes it consumed.
fn read_some(
    core: &mut csv_core::Reader,
    input: &[u8],
    (fields, out): (&mut Vec<u8>, &mut usize),
    (ends, nends): (&mut Vec<usize>, &mut usize),
    dropped: &mut bool,
) -> (ReadRecordResult, usize) {
    let (result, nin, nout, nend) = core.read_record(
        input,
        fields.get_mut(*out..).unwrap_or_default(),
        ends.get_mut(*nends..).unwrap_or_default(),
    );
    *out += nout;
    *nends += nend;
    if *out > MAX_RECORD_BYTES || *nends > MAX_RECORD_FIELDS {
        // Kept no longer; read on to the record's end into the same buffers.
        *out = 0;
        *nends = 0;
        *dropped = true;
    }
    // Grown one past each limit, so that a record just at it still fits.
    match result {
        ReadRecordResult::OutputFull if *out == fields.len() => {
            fields.resize((fields.len() * 2).min(MAX_RECORD_BYTES + 1), 0);
        }
        ReadRecordResult::OutputEndsFull if *nends == ends.len() => {
            ends.resize((ends.len() * 2).min(MAX_RECORD_FIELDS + 1), 0);
        }
        _ => {}
    }
    (result, nin)
}

/// `csv-core` reading records, and the fields of the one it is in; kept from one chunk
/// to the next when a record is cut by the end of a chunk.
pub(super) struct Open {
    core: csv_core::Reader,
    /// The record's fields so far, end to end, and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes of `fields` and entries of `ends` used.
    out: usize,
    nends: usize,
    /// The record grew past the limits and was dropped (see [`read_some`]).
    dropped: bool,
}

/// Where [`Open::read`] stopped.
enum Step {
    /// At the end of a record, whose fields are in [`Open::view`].
    Record,
    /// At the end of the chunk, inside a record.
    Cut,
    /// At the end of the file, no record left.
    End,
}

impl Open {
    fn new() -> Box<Open> {
        let mut core = csv_core::Reader::new();
        // csv-core drops a byte-order mark at the start of the first input it is given,
        // which for a chunk is the middle of the file, where the mark is data: a line end
        // (skipped, as before any record) tells it it has begun.
        let _ = core.read_record(b"\n", &mut [], &mut []);
        Box::new(Open {
            core,
            fields: vec![0; 1 << 12],
            ends: vec![0; 64],
            out: 0,
            nends: 0,
            dropped: false,
        })
    }

    /// Reads on from `bytes[*pos..]`, to the end of the record; the end of the file
    /// follows `bytes` when `last`.
    fn read(&mut self, bytes: &[u8], pos: &mut usize, last: bool) -> Step {
        loop {
            let input = bytes.get(*pos..).unwrap_or_default();
            if input.is_empty() && !last {
                // An empty input would tell csv-core the file has ended.
                return Step::Cut;
            }
            let (result, nin) = read_some(
                &mut self.core,
                input,
                (&mut self.fields, &mut self.out),
                (&mut self.ends, &mut self.nends),
                &mut self.dropped,
            );
            *pos += nin;
            match result {
                ReadRecordResult::InputEmpty if input.is_empty() => return Step::End,
                ReadRecordResult::InputEmpty if !last => return Step::Cut,
                ReadRecordResult::Record => return Step::Record,
                ReadRecordResult::End => return Step::End,
                _ => {}
            }
        }
    }

    /// Appends the post of the record read by the last [`Open::read`] that gave
    /// [`Step::Record`] to `batch`, or says why it is bad.
    fn push(&self, layout: &Layout, batch: &mut Batch) -> Result<(), String> {
        if self.dropped {
            return Err(too_long());
        }
        let view = View::unquoted(&self.fields, &self.ends, self.nends);
        layout.push(&view, batch, layout.idle_as_keys)
    }

    /// Makes room for the next record.
    fn clear(&mut self) {
        self.out = 0;
        self.nends = 0;
        self.dropped = false;
    }
}

/// Parses the records of `bytes` into `batch`, `bytes` starting at the start of a
/// record, or inside `open` when given; the end of the file follows them when `last`.
///
/// Records of plain fields and simply quoted ones are split in place here
/// ([`split_simple`]), several times faster than `csv-core` and to the same fields; every
/// other record goes through `csv-core`.
fn parse_chunk(
    layout: &Layout,
    file: &str,
    bytes: &[u8],
    last: bool,
    batch: &mut Batch,
    open: Option<Box<Open>>,
) -> Parsed {
    let mut bad = Vec::new();
    let mut pos = 0usize;
    // Line ends consumed so far.
    let mut line = 0u64;
    let mut resumed_bad = None;
    // Made on the first record it has to read (building it is not free).
    let mut core: Option<Box<Open>> = None;
    if let Some(mut open) = open {
        let before = open.core.line();
        let step = open.read(bytes, &mut pos, last);
        line += open.core.line() - before;
        match step {
            Step::Record => {
                if let Err(reason) = open.push(layout, batch) {
                    resumed_bad = Some(BadRow {
                        file: file.to_owned(),
                        line: 0,
                        reason,
                    });
                }
                open.clear();
                core = Some(open);
            }
            Step::Cut => {
                return Parsed::new(bad, resumed_bad, line, Tail::Partial { open, line: None });
            }
            Step::End => {
                return Parsed::new(bad, resumed_bad, line, Tail::Clean);
            }
        }
    }
    // Fixed arrays, not vectors: no capacity check for each field, and each record's
    // field count comes back in a register.
    let (mut starts, mut spans_end) = ([0usize; SIMPLE_FIELDS], [0usize; SIMPLE_FIELDS]);
    // A fresh batch sized for the chunk at once (its strings are at most the chunk's
    // bytes; a post is rarely under 48 bytes), not grown by doubling into fresh memory.
    batch.reserve(bytes.len() / 48, bytes.len());
    // One UTF-8 check for the chunk; should it fail, each record is checked alone.
    let text = std::str::from_utf8(bytes).ok();
    // Where the commas, quotes and line ends are, found a block at a time.
    let mut scan = Scan::new(bytes);
    loop {
        // Line ends before the record, counted here (csv-core skips them silently).
        while let Some(&b) = bytes.get(pos) {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
            pos += 1;
        }
        let (start, start_line) = (pos, line);
        if pos == bytes.len() {
            return Parsed::new(bad, resumed_bad, line, Tail::Clean);
        }
        let simple = split_simple(bytes, pos, &mut scan, &mut starts, &mut spans_end);
        let result = if let Some((end, newlines, fields)) = simple {
            pos = end;
            line += newlines;
            let view = View {
                bytes,
                ends: &spans_end[..fields],
                starts: Some(&starts[..fields]),
            };
            // The UTF-8 check covers the whole chunk at once or, when it fails, the record
            // as written, quotes and commas included.
            let whole = match text {
                Some(t) => Whole::Checked(t),
                None => Whole::Check(start..end),
            };
            // Past the limit as `csv-core` would find it (a chunk is seldom that big; the
            // fields, without quotes and commas, are counted only if the record is).
            let held = || -> usize {
                spans_end[..fields]
                    .iter()
                    .zip(&starts[..fields])
                    .map(|(e, s)| e - s)
                    .sum()
            };
            if end - start > MAX_RECORD_BYTES && held() > MAX_RECORD_BYTES {
                Err(too_long())
            } else {
                layout.push_in(&view, whole, batch)
            }
        } else {
            let open = core.get_or_insert_with(Open::new);
            open.clear();
            let before = open.core.line();
            let step = open.read(bytes, &mut pos, last);
            line += open.core.line() - before;
            match step {
                Step::Record => open.push(layout, batch),
                Step::Cut => {
                    let open = core.take().unwrap_or_else(Open::new);
                    return Parsed::new(
                        bad,
                        resumed_bad,
                        line,
                        Tail::Partial {
                            open,
                            line: Some(start_line),
                        },
                    );
                }
                Step::End => {
                    return Parsed::new(bad, resumed_bad, line, Tail::Clean);
                }
            }
        };
        if let Err(reason) = result {
            bad.push(BadRow {
                file: file.to_owned(),
                line: start_line,
                reason,
            });
        }
    }
}

impl Layout {
    /// Appends the post in record `r` to `batch`, or says why it is bad (and appends
    /// nothing).
    /// Idle posts are kept as keys alone when `idle`.
    fn push(&self, r: &View<'_>, batch: &mut Batch, idle: bool) -> Result<(), String> {
        let mark = batch.mark();
        let result = self.fill(r, batch, idle);
        if result.is_err() {
            batch.rollback(mark);
        }
        result
    }

    /// [`Layout::push`] for a record read in place: `whole` is the record as written in
    /// `r.bytes`.
    fn push_in(&self, r: &View<'_>, whole: Whole<'_>, batch: &mut Batch) -> Result<(), String> {
        let mark = batch.mark();
        let result = self.fill_checked(r, whole, batch, self.idle_as_keys);
        if result.is_err() {
            batch.rollback(mark);
        }
        result.map_err(|r| r.0.into_string())
    }

    fn fill(&self, r: &View<'_>, batch: &mut Batch, idle: bool) -> Result<(), String> {
        self.fill_checked(r, Whole::Check(0..r.all().len()), batch, idle)
            .map_err(|r| r.0.into_string())
    }

    /// Fills from `r`, whose fields all lie in `r.bytes[whole]` (checked for UTF-8 at
    /// once); an idle post as its account's key alone when `idle`.
    fn fill_checked(
        &self,
        r: &View<'_>,
        whole: Whole<'_>,
        batch: &mut Batch,
        idle: bool,
    ) -> Result<(), Reason> {
        if r.len() != self.width {
            return Err(Reason::from(if self.format == Format::Cnt {
                format!(
                    "has {} fields; coordination-network-toolkit rows have 8 ({})",
                    r.len(),
                    CNT_HEADER.join(", ")
                )
            } else {
                format!("has {} fields, the header has {}", r.len(), self.width)
            }));
        }
        // One UTF-8 check for the whole record, much faster than one per field; a field
        // is then a slice of it (`get` fails only off a character boundary, which a
        // field of valid UTF-8 never is). Should the record not be valid UTF-8, each
        // field read is checked on its own, to name the one at fault.
        let (offset, whole) = match whole {
            Whole::Checked(text) => (0, Some(text)),
            Whole::Check(range) => (
                range.start,
                r.all().get(range).and_then(|w| std::str::from_utf8(w).ok()),
            ),
        };
        let get = |i: usize, name: &str| {
            let field = whole
                .zip(r.range(i))
                .and_then(|(w, x)| w.get(x.start.checked_sub(offset)?..x.end.checked_sub(offset)?));
            match field {
                Some(s) => Ok(s),
                None => cell::utf8(r.get(i).unwrap_or_default(), name),
            }
        };
        let c = &self.columns;
        let account = cell::required(Some(get(c.account.0, c.account.1)?), c.account.1)?;
        let id = cell::required(Some(get(c.post.0, c.post.1)?), c.post.1)?;
        let time_ms = cell::time_ms(get(c.time.0, c.time.1)?)?;
        let platform = match c.platform {
            Some(i) => cell::optional(get(i, PLATFORM)?).unwrap_or(&self.platform),
            None => &self.platform,
        };
        // The optional fields read, as written ("" for one not read).
        let field = |column: Option<(usize, &str)>| match column {
            Some((i, name)) => get(i, name),
            None => Ok(""),
        };
        let text = cell::text(field(c.text)?);
        let urls = field(c.urls.map(|i| (i, URLS)))?;
        let hashtags = field(c.hashtags.map(|i| (i, HASHTAGS)))?;
        let media = field(c.media.map(|i| (i, MEDIA)))?;
        let repost = cell::optional(field(c.repost)?);
        let reply = cell::optional(field(c.reply)?);
        // Idle: no optional field holds anything (a blank cell holds no item; a cell of
        // other white space, which holds none either, is taken as a row, as it may be),
        // or a repost that does not reply, when the options say a repost acts on nothing
        // else (its images, which may make the row bad, checked all the same).
        let nothing = || {
            text.is_none()
                && repost.is_none()
                && cell::blank(urls, false)
                && cell::blank(hashtags, true)
                && cell::blank(media, true)
        };
        let idle_repost = || {
            self.idle_reposts
                && repost.is_some()
                && (cell::blank(media, true) || cell::media(media, |_| {}).is_ok())
        };
        if idle && reply.is_none() && (nothing() || idle_repost()) {
            batch.add_idle(crate::detect::account_key(platform, account));
            return Ok(());
        }
        let mut row = Row {
            platform: batch.add_str(platform),
            account: batch.add_str(account),
            id: batch.add_str(id),
            time_ms,
            ..Row::default()
        };
        if c.text.is_some() {
            row.text = text.map(|t| batch.add_str(t));
        }
        if c.urls.is_some() {
            let start = batch.lists_len();
            for u in cell::urls(urls) {
                batch.add_item(u);
            }
            row.urls = batch.range_from_lists(start);
        }
        if c.hashtags.is_some() {
            let start = batch.lists_len();
            for h in cell::hashtags(hashtags) {
                batch.add_item(h);
            }
            row.hashtags = batch.range_from_lists(start);
        }
        if c.media.is_some() {
            let start = batch.media_len();
            cell::media(media, |h| batch.add_media(h))?;
            row.media = batch.range_from_media(start);
        }
        row.repost_of = repost.map(|t| batch.add_str(t));
        row.reply_to = reply.map(|t| batch.add_str(t));
        batch.add_row(row);
        Ok(())
    }
}

/// Fields [`split_simple`] splits in place; a record with more goes to `csv-core`.
const SIMPLE_FIELDS: usize = 256;

/// Splits the record starting at `bytes[start]` (not a line end) in place, when every
/// field is plain (no quote, no carriage return) or quoted without a quote inside
/// (`"a, b"`), and the record ends with a line end: each field's start and end go to
/// `starts` and `ends`. Returns where the record ends (after its line end), the line
/// ends it holds and its number of fields; `None` for any other record, which `csv-core`
/// then reads (doubled quotes, text after a closing quote, a record cut by the end of the
/// input, more than [`SIMPLE_FIELDS`] fields).
fn split_simple(
    bytes: &[u8],
    start: usize,
    scan: &mut Scan<'_>,
    starts: &mut [usize; SIMPLE_FIELDS],
    ends: &mut [usize; SIMPLE_FIELDS],
) -> Option<(usize, u64, usize)> {
    let mut i = start;
    let mut newlines = 0u64;
    let mut n = 0usize;
    loop {
        if n == SIMPLE_FIELDS {
            return None;
        }
        if bytes.get(i) == Some(&b'"') {
            // The closing quote is the next quote; commas and line ends before it are
            // inside the field.
            let mut k = i + 1;
            let close = loop {
                let j = scan.next(k)?;
                match bytes.get(j) {
                    Some(b'"') => break j,
                    Some(b'\n') => newlines += 1,
                    _ => {}
                }
                k = j + 1;
            };
            starts[n] = i + 1;
            ends[n] = close;
            n += 1;
            match *bytes.get(close + 1)? {
                b',' => i = close + 2,
                b'\n' => return Some((close + 2, newlines + 1, n)),
                b'\r' => return Some((close + 2, newlines, n)),
                _ => return None,
            }
        } else {
            let j = scan.next(i)?;
            starts[n] = i;
            ends[n] = j;
            n += 1;
            match bytes[j] {
                b',' => i = j + 1,
                b'\n' => return Some((j + 1, newlines + 1, n)),
                // A `\r` ends the record (the `\n` of a `\r\n` is skipped as a blank line).
                b'\r' => return Some((j + 1, newlines, n)),
                // A quote inside a plain field is kept as written by csv-core; rare.
                _ => return None,
            }
        }
    }
}

/// Why a record is bad, boxed so that a good record's result fits in registers (this is
/// the inner loop of reading).
struct Reason(Box<str>);

impl From<String> for Reason {
    fn from(s: String) -> Reason {
        Reason(s.into_boxed_str())
    }
}

/// Where a record's fields are, for one UTF-8 check of them all.
enum Whole<'a> {
    /// All of the view's bytes, checked already.
    Checked(&'a str),
    /// This range of the view's bytes, to be checked.
    Check(std::ops::Range<usize>),
}

/// coordination-network-toolkit's columns, by position.
fn cnt_columns(fields: &Fields) -> Columns {
    Columns {
        post: (0, CNT_HEADER[0]),
        account: (1, CNT_HEADER[1]),
        repost: fields.repost.then_some((3, CNT_HEADER[3])),
        reply: fields.reply.then_some((4, CNT_HEADER[4])),
        text: fields.text.then_some((5, CNT_HEADER[5])),
        time: (6, CNT_HEADER[6]),
        urls: fields.urls.then_some(7),
        platform: None,
        hashtags: None,
        media: None,
    }
}

/// Accord CSV's columns, by name.
fn csv_columns(file: &str, names: &[String], fields: &Fields) -> Result<Columns, InputError> {
    for (i, n) in names.iter().enumerate() {
        if !n.is_empty() && names[..i].contains(n) {
            return Err(InputError::DuplicateColumn {
                file: file.to_owned(),
                column: n.clone(),
            });
        }
    }
    let find = |name: &str| names.iter().position(|n| n == name);
    let (account, post, time) = (find(ACCOUNT), find(POST), find(TIME));
    let (Some(account), Some(post), Some(time)) = (account, post, time) else {
        let missing = [(ACCOUNT, account), (POST, post), (TIME, time)]
            .into_iter()
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| n.to_owned())
            .collect();
        let toolkit = names.len() == CNT_HEADER.len()
            || names.iter().any(|n| n == "message_id" || n == "user_id");
        let hint = if toolkit {
            "; if it is a coordination-network-toolkit file, read it as format cnt".to_owned()
        } else {
            String::new()
        };
        return Err(InputError::MissingColumns {
            file: file.to_owned(),
            missing,
            found: names.to_vec(),
            hint,
        });
    };
    let optional = |name: &'static str, wanted: bool| find(name).filter(|_| wanted);
    Ok(Columns {
        account: (account, ACCOUNT),
        post: (post, POST),
        time: (time, TIME),
        platform: find(PLATFORM),
        text: optional(TEXT, fields.text).map(|i| (i, TEXT)),
        urls: optional(URLS, fields.urls),
        hashtags: optional(HASHTAGS, fields.hashtags),
        media: optional(MEDIA, fields.media),
        repost: optional(REPOST, fields.repost).map(|i| (i, REPOST)),
        reply: optional(REPLY, fields.reply).map(|i| (i, REPLY)),
    })
}

/// One record: its fields end to end, and where each ends.
struct View<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    /// Where each field starts, when the fields are not end to end (a record read in
    /// place, with its commas and quotes).
    starts: Option<&'a [usize]>,
}

impl<'a> View<'a> {
    /// The first `n` fields `csv-core` wrote end to end into `fields`, ending at `ends`.
    fn unquoted(fields: &'a [u8], ends: &'a [usize], n: usize) -> View<'a> {
        let ends = ends.get(..n).unwrap_or_default();
        let end = ends.last().copied().unwrap_or(0);
        View {
            bytes: fields.get(..end).unwrap_or_default(),
            ends,
            starts: None,
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where field `i` is in [`View::all`].
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let start = match (self.starts, i) {
            (Some(starts), _) => *starts.get(i)?,
            (None, 0) => 0,
            (None, _) => *self.ends.get(i - 1)?,
        };
        Some(start..*self.ends.get(i)?)
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        self.bytes.get(self.range(i)?)
    }

    /// Every field of the record (end to end, or the record as written).
    fn all(&self) -> &[u8] {
        self.bytes
    }
}

/// CSV records, one at a time, into reused buffers.
struct Records {
    core: csv_core::Reader,
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// The current record's fields, end to end, and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    /// The line the current record starts on, from 1.
    line: u64,
    /// The current record grew past the limits and was dropped (see [`read_some`]).
    dropped: bool,
}

impl Records {
    fn new(input: Box<dyn Read + Send>) -> Records {
        Records {
            core: csv_core::Reader::new(),
            input,
            buf: vec![0; 1 << 16],
            pos: 0,
            end: 0,
            eof: false,
            fields: vec![0; 1 << 12],
            ends: vec![0; 64],
            len: 0,
            line: 1,
            dropped: false,
        }
    }

    /// Bytes read from the input and not yet parsed.
    fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// The line the next unparsed byte is on.
    fn line_after(&self) -> u64 {
        self.core.line()
    }

    /// The current record.
    fn view(&self) -> View<'_> {
        View::unquoted(&self.fields, &self.ends, self.len)
    }

    /// Refills the buffer once it is used up.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos < self.end || self.eof {
            return Ok(());
        }
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads the next record; `false` at the end of the input.
    fn next(&mut self) -> io::Result<bool> {
        // Line ends before the record: csv-core would skip them too, but without telling.
        loop {
            self.fill()?;
            match self.buf.get(self.pos..self.end).and_then(<[u8]>::first) {
                None => break,
                Some(b'\n') => {
                    self.core.set_line(self.core.line() + 1);
                    self.pos += 1;
                }
                Some(b'\r') => self.pos += 1,
                Some(_) => break,
            }
        }
        self.line = self.core.line();
        self.dropped = false;
        let (mut out, mut ends) = (0, 0);
        loop {
            self.fill()?;
            let input = self.buf.get(self.pos..self.end).unwrap_or_default();
            let at_end = input.is_empty();
            let (result, nin) = read_some(
                &mut self.core,
                input,
                (&mut self.fields, &mut out),
                (&mut self.ends, &mut ends),
                &mut self.dropped,
            );
            self.pos += nin;
            match result {
                ReadRecordResult::InputEmpty if at_end => return Ok(false),
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => {
                    self.len = ends;
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.len = 0;
                    return Ok(false);
                }
            }
        }
    }
}
