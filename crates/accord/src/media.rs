//! `accord media`: PDQ hashes of image files, and matching them against a list of hashes.
//!
//! `hash` walks files and folders (recursively), decodes and hashes each image on every core,
//! and prints `hash,quality,path` lines as the reference tool does; a file that cannot be
//! decoded is reported on standard error with its reason and the run goes on. `match` finds,
//! for an image or a hash, every hash of a local list within a distance.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use accord_media::decode::{self, Limits, Orientation};
use accord_media::index::Index;
use accord_media::pdq::{self, PdqHash};
use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Args)]
pub struct MediaArgs {
    #[command(subcommand)]
    command: MediaCmd,
}

#[derive(Debug, Subcommand)]
enum MediaCmd {
    /// Hash images (JPEG, PNG, GIF, WebP, BMP, TIFF): files, or folders searched recursively.
    /// Prints `hash,quality,path` lines; the hash is PDQ's 64 hex digits, the quality 0-100.
    Hash {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Turn JPEGs upright by their EXIF orientation before hashing (the reference tools
        /// hash the pixels as stored, which is the default).
        #[arg(long)]
        apply_exif_orientation: bool,
        /// Largest image accepted, in pixels (a decompression bomb is refused from its
        /// header).
        #[arg(long, default_value_t = 50_000_000)]
        max_pixels: u64,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Find the hashes within a distance of an image's hash (or of a hash given as 64 hex
    /// digits): those shared on a server that your organisation may see (`--server`,
    /// `--key`), printed as `distance,hash,indicator,marking,source` lines; or those of a
    /// local list (`--hashes`), printed as `distance,hash,label` lines. Nearest first.
    Match {
        /// An image file, or a PDQ hash.
        target: String,
        /// A local list: one hash a line, optionally followed by `,` and anything (a label;
        /// `accord media hash` output works as it is).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        hashes: Option<PathBuf>,
        /// Server base URL, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "ACCORD_SERVER", requires = "key")]
        server: Option<String>,
        /// API key.
        #[arg(long, env = "ACCORD_KEY", hide_env_values = true)]
        key: Option<String>,
        /// Largest Hamming distance reported (PDQ's usual threshold is 31).
        #[arg(long, default_value_t = 31)]
        threshold: u32,
        /// Lowest quality of the image's hash worth matching (a hash of an almost flat image
        /// matches everything).
        #[arg(long, default_value_t = 50)]
        quality_floor: u8,
    },
}

pub fn run(args: MediaArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        MediaCmd::Hash {
            paths,
            apply_exif_orientation,
            max_pixels,
            threads,
        } => {
            let limits = Limits {
                max_pixels,
                ..Limits::default()
            };
            let orientation = if apply_exif_orientation {
                Orientation::Apply
            } else {
                Orientation::Ignore
            };
            hash_all(&paths, &limits, orientation, threads)
        }
        MediaCmd::Match {
            target,
            hashes,
            server,
            key,
            threshold,
            quality_floor,
        } => match (hashes, server, key) {
            (Some(list), _, _) => match_list(&target, &list, threshold, quality_floor),
            (None, Some(server), Some(key)) => {
                match_server(&target, &server, &key, threshold, quality_floor)
            }
            _ => bail!("give --hashes FILE, or --server URL and --key KEY"),
        },
    }
}

/// Every file under `paths`, folders walked recursively, in a stable order.
fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).with_context(|| format!("reading {}", p.display()))?;
        if meta.is_dir() {
            let mut entries = std::fs::read_dir(&p)
                .with_context(|| format!("listing {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect::<Vec<_>>();
            entries.sort();
            stack.extend(entries.into_iter().rev());
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

fn hash_file(
    hasher: &mut pdq::Hasher,
    path: &Path,
    limits: &Limits,
    orientation: Orientation,
) -> anyhow::Result<pdq::Hashed> {
    let bytes = std::fs::read(path)?;
    let rgb = decode::decode(&bytes, limits, orientation)?;
    Ok(hasher.hash_rgb(rgb.width, rgb.height, &rgb.pixels)?)
}

fn hash_all(
    paths: &[PathBuf],
    limits: &Limits,
    orientation: Orientation,
    threads: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let files = files(paths)?;
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1);
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    // Results are printed in input order: each worker fills its slots, the printer drains
    // the finished prefix.
    let results: Mutex<(usize, Vec<Option<String>>)> = Mutex::new((0, vec![None; files.len()]));
    let stdout = std::io::stdout();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                // One hasher per worker: its buffers are reused from image to image.
                let mut hasher = pdq::Hasher::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let line = match hash_file(&mut hasher, path, limits, orientation) {
                        Ok(h) => format!("{},{},{}", h.hash, h.quality, path.display()),
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            bar.suspend(|| eprintln!("{}: {e:#}", path.display()));
                            String::new()
                        }
                    };
                    let mut guard = results.lock().unwrap_or_else(|p| p.into_inner());
                    let (printed, slots) = &mut *guard;
                    slots[i] = Some(line);
                    let mut out = stdout.lock();
                    while let Some(Some(l)) = slots.get_mut(*printed).map(Option::take) {
                        if !l.is_empty() {
                            let _ = writeln!(out, "{l}");
                        }
                        *printed += 1;
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let failed = failed.into_inner();
    eprintln!(
        "{} images hashed, {failed} could not be",
        files.len() - failed
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn match_list(
    target: &str,
    list: &Path,
    threshold: u32,
    quality_floor: u8,
) -> anyhow::Result<ExitCode> {
    let query: PdqHash = match target.parse() {
        Ok(h) => h,
        Err(_) => {
            let mut hasher = pdq::Hasher::new();
            let hashed = hash_file(
                &mut hasher,
                Path::new(target),
                &Limits::default(),
                Orientation::Ignore,
            )
            .with_context(|| format!("{target} is neither a PDQ hash nor a readable image"))?;
            if hashed.quality < quality_floor {
                bail!(
                    "{target} hashes with quality {} (below --quality-floor {quality_floor}): too flat to match",
                    hashed.quality
                );
            }
            hashed.hash
        }
    };
    let text =
        std::fs::read_to_string(list).with_context(|| format!("reading {}", list.display()))?;
    let mut index = Index::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hex, label) = line.split_once(',').unwrap_or((line, ""));
        let hash: PdqHash = hex
            .trim()
            .parse()
            .with_context(|| format!("{} line {}", list.display(), n + 1))?;
        index
            .insert(hash.0, (hash, label.to_owned()))
            .with_context(|| format!("{} line {}", list.display(), n + 1))?;
    }
    let mut out = std::io::stdout().lock();
    let found = index.query(&query.0, threshold);
    for m in &found {
        if let Some((_, (hash, label))) = index.get(m.id) {
            writeln!(out, "{},{hash},{label}", m.distance)?;
        }
    }
    eprintln!(
        "{} of {} hashes within {threshold}",
        found.len(),
        index.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn match_server(
    target: &str,
    server: &str,
    key: &str,
    threshold: u32,
    quality_floor: u8,
) -> anyhow::Result<ExitCode> {
    let url = format!(
        "{}/v1/media/match?threshold={threshold}&quality_floor={quality_floor}",
        server.trim_end_matches('/')
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {key}"));
    let response = match target.parse::<PdqHash>() {
        Ok(hash) => request.header("Content-Type", "application/json").send(
            serde_json::json!({"hash": hash.to_string()})
                .to_string()
                .as_bytes(),
        ),
        Err(_) => {
            let bytes = std::fs::read(target)
                .with_context(|| format!("{target} is neither a PDQ hash nor a readable file"))?;
            request
                .header("Content-Type", "application/octet-stream")
                .send(&bytes[..])
        }
    }
    .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.into_body().read_to_string()?;
    let body: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the server answered {status} with something not JSON"))?;
    if !status.is_success() {
        bail!(
            "the server answered {status}: {}",
            body["description"].as_str().unwrap_or(&text)
        );
    }
    let mut out = std::io::stdout().lock();
    let matches = body["matches"].as_array().cloned().unwrap_or_default();
    for m in &matches {
        let field = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
        writeln!(
            out,
            "{},{},{},{},{}",
            m["distance"],
            field("hash"),
            field("indicator"),
            field("marking"),
            field("source_name")
        )?;
    }
    eprintln!(
        "{} shared hashes within {threshold} of {}",
        matches.len(),
        body["hash"].as_str().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
