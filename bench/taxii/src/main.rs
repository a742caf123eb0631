//! bench-taxii: the same TAXII 2.1 workload against Accord and against the OASIS reference
//! server, medallion (memory backend), in one run, with the ratio printed.
//!
//! Workload, identical for both: POST N indicators in bundles, page through all of them
//! with `limit`/`next`, then GET single objects with `match[id]`. Request bodies and URLs
//! are built before any clock starts; one client connection sends requests one at a time,
//! so what is measured is each server's cost per request. The servers run one after the
//! other, never side by side, each on 127.0.0.1 in a temporary directory.
//!
//! medallion's memory backend is quadratic in places (see bench/README.md), so
//! `--medallion-objects` lets it run with fewer objects; the output then says so.

// Not every shared helper is used by every benchmark.
#[allow(dead_code)]
#[path = "../../common.rs"]
mod common;
mod servers;
mod taxii;
mod workload;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{fmt_rate, machine, repo_root, utc_now};
use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};

use crate::servers::Running;
use crate::taxii::{Client, Measured};
use crate::workload::Workload;

#[derive(Parser)]
#[command(
    name = "bench-taxii",
    about = "Accord's TAXII 2.1 server against medallion 3.0.0 (memory backend), same workload, one run."
)]
struct Args {
    /// Indicators to post, page through and draw lookups from.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
    /// Give medallion this many objects instead of --objects (it slows down with size);
    /// the output states it whenever the counts differ.
    #[arg(long)]
    medallion_objects: Option<usize>,
    /// Time medallion's POST at its full size, but its reads on a fresh medallion holding
    /// only this many objects (its first page at 100,000 objects takes hours); the output
    /// states the sizes of every phase.
    #[arg(long)]
    medallion_read_objects: Option<usize>,
    /// Objects per POST.
    #[arg(long, default_value_t = 1_000)]
    bundle: usize,
    /// `limit` per page when paging back.
    #[arg(long, default_value_t = 1_000)]
    page: usize,
    /// Filtered GETs (`match[id]` = a random posted id).
    #[arg(long, default_value_t = 1_000)]
    lookups: usize,
    /// The accord binary; build it with `cargo build --release -p accord`.
    /// [default: <target dir>/release/accord]
    #[arg(long, env = "BENCH_ACCORD_BIN")]
    accord: Option<PathBuf>,
    /// medallion's entry script, from a venv with medallion==3.0.0 (bench/taxii/run.sh
    /// makes one). [default: <repo>/.venv-bench/bin/medallion]
    #[arg(long, env = "BENCH_MEDALLION_BIN")]
    medallion: Option<PathBuf>,
    /// Run only one of the two servers.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Seed for ids and lookups.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Give up on any single request (and on a pending status) after this many seconds.
    #[arg(long, default_value_t = 7_200)]
    timeout_secs: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Only {
    Accord,
    Medallion,
}

/// The three phases measured on one server.
struct Outcome {
    objects: usize,
    /// Objects held by the server during the read phases.
    read_objects: usize,
    post: Measured,
    page: Measured,
    lookups: Measured,
}

fn default_accord() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("release").join("accord")
}

fn main() -> Result<()> {
    let args = Args::parse();
    let accord_bin = args.accord.clone().unwrap_or_else(default_accord);
    let medallion_bin = args
        .medallion
        .clone()
        .unwrap_or_else(|| repo_root().join(".venv-bench/bin/medallion"));
    let run_accord = args.only != Some(Only::Medallion);
    let run_medallion = args.only != Some(Only::Accord);
    if run_accord && !accord_bin.is_file() {
        bail!(
            "no accord binary at {}: run `cargo build --release -p accord` or pass --accord",
            accord_bin.display()
        );
    }
    if run_medallion && !medallion_bin.is_file() {
        bail!(
            "no medallion at {}: run bench/taxii/run.sh (it makes .venv-bench) or pass --medallion",
            medallion_bin.display()
        );
    }
    let medallion_objects = args.medallion_objects.unwrap_or(args.objects);
    let timeout = Duration::from_secs(args.timeout_secs);
    if run_medallion && medallion_objects > 20_000 {
        eprintln!(
            "warning: medallion with {medallion_objects} objects will take long: its first page \
             grows with the square of the collection (252 s at 10,000 objects on a 2-core EPYC); \
             --medallion-objects 10000 runs it with fewer, and the output says so"
        );
    }

    print_header(
        &args,
        &accord_bin,
        &medallion_bin,
        run_accord,
        run_medallion,
        medallion_objects,
    );

    let mut accord = None;
    if run_accord {
        let work = prepare(args.objects, &args)?;
        let outcome = measure("accord", &work, None, &args, timeout, || {
            servers::start_accord(&accord_bin)
        })?;
        accord = Some(outcome);
    }
    let mut medallion = None;
    if run_medallion {
        let work = prepare(medallion_objects, &args)?;
        let read_work = match args.medallion_read_objects {
            Some(n) if n < medallion_objects => Some(prepare(n, &args)?),
            _ => None,
        };
        let outcome = measure(
            "medallion",
            &work,
            read_work.as_ref(),
            &args,
            timeout,
            || servers::start_medallion(&medallion_bin, args.page),
        )?;
        medallion = Some(outcome);
    }
    print_results(accord.as_ref(), medallion.as_ref());
    Ok(())
}

