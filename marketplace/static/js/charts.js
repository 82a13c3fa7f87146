// Charts declared in the page as data, drawn with the vendored Apache ECharts (load it first).
//
//   <div class="chart" data-chart='{{ spec|tojson }}' aria-hidden="true"></div>
//
// spec = {
//   categories: ["12月1日", …],        // the x axis (or the y axis when horizontal: true)
//   time: false,                       // true: a time axis, each series' data is [[ISO instant, value], …]
//   horizontal: false,                 // bars grow to the right, categories down the side
//   axes: [{name, format, min, max}],  // value axes: 0 left (or bottom), 1 right; format money|percent|int
//   series: [{name, type: "bar"|"line", data, stack, axis: 0|1, format, color, step}],
// }
//
// The labels come translated from the server; numbers are formatted in the page's language
// (<html lang>). The page keeps a plain table of the same numbers, so the chart is decoration for
// eyes and is hidden from screen readers; without JavaScript (or ECharts) only the tables show.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;

  const lang = document.documentElement.lang || "zh-CN";
  const zh = lang.toLowerCase().startsWith("zh");
  const PALETTE = ["#2f6b3f", "#f2b544", "#5b8fb9", "#c8412d", "#8bbf6a", "#8e6c8a", "#d88c4a", "#4aa3a0"];
  const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const charts = [];

  const numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const moneyFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const compactFormat = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });

  // A value in a tooltip or on a bar: ¥1,234.50, 96.5%, 1,234.
  function format(kind, value) {
    if (value === null || value === undefined || value === "-") return "—";
    if (Array.isArray(value)) value = value[1];
    if (kind === "money") return "¥" + moneyFormat.format(value);
    if (kind === "percent") return numberFormat.format(Math.round(value * 10) / 10) + "%";
    return numberFormat.format(value);
  }

  // A tick on an axis: short (¥1,200, ¥1.2万 / ¥12K, 80%).
  function tick(kind, value) {
    const text = Math.abs(value) >= 10000 ? compactFormat.format(value) : numberFormat.format(value);
    if (kind === "money") return "¥" + text;
    if (kind === "percent") return text + "%";
    return text;
  }

  function valueAxis(axis, index, horizontal) {
    const kind = axis.format || "int";
    return {
      type: "value",
      name: axis.name || "",
      nameTextStyle: { fontSize: 11, align: horizontal ? "center" : index === 0 ? "left" : "right" },
      nameLocation: horizontal ? "middle" : "end",
      nameGap: horizontal ? 24 : 10,
      min: axis.min,
      max: axis.max,
      minInterval: kind === "int" ? 1 : undefined,
      splitLine: { show: index === 0, lineStyle: { color: "#e1e6df" } },
      axisLabel: { fontSize: 11, hideOverlap: true, formatter: function (v) { return tick(kind, v); } },
    };
  }

  function options(spec) {
    const horizontal = !!spec.horizontal;
    const axes = (spec.axes || [{}]).map(function (axis, i) { return valueAxis(axis, i, horizontal); });
    const many = !spec.time && (spec.categories || []).length > 31;
    const categoryAxis = spec.time
      ? { type: "time", axisLabel: { fontSize: 11, hideOverlap: true } }
      : {
          type: "category",
          data: spec.categories || [],
          inverse: horizontal,  // the first category on top
          axisTick: { alignWithLabel: true },
          axisLabel: { fontSize: 11, hideOverlap: true, width: horizontal ? 88 : undefined, overflow: "truncate" },
        };
    const series = (spec.series || []).map(function (s, i) {
      const kind = s.format || (spec.axes[s.axis || 0] || {}).format || "int";
      const out = {
        name: s.name,
        type: s.type === "line" ? "line" : "bar",
        data: s.data,
        stack: s.stack,
        barMaxWidth: 28,
        emphasis: { focus: "series" },
        tooltip: { valueFormatter: function (v) { return format(kind, v); } },
      };
      if (s.color) out.itemStyle = { color: s.color };
      if (out.type === "line") {
        out.symbolSize = 5;
        out.showSymbol = spec.time || (s.data || []).length <= 14;  // dots only where they can be told apart
        out.connectNulls = false;
        out.step = s.step || false;
        out.lineStyle = { width: 2 };
        out.z = 3;
      }
      if (horizontal) out.xAxisIndex = s.axis || 0;
      else out.yAxisIndex = s.axis || 0;
      if (horizontal) out.label = { show: true, position: "right", fontSize: 11, formatter: function (p) { return format(kind, p.value); } };
      return out;
    });
    const legend = series.length > 1;
    return {
      color: PALETTE,
      animation: !reducedMotion,
      textStyle: { fontFamily: "inherit" },
      grid: { left: 8, right: axes.length > 1 ? 8 : 16, top: legend ? 54 : 28, bottom: many ? 46 : horizontal ? 30 : 8, containLabel: true },
      legend: legend ? { type: "scroll", top: 0, left: "center", itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 12 } } : undefined,
      tooltip: { trigger: horizontal ? "item" : "axis", confine: true, axisPointer: { type: spec.time ? "line" : "shadow" } },
      dataZoom: many ? [{ type: "slider", height: 20, bottom: 6, start: Math.max(0, 100 - 3100 / spec.categories.length), end: 100 }] : undefined,
      xAxis: horizontal ? axes : categoryAxis,
      yAxis: horizontal ? categoryAxis : axes,
      series: series,
    };
  }

  function draw(element) {
    let spec;
    try {
      spec = JSON.parse(element.dataset.chart);
    } catch (error) {
      console.warn("charts.js: data-chart is not JSON", element, error);
      return;
    }
    element.classList.add("chart-on");
    const chart = window.echarts.init(element, null, { locale: zh ? "ZH" : "EN" });
    chart.setOption(options(spec));
    charts.push(chart);
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(element);
  }

  function resizeAll() { charts.forEach(function (chart) { chart.resize(); }); }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("orientationchange", resizeAll);

  document.querySelectorAll("[data-chart]").forEach(draw);
  window.ShanhuoCharts = { options: options, draw: draw };  // for other pages' scripts (and tests)
})();
