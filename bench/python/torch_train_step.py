#!/usr/bin/python3
"""The PyTorch eager side of the training benchmark (bench/Orleans.MoE.Bench.Training).

Run with Debian's python3-torch (1.13), the libtorch the C# side binds. The C# benchmark starts this
script as a child process with the same thread environment and drives it over stdin, one command per
line, so that timed repetitions alternate between the two sides:

    threads N            set torch's intra-op threads          -> "ok <threads>"
    load PATH            load a model (see below)              -> "ok <parameters> <tokens per step>"
    steps N              N training steps, timed here          -> "ok <seconds> <process CPU seconds> <loss of the first> <loss of the last>"
    phases N             N steps timed by phase                -> "ok" and, per phase (forward, backward, optimizer,
                                                                  balancing), wall then process CPU seconds, summed
    matmul N REPS        REPS products of two (N, N) fp32       -> "ok <seconds of the fastest>"
    quit

Errors are answered "error <message>". PATH is a safetensors file written by the C# side: the model
configuration (the JSON the C# loader reads) in the metadata, the initial weights and balancing
biases under the C# state-dict names ("param.<name>"), and the batch ("input.tokens",
"input.targets"), so that both sides train the same model from the same weights on the same tokens
and route the same way.

The model is the one of tests/fixtures/make_model_fixtures.py (the reference the C# model tests
compare against), with the experts evaluated the usual dropless way instead of that script's dense
gather: assignments sorted by expert, one matmul pair per expert on its contiguous rows, the
gate-weighted results added back with index_add. A training step is forward, cross-entropy,
backward, torch.optim.AdamW.step, zero_grad(set_to_none=True), and the auxiliary-loss-free bias
update from the step's expert load.
"""

import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
import make_model_fixtures as reference  # noqa: E402  (the shared model definition)

