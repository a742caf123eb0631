//! bench-match: the same STIX patterns and the same observed data evaluated by Accord's
//! `accord-pattern` and by the OASIS reference matcher, stix2-matcher 3.0.0, in one run, with
//! the ratio printed.
//!
//! The workload (module `workload`) is written to a temporary directory as JSON; both sides
//! read the same patterns and bundles. Each side compiles every pattern once before its
//! clock starts, then evaluates every pattern against every bundle, one call per (bundle,
//! pattern) with that bundle's observed data, bundle by bundle. Accord is timed twice:
//! once doing per call what stix2-matcher's `match` does per call (split the parsed bundle
//! into observations, then evaluate), the headline figure; once with each bundle's
//! observations prepared before the clock, as a server that checks many patterns against
//! one bundle would. The reference matcher can be given only the first `--python-bundles`
//! bundles; the output then says so and compares rates on those common pairs.
//!
//! Both sides must give the same answer on every common pair, or the run fails: the
//! benchmark is also a differential test at scale.
//!
//! `bench-match index` is the second part (module `index`): millions of indicators filed in
//! `accord-match`'s index, then millions of observables looked up in it.

#[path = "../../common.rs"]
mod common;
mod index;
mod index_workload;
mod workload;

/// The allocator the `accord` binary uses, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{fmt_rate, machine, repo_root, utc_now};
use accord_pattern::{Matcher, Observation};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "bench-match",
    about = "Accord's pattern matcher against stix2-matcher 3.0.0, same patterns and observed data, one run.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    patterns: Args,
}

#[derive(Subcommand)]
enum Mode {
    /// Accord's indicator index alone: load N indicators of mixed types, look up M
    /// observables, report rates and memory (no peer).
    Index(index::Args),
}

/// Flags of the default mode, pattern evaluation against stix2-matcher.
#[derive(clap::Args)]
struct Args {
    /// Observed-data bundles in the workload.
    #[arg(long, default_value_t = 2_000)]
    bundles: usize,
    /// Patterns in the workload.
    #[arg(long, default_value_t = 50)]
    patterns: usize,
    /// Give stix2-matcher only the first N bundles (all patterns each); the output says so
    /// and the ratio compares the same pairs. [default: all]
    #[arg(long)]
    python_bundles: Option<usize>,
    /// Python with stix2-matcher==3.0.0 (bench/match/run.sh makes one).
    /// [default: <repo>/.venv-bench/bin/python]
    #[arg(long, env = "BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// Seed of the workload.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Keep the workload JSON in this directory instead of a temporary one.
    #[arg(long)]
    keep_workload: Option<PathBuf>,
}

/// One side's timed pass.
struct Pass {
    evaluations: usize,
    elapsed: Duration,
    matches: usize,
}

