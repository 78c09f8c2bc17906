//! What Linux ECMP does to the flows of a route whose next hops change.
//!
//! The kernel's multipath nexthop groups (`mpath`, what FRR 8.4 installs) select by
//! hash-threshold (RFC 2992): with `n` equal next hops, the `i`-th of the group's order takes
//! the flows whose hash falls in `[i/n, (i+1)/n)`. When a next hop goes or comes, every range
//! is recomputed, so a flow stays where it was only if its hash is still inside its next hop's
//! new range. A next hop whose new range contains its old one keeps all its flows; one whose
//! ranges only overlap loses the flows outside the overlap, which land on a neighbour (that
//! has no state for them: a TCP connection is reset). Removing the middle one of three moves
//! no other flow; removing the first or the last moves half of its neighbour's.
//!
//! The kernel rounds the bounds to 31-bit hash values, which does not change any containment.

/// A share of a next hop's flows, `kept / of` (flows assumed spread evenly over the hash
/// space, as the 5-tuple hash makes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// Numerator.
    pub kept: usize,
    /// Denominator (never 0).
    pub of: usize,
}

impl Share {
    /// Whether every flow stays.
    pub fn all(self) -> bool {
        self.kept == self.of
    }

    /// The share that moves, as a fraction.
    pub fn moved(self) -> f64 {
        (self.of - self.kept) as f64 / self.of as f64
    }
}

/// The share of `hop`'s flows that stay on it when its group changes from `before` to
/// `after` (both in the group's order); `None` when `hop` was not in `before` (it had no
/// flows). A hop missing from `after` keeps none.
pub fn kept<S: AsRef<str>>(before: &[S], after: &[S], hop: &str) -> Option<Share> {
    let position = |list: &[S]| list.iter().position(|h| h.as_ref() == hop);
    let (n, m) = (before.len(), after.len());
    let i = position(before)?;
    let Some(j) = position(after) else {
        return Some(Share { kept: 0, of: 1 });
    };
    // In units of 1/(n*m): the old range is [i*m, (i+1)*m), the new one [j*n, (j+1)*n).
    let low = (i * m).max(j * n);
    let high = ((i + 1) * m).min((j + 1) * n);
    Some(Share {
        kept: high.saturating_sub(low),
        of: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: [&str; 3] = ["a", "b", "c"];

    #[test]
    fn removing_the_middle_hop_of_three_moves_nobody_else() {
        let after = ["a", "c"];
        assert!(kept(&THREE, &after, "a").unwrap().all());
        assert!(kept(&THREE, &after, "c").unwrap().all());
        assert_eq!(kept(&THREE, &after, "b").unwrap().kept, 0);
    }

    #[test]
    fn removing_an_end_hop_moves_half_of_its_neighbours_flows() {
        let first_gone = ["b", "c"];
        assert_eq!(kept(&THREE, &first_gone, "b").unwrap().moved(), 0.5);
        assert!(kept(&THREE, &first_gone, "c").unwrap().all());
        let last_gone = ["a", "b"];
        assert!(kept(&THREE, &last_gone, "a").unwrap().all());
        assert_eq!(kept(&THREE, &last_gone, "b").unwrap().moved(), 0.5);
    }

    #[test]
    fn a_returning_hop_takes_flows_from_its_neighbours_only_if_they_had_grown() {
        // Flows opened with two hops: the middle one's return takes a third of each side.
        let two = ["a", "c"];
        let a = kept(&two, &THREE, "a").unwrap();
        assert_eq!((a.kept, a.of), (2, 3));
        assert_eq!(kept(&two, &THREE, "c").unwrap().moved(), 1.0 / 3.0);
        assert_eq!(kept(&two, &THREE, "b"), None);
    }

    #[test]
    fn an_unchanged_group_keeps_everything() {
        for hop in THREE {
            assert!(kept(&THREE, &THREE, hop).unwrap().all());
        }
    }
}
