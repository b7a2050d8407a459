/* Kefu desk: after-sales cases (售后) beside the conversation.
 *
 * Each order in the customer panel gets a 「售后」 button that registers the buyer's refund,
 * return or exchange request for this conversation (kind, reason, optional amount), and a
 * card lists the buyer's cases with their status, a link to the case page and, for open
 * ones, 「同意」/「拒绝」 (a rejection needs the reason the buyer will read).
 *
 * desk.js announces each rendered customer panel with a `kefu:panel` event (detail:
 * conversationId, customerId, orders, panel); nothing else of desk.js is used. Buyer and
 * shop text goes on the page with textContent only.
 */
(function () {
  "use strict";

  var REFUNDABLE = ["paid", "shipped", "delivered", "refunding"];
  var SENT = ["shipped", "delivered"];
  var KINDS = ["refund", "return", "exchange"];
  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("desk-cases-strings") || {}).textContent || "{}");
  } catch (e) { STRINGS = {}; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.getAttribute("content") : "";

  var state = { conversationId: null, customerId: null, orders: [], ticket: 0 };
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

  function button(label, cls, testid) {
    var b = el("button", cls, label);
    b.type = "button";
    if (testid) b.setAttribute("data-testid", testid);
    return b;
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

  function allowedKinds(status) {
    if (REFUNDABLE.indexOf(status) < 0) return [];
    return SENT.indexOf(status) >= 0 ? KINDS.slice() : ["refund"];
  }

  function say(text, isError) {
    if (!ui) return;
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
    ui.status.classList.toggle("cases-error", !!isError);
  }

  /* ------------------------------------------------------------ the card of cases */

  function ensureCard(panel) {
    var orderCard = panel && panel.closest ? panel.closest(".side-card") : null;
    if (ui && document.body.contains(ui.card)) return;
    var card = el("section", "side-card cases-card");
    card.setAttribute("data-testid", "desk-cases");
    card.appendChild(el("h3", null, t("title")));
    var status = el("p", "cases-status small");
    status.setAttribute("role", "status");
    status.setAttribute("data-testid", "desk-cases-status");
    status.hidden = true;
    card.appendChild(status);
    var list = el("div", "cases-list");
    card.appendChild(list);
    if (orderCard && orderCard.parentNode) {
      orderCard.parentNode.insertBefore(card, orderCard.nextSibling);
    } else if (panel && panel.parentNode) {
      panel.parentNode.appendChild(card);
    }
    ui = { card: card, list: list, status: status };
  }

  function load() {
    if (!ui || !state.customerId) return;
    var ticket = ++state.ticket;
    var query = "?customer_id=" + encodeURIComponent(state.customerId) + "&limit=20";
    api("GET", "/api/v1/sales/cases" + query).then(function (data) {
      if (ticket !== state.ticket) return;   // another conversation was opened meanwhile
      render((data && data.cases) || []);
    }, function (error) {
      if (ticket === state.ticket) say(error.message, true);
    });
  }

  function render(cases) {
    while (ui.list.firstChild) ui.list.removeChild(ui.list.firstChild);
    if (!cases.length) {
      ui.list.appendChild(el("p", "muted small", t("none")));
      return;
    }
    cases.forEach(function (c) { ui.list.appendChild(caseRow(c)); });
  }

  function caseRow(c) {
    var row = el("div", "case-row");
    row.setAttribute("data-testid", "desk-case");
    row.dataset.caseId = String(c.id);
    row.dataset.status = c.status;
    var head = el("div", "case-head");
    var link = el("a", "case-link", "#" + c.id);
    link.href = "/aftersales/" + encodeURIComponent(c.id);
    link.setAttribute("data-testid", "desk-case-link");
    head.appendChild(link);
    head.appendChild(el("span", "case-kind", t("kind." + c.kind)));
    head.appendChild(el("span", "case-pill case-" + String(c.status).replace(/[^a-z_]/g, ""),
      t("status." + c.status)));
    row.appendChild(head);
    var about = el("div", "case-about muted small");
    about.appendChild(el("span", "case-order", c.order_no || ""));
    if (c.amount) about.appendChild(document.createTextNode(" · ¥" + c.amount));
    row.appendChild(about);
    if (c.reason) row.appendChild(el("div", "case-reason small", c.reason));
    if (c.status === "open") row.appendChild(decisionTools(c));
    return row;
  }

  function decisionTools(c) {
    var box = el("div", "case-actions");
    var approve = button(t("approve"), "btn btn-small btn-primary", "desk-case-approve");
    var reject = button(t("reject"), "btn btn-small", "desk-case-reject");
    var why = el("div", "case-reject");
    why.hidden = true;
    var note = el("input");
    note.type = "text";
    note.maxLength = 1000;
    note.placeholder = t("reject_hint");
    note.setAttribute("aria-label", t("reject_hint"));
    note.setAttribute("data-testid", "desk-case-reject-note");
    var confirm = button(t("reject_confirm"), "btn btn-small", "desk-case-reject-confirm");
    why.appendChild(note);
    why.appendChild(confirm);
    approve.addEventListener("click", function () { decide(c, true, "", [approve, reject, confirm]); });
    reject.addEventListener("click", function () { why.hidden = !why.hidden; if (!why.hidden) note.focus(); });
    confirm.addEventListener("click", function () { decide(c, false, note.value, [approve, reject, confirm]); });
    box.appendChild(approve);
    box.appendChild(reject);
    box.appendChild(why);
    return box;
  }

  function decide(c, approve, note, buttons) {
    buttons.forEach(function (b) { b.disabled = true; });
    api("POST", "/api/v1/sales/cases/" + encodeURIComponent(c.id) + "/decision",
      { approve: approve, note: note }).then(function (done) {
      say(t("decided", { id: done.id, status: t("status." + done.status) }));
      load();
    }, function (error) {
      buttons.forEach(function (b) { b.disabled = false; });
      say(error.message, true);
    });
  }

  /* ------------------------------------------------------------ 「售后」 on each order */

  function decorateOrders(panel) {
    if (!panel) return;
    var byId = {};
    state.orders.forEach(function (o) { byId[String(o.id)] = o; });
    Array.prototype.forEach.call(panel.querySelectorAll(".order[data-order-id]"), function (card) {
      if (card.querySelector("[data-testid='desk-case-open']")) return;
      var order = byId[card.dataset.orderId];
      if (!order) return;
      var actions = card.querySelector(".order-actions");
      if (!actions) {
        actions = el("div", "order-actions");
        card.appendChild(actions);
      }
      var open = button(t("action"), "link-btn case-start", "desk-case-open");
      var kinds = allowedKinds(order.status);
      if (!kinds.length) {
        open.disabled = true;
        open.title = t("not_allowed");
      }
      open.addEventListener("click", function () { toggleForm(card, actions, order, kinds); });
      actions.insertBefore(open, actions.firstChild);
    });
  }

  function toggleForm(card, actions, order, kinds) {
    var existing = card.querySelector(".case-form");
    if (existing) { existing.parentNode.removeChild(existing); return; }
    var form = el("form", "case-form");
    form.setAttribute("data-testid", "desk-case-form");
    var kindLabel = el("label", null, t("kind"));
    var kind = el("select");
    kind.name = "kind";
    kind.setAttribute("data-testid", "desk-case-kind");
    kinds.forEach(function (k) {
      var option = el("option", null, t("kind." + k));
      option.value = k;
      kind.appendChild(option);
    });
    kindLabel.appendChild(kind);
    var reasonLabel = el("label", null, t("reason"));
    var reason = el("textarea");
    reason.rows = 2;
    reason.maxLength = 1000;
    reason.required = true;
    reason.placeholder = t("reason_hint");
    reason.setAttribute("data-testid", "desk-case-reason");
    reasonLabel.appendChild(reason);
    var amountLabel = el("label", null, t("amount"));
    var amount = el("input");
    amount.inputMode = "decimal";
    amount.placeholder = t("amount_hint") + " ¥" + (order.total || "");
    amount.setAttribute("data-testid", "desk-case-amount");
    amountLabel.appendChild(amount);
    kind.addEventListener("change", function () { amountLabel.hidden = kind.value === "exchange"; });
    var foot = el("div", "case-form-foot");
    var cancel = button(t("cancel"), "link-btn");
    var submit = el("button", "btn btn-small btn-primary", t("submit"));
    submit.type = "submit";
    submit.setAttribute("data-testid", "desk-case-submit");
    foot.appendChild(cancel);
    foot.appendChild(submit);
    [kindLabel, reasonLabel, amountLabel, foot].forEach(function (n) { form.appendChild(n); });
    cancel.addEventListener("click", function () { form.parentNode.removeChild(form); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {
        order_id: order.id,
        kind: kind.value,
        reason: reason.value,
        conversation_id: state.conversationId,
      };
      var typed = amount.value.trim();
      if (typed && kind.value !== "exchange") body.amount = typed;
      submit.disabled = true;
      api("POST", "/api/v1/sales/cases", body).then(function (made) {
        if (form.parentNode) form.parentNode.removeChild(form);
        say(t("created", { id: made.id }));
        load();
      }, function (error) {
        submit.disabled = false;
        say(error.message, true);
      });
    });
    actions.parentNode.insertBefore(form, actions.nextSibling);
    reason.focus();
  }

  document.addEventListener("kefu:panel", function (event) {
    var d = event.detail || {};
    var changed = d.conversationId !== state.conversationId;
    state.conversationId = d.conversationId || null;
    state.customerId = d.customerId || null;
    state.orders = d.orders || [];
    ensureCard(d.panel);
    if (changed) say("");
    decorateOrders(d.panel);
    load();
  });
})();
