//! `edges.csv`: every edge as one row, for Gephi's spreadsheet import or any table tool.
//!
//! Columns: `source,target,weight,behaviour`, then `episodes` (the co-action episodes
//! behind the edge, one evidence pair each), `first` and `last` (its earliest and latest evidence post, RFC 3339) and `type`
//! (always `Undirected`, the column Gephi reads an edge's direction from). Nodes are
//! `platform:id`. Fields are quoted as RFC 4180 says (in double quotes, inner quotes
//! doubled) when they hold a comma, a quote or a line break, so account ids can hold any of
//! them. Two accounts that co-acted in several behaviours have one row per behaviour.

use std::io::{self, Write};

use crate::model::Detection;

/// The header row.
pub const HEADER: &str = "source,target,weight,behaviour,episodes,first,last,type";

/// Writes every edge of `detection` as CSV, header first, in the detection's edge order.
pub fn write_edges_csv(mut w: impl Write, detection: &Detection) -> io::Result<()> {
    super::check(detection)?;
    writeln!(w, "{HEADER}")?;
    for e in &detection.edges {
        let source = detection.accounts[e.a as usize].key();
        let target = detection.accounts[e.b as usize].key();
        let first = e
            .evidence
            .iter()
            .map(|ev| ev.post_a.time_ms.min(ev.post_b.time_ms))
            .min();
        let last = e
            .evidence
            .iter()
            .map(|ev| ev.post_a.time_ms.max(ev.post_b.time_ms))
            .max();
        writeln!(
            w,
            "{},{},{},{},{},{},{},Undirected",
            field(&source),
            field(&target),
            e.weight,
            e.behaviour,
            e.evidence.len(),
            first.map(super::rfc3339).unwrap_or_default(),
            last.map(super::rfc3339).unwrap_or_default(),
        )?;
    }
    Ok(())
}

/// One CSV field, quoted when it has to be.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}