impl Pass {
    fn rate(&self) -> f64 {
        self.evaluations as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What stix2-matcher reported.
struct Reference {
    pass: Pass,
    results: Vec<u8>,
    errors: Vec<String>,
    versions: String,
    /// A separate pass over the same pairs that only builds stix2-matcher's MatchListener.
    listener: Option<Duration>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match &cli.mode {
        Some(Mode::Index(args)) => index::run(args),
        None => against_reference(&cli.patterns),
    }
}

fn against_reference(args: &Args) -> Result<()> {
    let python = args
        .python
        .clone()
        .unwrap_or_else(|| repo_root().join(".venv-bench/bin/python"));
    if !python.is_file() {
        bail!(
            "no python at {}: run bench/match/run.sh (it makes .venv-bench) or pass --python",
            python.display()
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("run.py");
    if !script.is_file() {
        bail!("{} is missing", script.display());
    }
    let py_bundles = args
        .python_bundles
        .unwrap_or(args.bundles)
        .min(args.bundles);
    if py_bundles == 0 || args.patterns == 0 {
        bail!("--bundles, --python-bundles and --patterns must be at least 1");
    }

    let start = Instant::now();
    let patterns = workload::patterns(args.patterns, args.seed);
    let bundles = workload::bundles(args.bundles, args.seed);
    let temp = tempfile::tempdir().context("making a temporary directory")?;
    let dir = args.keep_workload.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let path = dir.join("workload.json");
    let text = serde_json::to_string(&json!({ "patterns": patterns, "bundles": bundles }))?;
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "workload: {} patterns, {} bundles, {:.1} MB of JSON at {} ({:.1}s)",
        patterns.len(),
        bundles.len(),
        text.len() as f64 / 1e6,
        path.display(),
        start.elapsed().as_secs_f64()
    );
    // Accord reads the same text back, as the reference does.
    let parsed: Value = serde_json::from_str(&text)?;
    let bundles = parsed["bundles"]
        .as_array()
        .context("workload without bundles")?;

    let matchers = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let parsed =
                accord_pattern::parse(p).map_err(|e| anyhow::anyhow!("pattern {i} {p:?}: {e}"))?;
            Matcher::new(&parsed).with_context(|| format!("preparing pattern {i} {p:?}"))
        })
        .collect::<Result<Vec<_>>>()?;

    print_header(args, &python, py_bundles);

    // Accord, per call as stix2-matcher's match(): bundle -> observations -> evaluate.
    eprintln!("accord: {} evaluations", bundles.len() * matchers.len());
    let mut results = Vec::with_capacity(bundles.len() * matchers.len());
    let mut matched = 0;
    let mut at_common = Duration::ZERO;
    let clock = Instant::now();
    for (b, bundle) in bundles.iter().enumerate() {
        if b == py_bundles {
            at_common = clock.elapsed();
        }
        for (p, matcher) in matchers.iter().enumerate() {
            let observations =
                observations(bundle).with_context(|| format!("bundle {b} (pattern {p})"))?;
            let hit = matcher
                .matches(&observations)
                .with_context(|| format!("accord on bundle {b}, pattern {p}"))?;
            matched += usize::from(hit);
            results.push(hit);
        }
    }
    let elapsed = clock.elapsed();
    if py_bundles == bundles.len() {
        at_common = elapsed;
    }
    let accord_all = Pass {
        evaluations: results.len(),
        elapsed,
        matches: matched,
    };
    let common = py_bundles * matchers.len();
    let accord_common = Pass {
        evaluations: common,
        elapsed: at_common,
        matches: results[..common].iter().filter(|h| **h).count(),
    };

    // Accord with each bundle's observations prepared before the clock, over the common pairs.
    let prepared = bundles[..py_bundles]
        .iter()
        .enumerate()
        .map(|(b, bundle)| observations(bundle).with_context(|| format!("bundle {b}")))
        .collect::<Result<Vec<_>>>()?;
    let mut matched = 0;
    let mut i = 0;
    let clock = Instant::now();
    for (b, observed) in prepared.iter().enumerate() {
        for (p, matcher) in matchers.iter().enumerate() {
            let hit = matcher
                .matches(observed)
                .with_context(|| format!("accord on bundle {b}, pattern {p}"))?;
            if hit != results[i] {
                bail!("accord gave two answers for bundle {b}, pattern {p}");
            }
            matched += usize::from(hit);
            i += 1;
        }
    }
    let accord_prepared = Pass {
        evaluations: common,
        elapsed: clock.elapsed(),
        matches: matched,
    };

    eprintln!(
        "accord: done in {:.2}s; stix2-matcher: {common} evaluations",
        accord_all.elapsed.as_secs_f64()
    );
    let reference = run_reference(&python, &script, &path, py_bundles)?;
    eprintln!(
        "stix2-matcher: done in {:.1}s",
        reference.pass.elapsed.as_secs_f64()
    );

    let report = Report {
        patterns: &patterns,
        accord_all,
        accord_common,
        accord_prepared,
        reference,
        py_bundles,
        bundles: bundles.len(),
    };
    report.print();
    report.check(&results)
}

/// The observations of one STIX 2.1 bundle, as `accord pattern match` builds them.
fn observations(bundle: &Value) -> Result<Vec<Observation<'_>>> {
    let objects = bundle["objects"]
        .as_array()
        .context("bundle without objects")?;
    Observation::all_in(objects).map_err(|(i, e)| anyhow::anyhow!("observed-data {i}: {e}"))
}

