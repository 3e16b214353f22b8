// The supervisor's analytics dashboard (docs/ANALYTICS.md): GET /console/api/analytics, one
// Chart.js time series per figure (vendored: /static/vendor/chartjs), tables with CSV links.
// Every string from the server is shown with textContent.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var charts = [];

  function iso(d) { return d.toISOString().slice(0, 10); }
  function setDays(n) {
    var to = new Date();
    var from = new Date(to.getTime() - (n - 1) * 86400000);
    $("from").value = iso(from); $("to").value = iso(to);
  }
  function query() { return "from=" + encodeURIComponent($("from").value) + "&to=" + encodeURIComponent($("to").value); }
  function pct(x) { return x == null ? "–" : (Math.round(x * 1000) / 10) + " %"; }
  function num(x) { return x == null ? "–" : String(x); }
  function secs(x) {
    if (x == null) return "–";
    if (x < 90) return Math.round(x) + " s";
    if (x < 5400) return (Math.round(x / 6) / 10) + " min";
    return (Math.round(x / 360) / 10) + " h";
  }
  function showError(msg) { $("error").textContent = msg || ""; $("error").hidden = !msg; }

  function card(label, value, sub) {
    var el = document.createElement("div");
    el.className = "an-card";
    var l = document.createElement("div"); l.className = "label"; l.textContent = label;
    var v = document.createElement("div"); v.className = "value"; v.textContent = value;
    el.appendChild(l); el.appendChild(v);
    if (sub) { var s = document.createElement("div"); s.className = "sub"; s.textContent = sub; el.appendChild(s); }
    return el;
  }

  function renderCards(f) {
    var c = $("cards");
    c.textContent = "";
    c.appendChild(card("Conversations", num(f.conversations)));
    c.appendChild(card("Involved", num(f.involved), "the bot answered a question"));
    c.appendChild(card("Bot resolution", pct(f.bot_resolution_rate),
      f.resolved_confirmed + " confirmed · " + f.resolved_assumed + " assumed"));
    c.appendChild(card("Handoff rate", pct(f.handoff_rate), f.handed_off + " handed off"));
    c.appendChild(card("CSAT", f.csat_average == null ? "–" : f.csat_average.toFixed(2) + " / 5", f.csat_count + " ratings"));
    c.appendChild(card("First response (median)", secs(f.first_response_seconds_p50), "agents, after a handoff"));
    c.appendChild(card("Handling time (median)", secs(f.handling_seconds_p50), "joined → closed"));
    c.appendChild(card("Unanswered", num(f.unanswered_total), "fallbacks and “not really”"));
    if (f.pending) c.appendChild(card("Pending", num(f.pending), "answered < 24 h ago"));
  }

  var SERIES = [
    { title: "Involved conversations", lines: [["involved", "involved"], ["conversations", "all conversations"]] },
    { title: "Bot resolution", lines: [["resolved_confirmed", "confirmed"], ["resolved_assumed", "assumed"]], stacked: true },
    { title: "Bot resolution rate", lines: [["bot_resolution_rate", "rate"]], rate: true },
    { title: "Handoffs", lines: [["handed_off", "handed off"]] },
    { title: "Handoff rate", lines: [["handoff_rate", "rate"]], rate: true },
    { title: "CSAT average", lines: [["csat_average", "average (1–5)"]], max: 5 },
    { title: "Agent first response, median (s)", lines: [["first_response_seconds_p50", "seconds"]] },
    { title: "Agent handling time, median (s)", lines: [["handling_seconds_p50", "seconds"]] },
    { title: "Unanswered", lines: [["unanswered", "fallbacks + not really"]] },
  ];
  var COLORS = ["#1d4ed8", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed"];

  function renderCharts(f) {
    charts.forEach(function (ch) { ch.destroy(); });
    charts = [];
    var host = $("charts");
    host.textContent = "";
    var labels = f.series.map(function (s) { return s.day; });
    SERIES.forEach(function (spec) {
      var box = document.createElement("div"); box.className = "an-chart";
      var h = document.createElement("h3"); h.textContent = spec.title; box.appendChild(h);
      var inner = document.createElement("div"); inner.className = "box";
      var canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", spec.title + " per day");
      inner.appendChild(canvas); box.appendChild(inner); host.appendChild(box);
      if (!window.Chart) return;
      var datasets = spec.lines.map(function (line, i) {
        return { label: line[1], data: f.series.map(function (s) { return s[line[0]]; }), borderColor: COLORS[i],
                 backgroundColor: spec.stacked ? COLORS[i] : COLORS[i] + "33", fill: !!spec.stacked, tension: 0.25,
                 pointRadius: 2, spanGaps: true };
      });
      var y = { beginAtZero: true, stacked: !!spec.stacked };
      if (spec.rate) { y.max = 1; y.ticks = { callback: function (v) { return Math.round(v * 100) + "%"; } }; }
      if (spec.max) y.max = spec.max;
      charts.push(new window.Chart(canvas, {
        type: spec.stacked ? "bar" : "line",
        data: { labels: labels, datasets: datasets },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   scales: { x: { stacked: !!spec.stacked, ticks: { maxTicksLimit: 8 } }, y: y },
                   plugins: { legend: { display: datasets.length > 1, labels: { boxWidth: 10 } } } },
      }));
    });
  }

  function table(id, header, rows, numeric) {
    var t = $(id);
    t.textContent = "";
    var tr = document.createElement("tr");
    header.forEach(function (h, i) {
      var th = document.createElement("th"); th.textContent = h; if (numeric[i]) th.className = "num"; tr.appendChild(th);
    });
    t.appendChild(tr);
    if (!rows.length) {
      var r = document.createElement("tr"); var td = document.createElement("td");
      td.colSpan = header.length; td.className = "an-empty"; td.textContent = "Nothing in this period.";
      r.appendChild(td); t.appendChild(r); return;
    }
    rows.forEach(function (row) {
      var r = document.createElement("tr");
      row.forEach(function (v, i) {
        var td = document.createElement("td"); td.textContent = v == null ? "–" : String(v);
        if (numeric[i]) td.className = "num"; r.appendChild(td);
      });
      t.appendChild(r);
    });
  }

  function renderTables(f) {
    table("t-handoffs", ["Reason", "Count"], Object.keys(f.handoffs).map(function (k) { return [k.replace(/_/g, " "), f.handoffs[k]]; }), [false, true]);
    table("t-agents", ["Agent", "Chats answered"], Object.keys(f.agents).map(function (k) { return [k, f.agents[k]]; }), [false, true]);
    table("t-csat", ["Score", "Ratings"], ["5", "4", "3", "2", "1"].map(function (k) { return [k, f.csat_scores[k]]; }), [false, true]);
    table("t-topics", ["Topic", "Volume", "Resolved", "Resolution rate"], f.topics.map(function (t) {
      return [t.topic, t.volume, t.resolved, pct(t.resolution_rate)];
    }), [false, true, true, true]);
    table("t-unanswered", ["What the buyer wrote", "Times"], f.unanswered.map(function (u) { return [u.text, u.count]; }), [false, true]);
  }

  function load() {
    showError("");
    return fetch("/console/api/analytics?" + query(), { credentials: "same-origin" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) throw new Error("Sign in to the console first (as a supervisor), then reload this page.");
        if (r.status === 403) throw new Error("Only supervisors can see the analytics.");
        if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
        return body;
      });
    }).then(function (f) {
      renderCards(f); renderCharts(f); renderTables(f);
      document.body.setAttribute("data-loaded", "1");
    }).catch(function (err) { showError(err.message); document.body.setAttribute("data-loaded", "error"); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (b) {
    b.addEventListener("click", function () { setDays(Number(b.getAttribute("data-days"))); load(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-csv]"), function (a) {
    a.addEventListener("click", function () {
      a.href = "/console/api/analytics.csv?table=" + a.getAttribute("data-csv") + "&" + query();
    });
  });
  $("period").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  var params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) { $("from").value = params.get("from"); $("to").value = params.get("to"); }
  else setDays(30);
  load();
})();
