//! The image loader: odd formats converted, bad files skipped and named, seeded order.

use std::path::Path;

use image::{GrayImage, ImageBuffer, Luma, Rgba, RgbaImage};
use simvq_data::{
    demo_images_dir, Augment, Crop, DataError, FileList, ImageLoader, ImageTransform,
};

fn write_mixed_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("class_a")).unwrap();
    std::fs::create_dir_all(dir.join("class_b")).unwrap();
    GrayImage::from_fn(40, 30, |x, y| Luma([(x * 5 + y) as u8]))
        .save(dir.join("class_a/gray.png"))
        .unwrap();
    RgbaImage::from_fn(30, 40, |x, y| Rgba([x as u8 * 8, y as u8 * 6, 100, 7]))
        .save(dir.join("class_a/rgba.png"))
        .unwrap();
    ImageBuffer::<Luma<u16>, Vec<u16>>::from_fn(33, 33, |x, y| Luma([(x * 1000 + y) as u16]))
        .save(dir.join("class_b/sixteen_bit.png"))
        .unwrap();
    std::fs::write(
        dir.join("class_b/not_an_image.JPEG"),
        b"definitely not a jpeg",
    )
    .unwrap();
    std::fs::write(dir.join("class_b/empty.jpg"), b"").unwrap();
    let png = std::fs::read(dir.join("class_a/gray.png")).unwrap();
    std::fs::write(dir.join("class_b/truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(
        dir.join("class_b/notes.txt"),
        b"ignored: not an image extension",
    )
    .unwrap();
}

