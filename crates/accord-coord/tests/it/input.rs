//! Reading posts from every format, and what happens to bad rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord_coord::input::{BadRow, Fields, Format, InputError, ReadOptions, Reader, timestamp};
use accord_coord::model::Post;

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn read_all(
    path: &Path,
    format: Option<Format>,
    options: &ReadOptions,
) -> (Vec<Post>, Vec<BadRow>) {
    let mut reader = Reader::open(path, format, options).unwrap();
    let (mut posts, mut bad) = (Vec::new(), Vec::new());
    // Small batches, so that batch boundaries are crossed.
    while reader.read_batch(2, &mut posts, &mut bad).unwrap() {}
    assert_eq!(
        reader.position(),
        reader.len(),
        "the whole file is consumed"
    );
    (posts, bad)
}

fn bad_lines(bad: &[BadRow]) -> Vec<(u64, String)> {
    bad.iter().map(|b| (b.line, b.reason.clone())).collect()
}

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

fn pdq_bytes() -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&PDQ[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn check_timestamp(input: &str, expected: Result<i64, ()>) {
    assert_eq!(
        timestamp(input).map_err(|_| ()),
        expected,
        "timestamp {input:?}"
    );
}

#[test]
fn timestamps_are_epoch_seconds_or_rfc_3339() {
    check_timestamp("0", Ok(0));
    check_timestamp("1762000000", Ok(1_762_000_000_000));
    check_timestamp("1762000000.25", Ok(1_762_000_000_250));
    check_timestamp(" 1.5e3 ", Ok(1_500_000));
    check_timestamp("-1", Ok(-1000));
    check_timestamp("1970-01-01T00:00:00Z", Ok(0));
    check_timestamp("2026-11-03T14:05:09Z", Ok(1_793_714_709_000));
    check_timestamp("2026-11-03 14:05:09.123456z", Ok(1_793_714_709_123));
    check_timestamp("2026-11-03T16:05:09+02:00", Ok(1_793_714_709_000));
    check_timestamp("2026-11-03T09:05:09.5-05:00", Ok(1_793_714_709_500));
    check_timestamp("2024-02-29T00:00:00Z", Ok(1_709_164_800_000));
    check_timestamp("2023-02-29T00:00:00Z", Err(()));
    check_timestamp("2026-11-03T14:05:09", Err(()));
    check_timestamp("2026-11-03", Err(()));
    check_timestamp("yesterday", Err(()));
    check_timestamp("NaN", Err(()));
    check_timestamp("inf", Err(()));
    check_timestamp("1e400", Err(()));
    check_timestamp("", Err(()));
    let e = timestamp("yesterday").unwrap_err();
    assert!(
        e.contains("'yesterday'") || e.contains("\"yesterday\""),
        "{e}"
    );
    assert!(e.contains("RFC 3339"), "{e}");
}

#[test]
fn csv_reads_every_column_by_name_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "extra,timestamp,post_id,account_id,platform,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
         x,1762000000,p1,a1,fb,\"Vote, early\nat noon\",https://a.example/x  https://b.example/y,\"#one,#two three\",{PDQ},,r9\n\
         x,2026-11-03T14:05:09Z,p2,a2,,,,,,p1,\n"
    );
    let path = write(dir.path(), "posts.csv", csv.as_bytes());
    let options = ReadOptions {
        platform: "default".into(),
        fields: Fields::all(),
        threads: 1,
    };
    let reader = Reader::open(&path, None, &options).unwrap();
    assert_eq!(reader.format(), Format::Csv);
    let (posts, bad) = read_all(&path, None, &options);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(
        posts,
        [
            Post {
                platform: "fb".into(),
                account: "a1".into(),
                id: "p1".into(),
                time_ms: 1_762_000_000_000,
                text: Some("Vote, early\nat noon".into()),
                urls: vec!["https://a.example/x".into(), "https://b.example/y".into()],
                hashtags: vec!["#one".into(), "#two".into(), "three".into()],
                media: vec![pdq_bytes()],
                repost_of: None,
                reply_to: Some("r9".into()),
            },
            Post {
                platform: "default".into(),
                account: "a2".into(),
                id: "p2".into(),
                time_ms: 1_793_714_709_000,
                repost_of: Some("p1".into()),
                ..Post::default()
            },
        ]
    );
}

