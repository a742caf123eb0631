//! `accord`: the one binary — the server, administration, publish and pull, and the demo.

mod admin;
mod client;
mod coord;
mod demo;
mod matchcmd;
mod media;
mod pattern;
mod serve;

use std::path::PathBuf;

/// mimalloc instead of the system allocator: matching and ingest allocate many small,
/// short-lived objects, and with glibc's allocator a fifth of a bulk match went to
/// consolidating free lists (measured with `bench-match index`, which uses it too).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Accord: a threat-intelligence exchange for election security (STIX 2.1 over TAXII 2.1).
///
/// Run `accord demo` to try it: a seeded exchange on http://127.0.0.1:8080 with keys to use.
#[derive(Debug, Parser)]
#[command(name = "accord", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the exchange server.
    Serve(serve::ServeArgs),
    /// Manage organisations, trust groups and API keys (works whether or not a server runs on
    /// the same data directory).
    Admin(admin::AdminArgs),
    /// Publish STIX bundles or JSON-lines files into a collection on a server.
    Publish(client::PublishArgs),
    /// Pull new objects from a collection, resuming from a checkpoint; prints JSON lines.
    Pull(client::PullArgs),
    /// Start a server with a seeded election-security scenario and print keys to try it with.
    Demo(demo::DemoArgs),
    /// Check STIX patterns and evaluate them against observed data.
    Pattern(pattern::PatternArgs),
    /// Match observables (one a line, or a bundle of observed-data) against the indicators
    /// your organisation may see on a server, or against a local bundle of indicators;
    /// prints JSON lines, one per hit.
    Match(matchcmd::MatchArgs),
    /// PDQ perceptual hashes of images, and matching them against a list of hashes.
    Media(media::MediaArgs),
    /// Coordination detection: find the accounts behind an influence operation in files
    /// of posts, and share what was found.
    Coord(coord::CoordArgs),
}

/// The data directory option shared by `serve` and `admin`.
#[derive(Debug, clap::Args)]
struct DataArg {
    /// Data directory (created on first use), or `sqlite:FILE`.
    #[arg(long, env = "ACCORD_DATA", default_value = "./accord-data")]
    data: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Admin(a) => admin::run(a),
        Command::Publish(a) => client::publish(a),
        Command::Pull(a) => client::pull(a),
        Command::Demo(a) => demo::run(a),
        Command::Pattern(a) => pattern::run(a),
        Command::Match(a) => matchcmd::run(a),
        Command::Media(a) => media::run(a),
        Command::Coord(a) => coord::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
