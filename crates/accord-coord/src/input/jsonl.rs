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
            let n = self
                .reader
                .read_until(b'\n', &mut self.line)
                .map_err(|source| {
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
            let mut bytes = self.line.trim_ascii();
            if self.line_no == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if bytes.is_empty() {
                continue;
            }
            match post(bytes, &self.platform, &self.fields) {
                Ok(p) => posts.push(p),
                Err(reason) => bad.push(BadRow {
                    file: self.file.clone(),
                    line: self.line_no,
                    reason,
                }),
            }
        }
        Ok(true)
    }
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
