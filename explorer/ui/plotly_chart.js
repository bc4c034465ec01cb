// Every Plotly chart of the app (explorer/ui/chart.py), drawn in place: a Streamlit
// components-v2 module, run in the app's own page (no iframe). Each call brings the newest figure as
// bytes of JSON {spec, config, height, place, plotly, chunk}; the chart's div is created once per element and redrawn with
// Plotly.react, the newest figure winning when several arrive during one redraw. plotly.js is loaded once
// per page for every chart: the app's partial bundle (`plotly`, served by app.py with long-lived caching),
// else, where the app runs without that route, the plotly.js inside Streamlit's own PlotlyChart chunk.
// A chart whose payload has `draw` ({tool, radius, count}) is the drawing canvas (explorer/ui/draw.py): a
// press or drag over the plot area sprays `count` points uniformly in a disc of `radius` (data units) at
// every dab, shown at once in the trace named "current stroke"; on release the stroke goes to Python as the
// trigger value "stroke" ({tool, points, id}). The erase tool sends the brush's path the same way.
// A payload with `html` instead of `spec` is HTML drawn in place (a live panel's readouts); one with `vegas` is a
// grid of Vega-Lite charts, `per_row` to a row (a live panel's curves), drawn by vega-embed (`vega`: the app's
// bundle of vega-embed, vega and vega-lite, loaded once per page when first needed).
// A payload with `feed` belongs to a live panel while training runs: see "Live feeds" below.
// `styled` gives a figure the look st.plotly_chart's "streamlit" theme gives it, from the theme's CSS
// variables, so that the charts look like Streamlit's own.

const FONT_FALLBACK = '"Source Sans", sans-serif';
const CATEGORICAL = ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a", "#6d3fc0", "#d5dae5"];
const SEQUENTIAL = ["#0d0887", "#46039f", "#7201a8", "#9c179e", "#bd3786", "#d8576b", "#ed7953", "#fb9f3a", "#fdca26", "#f0f921"];
const DIVERGING = ["#8e0152", "#c51b7d", "#de77ae", "#f1b6da", "#fde0ef", "#e6f5d0", "#b8e186", "#7fbc41", "#4d9221", "#276419"];

function streamlitScripts() {
  // Streamlit's entry script is <base>/static/js/index.<hash>.js: the app's own files are found from it
  const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
  return entry ? entry.src : new URL("static/js/index.js", document.baseURI).href;
}

function classicScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + url));
    document.head.appendChild(script);
  });
}

function loadPlotly(args) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__explorerPlotly) {
    const scripts = streamlitScripts();
    window.__explorerPlotly = classicScript(new URL("../../" + args.plotly, scripts).href)
      .catch((error) => {
        console.warn("live chart: " + error.message + "; using Streamlit's plotly.js");
        return import(new URL(args.chunk, scripts).href);
      })
      .then(() => {
        if (!window.Plotly) throw new Error("no plotly.js defined window.Plotly");
        return window.Plotly;
      });
  }
  return window.__explorerPlotly;
}

function loadVega(args) {
  if (window.vegaEmbed) return Promise.resolve(window.vegaEmbed);
  if (!window.__explorerVega) {
    window.__explorerVega = classicScript(new URL("../../" + args.vega, streamlitScripts()).href).then(() => window.vegaEmbed);
  }
  return window.__explorerVega;
}

function ownDiv(parent, className, setup) {
  // the child div of that class, made (and `setup`) on the first call: kept across redraws
  let child = parent.querySelector(":scope > div." + className);
  if (!child) {
    child = document.createElement("div");
    child.className = className;
    setup(child);
    parent.appendChild(child);
  }
  return child;
}

