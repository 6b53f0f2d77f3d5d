// The process model editor (bpmn-js Modeler with its properties panel), the sandbox's path
// diagram and the form editor's live preview. Bundled from npm by `npm run build`; nothing
// is fetched at run time except the draft itself from this application.
//
// The properties panel gains a group, "How it runs here", for what this engine reads:
// a lane's role and person key (kept in process.json), a user task's form, instructions and
// due date, a service task's operation and parameters, a script, a flow's condition.
// Timer expressions use the panel's own Timer group. Saving sends the diagram and the lane
// map with the revision it was loaded at; the reply's problems are drawn at their elements.
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from "bpmn-js-properties-panel";
import {
  CheckboxEntry, Group, SelectEntry, TextAreaEntry, TextFieldEntry,
  isCheckboxEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";

// The spiffworkflow extension elements SpiffWorkflow reads, so bpmn-js keeps and edits them.
const SPIFFWORKFLOW = {
  name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
  xml: { tagAlias: "lowerCase" }, associations: [],
  types: [
    { name: "Properties", superClass: ["Element"], properties: [{ name: "property", type: "Property", isMany: true }] },
    { name: "Property", superClass: ["Element"], properties: [
      { name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
    ...["InstructionsForEndUser", "PreScript", "PostScript", "CalledDecisionId"].map((name) => (
      { name, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] })),
    { name: "ServiceTaskOperator", superClass: ["Element"], properties: [
      { name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
      { name: "parameters", type: "Parameters" }] },
    { name: "Parameters", superClass: ["Element"], properties: [{ name: "parameter", type: "Parameter", isMany: true }] },
    { name: "Parameter", superClass: ["Element"], properties: [
      { name: "id", type: "String", isAttr: true }, { name: "type", type: "String", isAttr: true },
      { name: "value", type: "String", isAttr: true }] },
  ],
};

// What the page knows beyond the diagram: the lane map and the choices the panel offers.
const engine = { lanes: {}, forms: [], uiForms: [], operations: [], roles: {}, onChange: () => {} };

// --- reading and writing spiffworkflow extensions ----------------------------------------

function extensionOf(element, type) {
  const extensions = getBusinessObject(element).get("extensionElements");
  return extensions && extensions.get("values").find((value) => is(value, type));
}

function ensureExtension(element, type, services, attrs = {}) {
  const { modeling, bpmnFactory } = services;
  const owner = getBusinessObject(element);
  let extensions = owner.get("extensionElements");
  if (!extensions) {
    extensions = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    modeling.updateProperties(element, { extensionElements: extensions });
  }
  let found = extensions.get("values").find((value) => is(value, type));
  if (!found) {
    found = bpmnFactory.create(type, attrs);
    found.$parent = extensions;
    modeling.updateModdleProperties(element, extensions, { values: [...extensions.get("values"), found] });
  }
  return found;
}

function removeExtension(element, type, services) {
  const extensions = getBusinessObject(element).get("extensionElements");
  const found = extensionOf(element, type);
  if (found) {
    services.modeling.updateModdleProperties(element, extensions, {
      values: extensions.get("values").filter((value) => value !== found) });
  }
}

function spiffProperty(element, name) {
  const properties = extensionOf(element, "spiffworkflow:Properties");
  const found = properties && properties.get("property").find((property) => property.name === name);
  return found ? found.value : "";
}

function setSpiffProperty(element, name, value, services) {
  const properties = ensureExtension(element, "spiffworkflow:Properties", services);
  const list = properties.get("property");
  const existing = list.find((property) => property.name === name);
  if (!value) {
    if (existing) services.modeling.updateModdleProperties(element, properties, { property: list.filter((p) => p !== existing) });
  } else if (existing) {
    services.modeling.updateModdleProperties(element, existing, { value });
  } else {
    const property = services.bpmnFactory.create("spiffworkflow:Property", { name, value });
    property.$parent = properties;
    services.modeling.updateModdleProperties(element, properties, { property: [...list, property] });
  }
}

function bodyText(element, type) {
  const found = extensionOf(element, type);
  return found ? found.value || "" : "";
}

function setBodyText(element, type, value, services) {
  if (!value) {
    removeExtension(element, type, services);
    return;
  }
  services.modeling.updateModdleProperties(element, ensureExtension(element, type, services), { value });
}

function useEditing() {
  return { modeling: useService("modeling"), bpmnFactory: useService("bpmnFactory"), debounce: useService("debounceInput") };
}

const options = (values, none) => [{ value: "", label: none }, ...values.map((value) => ({ value, label: value }))];

// --- the entries of the "How it runs here" group ------------------------------------------

function LaneRole({ element }) {
  const eventBus = useService("eventBus");
  const name = getBusinessObject(element).name || "";
  return <SelectEntry id="engine-lane-role" element={element} label="Role of the people in this lane"
    description={name ? "Who may work on this lane's tasks." : "Name the lane first."}
    getValue={() => (engine.lanes[name] || {}).role || ""}
    setValue={(role) => { engine.lanes[name] = { person: null, ...engine.lanes[name], role }; engine.onChange(); eventBus.fire("elements.changed", { elements: [element] }); }}
    getOptions={() => [{ value: "", label: "(choose a role)" }, ...Object.entries(engine.roles).map(([value, label]) => ({ value, label }))]} />;
}

function LanePerson({ element }) {
  const eventBus = useService("eventBus");
  const { debounce } = useEditing();
  const name = getBusinessObject(element).name || "";
  return <TextFieldEntry id="engine-lane-person" element={element} debounce={debounce} label="Person key"
    description="The task data that names the person (for example auditor). Blank: anyone with the role may claim the task."
    getValue={() => (engine.lanes[name] || {}).person || ""}
    setValue={(person) => { engine.lanes[name] = { role: "", ...engine.lanes[name], person: person || null }; engine.onChange(); eventBus.fire("elements.changed", { elements: [element] }); }} />;
}

function TaskForm({ element }) {
  const services = useEditing();
  return <SelectEntry id="engine-form" element={element} label="Form"
    description="The JSON Schema form the person fills in. Create or change forms below the diagram."
    getValue={() => spiffProperty(element, "formJsonSchemaFilename")}
    setValue={(form) => {
      setSpiffProperty(element, "formJsonSchemaFilename", form, services);
      const ui = form.replace(/-schema\.json$/, "-uischema.json");
      setSpiffProperty(element, "formUiSchemaFilename", form && engine.uiForms.includes(ui) ? ui : "", services);
    }}
    getOptions={() => options(engine.forms, "(no form)")} />;
}

function TaskInstructions({ element }) {
  const services = useEditing();
  return <TextAreaEntry id="engine-instructions" element={element} debounce={services.debounce} rows={4}
    label="Instructions" description="Shown above the form: what to do and why."
    getValue={() => bodyText(element, "spiffworkflow:InstructionsForEndUser")}
    setValue={(value) => setBodyText(element, "spiffworkflow:InstructionsForEndUser", value, services)} />;
}

function TaskDueDate({ element }) {
  const services = useEditing();
  return <TextFieldEntry id="engine-due-date" element={element} debounce={services.debounce} label="Due date from"
    description="The task data holding the due date (for example audit_due, or escalation.due_on)."
    getValue={() => spiffProperty(element, "dueDateKey")}
    setValue={(value) => setSpiffProperty(element, "dueDateKey", value, services)} />;
}

function operator(element) {
  return extensionOf(element, "spiffworkflow:ServiceTaskOperator");
}

function ServiceOperation({ element }) {
  const services = useEditing();
  return <SelectEntry id="engine-operation" element={element} label="Service operation"
    getValue={() => (operator(element) || {}).id || ""}
    setValue={(id) => {
      if (!id) return removeExtension(element, "spiffworkflow:ServiceTaskOperator", services);
      const found = ensureExtension(element, "spiffworkflow:ServiceTaskOperator", services,
        { parameters: services.bpmnFactory.create("spiffworkflow:Parameters", { parameter: [] }) });
      services.modeling.updateModdleProperties(element, found, { id });
    }}
    getOptions={() => options(engine.operations, "(choose an operation)")} />;
}

function ServiceResult({ element }) {
  const services = useEditing();
  return <TextFieldEntry id="engine-result" element={element} debounce={services.debounce} label="Store the result as"
    getValue={() => (operator(element) || {}).resultVariable || ""}
    setValue={(value) => operator(element) && services.modeling.updateModdleProperties(element, operator(element), { resultVariable: value || undefined })} />;
}

function ServiceParameters({ element }) {
  const services = useEditing();
  const parameters = () => (operator(element) && operator(element).get("parameters")) || null;
  return <TextAreaEntry id="engine-parameters" element={element} debounce={services.debounce} rows={3} monospace
    label="Parameters" description="One a line: name = Python expression over the task data, for example audit_id = audit_id."
    getValue={() => (parameters() ? parameters().get("parameter") : []).map((p) => `${p.id} = ${p.value}`).join("\n")}
    setValue={(text) => {
      const found = operator(element);
      if (!found) return;
      let list = parameters();
      if (!list) {
        list = services.bpmnFactory.create("spiffworkflow:Parameters", { parameter: [] });
        services.modeling.updateModdleProperties(element, found, { parameters: list });
      }
      const parsed = (text || "").split("\n").map((line) => line.split("=")).filter((parts) => parts.length > 1 && parts[0].trim())
        .map(([id, ...value]) => services.bpmnFactory.create("spiffworkflow:Parameter", { id: id.trim(), type: "any", value: value.join("=").trim() }));
      services.modeling.updateModdleProperties(element, list, { parameter: parsed });
    }} />;
}

function Script({ element }) {
  const services = useEditing();
  return <TextAreaEntry id="engine-script" element={element} debounce={services.debounce} rows={6} monospace label="Script (Python)"
    description="Checked before it can run: no imports, no names starting with an underscore."
    getValue={() => getBusinessObject(element).get("script") || ""}
    setValue={(script) => services.modeling.updateProperties(element, { script, scriptFormat: "python" })} />;
}

function Condition({ element }) {
  const services = useEditing();
  return <TextAreaEntry id="engine-condition" element={element} debounce={services.debounce} rows={2} monospace
    label="Condition (Python)" description='Over the answers given before the gateway, for example overall_grade == "inadequate".'
    getValue={() => { const found = getBusinessObject(element).get("conditionExpression"); return found ? found.get("body") || "" : ""; }}
    setValue={(body) => services.modeling.updateProperties(element, {
      conditionExpression: body ? services.bpmnFactory.create("bpmn:FormalExpression", { body }) : undefined })} />;
}

function DefaultFlow({ element }) {
  const { modeling } = useEditing();
  return <CheckboxEntry id="engine-default" element={element} label="The default path (taken when no condition is true)"
    getValue={() => getBusinessObject(element.source).get("default") === getBusinessObject(element)}
    setValue={(value) => modeling.updateProperties(element.source, { default: value ? getBusinessObject(element) : undefined })} />;
}

function engineEntries(element) {
  const entry = (id, component, isEdited) => ({ id, component, isEdited, element });
  if (is(element, "bpmn:Lane")) {
    return [entry("engine-lane-role", LaneRole, isSelectEntryEdited), entry("engine-lane-person", LanePerson, isTextFieldEntryEdited)];
  }
  if (is(element, "bpmn:UserTask")) {
    return [entry("engine-form", TaskForm, isSelectEntryEdited), entry("engine-instructions", TaskInstructions, isTextAreaEntryEdited),
      entry("engine-due-date", TaskDueDate, isTextFieldEntryEdited)];
  }
  if (is(element, "bpmn:ServiceTask")) {
    return [entry("engine-operation", ServiceOperation, isSelectEntryEdited), entry("engine-result", ServiceResult, isTextFieldEntryEdited),
      entry("engine-parameters", ServiceParameters, isTextAreaEntryEdited)];
  }
  if (is(element, "bpmn:ScriptTask")) {
    return [entry("engine-script", Script, isTextAreaEntryEdited)];
  }
  if (is(element, "bpmn:SequenceFlow") && element.source
      && (is(element.source, "bpmn:ExclusiveGateway") || is(element.source, "bpmn:InclusiveGateway"))) {
    return [entry("engine-condition", Condition, isTextAreaEntryEdited), entry("engine-default", DefaultFlow, isCheckboxEntryEdited)];
  }
  return [];
}

function EngineProvider(propertiesPanel) {
  propertiesPanel.registerProvider(500, this);
}
EngineProvider.prototype.getGroups = (element) => (groups) => {
  const entries = engineEntries(element);
  return entries.length ? [...groups, { id: "engine", label: "How it runs here", component: Group, entries }] : groups;
};
EngineProvider.$inject = ["propertiesPanel"];

const EngineModule = { __init__: ["engineProvider"], engineProvider: ["type", EngineProvider] };

// --- the editor page -----------------------------------------------------------------------

async function startModeler(root) {
  const status = document.getElementById("modeler-status");
  const saveButton = document.getElementById("save-diagram");
  const say = (text, failed = false) => {
    status.hidden = false;
    status.textContent = text;
    status.classList.toggle("app-overdue", failed);
  };
  const modeler = new BpmnModeler({
    container: "#modeler-canvas", propertiesPanel: { parent: "#modeler-properties" },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, EngineModule],
    moddleExtensions: { spiffworkflow: SPIFFWORKFLOW },
  });
  const response = await fetch(root.dataset.contentUrl, { headers: { Accept: "application/json" } });
  const draft = await response.json();
  Object.assign(engine, { lanes: draft.lanes || {}, forms: draft.forms, uiForms: draft.ui_forms,
    operations: draft.operations, roles: draft.roles });
  let revision = draft.revision;
  let dirty = false;
  const changed = () => { dirty = true; saveButton.disabled = false; say("Unsaved changes."); };
  engine.onChange = changed;
  try {
    await modeler.importXML(draft.xml);
  } catch (error) {
    say(`The diagram could not be opened: ${error.message}. Download the draft, fix it in another modeler and upload it.`, true);
    return;
  }
  modeler.get("canvas").zoom("fit-viewport");
  trackLaneNames(modeler);
  modeler.on("commandStack.changed", changed);
  showProblems(modeler, draft.problems);
  say(`Draft revision ${revision} loaded.`);
  window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });

  const startData = document.getElementById("start-data");
  startData.addEventListener("input", changed);
  saveButton.addEventListener("click", async () => {
    let start = null;
    try {
      start = startData.value.trim() ? JSON.parse(startData.value) : null;
    } catch (error) {
      say(`Start data is not valid JSON (${error.message}). Nothing was saved.`, true);
      return;
    }
    saveButton.disabled = true;
    const { xml } = await modeler.saveXML({ format: true });
    const reply = await fetch(root.dataset.saveUrl, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
      body: JSON.stringify({ revision, file: draft.file, xml, lanes: engine.lanes, start_data: start }),
    });
    const body = await reply.json();
    if (!reply.ok) {
      saveButton.disabled = false;
      say(body.error || "The draft could not be saved.", true);
      return;
    }
    revision = body.revision;
    dirty = false;
    document.getElementById("revision").textContent = revision;
    const errors = body.problems.filter((p) => p.severity === "error").length;
    say(`Saved as revision ${revision}. ${errors ? `${errors} problem(s) to fix before publishing.` : "No problems."}`);
    showProblems(modeler, body.problems);
  });
}

