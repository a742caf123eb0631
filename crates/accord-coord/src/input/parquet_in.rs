//! Parquet, read column by column with the `parquet` crate's column readers rather than
//! through Arrow: the columns needed are few and of simple types, and Arrow's crates would
//! take about four times as long to compile as the Parquet reader itself. Each requested column is read a batch of records
//! at a time, with its definition and repetition levels, and the records are then put
//! together row by row: a value is present when its definition level is the column's
//! maximum, and a repetition level of 0 starts a new row (a list column's elements follow
//! with levels above 0).
//!
//! The `parquet` crate may panic on a corrupt file; every call into it is made under
//! `catch_unwind`, and a panic becomes an [`InputError::Parquet`].

use std::borrow::Cow;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, Int96};
use parquet::errors::ParquetError;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::schema::types::ColumnDescriptor;

use super::cell::{
    self, ACCOUNT, HASHTAGS, MEDIA, PLATFORM, POST, REPLY, REPOST, TEXT, TIME, URLS,
};
use super::{BadRow, InputError, ReadOptions};
use crate::model::Post;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Account,
    Post,
    Time,
    Platform,
    Text,
    Urls,
    Hashtags,
    Media,
    Repost,
    Reply,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Account => ACCOUNT,
            Field::Post => POST,
            Field::Time => TIME,
            Field::Platform => PLATFORM,
            Field::Text => TEXT,
            Field::Urls => URLS,
            Field::Hashtags => HASHTAGS,
            Field::Media => MEDIA,
            Field::Repost => REPOST,
            Field::Reply => REPLY,
        }
    }

    fn is_list(self) -> bool {
        matches!(self, Field::Urls | Field::Hashtags | Field::Media)
    }
}

/// How an integer timestamp counts time.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// Units per second (1 for plain epoch seconds).
    PerSecond(i64),
    /// Days (a DATE column).
    Days,
}

/// One column read.
struct Column {
    field: Field,
    leaf: usize,
    unit: Unit,
    max_def: i16,
    max_rep: i16,
    values: Values,
    def: Vec<i16>,
    rep: Vec<i16>,
    /// Cursors into `def`/`rep` and `values` while rows are put together.
    level: usize,
    value: usize,
}

