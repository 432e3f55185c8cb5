//! The reference's names of the codec's tensors (EnCodec's SEANet, WavTokenizer's Vocos
//! backbone), next to the modules they name: what a checkpoint importer looks up. The
//! quantizer's names are the importer's (they are shared with the image tokenizer).

use crate::codec::AudioCodecConfig;

/// Where the reference keeps one of the codec's tensors: its state-dict name, and for an LSTM
/// gate the gate's block of rows (PyTorch stacks the gates `[i; f; g; o]` in one matrix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceName {
    /// The reference's state-dict key.
    pub name: String,
    /// The LSTM gate (0 i, 1 f, 2 g, 3 o) within the stacked matrix, if any.
    pub lstm_gate: Option<usize>,
}

impl ReferenceName {
    fn plain(name: String) -> Self {
        Self {
            name,
            lstm_gate: None,
        }
    }
}

impl AudioCodecConfig {
    /// The reference's name of the tensor at our module path `path` (paths the reference does
    /// not rename come back unchanged).
    pub fn reference_name(&self, path: &str) -> ReferenceName {
        codec_reference(
            path,
            self.encoder.ratios.len(),
            self.encoder.lstm_layers > 0,
        )
    }
}

/// The reference's name for one of our audio codec's tensors. The SEANet encoder is EnCodec's
/// `model` list: conv 0, then per stage a residual block (convs at `block.1`, `block.3`, a
/// `shortcut`), an ELU and the strided conv; then the LSTM, an ELU and the last conv. The
/// backbone's `pos_net` is a list: two ResNet blocks, attention, two ResNet blocks, GroupNorm.
fn codec_reference(path: &str, stages: usize, lstm: bool) -> ReferenceName {
    let seanet = |index: usize, rest: &str| format!("encoder.model.{index}.{rest}");
    let conv = |index: usize, param: &str| seanet(index, &format!("conv.conv.{param}"));
    let lstm_index = 3 * stages + 1;
    let conv_out_index = 3 * stages + 2 + usize::from(lstm);
    if let Some(param) = path.strip_prefix("encoder.conv_in.") {
        return ReferenceName::plain(conv(0, param));
    }
    if let Some(param) = path.strip_prefix("encoder.conv_out.") {
        return ReferenceName::plain(conv(conv_out_index, param));
    }
    if let Some(rest) = path.strip_prefix("encoder.stages.") {
        let (stage, rest) = rest.split_once('.').unwrap_or((rest, ""));
        let stage: usize = stage.parse().unwrap_or(usize::MAX);
        let block = 1 + 3 * stage;
        if let Some(rest) = rest.strip_prefix("residual.block.") {
            let (j, param) = rest.split_once('.').unwrap_or((rest, ""));
            let j: usize = j.parse().unwrap_or(usize::MAX);
            return ReferenceName::plain(seanet(
                block,
                &format!("block.{}.conv.conv.{param}", 2 * j + 1),
            ));
        }
        if let Some(param) = rest.strip_prefix("residual.shortcut.") {
            return ReferenceName::plain(seanet(block, &format!("shortcut.conv.conv.{param}")));
        }
        if let Some(param) = rest.strip_prefix("downsample.") {
            return ReferenceName::plain(conv(3 + 3 * stage, param));
        }
    }
    if let Some(rest) = path.strip_prefix("encoder.lstm.") {
        // `{layer}.{gate}.{input|hidden}_transform.{weight|bias}`
        let parts: Vec<&str> = rest.split('.').collect();
        if let [layer, gate, transform, param] = parts[..] {
            let gate = ["input_gate", "forget_gate", "cell_gate", "output_gate"]
                .iter()
                .position(|g| *g == gate);
            let which = if transform == "input_transform" {
                "ih"
            } else {
                "hh"
            };
            return ReferenceName {
                name: seanet(lstm_index, &format!("lstm.{param}_{which}_l{layer}")),
                lstm_gate: gate,
            };
        }
    }
    let renamed = [
        ("backbone.pos_blocks.0.", "backbone.pos_net.0."),
        ("backbone.pos_blocks.1.", "backbone.pos_net.1."),
        ("backbone.pos_attention.", "backbone.pos_net.2."),
        ("backbone.pos_blocks.2.", "backbone.pos_net.3."),
        ("backbone.pos_blocks.3.", "backbone.pos_net.4."),
        ("backbone.pos_norm.", "backbone.pos_net.5."),
    ]
    .iter()
    .find_map(|(ours, theirs)| {
        path.strip_prefix(ours)
            .map(|rest| format!("{theirs}{rest}"))
    });
    ReferenceName::plain(renamed.unwrap_or_else(|| path.to_string()))
}
