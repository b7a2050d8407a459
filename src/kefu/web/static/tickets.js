/* Kefu: the ticket list (/tickets).
 *
 * - Choosing a saved view opens it.
 * - The checkboxes feed the bulk form (it lives above the table; each box names it with
 *   form="bulk-form"); 「全选」 ticks the page.
 * - Live: when notify.js reports a ticket change (kefu:ticket), or its socket reconnects,
 *   the rows are read again from /tickets/rows with this page's own filters and swapped in,
 *   ticked boxes kept. Every minute too, so the SLA clocks count down.
 *
 * The rows come from the server already escaped (Jinja autoescape); they are parsed as an
 * inert document and moved in, never assigned as HTML to the live page.
 */
(function () {
  "use strict";

  var table = document.querySelector("table.tk-table");
  if (!table) return;
  var total = document.getElementById("tickets-total");
  var live = document.getElementById("tickets-live");
  var pickAll = document.getElementById("pick-all");
  var bulkCount = document.getElementById("bulk-count");
  var REFRESH_EVERY = 60000;
  var timer = null;
  var inFlight = false;
  var again = false;

  function label(name, n) {
    return (table.getAttribute(name) || "{n}").split("{n}").join(String(n));
  }

  function boxes() {
    return Array.prototype.slice.call(table.querySelectorAll("input[name='ticket_ids']"));
  }

  function showPicked() {
    var picked = boxes().filter(function (b) { return b.checked; }).length;
    if (bulkCount) bulkCount.textContent = picked ? label("data-picked-label", picked) : "";
    if (pickAll) {
      var all = boxes();
      pickAll.checked = all.length > 0 && picked === all.length;
      pickAll.indeterminate = picked > 0 && picked < all.length;
    }
  }

  if (pickAll) {
    pickAll.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = pickAll.checked; });
      showPicked();
    });
  }
  table.addEventListener("change", function (event) {
    if (event.target && event.target.name === "ticket_ids") showPicked();
  });

  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { if (select.form) select.form.submit(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".tk-nojs"), function (b) { b.hidden = true; });

  /* ------------------------------------------------------------ live rows */

  function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    fetch("/tickets/rows" + location.search, {
      headers: { Accept: "text/html" }, credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) return null;
      return response.text();
    }).then(function (html) {
      if (html) swap(html);
    }, function () { /* offline: the next change or reconnect tries again */ }).then(function () {
      inFlight = false;
      if (again) { again = false; refresh(); }
    });
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
    var fresh = doc.getElementById("ticket-rows");
    var current = document.getElementById("ticket-rows");
    if (!fresh || !current) return;
    var ticked = {};
    boxes().forEach(function (b) { if (b.checked) ticked[b.value] = true; });
    var adopted = document.importNode(fresh, true);
    Array.prototype.forEach.call(adopted.querySelectorAll("input[name='ticket_ids']"), function (b) {
      if (ticked[b.value]) b.checked = true;
    });
    current.parentNode.replaceChild(adopted, current);
    if (total) total.textContent = label("data-count-label", adopted.getAttribute("data-total") || "0");
    showPicked();
    if (live) {
      live.hidden = false;
      clearTimeout(live._hide);
      live._hide = setTimeout(function () { live.hidden = true; }, 3000);
    }
  }

  function soon() {
    clearTimeout(timer);
    // Several changes at once (a bulk change, a merge) cost one read.
    timer = setTimeout(refresh, 250);
  }

  document.addEventListener("kefu:ticket", soon);
  document.addEventListener("kefu:staff-ready", soon);
  setInterval(refresh, REFRESH_EVERY);
  showPicked();
})();
