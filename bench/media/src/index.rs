//! Part (b): the hash index, Accord's `accord_media::index::Index` against a linear scan
//! and against FAISS's binary multi-hash index, at Hamming distance 31.
//!
//! The bank is `--hashes` seeded random 256-bit hashes. Among them, for each of
//! `--queries` random query hashes, six are planted near neighbours: at distance 0, at a
//! distance drawn from 1..=15, at one from 16..=30, at 31 (all four must be found), at 32
//! and at one from 33..=40 (neither may be found). Two random hashes are about 128 bits
//! apart (standard deviation 8), so nothing else is within 31 of a query: the planted
//! neighbours within 31 are the exact answer, and every side is checked against it.
//!
//! The bank and the queries go to raw files of 32-byte records for FAISS. Accord builds
//! with `Index::insert_many` from hashes made on the fly (the bank is never held in
//! memory); its memory is taken from `/proc/self/status` around the build and from
//! `Index::memory_bytes`.

use crate::common::memory;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use accord_media::index::{Hash, Index, Match, Method};
use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::common::fmt_rate;
use crate::rng::Rng;
use crate::{Cli, Python, timed};

/// The radius of a PDQ match.
const RADIUS: u32 = 31;
/// Planted neighbours per query.
const PLANTED: usize = 6;

fn mib(bytes: f64) -> String {
    format!("{:.0} MiB", bytes / (1024.0 * 1024.0))
}

/// The workload: the queries, the planted neighbours and, per query, the exact answer at
/// radius 31 as `(distance, position)`, sorted like `Index::query` sorts its answer. The
/// bank itself is never held: [`Workload::bank`] makes it again from the seed each time,
/// so that the process's memory after the build is the index's.
struct Workload {
    n: usize,
    seed: u64,
    queries: Vec<Hash>,
    /// `(position, hash)` in increasing position.
    planted: Vec<(usize, Hash)>,
    expected: Vec<Vec<(u32, u32)>>,
}

impl Workload {
    fn new(n: usize, q: usize, seed: u64) -> Result<Self> {
        let planted = q * PLANTED;
        if q == 0 || planted > n {
            bail!("--queries must be at least 1 and at most --hashes / {PLANTED}");
        }
        if u32::try_from(n).is_err() {
            bail!("--hashes must fit in 32 bits");
        }
        let mut rng = Rng::new(seed ^ 0x005E_ED0F_0E1E);
        let queries: Vec<Hash> = (0..q).map(|_| rng.hash()).collect();
        // One planted neighbour in each stretch of `stride` positions, at a random place.
        let stride = n / planted;
        let mut expected = vec![Vec::new(); q];
        let mut placed = Vec::with_capacity(planted);
        for j in 0..planted {
            let slot = j * stride + rng.below(stride as u64) as usize;
            let (query, kind) = (j / PLANTED, j % PLANTED);
            let d = match kind {
                0 => 0,
                1 => rng.between(1, 15),
                2 => rng.between(16, 30),
                3 => RADIUS,
                4 => RADIUS + 1,
                _ => rng.between(RADIUS + 2, 40),
            };
            placed.push((slot, rng.flip(&queries[query], d)));
            if d <= RADIUS {
                expected[query].push((d, slot as u32));
            }
        }
        for e in &mut expected {
            e.sort_unstable();
        }
        Ok(Workload {
            n,
            seed,
            queries,
            planted: placed,
            expected,
        })
    }

    /// The bank, in order: random hashes, with the planted ones in their places.
    fn bank(&self) -> impl ExactSizeIterator<Item = Hash> + '_ {
        let mut rng = Rng::new(self.seed);
        let mut planted = self.planted.iter().peekable();
        (0..self.n).map(move |i| {
            let h = rng.hash();
            match planted.next_if(|(p, _)| *p == i) {
                Some((_, p)) => *p,
                None => h,
            }
        })
    }
}

