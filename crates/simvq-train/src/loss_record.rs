//! A step's loss terms as a typed record, and the weighted sums the loop keeps of them.
//!
//! Why typed: with names in one list and values in another, matched by position, adding a
//! term to a task silently shifts every name after it. A record names each value where it is
//! made, and the loop only ever reads `(name, value)` pairs.

use std::fmt::Debug;

/// The losses of one step, each term named.
pub trait LossRecord: Clone + Debug + Send {
    /// Every term with its name, in the order logs print them: the generator's objective
    /// (`generator`) first, the discriminator's (`discriminator`) last.
    fn terms(&self) -> Vec<(&'static str, f64)>;

    /// The name of the reconstruction term, the one loss shown beside the progress bar.
    const RECONSTRUCTION: &'static str;
}

/// Weighted sums of named loss terms: a batch's losses over its device shards (weighted by
/// each shard's share), or a logging window's over its steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TermSums {
    terms: Vec<(&'static str, f64)>,
}

impl TermSums {
    /// Adds `weight ×` each of `terms` (the first terms added fix the names and their order).
    pub(crate) fn add(
        &mut self,
        terms: impl IntoIterator<Item = (&'static str, f64)>,
        weight: f64,
    ) {
        let terms: Vec<_> = terms.into_iter().collect();
        if self.terms.is_empty() {
            self.terms = terms.iter().map(|&(name, _)| (name, 0.0)).collect();
        }
        for ((name, sum), (other, value)) in self.terms.iter_mut().zip(terms) {
            debug_assert_eq!(*name, other, "one task's records share their terms");
            *sum += weight * value;
        }
    }

    /// The first term that is NaN or infinite.
    pub(crate) fn non_finite(&self) -> Option<&'static str> {
        self.terms
            .iter()
            .find(|(_, value)| !value.is_finite())
            .map(|&(name, _)| name)
    }

    /// Each sum divided by `count`, with its name.
    pub(crate) fn means(&self, count: usize) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        let n = count.max(1) as f64;
        self.terms.iter().map(move |&(name, sum)| (name, sum / n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Two(f64, f64);

    impl LossRecord for Two {
        fn terms(&self) -> Vec<(&'static str, f64)> {
            vec![("generator", self.0), ("discriminator", self.1)]
        }
        const RECONSTRUCTION: &'static str = "generator";
    }

    #[test]
    fn sums_are_weighted_and_keep_the_names_in_order() {
        let mut sums = TermSums::default();
        sums.add(Two(1.0, 4.0).terms(), 0.25);
        sums.add(Two(3.0, 8.0).terms(), 0.75);
        let means: Vec<_> = sums.means(1).collect();
        assert_eq!(means, vec![("generator", 2.5), ("discriminator", 7.0)]);
        assert_eq!(sums.means(2).next(), Some(("generator", 1.25)));
        assert_eq!(sums.non_finite(), None);
        let mut window = TermSums::default();
        window.add(sums.means(1), 1.0);
        assert_eq!(window, sums);
        sums.add(Two(0.0, f64::NAN).terms(), 1.0);
        assert_eq!(sums.non_finite(), Some("discriminator"));
    }
}
