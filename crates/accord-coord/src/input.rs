//! Reading posts: CSV, JSON lines, Parquet, and coordination-network-toolkit's CSV.
//!
//! Analysts bring what their platform or collection tool exports, so every format maps to
//! the same columns — `platform, account_id, post_id, timestamp` and any of `text, urls,
//! hashtags, media_pdq, repost_of, reply_to` — and a toolkit user's file is read as it is,
//! by position, with no conversion.
//!
//! Why it is shaped so:
//! - **Batches, not rows.** [`Reader::read_batch`] fills a vector of posts so that one
//!   thread can read while others normalise; a CSV record buffer is reused throughout and
//!   fields the selected behaviours do not need ([`Fields`]) are never decoded.
//! - **A bad row is not a bad file.** A row missing its account, post id or time, with a
//!   time that is neither epoch seconds nor RFC 3339, a PDQ hash that is not 64 hex
//!   digits, invalid UTF-8 or invalid JSON becomes a [`BadRow`] naming file, line and
//!   reason, and reading goes on. Only what stops the whole file (it cannot be opened, it
//!   is not CSV or Parquet, a required column is missing) is an [`InputError`].
//! - **Empty is nothing.** A missing, empty or blank field means "no item": an empty
//!   `repost_of` is not a repost of "", an empty `urls` cell shares no link.
//! - **Lists** (`urls`, `hashtags`, `media_pdq`) are whitespace-separated inside a cell
//!   (hashtags and hashes may also be comma-separated); JSON lines may also give arrays,
//!   Parquet list columns.
//! - **Times** are epoch seconds (integer or fractional) or RFC 3339 with `Z` or an offset;
//!   Parquet TIMESTAMP columns in any unit are read as such.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use parquet::basic::{LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use crate::model::Post;

/// Longest JSON line read; a longer one is a bad row (and is skipped to its end).
const MAX_LINE: usize = 16 << 20;

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header naming the columns.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
    /// coordination-network-toolkit's CSV: a header row, then `message_id, user_id,
    /// username, repost_id, reply_id, message, timestamp, urls` by position.
    Cnt,
}

impl Format {
    /// The format's name on the command line.
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

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            "parquet" => Ok(Format::Parquet),
            "cnt" => Ok(Format::Cnt),
            other => Err(format!(
                "unknown format {other:?}: choose csv, jsonl, parquet or cnt"
            )),
        }
    }
}

/// Which optional fields to read; the others are left empty without being decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// `text`.
    pub text: bool,
    /// `urls`.
    pub urls: bool,
    /// `hashtags`.
    pub hashtags: bool,
    /// `media_pdq`.
    pub media: bool,
    /// `repost_of`.
    pub repost: bool,
    /// `reply_to`.
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
}

/// How to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Platform of rows that name none (every row of a toolkit file).
    pub platform: String,
    /// Optional fields to read.
    pub fields: Fields,
    /// Threads turning CSV records into posts (the file itself is read by one).
    pub threads: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            platform: "unknown".to_owned(),
            fields: Fields::all(),
            threads: 1,
        }
    }
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The file, as given.
    pub file: String,
    /// 1-based line where the record starts (row number for Parquet).
    pub line: u64,
    /// What is wrong, for a person to fix.
    pub reason: String,
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The error.
        source: std::io::Error,
    },
    /// The format could not be told from the name; `--format` says it.
    #[error("{file}: cannot tell the format from the name; give it (csv, jsonl, parquet or cnt)")]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// Required columns are absent from the header or schema.
    #[error("{file}: missing column(s) {}; found {}", missing.join(", "), found.join(", "))]
    MissingColumns {
        /// The file.
        file: String,
        /// Required columns not found.
        missing: Vec<String>,
        /// The columns that are there.
        found: Vec<String>,
    },
    /// The CSV itself is unreadable (no header, broken at the byte level).
    #[error("{file}: not readable as CSV: {message}")]
    Csv {
        /// The file.
        file: String,
        /// What the CSV reader said.
        message: String,
    },
    /// The Parquet file is unreadable.
    #[error("{file}: not readable as Parquet: {message}")]
    Parquet {
        /// The file.
        file: String,
        /// What the Parquet reader said.
        message: String,
    },
}

