/* Kefu chat widget for shops' own sites.
 *
 *   <script src="https://kefu.example/widget.js" data-shop="demo"
 *           data-identity="…" data-signature="…" data-lang="en" async></script>
 *
 * Adds a "联系客服" button at the bottom right; a click opens the shop's chat
 * (<kefu>/chat/<shop>?embed=1) in a panel, full screen on a phone. The chat itself lives
 * in the iframe, on Kefu's origin: this script never sees the buyer's messages or token.
 * Everything is styled inline, inside a shadow root where the browser has one, so the
 * host page's CSS changes nothing. The only global: window.KefuWidget = {open, close, toggle}.
 */
(function () {
  "use strict";

  if (window.KefuWidget) return;   // included twice: the first one wins

  var script = document.currentScript;
  if (!script) {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(all[i].src || "") && all[i].getAttribute("data-shop")) {
        script = all[i];
        break;
      }
    }
  }
  if (!script || !script.src) return;

  var shop = (script.getAttribute("data-shop") || "").trim();
  if (!shop) {
    if (window.console) console.warn("Kefu widget: add data-shop=\"<shop code>\" to the script tag");
    return;
  }
  var origin;
  try { origin = new URL(script.src, window.location.href).origin; } catch (e) { return; }
  var identity = script.getAttribute("data-identity") || "";
  var signature = script.getAttribute("data-signature") || "";
  var lang = pickLang(script.getAttribute("data-lang"));

  var TEXT = {
    "zh-CN": { launcher: "联系客服", title: "在线客服", close: "关闭客服窗口", unread: "有新消息" },
    en: { launcher: "Chat with us", title: "Customer service", close: "Close the chat", unread: "New message" }
  }[lang];
  var ACCENT = "#2f6f62";
  var NARROW = 480;
  var Z = "2147483000";
  var FONT = 'system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", ' +
    '"Noto Sans CJK SC", "Segoe UI", Roboto, sans-serif';

  // The same choice the chat page makes: the shop's data-lang, else the browser's
  // languages; Chinese unless English comes first.
  function pickLang(explicit) {
    var candidates = explicit ? [explicit] : (navigator.languages || [navigator.language || ""]);
    for (var k = 0; k < candidates.length; k++) {
      var tag = String(candidates[k] || "").toLowerCase();
      if (tag.indexOf("zh") === 0) return "zh-CN";
      if (tag.indexOf("en") === 0) return "en";
    }
    return "zh-CN";
  }

  function css(node, styles) {
    for (var name in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, name)) node.style.setProperty(name, styles[name]);
    }
    return node;
  }

  function svg(paths, size) {
    var NS = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(NS, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", String(size));
    icon.setAttribute("height", String(size));
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var p = document.createElementNS(NS, "path");
      p.setAttribute("d", d);
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "2");
      p.setAttribute("stroke-linecap", "round");
      p.setAttribute("stroke-linejoin", "round");
      icon.appendChild(p);
    });
    css(icon, { display: "block", flex: "none" });
    return icon;
  }

  var CHAT_ICON = ["M21 11.5a8.4 8.4 0 0 1-9 8.4 9.3 9.3 0 0 1-3.6-.7L3 21l1.6-4.6A8 8 0 0 1 3 11.5 8.6 8.6 0 0 1 12 3a8.6 8.6 0 0 1 9 8.5z",
    "M8 11.5h.01M12 11.5h.01M16 11.5h.01"];
  var CLOSE_ICON = ["M6 6l12 12", "M18 6L6 18"];

  function chatUrl() {
    var url = origin + "/chat/" + encodeURIComponent(shop) + "?embed=1";
    if (identity) url += "&identity=" + encodeURIComponent(identity);
    if (signature) url += "&signature=" + encodeURIComponent(signature);
    url += "&lang=" + encodeURIComponent(lang);
    return url;
  }

  var host, mount, launcher, label, badge, panel, iframe, isOpen = false;

  function build() {
    host = document.createElement("div");
    host.setAttribute("data-kefu-widget", shop);
    css(host, {
      all: "initial", position: "fixed", "z-index": Z, right: "0", bottom: "0",
      width: "0", height: "0", overflow: "visible"
    });
    mount = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.setAttribute("data-kefu", "launcher");
    css(launcher, {
      all: "initial", position: "fixed", right: "20px", bottom: "20px", "z-index": Z,
      display: "inline-flex", "align-items": "center", gap: "8px",
      height: "50px", padding: "0 20px 0 16px", "box-sizing": "border-box",
      "border-radius": "25px", background: ACCENT, color: "#fff", cursor: "pointer",
      font: "600 15px/1 " + FONT, "letter-spacing": "0.02em",
      "box-shadow": "0 8px 24px rgba(31, 42, 40, .28), 0 2px 6px rgba(31, 42, 40, .16)",
      transition: "transform .15s ease, box-shadow .15s ease", "user-select": "none",
      "-webkit-tap-highlight-color": "transparent"
    });
    launcher.appendChild(svg(CHAT_ICON, 22));
    label = document.createElement("span");
    label.textContent = TEXT.launcher;
    launcher.appendChild(label);
    badge = document.createElement("span");
    badge.setAttribute("aria-label", TEXT.unread);
    css(badge, {
      all: "initial", position: "absolute", top: "-2px", right: "-2px", width: "14px",
      height: "14px", "border-radius": "50%", background: "#e5484d",
      border: "2px solid #fff", display: "none", "box-sizing": "border-box"
    });
    launcher.appendChild(badge);
    launcher.addEventListener("mouseenter", function () { launcher.style.transform = "translateY(-2px)"; });
    launcher.addEventListener("mouseleave", function () { launcher.style.transform = ""; });
    launcher.addEventListener("focus", function () { launcher.style.outline = "3px solid rgba(47,111,98,.45)"; });
    launcher.addEventListener("blur", function () { launcher.style.outline = ""; });
    launcher.addEventListener("click", toggle);

    panel = document.createElement("div");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", TEXT.title);
    panel.setAttribute("data-kefu", "panel");
    css(panel, {
      all: "initial", position: "fixed", "z-index": Z, display: "none",
      background: "#eef1ef", overflow: "hidden", "box-sizing": "border-box",
      "box-shadow": "0 18px 50px rgba(31, 42, 40, .28), 0 2px 8px rgba(31, 42, 40, .12)"
    });

    mount.appendChild(panel);
    mount.appendChild(launcher);
    (document.body || document.documentElement).appendChild(host);
    layout();
    window.addEventListener("resize", layout);
    window.addEventListener("message", onMessage);
  }

  function narrow() {
    return (window.innerWidth || document.documentElement.clientWidth) < NARROW;
  }

  function layout() {
    if (!panel) return;
    if (narrow()) {
      css(panel, {
        top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%",
        "max-height": "none", "border-radius": "0"
      });
      // The chat has its own close button; the launcher would cover its send button.
      launcher.style.display = isOpen ? "none" : "inline-flex";
    } else {
      css(panel, {
        top: "auto", left: "auto", right: "20px", bottom: "86px", width: "380px",
        height: "600px", "max-height": "calc(100vh - 106px)", "border-radius": "16px"
      });
      launcher.style.display = "inline-flex";
    }
  }

  function ensureFrame() {
    if (iframe) return;
    // Made on the first open, not on page load: a visitor who never opens the chat
    // costs the shop nothing (no session, no customer record).
    iframe = document.createElement("iframe");
    iframe.src = chatUrl();
    iframe.title = TEXT.title;
    iframe.setAttribute("data-kefu", "frame");
    iframe.setAttribute("allow", "clipboard-write");
    iframe.setAttribute("referrerpolicy", "origin");
    css(iframe, {
      all: "initial", display: "block", width: "100%", height: "100%", border: "0",
      "color-scheme": "normal", background: "#eef1ef"
    });
    panel.appendChild(iframe);
    iframe.addEventListener("load", tellFrame);
  }

  function tellFrame() {
    if (!iframe || !iframe.contentWindow) return;
    try {
      iframe.contentWindow.postMessage({ source: "kefu-widget", type: "visibility", open: isOpen }, origin);
    } catch (e) { /* not loaded yet */ }
  }

  function onMessage(event) {
    if (!iframe || event.source !== iframe.contentWindow || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.source !== "kefu-chat") return;
    if (data.type === "close") close();
    else if (data.type === "message" && !isOpen) badge.style.display = "block";
  }

  function setLauncher() {
    launcher.setAttribute("aria-expanded", isOpen ? "true" : "false");
    var icon = launcher.firstChild;
    launcher.replaceChild(svg(isOpen ? CLOSE_ICON : CHAT_ICON, 22), icon);
    css(launcher, isOpen ? { padding: "0", width: "50px", "justify-content": "center" }
      : { padding: "0 20px 0 16px", width: "auto", "justify-content": "flex-start" });
    label.style.display = isOpen ? "none" : "inline";
    launcher.setAttribute("aria-label", isOpen ? TEXT.close : TEXT.launcher);
  }

  function open() {
    if (!host) return;
    ensureFrame();
    isOpen = true;
    panel.style.display = "block";
    badge.style.display = "none";
    setLauncher();
    layout();
    tellFrame();
    if (iframe) try { iframe.focus(); } catch (e) { /* focus is a nicety */ }
  }

  function close() {
    if (!host) return;
    isOpen = false;
    panel.style.display = "none";
    setLauncher();
    layout();
    tellFrame();
    try { launcher.focus(); } catch (e) { /* focus is a nicety */ }
  }

  function toggle() {
    if (isOpen) close();
    else open();
  }

  window.KefuWidget = { open: open, close: close, toggle: toggle };

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
