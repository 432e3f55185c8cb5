//! The shipped configs load, the demo file is the built-in demo, and mistakes are named.

use std::path::{Path, PathBuf};

use simvq_train::{load_config, parse_config, AudioTrainConfig, ImageTrainConfig, RunError};

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
}

fn json(config: &ImageTrainConfig) -> serde_json::Value {
    serde_json::to_value(config).unwrap()
}

#[test]
fn demo_file_is_the_built_in_demo() {
    let file = load_config(
        &configs_dir().join("demo_image.toml"),
        &ImageTrainConfig::reference(65_536),
    )
    .unwrap();
    assert_eq!(json(&file), json(&ImageTrainConfig::demo()));
}

#[test]
fn reference_configs_cover_table_1() {
    for (name, k) in [
        ("imagenet_simvq_128_B.toml", 1024),
        ("imagenet_simvq_128_B_8k.toml", 8192),
        ("imagenet_simvq_128_B_65k.toml", 65_536),
        ("imagenet_simvq_128_B_262k.toml", 262_144),
    ] {
        let defaults = ImageTrainConfig::reference(65_536);
        let config = load_config(&configs_dir().join(name), &defaults).unwrap();
        let mut expected = ImageTrainConfig::reference(k);
        expected.lpips.backbone = Some("weights/vgg16-397923af.pth".into());
        expected.lpips.heads = Some("weights/lpips_vgg_v0.1.pth".into());
        assert_eq!(json(&config), json(&expected), "{name}");
    }
}

#[test]
fn a_file_overrides_only_what_it_names_and_typos_are_errors() {
    let defaults = ImageTrainConfig::reference(1024);
    let config = parse_config(
        "[model.quantizer]\ncodebook_size = 8192\n[optimizer]\ngrad_clip_norm = 1.0\n",
        &defaults,
    )
    .unwrap();
    assert_eq!(config.model.quantizer.codebook_size, 8192);
    assert_eq!(config.optimizer.grad_clip_norm, Some(1.0));
    assert_eq!(
        config.data.batch_size, 256,
        "untouched keys keep their defaults"
    );

    let err = parse_config("[optimizer]\nlearning_rte = 1e-3\n", &defaults).unwrap_err();
    assert!(
        err.contains("optimizer.learning_rte") && err.contains("learning_rate"),
        "{err}"
    );
    let err = parse_config("[data]\nimage_size = \"big\"\n", &defaults).unwrap_err();
    assert!(err.contains("invalid value"), "{err}");
    let err = parse_config("steps = = 3", &defaults).unwrap_err();
    assert!(err.contains("not valid TOML"), "{err}");
    let err = load_config(Path::new("/no/such/config.toml"), &defaults).unwrap_err();
    assert!(
        matches!(err, RunError::Config { .. }) && err.to_string().contains("/no/such/config.toml")
    );
}

#[test]
fn audio_demo_file_is_the_built_in_demo() {
    let file = load_config(
        &configs_dir().join("demo_audio.toml"),
        &AudioTrainConfig::reference(65_536),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&file).unwrap(),
        serde_json::to_value(AudioTrainConfig::demo()).unwrap()
    );
}

#[test]
fn audio_reference_configs_cover_table_2() {
    for (name, k, kbps) in [
        ("libritts_24khz.toml", 4096, 0.9),
        ("libritts_24khz_8k.toml", 8192, 0.975),
        ("libritts_24khz_65k.toml", 65_536, 1.2),
        ("libritts_24khz_262k.toml", 262_144, 1.35),
    ] {
        let defaults = AudioTrainConfig::reference(65_536);
        let config = load_config(&configs_dir().join(name), &defaults).unwrap();
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            serde_json::to_value(AudioTrainConfig::reference(k)).unwrap(),
            "{name}"
        );
        assert!(
            (config.model.bitrate() / 1000.0 - kbps).abs() < 1e-9,
            "{name}"
        );
        assert_eq!(config.model.frame_rate(), 75.0);
    }
}

#[test]
fn a_baseline_quantizer_is_picked_by_name_and_sets_k() {
    let config = parse_config(
        "[baseline.Fsq]\nlevels = [8, 5, 5]\ndim = 32\n",
        &ImageTrainConfig::demo(),
    )
    .unwrap();
    assert_eq!(config.codebook_size(), 200);
    assert_eq!(ImageTrainConfig::demo().codebook_size(), 512);
    let unknown = parse_config(
        "[baseline.Kmeans]\ncodebook_size = 8\n",
        &ImageTrainConfig::demo(),
    );
    assert!(unknown.unwrap_err().contains("Kmeans"));
}
