// The rnn-pipeline playground: one panel per served model, chosen by its signatures'
// inputs, each calling the REST predict API (POST /v1/models/<name>/versions/<v>:predict).
// Plain browser JavaScript: no framework, no build step, nothing fetched from elsewhere.
"use strict";

(() => {
  const FONTS = getComputedStyle(document.documentElement).getPropertyValue("--fonts").trim()
    || "sans-serif";
  const SVG = "http://www.w3.org/2000/svg";

  // POST one request; the predictions (row format), or an Error with the server's words.
  async function predict(model, signature, instances) {
    const url = `/v1/models/${encodeURIComponent(model.name)}/versions/${model.version}:predict`;
    const response = await fetch(url, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({signature_name: signature, instances}),
    });
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON: said below */ }
    if (!response.ok || body === null) {
      throw new Error((body && body.error) || `HTTP ${response.status} ${response.statusText}`);
    }
    // A signature with one output answers bare values: name them as a multi-output one does.
    const outputs = Object.keys(model.signatures[signature].outputs);
    return body.predictions.map((row) => outputs.length === 1 ? {[outputs[0]]: row} : row);
  }

  // The signature (preferred ones first) that takes the input `name`, or undefined.
  function signatureWith(model, name, preferred = []) {
    const keys = [...preferred, ...Object.keys(model.signatures).sort()];
    return keys.find((key) => model.signatures[key] && name in model.signatures[key].inputs);
  }

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, value));
    node.textContent = text;
    return node;
  }

  function svgElement(tag, attributes = {}) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, value));
    return node;
  }

  // Runs `work` for a submitted form: the button is busy meanwhile, an error is shown as
  // text, and the panel's data-state says "done" or "error" afterwards.
  function onSubmit(panel, work) {
    const form = panel.querySelector("form");
    const error = panel.querySelector(".error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      error.hidden = true;
      error.textContent = "";
      panel.dataset.state = "busy";
      try {
        await work(form);
        panel.dataset.state = "done";
      } catch (exc) {
        error.textContent = exc.message;
        error.hidden = false;
        panel.dataset.state = "error";
      } finally {
        button.disabled = false;
      }
    });
  }

  function number(form, name) {
    const text = form.elements[name].value.trim();
    const value = text === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      throw new Error(`${name} must be a number. Received: ${name}=${JSON.stringify(text)}`);
    }
    return value;
  }

  // ---- generate ----------------------------------------------------------------------
  function generatePanel(panel, model) {
    const signature = signatureWith(model, "prompt", ["generate", "serving_default"]);
    const names = Object.keys(model.signatures[signature].inputs);
    const form = panel.querySelector("form");
    const sampled = names.includes("temperature");
    const controls = () => {
      const sampler = form.elements.sampler.value;
      form.elements.sampler.disabled = !sampled;
      form.elements.temperature.disabled = !sampled || sampler === "greedy";
      form.elements.top_k.disabled = !sampled || sampler !== "top_k";
      form.elements.max_tokens.disabled = !names.includes("max_tokens");
      form.elements.seed.disabled = !names.includes("seed") || sampler === "greedy";
    };
    form.elements.sampler.addEventListener("change", controls);
    controls();
    if (!sampled) {
      panel.querySelector(".note").textContent = `Signature ${signature} takes the prompt only: `
        + "the export's own sampler is used.";
    }
    onSubmit(panel, async () => {
      const sampler = form.elements.sampler.value;
      const values = {
        prompt: form.elements.prompt.value,
        max_tokens: names.includes("max_tokens") ? number(form, "max_tokens") : 0,
        temperature: sampler === "greedy" ? 0 : number(form, "temperature"),
        top_k: sampler === "top_k" ? number(form, "top_k") : 0,
        seed: sampler === "greedy" ? 0 : number(form, "seed"),
      };
      const instance = Object.fromEntries(names.map((name) => [name, values[name]]));
      const [row] = await predict(model, signature, [instance]);
      panel.querySelector(".result").textContent = row.text ?? Object.values(row)[0];
    });
  }

  // ---- translate, with the attention heat map ----------------------------------------
  function trimmed(tokens) {
    const end = tokens.findLastIndex((token) => token !== "");
    return tokens.slice(0, end + 1);
  }

  function heatMap(source, target, weights) {
    const canvas = element("canvas", {"class": "attention", role: "img",
      "aria-label": "attention weights: rows are the translation's tokens, columns the source's"});
    const context = canvas.getContext("2d");
    const font = `13px ${FONTS}`;
    context.font = font;
    const widest = (tokens) => Math.max(20, ...tokens.map((t) => context.measureText(t).width));
    const cell = 28, left = widest(target) + 12, top = widest(source) + 12;
    const width = left + cell * source.length + 4, height = top + cell * target.length + 4;
    const scale = window.devicePixelRatio || 1;
    canvas.width = width * scale;
    canvas.height = height * scale;
    canvas.style.width = `${width}px`;
    context.scale(scale, scale);
    context.font = font;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, width, height);
    target.forEach((_, row) => source.forEach((__, column) => {
      const w = Math.min(1, Math.max(0, weights[row][column]));
      context.fillStyle = `rgb(${255 - 219 * w}, ${255 - 169 * w}, ${255 - 56 * w})`;
      context.fillRect(left + column * cell, top + row * cell, cell - 1, cell - 1);
    }));
    context.fillStyle = "#1d2330";
    context.textBaseline = "middle";
    context.textAlign = "right";
    target.forEach((token, row) => context.fillText(token, left - 6, top + (row + 0.5) * cell));
    context.textAlign = "left";
    source.forEach((token, column) => {
      context.save();
      context.translate(left + (column + 0.5) * cell, top - 6);
      context.rotate(-Math.PI / 2);
      context.fillText(token, 0, 0);
      context.restore();
    });
    return canvas;
  }

  function attentionOutputs(model, row) {
    const outputs = model.signatures.attention.outputs;
    const names = Object.keys(outputs);
    const weights = names.find((name) => outputs[name].dtype.startsWith("float"));
    const strings = names.filter((name) => outputs[name].dtype === "string");
    const source = strings.find((name) => name.includes("source")) || strings[0];
    const target = strings.find((name) => name !== source);
    return {source: row[source], target: row[target], weights: row[weights]};
  }

  function translatePanel(panel, model) {
    onSubmit(panel, async (form) => {
      const figure = panel.querySelector(".figure");
      figure.replaceChildren();
      const source = form.elements.source.value;
      const [row] = await predict(model, "serving_default", [{source}]);
      panel.querySelector(".result").textContent = row.translation;
      if (!model.signatures.attention) {
        return;
      }
      const [seen] = await predict(model, "attention", [{source, translation: row.translation}]);
      const found = attentionOutputs(model, seen);
      const sourceTokens = trimmed(found.source), targetTokens = trimmed(found.target);
      figure.append(heatMap(sourceTokens, targetTokens, found.weights));
    });
  }

  // ---- forecast ----------------------------------------------------------------------
  // The CSV's last `lookback` rows of its numeric columns: {rows, columns}.
  function csvWindow(text, lookback, features) {
    const split = (line) => line.split(",").map((cell) => cell.trim().replace(/^"|"$/g, ""));
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "").map(split);
    const numeric = (cell) => cell !== "" && Number.isFinite(Number(cell));
    const header = lines.length && !lines[0].every(numeric) ? lines.shift() : null;
    if (lines.length < lookback) {
      throw new Error(`The CSV must have at least lookback=${lookback} rows of values. `
        + `Received: ${lines.length} rows`);
    }
    const window = lines.slice(-lookback);
    const width = Math.max(...window.map((cells) => cells.length));
    const columns = [...Array(width).keys()].filter((c) => window.every((r) => numeric(r[c]))
      && (!header || (header[c] || "") !== ""));
    if (columns.length < features) {
      throw new Error(`The CSV's last ${lookback} rows must have ${features} numeric columns `
        + `(the model's features). Received: ${columns.length}`);
    }
    const used = columns.slice(0, features);
    return {rows: window.map((cells) => used.map((c) => Number(cells[c]))),
      columns: used.map((c) => (header ? header[c] : `column ${c + 1}`))};
  }

  // An inline SVG of one target: its history, its forecast and any quantile band.
  function plot(history, forecast, low, high, label) {
    const width = 640, height = 210, left = 48, right = 12, top = 28, bottom = 190;
    const all = [...history, ...forecast, ...(low || []), ...(high || [])];
    const min = Math.min(...all), max = Math.max(...all), span = max - min || 1;
    const steps = history.length + forecast.length - 1 || 1;
    const x = (i) => left + (i / steps) * (width - left - right);
    const y = (v) => bottom - ((v - min) / span) * (bottom - top);
    const points = (values, offset) => values.map((v, i) => [x(i + offset), y(v)]);
    const path = (xy) => xy.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},`
      + py.toFixed(1)).join(" ");
    const svg = svgElement("svg", {viewBox: `0 0 ${width} ${height}`, width, height,
      role: "img", "class": "forecast-plot", "aria-label": `history and forecast of ${label}`});
    svg.append(svgElement("rect", {x: 0, y: 0, width, height, fill: "#ffffff"}));
    const start = history.length - 1;  // the forecast's origin: the last row of the history
    if (low && high) {
      const upper = points([history[start], ...high], start);
      const lower = points([history[start], ...low], start).reverse();
      svg.append(svgElement("path", {d: `${path([...upper, ...lower])} Z`,
        "class": "series-band"}));
    }
    svg.append(svgElement("path", {d: `M${left},${top}V${bottom}H${width - right}`,
      "class": "axis"}));
    svg.append(svgElement("line", {x1: x(start), x2: x(start), y1: top, y2: bottom,
      "class": "axis origin"}));
    svg.append(svgElement("path", {d: path(points(history, 0)), "class": "series-history"}));
    svg.append(svgElement("path", {d: path(points([history[start], ...forecast], start)),
      "class": "series-forecast"}));
    const text = (content, attributes) => {
      const node = svgElement("text", {"class": "axis-label", ...attributes});
      node.textContent = content;
      svg.append(node);
    };
    text(max.toPrecision(4), {x: left - 4, y: top + 4, "text-anchor": "end"});
    text(min.toPrecision(4), {x: left - 4, y: bottom + 4, "text-anchor": "end"});
    text(`${label}: history (dark), forecast (orange)${low ? ", quantile band" : ""}`,
      {x: left, y: 14});
    text("now", {x: x(start), y: bottom + 14, "text-anchor": "middle"});
    return svg;
  }

  function forecastTable(forecast, labels) {
    const table = element("table", {"class": "forecast-values"});
    const head = element("tr");
    ["step", ...labels].forEach((label) => head.append(element("th", {}, label)));
    table.append(head);
    forecast.forEach((values, step) => {
      const tr = element("tr");
      tr.append(element("th", {}, String(step + 1)));
      values.forEach((value) => tr.append(element("td", {}, value.toPrecision(6))));
      table.append(tr);
    });
    return table;
  }

  function forecastPanel(panel, model) {
    const inputs = model.signatures.serving_default.inputs;
    const [, lookback, features] = inputs.history.shape;
    const others = Object.keys(inputs).filter((name) => name !== "history");
    panel.querySelector(".note").textContent = `lookback ${lookback} rows × ${features} `
      + "numeric columns; the model forecasts its first columns (its targets).";
    onSubmit(panel, async (form) => {
      const figure = panel.querySelector(".figure");
      figure.replaceChildren();
      if (others.length) {
        throw new Error(`This model also takes ${others.join(", ")}, which the playground `
          + "does not fill: call its REST API.");
      }
      const window = csvWindow(form.elements.csv.value, lookback, features);
      const [row] = await predict(model, "serving_default", [{history: window.rows}]);
      const forecast = (row.forecast || row.mean)  // (horizon, targets)
        .map((step) => (Array.isArray(step) ? step : [step]));
      const quantiles = row.quantiles;  // (horizon, targets, levels), or undefined
      const labels = window.columns.slice(0, forecast[0].length);
      labels.forEach((label, t) => {
        const band = quantiles && ((q) => forecast.map((_, h) => quantiles[h][t][q]));
        figure.append(plot(window.rows.map((r) => r[t]), forecast.map((f) => f[t]),
          band && band(0), band && band(quantiles[0][t].length - 1), label));
      });
      figure.append(forecastTable(forecast, labels));
    });
  }

  // ---- tag ---------------------------------------------------------------------------
  function tagColor(tag) {
    const type = tag.replace(/^[BIESLU]-/, "");
    let hash = 0;
    [...type].forEach((c) => { hash = (hash * 31 + c.codePointAt(0)) % 360; });
    return `hsl(${hash}, 70%, 84%)`;
  }

  function tagPanel(panel, model) {
    const bySentence = signatureWith(model, "sentences", ["tag_sentences"]);
    onSubmit(panel, async (form) => {
      const sentence = form.elements.sentence.value;
      const words = sentence.split(/\s+/).filter((word) => word !== "");
      const [row] = bySentence ? await predict(model, bySentence, [{sentences: sentence}])
        : await predict(model, "serving_default", [{tokens: words}]);
      const tokens = row.tokens || words;
      const result = panel.querySelector(".result");
      result.replaceChildren();
      tokens.forEach((token, i) => {
        if (token === "") {
          return;
        }
        const tag = row.tags[i];
        const span = element("span", {"class": "token", title: `${tag} (${row.scores[i]})`},
          token);
        if (tag && tag !== "O") {
          span.style.backgroundColor = tagColor(tag);
          span.append(element("sub", {}, tag));
        }
        result.append(span);
      });
    });
  }

  // ---- transcribe --------------------------------------------------------------------
  function base64Of(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(",") + 1));
      reader.onerror = () => reject(new Error(`The file could not be read: ${reader.error}`));
      reader.readAsDataURL(file);
    });
  }

  function transcribePanel(panel, model) {
    onSubmit(panel, async (form) => {
      const [file] = form.elements.audio.files;
      if (!file) {
        throw new Error("Choose a WAV file first.");
      }
      const audio = {b64: await base64Of(file)};
      const [row] = await predict(model, "serving_default", [{audio}]);
      panel.querySelector(".result").textContent = row.transcript !== undefined
        ? row.transcript : `${row.label} (p = ${Math.max(...row.probabilities).toFixed(3)})`;
    });
  }

  // ---- the page ----------------------------------------------------------------------
  const PANELS = [
    ["generate", (m) => signatureWith(m, "prompt"), generatePanel],
    ["translate", (m) => signatureWith(m, "source", ["serving_default"]), translatePanel],
    ["forecast", (m) => m.signatures.serving_default?.inputs.history, forecastPanel],
    ["tag", (m) => signatureWith(m, "sentences") || signatureWith(m, "tokens"), tagPanel],
    ["transcribe", (m) => m.signatures.serving_default?.inputs.audio, transcribePanel],
  ];

  async function start() {
    const main = document.getElementById("panels");
    const pageError = document.getElementById("page-error");
    try {
      const response = await fetch("/playground/models");
      const models = await response.json();
      if (!response.ok) {
        throw new Error(models.error || `HTTP ${response.status}`);
      }
      main.replaceChildren();
      models.forEach((model) => {
        const found = PANELS.find(([, fits]) => fits(model));
        if (!found) {
          main.append(element("p", {"class": "note"}, `${model.name}: no panel for signatures `
            + Object.keys(model.signatures).join(", ")));
          return;
        }
        const [task, , build] = found;
        const panel = document.getElementById(`${task}-panel`).content.firstElementChild
          .cloneNode(true);
        panel.dataset.model = model.name;
        panel.querySelector(".model").textContent = `${model.name}/${model.version}`;
        panel.append(element("p", {"class": "error", role: "alert", hidden: ""}));
        build(panel, model);
        main.append(panel);
      });
      if (!models.length) {
        main.append(element("p", {"class": "note"}, "No models are served."));
      }
      document.body.dataset.ready = "true";
    } catch (exc) {
      pageError.textContent = `The served models could not be listed: ${exc.message}`;
      pageError.hidden = false;
    }
  }

  start();
})();