#[test]
fn odd_formats_convert_and_bad_files_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed_folder(dir.path());
    let folder = FileList::images(dir.path()).unwrap();
    assert_eq!(folder.len(), 6, "five image files plus the txt ignored");
    let transform = ImageTransform {
        size: 16,
        crop: Crop::Center,
        augment: Augment::None,
    };
    let loader = ImageLoader::new(folder, transform, 6, false, 0).unwrap();
    let batch = loader.batch(0, 0).unwrap();
    assert_eq!(batch.shape, [3, 3, 16, 16]);
    let names: Vec<_> = batch
        .paths
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["gray.png", "rgba.png", "sixteen_bit.png"]);
    assert!(batch.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Gray becomes three equal channels.
    let plane = 16 * 16;
    assert_eq!(batch.pixels[..plane], batch.pixels[plane..2 * plane]);
    let mut skipped: Vec<_> = loader
        .take_skipped()
        .into_iter()
        .map(|s| s.path.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    skipped.sort();
    assert_eq!(skipped, ["empty.jpg", "not_an_image.JPEG", "truncated.png"]);
    assert!(loader.take_skipped().is_empty(), "reported once");
}

#[test]
fn missing_and_empty_folders_are_clear_errors() {
    let err = FileList::images("/no/such/imagenet/train").unwrap_err();
    assert!(matches!(err, DataError::MissingRoot(_)));
    assert!(err.to_string().contains("/no/such/imagenet/train"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readme.md"), b"no images here").unwrap();
    let err = FileList::images(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("no data files found") && err.contains("jpeg"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.jpg"), b"xx").unwrap();
    let folder = FileList::images(dir.path()).unwrap();
    let transform = ImageTransform {
        size: 8,
        crop: Crop::Random,
        augment: Augment::None,
    };
    let loader = ImageLoader::new(folder, transform, 4, true, 0).unwrap();
    assert!(matches!(
        loader.batch(0, 0),
        Err(DataError::EmptyBatch { batch: 0 })
    ));
}

#[test]
fn order_and_crops_are_a_function_of_seed_and_epoch() {
    let folder = FileList::images(demo_images_dir().join("val")).unwrap();
    assert_eq!(folder.len(), 100);
    let transform = ImageTransform {
        size: 32,
        crop: Crop::Random,
        augment: Augment::None,
    };
    let a = ImageLoader::new(folder.clone(), transform, 3, true, 42).unwrap();
    let b = ImageLoader::new(folder.clone(), transform, 3, true, 42).unwrap();
    let c = ImageLoader::new(folder, transform, 3, true, 43).unwrap();
    assert_eq!(a.batches_per_epoch(), 34);
    assert_eq!(a.epoch_order(5), b.epoch_order(5));
    assert_ne!(a.epoch_order(0), a.epoch_order(1), "reshuffled each epoch");
    assert_ne!(a.epoch_order(0), c.epoch_order(0), "seeded");
    let mut order = a.epoch_order(3);
    order.sort();
    assert_eq!(order, (0..100).collect::<Vec<_>>(), "a permutation");
    let (x, y) = (a.batch(2, 1).unwrap(), b.batch(2, 1).unwrap());
    assert_eq!(x.paths, y.paths);
    assert_eq!(x.pixels, y.pixels, "same crops");
    assert_eq!(a.batch(2, 33).unwrap().shape[0], 1, "short last batch");
}

#[test]
fn prefetched_batches_are_the_steps_batches_in_order() {
    let folder = FileList::images(demo_images_dir().join("val")).unwrap();
    let transform = ImageTransform {
        size: 16,
        crop: Crop::Random,
        augment: Augment::None,
    };
    let loader = std::sync::Arc::new(ImageLoader::new(folder, transform, 3, true, 7).unwrap());
    // Starting mid-run, across an epoch boundary (3 batches per epoch).
    let prefetcher = simvq_data::Prefetcher::new(loader.clone(), 2, 2);
    for step in 2..6 {
        let ahead = prefetcher.next_batch().unwrap();
        let direct = loader.batch_at_step(step).unwrap();
        assert_eq!(ahead.paths, direct.paths, "step {step}");
        assert_eq!(ahead.pixels, direct.pixels, "step {step}");
    }
}

#[test]
fn a_random_patch_is_cut_at_the_stored_resolution() {
    let image = image::RgbImage::from_fn(40, 24, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let patch = ImageTransform {
        size: 16,
        crop: Crop::RandomPatch,
        augment: Augment::None,
    };
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let mut offsets = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let out = patch.apply(&image, &mut rng);
        assert_eq!(out.dimensions(), (16, 16));
        // Not resized: neighbouring pixels differ by exactly one step, as in the original.
        let [left, top, _] = out.get_pixel(0, 0).0;
        assert_eq!(out.get_pixel(15, 15).0, [left + 15, top + 15, 7]);
        offsets.insert((left, top));
    }
    assert!(offsets.len() > 5, "patches at many places: {offsets:?}");
    // An image smaller than the patch is resized first, as Crop::Random does.
    let small = image::RgbImage::from_pixel(8, 12, image::Rgb([9, 9, 9]));
    assert_eq!(patch.apply(&small, &mut rng).dimensions(), (16, 16));
}

#[test]
fn the_eight_symmetries_are_distinct_permutations_of_the_pixels() {
    // Four different pixels: every flip and quarter turn of the square places them differently.
    let image = image::RgbImage::from_fn(2, 2, |x, y| image::Rgb([(2 * y + x) as u8, 0, 0]));
    let layouts: std::collections::BTreeSet<Vec<u8>> = (0..8)
        .map(|which| {
            let out = simvq_data::dihedral(image.clone(), which);
            let mut sorted = out.as_raw().clone();
            sorted.sort_unstable();
            let mut original = image.as_raw().clone();
            original.sort_unstable();
            assert_eq!(sorted, original, "symmetry {which} keeps the pixels");
            out.into_raw()
        })
        .collect();
    assert_eq!(layouts.len(), 8);
    assert_eq!(simvq_data::dihedral(image.clone(), 0), image);
    // A turned training crop: the same pixels as the plain crop at the same offsets.
    let photo = image::RgbImage::from_fn(40, 24, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let crop = |augment| {
        let t = ImageTransform {
            size: 16,
            crop: Crop::RandomPatch,
            augment,
        };
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5);
        t.apply(&photo, &mut rng)
    };
    let (plain, turned) = (crop(Augment::None), crop(Augment::Dihedral));
    let mut a = plain.into_raw();
    let mut b = turned.into_raw();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn the_shards_of_a_batch_are_the_whole_batch_with_its_crops() {
    let folder = FileList::images(demo_images_dir().join("val")).unwrap();
    let transform = ImageTransform {
        size: 16,
        crop: Crop::Random,
        augment: Augment::None,
    };
    let loader = |shard: Option<(usize, usize)>| {
        let loader = ImageLoader::new(folder.clone(), transform, 7, true, 3).unwrap();
        match shard {
            Some((index, count)) => loader.with_shard(index, count).unwrap(),
            None => loader,
        }
    };
    let whole = loader(None);
    let shards = [0, 1, 2].map(|index| loader(Some((index, 3))));
    let step = 5;
    let batch = whole.batch_at_step(step).unwrap();
    let parts = shards.each_ref().map(|s| s.batch_at_step(step).unwrap());
    assert_eq!(
        parts.each_ref().map(|p| p.shape[0]),
        [3, 2, 2],
        "larger slices first"
    );
    let paths: Vec<_> = parts.iter().flat_map(|p| p.paths.clone()).collect();
    assert_eq!(paths, batch.paths);
    let pixels: Vec<f32> = parts.iter().flat_map(|p| p.pixels.clone()).collect();
    assert_eq!(pixels, batch.pixels, "the same crops");
    // 100 files in batches of 7: the last batch has 2 files, too few for 3 shards.
    assert_eq!(whole.batches_per_epoch(), 15);
    assert_eq!(shards[0].batches_per_epoch(), 14);
    let too_many = ImageLoader::new(folder.clone(), transform, 2, true, 0).unwrap();
    assert!(matches!(
        too_many.with_shard(0, 3),
        Err(DataError::InvalidSetting(_))
    ));
}
