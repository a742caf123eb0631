//! The runner: for each dataset, Accord then the toolkit on every behaviour, one process at
//! a time, timed from the outside (wall clock, start to exit), scored against the truth.
//!
//! - **Accord**: `accord coord detect --input posts.csv --behaviours B --window W
//!   --min-weight M --threads T --out DIR`: once untimed under `/usr/bin/time` for its
//!   peak RSS (when that exists), then `--accord-runs` times (5; up to 21 while they take
//!   under a second in all) on its own, waited for exactly, the median time reported.
//!   Detected accounts: both ends of every edge of `DIR/edges.csv`.
//! - **coordination-network-toolkit**: `compute_networks DB preprocess posts.cnt.csv` once
//!   per dataset (timed), then per behaviour a copy of that database (not timed) given to
//!   `compute_networks DB compute TYPE --time_window W --min_edge_weight M --n_cpus T` and
//!   the edges written by the toolkit's own CSV export (`cnt.py export`, self loops left
//!   out), both timed as its compute time. Co-link gets a database of its own, loaded by
//!   `cnt.py preprocess-links` (the toolkit's `preprocess_data` with empty URL lists left
//!   empty; the command line makes them the URL "", which links every post without a link
//!   to every other). The toolkit's time for a behaviour is its preprocess plus its compute,
//!   as for a user who wants that one network; the ratio divides that by Accord's time.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::common::{machine, repo_root, utc_now};
use crate::generate::{self, BEHAVIOURS, Params};

#[derive(clap::Args)]
pub struct Args {
    /// Dataset sizes (posts), comma-separated: 100k, 1m, 10m... `none` for no plain dataset
    /// (with --viral: the viral-stress dataset alone).
    #[arg(long, default_value = "100k,1m,10m", value_parser = parse_sizes)]
    sizes: Sizes,
    /// Also run the viral-stress dataset: --viral-rows posts plus 20,000 fans on five viral
    /// posts and a viral link, and one post reposted by 100,000 accounts.
    #[arg(long)]
    viral: bool,
    /// Organic and planted posts under the viral-stress posts.
    #[arg(long, default_value = "1m", value_parser = parse_size)]
    viral_rows: u64,
    /// Behaviours to run, comma-separated [default: all seven].
    #[arg(long, value_delimiter = ',')]
    behaviours: Vec<String>,
    /// Seconds after which a toolkit step (preprocess, or a compute with its export) is
    /// killed; its time is then reported as more than this.
    #[arg(long, default_value_t = 900)]
    cnt_timeout: u64,
    /// Also run the toolkit's co-link on the database its command line makes (empty urls
    /// cells becoming the URL ""), as a separate row.
    #[arg(long)]
    cnt_colink_as_is: bool,
    /// Co-action window in seconds, for both tools.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Minimum edge weight, for both tools.
    #[arg(long, default_value_t = 5)]
    min_weight: u64,
    /// Threads for both tools [default: the machine's cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Run one tool only.
    #[arg(long, value_enum)]
    only: Option<Side>,
    /// Timed runs of Accord per behaviour, at least; the median time is reported (its runs
    /// take a fraction of a second, where a busy machine's noise would otherwise show).
    /// Runs that take under a second in all are repeated up to 21 times. The toolkit, whose
    /// runs take seconds to minutes, runs once.
    #[arg(long, default_value_t = 5)]
    accord_runs: usize,
    /// Seed of the datasets.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Scratch directory for datasets and outputs [default: $TMPDIR/accord-bench-coord].
    /// Datasets made earlier with the same seed are reused.
    #[arg(long, env = "BENCH_COORD_DIR")]
    scratch: Option<PathBuf>,
    /// The accord binary [default: <target dir>/release/accord].
    #[arg(long, env = "BENCH_ACCORD_BIN")]
    accord: Option<PathBuf>,
    /// Python with coordination-network-toolkit [default: <repo>/.venv-bench/bin/python].
    #[arg(long, env = "BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// Keep each run's outputs (the toolkit's database copies are deleted otherwise).
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Side {
    Accord,
    Toolkit,
}

#[derive(Clone, Debug)]
pub struct Sizes(Vec<u64>);

pub fn parse_size(s: &str) -> Result<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mul) = if let Some(n) = s.strip_suffix('k') {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 1_000_000)
    } else {
        (s.as_str(), 1)
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n * mul),
        _ => bail!("not a size: {s} (try 100k, 1m, 10m)"),
    }
}