function trackLaneNames(modeler) {
  // Lanes are mapped by name: a renamed lane keeps its role and person key.
  const names = {};
  const lanes = () => modeler.get("elementRegistry").filter((element) => is(element, "bpmn:Lane"));
  lanes().forEach((lane) => { names[lane.id] = getBusinessObject(lane).name || ""; });
  modeler.on("elements.changed", ({ elements }) => {
    elements.filter((element) => is(element, "bpmn:Lane")).forEach((lane) => {
      const name = getBusinessObject(lane).name || "";
      const before = names[lane.id];
      if (before && before !== name && engine.lanes[before] && !engine.lanes[name]) {
        engine.lanes[name] = engine.lanes[before];
        delete engine.lanes[before];
      }
      names[lane.id] = name;
    });
  });
}

function showProblems(modeler, problems) {
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  overlays.remove({ type: "problem" });
  registry.getAll().forEach((element) => {
    canvas.removeMarker(element, "app-problem");
    canvas.removeMarker(element, "app-warning");
  });
  const byElement = {};
  problems.filter((p) => p.element_id && registry.get(p.element_id)).forEach((p) => {
    (byElement[p.element_id] = byElement[p.element_id] || []).push(p);
  });
  Object.entries(byElement).forEach(([id, found]) => {
    const error = found.some((p) => p.severity === "error");
    canvas.addMarker(id, error ? "app-problem" : "app-warning");
    const badge = document.createElement("span");
    badge.className = `app-problem-badge${error ? "" : " app-warning-badge"}`;
    badge.textContent = `${found.length} ${error ? "problem" : "warning"}${found.length > 1 ? "s" : ""}`;
    badge.title = found.map((p) => p.message).join("\n");
    overlays.add(id, "problem", { position: { top: -12, right: 12 }, html: badge });
  });
  const list = document.getElementById("problems");
  list.replaceChildren();
  if (!problems.length) {
    const none = document.createElement("p");
    none.className = "govuk-body";
    none.textContent = "None: the draft can be tried and published.";
    list.append(none);
    return;
  }
  const ul = document.createElement("ul");
  ul.className = "govuk-list";
  problems.forEach((p) => {
    const li = document.createElement("li");
    const tag = document.createElement("strong");
    tag.className = `govuk-tag ${p.severity === "error" ? "govuk-tag--red" : "govuk-tag--orange"}`;
    tag.textContent = p.severity === "error" ? "Error" : "Warning";
    li.append(tag, " ");
    if (p.element_id && registry.get(p.element_id)) {
      const show = document.createElement("button");
      show.type = "button";
      show.className = "govuk-link app-link-button";
      show.dataset.element = p.element_id;
      show.textContent = p.element_id;
      show.addEventListener("click", () => {
        const element = registry.get(p.element_id);
        canvas.setRootElement(canvas.findRoot(element));
        canvas.scrollToElement(element);
        modeler.get("selection").select(element);
      });
      li.append(show, ": ");
    }
    li.append(p.message);
    ul.append(li);
  });
  list.append(ul);
}

