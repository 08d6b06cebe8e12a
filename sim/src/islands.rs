//! Islands: connected components of the "who knows whom" graph of online routers.
//!
//! Router a knows router b when a holds b's RouterInfo. Treated as undirected (either knows
//! the other), a component is a set of routers that can reach each other through netDb
//! knowledge; a network that falls into several islands after a mass withdrawal cannot
//! find routers across them. Routers that know no online floodfill cannot look anything
//! up at all, however connected they are.

use petgraph::unionfind::UnionFind;

/// The islands at one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Islands {
    pub online: u64,
    pub components: u64,
    /// Share of the online routers in the largest component.
    pub largest_fraction: f64,
    /// Routers that know no other online router and that no online router knows.
    pub isolated: u64,
    /// Online routers that are not floodfills and know no online floodfill.
    pub without_floodfill: u64,
}

/// Measures the islands of `online` routers (dense indices 0..n) given, for each, the
/// online routers it knows (dense indices) and whether it is a floodfill.
pub fn measure(knows: &[Vec<usize>], floodfill: &[bool]) -> Islands {
    let n = knows.len();
    let mut sets = UnionFind::<usize>::new(n);
    let mut touched = vec![false; n];
    let mut without_floodfill = 0;
    for (a, known) in knows.iter().enumerate() {
        for &b in known {
            if b != a {
                sets.union(a, b);
                touched[a] = true;
                touched[b] = true;
            }
        }
        if !floodfill[a] && !known.iter().any(|&b| b != a && floodfill[b]) {
            without_floodfill += 1;
        }
    }
    let mut sizes = vec![0u64; n];
    for a in 0..n {
        sizes[sets.find(a)] += 1;
    }
    let components = sizes.iter().filter(|s| **s > 0).count() as u64;
    let largest = sizes.iter().copied().max().unwrap_or(0);
    Islands {
        online: n as u64,
        components,
        largest_fraction: if n == 0 {
            0.0
        } else {
            largest as f64 / n as f64
        },
        isolated: touched.iter().filter(|t| !**t).count() as u64,
        without_floodfill,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_islands_and_a_loner() {
        // 0-1-2 know each other through 1; 3 and 4 know each other; 5 knows nobody.
        let knows = vec![vec![1], vec![2], vec![], vec![4], vec![], vec![]];
        let floodfill = [false, true, false, false, false, false];
        let islands = measure(&knows, &floodfill);
        assert_eq!(islands.components, 3);
        assert_eq!(islands.largest_fraction, 0.5);
        assert_eq!(islands.isolated, 1);
        // 0 knows the floodfill 1; 2, 3, 4 and 5 know none.
        assert_eq!(islands.without_floodfill, 4);
    }
}
