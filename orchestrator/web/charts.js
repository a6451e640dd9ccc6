// SVG drawing: the valence–arousal plane of a mood and the mood history of the last days. No libraries.

const SVG_NS = "http://www.w3.org/2000/svg";

export function svgElement(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

export function signed(value) {
  const rounded = Number(value).toFixed(2);
  if (rounded === "0.00" || rounded === "-0.00") return "0.00";
  return value > 0 ? `+${rounded}` : rounded;
}

function clear(svg) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
}

// Valence (x, unpleasant → pleasant) and arousal (y, calm → excited), both -1…+1, Russell's circumplex.
const PLANE = { size: 340, center: 170, radius: 120 };

function planeX(valence) {
  return PLANE.center + valence * PLANE.radius;
}

function planeY(arousal) {
  return PLANE.center - arousal * PLANE.radius;
}

function marker(shape, x, y, className) {
  if (shape === "square") return svgElement("rect", { x: x - 9, y: y - 9, width: 18, height: 18, class: className });
  if (shape === "diamond") {
    const r = 15;
    return svgElement("polygon", { points: `${x},${y - r} ${x + r},${y} ${x},${y + r} ${x - r},${y}`, class: className });
  }
  return svgElement("circle", { cx: x, cy: y, r: 8, class: className });
}

// mood: {label, valence, arousal}; parts: [{name: "face"|"text", mood}] drawn smaller, for comparison.
export function drawMoodPlane(svg, mood, parts = []) {
  clear(svg);
  const { size, center, radius } = PLANE;
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.append(svgElement("title", { id: "va-plane-title" },
    `Mood ${mood.label}: valence ${signed(mood.valence)}, arousal ${signed(mood.arousal)}`));
  svg.append(svgElement("circle", { cx: center, cy: center, r: radius, class: "plane-circle" }));
  svg.append(svgElement("line", { x1: center - radius - 10, y1: center, x2: center + radius + 10, y2: center,
    class: "plane-axis" }));
  svg.append(svgElement("line", { x1: center, y1: center - radius - 10, x2: center, y2: center + radius + 10,
    class: "plane-axis" }));
  for (const tick of [-1, -0.5, 0.5, 1]) {
    svg.append(svgElement("line", { x1: planeX(tick), y1: center - 4, x2: planeX(tick), y2: center + 4,
      class: "plane-axis" }));
    svg.append(svgElement("line", { x1: center - 4, y1: planeY(tick), x2: center + 4, y2: planeY(tick),
      class: "plane-axis" }));
  }
  svg.append(svgElement("text", { x: planeX(-1), y: center + 18, class: "tick", "text-anchor": "middle" }, "−1"));
  svg.append(svgElement("text", { x: planeX(1), y: center + 18, class: "tick", "text-anchor": "middle" }, "+1"));
  svg.append(svgElement("text", { x: center + 8, y: planeY(1) + 4, class: "tick" }, "+1"));
  svg.append(svgElement("text", { x: center + 8, y: planeY(-1) + 4, class: "tick" }, "−1"));
  // Axis titles and the four quadrants in words.
  svg.append(svgElement("text", { x: center, y: size - 8, class: "axis-title", "text-anchor": "middle" },
    "Valence: unpleasant ← → pleasant"));
  svg.append(svgElement("text", { x: 14, y: center, class: "axis-title", "text-anchor": "middle",
    transform: `rotate(-90 14 ${center})` }, "Arousal: calm ← → excited"));
  const quadrants = [["tense, angry", "left", "top"], ["excited, happy", "right", "top"],
    ["sad, bored", "left", "bottom"], ["calm, content", "right", "bottom"]];
  for (const [words, side, edge] of quadrants) {
    svg.append(svgElement("text", {
      x: side === "left" ? 36 : size - 10, y: edge === "top" ? 26 : size - 30, class: "quadrant",
      "text-anchor": side === "left" ? "start" : "end",
    }, words));
  }
  const x = planeX(mood.valence);
  const y = planeY(mood.arousal);
  const point = marker("circle", x, y, "mood-point");
  point.id = "va-point";
  point.dataset.valence = String(mood.valence);
  point.dataset.arousal = String(mood.arousal);
  svg.append(point);
  for (const part of parts) {
    if (!part.mood) continue;
    const shape = part.name === "face" ? "square" : "diamond";
    const element = marker(shape, planeX(part.mood.valence), planeY(part.mood.arousal), `part-point part-${part.name}`);
    element.append(svgElement("title", {}, `${part.name === "face" ? "photo" : "words"}: ${part.mood.label}`));
    svg.append(element);
  }
  const labelLeft = x > center + radius / 2;
  svg.append(svgElement("text", { x: labelLeft ? x - 12 : x + 12, y: y - 10, class: "point-label",
    "text-anchor": labelLeft ? "end" : "start" }, mood.label));
  svg.setAttribute("aria-label", `Valence–arousal plane: ${mood.label} at valence ${signed(mood.valence)}, ` +
    `arousal ${signed(mood.arousal)}`);
}

