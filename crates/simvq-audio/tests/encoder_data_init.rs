//! The encoder's data-dependent init: after it, each channel of the output is standardised on
//! the init batch, the encoder's frames follow audio it was not initialised on (where the
//! default init gives a near-constant), and the parameters keep their ids.

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use simvq_audio::{SeanetConfig, SeanetEncoder};
use simvq_quant::SeededInit;

type B = Flex;

fn encoder() -> SeanetEncoder<B> {
    SeanetConfig::new()
        .with_filters(4)
        .with_dimension(16)
        .with_ratios(vec![4, 2])
        .with_lstm_layers(1)
        .init(&SeededInit::<B>::new(0, &Default::default()))
}

/// `batch` signals of `samples` samples: speech-like bursts, an amplitude-modulated chirp
/// whose pitch and envelope differ per signal and per `seed`.
fn signals(batch: usize, samples: usize, seed: f32) -> Tensor<B, 3> {
    let mut values = Vec::with_capacity(batch * samples);
    for b in 0..batch {
        let f = 0.03 + 0.02 * (b as f32 + seed);
        for n in 0..samples {
            let t = n as f32;
            let envelope = (0.5 + 0.5 * (t * 0.013 + seed).sin()).powi(2);
            values.push(0.1 * envelope * (f * t + 1e-4 * t * t).sin());
        }
    }
    Tensor::from_data(
        TensorData::new(values, [batch, 1, samples]),
        &Default::default(),
    )
}

/// Per output channel: (mean, standard deviation) over batch and time.
fn channel_stats(y: Tensor<B, 3>) -> Vec<(f32, f32)> {
    let [b, c, t] = y.dims();
    let v: Vec<f32> = y.swap_dims(0, 1).into_data().to_vec().unwrap();
    v.chunks(b * t)
        .take(c)
        .map(|row| {
            let n = row.len() as f32;
            let mean = row.iter().sum::<f32>() / n;
            let var = row.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n;
            (mean, var.sqrt())
        })
        .collect()
}

/// Mean over channels of the standard deviation over time, per signal, averaged.
fn within_signal_std(y: Tensor<B, 3>) -> f32 {
    let [b, _, _] = y.dims();
    let per: Vec<f32> = (0..b)
        .map(|i| {
            let s = channel_stats(y.clone().narrow(0, i, 1));
            s.iter().map(|(_, sd)| sd).sum::<f32>() / s.len() as f32
        })
        .collect();
    per.iter().sum::<f32>() / b as f32
}

#[test]
fn output_is_standardised_on_the_init_batch() {
    let wave = signals(3, 1600, 0.0);
    let fitted = encoder().init_from_data(wave.clone());
    for (c, (mean, sd)) in channel_stats(fitted.forward(wave)).into_iter().enumerate() {
        assert!(mean.abs() < 1e-3, "channel {c}: mean {mean}, want 0");
        assert!((sd - 1.0).abs() < 1e-3, "channel {c}: std {sd}, want 1");
    }
}

#[test]
fn frames_follow_unseen_audio_where_the_default_init_gives_a_constant() {
    let fresh = encoder();
    let unseen = signals(2, 1600, 7.0);
    let before = within_signal_std(fresh.forward(unseen.clone()));
    let fitted = fresh.init_from_data(signals(3, 1600, 0.0));
    let after = within_signal_std(fitted.forward(unseen));
    assert!(
        after > 0.1,
        "after the data init frames vary by {after} only"
    );
    assert!(
        after > 20.0 * before,
        "data init: within-signal std {after}, default init {before}"
    );
}

#[test]
fn parameter_ids_are_kept() {
    let fresh = encoder();
    let ids = |e: &SeanetEncoder<B>| {
        (
            e.conv_in.weight_g.id,
            e.conv_out.bias.id,
            e.stages[1].residual.shortcut.weight_g.id,
            e.num_params(),
        )
    };
    let before = ids(&fresh);
    let fitted = fresh.init_from_data(signals(2, 800, 0.0));
    assert_eq!(ids(&fitted), before);
}