async function drawVegas(div, args) {
  const embed = await loadVega(args);
  const grid = ownDiv(div, "explorer-vega-grid", (g) => { g.style.display = "grid"; g.style.gap = "1rem"; });
  grid.style.gridTemplateColumns = "repeat(" + args.per_row + ", minmax(0, 1fr))";
  const specs = args.vegas;
  while (grid.children.length > specs.length) {
    const cell = grid.lastChild;
    if (cell.view) cell.view.finalize();
    grid.removeChild(cell);
  }
  for (let i = 0; i < specs.length; i++) {
    let cell = grid.children[i];
    if (!cell) {
      cell = document.createElement("div");
      cell.style.minWidth = "0";
      grid.appendChild(cell);
    }
    const spec = specs[i];
    const text = JSON.stringify(spec);
    if (cell.spec === text) continue; // unchanged since the last draw
    cell.spec = text;
    if (cell.view) { cell.view.finalize(); cell.view = null; }
    cell.replaceChildren();
    if (!spec) continue;
    const sized = Object.assign({ width: "container" }, spec);
    const result = await embed(cell, sized, { actions: false, renderer: "canvas" });
    cell.view = result.view;
  }
}

function isObject(x) { return x !== null && typeof x === "object" && !Array.isArray(x); }
function merge(target, source) {
  for (const [key, value] of Object.entries(source)) {
    target[key] = isObject(value) && isObject(target[key]) ? merge(target[key], value) : value;
  }
  return target;
}

function theme(element) {
  const style = getComputedStyle(element);
  const read = (name, fallback) => (style.getPropertyValue(name) || "").trim() || fallback;
  const bg = read("--st-background-color", "#ffffff");
  const rgb = (bg.match(/[0-9a-f]{2}/gi) || ["ff", "ff", "ff"]).slice(0, 3).map((h) => parseInt(h, 16));
  return {
    text: read("--st-text-color", "#31333F"),
    bg: bg,
    font: read("--st-font", FONT_FALLBACK),
    dark: bg.startsWith("#") && rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114 < 128,
  };
}