/// Column positions in a CSV header (or names in JSON and Parquet).
#[derive(Clone, Copy, Debug, Default)]
struct Columns {
    platform: Option<usize>,
    account: usize,
    id: usize,
    time: usize,
    text: Option<usize>,
    urls: Option<usize>,
    hashtags: Option<usize>,
    media: Option<usize>,
    repost: Option<usize>,
    reply: Option<usize>,
}

const REQUIRED: [&str; 3] = ["account_id", "post_id", "timestamp"];

impl Columns {
    /// Positions of the known columns among `names`, requested ones only.
    fn find(names: &[String], fields: Fields, file: &str) -> Result<Columns, InputError> {
        let at = |name: &str| {
            names
                .iter()
                .position(|n| n.trim().eq_ignore_ascii_case(name))
        };
        let missing: Vec<String> = REQUIRED
            .iter()
            .filter(|n| at(n).is_none())
            .map(|n| (*n).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(InputError::MissingColumns {
                file: file.to_owned(),
                missing,
                found: names.to_vec(),
            });
        }
        let want = |on: bool, name: &str| if on { at(name) } else { None };
        Ok(Columns {
            platform: at("platform"),
            account: at("account_id").unwrap_or(0),
            id: at("post_id").unwrap_or(0),
            time: at("timestamp").unwrap_or(0),
            text: want(fields.text, "text"),
            urls: want(fields.urls, "urls"),
            hashtags: want(fields.hashtags, "hashtags"),
            media: want(fields.media, "media_pdq"),
            repost: want(fields.repost, "repost_of"),
            reply: want(fields.reply, "reply_to"),
        })
    }
}

/// Reads posts from one file, batch by batch.
pub struct Reader {
    file: String,
    format: Format,
    len: u64,
    platform: String,
    fields: Fields,
    threads: usize,
    inner: Inner,
}

enum Inner {
    Csv {
        reader: csv::Reader<File>,
        columns: Columns,
        records: Vec<csv::ByteRecord>,
    },
    Cnt {
        reader: csv::Reader<File>,
        records: Vec<csv::ByteRecord>,
    },
    Jsonl {
        reader: BufReader<CountingReader<File>>,
        line: u64,
        buffer: Vec<u8>,
    },
    Parquet {
        rows: parquet::record::reader::RowIter<'static>,
        total: u64,
        row: u64,
        time_unit: Option<TimeUnit>,
    },
}

