// @ts-check
// Time charts drawn as plain SVG: a line for the node's per-minute series and dots for single jobs.
// Colours come from CSS classes, so the page's light and dark themes apply.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 14, right: 16, bottom: 28, left: 56 };

/**
 * @typedef {{ x: number, y: number, className?: string }} ChartPoint
 * @typedef {{
 *   title: string,
 *   unit: string,
 *   format: (value: number) => string,
 *   line: ChartPoint[],
 *   lineLabel: string,
 *   dots: ChartPoint[],
 *   dotsLabel: string,
 * }} TimeChart
 */

/**
 * Draws `chart` into `host` (replacing what was there) as an accessible SVG image whose text
 * alternative states the latest values.
 * @param {Element} host
 * @param {TimeChart} chart
 */
export function renderTimeChart(host, chart) {
  const points = [...chart.line, ...chart.dots];
  const svg = element("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    class: "chart",
    preserveAspectRatio: "xMidYMid meet",
  });
  const title = element("title", {});
  title.textContent = `${chart.title}: ${describe(chart)}`;
  svg.append(title);

  if (points.length === 0) {
    const empty = element("text", {
      x: WIDTH / 2,
      y: HEIGHT / 2,
      class: "chart-empty",
      "text-anchor": "middle",
    });
    empty.textContent = "No finished jobs yet";
    svg.append(empty);
    host.replaceChildren(svg);
    return;
  }

  let xMin = Math.min(...points.map((point) => point.x));
  let xMax = Math.max(...points.map((point) => point.x));
  if (xMax - xMin < 60_000) {
    const middle = (xMin + xMax) / 2;
    xMin = middle - 30_000;
    xMax = middle + 30_000;
  }
  const yMax = niceCeiling(Math.max(...points.map((point) => point.y)) * 1.1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  /** @param {number} x */
  const sx = (x) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  /** @param {number} y */
  const sy = (y) => MARGIN.top + plotHeight - (y / yMax) * plotHeight;

  const axes = element("g", { class: "chart-axes", "aria-hidden": "true" });
  for (let index = 0; index <= 4; index++) {
    const value = (yMax / 4) * index;
    const y = sy(value);
    axes.append(
      element("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: "chart-grid" }),
    );
    const label = element("text", {
      x: MARGIN.left - 6,
      y: y + 4,
      "text-anchor": "end",
      class: "chart-label",
    });
    label.textContent = chart.format(value);
    axes.append(label);
  }
  for (let index = 0; index <= 3; index++) {
    const value = xMin + ((xMax - xMin) / 3) * index;
    const anchor = index === 0 ? "start" : index === 3 ? "end" : "middle";
    const label = element("text", {
      x: sx(value),
      y: HEIGHT - 8,
      "text-anchor": anchor,
      class: "chart-label",
    });
    label.textContent = new Date(value).toLocaleTimeString("en-GB", { hour12: false });
    axes.append(label);
  }
  svg.append(axes);

  if (chart.line.length > 0) {
    const sorted = [...chart.line].sort((a, b) => a.x - b.x);
    const d = sorted
      .map((point, index) => `${index === 0 ? "M" : "L"}${sx(point.x).toFixed(1)},${sy(point.y).toFixed(1)}`)
      .join(" ");
    svg.append(element("path", { d, class: "chart-line", "aria-hidden": "true" }));
    for (const point of sorted) {
      svg.append(
        element("circle", {
          cx: sx(point.x),
          cy: sy(point.y),
          r: 3,
          class: "chart-line-point",
          "aria-hidden": "true",
        }),
      );
    }
  }
  for (const point of chart.dots) {
    svg.append(
      element("circle", {
        cx: sx(point.x),
        cy: sy(point.y),
        r: 3.5,
        class: `chart-dot ${point.className ?? ""}`.trim(),
        "aria-hidden": "true",
      }),
    );
  }
  host.replaceChildren(svg);
}

/**
 * The chart's text alternative: how many points, and the latest of each kind.
 * @param {TimeChart} chart
 */
function describe(chart) {
  const parts = [];
  const lastLine = [...chart.line].sort((a, b) => a.x - b.x).at(-1);
  const lastDot = [...chart.dots].sort((a, b) => a.x - b.x).at(-1);
  if (lastLine) parts.push(`${chart.lineLabel} latest ${chart.format(lastLine.y)} ${chart.unit}`);
  if (lastDot) parts.push(`${chart.dots.length} jobs, latest ${chart.format(lastDot.y)} ${chart.unit}`);
  return parts.length > 0 ? parts.join("; ") : "no data yet";
}

/** @param {number} value */
function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @returns {SVGElement}
 */
function element(name, attributes) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, name));
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}
