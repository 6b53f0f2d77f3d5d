// Loaded at the top of <body>, before anything is drawn: marks the page as having JavaScript
// (and a browser GOV.UK Frontend supports), so components are styled for it from the start.
// A file rather than an inline script, so the Content-Security-Policy allows no inline script.
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) document.body.classList.add("govuk-frontend-supported");
