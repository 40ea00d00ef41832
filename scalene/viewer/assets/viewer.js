/* scalene viewer: renders a scalene profile (JSON) as tables, bars and charts.
 *
 * Hand-written, no dependencies. Every string that comes from a profile is
 * inserted with textContent / createTextNode, never as HTML.
 */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var LS_AI = "scalene-viewer.ai.v1";
  var LS_MODE = "scalene-viewer.mode";
  var ACTIVE_PCT = 1; // a line is "active" at >= 1 % CPU, memory usage, GPU or await
  var HOT_PCT = 33; // hot: >= 33 %
  var WARM_PCT = 10; // warm: >= 10 %

  // ------------------------------------------------------------------ utils
  function h(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k)) continue;
        var v = props[k];
        if (v == null || v === false) continue;
        if (k === "text") node.textContent = String(v);
        else if (k === "cls") node.className = v;
        else if (k === "title") node.title = String(v);
        else if (k === "style") {
          for (var sk in v) node.style.setProperty(sk, v[sk]);
        } else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) {
      for (var i = 0; i < child.length; i++) add(node, child[i]);
    } else if (typeof child === "string" || typeof child === "number") {
      node.appendChild(document.createTextNode(String(child)));
    } else {
      node.appendChild(child);
    }
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    for (var k in attrs) node.setAttribute(k, String(attrs[k]));
    return node;
  }
  function num(v) {
    var n = typeof v === "number" ? v : Number(v);
    return isFinite(n) ? n : 0;
  }
  function isObj(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }
  function own(o, k) {
    return o != null && Object.prototype.hasOwnProperty.call(o, k);
  }
  // Number as in the profile, rounded to 6 decimals (tooltips).
  function exact(v) {
    return String(Math.round(num(v) * 1e6) / 1e6);
  }
  function pct(v) {
    v = num(v);
    if (v === 0) return "";
    if (v < 0.1) return "<0.1%";
    if (v >= 99.95) return "100%";
    return v.toFixed(1) + "%";
  }
  function mb(v) {
    v = num(v);
    if (v === 0) return "";
    if (v >= 1024) return (v / 1024).toFixed(v >= 10240 ? 1 : 2) + " GB";
    if (v >= 100) return v.toFixed(0) + " MB";
    if (v >= 0.1) return v.toFixed(1) + " MB";
    return "<0.1 MB";
  }
  function seconds(s) {
    s = num(s);
    if (s < 1) return (s * 1000).toFixed(0) + " ms";
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s - m * 60).toFixed(0) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function stripNL(s) {
    return s.replace(/\r?\n$/, "");
  }
  function splitPath(p) {
    var i = Math.max(p.lastIndexOf("/"), p.lastIndexOf("\\"));
    return i >= 0 ? [p.slice(0, i + 1), p.slice(i + 1)] : ["", p];
  }

  // ------------------------------------------------------- line metrics
  function cpuPy(l) { return num(l.n_cpu_percent_python); }
  function cpuC(l) { return num(l.n_cpu_percent_c); }
  function cpuSys(l) { return num(l.n_sys_percent); }
  function cpuOf(l) { return cpuPy(l) + cpuC(l) + cpuSys(l); }
  function usagePct(l) { return num(l.n_usage_fraction) * 100; }
  function isActive(l) {
    return cpuOf(l) >= ACTIVE_PCT || usagePct(l) >= ACTIVE_PCT ||
      num(l.n_gpu_percent) >= ACTIVE_PCT || num(l.n_async_await_percent) >= ACTIVE_PCT || l._leak;
  }
  function heat(l, P) {
    var c = cpuOf(l), u = usagePct(l), g = num(l.n_gpu_percent);
    if (c >= HOT_PCT || u >= HOT_PCT || g >= HOT_PCT) return "hot";
    if (l === P.topLine && c >= 5) return "hot";
    if (c >= WARM_PCT || u >= WARM_PCT || g >= WARM_PCT) return "warm";
    return "";
  }

  // ------------------------------------------------------- profile model
  function unescapeLine(s) {
    if (s.indexOf("\\u00") < 0) return s;
    return s.split("\\u0026").join("&").split("\\u003c").join("<").split("\\u003e").join(">");
  }
  function isOwnFormat(raw) {
    return isObj(raw.profiler) && String(raw.profiler.name || "").indexOf("scalene-c") === 0;
  }

  function normalize(raw, highlight) {
    if (!isObj(raw)) throw new Error("not a profile: expected a JSON object");
    if (!isObj(raw.files)) throw new Error("not a Scalene profile: there is no \"files\" object");
    var unescape = !raw._viewer_unescaped && !isOwnFormat(raw);
    var hlFiles = highlight && isObj(highlight.files) ? highlight.files : null;
    var P = {
      raw: raw, files: [], hasMemory: !!raw.memory, hasGpu: !!raw.gpu, hasAsync: false,
      totals: { py: 0, c: 0, sys: 0, gpu: 0, gpuPeak: 0, malloc: 0 }, topLine: null, maxPeak: 0,
      elapsed: num(raw.elapsed_time_sec),
    };
    var names = Object.keys(raw.files);
    if (Array.isArray(raw._viewer_file_order)) {
      var ordered = raw._viewer_file_order.map(String).filter(function (n) { return own(raw.files, n); });
      if (ordered.length === names.length) names = ordered;
    }
    var top = 0;
    for (var fi = 0; fi < names.length; fi++) {
      var name = names[fi], d = raw.files[name];
      if (!isObj(d)) continue;
      var runs = hlFiles && own(hlFiles, name) && Array.isArray(hlFiles[name]) ? hlFiles[name] : null;
      var lines = (Array.isArray(d.lines) ? d.lines : []).filter(isObj);
      var F = {
        index: P.files.length, name: name, detail: d, lines: lines, byLine: new Map(),
        functions: (Array.isArray(d.functions) ? d.functions : []).filter(isObj),
        leaks: isObj(d.leaks) ? d.leaks : {}, percent: num(d.percent_cpu_time),
        py: 0, c: 0, sys: 0, malloc: 0, highlighted: !!runs,
      };
      for (var i = 0; i < lines.length; i++) {
        var l = lines[i];
        var text = typeof l.line === "string" ? l.line : (l.line == null ? "" : String(l.line));
        l.line = unescape ? unescapeLine(text) : text;
        l.lineno = Math.floor(num(l.lineno));
        l._hl = runs && Array.isArray(runs[i]) ? runs[i] : null;
        l._leak = own(F.leaks, String(l.lineno)) ? F.leaks[String(l.lineno)] : null;
        F.byLine.set(l.lineno, l);
        F.py += cpuPy(l); F.c += cpuC(l); F.sys += cpuSys(l); F.malloc += num(l.n_malloc_mb);
        if (num(l.n_peak_mb) > P.maxPeak) P.maxPeak = num(l.n_peak_mb);
        if (num(l.n_malloc_mb) || num(l.n_peak_mb) || num(l.n_copy_mb_s) ||
            (Array.isArray(l.memory_samples) && l.memory_samples.length)) P.hasMemory = true;
        if (num(l.n_gpu_percent) || num(l.n_gpu_peak_memory_mb)) P.hasGpu = true;
        if (num(l.n_async_await_percent)) P.hasAsync = true;
        P.totals.gpu += num(l.n_gpu_percent);
        P.totals.gpuPeak = Math.max(P.totals.gpuPeak, num(l.n_gpu_peak_memory_mb));
        var c = cpuOf(l);
        if (c > top) { top = c; P.topLine = l; }
      }
      for (var j = 0; j < F.functions.length; j++) {
        var fn = F.functions[j];
        var ft = typeof fn.line === "string" ? fn.line : (fn.line == null ? "" : String(fn.line));
        fn.line = unescape ? unescapeLine(ft) : ft;
        fn.lineno = Math.floor(num(fn.lineno));
      }
      P.totals.py += F.py; P.totals.c += F.c; P.totals.sys += F.sys; P.totals.malloc += F.malloc;
      P.files.push(F);
    }
    P.maxFootprint = Math.max(num(raw.max_footprint_mb), P.maxPeak);
    P.stacks = Array.isArray(raw.stacks) ? raw.stacks : [];
    // memory_stacks ([frame dicts, MB]) in the shape of stacks, weighed in MB
    P.memoryStacks = (Array.isArray(raw.memory_stacks) ? raw.memory_stacks : []).map(function (e) {
      if (!Array.isArray(e) || e.length < 2 || !Array.isArray(e[0])) return null;
      var frames = e[0].filter(isObj).map(function (f) {
        return String(f.filename_or_module || "") + " " + String(f.display_name || "?") + ":" + Math.floor(num(f.line)) + ";";
      });
      return [frames, { count: num(e[1]) }];
    }).filter(Boolean);
    return P;
  }

  // ---------------------------------------------- fallback highlighter
  // Used for profiles loaded in the page (the embedded one is highlighted
  // by Pygments at generation time). Produces the same run format.
  var KW = new Set(("and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "));
  var OW = new Set(["and", "or", "not", "in", "is"]);
  var KC = new Set(["True", "False", "None"]);
  var BI = new Set(("abs all any bin bool bytearray bytes callable chr dict dir divmod enumerate eval exec filter " +
    "float format frozenset getattr globals hasattr hash hex id input int isinstance issubclass iter len list " +
    "locals map max min next object oct open ord pow print property range repr reversed round set setattr " +
    "slice sorted staticmethod classmethod str sum super tuple type vars zip").split(" "));
  var CLS_INDEX = { "": 0, k: 1, s: 2, c: 3, m: 4, nf: 5, nc: 6, nb: 7, d: 8, ow: 9, sd: 10, bp: 11, kc: 12 };
  var JS_CLASSES = ["", "k", "s", "c", "m", "nf", "nc", "nb", "d", "ow", "sd", "bp", "kc", "o"];

  function jsHighlight(texts) {
    var out = [], triple = null;
    var reNum = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?[jJ]?)/;
    var reId = /^[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*/;
    var reStrStart = /^([rRbBuUfF]{0,2})("""|'''|"|')/;
    for (var li = 0; li < texts.length; li++) {
      var s = stripNL(texts[li]), runs = [], i = 0, prevWord = "";
      var push = function (cls, n) {
        var idx = CLS_INDEX[cls] || 0;
        if (n <= 0) return;
        if (runs.length && runs[runs.length - 2] === idx) runs[runs.length - 1] += n;
        else runs.push(idx, n);
      };
      if (triple) {
        var end = s.indexOf(triple);
        if (end < 0) { push("s", s.length); out.push(runs); continue; }
        push("s", end + 3); i = end + 3; triple = null;
      }
      while (i < s.length) {
        var rest = s.slice(i), ch = s[i], m;
        if (ch === "#") { push("c", s.length - i); break; }
        if ((m = reStrStart.exec(rest)) && (m[1] === "" || /^[rRbBuUfF]{1,2}$/.test(m[1]))) {
          var q = m[2], start = m[0].length, j = start;
          if (q.length === 3) {
            var close = s.indexOf(q, i + start);
            if (close < 0) { push("s", s.length - i); triple = q; i = s.length; break; }
            push("s", close + 3 - i); i = close + 3; continue;
          }
          while (j < rest.length && rest[j] !== q) j += rest[j] === "\\" ? 2 : 1;
          j = Math.min(j + 1, rest.length);
          push("s", j); i += j; continue;
        }
        if (ch === "@" && /^\s*$/.test(s.slice(0, i)) && (m = /^@[\w.]+/.exec(rest))) {
          push("d", m[0].length); i += m[0].length; continue;
        }
        if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(s[i + 1] || ""))) {
          if ((m = reNum.exec(rest))) { push("m", m[0].length); i += m[0].length; continue; }
        }
        if ((m = reId.exec(rest))) {
          var w = m[0], cls = "";
          if (prevWord === "def") cls = "nf";
          else if (prevWord === "class") cls = "nc";
          else if (KC.has(w)) cls = "kc";
          else if (OW.has(w)) cls = "ow";
          else if (KW.has(w)) cls = "k";
          else if (w === "self" || w === "cls") cls = "bp";
          else if (BI.has(w) && s[i - 1] !== ".") cls = "nb";
          push(cls, w.length); i += w.length; prevWord = w; continue;
        }
        if (!/\s/.test(ch)) prevWord = "";
        push("", 1); i += 1;
      }
      out.push(runs);
    }
    return out;
  }

  function codeNode(text, runs, classes) {
    var code = document.createElement("code");
    text = stripNL(text);
    if (!runs || !runs.length) { code.textContent = text; return code; }
    var pos = 0;
    for (var i = 0; i + 1 < runs.length; i += 2) {
      var cls = classes[runs[i]] || "", n = num(runs[i + 1]);
      var piece = text.slice(pos, pos + n);
      pos += n;
      if (!piece) continue;
      if (cls && /^[a-z]{1,3}$/.test(cls)) {
        var sp = document.createElement("span");
        sp.className = "t-" + cls;
        sp.textContent = piece;
        code.appendChild(sp);
      } else {
        code.appendChild(document.createTextNode(piece));
      }
    }
    if (pos < text.length) code.appendChild(document.createTextNode(text.slice(pos)));
    return code;
  }

  // ------------------------------------------------------------ state
  var state = {
    P: null,
    classes: JS_CLASSES,
    mode: "activity",
    sort: new Map(),
    expanded: new Set(),
    ai: new Map(), // "fileIndex:start:end" -> {anchor, start, end, status, code, error, label}
    flameRoot: null,
    flameKind: "cpu",
    notice: null,
  };
  try {
    var savedMode = window.localStorage.getItem(LS_MODE);
    if (savedMode === "all" || savedMode === "activity") state.mode = savedMode;
  } catch (e) { /* storage unavailable */ }

  // ------------------------------------------------------------ cells
  function stackBar(parts, cls, hideEmpty) {
    var bar = h("span", { cls: (cls || "bar") });
    var sum = 0;
    for (var k = 0; k < parts.length; k++) sum += Math.max(0, num(parts[k][0]));
    if (hideEmpty && sum <= 0) bar.classList.add("empty");
    for (var i = 0; i < parts.length; i++) {
      var w = Math.max(0, Math.min(100, num(parts[i][0])));
      if (w > 0) bar.appendChild(h("span", { cls: parts[i][1], style: { width: w + "%" }, "data-value": exact(parts[i][0]) }));
    }
    return bar;
  }
  function timeTitle(l, label) {
    var t = (label ? label + "\n" : "") +
      "Python " + exact(cpuPy(l)) + "%\nnative " + exact(cpuC(l)) + "%\nsystem " + exact(cpuSys(l)) +
      "%\ntotal " + exact(cpuOf(l)) + "%";
    if (own(l, "n_core_utilization")) t += "\ncore utilization " + exact(num(l.n_core_utilization) * 100) + "%";
    return t;
  }
  function cellTime(l) {
    var total = cpuOf(l);
    if (total <= 0) return h("td", { cls: "time" });
    var td = h("td", { cls: "time", title: timeTitle(l) });
    td.appendChild(h("div", { cls: "cell-bar" },
      stackBar([[cpuPy(l), "c-py"], [cpuC(l), "c-native"], [cpuSys(l), "c-sys"]], "bar", true),
      h("span", { cls: "bar-val", text: pct(total) })));
    return td;
  }
  function memTitle(l) {
    return "peak " + exact(l.n_peak_mb) + " MB\naverage " + exact(l.n_avg_mb) + " MB\nPython share " +
      exact(num(l.n_python_fraction) * 100) + "%\nallocated " + exact(l.n_malloc_mb) + " MB in " +
      exact(l.n_mallocs) + " sampled executions\nshare of all allocation " + exact(usagePct(l)) + "%" +
      (l._leak ? "\npossible leak: likelihood " + exact(num(l._leak.likelihood) * 100) + "%, " +
        exact(l._leak.velocity_mb_s) + " MB/s" : "");
  }
  function cellPeak(l, P) {
    var peak = num(l.n_peak_mb), frac = num(l.n_python_fraction);
    var scale = P.maxFootprint > 0 ? 100 / P.maxFootprint : 0;
    if (!peak && !l._leak && !num(l.n_malloc_mb)) return h("td", { cls: "peak" });
    var td = h("td", { cls: "peak", title: memTitle(l) });
    var val = h("span", { cls: "bar-val" });
    if (l._leak) val.appendChild(h("span", { cls: "leakdot", title: "possible memory leak" }));
    add(val, mb(peak));
    td.appendChild(h("div", { cls: "cell-bar" },
      stackBar([[peak * frac * scale, "c-mpy"], [peak * (1 - frac) * scale, "c-mnative"]], "bar small", true), val));
    return td;
  }
  function cellAvg(l) {
    return num(l.n_avg_mb) ? h("td", { cls: "num avg", title: memTitle(l), text: mb(l.n_avg_mb) }) : h("td", { cls: "num avg" });
  }
  function cellCopy(l) {
    var v = num(l.n_copy_mb_s);
    if (!v) return h("td", { cls: "num copy" });
    return h("td", { cls: "num copy", title: "copy volume " + exact(v) + " MB/s", text: v ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "" });
  }
  function cellGpu(l) {
    var v = num(l.n_gpu_percent);
    if (!v) return h("td", { cls: "num gpu" });
    return h("td", { cls: "num gpu", title: "GPU " + exact(v) + "%", text: pct(v) });
  }
  function cellGpuMem(l) {
    if (!num(l.n_gpu_peak_memory_mb) && !num(l.n_gpu_avg_memory_mb)) return h("td", { cls: "num gpumem" });
    return h("td", {
      cls: "num gpumem", text: mb(l.n_gpu_peak_memory_mb),
      title: "GPU memory peak " + exact(l.n_gpu_peak_memory_mb) + " MB\naverage " + exact(l.n_gpu_avg_memory_mb) + " MB",
    });
  }
  function cellAwait(l) {
    var v = num(l.n_async_await_percent);
    if (!v && !(Array.isArray(l.async_task_names) && l.async_task_names.length)) return h("td", { cls: "num await" });
    var t = "await " + exact(v) + "%\nconcurrency mean " + exact(l.n_async_concurrency_mean) + ", peak " + exact(l.n_async_concurrency_peak);
    if (Array.isArray(l.async_task_names) && l.async_task_names.length) t += "\ntasks: " + l.async_task_names.slice(0, 20).map(String).join(", ");
    return h("td", { cls: "num await", title: t, text: pct(v) });
  }
  function sparkline(samples, P, w, hgt) {
    var el = svg("svg", { width: w, height: hgt, viewBox: "0 0 " + w + " " + hgt, "aria-hidden": "true" });
    if (!Array.isArray(samples) || !samples.length) return el;
    var pts = [], tmax = P.elapsed * 1e9, ymax = P.maxFootprint;
    for (var i = 0; i < samples.length; i++) {
      var s = samples[i];
      if (!Array.isArray(s) || s.length < 2) continue;
      pts.push([num(s[0]), num(s[1])]);
      if (num(s[0]) > tmax) tmax = num(s[0]);
      if (num(s[1]) > ymax) ymax = num(s[1]);
    }
    if (!pts.length) return el;
    pts.sort(function (a, b) { return a[0] - b[0]; });
    if (tmax <= 0) tmax = 1;
    if (ymax <= 0) ymax = 1;
    var coords = pts.map(function (p) {
      return (p[0] / tmax * (w - 2) + 1).toFixed(1) + "," + (hgt - 1 - p[1] / ymax * (hgt - 3)).toFixed(1);
    });
    if (coords.length === 1) coords.push((parseFloat(coords[0]) + 1.5).toFixed(1) + "," + coords[0].split(",")[1]);
    el.appendChild(svg("polyline", { points: "1," + (hgt - 1) + " " + coords.join(" ") + " " + coords[coords.length - 1].split(",")[0] + "," + (hgt - 1), fill: "rgba(138,63,252,.15)", stroke: "none" }));
    el.appendChild(svg("polyline", { points: coords.join(" "), fill: "none", stroke: "#8a3ffc", "stroke-width": 1.3, "stroke-linejoin": "round" }));
    return el;
  }
  function sparkTitle(samples) {
    if (!Array.isArray(samples) || !samples.length) return "";
    var max = null;
    samples.forEach(function (s) { if (Array.isArray(s) && (max === null || num(s[1]) > num(max[1]))) max = s; });
    return samples.length + " memory samples\nmax " + exact(max ? max[1] : 0) + " MB at " + exact(num(max ? max[0] : 0) / 1e9) + " s";
  }
  function cellSpark(l, P) {
    var td = h("td", { cls: "spark", title: sparkTitle(l.memory_samples) || null });
    if (Array.isArray(l.memory_samples) && l.memory_samples.length) td.appendChild(sparkline(l.memory_samples, P, 84, 17));
    return td;
  }

  // ---------------------------------------------------------- columns
  function columns(P, forFunctions) {
    var cols = [];
    cols.push({ key: "lineno", label: "Line", cls: "num lineno", width: "52px", dir: "asc",
      sort: function (r) { return r.lineno; },
      cell: function (r) { return h("td", { cls: "num lineno", text: String(r.lineno) }); } });
    cols.push({ key: "time", label: "Time", cls: "time", width: "158px", dir: "desc", sort: cpuOf, cell: cellTime,
      help: "Share of all sampled time: Python (dark blue), native (light blue), system (grey)" });
    if (P.hasMemory) {
      cols.push({ key: "peak", label: "Memory peak", cls: "peak", width: "142px", dir: "desc",
        sort: function (r) { return num(r.n_peak_mb); }, cell: cellPeak,
        help: "Peak memory of one execution of the line: Python (purple) and native (light purple) share" });
      cols.push({ key: "avg", label: "Avg", cls: "num avg", width: "70px", dir: "desc",
        sort: function (r) { return num(r.n_avg_mb); }, cell: cellAvg, help: "Average memory per execution" });
      cols.push({ key: "timeline", label: "Timeline", cls: "spark", width: "96px", dir: "desc",
        sort: function (r) { return num(r.n_malloc_mb); }, cell: cellSpark,
        help: "Memory footprint over time when this line allocated (sorts by MB allocated)" });
      cols.push({ key: "copy", label: "Copy MB/s", cls: "num copy", width: "88px", dir: "desc",
        sort: function (r) { return num(r.n_copy_mb_s); }, cell: cellCopy, help: "Memory copy volume" });
    }
    if (P.hasGpu) {
      cols.push({ key: "gpu", label: "GPU", cls: "num gpu", width: "56px", dir: "desc",
        sort: function (r) { return num(r.n_gpu_percent); }, cell: cellGpu });
      cols.push({ key: "gpumem", label: "GPU mem", cls: "num gpumem", width: "84px", dir: "desc",
        sort: function (r) { return num(r.n_gpu_peak_memory_mb); }, cell: cellGpuMem });
    }
    if (P.hasAsync) {
      cols.push({ key: "await", label: "Await", cls: "num await", width: "60px", dir: "desc",
        sort: function (r) { return num(r.n_async_await_percent); }, cell: cellAwait });
    }
    if (!forFunctions) {
      cols.push({ key: "ai", label: "", cls: "ai", width: "44px", cell: null, help: "Optimization proposals (⚡ line, 💥 region)" });
      cols.push({ key: "code", label: "Source", cls: "code", width: "auto", cell: null });
    } else {
      // Same metric columns as the line table above, so that they line up.
      cols.push({ key: "pad", label: "", cls: "ai", width: "44px", cell: function () { return h("td", { cls: "ai" }); } });
      cols.push({ key: "name", label: "Function", cls: "fname", width: "auto", dir: "asc",
        sort: function (r) { return r.line; },
        cell: function (r) { return h("td", { cls: "fname", title: r.line, text: r.line }); } });
    }
    return cols;
  }

  function sortedRows(rows, cols, s) {
    var col = cols.filter(function (c) { return c.key === s.key; })[0];
    if (!col || !col.sort) return rows;
    var sign = s.dir === "asc" ? 1 : -1;
    var keyed = rows.map(function (r, i) { return [col.sort(r), r.lineno, i, r]; });
    keyed.sort(function (a, b) {
      var x = a[0], y = b[0];
      if (x !== y) {
        if (typeof x === "string" || typeof y === "string") return sign * String(x).localeCompare(String(y));
        return sign * (x < y ? -1 : 1);
      }
      return a[1] - b[1] || a[2] - b[2];
    });
    return keyed.map(function (k) { return k[3]; });
  }

  function buildTable(opts) {
    // opts: {id, cols, defaultSort, fill(tbody, rows sorted, sortState)}
    var cols = opts.cols;
    var table = h("table", { cls: "prof " + opts.kind, "data-table": opts.id });
    var cg = h("colgroup");
    cols.forEach(function (c) { cg.appendChild(h("col", { style: c.width && c.width !== "auto" ? { width: c.width } : null })); });
    table.appendChild(cg);
    var tr = h("tr");
    var s = state.sort.get(opts.id) || opts.defaultSort;
    cols.forEach(function (c) {
      var th = h("th", { scope: "col", cls: c.cls + (c.sort ? " sortable" : ""), "data-key": c.key, title: c.help || null });
      if (c.sort) {
        th.setAttribute("aria-sort", s.key === c.key ? (s.dir === "asc" ? "ascending" : "descending") : "none");
        var btn = h("button", { cls: "sortbtn", type: "button" },
          c.cls.indexOf("num") >= 0 ? h("span", { cls: "arrow", text: s.key === c.key ? (s.dir === "asc" ? "▲" : "▼") : "" }) : null,
          c.label,
          c.cls.indexOf("num") < 0 ? h("span", { cls: "arrow", text: s.key === c.key ? (s.dir === "asc" ? " ▲" : " ▼") : "" }) : null);
        th.appendChild(btn);
        th.addEventListener("click", function () {
          var cur = state.sort.get(opts.id) || opts.defaultSort;
          var next = cur.key === c.key ? { key: c.key, dir: cur.dir === "asc" ? "desc" : "asc" } : { key: c.key, dir: c.dir || "desc" };
          state.sort.set(opts.id, next);
          var fresh = buildTable(opts);
          table.replaceWith(fresh);
        });
      } else {
        th.textContent = c.label;
      }
      tr.appendChild(th);
    });
    table.appendChild(h("thead", null, tr));
    var tbody = h("tbody");
    opts.fill(tbody, s);
    table.appendChild(tbody);
    return table;
  }

  // ------------------------------------------------------------- rows
  function lineRow(F, l, cols, P) {
    var tr = h("tr", { "data-lineno": String(l.lineno) });
    var hc = heat(l, P) || (isActive(l) ? "" : "idle");
    if (hc) tr.className = hc;
    for (var i = 0; i < cols.length; i++) {
      var c = cols[i];
      if (c.key === "code") {
        var td = h("td", { cls: "code" });
        if (!l._hl && !F.highlighted) ensureHighlight(F);
        td.appendChild(codeNode(l.line, l._hl, F.highlighted ? state.classes : JS_CLASSES));
        tr.appendChild(td);
      } else if (c.key === "ai") {
        tr.appendChild(aiCell(F, l));
      } else {
        tr.appendChild(c.cell(l, P));
      }
    }
    return tr;
  }
  function ensureHighlight(F) {
    if (F._jsHl) return;
    F._jsHl = true;
    var runs = jsHighlight(F.lines.map(function (l) { return l.line; }));
    F.lines.forEach(function (l, i) { l._hl = runs[i]; });
  }

  var CHUNK_FIRST = 400, CHUNK = 1000;
  function fillLines(F, cols, tbody, s) {
    var P = state.P;
    var rows = state.mode === "all" ? F.lines : F.lines.filter(isActive);
    var byLine = s.key === "lineno";
    if (!(byLine && s.dir === "asc")) rows = sortedRows(rows, cols, s);
    var ncols = cols.length;
    tbody.replaceChildren();
    if (!rows.length) {
      var td = h("td", { colspan: ncols });
      if (F.lines.length) {
        td.appendChild(document.createTextNode("No line reaches 1% of time, memory or GPU. "));
        td.appendChild(h("button", { type: "button", text: "Show all lines", onclick: function () { setMode("all"); } }));
      } else {
        td.textContent = "This file has no line data.";
      }
      tbody.appendChild(h("tr", { cls: "empty" }, td));
      return;
    }
    // Gaps between shown lines (only meaningful in line order).
    var gaps = new Array(rows.length);
    if (byLine) {
      var prev = null, firstLine = F.lines.length ? F.lines[0].lineno : 1;
      for (var g = 0; g < rows.length; g++) {
        gaps[g] = prev === null ? rows[g].lineno - firstLine : Math.abs(rows[g].lineno - prev) - 1;
        prev = rows[g].lineno;
      }
    }
    var pending = [];
    state.ai.forEach(function (res) { if (res.file === F.index) pending.push(res); });
    var pos = 0, gen = (tbody._gen || 0) + 1;
    tbody._gen = gen;
    function chunk(n) {
      var frag = document.createDocumentFragment();
      var end = Math.min(rows.length, pos + n);
      for (; pos < end; pos++) {
        var l = rows[pos], gap = gaps[pos];
        if (gap > 0) frag.appendChild(h("tr", { cls: "gap" }, h("td", { colspan: ncols, text: "⋯ " + gap + (gap === 1 ? " line" : " lines") })));
        frag.appendChild(lineRow(F, l, cols, P));
        for (var k = 0; k < pending.length; k++) if (pending[k].anchor === l.lineno) frag.appendChild(aiRow(pending[k], ncols));
      }
      tbody.appendChild(frag);
    }
    // Large tables: show the first rows at once, append the rest in the background.
    chunk(CHUNK_FIRST);
    if (pos < rows.length) {
      tbody.setAttribute("data-pending", "1");
      var step = function () {
        if (tbody._gen !== gen) return;
        if (!tbody.isConnected) { tbody.removeAttribute("data-pending"); return; }
        chunk(CHUNK);
        if (pos < rows.length) setTimeout(step, 0); else tbody.removeAttribute("data-pending");
      };
      setTimeout(step, 0);
    }
  }

  function fillFunctions(F, cols, tbody, s) {
    var rows = sortedRows(F.functions, cols, s);
    var frag = document.createDocumentFragment();
    for (var i = 0; i < rows.length; i++) {
      var fn = rows[i], tr = h("tr", { "data-lineno": String(fn.lineno) });
      var hc = heat(fn, state.P);
      if (hc) tr.className = hc;
      cols.forEach(function (c) { tr.appendChild(c.cell(fn, state.P)); });
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
  }

  // ------------------------------------------------------------ files
  function fileSection(F) {
    var P = state.P;
    var expanded = state.expanded.has(F.index);
    var parts = splitPath(F.name);
    var head = h("button", { type: "button", cls: "file-head", "aria-expanded": expanded ? "true" : "false", "data-file": String(F.index) },
      h("span", { cls: "chev", text: "▶" }),
      h("span", { cls: "file-name" }, h("span", { cls: "dir", text: parts[0] }), parts[1]),
      h("span", { cls: "file-stats" },
        P.hasMemory && F.malloc ? h("span", { title: "allocated " + exact(F.malloc) + " MB", text: mb(F.malloc) + " allocated" }) : null,
        Object.keys(F.leaks).length ? h("span", { cls: "leakmark", text: Object.keys(F.leaks).length + " possible leak(s)" }) : null,
        h("span", { cls: "cell-bar", title: "file: " + exact(F.percent) + "% of sampled time\nPython " + exact(F.py) + "%\nnative " + exact(F.c) + "%\nsystem " + exact(F.sys) + "%" },
          stackBar([[F.py, "c-py"], [F.c, "c-native"], [F.sys, "c-sys"]]),
          h("span", { cls: "bar-val", text: pct(F.percent || F.py + F.c + F.sys) || "0%" }))));
    var body = h("div", { cls: "file-body", id: "file-body-" + F.index });
    head.setAttribute("aria-controls", body.id);
    var section = h("section", { cls: "file", "data-file": String(F.index) }, head, body);
    function renderBody() {
      var lcols = columns(P, false);
      var lineOpts = { id: "L" + F.index, kind: "lines", cols: lcols, defaultSort: { key: "lineno", dir: "asc" },
        fill: function (tbody, s) { fillLines(F, lcols, tbody, s); } };
      var wrap = h("div", { cls: "tablewrap" }, buildTable(lineOpts));
      wrap.addEventListener("click", function (ev) { onAiActivate(F, ev); });
      wrap.addEventListener("keydown", function (ev) { onAiActivate(F, ev); });
      var kids = [wrap];
      var leakKeys = Object.keys(F.leaks);
      if (leakKeys.length) {
        kids.push(h("div", { cls: "leaks" }, "Possible memory leaks: ", leakKeys.map(function (k, i) {
          var lk = F.leaks[k] || {};
          return (i ? "; " : "") + "line " + k + " (likelihood " + pct(num(lk.likelihood) * 100) + ", " + exact(lk.velocity_mb_s) + " MB/s)";
        }).join("")));
      }
      if (F.functions.length) {
        var fcols = columns(P, true);
        kids.push(h("div", { cls: "subhead", text: "Functions" }));
        kids.push(h("div", { cls: "tablewrap" }, buildTable({ id: "F" + F.index, kind: "functions", cols: fcols,
          defaultSort: { key: "time", dir: "desc" }, fill: function (tbody, s) { fillFunctions(F, fcols, tbody, s); } })));
      }
      body.replaceChildren.apply(body, kids);
    }
    if (expanded) renderBody(); else body.hidden = true;
    head.addEventListener("click", function () {
      var open = head.getAttribute("aria-expanded") !== "true";
      head.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { state.expanded.add(F.index); renderBody(); body.hidden = false; }
      else { state.expanded.delete(F.index); body.hidden = true; body.replaceChildren(); }
    });
    section._render = renderBody;
    return section;
  }

  // ------------------------------------------------------------ header
  function legendItem(cls, label, value) {
    return h("span", null, h("i", { cls: cls }), label + " ", h("b", { text: value }));
  }
  function header() {
    var P = state.P, raw = P.raw;
    var prof = isObj(raw.profiler) ? raw.profiler : {};
    var top = h("div", { cls: "top" });
    var fileInput = h("input", { type: "file", accept: ".json,application/json", cls: "fileinput", id: "load-file" });
    fileInput.addEventListener("change", function () {
      if (fileInput.files && fileInput.files[0]) readFile(fileInput.files[0]);
      fileInput.value = "";
    });
    top.appendChild(h("div", { cls: "top-row" },
      h("span", { cls: "brand" }, h("span", { cls: "mark", text: "▮" }), " Scalene"),
      h("span", { cls: "program", id: "program", text: String(raw.program || "(unknown program)") }),
      h("span", { cls: "spacer" }),
      h("button", { type: "button", id: "load-btn", title: "Open another scalene-profile.json (or drop it on the page)", text: "Open profile…",
        onclick: function () { fileInput.click(); } }),
      fileInput,
      h("button", { type: "button", id: "ai-settings-btn", title: "Model used for optimization proposals", text: "⚙ AI settings",
        onclick: function () { openSettings(); } })));
    var meta = h("div", { cls: "meta" });
    if (Array.isArray(raw.args) && raw.args.length) meta.appendChild(h("span", { text: "args: " + raw.args.map(String).join(" ") }));
    meta.appendChild(h("span", { id: "elapsed", title: exact(raw.elapsed_time_sec) + " s", text: "elapsed " + seconds(raw.elapsed_time_sec) }));
    if (raw.start_time_absolute) {
      var d = new Date(num(raw.start_time_absolute) * 1000);
      if (!isNaN(d.getTime())) meta.appendChild(h("span", { text: "started " + d.toLocaleString() }));
    }
    if (prof.cpu_samples != null) meta.appendChild(h("span", { text: num(prof.cpu_samples) + " CPU samples" + (num(prof.dropped_samples) ? " (" + num(prof.dropped_samples) + " dropped)" : "") }));
    if (num(prof.dropped_code_names) || num(prof.dropped_memory_samples)) {
      meta.appendChild(h("span", { cls: "warn", title: "The profiler's buffers overflowed: some samples were lost, or went to a caller's line because the name of the code they ran was lost.",
        text: "lost: " + num(prof.dropped_code_names) + " code names, " + num(prof.dropped_memory_samples) + " memory samples" }));
    }
    if (prof.cpu_mode) meta.appendChild(h("span", { text: String(prof.cpu_mode) + " time" }));
    if (prof.python) meta.appendChild(h("span", { text: "Python " + String(prof.python) }));
    if (prof.name) meta.appendChild(h("span", { text: String(prof.name) + (prof.version ? " " + String(prof.version) : "") }));
    top.appendChild(meta);

    var t = P.totals, total = t.py + t.c + t.sys;
    var summary = h("div", { cls: "summary" });
    summary.appendChild(h("div", { cls: "block", id: "cpu-summary", title: "Python " + exact(t.py) + "%\nnative " + exact(t.c) + "%\nsystem " + exact(t.sys) + "%" },
      h("div", { cls: "label", text: "Time: Python / native / system" }),
      stackBar([[t.py, "c-py"], [t.c, "c-native"], [t.sys, "c-sys"]], "bigbar"),
      h("div", { cls: "legend" }, legendItem("c-py", "Python", pct(t.py) || "0%"), legendItem("c-native", "native", pct(t.c) || "0%"),
        legendItem("c-sys", "system", pct(t.sys) || "0%"), total < 99.5 && total > 0 ? h("span", { text: "(of all sampled time)" }) : null)));
    if (raw.memory || P.hasMemory) {
      var memBlock = h("div", { cls: "block", id: "mem-summary" },
        h("div", { cls: "label", text: "Max memory" }),
        h("div", { cls: "top-row" },
          h("span", { cls: "big", title: exact(raw.max_footprint_mb) + " MB", text: mb(raw.max_footprint_mb) || "0 MB" }),
          Array.isArray(raw.samples) && raw.samples.length ? h("span", { title: sparkTitle(raw.samples), id: "mem-timeline" }, sparkline(raw.samples, P, 220, 34)) : null),
        h("div", { cls: "legend" },
          legendItem("c-mpy", "Python", pct(num(raw.max_footprint_python_fraction) * 100) || "0%"),
          raw.growth_rate != null ? h("span", { text: "growth rate " + exact(raw.growth_rate) + "%" }) : null,
          num(raw.native_allocations_mb) ? h("span", { text: "native threads " + mb(raw.native_allocations_mb) }) : null));
      summary.appendChild(memBlock);
    }
    if (raw.gpu || P.hasGpu) {
      summary.appendChild(h("div", { cls: "block", id: "gpu-summary" },
        h("div", { cls: "label", text: String(raw.gpu_device || "GPU") }),
        h("div", { cls: "big", title: "GPU " + exact(t.gpu) + "%", text: pct(t.gpu) || "0%" }),
        h("div", { cls: "legend" }, h("span", { text: "peak GPU memory " + (mb(t.gpuPeak) || "0 MB") }))));
    }
    top.appendChild(summary);

    var actBtn = h("button", { type: "button", id: "mode-activity", "aria-pressed": state.mode === "activity" ? "true" : "false",
      title: "Only lines with at least 1% of time, memory, GPU or await", text: "Lines with activity", onclick: function () { setMode("activity"); } });
    var allBtn = h("button", { type: "button", id: "mode-all", "aria-pressed": state.mode === "all" ? "true" : "false",
      text: "All lines", onclick: function () { setMode("all"); } });
    top.appendChild(h("div", { cls: "controls" },
      h("span", { cls: "muted", text: "Show" }), h("span", { cls: "seg", role: "group" }, actBtn, allBtn),
      h("button", { type: "button", id: "expand-all", text: "Expand all", onclick: function () { setAll(true); } }),
      h("button", { type: "button", id: "collapse-all", text: "Collapse all", onclick: function () { setAll(false); } }),
      h("span", { cls: "spacer" }),
      h("span", { cls: "legend" }, legendItem("c-py", "Python", ""), legendItem("c-native", "native", ""), legendItem("c-sys", "system", ""),
        P.hasMemory ? legendItem("c-mpy", "Python memory", "") : null, P.hasMemory ? legendItem("c-mnative", "native memory", "") : null)));
    var why = prof.why_empty;
    if (why) top.appendChild(h("div", { cls: "notice", text: String(why) }));
    if (!P.files.length) top.appendChild(h("div", { cls: "notice", text: "The profile contains no files." }));
    if (state.notice) top.appendChild(h("div", { cls: "notice" + (state.notice.error ? " error" : ""), id: "notice", text: state.notice.text }));
    return top;
  }

  // ------------------------------------------------------------ flame chart
  function parseFrame(s) {
    s = String(s).trim().replace(/;$/, "");
    var line = "", rest = s, m = /^(.*):(\d+)$/.exec(s);
    if (m) { rest = m[1]; line = m[2]; }
    var sp = rest.lastIndexOf(" ");
    return { file: sp >= 0 ? rest.slice(0, sp) : "", fn: sp >= 0 ? rest.slice(sp + 1) : rest, line: line };
  }
  function buildFlameTree(stacks) {
    var root = { key: "", fn: "all", file: "", line: "", value: 0, py: 0, c: 0, children: new Map(), parent: null };
    stacks.forEach(function (e) {
      if (!Array.isArray(e) || e.length < 2) return;
      var frames = Array.isArray(e[0]) ? e[0] : [], st = isObj(e[1]) ? e[1] : {};
      var v = num(st.count) || num(st.cpu_samples);
      if (v <= 0) return;
      var py = num(st.python_time), c = num(st.c_time);
      root.value += v; root.py += py; root.c += c;
      var node = root;
      frames.forEach(function (f) {
        var key = String(f), ch = node.children.get(key);
        if (!ch) {
          var pf = parseFrame(key);
          ch = { key: key, fn: pf.fn, file: pf.file, line: pf.line, value: 0, py: 0, c: 0, children: new Map(), parent: node };
          node.children.set(key, ch);
        }
        ch.value += v; ch.py += py; ch.c += c;
        node = ch;
      });
      // the C functions its native samples were in: one level deeper
      (Array.isArray(st.native_leaves) ? st.native_leaves : []).forEach(function (leaf) {
        if (!isObj(leaf)) return;
        var lv = num(st.count) ? num(leaf.count) : num(leaf.c_time), lc = num(leaf.c_time);
        if (lv <= 0) return;
        var key = "native " + String(leaf.module || "") + " " + String(leaf.symbol || ""), ch = node.children.get(key);
        if (!ch) {
          ch = { key: key, fn: String(leaf.symbol || "<native>"), file: String(leaf.module || ""), line: "", native: true,
                 value: 0, py: 0, c: 0, children: new Map(), parent: node };
          node.children.set(key, ch);
        }
        ch.value += lv; ch.c += lc;
      });
    });
    return root;
  }
  function hashHue(s) {
    var x = 0;
    for (var i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0;
    return Math.abs(x);
  }
  function flameSection() {
    var P = state.P;
    var trees = { cpu: buildFlameTree(P.stacks), memory: buildFlameTree(P.memoryStacks) };
    var kinds = ["cpu", "memory"].filter(function (k) { return trees[k].value > 0; });
    if (!kinds.length) return null;
    var kind = kinds.indexOf(state.flameKind) >= 0 ? state.flameKind : kinds[0];
    var tree = trees[kind], total = tree.value;
    var wrap = h("section", { cls: "file", id: "flame-section" });
    var head = h("div", { cls: "subhead", text: "Stacks (flame chart, outermost call at the top; click to zoom)" });
    var bar = h("div", { cls: "flame-bar" });
    var chart = h("div", { cls: "flame", id: "flame" });
    wrap.appendChild(head);
    if (kinds.length > 1) {
      var switcher = h("div", { cls: "seg flame-kind", role: "group", "aria-label": "What the flame chart weighs" });
      kinds.forEach(function (k) {
        switcher.appendChild(h("button", {
          type: "button", id: "flame-" + k, "aria-pressed": k === kind ? "true" : "false",
          text: k === "cpu" ? "Time" : "Memory allocated",
          onclick: function () {
            if (k === kind) return;
            kind = k; tree = trees[k]; total = tree.value; state.flameKind = k; state.flameRoot = null;
            Array.prototype.forEach.call(switcher.children, function (b) { b.setAttribute("aria-pressed", b.id === "flame-" + k ? "true" : "false"); });
            draw(tree);
          },
        }));
      });
      wrap.appendChild(switcher);
    }
    wrap.appendChild(bar); wrap.appendChild(chart);
    function shareText(n) {
      var share = exact(n.value / total * 100) + "%";
      return kind === "memory" ? share + " of sampled allocation (" + mb(n.value) + ")" : share + " of samples";
    }
    var ROW = 20;
    function draw(zoom) {
      var nodes = [], maxDepth = 0;
      function walk(n, x, w, depth) {
        if (w < 0.002) return;
        nodes.push([n, x, w, depth]);
        if (depth > maxDepth) maxDepth = depth;
        var kids = Array.from(n.children.values()).sort(function (a, b) { return b.value - a.value; });
        var cx = x;
        kids.forEach(function (k) { var kw = w * k.value / n.value; walk(k, cx, kw, depth + 1); cx += kw; });
      }
      walk(zoom, 0, 1, 0);
      var frag = document.createDocumentFragment();
      nodes.forEach(function (it) {
        var n = it[0];
        var ratio = n.py + n.c > 0 ? n.py / (n.py + n.c) : 0.5;
        var hue = n.native ? 32 : kind === "memory" ? 140 : Math.round(190 + 30 * ratio), light = 70 + hashHue(n.fn) % 12;
        var label = n === tree ? "all (" + pct(100) + ")" : n.fn + (n.file ? "  " + splitPath(n.file)[1] + (n.line ? ":" + n.line : "") : "");
        var div = h("div", {
          cls: "fl-node", text: label,
          title: (n === tree ? (kind === "memory" ? "all sampled allocation" : "all samples") : n.fn + "\n" + (n.native ? "native code in " : "") + n.file + (n.line ? ":" + n.line : "")) + "\n" + shareText(n) +
            (n.py + n.c > 0 ? "\nPython " + exact(n.py / total * 100) + "%, native " + exact(n.c / total * 100) + "%" : ""),
          style: { left: (it[1] * 100) + "%", width: (it[2] * 100) + "%", top: (it[3] * ROW) + "px", background: "hsl(" + hue + ",62%," + light + "%)" },
        });
        div.addEventListener("click", function () { state.flameRoot = n; draw(n); });
        frag.appendChild(div);
      });
      chart.style.height = ((maxDepth + 1) * ROW + 2) + "px";
      chart.replaceChildren(frag);
      bar.replaceChildren();
      if (zoom !== tree) {
        bar.appendChild(h("button", { type: "button", text: "↺ Reset zoom", onclick: function () { state.flameRoot = null; draw(tree); } }));
        bar.appendChild(h("span", { cls: "muted", text: zoom.fn + ": " + shareText(zoom) }));
      }
    }
    draw(tree);
    return wrap;
  }

  // ------------------------------------------------------------ AI
  var AI_DEFAULTS = {
    provider: "openai",
    openai: { baseUrl: "https://api.openai.com/v1", model: "gpt-4o-mini", key: "" },
    azure: { endpoint: "", deployment: "", apiVersion: "2024-10-21", key: "" },
    anthropic: { model: "claude-sonnet-4-20250514", key: "" },
    useGpu: false,
  };
  var memorySettings = null; // used when localStorage is unavailable
  function loadAi() {
    var s = null;
    try { s = JSON.parse(window.localStorage.getItem(LS_AI) || "null"); } catch (e) { s = memorySettings; }
    if (!isObj(s)) s = memorySettings || {};
    var out = JSON.parse(JSON.stringify(AI_DEFAULTS));
    if (typeof s.provider === "string") out.provider = s.provider;
    ["openai", "azure", "anthropic"].forEach(function (p) {
      if (isObj(s[p])) for (var k in out[p]) if (typeof s[p][k] === "string") out[p][k] = s[p][k];
    });
    out.useGpu = !!s.useGpu;
    out.saved = !!s.saved;
    return out;
  }
  function saveAi(s) {
    memorySettings = s;
    try { window.localStorage.setItem(LS_AI, JSON.stringify(s)); } catch (e) { /* memory only */ }
  }
  function aiConfigured(s) {
    if (!s.saved) return false; // the user has not chosen a provider yet
    if (s.provider === "anthropic") return !!s.anthropic.key && !!s.anthropic.model;
    if (s.provider === "azure") return !!s.azure.endpoint && !!s.azure.deployment && !!s.azure.key;
    return !!s.openai.baseUrl && !!s.openai.model;
  }
  function aiLabel(s) {
    if (s.provider === "anthropic") return "Anthropic " + s.anthropic.model;
    if (s.provider === "azure") return "Azure " + s.azure.deployment;
    return s.openai.model;
  }

  var settingsDialog = null, pendingAfterSettings = null;
  function field(id, label, type, value, placeholder) {
    var inp = h("input", { id: id, type: type, placeholder: placeholder || null, autocomplete: "off", spellcheck: "false" });
    inp.value = value || "";
    return [h("label", { for: id, text: label }), inp];
  }
  function openSettings(after, message) {
    var s = loadAi();
    if (settingsDialog) settingsDialog.remove();
    var prov = h("select", { id: "ai-provider" },
      h("option", { value: "openai", text: "OpenAI-compatible (OpenAI, Ollama, vLLM, llama.cpp…)" }),
      h("option", { value: "azure", text: "Azure OpenAI" }),
      h("option", { value: "anthropic", text: "Anthropic" }));
    prov.value = s.provider;
    var fsO = h("fieldset", { "data-provider": "openai" },
      field("ai-base-url", "Base URL (…/v1)", "url", s.openai.baseUrl, "https://api.openai.com/v1 or http://localhost:11434/v1"),
      field("ai-model", "Model", "text", s.openai.model, "gpt-4o-mini, llama3.1, …"),
      field("ai-key", "API key (optional for local servers)", "password", s.openai.key));
    var fsZ = h("fieldset", { "data-provider": "azure" },
      field("ai-azure-endpoint", "Endpoint", "url", s.azure.endpoint, "https://NAME.openai.azure.com"),
      field("ai-azure-deployment", "Deployment", "text", s.azure.deployment),
      field("ai-azure-version", "API version", "text", s.azure.apiVersion),
      field("ai-azure-key", "API key", "password", s.azure.key));
    var fsA = h("fieldset", { "data-provider": "anthropic" },
      field("ai-anthropic-model", "Model", "text", s.anthropic.model),
      field("ai-anthropic-key", "API key", "password", s.anthropic.key));
    var gpu = h("input", { type: "checkbox", id: "ai-gpu" });
    gpu.checked = s.useGpu;
    function sync() { [fsO, fsZ, fsA].forEach(function (f) { f.hidden = f.getAttribute("data-provider") !== prov.value; }); }
    prov.addEventListener("change", sync);
    sync();
    function val(id) { return settingsDialog.querySelector("#" + id).value.trim(); }
    var form = h("form", { method: "dialog" },
      h("h2", { text: "Optimization proposals" }),
      message ? h("p", { cls: "notice", text: message }) : null,
      h("label", { for: "ai-provider", text: "Provider" }), prov, fsO, fsZ, fsA,
      h("label", { cls: "check" }, gpu, "Prefer GPU libraries (CuPy) in proposals"),
      h("p", { cls: "hint", text: "Keys are kept only in this browser's localStorage and are sent only to the provider above. " +
        "A proposal sends the selected code and its profile numbers to that provider." }),
      h("div", { cls: "buttons" },
        h("button", { type: "button", id: "ai-forget", text: "Forget keys", onclick: function () {
          var cur = loadAi(); cur.openai.key = ""; cur.azure.key = ""; cur.anthropic.key = ""; saveAi(cur);
          ["ai-key", "ai-azure-key", "ai-anthropic-key"].forEach(function (id) { settingsDialog.querySelector("#" + id).value = ""; });
        } }),
        h("button", { type: "button", id: "ai-cancel", text: "Cancel", onclick: function () { settingsDialog.close(); } }),
        h("button", { type: "submit", id: "ai-save", cls: "primary", text: "Save" })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var n = {
        provider: prov.value,
        openai: { baseUrl: val("ai-base-url"), model: val("ai-model"), key: val("ai-key") },
        azure: { endpoint: val("ai-azure-endpoint"), deployment: val("ai-azure-deployment"), apiVersion: val("ai-azure-version") || AI_DEFAULTS.azure.apiVersion, key: val("ai-azure-key") },
        anthropic: { model: val("ai-anthropic-model"), key: val("ai-anthropic-key") },
        useGpu: gpu.checked,
        saved: true,
      };
      saveAi(n);
      settingsDialog.close();
      var cb = pendingAfterSettings;
      pendingAfterSettings = null;
      if (cb && aiConfigured(n)) cb();
    });
    settingsDialog = h("dialog", { cls: "settings", id: "ai-settings" }, form);
    settingsDialog.addEventListener("close", function () { pendingAfterSettings = null; });
    document.body.appendChild(settingsDialog);
    pendingAfterSettings = after || null;
    if (settingsDialog.showModal) settingsDialog.showModal(); else settingsDialog.setAttribute("open", "");
  }

  function regionFacts(F, start, end) {
    var py = 0, c = 0, sys = 0, util = 0, utilW = 0, peak = 0, peakPy = 0, copy = 0, gpu = 0;
    for (var n = start; n <= end; n++) {
      var l = F.byLine.get(n);
      if (!l) continue;
      var t = cpuOf(l);
      py += cpuPy(l); c += cpuC(l); sys += cpuSys(l);
      if (t > 0) { util += num(l.n_core_utilization) * t; utilW += t; }
      if (num(l.n_peak_mb) > peak) { peak = num(l.n_peak_mb); peakPy = num(l.n_python_fraction); }
      copy += num(l.n_copy_mb_s); gpu += num(l.n_gpu_percent);
    }
    return { py: py, c: c, sys: sys, util: utilW ? util / utilW : 0, peak: peak, peakPy: peakPy, copy: copy, gpu: gpu };
  }
  function f2(v) { return String(Math.round(num(v) * 100) / 100); }
  function buildPrompt(F, start, end, single, settings) {
    var P = state.P, ctxN = single ? 9 : 10;
    var code = [], ctx = [];
    for (var n = Math.max(1, start - ctxN); n < start; n++) { var cl = F.byLine.get(n); if (cl) ctx.push(stripNL(cl.line)); }
    for (var k = start; k <= end; k++) { var ln = F.byLine.get(k); if (ln) code.push(stripNL(ln.line)); }
    var fx = regionFacts(F, start, end);
    var facts = [
      "- Time in Python: " + f2(fx.py) + "% of sampled time",
      "- Time in native code: " + f2(fx.c) + "%",
      "- System time (waiting, I/O, GIL): " + f2(fx.sys) + "%",
      "- Core utilization: " + f2(fx.util * 100) + "%",
    ];
    if (P.hasMemory) {
      facts.push("- Peak memory: " + f2(fx.peak) + " MB (" + f2(fx.peakPy * 100) + "% allocated by Python)");
      facts.push("- Copy volume: " + f2(fx.copy) + " MB/s");
    }
    if (P.hasGpu) facts.push("- GPU utilization: " + f2(fx.gpu) + "%");
    var lib = settings.useGpu ? "CuPy (GPU) or PyTorch on the GPU" : "NumPy";
    var prompt = "Optimize the following Python code so that it runs faster without changing its results.\n\n" +
      (ctx.length ? "Context (the lines just before the code; do not rewrite them):\n" + ctx.join("\n") + "\n\n" : "") +
      "# Start of code\n" + code.join("\n") + "\n# End of code\n\n" +
      "Profiler insights for this code (" + F.name + ", line" + (start === end ? " " + start : "s " + start + "-" + end) + "):\n" +
      facts.join("\n") + "\n\n" +
      "Instructions:\n" +
      "- Reply with Python code only, in a single fenced ```python block; explain with # comments.\n" +
      "- Start with a comment `# Proposed optimization:` that summarizes the change and estimates the speedup.\n" +
      "- Prefer vectorized native libraries (" + lib + ", pandas, scikit-learn, PyTorch) and remove explicit loops or comprehensions where possible.\n" +
      "- Keep the code a drop-in replacement (same names, same indentation); fix obvious errors.\n";
    return { prompt: prompt, code: code.join("\n") };
  }
  var SYSTEM_PROMPT = "You are an expert in Python performance optimization. Answer with Python code only, " +
    "in one fenced code block, using # comments for any explanation.";

  function trimSlash(u) { return String(u).replace(/\/+$/, ""); }
  function readJson(resp) {
    return resp.text().then(function (txt) {
      var j = null;
      try { j = JSON.parse(txt); } catch (e) { j = null; }
      if (!resp.ok) {
        var msg = j && j.error ? (typeof j.error === "string" ? j.error : j.error.message || JSON.stringify(j.error)) : txt.slice(0, 400);
        throw new Error("HTTP " + resp.status + ": " + msg);
      }
      if (j === null) throw new Error("the reply is not JSON: " + txt.slice(0, 200));
      return j;
    });
  }
  function callModel(s, user, signal) {
    if (s.provider === "anthropic") {
      return fetch("https://api.anthropic.com/v1/messages", {
        method: "POST", signal: signal,
        headers: { "content-type": "application/json", "x-api-key": s.anthropic.key, "anthropic-version": "2023-06-01",
          "anthropic-dangerous-direct-browser-access": "true" },
        body: JSON.stringify({ model: s.anthropic.model, max_tokens: 4096, system: SYSTEM_PROMPT, messages: [{ role: "user", content: user }] }),
      }).then(readJson).then(function (j) {
        return (Array.isArray(j.content) ? j.content : []).filter(function (b) { return b && b.type === "text"; })
          .map(function (b) { return String(b.text); }).join("\n");
      });
    }
    var url, headers = { "Content-Type": "application/json" };
    var body = { messages: [{ role: "system", content: SYSTEM_PROMPT }, { role: "user", content: user }] };
    if (s.provider === "azure") {
      url = trimSlash(s.azure.endpoint) + "/openai/deployments/" + encodeURIComponent(s.azure.deployment) +
        "/chat/completions?api-version=" + encodeURIComponent(s.azure.apiVersion);
      headers["api-key"] = s.azure.key;
    } else {
      var base = trimSlash(s.openai.baseUrl);
      url = /\/chat\/completions$/.test(base) ? base : base + "/chat/completions";
      body.model = s.openai.model;
      if (s.openai.key) headers.Authorization = "Bearer " + s.openai.key;
    }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body), signal: signal })
      .then(readJson).then(function (j) {
        var ch = Array.isArray(j.choices) && j.choices[0];
        var content = ch && ch.message ? ch.message.content : null;
        if (Array.isArray(content)) content = content.map(function (p) { return p && p.text ? p.text : ""; }).join("");
        if (typeof content !== "string") throw new Error("unexpected reply: no choices[0].message.content");
        return content;
      });
  }
  function extractCode(text) {
    var m = /```[^\n`]*\n([\s\S]*?)```/.exec(text);
    if (m) return m[1].replace(/\s+$/, "");
    m = /```[^\n`]*\n([\s\S]*)$/.exec(text);
    if (m) return m[1].replace(/\s+$/, "");
    return String(text).trim();
  }

  function aiCell(F, l) {
    var td = h("td", { cls: "ai" });
    if (!stripNL(l.line).trim()) return td;
    // Light-weight "buttons" (spans): thousands of real <button>s make big tables slow to lay out.
    td.appendChild(h("span", { role: "button", tabindex: "0", cls: "aibtn ai-line", title: "Propose an optimization for line " + l.lineno,
      text: "⚡", "aria-label": "Propose an optimization for line " + l.lineno, "data-start": l.lineno, "data-end": l.lineno }));
    var rs = Math.floor(num(l.start_region_line)), re = Math.floor(num(l.end_region_line));
    if (rs > 0 && re > rs) {
      td.appendChild(h("span", { role: "button", tabindex: "0", cls: "aibtn ai-region", title: "Propose an optimization for lines " + rs + "–" + re,
        text: "💥", "aria-label": "Propose an optimization for lines " + rs + " to " + re, "data-start": rs, "data-end": re }));
    }
    return td;
  }
  function onAiActivate(F, ev) {
    if (ev.type === "keydown" && ev.key !== "Enter" && ev.key !== " ") return;
    var t = ev.target;
    if (!t || !t.classList || !t.classList.contains("aibtn")) return;
    ev.preventDefault();
    var tr = t.closest("tr[data-lineno]");
    var start = Number(t.getAttribute("data-start")), end = Number(t.getAttribute("data-end"));
    propose(F, start, end, tr ? Number(tr.getAttribute("data-lineno")) : start, t.classList.contains("ai-line"));
  }
  function aiRow(res, ncols) {
    var box = h("div", { cls: "ai-box" });
    var headEl = h("div", { cls: "ai-head" },
      h("span", { text: (res.start === res.end ? "Line " + res.start : "Lines " + res.start + "–" + res.end) + " · " + res.label }),
      h("span", { cls: "spacer" }));
    box.appendChild(headEl);
    if (res.status === "done") {
      var copyBtn = h("button", { type: "button", cls: "ai-copy", text: "Copy" });
      copyBtn.addEventListener("click", function () {
        copyText(res.code).then(function () { copyBtn.textContent = "Copied"; }, function () { copyBtn.textContent = "Copy failed"; });
      });
      headEl.appendChild(copyBtn);
      var pre = h("pre", { cls: "ai-code" });
      var lines = res.code.split("\n"), runs = jsHighlight(lines);
      lines.forEach(function (ln, i) { pre.appendChild(codeNode(ln, runs[i], JS_CLASSES)); if (i < lines.length - 1) pre.appendChild(document.createTextNode("\n")); });
      box.appendChild(pre);
    } else if (res.status === "error") {
      box.appendChild(h("div", { cls: "ai-status error", text: "The request failed: " + res.error }));
    } else {
      box.appendChild(h("div", { cls: "ai-status", text: "Asking " + res.label + "…" }));
    }
    headEl.appendChild(h("button", { type: "button", cls: "ai-close", title: "Close", text: "✕", onclick: function () {
      if (res.controller && res.status === "pending") res.controller.abort();
      state.ai.delete(res.id);
      tr.remove();
    } }));
    var tr = h("tr", { cls: "ai-row", "data-ai": res.id }, h("td", { colspan: ncols }, box));
    res.row = tr;
    return tr;
  }
  function refreshAiRow(res) {
    if (!res.row || !res.row.parentNode) return;
    var ncols = res.row.firstChild.colSpan;
    res.row.replaceWith(aiRow(res, ncols));
  }
  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var ta = h("textarea", { style: { position: "fixed", left: "-9999px" } });
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      ta.remove();
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }
  function propose(F, start, end, anchor, single) {
    var s = loadAi();
    if (!aiConfigured(s)) {
      openSettings(function () { propose(F, start, end, anchor, single); }, "Choose a model for optimization proposals first.");
      return;
    }
    var id = F.index + ":" + start + ":" + end;
    var old = state.ai.get(id);
    if (old && old.controller && old.status === "pending") old.controller.abort();
    if (old && old.row) old.row.remove();
    var built = buildPrompt(F, start, end, single, s);
    var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
    var res = { id: id, file: F.index, start: start, end: end, anchor: anchor, status: "pending", label: aiLabel(s), controller: controller };
    state.ai.set(id, res);
    var row = document.querySelector('section.file[data-file="' + F.index + '"] table.lines tr[data-lineno="' + anchor + '"]');
    if (row) {
      var ncols = row.children.length;
      row.after(aiRow(res, ncols));
    }
    var timer = controller ? setTimeout(function () { controller.abort(); }, 180000) : null;
    callModel(s, built.prompt, controller ? controller.signal : undefined).then(function (text) {
      res.status = "done"; res.code = extractCode(text);
    }, function (err) {
      res.status = "error"; res.error = err && err.name === "AbortError" ? "cancelled or timed out" : String(err && err.message || err);
    }).then(function () {
      if (timer) clearTimeout(timer);
      if (state.ai.get(id) === res) refreshAiRow(res);
    });
  }

  // ------------------------------------------------------------ page
  function setMode(mode) {
    state.mode = mode;
    try { window.localStorage.setItem(LS_MODE, mode); } catch (e) { /* ignore */ }
    document.querySelectorAll("#mode-activity, #mode-all").forEach(function (b) {
      b.setAttribute("aria-pressed", b.id === "mode-" + mode ? "true" : "false");
    });
    document.querySelectorAll("section.file[data-file]").forEach(function (sec) {
      if (sec._render && state.expanded.has(Number(sec.getAttribute("data-file")))) sec._render();
    });
  }
  function setAll(open) {
    document.querySelectorAll("section.file[data-file] > .file-head").forEach(function (btn) {
      if ((btn.getAttribute("aria-expanded") === "true") !== open) btn.click();
    });
  }
  function render() {
    var app = document.getElementById("app");
    var P = state.P;
    var kids = [header()];
    var filesWrap = h("div", { id: "files" });
    P.files.forEach(function (F) { filesWrap.appendChild(fileSection(F)); });
    kids.push(filesWrap);
    var fl = flameSection();
    if (fl) kids.push(fl);
    kids.push(h("div", { cls: "dropzone", id: "dropzone", text: "Drop a scalene profile (.json) to open it" }));
    app.replaceChildren.apply(app, kids);
    var prog = String(P.raw.program || "");
    document.title = "Scalene profile" + (prog ? ": " + splitPath(prog)[1] : "");
  }
  function defaultExpanded(P) {
    var set = new Set();
    P.files.forEach(function (F, i) { if (i === 0 || F.percent >= 10 || F.py + F.c + F.sys >= 10) set.add(F.index); });
    return set;
  }
  function show(P, notice) {
    state.P = P;
    state.sort = new Map();
    state.ai = new Map();
    state.flameRoot = null;
    state.expanded = defaultExpanded(P);
    state.notice = notice || null;
    render();
    window.__scaleneViewerReady = true;
  }
  function loadText(text, name) {
    var P;
    try {
      P = normalize(JSON.parse(text), null);
    } catch (e) {
      state.notice = { error: true, text: "Could not open " + name + ": " + (e && e.message ? e.message : String(e)) };
      render();
      return false;
    }
    state.classes = JS_CLASSES;
    show(P, { text: "Opened " + name });
    return true;
  }
  function readFile(file) {
    var reader = new FileReader();
    reader.onload = function () { loadText(String(reader.result), file.name); };
    reader.onerror = function () { state.notice = { error: true, text: "Could not read " + file.name }; render(); };
    reader.readAsText(file);
  }
  function setupDrop() {
    var depth = 0;
    function zone() { return document.getElementById("dropzone"); }
    function hasFiles(ev) { return ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types || [], "Files") >= 0; }
    window.addEventListener("dragenter", function (ev) { if (!hasFiles(ev)) return; depth++; ev.preventDefault(); var z = zone(); if (z) z.classList.add("on"); });
    window.addEventListener("dragover", function (ev) { if (!hasFiles(ev)) return; ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; });
    window.addEventListener("dragleave", function () { depth = Math.max(0, depth - 1); var z = zone(); if (z && !depth) z.classList.remove("on"); });
    window.addEventListener("drop", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault(); depth = 0;
      var z = zone(); if (z) z.classList.remove("on");
      var f = ev.dataTransfer.files && ev.dataTransfer.files[0];
      if (f) readFile(f);
    });
  }

  function init() {
    var raw = null, hl = null;
    try {
      var pe = document.getElementById("scalene-profile");
      raw = JSON.parse(pe ? pe.textContent : "null");
      var he = document.getElementById("scalene-highlight");
      hl = he ? JSON.parse(he.textContent) : null;
    } catch (e) {
      raw = null;
    }
    if (hl && Array.isArray(hl.classes)) state.classes = hl.classes.map(String);
    var P;
    try {
      P = normalize(raw, hl);
    } catch (e) {
      P = normalize({ files: {} }, null);
      state.P = P;
      show(P, { error: true, text: "No profile data in this page: " + (e && e.message ? e.message : String(e)) + ". Open a profile file." });
      setupDrop();
      return;
    }
    show(P);
    setupDrop();
  }

  // Small API for tests and for the console.
  window.scaleneViewer = {
    loadProfileText: loadText,
    setMode: setMode,
    extractCode: extractCode,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
