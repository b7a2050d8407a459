/* Kefu buyer chat: the page at /chat/<shop> (standalone, or in widget.js's iframe).
 *
 * Protocol: docs/REALTIME.md. One websocket; an outbox in localStorage so a message typed
 * before a reload or a dropped connection is sent (once: same client_msg_id) when the
 * connection is back. Everything from the server is hostile text: it is put on the page
 * with textContent / createTextNode only, links are <a> elements built here. No innerHTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("kefu-chat");
  if (!root) return;
  var S = {};
  try {
    S = JSON.parse(document.getElementById("kefu-chat-strings").textContent || "{}");
  } catch (e) { S = {}; }

  var SHOP = root.getAttribute("data-shop") || "";
  var EMBED = root.getAttribute("data-embed") === "true";
  var LOCALE = root.getAttribute("data-locale") || document.documentElement.lang || "zh-CN";
  var MAX_LEN = parseInt(root.getAttribute("data-max-length"), 10) || 5000;
  var MAX_UPLOAD = parseInt(root.getAttribute("data-max-upload-bytes"), 10) || 5 * 1024 * 1024;
  var IDENTITY = root.getAttribute("data-identity") || "";
  var SIGNATURE = root.getAttribute("data-signature") || "";

  var TOKEN_KEY = "kefu.visitor." + SHOP;
  var OUTBOX_KEY = "kefu.outbox." + SHOP;
  var PAGE = 200;              // a full sync reply: ask again
  var HISTORY_PAGE = 50;
  var PING_EVERY = 25000;
  var PONG_WAIT = 10000;
  var ACK_WAIT = 15000;        // no ack by then: the socket is presumed dead, reconnect
  var TYPING_EVERY = 2000;
  var TYPING_SHOW = 4000;
  var BACKOFF_MIN = 500;
  var BACKOFF_MAX = 10000;
  var COUNTER_FROM = Math.floor(MAX_LEN * 0.8);
  var IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

  /* ------------------------------------------------------------- helpers */

  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(S, key) ? String(S[key]) : key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(params[name]));
      });
    }
    return text;
  }

  function q(selector) { return root.querySelector(selector); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "c-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Characters as the server counts them (code points, so an emoji is one).
  function charCount(text) {
    var n = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      n++;
    }
    return n;
  }

  function formatNumber(n) {
    try { return n.toLocaleString(LOCALE); } catch (e) { return String(n); }
  }

  function num(value) {
    return typeof value === "number" && isFinite(value) ? value : 0;
  }

  // localStorage may be unavailable (private mode, third-party iframe with storage
  // blocked): fall back to memory, so the chat still works for this page's lifetime.
  var memoryStore = {};
  var store = {
    get: function (key) {
      try { return window.localStorage.getItem(key); } catch (e) {
        return Object.prototype.hasOwnProperty.call(memoryStore, key) ? memoryStore[key] : null;
      }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(key, value); } catch (e) {
        memoryStore[key] = value;
        if (!store.warned) {
          // Said once: without storage a reload starts a new, empty chat.
          store.warned = true;
          setTimeout(function () { showError(t("error.storage")); }, 0);
        }
      }
    },
    remove: function (key) {
      try { window.localStorage.removeItem(key); } catch (e) { /* memory only */ }
      delete memoryStore[key];
    }
  };

  /* ---------------------------------------------------------------- DOM */

  var scrollEl = q(".chat-scroll");
  var listEl = q("[data-testid=chat-messages]");
  var inputEl = q("[data-testid=chat-input]");
  var sendEl = q("[data-testid=chat-send]");
  var formEl = q(".chat-composer");
  var fileEl = q("[data-testid=chat-image-input]");
  var counterEl = q("[data-testid=chat-counter]");
  var typingEl = q("[data-testid=chat-typing]");
  var errorEl = q("[data-testid=chat-error]");
  var errorTextEl = q(".chat-error-text");
  var connEl = q("[data-testid=chat-connection]");
  var connTextEl = q(".chat-banner-text");
  var connActionEl = q(".chat-banner-action");
  var closedEl = q("[data-testid=chat-closed]");
  var jumpEl = q("[data-testid=chat-jump]");
  var earlierWrap = q(".chat-earlier-wrap");
  var earlierEl = q("[data-testid=chat-earlier]");
  var subtitleEl = q(".chat-subtitle-text");
  var closeEl = q("[data-testid=chat-close]");

  /* -------------------------------------------------------------- state */

  var state = {
    token: store.get(TOKEN_KEY),
    customerId: null,
    conversationId: null,
    convOrder: 0,           // bumps when the buyer's conversation changes (new seq space)
    status: null,
    lastSeq: 0,             // every message up to here has been shown (or is private)
    firstSeq: 0,            // the oldest seq on the page, for "earlier messages"
    shopDeliveredSeq: 0,
    shopReadSeq: 0,
    highestShopSeq: 0,
    readSent: 0,
    ws: null,
    ready: false,
    connectedOnce: false,
    attempts: 0,
    reconnectTimer: null,
    pingTimer: null,
    pongTimer: null,
    syncing: false,
    syncAgain: false,
    lastTypingSent: 0,
    typingTimer: null,
    errorTimer: null,
    sessionBusy: false,
    visibleInHost: true,    // the host page's panel is open (widget.js tells us)
    lastShopName: ""
  };
  var rowsById = {};        // message id → row
  var rowsByClient = {};    // client_msg_id → row (own messages, pending or stored)
  var pending = {};         // client_msg_id → outbox entry kept in memory (with the File)
  var ackTimers = {};

  /* ------------------------------------------------------------- outbox */
  // Shared by the buyer's tabs: every change re-reads storage, so one tab does not
  // overwrite another's unsent messages.

  function readOutbox() {
    try {
      var list = JSON.parse(store.get(OUTBOX_KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (e) {
        return e && typeof e.c === "string" && typeof e.b === "string";
      }) : [];
    } catch (e) { return []; }
  }

  function writeOutbox(list) {
    if (list.length) store.set(OUTBOX_KEY, JSON.stringify(list));
    else store.remove(OUTBOX_KEY);
  }

  function outboxPut(entry) {
    var list = readOutbox().filter(function (e) { return e.c !== entry.c; });
    list.push(entry);
    writeOutbox(list);
  }

  function outboxDrop(clientId) {
    var list = readOutbox();
    var kept = list.filter(function (e) { return e.c !== clientId; });
    if (kept.length !== list.length) writeOutbox(kept);
  }

  /* ------------------------------------------------------------ notices */

  function showError(text, sticky) {
    errorTextEl.textContent = text;
    errorEl.hidden = false;
    errorEl.setAttribute("data-sticky", sticky ? "true" : "false");
    clearTimeout(state.errorTimer);
    if (!sticky) state.errorTimer = setTimeout(hideError, 10000);
  }

  function hideError() {
    clearTimeout(state.errorTimer);
    errorEl.hidden = true;
    errorTextEl.textContent = "";
  }

  function setConnection(kind) {
    connEl.setAttribute("data-state", kind);
    if (kind === "online") {
      connEl.hidden = true;
      return;
    }
    if (kind === "connecting" && !state.connectedOnce) {
      // The first connection: say nothing unless it takes a while.
      connTextEl.textContent = t("connecting");
      connActionEl.hidden = true;
      return;
    }
    connTextEl.textContent = kind === "session" ? t("error.session") : t("reconnecting");
    connActionEl.hidden = false;
    connEl.hidden = false;
  }

  function setClosed(closed) {
    closedEl.hidden = !closed;
  }

  /* ----------------------------------------------------------- rendering */

  var URL_RE = /https?:\/\/[^\s<>"'“”‘’（）()【】《》，。；！？、]+/gi;

  function appendText(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0];
      // Trailing punctuation belongs to the sentence, not the link.
      var trimmed = url.replace(/[.,:;!?'"\]}>]+$/, "");
      if (trimmed.length < "http://x".length) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(makeLink(trimmed));
      last = match.index + trimmed.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function makeLink(url) {
    var a = document.createElement("a");
    a.textContent = url;
    if (/^https?:\/\//i.test(url)) a.href = url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.className = "msg-link";
    return a;
  }

  function safeUrl(url) {
    if (typeof url !== "string") return null;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\") return url;
    if (/^https?:\/\//i.test(url)) return url;
    if (/^blob:/i.test(url)) return url;
    return null;
  }

  function timeText(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    var now = new Date();
    var hm = ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    if (d.toDateString() === now.toDateString()) return hm;
    var md = (d.getMonth() + 1) + "-" + d.getDate();
    if (d.getFullYear() !== now.getFullYear()) md = d.getFullYear() + "-" + md;
    return md + " " + hm;
  }

  function senderLabel(m) {
    if (m.sender_name) return m.sender_name;
    return m.sender_type === "bot" ? t("bot") : t("agent");
  }

  function fillBubble(bubble, body, attachment, card) {
    clear(bubble);
    var url = attachment ? safeUrl(attachment.url) : null;
    if (attachment && url && /^image\//.test(attachment.content_type || "")) {
      var link = document.createElement("a");
      link.className = "msg-image-link";
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (!/^blob:/i.test(url)) link.href = url;
      var img = document.createElement("img");
      img.className = "msg-image";
      img.alt = attachment.name || t("image.alt");
      img.loading = "lazy";
      img.decoding = "async";
      img.setAttribute("data-testid", "chat-image");
      img.addEventListener("load", function () { if (nearBottom(160)) scrollToBottom(); });
      img.src = url;
      link.appendChild(img);
      bubble.appendChild(link);
    } else if (attachment && url) {
      var file = makeLink(new URL(url, location.href).href);
      file.textContent = attachment.name || url;
      bubble.appendChild(file);
    }
    // A product or order card stands in for its one-line text body.
    var cardNode = card ? buildCard(card) : null;
    if (cardNode) {
      bubble.classList.add("msg-bubble--card");
      bubble.appendChild(cardNode);
    } else if (body) {
      var text = el("div", "msg-text");
      appendText(text, body);
      bubble.appendChild(text);
    }
  }

  /* ------------------------------------------------- product and order cards */

  var ORDER_STATUSES = ["unpaid", "paid", "shipped", "delivered", "closed", "refunding", "refunded"];

  function money(value) {
    var n = Number(value);
    if (value === null || value === undefined || value === "" || isNaN(n)) return String(value || "");
    return "¥" + n.toFixed(2);
  }

  function cardPicture(url, cls, alt) {
    // Only https pictures (the shop's image host) or our own; never javascript: or data:.
    var ok = typeof url === "string" && (/^https:\/\//i.test(url) ||
      (url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\"));
    if (!ok) return el("div", cls + " card-noimg");
    var img = document.createElement("img");
    img.className = cls;
    img.alt = alt || "";
    img.loading = "lazy";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.addEventListener("load", function () { if (nearBottom(160)) scrollToBottom(); });
    img.src = url;
    return img;
  }

  function buildCard(card) {
    if (!card || typeof card !== "object") return null;
    if (card.type === "product") return productCard(card);
    if (card.type === "order") return orderCard(card);
    return null;
  }

  function productCard(c) {
    var node = el("div", "card card--product" + (c.on_sale === false ? " card--off" : ""));
    node.setAttribute("data-testid", "chat-card");
    node.setAttribute("data-kind", "product");
    node.appendChild(cardPicture(c.image, "card-img", c.title));
    var info = el("div", "card-info");
    info.appendChild(el("div", "card-title", c.title || ""));
    var meta = el("div", "card-meta");
    var price = el("span", "card-price", money(c.price));
    price.setAttribute("data-testid", "chat-card-price");
    meta.appendChild(price);
    if (c.on_sale === false) meta.appendChild(el("span", "card-off", t("card.off_sale")));
    info.appendChild(meta);
    node.appendChild(info);
    return node;
  }

  function orderCard(c) {
    var node = el("div", "card card--order");
    node.setAttribute("data-testid", "chat-card");
    node.setAttribute("data-kind", "order");
    var head = el("div", "card-head");
    head.appendChild(el("span", "card-label", t("card.order")));
    head.appendChild(el("span", "card-no", c.order_no || ""));
    var status = el("span", "card-status card-status--" + String(c.status || "").replace(/[^a-z_]/g, ""),
      ORDER_STATUSES.indexOf(c.status) >= 0 ? t("order." + c.status) : String(c.status || ""));
    status.setAttribute("data-testid", "chat-card-status");
    head.appendChild(status);
    node.appendChild(head);
    var items = el("ul", "card-items");
    (Array.isArray(c.items) ? c.items : []).forEach(function (item) {
      var li = el("li");
      li.appendChild(cardPicture(item.image, "card-thumb", item.title));
      var what = el("span", "card-item-title", item.title || "");
      var variant = [item.size, item.colour].filter(function (x) { return x; }).join(" / ");
      if (variant) what.appendChild(el("span", "card-variant", " " + variant));
      li.appendChild(what);
      li.appendChild(el("span", "card-qty", "×" + (item.quantity || 1)));
      items.appendChild(li);
    });
    node.appendChild(items);
    if (c.more_items > 0) node.appendChild(el("div", "card-more", t("card.more", { n: c.more_items })));
    var foot = el("div", "card-foot");
    foot.appendChild(el("span", "card-total", t("card.total") + " " + money(c.total)));
    node.appendChild(foot);
    if (c.tracking_no) {
      var ship = el("div", "card-ship");
      ship.appendChild(el("span", "card-courier", (c.courier || t("card.tracking")) + " "));
      var no = el("span", "card-tracking", c.tracking_no);
      no.setAttribute("data-testid", "chat-card-tracking");
      ship.appendChild(no);
      node.appendChild(ship);
    }
    return node;
  }

  function orderKey(conv, seq) {
    return conv * 1e13 + seq;
  }

  function insertRow(row) {
    var key = row._kefuOrder;
    if (key === undefined) {          // pending: always at the end
      listEl.appendChild(row);
      return;
    }
    var children = listEl.children;
    for (var i = children.length - 1; i >= 0; i--) {
      var other = children[i];
      if (other._kefuOrder === undefined) continue;   // skip pending rows at the end
      if (other._kefuOrder < key) {
        listEl.insertBefore(row, other.nextSibling);
        return;
      }
    }
    listEl.insertBefore(row, listEl.firstChild);
  }

  function buildRow(m) {
    var type = m.sender_type || "agent";
    var row = el("div", "msg msg--" + type);
    row.setAttribute("data-testid", "chat-message");
    row.setAttribute("data-sender", type);
    if (type === "system") {
      var note = el("div", "msg-system");
      appendText(note, m.body || "");
      row.appendChild(note);
      return row;
    }
    if (type !== "customer") row.appendChild(el("div", "msg-name", senderLabel(m)));
    var bubble = el("div", "msg-bubble");
    row.appendChild(bubble);
    var meta = el("div", "msg-meta");
    meta.appendChild(el("time", "msg-time"));
    if (type === "customer") {
      var st = el("span", "msg-status");
      st.setAttribute("data-testid", "chat-status");
      meta.appendChild(st);
    }
    row.appendChild(meta);
    return row;
  }

  function setStored(row, m) {
    row._kefuOrder = orderKey(state.convOrder, num(m.seq));
    row._kefuSeq = num(m.seq);
    row.setAttribute("data-id", String(m.id));
    row.setAttribute("data-seq", String(m.seq));
    if (m.client_msg_id) row.setAttribute("data-client-id", m.client_msg_id);
    row.removeAttribute("data-state");
    var time = row.querySelector(".msg-time");
    if (time) {
      time.textContent = timeText(m.created_at);
      if (m.created_at) time.setAttribute("datetime", m.created_at);
    }
    var retry = row.querySelector(".msg-retry");
    if (retry) retry.parentNode.removeChild(retry);
    if (row.getAttribute("data-sender") === "customer") updateStatus(row);
  }

  function updateStatus(row) {
    var st = row.querySelector(".msg-status");
    if (!st) return;
    var seq = row._kefuSeq;
    var kind = row.getAttribute("data-state");
    var text;
    if (kind === "pending") text = t("status.pending");
    else if (kind === "uploading") text = t("status.uploading");
    else if (kind === "failed") text = t("status.failed");
    else if (seq && seq <= state.shopReadSeq && row._kefuConv === state.conversationId) {
      kind = "read"; text = t("status.read");
    } else if (seq && seq <= state.shopDeliveredSeq && row._kefuConv === state.conversationId) {
      kind = "delivered"; text = t("status.delivered");
    } else { kind = "sent"; text = t("status.sent"); }
    st.textContent = text;
    st.setAttribute("data-state", kind);
  }

  function refreshStatuses() {
    var rows = listEl.querySelectorAll(".msg--customer");
    for (var i = 0; i < rows.length; i++) updateStatus(rows[i]);
  }

  // Show a stored message once (by id); an own pending bubble with the same client id
  // becomes the stored one. Returns true when something new appeared.
  function showMessage(m) {
    if (!m || typeof m.id !== "number" || m.is_private) return false;
    if (m.conversation_id && m.conversation_id !== state.conversationId) {
      adoptConversation(m.conversation_id);
    }
    var row = rowsById[m.id];
    if (row) return false;
    var byClient = m.sender_type === "customer" && m.client_msg_id ? rowsByClient[m.client_msg_id] : null;
    if (byClient && !byClient.getAttribute("data-id")) {
      row = byClient;
      row.parentNode && row.parentNode.removeChild(row);
      fillBubble(row.querySelector(".msg-bubble"), m.body, m.attachment, m.card);
      forgetPending(m.client_msg_id);
    } else {
      row = buildRow(m);
      if (m.sender_type !== "system") fillBubble(row.querySelector(".msg-bubble"), m.body, m.attachment, m.card);
      if (m.sender_type === "customer" && m.client_msg_id) {
        rowsByClient[m.client_msg_id] = row;
        if (pending[m.client_msg_id]) forgetPending(m.client_msg_id);
      }
    }
    row._kefuConv = m.conversation_id || state.conversationId;
    rowsById[m.id] = row;
    setStored(row, m);
    insertRow(row);
    if (!state.firstSeq || num(m.seq) < state.firstSeq) state.firstSeq = num(m.seq);
    if (m.sender_type !== "customer" && num(m.seq) > state.highestShopSeq) {
      state.highestShopSeq = num(m.seq);
    }
    return true;
  }

  function forgetPending(clientId) {
    var entry = pending[clientId];
    if (entry && entry.keepPreview && /^blob:/i.test(entry.keepPreview.url || "")) {
      try { URL.revokeObjectURL(entry.keepPreview.url); } catch (e) { /* gone */ }
    }
    delete pending[clientId];
    clearTimeout(ackTimers[clientId]);
    delete ackTimers[clientId];
    outboxDrop(clientId);
  }

  function adoptConversation(id) {
    if (state.conversationId !== null && state.conversationId !== id) {
      // A new conversation numbers from 1 again: its messages go after the old ones.
      state.convOrder += 1;
      state.lastSeq = 0;
      state.firstSeq = 0;
      state.highestShopSeq = 0;
      state.readSent = 0;
      state.shopReadSeq = 0;
      state.shopDeliveredSeq = 0;
    }
    state.conversationId = id;
  }

  function showPending(entry, kind) {
    var row = rowsByClient[entry.c];
    if (!row) {
      row = buildRow({ sender_type: "customer" });
      row.setAttribute("data-client-id", entry.c);
      rowsByClient[entry.c] = row;
      var att = entry.att || null;
      fillBubble(row.querySelector(".msg-bubble"), entry.b, att);
      listEl.appendChild(row);
    }
    setPendingState(row, kind);
    return row;
  }

  function setPendingState(row, kind) {
    if (row.getAttribute("data-id")) return;
    row.setAttribute("data-state", kind);
    var meta = row.querySelector(".msg-meta");
    var retry = row.querySelector(".msg-retry");
    if (kind === "failed" && !retry) {
      retry = el("button", "msg-retry", t("retry"));
      retry.type = "button";
      retry.setAttribute("data-testid", "chat-retry");
      retry.addEventListener("click", function () { retryMessage(row.getAttribute("data-client-id")); });
      meta.appendChild(retry);
    } else if (kind !== "failed" && retry) {
      retry.parentNode.removeChild(retry);
    }
    updateStatus(row);
  }

  function renderBatch(list, history) {
    var stick = nearBottom(80);
    var added = false;
    var shopAdded = false;
    (list || []).forEach(function (m) {
      if (showMessage(m)) {
        added = true;
        if (m.sender_type !== "customer") shopAdded = true;
      }
    });
    if (added) afterAdd(stick, shopAdded, history);
    return added;
  }

  function afterAdd(stick, shopAdded, history) {
    if (shopAdded) {
      hideTyping();
      if (!history) notifyHost("message");
    }
    updateEarlier();
    if (stick) scrollToBottom();
    else if (shopAdded) jumpEl.hidden = false;
    maybeSendRead();
  }

  /* ------------------------------------------------------------ scrolling */

  function nearBottom(slack) {
    return scrollEl.scrollHeight - scrollEl.scrollTop - scrollEl.clientHeight < slack;
  }

  function scrollToBottom() {
    scrollEl.scrollTop = scrollEl.scrollHeight;
    jumpEl.hidden = true;
  }

  scrollEl.addEventListener("scroll", function () {
    if (nearBottom(40)) jumpEl.hidden = true;
  });
  jumpEl.addEventListener("click", scrollToBottom);

  function updateEarlier() {
    earlierWrap.hidden = !(state.firstSeq > 1 && state.token && !state.noEarlier);
  }

  earlierEl.addEventListener("click", function () {
    if (!state.firstSeq || earlierEl.disabled) return;
    var before = state.firstSeq;
    var after = Math.max(0, before - 1 - HISTORY_PAGE);
    earlierEl.disabled = true;
    fetch("/api/v1/widget/messages?after_seq=" + after, {
      headers: { "X-Visitor-Token": state.token, "Accept": "application/json", "Accept-Language": LOCALE },
      credentials: "omit"
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      if (data.conversation_id !== state.conversationId) return;
      var older = (data.messages || []).filter(function (m) { return m.seq < before; });
      var height = scrollEl.scrollHeight;
      older.forEach(showMessage);
      if (after === 0) state.noEarlier = true;
      if (!older.length && after > 0) state.firstSeq = after + 1;  // only private notes there
      scrollEl.scrollTop += scrollEl.scrollHeight - height;
      updateEarlier();
    }).catch(function () {
      showError(t("error.server"));
    }).then(function () { earlierEl.disabled = false; });
  });

  /* -------------------------------------------------------------- session */

  function startSession(allowToken, allowIdentity) {
    if (state.sessionBusy) return;
    state.sessionBusy = true;
    var body = {};
    if (allowToken && state.token) body.visitor_token = state.token;
    if (allowIdentity && IDENTITY) {
      body.identity = IDENTITY;
      body.signature = SIGNATURE;
    }
    fetch("/api/v1/widget/" + encodeURIComponent(SHOP) + "/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "Accept-Language": LOCALE },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }).then(function (res) {
      state.sessionBusy = false;
      var code = res.data && res.data.error ? res.data.error.code : null;
      if (res.status === 200 || res.status === 201) {
        onSession(res.data);
        return;
      }
      if (res.status === 401 && code === "invalid_visitor_token" && body.visitor_token) {
        dropToken();
        startSession(false, allowIdentity);
        return;
      }
      if (body.identity && (res.status === 401 || res.status === 422)) {
        // The shop's site vouched badly (expired or mis-signed): chat as a guest instead.
        if (window.console) console.warn("Kefu: the signed identity was refused:", code);
        startSession(allowToken, false);
        return;
      }
      if (res.status === 404) {
        setConnection("session");
        showError(t("error.shop"), true);
        return;
      }
      sessionRetry(allowToken, allowIdentity);
    }).catch(function () {
      state.sessionBusy = false;
      sessionRetry(allowToken, allowIdentity);
    });
  }

  function sessionRetry(allowToken, allowIdentity) {
    setConnection("session");
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(function () {
      state.reconnectTimer = null;
      startSession(allowToken, allowIdentity);
    }, backoffDelay());
  }

  function dropToken() {
    state.token = null;
    store.remove(TOKEN_KEY);
  }

  function onSession(data) {
    var previousCustomer = state.customerId;
    state.token = data.visitor_token;
    store.set(TOKEN_KEY, state.token);
    state.customerId = data.customer ? data.customer.id : null;
    if (data.shop && data.shop.name) {
      var shopEl = q("[data-testid=chat-shop]");
      if (shopEl) shopEl.textContent = data.shop.name;
    }
    if (data.limits) {
      if (data.limits.max_length) MAX_LEN = data.limits.max_length;
      if (data.limits.max_upload_bytes) MAX_UPLOAD = data.limits.max_upload_bytes;
      COUNTER_FROM = Math.floor(MAX_LEN * 0.8);
    }
    if (previousCustomer !== null && previousCustomer !== state.customerId) {
      // Another buyer now (a new visitor after the old token was refused): start clean.
      clear(listEl);
      rowsById = {};
      rowsByClient = {};
      state.conversationId = null;
      state.lastSeq = 0;
      state.firstSeq = 0;
      state.highestShopSeq = 0;
      state.readSent = 0;
      state.shopReadSeq = 0;
      state.shopDeliveredSeq = 0;
      // What this person typed on this page is still theirs to send, as the new visitor.
      Object.keys(pending).forEach(function (clientId) {
        var entry = pending[clientId];
        entry.cust = state.customerId;
        if (entry.a || !entry.file) outboxPut(storable(entry));
      });
    }
    var conv = data.conversation;
    if (conv) {
      adoptConversation(conv.id);
      state.status = conv.status;
      setClosed(conv.status === "closed");
      state.shopDeliveredSeq = Math.max(state.shopDeliveredSeq, num(conv.shop_delivered_seq));
      state.shopReadSeq = Math.max(state.shopReadSeq, num(conv.shop_read_seq));
    }
    var list = data.messages || [];
    renderBatch(list, true);
    if (conv) {
      var top = 0;
      list.forEach(function (m) { if (m.seq > top) top = m.seq; });
      // The history is the latest messages: numbers after them are the shop's notes.
      state.lastSeq = Math.max(state.lastSeq, top, num(conv.last_seq));
      if (list.length < HISTORY_PAGE) state.noEarlier = true;
    }
    restoreOutbox();
    Object.keys(pending).forEach(function (clientId) {
      var entry = pending[clientId];
      if (!rowsByClient[clientId]) {
        showPending(entry, entry.f ? "failed" : entry.uploading ? "uploading" : "pending");
      }
    });
    refreshStatuses();
    updateEarlier();
    scrollToBottom();
    connect();
  }

  // Messages typed before a reload: shown as pending and sent once connected. An
  // entry already in the history was stored (its ack was lost): it is done.
  function restoreOutbox() {
    var list = readOutbox();
    var changed = false;
    list.forEach(function (entry) {
      if (entry.cust && state.customerId && entry.cust !== state.customerId) {
        return;   // another buyer's (a shared computer): never sent as this one
      }
      var row = rowsByClient[entry.c];
      if (row && row.getAttribute("data-id")) {
        changed = true;
        entry.done = true;
        return;
      }
      pending[entry.c] = entry;
      showPending(entry, entry.f ? "failed" : "pending");
    });
    if (changed) writeOutbox(list.filter(function (e) { return !e.done; }));
  }

  /* ------------------------------------------------------------ websocket */

  function backoffDelay() {
    var base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, state.attempts));
    state.attempts = Math.min(state.attempts + 1, 10);
    return Math.round(base * (0.7 + Math.random() * 0.6));
  }

  function connect() {
    if (!state.token) { startSession(false, true); return; }
    if (state.ws) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + location.host + "/ws/widget?token=" + encodeURIComponent(state.token) +
      "&lang=" + encodeURIComponent(LOCALE);
    var ws;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    state.ready = false;
    setConnection("connecting");
    ws.onmessage = function (event) {
      if (ws !== state.ws) return;
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") handleFrame(frame);
    };
    ws.onclose = function (event) {
      if (ws !== state.ws) return;
      teardown();
      if (event.code === 4401) {
        // These credentials will never work again: a new visitor session.
        dropToken();
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = setTimeout(function () {
          state.reconnectTimer = null;
          startSession(false, true);
        }, backoffDelay());
        setConnection("lost");
        return;
      }
      setConnection("lost");
      scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows */ };
  }

  function teardown() {
    state.ws = null;
    state.ready = false;
    state.syncing = false;
    state.syncAgain = false;
    clearInterval(state.pingTimer);
    clearTimeout(state.pongTimer);
    Object.keys(ackTimers).forEach(function (k) { clearTimeout(ackTimers[k]); });
    ackTimers = {};
    hideTyping();
  }

  function dropSocket() {
    var ws = state.ws;
    if (!ws) return;
    teardown();
    try { ws.close(); } catch (e) { /* already closing */ }
    setConnection("lost");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (state.reconnectTimer) return;
    state.reconnectTimer = setTimeout(function () {
      state.reconnectTimer = null;
      connect();
    }, backoffDelay());
  }

  function reconnectNow() {
    if (state.ws) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (state.token) connect();
    else if (!state.sessionBusy) startSession(false, true);
  }

  function sendFrame(frame) {
    if (!state.ws || state.ws.readyState !== 1) return false;
    try {
      state.ws.send(JSON.stringify(frame));
      return true;
    } catch (e) { return false; }
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "ready": onReady(frame); break;
      case "ack": onAck(frame); break;
      case "message": onLiveMessage(frame.message); break;
      case "sync": onSync(frame); break;
      case "typing": if (frame.sender_type !== "customer") showTyping(); break;
      case "receipt": onReceipt(frame); break;
      case "conversation": onConversation(frame.conversation); break;
      case "error": onError(frame); break;
      case "pong": clearTimeout(state.pongTimer); break;
      default: break;
    }
  }

  function onReady(frame) {
    state.ready = true;
    state.connectedOnce = true;
    state.attempts = 0;
    setConnection("online");
    if (frame.conversation_id) adoptConversation(frame.conversation_id);
    onReceipt(frame);
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(ping, PING_EVERY);
    requestSync();
    flushOutbox();
    maybeSendRead();
  }

  // A socket that went quiet (a phone asleep, a proxy that dropped it) says nothing;
  // no pong in time means it is dead.
  function ping() {
    if (!sendFrame({ type: "ping" })) return;
    clearTimeout(state.pongTimer);
    state.pongTimer = setTimeout(dropSocket, PONG_WAIT);
  }

  function requestSync() {
    if (!state.ready) return;
    if (state.syncing) { state.syncAgain = true; return; }
    state.syncing = true;
    sendFrame({ type: "sync", after_seq: state.lastSeq });
  }

  function onSync(frame) {
    state.syncing = false;
    if (frame.conversation_id) adoptConversation(frame.conversation_id);
    var list = frame.messages || [];
    renderBatch(list);
    var top = state.lastSeq;
    list.forEach(function (m) { if (m.seq > top) top = m.seq; });
    // Not full: everything up to the conversation's last seq has been seen (the
    // numbers in between are the shop's private notes).
    state.lastSeq = list.length >= PAGE ? top : Math.max(top, num(frame.last_seq));
    onReceipt(frame);
    if (list.length >= PAGE || state.syncAgain) {
      state.syncAgain = false;
      requestSync();
    }
  }

  function noteSeq(m) {
    var seq = num(m.seq);
    if (seq === state.lastSeq + 1) state.lastSeq = seq;
    else if (seq > state.lastSeq + 1) requestSync();   // a frame went missing: fill the gap
  }

  function onLiveMessage(m) {
    if (!m || typeof m.id !== "number") return;
    var stick = nearBottom(80) || m.sender_type === "customer";
    var fresh = showMessage(m);
    noteSeq(m);
    if (fresh) afterAdd(stick, m.sender_type !== "customer");
  }

  function onAck(frame) {
    var m = frame.message;
    if (!m) return;
    forgetPending(frame.client_msg_id);
    var stick = nearBottom(200);
    showMessage(m);
    var row = rowsByClient[frame.client_msg_id];
    if (row && !row.getAttribute("data-id")) {
      // Shown already under its id (from a sync): the pending copy goes.
      row.parentNode && row.parentNode.removeChild(row);
      rowsByClient[frame.client_msg_id] = rowsById[m.id];
    }
    noteSeq(m);
    if (state.status === "closed") { state.status = "open"; setClosed(false); }
    afterAdd(stick, false);
  }

  function onReceipt(frame) {
    if (frame.conversation_id && state.conversationId && frame.conversation_id !== state.conversationId) return;
    var changed = false;
    if (num(frame.shop_delivered_seq) > state.shopDeliveredSeq) {
      state.shopDeliveredSeq = num(frame.shop_delivered_seq); changed = true;
    }
    if (num(frame.shop_read_seq) > state.shopReadSeq) {
      state.shopReadSeq = num(frame.shop_read_seq); changed = true;
    }
    if (state.shopReadSeq > state.shopDeliveredSeq) state.shopDeliveredSeq = state.shopReadSeq;
    if (changed) refreshStatuses();
  }

  function onConversation(c) {
    if (!c) return;
    if (c.id) adoptConversation(c.id);
    state.status = c.status;
    setClosed(c.status === "closed");
    if (c.assignee_name) subtitleEl.textContent = t("serving", { name: c.assignee_name });
    else subtitleEl.textContent = t("subtitle");
  }

  function onError(frame) {
    var code = frame.code || "server_error";
    var clientId = frame.client_msg_id;
    var text;
    if (code === "rate_limited") {
      text = t("rate_limited", { seconds: Math.max(1, Math.ceil(num(frame.retry_after) || 1)) });
    } else if (code === "invalid" || code === "conflict") {
      text = frame.message || t("error.generic");
    } else if (code === "server_error") {
      text = t("error.server");
    } else {
      text = frame.message || t("error.generic");
    }
    if (clientId && (pending[clientId] || rowsByClient[clientId])) markFailed(clientId);
    else if (code === "bad_frame" && !clientId && state.syncing) state.syncing = false;
    showError(text);
  }

  function markFailed(clientId) {
    clearTimeout(ackTimers[clientId]);
    delete ackTimers[clientId];
    var entry = pending[clientId];
    if (entry) {
      entry.f = true;
      if (entry.a || !entry.file) {
        // Kept (marked failed) so a reload still offers the retry.
        outboxPut(storable(entry));
      }
    }
    var row = rowsByClient[clientId];
    if (row) setPendingState(row, "failed");
  }

  /* -------------------------------------------------------------- sending */

  function storable(entry) {
    var out = { c: entry.c, b: entry.b, t: entry.t, cust: entry.cust };
    if (entry.a) out.a = entry.a;
    if (entry.att && entry.att.url && !/^blob:/i.test(entry.att.url)) out.att = entry.att;
    if (entry.f) out.f = true;
    return out;
  }

  function transmit(entry) {
    var frame = { type: "send", client_msg_id: entry.c, body: entry.b };
    if (entry.a) frame.attachment_id = entry.a;
    if (!sendFrame(frame)) return;      // sent after the next ready
    clearTimeout(ackTimers[entry.c]);
    ackTimers[entry.c] = setTimeout(function () {
      // Written but never answered: the socket is half-dead. The resend after the
      // reconnect uses the same id, so the message is still stored once.
      if (pending[entry.c]) dropSocket();
    }, ACK_WAIT);
  }

  function flushOutbox() {
    Object.keys(pending).forEach(function (clientId) {
      var entry = pending[clientId];
      if (entry.f || entry.uploading || (entry.file && !entry.a)) return;
      transmit(entry);
    });
  }

  function queue(entry) {
    pending[entry.c] = entry;
    outboxPut(storable(entry));
    showPending(entry, "pending");
    scrollToBottom();
    if (state.status === "closed") setClosed(false);
    transmit(entry);
  }

  function retryMessage(clientId) {
    var entry = pending[clientId];
    if (!entry) return;
    hideError();
    entry.f = false;
    var row = rowsByClient[clientId];
    if (entry.file && !entry.a) {
      if (row) setPendingState(row, "uploading");
      upload(entry);
      return;
    }
    outboxPut(storable(entry));
    if (row) setPendingState(row, "pending");
    if (!state.ws) reconnectNow();
    transmit(entry);
  }

  function submitText() {
    var body = inputEl.value;
    if (!body.trim()) return;
    var length = charCount(body);
    if (length > MAX_LEN) {
      showError(t("too_long", { max: formatNumber(MAX_LEN), length: formatNumber(length) }), true);
      inputEl.focus();
      return;
    }
    hideError();
    queue({ c: randomId(), b: body, t: Date.now(), cust: state.customerId });
    inputEl.value = "";
    onInput();
    inputEl.focus();
  }

  formEl.addEventListener("submit", function (event) {
    event.preventDefault();
    submitText();
  });

  inputEl.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    // Enter that picks a word in a Chinese input method is not "send".
    if (event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submitText();
  });

  function onInput() {
    var value = inputEl.value;
    var length = charCount(value);
    var tooLong = length > MAX_LEN;
    sendEl.disabled = !value.trim() || tooLong;
    if (length >= COUNTER_FROM) {
      counterEl.hidden = false;
      counterEl.textContent = t("counter", { length: formatNumber(length), max: formatNumber(MAX_LEN) });
      counterEl.classList.toggle("over", tooLong);
    } else {
      counterEl.hidden = true;
    }
    inputEl.classList.toggle("over", tooLong);
    inputEl.setAttribute("aria-invalid", tooLong ? "true" : "false");
    if (tooLong) {
      showError(t("too_long", { max: formatNumber(MAX_LEN), length: formatNumber(length) }), true);
    } else if (errorEl.getAttribute("data-sticky") === "true" && !errorEl.hidden) {
      hideError();
    }
    autosize();
  }

  function autosize() {
    inputEl.style.height = "auto";
    var max = 140;
    var h = Math.min(max, inputEl.scrollHeight + 2);
    inputEl.style.height = h + "px";
    inputEl.style.overflowY = inputEl.scrollHeight + 2 > max ? "auto" : "hidden";
  }

  inputEl.addEventListener("input", function () {
    onInput();
    if (!inputEl.value.trim()) return;
    var now = Date.now();
    if (now - state.lastTypingSent >= TYPING_EVERY && state.ready) {
      if (sendFrame({ type: "typing" })) state.lastTypingSent = now;
    }
  });

  /* --------------------------------------------------------------- images */

  fileEl.addEventListener("change", function () {
    var file = fileEl.files && fileEl.files[0];
    fileEl.value = "";
    if (!file) return;
    if (IMAGE_TYPES.indexOf((file.type || "").toLowerCase()) < 0) {
      showError(t("image.type"));
      return;
    }
    if (file.size > MAX_UPLOAD) {
      showError(t("image.too_large", { max: (MAX_UPLOAD / 1048576).toFixed(MAX_UPLOAD % 1048576 ? 1 : 0) }));
      return;
    }
    if (file.size === 0) {
      showError(t("image.type"));
      return;
    }
    hideError();
    var preview = null;
    try { preview = URL.createObjectURL(file); } catch (e) { preview = null; }
    var entry = {
      c: randomId(), b: "", t: Date.now(), cust: state.customerId, file: file,
      att: preview ? { url: preview, content_type: file.type, name: file.name } : null
    };
    pending[entry.c] = entry;
    showPending(entry, "uploading");
    scrollToBottom();
    upload(entry);
  });

  function upload(entry) {
    if (!state.token) { markFailed(entry.c); return; }
    entry.uploading = true;
    var form = new FormData();
    form.append("file", entry.file, entry.file.name || "image");
    fetch("/api/v1/widget/uploads", {
      method: "POST",
      headers: { "X-Visitor-Token": state.token, "Accept": "application/json", "Accept-Language": LOCALE },
      body: form,
      credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }).then(function (res) {
      entry.uploading = false;
      if (res.status !== 201 && res.status !== 200) {
        var message = res.data && res.data.error && res.data.error.message;
        markFailed(entry.c);
        showError(message || t("image.failed"));
        return;
      }
      entry.a = res.data.id;
      // The stored copy replaces the local preview in what is kept for a reload.
      entry.keepPreview = entry.att;
      entry.att = { url: res.data.url, content_type: res.data.content_type, name: res.data.name };
      queueUploaded(entry);
    }).catch(function () {
      entry.uploading = false;
      markFailed(entry.c);
      showError(t("image.failed"));
    });
  }

  function queueUploaded(entry) {
    outboxPut(storable(entry));
    var row = rowsByClient[entry.c];
    if (row) setPendingState(row, "pending");
    transmit(entry);
  }

  /* --------------------------------------------------------------- typing */

  function showTyping() {
    typingEl.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_SHOW);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    typingEl.hidden = true;
  }

  /* ------------------------------------------------------------- receipts */

  function pageVisible() {
    return document.visibilityState !== "hidden" && state.visibleInHost;
  }

  function maybeSendRead() {
    if (!state.ready || !pageVisible()) return;
    if (state.highestShopSeq > state.readSent && state.conversationId) {
      if (sendFrame({ type: "read", seq: state.highestShopSeq })) state.readSent = state.highestShopSeq;
    }
  }

  /* -------------------------------------------------------- host (widget) */

  function notifyHost(kind) {
    if (!EMBED || window.parent === window) return;
    try { window.parent.postMessage({ source: "kefu-chat", type: kind }, "*"); } catch (e) { /* ignore */ }
  }

  if (EMBED) {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent) return;
      var data = event.data;
      if (!data || data.source !== "kefu-widget") return;
      if (data.type === "visibility") {
        state.visibleInHost = !!data.open;
        if (state.visibleInHost) {
          maybeSendRead();
          if (!state.ws) reconnectNow();
          // Not on a phone: the keyboard would cover half of what they came to read.
          if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
            setTimeout(function () { inputEl.focus(); }, 50);
          }
        }
      }
    });
    if (closeEl) closeEl.addEventListener("click", function () { notifyHost("close"); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") notifyHost("close");
    });
  }

  /* ------------------------------------------------------------ lifecycle */

  errorEl.querySelector(".chat-error-close").addEventListener("click", hideError);
  connActionEl.addEventListener("click", function () {
    state.attempts = 0;
    reconnectNow();
  });

  window.addEventListener("online", function () {
    state.attempts = 0;
    reconnectNow();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (!state.ws) {
      state.attempts = 0;
      reconnectNow();
    } else {
      if (state.ready) ping();
      maybeSendRead();
    }
  });
  window.addEventListener("focus", maybeSendRead);

  // A message typed in another tab of the same buyer, not yet sent: nothing to do here;
  // the token, though, is shared: a new one there (after a reset) is used here too.
  window.addEventListener("storage", function (event) {
    if (event.key === TOKEN_KEY && event.newValue && event.newValue !== state.token) {
      state.token = event.newValue;
    }
  });

  // Show the "connecting" note only if the first connection is slow.
  setTimeout(function () {
    if (!state.connectedOnce && connEl.getAttribute("data-state") !== "online") connEl.hidden = false;
  }, 2500);

  onInput();
  startSession(true, true);

  // For tests and debugging: read-only numbers, no way in.
  root.kefuState = function () {
    return {
      lastSeq: state.lastSeq, conversationId: state.conversationId, ready: state.ready,
      shopReadSeq: state.shopReadSeq, shopDeliveredSeq: state.shopDeliveredSeq,
      outbox: readOutbox().length
    };
  };
})();