/// A reader that counts the bytes it has handed out.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl Reader {
    /// Opens `path`. With `format` `None` the format comes from the extension (`.csv`,
    /// `.jsonl`/`.ndjson`/`.json`, `.parquet`/`.pq`), and a CSV whose header is the
    /// toolkit's is read as [`Format::Cnt`].
    pub fn open(
        path: &Path,
        format: Option<Format>,
        options: &ReadOptions,
    ) -> Result<Reader, InputError> {
        let file = path.display().to_string();
        let io = |source| InputError::Io {
            file: file.clone(),
            source,
        };
        let handle = File::open(path).map_err(io)?;
        let len = handle.metadata().map_err(io)?.len();
        let format = match format {
            Some(f) => f,
            None => guess(path, &file)?,
        };
        let inner = match format {
            Format::Csv | Format::Cnt => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(handle);
                let header = reader.byte_headers().map_err(|e| InputError::Csv {
                    file: file.clone(),
                    message: e.to_string(),
                })?;
                let names: Vec<String> = header
                    .iter()
                    .map(|h| {
                        String::from_utf8_lossy(h)
                            .trim_start_matches('\u{feff}')
                            .to_owned()
                    })
                    .collect();
                let is_cnt = names.first().is_some_and(|n| n.trim() == "message_id")
                    && names.get(1).is_some_and(|n| n.trim() == "user_id");
                if format == Format::Cnt || (format == Format::Csv && is_cnt && names.len() == 8) {
                    Inner::Cnt {
                        reader,
                        records: Vec::new(),
                    }
                } else {
                    let columns = Columns::find(&names, options.fields, &file)?;
                    Inner::Csv {
                        reader,
                        columns,
                        records: Vec::new(),
                    }
                }
            }
            Format::Jsonl => Inner::Jsonl {
                reader: BufReader::with_capacity(
                    1 << 20,
                    CountingReader {
                        inner: handle,
                        count: 0,
                    },
                ),
                line: 0,
                buffer: Vec::new(),
            },
            Format::Parquet => {
                let parquet_error = |e: parquet::errors::ParquetError| InputError::Parquet {
                    file: file.clone(),
                    message: e.to_string(),
                };
                let reader = SerializedFileReader::try_from(handle).map_err(parquet_error)?;
                let meta = reader.metadata().file_metadata();
                let schema = meta.schema_descr();
                let names: Vec<String> = schema
                    .root_schema()
                    .get_fields()
                    .iter()
                    .map(|f| f.name().to_owned())
                    .collect();
                Columns::find(&names, options.fields, &file)?;
                let total = meta.num_rows().max(0) as u64;
                let time_unit = schema.columns().iter().find_map(|c| {
                    if c.name() != "timestamp" {
                        return None;
                    }
                    match c.logical_type_ref() {
                        Some(LogicalType::Timestamp(t)) => Some(t.unit),
                        _ => None,
                    }
                });
                Inner::Parquet {
                    rows: reader.into_iter(),
                    total,
                    row: 0,
                    time_unit,
                }
            }
        };
        let format = match inner {
            Inner::Cnt { .. } => Format::Cnt,
            _ => format,
        };
        Ok(Reader {
            file,
            format,
            len,
            platform: options.platform.clone(),
            fields: options.fields,
            threads: options.threads.max(1),
            inner,
        })
    }

    /// The format being read (a CSV found to be the toolkit's is [`Format::Cnt`]).
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes of the file consumed so far (for Parquet, estimated from rows read).
    #[must_use]
    pub fn position(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } | Inner::Cnt { reader, .. } => reader.position().byte(),
            Inner::Jsonl { reader, .. } => reader.get_ref().count - reader.buffer().len() as u64,
            Inner::Parquet { total, row, .. } => {
                if *total == 0 {
                    self.len
                } else {
                    (self.len as f64 * (*row as f64 / *total as f64)) as u64
                }
            }
        }
    }

    /// Size of the file in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends up to `max` posts to `posts` and the rows skipped on the way to `bad`.
    /// Returns `Ok(false)` once the file is exhausted.
    pub fn read_batch(
        &mut self,
        max: usize,
        posts: &mut Vec<Post>,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        let Reader {
            file,
            platform,
            fields,
            threads,
            inner,
            ..
        } = self;
        let (fields, threads) = (*fields, *threads);
        let mut taken = 0;
        let mut reject = |line: u64, reason: String| {
            bad.push(BadRow {
                file: file.clone(),
                line,
                reason,
            });
        };
        match inner {
            Inner::Csv {
                reader,
                columns,
                records,
            } => {
                let columns = *columns;
                let platform = platform.as_str();
                csv_batch(reader, records, max, threads, file, posts, bad, &|r| {
                    csv_post(r, &columns, fields, platform)
                })
            }
            Inner::Cnt { reader, records } => {
                let platform = platform.as_str();
                csv_batch(reader, records, max, threads, file, posts, bad, &|r| {
                    cnt_post(r, fields, platform)
                })
            }
            Inner::Jsonl {
                reader,
                line,
                buffer,
            } => {
                while taken < max {
                    buffer.clear();
                    let n = read_line(reader, buffer).map_err(|source| InputError::Io {
                        file: file.clone(),
                        source,
                    })?;
                    if n == 0 {
                        return Ok(false);
                    }
                    *line += 1;
                    if n > MAX_LINE {
                        reject(*line, format!("line longer than {} MiB", MAX_LINE >> 20));
                        continue;
                    }
                    let text = buffer.trim_ascii();
                    if text.is_empty() {
                        continue;
                    }
                    match json_post(text, fields, platform) {
                        Ok(p) => {
                            posts.push(p);
                            taken += 1;
                        }
                        Err(reason) => reject(*line, reason),
                    }
                }
                Ok(true)
            }
            Inner::Parquet {
                rows,
                row,
                time_unit,
                ..
            } => {
                while taken < max {
                    let Some(next) = rows.next() else {
                        return Ok(false);
                    };
                    *row += 1;
                    let r = next.map_err(|e| InputError::Parquet {
                        file: file.clone(),
                        message: format!("row {row}: {e}"),
                    })?;
                    match parquet_post(&r, fields, platform, time_unit.as_ref()) {
                        Ok(p) => {
                            posts.push(p);
                            taken += 1;
                        }
                        Err(reason) => reject(*row, reason),
                    }
                }
                Ok(true)
            }
        }
    }
}

