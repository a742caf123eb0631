//! `accord match`: observables from a file against indicators, on a server or locally.
//!
//! The input is one observable a line (`type:value`, a bare value whose kind is detected, or
//! JSON lines), or a STIX bundle of observed-data. Against a server (`--server`, `--key`)
//! the lines go in batches to `POST /v1/match`, which answers only with what the key's
//! organisation may see; with `--indicators FILE` they are matched here against every
//! indicator in that bundle. Either way the output is the same JSON lines: one per hit, per
//! suppressed hit and per refused line (line numbers count from the top of the file), then
//! one summary.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accord_match::Index;
use accord_match::known_good::KnownGood;
use accord_server::matching::{self, Counts, Matching, Meta};
use accord_stix::{Clock, SystemClock, Timestamp};
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// Observables: one a line (`type:value`, a bare value, or JSON lines), or a STIX bundle
    /// of observed-data; `-` reads stdin.
    file: PathBuf,
    /// Match here against the indicators in this file (a STIX bundle, a JSON list or JSON
    /// lines) instead of a server.
    #[arg(long, conflicts_with_all = ["server", "key", "sight"])]
    indicators: Option<PathBuf>,
    /// Server base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "ACCORD_SERVER", required_unless_present = "indicators")]
    server: Option<String>,
    /// API key.
    #[arg(
        long,
        env = "ACCORD_KEY",
        hide_env_values = true,
        required_unless_present = "indicators"
    )]
    key: Option<String>,
    /// When the observables were seen (a STIX timestamp; default now), for patterns with
    /// START/STOP.
    #[arg(long)]
    seen: Option<String>,
    /// Lines per request to the server.
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
    /// Record a sighting of every indicator hit (one per indicator, its count the number of
    /// hits), so its publisher learns it was seen.
    #[arg(long)]
    sight: bool,
    /// Where the sightings were made, for `--sight` (free text).
    #[arg(long, default_value = "")]
    sighted_at: String,
    /// Write the results here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Input read as lines, or a whole bundle.
enum Input {
    Lines(Box<dyn BufRead>, Option<u64>),
    Bundle(Vec<Value>),
}

fn open_input(path: &Path) -> anyhow::Result<Input> {
    let (reader, len): (Box<dyn Read>, Option<u64>) = if path == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    // A bundle starts with `{` and is not one JSON object per line: peek at the first line.
    let head = reader.fill_buf()?;
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let starts_object = first_line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if starts_object {
        let one: Result<Map<String, Value>, _> = serde_json::from_slice(first_line);
        let is_bundle = match &one {
            Ok(m) => m.get("type").and_then(Value::as_str) == Some("bundle"),
            Err(_) => true,
        };
        if is_bundle {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            let objects = accord_stix::bundle::objects(&bytes)
                .with_context(|| format!("{}: not a STIX bundle", path.display()))?;
            return Ok(Input::Bundle(objects));
        }
    }
    Ok(Input::Lines(Box::new(reader), len))
}

