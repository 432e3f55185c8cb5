//! A training run's files, shared by the programs that write them (`simvq-train`) and those
//! that only read them (the `simvq` command's `export`, evaluations): layered TOML configs
//! that name a misspelt key, checkpoint directories written atomically and found again, and
//! the PNG and WAV files people look at and listen to.
//!
//! No autodiff and no training code: depending on this crate does not pull in the trainer.

mod checkpoint;
mod config_file;
mod error;
mod png;
mod wav;

pub use checkpoint::{CheckpointDir, RunCheckpoint};
pub use config_file::{load_config, load_config_section, parse_config, to_toml};
pub use error::{Result, RunError};
pub use png::{save_png, to_rgb};
pub use wav::write_wav;
