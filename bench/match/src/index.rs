//! `bench-match index`: Accord's indicator index at scale. Millions of indicator patterns
//! of mixed types are parsed and filed in an `accord_match::Index`, then millions of
//! observables are looked up in it, one at a time, as `accord match` does per input line.
//!
//! The issue names no peer for this part, so there is no ratio: the run prints its own
//! figures (load rate, lookups per second on one core and on all of them, memory).
//!
//! Both sides of the workload are made in chunks, outside the clocks (module
//! `index_workload`). Every planted observable must hit exactly the indicator it was
//! planted from and every other observable nothing; the run fails otherwise, so that it
//! cannot get faster by finding less.

use crate::common::{Memory, memory};
use std::time::{Duration, Instant};

use accord_match::normalize::{Observable, parse_observable};
use accord_match::{Index, Stats};
use accord_stix::Timestamp;
use anyhow::{Context, Result, bail};

use crate::common::{fmt_rate, machine, utc_now};
use crate::index_workload::{self as workload, Kind, Workload};

/// Flags of `bench-match index`.
#[derive(clap::Args)]
pub struct Args {
    /// Indicator patterns to load.
    #[arg(long, default_value_t = 1_000_000)]
    indicators: usize,
    /// Observables to look up.
    #[arg(long, default_value_t = 1_000_000)]
    observables: usize,
    /// Share of observables planted to hit an indicator, in percent.
    #[arg(long, default_value_t = 1.0)]
    hits_percent: f64,
    /// How many of the `MATCHES` indicators are unanchored, so that the index cannot probe
    /// them and evaluates each against every domain name looked up.
    #[arg(long, default_value_t = 10)]
    fallback: usize,
    /// Threads for the parallel passes (1 skips them). [default: the number of cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the workload.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
}

/// Items made and timed at a time.
const CHUNK: usize = 250_000;

/// One timed pass over the observables.
#[derive(Default)]
struct Pass {
    elapsed: Duration,
    observables: usize,
    hits: usize,
    evaluated: usize,
    /// Hits on an indicator other than the one planted (or on a miss).
    wrong: usize,
}

