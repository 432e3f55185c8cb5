//! Several processes training one run, on one machine or many (`--nodes N --node-rank R
//! --coordinator HOST:PORT`): burn-collective all-reduces what every step needs from all of
//! them; rank 0 hosts burn-collective's orchestrator (the rendezvous, nothing more: tensors
//! move peer to peer) and is the one that writes checkpoints and reports.
//!
//! Every collective call runs under a watchdog: burn-collective 0.21 has no timeouts, and a
//! peer that dies or hangs mid-reduce leaves the others waiting forever (or panicking on a
//! tokio thread). The call runs on a helper thread; the training thread waits at most
//! [`NodeSettings::timeout`] and then stops the run with an error that says what to do.

use std::marker::PhantomData;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorPrimitive};
use burn_collective::{
    all_reduce, register, AllReduceStrategy, CollectiveConfig, CollectiveError, PeerId,
    ReduceOperation,
};
use burn_communication::Address;
use simvq_quant::CodebookUsage;

use crate::error::{Result, TrainError};
use crate::flat_buffer::{flatten_weights, with_weights};

/// Where this process sits in a multi-node run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSettings {
    /// Processes in the run (one per machine, or one per GPU).
    pub nodes: usize,
    /// This process's rank, `0..nodes`; rank 0 hosts the coordinator.
    pub rank: usize,
    /// `HOST:PORT` of the coordinator (rank 0's machine), the same on every node.
    pub coordinator: String,
    /// `HOST:PORT` the other nodes reach this one at for tensor exchange. Default: the
    /// coordinator's host, port + 1 + rank (right when every node runs on the coordinator's
    /// machine; on a cluster give each node its own host name).
    pub address: Option<String>,
    /// How long to wait for the other nodes (to join, and at every exchange) before stopping.
    pub timeout: Duration,
}

impl NodeSettings {
    /// Checks the settings before anything starts; errors say which flag to fix.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(TrainError::Cluster(why));
        if self.nodes == 0 {
            return bad("--nodes must be at least 1".into());
        }
        if self.rank >= self.nodes {
            return bad(format!(
                "--node-rank {} is out of range for --nodes {}: ranks are 0..{}",
                self.rank,
                self.nodes,
                self.nodes - 1
            ));
        }
        self.coordinator_addr()?;
        self.own_address()?;
        Ok(())
    }

    fn coordinator_addr(&self) -> Result<SocketAddr> {
        resolve(&self.coordinator, "--coordinator")
    }

    /// This node's `(host, port)` for the data service.
    fn own_address(&self) -> Result<(String, u16)> {
        match &self.address {
            Some(address) => {
                let port = resolve(address, "--node-address")?.port();
                let host = address.rsplit_once(':').map_or("", |(host, _)| host);
                Ok((host.to_owned(), port))
            }
            None => {
                let coordinator = self.coordinator_addr()?;
                let port = usize::from(coordinator.port()) + 1 + self.rank;
                let port = u16::try_from(port).map_err(|_| {
                    TrainError::Cluster(format!(
                        "the coordinator's port {} leaves no port for rank {}: choose a lower \
                         one or set --node-address",
                        coordinator.port(),
                        self.rank
                    ))
                })?;
                let host = self.coordinator.rsplit_once(':').map_or("", |(h, _)| h);
                Ok((host.to_owned(), port))
            }
        }
    }
}

/// `HOST:PORT` resolved, or an error naming `flag`.
fn resolve(address: &str, flag: &str) -> Result<SocketAddr> {
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut all| all.next())
        .ok_or_else(|| {
            TrainError::Cluster(format!(
                "{flag} {address:?} is not a reachable HOST:PORT (e.g. 10.0.0.1:29500)"
            ))
        })
}

/// The most f32 values one exchange carries: 128 MiB. burn-communication's websocket frames
/// are capped at 512 MiB, and the reference audio codec's gradients with its discriminators
/// (190 M values, 760 MB) exceeded that: the exchange failed with a reset connection.
pub const MAX_EXCHANGE_ELEMENTS: usize = 32 << 20;

/// This process's membership of a multi-node run, on backend `B` (the inner backend: the
/// exchanged tensors are gradients and statistics, not graph nodes). The training loop makes
/// its own; public for programs that exchange other tensors the same way (`cargo xtask bench
/// all-reduce`). One per process.
pub struct Cluster<B: Backend> {
    watchdog: Watchdog,
    backend: PhantomData<B>,
}

