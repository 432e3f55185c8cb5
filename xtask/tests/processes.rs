//! Training as real processes do it: a run killed with SIGKILL resumes to exactly the
//! uninterrupted run's weights, and two processes training as two nodes (burn-collective over
//! 127.0.0.1), stopped and resumed, end where one process with the whole batch ends; a node
//! that dies stops the other with an error instead of a hang.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::Tensor;
use burn_flex::Flex;
use simvq_train::ImageTrainConfig;

mod common;
use common::{path, succeed, xtask_command as xtask};

/// The demo's config with each `(from, to)` of `edits` made, written to `dir/name`.
fn edited_demo_config(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/demo_image.toml");
    let mut text = std::fs::read_to_string(demo).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the demo config changed: no `{from}`");
        text = text.replace(from, to);
    }
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// The demo's config with a checkpoint every `every` steps.
fn demo_config_checkpointing_every(dir: &Path, every: usize) -> PathBuf {
    let every = format!("checkpoint_every = {every}");
    edited_demo_config(
        dir,
        "demo_checkpointing.toml",
        &[("checkpoint_every = 500", &every)],
    )
}

fn checkpoint(run: &Path, step: usize) -> PathBuf {
    run.join("checkpoints").join(format!("step-{step:09}"))
}

/// A module's float tensors with their paths in the module.
type Tensors = Vec<(String, Vec<f32>)>;

/// The float tensors of `module` loaded from checkpoint file `file` (without extension),
/// each with its path in the module.
fn weights<M: Module<Flex>>(module: M, file: &Path) -> Tensors {
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let loaded = module
        .load_file(file, &recorder, &Default::default())
        .unwrap_or_else(|e| panic!("loading {}: {e}", file.display()));
    let mut named = Named::default();
    loaded.visit(&mut named);
    named.tensors
}

/// Collects tensors with their module paths.
#[derive(Default)]
struct Named {
    path: Vec<String>,
    tensors: Tensors,
}

impl ModuleVisitor<Flex> for Named {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Flex, D>>) {
        let values = param.val().into_data().convert::<f32>().to_vec().unwrap();
        self.tensors.push((self.path.join("."), values));
    }
}

/// Tokenizer (raw and EMA) and discriminator weights of a checkpoint of the demo.
fn demo_weights(dir: &Path) -> Vec<(&'static str, Tensors)> {
    let config = ImageTrainConfig::demo();
    let device = Default::default();
    let model = || config.model.init::<Flex>(&device).unwrap();
    vec![
        ("model", weights(model(), &dir.join("model"))),
        ("ema", weights(model(), &dir.join("ema"))),
        (
            "discriminator",
            weights(
                config.discriminator.init::<Flex>(&device),
                &dir.join("discriminator"),
            ),
        ),
    ]
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_uninterrupted_runs_weights() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config_checkpointing_every(dir.path(), 2);
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let train = |out: &Path, resume: bool| {
        let mut args = vec!["train", "image", "--config", path(&config)];
        args.extend(["--steps", "6", "--no-progress", "--out", path(out)]);
        if resume {
            args.push("--resume");
        }
        xtask(&args)
    };
    succeed(train(&straight, false));

    let mut child = train(&killed, false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !checkpoint(&killed, 2).is_dir() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(Instant::now() < deadline, "no checkpoint after 10 minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();
    assert!(
        !checkpoint(&killed, 6).exists() && !killed.join("metrics.json").exists(),
        "the run was killed before it finished"
    );

    let resumed = succeed(train(&killed, true));
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(log.contains("resumed from"), "{log}");
    let (a, b) = (checkpoint(&straight, 6), checkpoint(&killed, 6));
    // Bit-exact, BatchNorm statistics included. Four Adam steps after the resume, this also
    // says the Adam moments were restored (their files differ in bytes: they are keyed by
    // parameter ids, drawn afresh by each process).
    for ((name, left), (_, right)) in demo_weights(&a).into_iter().zip(demo_weights(&b)) {
        assert!(left == right, "{name} differs after the resume");
    }
}

/// A base port with the next two free as well (coordinator, then one per node).
fn free_ports() -> u16 {
    loop {
        let base = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let free = |p: u16| TcpListener::bind(("0.0.0.0", p)).is_ok();
        if base < u16::MAX - 2 && (base..base + 3).all(free) {
            return base;
        }
    }
}

/// `train image` as node `rank` of two, coordinated at 127.0.0.1:`port`.
fn node(rank: usize, port: u16, out: &Path, steps: &str, timeout: &str) -> Command {
    let coordinator = format!("127.0.0.1:{port}");
    let rank = rank.to_string();
    xtask(&[
        "train",
        "image",
        "--steps",
        steps,
        "--no-progress",
        "--out",
        path(out),
        "--nodes",
        "2",
        "--node-rank",
        &rank,
        "--coordinator",
        &coordinator,
        "--node-timeout",
        timeout,
    ])
}

fn spawn(mut command: Command) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The tensors of `all` that training updates: all but BatchNorm's running statistics.
fn trained(all: &[(String, Vec<f32>)]) -> Vec<&Vec<f32>> {
    all.iter()
        .filter(|(path, _)| !path.contains("running_"))
        .map(|(_, values)| values)
        .collect()
}

/// The largest difference between two sets of weights, relative to the largest weight.
fn largest_difference(left: &[&Vec<f32>], right: &[&Vec<f32>]) -> f32 {
    let (mut diff, mut scale) = (0.0f32, 0.0f32);
    for (a, b) in left.iter().zip(right) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b.iter()) {
            diff = diff.max((x - y).abs());
            scale = scale.max(x.abs());
        }
    }
    diff / scale
}