#[test]
fn fields_not_asked_for_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "posts.csv",
        format!("account_id,post_id,timestamp,text,urls,media_pdq\na,1,5,hello,https://x.example,{PDQ}\nb,2,6,hi,,not-a-hash\n").as_bytes(),
    );
    let options = ReadOptions {
        platform: "x".into(),
        threads: 1,
        fields: Fields {
            text: false,
            urls: true,
            hashtags: false,
            media: false,
            repost: true,
            reply: false,
        },
    };
    let (posts, bad) = read_all(&path, None, &options);
    assert!(bad.is_empty(), "an unread bad hash is no bad row: {bad:?}");
    assert_eq!(posts[0].text, None);
    assert!(posts[0].media.is_empty());
    assert_eq!(posts[0].urls, ["https://x.example"]);
}

#[test]
fn bad_rows_are_reported_with_their_line_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "account_id,post_id,timestamp,text,media_pdq\n\
         a,1,10,\"a text over\nthree\nlines\",\n\
         ,2,11,no account,\n\
         c,3,yesterday,bad time,\n\
         d,4,12,bad hash,abc\n\
         e,5,13,fine,{PDQ}\n\
         f,\"6\",   ,blank time,\n\
         g,7,14,INVALID,\n\
         h,8,15,last,\n"
    );
    let (before, after) = csv.split_once("INVALID").unwrap();
    let bytes = [before.as_bytes(), &[0xff, 0xfe], after.as_bytes()].concat();
    let path = write(dir.path(), "posts.csv", &bytes);
    let (posts, bad) = read_all(&path, None, &ReadOptions::default());
    assert_eq!(
        posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1", "5", "8"]
    );
    let got = bad_lines(&bad);
    assert_eq!(
        got.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [5, 6, 7, 9, 10],
        "{got:?}"
    );
    assert!(got[0].1.contains("account_id is missing"), "{got:?}");
    assert!(got[1].1.contains("yesterday"), "{got:?}");
    assert!(got[2].1.contains("64 hex digits"), "{got:?}");
    assert!(got[3].1.contains("timestamp is missing"), "{got:?}");
    assert!(got[4].1.contains("UTF-8"), "{got:?}");
    assert!(bad.iter().all(|b| b.file == path.display().to_string()));
}

#[test]
fn a_missing_required_column_fails_the_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "posts.csv", b"account,post_id,time\na,1,2\n");
    let err = Reader::open(&path, None, &ReadOptions::default())
        .err()
        .unwrap();
    match &err {
        InputError::MissingColumns { missing, found, .. } => {
            assert_eq!(missing, &["account_id", "timestamp"]);
            assert_eq!(found, &["account", "post_id", "time"]);
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("account_id, timestamp"), "{text}");
    let err = Reader::open(&dir.path().join("nope.csv"), None, &ReadOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, InputError::Io { .. }), "{err:?}");
    let other = write(dir.path(), "posts.txt", b"x");
    let err = Reader::open(&other, None, &ReadOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot tell the format"), "{err}");
}

const CNT_HEADER: &str = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n";

#[test]
fn toolkit_csv_is_read_by_position_and_an_empty_urls_cell_is_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{CNT_HEADER}\
         m1,u1,alice,,,\"hello, \"\"world\"\"\nsecond line\",1762000000.5,https://a.example/x https://b.example/y\n\
         m2,u2,bob,m1,,,1762000001,\n\
         m3,u3,carol,,m1,a reply,1762000002,\n\
         m4,u4,dave,,,too few fields,1762000003\n\
         m5,u5,erin,,,bad time,soon,\n"
    );
    let path = write(dir.path(), "posts.csv", csv.as_bytes());
    let options = ReadOptions {
        platform: "twitter".into(),
        fields: Fields::all(),
        threads: 1,
    };
    let reader = Reader::open(&path, None, &options).unwrap();
    assert_eq!(reader.format(), Format::Cnt, "recognised by its header");
    let (posts, bad) = read_all(&path, None, &options);
    assert_eq!(
        posts,
        [
            Post {
                platform: "twitter".into(),
                account: "u1".into(),
                id: "m1".into(),
                time_ms: 1_762_000_000_500,
                text: Some("hello, \"world\"\nsecond line".into()),
                urls: vec!["https://a.example/x".into(), "https://b.example/y".into()],
                ..Post::default()
            },
            Post {
                platform: "twitter".into(),
                account: "u2".into(),
                id: "m2".into(),
                time_ms: 1_762_000_001_000,
                repost_of: Some("m1".into()),
                ..Post::default()
            },
            Post {
                platform: "twitter".into(),
                account: "u3".into(),
                id: "m3".into(),
                time_ms: 1_762_000_002_000,
                text: Some("a reply".into()),
                reply_to: Some("m1".into()),
                ..Post::default()
            },
        ]
    );
    let got = bad_lines(&bad);
    assert_eq!(got.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [6, 7]);
    assert!(got[0].1.contains("7 fields"), "{got:?}");
    // Forced, whatever the header says.
    let other = write(
        dir.path(),
        "renamed.csv",
        b"a,b,c,d,e,f,g,h\nm9,u9,x,,,t,5,\n",
    );
    let (posts, _) = read_all(&other, Some(Format::Cnt), &options);
    assert_eq!(posts[0].id, "m9");
}

