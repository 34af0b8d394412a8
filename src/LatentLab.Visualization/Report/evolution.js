// LatentLab latent evolution: plays a 2-d model's test codes after each epoch of training, with the in-between frames
// and timing of latent_evolution.gif, drawn on a canvas from the snapshot codes embedded below (far fewer bytes than
// the GIF's frames). Click a canvas to pause or resume it.
(function () {
  "use strict";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const FONT = '"DejaVu Sans", Verdana, sans-serif';

  // HtmlReport.PackCodes: whole steps from each axis's smallest value, after the first snapshot as the change since the
  // one before (modulo 2^16); all z1 then all z2; high-byte plane then low-byte plane.
  async function unpack(packed, snapshots) {
    const bytes = Uint8Array.from(atob(packed.values), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const planes = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = snapshots * packed.count;
    const codes = [];
    for (let s = 0; s < snapshots; s++) codes.push(new Float64Array(2 * packed.count));
    for (let axis = 0; axis < 2; axis++) {
      const steps = new Uint16Array(packed.count);
      for (let s = 0; s < snapshots; s++)
        for (let i = 0; i < packed.count; i++) {
          const k = axis * n + s * packed.count + i;
          steps[i] = (s === 0 ? 0 : steps[i]) + ((planes[k] << 8) | planes[2 * n + k]);   // Uint16Array wraps as C# did
          codes[s][2 * i + axis] = packed.lo[axis] + steps[i] * packed.step[axis];
        }
    }
    return codes;
  }

  // Round steps (1, 2, 2.5 or 5 times a power of ten) about every 45 pixels, as the GIF's axes have.
  function ticks(from, to, pixels) {
    const raw = (to - from) / Math.max(2, pixels / 45);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * power).find(v => v >= raw);
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (Math.abs(step / power - 2.5) < 1e-9 ? 1 : 0));
    const values = [];
    for (let v = Math.ceil(from / step) * step; v <= to + 1e-9 * step; v += step) values.push(v);
    // "0.5", "1", "-1.5": no trailing zeros, as the GIF's axes print them.
    return values.map(v => ({ value: v, text: String(Number((Math.abs(v) < step / 1e6 ? 0 : v).toFixed(decimals))) }));
  }

  // The frames of the GIF: each snapshot, then `tweens` frames on the straight way to the next one.
  function frameList(model) {
    const frames = [];
    const last = model.epochs.length - 1;
    for (let s = 0; s <= last; s++) {
      const steps = s === last ? 1 : model.tweens + 1;
      for (let k = 0; k < steps; k++) frames.push({ s, w: k / steps });
    }
    return frames;
  }

  function draw(canvas, model, codes, labels, frame) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const left = 70, right = W - 120, top = 50, bottom = H - 62;
    const [x0, x1, y0, y1] = model.limits;
    const px = x => left + (x - x0) / (x1 - x0) * (right - left);
    const py = y => bottom - (y - y0) / (y1 - y0) * (bottom - top);
    const from = codes[frame.s], to = codes[Math.min(frame.s + 1, codes.length - 1)];
    const epoch = model.epochs[frame.s];
    const final = model.epochs[model.epochs.length - 1];
    const when = epoch === 0 && frame.w === 0 ? "before training" : "epoch " + (epoch + frame.w).toFixed(1) + " of " + final;

    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#000";
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    ctx.font = "20px " + FONT;
    ctx.fillText(model.name + ": test latents, " + when, (left + right) / 2, 30);

    // Grid, ticks and their numbers.
    ctx.font = "13px " + FONT;
    ctx.lineWidth = 1;
    for (const t of ticks(x0, x1, right - left)) {
      const x = Math.round(px(t.value)) + 0.5;
      ctx.strokeStyle = "#e6e6e6";
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.strokeStyle = "#000";
      ctx.beginPath(); ctx.moveTo(x, bottom); ctx.lineTo(x, bottom + 5); ctx.stroke();
      ctx.textAlign = "center"; ctx.textBaseline = "top";
      ctx.fillText(t.text, x, bottom + 7);
    }
    for (const t of ticks(y0, y1, bottom - top)) {
      const y = Math.round(py(t.value)) + 0.5;
      ctx.strokeStyle = "#e6e6e6";
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
      ctx.strokeStyle = "#000";
      ctx.beginPath(); ctx.moveTo(left - 5, y); ctx.lineTo(left, y); ctx.stroke();
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(t.text, left - 7, y);
    }
    ctx.font = "16px " + FONT;
    ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    ctx.fillText("z1", (left + right) / 2, H - 14);
    ctx.save();
    ctx.translate(18, (top + bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("z2", 0, 0);
    ctx.restore();

    // The codes, class by class (so the last class is on top, as in the GIF).
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, right - left, bottom - top); ctx.clip();
    const classes = model.classNames.length;
    for (let c = 0; c < classes; c++) {
      ctx.fillStyle = COLOURS[c % COLOURS.length];
      ctx.beginPath();
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] !== c) continue;
        const x = (1 - frame.w) * from[2 * i] + frame.w * to[2 * i];
        const y = (1 - frame.w) * from[2 * i + 1] + frame.w * to[2 * i + 1];
        const cx = px(x), cy = py(y);
        ctx.moveTo(cx + 2, cy);
        ctx.arc(cx, cy, 2, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.restore();
    ctx.strokeStyle = "#000";
    ctx.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);

    // Legend on the right.
    ctx.font = "13px " + FONT;
    const rowHeight = 21, boxWidth = Math.min(W - right - 22, 30 + Math.max(...model.classNames.map(n => ctx.measureText(n).width)));
    const boxHeight = classes * rowHeight + 10, boxLeft = right + 14, boxTop = (top + bottom - boxHeight) / 2;
    ctx.fillStyle = "#fff";
    ctx.fillRect(boxLeft, boxTop, boxWidth, boxHeight);
    ctx.strokeStyle = "#000";
    ctx.strokeRect(boxLeft + 0.5, boxTop + 0.5, boxWidth, boxHeight);
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    model.classNames.forEach((name, c) => {
      const y = boxTop + 5 + (c + 0.5) * rowHeight;
      ctx.fillStyle = COLOURS[c % COLOURS.length];
      ctx.beginPath(); ctx.arc(boxLeft + 14, y, 3, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = "#000";
      ctx.fillText(name, boxLeft + 24, y, boxWidth - 28);
    });
  }

  function play(canvas, model, codes, labels) {
    const frames = frameList(model);
    const [delay, lastDelay] = model.delays;
    // What the report's browser test reads: the frame count, the decoded codes, how many frames were drawn.
    const state = { frames: frames.length, frame: 0, paused: false, drawn: 0, codes, steps: model.codes.step };
    let shownAt = null;
    function show(index) {
      state.frame = index;
      draw(canvas, model, codes, labels, frames[index]);
      state.drawn++;
    }
    function tick(now) {
      if (shownAt === null) shownAt = now;
      const wait = state.frame === frames.length - 1 ? lastDelay : delay;
      if (!state.paused && now - shownAt >= wait) {
        shownAt = now;
        show((state.frame + 1) % frames.length);
      }
      requestAnimationFrame(tick);
    }
    canvas.addEventListener("click", () => { state.paused = !state.paused; });
    show(0);
    requestAnimationFrame(tick);
    return state;
  }

  const data = JSON.parse(document.getElementById("latentlab-evolution-data").textContent);
  window.latentlab = window.latentlab || {};
  window.latentlab.evolutions = {};
  (async () => {
    for (const model of data) {
      const codes = await unpack(model.codes, model.epochs.length);
      const labels = Uint8Array.from(atob(model.labels), c => c.charCodeAt(0));
      const canvas = document.querySelector('canvas.evolution[data-model="' + model.name + '"]');
      if (canvas) window.latentlab.evolutions[model.name] = play(canvas, model, codes, labels);
    }
  })().catch(error => console.error("latent evolution: " + error));
})();
