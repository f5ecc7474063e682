// My usage, keys and security: the usage chart, copy buttons and confirmation dialogs.
"use strict";

(function () {
  function drawUsage() {
    const element = document.getElementById("usage-chart");
    if (!element || !window.echarts || element.dataset.drawn) return;
    element.dataset.drawn = "yes";
    const series = JSON.parse(element.dataset.series);
    window.tokengateChart(element, {
      grid: { left: 56, right: 16, top: 24, bottom: 40 },
      tooltip: { trigger: "axis", valueFormatter: (value) => Number(value).toLocaleString() },
      xAxis: { type: "category", data: series.labels, boundaryGap: false },
      yAxis: { type: "value", axisLabel: { formatter: (value) => Number(value).toLocaleString() } },
      dataZoom: [{ type: "inside" }],
      series: [{
        name: element.dataset.seriesName,
        type: "line",
        data: series.tokens,
        smooth: true,
        showSymbol: false,
        areaStyle: { opacity: 0.15 },
        lineStyle: { color: "#1d4ed8" },
        itemStyle: { color: "#1d4ed8" },
      }],
    });
  }

  async function copy(button) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const items = Array.from(source.querySelectorAll("li")).map((li) => li.textContent);
    const text = source.tagName === "INPUT" ? source.value : items.join("\n") || source.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      if (source.select) source.select();
      return;
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-copy], [data-dialog], [data-close], [data-chart-png]");
    if (!target) return;
    if (target.dataset.copy) copy(target);
    else if (target.dataset.dialog) document.getElementById(target.dataset.dialog).showModal();
    else if (target.hasAttribute("data-close")) target.closest("dialog").close();
    else if (target.dataset.chartPng) {
      window.tokengateChartPng(document.getElementById(target.dataset.chartPng), target.dataset.pngName);
    }
  });

  // echarts loads with "defer" like this file: draw once everything has run
  window.addEventListener("load", drawUsage);
  document.addEventListener("htmx:afterSettle", drawUsage);
})();
