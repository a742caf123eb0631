//! Reading posts: every format, every column, empty against missing fields, lists,
//! timestamps, bad rows with their lines, format detection, file-level errors, and
//! arbitrary bytes that must never panic. Files are written to a temporary folder (Parquet
//! ones with the `parquet` crate's own writer) and read back through [`Reader`].

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use accord_coord::Batch;
use accord_coord::input::{
    BadRow, Fields, Format, InputError, Parallel, ReadOptions, Reader, read_parallel,
};
use accord_coord::model::{Behaviour, Post};
use parquet::basic::Compression;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------------------
// Helpers

/// A folder of its own for each test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("accord-coord-input-{}-{n}", std::process::id()));
        fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const H1: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const H2: &str = "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210";

/// One post on one line: `platform:account id @ms` then the fields it has.
fn render(p: &Post) -> String {
    let mut s = format!("{}:{} {} @{}", p.platform, p.account, p.id, p.time_ms);
    if let Some(t) = &p.text {
        write!(s, " text={t:?}").unwrap();
    }
    if !p.urls.is_empty() {
        write!(s, " urls={:?}", p.urls).unwrap();
    }
    if !p.hashtags.is_empty() {
        write!(s, " tags={:?}", p.hashtags).unwrap();
    }
    if !p.media.is_empty() {
        let m: Vec<String> = p
            .media
            .iter()
            .map(|h| h[..3].iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        write!(s, " media={m:?}").unwrap();
    }
    if let Some(r) = &p.repost_of {
        write!(s, " repost={r:?}").unwrap();
    }
    if let Some(r) = &p.reply_to {
        write!(s, " reply={r:?}").unwrap();
    }
    s
}

/// Everything read from `path`: its format, then posts, then bad rows as `bad LINE:
/// reason`. Read two records at a time so that batches are crossed; then read again in
/// parallel with chunks of several sizes (down to one byte, so that every cut is
/// crossed), which must give the same.
fn read_all(path: &Path, format: Option<Format>, options: &ReadOptions) -> String {
    let mut r = Reader::open(path, format, options).unwrap();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    while r.read_batch(2, &mut posts, &mut bad).unwrap() {}
    assert!(!r.read_batch(2, &mut posts, &mut bad).unwrap());
    assert_eq!(
        r.position(),
        r.len(),
        "a file read to its end is all consumed"
    );
    let mut out = format!("{}\n", r.format());
    for p in &posts {
        out.push_str(&render(p));
        out.push('\n');
    }
    for b in &bad {
        assert_eq!(b.file, path.display().to_string());
        writeln!(out, "bad {}: {}", b.line, b.reason).unwrap();
    }
    for (threads, chunk_bytes) in [(1, 1), (2, 1), (3, 7), (2, 64), (2, 1 << 20)] {
        let (p, b) = read_in_parallel(&[path], format, options, threads, chunk_bytes);
        assert_eq!(
            (&p, &b),
            (&posts, &bad),
            "{} read on {threads} threads in chunks of {chunk_bytes} bytes",
            path.display()
        );
    }
    out
}

/// Posts and bad rows of `paths` read with [`read_parallel`].
fn read_in_parallel(
    paths: &[&Path],
    format: Option<Format>,
    options: &ReadOptions,
    threads: usize,
    chunk_bytes: usize,
) -> (Vec<Post>, Vec<BadRow>) {
    let readers = paths
        .iter()
        .map(|p| Reader::open(p, format, options).unwrap())
        .collect();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    let mut last = 0;
    // On a pool of fewer threads than workers, as many, or more: the same.
    let pool = threads % 3 + 1;
    accord_coord::on_threads(pool, || {
        read_parallel(
            readers,
            &Parallel {
                threads,
                chunk_bytes,
            },
            // Each batch is given back, to be cleared and filled again.
            &|batch: Batch| (batch.to_posts(), batch),
            &mut |(p, batch), b, position| {
                assert!(position >= last, "progress goes forward");
                last = position;
                posts.extend(p);
                bad.extend(b);
                Some(batch)
            },
        )
    })
    .unwrap();
    let total: u64 = paths.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    assert_eq!(last, total, "progress ends at the total size");
    (posts, bad)
}

/// Expected text with the indentation of its first non-blank line removed.
fn dedent(s: &str) -> String {
    let lines: Vec<&str> = s.lines().skip_while(|l| l.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        out.push_str(l.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out.trim_end().to_owned() + "\n"
}

/// Writes `content` as `name`, reads it with the format detected and `options`, and
/// compares with `expected`.
fn check_with(name: &str, content: &[u8], options: &ReadOptions, expected: &str) {
    let dir = Dir::new();
    let path = dir.write(name, content);
    let got = read_all(&path, None, options);
    assert_eq!(got, dedent(expected), "reading {name}:\n{got}");
}

fn check(name: &str, content: &str, expected: &str) {
    check_with(name, content.as_bytes(), &ReadOptions::default(), expected);
}

fn open_err(name: &str, content: &[u8], format: Option<Format>) -> InputError {
    let dir = Dir::new();
    let path = dir.write(name, content);
    Reader::open(&path, format, &ReadOptions::default()).unwrap_err()
}

// ---------------------------------------------------------------------------------------
// Accord CSV

#[test]
fn csv_every_column_by_name_in_any_order() {
    check(
        "posts.csv",
        &format!(
            "extra,timestamp,post_id,account_id,platform,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
             ignored,1700000000,p1,a1,telegram,hello world,https://a.example/1 https://b.example/2,#one two,{H1} {H2},,\n\
             ,1700000001.5,p2,a2,,,,,,p1,p0\n"
        ),
        r##"
        csv
        telegram:a1 p1 @1700000000000 text="hello world" urls=["https://a.example/1", "https://b.example/2"] tags=["#one", "two"] media=["012345", "fedcba"]
        unknown:a2 p2 @1700000001500 repost="p1" reply="p0"
        "##,
    );
}

#[test]
fn csv_empty_missing_and_blank_fields_are_no_item() {
    // Only the required columns: every optional field is absent.
    check(
        "required.csv",
        "account_id,post_id,timestamp\na,1,0\n",
        "
        csv
        unknown:a 1 @0
        ",
    );
    // Empty and white-space-only cells are no item; ids are trimmed, text kept as written.
    check(
        "blank.csv",
        "account_id,post_id,timestamp,platform,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
         a,1,0,,,,,,,\n\
         \x20a ,\t2\t, 0 ,  ,   , \t ,  , , \x20 ,\t\n\
         a,3,0,x, hi ,,#,,\" r \",\n",
        r##"
        csv
        unknown:a 1 @0
        unknown:a 2 @0
        x:a 3 @0 text=" hi " repost="r"
        "##,
    );
}

#[test]
fn csv_lists() {
    check(
        "lists.csv",
        &format!(
            "account_id,post_id,timestamp,urls,hashtags,media_pdq\n\
             a,1,0,\"  u1 \t u2\n u3  \",\"#a, b,,#c  d\",\"{H1},{H2}\"\n\
             a,2,0,u1,#,\n"
        ),
        r##"
        csv
        unknown:a 1 @0 urls=["u1", "u2", "u3"] tags=["#a", "b", "#c", "d"] media=["012345", "fedcba"]
        unknown:a 2 @0 urls=["u1"]
        "##,
    );
}

#[test]
fn timestamps_in_every_form() {
    check(
        "times.csv",
        "account_id,post_id,timestamp\n\
         a,int,1700000000\n\
         a,frac,1700000000.123456\n\
         a,frac1,1700000000.5\n\
         a,neg,-1.5\n\
         a,negrest,-1.0005\n\
         a,plus,+12\n\
         a,dot,.25\n\
         a,exp,1.7e9\n\
         a,exp2,17E+8\n\
         a,zero,0\n\
         a,z,2023-11-14T22:13:20Z\n\
         a,lowz,2023-11-14t22:13:20z\n\
         a,space,2023-11-14 22:13:20Z\n\
         a,fracz,2023-11-14T22:13:20.25Z\n\
         a,nanos,2023-11-14T22:13:20.123456789Z\n\
         a,plus2,2023-11-15T00:13:20+02:00\n\
         a,minus,2023-11-14T17:13:20.5-05:00\n\
         a,leap,2024-02-29T00:00:00Z\n\
         a,early,1969-12-31T23:59:59Z\n\
         a,first,0001-01-01T00:00:00Z\n\
         a,last,9999-12-31T23:59:59.999Z\n",
        "
        csv
        unknown:a int @1700000000000
        unknown:a frac @1700000000123
        unknown:a frac1 @1700000000500
        unknown:a neg @-1500
        unknown:a negrest @-1001
        unknown:a plus @12000
        unknown:a dot @250
        unknown:a exp @1700000000000
        unknown:a exp2 @1700000000000
        unknown:a zero @0
        unknown:a z @1700000000000
        unknown:a lowz @1700000000000
        unknown:a space @1700000000000
        unknown:a fracz @1700000000250
        unknown:a nanos @1700000000123
        unknown:a plus2 @1700000000000
        unknown:a minus @1700000000500
        unknown:a leap @1709164800000
        unknown:a early @-1000
        unknown:a first @-62135596800000
        unknown:a last @253402300799999
        ",
    );
}

#[test]
fn bad_timestamps_say_why() {
    check(
        "badtimes.csv",
        "account_id,post_id,timestamp\n\
         a,1,yesterday\n\
         a,2,2023-11-14T22:13:20\n\
         a,3,1700000000000\n\
         a,4,2023-02-30T00:00:00Z\n\
         a,5,\n\
         a,6,nan\n\
         a,7,inf\n\
         a,8,2023-11-14T22:13:20+0200\n\
         a,9,1e400\n\
         a,10,2023-11-14\n\
         a,11,1_000\n\
         a,12,-\n",
        "
        csv
        bad 2: timestamp 'yesterday' is neither epoch seconds nor RFC 3339
        bad 3: timestamp '2023-11-14T22:13:20' has no UTC offset (add Z or an offset such as +02:00)
        bad 4: timestamp '1700000000000' is outside years 1 to 9999 as epoch seconds (milliseconds or microseconds? the column takes seconds)
        bad 5: timestamp '2023-02-30T00:00:00Z' is neither epoch seconds nor RFC 3339
        bad 6: timestamp is empty
        bad 7: timestamp 'nan' is neither epoch seconds nor RFC 3339
        bad 8: timestamp 'inf' is neither epoch seconds nor RFC 3339
        bad 9: timestamp '2023-11-14T22:13:20+0200' is neither epoch seconds nor RFC 3339
        bad 10: timestamp '1e400' is outside years 1 to 9999 as epoch seconds (milliseconds or microseconds? the column takes seconds)
        bad 11: timestamp '2023-11-14' is neither epoch seconds nor RFC 3339
        bad 12: timestamp '1_000' is neither epoch seconds nor RFC 3339
        bad 13: timestamp '-' is neither epoch seconds nor RFC 3339
        ",
    );
}

#[test]
fn csv_bad_rows_have_the_line_their_record_starts_on() {
    check(
        "bad.csv",
        "account_id,post_id,timestamp,text,media_pdq\n\
         a,1,0,\"a text\nover three\nlines\",\n\
         ,2,0,,\n\
         a,,0,,\n\
         a,4,0,\"two\nlines\",nothex\n\
         \n\
         a,5,0,too,many,fields\n\
         a,6,0\n\
         a,7,0,\"quoted \"\"word\"\"\",\n\
         a,8,0,,0123\n",
        r##"
        csv
        unknown:a 1 @0 text="a text\nover three\nlines"
        unknown:a 7 @0 text="quoted \"word\""
        bad 5: account_id is empty
        bad 6: post_id is empty
        bad 7: media_pdq 'nothex' is not a PDQ hash (64 hexadecimal digits)
        bad 10: has 6 fields, the header has 5
        bad 11: has 3 fields, the header has 5
        bad 13: media_pdq '0123' is not a PDQ hash (64 hexadecimal digits)
        "##,
    );
}

#[test]
fn csv_bad_row_lines_with_crlf_and_blank_lines() {
    check(
        "crlf.csv",
        "account_id,post_id,timestamp,text\r\n\r\na,1,x,\r\nb,2,0,\"t\r\nu\"\r\n\r\n\r\na,3,y,\r\na,4,z,",
        r#"
        csv
        unknown:b 2 @0 text="t\r\nu"
        bad 3: timestamp 'x' is neither epoch seconds nor RFC 3339
        bad 8: timestamp 'y' is neither epoch seconds nor RFC 3339
        bad 9: timestamp 'z' is neither epoch seconds nor RFC 3339
        "#,
    );
}

#[test]
fn invalid_utf8_in_a_row_is_a_bad_row() {
    check_with(
        "utf8.csv",
        b"account_id,post_id,timestamp,text\na,1,0,ok\na\xff,2,0,x\na,3,0,bad \xc3\x28\n",
        &ReadOptions::default(),
        r##"
        csv
        unknown:a 1 @0 text="ok"
        bad 3: account_id is not valid UTF-8
        bad 4: text is not valid UTF-8
        "##,
    );
    // A column not asked for is not looked at.
    check_with(
        "utf8-skipped.csv",
        b"account_id,post_id,timestamp,text\na,3,0,bad \xc3\x28\n",
        &ReadOptions {
            fields: Fields::none(),
            ..ReadOptions::default()
        },
        "
        csv
        unknown:a 3 @0
        ",
    );
}

#[test]
fn byte_order_mark_and_header_case_and_crlf() {
    check(
        "bom.csv",
        "\u{feff}Account_ID , POST_ID,Timestamp\r\na,1,5\r\n",
        "
        csv
        unknown:a 1 @5000
        ",
    );
}

#[test]
fn fields_not_asked_for_are_not_parsed() {
    let content = format!(
        "account_id,post_id,timestamp,platform,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
         a,1,0,x,t,u,h,{H1},r,q\n\
         a,2,0,x,t,u,h,not-a-hash,r,q\n"
    );
    check_with(
        "some.csv",
        content.as_bytes(),
        &ReadOptions {
            platform: "other".into(),
            fields: Fields {
                urls: true,
                repost: true,
                ..Fields::none()
            },
            idle_as_keys: false,
            idle_reposts: false,
        },
        r##"
        csv
        x:a 1 @0 urls=["u"] repost="r"
        x:a 2 @0 urls=["u"] repost="r"
        "##,
    );
}

#[test]
fn fields_for_behaviours() {
    let f = Fields::for_behaviours(&[Behaviour::CoReply]);
    assert_eq!(
        f,
        Fields {
            reply: true,
            ..Fields::none()
        }
    );
    let f = Fields::for_behaviours(&[Behaviour::CoLink, Behaviour::CoSimilarText]);
    assert_eq!(
        f,
        Fields {
            urls: true,
            text: true,
            repost: true,
            ..Fields::none()
        }
    );
    assert_eq!(Fields::for_behaviours(&Behaviour::ALL), Fields::all());
    assert_eq!(Fields::default(), Fields::all());
}

// ---------------------------------------------------------------------------------------
// coordination-network-toolkit's CSV

const CNT_HEAD: &str = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n";

#[test]
fn cnt_is_read_by_position_with_the_platform_given() {
    let options = ReadOptions {
        platform: "x".into(),
        ..ReadOptions::default()
    };
    let content = format!(
        "{CNT_HEAD}\
         m1,u1,alice,,,hello,1600000000.25,http://a.example http://b.example\n\
         m2,u2,bob,m1,,\"a, \"\"quoted\"\"\nmessage\",1600000001,\n\
         m3,u3,carol,,m1,,1600000002,  \n\
         m4,u4,dave,,,seven,1600000003\n\
         m5,u5,erin,,,nine,1600000004,http://c.example,extra\n\
         m6,u6,frank,,,t,soon,\n\
         ,u7,gina,,,t,1,\n\
         m8,u8,hal,,,\"x,y\",1600000005,http://d.example  http://e.example\n"
    );
    check_with(
        "toolkit.csv",
        content.as_bytes(),
        &options,
        r##"
        cnt
        x:u1 m1 @1600000000250 text="hello" urls=["http://a.example", "http://b.example"]
        x:u2 m2 @1600000001000 text="a, \"quoted\"\nmessage" repost="m1"
        x:u3 m3 @1600000002000 reply="m1"
        x:u8 m8 @1600000005000 text="x,y" urls=["http://d.example", "http://e.example"]
        bad 6: has 7 fields; coordination-network-toolkit rows have 8 (message_id, user_id, username, repost_id, reply_id, message, timestamp, urls)
        bad 7: has 9 fields; coordination-network-toolkit rows have 8 (message_id, user_id, username, repost_id, reply_id, message, timestamp, urls)
        bad 8: timestamp 'soon' is neither epoch seconds nor RFC 3339
        bad 9: message_id is empty
        "##,
    );
}

#[test]
fn cnt_header_names_are_not_needed_when_the_format_is_given() {
    let dir = Dir::new();
    let path = dir.write("any.txt", b"a,b,c,d,e,f,g,h\nm1,u1,n,,,t,1,\n");
    let got = read_all(&path, Some(Format::Cnt), &ReadOptions::default());
    assert_eq!(got, "cnt\nunknown:u1 m1 @1000 text=\"t\"\n");
}

#[test]
fn empty_urls_cell_is_no_link_not_the_link_empty_string() {
    // coordination-network-toolkit reads an empty urls cell as the one link "", which
    // links every post without a link to every other.
    check(
        "nolink.csv",
        &format!("{CNT_HEAD}m1,u1,a,,,t,1,\nm2,u2,b,,,t,1,\"\"\n"),
        r##"
        cnt
        unknown:u1 m1 @1000 text="t"
        unknown:u2 m2 @1000 text="t"
        "##,
    );
}

// ---------------------------------------------------------------------------------------
// JSON lines

#[test]
fn jsonl_every_field_as_strings_arrays_and_numbers() {
    let content = format!(
        r##"{{"account_id":"a1","post_id":"p1","timestamp":1700000000,"platform":"x","text":"hi \"there\"","urls":["u1","u2 u3",null],"hashtags":"#a,b","media_pdq":["{H1}"],"repost_of":null,"reply_to":"p0","other":{{"nested":[1,2]}}}}
{{"account_id":42,"post_id":1234567890123456789,"timestamp":"2023-11-14T22:13:20.5Z","urls":"u4  u5","hashtags":["#c","d e"],"media_pdq":"{H1} {H2}","repost_of":"p1"}}

   {{"post_id":"p3","account_id":"a3","timestamp":1.5e9,"text":"   ","urls":[],"hashtags":"","repost_of":"  "}}
{{"account_id":"a4","post_id":"p4","timestamp":"1700000000.5","text":"caf\u00e9"}}
"##
    );
    check(
        "posts.jsonl",
        &content,
        r##"
        jsonl
        x:a1 p1 @1700000000000 text="hi \"there\"" urls=["u1", "u2", "u3"] tags=["#a", "b"] media=["012345"] reply="p0"
        unknown:42 1234567890123456789 @1700000000500 urls=["u4", "u5"] tags=["#c", "d", "e"] media=["012345", "fedcba"] repost="p1"
        unknown:a3 p3 @1500000000000
        unknown:a4 p4 @1700000000500 text="café"
        "##,
    );
}

#[test]
fn jsonl_bad_lines() {
    let content = "{\"account_id\":\"a\",\"post_id\":\"1\",\"timestamp\":0}\n\
                   {\"account_id\":\"a\",\"post_id\":\"2\"\n\
                   [\"a\",\"2\",0]\n\
                   \"just a string\"\n\
                   {\"post_id\":\"3\",\"timestamp\":0}\n\
                   {\"account_id\":\"a\",\"post_id\":\"4\",\"timestamp\":null}\n\
                   {\"account_id\":true,\"post_id\":\"5\",\"timestamp\":0}\n\
                   {\"account_id\":\"a\",\"post_id\":[\"6\"],\"timestamp\":0}\n\
                   {\"account_id\":\"a\",\"post_id\":\"7\",\"timestamp\":0,\"urls\":[1]}\n\
                   {\"account_id\":\"a\",\"post_id\":\"8\",\"timestamp\":0,\"urls\":{}}\n\
                   {\"account_id\":\"a\",\"post_id\":\"9\",\"timestamp\":0,\"media_pdq\":[\"zz\"]}\n\
                   {\"account_id\":\"a\",\"post_id\":\"10\",\"timestamp\":\"noon\"}\n\
                   {\"account_id\":\"a\",\"account_id\":\"b\",\"post_id\":\"11\",\"timestamp\":0}\n\
                   {\"account_id\":\"\",\"post_id\":\"12\",\"timestamp\":0}\n\
                   {\"account_id\":\"a\",\"post_id\":\"13\",\"timestamp\":0} trailing\n\
                   {\"account_id\":\"a\",\"post_id\":\"14\",\"timestamp\":0}";
    check(
        "bad.ndjson",
        content,
        "
        jsonl
        unknown:a 1 @0
        unknown:a 14 @0
        bad 2: invalid JSON at column 31: EOF while parsing an object
        bad 3: is not a JSON object: '[\"a\",\"2\",0]'
        bad 4: is not a JSON object: '\"just a string\"'
        bad 5: account_id is missing
        bad 6: timestamp is missing
        bad 7: account_id must be a string or a number, not a boolean
        bad 8: post_id must be a string or a number, not an array
        bad 9: urls must be a string or an array of strings
        bad 10: urls must be a string or an array of strings, not an object
        bad 11: media_pdq 'zz' is not a PDQ hash (64 hexadecimal digits)
        bad 12: timestamp 'noon' is neither epoch seconds nor RFC 3339
        bad 13: invalid JSON at column 30: duplicate field `account_id`
        bad 14: account_id is empty
        bad 15: invalid JSON at column 49: trailing characters
        ",
    );
}

#[test]
fn jsonl_invalid_utf8_and_crlf() {
    check_with(
        "u.json",
        b"\xef\xbb\xbf{\"account_id\":\"a\",\"post_id\":\"1\",\"timestamp\":0}\r\n{\"account_id\":\"a\xff\",\"post_id\":\"2\",\"timestamp\":0}\r\n",
        &ReadOptions::default(),
        "
        jsonl
        unknown:a 1 @0
        bad 2: is not valid UTF-8
        ",
    );
}

// ---------------------------------------------------------------------------------------
// Parquet

/// One column's data, a row per element.
enum Data {
    Str(Vec<Option<&'static str>>),
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    I96(Vec<Option<Int96>>),
    Bool(Vec<Option<bool>>),
    /// A 3-level list of strings: `None` a null list, `Some(vec![])` an empty one.
    List(Vec<Option<Vec<Option<&'static str>>>>),
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Data::Str(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::F64(v) => v.len(),
            Data::I96(v) => v.len(),
            Data::Bool(v) => v.len(),
            Data::List(v) => v.len(),
        }
    }
}

/// Flat values and definition levels of rows `rows` (1 = present, 0 = null).
fn flat<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let values = v.iter().flatten().cloned().collect();
    let def = v.iter().map(|x| i16::from(x.is_some())).collect();
    (values, def)
}

/// Writes a Parquet file with `schema`, one `Data` per leaf column in order, in row
/// groups of `group` rows.
fn write_parquet(path: &Path, schema: &str, columns: &[Data], group: usize, codec: Compression) {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(codec)
            .set_dictionary_enabled(true)
            .build(),
    );
    let file = fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    let rows = columns[0].len();
    let mut start = 0;
    while start < rows {
        let end = (start + group).min(rows);
        let mut rg = writer.next_row_group().unwrap();
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            match &columns[i] {
                Data::Str(v) => {
                    let (values, def) = flat(&v[start..end]);
                    let values: Vec<ByteArray> = values.into_iter().map(ByteArray::from).collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::I64(v) => {
                    let (values, def) = flat(&v[start..end]);
                    col.typed::<Int64Type>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::I32(v) => {
                    let (values, def) = flat(&v[start..end]);
                    col.typed::<Int32Type>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::F64(v) => {
                    let (values, def) = flat(&v[start..end]);
                    col.typed::<DoubleType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::I96(v) => {
                    let (values, def) = flat(&v[start..end]);
                    col.typed::<Int96Type>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::Bool(v) => {
                    let (values, def) = flat(&v[start..end]);
                    col.typed::<BoolType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Data::List(v) => {
                    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
                    for row in &v[start..end] {
                        match row {
                            None => {
                                def.push(0);
                                rep.push(0);
                            }
                            Some(items) if items.is_empty() => {
                                def.push(1);
                                rep.push(0);
                            }
                            Some(items) => {
                                for (k, item) in items.iter().enumerate() {
                                    rep.push(i16::from(k > 0));
                                    match item {
                                        None => def.push(2),
                                        Some(s) => {
                                            def.push(3);
                                            values.push(ByteArray::from(*s));
                                        }
                                    }
                                }
                            }
                        }
                    }
                    col.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), Some(&rep))
                        .unwrap();
                }
            }
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
        start = end;
    }
    writer.close().unwrap();
}

fn check_parquet(schema: &str, columns: &[Data], group: usize, expected: &str) {
    for codec in [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::ZSTD(Default::default()),
        Compression::GZIP(Default::default()),
        Compression::LZ4_RAW,
    ] {
        let dir = Dir::new();
        let path = dir.0.join("posts.parquet");
        write_parquet(&path, schema, columns, group, codec);
        let got = read_all(&path, None, &ReadOptions::default());
        assert_eq!(got, dedent(expected), "codec {codec:?}:\n{got}");
    }
}

const LIST: &str = "(LIST) { repeated group list { optional binary element (STRING); } }";

#[test]
fn parquet_every_column_with_lists_nulls_and_row_groups() {
    let schema = format!(
        "message posts {{
            required binary account_id (STRING);
            required int64 post_id;
            optional int64 timestamp (TIMESTAMP(MILLIS,true));
            optional binary platform (STRING);
            optional binary text (STRING);
            optional group urls {LIST}
            optional binary hashtags (STRING);
            optional group media_pdq {LIST}
            optional binary repost_of (STRING);
            optional binary reply_to;
            optional boolean ignored;
        }}"
    );
    let columns = [
        Data::Str(vec![
            Some("a1"),
            Some("a2"),
            Some("a3"),
            Some(" "),
            Some("a5"),
        ]),
        Data::I64(vec![Some(1), Some(2), Some(3), Some(4), Some(5)]),
        Data::I64(vec![
            Some(1_700_000_000_123),
            Some(0),
            None,
            Some(1),
            Some(-1500),
        ]),
        Data::Str(vec![Some("x"), None, Some(""), None, Some("fb")]),
        Data::Str(vec![Some("hello"), None, None, None, Some("  ")]),
        Data::List(vec![
            Some(vec![Some("u1"), None, Some(""), Some("u2 u3")]),
            Some(vec![]),
            None,
            None,
            Some(vec![Some("u4")]),
        ]),
        Data::Str(vec![Some("#a b"), None, None, None, Some("")]),
        Data::List(vec![
            Some(vec![Some(H1), Some(H2)]),
            None,
            None,
            None,
            Some(vec![Some("bad")]),
        ]),
        Data::Str(vec![None, Some("p1"), None, None, Some("")]),
        Data::Str(vec![Some("p0"), None, None, None, None]),
        Data::Bool(vec![Some(true), None, Some(false), None, None]),
    ];
    check_parquet(
        &schema,
        &columns,
        2,
        r##"
        parquet
        x:a1 1 @1700000000123 text="hello" urls=["u1", "u2", "u3"] tags=["#a", "b"] media=["012345", "fedcba"] reply="p0"
        unknown:a2 2 @0 repost="p1"
        bad 3: timestamp is missing
        bad 4: account_id is empty
        bad 5: media_pdq 'bad' is not a PDQ hash (64 hexadecimal digits)
        "##,
    );
}

#[test]
fn parquet_timestamps_of_every_type() {
    let base = |ts: &str| {
        format!(
            "message m {{ required binary account_id (STRING); required binary post_id (STRING); {ts} }}"
        )
    };
    let ids = || {
        (
            Data::Str(vec![Some("a"), Some("a")]),
            Data::Str(vec![Some("1"), Some("2")]),
        )
    };
    let cases: Vec<(String, Data, &str)> = vec![
        (
            base("required int64 timestamp (TIMESTAMP(MICROS,false));"),
            Data::I64(vec![Some(1_700_000_000_123_456), Some(-1)]),
            "@1700000000123|@-1",
        ),
        (
            base("required int64 timestamp (TIMESTAMP(NANOS,true));"),
            Data::I64(vec![Some(1_700_000_000_123_456_789), Some(0)]),
            "@1700000000123|@0",
        ),
        (
            base("required int64 timestamp;"),
            Data::I64(vec![Some(1_700_000_000), Some(99_999_999_999_999)]),
            "@1700000000000|bad 2: timestamp 99999999999999 is outside years 1 to 9999",
        ),
        (
            base("required int32 timestamp;"),
            Data::I32(vec![Some(1_700_000_000), Some(-5)]),
            "@1700000000000|@-5000",
        ),
        (
            base("required int32 timestamp (DATE);"),
            Data::I32(vec![Some(19_675), Some(1)]),
            "@1699920000000|@86400000",
        ),
        (
            base("optional double timestamp;"),
            Data::F64(vec![Some(1_700_000_000.25), Some(f64::NAN)]),
            "@1700000000250|bad 2: timestamp NaN is outside years 1 to 9999",
        ),
        (
            base("optional binary timestamp (STRING);"),
            Data::Str(vec![Some("2023-11-14T22:13:20Z"), Some("later")]),
            "@1700000000000|bad 2: timestamp 'later' is neither epoch seconds nor RFC 3339",
        ),
        (
            base("required int96 timestamp;"),
            Data::I96(vec![
                Some({
                    // 2023-11-14 (Julian day 2460263) at 22:13:20.5.
                    let nanos: u64 = (22 * 3600 + 13 * 60 + 20) * 1_000_000_000 + 500_000_000;
                    let mut v = Int96::new();
                    v.set_data(nanos as u32, (nanos >> 32) as u32, 2_460_263);
                    v
                }),
                None,
            ]),
            "@1700000000500|@0",
        ),
    ];
    for (schema, times, want) in cases {
        // The INT96 column is required: its None is written as the default value.
        let times = match times {
            Data::I96(v) => Data::I96(
                v.into_iter()
                    .map(|x| {
                        Some(x.unwrap_or_else(|| {
                            let mut z = Int96::new();
                            z.set_data(0, 0, 2_440_588);
                            z
                        }))
                    })
                    .collect(),
            ),
            other => other,
        };
        let (a, p) = ids();
        let dir = Dir::new();
        let path = dir.0.join("t.parquet");
        write_parquet(&path, &schema, &[a, p, times], 10, Compression::SNAPPY);
        let got = read_all(&path, None, &ReadOptions::default());
        let want: Vec<String> = want
            .split('|')
            .enumerate()
            .map(|(i, w)| {
                if w.starts_with('@') {
                    format!("unknown:a {} {w}", i + 1)
                } else {
                    w.to_owned()
                }
            })
            .collect();
        let mut want_sorted: Vec<&String> = want.iter().filter(|w| !w.starts_with("bad")).collect();
        want_sorted.extend(want.iter().filter(|w| w.starts_with("bad")));
        let expected = std::iter::once("parquet".to_owned())
            .chain(want_sorted.into_iter().cloned())
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        assert_eq!(got, expected, "{schema}");
    }
}

#[test]
fn parquet_column_errors_name_the_column() {
    let dir = Dir::new();
    let path = dir.0.join("m.parquet");
    write_parquet(
        &path,
        "message m { required binary account_id (STRING); optional binary text (STRING); }",
        &[Data::Str(vec![Some("a")]), Data::Str(vec![Some("t")])],
        10,
        Compression::SNAPPY,
    );
    let e = Reader::open(&path, None, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, InputError::MissingColumns { missing, .. } if missing == &["post_id", "timestamp"]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{} has no column post_id, timestamp (its columns: account_id, text)",
            path.display()
        )
    );

    write_parquet(
        &path,
        &format!(
            "message m {{ required binary account_id (STRING); required binary post_id; required boolean timestamp; optional group urls {LIST} }}"
        ),
        &[
            Data::Str(vec![Some("a")]),
            Data::Str(vec![Some("1")]),
            Data::Bool(vec![Some(true)]),
            Data::List(vec![None]),
        ],
        10,
        Compression::SNAPPY,
    );
    let e = Reader::open(&path, None, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, InputError::ColumnType { column, found, .. } if column == "timestamp" && found == "BOOLEAN"),
        "{e:?}"
    );

    write_parquet(
        &path,
        &format!(
            "message m {{ required binary account_id (STRING); optional group post_id {LIST} required int64 timestamp; }}"
        ),
        &[
            Data::Str(vec![Some("a")]),
            Data::List(vec![None]),
            Data::I64(vec![Some(1)]),
        ],
        10,
        Compression::SNAPPY,
    );
    let e = Reader::open(&path, None, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, InputError::ColumnType { column, found, .. } if column == "post_id" && found == "a list of BYTE_ARRAY (String)"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Detection and file-level errors

#[test]
fn format_is_told_from_the_name_the_header_or_the_first_bytes() {
    let csv = "account_id,post_id,timestamp\na,1,0\n";
    let json = "{\"account_id\":\"a\",\"post_id\":\"1\",\"timestamp\":0}\n";
    let cnt = format!("{CNT_HEAD}1,a,n,,,,0,\n");
    let dir = Dir::new();
    let cases: Vec<(&str, Vec<u8>, Format)> = vec![
        ("a.csv", csv.into(), Format::Csv),
        ("b.CSV", cnt.clone().into(), Format::Cnt),
        ("c.jsonl", json.into(), Format::Jsonl),
        ("d.ndjson", json.into(), Format::Jsonl),
        ("e.json", json.into(), Format::Jsonl),
        ("f.txt", json.into(), Format::Jsonl),
        ("g", csv.into(), Format::Csv),
        ("h.tsv", cnt.into(), Format::Cnt),
        ("i.csv.gz", gzip(csv.as_bytes()), Format::Csv),
        ("j.jsonl.gz", gzip(json.as_bytes()), Format::Jsonl),
        ("k.data", gzip(json.as_bytes()), Format::Jsonl),
    ];
    for (name, content, want) in cases {
        let path = dir.write(name, &content);
        let got = read_all(&path, None, &ReadOptions::default());
        assert_eq!(got.lines().next(), Some(want.name()), "{name}");
        assert!(got.contains("unknown:a 1 @0"), "{name}: {got}");
    }
    // Parquet by its magic number, whatever the name.
    let path = dir.0.join("posts.bin");
    write_parquet(
        &path,
        "message m { required binary account_id (STRING); required binary post_id (STRING); required int64 timestamp; }",
        &[
            Data::Str(vec![Some("a")]),
            Data::Str(vec![Some("1")]),
            Data::I64(vec![Some(0)]),
        ],
        10,
        Compression::SNAPPY,
    );
    assert_eq!(
        read_all(&path, None, &ReadOptions::default()),
        "parquet\nunknown:a 1 @0\n"
    );
    // A format given wins over the name.
    let path = dir.write("x.jsonl", csv.as_bytes());
    assert_eq!(
        read_all(&path, Some(Format::Csv), &ReadOptions::default()),
        "csv\nunknown:a 1 @0\n"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn format_names() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
        assert_eq!(f.to_string(), f.name());
    }
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    let e = "xml".parse::<Format>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown input format 'xml' (expected csv, jsonl, parquet or cnt)"
    );
}

#[test]
fn missing_required_columns_are_named() {
    let e = open_err("m.csv", b"account_id,text\n", None);
    assert!(
        matches!(&e, InputError::MissingColumns { missing, found, .. }
            if missing == &["post_id", "timestamp"] && found == &["account_id", "text"]),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .ends_with("m.csv has no column post_id, timestamp (its columns: account_id, text)")
    );
    // A toolkit file read as Accord CSV gets a hint.
    let e = open_err("t.csv", CNT_HEAD.as_bytes(), Some(Format::Csv));
    assert!(
        e.to_string()
            .ends_with("; if it is a coordination-network-toolkit file, read it as format cnt"),
        "{e}"
    );
}

#[test]
fn file_level_errors() {
    assert!(matches!(
        open_err("e.csv", b"", None),
        InputError::NoHeader { .. }
    ));
    assert!(matches!(
        open_err("d.csv", b"account_id,post_id,timestamp,post_id\n", None),
        InputError::DuplicateColumn { column, .. } if column == "post_id"
    ));
    assert!(matches!(
        open_err("n.parquet", b"account_id,post_id,timestamp\n", None),
        InputError::Parquet { .. }
    ));
    assert!(matches!(
        open_err("n.parquet.gz", &gzip(b"PAR1"), None),
        InputError::Unsupported { .. }
    ));
    let e = Reader::open(
        Path::new("/nonexistent/posts.csv"),
        None,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, InputError::Open { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("cannot open /nonexistent/posts.csv: ")
    );
    // A corrupt gzip stream fails the file once its rows are reached.
    let mut gz = gzip(b"account_id,post_id,timestamp\na,1,0\n");
    let n = gz.len();
    gz[n / 2] ^= 0xff;
    gz.truncate(n - 4);
    let dir = Dir::new();
    let path = dir.write("c.csv.gz", &gz);
    let result = Reader::open(&path, None, &ReadOptions::default()).and_then(|mut r| {
        let (mut posts, mut bad) = (Vec::new(), Vec::new());
        while r.read_batch(10, &mut posts, &mut bad)? {}
        Ok(())
    });
    assert!(
        matches!(
            result,
            Err(InputError::Read { .. } | InputError::NoHeader { .. })
        ),
        "{result:?}"
    );
}

#[test]
fn batches_hold_at_most_max_records() {
    let mut content = String::from("account_id,post_id,timestamp\n");
    for i in 0..10 {
        writeln!(content, "a,{i},{}", if i % 3 == 0 { "x" } else { "1" }).unwrap();
    }
    let dir = Dir::new();
    let path = dir.write("b.csv", content.as_bytes());
    let mut r = Reader::open(&path, None, &ReadOptions::default()).unwrap();
    assert_eq!(r.len(), content.len() as u64);
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    assert!(r.read_batch(4, &mut posts, &mut bad).unwrap());
    assert_eq!((posts.len(), bad.len()), (2, 2));
    assert!(r.position() > 0 && r.position() <= r.len());
    assert!(r.read_batch(4, &mut posts, &mut bad).unwrap());
    assert!(!r.read_batch(4, &mut posts, &mut bad).unwrap());
    assert_eq!((posts.len(), bad.len()), (6, 4));
    assert_eq!(
        bad.iter().map(|b| b.line).collect::<Vec<_>>(),
        vec![2, 5, 8, 11]
    );
    assert_eq!(
        bad[0].to_string(),
        format!(
            "{}:2: timestamp 'x' is neither epoch seconds nor RFC 3339",
            path.display()
        )
    );
}

#[test]
fn chunks_read_in_parallel_give_the_same_posts_and_bad_rows_in_the_same_order() {
    // Multi-line records, doubled quotes, stray quotes (which mislead the cutting of
    // chunks), blank lines, CRLF and bad rows, at random.
    let mut rng = StdRng::seed_from_u64(11);
    let mut content = String::from("account_id,post_id,timestamp,text,urls\n");
    for i in 0..3_000 {
        match rng.random_range(0..40) {
            0 => writeln!(content, "a{i},{i},later,t,u").unwrap(),
            1 => writeln!(content, "a{i},{i},{i},\"multi\nline {i}\",u{i}").unwrap(),
            2 => writeln!(content, "a{i},{i}").unwrap(),
            3 => writeln!(content, "a{i},{i},{i},say \"what,u").unwrap(),
            4 => write!(content, "a{i},{i},{i},\"\"\"quoted\"\"\r\n\",u\r\n").unwrap(),
            5 => content.push_str("\n\r\n"),
            6 => writeln!(content, "a{i},{i},{i},\"\n\n\",\"x\ny\"").unwrap(),
            // A byte-order mark inside the file is data, whatever parses the record.
            7 => writeln!(content, "\u{feff}b{i},{i},{i},\"say \"\"hi\"\"\",u").unwrap(),
            8 => writeln!(content, "\u{feff}c{i},{i},{i},plain,u").unwrap(),
            _ => writeln!(
                content,
                "a{},{i},{i}.5,\"text, {i}\",https://x.example/{}",
                i % 300,
                i % 7
            )
            .unwrap(),
        }
    }
    let dir = Dir::new();
    let path = dir.write("many.csv", content.as_bytes());
    let gz = dir.write("many.csv.gz", &gzip(content.as_bytes()));
    let options = ReadOptions::default();
    let mut r = Reader::open(&path, None, &options).unwrap();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    while r.read_batch(4096, &mut posts, &mut bad).unwrap() {}
    assert!(
        posts.len() > 2_000 && bad.len() > 100,
        "{} {}",
        posts.len(),
        bad.len()
    );
    for threads in [1, 2, 3] {
        for chunk_bytes in [1, 13, 100, 4096, 1 << 20] {
            let got = read_in_parallel(&[&path], None, &options, threads, chunk_bytes);
            assert_eq!(
                got,
                (posts.clone(), bad.clone()),
                "{threads} threads, {chunk_bytes} B"
            );
        }
    }
    // Several files, one compressed: each file's lines count from its own start.
    let (p, b) = read_in_parallel(&[&path, &gz, &path], None, &options, 2, 1000);
    assert_eq!(p.len(), 3 * posts.len());
    assert_eq!(b.len(), 3 * bad.len());
    assert_eq!(b[..bad.len()], bad[..]);
    let lines = |rows: &[BadRow]| rows.iter().map(|r| r.line).collect::<Vec<_>>();
    assert_eq!(lines(&b[bad.len()..2 * bad.len()]), lines(&bad));
    assert!(b[bad.len()].file.ends_with("many.csv.gz"));
}

#[test]
fn lines_ending_in_cr_alone_and_an_unclosed_quote_read_the_same_in_parallel() {
    // Both leave the chunks without the cuts the quotes would give: with `\r` alone there
    // is no `\n` to cut after, and after an unclosed quote the rest of the file is one
    // field, every chunk ending inside it.
    let mut records = String::new();
    for i in 0..6_000 {
        match i % 50 {
            0 => write!(records, "a{i},{i},{i},\"two\rlines\",u{i}\r").unwrap(),
            1 => write!(records, "a{i},{i},later,t,u\r").unwrap(),
            _ => write!(
                records,
                "a{},{i},{i},text {i},https://x.example/{i}\r",
                i % 90
            )
            .unwrap(),
        }
    }
    let header = "account_id,post_id,timestamp,text,urls\r";
    let cr = format!("{header}{records}");
    let half = records.len() / 2;
    let cut = half + records[half..].find('\r').unwrap() + 1;
    let unclosed = format!(
        "{}{}a,1,1,\"never closed,u\n{}",
        header.replace('\r', "\n"),
        records[..cut].replace('\r', "\n"),
        records[cut..].replace('\r', "\n"),
    );
    let dir = Dir::new();
    let options = ReadOptions::default();
    for (name, content) in [("cr.csv", &cr), ("unclosed.csv", &unclosed)] {
        let path = dir.write(name, content.as_bytes());
        let mut r = Reader::open(&path, None, &options).unwrap();
        let (mut posts, mut bad) = (Vec::new(), Vec::new());
        while r.read_batch(4096, &mut posts, &mut bad).unwrap() {}
        assert!(posts.len() > 2_500, "{name}: {}", posts.len());
        assert!(!bad.is_empty(), "{name}");
        for threads in [1, 2] {
            for chunk_bytes in [1, 100, 4096, 1 << 20] {
                let got = read_in_parallel(&[&path], None, &options, threads, chunk_bytes);
                assert_eq!(
                    got,
                    (posts.clone(), bad.clone()),
                    "{name}: {threads} threads, {chunk_bytes} B"
                );
            }
        }
    }
}

#[test]
fn json_lines_read_in_parallel_give_the_same_posts_and_bad_rows_in_the_same_order() {
    // A byte-order mark, blank lines, CRLF, escaped line ends, bad JSON and bad fields, a
    // last line with no line end; then alone, gzipped and after a CSV file.
    let mut rng = StdRng::seed_from_u64(12);
    let mut content = String::from("\u{feff}");
    for i in 0..3_000 {
        match rng.random_range(0..30) {
            0 => writeln!(content, r#"{{"account_id":"a{i}","post_id":{i}}}"#).unwrap(),
            1 => writeln!(content, "{{\"account_id\": \"a{i}\", \"post_id\": ").unwrap(),
            2 => content.push_str("\n  \r\n"),
            3 => write!(
                content,
                "{{\"account_id\":\"a{i}\",\"post_id\":\"{i}\",\"timestamp\":{i},\"text\":\"two\\nlines\"}}\r\n"
            )
            .unwrap(),
            4 => writeln!(content, "[{i}]").unwrap(),
            5 => writeln!(
                content,
                r#"{{"account_id":"a{i}","post_id":"{i}","timestamp":"soon"}}"#
            )
            .unwrap(),
            _ => writeln!(
                content,
                r#"{{"platform":"x","account_id":"a{}","post_id":"{i}","timestamp":{i},"urls":["https://x.example/{}"]}}"#,
                i % 300,
                i % 7
            )
            .unwrap(),
        }
    }
    content.push_str(r#"{"account_id":"last","post_id":"z","timestamp":1}"#);
    let dir = Dir::new();
    let path = dir.write("many.jsonl", content.as_bytes());
    let gz = dir.write("many.jsonl.gz", &gzip(content.as_bytes()));
    let csv = dir.write("one.csv", b"account_id,post_id,timestamp\nc,1,x\nc,2,2\n");
    let options = ReadOptions::default();
    let mut r = Reader::open(&path, None, &options).unwrap();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    while r.read_batch(4096, &mut posts, &mut bad).unwrap() {}
    assert!(
        posts.len() > 2_000 && bad.len() > 200,
        "{} {}",
        posts.len(),
        bad.len()
    );
    assert_eq!(posts.last().map(|p| p.id.as_str()), Some("z"));
    for threads in [1, 2, 3] {
        for chunk_bytes in [1, 13, 100, 4096, 1 << 20] {
            let got = read_in_parallel(&[&path], None, &options, threads, chunk_bytes);
            assert_eq!(
                got,
                (posts.clone(), bad.clone()),
                "{threads} threads, {chunk_bytes} B"
            );
        }
    }
    let (p, b) = read_in_parallel(&[&csv, &path, &gz], None, &options, 2, 500);
    assert_eq!(p.len(), 1 + 2 * posts.len());
    assert_eq!(b.len(), 1 + 2 * bad.len());
    assert_eq!(b[0].line, 2);
    assert_eq!(b[1..=bad.len()], bad[..]);
    let lines = |rows: &[BadRow]| rows.iter().map(|r| r.line).collect::<Vec<_>>();
    assert_eq!(lines(&b[1 + bad.len()..]), lines(&bad));
    assert!(b[1 + bad.len()].file.ends_with("many.jsonl.gz"));
}

#[test]
fn a_read_error_in_parallel_is_reported_after_what_came_before() {
    let mut content = String::from("account_id,post_id,timestamp\n");
    for i in 0..20_000 {
        writeln!(content, "a,{i},{i}").unwrap();
    }
    let mut gz = gzip(content.as_bytes());
    let n = gz.len();
    gz[n / 2] ^= 0xff;
    gz.truncate(n - 4);
    let dir = Dir::new();
    let path = dir.write("c.csv.gz", &gz);
    let fine = dir.write("fine.csv", b"account_id,post_id,timestamp\na,1,0\n");
    let readers = vec![
        Reader::open(&path, None, &ReadOptions::default()).unwrap(),
        Reader::open(&fine, None, &ReadOptions::default()).unwrap(),
    ];
    let mut taken = 0;
    let result = read_parallel(
        readers,
        &Parallel {
            threads: 2,
            chunk_bytes: 100,
        },
        &|batch: Batch| batch.len(),
        &mut |n, _, _| {
            taken += n;
            None
        },
    );
    assert!(matches!(result, Err(InputError::Read { .. })), "{result:?}");
    assert!(taken < 20_000, "the file after the broken one is not read");
}

#[test]
fn a_reader_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<Reader>();
    send::<InputError>();
}

// ---------------------------------------------------------------------------------------
// Whatever the bytes: no panic

/// Opens and reads `path` to its end or its first error.
fn read_anything(path: &Path, format: Option<Format>) {
    if let Ok(mut r) = Reader::open(path, format, &ReadOptions::default()) {
        let (mut posts, mut bad): (Vec<Post>, Vec<BadRow>) = (Vec::new(), Vec::new());
        while let Ok(true) = r.read_batch(3, &mut posts, &mut bad) {}
        let _ = r.position();
    }
    if let Ok(r) = Reader::open(path, format, &ReadOptions::default()) {
        let parallel = Parallel {
            threads: 2,
            chunk_bytes: 5,
        };
        let _ = read_parallel(vec![r], &parallel, &|b: Batch| b.len(), &mut |_, _, _| None);
    }
}

#[test]
fn random_and_truncated_bytes_never_panic() {
    let dir = Dir::new();
    let mut rng = StdRng::seed_from_u64(5);
    let csv = format!(
        "account_id,post_id,timestamp,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
         a,1,1700000000,\"t,\n\"\"x\"\"\",u1 u2,#h,{H1},r,\n\
         b,2,2023-11-14T22:13:20Z,,,,,,q\n"
    );
    let json = format!(
        "{{\"account_id\":\"a\",\"post_id\":1,\"timestamp\":1.5,\"urls\":[\"u\"],\"media_pdq\":\"{H1}\"}}\n"
    );
    let cnt = format!("{CNT_HEAD}m1,u1,n,,,\"a\nb\",1,u\n");
    let pq = dir.0.join("seed.parquet");
    write_parquet(
        &pq,
        &format!(
            "message m {{ required binary account_id (STRING); required binary post_id (STRING); optional int64 timestamp (TIMESTAMP(MILLIS,true)); optional group urls {LIST} }}"
        ),
        &[
            Data::Str(vec![Some("a"), Some("b"), Some("c")]),
            Data::Str(vec![Some("1"), Some("2"), Some("3")]),
            Data::I64(vec![Some(1), None, Some(3)]),
            Data::List(vec![Some(vec![Some("u")]), None, Some(vec![])]),
        ],
        2,
        Compression::SNAPPY,
    );
    let parquet = fs::read(&pq).unwrap();
    let seeds: [(&str, Vec<u8>, Option<Format>); 5] = [
        ("f.csv", csv.into_bytes(), None),
        ("f.jsonl", json.into_bytes(), None),
        ("f.csv", cnt.into_bytes(), Some(Format::Cnt)),
        ("f.parquet", parquet, None),
        (
            "f.csv.gz",
            gzip(b"account_id,post_id,timestamp\na,1,0\n"),
            None,
        ),
    ];
    for (name, seed, format) in &seeds {
        // Every prefix (every few for the larger Parquet file).
        let step = if name.ends_with(".parquet") { 5 } else { 1 };
        for cut in (0..seed.len()).step_by(step) {
            let path = dir.write(name, &seed[..cut]);
            read_anything(&path, *format);
        }
        // Random corruptions.
        for _ in 0..200 {
            let mut bytes = seed.clone();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
            }
            let path = dir.write(name, &bytes);
            read_anything(&path, *format);
        }
    }
    // Pure noise, under every format.
    for _ in 0..100 {
        let len = rng.random_range(0..400);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let path = dir.write("noise", &bytes);
        for format in [
            None,
            Some(Format::Csv),
            Some(Format::Jsonl),
            Some(Format::Cnt),
            Some(Format::Parquet),
        ] {
            read_anything(&path, format);
        }
    }
}

#[test]
fn records_of_hundreds_of_fields_read_the_same_in_parallel() {
    // Past the fields split in place, records go through csv-core: the same posts.
    let extra = 300;
    let mut content = String::from("account_id,post_id,timestamp");
    for c in 0..extra {
        write!(content, ",x{c}").unwrap();
    }
    content.push_str(",urls\n");
    for i in 0..400 {
        write!(content, "a{},{i},{i}", i % 7).unwrap();
        for c in 0..extra {
            if c % 50 == 0 {
                write!(content, ",\"q,{c}\"").unwrap();
            } else {
                write!(content, ",{c}").unwrap();
            }
        }
        writeln!(content, ",https://x.example/{}", i % 11).unwrap();
    }
    let dir = Dir::new();
    let path = dir.write("wide.csv", content.as_bytes());
    let options = ReadOptions::default();
    let mut r = Reader::open(&path, None, &options).unwrap();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    while r.read_batch(64, &mut posts, &mut bad).unwrap() {}
    assert_eq!(posts.len(), 400);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(posts[399].id, "399");
    assert_eq!(posts[399].urls, ["https://x.example/3"]);
    for chunk_bytes in [100, 4096, 1 << 20] {
        let got = read_in_parallel(&[&path], None, &options, 2, chunk_bytes);
        assert_eq!(got, (posts.clone(), bad.clone()), "{chunk_bytes} B");
    }
}

/// Detection of `path` read on `threads` threads into a detector, the posts taken and the
/// bad rows; and how many posts came as idle ones (accounts alone).
fn detect_from(
    (path, format): (&Path, Option<Format>),
    behaviours: &[Behaviour],
    options: &ReadOptions,
    threads: usize,
    chunk_bytes: usize,
) -> (accord_coord::Detection, usize, Vec<BadRow>, usize) {
    let config = accord_coord::Config {
        behaviours: behaviours.to_vec(),
        min_weight: 1.0,
        min_overlap: 0.0,
        threads,
        ..accord_coord::Config::default()
    };
    let mut detector = accord_coord::Detector::new(config);
    let preparer = detector.preparer();
    let idle = std::sync::atomic::AtomicUsize::new(0);
    let mut bad = Vec::new();
    read_parallel(
        vec![Reader::open(path, format, options).unwrap()],
        &Parallel {
            threads,
            chunk_bytes,
        },
        &|batch: Batch| {
            idle.fetch_add(batch.idle_len(), Ordering::Relaxed);
            preparer.prepare(batch)
        },
        &mut |prepared, b, _| {
            bad.extend(b);
            Some(detector.take(prepared))
        },
    )
    .unwrap();
    let posts = detector.posts();
    let detection = detector.finish(&mut |_| {}).unwrap();
    (detection, posts, bad, idle.into_inner())
}

#[test]
fn idle_posts_kept_as_their_accounts_alone_detect_the_same() {
    // Accounts often seen first in posts that act on nothing and only later acting (their
    // names come from those later posts); blank cells, cells of other white space (which
    // hold no item either, and are read as rows), bad rows that would be idle.
    for seed in 0..4u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut csv = String::from(
            "platform,account_id,post_id,timestamp,text,urls,hashtags,media_pdq,repost_of,reply_to\n",
        );
        let mut cnt = String::from(CNT_HEAD);
        for i in 0..1_500u32 {
            let platform = ["x", "fb"][rng.random_range(0..2)];
            let account = format!("u{}", rng.random_range(0..60));
            let time = 1_600_000_000 + i / 3 + rng.random_range(0..5);
            let pick = |rng: &mut StdRng, options: &[&'static str]| {
                options[rng.random_range(0..options.len())]
            };
            let (text, urls, hashtags, media, repost, reply) = if rng.random_bool(0.55) {
                let blank = ["", " ", "\t", " , "];
                (
                    pick(&mut rng, &["", "  "]),
                    pick(&mut rng, &["", " ", "\u{3000}"]),
                    pick(&mut rng, &blank),
                    pick(&mut rng, &blank),
                    pick(&mut rng, &["", " "]),
                    pick(&mut rng, &["", " "]),
                )
            } else {
                (
                    pick(&mut rng, &["", "same words here", "other words there"]),
                    pick(
                        &mut rng,
                        &[
                            "",
                            "https://a.example/1",
                            "https://b.example/2 https://a.example/1",
                        ],
                    ),
                    pick(&mut rng, &["", "#one", "#one #two", "#"]),
                    pick(&mut rng, &["", H1, H2, "zz"]),
                    pick(&mut rng, &["", "p1", "p2"]),
                    pick(&mut rng, &["", "q1", "q2"]),
                )
            };
            // Bad rows, idle ones among them.
            let (account, time) = match rng.random_range(0..60) {
                0 => (String::new(), time.to_string()),
                1 => (account, "soon".to_owned()),
                _ => (account, time.to_string()),
            };
            writeln!(
                csv,
                "{platform},{account},{i},{time},{text},{urls},{hashtags},{media},{repost},{reply}"
            )
            .unwrap();
            writeln!(
                cnt,
                "{i},{account},{account},{repost},{reply},{text},{time},{urls}"
            )
            .unwrap();
        }
        let dir = Dir::new();
        for (path, format) in [
            (dir.write("posts.csv", csv.as_bytes()), None),
            (
                dir.write("posts.cnt.csv", cnt.as_bytes()),
                Some(Format::Cnt),
            ),
        ] {
            let file = (path.as_path(), format);
            let rows = ReadOptions::default();
            let keys = ReadOptions {
                idle_as_keys: true,
                ..ReadOptions::default()
            };
            // Reposts idle too, for every behaviour but co-repost.
            let no_repost: Vec<Behaviour> = Behaviour::ALL
                .into_iter()
                .filter(|&b| b != Behaviour::CoRepost)
                .collect();
            let keys_reposts = ReadOptions {
                idle_reposts: true,
                ..keys.clone()
            };
            for (behaviours, options) in [
                (&Behaviour::ALL[..], &keys),
                (&no_repost[..], &keys),
                (&no_repost[..], &keys_reposts),
            ] {
                let (want, posts, bad, none) = detect_from(file, behaviours, &rows, 1, 1 << 20);
                assert_eq!(none, 0, "no idle post unless asked for");
                assert!(!want.edges.is_empty() && !bad.is_empty(), "seed {seed}");
                assert_eq!(posts + bad.len(), 1_500);
                for (threads, chunk_bytes) in [(1, 1 << 20), (2, 777), (3, 4096)] {
                    let (got, got_posts, got_bad, idle) =
                        detect_from(file, behaviours, options, threads, chunk_bytes);
                    assert!(idle > 100, "seed {seed}: {idle} idle posts");
                    assert_eq!(
                        (&got, got_posts, &got_bad),
                        (&want, posts, &bad),
                        "seed {seed}, {}, {threads} threads, {options:?}",
                        path.display()
                    );
                }
            }
            // Reading posts one by one gives every post, idle or not.
            let read_all = |options: &ReadOptions| {
                let mut r = Reader::open(&path, format, options).unwrap();
                let (mut all, mut bad_rows) = (Vec::new(), Vec::new());
                while r.read_batch(100, &mut all, &mut bad_rows).unwrap() {}
                (all, bad_rows)
            };
            assert_eq!(read_all(&keys_reposts), read_all(&rows));
        }
    }
}

#[test]
fn a_record_or_line_past_8_mib_is_a_bad_row_and_reading_goes_on() {
    let dir = Dir::new();
    let options = ReadOptions::default();
    let long = "x".repeat(9 << 20);
    let expect = |name: &str, posts: &[Post], bad: &[BadRow], line: u64, more: &[&str]| {
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let mut want = vec!["1"];
        want.extend(more);
        assert_eq!(ids, want, "{name}");
        assert_eq!(bad.len(), 1, "{name}: {bad:?}");
        assert_eq!(bad[0].line, line, "{name}");
        assert!(
            bad[0].reason.contains("longer than 8 MiB"),
            "{name}: {}",
            bad[0].reason
        );
    };
    // A quoted field of 9 MiB, closed: the record is bad, the rows after it are read.
    let closed =
        format!("account_id,post_id,timestamp,text\na,1,1,short\nb,2,2,\"{long}\"\nc,3,3,after\n");
    // A quote left open: the rest of the file is that one record, dropped as it is read.
    let open =
        format!("account_id,post_id,timestamp,text\na,1,1,short\nb,2,2,\"{long}\nc,3,3,after\n");
    // A JSON line of 9 MiB, and a file whose last line is that long with no line end.
    let json = format!(
        "{{\"account_id\":\"a\",\"post_id\":\"1\",\"timestamp\":1}}\n{{\"text\":\"{long}\"}}\n{{\"account_id\":\"c\",\"post_id\":\"3\",\"timestamp\":3}}\n"
    );
    let json_unended =
        format!("{{\"account_id\":\"a\",\"post_id\":\"1\",\"timestamp\":1}}\n{{\"text\":\"{long}");
    // A plain field of 9 MiB, no line end after it.
    let unended = format!("account_id,post_id,timestamp,text\na,1,1,short\nb,2,2,{long}");
    for (name, content, line, more) in [
        ("closed.csv", &closed, 3, &["3"][..]),
        ("unended.csv", &unended, 3, &[][..]),
        ("open.csv", &open, 3, &[][..]),
        ("long.jsonl", &json, 2, &["3"][..]),
        ("unended.jsonl", &json_unended, 2, &[][..]),
    ] {
        let path = dir.write(name, content.as_bytes());
        let mut r = Reader::open(&path, None, &options).unwrap();
        let (mut posts, mut bad) = (Vec::new(), Vec::new());
        while r.read_batch(2, &mut posts, &mut bad).unwrap() {}
        expect(name, &posts, &bad, line, more);
        for (threads, chunk_bytes) in [(1, 1 << 10), (2, 1 << 18), (2, 16 << 20)] {
            let (posts, bad) = read_in_parallel(&[&path], None, &options, threads, chunk_bytes);
            expect(name, &posts, &bad, line, more);
        }
    }
    // A header row past the limit is an error naming the file.
    let path = dir.write("header.csv", format!("\"{long}\"\na,1,1\n").as_bytes());
    let e = Reader::open(&path, None, &options).unwrap_err().to_string();
    assert!(
        e.contains("header.csv") && e.contains("header row is longer"),
        "{e}"
    );
}

#[test]
fn a_record_or_line_just_at_8_mib_is_kept_and_one_byte_more_is_not() {
    const MAX: usize = 8 << 20;
    let dir = Dir::new();
    let options = ReadOptions::default();
    for extra in [0, 1] {
        // The fields of the record (b, 2, 2 and the text) hold MAX bytes, or one more.
        let text = "y".repeat(MAX - 3 + extra);
        let plain = format!("account_id,post_id,timestamp,text\nb,2,2,{text}\nc,3,3,after\n");
        let quoted = format!("account_id,post_id,timestamp,text\nb,2,2,\"{text}\"\nc,3,3,after\n");
        // The line, its line end not counted, is MAX bytes long, or one more.
        let head = "{\"account_id\":\"b\",\"post_id\":\"2\",\"timestamp\":2,\"text\":\"";
        let json_text = "y".repeat(MAX - head.len() - 2 + extra);
        let line = format!("{head}{json_text}\"}}");
        assert_eq!(line.len(), MAX + extra);
        let json = format!("{line}\n{{\"account_id\":\"c\",\"post_id\":\"3\",\"timestamp\":3}}\n");
        let json_last =
            format!("{{\"account_id\":\"c\",\"post_id\":\"3\",\"timestamp\":3}}\n{line}");
        for (name, content) in [
            ("plain.csv", &plain),
            ("quoted.csv", &quoted),
            ("line.jsonl", &json),
            ("last.jsonl", &json_last),
        ] {
            let path = dir.write(name, content.as_bytes());
            let mut r = Reader::open(&path, None, &options).unwrap();
            let (mut posts, mut bad) = (Vec::new(), Vec::new());
            while r.read_batch(2, &mut posts, &mut bad).unwrap() {}
            let mut ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
            ids.sort_unstable();
            let (want, bad_rows) = if extra == 0 {
                (vec!["2", "3"], 0)
            } else {
                (vec!["3"], 1)
            };
            assert_eq!(ids, want, "{name}, {extra} over");
            assert_eq!(bad.len(), bad_rows, "{name}, {extra} over: {bad:?}");
            for (threads, chunk_bytes) in [(2, 1 << 12), (2, 16 << 20)] {
                let got = read_in_parallel(&[&path], None, &options, threads, chunk_bytes);
                assert_eq!(
                    got,
                    (posts.clone(), bad.clone()),
                    "{name}, {extra} over, {chunk_bytes} B"
                );
            }
        }
    }
}

#[test]
fn prepare_and_take_may_split_their_own_work_on_the_pool() {
    // `take` and `prepare` that run pool jobs, on pools smaller than, as large as and
    // larger than the readers asked for: the same posts and bad rows, in order.
    use rayon::prelude::*;
    let mut content = String::from("account_id,post_id,timestamp,text\n");
    for i in 0..4_000 {
        writeln!(content, "a{},{i},{i},text {i}", i % 97).unwrap();
    }
    let dir = Dir::new();
    let path = dir.write("posts.csv", content.as_bytes());
    let options = ReadOptions::default();
    let want = read_in_parallel(&[&path], None, &options, 1, 1 << 20);
    assert_eq!(want.0.len(), 4_000);
    for round in 0..20 {
        for (pool, threads) in [(1, 2), (2, 3), (2, 2), (3, 3), (1, 3)] {
            let readers = vec![Reader::open(&path, None, &options).unwrap()];
            let (mut posts, mut bad) = (Vec::new(), Vec::new());
            accord_coord::on_threads(pool, || {
                read_parallel(
                    readers,
                    &Parallel {
                        threads,
                        chunk_bytes: 512,
                    },
                    &|batch: Batch| {
                        let posts = batch.to_posts();
                        let total: usize = posts.par_iter().map(|p| p.id.len()).sum();
                        assert!(total > 0);
                        (posts, batch)
                    },
                    &mut |(p, batch), b, _| {
                        let total: usize = p.par_iter().map(|p| p.account.len()).sum();
                        assert!(total > 0);
                        posts.extend(p);
                        bad.extend(b);
                        Some(batch)
                    },
                )
            })
            .unwrap();
            assert_eq!(
                (&posts, &bad),
                (&want.0, &want.1),
                "round {round}, pool {pool}, {threads} threads"
            );
        }
    }
}
