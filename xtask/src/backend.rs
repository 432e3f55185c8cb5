//! The one place a backend is chosen: `--backend cpu|wgpu|cuda`.
//!
//! Everything else is generic over `B: AutodiffBackend`; a command hands a generic function to
//! [`dispatch!`] and gets it instantiated for the chosen backend. GPU backends exist only when
//! the binary is built with the `wgpu` or `cuda` feature.

use clap::ValueEnum;

/// Compute backends this binary can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// burn-flex on the CPU (always available).
    Cpu,
    /// burn-wgpu (Vulkan/Metal/DX12); needs `--features wgpu`.
    Wgpu,
    /// burn-cuda; needs `--features cuda` and an NVIDIA driver at run time.
    Cuda,
}

impl BackendKind {
    /// A clear error for a backend this binary was built without.
    pub fn not_built(self) -> anyhow::Error {
        let feature = format!("{self:?}").to_lowercase();
        anyhow::anyhow!(
            "this binary was built without the `{feature}` backend: run it as \
             `cargo run --release -p xtask --features {feature} -- <command> --backend {feature}`"
        )
    }
}

/// Runs `$body` with `$B` bound to the autodiff backend of `$kind` and `$device` to its
/// default device.
macro_rules! dispatch {
    ($kind:expr, |$B:ident, $device:ident| $body:expr) => {{
        match $kind {
            $crate::backend::BackendKind::Cpu => {
                type $B = burn::backend::Autodiff<burn::backend::Flex>;
                let $device = Default::default();
                $body
            }
            #[cfg(feature = "wgpu")]
            $crate::backend::BackendKind::Wgpu => {
                type $B = burn::backend::Autodiff<burn::backend::Wgpu>;
                let $device = burn::backend::wgpu::WgpuDevice::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::backend::BackendKind::Cuda => {
                type $B = burn::backend::Autodiff<burn::backend::Cuda>;
                let $device = burn::backend::cuda::CudaDevice::default();
                $body
            }
            #[allow(unreachable_patterns)]
            other => Err(other.not_built()),
        }
    }};
}
pub(crate) use dispatch;