enum Values {
    Bytes(Vec<ByteArray>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

pub(super) struct ParquetSource {
    reader: SerializedFileReader<File>,
    file: String,
    platform: String,
    columns: Vec<Column>,
    readers: Vec<ColumnReader>,
    next_group: usize,
    /// Rows of the current row group not read yet.
    group_left: u64,
    rows_read: u64,
    total_rows: u64,
    done: bool,
}

fn parquet_error(file: &str, e: &ParquetError) -> InputError {
    InputError::Parquet {
        file: file.to_owned(),
        reason: e.to_string(),
    }
}

fn panicked(file: &str) -> InputError {
    InputError::Parquet {
        file: file.to_owned(),
        reason: "the Parquet reader failed on it (a corrupt file?)".to_owned(),
    }
}

impl ParquetSource {
    pub(super) fn open(
        path: &Path,
        file: &str,
        options: &ReadOptions,
    ) -> Result<ParquetSource, InputError> {
        let f = File::open(path).map_err(|source| InputError::Open {
            file: file.to_owned(),
            source,
        })?;
        let reader = catch_unwind(AssertUnwindSafe(|| SerializedFileReader::new(f)))
            .map_err(|_| panicked(file))?
            .map_err(|e| parquet_error(file, &e))?;
        let columns = catch_unwind(AssertUnwindSafe(|| columns(&reader, file, options)))
            .map_err(|_| panicked(file))??;
        let total_rows = u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
        Ok(ParquetSource {
            reader,
            file: file.to_owned(),
            platform: options.platform.clone(),
            columns,
            readers: Vec::new(),
            next_group: 0,
            group_left: 0,
            rows_read: 0,
            total_rows,
            done: false,
        })
    }

    pub(super) fn position(&self, len: u64) -> u64 {
        if self.done || self.total_rows == 0 {
            return if self.done { len } else { 0 };
        }
        (u128::from(len) * u128::from(self.rows_read) / u128::from(self.total_rows)) as u64
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
        let result = catch_unwind(AssertUnwindSafe(|| self.read_inner(max, posts, bad)));
        match result {
            Ok(Ok(more)) => Ok(more),
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Err(panicked(&self.file))
            }
        }
    }

    fn read_inner(
        &mut self,
        max: usize,
        posts: &mut Vec<Post>,
        bad: &mut Vec<BadRow>,
    ) -> Result<bool, InputError> {
        let mut read = 0;
        while read < max {
            if self.group_left == 0 {
                if self.next_group >= self.reader.num_row_groups() {
                    self.done = true;
                    return Ok(false);
                }
                self.open_group()?;
                continue;
            }
            let n = (max - read).min(usize::try_from(self.group_left).unwrap_or(usize::MAX));
            for (column, reader) in self.columns.iter_mut().zip(&mut self.readers) {
                let got = column
                    .read(reader, n)
                    .map_err(|e| parquet_error(&self.file, &e))?;
                if got != n {
                    return Err(InputError::Parquet {
                        file: self.file.clone(),
                        reason: format!(
                            "column {} has fewer rows than its row group says",
                            column.field.name()
                        ),
                    });
                }
            }
            for _ in 0..n {
                self.rows_read += 1;
                match self.post() {
                    Ok(p) => posts.push(p),
                    Err(reason) => bad.push(BadRow {
                        file: self.file.clone(),
                        line: self.rows_read,
                        reason,
                    }),
                }
            }
            self.group_left -= n as u64;
            read += n;
        }
        Ok(true)
    }

    fn open_group(&mut self) -> Result<(), InputError> {
        let group = self
            .reader
            .get_row_group(self.next_group)
            .map_err(|e| parquet_error(&self.file, &e))?;
        self.next_group += 1;
        self.group_left = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
        self.readers.clear();
        for column in &self.columns {
            let reader = group
                .get_column_reader(column.leaf)
                .map_err(|e| parquet_error(&self.file, &e))?;
            self.readers.push(reader);
        }
        Ok(())
    }

    /// The next row, from every column's cursor (all move on, even past a bad row).
    fn post(&mut self) -> Result<Post, String> {
        let mut post = Post::default();
        let mut error = None;
        for column in &mut self.columns {
            let (start, end) = column.next_row();
            if error.is_none()
                && let Err(e) = column.apply(start, end, &mut post)
            {
                error = Some(e);
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        if post.platform.is_empty() {
            post.platform.clone_from(&self.platform);
        }
        Ok(post)
    }
}

/// The columns to read, or why the file cannot be read.
fn columns(
    reader: &SerializedFileReader<File>,
    file: &str,
    options: &ReadOptions,
) -> Result<Vec<Column>, InputError> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let roots = schema.root_schema().get_fields();
    let names: Vec<String> = roots
        .iter()
        .map(|t| t.name().to_ascii_lowercase())
        .collect();
    let f = &options.fields;
    let wanted = [
        (Field::Account, true),
        (Field::Post, true),
        (Field::Time, true),
        (Field::Platform, true),
        (Field::Text, f.text),
        (Field::Urls, f.urls),
        (Field::Hashtags, f.hashtags),
        (Field::Media, f.media),
        (Field::Repost, f.repost),
        (Field::Reply, f.reply),
    ];
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for (field, want) in wanted {
        let Some(root) = names.iter().position(|n| n == field.name()) else {
            if matches!(field, Field::Account | Field::Post | Field::Time) {
                missing.push(field.name().to_owned());
            }
            continue;
        };
        if !want {
            continue;
        }
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&i| schema.get_column_root_idx(i) == root)
            .collect();
        let type_error = |found: String| InputError::ColumnType {
            file: file.to_owned(),
            column: field.name().to_owned(),
            found,
            expected: expected(field).to_owned(),
        };
        let [leaf] = leaves[..] else {
            return Err(type_error(format!("a group of {} columns", leaves.len())));
        };
        let descr = schema.column(leaf);
        let physical = descr.physical_type();
        let ok_type = match field {
            Field::Time => matches!(
                physical,
                Physical::BYTE_ARRAY
                    | Physical::INT32
                    | Physical::INT64
                    | Physical::INT96
                    | Physical::FLOAT
                    | Physical::DOUBLE
            ),
            f if f.is_list() => physical == Physical::BYTE_ARRAY,
            _ => matches!(
                physical,
                Physical::BYTE_ARRAY | Physical::INT32 | Physical::INT64
            ),
        };
        let max_rep_ok = if field.is_list() {
            descr.max_rep_level() <= 1
        } else {
            descr.max_rep_level() == 0
        };
        if !ok_type || !max_rep_ok {
            return Err(type_error(describe(&descr)));
        }
        let values = match physical {
            Physical::INT32 => Values::I32(Vec::new()),
            Physical::INT64 => Values::I64(Vec::new()),
            Physical::INT96 => Values::I96(Vec::new()),
            Physical::FLOAT => Values::F32(Vec::new()),
            Physical::DOUBLE => Values::F64(Vec::new()),
            _ => Values::Bytes(Vec::new()),
        };
        out.push(Column {
            field,
            leaf,
            unit: unit(&descr),
            max_def: descr.max_def_level(),
            max_rep: descr.max_rep_level(),
            values,
            def: Vec::new(),
            rep: Vec::new(),
            level: 0,
            value: 0,
        });
    }
    if !missing.is_empty() {
        return Err(InputError::MissingColumns {
            file: file.to_owned(),
            missing,
            found: roots.iter().map(|t| t.name().to_owned()).collect(),
            hint: String::new(),
        });
    }
    Ok(out)
}

fn expected(field: Field) -> &'static str {
    match field {
        Field::Time => {
            "expected a TIMESTAMP, DATE, integer or floating-point epoch seconds, or a string"
        }
        f if f.is_list() => "expected a string or a list of strings",
        _ => "expected a string or an integer",
    }
}

