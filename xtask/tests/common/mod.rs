//! Helpers shared by the xtask tests: the built binary as a command, run to success.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// The xtask binary with `args`, without backtraces in its errors.
pub fn xtask_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).env("RUST_BACKTRACE", "0");
    command
}

/// Runs `command`, failing the test with its stderr unless it succeeds.
pub fn succeed(mut command: Command) -> Output {
    let output = command.output().expect("the xtask binary runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `xtask args`, which must succeed.
pub fn run_xtask(args: &[&str]) -> Output {
    succeed(xtask_command(args))
}

/// A temporary path as an argument.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}
