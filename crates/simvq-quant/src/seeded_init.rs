//! Seeded, host-side initialisation of burn-nn layers, for the models built on this crate.
//!
//! burn's `XConfig::init(device)` draws every random parameter from the backend's generator,
//! which is one global state per backend: two models initialised at once in one process
//! (tests, a server building two tokenizers) interleave their draws, and the same seed gives
//! different weights on burn-flex, wgpu and CUDA. [`SeededInit`] draws on the host from its
//! own `StdRng` instead, with exactly the distributions burn's [`Initializer`] would use, and
//! uploads the result, so a seed names one set of weights on every backend and nothing is
//! shared between two initialisations.

use std::cell::RefCell;

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, LinearLayout, Lstm, LstmConfig};
use burn::tensor::{backend::Backend, Distribution, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A device and a seeded generator: everything a model's constructor needs.
///
/// Layers are drawn in the order they are built, so a constructor that builds the same layers
/// in the same order gives the same weights for the same seed.
pub struct SeededInit<B: Backend> {
    device: B::Device,
    rng: RefCell<StdRng>,
}

impl<B: Backend> SeededInit<B> {
    /// Parameters for `device`, drawn from `StdRng::seed_from_u64(seed)`.
    pub fn new(seed: u64, device: &B::Device) -> Self {
        Self {
            device: device.clone(),
            rng: RefCell::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// The device the parameters are created on.
    pub fn device(&self) -> &B::Device {
        &self.device
    }

    /// A trainable parameter of `shape` drawn as `initializer` would draw it for a layer with
    /// these fans (burn's formulas: Kaiming uses `fan_in`, or `fan_out` when `fan_out_only`;
    /// Xavier uses both).
    pub fn param<const D: usize>(
        &self,
        initializer: &Initializer,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
    ) -> Param<Tensor<B, D>> {
        let data = self.draw(initializer, shape, fan_in, fan_out);
        Param::from_data(data, &self.device)
    }

    /// `config.init(device)` with its weight and bias drawn here.
    pub fn conv1d(&self, config: &Conv1dConfig) -> Conv1d<B> {
        let fan_in = config.channels_in / config.groups * config.kernel_size;
        let fan_out = config.channels_out / config.groups * config.kernel_size;
        let mut conv = config.init(&self.device);
        let shape = [
            config.channels_out,
            config.channels_in / config.groups,
            config.kernel_size,
        ];
        conv.weight = self.param(&config.initializer, shape, fan_in, fan_out);
        conv.bias = config
            .bias
            .then(|| self.param(&config.initializer, [config.channels_out], fan_in, fan_out));
        conv
    }

    /// `config.init(device)` with its weight and bias drawn here.
    pub fn conv2d(&self, config: &Conv2dConfig) -> Conv2d<B> {
        let [cin, cout] = config.channels;
        let [kh, kw] = config.kernel_size;
        let fan_in = cin / config.groups * kh * kw;
        let fan_out = cout / config.groups * kh * kw;
        let mut conv = config.init(&self.device);
        let shape = [cout, cin / config.groups, kh, kw];
        conv.weight = self.param(&config.initializer, shape, fan_in, fan_out);
        conv.bias = config
            .bias
            .then(|| self.param(&config.initializer, [cout], fan_in, fan_out));
        conv
    }

    /// `config.init(device)` in burn's default row layout (`[d_input, d_output]`), with its
    /// weight and bias drawn here; a `Col` layout in `config` is built as `Row`.
    pub fn linear(&self, config: &LinearConfig) -> Linear<B> {
        let (din, dout) = (config.d_input, config.d_output);
        let row = LinearConfig {
            layout: LinearLayout::Row,
            ..config.clone()
        };
        let mut linear = row.init(&self.device);
        linear.weight = self.param(&config.initializer, [din, dout], din, dout);
        linear.bias = config
            .bias
            .then(|| self.param(&config.initializer, [dout], din, dout));
        linear
    }

    /// `config.init(device)` with the input and hidden transforms of its four gates drawn
    /// here, in burn's gate order (input, forget, output, cell).
    pub fn lstm(&self, config: &LstmConfig) -> Lstm<B> {
        let mut lstm = config.init(&self.device);
        let transform = |din: usize| {
            self.linear(
                &LinearConfig::new(din, config.d_hidden)
                    .with_bias(config.bias)
                    .with_initializer(config.initializer.clone()),
            )
        };
        for gate in [
            &mut lstm.input_gate,
            &mut lstm.forget_gate,
            &mut lstm.output_gate,
            &mut lstm.cell_gate,
        ] {
            gate.input_transform = transform(config.d_input);
            gate.hidden_transform = transform(config.d_hidden);
        }
        lstm
    }

    /// The values of one parameter, on the host.
    fn draw<const D: usize>(
        &self,
        initializer: &Initializer,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
    ) -> TensorData {
        let constant = |value: f64| {
            let count = shape.iter().product();
            TensorData::new(vec![value as f32; count], shape)
        };
        let kaiming = |fan_out_only: bool| {
            let fan = if fan_out_only { fan_out } else { fan_in };
            1.0 / (fan as f64).sqrt()
        };
        let xavier = (2.0 / (fan_in + fan_out) as f64).sqrt();
        let distribution = match *initializer {
            Initializer::Constant { value } => return constant(value),
            Initializer::Ones => return constant(1.0),
            Initializer::Zeros => return constant(0.0),
            Initializer::Orthogonal { gain } => return self.orthogonal(shape, gain),
            Initializer::Uniform { min, max } => Distribution::Uniform(min, max),
            Initializer::Normal { mean, std } => Distribution::Normal(mean, std),
            Initializer::KaimingUniform { gain, fan_out_only } => {
                let bound = 3f64.sqrt() * gain * kaiming(fan_out_only);
                Distribution::Uniform(-bound, bound)
            }
            Initializer::KaimingNormal { gain, fan_out_only } => {
                Distribution::Normal(0.0, gain * kaiming(fan_out_only))
            }
            Initializer::XavierUniform { gain } => {
                let bound = 3f64.sqrt() * gain * xavier;
                Distribution::Uniform(-bound, bound)
            }
            Initializer::XavierNormal { gain } => Distribution::Normal(0.0, gain * xavier),
        };
        TensorData::random::<f32, _, _>(shape, distribution, &mut *self.rng.borrow_mut())
    }

    /// PyTorch's `orthogonal_` (as burn's): the Q of a QR decomposition of a standard normal
    /// `[rows, rest]` matrix (transposed when wider than tall), signs fixed by R's diagonal,
    /// times `gain`. Done on the host in f64 (modified Gram–Schmidt).
    fn orthogonal<const D: usize>(&self, shape: [usize; D], gain: f64) -> TensorData {
        let rows = shape[0];
        let cols: usize = shape[1..].iter().product();
        let normal = TensorData::random::<f32, _, _>(
            [rows * cols],
            Distribution::Normal(0.0, 1.0),
            &mut *self.rng.borrow_mut(),
        );
        let values = normal.to_vec::<f32>().expect("f32 draws");
        // Columns of the (possibly transposed) matrix to orthonormalise: `n` vectors of `m`.
        let (m, n) = (rows.max(cols), rows.min(cols));
        let mut columns: Vec<Vec<f64>> = (0..n)
            .map(|j| {
                (0..m)
                    .map(|i| {
                        let (r, c) = if rows >= cols { (i, j) } else { (j, i) };
                        values[r * cols + c] as f64
                    })
                    .collect()
            })
            .collect();
        for j in 0..n {
            for i in 0..j {
                let (done, rest) = columns.split_at_mut(j);
                let dot: f64 = done[i].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
                for (v, q) in rest[0].iter_mut().zip(&done[i]) {
                    *v -= dot * q;
                }
            }
            // R's diagonal is the norm (positive), so the sign correction is the identity.
            let norm = columns[j].iter().map(|v| v * v).sum::<f64>().sqrt();
            columns[j].iter_mut().for_each(|v| *v /= norm);
        }
        let mut out = vec![0f32; rows * cols];
        for (j, column) in columns.iter().enumerate() {
            for (i, v) in column.iter().enumerate() {
                let (r, c) = if rows >= cols { (i, j) } else { (j, i) };
                out[r * cols + c] = (v * gain) as f32;
            }
        }
        TensorData::new(out, shape)
    }
}