/// A column's type, for a message: `INT64`, `BYTE_ARRAY (String)`, `a list of BOOLEAN`...
fn describe(descr: &ColumnDescriptor) -> String {
    let mut s = format!("{}", descr.physical_type());
    if let Some(l) = descr.logical_type_ref() {
        s.push_str(&format!(" ({l:?})"));
    }
    if descr.max_rep_level() > 1 {
        format!("a list of lists of {s}")
    } else if descr.max_rep_level() == 1 {
        format!("a list of {s}")
    } else {
        s
    }
}

/// How an integer column counts time.
fn unit(descr: &ColumnDescriptor) -> Unit {
    match descr.logical_type_ref() {
        Some(LogicalType::Timestamp(t)) => {
            return Unit::PerSecond(match t.unit {
                TimeUnit::MILLIS => 1_000,
                TimeUnit::MICROS => 1_000_000,
                TimeUnit::NANOS => 1_000_000_000,
            });
        }
        Some(LogicalType::Date) => return Unit::Days,
        _ => {}
    }
    match descr.converted_type() {
        ConvertedType::TIMESTAMP_MILLIS => Unit::PerSecond(1_000),
        ConvertedType::TIMESTAMP_MICROS => Unit::PerSecond(1_000_000),
        ConvertedType::DATE => Unit::Days,
        _ => Unit::PerSecond(1),
    }
}

