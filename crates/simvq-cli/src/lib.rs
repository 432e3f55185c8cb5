//! The `simvq` command's library: trained SimVQ tokenizers as self-describing safetensors
//! files ([`save_model`], [`load_model`]), the reference's released checkpoints imported
//! ([`import_checkpoint`]), a small versioned token file ([`TokenFile`], see
//! `docs/token-format.md`) tied to the model that wrote it, and the conversions between image
//! or audio files and tokens ([`Model`]).

mod codec;
mod error;
mod import;
mod model_file;
mod token_file;

pub use codec::{ImageSize, Model};
pub use error::{CliError, Result};
pub use import::{import_checkpoint, import_discriminator, Checkpoint, ImportReport};
pub use model_file::{
    fingerprint, load_model, read_model_info, save_model, ModelConfig, ModelInfo, ModelKind,
    Tokenizer, MODEL_FORMAT, MODEL_FORMAT_VERSION,
};
pub use token_file::{
    bits_per_token, Source, TokenFile, TokenHeader, TOKEN_EXTENSION, TOKEN_FORMAT_VERSION,
    TOKEN_MAGIC,
};
