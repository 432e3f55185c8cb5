//! Helpers shared by the training tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use simvq_image::AutoencoderConfig;
use simvq_train::RunOptions;

/// A run on `data` (train and val) writing to `out`, without a progress bar, on one device.
pub fn options(data: PathBuf, out: &Path, resume: bool, stop_after: Option<usize>) -> RunOptions {
    RunOptions {
        train: data.clone(),
        val: data,
        out_dir: out.to_path_buf(),
        resume,
        stop_after,
        progress: false,
        devices: 1,
        nodes: None,
    }
}

/// The weights of the checkpoint file `path`, loaded into `module` (a fresh module of the
/// run's config).
pub fn checkpoint_weights<M: Module<Flex>>(module: M, path: &Path) -> Vec<Vec<f32>> {
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let loaded = module
        .load_file(path, &recorder, &Default::default())
        .unwrap();
    simvq_testkit::module_weights(&loaded)
}

/// An image autoencoder small enough to train or evaluate in a test (f = 2, 8-d codes).
pub fn tiny_autoencoder() -> AutoencoderConfig {
    AutoencoderConfig::new()
        .with_channels(32)
        .with_channel_multipliers(vec![1, 2])
        .with_res_blocks(1)
        .with_z_channels(8)
}
