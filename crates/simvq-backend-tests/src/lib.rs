//! Probes that run one model pass on any burn backend and bring every value back to the host,
//! so a test can run them on burn-flex and on a GPU backend and compare.
//!
//! Every probe builds its model from a seed with [`SeededInit`](simvq_quant::SeededInit), which
//! draws on the host: the two backends start from the same weights, so any difference is the
//! backend's. Inputs are closed-form (no backend RNG either).

mod probes;
mod values;

pub use probes::{audio_pass, image_pass, image_training_step, quantizer_pass, tied_search};
pub use values::{assert_same, Values};