fn parse_sizes(s: &str) -> Result<Sizes> {
    if s.trim() == "none" {
        return Ok(Sizes(Vec::new()));
    }
    s.split(',')
        .map(parse_size)
        .collect::<Result<_>>()
        .map(Sizes)
}

/// `100k`, `1m`, `10m`, or the number.
fn label(rows: u64) -> String {
    if rows.is_multiple_of(1_000_000) {
        format!("{}m", rows / 1_000_000)
    } else if rows.is_multiple_of(1_000) {
        format!("{}k", rows / 1_000)
    } else {
        rows.to_string()
    }
}

/// 1234567 as `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The toolkit's network type for a behaviour, if it has one.
fn cnt_type(behaviour: &str) -> Option<&'static str> {
    match behaviour {
        "co-link" => Some("co_link"),
        "co-text" => Some("co_tweet"),
        "co-similar-text" => Some("co_similar_tweet"),
        "co-repost" => Some("co_retweet"),
        "co-reply" => Some("co_reply"),
        _ => None,
    }
}

/// How a child process ended.
struct Outcome {
    secs: f64,
    status: Option<ExitStatus>,
    timed_out: bool,
}

impl Outcome {
    fn ok(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }
}

/// Runs `cmd` with stdout and stderr appended to `log`, in a process group of its own, and
/// kills the whole group (the toolkit's worker processes too) after `timeout`.
fn run_logged(cmd: &mut Command, log: &Path, timeout: Option<Duration>) -> Result<Outcome> {
    let out = fs::OpenOptions::new().create(true).append(true).open(log)?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    // Waited for exactly, whichever the tool; a watchdog kills the group at the timeout.
    let group = format!("-{}", child.id());
    let (finished, wake) = std::sync::mpsc::channel::<()>();
    let watchdog = timeout.map(|timeout| {
        std::thread::spawn(move || match wake.recv_timeout(timeout) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                true
            }
            _ => false,
        })
    });
    let status = child.wait();
    let secs = start.elapsed().as_secs_f64();
    let _ = finished.send(());
    let fired = watchdog.is_some_and(|w| w.join().unwrap_or(false));
    let status = status?;
    // (Killed, unless it finished just as the watchdog fired.)
    let timed_out = fired && !status.success();
    Ok(Outcome {
        secs,
        status: (!timed_out).then_some(status),
        timed_out,
    })
}

/// The median of sorted `secs` (not empty).
fn median(secs: &[f64]) -> f64 {
    let n = secs.len();
    if n % 2 == 1 {
        secs[n / 2]
    } else {
        (secs[n / 2 - 1] + secs[n / 2]) / 2.0
    }
}

/// Most timed runs of Accord on one behaviour (see `--accord-runs`).
const MAX_ACCORD_RUNS: usize = 21;

/// Precision and recall of detected accounts against planted ones.
#[derive(Clone, Copy, Default)]
struct Score {
    detected: usize,
    truth: usize,
    hits: usize,
}

impl Score {
    fn precision(&self) -> Option<f64> {
        (self.detected > 0).then(|| self.hits as f64 / self.detected as f64)
    }

    fn recall(&self) -> f64 {
        if self.truth == 0 {
            1.0
        } else {
            self.hits as f64 / self.truth as f64
        }
    }

