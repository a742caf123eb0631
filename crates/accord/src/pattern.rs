//! `accord pattern`: check a STIX pattern, or evaluate it against observed data.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_pattern::{Matcher, Observation};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct PatternArgs {
    #[command(subcommand)]
    command: PatternCmd,
}

#[derive(Debug, Subcommand)]
enum PatternCmd {
    /// Check a pattern: exit 0 when valid; exit 1 and the error, with its position, otherwise.
    Validate {
        /// The STIX pattern, e.g. "[domain-name:value = 'example.com']".
        pattern: String,
    },
    /// Evaluate a pattern against observed data: prints `true` or `false` (exit 0 either
    /// way); exit 2 on an error in the pattern or the input.
    Match {
        /// The STIX pattern.
        pattern: String,
        /// A STIX bundle, or a JSON list, of observed-data objects (STIX 2.1 with `object_refs`
        /// and the SCOs they name, or 2.0 with embedded `objects`); `-` reads stdin.
        #[arg(long)]
        observed: PathBuf,
    },
}

/// The pattern with a caret under the error's position.
fn show_error(pattern: &str, err: &accord_pattern::PatternError) -> String {
    let at = err.at.min(pattern.len());
    let column = pattern.get(..at).map_or(at, |p| p.chars().count());
    format!("{err}\n  {pattern}\n  {}^", " ".repeat(column))
}

pub fn run(args: PatternArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PatternCmd::Validate { pattern } => match accord_pattern::parse(&pattern) {
            Ok(p) => {
                println!("valid: {p}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {}", show_error(&pattern, &e));
                Ok(ExitCode::from(1))
            }
        },
        PatternCmd::Match { pattern, observed } => {
            let parsed = match accord_pattern::parse(&pattern) {
                Ok(p) => p,
                Err(e) => bail!("{}", show_error(&pattern, &e)),
            };
            let matcher = Matcher::new(&parsed).context("preparing the pattern")?;
            let objects = read_objects(&observed)?;
            let observations = observations(&objects)
                .with_context(|| format!("reading {}", observed.display()))?;
            let hit = matcher
                .matches(&observations)
                .context("evaluating the pattern")?;
            println!("{hit}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The objects of a bundle or JSON list.
fn read_objects(path: &PathBuf) -> anyhow::Result<Vec<Value>> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let objects = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("objects") {
            Some(Value::Array(items)) => items,
            _ => bail!(
                "{}: expected a bundle or a JSON list of observed-data",
                path.display()
            ),
        },
        _ => bail!(
            "{}: expected a bundle or a JSON list of observed-data",
            path.display()
        ),
    };
    Ok(objects)
}

/// One observation per observed-data object, borrowing the SCOs it names.
fn observations(objects: &[Value]) -> anyhow::Result<Vec<Observation<'_>>> {
    let out = Observation::all_in(objects)
        .map_err(|(i, e)| anyhow::anyhow!(e).context(format!("observed-data at position {i}")))?;
    if out.is_empty() {
        bail!("no observed-data in it");
    }
    Ok(out)
}
