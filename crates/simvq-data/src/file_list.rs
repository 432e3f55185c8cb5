//! The files of a dataset: a folder tree walked for given extensions (ImageNet's
//! `train/<class>/*.JPEG`, LibriTTS' `<split>/<speaker>/<chapter>/*.wav`) or a manifest of
//! relative paths, one per line (the reference's `train.txt`, `dev.txt`, `test-other.txt`).

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// File extensions treated as images (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp"];

/// File extensions treated as audio (case-insensitive): what the decoder reads.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "ogg", "oga", "mp3"];

/// The files of a dataset, in a fixed order.
#[derive(Debug, Clone)]
pub struct FileList {
    root: PathBuf,
    files: Vec<PathBuf>,
}

impl FileList {
    /// Every image under `root` (recursively), sorted.
    pub fn images(root: impl AsRef<Path>) -> Result<Self> {
        Self::scan(root, &IMAGE_EXTENSIONS)
    }

    /// Every audio file under `root` (recursively), sorted.
    pub fn audio(root: impl AsRef<Path>) -> Result<Self> {
        Self::scan(root, &AUDIO_EXTENSIONS)
    }

    /// The audio files of `path`: a manifest if it is a file (paths relative to the manifest's
    /// folder, as the reference's `train.txt` beside the LibriTTS splits), else every audio
    /// file under the folder.
    pub fn audio_source(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path.is_file() {
            let root = path.parent().unwrap_or(Path::new("."));
            Self::from_manifest(path, root)
        } else {
            Self::audio(path)
        }
    }

    /// Every file under `root` whose extension is one of `extensions`, sorted (so a seeded
    /// shuffle gives the same order on every machine). Fails if `root` is missing or holds
    /// no such file.
    pub fn scan(root: impl AsRef<Path>, extensions: &[&str]) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(DataError::MissingRoot(root));
        }
        let mut files = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            let io = |source| DataError::Io {
                path: dir.clone(),
                source,
            };
            for entry in std::fs::read_dir(&dir).map_err(io)? {
                let path = entry.map_err(io)?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if has_extension(&path, extensions) {
                    files.push(path);
                }
            }
        }
        if files.is_empty() {
            return Err(DataError::NoFiles {
                path: root,
                extensions: extensions.join(", "),
            });
        }
        files.sort();
        Ok(Self { root, files })
    }

    /// The files named in `manifest` (one path per line, relative to `root`; blank lines
    /// ignored), in the manifest's order. Files that do not exist are not checked here: the
    /// loader skips and names them, as it does unreadable ones.
    pub fn from_manifest(manifest: impl AsRef<Path>, root: impl AsRef<Path>) -> Result<Self> {
        let manifest = manifest.as_ref();
        let root = root.as_ref().to_path_buf();
        let text = std::fs::read_to_string(manifest).map_err(|source| DataError::Io {
            path: manifest.to_path_buf(),
            source,
        })?;
        let files: Vec<PathBuf> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| root.join(line))
            .collect();
        if files.is_empty() {
            return Err(DataError::EmptyManifest(manifest.to_path_buf()));
        }
        Ok(Self { root, files })
    }

    /// The manifest text of these files: paths relative to `root`, one per line, `/`
    /// separated (as the reference's `generate_manifest.py` writes them).
    pub fn manifest(&self) -> String {
        let mut text = String::new();
        for file in &self.files {
            let relative = file.strip_prefix(&self.root).unwrap_or(file);
            let parts: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect();
            text.push_str(&parts.join("/"));
            text.push('\n');
        }
        text
    }

    /// The folder the files are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Never true: empty folders and manifests are refused.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `count` (at least one) of the files spread evenly over the list (every `len / count`-th,
    /// the first included), or all of them when there are no more. Why not the first `count`: sorted
    /// paths group a dataset by source (photo, speaker), so the first files are a few
    /// sources only, and a number measured on them describes those sources, not the split.
    pub fn evenly_spaced(mut self, count: usize) -> Self {
        let (len, count) = (self.files.len(), count.max(1));
        if count < len {
            self.files = (0..count)
                .map(|i| self.files[i * len / count].clone())
                .collect();
        }
        self
    }

    /// The lists of several splits under one root (LibriTTS' `train-clean-100`,
    /// `train-clean-360`, …) as one, in split order, relative to `root`.
    pub fn splits(root: impl AsRef<Path>, splits: &[String], extensions: &[&str]) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        let mut files = Vec::new();
        for split in splits {
            files.extend(Self::scan(root.join(split), extensions)?.files);
        }
        if files.is_empty() {
            return Err(DataError::NoFiles {
                path: root,
                extensions: extensions.join(", "),
            });
        }
        Ok(Self { root, files })
    }
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}
