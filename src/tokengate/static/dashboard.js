// The dashboard's few shared behaviours; pages add their own with Alpine.js.
"use strict";

// Move the focus to the new content after an htmx page swap, for keyboard and screen readers.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "main") {
    document.getElementById("main").focus();
  }
});

// Draw an ECharts chart from an option object, in the page's language, resizing with the window.
window.tokengateChart = function (element, option) {
  const locale = document.body.dataset.locale === "ko" ? "KO" : "EN";
  const existing = window.echarts.getInstanceByDom(element);
  if (existing) existing.dispose();
  const chart = window.echarts.init(element, null, { locale: locale, renderer: "canvas" });
  chart.setOption(option);
  new ResizeObserver(() => chart.resize()).observe(element);
  return chart;
};

// Save a chart as a PNG file.
window.tokengateChartPng = function (element, name) {
  const chart = window.echarts.getInstanceByDom(element);
  if (!chart) return;
  const link = document.createElement("a");
  link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
  link.download = name + ".png";
  document.body.appendChild(link);
  link.click();
  link.remove();
};

// A list fed by server-sent events: each "request" event carries one <li>, newest on top.
function followStream(list) {
  if (list.dataset.following) return;
  list.dataset.following = "yes";
  const source = new EventSource(list.dataset.source);
  source.addEventListener("request", (event) => {
    const template = document.createElement("template");
    template.innerHTML = event.data.trim();
    list.prepend(template.content);
    const empty = document.getElementById("live-empty");
    if (empty) empty.remove();
    while (list.children.length > 50) list.lastElementChild.remove();
  });
  // stop when the list leaves the page (htmx navigation)
  const observer = new MutationObserver(() => {
    if (!document.body.contains(list)) { source.close(); observer.disconnect(); }
  });
  observer.observe(document.body, { childList: true, subtree: true });
}

function followStreams() {
  document.querySelectorAll("[data-source]").forEach(followStream);
}
document.addEventListener("DOMContentLoaded", followStreams);
document.addEventListener("htmx:afterSettle", followStreams);
