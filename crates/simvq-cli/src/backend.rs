//! `--backend cpu|wgpu|cuda` for inference (no autodiff). GPU backends exist only when the
//! binary is built with the `wgpu` or `cuda` feature.

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
            "this simvq was built without the `{feature}` backend: install it with \
             `cargo install --path crates/simvq-cli --features {feature}`"
        )
    }
}

/// Runs `$body` with `$B` bound to the backend of `$kind` and `$device` to its default device.
macro_rules! on_backend {
    ($kind:expr, |$B:ident, $device:ident| $body:expr) => {{
        match $kind {
            $crate::backend::BackendKind::Cpu => {
                type $B = burn::backend::Flex;
                let $device = Default::default();
                $body
            }
            #[cfg(feature = "wgpu")]
            $crate::backend::BackendKind::Wgpu => {
                type $B = burn::backend::Wgpu;
                let $device = burn::backend::wgpu::WgpuDevice::default();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::backend::BackendKind::Cuda => {
                type $B = burn::backend::Cuda;
                let $device = burn::backend::cuda::CudaDevice::default();
                $body
            }
            #[allow(unreachable_patterns)]
            other => Err(other.not_built()),
        }
    }};
}
pub(crate) use on_backend;