function styled(spec, t) {
  const faint = t.dark ? "rgba(250, 250, 250, 0.2)" : "rgba(49, 51, 63, 0.2)";
  const colours = { 32: "#3D9970", 33: "#FF4136", 34: "#4499FF", 35: faint, 36: t.text, 37: t.text, 38: t.bg, 39: faint, 40: faint };
  CATEGORICAL.forEach((c, i) => { colours[i + 1] = c; });
  SEQUENTIAL.forEach((c, i) => { colours[i + 11] = c; });
  DIVERGING.forEach((c, i) => { colours[i + 21] = c; });
  const figure = JSON.parse(JSON.stringify(spec).replace(/#0000([0-4][0-9])/g, (m, n) => colours[Number(n)] || m));
  const layout = figure.layout = figure.layout || {};
  const template = layout.template = layout.template || {};
  const axis = { zerolinecolor: faint, gridcolor: faint, tickcolor: faint, automargin: true,
                 tickfont: { color: t.text, size: 12 }, minor: { gridcolor: faint } };
  template.layout = merge(template.layout || {}, {
    font: { color: t.text, family: t.font, size: 12 },
    title: { font: { family: t.font, size: 16, color: t.text }, xanchor: "left", x: 0 },
    legend: { font: { size: 12, color: t.text }, bordercolor: "rgba(0, 0, 0, 0)", borderwidth: 0, valign: "top" },
    paper_bgcolor: t.bg, plot_bgcolor: t.bg,
    xaxis: merge({ showgrid: false, zeroline: false, title: { font: { color: t.text, size: 14 }, standoff: 20 } }, axis),
    yaxis: merge({ ticklabelposition: "outside", title: { font: { color: t.text, size: 14 }, standoff: 24 } }, axis),
    margin: { pad: 8, r: 0, l: 0 },
    hoverlabel: { bgcolor: t.bg, font: { color: t.text, family: t.font, size: 12 } },
    coloraxis: { colorbar: { thickness: 16, outlinewidth: 0, tickfont: { color: t.text, size: 12 } } },
  });
  if (layout.title) {
    const title = typeof layout.title === "string" ? { text: layout.title } : layout.title;
    layout.title = Object.assign({}, title, { text: "<b>" + (title.text || "") + "</b>" });
  }
  return figure;
}

function decoded(data) {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return JSON.parse(new TextDecoder().decode(data));
  return data;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

const LIVE_FIRST_MAX_MS = 3000; // a chart below waits at most this long for the live panel's charts

function liveChartsDrawn() {
  return [...document.querySelectorAll("div.explorer-plotly-chart[data-place]")].every((d) => Number(d.dataset.renders) > 0);
}

async function afterLiveCharts() {
  // A page's first paint: the charts outside the live panel (the tabs below it) wait until every live chart
  // is drawn and the browser has painted them, so that plotly's work on a large figure (the path animation,
  // ~0.3-0.5 s) comes after what the page opens for, not before it.
  const start = performance.now();
  do await nextFrame(); while (!liveChartsDrawn() && performance.now() - start < LIVE_FIRST_MAX_MS);
  await nextFrame();
}

async function draw(div) {
  if (div.drawing || div.pending === null) return;
  const args = div.pending;
  div.pending = null;
  div.drawing = true;
  try {
    if (args.vegas !== undefined) {
      await drawVegas(div, args);
      div.dataset.renders = String(Number(div.dataset.renders || 0) + 1);
      return;
    }
    const Plotly = await loadPlotly(args);
    // a chart outside the live panels draws after the browser has painted what came with it (the status line,
    // the live charts): on a page's first paint after the live charts, later one frame after
    if (!args.place) await (div.dataset.renders === "0" ? afterLiveCharts() : nextFrame());
    const figure = styled(args.spec, theme(div));
    const layout = Object.assign(figure.layout, { autosize: true, width: undefined, height: args.height });
    layout.uirevision = layout.uirevision || "kept"; // a zoom or a hidden legend entry survives the refreshes
    div.style.height = args.height + "px";
    const config = Object.assign({ responsive: true, displaylogo: false }, args.config);
    await Plotly.react(div, { data: figure.data, layout: layout, frames: figure.frames || [], config: config });
    div.dataset.renders = String(Number(div.dataset.renders || 0) + 1);
  } catch (error) {
    console.error("live chart:", error);
  } finally {
    div.drawing = false;
    draw(div);
  }
}

const STROKE_TRACE = "current stroke";
let strokeId = 0;

function dataPoint(div, event) {
  // the pointer's position in data units, or null outside the plot area
  const full = div._fullLayout;
  if (!full || !full.xaxis || !full.yaxis) return null;
  const xa = full.xaxis, ya = full.yaxis, rect = div.getBoundingClientRect();
  const px = event.clientX - rect.left - xa._offset, py = event.clientY - rect.top - ya._offset;
  if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
  return [xa.p2d(px), ya.p2d(py)];
}

function drawable(div) {
  // pointer handlers for the canvas, attached once per chart; `div.brush` and `div.component` are the newest
  if (div.drawHandlers) return;
  div.drawHandlers = true;
  div.style.touchAction = "none";
  div.style.cursor = "crosshair";
  let stroke = null;
  const dab = (at) => {
    const brush = div.brush, added = [];
    if (brush.tool === "erase") {
      added.push(at);
    } else {
      for (let i = 0; i < brush.count; i++) {
        const r = brush.radius * Math.sqrt(Math.random()), a = 2 * Math.PI * Math.random();
        added.push([at[0] + r * Math.cos(a), at[1] + r * Math.sin(a)]);
      }
    }
    stroke.points.push(...added);
    stroke.last = at;
    const index = (div.data || []).findIndex((trace) => trace.name === STROKE_TRACE);
    if (index >= 0 && window.Plotly) {
      window.Plotly.extendTraces(div, { x: [added.map((p) => p[0])], y: [added.map((p) => p[1])] }, [index]);
    }
  };
  div.addEventListener("pointerdown", (event) => {
    const at = dataPoint(div, event);
    if (!at || !div.brush || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    stroke = { tool: div.brush.tool, points: [], last: at };
    dab(at);
  }, true);
  window.addEventListener("pointermove", (event) => {
    if (!stroke) return;
    const at = dataPoint(div, event);
    if (!at) return;
    const step = Math.hypot(at[0] - stroke.last[0], at[1] - stroke.last[1]);
    if (step >= 0.5 * div.brush.radius) dab(at);
  });
  window.addEventListener("pointerup", () => {
    if (!stroke) return;
    const done = stroke;
    stroke = null;
    strokeId += 1;
    div.component.setTriggerValue("stroke", { tool: done.tool, points: done.points, id: Date.now() + "-" + strokeId });
  });
}

// Live feeds (explorer/ui/live_feed.py). While training runs, the charts and readouts of a live panel fetch their
// newest payloads from the panel's feed, all in one request per refresh, without a Streamlit rerun (a rerun
// costs the browser ~160 ms whatever it redraws). Every element of a live panel names its feed, and the fetching
// starts when any of them arrives with `running` (the Train button's start signal: pressing Train reruns only
// the buttons). The browser paces itself: after a refresh has been drawn, it asks for the next after a pause as
// long as the drawing took (REFRESH_MS in all at least), so the view takes at most half of the page's time on a
// slow machine; the feed waits out the pause, or answers at once when training stops. When the feed says training
// stopped, the panel asks for one rerun (trigger "stopped"), which draws the whole page at the final step.
const REFRESH_MS = 250;
const RETRY_MS = 1000;
const feeds = new Map(); // feed path -> {divs: Map(place -> div), component, looping}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function follow(path, div, component, running) {
  if (div.feed && div.feed !== path) unfollow(div);
  if (!path) return;
  let feed = feeds.get(path);
  if (!feed) feeds.set(path, feed = { divs: new Map(), component: null, looping: false });
  feed.divs.set(div.dataset.place, div);
  feed.component = component;
  div.feed = path;
  if (running && !feed.looping) poll(path, feed);
}

function unfollow(div) {
  const feed = feeds.get(div.feed);
  if (feed && feed.divs.get(div.dataset.place) === div) feed.divs.delete(div.dataset.place);
  div.feed = null;
}

function showHtml(div, markup) {
  div.innerHTML = markup;
  div.style.height = "";
  div.dataset.renders = String(Number(div.dataset.renders || 0) + 1);
}

function show(div, item) {
  if (item.html !== undefined) {
    showHtml(div, item.html);
    return Promise.resolve();
  }
  div.pending = item;
  return draw(div);
}

async function poll(path, feed) {
  feed.looping = true;
  let pause = 0;
  try {
    while (feed.divs.size && feeds.get(path) === feed) {
      let body = null;
      try {
        const url = new URL("../../" + path, streamlitScripts());
        url.searchParams.set("wait", (pause / 1000).toFixed(3));
        const response = await fetch(url.href, { cache: "no-store" });
        body = await response.json();
        if (!response.ok) body.running = false;
      } catch (error) {
        await sleep(RETRY_MS);
        continue;
      }
      const received = performance.now();
      const items = Object.entries(body.items || {}).filter(([place]) => feed.divs.has(place));
      // the readouts first, painted before the charts' longer redraws
      items.filter(([, item]) => item.html !== undefined).forEach(([place, item]) => show(feed.divs.get(place), item));
      await nextFrame();
      await Promise.all(items.filter(([, item]) => item.html === undefined).map(([place, item]) => show(feed.divs.get(place), item)));
      if (!body.running) {
        if (feed.component) feed.component.setTriggerValue("stopped", Date.now());
        return;
      }
      await nextFrame();
      const drawn = performance.now() - received;
      pause = Math.max(REFRESH_MS - drawn, drawn);
    }
  } finally {
    feed.looping = false;
  }
}

function sameBytes(a, b) {
  // the same payload as the one drawn: a full rerun resends every chart, mostly unchanged
  if (a === b) return true;
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export default function (component) {
  const { parentElement, data } = component;
  const div = ownDiv(parentElement, "explorer-plotly-chart", (d) => {
    d.style.width = "100%";
    d.dataset.renders = "0";
    d.pending = null;
    d.drawing = false;
  });
  const cleanup = () => { unfollow(div); if (window.Plotly) window.Plotly.purge(div); };
  if (sameBytes(data, div.lastData)) {
    follow(div.feed, div, component, false);
    return cleanup;
  }
  div.lastData = data;
  const args = decoded(data);
  if (args.place) div.dataset.place = args.place; // a live panel's chart
  div.dataset.kind = args.html !== undefined ? "html" : args.vegas !== undefined ? "vega" : "plotly";
  if (args.html !== undefined) {
    showHtml(div, args.html);
  } else if (args.vegas !== undefined) {
    div.style.height = "";
    div.pending = args;
    draw(div);
  } else {
    div.pending = args;
    div.style.height = args.height + "px"; // the room is kept before the first draw
    if (args.draw) {
      div.brush = args.draw;
      div.component = component;
      drawable(div);
    }
    draw(div);
  }
  follow(args.feed, div, component, args.running);
  return cleanup;
}
