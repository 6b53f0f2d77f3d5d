// Report charts (Chart.js from npm, bundled by `npm run build` into /static/build/charts.js).
// The page embeds its figures as JSON in <script id="report-data">; every chart has the same
// figures in a table beside it, so the charts are an enhancement for those who can see them.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Title, Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Title, Tooltip);
Chart.defaults.font.family = "arial, sans-serif";
Chart.defaults.color = "#0b0c0c";

const GREEN = "#00703c";
const RED = "#d4351c";

function shortCycle(label) {
  return label.replace(/^.*cycle /, "Cycle ");
}

function gradeBars(canvas, data) {
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.cycles.map((c) => shortCycle(c.label)),
      datasets: data.grades.map((g) => ({
        label: g.label, backgroundColor: g.colour, data: data.cycles.map((c) => c.counts[g.key]),
      })),
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "Audits" } } },
    },
  });
}

function trendLines(canvas, data) {
  const flat = (value) => data.cycles.map(() => value);
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: data.cycles.map((c) => shortCycle(c.label)),
      datasets: [
        { label: "Good or better %", data: data.cycles.map((c) => c.good_or_better), borderColor: GREEN, backgroundColor: GREEN, spanGaps: true },
        { label: `${data.escalating_label} %`, data: data.cycles.map((c) => c.inadequate), borderColor: RED, backgroundColor: RED, spanGaps: true },
        { label: `Target: Good or better at least ${data.targets.good_or_better}%`, data: flat(data.targets.good_or_better), borderColor: GREEN, borderDash: [6, 4], pointRadius: 0 },
        { label: `Target: ${data.escalating_label} at most ${data.targets.inadequate}%`, data: flat(data.targets.inadequate), borderColor: RED, borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "% of audits graded" } } } },
  });
}

// A grid of coloured cells (heat map, moderation matrix) on two category axes: a scatter chart
// whose invisible points carry the tooltips, and a small plugin that paints each cell and its text.
function grid(canvas, xLabels, yLabels, cells, colour, titles = {}) {
  const paintCells = {
    id: "paintCells",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const width = chartArea.width / xLabels.length;
      const height = chartArea.height / yLabels.length;
      chart.getDatasetMeta(0).data.forEach((point, index) => {
        const cell = cells[index];
        ctx.save();
        ctx.fillStyle = colour(cell);
        ctx.fillRect(point.x - width / 2 + 1, point.y - height / 2 + 1, width - 2, height - 2);
        ctx.fillStyle = cell.dark ? "#ffffff" : "#0b0c0c";
        ctx.font = "13px arial, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(cell.text, point.x, point.y);
        ctx.restore();
      });
    },
  };
  const axis = (labels, title) => ({
    type: "category", labels, offset: true, grid: { display: false },
    title: { display: Boolean(title), text: title },
  });
  return new Chart(canvas, {
    type: "scatter",
    data: { datasets: [{ data: cells.map((c) => ({ x: xLabels[c.x], y: yLabels[c.y] })), pointRadius: 0, pointHitRadius: 20 }] },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (context) => cells[context.dataIndex].tip } } },
      scales: { x: axis(xLabels, titles.x), y: axis(yLabels, titles.y) },
    },
    plugins: [paintCells],
  });
}

function green(share) {
  const mix = (from, to) => Math.round(from + ((to - from) * share) / 100);
  return `rgb(${mix(243, 0)}, ${mix(242, 112)}, ${mix(241, 60)})`;
}

function heatMap(canvas, data) {
  const heat = data.heat_map;
  const cells = [];
  heat.teams.forEach((team, y) => team.cells.forEach((cell, x) => {
    const share = cell && !cell.hidden ? cell.good_or_better : null;
    const none = cell && cell.hidden ? "fewer than 5 audits" : "no audits";
    cells.push({
      x, y, share, dark: share !== null && share >= 60,
      text: share === null ? "–" : `${share}%`,
      tip: `${team.team}, ${heat.area_labels[x]}: ${share === null ? none : `${share}% Good or better of ${cell.total}`}`,
    });
  }));
  return grid(canvas, heat.area_labels, heat.teams.map((t) => t.team), cells, (c) => (c.share === null ? "#f3f2f1" : green(c.share)));
}

function moderationMatrix(canvas, data) {
  const labels = data.grades.map((g) => g.label);
  const cells = [];
  let largest = 1;
  data.grades.forEach((auditor, y) => data.grades.forEach((moderator, x) => {
    const count = data.moderation[auditor.key][moderator.key];
    largest = Math.max(largest, count || 0);
    const text = count === null ? "fewer than 5" : String(count);
    cells.push({ x, y, count, text, tip: `Auditor ${auditor.label}, moderator ${moderator.label}: ${text}` });
  }));
  cells.forEach((c) => { c.dark = (100 * c.count) / largest >= 60; });
  return grid(canvas, labels, labels, cells, (c) => green((100 * c.count) / largest),
    { x: "Moderator's grade", y: "Auditor's grade" });
}

const DRAW = { "grade-bars": gradeBars, "trend-lines": trendLines, "heat-map": heatMap, "moderation-matrix": moderationMatrix };

document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("report-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const draw = DRAW[canvas.dataset.chart];
    const box = canvas.closest("[data-chart-box]");
    if (draw && box) {
      // Set through the CSSOM: the Content-Security-Policy refuses style attributes in the page.
      box.style.height = `${Number(box.dataset.chartHeight) || 320}px`;
      draw(canvas, data);
      box.removeAttribute("hidden");
    }
  });
});
