//! Reading posts from files: Accord CSV, JSON lines, Parquet, and the CSV of
//! coordination-network-toolkit, so that its users can switch without converting.
//!
//! A [`Reader`] hands out posts in batches ([`Reader::read_batch`]) so that a day of
//! posts, tens of millions of rows, never has to be in memory as text, and so that a
//! progress bar can follow [`Reader::position`]. The shape follows from two rules of the
//! issue this crate answers:
//!
//! - **A missing or empty field means "no item".** Every format goes through the same
//!   cell rules: ids are trimmed, and an empty or white-space-only cell (or a JSON `null`,
//!   a Parquet null) gives no repost, no reply, no link, never an item equal to `""`.
//!   coordination-network-toolkit turns an empty `urls` cell into the link `""`, which
//!   links every link-less post to every other; here it is no link.
//! - **A bad row is skipped, not fatal.** A row without an account, a post id or a
//!   readable time, with a bad PDQ hash, the wrong number of columns, invalid JSON or
//!   invalid UTF-8 becomes a [`BadRow`] with its line and a reason a person can act on,
//!   and reading goes on. Only what stops the whole file is an [`InputError`]: it cannot
//!   be opened, is not Parquet, or lacks a required column.
//!
//! Reading is a large share of a detection run on a large file, so only the fields
//! asked for in [`Fields`] are parsed, CSV records are read into one reused buffer with
//! columns looked up by index once, and Parquet is read column by column without Arrow.
//!
//! Formats, by column name (CSV header, JSON key, Parquet column):
//! `account_id`, `post_id`, `timestamp` (required), and `platform`, `text`, `urls`,
//! `hashtags`, `media_pdq`, `repost_of`, `reply_to`; other columns are ignored.
//! - `timestamp`: epoch seconds (integer or fractional, or with an exponent) or RFC 3339
//!   with `Z` or an offset; in Parquet also a TIMESTAMP (any unit; one not marked UTC is
//!   read as UTC), a DATE, or an integer or floating-point number of seconds. A time
//!   outside years 1 to 9999 is a bad row (epoch milliseconds in the column show up so,
//!   rather than as dates 50,000 years ahead), and so is a date and time without an
//!   offset, whose zone cannot be guessed.
//! - `urls`: separated by white space. `hashtags`: by white space or commas, kept as
//!   written with or without `#`. `media_pdq`: 64-hex-digit PDQ hashes, by white space or
//!   commas. In JSON lines and Parquet these may also be lists of strings, each element
//!   read like a cell of its own.
//! - `platform`: when a row has none, [`ReadOptions::platform`].
//! - coordination-network-toolkit's CSV ([`Format::Cnt`]): the header is skipped and
//!   columns are read by position, `message_id, user_id, username, repost_id, reply_id,
//!   message, timestamp, urls`, exactly as that tool reads them; the platform is always
//!   [`ReadOptions::platform`].
//!
//! Blank lines are skipped. Files may be gzip-compressed (not Parquet, whose compression
//! is internal).

mod cell;
mod csv_in;
mod jsonl;
mod parallel;
mod parquet_in;
mod scan;

use parallel::Piece;
pub use parallel::{Parallel, read_parallel};

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::batch::Batch;
use crate::model::{Behaviour, Post};

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Accord CSV: a header row, columns by name.
    Csv,
    /// JSON lines: one object per line, keys named like the CSV columns.
    Jsonl,
    /// Apache Parquet, columns named like the CSV columns.
    Parquet,
    /// coordination-network-toolkit's CSV: a header row, then eight columns by position.
    Cnt,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Jsonl, Format::Parquet, Format::Cnt];

    /// The format's name on the command line: `csv`, `jsonl`, `parquet`, `cnt`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
            Format::Cnt => "cnt",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Format, InputError> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| InputError::UnknownFormat { name: s.to_owned() })
    }
}

/// Which optional fields to parse; the others are skipped, which is faster. The required
/// fields (account, post id, time) and the platform are always read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// `text` (co-text, co-similar-text).
    pub text: bool,
    /// `urls` (co-link).
    pub urls: bool,
    /// `hashtags` (co-hashtag).
    pub hashtags: bool,
    /// `media_pdq` (co-media).
    pub media: bool,
    /// `repost_of` (co-repost, and every behaviour but co-reply, which leave reposts out).
    pub repost: bool,
    /// `reply_to` (co-reply).
    pub reply: bool,
}

impl Fields {
    /// Every field.
    #[must_use]
    pub fn all() -> Fields {
        Fields {
            text: true,
            urls: true,
            hashtags: true,
            media: true,
            repost: true,
            reply: true,
        }
    }

