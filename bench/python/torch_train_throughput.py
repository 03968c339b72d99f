#!/usr/bin/env python3
"""PyTorch eager training throughput of one model configuration on one device (scripts/gpu-check.sh).

    torch_train_throughput.py MANIFEST --device cuda --batch B --context T --steps N --warmup W [--bf16-autocast]

MANIFEST is a checkpoint manifest.json of a `moe train` run: its config.model is the resolved model
configuration the C# trainer trained, so both sides run the same architecture. The model, the
grouped dropless experts and the training step (forward, cross-entropy, backward, AdamW, the
balancing-bias update) are those of torch_train_step.py, the CPU benchmark's PyTorch side, with
weights drawn at random (throughput does not depend on them). Prints one JSON line:
{"tokens_per_second": ..., "seconds_per_step": ..., "parameters": ..., "device": ...}.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_train_step as side  # noqa: E402  (the model and step the CPU benchmark times)

reference = side.reference


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("manifest")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--context", type=int, required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--bf16-autocast", action="store_true", help="the step under torch.autocast(bfloat16), as training.precision bf16_autocast")
    args = parser.parse_args()

    with open(args.manifest) as f:
        config = json.load(f)["config"]["model"]
    device = torch.device(args.device)
    if device.type == "cuda" and hasattr(torch, "set_default_device"):
        # The reference model makes its rope tables and masks with the default device.
        torch.set_default_device(device)
    generator = torch.Generator().manual_seed(1)
    params = {name: value.to(device) for name, value in reference.draw(reference.model_shapes(config), generator).items()}
    step = side.TrainStep.__new__(side.TrainStep)
    step.config = config
    step.bias_rate = config.get("balancing", {}).get("bias_update_rate", 0.025)
    step.params = {k: v.requires_grad_(not reference.is_buffer(k)) for k, v in params.items()}
    trainable = [v for v in step.params.values() if v.requires_grad]
    groups = [{"params": [v for v in trainable if v.dim() >= 2], "weight_decay": side.WEIGHT_DECAY},
              {"params": [v for v in trainable if v.dim() < 2], "weight_decay": 0.0}]
    step.optimizer = torch.optim.AdamW(groups, lr=side.LEARNING_RATE, betas=side.BETAS, eps=side.EPSILON)
    tokens = torch.randint(0, config["vocab_size"], (args.batch, args.context + 1), generator=generator).to(device)
    step.tokens, step.targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()   # (B, T) each

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def one_step():
        if args.bf16_autocast:
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                return step.step()
        return step.step()

    for _ in range(args.warmup):
        one_step()
    synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        one_step()   # reads the loss back (loss.item()), as the C# trainer does every step
    synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"tokens_per_second": args.batch * args.context / seconds, "seconds_per_step": seconds,
                      "parameters": sum(v.numel() for v in trainable), "device": str(device), "torch": torch.__version__,
                      "precision": "bf16_autocast" if args.bf16_autocast else "float32"}))


if __name__ == "__main__":
    main()