/// Reads up to `max` CSV records, then turns them into posts on `threads` threads. Bad
/// rows come out in line order.
#[allow(clippy::too_many_arguments)]
fn csv_batch(
    reader: &mut csv::Reader<File>,
    records: &mut Vec<csv::ByteRecord>,
    max: usize,
    threads: usize,
    file: &str,
    posts: &mut Vec<Post>,
    bad: &mut Vec<BadRow>,
    convert: &(dyn Fn(&csv::ByteRecord) -> Result<Post, String> + Sync),
) -> Result<bool, InputError> {
    let max = max.max(1);
    if records.len() < max {
        records.resize_with(max, csv::ByteRecord::new);
    }
    let first_bad = bad.len();
    let mut n = 0;
    let mut more = true;
    while n < max {
        match reader.read_byte_record(&mut records[n]) {
            Ok(true) => n += 1,
            Ok(false) => {
                more = false;
                break;
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => {
                    return Err(InputError::Csv {
                        file: file.to_owned(),
                        message: e.to_string(),
                    });
                }
                _ => bad.push(BadRow {
                    file: file.to_owned(),
                    line: e.position().map_or(0, csv::Position::line),
                    reason: e.to_string(),
                }),
            },
        }
    }
    let line = |r: &csv::ByteRecord| r.position().map_or(0, csv::Position::line);
    let one = |r: &csv::ByteRecord| convert(r).map_err(|reason| (line(r), reason));
    let slice = &records[..n];
    let results: Vec<Result<Post, (u64, String)>> = if threads > 1 && n >= 4096 {
        let chunk = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = slice
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
                .collect();
            let mut all = Vec::with_capacity(n);
            for h in handles {
                match h.join() {
                    Ok(part) => all.extend(part),
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
            all
        })
    } else {
        slice.iter().map(one).collect()
    };
    for r in results {
        match r {
            Ok(p) => posts.push(p),
            Err((line, reason)) => bad.push(BadRow {
                file: file.to_owned(),
                line,
                reason,
            }),
        }
    }
    bad[first_bad..].sort_by_key(|b| b.line);
    Ok(more)
}

/// Reads one line (without limit on what is consumed, but keeping at most `MAX_LINE + 1`
/// bytes); returns the bytes consumed.
fn read_line(reader: &mut impl BufRead, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(consumed);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = (MAX_LINE + 1).saturating_sub(buffer.len());
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let n = chunk.len();
        reader.consume(n);
        consumed += n;
        if done {
            return Ok(consumed);
        }
    }
}