fn write_records(path: &Path, hashes: impl Iterator<Item = Hash>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for h in hashes {
        out.write_all(&h)?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// The first queries whose answer differs from the expected one, described.
fn mismatches(answers: &[Vec<Match>], expected: &[Vec<(u32, u32)>]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (got, want)) in answers.iter().zip(expected).enumerate() {
        let got: Vec<(u32, u32)> = got.iter().map(|m| (m.distance, m.id.get())).collect();
        if &got != want {
            out.push(format!(
                "query {i}: expected (distance, position) {want:?}, got {got:?}"
            ));
        }
    }
    out
}

fn check(what: &str, answers: &[Vec<Match>], expected: &[Vec<(u32, u32)>]) -> Result<()> {
    let wrong = mismatches(answers, expected);
    if wrong.is_empty() {
        return Ok(());
    }
    for w in wrong.iter().take(10) {
        println!("  {w}");
    }
    bail!(
        "{what}: {} of {} queries did not find exactly their planted neighbours within {RADIUS}",
        wrong.len(),
        answers.len()
    )
}

/// One row of the query table.
struct Row {
    name: String,
    queries: usize,
    one: Option<f64>,
    two: Option<f64>,
    recall: String,
}

pub fn run(cli: &Cli, python: &Python, faiss: bool, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let (n, q) = (cli.hashes, cli.queries);
    let min = Duration::from_secs_f64(cli.seconds);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);

    eprintln!("index: making {n} hashes and {q} queries");
    let work = Workload::new(n, q, cli.seed)?;
    let bank_path = dir.join("bank.bin");
    let queries_path = dir.join("queries.bin");
    write_records(&bank_path, work.bank())?;
    write_records(&queries_path, work.queries.iter().copied())?;
    // What making the hashes costs inside the build's clock.
    let clock = Instant::now();
    for h in work.bank() {
        std::hint::black_box(h);
    }
    let making = clock.elapsed();
    let want: usize = work.expected.iter().map(Vec::len).sum();

    println!(
        "(b) hash index: {n} random 256-bit hashes (seed {}), {q} queries at distance <= {RADIUS}",
        cli.seed
    );
    println!(
        "           planted per query: neighbours at 0, 1..15, 16..30 and 31 (must be found, \
         {want} in all) and at 32 and 33..40 (must not be)"
    );

    eprintln!("index: accord builds");
    let before = memory();
    let clock = Instant::now();
    let mut index: Index<()> = Index::new();
    index
        .insert_many(work.bank().map(|h| (h, ())))
        .context("building the index")?;
    let build = clock.elapsed().saturating_sub(making);
    let after = memory();
    let Workload {
        queries, expected, ..
    } = work;
    let bytes = index.memory_bytes() as f64;
    let rss = after.rss.saturating_sub(before.rss) as f64;
    let accord_build = Build {
        name: format!("accord Index (insert_many, {threads} threads)"),
        seconds: build.as_secs_f64(),
        memory: bytes,
    };

    // Queries, one thread.
    eprintln!("index: accord queries, 1 thread");
    let mut answers = Vec::new();
    let (passes, elapsed) = timed(min, || {
        answers = queries.iter().map(|h| index.query(h, RADIUS)).collect();
        Ok(())
    })?;
    check("accord, 1 thread", &answers, &expected)?;
    let accord_one = (passes * q) as f64 / elapsed.as_secs_f64();

    eprintln!("index: accord queries, {threads} threads");
    let mut many = Vec::new();
    let (passes, elapsed) = timed(min, || {
        many = index.query_many(&queries, RADIUS);
        Ok(())
    })?;
    check("accord, query_many", &many, &expected)?;
    let accord_two = (passes * q) as f64 / elapsed.as_secs_f64();

    // Linear scan over the first queries, one thread, one pass.
    let s = cli.scan_queries.min(q);
    let mut scan_rate = None;
    if s > 0 {
        eprintln!("index: accord linear scan, {s} queries");
        let clock = Instant::now();
        let scanned: Vec<Vec<Match>> = queries[..s]
            .iter()
            .map(|h| index.query_using(h, RADIUS, Method::Scan))
            .collect();
        scan_rate = Some(s as f64 / clock.elapsed().as_secs_f64());
        check("accord linear scan", &scanned, &expected[..s])?;
    }
    drop(index);

    let mut rows = vec![
        Row {
            name: "accord Index (multi-index hashing, exact)".into(),
            queries: q,
            one: Some(accord_one),
            two: Some(accord_two),
            recall: "100% (checked)".into(),
        },
        Row {
            name: "accord linear scan (Method::Scan)".into(),
            queries: s,
            one: scan_rate,
            two: None,
            recall: "100% (checked)".into(),
        },
    ];
    let mut builds = vec![accord_build];
    let mut notes = Vec::new();
    if faiss {
        eprintln!("index: faiss");
        let out = python.run(&[
            "index",
            &bank_path.display().to_string(),
            &queries_path.display().to_string(),
            "--radius",
            &RADIUS.to_string(),
            "--scan-queries",
            &s.to_string(),
            "--exact-queries",
            &cli.exact_queries.min(q).to_string(),
            "--threads",
            &threads.to_string(),
            "--seconds",
            &cli.seconds.to_string(),
            "--out",
            &dir.display().to_string(),
        ])?;
        for config in out["configs"]
            .as_array()
            .context("run.py index: no configs")?
        {
            faiss_config(config, &expected, &mut rows, &mut builds)?;
        }
    } else {
        notes.push("faiss-cpu is not installed here: no FAISS rows".to_owned());
    }

    println!();
    println!(
        "{:<50} {:>10} {:>12} {:>11} {:>10}",
        "build and memory", "seconds", "hashes/s", "memory", "bytes/hash"
    );
    for b in &builds {
        println!(
            "{:<50} {:>10.2} {:>12} {:>11} {:>10.1}",
            b.name,
            b.seconds,
            fmt_rate(n as f64 / b.seconds.max(1e-9)),
            mib(b.memory),
            b.memory / n as f64
        );
    }
    for b in builds.iter().skip(1) {
        println!(
            "  {}: accord builds {:.1}x as fast and takes {:.2}x its memory",
            b.name,
            b.seconds / accord_build_seconds(&builds),
            bytes / b.memory.max(1.0)
        );
    }
    println!(
        "  accord's memory is Index::memory_bytes (the hashes, the substring tables, and a 1-byte \
         slot per hash for the payload `()`: ids are positions); over the build the process's \
         RSS grew by {} ({:.1} bytes per hash) and its peak by {}; the hashes are made on the \
         fly from the seed, never held, and making them ({:.2} s) is left out of the build time",
        mib(rss),
        rss / n as f64,
        mib(after.peak.saturating_sub(before.rss) as f64),
        making.as_secs_f64(),
    );
    println!(
        "  faiss's memory is the growth of the Python process's RSS during add(); FAISS's add() \
         runs on one thread"
    );
    let gib = (1u64 << 30) as f64;
    println!(
        "  target < 1 GiB for 10 million hashes: {} ({:.2} GiB by memory_bytes, {:.2} GiB by RSS{})",
        if bytes.max(rss) < gib {
            "met"
        } else {
            "MISSED"
        },
        bytes / gib,
        rss / gib,
        if n == 10_000_000 {
            String::new()
        } else {
            format!(", at {n} hashes")
        }
    );

    println!();
    println!(
        "{:<50} {:>8} {:>13} {:>13} {:>9} {:>9}  recall",
        "queries at distance <= 31",
        "queries",
        "q/s 1 thread",
        format!("q/s {threads} threads"),
        "accord/1",
        format!("accord/{threads}"),
    );
    for r in &rows {
        let f = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), fmt_rate);
        let ratio = |a: f64, v: Option<f64>| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}x", a / v.max(1e-9)))
        };
        println!(
            "{:<50} {:>8} {:>13} {:>13} {:>9} {:>9}  {}",
            r.name,
            r.queries,
            f(r.one),
            f(r.two),
            ratio(accord_one, r.one),
            ratio(accord_two, r.two),
            r.recall
        );
    }
    println!(
        "  accord/1, accord/{threads}: accord Index's rate divided by that row's, both on 1 or \
         both on {threads} threads"
    );
    if let (Some(ours), Some(flat)) = (
        scan_rate,
        rows.iter()
            .find(|r| r.name.contains("BinaryFlat"))
            .and_then(|r| r.one),
    ) {
        println!(
            "  linear scans, 1 thread: accord {} q/s, faiss BinaryFlat {} q/s: {:.2}x",
            fmt_rate(ours),
            fmt_rate(flat),
            ours / flat.max(1e-9)
        );
    }
    println!(
        "  target >= 20,000 exact queries/s: {} ({} on {threads} threads, {} on 1)",
        if accord_two >= 20_000.0 {
            "met"
        } else {
            "MISSED"
        },
        fmt_rate(accord_two),
        fmt_rate(accord_one)
    );
    for note in notes {
        println!("  {note}");
    }
    println!(
        "check      accord found every planted neighbour within {RADIUS} and nothing else, on \
         every query, in every pass"
    );
    Ok(())
}

