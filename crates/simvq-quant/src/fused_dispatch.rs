//! Which backends run the fused search kernel ([`crate::fused_search`]), decided at run time.
//!
//! burn's documented way to add a kernel is a backend-extension trait (`trait Backend:
//! burn::Backend { fn fused_op(..) }`) implemented for every backend. Here that bound would
//! spread to every quantizer, tokenizer, training task and binary generic over `B`, and every
//! CPU backend would need an impl that only forwards. Instead [`Codebook`](crate::Codebook)
//! stays generic and asks, per search, whether `B` is one of the cube backends this crate was
//! built for (`--features wgpu`, `cuda`), bare or under `Autodiff`: a `TypeId` comparison,
//! free next to a search. Any other backend, and burn's fusion-wrapped variants, keep the
//! generic tiled search.

use core::any::Any;

use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, FloatElement, IntElement};

use crate::fused_search::nearest_codes;

/// The fused search's indices (`[N]`) for `queries` `[N, W]` and `keys` `[K, W]`, or `None`
/// when `B` has no fused kernel.
pub(crate) fn fused_nearest<B: Backend>(
    queries: &Tensor<B, 2>,
    keys: &Tensor<B, 2>,
) -> Option<Tensor<B, 1, Int>> {
    #[cfg(feature = "wgpu")]
    if let Some(indices) = bare_or_autodiff::<B, burn::backend::Wgpu>(queries, keys) {
        return Some(indices);
    }
    #[cfg(feature = "cuda")]
    if let Some(indices) = bare_or_autodiff::<B, burn::backend::Cuda>(queries, keys) {
        return Some(indices);
    }
    None
}

/// A backend whose tensors the fused kernel reads directly.
trait FusedSearch: Backend {
    fn search(queries: Tensor<Self, 2>, keys: Tensor<Self, 2>) -> Tensor<Self, 1, Int>;
}

impl<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement> FusedSearch
    for CubeBackend<R, F, I, BT>
{
    fn search(queries: Tensor<Self, 2>, keys: Tensor<Self, 2>) -> Tensor<Self, 1, Int> {
        Tensor::from_primitive(nearest_codes::<R>(
            queries.into_primitive().tensor(),
            keys.into_primitive().tensor(),
            I::dtype(),
        ))
    }
}

/// The fused search if `B` is `C` or `Autodiff<C>` (the search is detached either way).
fn bare_or_autodiff<B: Backend, C: FusedSearch>(
    queries: &Tensor<B, 2>,
    keys: &Tensor<B, 2>,
) -> Option<Tensor<B, 1, Int>> {
    if let (Some(queries), Some(keys)) = (same::<_, Tensor<C, 2>>(queries), same(keys)) {
        return same(&C::search(queries, keys));
    }
    type AutodiffTensor<X> = Tensor<Autodiff<X>, 2>;
    if let (Some(queries), Some(keys)) = (
        same::<_, AutodiffTensor<C>>(queries),
        same::<_, AutodiffTensor<C>>(keys),
    ) {
        let indices = C::search(queries.inner(), keys.inner());
        return same(&Tensor::<Autodiff<C>, 1, Int>::from_inner(indices));
    }
    None
}

/// `value` as a `U` when `T` and `U` are the same type (a cheap clone: tensors share their
/// buffer), else `None`.
fn same<T: Clone + 'static, U: Clone + 'static>(value: &T) -> Option<U> {
    (value as &dyn Any).downcast_ref::<U>().cloned()
}
