//! Preprocessing parity with torchvision on PIL images (tools/golden_image_preprocessing.py):
//! `Resize(size)` and `CenterCrop(size)` byte for byte; JPEG decoding against Pillow's
//! libjpeg-turbo (tools/golden_jpeg.py), CMYK and the ordinary kinds.

use std::path::Path;

use image::RgbImage;
use rand::{rngs::StdRng, SeedableRng};
use simvq_data::{decode_rgb, resize_bilinear_like_pil, Augment, Crop, ImageTransform};
use simvq_testkit::{assert_close, read_json, Tolerance, Value};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The script's pattern: `(7x + 13y + 50c + 5·((x·y) mod 17)) mod 256`.
fn pattern(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = |c: u32| ((7 * x + 13 * y + 50 * c + 5 * ((x * y) % 17)) % 256) as u8;
        image::Rgb([v(0), v(1), v(2)])
    })
}

fn bytes(value: &Value) -> Vec<u8> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect()
}

#[test]
fn resize_and_center_crop_match_torchvision_on_pil_exactly() {
    let golden = read_json(fixture("pil_resize.json"));
    for case in golden["cases"].as_array().unwrap() {
        let (w, h, size) = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
            case["size"].as_u64().unwrap() as u32,
        );
        let transform = ImageTransform {
            size,
            crop: Crop::Center,
            augment: Augment::None,
        };
        let dims = transform.resized_dims(w, h);
        let expected_dims = &case["resized_dims"];
        assert_eq!(
            [dims.0 as u64, dims.1 as u64],
            [
                expected_dims[0].as_u64().unwrap(),
                expected_dims[1].as_u64().unwrap()
            ],
            "{w}×{h}"
        );
        let image = pattern(w, h);
        let resized = resize_bilinear_like_pil(&image, dims.0, dims.1);
        assert_eq!(
            resized.as_raw(),
            &bytes(&case["resized"]),
            "resize of {w}×{h}"
        );
        let cropped = transform.apply(&image, &mut StdRng::seed_from_u64(0));
        assert_eq!(
            cropped.as_raw(),
            &bytes(&case["center_crop"]),
            "crop of {w}×{h}"
        );
    }
}

#[test]
fn cmyk_jpeg_is_converted_to_rgb_like_pil() {
    let rgb = decode_rgb(&fixture("cmyk.jpg")).expect("CMYK JPEG decodes");
    let expected = bytes(&read_json(fixture("cmyk_as_rgb.json"))["rgb"]);
    assert_eq!(rgb.dimensions(), (8, 8));
    let levels = |v: &[u8]| v.iter().map(|&b| f64::from(b)).collect::<Vec<_>>();
    // Decoders differ in IDCT rounding; the colour conversion itself must be right.
    assert_close(
        &levels(rgb.as_raw()),
        &levels(&expected),
        Tolerance::absolute(3.0),
        "CMYK as RGB",
    );
}

/// Level differences from Pillow (libjpeg-turbo 3.2) on the JPEG kinds of
/// tools/golden_jpeg.py: `(kind, largest, mean)`.
fn jpeg_differences() -> Vec<(&'static str, u8, f64)> {
    let kinds = [
        "baseline_420",
        "baseline_422",
        "baseline_444",
        "progressive_420",
        "grayscale",
        "exif_rotated_420",
    ];
    kinds
        .iter()
        .map(|kind| {
            let ours = decode_rgb(&fixture(&format!("jpeg/{kind}.jpg"))).unwrap();
            let pil = image::open(fixture(&format!("jpeg/{kind}.pil.png")))
                .unwrap()
                .to_rgb8();
            assert_eq!(
                ours.dimensions(),
                pil.dimensions(),
                "{kind}: size (no EXIF transpose)"
            );
            let diffs: Vec<u8> = ours
                .as_raw()
                .iter()
                .zip(pil.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
            (*kind, *diffs.iter().max().unwrap(), mean)
        })
        .collect()
}

/// Where chroma is stored at full resolution only the IDCT's rounding differs; subsampled
/// chroma is upsampled differently by zune-jpeg (the `image` crate's decoder) and
/// libjpeg-turbo's "fancy" triangle filter: up to 4 levels, 0.3 on average (measured), far
/// below what a tokenizer's reconstruction error is (about 8 levels RMS at 30 dB).
#[test]
fn ordinary_jpegs_decode_like_pil() {
    let results = jpeg_differences();
    for (kind, largest, mean) in &results {
        eprintln!("{kind}: largest {largest}, mean {mean:.4}");
    }
    for (kind, largest, mean) in results {
        let full_chroma = kind.contains("444") || kind == "grayscale";
        let (max_largest, max_mean) = if full_chroma { (2, 0.05) } else { (4, 0.35) };
        assert!(
            largest <= max_largest && mean <= max_mean,
            "{kind}: largest {largest}, mean {mean}"
        );
    }
}