fn guess(path: &Path, file: &str) -> Result<Format, InputError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => Ok(Format::Csv),
        "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
        "parquet" | "pq" => Ok(Format::Parquet),
        _ => Err(InputError::UnknownFormat {
            file: file.to_owned(),
        }),
    }
}

/// A field as text: `None` when absent or blank.
fn cell<'a>(
    record: &'a csv::ByteRecord,
    at: Option<usize>,
    name: &str,
) -> Result<Option<&'a str>, String> {
    let Some(bytes) = at.and_then(|i| record.get(i)) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{name} is not valid UTF-8"))?;
    let text = text.trim();
    Ok((!text.is_empty()).then_some(text))
}

fn required<'a>(record: &'a csv::ByteRecord, at: usize, name: &str) -> Result<&'a str, String> {
    cell(record, Some(at), name)?.ok_or_else(|| format!("{name} is missing"))
}

fn csv_post(
    record: &csv::ByteRecord,
    c: &Columns,
    fields: Fields,
    platform: &str,
) -> Result<Post, String> {
    let account = required(record, c.account, "account_id")?;
    let id = required(record, c.id, "post_id")?;
    let time_ms = timestamp(required(record, c.time, "timestamp")?)?;
    Ok(Post {
        platform: cell(record, c.platform, "platform")?
            .unwrap_or(platform)
            .to_owned(),
        account: account.to_owned(),
        id: id.to_owned(),
        time_ms,
        text: cell(record, c.text, "text")?.map(str::to_owned),
        urls: words(cell(record, c.urls, "urls")?, false),
        hashtags: words(cell(record, c.hashtags, "hashtags")?, true),
        media: pdq_list(cell(record, c.media, "media_pdq")?)?,
        repost_of: if fields.repost {
            cell(record, c.repost, "repost_of")?.map(str::to_owned)
        } else {
            None
        },
        reply_to: cell(record, c.reply, "reply_to")?.map(str::to_owned),
    })
}

fn cnt_post(record: &csv::ByteRecord, fields: Fields, platform: &str) -> Result<Post, String> {
    if record.len() != 8 {
        return Err(format!(
            "{} fields where the toolkit's format has 8 (message_id, user_id, username, \
             repost_id, reply_id, message, timestamp, urls)",
            record.len()
        ));
    }
    let on = |flag: bool, i: usize| flag.then_some(i);
    Ok(Post {
        platform: platform.to_owned(),
        account: required(record, 1, "user_id")?.to_owned(),
        id: required(record, 0, "message_id")?.to_owned(),
        time_ms: timestamp(required(record, 6, "timestamp")?)?,
        text: cell(record, on(fields.text, 5), "message")?.map(str::to_owned),
        urls: words(cell(record, on(fields.urls, 7), "urls")?, false),
        hashtags: Vec::new(),
        media: Vec::new(),
        repost_of: cell(record, on(fields.repost, 3), "repost_id")?.map(str::to_owned),
        reply_to: cell(record, on(fields.reply, 4), "reply_id")?.map(str::to_owned),
    })
}

/// The items of a list cell: split on white space (and commas when `commas`).
fn words(text: Option<&str>, commas: bool) -> Vec<String> {
    let Some(text) = text else {
        return Vec::new();
    };
    text.split(|c: char| c.is_whitespace() || (commas && c == ','))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn pdq_list(text: Option<&str>) -> Result<Vec<[u8; 32]>, String> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(pdq)
        .collect()
}

