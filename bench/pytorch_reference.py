#!/usr/bin/env python3
"""The same vae_32d training loop in PyTorch, for bench/README.md's comparison. Not used by LatentLab or its tests.

    /usr/bin/python3 bench/pytorch_reference.py [--epochs 2] [--threads 1] [--data data/mnist] [--precision fp32,bf16]

Model, loss and optimiser as LatentLab's vae_32d: MLP 784-512-256-(2x32) / 32-256-512-784 with ReLU, Bernoulli
decoder (BCE with logits, summed over pixels) plus KL to N(0, I), averaged over the batch; Adam lr 1e-3, batch 128,
reshuffled every epoch; the whole training split as one tensor, batches by index. Prints seconds per epoch.
bf16 is PyTorch's mixed precision on a CPU: torch.autocast("cpu", dtype=torch.bfloat16) around the forward pass and
the loss, float32 weights and Adam (no gradient scaler: bfloat16 has float32's exponent range). The last line is
machine-readable: "result fp32=S bf16=S", the median seconds per epoch after the first.

Threads: Debian's torch multiplies float32 with OpenBLAS (libopenblas0-pthread), which runs its own threads on every
core whatever torch.set_num_threads says. One torch thread is this loop's best setting on a 2-core machine (3.68-3.96 s
an epoch, AMD EPYC, quiet, 2026-12-01); two torch threads beside OpenBLAS's two oversubscribe the cores (11.77 s), and
were this script's default until then.
"""
import argparse, gzip, os, struct, time


def openblas_core():
    """OpenBLAS's kernel choice for this CPU, where its detection fails. Debian 12's OpenBLAS 0.3.21 does not know the
    Intel Xeon of this project's machines (family 6, model 207): it falls back to its Prescott kernels (SSE3), and
    PyTorch's float32 epoch took 11-20 s instead of 5-6 (2026-12-06). An AVX-512 CPU it does not name gets SkylakeX's
    kernels, the newest family it has. Set before torch loads OpenBLAS; an OPENBLAS_CORETYPE already set is kept."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return None
    model = next((int(line.split(":")[1]) for line in info.splitlines() if line.startswith("model\t")), None)
    flags = next((line.split(":")[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    # Models OpenBLAS 0.3.21 knows with AVX-512 go up to Ice Lake and Sapphire Rapids (143); newer ones it does not.
    if "GenuineIntel" in info and "avx512f" in flags and model is not None and model > 143:
        return "SkylakeX"
    return None


if "OPENBLAS_CORETYPE" not in os.environ and (core := openblas_core()):
    os.environ["OPENBLAS_CORETYPE"] = core

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="data/mnist")
    parser.add_argument("--precision", default="fp32,bf16")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Subnormal numbers cost a microcode assist per operation on Intel CPUs; Adam's first moments pass through them
    # when a gradient stops. PyTorch's own remedy, as LatentLab's FlatAdam sets such moments to zero.
    torch.set_flush_denormal(True)
    print(f"OpenBLAS kernels: {os.environ.get('OPENBLAS_CORETYPE', 'detected')}; flush denormal: on", flush=True)
    torch.manual_seed(0)
    name = next(n for n in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte") if os.path.exists(os.path.join(args.data, n)))
    x = torch.from_numpy(read_idx(os.path.join(args.data, name)).reshape(-1, 784).astype(np.float32) / 255)
    results = {}
    for precision in args.precision.split(","):
        results[precision] = train(x, precision, args.epochs)
    print("result " + " ".join(f"{p}={s:.3f}" for p, s in results.items()))


def train(x, precision, epochs):
    torch.manual_seed(0)
    encoder, decoder = mlp([784, 512, 256, 64]), mlp([32, 256, 512, 784])
    optimiser = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {x.shape[0]} images, batch 128, {precision}")
    autocast = precision == "bf16"
    times = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        permutation = torch.randperm(x.shape[0])
        total = torch.zeros(())
        for first in range(0, x.shape[0], 128):
            batch = x[permutation[first:first + 128]]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                mu, log_var = encoder(batch).float().chunk(2, dim=1)
                z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
                logits = decoder(z).float()
            recon = F.binary_cross_entropy_with_logits(logits, batch, reduction="sum")
            kl = 0.5 * (mu.square() + log_var.exp() - log_var - 1).sum()
            loss = (recon + kl) / batch.shape[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.detach() * batch.shape[0]
        seconds = time.perf_counter() - start
        times.append(seconds)
        print(f"epoch {epoch}: train loss {total.item() / x.shape[0]:.2f}, {seconds:.2f} s")
    later = sorted(times[1:] or times)
    return later[len(later) // 2]


if __name__ == "__main__":
    main()
