//! Metric-independent nested dissection order computed by inertial flow.
//!
//! The graph is treated as undirected (arc directions, weights, self-loops and
//! parallel arcs are irrelevant for the order). Every connected piece with
//! more than [`SMALL_PIECE`] nodes is split by a small balanced node separator
//! found by inertial flow (Schild & Sommer 2015, see the private
//! `inertial_flow` module): the separator nodes receive the highest ranks of
//! the piece, and the connected components of the remainder are ordered
//! recursively in the ranks below. Disconnected inputs are handled by
//! ordering each component in its own rank range. Tiny pieces are ordered by
//! ascending degree.
//!
//! Coordinates are projected per piece with a local equirectangular
//! projection (`x = lon · cos(mean lat)`, `y = lat`). The computation is fully
//! deterministic: the same input always yields the same order. Work is driven
//! by an explicit stack, so deep dissection trees cannot overflow the call
//! stack.

use super::inertial_flow::find_separator;

/// Pieces with at most this many nodes are ordered by degree, without flow.
pub const SMALL_PIECE: usize = 3;

/// Computes a nested dissection order of the graph `(first_out, head)`.
///
/// Returns `order`, where `order[r]` is the node with rank `r` (rank `n - 1`
/// is contracted last, i.e. the most important node). Use
/// [`order_to_rank`] for the inverse view `rank[node]`.
///
/// `lat`/`lon` are the node coordinates in degrees; non-finite values are
/// treated as 0.
///
/// # Panics
/// If `first_out` is empty, not non-decreasing or does not end at
/// `head.len()`, if a head is `>= n`, if `lat`/`lon` do not have `n` entries,
/// or if there are `2^30` nodes or more.
pub fn nested_dissection_order(
    first_out: &[u32],
    head: &[u32],
    lat: &[f64],
    lon: &[f64],
) -> Vec<u32> {
    assert!(!first_out.is_empty(), "first_out must have n + 1 entries");
    let n = first_out.len() - 1;
    assert!(n < (1 << 30), "at most 2^30 nodes");
    assert_eq!(
        first_out[n] as usize,
        head.len(),
        "first_out must end at head.len()"
    );
    assert!(
        first_out.windows(2).all(|w| w[0] <= w[1]),
        "first_out must be non-decreasing"
    );
    assert!(
        head.iter().all(|&h| (h as usize) < n),
        "arc head out of range"
    );
    assert_eq!(lat.len(), n, "lat must have one entry per node");
    assert_eq!(lon.len(), n, "lon must have one entry per node");

    let (ufirst, uhead) = undirected_simple_graph(first_out, head);
    let mut order = vec![u32::MAX; n];
    let mut stack = vec![Piece {
        global: (0..n as u32).collect(),
        first_out: ufirst,
        head: uhead,
        rank_begin: 0,
        connected: false,
    }];
    while let Some(piece) = stack.pop() {
        dissect(piece, lat, lon, &mut order, &mut stack);
    }
    debug_assert!(order.iter().all(|&v| (v as usize) < n));
    order
}

/// Inverts a permutation: `result[p[i]] = i`.
///
/// # Panics
/// If an entry of `p` is `>= p.len()`.
pub fn invert_permutation(p: &[u32]) -> Vec<u32> {
    let mut inv = vec![u32::MAX; p.len()];
    for (i, &x) in p.iter().enumerate() {
        inv[x as usize] = i as u32;
    }
    inv
}

/// Converts `order[rank] = node` into `rank[node] = rank`.
pub fn order_to_rank(order: &[u32]) -> Vec<u32> {
    invert_permutation(order)
}

/// Converts `rank[node] = rank` into `order[rank] = node`.
pub fn rank_to_order(rank: &[u32]) -> Vec<u32> {
    invert_permutation(rank)
}