fn accord_build_seconds(builds: &[Build]) -> f64 {
    builds.first().map_or(1.0, |b| b.seconds).max(1e-9)
}

/// One index's build time and memory.
struct Build {
    name: String,
    seconds: f64,
    memory: f64,
}

/// Reads one FAISS configuration's answers, compares them with the exact ones and adds
/// its rows.
fn faiss_config(
    config: &Value,
    expected: &[Vec<(u32, u32)>],
    rows: &mut Vec<Row>,
    builds: &mut Vec<Build>,
) -> Result<()> {
    let name = config["name"].as_str().context("config without name")?;
    let nq = usize::try_from(
        config["queries"]
            .as_u64()
            .context("config without queries")?,
    )?;
    let read = |key: &str| -> Result<Vec<i64>> {
        let path = config[key]
            .as_str()
            .context("config without result files")?;
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let (words, _) = bytes.as_chunks::<8>();
        Ok(words.iter().map(|w| i64::from_le_bytes(*w)).collect())
    };
    let lims = read("lims")?;
    let ids = read("ids")?;
    if lims.len() != nq + 1 || nq > expected.len() {
        bail!("{name}: {} limits for {nq} queries", lims.len());
    }
    let (mut found, mut want, mut extra) = (0usize, 0usize, 0usize);
    for (i, e) in expected[..nq].iter().enumerate() {
        let (a, b) = (
            usize::try_from(lims[i])?,
            usize::try_from(lims[i + 1])?.min(ids.len()),
        );
        let got = ids.get(a..b).unwrap_or(&[]);
        want += e.len();
        for id in got {
            if e.iter().any(|(_, p)| i64::from(*p) == *id) {
                found += 1;
            } else {
                extra += 1;
            }
        }
    }
    let recall = 100.0 * found as f64 / want.max(1) as f64;
    let mut text = format!("{recall:.1}% ({found} of {want})");
    if extra > 0 {
        text.push_str(&format!(", {extra} WRONG"));
    }
    rows.push(Row {
        name: format!("faiss {name}"),
        queries: nq,
        one: config["qps_1"].as_f64(),
        two: config["qps_n"].as_f64(),
        recall: text,
    });
    if let (Some(seconds), Some(memory)) = (
        config["build_seconds"].as_f64(),
        config["memory_bytes"].as_f64(),
    ) {
        builds.push(Build {
            name: format!(
                "faiss {} (add, 1 thread)",
                config["index"].as_str().unwrap_or(name)
            ),
            seconds,
            memory,
        });
    }
    Ok(())
}