// --- the sandbox's path diagram ------------------------------------------------------------

async function showPath(root) {
  const viewer = new NavigatedViewer({ container: root, moddleExtensions: { spiffworkflow: SPIFFWORKFLOW } });
  const draft = await (await fetch(root.dataset.contentUrl, { headers: { Accept: "application/json" } })).json();
  await viewer.importXML(draft.xml);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  canvas.zoom("fit-viewport");
  const mark = (ids, marker) => JSON.parse(ids || "[]").filter((id) => registry.get(id)).forEach((id) => canvas.addMarker(id, marker));
  mark(root.dataset.path, "app-path");
  mark(root.dataset.flows, "app-path-flow");
  mark(root.dataset.waiting, "app-waiting");
  mark(root.dataset.failed, "app-failed");
}

// --- the form editor's live preview --------------------------------------------------------

function livePreview(form) {
  const target = document.getElementById("form-preview");
  let timer = null;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const data = new FormData();
      ["schema", "ui_schema", "csrf_token"].forEach((name) => data.append(name, form.elements[name].value));
      const reply = await fetch(form.dataset.previewUrl, { method: "POST", body: data });
      if (reply.ok) target.innerHTML = await reply.text();
    }, 400);
  });
}

const modelerRoot = document.getElementById("modeler");
if (modelerRoot) startModeler(modelerRoot);
const pathRoot = document.getElementById("sandbox-diagram");
if (pathRoot) showPath(pathRoot);
const formEditor = document.getElementById("form-editor");
if (formEditor) livePreview(formEditor);
