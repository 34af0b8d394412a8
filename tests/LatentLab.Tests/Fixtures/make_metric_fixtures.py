"""Generator (not run by the tests): reference values from independent implementations.

    /usr/bin/python3 tests/LatentLab.Tests/Fixtures/make_metric_fixtures.py

Needs Debian's python3-numpy, python3-skimage (0.19) and python3-sklearn (1.2). Writes Fixtures/metrics/:
- image_pairs.json: 56 pairs of 28x28 images (real MNIST digits from Fixtures/mnist-600, noisy, blurred, shifted,
  blank, saturated, random), every pixel a multiple of 1/255 so both sides see identical inputs, with SSIM from
  skimage.metrics.structural_similarity and MSE / PSNR from NumPy;
- bce.json: logits and targets with the Bernoulli negative log-likelihood (summed over pixels) from NumPy;
- probes.json: 10-class latent codes (Gaussian clusters in 8-d) with the accuracies of scikit-learn's
  KNeighborsClassifier(5) and LogisticRegression(C=1) on standardised codes.
"""
import gzip, json, os
import numpy as np
from scipy.ndimage import gaussian_filter, shift
from skimage.metrics import structural_similarity
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "metrics")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261124)

raw = gzip.open(os.path.join(here, "mnist-600", "train-images-idx3-ubyte.gz")).read()
digits = np.frombuffer(raw[16:], dtype=np.uint8).reshape(-1, 28, 28).astype(np.float64) / 255

def q(img):  # quantise to multiples of 1/255, as the C# side reads them
    return np.round(np.clip(img, 0, 1) * 255) / 255

pairs = []
def add(kind, a, b):
    a, b = q(a), q(b)
    mse = float(np.mean((a - b) ** 2))
    pairs.append({
        "kind": kind,
        "a": (a * 255).round().astype(int).ravel().tolist(),
        "b": (b * 255).round().astype(int).ravel().tolist(),
        "ssim": float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=1)),
        "mse": mse,
        "psnr": float(10 * np.log10(1 / mse)),
    })

for i in range(10): add("different digits", digits[i], digits[i + 10])
for i in range(10): add("gaussian noise", digits[20 + i], digits[20 + i] + rng.normal(0, 0.1 + 0.02 * i, (28, 28)))
for i in range(10): add("blurred", digits[30 + i], gaussian_filter(digits[30 + i], 0.5 + 0.2 * i))
for i in range(5): add("shifted", digits[40 + i], shift(digits[40 + i], (i - 2, 3 - i), order=0))
for i in range(5): add("blank vs digit", np.zeros((28, 28)), digits[50 + i])
for i in range(3): add("blank vs faint noise", np.zeros((28, 28)), np.abs(rng.normal(0, 0.02 * (i + 1), (28, 28))))
for i in range(5): add("saturated vs digit", np.ones((28, 28)), digits[60 + i])
for i in range(3): add("saturated vs faint noise", np.ones((28, 28)), 1 - np.abs(rng.normal(0, 0.02 * (i + 1), (28, 28))))
for i in range(5): add("random", rng.random((28, 28)), rng.random((28, 28)))
json.dump({"pairs": pairs}, open(os.path.join(out, "image_pairs.json"), "w"))

bce = []
for i in range(10):
    logits = np.round(rng.normal(0, 1 + i, 784), 6)
    target = q(digits[70 + i]).ravel()
    # Stable Bernoulli NLL from logits: max(l, 0) - l t + log(1 + exp(-|l|))
    value = float(np.sum(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))))
    bce.append({"logits": logits.tolist(), "target": (target * 255).round().astype(int).tolist(), "bce": value})
json.dump({"cases": bce}, open(os.path.join(out, "bce.json"), "w"))

centers = rng.normal(0, 1.2, (10, 8))
def codes(n):
    labels = rng.integers(0, 10, n)
    return np.round(centers[labels] + rng.normal(0, 1.0, (n, 8)), 5), labels
train_z, train_y = codes(3000)
test_z, test_y = codes(1000)
knn = KNeighborsClassifier(n_neighbors=5).fit(train_z, train_y).score(test_z, test_y)
scaler = StandardScaler().fit(train_z)
probe = LogisticRegression(C=1.0, max_iter=5000).fit(scaler.transform(train_z), train_y).score(scaler.transform(test_z), test_y)
json.dump({"train_z": train_z.tolist(), "train_y": train_y.tolist(), "test_z": test_z.tolist(), "test_y": test_y.tolist(),
           "knn_accuracy": knn, "linear_probe_accuracy": probe}, open(os.path.join(out, "probes.json"), "w"))
print(f"{len(pairs)} image pairs, {len(bce)} BCE cases; kNN {knn:.4f}, linear probe {probe:.4f}")
