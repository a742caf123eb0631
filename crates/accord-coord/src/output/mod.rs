//! Writing what detection found, in the forms analysts use: an edge list and GraphML for
//! Gephi, a JSON report of the clusters with the posts behind every edge, and a STIX 2.1
//! bundle to share through the exchange.
//!
//! Each format has one function that writes a [`Detection`] to any
//! [`Write`](std::io::Write) implementation, so the CLI, a test or a server can send it to
//! a file, a buffer or a socket; [`write_all`] puts the four side by side in a directory,
//! which is what `accord coord detect --out DIR` does.
//!
//! - [`write_edges_csv`] (`edges.csv`): every edge, one row each, nodes named
//!   `platform:id` ([`Account::key`](crate::model::Account::key)).
//! - [`write_graphml`] (`graph.graphml`): the same graph with node attributes (platform,
//!   account, cluster, weighted degree), undirected.
//! - [`write_clusters_json`] (`clusters.json`): the clusters with their members, the items
//!   they shared and the evidence, plus the run's parameters and counts.
//! - [`write_stix`] (`bundle.json`): a grouping per cluster with the accounts as
//!   `user-account` observables and indicators for the links and images they shared; see
//!   [`stix`] for the shape.
//!
//! Shared rules:
//! - **Deterministic.** The same detection and options give byte-identical files: order
//!   follows the [`Detection`] (accounts sorted, edges by behaviour then weight, clusters
//!   heaviest first), evidence is sorted by time, and nothing reads the clock (the STIX
//!   `created` time is an option). The worker count, which does not change results, is not
//!   written either.
//! - **Times** are RFC 3339 in UTC with milliseconds (`2024-10-01T12:00:00.000Z`).
//! - **Checked first.** A detection whose indices point outside its own lists is refused
//!   with [`io::ErrorKind::InvalidData`] before anything is written, so no writer indexes
//!   out of bounds and no file is half a graph.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::model::{Cluster, Detection};

/// A map with a fast fixed hash: the keys here are small numbers of this run's making.
type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

mod clusters;
mod edges;
mod graphml;
pub mod stix;
mod uuid;

pub use clusters::write_clusters_json;
pub use edges::write_edges_csv;
pub use graphml::write_graphml;
pub use stix::{StixOptions, stix_bundle, write_stix};

use crate::detect::Config;

/// Why [`write_all`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output directory could not be created.
    #[error("cannot create the directory {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// A file could not be written (or the detection is inconsistent: see the module
    /// documentation).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// The files [`write_all`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// `edges.csv`.
    pub edges: PathBuf,
    /// `graph.graphml`.
    pub graphml: PathBuf,
    /// `clusters.json`.
    pub clusters: PathBuf,
    /// `bundle.json` (STIX 2.1).
    pub bundle: PathBuf,
}

/// Writes `edges.csv`, `graph.graphml`, `clusters.json` and `bundle.json` into `dir`
/// (created with its parents if missing; existing files of those names are replaced).
pub fn write_all(
    dir: &Path,
    detection: &Detection,
    config: &Config,
    stix: &StixOptions,
) -> Result<Written, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Directory {
        path: dir.to_owned(),
        source,
    })?;
    let written = Written {
        edges: dir.join("edges.csv"),
        graphml: dir.join("graph.graphml"),
        clusters: dir.join("clusters.json"),
        bundle: dir.join("bundle.json"),
    };
    // The four files side by side on the threads of the current pool (see
    // `crate::on_threads`); the first failure is reported.
    let w = &written;
    let ((edges, graphml), (clusters, bundle)) = rayon::join(
        || {
            rayon::join(
                || to_file(&w.edges, |f| write_edges_csv(f, detection)),
                || to_file(&w.graphml, |f| write_graphml(f, detection)),
            )
        },
        || {
            rayon::join(
                || to_file(&w.clusters, |f| write_clusters_json(f, detection, config)),
                || to_file(&w.bundle, |f| write_stix(f, detection, stix)),
            )
        },
    );
    let results = [edges, graphml, clusters, bundle];
    for r in results {
        r?;
    }
    Ok(written)
}

