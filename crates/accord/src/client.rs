//! `accord publish` and `accord pull`: a TAXII 2.1 client for any TAXII 2.1 server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

const TAXII: &str = "application/taxii+json;version=2.1";

/// Where and as whom to connect.
#[derive(Debug, clap::Args)]
pub struct Remote {
    /// Server base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "ACCORD_SERVER")]
    server: String,
    /// API key.
    #[arg(long, env = "ACCORD_KEY", hide_env_values = true)]
    key: String,
    /// Collection (trust group) id.
    #[arg(long)]
    collection: String,
    /// API root path on the server.
    #[arg(long, default_value = "/exchange/")]
    api_root: String,
}

impl Remote {
    fn objects_url(&self) -> String {
        format!(
            "{}/{}/collections/{}/objects/",
            self.server.trim_end_matches('/'),
            self.api_root.trim_matches('/'),
            self.collection
        )
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    remote: Remote,
    /// STIX bundles (JSON) or JSON-lines files of STIX objects; `-` reads stdin.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Objects per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Show the exchange, not your organisation, as the source to recipients (identity,
    /// marking-definition and extension-definition objects are sent as they are).
    #[arg(long)]
    anonymous: bool,
}

/// Reads the objects of one file: a bundle/envelope, a JSON list, or JSON lines.
pub(crate) fn read_objects(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .with_context(|| format!("{}: not a JSON list", path.display()));
    }
    if let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(trimmed) {
        return match map.remove("objects") {
            Some(Value::Array(items)) => Ok(items),
            _ if map.contains_key("type") && map.get("type") != Some(&json!("bundle")) => {
                Ok(vec![Value::Object(map)])
            }
            _ => bail!(
                "{}: a JSON object without an `objects` list",
                path.display()
            ),
        };
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not JSON", path.display(), i + 1))
        })
        .collect()
}

pub fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    publish_files(args.remote, args.files, args.batch, args.anonymous)
}

/// Publishes the objects of `files` in batches of `batch`, reporting refusals.
pub fn publish_files(
    remote: Remote,
    files: Vec<PathBuf>,
    batch: usize,
    anonymous: bool,
) -> anyhow::Result<ExitCode> {
    let mut objects = Vec::new();
    for f in &files {
        objects.extend(read_objects(f)?);
    }
    if anonymous {
        for o in &mut objects {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            if matches!(
                kind,
                "identity" | "marking-definition" | "extension-definition"
            ) {
                continue;
            }
            if let Value::Object(map) = o {
                let mut sharing = accord_stix::ext::sharing(map)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                sharing.anonymous = true;
                accord_stix::ext::set_sharing(map, &sharing);
            }
        }
    }
    let url = remote.objects_url();
    let agent = agent();
    let bar = ProgressBar::new(objects.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} objects {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut ok, mut failed) = (0usize, 0usize);
    for chunk in objects.chunks(batch.max(1)) {
        let body = json!({"objects": chunk}).to_string();
        let mut resp = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", remote.key))
            .header("Accept", TAXII)
            .header("Content-Type", TAXII)
            .send(body)
            .with_context(|| format!("POST {url}"))?;
        let code = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let status: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if code != 202 && code != 422 {
            bar.abandon();
            bail!("POST {url}: HTTP {code}: {}", describe(&status, &text));
        }
        ok += status["success_count"].as_u64().unwrap_or(0) as usize;
        for f in status["failures"].as_array().into_iter().flatten() {
            failed += 1;
            bar.suspend(|| {
                eprintln!(
                    "refused {}: {}",
                    f["id"].as_str().unwrap_or("?"),
                    f["message"].as_str().unwrap_or("?")
                )
            });
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    eprintln!("published {ok} objects, {failed} refused");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn describe(error: &Value, raw: &str) -> String {
    match error["description"].as_str() {
        Some(d) => d.to_owned(),
        None => raw.chars().take(300).collect(),
    }
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    remote: Remote,
    /// Checkpoint file: where the last pull stopped (default
    /// `accord-pull-COLLECTION.checkpoint` in the current directory).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Write objects to this file (appending) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Objects per request.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
}

pub fn pull(args: PullArgs) -> anyhow::Result<ExitCode> {
    let checkpoint = args.checkpoint.clone().unwrap_or_else(|| {
        PathBuf::from(format!("accord-pull-{}.checkpoint", args.remote.collection))
    });
    let mut added_after: Option<String> = match std::fs::read_to_string(&checkpoint) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "checkpoint {} is not JSON; delete it to pull everything",
                    checkpoint.display()
                )
            })?;
            v["added_after"].as_str().map(str::to_owned)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e).with_context(|| format!("reading checkpoint {}", checkpoint.display()));
        }
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("opening {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} objects {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let agent = agent();
    let base = args.remote.objects_url();
    let mut next: Option<String> = None;
    let mut count = 0u64;
    let start_after = added_after.clone();
    loop {
        let mut req = agent
            .get(&base)
            .header("Authorization", &format!("Bearer {}", args.remote.key))
            .header("Accept", TAXII)
            .query("match[version]", "all")
            .query("limit", args.limit.to_string());
        if let Some(a) = &start_after {
            req = req.query("added_after", a);
        }
        if let Some(n) = &next {
            req = req.query("next", n);
        }
        let mut resp = req.call().with_context(|| format!("GET {base}"))?;
        let code = resp.status().as_u16();
        let last_added = resp
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let text = resp
            .body_mut()
            .read_to_string()
            .context("reading the response")?;
        let env: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if code != 200 {
            bar.abandon();
            bail!("GET {base}: HTTP {code}: {}", describe(&env, &text));
        }
        for o in env["objects"].as_array().into_iter().flatten() {
            writeln!(out, "{o}")?;
            count += 1;
        }
        bar.set_position(count);
        out.flush()?;
        if last_added.is_some() {
            added_after = last_added;
            let cp = json!({"added_after": added_after}).to_string();
            std::fs::write(&checkpoint, cp)
                .with_context(|| format!("writing checkpoint {}", checkpoint.display()))?;
        }
        match (env["more"].as_bool(), env["next"].as_str()) {
            (Some(true), Some(n)) => next = Some(n.to_owned()),
            _ => break,
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "pulled {count} objects; checkpoint {} at {}",
        checkpoint.display(),
        added_after.as_deref().unwrap_or("(start)")
    );
    Ok(ExitCode::SUCCESS)
}