fn run_reference(
    python: &Path,
    script: &Path,
    workload: &Path,
    bundles: usize,
) -> Result<Reference> {
    let out = Command::new(python)
        .arg(script)
        .arg(workload)
        .arg("--bundles")
        .arg(bundles.to_string())
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed ({}):\n{}",
            python.display(),
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "run.py printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let count = |k: &str| {
        v[k].as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .with_context(|| format!("run.py output lacks {k}"))
    };
    let seconds = v["seconds"]
        .as_f64()
        .context("run.py output lacks seconds")?;
    let versions = v["versions"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Ok(Reference {
        pass: Pass {
            evaluations: count("evaluations")?,
            elapsed: Duration::from_secs_f64(seconds.max(0.0)),
            matches: count("matches")?,
        },
        results: v["results"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        errors: v["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        versions,
        listener: v["listener_seconds"]
            .as_f64()
            .map(|s| Duration::from_secs_f64(s.max(0.0))),
    })
}

// --- report -------------------------------------------------------------------------

fn print_header(args: &Args, python: &Path, py_bundles: usize) {
    println!(
        "bench-match: Accord vs stix2-matcher, STIX 2.1 pattern matching, same workload, one run"
    );
    println!("date       {}", utc_now());
    println!("machine    {}", machine());
    let build = if cfg!(debug_assertions) {
        "NOT a release build: figures are not representative"
    } else {
        "release build"
    };
    println!("accord     accord-pattern Matcher, in process ({build})");
    println!("reference  stix2-matcher via {}", python.display());
    println!(
        "workload   {} patterns x {} bundles (seed {}); each evaluation = one pattern against one \
         bundle's observed data",
        args.patterns, args.bundles, args.seed
    );
    println!(
        "           both sides compile every pattern once before their clock; one thread each"
    );
    if py_bundles < args.bundles {
        println!(
            "NOTE       stix2-matcher ran on the first {py_bundles} of {} bundles (--python-bundles), \
             every pattern: {} of {} evaluations. The ratio compares rates on those same pairs.",
            args.bundles,
            py_bundles * args.patterns,
            args.bundles * args.patterns
        );
    }
    println!();
}

struct Report<'a> {
    patterns: &'a [String],
    accord_all: Pass,
    accord_common: Pass,
    accord_prepared: Pass,
    reference: Reference,
    py_bundles: usize,
    bundles: usize,
}

impl Report<'_> {
    fn print(&self) {
        let r = &self.reference;
        println!("reference  {}", r.versions);
        println!();
        println!(
            "{:<58} {:>12} {:>10} {:>9} {:>16}",
            "side", "evaluations", "seconds", "matches", "evaluations/s"
        );
        let row = |name: &str, p: &Pass| {
            println!(
                "{name:<58} {:>12} {:>10.3} {:>9} {:>16}",
                p.evaluations,
                p.elapsed.as_secs_f64(),
                p.matches,
                fmt_rate(p.rate())
            );
        };
        row("stix2-matcher  Pattern.match([bundle])", &r.pass);
        row(
            "accord         bundle -> observations -> matches()",
            &self.accord_common,
        );
        if self.py_bundles < self.bundles {
            row("accord           the same, all bundles", &self.accord_all);
        }
        row(
            "accord         matches(), observations prepared per bundle",
            &self.accord_prepared,
        );
        println!();
        let ratio = |a: f64| format!("{:.1}x", a / r.pass.rate().max(1e-9));
        println!(
            "ratio accord/stix2-matcher, same pairs, same per-call work:  {}",
            ratio(self.accord_common.rate())
        );
        println!(
            "ratio with accord's observations prepared once per bundle:   {}  (stix2-matcher's API \
             re-splits the bundle on every call, so this line favours accord)",
            ratio(self.accord_prepared.rate())
        );
        println!();
        println!("where the time goes (separate passes, not part of the rates above):");
        if let Some(l) = r.listener {
            println!(
                "  stix2-matcher: building the MatchListener (bundle merge and split) alone takes \
                 {:.3} s of its {:.3} s",
                l.as_secs_f64(),
                r.pass.elapsed.as_secs_f64()
            );
        }
        // Both over the common pairs.
        let prepared_share = self.accord_prepared.elapsed.as_secs_f64()
            / self.accord_common.elapsed.as_secs_f64().max(1e-9);
        println!(
            "  accord: matches() alone is about {:.0}% of a per-call evaluation; the rest is \
             building observations (Observation::all_in: the bundle's references resolved, times parsed)",
            100.0 * prepared_share
        );
        if !r.errors.is_empty() {
            println!("stix2-matcher raised on some pairs, for example:");
            for e in &r.errors {
                println!("  {e}");
            }
        }
    }

    /// Fails unless both sides gave the same answer on every common pair.
    fn check(&self, accord: &[bool]) -> Result<()> {
        let r = &self.reference;
        let n = self.patterns.len();
        let per_pattern = |p: usize| {
            accord
                .iter()
                .skip(p)
                .step_by(n.max(1))
                .filter(|h| **h)
                .count()
        };
        let counts: Vec<usize> = (0..n).map(per_pattern).collect();
        println!(
            "coverage   patterns matching no bundle: {}, every bundle: {}; \
             bundles matched per pattern: min {}, max {}",
            counts.iter().filter(|c| **c == 0).count(),
            counts.iter().filter(|c| **c == self.bundles).count(),
            counts.iter().min().unwrap_or(&0),
            counts.iter().max().unwrap_or(&0)
        );
        if r.results.len() != r.pass.evaluations || r.pass.evaluations != self.py_bundles * n {
            bail!(
                "stix2-matcher reported {} results for {} evaluations; expected {}",
                r.results.len(),
                r.pass.evaluations,
                self.py_bundles * n
            );
        }
        let mut differ = Vec::new();
        for (i, (theirs, ours)) in r.results.iter().zip(accord).enumerate() {
            let same = matches!((theirs, ours), (b'1', true) | (b'0', false));
            if !same {
                differ.push((i / n, i % n, *theirs as char, *ours));
            }
        }
        println!();
        if differ.is_empty() {
            println!(
                "agreement  both sides gave the same answer on all {} common pairs ({} matches)",
                r.pass.evaluations, r.pass.matches
            );
            return Ok(());
        }
        println!(
            "DISAGREEMENT on {} of {} pairs (stix2-matcher {} matches, accord {}):",
            differ.len(),
            r.pass.evaluations,
            r.pass.matches,
            self.accord_common.matches
        );
        for (b, p, theirs, ours) in differ.iter().take(20) {
            println!(
                "  bundle {b}, pattern {p} {:?}: stix2-matcher {theirs}, accord {ours}",
                self.patterns[*p]
            );
        }
        bail!(
            "the two matchers disagree on {} pairs; rerun with --keep-workload DIR to inspect them",
            differ.len()
        )
    }
}
