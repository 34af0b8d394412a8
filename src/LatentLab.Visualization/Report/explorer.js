// LatentLab latent explorer: decodes the latent point under the pointer with the model's own decoder weights,
// embedded in this page, and draws the 28x28 image. No network; everything comes from the JSON block below.
(function () {
  "use strict";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function floats(base64) {
    const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  // The decoder: Linear layers (PyTorch layout, weight [out, in] row-major) with ReLU between them, sigmoid at the end.
  function makeDecoder(layers) {
    const parsed = layers.map(l => ({ w: floats(l.weight), b: floats(l.bias), rows: l.rows, cols: l.cols }));
    return function decode(z) {
      let x = Float64Array.from(z);
      parsed.forEach((layer, index) => {
        const y = new Float64Array(layer.rows);
        for (let r = 0; r < layer.rows; r++) {
          let sum = layer.b[r];
          const offset = r * layer.cols;
          for (let c = 0; c < layer.cols; c++) sum += layer.w[offset + c] * x[c];
          y[r] = index < parsed.length - 1 ? Math.max(0, sum) : 1 / (1 + Math.exp(-sum));
        }
        x = y;
      });
      return x;
    };
  }

  function setUp(root, model) {
    const plane = root.querySelector("canvas.plane");
    const digit = root.querySelector("canvas.digit");
    const readout = root.querySelector(".z");
    const range = root.querySelector(".range");
    const decode = makeDecoder(model.layers);
    const [x0, x1, y0, y1] = model.range;
    const points = floats(model.points);
    const labels = Uint8Array.from(atob(model.labels), c => c.charCodeAt(0));
    const toPixel = (z1, z2) => [(z1 - x0) / (x1 - x0) * plane.width, (1 - (z2 - y0) / (y1 - y0)) * plane.height];
    const toLatent = (px, py) => [x0 + px / plane.width * (x1 - x0), y0 + (1 - py / plane.height) * (y1 - y0)];

    const background = document.createElement("canvas");
    background.width = plane.width;
    background.height = plane.height;
    const bg = background.getContext("2d");
    bg.fillStyle = "#fff";
    bg.fillRect(0, 0, background.width, background.height);
    for (let i = 0; i < labels.length; i++) {
      const [px, py] = toPixel(points[2 * i], points[2 * i + 1]);
      bg.fillStyle = COLOURS[labels[i] % COLOURS.length];
      bg.fillRect(px - 1.5, py - 1.5, 3, 3);
    }

    const state = { name: model.name, decode: z => Array.from(decode(z)), last: null };
    function show(z, px, py) {
      const pixels = decode(z);
      const ctx = plane.getContext("2d");
      ctx.drawImage(background, 0, 0);
      if (px !== undefined) {
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(px, py, 7, 0, 2 * Math.PI);
        ctx.stroke();
      }
      const image = new ImageData(28, 28);
      for (let i = 0; i < 784; i++) {
        const v = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
        image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
        image.data[4 * i + 3] = 255;
      }
      const small = document.createElement("canvas");
      small.width = small.height = 28;
      small.getContext("2d").putImageData(image, 0, 0);
      const d = digit.getContext("2d");
      d.imageSmoothingEnabled = false;
      d.drawImage(small, 0, 0, digit.width, digit.height);
      readout.textContent = "z = (" + z[0].toFixed(3) + ", " + z[1].toFixed(3) + ")";
      if (range) range.textContent = "plane: z1 " + x0.toFixed(2) + " to " + x1.toFixed(2) + ", z2 " + y0.toFixed(2) + " to " + y1.toFixed(2);
      state.last = { z: [z[0], z[1]], pixels: Array.from(pixels) };
    }
    plane.addEventListener("pointermove", event => {
      const rect = plane.getBoundingClientRect();
      const px = (event.clientX - rect.left) * plane.width / rect.width;
      const py = (event.clientY - rect.top) * plane.height / rect.height;
      show(toLatent(px, py), px, py);
    });
    show([(x0 + x1) / 2, (y0 + y1) / 2]);
    return state;
  }

  const data = JSON.parse(document.getElementById("latentlab-explorer-data").textContent);
  window.latentlab = { explorers: {} };
  for (const model of data) {
    const root = document.querySelector('.explorer[data-model="' + model.name + '"]');
    window.latentlab.explorers[model.name] = setUp(root, model);
  }
})();
