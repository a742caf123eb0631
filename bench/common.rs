//! Helpers every benchmark in `bench/` shares: where the repository is, how the machine is
//! described, the date, and how rates are printed. Included by each benchmark binary with
//! `#[path]`, so that the benchmarks stay separate crates without a library between them.

use std::path::{Path, PathBuf};

/// The repository root (each benchmark crate sits two levels below it).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| manifest.join("../.."))
}

/// A rate with no decimals from 100 up, two below.
pub fn fmt_rate(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.2}")
    }
}

/// Cores, CPU model, memory and kernel, for the header of a benchmark's output.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "nproc {cpus}, {model} (family {}, model {}), {mem_gib:.1} GiB RAM, Linux {}",
        field("cpu family"),
        field("model"),
        kernel.trim()
    )
}

/// Now as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_now() -> String {
    use accord_stix::Clock;
    let text = accord_stix::time::format_nanos(accord_stix::SystemClock.now_nanos(), 0);
    text.replace('T', " ").replace('Z', " UTC")
}

/// Memory figures of this process from /proc/self/status, in bytes.
#[derive(Clone, Copy)]
pub struct Memory {
    /// Resident set size now (VmRSS).
    pub rss: u64,
    /// Peak resident set size (VmHWM).
    pub peak: u64,
}

/// This process's memory now; zeros where /proc is not readable.
pub fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Memory {
        rss: field("VmRSS:"),
        peak: field("VmHWM:"),
    }
}
