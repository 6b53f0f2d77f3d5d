// GOV.UK Frontend's components (header menu, error summary, notification banner, ...),
// started on every page once it has been read (the script tag is deferred).
import { initAll } from "govuk-frontend";

initAll();
