//! Finding the images of a dataset: ImageNet's `train/<class>/*.JPEG` or any folder tree.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// File extensions treated as images (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp"];

/// Every image file under a root folder, in a fixed (sorted) order.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    files: Vec<PathBuf>,
}

impl ImageFolder {
    /// Walks `root` recursively. Fails if it is missing or holds no image.
    pub fn scan(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(DataError::MissingRoot(root));
        }
        let mut files = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| DataError::Io {
                path: dir.clone(),
                source,
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|source| DataError::Io {
                        path: dir.clone(),
                        source,
                    })?
                    .path();
                if path.is_dir() {
                    pending.push(path);
                } else if is_image(&path) {
                    files.push(path);
                }
            }
        }
        if files.is_empty() {
            return Err(DataError::NoImages {
                path: root,
                extensions: IMAGE_EXTENSIONS.join(", "),
            });
        }
        // Sorted, so the seeded shuffle gives the same order on every machine.
        files.sort();
        Ok(Self { root, files })
    }

    /// The folder scanned.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The image files, sorted.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Never true: [`ImageFolder::scan`] refuses empty folders.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}
