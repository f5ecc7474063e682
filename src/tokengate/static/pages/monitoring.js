// 사용량 모니터링: draws the usage-over-time line chart and the team/user comparison charts
// from the page's JSON endpoints. Every word and formatted number comes from the server in the
// viewer's language; this file only draws, and builds the data tables beside the charts.
"use strict";

(function () {
  // Okabe–Ito colours: told apart with the common colour-vision deficiencies
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"];
  const MANY_POINTS = 60;

  function part(root, role) {
    return root.querySelector('[data-role="' + role + '"]');
  }

  function show(element, visible) {
    if (element) element.hidden = !visible;
  }

  function numberTag() {
    return document.body.dataset.locale === "ko" ? "ko-KR" : "en-US";
  }

  function compact(value) {
    return new Intl.NumberFormat(numberTag(), { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }

  function money(value, currency) {
    return new Intl.NumberFormat(numberTag(), { style: "currency", currency: currency, notation: "compact", maximumFractionDigits: 2 }).format(value);
  }

  // The form's fields as query parameters, empty ones left out ("custom" is no preset).
  function params(form) {
    const found = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (value === "" || (name === "preset" && value === "custom")) continue;
      found.append(name, value);
    }
    return found;
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    let body = null;
    try {
      body = await response.json();
    } catch (ignored) {
      body = null;
    }
    if (!response.ok || body === null) {
      throw new Error((body && body.error && body.error.message) || "");
    }
    return body;
  }

  // Draw into a chart element: its chart is reused (a hidden chart is kept, not disposed, so
  // the resize observer tokengateChart set up keeps a live chart to resize).
  function paint(chartElement, option) {
    const existing = window.echarts.getInstanceByDom(chartElement);
    if (!existing) return window.tokengateChart(chartElement, option);
    existing.off("click");
    existing.setOption(option, true);
    existing.resize();
    return existing;
  }

  function cell(row, text, header, numeric) {
    const element = document.createElement(header ? "th" : "td");
    element.textContent = text;
    if (header) element.scope = header;
    if (numeric) element.className = "num";
    row.appendChild(element);
    return element;
  }

  // Fetch one endpoint for one or more panels (each with its loading, error, empty and chart
  // parts); an older answer arriving after a newer request is dropped.
  async function load(panels, url, draw) {
    const first = panels[0];
    const ticket = (first.tgTicket = (first.tgTicket || 0) + 1);
    panels.forEach((panel) => {
      show(part(panel, "loading"), true);
      show(part(panel, "error"), false);
      panel.setAttribute("aria-busy", "true");
    });
    try {
      const data = await getJSON(url);
      if (ticket === first.tgTicket) draw(data);
    } catch (error) {
      if (ticket !== first.tgTicket) return;
      panels.forEach((panel) => {
        const box = part(panel, "error");
        box.textContent = error.message || panel.closest(".monitoring-chart").dataset.textError;
        show(box, true);
        show(part(panel, "empty"), false);
        show(part(panel, "chart"), false);
      });
    } finally {
      if (ticket === first.tgTicket) {
        panels.forEach((panel) => {
          show(part(panel, "loading"), false);
          panel.removeAttribute("aria-busy");
        });
      }
    }
  }

  /* usage over time */

  function initSeries(section) {
    if (section.dataset.ready) return;
    section.dataset.ready = "yes";
    const form = part(section, "series-form");
    const preset = form.elements.preset;
    const syncDates = () => {
      const custom = preset.value === "custom";
      section.querySelectorAll('[data-role="dates"]').forEach((field) => {
        field.hidden = !custom;
        field.querySelector("input").disabled = !custom;
      });
    };
    preset.addEventListener("change", syncDates);
    syncDates();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      loadSeries(section);
    });
    form.addEventListener("change", (event) => {
      // dates wait for the button: the first of the two alone is no period yet
      if (event.target.type === "date" || (event.target === preset && preset.value === "custom")) return;
      loadSeries(section);
    });
    part(section, "everyone").addEventListener("click", () => narrow(section, null, null, ""));
    const png = part(section, "png");
    png.addEventListener("click", () => window.tokengateChartPng(part(section, "chart"), png.dataset.name));
    loadSeries(section);
  }

  function loadSeries(section) {
    const form = part(section, "series-form");
    load([section], section.dataset.endpoint + "?" + params(form), (data) => drawSeries(section, data));
  }

  function narrow(section, by, id, name) {
    const form = part(section, "series-form");
    form.elements.team_id.value = by === "team" ? id : "";
    form.elements.user_id.value = by === "user" ? id : "";
    part(section, "narrowed-name").textContent = name;
    show(part(section, "narrowed"), Boolean(by));
    loadSeries(section);
  }

  function drawSeries(section, data) {
    const chart = part(section, "chart");
    const texts = data.texts;
    const previous = data.previous;
    const empty = data.total === 0 && (!previous || previous.total === 0) && data.markers.length === 0;
    const note = part(section, "note");
    note.textContent = data.note || "";
    show(note, Boolean(data.note));
    let summary = texts.title + " · " + texts.total + ": " + data.total_display;
    if (previous) summary += " · " + texts.previous + ": " + previous.total_display;
    part(section, "summary").textContent = summary;
    drawMarkers(section, data);
    drawSeriesTable(section, data);
    show(part(section, "empty"), empty);
    show(chart, !empty);
    if (!empty) paint(chart, seriesOption(chart, data, summary));
  }

  function seriesOption(chart, data, summary) {
    const texts = data.texts;
    const scale = data.unit === "micros" ? 1e-6 : 1;
    const few = data.points.length <= MANY_POINTS;
    const lines = [
      {
        name: texts.current,
        type: "line",
        data: data.points.map((p) => p.value * scale),
        symbol: "circle",
        showSymbol: few,
        smooth: false,
        connectNulls: false,
        lineStyle: { width: 2 },
        areaStyle: { opacity: 0.08 },
        markLine: markLines(data),
      },
    ];
    if (data.previous) {
      lines.push({
        name: texts.previous,
        type: "line",
        data: data.previous.points.map((p) => p.value * scale),
        symbol: "triangle",
        showSymbol: few,
        smooth: false,
        lineStyle: { width: 2, type: "dashed" },
      });
    }
    const axisLabel = (value) => (data.unit === "micros" ? money(value, data.currency) : compact(value));
    return {
      color: PALETTE,
      aria: { enabled: true, label: { description: chart.getAttribute("aria-label") + ". " + summary } },
      tooltip: { trigger: "axis", formatter: (items) => seriesTooltip(data, items) },
      legend: { top: 0, data: lines.map((l) => l.name) },
      grid: { left: 16, right: 32, top: 48, bottom: 64, containLabel: true },
      xAxis: { type: "category", data: data.points.map((p) => p.label), name: texts.x_axis, nameLocation: "middle", nameGap: 30, boundaryGap: false },
      yAxis: { type: "value", name: texts.y_axis, axisLabel: { formatter: axisLabel } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 6 }],
      series: lines,
    };
  }

  function markLines(data) {
    const byIndex = new Map();
    for (const marker of data.markers) {
      if (marker.index === null) continue;
      const texts = byIndex.get(marker.index) || [];
      texts.push(marker.text);
      byIndex.set(marker.index, texts);
    }
    return {
      symbol: "none",
      silent: true,
      lineStyle: { color: "#57606a", type: "dotted", width: 1.5 },
      label: { position: "insideEndTop", color: "#1b1f24", fontSize: 11 },
      data: Array.from(byIndex, ([index, texts]) => ({
        xAxis: index,
        label: { formatter: texts.length > 1 ? texts[0] + " +" + (texts.length - 1) : texts[0] },
      })),
    };
  }

  function seriesTooltip(data, items) {
    const lines = [];
    for (const item of items) {
      const block = item.seriesIndex === 0 ? data : data.previous;
      const point = block && block.points[item.dataIndex];
      if (!point) continue;
      lines.push(item.marker + " " + escape(item.seriesName) + " · " + escape(point.label) + ": <b>" + escape(point.display) + "</b>");
    }
    for (const marker of data.markers) {
      if (marker.index === (items[0] && items[0].dataIndex)) lines.push("▲ " + escape(marker.text) + " " + escape(marker.detail));
    }
    return lines.join("<br>");
  }

  function escape(text) {
    const holder = document.createElement("span");
    holder.textContent = text == null ? "" : String(text);
    return holder.innerHTML;
  }

  function drawMarkers(section, data) {
    const list = part(section, "markers");
    list.replaceChildren();
    for (const marker of data.markers) {
      const item = document.createElement("li");
      item.dataset.action = marker.action;
      const time = document.createElement("time");
      time.dateTime = marker.at;
      time.textContent = marker.when;
      const what = document.createElement("span");
      what.textContent = marker.text;
      const detail = document.createElement("span");
      detail.className = "hint";
      detail.textContent = marker.detail;
      item.append(time, what, detail);
      list.appendChild(item);
    }
    show(part(section, "markers-box"), data.markers.length > 0);
  }

  function drawSeriesTable(section, data) {
    const table = part(section, "table");
    const texts = data.texts;
    const previous = data.previous;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    cell(head, texts.x_axis, "col");
    cell(head, texts.y_axis + " · " + texts.current, "col").className = "num";
    if (previous) {
      cell(head, texts.x_axis + " · " + texts.previous, "col");
      cell(head, texts.y_axis + " · " + texts.previous, "col").className = "num";
    }
    const body = table.createTBody();
    data.points.forEach((point, index) => {
      const row = body.insertRow();
      row.dataset.start = point.start;
      row.dataset.value = point.value;
      cell(row, point.label, "row");
      cell(row, point.display, null, true);
      if (previous) {
        cell(row, previous.points[index].label);
        cell(row, previous.points[index].display, null, true);
      }
    });
    const foot = table.createTFoot().insertRow();
    cell(foot, texts.total, "row");
    cell(foot, data.total_display, null, true);
    if (previous) {
      cell(foot, "");
      cell(foot, previous.total_display, null, true);
    }
  }

  /* teams and users compared */

  function initCompare(section) {
    if (section.dataset.ready) return;
    section.dataset.ready = "yes";
    const form = part(section, "compare-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      loadCompare(section);
    });
    form.addEventListener("change", () => loadCompare(section));
    section.querySelectorAll(".chart-box").forEach((box) => {
      const png = part(box, "png");
      png.addEventListener("click", () => window.tokengateChartPng(part(box, "chart"), png.dataset.name));
    });
    loadCompare(section);
  }

  function loadCompare(section) {
    const query = params(part(section, "compare-form"));
    for (const by of ["team", "user"]) {
      const boxes = Array.from(section.querySelectorAll('.chart-box[data-by="' + by + '"]'));
      const url = section.dataset.endpoint + "?by=" + by + "&" + query;
      boxes.forEach((box) => {
        const csv = part(box, "csv");
        if (csv) csv.href = "/monitoring/compare.csv?by=" + by + "&" + query;
      });
      // one request per grouping; every chart of it draws from the answer
      load(boxes, url, (data) => {
        boxes.forEach((box) => drawComparison(section, box, data));
        drawCompareTable(section, data);
      });
    }
  }

  function compareRows(data) {
    const rows = data.rows.map((row) => ({ ...row }));
    if (data.others) rows.push({ ...data.others, id: null, label: data.others.label });
    return rows;
  }

  function drawComparison(section, box, data) {
    const chart = part(box, "chart");
    const rows = compareRows(data);
    const empty = rows.length === 0 || data.total.tokens === 0;
    show(part(box, "empty"), empty);
    show(chart, !empty);
    if (empty) return;
    const option = box.dataset.kind === "pie" ? pieOption(chart, data, rows) : barOption(chart, data, rows);
    if (box.dataset.kind !== "pie") chart.style.height = Math.max(320, rows.length * 28 + 80) + "px";
    const drawn = paint(chart, option);
    drawn.on("click", (event) => {
      const row = rows[event.dataIndex];
      if (row && row.id) openDetail(section, data.by, row.id);
    });
  }

  function itemTooltip(data, rows) {
    return (item) => {
      const row = rows[item.dataIndex];
      const texts = data.texts;
      return [
        "<b>" + escape(row.label) + "</b>",
        escape(texts.tokens) + ": " + escape(row.display.tokens),
        escape(texts.requests) + ": " + escape(row.display.requests),
        escape(texts.cost) + ": " + escape(row.display.cost),
        escape(texts.share) + ": " + escape(row.display.share),
      ].join("<br>");
    };
  }

  function barOption(chart, data, rows) {
    return {
      color: PALETTE,
      aria: { enabled: true, decal: { show: true }, label: { description: chart.getAttribute("aria-label") + " · " + data.period_label } },
      tooltip: { trigger: "item", formatter: itemTooltip(data, rows) },
      grid: { left: 16, right: 48, top: 16, bottom: 32, containLabel: true },
      xAxis: { type: "value", name: data.texts.tokens, nameLocation: "middle", nameGap: 24, axisLabel: { formatter: compact } },
      yAxis: { type: "category", inverse: true, data: rows.map((r) => r.label), axisLabel: { width: 140, overflow: "truncate" } },
      series: [
        {
          type: "bar",
          name: data.texts.tokens,
          cursor: "pointer",
          data: rows.map((r, i) => ({ value: r.tokens, itemStyle: { color: PALETTE[i % PALETTE.length] } })),
          label: { show: true, position: "right", formatter: (item) => rows[item.dataIndex].display.share },
        },
      ],
    };
  }

  function pieOption(chart, data, rows) {
    return {
      color: PALETTE,
      aria: { enabled: true, decal: { show: true }, label: { description: chart.getAttribute("aria-label") + " · " + data.period_label } },
      tooltip: { trigger: "item", formatter: itemTooltip(data, rows) },
      legend: { type: "scroll", bottom: 0 },
      series: [
        {
          type: "pie",
          name: data.texts.share,
          radius: ["35%", "65%"],
          cursor: "pointer",
          // small slices keep their colour, legend entry and tooltip, without a label to collide
          minShowLabelAngle: 15,
          labelLayout: { hideOverlap: true },
          data: rows.map((r) => ({ name: r.label, value: r.tokens })),
          label: { formatter: (item) => item.name + "\n" + rows[item.dataIndex].display.share },
        },
      ],
    };
  }

  function drawCompareTable(section, data) {
    const table = section.querySelector('table[data-by="' + data.by + '"]');
    const texts = data.texts;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    cell(head, texts.name, "col");
    for (const key of ["tokens", "requests", "cost", "share"]) cell(head, texts[key], "col").className = "num";
    cell(head, "", "col");
    const body = table.createTBody();
    for (const row of compareRows(data)) {
      const line = body.insertRow();
      line.dataset.name = row.label;
      cell(line, row.label, "row");
      for (const key of ["tokens", "requests", "cost", "share"]) cell(line, row.display[key], null, true);
      const actions = cell(line, "");
      if (row.id) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary small";
        button.textContent = texts.details;
        button.addEventListener("click", () => openDetail(section, data.by, row.id));
        actions.appendChild(button);
      }
    }
  }

  function openDetail(section, by, id) {
    const query = params(part(section, "compare-form"));
    query.set("by", by);
    query.set("id", id);
    window.htmx.ajax("GET", "/monitoring/detail?" + query, { target: "#monitoring-detail", swap: "innerHTML" });
  }

  /* the detail panel's buttons, wherever it is */

  document.addEventListener("click", (event) => {
    const close = event.target.closest('[data-role="close-detail"]');
    if (close) {
      document.getElementById("monitoring-detail").replaceChildren();
      return;
    }
    const narrowing = event.target.closest('[data-role="narrow"]');
    if (narrowing) {
      const section = document.getElementById("series");
      narrow(section, narrowing.dataset.by, narrowing.dataset.id, narrowing.dataset.name);
      section.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "monitoring-detail") {
      const panel = event.detail.target.querySelector(".detail");
      if (panel) {
        panel.tabIndex = -1;
        panel.focus();
      }
    }
  });

  function init() {
    if (!window.echarts) return;
    document.querySelectorAll('section[data-testid="series"]').forEach(initSeries);
    document.querySelectorAll('section[data-testid="compare"]').forEach(initCompare);
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