    fn met(&self) -> bool {
        self.precision().is_some_and(|p| p >= 0.95) && self.recall() >= 0.95
    }

    fn show(&self) -> String {
        match self.precision() {
            Some(p) => format!("{p:.3} / {:.3}", self.recall()),
            None => format!("— / {:.3}", self.recall()),
        }
    }
}

/// Accounts at either end of an edge: the first two fields of every line but the header,
/// quotes removed, keeping only lines whose fourth field (if any) is `behaviour`.
fn detected(path: &Path, behaviour: Option<&str>) -> Result<HashSet<String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = HashSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        if f.len() < 2 || f[0].is_empty() {
            continue;
        }
        if let (Some(b), Some(got)) = (behaviour, f.get(3))
            && *got != b
        {
            continue;
        }
        out.insert(f[0].to_owned());
        out.insert(f[1].to_owned());
    }
    Ok(out)
}

fn score(found: &HashSet<String>, truth: &HashSet<String>) -> Score {
    Score {
        detected: found.len(),
        truth: truth.len(),
        hits: found.intersection(truth).count(),
    }
}

/// Planted accounts per behaviour, as `platform:account_id`.
fn truth(dir: &Path) -> Result<HashMap<String, HashSet<String>>> {
    let text = fs::read_to_string(dir.join("truth.csv"))?;
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if let [b, _, p, a] = f.as_slice() {
            out.entry((*b).to_owned())
                .or_default()
                .insert(format!("{p}:{a}"));
        }
    }
    Ok(out)
}

struct AccordRun {
    secs: f64,
    rss_kib: Option<u64>,
    score: Score,
}

enum Toolkit {
    /// It has no such behaviour.
    None,
    /// Preprocess and compute seconds (compute includes the export).
    Done {
        pre: f64,
        compute: f64,
        score: Score,
    },
    /// A step was killed at the timeout: the seconds of the steps so far, a lower bound.
    TimedOut {
        at_least: f64,
    },
    Failed(String),
    NotRun,
}

struct Line {
    behaviour: String,
    accord: Result<AccordRun, String>,
    toolkit: Toolkit,
}

struct Tools {
    accord: Option<PathBuf>,
    python: PathBuf,
    compute_networks: PathBuf,
    script: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let repo = repo_root();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let scratch = args.scratch.clone().unwrap_or_else(|| {
        std::env::var_os("TMPDIR")
            .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
            .join("accord-bench-coord")
    });
    fs::create_dir_all(&scratch)?;
    let behaviours: Vec<String> = if args.behaviours.is_empty() {
        BEHAVIOURS.iter().map(|b| (*b).to_owned()).collect()
    } else {
        for b in &args.behaviours {
            if !BEHAVIOURS.contains(&b.as_str()) {
                bail!("unknown behaviour {b}; known: {}", BEHAVIOURS.join(","));
            }
        }
        args.behaviours.clone()
    };

    let python = args
        .python
        .clone()
        .unwrap_or_else(|| repo.join(".venv-bench/bin/python"));
    let compute_networks = python.with_file_name("compute_networks");
    let accord_bin = args
        .accord
        .clone()
        .unwrap_or_else(|| target_dir(&repo).join("release/accord"));
    let mut versions = String::new();
    let mut unavailable = false;
    let accord = if args.only == Some(Side::Toolkit) {
        None
    } else {
        let help = Command::new(&accord_bin)
            .args(["coord", "detect", "--help"])
            .stdin(Stdio::null())
            .output();
        match help {
            Ok(o) if o.status.success() => {
                let v = Command::new(&accord_bin).arg("--version").output().ok();
                let v = v
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .unwrap_or_default();
                let _ = write!(versions, "{v} ({})", accord_bin.display());
                Some(accord_bin.clone())
            }
            _ => {
                unavailable = true;
                None
            }
        }
    };
    if args.only != Some(Side::Accord) {
        let v = Command::new(&python)
            .args([
                "-c",
                "import sys, importlib.metadata as m; \
                 print('coordination-network-toolkit', m.version('coordination_network_toolkit'), \
                 '(Python', sys.version.split()[0] + ')')",
            ])
            .output()
            .with_context(|| format!("running {}", python.display()))?;
        if !v.status.success() {
            bail!(
                "{} has no coordination_network_toolkit (run bench/coord/run.sh)",
                python.display()
            );
        }
        if !versions.is_empty() {
            versions.push_str("; ");
        }
        versions.push_str(String::from_utf8_lossy(&v.stdout).trim());
    }
    let tools = Tools {
        accord,
        python,
        compute_networks,
        script: repo.join("bench/coord/cnt.py"),
    };

