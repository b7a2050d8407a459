/* Kefu desk: the shop's commerce beside the conversation.
 *
 * The buyer's orders in the customer panel (status, items, total, courier and tracking
 * number with a copy button, 「详情」 and 「发送订单」), the product search with 「发送」,
 * and product and order cards in the transcript. Loaded before desk.js, which calls
 * KefuDeskCommerce.create(deps) with its helpers once. Buyer and shop text is hostile:
 * everything goes on the page with textContent; pictures only from https (or our own) URLs.
 */
(function () {
  "use strict";

  var SEARCH_WAIT = 250;   // debounce: one request per pause in typing
  var STATUSES = ["unpaid", "paid", "shipped", "delivered", "closed", "refunding", "refunded"];

  function create(d) {
    var t = d.t;
    var el = d.el;
    var byId = function (id) { return document.getElementById(id); };
    var ui = {
      form: byId("desk-product-form"),
      query: byId("desk-product-q"),
      results: byId("desk-product-results"),
    };
    var search = { timer: null, ticket: 0, loaded: false };

    function safeImage(url) {
      if (typeof url !== "string" || !url) return null;
      if (/^https:\/\//i.test(url)) return url;
      if (url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\") return url;
      return null;
    }

    function picture(url, cls, alt) {
      var src = safeImage(url);
      if (!src) return el("div", cls + " no-image", "");
      var img = document.createElement("img");
      img.className = cls;
      img.alt = alt || "";
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      img.src = src;
      return img;
    }

    function statusLabel(status) {
      return STATUSES.indexOf(status) >= 0 ? t("order." + status) : String(status || "");
    }

    function statusPill(status) {
      return el("span", "order-status status-" + String(status || "").replace(/[^a-z_]/g, ""),
        statusLabel(status));
    }

    function variantText(line) {
      return [line.size, line.colour].filter(function (x) { return x; }).join(" / ");
    }

    function button(label, cls, testid) {
      var b = el("button", cls || "link-btn", label);
      b.type = "button";
      if (testid) b.setAttribute("data-testid", testid);
      return b;
    }

    /* ------------------------------------------------------------ copying */

    function copy(text) {
      var done = function () { d.showInfo(t("orders.copied")); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { copyByHand(text, done); });
      } else {
        copyByHand(text, done);
      }
    }

    function copyByHand(text, done) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) done();
    }

    /* ------------------------------------------------------------ sending a card */

    function sendCard(kind, refId, trigger) {
      var id = d.openId();
      if (id === null) return;
      if (!d.isOpen(id)) { d.showError(t("composer.closed")); return; }
      if (trigger) trigger.disabled = true;
      d.api("POST", "/api/v1/desk/conversations/" + id + "/cards",
        { kind: kind, ref_id: refId, client_msg_id: d.randomId() })
        .then(function (m) {
          d.onSent(m);
          d.showInfo(t("card.sent"));
        }, d.reportError)
        .then(function () { if (trigger) trigger.disabled = false; });
    }

    /* ------------------------------------------------------------ the buyer's orders */

    function renderOrders(box, ctx) {
      d.clear(box);
      var orders = (ctx.orders || []).slice().sort(function (a, b) {
        return String(b.created_at || "").localeCompare(String(a.created_at || "")) || b.id - a.id;
      });
      if (!orders.length) {
        box.appendChild(el("p", "muted small orders-none", t("orders.none")));
        return;
      }
      orders.forEach(function (o) { box.appendChild(orderCard(o)); });
    }

    function orderCard(o) {
      var card = el("div", "order");
      card.setAttribute("data-testid", "desk-order");
      card.dataset.orderId = String(o.id);
      card.dataset.number = o.number || "";
      var head = el("div", "order-head");
      head.appendChild(el("span", "order-no copyable", o.number || ""));
      head.appendChild(statusPill(o.status));
      card.appendChild(head);
      var lines = el("ul", "order-lines");
      (o.lines || []).forEach(function (line) {
        var li = el("li");
        var what = el("span", "line-title", line.title || "");
        var variant = variantText(line);
        if (variant) what.appendChild(el("span", "line-variant muted", " " + variant));
        li.appendChild(what);
        li.appendChild(el("span", "line-qty", "×" + (line.quantity || 1)));
        lines.appendChild(li);
      });
      card.appendChild(lines);
      var foot = el("div", "order-foot");
      foot.appendChild(el("span", "order-total", d.money(o.total)));
      foot.appendChild(el("time", "muted", d.shortTime(o.created_at)));
      card.appendChild(foot);
      if (o.courier || o.tracking_no) {
        var ship = el("div", "order-ship");
        ship.appendChild(el("span", "muted", t("orders.courier") + " "));
        ship.appendChild(document.createTextNode((o.courier || "") + " "));
        var tracking = el("span", "copyable tracking", o.tracking_no || "");
        tracking.setAttribute("data-testid", "desk-order-tracking");
        ship.appendChild(tracking);
        if (o.tracking_no) {
          var copyBtn = button(t("orders.copy"), "link-btn copy-btn", "desk-order-copy");
          copyBtn.title = t("orders.copy") + " " + t("orders.tracking");
          copyBtn.addEventListener("click", function () { copy(o.tracking_no); });
          ship.appendChild(copyBtn);
        }
        card.appendChild(ship);
      }
      var actions = el("div", "order-actions");
      var details = el("div", "order-details");
      details.hidden = true;
      details.setAttribute("data-testid", "desk-order-details");
      var toggle = button(t("orders.details"), "link-btn", "desk-order-toggle");
      toggle.setAttribute("aria-expanded", "false");
      toggle.addEventListener("click", function () { toggleDetails(o.id, toggle, details); });
      actions.appendChild(toggle);
      var send = button(t("orders.send"), "btn btn-small", "desk-order-send");
      send.addEventListener("click", function () { sendCard("order", o.id, send); });
      actions.appendChild(send);
      card.appendChild(actions);
      card.appendChild(details);
      return card;
    }

    function toggleDetails(orderId, toggle, box) {
      var opening = box.hidden;
      box.hidden = !opening;
      toggle.textContent = opening ? t("orders.hide") : t("orders.details");
      toggle.setAttribute("aria-expanded", opening ? "true" : "false");
      if (!opening) return;
      d.clear(box);
      box.appendChild(el("p", "muted small", t("loading")));
      d.api("GET", "/api/v1/desk/orders/" + orderId).then(function (order) {
        d.clear(box);
        fillDetails(box, order);
      }, function (error) {
        d.clear(box);
        box.appendChild(el("p", "muted small", error.message || t("error.generic")));
      });
    }

    function fact(list, label, value, cls) {
      if (value === null || value === undefined || value === "") return;
      list.appendChild(el("dt", null, label));
      list.appendChild(el("dd", cls || null, value));
    }

    function fillDetails(box, o) {
      var lines = el("ul", "detail-lines");
      (o.lines || []).forEach(function (line) {
        var li = el("li");
        li.appendChild(picture(line.image, "detail-thumb", line.title));
        var what = el("div", "detail-what");
        what.appendChild(el("div", "line-title", line.title || ""));
        var variant = variantText(line);
        what.appendChild(el("div", "muted small", [variant, line.sku].filter(Boolean).join(" · ")));
        li.appendChild(what);
        li.appendChild(el("div", "detail-qty", d.money(line.unit_price) + " ×" + line.quantity));
        lines.appendChild(li);
      });
      box.appendChild(lines);
      var money = el("dl", "facts detail-facts");
      fact(money, t("orders.items_total"), d.money(o.items_total));
      if (Number(o.discount) > 0) fact(money, t("orders.discount"), "−" + d.money(o.discount));
      if (Number(o.shipping_fee) > 0) fact(money, t("orders.shipping_fee"), d.money(o.shipping_fee));
      fact(money, t("orders.total"), d.money(o.total), "order-total");
      fact(money, t("orders.coupon"), o.coupon_code, "copyable");
      fact(money, t("orders.courier"), o.courier);
      fact(money, t("orders.tracking"), o.tracking_no, "copyable");
      var to = o.ship_to || {};
      fact(money, t("orders.address"),
        [to.name, to.phone, to.address].filter(function (x) { return x; }).join(" "), "copyable");
      box.appendChild(money);
      box.appendChild(el("div", "detail-heading muted small", t("orders.timeline")));
      var steps = el("ol", "timeline");
      steps.setAttribute("data-testid", "desk-order-timeline");
      (o.timeline || []).forEach(function (step) {
        var li = el("li");
        li.appendChild(el("span", "step", t("orders.step." + step.step)));
        li.appendChild(el("time", "muted", step.local || ""));
        steps.appendChild(li);
      });
      box.appendChild(steps);
    }

    /* ------------------------------------------------------------ product search */

    function scheduleSearch(wait) {
      clearTimeout(search.timer);
      search.timer = setTimeout(runSearch, wait === undefined ? SEARCH_WAIT : wait);
    }

    function runSearch() {
      var ticket = ++search.ticket;
      var q = ui.query.value.trim();
      d.api("GET", "/api/v1/desk/products?q=" + encodeURIComponent(q)).then(function (answer) {
        if (ticket !== search.ticket) return;   // a later search answered or will
        search.loaded = true;
        renderProducts((answer && answer.products) || []);
      }, function (error) {
        if (ticket === search.ticket) d.reportError(error);
      });
    }

    function renderProducts(products) {
      d.clear(ui.results);
      if (!products.length) {
        ui.results.appendChild(el("p", "muted small", t("products.none")));
        return;
      }
      products.forEach(function (p) {
        var row = el("div", "product" + (p.on_sale ? "" : " off-sale"));
        row.setAttribute("data-testid", "desk-product");
        row.dataset.productId = String(p.id);
        row.appendChild(picture(p.image, "product-thumb", p.title));
        var info = el("div", "product-info");
        info.appendChild(el("div", "product-title", p.title || ""));
        var meta = el("div", "product-meta");
        meta.appendChild(el("span", "product-price", d.money(p.price)));
        if (p.stock !== null && p.stock !== undefined) {
          meta.appendChild(el("span", "muted", t("products.stock", { n: p.stock })));
        }
        if (!p.on_sale) meta.appendChild(el("span", "tag tag-off", t("products.off_sale")));
        info.appendChild(meta);
        info.appendChild(el("div", "muted small product-sku", p.sku || ""));
        row.appendChild(info);
        var send = button(t("products.send"), "btn btn-small", "desk-product-send");
        send.addEventListener("click", function () { sendCard("product", p.id, send); });
        row.appendChild(send);
        ui.results.appendChild(row);
      });
    }

    if (ui.form && ui.query && ui.results) {
      ui.form.addEventListener("submit", function (event) { event.preventDefault(); scheduleSearch(0); });
      ui.query.addEventListener("input", function () { scheduleSearch(); });
      ui.query.addEventListener("focus", function () { if (!search.loaded) scheduleSearch(0); });
    }

    /* ------------------------------------------------------------ cards in the transcript */

    function buildCard(card) {
      if (!card || (card.type !== "product" && card.type !== "order")) return null;
      return card.type === "product" ? productCard(card) : orderCardMessage(card);
    }

    function productCard(c) {
      var node = el("div", "msg-card card-product" + (c.on_sale === false ? " off-sale" : ""));
      node.setAttribute("data-testid", "desk-card");
      node.dataset.kind = "product";
      node.appendChild(picture(c.image, "card-img", c.title));
      var body = el("div", "card-body");
      body.appendChild(el("div", "card-title", c.title || ""));
      var meta = el("div", "card-meta");
      meta.appendChild(el("span", "card-price", d.money(c.price)));
      if (c.on_sale === false) meta.appendChild(el("span", "tag tag-off", t("products.off_sale")));
      body.appendChild(meta);
      body.appendChild(el("div", "muted small", c.sku || ""));
      node.appendChild(body);
      return node;
    }

    function orderCardMessage(c) {
      var node = el("div", "msg-card card-order");
      node.setAttribute("data-testid", "desk-card");
      node.dataset.kind = "order";
      var head = el("div", "card-head");
      head.appendChild(el("span", "card-kind", t("card.order")));
      head.appendChild(el("span", "order-no", c.order_no || ""));
      head.appendChild(statusPill(c.status));
      node.appendChild(head);
      var items = el("ul", "card-items");
      (c.items || []).forEach(function (item) {
        var li = el("li");
        li.appendChild(picture(item.image, "card-thumb", item.title));
        var what = el("span", "line-title", item.title || "");
        var variant = variantText(item);
        if (variant) what.appendChild(el("span", "line-variant muted", " " + variant));
        li.appendChild(what);
        li.appendChild(el("span", "line-qty", "×" + (item.quantity || 1)));
        items.appendChild(li);
      });
      node.appendChild(items);
      if (c.more_items > 0) node.appendChild(el("div", "muted small", t("orders.more", { n: c.more_items })));
      var foot = el("div", "card-foot");
      foot.appendChild(el("span", "order-total", t("orders.total") + " " + d.money(c.total)));
      if (c.tracking_no) foot.appendChild(el("span", "muted", (c.courier || "") + " " + c.tracking_no));
      node.appendChild(foot);
      return node;
    }

    return { renderOrders: renderOrders, buildCard: buildCard };
  }

  window.KefuDeskCommerce = { create: create };
})();