    /// No optional field.
    #[must_use]
    pub fn none() -> Fields {
        Fields {
            text: false,
            urls: false,
            hashtags: false,
            media: false,
            repost: false,
            reply: false,
        }
    }

    /// The fields the engine reads to detect `behaviours`. `repost_of` is among them for
    /// every behaviour but co-reply, since the engine leaves reposts out of those (a
    /// repost carries its original's links and text).
    #[must_use]
    pub fn for_behaviours(behaviours: &[Behaviour]) -> Fields {
        let mut f = Fields::none();
        for b in behaviours {
            match b {
                Behaviour::CoLink => f.urls = true,
                Behaviour::CoText | Behaviour::CoSimilarText => f.text = true,
                Behaviour::CoMedia => f.media = true,
                Behaviour::CoRepost => {}
                Behaviour::CoReply => f.reply = true,
                Behaviour::CoHashtag => f.hashtags = true,
            }
            if *b != Behaviour::CoReply {
                f.repost = true;
            }
        }
        f
    }
}

impl Default for Fields {
    fn default() -> Fields {
        Fields::all()
    }
}

/// How to read a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Platform of the rows that name none (every row of a coordination-network-toolkit
    /// file).
    pub platform: String,
    /// Optional fields to parse.
    pub fields: Fields,
    /// Keep a post whose optional fields in [`ReadOptions::fields`] are all empty (one
    /// that acts on nothing) as the key of its account alone, an idle post of its batch
    /// ([`Batch::idle_len`]), instead of as a row with its strings: it is still checked and
    /// counted, and the detector numbers its account, which is all detection needs of it.
    /// CSV files (either kind) do so; JSON lines and Parquet keep every post as a row. Off
    /// by default, so that every post read is one of [`Batch::iter`]'s.
    pub idle_as_keys: bool,
    /// With [`ReadOptions::idle_as_keys`], a repost (`repost_of` set) is idle too whatever
    /// its text, links, hashtags and images, unless it replies (`reply_to` set): those are
    /// its original's, not its own, in every behaviour but co-repost (which needs this
    /// off) and co-reply. Its images are still checked.
    pub idle_reposts: bool,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            platform: "unknown".to_owned(),
            fields: Fields::all(),
            idle_as_keys: false,
            idle_reposts: false,
        }
    }
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The file, as given to [`Reader::open`].
    pub file: String,
    /// The line the record starts on, from 1 (CSV, coordination-network-toolkit CSV, JSON
    /// lines), or the row number from 1 (Parquet).
    pub line: u64,
    /// What is wrong with it, e.g. "timestamp 'yesterday' is neither epoch seconds nor
    /// RFC 3339".
    pub reason: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// A failure that stops reading a whole file. Problems with single rows are [`BadRow`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A format name other than `csv`, `jsonl`, `parquet` or `cnt`.
    #[error("unknown input format '{name}' (expected csv, jsonl, parquet or cnt)")]
    UnknownFormat {
        /// The name given.
        name: String,
    },
    /// The file could not be opened.
    #[error("cannot open {file}: {source}")]
    Open {
        /// The file.
        file: String,
        /// Why.
        source: io::Error,
    },
    /// Reading the file failed part-way (an I/O error, or a corrupt gzip stream).
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: io::Error,
    },
    /// A CSV file without even a header row.
    #[error("{file} is empty: a CSV file starts with a header row naming its columns")]
    NoHeader {
        /// The file.
        file: String,
    },
    /// A required column is absent from the header (CSV) or schema (Parquet).
    #[error(
        "{file} has no column {} (its columns: {}){hint}",
        missing.join(", "),
        if found.is_empty() { "none".to_owned() } else { found.join(", ") }
    )]
    MissingColumns {
        /// The file.
        file: String,
        /// The required columns it lacks.
        missing: Vec<String>,
        /// The columns it has.
        found: Vec<String>,
        /// A suggestion (empty, or starting with "; ").
        hint: String,
    },
    /// A column name appears twice in a CSV header.
    #[error("{file} names column {column} twice")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// The column.
        column: String,
    },
    /// The file is not a Parquet file, or is a corrupt one.
    #[error("{file} is not a readable Parquet file: {reason}")]
    Parquet {
        /// The file.
        file: String,
        /// What the Parquet reader reported.
        reason: String,
    },
    /// A Parquet column has a type its field cannot be read from.
    #[error("{file}: column {column} is {found}; {expected}")]
    ColumnType {
        /// The file.
        file: String,
        /// The column.
        column: String,
        /// Its type.
        found: String,
        /// What the column may be.
        expected: String,
    },
    /// The file's format cannot be read the way it is stored (a gzip-compressed Parquet
    /// file).
    #[error("{file}: {reason}")]
    Unsupported {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// Reads one file of posts in batches.
pub struct Reader {
    file: String,
    format: Format,
    len: u64,
    source: Source,
}

enum Source {
    Csv(Box<csv_in::CsvSource>),
    Jsonl(Box<jsonl::JsonlSource>),
    Parquet(Box<parquet_in::ParquetSource>),
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("file", &self.file)
            .field("format", &self.format)
            .field("len", &self.len)
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const PARQUET_MAGIC: [u8; 4] = *b"PAR1";

/// Rows per piece of a JSON lines or Parquet file in [`read_parallel`].
const READY_ROWS: usize = 16_384;

/// The toolkit's header, which marks a `.csv` file as [`Format::Cnt`].
pub(crate) const CNT_HEADER: [&str; 8] = [
    "message_id",
    "user_id",
    "username",
    "repost_id",
    "reply_id",
    "message",
    "timestamp",
    "urls",
];

impl Reader {
    /// Opens `path`. With `format` `None` the format is told from the file name
    /// (`.csv`; `.jsonl`, `.ndjson` or `.json`; `.parquet` or `.pq`; any of them may end in
    /// `.gz`) and, for a `.csv` file, from its header (coordination-network-toolkit's
    /// eight column names make it [`Format::Cnt`]); a file with another name is told from
    /// its first bytes (Parquet's magic number, or a `{` for JSON lines, else CSV).
    /// gzip-compressed files are read whatever their name.
    ///
    /// # Errors
    /// The file cannot be opened, is not Parquet when it should be, is an empty CSV file,
    /// or lacks a required column ([`InputError`]).
    pub fn open(
        path: &Path,
        format: Option<Format>,
        options: &ReadOptions,
    ) -> Result<Reader, InputError> {
        let file = path.display().to_string();
        let open_err = |source| InputError::Open {
            file: file.clone(),
            source,
        };
        let mut f = File::open(path).map_err(open_err)?;
        let len = f.metadata().map_err(open_err)?.len();
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut f, &mut magic).map_err(open_err)?;
        let magic = &magic[..got];
        let gzip = magic.starts_with(&GZIP_MAGIC);
        let given = format;
        let format = match format {
            Some(f) => Some(f),
            None if magic == PARQUET_MAGIC => Some(Format::Parquet),
            None => by_name(path),
        };
        if format == Some(Format::Parquet) {
            if gzip {
                return Err(InputError::Unsupported {
                    file,
                    reason: "a gzip-compressed Parquet file cannot be read; decompress it \
                             (Parquet compresses its own pages)"
                        .to_owned(),
                });
            }
            let source = parquet_in::ParquetSource::open(path, &file, options)?;
            return Ok(Reader {
                file,
                format: Format::Parquet,
                len,
                source: Source::Parquet(Box::new(source)),
            });
        }
        let (format, mode) = match (given, format) {
            (Some(Format::Cnt), _) => (Format::Cnt, csv_in::Mode::Cnt),
            (Some(f), _) => (f, csv_in::Mode::Csv),
            (None, Some(f)) => (f, csv_in::Mode::Detect),
            (None, None) => (sniff(path, &file, gzip)?, csv_in::Mode::Detect),
        };
        let count = Arc::new(AtomicU64::new(0));
        let stream = open_stream(path, &file, gzip, Arc::clone(&count))?;
        let (format, source) = match format {
            Format::Jsonl => (
                Format::Jsonl,
                Source::Jsonl(Box::new(jsonl::JsonlSource::new(
                    stream, &file, options, count,
                ))),
            ),
            Format::Csv | Format::Cnt | Format::Parquet => {
                let source = csv_in::CsvSource::open(stream, &file, mode, options, count)?;
                (source.format(), Source::Csv(Box::new(source)))
            }
        };
        Ok(Reader {
            file,
            format,
            len,
            source,
        })
    }

    /// The file's format (as detected, when [`Reader::open`] was given none).
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// The file, as given to [`Reader::open`].
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Reads at most `max` records, appending the good ones to `posts` (every one, even
    /// with [`ReadOptions::idle_as_keys`]) and the rejected ones to `bad`. Returns
    /// `Ok(true)` while there may be more, `Ok(false)` once the
    /// input is exhausted (the posts of that last call are still appended).
    ///
    /// # Errors
    /// Reading the file failed part-way (an I/O error, a corrupt gzip stream or Parquet
    /// page): the posts appended so far stay, and the rest of the file cannot be read.
    pub fn read_batch(
        &mut self,
        max: usize,
        posts: &mut Vec<Post>,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        match &mut self.source {
            Source::Csv(s) => {
                // Every post, idle or not: a `Post` has room for no less.
                let mut batch = Batch::new();
                let more = s.read_batch(max, &mut batch, bad, false);
                posts.extend(batch.iter().map(|p| p.to_post()));
                more
            }
            Source::Jsonl(s) => s.read_batch(max, posts, bad),
            Source::Parquet(s) => s.read_batch(max, posts, bad),
        }
    }

    /// [`Reader::read_batch`] into a [`Batch`], which for CSV saves allocating each
    /// post's strings (and keeps idle posts as keys when the options say so).
    ///
    /// # Errors
    /// As [`Reader::read_batch`].
    pub fn read_into(
        &mut self,
        max: usize,
        batch: &mut Batch,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        let mut posts = Vec::new();
        let more = match &mut self.source {
            Source::Csv(s) => return s.read_batch(max, batch, bad, true),
            Source::Jsonl(s) => s.read_batch(max, &mut posts, bad),
            Source::Parquet(s) => s.read_batch(max, &mut posts, bad),
        };
        for p in &posts {
            batch.push(p);
        }
        more
    }

    /// The next piece of the file for [`read_parallel`]: for CSV and JSON lines a chunk
    /// of about `chunk_bytes` raw bytes (in `spare`, if given, to reuse it), to be parsed
    /// on any thread; for Parquet a batch read here. `None` at the end.
    fn next_piece(
        &mut self,
        chunk_bytes: usize,
        spare: Option<Vec<u8>>,
    ) -> Result<Option<Piece>, InputError> {
        match &mut self.source {
            Source::Csv(s) => return Ok(s.next_chunk(chunk_bytes, spare)?.map(Piece::Chunk)),
            Source::Jsonl(s) => return Ok(s.next_lines(chunk_bytes, spare)?.map(Piece::Lines)),
            Source::Parquet(_) => {}
        }
        let (mut batch, mut bad) = (Batch::new(), Vec::new());
        let more = self.read_into(READY_ROWS, &mut batch, &mut bad)?;
        Ok((more || !batch.is_empty() || !bad.is_empty()).then_some(Piece::Ready(batch, bad)))
    }

    /// Bytes of the file consumed so far (for Parquet, estimated from the rows read).
    #[must_use]
    pub fn position(&self) -> u64 {
        match &self.source {
            Source::Csv(s) => s.position(),
            Source::Jsonl(s) => s.position(),
            Source::Parquet(s) => s.position(self.len),
        }
        .min(self.len)
    }

    /// The file's size in bytes (compressed, for a gzip file).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The format a file name says, if any.
fn by_name(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "csv" => Some(Format::Csv),
        "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
        "parquet" | "pq" => Some(Format::Parquet),
        _ => None,
    }
}

/// The format of a text file with an unknown name: JSON lines when it starts with `{`,
/// else CSV.
fn sniff(path: &Path, file: &str, gzip: bool) -> Result<Format, InputError> {
    let mut stream = open_stream(path, file, gzip, Arc::new(AtomicU64::new(0)))?;
    let mut head = [0u8; 4096];
    let got = read_up_to(&mut stream, &mut head).map_err(|source| InputError::Read {
        file: file.to_owned(),
        source,
    })?;
    let head = &head[..got];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'{') {
        Format::Jsonl
    } else {
        Format::Csv
    })
}

/// Reads until `buf` is full or the stream ends; the number of bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A byte stream of the file's content, decompressed if `gzip`, counting the file's bytes
/// read into `count`.
fn open_stream(
    path: &Path,
    file: &str,
    gzip: bool,
    count: Arc<AtomicU64>,
) -> Result<Box<dyn Read + Send>, InputError> {
    let f = File::open(path).map_err(|source| InputError::Open {
        file: file.to_owned(),
        source,
    })?;
    let counted = Counted { inner: f, count };
    Ok(if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 16, counted),
        ))
    } else {
        Box::new(counted)
    })
}

/// A reader that adds the bytes it reads to a shared counter.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The platform of a row: its own when it names one, else the default.
fn platform(cell: Option<&str>, default: &str) -> String {
    cell.and_then(cell::optional).unwrap_or(default).to_owned()
}
