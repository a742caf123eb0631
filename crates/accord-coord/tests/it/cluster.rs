//! Louvain communities.

use accord_coord::cluster::louvain;

#[test]
fn two_cliques_joined_by_one_edge_are_two_communities() {
    let mut edges = Vec::new();
    for group in [0u32, 5] {
        for i in group..group + 5 {
            for j in i + 1..group + 5 {
                edges.push((i, j, 3.0));
            }
        }
    }
    edges.push((4, 5, 1.0));
    let c = louvain(10, &edges);
    assert!(c[..5].iter().all(|&x| x == c[0]));
    assert!(c[5..].iter().all(|&x| x == c[5]));
    assert_ne!(c[0], c[5]);
    assert_eq!(c[0], 0, "numbered by smallest member");
}

#[test]
fn separate_components_never_merge_and_isolated_nodes_stay_alone() {
    let c = louvain(5, &[(0, 1, 1.0), (2, 3, 1.0)]);
    assert_eq!(c[0], c[1]);
    assert_eq!(c[2], c[3]);
    assert_ne!(c[0], c[2]);
    assert_ne!(c[4], c[0]);
    assert_ne!(c[4], c[2]);
}

#[test]
fn empty_and_loop_only_graphs_are_fine() {
    assert_eq!(louvain(0, &[]), Vec::<u32>::new());
    assert_eq!(louvain(3, &[]), vec![0, 1, 2]);
    assert_eq!(louvain(2, &[(0, 0, 2.0)]), vec![0, 1]);
}

#[test]
fn a_ring_of_cliques_finds_every_clique() {
    // Ten cliques of six, each joined to the next by one light edge.
    let mut edges = Vec::new();
    for k in 0..10u32 {
        let base = k * 6;
        for i in base..base + 6 {
            for j in i + 1..base + 6 {
                edges.push((i, j, 1.0));
            }
        }
        edges.push((base + 5, (base + 6) % 60, 0.5));
    }
    let c = louvain(60, &edges);
    for k in 0..10 {
        let block = &c[k * 6..k * 6 + 6];
        assert!(
            block.iter().all(|&x| x == block[0]),
            "clique {k}: {block:?}"
        );
    }
    let mut distinct = c.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
}
