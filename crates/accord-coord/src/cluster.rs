//! Communities in the graph of edges, by Louvain modularity optimisation.
//!
//! Planted operations and real ones alike tend to be dense groups joined to the rest by a
//! few accidental edges; modularity finds those groups without being told how many there
//! are. Louvain (Blondel et al., 2008) moves each node to the neighbouring community that
//! gains the most modularity until nothing moves, folds communities into single nodes and
//! repeats. Nodes are visited in index order, so the result is deterministic. Nodes of
//! different connected components never share a community.

/// A community number for each of the `n` nodes, numbered from 0 in order of each
/// community's smallest node. `edges` are undirected `(u, v, weight)`; repeated pairs add
/// up; self-loops are allowed.
#[must_use]
pub fn louvain(n: usize, edges: &[(u32, u32, f64)]) -> Vec<u32> {
    let mut graph = Graph::new(n, edges.iter().copied());
    // Membership of each original node in the current level's nodes.
    let mut membership: Vec<u32> = (0..n as u32).collect();
    for _level in 0..32 {
        let (community, count) = graph.one_level();
        if count == graph.n {
            break;
        }
        for m in &mut membership {
            *m = community[*m as usize];
        }
        graph = graph.fold(&community, count);
    }
    renumber(&membership)
}

/// Numbers communities from 0 in order of first appearance.
fn renumber(membership: &[u32]) -> Vec<u32> {
    let mut map = vec![u32::MAX; membership.len()];
    let mut next = 0;
    membership
        .iter()
        .map(|&c| {
            let slot = &mut map[c as usize];
            if *slot == u32::MAX {
                *slot = next;
                next += 1;
            }
            *slot
        })
        .collect()
}

/// A weighted undirected graph in compressed adjacency form.
struct Graph {
    n: usize,
    /// Start of each node's neighbours in `adjacent`.
    starts: Vec<usize>,
    adjacent: Vec<(u32, f64)>,
    /// Weight of each node's self-loop (counted once).
    loops: Vec<f64>,
    /// Sum of the weights at each node, self-loops counted twice.
    degree: Vec<f64>,
    /// Twice the total weight.
    total: f64,
}

impl Graph {
    fn new(n: usize, edges: impl Iterator<Item = (u32, u32, f64)>) -> Graph {
        let mut loops = vec![0.0; n];
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        for (u, v, w) in edges {
            if u == v {
                loops[u as usize] += w;
            } else {
                pairs.push((u, v, w));
                pairs.push((v, u, w));
            }
        }
        pairs.sort_unstable_by_key(|&(u, v, _)| (u, v));
        // Merge repeated pairs.
        let mut merged: Vec<(u32, u32, f64)> = Vec::with_capacity(pairs.len());
        for (u, v, w) in pairs {
            match merged.last_mut() {
                Some(last) if last.0 == u && last.1 == v => last.2 += w,
                _ => merged.push((u, v, w)),
            }
        }
        let mut starts = vec![0; n + 1];
        for &(u, _, _) in &merged {
            starts[u as usize + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let adjacent: Vec<(u32, f64)> = merged.iter().map(|&(_, v, w)| (v, w)).collect();
        let mut degree = vec![0.0; n];
        for (u, d) in degree.iter_mut().enumerate() {
            *d = adjacent[starts[u]..starts[u + 1]]
                .iter()
                .map(|&(_, w)| w)
                .sum::<f64>()
                + 2.0 * loops[u];
        }
        let total = degree.iter().sum();
        Graph {
            n,
            starts,
            adjacent,
            loops,
            degree,
            total,
        }
    }

    /// Local moves until no node moves; returns each node's community, numbered densely,
    /// and the number of communities.
    fn one_level(&self) -> (Vec<u32>, usize) {
        let n = self.n;
        let mut community: Vec<u32> = (0..n as u32).collect();
        if self.total <= 0.0 {
            return (community, n);
        }
        let mut tot: Vec<f64> = self.degree.clone();
        let mut to_community = vec![0.0; n];
        let mut touched: Vec<u32> = Vec::new();
        for _pass in 0..64 {
            let mut moved = false;
            for i in 0..n {
                let ki = self.degree[i];
                let own = community[i];
                touched.clear();
                for &(j, w) in &self.adjacent[self.starts[i]..self.starts[i + 1]] {
                    let c = community[j as usize];
                    if to_community[c as usize] == 0.0 {
                        touched.push(c);
                    }
                    to_community[c as usize] += w;
                }
                tot[own as usize] -= ki;
                let mut best = own;
                let mut best_gain =
                    to_community[own as usize] - tot[own as usize] * ki / self.total;
                for &c in &touched {
                    let gain = to_community[c as usize] - tot[c as usize] * ki / self.total;
                    if gain > best_gain + 1e-12 {
                        best_gain = gain;
                        best = c;
                    }
                }
                tot[best as usize] += ki;
                if best != own {
                    community[i] = best;
                    moved = true;
                }
                for &c in &touched {
                    to_community[c as usize] = 0.0;
                }
                to_community[own as usize] = 0.0;
            }
            if !moved {
                break;
            }
        }
        let dense = renumber(&community);
        let count = dense.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        (dense, count)
    }

    /// The graph whose nodes are the communities of this one.
    fn fold(&self, community: &[u32], count: usize) -> Graph {
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for u in 0..self.n {
            let cu = community[u];
            if self.loops[u] > 0.0 {
                edges.push((cu, cu, self.loops[u]));
            }
            for &(v, w) in &self.adjacent[self.starts[u]..self.starts[u + 1]] {
                // Each undirected edge is stored twice; take it once.
                if (u as u32) < v {
                    edges.push((cu, community[v as usize], w));
                }
            }
        }
        Graph::new(count, edges.into_iter())
    }
}
