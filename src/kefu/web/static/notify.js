/* Kefu: the header bell on every staff page, and the page's live connection (/ws/staff).
 *
 * The bell shows how many notifications are unread (GET /api/v1/notifications: `unread`),
 * rings and shows a small toast when one arrives. The same read-only socket tells the page
 * when a ticket changed: other scripts listen on document for
 *   kefu:ticket        detail: {ticket_id, number, changed}
 *   kefu:notification  detail: {id, kind, text, link}
 *   kefu:staff-ready   the socket (re)connected: anything missed meanwhile should be re-read
 * and may call window.KefuNotify.refresh() after marking notifications read.
 *
 * Server text goes on the page with textContent only; links are followed only when they
 * are paths on this site.
 */
(function () {
  "use strict";

  var bell = document.getElementById("kefu-bell");
  if (!bell) return;
  var badge = document.getElementById("kefu-bell-count");
  var toasts = document.getElementById("kefu-toasts");
  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("notify-strings") || {}).textContent || "{}");
  } catch (e) { STRINGS = {}; }

  var PING_EVERY = 25000;
  var PONG_WAIT = 10000;
  var TOAST_FOR = 8000;
  var MAX_TOASTS = 4;
  var unread = 0;
  var ws = null;
  var backoff = 1000;
  var pingTimer = null;
  var pongTimer = null;
  var reconnectTimer = null;
  var stopped = false;

  function t(key) { return STRINGS[key] || key; }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  function localPath(link) {
    return typeof link === "string" && /^\/(?!\/)/.test(link) && link.indexOf("\\") < 0;
  }

  /* ------------------------------------------------------------ the count */

  function show(count) {
    unread = Math.max(0, count | 0);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    var label = bell.getAttribute("data-label") || "";
    var withCount = (bell.getAttribute("data-unread-label") || "{n}").split("{n}").join(String(unread));
    bell.title = unread ? withCount : label;
    bell.setAttribute("aria-label", unread ? withCount : label);
    bell.dataset.unread = String(unread);
  }

  function countOf(data) {
    return data && typeof data.unread === "number" ? data.unread : 0;
  }

  function refresh() {
    return fetch("/api/v1/notifications?unread_only=true&limit=1", {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) return null;
      return response.json().then(function (data) { show(countOf(data)); });
    }, function () { return null; });
  }

  /* ------------------------------------------------------------ toasts */

  function toast(frame) {
    if (!toasts) return;
    var box = document.createElement("div");
    box.className = "toast";
    box.setAttribute("data-testid", "toast");
    var kind = document.createElement("span");
    kind.className = "toast-kind";
    kind.textContent = t("kind." + frame.kind);
    var text = document.createElement("span");
    text.className = "toast-text";
    text.textContent = frame.text || "";
    box.appendChild(kind);
    box.appendChild(text);
    if (localPath(frame.link)) {
      var open = document.createElement("a");
      open.href = frame.link;
      open.textContent = t("open");
      box.appendChild(open);
    }
    toasts.appendChild(box);
    while (toasts.children.length > MAX_TOASTS) toasts.removeChild(toasts.firstChild);
    setTimeout(function () { if (box.parentNode) box.parentNode.removeChild(box); }, TOAST_FOR);
  }

  function ring() {
    bell.classList.remove("ring");
    void bell.offsetWidth;  // restart the animation
    bell.classList.add("ring");
  }

  /* ------------------------------------------------------------ the socket */

  function connect() {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/staff";
    var socket;
    try { socket = new WebSocket(url); } catch (e) { later(); return; }
    ws = socket;
    socket.onmessage = function (event) {
      if (socket !== ws) return;
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      clearTimeout(pongTimer);
      handle(frame);
    };
    socket.onclose = function (event) {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      if (event.code === 4401) { stopped = true; return; }  // logged out: the page says so on reload
      later();
    };
  }

  function later() {
    var delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
    backoff = Math.min(backoff * 2, 15000);
    reconnectTimer = setTimeout(connect, delay);
  }

  function startPing() {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (!ws || ws.readyState !== 1) return;
      ws.send(JSON.stringify({ type: "ping" }));
      clearTimeout(pongTimer);
      pongTimer = setTimeout(function () { try { ws.close(); } catch (e) { /* ignore */ } }, PONG_WAIT);
    }, PING_EVERY);
  }

  var everReady = false;

  function handle(frame) {
    switch (frame.type) {
      case "ready":
        backoff = 1000;
        startPing();
        bell.dataset.live = "1";
        if (everReady) refresh();  // the first count is fetched on load
        everReady = true;
        emit("kefu:staff-ready", {});
        return;
      case "ticket":
        emit("kefu:ticket", frame);
        return;
      case "notification":
        show(unread + 1);
        ring();
        toast(frame);
        // The notifications page offers to reload its list.
        Array.prototype.forEach.call(document.querySelectorAll("[data-notify-fresh]"), function (n) { n.hidden = false; });
        emit("kefu:notification", frame);
        return;
      default:
        return;  // pong, errors: nothing to show
    }
  }

  window.addEventListener("online", function () {
    if (!stopped && (!ws || ws.readyState > 1)) { backoff = 1000; connect(); }
  });

  window.KefuNotify = { refresh: refresh, show: show };
  show(0);
  refresh();
  connect();
})();