/// A PDQ hash from 64 hex digits.
fn pdq(hex: &str) -> Result<[u8; 32], String> {
    let bytes = hex.as_bytes();
    let digit = |b: u8| (b as char).to_digit(16);
    if bytes.len() != 64 {
        return Err(format!(
            "media_pdq {:?} is not a PDQ hash (64 hex digits)",
            shorten(hex)
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => out[i] = (h * 16 + l) as u8,
            _ => {
                return Err(format!(
                    "media_pdq {:?} is not a PDQ hash (64 hex digits)",
                    shorten(hex)
                ));
            }
        }
    }
    Ok(out)
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

/// Milliseconds since the epoch from epoch seconds or RFC 3339.
pub fn timestamp(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "timestamp {:?} is neither epoch seconds nor RFC 3339 (2026-11-03T14:05:09Z)",
            shorten(t)
        )
    };
    if t.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && t.bytes().any(|b| b.is_ascii_digit())
        && !(t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-'))
    {
        let secs: f64 = t.parse().map_err(|_| bad())?;
        return seconds_to_ms(secs).ok_or_else(bad);
    }
    rfc3339(t).ok_or_else(bad)
}

fn seconds_to_ms(secs: f64) -> Option<i64> {
    // About ±292,000 years in milliseconds fits; refuse what does not.
    (secs.is_finite() && secs.abs() < 9.0e15).then(|| (secs * 1000.0).round() as i64)
}

/// RFC 3339 (`T` or a space between date and time, `Z` or an offset, any fraction).
fn rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &t[start..i];
        let padded: String = frac.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().ok()?;
        // Round on the fourth digit.
        if frac.len() > 3 && frac.as_bytes()[3] >= b'5' {
            millis += 1;
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let v = h * 60 + m;
            if *sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn json_post(line: &[u8], fields: Fields, platform: &str) -> Result<Post, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("not a JSON object".to_owned());
    };
    let text_of = |name: &str| -> Result<Option<String>, String> {
        match map.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_owned()))
            }
            Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!("{name} is {}, not a string", kind(other))),
        }
    };
    let required = |name: &str| -> Result<String, String> {
        text_of(name)?.ok_or_else(|| format!("{name} is missing"))
    };
    let list = |name: &str, on: bool, commas: bool| -> Result<Vec<String>, String> {
        if !on {
            return Ok(Vec::new());
        }
        match map.get(name) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::String(s)) => Ok(words(Some(s), commas)),
            Some(serde_json::Value::Array(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        serde_json::Value::String(s) => out.extend(words(Some(s), commas)),
                        serde_json::Value::Null => {}
                        other => {
                            return Err(format!("{name} holds {}, not strings", kind(other)));
                        }
                    }
                }
                Ok(out)
            }
            Some(other) => Err(format!("{name} is {}, not a list or string", kind(other))),
        }
    };
    let time_ms = match map.get("timestamp") {
        Some(serde_json::Value::Number(n)) => n
            .as_f64()
            .and_then(seconds_to_ms)
            .ok_or_else(|| format!("timestamp {n} is out of range"))?,
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => timestamp(s)?,
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::String(_)) => {
            return Err("timestamp is missing".to_owned());
        }
        Some(other) => {
            return Err(format!(
                "timestamp is {}, not a number or string",
                kind(other)
            ));
        }
    };
    let media: Vec<[u8; 32]> = list("media_pdq", fields.media, true)?
        .iter()
        .map(|h| pdq(h))
        .collect::<Result<_, _>>()?;
    Ok(Post {
        platform: text_of("platform")?.unwrap_or_else(|| platform.to_owned()),
        account: required("account_id")?,
        id: required("post_id")?,
        time_ms,
        text: if fields.text { text_of("text")? } else { None },
        urls: list("urls", fields.urls, false)?,
        hashtags: list("hashtags", fields.hashtags, true)?,
        media,
        repost_of: if fields.repost {
            text_of("repost_of")?
        } else {
            None
        },
        reply_to: if fields.reply {
            text_of("reply_to")?
        } else {
            None
        },
    })
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn parquet_post(
    row: &Row,
    fields: Fields,
    platform: &str,
    time_unit: Option<&TimeUnit>,
) -> Result<Post, String> {
    let mut post = Post {
        platform: platform.to_owned(),
        ..Post::default()
    };
    let (mut has_account, mut has_id, mut has_time) = (false, false, false);
    for (name, field) in row.get_column_iter() {
        match name.as_str() {
            "platform" => {
                if let Some(p) = parquet_text(field, name)? {
                    post.platform = p;
                }
            }
            "account_id" => {
                if let Some(a) = parquet_text(field, name)? {
                    post.account = a;
                    has_account = true;
                }
            }
            "post_id" => {
                if let Some(a) = parquet_text(field, name)? {
                    post.id = a;
                    has_id = true;
                }
            }
            "timestamp" => {
                if let Some(t) = parquet_time(field, time_unit)? {
                    post.time_ms = t;
                    has_time = true;
                }
            }
            "text" if fields.text => post.text = parquet_text(field, name)?,
            "urls" if fields.urls => post.urls = parquet_list(field, name, false)?,
            "hashtags" if fields.hashtags => post.hashtags = parquet_list(field, name, true)?,
            "media_pdq" if fields.media => {
                post.media = parquet_list(field, name, true)?
                    .iter()
                    .map(|h| pdq(h))
                    .collect::<Result<_, _>>()?;
            }
            "repost_of" if fields.repost => post.repost_of = parquet_text(field, name)?,
            "reply_to" if fields.reply => post.reply_to = parquet_text(field, name)?,
            _ => {}
        }
    }
    for (present, name) in [
        (has_account, "account_id"),
        (has_id, "post_id"),
        (has_time, "timestamp"),
    ] {
        if !present {
            return Err(format!("{name} is missing"));
        }
    }
    Ok(post)
}

