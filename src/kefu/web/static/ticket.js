/* Kefu: one ticket (/tickets/{id}) and the new-ticket form (/tickets/new).
 *
 * - New ticket: the custom fields of the chosen type are shown (the others are disabled, so
 *   they are not sent); an internal request asks which team is asking.
 * - Team → assignee: the assignee list offers the chosen team's members only (the server
 *   refuses anyone else, naming them).
 * - Comments: 「内部备注」 or 「回复买家」, and @ suggests colleagues' names as you type.
 * - A file over the upload limit is refused before it is sent.
 * - Live: when notify.js reports a change of this ticket (kefu:ticket), the thread, history,
 *   SLA clocks and header facts are read again and swapped in (forms keep what is being
 *   typed); a change to what the forms show also raises 「此工单已更新，刷新」.
 *
 * Server text is put on the page with textContent only; re-read parts come from the
 * server already escaped and are moved in as nodes of an inert parsed document.
 */
(function () {
  "use strict";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  /* ------------------------------------------------------------ the new-ticket form */

  var typeSelect = document.getElementById("new-type");
  function showType() {
    if (!typeSelect) return;
    var chosen = typeSelect.value;
    all("fieldset[data-type]").forEach(function (set) {
      var on = set.getAttribute("data-type") === chosen;
      set.hidden = !on;
      set.disabled = !on;
    });
    all("fieldset[data-for-type]").forEach(function (set) {
      var on = set.getAttribute("data-for-type") === chosen;
      set.hidden = !on;
      set.disabled = !on;
    });
  }
  if (typeSelect) {
    typeSelect.addEventListener("change", showType);
    showType();
  }

  /* ------------------------------------------------------------ team → assignee */

  all("form").forEach(function (form) {
    var team = form.querySelector("[data-team-select]");
    var assignee = form.querySelector("[data-assignee-select]");
    if (!team || !assignee) return;
    function limit() {
      var chosen = team.value;
      all("option[data-teams]", assignee).forEach(function (option) {
        var teams = (option.getAttribute("data-teams") || "").split(",");
        var fits = !chosen || teams.indexOf(chosen) >= 0;
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) assignee.value = "";
      });
    }
    team.addEventListener("change", limit);
    limit();
  });

  /* ------------------------------------------------------------ comments and @mentions */

  var body = document.getElementById("comment-body");
  var list = document.getElementById("mention-list");
  var staff = [];
  try {
    staff = JSON.parse((document.getElementById("ticket-staff") || {}).textContent || "[]");
  } catch (e) { staff = []; }

  all("input[name='kind']").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!body) return;
      body.placeholder = body.getAttribute(radio.value === "reply" ? "data-reply-hint" : "data-note-hint") || "";
    });
  });

  var picked = 0;
  var matches = [];

  function typedMention() {
    var before = body.value.slice(0, body.selectionStart || 0);
    var match = /(^|\s)[@＠]([^\s@＠]{0,20})$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, text: match[2].toLowerCase() } : null;
  }

  function hideList() {
    if (!list) return;
    list.hidden = true;
    while (list.firstChild) list.removeChild(list.firstChild);
    matches = [];
  }

  function insert(name) {
    var at = typedMention();
    if (!at) return hideList();
    var caret = body.selectionStart || 0;
    var text = "@" + name + " ";
    body.value = body.value.slice(0, at.start) + text + body.value.slice(caret);
    var where = at.start + text.length;
    body.setSelectionRange(where, where);
    body.focus();
    hideList();
  }

  function suggest() {
    if (!list) return;
    var at = typedMention();
    if (!at) return hideList();
    matches = staff.filter(function (name) {
      return String(name).toLowerCase().indexOf(at.text) >= 0;
    }).slice(0, 6);
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!matches.length) return hideList();
    picked = 0;
    matches.forEach(function (name, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.setAttribute("data-testid", "mention-option");
      item.textContent = "@" + name;
      if (i === picked) item.setAttribute("aria-selected", "true");
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the caret in the textarea
        insert(name);
      });
      list.appendChild(item);
    });
    list.hidden = false;
  }

  function mark() {
    all("li", list).forEach(function (item, i) {
      if (i === picked) item.setAttribute("aria-selected", "true");
      else item.removeAttribute("aria-selected");
    });
  }

  if (body && list) {
    body.addEventListener("input", suggest);
    body.addEventListener("blur", function () { setTimeout(hideList, 150); });
    body.addEventListener("keydown", function (event) {
      if (list.hidden || !matches.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        picked = (picked + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
        mark();
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        insert(matches[picked]);
      } else if (event.key === "Escape") {
        hideList();
      }
    });
  }

  /* ------------------------------------------------------------ files */

  all("form[data-max-bytes]").forEach(function (form) {
    var max = Number(form.getAttribute("data-max-bytes")) || 0;
    var warning = form.querySelector("[data-testid='upload-too-big']");
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type='file']");
      var file = input && input.files && input.files[0];
      if (file && max && file.size > max) {
        event.preventDefault();
        if (warning) {
          warning.textContent = form.getAttribute("data-too-big") || "";
          warning.hidden = false;
        }
      }
    });
  });

  /* ------------------------------------------------------------ a refusal is seen */

  var refused = document.getElementById("ticket-error");
  if (refused && refused.scrollIntoView) refused.scrollIntoView({ block: "center" });

  /* ------------------------------------------------------------ live */

  var head = document.getElementById("ticket-head");
  if (!head) return;
  var ticketId = Number(head.getAttribute("data-ticket"));
  var stale = document.getElementById("ticket-stale");
  var timer = null;
  var formsStale = false;

  function reread() {
    fetch(location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        all("[data-live][id]").forEach(function (part) {
          var fresh = doc.getElementById(part.id);
          if (fresh) part.parentNode.replaceChild(document.importNode(fresh, true), part);
        });
        if (formsStale && stale) stale.hidden = false;
      }, function () {
        if (stale) stale.hidden = false;
      });
  }

  document.addEventListener("kefu:ticket", function (event) {
    var frame = event.detail || {};
    if (Number(frame.ticket_id) !== ticketId) return;
    var changed = frame.changed || [];
    if (changed.some(function (what) { return what !== "comment"; })) formsStale = true;
    clearTimeout(timer);
    timer = setTimeout(reread, 200);
  });
})();