/// Returns whether `p` is a permutation of `0..p.len()`.
pub fn is_permutation(p: &[u32]) -> bool {
    let mut seen = vec![false; p.len()];
    p.iter().all(|&x| {
        let fresh = (x as usize) < p.len() && !seen[x as usize];
        if fresh {
            seen[x as usize] = true;
        }
        fresh
    })
}

/// A piece of the graph still to be ordered, with local node ids.
struct Piece {
    /// Input node id of every local node (ascending).
    global: Vec<u32>,
    /// Symmetric, sorted, simple adjacency in local ids.
    first_out: Vec<u32>,
    head: Vec<u32>,
    /// First rank of the range reserved for this piece.
    rank_begin: u32,
    /// Whether the piece is known to be connected.
    connected: bool,
}

/// Symmetric CSR without loops and duplicates, neighbours sorted ascending.
fn undirected_simple_graph(first_out: &[u32], head: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let n = first_out.len() - 1;
    let mut deg = vec![0u32; n + 1];
    for u in 0..n {
        for &v in &head[first_out[u] as usize..first_out[u + 1] as usize] {
            if v as usize != u {
                deg[u] += 1;
                deg[v as usize] += 1;
            }
        }
    }
    let mut start = vec![0u32; n + 1];
    for v in 0..n {
        start[v + 1] = start[v] + deg[v];
    }
    let mut fill = start.clone();
    let mut adj = vec![0u32; start[n] as usize];
    for u in 0..n {
        for &v in &head[first_out[u] as usize..first_out[u + 1] as usize] {
            if v as usize != u {
                adj[fill[u] as usize] = v;
                fill[u] += 1;
                adj[fill[v as usize] as usize] = u as u32;
                fill[v as usize] += 1;
            }
        }
    }
    // Sort and dedup every list, compacting in place.
    let mut out_first = vec![0u32; n + 1];
    let mut len = 0usize;
    for v in 0..n {
        let (b, e) = (start[v] as usize, start[v + 1] as usize);
        adj[b..e].sort_unstable();
        let mut last = u32::MAX;
        for i in b..e {
            let w = adj[i];
            if w != last {
                adj[len] = w;
                len += 1;
                last = w;
            }
        }
        out_first[v + 1] = len as u32;
    }
    adj.truncate(len);
    (out_first, adj)
}

/// Orders one piece: splits off components, or separates and recurses.
fn dissect(mut piece: Piece, lat: &[f64], lon: &[f64], order: &mut [u32], stack: &mut Vec<Piece>) {
    let k = piece.global.len();
    if k == 0 {
        return;
    }
    if !piece.connected {
        let removed = vec![false; k];
        let mut parts = components(&piece, &removed);
        if parts.len() > 1 {
            stack.append(&mut parts);
            return;
        }
        piece.connected = true;
    }
    if k <= SMALL_PIECE {
        let mut local: Vec<u32> = (0..k as u32).collect();
        local.sort_by_key(|&v| {
            (
                piece.first_out[v as usize + 1] - piece.first_out[v as usize],
                v,
            )
        });
        for (i, &v) in local.iter().enumerate() {
            order[piece.rank_begin as usize + i] = piece.global[v as usize];
        }
        return;
    }

    let (x, y) = project(&piece.global, lat, lon);
    let separator = find_separator(&piece.first_out, &piece.head, &x, &y);
    debug_assert!(!separator.is_empty() && separator.len() <= k);

    let sep_begin = piece.rank_begin as usize + k - separator.len();
    let mut removed = vec![false; k];
    for (i, &s) in separator.iter().enumerate() {
        removed[s as usize] = true;
        order[sep_begin + i] = piece.global[s as usize];
    }
    let mut parts = components(&piece, &removed);
    stack.append(&mut parts);
}

/// Local equirectangular projection of the piece's nodes (radians).
fn project(global: &[u32], lat: &[f64], lon: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let mean_lat =
        global.iter().map(|&v| finite(lat[v as usize])).sum::<f64>() / global.len() as f64;
    let scale = mean_lat.to_radians().cos();
    let x = global
        .iter()
        .map(|&v| finite(lon[v as usize]).to_radians() * scale)
        .collect();
    let y = global
        .iter()
        .map(|&v| finite(lat[v as usize]).to_radians())
        .collect();
    (x, y)
}