impl<B: Backend> Cluster<B> {
    /// Joins the run: rank 0 starts the coordinator first; every rank waits until all
    /// `settings.nodes` have registered (at most the timeout).
    pub fn join(settings: &NodeSettings, device: &B::Device) -> Result<Self> {
        settings.validate()?;
        // Before burn-communication's own logger (INFO, on stdout, a line per transfer) can
        // install itself: its warnings and errors on stderr, with ours. Fails harmlessly when
        // the program has a logger already.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .try_init();
        let coordinator = settings.coordinator_addr()?;
        if settings.rank == 0 {
            start_coordinator(coordinator.port())?;
        }
        let (host, port) = settings.own_address()?;
        let config = CollectiveConfig::default()
            .with_num_devices(1)
            .with_num_nodes(settings.nodes as u32)
            .with_global_address(ws_address(&settings.coordinator)?)
            .with_node_address(ws_address(&format!("{host}:{port}"))?)
            .with_data_service_port(port)
            // The default Ring refuses tensors smaller than the node count; ours are one
            // flat buffer per exchange, and a tree's result is bit-identical on every node.
            .with_global_all_reduce_strategy(AllReduceStrategy::Tree(2));
        let cluster = Self {
            watchdog: Watchdog {
                rank: settings.rank,
                nodes: settings.nodes,
                timeout: settings.timeout,
            },
            backend: PhantomData,
        };
        let (peer, device) = (PeerId(settings.rank as u32), device.clone());
        cluster
            .watchdog
            .within("joining the other nodes", move || {
                register::<B>(peer, device, config)
            })?;
        Ok(cluster)
    }

    /// Whether this process writes the run's files (rank 0).
    pub fn is_leader(&self) -> bool {
        self.watchdog.rank == 0
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.watchdog.rank
    }

    /// Processes in the run.
    pub fn nodes(&self) -> usize {
        self.watchdog.nodes
    }

    /// The element-wise sum of `values` over all nodes (the same bits on every node), in
    /// exchanges of at most [`MAX_EXCHANGE_ELEMENTS`].
    pub fn sum(&self, values: Tensor<B, 1>, what: &str) -> Result<Tensor<B, 1>> {
        let len = values.dims()[0];
        if len <= MAX_EXCHANGE_ELEMENTS {
            return self.sum_at_once(values, what);
        }
        let parts = (0..len)
            .step_by(MAX_EXCHANGE_ELEMENTS)
            .map(|start| {
                let end = (start + MAX_EXCHANGE_ELEMENTS).min(len);
                self.sum_at_once(values.clone().slice(start..end), what)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(parts, 0))
    }

    /// [`Cluster::sum`] in one exchange.
    fn sum_at_once(&self, values: Tensor<B, 1>, what: &str) -> Result<Tensor<B, 1>> {
        let peer = PeerId(self.rank() as u32);
        let primitive = values.into_primitive().tensor();
        let summed = self.watchdog.within(what, move || {
            all_reduce::<B>(peer, primitive, ReduceOperation::Sum)
        })?;
        Ok(Tensor::from_primitive(TensorPrimitive::Float(summed)))
    }

    /// The codes used on all nodes. Counts travel as f32: exact up to 2²⁴ uses of one code
    /// in one logging window.
    pub(crate) fn sum_usage(
        &self,
        usage: &CodebookUsage,
        device: &B::Device,
    ) -> Result<CodebookUsage> {
        let counts: Vec<f32> = usage.counts().iter().map(|&c| c as f32).collect();
        let summed = self.sum(
            Tensor::from_floats(counts.as_slice(), device),
            "codebook usage",
        )?;
        let counts = host_values(summed)
            .into_iter()
            .map(|c| c.round() as u64)
            .collect();
        Ok(CodebookUsage::from_counts(counts))
    }

    /// Checks that every node is at step `step` (a node that resumed from another checkpoint,
    /// or found none, would train other weights).
    pub(crate) fn check_same_step(&self, step: usize, device: &B::Device) -> Result<()> {
        let steps = self.each_nodes(step as f32, "comparing steps", device)?;
        match steps.iter().position(|&s| s as usize != step) {
            None => Ok(()),
            Some(other) => Err(TrainError::Cluster(format!(
                "node {} starts at step {step} but node {other} at step {}: every node must \
                 resume from the same checkpoint (give them one shared --out folder, or copy \
                 rank 0's checkpoints to each)",
                self.rank(),
                steps[other] as usize
            ))),
        }
    }

    /// Every node's `value`, in rank order (one sum: each node fills its own slot). Exact for
    /// integers up to 2²⁴.
    fn each_nodes(&self, value: f32, what: &str, device: &B::Device) -> Result<Vec<f32>> {
        let mut mine = vec![0.0f32; self.nodes()];
        mine[self.rank()] = value;
        let all = self.sum(Tensor::from_floats(mine.as_slice(), device), what)?;
        Ok(host_values(all))
    }

    /// Every node's `rows`, stacked in rank order (an all-gather made of one count exchange
    /// and one sum: each node fills its own block of a zero buffer).
    pub(crate) fn gather_rows(&self, rows: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        let [n, d] = rows.dims();
        let device = rows.device();
        let counts: Vec<usize> = self
            .each_nodes(n as f32, "row counts", &device)?
            .into_iter()
            .map(|c| c as usize)
            .collect();
        let total: usize = counts.iter().sum();
        let before: usize = counts[..self.rank()].iter().sum();
        let after = total - before - n;
        let zeros = |rows: usize| Tensor::<B, 2>::zeros([rows, d], &device);
        let padded = Tensor::cat(vec![zeros(before), rows, zeros(after)], 0);
        let flat = self.sum(padded.reshape([total * d]), "latent rows")?;
        Ok(flat.reshape([total, d]))
    }
}

/// `module` with rank 0's weights on every node (a sum to which the other nodes add
/// zeros: burn-collective 0.21 has no multi-node broadcast). For what each node initialised
/// from its own data (the encoder's data init).
pub(crate) fn weights_of_leader<B: AutodiffBackend, M: AutodiffModule<B>>(
    cluster: &Cluster<B::InnerBackend>,
    module: M,
) -> Result<M> {
    let (flat, layout) = flatten_weights(&module);
    let flat = if cluster.is_leader() {
        flat
    } else {
        flat.zeros_like()
    };
    let flat = cluster.sum(flat, "taking rank 0's initial weights")?;
    Ok(with_weights(module, &layout, flat))
}

/// A vector's values on the host.
fn host_values<B: Backend>(values: Tensor<B, 1>) -> Vec<f32> {
    values
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data")
}

/// Who is waiting, and for how long.
#[derive(Debug, Clone, Copy)]
struct Watchdog {
    rank: usize,
    nodes: usize,
    timeout: Duration,
}

impl Watchdog {
    /// Runs the collective call `op` on a helper thread and waits at most the timeout.
    fn within<T: Send + 'static>(
        &self,
        what: &str,
        op: impl FnOnce() -> std::result::Result<T, CollectiveError> + Send + 'static,
    ) -> Result<T> {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("collective".into())
            .spawn(move || {
                let _ = sender.send(op());
            })
            .map_err(|e| TrainError::Cluster(format!("cannot start a thread: {e}")))?;
        let (rank, nodes) = (self.rank, self.nodes);
        match receiver.recv_timeout(self.timeout) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(TrainError::Cluster(format!(
                "node {rank} of {nodes}: {what} failed ({e:?}): another node stopped or \
                 disagrees on the run's settings. Restart every node with --resume"
            ))),
            Err(_) => Err(TrainError::Cluster(format!(
                "node {rank} of {nodes}: no answer from the other nodes within {} s while \
                 {what}: a node stopped or cannot be reached. Check that every node runs with \
                 the same --nodes and --coordinator, that each one's --node-address is its own \
                 host and reachable from the others, and that the ports are open; then \
                 restart every node with --resume",
                self.timeout.as_secs()
            ))),
        }
    }
}