#[test]
fn json_lines_take_lists_as_arrays_or_strings_and_numbers_as_ids() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r##"{{"platform":"tg","account_id":42,"post_id":"p1","timestamp":1762000000,"text":"hi","urls":["https://a.example","https://b.example"],"hashtags":"#a #b","media_pdq":["{PDQ}"],"repost_of":null,"reply_to":""}}

{{"account_id":"a","post_id":"p2","timestamp":"2026-11-03T14:05:09Z","urls":"https://c.example https://d.example"}}
not json
[1,2]
{{"account_id":"a","post_id":"p3"}}
{{"account_id":"a","post_id":"p4","timestamp":true}}
{{"account_id":"a","post_id":"p5","timestamp":5,"urls":[1]}}
{{"account_id":"a","post_id":"p6","timestamp":6}}"##
    );
    let path = write(dir.path(), "posts.jsonl", text.as_bytes());
    let options = ReadOptions {
        platform: "web".into(),
        fields: Fields::all(),
        threads: 1,
    };
    let (posts, bad) = read_all(&path, None, &options);
    assert_eq!(
        posts[0],
        Post {
            platform: "tg".into(),
            account: "42".into(),
            id: "p1".into(),
            time_ms: 1_762_000_000_000,
            text: Some("hi".into()),
            urls: vec!["https://a.example".into(), "https://b.example".into()],
            hashtags: vec!["#a".into(), "#b".into()],
            media: vec![pdq_bytes()],
            repost_of: None,
            reply_to: None,
        }
    );
    assert_eq!(posts[1].platform, "web");
    assert_eq!(posts[1].urls, ["https://c.example", "https://d.example"]);
    assert_eq!(posts[2].id, "p6");
    let got = bad_lines(&bad);
    assert_eq!(
        got.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [4, 5, 6, 7, 8],
        "{got:?}"
    );
    assert!(got[0].1.contains("not valid JSON"));
    assert!(got[1].1.contains("not a JSON object"));
    assert!(got[2].1.contains("timestamp is missing"));
    assert!(got[3].1.contains("a boolean"));
    assert!(got[4].1.contains("urls holds a number"));
}

/// Writes a Parquet file: platform (optional string), account_id (string), post_id
/// (int64), timestamp (TIMESTAMP millis), text (optional string), urls (list of strings),
/// repost_of (optional string).
fn write_parquet(path: &Path) {
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message posts {
            OPTIONAL BYTE_ARRAY platform (UTF8);
            REQUIRED BYTE_ARRAY account_id (UTF8);
            REQUIRED INT64 post_id;
            OPTIONAL INT64 timestamp (TIMESTAMP(MILLIS,true));
            OPTIONAL BYTE_ARRAY text (UTF8);
            OPTIONAL GROUP urls (LIST) {
                REPEATED GROUP list {
                    OPTIONAL BYTE_ARRAY element (UTF8);
                }
            }
            OPTIONAL BYTE_ARRAY repost_of (UTF8);
        }",
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), props).unwrap();
    let mut rg = writer.next_row_group().unwrap();
    let s = |v: &str| ByteArray::from(v);
    let mut column = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        match column {
            // Three rows: (fb, a1, 1, t, "hello", [u1, u2], -), (-, a2, 2, t, -, [], 1),
            // (x, a3, 3, null time, -, null, -).
            0 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&[s("fb"), s("x")], Some(&[1, 0, 1]), None)
                    .unwrap();
            }
            1 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&[s("a1"), s("a2"), s("a3")], None, None)
                    .unwrap();
            }
            2 => {
                col.typed::<Int64Type>()
                    .write_batch(&[1, 2, 3], None, None)
                    .unwrap();
            }
            3 => {
                col.typed::<Int64Type>()
                    .write_batch(
                        &[1_762_000_000_123, 1_762_000_001_000],
                        Some(&[1, 1, 0]),
                        None,
                    )
                    .unwrap();
            }
            4 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&[s("hello")], Some(&[1, 0, 0]), None)
                    .unwrap();
            }
            5 => {
                col.typed::<ByteArrayType>()
                    .write_batch(
                        &[s("https://u.example/1"), s("https://u.example/2")],
                        Some(&[3, 3, 1, 0]),
                        Some(&[0, 1, 0, 0]),
                    )
                    .unwrap();
            }
            6 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&[s("1")], Some(&[0, 1, 0]), None)
                    .unwrap();
            }
            _ => unreachable!(),
        }
        col.close().unwrap();
        column += 1;
    }
    rg.close().unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_reads_strings_numbers_lists_timestamps_and_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("posts.parquet");
    write_parquet(&path);
    let options = ReadOptions {
        platform: "default".into(),
        fields: Fields::all(),
        threads: 1,
    };
    let reader = Reader::open(&path, None, &options).unwrap();
    assert_eq!(reader.format(), Format::Parquet);
    let (posts, bad) = read_all(&path, None, &options);
    assert_eq!(
        posts,
        [
            Post {
                platform: "fb".into(),
                account: "a1".into(),
                id: "1".into(),
                time_ms: 1_762_000_000_123,
                text: Some("hello".into()),
                urls: vec!["https://u.example/1".into(), "https://u.example/2".into()],
                ..Post::default()
            },
            Post {
                platform: "default".into(),
                account: "a2".into(),
                id: "2".into(),
                time_ms: 1_762_000_001_000,
                repost_of: Some("1".into()),
                ..Post::default()
            },
        ]
    );
    assert_eq!(bad_lines(&bad), [(3, "timestamp is missing".to_owned())]);
}

