//! VQGAN-FC options of the plain VQ: factorized low-dimensional lookup and l2-normalised codes.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use common::values;
use simvq_quant::{CodebookQuantizer, Quantizer, VqConfig};

type B = Autodiff<Flex>;

#[test]
fn factorized_l2_codes_search_by_cosine_in_the_low_dimensional_space() {
    let _autodiff = simvq_quant::autodiff_lock();
    let device = Default::default();
    let vq = VqConfig::new()
        .with_codebook_size(128)
        .with_dim(16)
        .with_codebook_dim(Some(4))
        .with_l2_normalize(true)
        .with_seed(2)
        .init::<B>(&device)
        .unwrap();
    assert_eq!(vq.codebook.dims(), [128, 4]);
    assert_eq!((vq.codebook_size(), vq.dim()), (128, 16));

    // Codes are unit vectors.
    let codes = vq.codebook().codes();
    let norms = values(&codes.clone().square().sum_dim(1).sqrt());
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");

    let z = Tensor::<B, 4>::random([2, 16, 3, 3], Distribution::Normal(0.0, 1.0), &device)
        .require_grad();
    let out = vq.forward_2d(z.clone()).unwrap();
    assert_eq!(out.quantized.dims(), [2, 16, 3, 3]);

    // The chosen code has the highest cosine similarity with the projected token.
    let flat = z.clone().permute([0, 2, 3, 1]).reshape([18, 16]);
    let projected = vq.project_in.as_ref().unwrap().forward(flat);
    let similarity = values(&projected.matmul(codes.transpose()));
    let indices: Vec<i64> = out.indices.to_data().iter::<i64>().collect();
    for (token, row) in similarity.chunks(128).enumerate() {
        let best = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(indices[token], best as i64, "token {token}");
    }

    // Decoding reproduces the output, and training reaches codebook and projections.
    let decoded = vq.decode_indices_2d(out.indices.clone()).unwrap();
    assert_eq!(values(&decoded), values(&out.quantized));
    let grads = (out.loss.total() + out.quantized.sum()).backward();
    assert!(vq.codebook.grad(&grads).is_some());
    assert!(vq
        .project_in
        .as_ref()
        .unwrap()
        .weight
        .grad(&grads)
        .is_some());
    assert!(vq
        .project_out
        .as_ref()
        .unwrap()
        .weight
        .grad(&grads)
        .is_some());
    assert!(z.grad(&grads).is_some());
}
