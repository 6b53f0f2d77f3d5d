// The process diagram on the monitoring pages, drawn by bpmn-js (NavigatedViewer: pan,
// zoom, drill into subprocesses) from the npm bundle; nothing is fetched from outside.
//
// The page holds <div id="diagram" data-diagram-url="..." data-mode="instance|version">.
// The URL answers JSON: {xml, states: {elementId: failed|active|waiting|completed},
// path: [[sourceId, targetId], ...]} for one instance, or {xml, counts: {elementId:
// {waiting, failed}}} for a process version. Each step gets a marker class
// (app-step--<state>), flows taken get app-path, and counts become overlays. A line
// of text under the diagram says the same for people who cannot see it. The styles are in
// app.scss (a stylesheet file: the Content-Security-Policy allows no inline style).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const STATE_WORDS = { failed: "Failed", active: "Open now", waiting: "Waiting", completed: "Completed" };

function nameOf(registry, id) {
  const element = registry.get(id);
  return (element && element.businessObject && element.businessObject.name) || id;
}

function markInstance(viewer, data) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const byState = { failed: [], active: [], waiting: [], completed: [] };
  Object.entries(data.states).forEach(([id, state]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, `app-step--${state}`);
    byState[state].push(nameOf(registry, id));
  });
  const taken = new Set(data.path.map(([source, target]) => `${source}>${target}`));
  registry.filter((element) => element.type === "bpmn:SequenceFlow").forEach((flow) => {
    if (taken.has(`${flow.source.id}>${flow.target.id}`)) canvas.addMarker(flow.id, "app-path");
  });
  return Object.entries(byState)
    .filter(([, names]) => names.length)
    .map(([state, names]) => `${STATE_WORDS[state]}: ${names.join(", ")}.`)
    .join(" ");
}

function markVersion(viewer, data) {
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");
  const sentences = [];
  Object.entries(data.counts).forEach(([id, count]) => {
    if (!registry.get(id)) return;
    [["waiting", 0], ["failed", 30]].forEach(([kind, offset]) => {
      if (!count[kind]) return;
      const badge = document.createElement("span");
      badge.className = `app-count app-count--${kind}`;
      badge.dataset.count = kind;
      badge.dataset.element = id;
      badge.textContent = String(count[kind]);
      badge.title = `${count[kind]} ${kind === "waiting" ? "waiting" : "failed"} at ${nameOf(registry, id)}`;
      overlays.add(id, { position: { top: -12, right: 12 + offset }, html: badge });
      sentences.push(badge.title);
    });
  });
  return sentences.length ? `${sentences.join("; ")}.` : "No open process is at any step.";
}

async function show(container) {
  const status = document.getElementById("diagram-status");
  const response = await fetch(container.dataset.diagramUrl, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`the diagram could not be loaded (${response.status})`);
  const data = await response.json();
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(data.xml);
  viewer.get("canvas").zoom("fit-viewport");
  const summary = container.dataset.mode === "version" ? markVersion(viewer, data) : markInstance(viewer, data);
  container.dataset.ready = "true";
  if (status) status.textContent = summary;
}

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("diagram");
  if (!container) return;
  show(container).catch((error) => {
    const status = document.getElementById("diagram-status");
    container.dataset.ready = "failed";
    if (status) status.textContent = `Sorry, ${error.message}. The tables below show the same information.`;
  });
});