fn to_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), OutputError> {
    // A file of an earlier run is removed, not truncated: ext4 writes a truncated file's
    // old blocks out when it is closed again, which made a re-run into the same
    // directory half as slow again. (Nothing to remove is the usual case.)
    let result = match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
    .and_then(|()| File::create(path))
    .and_then(|file| {
        let mut w = BufWriter::with_capacity(1 << 16, file);
        write(&mut w)?;
        // Written through to the kernel, which keeps it if the process is killed; not
        // forced to the disk, which these results (made again by running again) do not
        // need and which took longer than writing them.
        w.flush()
    });
    result.map_err(|source| OutputError::Write {
        path: path.to_owned(),
        source,
    })
}

/// A time in milliseconds since the epoch as RFC 3339 with milliseconds.
fn rfc3339(ms: i64) -> String {
    accord_stix::time::format_nanos(ms.saturating_mul(1_000_000), 3)
}

/// Refuses a detection whose indices point outside its lists (see the module docs).
fn check(d: &Detection) -> io::Result<()> {
    let bad = |what: String| Err(io::Error::new(io::ErrorKind::InvalidData, what));
    let (n_accounts, n_items, n_edges) = (d.accounts.len(), d.items.len(), d.edges.len());
    for (i, e) in d.edges.iter().enumerate() {
        if e.a as usize >= n_accounts || e.b as usize >= n_accounts {
            return bad(format!(
                "edge {i} joins accounts {} and {}, but there are {n_accounts}",
                e.a, e.b
            ));
        }
        if let Some(ev) = e.evidence.iter().find(|ev| ev.item as usize >= n_items) {
            return bad(format!(
                "edge {i} cites item {}, but there are {n_items}",
                ev.item
            ));
        }
    }
    for c in &d.clusters {
        if let Some(m) = c.members.iter().find(|&&m| m as usize >= n_accounts) {
            return bad(format!(
                "cluster {} has account {m}, but there are {n_accounts}",
                c.id
            ));
        }
        if let Some(e) = c.edges.iter().find(|&&e| e as usize >= n_edges) {
            return bad(format!(
                "cluster {} has edge {e}, but there are {n_edges}",
                c.id
            ));
        }
        if let Some(i) = c.items.iter().find(|&&i| i as usize >= n_items) {
            return bad(format!(
                "cluster {} has item {i}, but there are {n_items}",
                c.id
            ));
        }
    }
    Ok(())
}

/// What one cluster's members did with one item: who acted on it (indices into
/// [`Detection::accounts`], sorted) and when the earliest evidence post on it was made.
struct Shared {
    item: u32,
    accounts: Vec<u32>,
    first_ms: i64,
}

/// The items of a cluster in [`Cluster::items`] order, each with the members that acted on
/// it according to the evidence of the cluster's edges.
fn shared_items(d: &Detection, c: &Cluster) -> Vec<Shared> {
    let mut out: Vec<Shared> = c
        .items
        .iter()
        .map(|&item| Shared {
            item,
            accounts: Vec::new(),
            first_ms: i64::MAX,
        })
        .collect();
    let position: Map<u32, usize> = c
        .items
        .iter()
        .enumerate()
        .map(|(p, &item)| (item, p))
        .collect();
    let mut who: Vec<Vec<u32>> = vec![Vec::new(); out.len()];
    let mut first: Vec<i64> = vec![i64::MAX; out.len()];
    for &ei in &c.edges {
        let e = &d.edges[ei as usize];
        for ev in &e.evidence {
            if let Some(&p) = position.get(&ev.item) {
                who[p].extend([e.a, e.b]);
                first[p] = first[p].min(ev.post_a.time_ms).min(ev.post_b.time_ms);
            }
        }
    }
    for ((s, mut w), f) in out.iter_mut().zip(who).zip(first) {
        w.sort_unstable();
        w.dedup();
        s.accounts = w;
        s.first_ms = if f == i64::MAX { c.first_ms } else { f };
    }
    out
}
