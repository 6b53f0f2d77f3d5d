// Builds webapp/static/build/: the compiled stylesheet and GOV.UK Frontend's script and assets.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { compile } from "sass";

const out = "webapp/static/build";
mkdirSync(out, { recursive: true });
const css = compile("webapp/static/src/app.scss", { loadPaths: ["node_modules"], style: "compressed", quietDeps: true });
writeFileSync(`${out}/app.css`, css.css);
cpSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", `${out}/govuk-frontend.min.js`);
cpSync("node_modules/govuk-frontend/dist/govuk/assets", `${out}/assets`, { recursive: true });
console.log(`built ${out}/app.css (${css.css.length} bytes)`);
