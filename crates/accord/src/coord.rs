//! `accord coord`: coordination detection over files of posts, and sharing what it found.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use accord_coord::input::{BadRow, Fields, Format, Parallel, ReadOptions, Reader, read_parallel};
use accord_coord::model::{Behaviour, Detection};
use accord_coord::output::StixOptions;
use accord_coord::{Config, Detector};
use accord_stix::{Clock, StixId, SystemClock, Tlp};
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::client;

#[derive(Debug, clap::Args)]
pub struct CoordArgs {
    #[command(subcommand)]
    command: CoordCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CoordCommand {
    /// Find accounts that act together: the same link, text, image, repost, reply or
    /// hashtags within seconds of each other, again and again. Writes edges.csv,
    /// graph.graphml (for Gephi), clusters.json (with the posts behind every edge) and
    /// bundle.json (STIX 2.1, for `accord coord publish`) into --out.
    Detect(Box<DetectArgs>),
    /// Publish the STIX bundle a detection wrote (DIR/bundle.json) to an exchange.
    Publish(PublishArgs),
}

#[derive(Debug, clap::Args)]
struct DetectArgs {
    /// Files of posts: CSV, JSON lines or Parquet with columns platform, account_id,
    /// post_id, timestamp (epoch seconds or RFC 3339) and any of text, urls, hashtags,
    /// media_pdq, repost_of, reply_to; or coordination-network-toolkit's CSV as it is.
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Input format; `auto` goes by the file extension and, for CSV, the header.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Platform of rows that name none (always the case for coordination-network-toolkit
    /// files).
    #[arg(long, default_value = "unknown")]
    platform: String,
    /// Behaviours to detect, comma-separated: co-link, co-text, co-similar-text, co-media,
    /// co-repost, co-reply, co-hashtag, or `all`.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    behaviours: Vec<String>,
    /// Two actions on the same item co-act when at most this many seconds apart.
    #[arg(long, default_value_t = 60.0)]
    window: f64,
    /// Keep edges of at least this weight: the number of times two accounts co-acted on
    /// an item (once per burst of activity on it), popular items counting less than 1
    /// (see --popular).
    #[arg(long, default_value_t = 5.0)]
    min_weight: f64,
    /// Keep edges whose co-action episodes are at least this share of the quieter
    /// account's actions in the behaviour: busy accounts meet by chance now and then,
    /// members of an operation co-act in a good part of what they do.
    #[arg(long, default_value_t = 0.1)]
    min_overlap: f64,
    /// Directory to write the results into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// co-link: compare links by registrable domain (example.co.uk) rather than by URL.
    #[arg(long)]
    link_domain: bool,
    /// co-similar-text: Jaccard similarity of word shingles two texts must reach.
    #[arg(long, default_value_t = 0.8)]
    similarity: f64,
    /// co-similar-text: words per shingle.
    #[arg(long, default_value_t = 1)]
    shingle: usize,
    /// co-similar-text: texts with fewer distinct shingles are not compared.
    #[arg(long, default_value_t = 4)]
    min_shingles: usize,
    /// co-media: largest PDQ distance at which two images are the same.
    #[arg(long, default_value_t = 31)]
    pdq_distance: u32,
    /// An item acted on by at most this many accounts weighs 1 in an edge; more popular
    /// items weigh less, by rarity, down to 0 for an item everyone acted on.
    #[arg(long, default_value_t = 100)]
    popular: u32,
    /// An item acted on by more accounts than this is viral and not paired at all (its
    /// fans are not an operation, and pairing them would take quadratic memory).
    #[arg(long, default_value_t = 5000)]
    viral: u32,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Directory for the data moved out of memory on big inputs (default: the system's
    /// temporary directory). Its files are removed when the run ends, killed or not.
    #[arg(long)]
    spill_dir: Option<PathBuf>,
    /// Move actions, readable values and post ids to --spill-dir once more than this much
    /// of them is held in memory: bytes, or with a suffix K, M or G (powers of 1024).
    #[arg(long, default_value = "2G", value_parser = parse_size)]
    spill_after: usize,
    /// Name of your organisation, as the creator of the STIX objects.
    #[arg(long, default_value = "Accord analyst")]
    organisation: String,
    /// Your organisation's identity id in the exchange (identity--…), so the bundle's
    /// objects name it as their creator; without it an identity is made from the name.
    #[arg(long)]
    identity: Option<String>,
    /// TLP 2.0 marking of the STIX objects: clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber")]
    tlp: String,
    /// Attribute the clusters to a campaign of this name in the STIX bundle.
    #[arg(long)]
    campaign: Option<String>,
    /// Attribute the clusters to an intrusion set of this name in the STIX bundle.
    #[arg(long)]
    intrusion_set: Option<String>,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct PublishArgs {
    #[command(flatten)]
    remote: client::Remote,
    /// Directory written by `accord coord detect`.
    dir: PathBuf,
    /// Objects per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Show the exchange, not your organisation, as the source to recipients.
    #[arg(long)]
    anonymous: bool,
}

pub fn run(args: CoordArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        CoordCommand::Detect(a) => detect(*a),
        CoordCommand::Publish(a) => {
            let bundle = a.dir.join("bundle.json");
            if !bundle.is_file() {
                bail!(
                    "{} not found: run `accord coord detect --out {}` first",
                    bundle.display(),
                    a.dir.display()
                );
            }
            client::publish_files(a.remote, vec![bundle], a.batch, a.anonymous)
        }
    }
}

/// A size in bytes: digits, optionally followed by K, M or G (powers of 1024).
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches(['B', 'I'])
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("{s:?}: not a size (try 512M or 2G)")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?}: not a size (try 512M or 2G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?}: too big"))
}

fn behaviours(names: &[String]) -> anyhow::Result<Vec<Behaviour>> {
    let mut out = Vec::new();
    for name in names {
        let name = name.trim();
        if name == "all" {
            out.extend(Behaviour::ALL);
            continue;
        }
        match Behaviour::from_name(name) {
            Some(b) => out.push(b),
            None => bail!(
                "unknown behaviour {name:?}: choose from {}, or all",
                Behaviour::ALL.map(Behaviour::name).join(", ")
            ),
        }
    }
    if out.is_empty() {
        bail!("no behaviour selected");
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The optional columns the selected behaviours read.
fn fields(behaviours: &[Behaviour]) -> Fields {
    let has = |b: Behaviour| behaviours.contains(&b);
    Fields {
        text: has(Behaviour::CoText) || has(Behaviour::CoSimilarText),
        urls: has(Behaviour::CoLink),
        hashtags: has(Behaviour::CoHashtag),
        media: has(Behaviour::CoMedia),
        // Reposts are read whatever the behaviour: a repost's links and text are its
        // original's and must not count as its own.
        repost: true,
        reply: has(Behaviour::CoReply),
    }
}

fn detect(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    // Every step of the run on the same `threads` threads.
    accord_coord::on_threads(threads, move || detect_on(args, threads))
}

fn detect_on(args: DetectArgs, threads: usize) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let behaviours = behaviours(&args.behaviours)?;
    if !(args.window.is_finite() && args.window >= 0.0) {
        bail!("--window must be a number of seconds, 0 or more");
    }
    if !(args.similarity > 0.0 && args.similarity <= 1.0) {
        bail!("--similarity must be above 0 and at most 1");
    }
    if args.pdq_distance > 256 {
        bail!("--pdq-distance must be at most 256 (a PDQ hash has 256 bits)");
    }
    let format = match args.format.as_str() {
        "auto" => None,
        other => Some(
            other
                .parse::<Format>()
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?,
        ),
    };
    let config = Config {
        behaviours: behaviours.clone(),
        window_ms: (args.window * 1000.0).round() as i64,
        min_weight: args.min_weight,
        min_overlap: args.min_overlap,
        link_domain: args.link_domain,
        similarity: args.similarity,
        shingle: args.shingle.max(1),
        min_shingles: args.min_shingles,
        pdq_distance: args.pdq_distance,
        popular: args.popular,
        viral: args.viral,
        threads,
        spill_dir: Some(args.spill_dir.clone().unwrap_or_else(std::env::temp_dir)),
        memory: args.spill_after,
    };
    let options = ReadOptions {
        platform: args.platform.clone(),
        fields: fields(&behaviours),
        // Posts that act on nothing are counted and their accounts numbered, no more.
        idle_as_keys: true,
        idle_reposts: !behaviours.contains(&Behaviour::CoRepost),
    };
    // Open every file first, so a missing file or column fails before any work.
    let mut readers = Vec::new();
    for path in &args.input {
        let reader = Reader::open(path, format, &options)
            .with_context(|| format!("opening {}", path.display()))?;
        readers.push(reader);
    }
    let total: u64 = readers.iter().map(Reader::len).sum();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    bar.set_message("reading posts");

    let mut detector = Detector::new(config.clone());
    let mut bad: Vec<BadRow> = Vec::new();
    let mut bad_count = 0u64;
    // Every thread reads, parses and normalises pieces of the input; whichever is free
    // hands them to the detector in order.
    let preparer = detector.preparer();
    let parallel = Parallel {
        threads,
        ..Parallel::default()
    };
    read_parallel(
        readers,
        &parallel,
        &|batch| preparer.prepare(batch),
        &mut |prepared, rows, position| {
            let batch = detector.take(prepared);
            for row in rows {
                bad_count += 1;
                if bad_count <= SHOWN_BAD {
                    bar.suspend(|| {
                        eprintln!("skipped {}:{}: {}", row.file, row.line, row.reason);
                    });
                }
                bad.push(row);
            }
            bar.set_position(position);
            Some(batch)
        },
    )?;
    bar.set_position(total);
    let posts = detector.posts();
    let read_done = started.elapsed().as_secs_f64();
    // When each stage began, to tell the time each behaviour took.
    let mut stages: Vec<(String, Instant)> = Vec::new();
    let detection = detector
        .finish(&mut |stage| {
            bar.set_message(stage.to_owned());
            stages.push((stage.to_owned(), Instant::now()));
        })
        .context("detection failed")?;
    stages.push(("end".to_owned(), Instant::now()));
    let mut behaviour_secs: Vec<(String, f64)> = Vec::new();
    for w in stages.windows(2) {
        let name = w[0].0.split(':').next().unwrap_or_default().to_owned();
        let secs = (w[1].1 - w[0].1).as_secs_f64();
        match behaviour_secs.last_mut() {
            Some((last, total)) if *last == name => *total += secs,
            _ => behaviour_secs.push((name, secs)),
        }
    }
    let detect_done = started.elapsed().as_secs_f64();
    bar.set_message("writing");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_bad_rows(&args.out.join("bad-rows.csv"), &bad)?;
    let stix = stix_options(&args)?;
    accord_coord::output::write_all(&args.out, &detection, &config, &stix)
        .with_context(|| format!("writing results into {}", args.out.display()))?;
    bar.finish_and_clear();
    if bad_count > SHOWN_BAD {
        eprintln!(
            "skipped {bad_count} bad rows in all ({} more not shown; all are listed in {})",
            bad_count - SHOWN_BAD,
            args.out.join("bad-rows.csv").display()
        );
    }
    let phases = [
        read_done,
        detect_done - read_done,
        started.elapsed().as_secs_f64() - detect_done,
    ];
    summary(
        &detection,
        posts,
        bad_count,
        &args.out,
        started,
        phases,
        &behaviour_secs,
    );
    Ok(ExitCode::SUCCESS)
}

fn stix_options(args: &DetectArgs) -> anyhow::Result<StixOptions> {
    let mut options = StixOptions::new(args.organisation.clone(), SystemClock.now());
    options.tlp = args
        .tlp
        .parse::<Tlp>()
        .map_err(|e| anyhow::anyhow!("--tlp: {e}"))?;
    if options.tlp == Tlp::Red {
        bail!(
            "--tlp red needs named recipients; share the bundle as amber+strict or publish it with `accord publish` after adding them"
        );
    }
    options.identity = match &args.identity {
        Some(id) => Some(
            StixId::parse(id)
                .ok()
                .filter(|i| i.object_type() == "identity")
                .with_context(|| {
                    format!("--identity {id:?} is not an identity id (identity--<uuid>)")
                })?,
        ),
        None => None,
    };
    options.campaign = args.campaign.clone();
    options.intrusion_set = args.intrusion_set.clone();
    Ok(options)
}

/// Bad rows printed on the terminal; the rest go to the file only.
const SHOWN_BAD: u64 = 20;

fn write_bad_rows(path: &Path, rows: &[BadRow]) -> anyhow::Result<()> {
    use std::io::Write;
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "file,line,reason")?;
    for r in rows {
        writeln!(
            w,
            "{},{},{}",
            csv_field(&r.file),
            r.line,
            csv_field(&r.reason)
        )?;
    }
    w.flush()?;
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn summary(
    d: &Detection,
    posts: usize,
    bad: u64,
    out: &Path,
    started: Instant,
    [read, detect, write]: [f64; 3],
    behaviour_secs: &[(String, f64)],
) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{posts} posts by {} accounts ({bad} bad rows skipped) in {:.3} s: reading {read:.3} s, \
         detection {detect:.3} s, writing {write:.3} s",
        d.stats.accounts,
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        text,
        "{:<16} {:>10} {:>10} {:>7} {:>10} {:>8} {:>9}",
        "behaviour", "actions", "items", "viral", "pairs", "edges", "seconds"
    );
    for b in &d.stats.behaviours {
        let secs = behaviour_secs
            .iter()
            .find(|(name, _)| name == b.behaviour.name())
            .map_or(0.0, |(_, s)| *s);
        let _ = writeln!(
            text,
            "{:<16} {:>10} {:>10} {:>7} {:>10} {:>8} {:>9.2}",
            b.behaviour.name(),
            b.actions,
            b.items,
            b.viral_items,
            b.pairs,
            b.edges,
            secs
        );
    }
    let _ = writeln!(
        text,
        "{} clusters, {} accounts in edges",
        d.clusters.len(),
        d.accounts.len()
    );
    for c in d.clusters.iter().take(10) {
        let behaviours: Vec<&str> = c.behaviours.iter().map(|b| b.name()).collect();
        let shared = c
            .items
            .first()
            .map(|&i| {
                d.items[i as usize]
                    .value
                    .chars()
                    .take(60)
                    .collect::<String>()
            })
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "  cluster {}: {} accounts on {}, weight {:.1}, {}; e.g. {shared}",
            c.id,
            c.members.len(),
            c.platforms.join("+"),
            c.weight,
            behaviours.join(", ")
        );
    }
    let _ = writeln!(text, "results in {}", out.display());
    // A closed pipe (`| head`) is not an error worth more than silence.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}
