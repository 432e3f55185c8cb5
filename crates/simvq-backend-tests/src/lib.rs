//! Probes that run one model pass on any burn backend and bring every value back to the host,
//! so a test can run them on burn-flex and on a GPU backend and compare.
//!
//! Every probe builds its model from a seed with [`SeededInit`](simvq_quant::SeededInit), which
//! draws on the host: the two backends start from the same weights, so any difference is the
//! backend's; the metric networks, which have no seeded initialiser, are built once on burn-flex
//! and their weights moved ([`PortableWeights`]); LPIPS, whose input gradient is compared, from
//! a seed ([`SeededConvWeights`]). Inputs are closed-form (no backend RNG either).

mod metric_probes;
mod portable_weights;
mod probes;
mod quantizer_probes;
mod seeded_conv_weights;
mod values;

pub use metric_probes::{crepe_pass, inception_pass, lpips_pass};
pub use portable_weights::PortableWeights;
pub use probes::{audio_pass, audio_training_step, image_pass, image_training_step};
pub use quantizer_probes::{
    chirp_points, integer_points, quantizer_pass, relative_tie_gap, residual_pass, search_paths,
    tied_search, SearchPaths,
};
pub use seeded_conv_weights::SeededConvWeights;
pub use values::{assert_same, Values};
