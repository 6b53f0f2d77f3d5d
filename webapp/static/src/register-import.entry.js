// The case register import's outcome page, while the import runs: poll the progress
// endpoint, show the rows checked, and reload when the import ends (progressive
// enhancement: without JavaScript the page refreshes itself).
const box = document.getElementById("import-progress");
const text = document.getElementById("import-progress-text");
const bar = document.getElementById("import-progress-bar");

async function poll() {
  const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
  if (response.ok) {
    const progress = await response.json();
    if (progress.state !== "running") {
      window.location.reload();
      return;
    }
    if (progress.total) {
      text.textContent = `Checked ${progress.done} of ${progress.total} rows.`;
      bar.max = progress.total;
      bar.value = progress.done;
    }
  }
  setTimeout(poll, 1000);
}

if (box) setTimeout(poll, 1000);