/// Starts burn-collective's orchestrator on `port` (all interfaces) on a thread of its own,
/// for the life of the process; fails early when the port is taken.
fn start_coordinator(port: u16) -> Result<()> {
    // The orchestrator binds the port itself and only logs a failure, so probe it first.
    std::net::TcpListener::bind(("0.0.0.0", port)).map_err(|e| {
        TrainError::Cluster(format!(
            "rank 0 cannot host the coordinator on port {port} ({e}): choose another \
             --coordinator port"
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| TrainError::Cluster(format!("cannot start the coordinator: {e}")))?;
    std::thread::Builder::new()
        .name("coordinator".into())
        .spawn(move || runtime.block_on(burn_collective::start_global_orchestrator(port)))
        .map_err(|e| TrainError::Cluster(format!("cannot start the coordinator: {e}")))?;
    Ok(())
}

/// burn-communication's address for `HOST:PORT` (its websocket transport wants `ws://`).
fn ws_address(host_port: &str) -> Result<Address> {
    format!("ws://{host_port}")
        .parse()
        .map_err(|_| TrainError::Cluster(format!("{host_port:?} is not a HOST:PORT address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rank: usize, coordinator: &str, address: Option<&str>) -> NodeSettings {
        NodeSettings {
            nodes: 2,
            rank,
            coordinator: coordinator.into(),
            address: address.map(Into::into),
            timeout: Duration::from_secs(1),
        }
    }

    fn error(settings: NodeSettings) -> String {
        settings.validate().unwrap_err().to_string()
    }

    #[test]
    fn bad_node_settings_name_the_flag_to_fix() {
        assert!(error(settings(2, "127.0.0.1:29500", None)).contains("--node-rank 2"));
        assert!(error(settings(0, "no-port", None)).contains("--coordinator"));
        let address = settings(1, "127.0.0.1:29500", Some("127.0.0.1"));
        assert!(error(address).contains("--node-address"));
        assert!(error(settings(1, "127.0.0.1:65535", None)).contains("no port for rank 1"));
    }

    #[test]
    fn a_node_serves_next_to_the_coordinator_unless_told_otherwise() {
        let own = |s: NodeSettings| s.own_address().unwrap();
        assert_eq!(
            own(settings(1, "127.0.0.1:29500", None)),
            ("127.0.0.1".into(), 29502)
        );
        let elsewhere = settings(1, "127.0.0.1:29500", Some("localhost:4000"));
        assert_eq!(own(elsewhere), ("localhost".into(), 4000));
    }
}