    println!("bench-coord: coordination detection, Accord against coordination-network-toolkit");
    println!("{}", utc_now());
    println!("{}", machine());
    println!("{versions}");
    println!(
        "window {} s, minimum weight {}, {threads} threads for each tool, toolkit timeout {} s per step, seed {}",
        args.window, args.min_weight, args.cnt_timeout, args.seed
    );
    if unavailable {
        println!(
            "accord coord detect not available in this build ({}): the toolkit runs alone",
            accord_bin.display()
        );
    }

    let mut datasets: Vec<Params> = args
        .sizes
        .0
        .iter()
        .map(|&rows| Params {
            rows,
            viral: false,
            seed: args.seed,
            toolkit_file: args.only != Some(Side::Accord),
        })
        .collect();
    if args.viral {
        datasets.push(Params {
            rows: args.viral_rows,
            viral: true,
            seed: args.seed,
            toolkit_file: args.only != Some(Side::Accord),
        });
    }
    let mut all_met = true;
    for params in &datasets {
        let name = if params.viral {
            format!("viral-{}", label(params.rows))
        } else {
            label(params.rows)
        };
        let dir = scratch.join(format!("{name}-seed{}", params.seed));
        let summary = dataset(params, &dir)?;
        let truth = truth(&dir)?;
        let lines = run_dataset(args, &tools, &dir, &behaviours, &truth, threads)?;
        all_met &= print_table(
            args,
            &name,
            params,
            &summary,
            &lines,
            tools.accord.is_some(),
        );
    }
    if tools.accord.is_some() {
        let verdict = match (all_met, args.only) {
            (true, Some(Side::Accord)) => {
                "met (precision and recall; speed not measured: toolkit not run)"
            }
            (true, _) => "met",
            (false, _) => "NOT all met",
        };
        println!("\nall targets {verdict}");
    }
    Ok(())
}

/// The target directory cargo builds into.
fn target_dir(repo: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from)
}

/// Makes the dataset unless the same one is already there.
fn dataset(params: &Params, dir: &Path) -> Result<generate::Summary> {
    if let Some((summary, seed, version, rows, viral)) = generate::read_summary(dir)
        && seed == params.seed
        && version == generate::VERSION
        && rows == params.rows
        && viral == params.viral
        && dir.join("posts.csv").exists()
        && (!params.toolkit_file || dir.join("posts.cnt.csv").exists())
    {
        eprintln!("reusing {}", dir.display());
        return Ok(summary);
    }
    fs::create_dir_all(dir)?;
    let _ = fs::remove_file(dir.join("summary.txt"));
    eprintln!("making {}", dir.display());
    let start = Instant::now();
    let summary = generate::generate(params, dir)?;
    // On the disk before any tool is timed, so that writing them back is not going on
    // under the first runs.
    for name in ["posts.csv", "posts.cnt.csv", "truth.csv", "summary.txt"] {
        if let Ok(f) = fs::File::open(dir.join(name)) {
            f.sync_all()
                .with_context(|| format!("syncing {}", dir.join(name).display()))?;
        }
    }
    eprintln!(
        "  {} posts in {:.1} s",
        thousands(summary.rows),
        start.elapsed().as_secs_f64()
    );
    Ok(summary)
}

