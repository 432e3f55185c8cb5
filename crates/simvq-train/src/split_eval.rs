//! The end-of-training evaluation on both splits, labelled with its protocol.
//!
//! Why both: a number on the validation split alone cannot tell a model that generalizes from
//! one that never learnt, and a number on the training split alone cannot tell it from one
//! that memorised. The gap between the two is the point. Why the label: these runs evaluate
//! at the training run's scale (its image size or whole utterances, its batch), not with the
//! Table 1/2 protocol of `cargo xtask eval`, and the file says so.

use serde::Serialize;

use crate::gan_loop::RunOptions;

/// One run's final metrics on its validation and its training data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitEval<E> {
    /// How the numbers were made, in words.
    pub protocol: String,
    /// The held-out data (`RunOptions::val`).
    pub validation: SplitMetrics<E>,
    /// Training data, evaluated the same way (as many examples as the validation split, at
    /// most).
    pub training: SplitMetrics<E>,
}

/// The metrics of one split and where its files came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitMetrics<E> {
    /// The folder or manifest evaluated.
    pub source: String,
    /// `false` when the run had no separate validation data, so "validation" is the training
    /// data again.
    pub held_out: bool,
    /// The metrics.
    pub metrics: E,
}

impl<E> SplitEval<E> {
    /// The two evaluations of a run with `options`' data.
    pub(crate) fn new(protocol: String, options: &RunOptions, validation: E, training: E) -> Self {
        let held_out = options.val != options.train;
        Self {
            protocol,
            validation: SplitMetrics {
                source: options.val.display().to_string(),
                held_out,
                metrics: validation,
            },
            training: SplitMetrics {
                source: options.train.display().to_string(),
                held_out: false,
                metrics: training,
            },
        }
    }
}