#[test]
fn a_file_that_is_not_parquet_is_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "posts.parquet",
        b"account_id,post_id,timestamp\n",
    );
    let err = Reader::open(&path, None, &ReadOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("not readable as Parquet"), "{err}");
}

#[test]
fn damaged_input_never_panics() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let good = format!(
        "platform,account_id,post_id,timestamp,text,urls,hashtags,media_pdq,repost_of,reply_to\n\
         x,a,1,5,\"hi \"\"there\"\"\",https://a.example,#t,{PDQ},,\n"
    );
    let mut rng = StdRng::seed_from_u64(7);
    for round in 0..300 {
        let mut bytes = good.clone().into_bytes();
        for _ in 0..rng.random_range(1..6) {
            let i = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[i] = rng.random(),
                1 => bytes.truncate(i),
                _ => bytes.insert(i, [b'"', b',', b'\n', 0xff][rng.random_range(0..4)]),
            }
            if bytes.is_empty() {
                break;
            }
        }
        for (name, format) in [
            ("f.csv", Some(Format::Csv)),
            ("f.csv", Some(Format::Cnt)),
            ("f.jsonl", Some(Format::Jsonl)),
            ("f.parquet", Some(Format::Parquet)),
        ] {
            let path = write(dir.path(), name, &bytes);
            if let Ok(mut reader) = Reader::open(&path, format, &ReadOptions::default()) {
                let (mut posts, mut bad) = (Vec::new(), Vec::new());
                let mut guard = 0;
                while let Ok(true) = reader.read_batch(16, &mut posts, &mut bad) {
                    guard += 1;
                    assert!(guard < 10_000, "round {round}: reading never ends");
                }
            }
        }
    }
}

#[test]
fn many_threads_read_exactly_what_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("account_id,post_id,timestamp,text,urls\n");
    for i in 0..20_000 {
        match i % 997 {
            0 => text += &format!(",{i},5,no account,\n"),
            1 => text += &format!("a{i},{i},later,bad time,\n"),
            _ => {
                text += &format!(
                    "a{},{i},{},\"text {i}\nsecond line\",https://x.example/{i}\n",
                    i % 300,
                    1_700_000_000 + i
                )
            }
        }
    }
    let path = write(dir.path(), "posts.csv", text.as_bytes());
    let read = |threads: usize| {
        let options = ReadOptions {
            threads,
            ..ReadOptions::default()
        };
        let mut reader = Reader::open(&path, None, &options).unwrap();
        let (mut posts, mut bad) = (Vec::new(), Vec::new());
        while reader.read_batch(8192, &mut posts, &mut bad).unwrap() {}
        (posts, bad)
    };
    let (one, one_bad) = read(1);
    let (many, many_bad) = read(3);
    assert_eq!(one.len(), 20_000 - 2 * 21);
    assert_eq!(one, many);
    assert_eq!(one_bad, many_bad);
    assert!(one_bad.windows(2).all(|w| w[0].line < w[1].line));
    assert_eq!(one_bad[0].line, 2);
}