fn run_dataset(
    args: &Args,
    tools: &Tools,
    dir: &Path,
    behaviours: &[String],
    truth: &HashMap<String, HashSet<String>>,
    threads: usize,
) -> Result<Vec<Line>> {
    let empty = HashSet::new();
    let runs = dir.join("runs");
    let _ = fs::remove_dir_all(&runs);
    fs::create_dir_all(&runs)?;
    let timeout = Some(Duration::from_secs(args.cnt_timeout));
    let mut lines = Vec::new();

    // Accord, behaviour by behaviour.
    for b in behaviours {
        let accord = match &tools.accord {
            None => Err("n/a".to_owned()),
            Some(bin) => {
                eprintln!("accord {b}");
                let out = runs.join(format!("accord-{b}"));
                let rss = runs.join(format!("accord-{b}.rss"));
                let log = runs.join(format!("accord-{b}.log"));
                let accord_cmd = |wrap: Option<&Path>| {
                    let mut c = match wrap {
                        Some(time) => {
                            let mut c = Command::new(time);
                            c.args(["-f", "%M", "-o"]).arg(&rss).arg(bin);
                            c
                        }
                        None => Command::new(bin),
                    };
                    c.args(["coord", "detect", "--input"])
                        .arg(dir.join("posts.csv"))
                        .args(["--behaviours", b])
                        .args(["--window", &args.window.to_string()])
                        .args(["--min-weight", &args.min_weight.to_string()])
                        .args(["--threads", &threads.to_string()])
                        .arg("--out")
                        .arg(&out);
                    c
                };
                // One run, not timed, under /usr/bin/time for the peak RSS; then the
                // timed runs, the process alone.
                let time = Path::new("/usr/bin/time");
                let mut rss_kib: Option<u64> = None;
                let mut failed = false;
                if time.exists() {
                    let _ = fs::remove_dir_all(&out);
                    failed = !run_logged(&mut accord_cmd(Some(time)), &log, None)?.ok();
                    rss_kib = fs::read_to_string(&rss)
                        .ok()
                        .and_then(|s| s.trim().lines().last()?.trim().parse().ok());
                }
                let mut secs: Vec<f64> = Vec::new();
                while !failed
                    && (secs.len() < args.accord_runs.max(1)
                        || (secs.len() < MAX_ACCORD_RUNS && secs.iter().sum::<f64>() < 1.0))
                {
                    let _ = fs::remove_dir_all(&out);
                    let o = run_logged(&mut accord_cmd(None), &log, None)?;
                    if !o.ok() {
                        failed = true;
                        break;
                    }
                    secs.push(o.secs);
                }
                if failed {
                    Err(format!("failed, see {}", log.display()))
                } else {
                    secs.sort_by(f64::total_cmp);
                    let found = detected(&out.join("edges.csv"), Some(b))?;
                    Ok(AccordRun {
                        secs: median(&secs),
                        rss_kib,
                        score: score(&found, truth.get(b).unwrap_or(&empty)),
                    })
                }
            }
        };
        lines.push(Line {
            behaviour: b.clone(),
            accord,
            toolkit: Toolkit::NotRun,
        });
    }

    if args.only == Some(Side::Accord) {
        return Ok(lines);
    }

    // The toolkit: preprocess once (and once more for co-link), then each behaviour on a
    // copy of the database.
    let input = dir.join("posts.cnt.csv");
    let preprocess = |db: &Path, links: bool| -> Result<Outcome> {
        for suffix in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let log = runs.join(if links {
            "cnt-preprocess-links.log"
        } else {
            "cnt-preprocess.log"
        });
        eprintln!("toolkit preprocess{}", if links { " (links)" } else { "" });
        let mut cmd = if links {
            let mut c = Command::new(&tools.python);
            c.arg(&tools.script)
                .arg("preprocess-links")
                .arg(db)
                .arg(&input);
            c
        } else {
            let mut c = Command::new(&tools.compute_networks);
            c.arg(db).arg("preprocess").arg(&input);
            c
        };
        run_logged(&mut cmd, &log, timeout)
    };
    let wanted: Vec<&str> = behaviours.iter().filter_map(|b| cnt_type(b)).collect();
    let base_db = runs.join("cnt.db");
    let links_db = runs.join("cnt-links.db");
    let base = if wanted.iter().any(|t| *t != "co_link") || args.cnt_colink_as_is {
        Some(preprocess(&base_db, false)?)
    } else {
        None
    };
    let links = if wanted.contains(&"co_link") {
        Some(preprocess(&links_db, true)?)
    } else {
        None
    };

    let compute = |kind: &str,
                   db: &Path,
                   pre: &Outcome,
                   truth: &HashSet<String>,
                   tag: &str|
     -> Result<Toolkit> {
        if pre.timed_out {
            return Ok(Toolkit::TimedOut { at_least: pre.secs });
        }
        if !pre.ok() {
            return Ok(Toolkit::Failed("preprocess failed".into()));
        }
        let work = runs.join(format!("cnt-{tag}.db"));
        fs::copy(db, &work)?;
        // On the disk before the timed step, as the dataset is (see `dataset`).
        fs::File::open(&work)?.sync_all()?;
        let log = runs.join(format!("cnt-{tag}.log"));
        let edges = runs.join(format!("cnt-{tag}.csv"));
        eprintln!("toolkit {tag}");
        let mut cmd = Command::new(&tools.compute_networks);
        cmd.arg(&work)
            .args(["compute", kind])
            .args(["--time_window", &args.window.to_string()])
            .args(["--min_edge_weight", &args.min_weight.to_string()])
            .args(["--n_cpus", &threads.to_string()]);
        let c = run_logged(&mut cmd, &log, timeout)?;
        let result = if c.timed_out {
            Toolkit::TimedOut {
                at_least: pre.secs + c.secs,
            }
        } else if !c.ok() {
            Toolkit::Failed(format!("compute failed, see {}", log.display()))
        } else {
            let left = timeout.map(|t| t.saturating_sub(Duration::from_secs_f64(c.secs)));
            let mut cmd = Command::new(&tools.python);
            cmd.arg(&tools.script)
                .arg("export")
                .arg(&work)
                .arg(kind)
                .arg(&edges);
            let e = run_logged(&mut cmd, &log, left)?;
            if e.timed_out {
                Toolkit::TimedOut {
                    at_least: pre.secs + c.secs + e.secs,
                }
            } else if !e.ok() {
                Toolkit::Failed(format!("export failed, see {}", log.display()))
            } else {
                let found = detected(&edges, None)?;
                Toolkit::Done {
                    pre: pre.secs,
                    compute: c.secs + e.secs,
                    score: score(&found, truth),
                }
            }
        };
        if !args.keep {
            for suffix in ["", "-wal", "-shm"] {
                let _ = fs::remove_file(format!("{}{suffix}", work.display()));
            }
        }
        Ok(result)
    };

    for line in &mut lines {
        let Some(kind) = cnt_type(&line.behaviour) else {
            line.toolkit = Toolkit::None;
            continue;
        };
        let t = truth.get(&line.behaviour).unwrap_or(&empty);
        let (db, pre) = if kind == "co_link" {
            (&links_db, &links)
        } else {
            (&base_db, &base)
        };
        let Some(pre) = pre else { continue };
        line.toolkit = compute(kind, db, pre, t, kind)?;
    }
    if args.cnt_colink_as_is
        && behaviours.iter().any(|b| b == "co-link")
        && let Some(pre) = &base
    {
        let t = truth.get("co-link").unwrap_or(&empty);
        let toolkit = compute("co_link", &base_db, pre, t, "co_link-as-is")?;
        lines.push(Line {
            behaviour: "co-link (toolkit CLI as is)".into(),
            accord: Err("(same as co-link)".into()),
            toolkit,
        });
    }
    if !args.keep {
        let _ = fs::remove_file(&base_db);
        let _ = fs::remove_file(&links_db);
    }
    Ok(lines)
}

