// whodunit web UI: progressive enhancement only. Every page works
// without this script; with it, tables marked "sortable" sort by a click
// or Enter on their headers. No remote loads, no inline code (the
// Content-Security-Policy forbids both).
"use strict";

(function () {
  function cellValue(row, i) {
    const t = (row.cells[i] && row.cells[i].innerText || "").trim();
    const n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) || !/^[-+]?[\d.,]+%?$/.test(t) ? t.toLowerCase() : n;
  }

  function sortBy(table, i, th) {
    const body = table.tBodies[0];
    const asc = th.getAttribute("aria-sort") !== "ascending";
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = cellValue(a, i), y = cellValue(b, i);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    for (const h of table.tHead.rows[0].cells) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    for (const r of rows) body.appendChild(r);
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.from(table.tHead.rows[0].cells).forEach(function (th, i) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      th.addEventListener("click", function () { sortBy(table, i, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, i, th); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(enhance);
  });
})();

// A running job's page follows the job's server-sent events and shows
// each step as it comes; when the job is done it reloads to show the
// result. Without script the page reloads itself (a <noscript> refresh).
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    const sec = document.getElementById("job");
    if (!sec || sec.dataset.state !== "running" || !window.EventSource) return;
    const list = document.getElementById("job-events");
    const state = document.getElementById("job-state");
    const src = new EventSource("/api/v1/jobs/" + encodeURIComponent(sec.dataset.job) + "/events");
    let shown = list.children.length;
    src.addEventListener("progress", function (e) {
      const p = JSON.parse(e.data);
      if (p.seq <= shown) return;
      shown = p.seq;
      const li = document.createElement("li");
      li.textContent = p.stage + (p.detail ? " " + p.detail : "") + " " + p.done + "/" + p.total;
      list.appendChild(li);
    });
    src.addEventListener("done", function (e) {
      src.close();
      state.textContent = JSON.parse(e.data).state;
      window.location.reload();
    });
  });
})();

// "/" focuses the search box from anywhere but a field being typed in,
// as in the mail and code-hosting tools analysts know.
(function () {
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    const box = document.getElementById("search-box");
    if (!box) return;
    e.preventDefault();
    box.focus();
  });
})();