/// Connected components of the piece without the `removed` nodes, as new
/// connected pieces occupying consecutive rank ranges from `rank_begin`.
fn components(piece: &Piece, removed: &[bool]) -> Vec<Piece> {
    let k = piece.global.len();
    let mut comp = vec![u32::MAX; k];
    let mut count = 0u32;
    let mut stack = Vec::new();
    for r in 0..k {
        if removed[r] || comp[r] != u32::MAX {
            continue;
        }
        comp[r] = count;
        stack.push(r as u32);
        while let Some(v) = stack.pop() {
            let v = v as usize;
            for &w in &piece.head[piece.first_out[v] as usize..piece.first_out[v + 1] as usize] {
                if !removed[w as usize] && comp[w as usize] == u32::MAX {
                    comp[w as usize] = count;
                    stack.push(w);
                }
            }
        }
        count += 1;
    }

    // Local id inside the component; ascending, so adjacency stays sorted.
    let mut sizes = vec![0u32; count as usize];
    let mut local = vec![0u32; k];
    for v in 0..k {
        if comp[v] != u32::MAX {
            local[v] = sizes[comp[v] as usize];
            sizes[comp[v] as usize] += 1;
        }
    }
    let mut parts: Vec<Piece> = Vec::with_capacity(count as usize);
    let mut rank = piece.rank_begin;
    for &size in &sizes {
        parts.push(Piece {
            global: Vec::with_capacity(size as usize),
            first_out: {
                let mut f = Vec::with_capacity(size as usize + 1);
                f.push(0);
                f
            },
            head: Vec::new(),
            rank_begin: rank,
            connected: true,
        });
        rank += size;
    }
    for v in 0..k {
        let c = comp[v];
        if c == u32::MAX {
            continue;
        }
        let part = &mut parts[c as usize];
        part.global.push(piece.global[v]);
        for &w in &piece.head[piece.first_out[v] as usize..piece.first_out[v + 1] as usize] {
            if !removed[w as usize] {
                debug_assert_eq!(comp[w as usize], c);
                part.head.push(local[w as usize]);
            }
        }
        part.first_out.push(part.head.len() as u32);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_helpers() {
        let order = vec![2, 0, 3, 1];
        let rank = order_to_rank(&order);
        assert_eq!(rank, vec![1, 3, 0, 2]);
        assert_eq!(rank_to_order(&rank), order);
        assert!(is_permutation(&order));
        assert!(!is_permutation(&[0, 0]));
        assert!(!is_permutation(&[2, 0]));
    }

    #[test]
    fn empty_and_tiny_graphs() {
        assert!(nested_dissection_order(&[0], &[], &[], &[]).is_empty());
        assert_eq!(
            nested_dissection_order(&[0, 0], &[], &[1.0], &[2.0]),
            vec![0]
        );
        // Path 0 - 1 - 2: the middle node (highest degree) goes last.
        let order = nested_dissection_order(&[0, 1, 2, 2], &[1, 2], &[0.0; 3], &[0.0, 1.0, 2.0]);
        assert_eq!(order[2], 1);
    }

    #[test]
    fn path_gets_middle_separator() {
        // A path of 9 nodes along the equator: the first separator is a single
        // middle-ish node, so the last rank is an interior node.
        let n = 9u32;
        let first_out: Vec<u32> = (0..=n).map(|v| v.min(n - 1)).collect();
        let head: Vec<u32> = (1..n).collect();
        let lon: Vec<f64> = (0..n).map(f64::from).collect();
        let order = nested_dissection_order(&first_out, &head, &vec![0.0; n as usize], &lon);
        assert!(is_permutation(&order));
        let top = order[n as usize - 1];
        assert!((2..=6).contains(&top), "top = {top}");
    }
}
