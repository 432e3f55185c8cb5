//! Files of the simvq-rs checkout (demo data, configs, tool scripts) found at run time.
//!
//! A binary built here and carried to another machine (tools/gpu-bench.sh) runs there from a
//! copy of the tree at another path, where the build-time `CARGO_MANIFEST_DIR` does not exist;
//! and a shared target dir can hold a binary built from another clone. So the checkout in the
//! working directory wins (the working directory or the nearest folder above it holding the
//! file: cargo runs integration tests in the crate's folder, not the repository root), and the
//! one the crate was built from is the fallback.

use std::path::{Path, PathBuf};

/// `in_repo` (a path relative to the repository root) in the checkout of the working
/// directory (it or the nearest folder above it where `in_repo` exists) if there is one, else
/// `built` (the same file where the calling crate was built, from its `CARGO_MANIFEST_DIR`);
/// absolute either way, so it stays valid when saved into a run's config and read from
/// elsewhere.
pub fn checkout_path(in_repo: impl AsRef<Path>, built: PathBuf) -> PathBuf {
    let in_repo = in_repo.as_ref();
    let here = std::env::current_dir().ok();
    let found = here
        .iter()
        .flat_map(|dir| dir.ancestors())
        .map(|dir| dir.join(in_repo))
        .find(|candidate| candidate.exists());
    let chosen = found.unwrap_or(built);
    std::path::absolute(&chosen).unwrap_or(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_working_directory_wins_and_the_build_path_is_the_fallback() {
        // cargo runs a crate's unit tests in the crate's directory.
        let here = checkout_path("Cargo.toml", PathBuf::from("/nonexistent/Cargo.toml"));
        assert!(here.is_absolute() && here.exists(), "{}", here.display());
        let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
        let fallback = checkout_path("no/such/file", built.clone());
        assert_eq!(fallback, built);
    }

    #[test]
    fn a_file_of_the_repository_root_is_found_from_a_crate_folder() {
        // The crate's folder is two below the root, which holds README.md and Cargo.lock.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let found = checkout_path(
            "crates/simvq-data/src/checkout.rs",
            PathBuf::from("/nonexistent"),
        );
        assert_eq!(
            found.canonicalize().unwrap(),
            root.join("crates/simvq-data/src/checkout.rs")
                .canonicalize()
                .unwrap()
        );
    }
}
