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
use super::{BadRow, CNT_HEADER, Fields, Format, InputError, ReadOptions};
use crate::model::Post;

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
    layout: Layout,
    count: Arc<AtomicU64>,
    done: bool,
    /// Threads turning records into posts.
    threads: usize,
    /// Records read for the threads: their fields end to end, and per record its line
    /// and the end of each field.
    held: Held,
}

/// How a record becomes a post; shared by the threads that do it.
struct Layout {
    format: Format,
    columns: Columns,
    /// Fields every record must have.
    width: usize,
    platform: String,
}

/// Records copied out of [`Records`] so that several threads can turn them into posts.
#[derive(Default)]
struct Held {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Per record: line, its range in `bytes`, and its range in `ends` (which count
    /// from the record's start).
    records: Vec<(u64, std::ops::Range<usize>, std::ops::Range<usize>)>,
}

/// Below this many records a batch is turned into posts on the calling thread.
const PARALLEL_MIN: usize = 4096;

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
            layout: Layout {
                format,
                columns,
                width,
                platform: options.platform.clone(),
            },
            count,
            done: false,
            threads: options.threads.max(1),
            held: Held::default(),
        })
    }

    pub(super) fn format(&self) -> Format {
        self.layout.format
    }

    pub(super) fn position(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(super) fn read_batch(
        &mut self,
        max: usize,
        posts: &mut Vec<Post>,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        if self.done {
            return Ok(false);
        }
        if self.threads > 1 && max >= PARALLEL_MIN {
            return self.read_batch_parallel(max, posts, bad);
        }
        for _ in 0..max {
            if !self.next_record()? {
                return Ok(false);
            }
            let record = self.records.view();
            match self.layout.post(&record) {
                Ok(p) => posts.push(p),
                Err(reason) => bad.push(BadRow {
                    file: self.file.clone(),
                    line: self.records.line,
                    reason,
                }),
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

    /// Reads up to `max` records on this thread, then turns them into posts on every
    /// thread, keeping their order.
    fn read_batch_parallel(
        &mut self,
        max: usize,
        posts: &mut Vec<Post>,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        let mut held = std::mem::take(&mut self.held);
        held.bytes.clear();
        held.ends.clear();
        held.records.clear();
        let mut more = true;
        while held.records.len() < max {
            match self.next_record() {
                Ok(true) => {}
                Ok(false) => {
                    more = false;
                    break;
                }
                Err(e) => {
                    self.held = held;
                    return Err(e);
                }
            }
            let r = self.records.view();
            let (b, e) = (held.bytes.len(), held.ends.len());
            held.bytes.extend_from_slice(r.all());
            held.ends.extend_from_slice(r.ends);
            held.records
                .push((self.records.line, b..held.bytes.len(), e..held.ends.len()));
        }
        let chunk = held.records.len().div_ceil(self.threads).max(1);
        let layout = &self.layout;
        let held_ref = &held;
        let results: Vec<Vec<Result<Post, String>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = held_ref
                .records
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(_, b, e)| layout.post(&held_ref.view(b, e)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| vec![Err("could not be read".to_owned())])
                })
                .collect()
        });
        let lines = held.records.iter().map(|(line, _, _)| *line);
        for (result, line) in results.into_iter().flatten().zip(lines) {
            match result {
                Ok(p) => posts.push(p),
                Err(reason) => bad.push(BadRow {
                    file: self.file.clone(),
                    line,
                    reason,
                }),
            }
        }
        self.held = held;
        Ok(more)
    }
}

impl Layout {
    /// The post in record `r`.
    fn post(&self, r: &View<'_>) -> Result<Post, String> {
        if r.len() != self.width {
            return Err(if self.format == Format::Cnt {
                format!(
                    "has {} fields; coordination-network-toolkit rows have 8 ({})",
                    r.len(),
                    CNT_HEADER.join(", ")
                )
            } else {
                format!("has {} fields, the header has {}", r.len(), self.width)
            });
        }
        // One UTF-8 check for the whole record, much faster than one per field; a field
        // is then a slice of it (`get` fails only off a character boundary, which a
        // field of valid UTF-8 never is). Should the record not be valid UTF-8, each
        // field read is checked on its own, to name the one at fault.
        let whole = std::str::from_utf8(r.all()).ok();
        let get = |i: usize, name: &str| match whole.zip(r.range(i)).and_then(|(w, x)| w.get(x)) {
            Some(s) => Ok(s),
            None => cell::utf8(r.get(i).unwrap_or_default(), name),
        };
        let c = &self.columns;
        let account = cell::required(Some(get(c.account.0, c.account.1)?), c.account.1)?;
        let id = cell::required(Some(get(c.post.0, c.post.1)?), c.post.1)?;
        let time_ms = cell::time_ms(get(c.time.0, c.time.1)?)?;
        let platform = match c.platform {
            Some(i) => super::platform(Some(get(i, PLATFORM)?), &self.platform),
            None => self.platform.clone(),
        };
        let mut post = Post {
            platform,
            account,
            id,
            time_ms,
            ..Post::default()
        };
        if let Some((i, name)) = c.text {
            post.text = cell::text(get(i, name)?);
        }
        if let Some(i) = c.urls {
            cell::urls(get(i, URLS)?, &mut post.urls);
        }
        if let Some(i) = c.hashtags {
            cell::hashtags(get(i, HASHTAGS)?, &mut post.hashtags);
        }
        if let Some(i) = c.media {
            cell::media(get(i, MEDIA)?, &mut post.media)?;
        }
        if let Some((i, name)) = c.repost {
            post.repost_of = cell::optional(get(i, name)?);
        }
        if let Some((i, name)) = c.reply {
            post.reply_to = cell::optional(get(i, name)?);
        }
        Ok(post)
    }
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
}

impl View<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where field `i` is in [`View::all`].
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)?,
        };
        Some(start..*self.ends.get(i)?)
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        self.bytes.get(self.range(i)?)
    }

    /// Every field of the record, end to end.
    fn all(&self) -> &[u8] {
        self.bytes
    }
}

impl Held {
    fn view(&self, bytes: &std::ops::Range<usize>, ends: &std::ops::Range<usize>) -> View<'_> {
        View {
            bytes: self.bytes.get(bytes.clone()).unwrap_or_default(),
            ends: self.ends.get(ends.clone()).unwrap_or_default(),
        }
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
        }
    }

    /// The current record.
    fn view(&self) -> View<'_> {
        let ends = self.ends.get(..self.len).unwrap_or_default();
        let end = ends.last().copied().unwrap_or(0);
        View {
            bytes: self.fields.get(..end).unwrap_or_default(),
            ends,
        }
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
        let (mut out, mut ends) = (0, 0);
        loop {
            self.fill()?;
            let input = self.buf.get(self.pos..self.end).unwrap_or_default();
            let at_end = input.is_empty();
            let (result, nin, nout, nend) = self.core.read_record(
                input,
                self.fields.get_mut(out..).unwrap_or_default(),
                self.ends.get_mut(ends..).unwrap_or_default(),
            );
            self.pos += nin;
            out += nout;
            ends += nend;
            match result {
                ReadRecordResult::InputEmpty if at_end => return Ok(false),
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let n = self.fields.len() * 2;
                    self.fields.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
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