impl Column {
    /// Reads up to `n` records into the buffers; the number read.
    fn read(&mut self, reader: &mut ColumnReader, n: usize) -> Result<usize, ParquetError> {
        self.def.clear();
        self.rep.clear();
        self.level = 0;
        self.value = 0;
        let (def, rep) = (Some(&mut self.def), Some(&mut self.rep));
        let (records, _, _) = match (reader, &mut self.values) {
            (ColumnReader::ByteArrayColumnReader(r), Values::Bytes(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            (ColumnReader::Int32ColumnReader(r), Values::I32(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            (ColumnReader::Int64ColumnReader(r), Values::I64(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            (ColumnReader::Int96ColumnReader(r), Values::I96(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            (ColumnReader::FloatColumnReader(r), Values::F32(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            (ColumnReader::DoubleColumnReader(r), Values::F64(v)) => {
                v.clear();
                r.read_records(n, def, rep, v)?
            }
            _ => {
                return Err(ParquetError::General(format!(
                    "column {} changed type between row groups",
                    self.field.name()
                )));
            }
        };
        Ok(records)
    }

    /// Moves past the next row; the range of its values.
    fn next_row(&mut self) -> (usize, usize) {
        let start = self.value;
        if self.max_def == 0 && self.max_rep == 0 {
            self.value += 1;
            return (start, self.value);
        }
        let mut first = true;
        while let Some(&def) = self.def.get(self.level) {
            let rep = self.rep.get(self.level).copied().unwrap_or(0);
            if !first && (self.max_rep == 0 || rep == 0) {
                break;
            }
            first = false;
            self.level += 1;
            if def == self.max_def {
                self.value += 1;
            }
        }
        (start, self.value)
    }

    /// Puts values `start..end` into `post`.
    fn apply(&self, start: usize, end: usize, post: &mut Post) -> Result<(), String> {
        let name = self.field.name();
        if self.field.is_list() {
            for i in start..end {
                let s = self.text(i)?;
                match self.field {
                    Field::Urls => post.urls.extend(cell::urls(&s).map(str::to_owned)),
                    Field::Hashtags => {
                        post.hashtags.extend(cell::hashtags(&s).map(str::to_owned));
                    }
                    _ => cell::media(&s, |h| post.media.push(h))?,
                }
            }
            return Ok(());
        }
        if start == end {
            return match self.field {
                Field::Account | Field::Post | Field::Time => Err(format!("{name} is missing")),
                _ => Ok(()),
            };
        }
        match self.field {
            Field::Account => {
                post.account = cell::required(Some(&self.text(start)?), name)?.to_owned();
            }
            Field::Post => post.id = cell::required(Some(&self.text(start)?), name)?.to_owned(),
            Field::Time => post.time_ms = self.time(start)?,
            Field::Platform => {
                if let Some(p) = cell::optional(&self.text(start)?) {
                    post.platform = p.to_owned();
                }
            }
            Field::Text => post.text = cell::text(&self.text(start)?).map(str::to_owned),
            Field::Repost => post.repost_of = cell::optional(&self.text(start)?).map(str::to_owned),
            Field::Reply => post.reply_to = cell::optional(&self.text(start)?).map(str::to_owned),
            Field::Urls | Field::Hashtags | Field::Media => {}
        }
        Ok(())
    }

    /// Value `i` as text.
    fn text(&self, i: usize) -> Result<Cow<'_, str>, String> {
        let name = self.field.name();
        let gone = || format!("{name} has fewer values than its levels say");
        Ok(match &self.values {
            Values::Bytes(v) => {
                Cow::Borrowed(cell::utf8(v.get(i).ok_or_else(gone)?.as_ref(), name)?)
            }
            Values::I32(v) => Cow::Owned(v.get(i).ok_or_else(gone)?.to_string()),
            Values::I64(v) => Cow::Owned(v.get(i).ok_or_else(gone)?.to_string()),
            Values::I96(_) | Values::F32(_) | Values::F64(_) => return Err(gone()),
        })
    }

    /// Value `i` as milliseconds since the epoch.
    fn time(&self, i: usize) -> Result<i64, String> {
        let gone = || format!("{TIME} has fewer values than its levels say");
        let out_of_range = |v: String| format!("{TIME} {v} is outside years 1 to 9999");
        let int = |v: i64| -> Result<i64, String> {
            let ms = match self.unit {
                Unit::PerSecond(p) => cell::scaled_ms(v, p),
                Unit::Days => v.checked_mul(86_400).and_then(|s| cell::scaled_ms(s, 1)),
            };
            ms.ok_or_else(|| out_of_range(v.to_string()))
        };
        let float = |v: f64| cell::seconds_f64_ms(v).ok_or_else(|| out_of_range(v.to_string()));
        match &self.values {
            Values::Bytes(v) => {
                cell::time_ms(cell::utf8(v.get(i).ok_or_else(gone)?.as_ref(), TIME)?)
            }
            Values::I32(v) => int(i64::from(*v.get(i).ok_or_else(gone)?)),
            Values::I64(v) => int(*v.get(i).ok_or_else(gone)?),
            Values::I96(v) => {
                let t = v.get(i).ok_or_else(gone)?;
                cell::scaled_ms(t.to_millis(), 1_000).ok_or_else(|| out_of_range("(INT96)".into()))
            }
            Values::F32(v) => float(f64::from(*v.get(i).ok_or_else(gone)?)),
            Values::F64(v) => float(*v.get(i).ok_or_else(gone)?),
        }
    }
}