/// Prints one dataset's table; returns whether Accord met every target.
fn print_table(
    args: &Args,
    name: &str,
    params: &Params,
    summary: &generate::Summary,
    lines: &[Line],
    accord: bool,
) -> bool {
    println!();
    let planted: usize = summary.groups.iter().map(|(_, _, a)| a).sum();
    let groups = summary.groups.first().map_or(0, |(_, g, _)| *g);
    println!(
        "## {name}: {} posts by {} accounts{}; planted: {groups} groups per behaviour, {} accounts, {} posts",
        thousands(summary.rows),
        thousands(summary.accounts),
        if params.viral {
            format!(
                " ({} of them viral-stress posts)",
                thousands(summary.viral_rows)
            )
        } else {
            String::new()
        },
        thousands(planted as u64),
        thousands(summary.planted_rows),
    );
    println!();
    println!(
        "| behaviour | Accord s | toolkit s (preprocess + compute = total) | ratio | Accord P / R | toolkit P / R | Accord peak RSS | targets (≥50x; P, R ≥ 0.95) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_met = true;
    for l in lines {
        let (accord_s, accord_pr, rss) = match &l.accord {
            Ok(a) => (
                format!("{:.2}", a.secs),
                a.score.show(),
                a.rss_kib
                    .map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
            ),
            Err(e) => (e.clone(), "—".into(), "—".into()),
        };
        let (cnt_s, ratio, cnt_pr, speed_met) = match &l.toolkit {
            Toolkit::None => ("—".into(), "—".into(), "—".into(), None),
            Toolkit::NotRun => ("not run".into(), "—".into(), "—".into(), None),
            Toolkit::Failed(e) => (e.clone(), "—".into(), "—".into(), None),
            Toolkit::Done {
                pre,
                compute,
                score,
            } => {
                let total = pre + compute;
                let (ratio, met) = match &l.accord {
                    Ok(a) => (
                        format!("{:.1}x", total / a.secs),
                        Some(total / a.secs >= 50.0),
                    ),
                    Err(_) => ("—".into(), None),
                };
                (
                    format!("{pre:.1} + {compute:.1} = {total:.1}"),
                    ratio,
                    score.show(),
                    met,
                )
            }
            Toolkit::TimedOut { at_least } => {
                let (ratio, met) = match &l.accord {
                    Ok(a) => (
                        format!(">{:.1}x", at_least / a.secs),
                        Some(at_least / a.secs >= 50.0),
                    ),
                    Err(_) => ("—".into(), None),
                };
                (
                    format!(">{at_least:.0} (killed at the timeout)"),
                    ratio,
                    "—".into(),
                    met,
                )
            }
        };
        let targets = match &l.accord {
            Ok(a) => {
                let pr = a.score.met();
                let speed = speed_met.map(|m| if m { "speed met" } else { "speed MISSED" });
                all_met &= pr && speed_met.unwrap_or(true);
                let pr = if pr { "P/R met" } else { "P/R MISSED" };
                speed.map_or(pr.to_owned(), |s| format!("{s}, {pr}"))
            }
            Err(_) => "—".into(),
        };
        println!(
            "| {} | {accord_s} | {cnt_s} | {ratio} | {accord_pr} | {cnt_pr} | {rss} | {targets} |",
            l.behaviour
        );
    }
    let _ = args;
    if !accord {
        all_met = false;
    }
    println!();
    println!(
        "ratio = toolkit total (its preprocess + its compute and export) / Accord's whole run; \
         P / R = precision / recall of the accounts in any edge against the planted accounts."
    );
    all_met
}
