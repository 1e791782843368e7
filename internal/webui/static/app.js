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
