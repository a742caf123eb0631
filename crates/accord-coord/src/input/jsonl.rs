//! JSON lines: one object per line, keys named like the CSV columns. Each value is taken
//! as raw JSON text first, so that numbers (ids, epoch seconds) keep their exact digits
//! and fields not asked for cost no allocation.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::cell::{self, ACCOUNT, HASHTAGS, MEDIA, POST, REPLY, REPOST, TEXT, TIME, URLS};
use super::{BadRow, Fields, InputError, ReadOptions};
use crate::batch::Batch;
use crate::model::Post;

/// The keys read; others are ignored. `null` is the same as absent.
#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    account_id: Option<&'a RawValue>,
    #[serde(borrow)]
    post_id: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    platform: Option<&'a RawValue>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
    #[serde(borrow)]
    urls: Option<&'a RawValue>,
    #[serde(borrow)]
    hashtags: Option<&'a RawValue>,
    #[serde(borrow)]
    media_pdq: Option<&'a RawValue>,
    #[serde(borrow)]
    repost_of: Option<&'a RawValue>,
    #[serde(borrow)]
    reply_to: Option<&'a RawValue>,
}

/// A JSON string, borrowed when it has no escapes.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

pub(super) struct JsonlSource {
    reader: BufReader<Box<dyn Read + Send>>,
    line: Vec<u8>,
    line_no: u64,
    file: String,
    platform: String,
    fields: Fields,
    count: Arc<AtomicU64>,
    done: bool,
}

impl JsonlSource {
    pub(super) fn new(
        stream: Box<dyn Read + Send>,
        file: &str,
        options: &ReadOptions,
        count: Arc<AtomicU64>,
    ) -> JsonlSource {
        JsonlSource {
            reader: BufReader::with_capacity(1 << 16, stream),
            line: Vec::new(),
            line_no: 0,
            file: file.to_owned(),
            platform: options.platform.clone(),
            fields: options.fields,
            count,
            done: false,
        }
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
        for _ in 0..max {
            self.line.clear();
            let (n, dropped) = read_line(&mut self.reader, &mut self.line).map_err(|source| {
                self.done = true;
                InputError::Read {
                    file: self.file.clone(),
                    source,
                }
            })?;
            if n == 0 {
                self.done = true;
                return Ok(false);
            }
            self.line_no += 1;
            let post = if dropped {
                Some(Err(too_long()))
            } else {
                line_post(&self.line, self.line_no, &self.platform, &self.fields)
            };
            match post {
                None => {}
                Some(Ok(p)) => posts.push(p),
                Some(Err(reason)) => bad.push(BadRow {
                    file: self.file.clone(),
                    line: self.line_no,
                    reason,
                }),
            }
        }
        Ok(true)
    }

    /// The next whole lines of the file, at least `target` bytes of them unless the file
    /// ends first (in `spare`, if given, to reuse it); `None` at the end. A JSON text
    /// holds no raw line end (one inside a string is written `\n`), so a cut after any
    /// line end is a cut between records, and the lines can be parsed on any thread.
    pub(super) fn next_lines(
        &mut self,
        target: usize,
        spare: Option<Vec<u8>>,
    ) -> Result<Option<Lines>, InputError> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = spare.unwrap_or_default();
        bytes.clear();
        let first_line = self.line_no + 1;
        let mut dropped = Vec::new();
        while bytes.len() < target.max(1) {
            let (n, too_long) = read_line(&mut self.reader, &mut bytes).map_err(|source| {
                self.done = true;
                InputError::Read {
                    file: self.file.clone(),
                    source,
                }
            })?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line_no += 1;
            if too_long {
                // A blank line in its place keeps the count; it is reported as bad.
                bytes.push(b'\n');
                dropped.push(self.line_no);
            }
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Lines {
            bytes,
            dropped,
            first_line,
            file: Arc::from(self.file.as_str()),
            platform: Arc::from(self.platform.as_str()),
            fields: self.fields,
        }))
    }
}

/// Whole lines of a JSON lines file, to be parsed on any thread.
pub(super) struct Lines {
    pub(super) bytes: Vec<u8>,
    /// Lines longer than [`MAX_LINE_BYTES`], left out (a blank line in their place).
    dropped: Vec<u64>,
    /// The line of the first, from 1.
    first_line: u64,
    file: Arc<str>,
    platform: Arc<str>,
    fields: Fields,
}

impl Lines {
    /// Appends the posts of the lines to `batch`; returns the bad rows.
    pub(super) fn parse(&self, batch: &mut Batch) -> Vec<BadRow> {
        let mut bad = Vec::new();
        let mut start = 0;
        let mut number = self.first_line;
        while start < self.bytes.len() {
            let end = memchr::memchr(b'\n', &self.bytes[start..])
                .map_or(self.bytes.len(), |k| start + k + 1);
            let post = if self.dropped.contains(&number) {
                Some(Err(too_long()))
            } else {
                line_post(
                    &self.bytes[start..end],
                    number,
                    &self.platform,
                    &self.fields,
                )
            };
            match post {
                None => {}
                Some(Ok(p)) => batch.push(&p),
                Some(Err(reason)) => bad.push(BadRow {
                    file: self.file.to_string(),
                    line: number,
                    reason,
                }),
            }
            start = end;
            number += 1;
        }
        bad
    }
}

