//! bench-media: Accord's media matching (`accord-media`) against the tools people use
//! today, in one run, on the same input, with the ratios printed.
//!
//! - **Hashing** (module `hashing`): PDQ hashes of the same decoded RGB pixels by
//!   `accord_media::pdq::Hasher` and by the `pdqhash` Python package, which wraps the
//!   reference C++ core; then the same with each side decoding the image files itself.
//! - **Index** (module `index`): ten million random 256-bit hashes with planted near
//!   neighbours, searched at Hamming distance 31 by `accord_media::index::Index`, by a linear
//!   scan, and by FAISS's binary multi-hash index (the index HMA uses) when `faiss-cpu`
//!   is installed.
//!
//! The Python side is `run.py`, run as a subprocess with the interpreter of
//! `<repo>/.venv-bench` (made by `run.sh`); it reads the very pixels and hashes this binary
//! wrote to a temporary directory and prints JSON. The two sides never run at the same time.

#[path = "../../common.rs"]
mod common;
mod hashing;
mod index;
mod rng;

/// The allocator the `accord` binary uses, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::Value;

use crate::common::{machine, repo_root, utc_now};

#[derive(Parser)]
#[command(
    name = "bench-media",
    about = "Accord's PDQ hashing and hash index against pdqhash (the reference C++ core) and \
             FAISS, same input, one run."
)]
pub struct Cli {
    /// Run one part only.
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Folder with the PDQ test images (its `images/` and `png/` subfolders are used);
    /// synthetic images are made when it is missing.
    /// [default: <repo>/../shared/testdata/pdq]
    #[arg(long)]
    testdata: Option<PathBuf>,
    /// Hashes in the index, planted neighbours included.
    #[arg(long, default_value_t = 10_000_000)]
    hashes: usize,
    /// Queries against the index, each with planted neighbours.
    #[arg(long, default_value_t = 10_000)]
    queries: usize,
    /// Queries given to FAISS's multi-hash index searched exactly (nflip=1), which is slow
    /// (the first ones).
    #[arg(long, default_value_t = 1_000)]
    exact_queries: usize,
    /// Queries also answered by a linear scan, Accord's and FAISS's (the first ones).
    #[arg(long, default_value_t = 100)]
    scan_queries: usize,
    /// Each timed measurement repeats its whole workload until it has run this long.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Python with pdqhash, numpy and Pillow (and faiss-cpu, optional); run.sh makes one.
    /// [default: <repo>/.venv-bench/bin/python]
    #[arg(long, env = "BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// Seed of the random hashes and images.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Keep the files handed to Python in this directory instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// PDQ hashing against pdqhash.
    Hash,
    /// The hash index against a linear scan and FAISS.
    Index,
}

/// The Python side: the interpreter and `run.py`.
pub struct Python {
    python: PathBuf,
    script: PathBuf,
}

impl Python {
    /// Runs `run.py ARGS`, passing its stderr through, and parses the JSON it prints.
    pub fn run(&self, args: &[&str]) -> Result<Value> {
        let out = Command::new(&self.python)
            .arg(&self.script)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running {}", self.python.display()))?;
        if !out.status.success() {
            bail!(
                "{} {} {} failed ({})",
                self.python.display(),
                self.script.display(),
                args.join(" "),
                out.status
            );
        }
        serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "run.py {} printed no JSON: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if !(cli.seconds > 0.0 && cli.seconds.is_finite()) {
        bail!("--seconds must be positive");
    }
    let root = repo_root();
    let python = Python {
        python: cli
            .python
            .clone()
            .unwrap_or_else(|| root.join(".venv-bench/bin/python")),
        script: Path::new(env!("CARGO_MANIFEST_DIR")).join("run.py"),
    };
    if !python.python.is_file() {
        bail!(
            "no python at {}: run bench/media/run.sh (it makes .venv-bench) or pass --python",
            python.python.display()
        );
    }
    let versions = python.run(&["versions"])?;
    let temp = tempfile::tempdir().context("making a temporary directory")?;
    let dir = cli.keep.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;

    print_header(&cli, &python, &versions);
    if cli.only != Some(Part::Index) {
        let testdata = cli
            .testdata
            .clone()
            .unwrap_or_else(|| root.join("../shared/testdata/pdq"));
        hashing::run(&cli, &python, &testdata, &dir.join("hash"))?;
    }
    if cli.only != Some(Part::Hash) {
        let faiss = versions["faiss"].as_str().is_some();
        index::run(&cli, &python, faiss, &dir.join("index"))?;
    }
    Ok(())
}

fn print_header(cli: &Cli, python: &Python, versions: &Value) {
    println!(
        "bench-media: Accord vs pdqhash (reference C++ PDQ core) and FAISS, same input, one run"
    );
    println!("date       {}", utc_now());
    println!("machine    {}", machine());
    let build = if cfg!(debug_assertions) {
        "NOT a release build: figures are not representative"
    } else {
        "release build"
    };
    let popcnt = if cfg!(target_feature = "popcnt") {
        "with"
    } else {
        "without"
    };
    println!(
        "accord     accord-media in process ({build}, target {}, {popcnt} the popcnt instruction)",
        std::env::consts::ARCH
    );
    let v = |k: &str| versions[k].as_str().unwrap_or("?").to_owned();
    println!(
        "python     {} (Python {}): pdqhash {}, numpy {}, Pillow {}",
        python.python.display(),
        v("python"),
        v("pdqhash"),
        v("numpy"),
        v("pillow")
    );
    match versions["faiss"].as_str() {
        Some(f) => println!(
            "faiss      faiss-cpu {f} ({})",
            versions["faiss_build"].as_str().unwrap_or("?")
        ),
        None if cli.only != Some(Part::Hash) => println!(
            "faiss      NOT INSTALLED ({}): its columns are left out",
            versions["faiss_error"]
                .as_str()
                .unwrap_or("import faiss failed")
        ),
        None => {}
    }
    println!();
}

/// Runs `pass` once untimed, then again until the timed passes add up to `min`; returns
/// the number of timed passes and their total time.
pub fn timed(min: Duration, mut pass: impl FnMut() -> Result<()>) -> Result<(usize, Duration)> {
    pass()?;
    let mut passes = 0;
    let clock = Instant::now();
    loop {
        pass()?;
        passes += 1;
        let elapsed = clock.elapsed();
        if elapsed >= min {
            return Ok((passes, elapsed));
        }
    }
}