# Training hyperparameters; the C# side uses the same (TrainingBenchmark.cs).
LEARNING_RATE = 5e-4
BETAS = (0.9, 0.95)
WEIGHT_DECAY = 0.1
EPSILON = 1e-8

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    """-> ({name: tensor}, metadata). Only the dtypes the C# side writes here."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(data[start:end]), dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def grouped_mixture(rows, chosen, ids, gates, counts, w_up, w_down, w_gate, activation):
    """Dropless experts, grouped by expert. rows (G, n, w); ids (G, n, k) global expert ids; gates (G, n, k);
    counts (G, E); expert weights (G, E, ...). Returns (G, n, w)."""
    g_count, n, width = rows.shape
    k = ids.shape[-1]
    experts, expert_dim = counts.numel(), w_up.shape[-2]
    flat = rows.reshape(g_count * n, width)                               # (G·n, w)
    order = torch.sort(ids.flatten(), stable=True).indices                # (G·n·k) assignments grouped by expert
    source = order.div(k, rounding_mode="floor")                          # (G·n·k) the row of each assignment
    grouped = flat.index_select(0, source)                                # (G·n·k, w), expert e's rows contiguous
    grouped_gates = gates.flatten().index_select(0, order)                # (G·n·k)

    sizes = counts.flatten().tolist()                                     # the host needs the sizes to split
    blocks = grouped.split(sizes)                                         # E x (n_e, w)
    ups = w_up.reshape(experts, expert_dim, width).unbind(0)              # E x (d_e, w)
    downs = w_down.reshape(experts, width, expert_dim).unbind(0)          # E x (w, d_e)
    gate_ws = w_gate.reshape(experts, expert_dim, width).unbind(0) if w_gate is not None else [None] * experts
    outputs = [F.linear(reference.hidden(blocks[e], ups[e], gate_ws[e], activation), downs[e])   # (n_e, w)
               for e in range(experts) if sizes[e] > 0]
    out = torch.cat(outputs) if outputs else torch.zeros_like(grouped)   # (G·n·k, w)
    weighted = out * grouped_gates[:, None]                               # (G·n·k, w)
    # Under bf16 autocast the experts' products are bfloat16: the sum is kept in the rows' dtype (as the C# model does).
    mixed = torch.zeros_like(flat).index_add(0, source, weighted.to(flat.dtype))   # (G·n, w)
    return mixed.view(g_count, n, width)


class TrainStep:
    def __init__(self, path):
        tensors, metadata = read_safetensors(path)
        self.config = json.loads(metadata["config"])
        self.tokens = tensors["input.tokens"]
        self.targets = tensors["input.targets"]
        self.bias_rate = self.config.get("balancing", {}).get("bias_update_rate", 0.025)
        self.params = {}
        for name, value in tensors.items():
            if name.startswith("param."):
                key = name[len("param."):]
                self.params[key] = value.requires_grad_(not reference.is_buffer(key))
        trainable = [v for v in self.params.values() if v.requires_grad]
        groups = [{"params": [v for v in trainable if v.dim() >= 2], "weight_decay": WEIGHT_DECAY},
                  {"params": [v for v in trainable if v.dim() < 2], "weight_decay": 0.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=BETAS, eps=EPSILON)
        self.parameter_count = sum(v.numel() for v in trainable)

    def step(self, clock=None):
        """One training step; returns its loss. clock(phase) is called at the end of each phase."""
        mark = clock or (lambda phase: None)
        vocab = self.config["vocab_size"]
        logits, aux, counts = reference.model(self.tokens, self.params, self.config, grouped_mixture, check_ties=False)
        loss = F.cross_entropy(logits.view(-1, vocab), self.targets.view(-1))
        if aux is not None:
            loss = loss + aux
        mark("forward")
        loss.backward()
        mark("backward")
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        mark("optimizer")
        with torch.no_grad():
            for layer, c in counts.items():
                bias = self.params[f"layers.{layer}.ffn.balancing_bias"]
                bias.copy_(reference.bias_update(bias, c, self.bias_rate))
        value = loss.item()
        mark("balancing")
        return value


PHASES = ("forward", "backward", "optimizer", "balancing")


class PhaseClock:
    """Sums wall and process CPU seconds per phase."""

    def __init__(self):
        self.wall = dict.fromkeys(PHASES, 0.0)
        self.cpu = dict.fromkeys(PHASES, 0.0)
        self.restart()

    def restart(self):
        self.last = (time.perf_counter(), time.process_time())

    def __call__(self, phase):
        now = (time.perf_counter(), time.process_time())
        self.wall[phase] += now[0] - self.last[0]
        self.cpu[phase] += now[1] - self.last[1]
        self.last = now


def matmul_seconds(n, reps):
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    model = None
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "threads":
                torch.set_num_threads(int(words[1]))
                reply = f"ok {torch.get_num_threads()}"
            elif words[0] == "load":
                model = TrainStep(" ".join(words[1:]))
                reply = f"ok {model.parameter_count} {model.tokens.numel()}"
            elif words[0] == "steps":
                start, cpu = time.perf_counter(), time.process_time()
                losses = [model.step() for _ in range(int(words[1]))]
                reply = f"ok {time.perf_counter() - start!r} {time.process_time() - cpu!r} {losses[0]!r} {losses[-1]!r}"
            elif words[0] == "phases":
                clock = PhaseClock()
                for _ in range(int(words[1])):
                    clock.restart()
                    model.step(clock)
                reply = "ok " + " ".join(f"{clock.wall[p]!r} {clock.cpu[p]!r}" for p in PHASES)
            elif words[0] == "matmul":
                reply = f"ok {matmul_seconds(int(words[1]), int(words[2]))!r}"
            else:
                reply = f"error unknown command '{words[0]}'"
        except Exception as e:  # the driver reports it; the process stays usable
            reply = "error " + f"{type(e).__name__}: {e}".replace("\n", " ")
        print(reply, flush=True)


if __name__ == "__main__":
    main()
