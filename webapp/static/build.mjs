// Builds webapp/static/build/ from npm packages (nothing is downloaded at run time):
//  - app.css: GOV.UK Frontend with the council's own font, plus our styles;
//  - GOV.UK Frontend's assets (fonts, images);
//  - one bundle per webapp/static/src/*.entry.js (GOV.UK Frontend's components, bpmn-js viewer,
//    modeler, charts...): every script a page runs is one of these files, never inline, so
//    the Content-Security-Policy (webapp/security_headers.py) allows scripts from 'self' only;
//  - bpmn-js/: the diagram stylesheets and icon font those bundles use.
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { compile } from "sass";

const out = "webapp/static/build";
mkdirSync(out, { recursive: true });
const css = compile("webapp/static/src/app.scss", { loadPaths: ["node_modules"], style: "compressed", quietDeps: true });
writeFileSync(`${out}/app.css`, css.css);
cpSync("node_modules/govuk-frontend/dist/govuk/assets", `${out}/assets`, { recursive: true });
cpSync("node_modules/bpmn-js/dist/assets", `${out}/bpmn-js`, { recursive: true });
cpSync("node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css", `${out}/bpmn-js/properties-panel.css`);

const entries = readdirSync("webapp/static/src").filter((name) => name.endsWith(".entry.js"));
for (const name of entries) {
  await build({
    entryPoints: [`webapp/static/src/${name}`],
    outfile: `${out}/${name.replace(".entry.js", ".js")}`,
    bundle: true, minify: true, format: "iife", target: "es2020",
    jsx: "automatic", jsxImportSource: "@bpmn-io/properties-panel/preact",
    loader: { ".js": "jsx" },
  });
}
console.log(`built ${out}: app.css (${css.css.length} bytes), ${entries.length} script bundle(s)`);
