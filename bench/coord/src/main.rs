//! bench-coord: Accord's coordination detection (`accord coord detect`) against
//! coordination-network-toolkit, in one run, on the same synthetic posts, with the ratios
//! and each tool's precision and recall against the planted groups printed.
//!
//! - `generate` (module `generate`) makes a dataset: a day of posts on three platforms,
//!   organic heavy-tailed activity, popular and viral items, planted coordinated groups, and
//!   the truth.
//! - `run` (module `run`) makes the datasets it needs, runs both tools on each behaviour,
//!   scores them and prints the tables.

#[path = "../../common.rs"]
#[allow(dead_code)]
mod common;
mod generate;
mod rng;
mod run;
mod words;

/// The allocator the `accord` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bench-coord",
    about = "Accord's coordination detection against coordination-network-toolkit, same posts, one run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make one dataset: posts.csv, posts.cnt.csv, truth.csv and summary.txt in OUT.
    /// 100m rows take about 15 GB of memory while they are made, and 9.2 GB on disk.
    Generate {
        /// Organic and planted posts: a number, or with a suffix k or m (100k, 1m, 10m).
        #[arg(long, default_value = "100k", value_parser = run::parse_size)]
        rows: u64,
        /// Add the viral-stress posts on top.
        #[arg(long)]
        viral: bool,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Directory to write (made if missing).
        #[arg(long)]
        out: PathBuf,
        /// Leave out posts.cnt.csv (the toolkit's copy of the posts).
        #[arg(long)]
        no_toolkit_file: bool,
    },
    /// Make the datasets, run both tools on each behaviour, print the tables.
    Run(run::Args),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Generate {
            rows,
            viral,
            seed,
            out,
            no_toolkit_file,
        } => {
            std::fs::create_dir_all(&out)?;
            let start = Instant::now();
            let s = generate::generate(
                &generate::Params {
                    rows,
                    viral,
                    seed,
                    toolkit_file: !no_toolkit_file,
                },
                &out,
            )?;
            eprintln!(
                "{} posts by {} accounts ({} planted, {} viral-stress) in {:.1} s into {}",
                s.rows,
                s.accounts,
                s.planted_rows,
                s.viral_rows,
                start.elapsed().as_secs_f64(),
                out.display()
            );
            Ok(())
        }
        Command::Run(args) => run::run(&args),
    }
}
