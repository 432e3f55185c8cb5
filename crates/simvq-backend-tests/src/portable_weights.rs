//! One network's weights on any backend, for the networks that have no seeded initialiser
//! (the metric networks are only ever loaded from files).

use burn::module::Module;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;

/// A module's record as bytes, as a file would hold it. Made once from the module: burn's
/// parameters are initialised lazily and a clone of an uninitialised one draws its own
/// values, so passing the module around instead would give each backend other weights.
pub struct PortableWeights(Vec<u8>);

impl PortableWeights {
    /// The weights of `module` (drawn now, if they were not yet).
    pub fn of<C: Backend, M: Module<C>>(module: M) -> Self {
        let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
        let bytes = Recorder::<C>::record(&recorder, module.into_record(), ())
            .expect("a record serializes");
        Self(bytes)
    }

    /// `target` (a module of the same structure on `device`) with these weights.
    pub fn load<B: Backend, N: Module<B>>(&self, target: N, device: &B::Device) -> N {
        let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
        let record =
            Recorder::<B>::load(&recorder, self.0.clone(), device).expect("the same structure");
        target.load_record(record)
    }
}