fn parquet_text(field: &Field, name: &str) -> Result<Option<String>, String> {
    let s = match field {
        Field::Null => return Ok(None),
        Field::Str(s) => s.trim().to_owned(),
        Field::Bytes(b) => std::str::from_utf8(b.data())
            .map_err(|_| format!("{name} is not valid UTF-8"))?
            .trim()
            .to_owned(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        other => return Err(format!("{name} is a {other:?}, not text")),
    };
    Ok((!s.is_empty()).then_some(s))
}

fn parquet_list(field: &Field, name: &str, commas: bool) -> Result<Vec<String>, String> {
    match field {
        Field::ListInternal(list) => {
            let mut out = Vec::new();
            for f in list.elements() {
                if let Some(s) = parquet_text(f, name)? {
                    out.extend(words(Some(&s), commas));
                }
            }
            Ok(out)
        }
        other => Ok(words(parquet_text(other, name)?.as_deref(), commas)),
    }
}

fn parquet_time(field: &Field, unit: Option<&TimeUnit>) -> Result<Option<i64>, String> {
    let integer = |v: i64| -> i64 {
        match unit {
            Some(TimeUnit::MILLIS) => v,
            Some(TimeUnit::MICROS) => v.div_euclid(1000),
            Some(TimeUnit::NANOS) => v.div_euclid(1_000_000),
            None => v.saturating_mul(1000),
        }
    };
    let out = match field {
        Field::Null => return Ok(None),
        Field::TimestampMillis(v) => *v,
        Field::TimestampMicros(v) => v.div_euclid(1000),
        Field::Int(v) => integer(i64::from(*v)),
        Field::Long(v) => integer(*v),
        Field::UInt(v) => integer(i64::from(*v)),
        Field::ULong(v) => integer(i64::try_from(*v).map_err(|_| "timestamp is out of range")?),
        Field::Float(v) => seconds_to_ms(f64::from(*v)).ok_or("timestamp is out of range")?,
        Field::Double(v) => seconds_to_ms(*v).ok_or("timestamp is out of range")?,
        Field::Str(_) | Field::Bytes(_) => match parquet_text(field, "timestamp")? {
            Some(s) => timestamp(&s)?,
            None => return Ok(None),
        },
        other => return Err(format!("timestamp is a {other:?}, not a time")),
    };
    Ok(Some(out))
}
