/* Kefu desk: tickets (工单) beside the conversation.
 *
 * - 「转工单」 in the conversation's header opens the new-ticket form prefilled from this
 *   chat (the bot's reading, the buyer's last lines, their order) in a new tab, so the
 *   desk stays connected.
 * - 「升级」 escalates the buyer's last question to the duty manager (POST
 *   /api/v1/tickets/escalations): the question is shown, editable, before it is sent.
 * - A card in the customer panel lists the conversation's tickets with their status and
 *   SLA state, re-read when notify.js reports a ticket change (kefu:ticket).
 *
 * desk.js announces each rendered customer panel with `kefu:panel` (detail:
 * conversationId, customerId, panel); nothing else of desk.js is used. Buyer and shop text
 * goes on the page with textContent only.
 */
(function () {
  "use strict";

  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("desk-tickets-strings") || {}).textContent || "{}");
  } catch (e) { STRINGS = {}; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.getAttribute("content") : "";
  var actions = document.querySelector("#desk-conv .conv-actions");
  var state = { conversationId: null, ids: {}, ticket: 0 };
  var ui = null;

  function t(key, params) {
    var text = STRINGS[key] || key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(params[name]));
      });
    }
    return text;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json", "Accept-Language": document.documentElement.lang || "zh-CN" };
    var options = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var message = data && data.error && data.error.message;
          throw new Error(message || t("error"));
        }
        return data;
      });
    }, function () { throw new Error(t("error")); });
  }

  /* ------------------------------------------------------------ header buttons */

  var toTicket = null;
  var escalate = null;
  var box = null;

  function headerButtons() {
    if (!actions || toTicket) return;
    toTicket = el("a", "btn", t("to_ticket"));
    toTicket.setAttribute("data-testid", "desk-to-ticket");
    toTicket.target = "_blank";
    toTicket.rel = "noopener";
    toTicket.title = t("to_ticket_hint");
    toTicket.hidden = true;
    escalate = el("button", "btn", t("escalate"));
    escalate.type = "button";
    escalate.setAttribute("data-testid", "desk-escalate");
    escalate.title = t("escalate_hint");
    escalate.hidden = true;
    escalate.addEventListener("click", toggleEscalation);
    actions.insertBefore(escalate, actions.firstChild);
    actions.insertBefore(toTicket, actions.firstChild);
  }

  function lastBuyerLine() {
    var lines = document.querySelectorAll("#desk-messages .msg[data-sender='customer'] .bubble");
    for (var i = lines.length - 1; i >= 0; i--) {
      var text = (lines[i].textContent || "").trim();
      if (text) return text.slice(0, 500);
    }
    return "";
  }

  function toggleEscalation() {
    if (box) { box.parentNode.removeChild(box); box = null; return; }
    var head = document.querySelector("#desk-conv .conv-head");
    if (!head) return;
    box = el("form", "tickets-escalate");
    box.setAttribute("data-testid", "desk-escalate-form");
    var label = el("label", null, t("escalate_question"));
    var question = el("textarea");
    question.rows = 2;
    question.maxLength = 500;
    question.required = true;
    question.value = lastBuyerLine();
    question.setAttribute("data-testid", "desk-escalate-question");
    label.appendChild(question);
    var foot = el("div", "tickets-escalate-foot");
    var cancel = el("button", "link-btn", t("cancel"));
    cancel.type = "button";
    var send = el("button", "btn btn-small btn-primary", t("escalate_send"));
    send.type = "submit";
    send.setAttribute("data-testid", "desk-escalate-send");
    foot.appendChild(el("span", "muted small", t("escalate_who")));
    foot.appendChild(cancel);
    foot.appendChild(send);
    box.appendChild(label);
    box.appendChild(foot);
    cancel.addEventListener("click", toggleEscalation);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      send.disabled = true;
      var conversationId = state.conversationId;
      api("POST", "/api/v1/tickets/escalations", {
        question: question.value, conversation_id: conversationId,
      }).then(function (made) {
        if (box) { box.parentNode.removeChild(box); box = null; }
        say(t("escalated", { number: made && made.number }));
        load();
      }, function (error) {
        send.disabled = false;
        say(error.message, true);
      });
    });
    head.parentNode.insertBefore(box, head.nextSibling);
    question.focus();
  }

  /* ------------------------------------------------------------ the panel's card */

  function ensureCard(panel) {
    if (ui && document.body.contains(ui.card)) return;
    var side = panel && panel.closest ? panel.closest(".side-content") : document.getElementById("desk-side-content");
    if (!side) return;
    var card = el("section", "side-card tickets-card");
    card.setAttribute("data-testid", "desk-tickets");
    var title = el("div", "tickets-card-head");
    title.appendChild(el("h3", null, t("title")));
    card.appendChild(title);
    var status = el("p", "tickets-status small");
    status.setAttribute("role", "status");
    status.setAttribute("data-testid", "desk-tickets-status");
    status.hidden = true;
    card.appendChild(status);
    var list = el("ul", "tickets-list");
    card.appendChild(list);
    // After the buyer's facts, before the orders: what is already being handled comes first.
    var first = side.querySelector(".side-card");
    side.insertBefore(card, first ? first.nextSibling : null);
    ui = { card: card, list: list, status: status };
  }

  function say(text, isError) {
    if (!ui) return;
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
    ui.status.classList.toggle("tickets-error", !!isError);
  }

  function load() {
    if (!ui || !state.conversationId) return;
    var ticket = ++state.ticket;
    var query = "?conversation_id=" + encodeURIComponent(state.conversationId) + "&limit=20";
    api("GET", "/api/v1/tickets" + query).then(function (data) {
      if (ticket !== state.ticket) return;  // another conversation was opened meanwhile
      render((data && data.tickets) || []);
    }, function (error) {
      if (ticket === state.ticket) say(error.message, true);
    });
  }

  function render(rows) {
    while (ui.list.firstChild) ui.list.removeChild(ui.list.firstChild);
    state.ids = {};
    if (!rows.length) {
      ui.list.appendChild(el("li", "muted small", t("none")));
      return;
    }
    rows.forEach(function (row) {
      state.ids[row.id] = true;
      var item = el("li", "tickets-row");
      item.setAttribute("data-testid", "desk-ticket");
      var link = el("a", "tickets-link", t("number", { number: row.number }));
      link.href = "/tickets/" + encodeURIComponent(row.id);
      link.target = "_blank";
      link.rel = "noopener";
      item.appendChild(link);
      item.appendChild(el("span", "tickets-title", row.title));
      var facts = el("div", "tickets-facts small");
      facts.appendChild(el("span", "tickets-pill tickets-" + String(row.status).replace(/[^a-z_]/g, ""),
        t("status." + row.status)));
      if (row.sla_state && row.sla_state !== "none") {
        facts.appendChild(el("span", "tickets-sla tickets-sla-" + String(row.sla_state).replace(/[^a-z_]/g, ""),
          t("sla." + row.sla_state)));
      }
      facts.appendChild(el("span", "muted", row.assignee_name || row.team_name || t("unassigned")));
      item.appendChild(facts);
      ui.list.appendChild(item);
    });
  }

  document.addEventListener("kefu:panel", function (event) {
    var d = event.detail || {};
    var changed = d.conversationId !== state.conversationId;
    state.conversationId = d.conversationId || null;
    headerButtons();
    if (toTicket) {
      toTicket.hidden = !state.conversationId;
      toTicket.href = "/tickets/new?conversation_id=" + encodeURIComponent(state.conversationId || "");
    }
    if (escalate) escalate.hidden = !state.conversationId;
    if (changed && box) { box.parentNode.removeChild(box); box = null; }
    ensureCard(d.panel);
    if (changed) say("");
    load();
  });

  var timer = null;
  document.addEventListener("kefu:ticket", function (event) {
    var frame = event.detail || {};
    var changed = frame.changed || [];
    // A ticket of this chat, or one that may have just been linked to it.
    if (!state.ids[frame.ticket_id] && changed.indexOf("created") < 0 &&
        changed.indexOf("conversations") < 0 && changed.indexOf("split") < 0) return;
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  // (Re)connected: whatever changed meanwhile is read again.
  document.addEventListener("kefu:staff-ready", function () { if (ui) load(); });
})();