fn progress(len: Option<u64>) -> ProgressBar {
    match len {
        Some(n) => {
            let bar = ProgressBar::new(n);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {bytes} read {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        }
    }
}

/// Reads up to `n` lines; returns them with the bytes read.
fn read_batch(r: &mut dyn BufRead, n: usize) -> anyhow::Result<(Vec<String>, u64)> {
    let mut lines = Vec::with_capacity(n.min(1 << 16));
    let mut bytes = 0u64;
    let mut buf = String::new();
    while lines.len() < n {
        buf.clear();
        let got = r.read_line(&mut buf).context("reading the input")?;
        if got == 0 {
            break;
        }
        bytes += got as u64;
        lines.push(buf.trim_end_matches(['\n', '\r']).to_owned());
    }
    Ok((lines, bytes))
}

pub fn run(args: MatchArgs) -> anyhow::Result<ExitCode> {
    let seen = match &args.seen {
        Some(s) => Timestamp::parse(s).context("--seen")?,
        None => SystemClock.now(),
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let input = open_input(&args.file)?;
    let counts = match &args.indicators {
        Some(path) => local(path, input, &seen, &mut out)?,
        None => remote(&args, input, &seen, &mut out)?,
    };
    out.flush()?;
    eprintln!(
        "{} observables, {} hits, {} suppressed by known-good entries, {} lines refused",
        counts.observables, counts.hits, counts.suppressed, counts.errors
    );
    Ok(ExitCode::SUCCESS)
}

/// The index of a file's indicators: the latest version of each, unless revoked.
fn load_indicators(path: &Path) -> anyhow::Result<Index<Meta>> {
    let objects = crate::client::read_objects(path)?;
    let mut latest: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for o in objects {
        let Value::Object(m) = o else { continue };
        if m.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let Some(id) = m.get("id").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let version = |m: &Map<String, Value>| {
            m.get("modified")
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse(t).ok())
                .map(|t| t.nanos())
        };
        let newer = latest.get(&id).is_none_or(|old| version(&m) > version(old));
        if newer {
            latest.insert(id, m);
        }
    }
    let mut index = Index::new();
    let mut skipped = 0;
    for m in latest.values() {
        if m.get("revoked") == Some(&Value::Bool(true)) {
            continue;
        }
        let added = matching::indicator(m)
            .and_then(|(p, meta)| index.insert(&p, meta).map_err(|e| e.to_string()));
        if let Err(reason) = added {
            eprintln!("skipped: {reason}");
            skipped += 1;
        }
    }
    let stats = index.stats();
    eprintln!(
        "{} indicators indexed from {} ({} decided by lookup, {} evaluated on every observable of their types), {skipped} skipped",
        stats.patterns,
        path.display(),
        stats.exact,
        stats.fallback
    );
    Ok(index)
}

fn local(
    path: &Path,
    input: Input,
    seen: &Timestamp,
    out: &mut dyn Write,
) -> anyhow::Result<Counts> {
    let index = load_indicators(path)?;
    let known_good = KnownGood::new();
    let publishers = HashMap::new();
    let visible = |_: &Meta| true;
    let mut m = Matching {
        index: &index,
        visible: &visible,
        known_good: &known_good,
        seen: seen.clone(),
        now: SystemClock.now().nanos(),
        caller: None,
        exchange_identity: "",
        publishers: &publishers,
        counts: Counts::default(),
    };
    let mut buf = Vec::with_capacity(1 << 16);
    match input {
        Input::Bundle(objects) => m.bundle(&mut buf, &objects),
        Input::Lines(mut reader, len) => {
            let bar = progress(len);
            let mut line_no = 0;
            loop {
                let (lines, bytes) = read_batch(reader.as_mut(), 10_000)?;
                if lines.is_empty() {
                    break;
                }
                for l in &lines {
                    line_no += 1;
                    m.line(&mut buf, line_no, l);
                }
                out.write_all(&buf)?;
                buf.clear();
                bar.inc(bytes);
                bar.set_message(format!("{} hits", m.counts.hits));
            }
            bar.finish_and_clear();
        }
    }
    m.summary(&mut buf);
    out.write_all(&buf)?;
    Ok(m.counts)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// What `--sight` records per indicator.
struct Seen {
    count: u64,
    observed: String,
}

fn remote(
    args: &MatchArgs,
    input: Input,
    seen: &Timestamp,
    out: &mut dyn Write,
) -> anyhow::Result<Counts> {
    let (Some(server), Some(key)) = (&args.server, &args.key) else {
        bail!("give --server and --key, or --indicators FILE to match locally");
    };
    let base = server.trim_end_matches('/');
    let url = format!("{base}/v1/match?seen={}", seen.as_str());
    let agent = agent();
    let mut counts = Counts::default();
    let mut sightings: BTreeMap<String, Seen> = BTreeMap::new();
    let mut send = |body: Vec<u8>, content_type: &str, offset: usize| -> anyhow::Result<()> {
        let resp = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {key}"))
            .header("Content-Type", content_type)
            .send(&body[..])
            .with_context(|| format!("POST {url}"))?;
        let status = resp.status();
        let mut reader = BufReader::new(resp.into_body().into_reader());
        if !status.is_success() {
            let mut text = String::new();
            reader.read_to_string(&mut text)?;
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["description"].as_str().map(str::to_owned))
                .unwrap_or(text);
            bail!("the server answered {status}: {detail}");
        }
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let mut v: Map<String, Value> = serde_json::from_str(line.trim_end())
                .context("the server sent a line that is not JSON")?;
            if let Some(s) = v.get("summary") {
                let n = |k: &str| s[k].as_u64().unwrap_or(0) as usize;
                counts.observables += n("observables");
                counts.hits += n("hits");
                counts.suppressed += n("suppressed");
                counts.errors += n("errors");
                continue;
            }
            if let Some(Value::Number(n)) = v.get("line")
                && let Some(n) = n.as_u64()
            {
                v.insert("line".into(), json!(n as usize + offset));
            }
            if args.sight
                && v.get("suppressed").is_none()
                && let Some(id) = v.get("indicator").and_then(Value::as_str)
            {
                let e = sightings.entry(id.to_owned()).or_insert_with(|| Seen {
                    count: 0,
                    observed: v
                        .get("observable")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                });
                e.count += 1;
            }
            serde_json::to_writer(&mut *out, &v)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    match input {
        Input::Bundle(objects) => {
            let body = serde_json::to_vec(
                &json!({"type": "bundle", "id": format!("bundle--{}", accord_store::new_uuid()), "objects": objects}),
            )?;
            send(body, "application/json", 0)?;
        }
        Input::Lines(mut reader, len) => {
            let bar = progress(len);
            let mut offset = 0;
            loop {
                let (lines, bytes) = read_batch(reader.as_mut(), args.batch.max(1))?;
                if lines.is_empty() {
                    break;
                }
                let n = lines.len();
                send(lines.join("\n").into_bytes(), "text/plain", offset)?;
                offset += n;
                bar.inc(bytes);
            }
            bar.finish_and_clear();
        }
    }
    let summary = json!({"summary": {"observables": counts.observables, "hits": counts.hits, "suppressed": counts.suppressed, "errors": counts.errors}});
    serde_json::to_writer(&mut *out, &summary)?;
    out.write_all(b"\n")?;
    if args.sight && !sightings.is_empty() {
        let url = format!("{base}/v1/sightings");
        let mut recorded = 0;
        for (id, s) in &sightings {
            let body = json!({
                "indicator": id,
                "count": s.count.min(999_999_999),
                "last_seen": seen.as_str(),
                "where": args.sighted_at,
                "observed": s.observed,
            });
            let resp = agent
                .post(&url)
                .header("Authorization", &format!("Bearer {key}"))
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes())
                .with_context(|| format!("POST {url}"))?;
            if resp.status().is_success() {
                recorded += 1;
            } else {
                let status = resp.status();
                let text = resp.into_body().read_to_string().unwrap_or_default();
                eprintln!("sighting of {id} not recorded ({status}): {text}");
            }
        }
        eprintln!("{recorded} sightings recorded");
    }
    Ok(counts)
}