fn prepare(objects: usize, args: &Args) -> Result<Workload> {
    let start = Instant::now();
    let work = Workload::new(objects, args.bundle, args.lookups, args.seed)?;
    eprintln!(
        "prepared {} objects in {} bundles ({:.1} MB) in {:.1}s",
        work.ids.len(),
        work.bundles.len(),
        work.bytes() as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    Ok(work)
}

/// Measures the three phases. With `read_work`, the POST phase is timed on `work` and the
/// read phases on a fresh server loaded (untimed) with `read_work`.
fn measure(
    name: &str,
    work: &Workload,
    read_work: Option<&Workload>,
    args: &Args,
    timeout: Duration,
    start: impl Fn() -> Result<Running>,
) -> Result<Outcome> {
    eprintln!("{name}: starting");
    let mut server = start().with_context(|| format!("starting {name}"))?;
    let mut client = Client::new(server.target.clone(), timeout);
    let result = (|| -> Result<Outcome> {
        client.check()?;
        eprintln!("{name}: posting {} objects", work.ids.len());
        let post = client.post_all(work)?;
        let post_objects = work.ids.len();
        eprintln!(
            "{name}: posted in {:.2}s; paging",
            post.elapsed.as_secs_f64()
        );
        let work = match read_work {
            None => work,
            Some(small) => {
                eprintln!(
                    "{name}: restarting with {} objects for the read phases",
                    small.ids.len()
                );
                drop(std::mem::replace(
                    &mut server,
                    start().with_context(|| format!("restarting {name}"))?,
                ));
                client = Client::new(server.target.clone(), timeout);
                client.check()?;
                client.post_all(small)?;
                small
            }
        };
        let page = client.page_all(work, args.page)?;
        eprintln!(
            "{name}: paged in {:.2}s; {} lookups",
            page.elapsed.as_secs_f64(),
            work.lookups.len()
        );
        let lookups = client.lookups(work)?;
        eprintln!("{name}: lookups in {:.2}s", lookups.elapsed.as_secs_f64());
        Ok(Outcome {
            objects: post_objects,
            read_objects: work.ids.len(),
            post,
            page,
            lookups,
        })
    })();
    result.map_err(|e| {
        e.context(format!(
            "{name} failed; its last log lines:\n{}",
            tail(&server.log_tail(), 30)
        ))
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// --- report -------------------------------------------------------------------------

fn print_header(
    args: &Args,
    accord_bin: &Path,
    medallion_bin: &Path,
    run_accord: bool,
    run_medallion: bool,
    medallion_objects: usize,
) {
    println!("bench-taxii: Accord vs medallion, TAXII 2.1, same workload, one run");
    println!("date       {}", utc_now());
    println!("machine    {}", machine());
    if run_accord {
        let kind = if accord_bin.components().any(|c| c.as_os_str() == "release") {
            "release build"
        } else {
            "NOT a release build: figures are not representative"
        };
        let version = command_line(accord_bin, &["--version"]).unwrap_or_default();
        println!("accord     {} ({kind}) {version}", accord_bin.display());
        println!("           SQLite store in a temporary directory; objects stored before the 202");
    }
    if run_medallion {
        println!("medallion  {}", medallion_versions(medallion_bin));
        println!("           memory backend (objects kept in Python lists, nothing persisted)");
        println!(
            "           paging: its first request computes the whole result and keeps the rest \
             server-side for `next` (see bench/README.md)"
        );
    }
    println!(
        "client     one keep-alive connection, sequential requests, bodies serialised before timing"
    );
    println!(
        "workload   POST indicators in bundles of {}; page all back with limit={} and next; \
         {} GETs with match[id]=<random posted id>",
        args.bundle, args.page, args.lookups
    );
    if run_accord && run_medallion && medallion_objects != args.objects {
        println!();
        println!(
            "NOTE       medallion ran with {medallion_objects} objects, Accord with {} \
             (--medallion-objects). medallion's memory backend slows down as its collection \
             grows (the first page and each match[id] GET scan all objects), so its rates at {} \
             objects would be lower than those shown: the ratios below understate Accord's lead.",
            args.objects, args.objects
        );
    }
    println!();
}

fn print_results(accord: Option<&Outcome>, medallion: Option<&Outcome>) {
    let col = |o: Option<&Outcome>, name: &str| match o {
        Some(o) if o.read_objects != o.objects => {
            format!("{name} ({}/{} objects)", o.objects, o.read_objects)
        }
        Some(o) => format!("{name} ({} objects)", o.objects),
        None => format!("{name} (not run)"),
    };
    println!(
        "{:<28} {:>24} {:>26} {:>18}",
        "phase",
        col(accord, "accord"),
        col(medallion, "medallion"),
        "accord/medallion"
    );
    type Pick = fn(&Outcome) -> &Measured;
    let rows: [(&str, Pick, bool); 3] = [
        ("POST bundles    objects/s", |o| &o.post, false),
        ("page all        objects/s", |o| &o.page, false),
        ("GET match[id]  requests/s", |o| &o.lookups, true),
    ];
    for (label, pick, per_request) in rows {
        let rate = |o: Option<&Outcome>| {
            o.map(|o| {
                let m = pick(o);
                if per_request {
                    m.requests_per_sec()
                } else {
                    m.objects_per_sec()
                }
            })
        };
        let (a, m) = (rate(accord), rate(medallion));
        let ratio = match (a, m) {
            (Some(a), Some(m)) if m > 0.0 => format!("{:.1}x", a / m),
            _ => "-".to_owned(),
        };
        println!(
            "{label:<28} {:>24} {:>26} {ratio:>18}",
            a.map(fmt_rate).unwrap_or_else(|| "-".into()),
            m.map(fmt_rate).unwrap_or_else(|| "-".into()),
        );
    }
    for (name, o) in [("accord", accord), ("medallion", medallion)] {
        if let Some(o) = o.filter(|o| o.read_objects != o.objects) {
            println!(
                "NOTE       {name}: POST timed with {} objects; page all and match[id] timed on a fresh \
                 server holding {} objects (--medallion-read-objects)",
                o.objects, o.read_objects
            );
        }
    }
    println!();
    println!(
        "details (wall time; requests; first request; mean per request; client parsing share)"
    );
    for (name, outcome) in [("accord", accord), ("medallion", medallion)] {
        let Some(o) = outcome else { continue };
        for (phase, m) in [
            ("POST", &o.post),
            ("page", &o.page),
            ("match[id]", &o.lookups),
        ] {
            println!(
                "  {name:<10} {phase:<10} {:>10.3} s {:>8} requests   first {:>10.3} ms   mean {:>9.3} ms   parsing {:>4.1}%",
                m.elapsed.as_secs_f64(),
                m.requests,
                m.first.as_secs_f64() * 1e3,
                m.elapsed.as_secs_f64() * 1e3 / m.requests.max(1) as f64,
                100.0 * m.parsing.as_secs_f64() / m.elapsed.as_secs_f64().max(1e-9),
            );
        }
    }
}

fn command_line(bin: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(bin).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn medallion_versions(medallion_bin: &Path) -> String {
    let python = medallion_bin.with_file_name("python");
    let script = "import sys, importlib.metadata as m; \
        print('medallion %s, Flask %s, Werkzeug %s (development server, threaded), Python %s' % \
        (m.version('medallion'), m.version('flask'), m.version('werkzeug'), sys.version.split()[0]))";
    command_line(&python, &["-c", script])
        .unwrap_or_else(|| format!("{} (versions unknown)", medallion_bin.display()))
}
