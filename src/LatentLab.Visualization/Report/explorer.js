// LatentLab latent explorer: decodes the latent point under the pointer with the model's own decoder weights,
// embedded in this page, and draws the image (grey or colour). No network; everything comes from the JSON block below.
(function () {
  "use strict";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function floats(base64, buffer) {
    if (buffer) return new Float32Array(buffer);
    const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  // The decoder, as PyTorch computes it: Linear layers (weight [out, in] row-major), a reshape into feature maps,
  // 4x4 transposed convolutions of stride 2 and padding 1 (weight [in, out, 4, 4]); ReLU or tanh where the layer says so,
  // sigmoid after the last. Values are kept as flat Float64Arrays in PyTorch's [C, H, W] order.
  function makeDecoder(layers) {
    const parsed = layers.map(l => ({ kind: l.kind, shape: l.shape, activation: l.activation, w: l.w, b: l.b }));
    function linear(layer, x) {
      const [rows, cols] = layer.shape;
      const y = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let sum = layer.b[r];
        const offset = r * cols;
        for (let c = 0; c < cols; c++) sum += layer.w[offset + c] * x[c];
        y[r] = sum;
      }
      return y;
    }
    function deconv(layer, x, dims) {
      const [cin, cout, k] = layer.shape;
      const [, h, w] = dims, oh = 2 * h, ow = 2 * w;
      const y = new Float64Array(cout * oh * ow);
      for (let o = 0; o < cout; o++) y.fill(layer.b[o], o * oh * ow, (o + 1) * oh * ow);
      for (let i = 0; i < cin; i++)
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < w; ix++) {
            const v = x[(i * h + iy) * w + ix];
            if (v === 0) continue;
            for (let o = 0; o < cout; o++) {
              const wBase = (i * cout + o) * k * k, yBase = o * oh * ow;
              for (let ky = 0; ky < k; ky++) {
                const oy = 2 * iy - 1 + ky;
                if (oy < 0 || oy >= oh) continue;
                for (let kx = 0; kx < k; kx++) {
                  const ox = 2 * ix - 1 + kx;
                  if (ox < 0 || ox >= ow) continue;
                  y[yBase + oy * ow + ox] += v * layer.w[wBase + ky * k + kx];
                }
              }
            }
          }
      return { y, dims: [cout, oh, ow] };
    }
    return function decode(z) {
      let x = Float64Array.from(z), dims = null;
      parsed.forEach((layer, index) => {
        if (layer.kind === "reshape") { dims = layer.shape; return; }
        if (layer.kind === "linear") x = linear(layer, x);
        else ({ y: x, dims } = deconv(layer, x, dims));
        const last = index === parsed.length - 1;
        const unit = last ? (v => 1 / (1 + Math.exp(-v))) : layer.activation === "relu" ? (v => Math.max(0, v))
          : layer.activation === "tanh" ? Math.tanh : null;
        if (unit) for (let i = 0; i < x.length; i++) x[i] = unit(x[i]);
      });
      return x;
    };
  }

  // Weights arrive packed (HtmlReport.PackWeights): float32 rounded to 16 significant bits, split into byte planes
  // (all first bytes, then all second bytes, ...), deflated. Inflate with the browser's own DecompressionStream.
  async function unpack(base64, count) {
    if (count === 0) return new Float32Array(0);   // a reshape step: no weights, and an empty deflate stream
    const packed = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const planes = new Uint8Array(await new Response(stream).arrayBuffer());
    const bytes = new Uint8Array(4 * count);
    for (let i = 0; i < count; i++)
      for (let b = 0; b < 4; b++) bytes[4 * i + b] = planes[b * count + i];
    return floats(null, bytes.buffer);
  }

  // The prior's contours by marching squares: its density on a G x G grid over the plane (row i is z2's i-th value from
  // the bottom, column j z1's j-th), each level drawn as the segments where it crosses the edges of a grid cell.
  function drawContours(ctx, prior, width, height) {
    const g = prior.grid, d = floats(prior.density);
    const px = j => j / (g - 1) * width, py = i => (1 - i / (g - 1)) * height;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.45)";
    ctx.lineWidth = 1.2;
    let segments = 0;
    for (const level of prior.levels) {
      ctx.beginPath();
      for (let i = 0; i < g - 1; i++)
        for (let j = 0; j < g - 1; j++) {
          // Corners counter-clockwise from bottom left, and where the level crosses each edge between two of them.
          const corners = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];
          const values = corners.map(([a, b]) => d[a * g + b]);
          const crossings = [];
          for (let e = 0; e < 4; e++) {
            const v0 = values[e], v1 = values[(e + 1) % 4];
            if ((v0 >= level) === (v1 >= level)) continue;
            const t = (level - v0) / (v1 - v0);
            const [a0, b0] = corners[e], [a1, b1] = corners[(e + 1) % 4];
            crossings.push([px(b0 + t * (b1 - b0)), py(a0 + t * (a1 - a0))]);
          }
          // Two crossings: one segment; four (a saddle cell): two, pairing neighbours around the cell.
          for (let c = 0; c + 1 < crossings.length; c += 2) {
            ctx.moveTo(crossings[c][0], crossings[c][1]);
            ctx.lineTo(crossings[c + 1][0], crossings[c + 1][1]);
            segments++;
          }
        }
      ctx.stroke();
    }
    return segments;
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
    let priorSegments = 0;
    if (model.prior) {
      priorSegments = drawContours(bg, model.prior, plane.width, plane.height);
      const note = root.querySelector(".prior");
      if (note) note.textContent = "grey: p(z) = " + model.prior.description + ", contours holding "
        + model.prior.shares.map(s => Math.round(100 * s)).join(", ") + " % of its mass here";
    }
    for (let i = 0; i < labels.length; i++) {
      const [px, py] = toPixel(points[2 * i], points[2 * i + 1]);
      bg.fillStyle = COLOURS[labels[i] % COLOURS.length];
      bg.fillRect(px - 1.5, py - 1.5, 3, 3);
    }

    const state = { name: model.name, decode: z => Array.from(decode(z)), last: null, priorSegments };
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
      const [channels, height, width] = model.image, area = height * width;
      const image = new ImageData(width, height);
      const byte = v => Math.round(Math.min(1, Math.max(0, v)) * 255);
      for (let i = 0; i < area; i++) {
        for (let c = 0; c < 3; c++) image.data[4 * i + c] = byte(pixels[(channels === 3 ? c * area : 0) + i]);
        image.data[4 * i + 3] = 255;
      }
      const small = document.createElement("canvas");
      small.width = width;
      small.height = height;
      small.getContext("2d").putImageData(image, 0, 0);
      const d = digit.getContext("2d");
      const scale = Math.min(digit.width / width, digit.height / height);
      d.fillStyle = "#fff";
      d.fillRect(0, 0, digit.width, digit.height);
      d.imageSmoothingEnabled = false;
      d.drawImage(small, (digit.width - width * scale) / 2, (digit.height - height * scale) / 2, width * scale, height * scale);
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
  window.latentlab = window.latentlab || {};
  window.latentlab.explorers = {};
  (async () => {
    for (const model of data) {
      for (const layer of model.layers) {
        layer.w = await unpack(layer.weight, layer.count);
        layer.b = floats(layer.bias);
      }
      const root = document.querySelector('.explorer[data-model="' + model.name + '"]');
      window.latentlab.explorers[model.name] = setUp(root, model);
    }
  })().catch(error => console.error("latent explorer: " + error));
})();
