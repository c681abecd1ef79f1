"""r1lab.grpo.grpo_loss against TRL's own GRPOTrainer loss code (not a copy of it).

A real ``trl.GRPOTrainer`` is built on a tiny random Qwen2 model saved to a temp folder (no
download). Its per-token log-prob hook is replaced so that TRL's ``_compute_loss`` sees the
same log-probs as r1lab; everything after that hook (ratio, clipping, KL, aggregation,
metrics) is TRL's code.
"""

import itertools

import pytest
import torch

trl = pytest.importorskip("trl")
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM  # noqa: E402

from r1lab.grpo import grpo_loss  # noqa: E402

B, T, MAX_LEN = 6, 7, 9


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-qwen")
    vocab = {w: i for i, w in enumerate(["<pad>", "<eos>", "a", "b", "c", "d"])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>")
    config = Qwen2Config(vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         pad_token_id=0, eos_token_id=1)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def trl_loss(model_dir, tmp_path, knobs, logps, old, ref, adv, mask):
    """The loss and metrics TRL's GRPOTrainer computes for these per-token log-probs."""
    config = trl.GRPOConfig(
        output_dir=str(tmp_path), report_to="none", use_cpu=True,
        per_device_train_batch_size=B, num_generations=B, max_completion_length=MAX_LEN,
        loss_type=knobs["loss_type"], beta=knobs["beta"], epsilon=knobs["epsilon_low"],
        epsilon_high=knobs["epsilon_high"], delta=knobs["delta"],
        importance_sampling_level=knobs["importance_sampling_level"],
    )
    trainer = trl.GRPOTrainer(
        model=str(model_dir), reward_funcs=lambda completions, **_: [0.0] * len(completions),
        args=config, train_dataset=Dataset.from_dict({"prompt": ["a b"] * B}),
    )
    trainer.model.train()  # TRL's training-mode path (metrics land under 'train')
    trainer.current_gradient_accumulation_steps = 1
    trainer._get_per_token_logps_and_entropies = lambda *a, **k: (logps, torch.zeros_like(logps), None)
    inputs = {
        "prompt_ids": torch.full((B, 2), 2), "prompt_mask": torch.ones(B, 2, dtype=torch.long),
        "completion_ids": torch.full((B, T), 3), "completion_mask": mask.long(),
        "advantages": adv, "old_per_token_logps": old, "ref_per_token_logps": ref,
        "num_items_in_batch": mask.sum(),
    }
    loss = trainer._compute_loss(trainer.model, inputs)
    metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}
    return loss, metrics


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    logps = (-torch.rand(B, T, generator=g, dtype=torch.float64) * 3).requires_grad_()  # [B, T]
    old = logps.detach() + torch.randn(B, T, generator=g, dtype=torch.float64) * 0.3  # ratios off 1
    ref = logps.detach() + torch.randn(B, T, generator=g, dtype=torch.float64) * 0.2
    adv = torch.randn(B, generator=g, dtype=torch.float64)  # both signs
    lengths = torch.tensor([T, 1, 4, T, 0, 3])  # a one-token and a fully masked completion
    mask = (torch.arange(T) < lengths[:, None]).double()  # [B, T]
    return logps, old, ref, adv, mask


CASES = [
    dict(loss_type=lt, importance_sampling_level=lvl, beta=beta, delta=delta,
         epsilon_low=0.2, epsilon_high=eh)
    for lt, lvl, beta, delta, eh in itertools.product(
        ["grpo", "bnpo", "dr_grpo", "dapo"], ["token", "sequence"], [0.0, 0.04], [None, 1.5],
        [None, 0.28])
]


@pytest.mark.parametrize("knobs", CASES, ids=lambda k: "-".join(str(v) for v in k.values()))
def test_grpo_loss_matches_trl(model_dir, tmp_path, knobs):
    logps, old, ref, adv, mask = batch(seed=len(str(knobs)))
    theirs, their_metrics = trl_loss(model_dir, tmp_path, knobs, logps, old, ref, adv, mask)
    (their_grad,) = torch.autograd.grad(theirs, logps)

    ours, metrics = grpo_loss(logps, old, ref, adv, mask, max_completion_length=MAX_LEN, **knobs)
    (our_grad,) = torch.autograd.grad(ours, logps)

    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)
    torch.testing.assert_close(our_grad, their_grad, atol=1e-6, rtol=0)
    for name, value in metrics.items():
        assert value == pytest.approx(their_metrics[name], abs=1e-6, nan_ok=True), name
    assert set(metrics) <= set(their_metrics)