// summary: GET /v1/moods/summary — {since, until, days: [{day, events, mean_valence, mean_arousal}]}.
export function drawHistory(svg, summary, periodDays = 7) {
  clear(svg);
  const width = 380;
  const height = 210;
  const left = 40;
  const right = width - 14;
  const top = 16;
  const bottom = height - 46;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const until = new Date(summary.until);
  const slots = [];
  for (let back = periodDays - 1; back >= 0; back -= 1) {
    const day = new Date(Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate() - back));
    slots.push(day.toISOString().slice(0, 10));
  }
  const step = (right - left) / Math.max(1, slots.length - 1);
  const xOf = (index) => left + index * step;
  const yOf = (value) => top + (1 - value) / 2 * (bottom - top);
  svg.append(svgElement("title", {}, `Mood per day over the last ${periodDays} days`));
  for (const value of [-1, 0, 1]) {
    svg.append(svgElement("line", { x1: left, y1: yOf(value), x2: right, y2: yOf(value),
      class: value === 0 ? "plane-axis" : "grid" }));
    svg.append(svgElement("text", { x: left - 6, y: yOf(value) + 4, class: "tick", "text-anchor": "end" },
      value === 0 ? "0" : value > 0 ? "+1" : "−1"));
  }
  const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" });
  slots.forEach((day, index) => {
    svg.append(svgElement("text", { x: xOf(index), y: bottom + 16, class: "tick", "text-anchor": "middle" },
      weekday.format(new Date(`${day}T00:00:00Z`))));
  });
  const byDay = new Map(summary.days.map((entry) => [entry.day, entry]));
  const series = [["mean_valence", "valence", "history-valence"], ["mean_arousal", "arousal", "history-arousal"]];
  for (const [field, name, className] of series) {
    const points = slots
      .map((day, index) => (byDay.has(day) ? [xOf(index), yOf(byDay.get(day)[field]), byDay.get(day)] : null))
      .filter(Boolean);
    if (points.length > 1) {
      svg.append(svgElement("polyline", { points: points.map(([x, y]) => `${x},${y}`).join(" "),
        class: `history-line ${className}` }));
    }
    for (const [x, y, entry] of points) {
      const dot = svgElement("circle", { cx: x, cy: y, r: 4.5, class: `history-dot ${className}` });
      dot.dataset.day = entry.day;
      dot.append(svgElement("title", {}, `${entry.day}: mean ${name} ${signed(entry[field])} ` +
        `(${entry.events} mood${entry.events === 1 ? "" : "s"})`));
      svg.append(dot);
    }
  }
  // Legend.
  const legendY = height - 10;
  svg.append(svgElement("line", { x1: left, y1: legendY - 4, x2: left + 22, y2: legendY - 4,
    class: "history-line history-valence" }));
  svg.append(svgElement("text", { x: left + 28, y: legendY, class: "tick" }, "mean valence"));
  svg.append(svgElement("line", { x1: left + 130, y1: legendY - 4, x2: left + 152, y2: legendY - 4,
    class: "history-line history-arousal" }));
  svg.append(svgElement("text", { x: left + 158, y: legendY, class: "tick" }, "mean arousal"));
  const total = summary.days.reduce((sum, entry) => sum + entry.events, 0);
  svg.setAttribute("aria-label", total
    ? `Mood per day, last ${periodDays} days: ` + summary.days.map((entry) =>
      `${entry.day} valence ${signed(entry.mean_valence)} arousal ${signed(entry.mean_arousal)}`).join("; ")
    : `No moods in the last ${periodDays} days yet`);
  svg.dataset.events = String(total);
}
