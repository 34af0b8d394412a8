"""Generator (not run by the tests): writes Fixtures/mnist-600/, the first 600 training and 100 test
images of MNIST as gzipped IDX files, from a verified copy made by `./latent data fetch mnist`.

    python3 tests/LatentLab.Tests/Fixtures/make_mnist_slice.py data/mnist tests/LatentLab.Tests/Fixtures/mnist-600
"""
import gzip, os, struct, sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name, count in [("train-images-idx3-ubyte", 600), ("train-labels-idx1-ubyte", 600),
                    ("t10k-images-idx3-ubyte", 100), ("t10k-labels-idx1-ubyte", 100)]:
    data = open(os.path.join(src, name), "rb").read()
    ndims = data[3]
    dims = list(struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims]))
    item = 1
    for d in dims[1:]:
        item *= d
    header = data[:4] + struct.pack(">" + "I" * ndims, count, *dims[1:])
    body = data[4 + 4 * ndims: 4 + 4 * ndims + count * item]
    # mtime=0 keeps the output byte-identical from run to run.
    with open(os.path.join(dst, name + ".gz"), "wb") as f:
        f.write(gzip.compress(header + body, mtime=0))