impl Pass {
    fn rate(&self) -> f64 {
        self.observables as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn add(&mut self, other: &Pass) {
        self.elapsed += other.elapsed;
        self.observables += other.observables;
        self.hits += other.hits;
        self.evaluated += other.evaluated;
        self.wrong += other.wrong;
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn run(args: &Args) -> Result<()> {
    if args.indicators == 0 || args.observables == 0 {
        bail!("--indicators and --observables must be at least 1");
    }
    if args.indicators >= 1 << 28 {
        bail!("--indicators must be below 2^28 (the workload's address space)");
    }
    let ranges = workload::count(args.indicators, Kind::Cidr);
    if ranges > workload::MAX_RANGES {
        bail!("{ranges} CIDR ranges do not fit the workload's range blocks; fewer --indicators");
    }
    if !(0.0..=100.0).contains(&args.hits_percent) {
        bail!("--hits-percent must be between 0 and 100");
    }
    let hits_per_10k = (args.hits_percent * 100.0).round() as u64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.unwrap_or(cores).max(1);
    let w = Workload::new(args.seed, args.fallback);
    let seen = Timestamp::parse("2026-11-01T00:00:00Z").context("the observation time")?;

    print_header(args, threads);

    // Load: patterns made in chunks outside the clock; parse and insert timed apart.
    let before = memory();
    let mut index: Index<u32> = Index::new();
    let (mut making, mut parsing, mut inserting) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut texts = Vec::with_capacity(CHUNK);
    let mut parsed = Vec::with_capacity(CHUNK);
    let mut pattern_bytes = 0;
    for start in (0..args.indicators).step_by(CHUNK) {
        let end = (start + CHUNK).min(args.indicators);
        let clock = Instant::now();
        texts.clear();
        texts.extend((start..end).map(|i| w.pattern(i)));
        pattern_bytes += texts.iter().map(String::len).sum::<usize>();
        making += clock.elapsed();

        let clock = Instant::now();
        parsed.clear();
        for (k, text) in texts.iter().enumerate() {
            let p = accord_pattern::parse(text)
                .map_err(|e| anyhow::anyhow!("indicator {} {text:?}: {e}", start + k))?;
            parsed.push(p);
        }
        parsing += clock.elapsed();

        let clock = Instant::now();
        for (k, p) in parsed.drain(..).enumerate() {
            let i = start + k;
            index
                .insert(&p, u32::try_from(i)?)
                .with_context(|| format!("indicator {i} {:?}", texts[k]))?;
        }
        inserting += clock.elapsed();
        eprint!("\rloaded {end} of {} indicators", args.indicators);
    }
    eprintln!();
    drop((texts, parsed));
    let loaded = memory();
    let stats = index.stats();
    if stats.patterns != args.indicators {
        bail!(
            "the index holds {} patterns, not {}",
            stats.patterns,
            args.indicators
        );
    }
    let expect_fallback = workload::count(args.indicators, Kind::Regex).min(args.fallback);
    if stats.fallback != expect_fallback {
        bail!(
            "the index has {} fallback patterns; the workload made {expect_fallback} that need \
             evaluation against every domain name",
            stats.fallback
        );
    }

    // Lookups: observables made in chunks outside the clocks; each chunk timed four ways.
    let mut text_one = Pass::default();
    let mut built_one = Pass::default();
    let mut text_all = Pass::default();
    let mut built_all = Pass::default();
    let (mut making_obs, mut building) = (Duration::ZERO, Duration::ZERO);
    let mut planted = 0;
    let mut by_kind = [0usize; 10];
    for start in (0..args.observables).step_by(CHUNK) {
        let end = (start + CHUNK).min(args.observables);
        let clock = Instant::now();
        let chunk: Vec<(String, Option<u32>)> = (start..end)
            .map(|j| w.observable(j, args.indicators, hits_per_10k))
            .collect();
        making_obs += clock.elapsed();
        for (_, planted_on) in &chunk {
            if let Some(i) = planted_on {
                planted += 1;
                by_kind[kind_number(workload::kind(*i as usize).0)] += 1;
            }
        }

        text_one.add(&from_text(&index, &seen, &chunk)?);
        let clock = Instant::now();
        let built = chunk
            .iter()
            .map(|(text, planted_on)| {
                parse_observable(text)
                    .map(|o| (o, *planted_on))
                    .with_context(|| format!("observable {text:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        building += clock.elapsed();
        built_one.add(&prebuilt(&index, &seen, &built));
        if threads > 1 {
            text_all.add(&parallel(threads, &chunk, |part| {
                from_text(&index, &seen, part)
            })?);
            built_all.add(&parallel(threads, &built, |part| {
                Ok(prebuilt(&index, &seen, part))
            })?);
        }
        eprint!("\rlooked up {end} of {} observables", args.observables);
    }
    eprintln!();
    let end = memory();

    let report = Report {
        args,
        threads,
        stats,
        before,
        loaded,
        end,
        making,
        parsing,
        inserting,
        pattern_bytes,
        making_obs,
        building,
        planted,
        by_kind,
        text_one,
        built_one,
        text_all,
        built_all,
    };
    report.print();
    report.check()
}

fn kind_number(k: Kind) -> usize {
    workload::SHARES
        .iter()
        .position(|(kind, _)| *kind == k)
        .unwrap_or(0)
}

/// What `accord match` does per line: parse and normalise the text, then look it up.
fn from_text(
    index: &Index<u32>,
    seen: &Timestamp,
    items: &[(String, Option<u32>)],
) -> Result<Pass> {
    let mut pass = Pass::default();
    let clock = Instant::now();
    for (text, planted_on) in items {
        let obs = parse_observable(text).with_context(|| format!("observable {text:?}"))?;
        let hits = index.match_observable(&obs, seen, |_, _| true);
        tally(&mut pass, index, &hits, *planted_on);
    }
    pass.elapsed = clock.elapsed();
    pass.observables = items.len();
    Ok(pass)
}

/// The lookup alone, over observables already in canonical form.
fn prebuilt(index: &Index<u32>, seen: &Timestamp, items: &[(Observable, Option<u32>)]) -> Pass {
    let mut pass = Pass::default();
    let clock = Instant::now();
    for (obs, planted_on) in items {
        let hits = index.match_observable(obs, seen, |_, _| true);
        tally(&mut pass, index, &hits, *planted_on);
    }
    pass.elapsed = clock.elapsed();
    pass.observables = items.len();
    pass
}

fn tally(pass: &mut Pass, index: &Index<u32>, hits: &[accord_match::Hit], planted_on: Option<u32>) {
    pass.hits += hits.len();
    for hit in hits {
        pass.evaluated += usize::from(hit.evaluated);
        if index.meta(hit.entry).copied() != planted_on {
            pass.wrong += 1;
        }
    }
}

/// `work` on `threads` equal parts of `items` at once; the elapsed time is the wall time.
fn parallel<T: Sync>(
    threads: usize,
    items: &[T],
    work: impl Fn(&[T]) -> Result<Pass> + Sync,
) -> Result<Pass> {
    let size = items.len().div_ceil(threads).max(1);
    let clock = Instant::now();
    let parts = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|part| s.spawn(|| work(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a lookup thread panicked"))?
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let elapsed = clock.elapsed();
    let mut total = Pass::default();
    for p in &parts {
        total.add(p);
    }
    total.elapsed = elapsed;
    Ok(total)
}

fn print_header(args: &Args, threads: usize) {
    println!("bench-match index: Accord's indicator index, bulk load and lookup, one run");
    println!("date       {}", utc_now());
    println!("machine    {}", machine());
    let build = if cfg!(debug_assertions) {
        "NOT a release build: figures are not representative"
    } else {
        "release build"
    };
    println!("accord     accord-match Index, in process ({build})");
    println!(
        "peer       none: the issue names no peer for bulk indicator matching, so these figures \
         stand alone (no ratio)"
    );
    println!(
        "workload   {} indicators x {} observables, {}% planted hits (seed {}); lookups on 1 \
         thread, then on {threads}",
        args.indicators, args.observables, args.hits_percent, args.seed
    );
    let mix = workload::SHARES
        .iter()
        .map(|(k, share)| format!("{k:?} {:.2}%", *share as f64 / 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    println!("indicators {mix}");
    println!(
        "observables misses: domain-name 30%, url 25%, ipv4-addr 20%, sha256 15%, email-addr 5%, \
         user-account (twitter) 5%; hits: one indicator drawn uniformly, any kind"
    );
    println!();
}

struct Report<'a> {
    args: &'a Args,
    threads: usize,
    stats: Stats,
    before: Memory,
    loaded: Memory,
    end: Memory,
    making: Duration,
    parsing: Duration,
    inserting: Duration,
    pattern_bytes: usize,
    making_obs: Duration,
    building: Duration,
    planted: usize,
    by_kind: [usize; 10],
    text_one: Pass,
    built_one: Pass,
    text_all: Pass,
    built_all: Pass,
}

impl Report<'_> {
    fn print(&self) {
        let n = self.args.indicators as f64;
        let load = self.parsing + self.inserting;
        println!("load");
        println!(
            "  {} patterns ({:.1} MB of text, made in {:.1} s outside the clock)",
            self.args.indicators,
            self.pattern_bytes as f64 / 1e6,
            self.making.as_secs_f64()
        );
        println!(
            "  parse + insert        {:>8.1} s  {:>10} patterns/s",
            load.as_secs_f64(),
            fmt_rate(n / load.as_secs_f64().max(1e-9))
        );
        println!(
            "    of which parse      {:>8.1} s  {:>10} patterns/s",
            self.parsing.as_secs_f64(),
            fmt_rate(n / self.parsing.as_secs_f64().max(1e-9))
        );
        println!(
            "    of which insert     {:>8.1} s  {:>10} patterns/s",
            self.inserting.as_secs_f64(),
            fmt_rate(n / self.inserting.as_secs_f64().max(1e-9))
        );
        let s = &self.stats;
        println!(
            "  Index::stats()        patterns {}, exact {}, fallback {}, keys {}",
            s.patterns, s.exact, s.fallback, s.keys
        );
        let grown = self.loaded.rss.saturating_sub(self.before.rss);
        println!("memory");
        println!(
            "  RSS before load {}, after load {} (+{}: {:.0} bytes per indicator)",
            mib(self.before.rss),
            mib(self.loaded.rss),
            mib(grown),
            grown as f64 / n
        );
        println!(
            "  peak RSS after load {}; at the end {} (lookup chunks of {CHUNK} observables held \
             as text and as Observables)",
            mib(self.loaded.peak),
            mib(self.end.peak)
        );
        println!();
        println!(
            "lookup   {} observables ({} planted hits; made in {:.1} s outside the clock)",
            self.args.observables,
            self.planted,
            self.making_obs.as_secs_f64()
        );
        let planted = workload::SHARES
            .iter()
            .zip(self.by_kind)
            .map(|((k, _), c)| format!("{k:?} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("         planted on: {planted}");
        println!(
            "{:<58} {:>8} {:>10} {:>9} {:>10} {:>14}",
            "pass", "threads", "seconds", "hits", "evaluated", "observables/s"
        );
        let row = |name: &str, threads: usize, p: &Pass| {
            println!(
                "{name:<58} {threads:>8} {:>10.2} {:>9} {:>10} {:>14}",
                p.elapsed.as_secs_f64(),
                p.hits,
                p.evaluated,
                fmt_rate(p.rate())
            );
        };
        row(
            "text -> parse_observable -> match_observable",
            1,
            &self.text_one,
        );
        row(
            "match_observable on a prepared Observable",
            1,
            &self.built_one,
        );
        if self.threads > 1 {
            row(
                "text -> parse_observable -> match_observable",
                self.threads,
                &self.text_all,
            );
            row(
                "match_observable on a prepared Observable",
                self.threads,
                &self.built_all,
            );
        }
        println!(
            "  (preparing the Observables for the second pass took {:.1} s outside its clock)",
            self.building.as_secs_f64()
        );
        println!(
            "  each observable is looked up as given; the hosts of URLs and the domains of \
             e-mail addresses (Observable::derived, which `accord match` also looks up) are not"
        );
        println!(
            "per core: {} observables/s from text, {} prepared (target 1,000,000)",
            fmt_rate(self.text_one.rate()),
            fmt_rate(self.built_one.rate())
        );
    }

    /// Fails unless every pass found exactly the planted hits.
    fn check(&self) -> Result<()> {
        let mut passes = vec![
            ("one thread, from text", &self.text_one),
            ("one thread, prepared", &self.built_one),
        ];
        if self.threads > 1 {
            passes.push(("threads, from text", &self.text_all));
            passes.push(("threads, prepared", &self.built_all));
        }
        for (name, p) in passes {
            if p.hits != self.planted || p.wrong != 0 {
                bail!(
                    "pass {name}: {} hits ({} on the wrong indicator) for {} planted: the index \
                     did not find exactly what was planted",
                    p.hits,
                    p.wrong,
                    self.planted
                );
            }
        }
        println!();
        println!(
            "check    every pass found exactly the {} planted hits, each on its own indicator",
            self.planted
        );
        Ok(())
    }
}
