//! The built-in data's splits: every file is in its manifest, and nothing the demos are
//! validated on was trained on: no source photo, and no speaker, appears in both splits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use simvq_data::{demo_images_dir, demo_speech_dir, FileList, AUDIO_EXTENSIONS, IMAGE_EXTENSIONS};

/// `manifest.tsv` of `root` as (file → (split, group)), `group` read from column `group`.
fn manifest(root: &Path, group: &str) -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(root.join("manifest.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, split, group) = (column("file"), column("split"), column(group));
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (
                cells[file].to_string(),
                (cells[split].to_string(), cells[group].to_string()),
            )
        })
        .collect()
}

/// Checks the files on disk against the manifest and the groups' disjointness; returns the
/// number of files per split.
fn check(root: &Path, files: FileList, group: &str) -> BTreeMap<String, usize> {
    let listed = manifest(root, group);
    let on_disk: BTreeSet<String> = files
        .files()
        .iter()
        .map(|f| {
            f.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let in_manifest: BTreeSet<String> = listed.keys().cloned().collect();
    assert_eq!(
        on_disk, in_manifest,
        "files on disk = files in the manifest"
    );
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for (file, (split, group)) in &listed {
        assert!(
            file.starts_with(&format!("{split}/")),
            "{file} is in its split's folder"
        );
        groups.entry(split).or_default().insert(group);
        *counts.entry(split.clone()).or_default() += 1;
    }
    let (train, val) = (&groups["train"], &groups["val"]);
    assert!(
        train.is_disjoint(val),
        "{group}s in both splits: {:?}",
        train.intersection(val).collect::<Vec<_>>()
    );
    counts
}

#[test]
fn no_source_photo_is_in_both_image_splits() {
    let root = demo_images_dir();
    let counts = check(&root, FileList::images(&root).unwrap(), "source_photo");
    assert!(counts["train"] >= 300 && counts["val"] >= 50, "{counts:?}");
}

#[test]
fn no_speaker_is_in_both_speech_splits() {
    let root = demo_speech_dir();
    let counts = check(&root, FileList::audio(&root).unwrap(), "speaker");
    assert!(counts["train"] >= 10 && counts["val"] >= 4, "{counts:?}");
}

/// How many groups (`source_photo`, `speaker`) `root`'s training files hold in all, in an
/// evenly spaced sample as large as the validation split, and in as many first files.
fn groups_sampled(root: &Path, extensions: &[&str], group: &str) -> (usize, usize, usize) {
    let listed = manifest(root, group);
    let groups = |files: &[PathBuf]| -> BTreeSet<String> {
        files
            .iter()
            .map(|f| {
                let name = f.strip_prefix(root).unwrap().to_string_lossy();
                listed[&name.replace('\\', "/")].1.clone()
            })
            .collect()
    };
    let train = FileList::scan(root.join("train"), extensions).unwrap();
    let val = FileList::scan(root.join("val"), extensions).unwrap().len();
    let (all, first) = (groups(train.files()), groups(&train.files()[..val]));
    let spaced = train.evenly_spaced(val);
    assert_eq!(spaced.len(), val);
    (all.len(), groups(spaced.files()).len(), first.len())
}

/// The end-of-run check evaluates as many training files as validation files, spread over
/// the sorted list: the first ones would be a few photos or speakers only.
#[test]
fn the_training_sample_of_the_final_check_spans_the_training_sources() {
    let images = demo_images_dir();
    let (all, spread, first) = groups_sampled(&images, &IMAGE_EXTENSIONS, "source_photo");
    assert_eq!(spread, all, "every training photo is sampled");
    assert!(
        first < all / 2,
        "the first files are {first} of {all} photos"
    );
    let speech = demo_speech_dir();
    let (all, spread, first) = groups_sampled(&speech, &AUDIO_EXTENSIONS, "speaker");
    assert!(spread + 1 >= all, "{spread} of {all} speakers sampled");
    assert!(
        first < spread,
        "the first files are {first} of {all} speakers"
    );
}