#[test]
fn two_nodes_train_and_resume_to_the_weights_one_process_trains_with_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (single, shared) = (dir.path().join("single"), dir.path().join("nodes"));
    // A constant learning rate, so that a run of 2 steps resumed for 2 more takes the
    // updates of a run of 4 (a cosine spans the run's length).
    let config = edited_demo_config(
        dir.path(),
        "constant_lr.toml",
        &[("decay = \"cosine\"", "")],
    );
    // Two slices of each batch in one process: the discriminator's BatchNorm then sees the
    // same per-slice batches as on two nodes.
    succeed(xtask(&[
        "train",
        "image",
        "--config",
        path(&config),
        "--steps",
        "4",
        "--no-progress",
        "--devices",
        "2",
        "--out",
        path(&single),
    ]));
    // Two steps, then both nodes resume from rank 0's checkpoint for two more.
    for (steps, resume) in [("2", false), ("4", true)] {
        let port = free_ports();
        let nodes = [0, 1].map(|rank| {
            let mut command = node(rank, port, &shared, steps, "120");
            command.args(["--config", path(&config)]);
            if resume {
                command.arg("--resume");
            }
            spawn(command)
        });
        for (rank, child) in nodes.into_iter().enumerate() {
            let output = child.wait_with_output().unwrap();
            let log = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "node {rank} failed:\n{log}");
            assert_eq!(log.contains("resumed from"), resume, "node {rank}:\n{log}");
        }
    }
    assert!(shared.join("metrics.json").is_file(), "rank 0 reports");
    let (a, b) = (checkpoint(&single, 4), checkpoint(&shared, 4));
    for ((name, left), (_, right)) in demo_weights(&a).into_iter().zip(demo_weights(&b)) {
        // BatchNorm's running statistics are rank 0's own slices' (as with PyTorch DDP's
        // default, which broadcasts rank 0's buffers); the discriminator uses batch
        // statistics in training and is not used otherwise.
        let (left, right) = (trained(&left), trained(&right));
        eprintln!("{name}: {} tensors compared", left.len());
        // Sums in another order (a tree across nodes), through 4 Adam steps: the same
        // weights to float rounding (measured: identical).
        let difference = largest_difference(&left, &right);
        assert!(
            difference < 1e-4,
            "{name}: relative difference {difference}"
        );
    }
}

#[test]
fn a_dead_node_stops_the_other_with_an_error_instead_of_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nodes");
    let port = free_ports();
    let survivor = spawn(node(0, port, &out, "1000", "10"));
    let mut doomed = node(1, port, &out, "1000", "10")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Rank 1 logs its codebook's data init once both nodes have joined and exchanged latents.
    let log = BufReader::new(doomed.stderr.take().unwrap());
    let joined = log
        .lines()
        .map_while(|line| line.ok())
        .any(|line| line.contains("codebook_init = data"));
    assert!(joined, "rank 1 never joined");
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let killed_at = Instant::now();
    let output = survivor.wait_with_output().unwrap();
    let waited = killed_at.elapsed();
    let log = String::from_utf8_lossy(&output.stderr);
    eprintln!("rank 0 stopped {waited:?} after rank 1 was killed:\n{log}");
    assert!(!output.status.success(), "rank 0 went on alone:\n{log}");
    assert!(log.contains("multi-node training: node 0 of 2"), "{log}");
    assert!(
        waited < Duration::from_secs(60),
        "rank 0 took {waited:?} to stop"
    );
}

#[test]
fn a_node_whose_peers_never_come_stops_after_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = node(0, free_ports(), &dir.path().join("nodes"), "4", "2")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("no answer from the other nodes within 2 s while joining"),
        "{log}"
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{log}");
}

#[test]
fn the_all_reduce_benchmark_times_two_processes() {
    let output = succeed(xtask(&[
        "bench",
        "all-reduce",
        "--elements",
        "1000,3000",
        "--rounds",
        "1",
    ]));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("| custom | 3000 |"), "{table}");
}

#[test]
fn nodes_that_would_start_from_different_checkpoints_refuse_to_train() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("resumable"), dir.path().join("empty"));
    succeed(xtask(&[
        "train",
        "image",
        "--steps",
        "1",
        "--no-progress",
        "--out",
        path(&with),
    ]));
    let port = free_ports();
    let nodes = [(0, &with), (1, &without)].map(|(rank, out)| {
        let mut command = node(rank, port, out, "4", "60");
        command.arg("--resume");
        spawn(command)
    });
    for child in nodes {
        let output = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{log}");
        assert!(
            log.contains("must resume from the same checkpoint"),
            "{log}"
        );
    }
}