/// Longest line kept, in bytes without its line end: a longer one is bad, read to its end
/// without being kept, so that a file without line ends is not read into memory whole.
pub(crate) const MAX_LINE_BYTES: usize = 8 << 20;

/// Why a line past [`MAX_LINE_BYTES`] is bad.
fn too_long() -> String {
    format!("is longer than {} MiB; left out", MAX_LINE_BYTES >> 20)
}

/// Appends the next line, its line end included, to `buf`, as `read_until` does, unless
/// it is longer than [`MAX_LINE_BYTES`]: then it is read to its end and dropped, and the
/// `bool` is `true`. Returns the bytes consumed (0 at the end of the input).
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<(usize, bool)> {
    let start = buf.len();
    let (mut consumed, mut dropped) = (0, false);
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (take, ended) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !dropped {
            // The line end is not counted: a line just at the limit is kept, ended or not.
            if buf.len() - start + take - usize::from(ended) > MAX_LINE_BYTES {
                dropped = true;
                buf.truncate(start);
            } else {
                buf.extend_from_slice(&available[..take]);
            }
        }
        r.consume(take);
        consumed += take;
        if ended {
            break;
        }
    }
    Ok((consumed, dropped))
}

/// The post on line `number` (from 1, as read, line end included), or why it is bad;
/// `None` for a blank line.
fn line_post(
    line: &[u8],
    number: u64,
    platform: &str,
    fields: &Fields,
) -> Option<Result<Post, String>> {
    let mut bytes = line.trim_ascii();
    if number == 1 {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    if bytes.is_empty() {
        return None;
    }
    Some(post(bytes, platform, fields))
}

/// The post on one non-blank line.
fn post(bytes: &[u8], default_platform: &str, fields: &Fields) -> Result<Post, String> {
    let line = std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_owned())?;
    if !line.starts_with('{') {
        return Err(format!("is not a JSON object: {}", cell::quote(line)));
    }
    let row: Row<'_> = serde_json::from_str(line).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        format!("invalid JSON at column {}: {message}", e.column())
    })?;
    let account = cell::required(scalar(row.account_id, ACCOUNT)?.as_deref(), ACCOUNT)?.to_owned();
    let id = cell::required(scalar(row.post_id, POST)?.as_deref(), POST)?.to_owned();
    let time_ms = match scalar(row.timestamp, TIME)? {
        Some(t) => cell::time_ms(&t)?,
        None => return Err(format!("{TIME} is missing")),
    };
    let platform = super::platform(
        scalar(row.platform, super::cell::PLATFORM)?.as_deref(),
        default_platform,
    );
    let mut post = Post {
        platform,
        account,
        id,
        time_ms,
        ..Post::default()
    };
    if fields.text {
        post.text = scalar(row.text, TEXT)?
            .as_deref()
            .and_then(cell::text)
            .map(str::to_owned);
    }
    if fields.urls {
        each(row.urls, URLS, |s| {
            post.urls.extend(cell::urls(s).map(str::to_owned));
            Ok(())
        })?;
    }
    if fields.hashtags {
        each(row.hashtags, HASHTAGS, |s| {
            post.hashtags.extend(cell::hashtags(s).map(str::to_owned));
            Ok(())
        })?;
    }
    if fields.media {
        each(row.media_pdq, MEDIA, |s| {
            cell::media(s, |h| post.media.push(h))
        })?;
    }
    if fields.repost {
        post.repost_of = scalar(row.repost_of, REPOST)?
            .as_deref()
            .and_then(cell::optional)
            .map(str::to_owned);
    }
    if fields.reply {
        post.reply_to = scalar(row.reply_to, REPLY)?
            .as_deref()
            .and_then(cell::optional)
            .map(str::to_owned);
    }
    Ok(post)
}

/// A string or a number (as written), or `None` when absent.
fn scalar<'a>(raw: Option<&'a RawValue>, name: &str) -> Result<Option<Cow<'a, str>>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim_start();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Str<'a>>(text)
            .map(|s| Some(s.0))
            .map_err(|e| format!("{name}: {e}")),
        Some(b'-' | b'0'..=b'9') => Ok(Some(Cow::Borrowed(text))),
        first => Err(format!(
            "{name} must be a string or a number, not {}",
            kind(first)
        )),
    }
}

/// Calls `f` on a string, or on each string of an array (nulls in it skipped).
fn each(
    raw: Option<&RawValue>,
    name: &str,
    mut f: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let Some(raw) = raw else { return Ok(()) };
    let text = raw.get().trim_start();
    let wrong = || format!("{name} must be a string or an array of strings");
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: Str<'_> = serde_json::from_str(text).map_err(|_| wrong())?;
            f(&s.0)
        }
        Some(b'[') => {
            let items: Vec<Option<Str<'_>>> = serde_json::from_str(text).map_err(|_| wrong())?;
            items.iter().flatten().try_for_each(|s| f(&s.0))
        }
        first => Err(format!("{}, not {}", wrong(), kind(first))),
    }
}

fn kind(first: Option<&u8>) -> &'static str {
    match first {
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b't' | b'f') => "a boolean",
        Some(b'-' | b'0'..=b'9') => "a number",
        _ => "this",
    }
}
