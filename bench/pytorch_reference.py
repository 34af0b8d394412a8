#!/usr/bin/env python3
"""The same vae_32d training loop in PyTorch, for bench/README.md's comparison. Not used by LatentLab or its tests.

    /usr/bin/python3 bench/pytorch_reference.py [--epochs 2] [--threads 2] [--data data/mnist]

Model, loss and optimiser as LatentLab's vae_32d: MLP 784-512-256-(2x32) / 32-256-512-784 with ReLU, Bernoulli
decoder (BCE with logits, summed over pixels) plus KL to N(0, I), averaged over the batch; Adam lr 1e-3, batch 128,
reshuffled every epoch; the whole training split as one tensor, batches by index. Prints seconds per epoch.
"""
import argparse, gzip, struct, time
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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="data/mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import os
    name = next(n for n in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte") if os.path.exists(os.path.join(args.data, n)))
    x = torch.from_numpy(read_idx(os.path.join(args.data, name)).reshape(-1, 784).astype(np.float32) / 255)
    encoder, decoder = mlp([784, 512, 256, 64]), mlp([32, 256, 512, 784])
    optimiser = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {x.shape[0]} images, batch 128")
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        permutation = torch.randperm(x.shape[0])
        total = torch.zeros(())
        for first in range(0, x.shape[0], 128):
            batch = x[permutation[first:first + 128]]
            mu, log_var = encoder(batch).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
            recon = F.binary_cross_entropy_with_logits(decoder(z), batch, reduction="sum")
            kl = 0.5 * (mu.square() + log_var.exp() - log_var - 1).sum()
            loss = (recon + kl) / batch.shape[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.detach() * batch.shape[0]
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: train loss {total.item() / x.shape[0]:.2f}, {seconds:.2f} s")


if __name__ == "__main__":
    main()
