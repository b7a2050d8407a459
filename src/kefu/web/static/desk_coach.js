/* Kefu desk: the reply coach in the composer.
 *
 * - While the agent types a reply (not a note), the draft is checked after a ~300 ms pause
 *   (POST /api/v1/coach/check). Phrases that break a rule get a wavy underline, drawn on a
 *   backdrop behind the transparent textarea that mirrors its text (same font, padding,
 *   wrapping and scroll); the strip below lists each hint with a better phrasing and
 *   「使用建议」 to put it in the composer for the agent to edit.
 * - When the buyer is waiting on a complaint, a bar offers an apology-first opening
 *   (「道歉开头」 puts it at the start of the draft).
 * - "/" at the start of the draft or of a line, followed by text, opens the canned phrase
 *   picker (GET /api/v1/coach/phrases): ↑/↓, Enter or Tab inserts, Esc closes; while it is
 *   open Enter never sends.
 *
 * The coach only advises: a failed or slow check changes nothing, sending is never blocked
 * and Send is never disabled here. Responses to an older draft are ignored (a sequence
 * number), and spans are applied only to the very text the server judged. desk.js is not
 * called: the conversation comes from the page's #c<id> (and kefu:panel), the mode from
 * the form's note-mode class. Buyer and shop text goes on the page with textContent only.
 */
(function () {
  "use strict";

  var composer = document.getElementById("desk-composer");
  var form = document.getElementById("desk-composer-form");
  if (!composer || !form || !window.fetch) return;

  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("desk-coach-strings") || {}).textContent || "{}");
  } catch (e) { STRINGS = {}; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.getAttribute("content") : "";
  var DEBOUNCE = 300;
  var PICK_DEBOUNCE = 120;
  var SEVERITY_RANK = { info: 0, minor: 1, major: 2, critical: 3 };

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
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  function conversationId() {
    var match = /^#c(\d+)$/.exec(location.hash || "");
    return match ? Number(match[1]) : panelId;
  }
  var panelId = null;

  function replyMode() { return !form.classList.contains("note-mode"); }

  /* ------------------------------------------------------------ the composer's layers */

  // The textarea moves into a positioned wrapper; the backdrop sits under it.
  var field = el("div", "coach-field");
  composer.parentNode.insertBefore(field, composer);
  var backdrop = el("div", "coach-backdrop");
  backdrop.setAttribute("aria-hidden", "true");
  backdrop.setAttribute("data-testid", "coach-backdrop");
  var mirror = el("div", "coach-mirror");
  backdrop.appendChild(mirror);
  field.appendChild(backdrop);
  field.appendChild(composer);
  composer.classList.add("coach-composer");

  var apologyBar = el("div", "coach-apology");
  apologyBar.setAttribute("data-testid", "coach-apology");
  apologyBar.setAttribute("role", "note");
  apologyBar.hidden = true;
  var apologyLabel = el("span", "coach-apology-label");
  var apologyText = el("span", "coach-apology-text");
  var apologyUse = el("button", "btn btn-small coach-apology-use", t("apology_use"));
  apologyUse.type = "button";
  apologyUse.title = t("apology_use_hint");
  apologyUse.setAttribute("data-testid", "coach-apology-use");
  apologyBar.appendChild(apologyLabel);
  apologyBar.appendChild(apologyText);
  apologyBar.appendChild(apologyUse);
  form.insertBefore(apologyBar, field);

  var strip = el("section", "coach-hints");
  strip.setAttribute("data-testid", "coach-hints");
  strip.setAttribute("aria-label", t("title"));
  strip.setAttribute("aria-live", "polite");
  strip.hidden = true;
  form.parentNode.insertBefore(strip, form.nextSibling);

  var picker = el("ul", "coach-phrases");
  picker.id = "coach-phrases";
  picker.setAttribute("data-testid", "coach-phrases");
  picker.setAttribute("role", "listbox");
  picker.setAttribute("aria-label", t("phrases"));
  picker.hidden = true;
  field.appendChild(picker);

  var COPIED = ["fontFamily", "fontSize", "fontWeight", "fontStyle", "lineHeight", "letterSpacing",
    "wordSpacing", "textTransform", "textIndent", "tabSize", "paddingTop", "paddingRight",
    "paddingBottom", "paddingLeft", "borderTopWidth", "borderRightWidth", "borderBottomWidth",
    "borderLeftWidth", "direction"];

  /** The backdrop takes the textarea's box and type, minus its scrollbar, so lines wrap alike. */
  function fitBackdrop() {
    var style = window.getComputedStyle(composer);
    COPIED.forEach(function (name) { backdrop.style[name] = style[name]; });
    backdrop.style.borderStyle = "solid";
    backdrop.style.borderColor = "transparent";
    var borders = (parseFloat(style.borderLeftWidth) || 0) + (parseFloat(style.borderRightWidth) || 0);
    var bordersY = (parseFloat(style.borderTopWidth) || 0) + (parseFloat(style.borderBottomWidth) || 0);
    backdrop.style.width = (composer.clientWidth + borders) + "px";
    backdrop.style.height = (composer.clientHeight + bordersY) + "px";
    backdrop.style.top = composer.offsetTop + "px";
    backdrop.style.left = composer.offsetLeft + "px";
    syncScroll();
  }

  function syncScroll() {
    backdrop.scrollTop = composer.scrollTop;
    backdrop.scrollLeft = composer.scrollLeft;
  }

  /* ------------------------------------------------------------ state */

  var state = {
    conversation: null, // the conversation the shown result is for
    seq: 0, // the newest request sent
    result: null, // the newest answer applied
    judged: null, // the text that answer is about
    shown: null, // the text the mirror shows
    timer: null,
  };

  function codePoints(text) { return Array.from(text); }

  /** Non-overlapping marks from the hits' spans (code point offsets), the worst severity wins. */
  function marksOf(hits, length) {
    var spans = hits.filter(function (h) { return h.end > h.start && h.start >= 0 && h.end <= length; })
      .map(function (h) { return { start: h.start, end: h.end, severity: h.severity, names: [h.name] }; })
      .sort(function (a, b) { return a.start - b.start || b.end - a.end; });
    var merged = [];
    spans.forEach(function (span) {
      var last = merged[merged.length - 1];
      if (last && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        if ((SEVERITY_RANK[span.severity] || 0) > (SEVERITY_RANK[last.severity] || 0)) last.severity = span.severity;
        if (last.names.indexOf(span.names[0]) < 0) last.names.push(span.names[0]);
      } else {
        merged.push(span);
      }
    });
    return merged;
  }

  function renderMirror() {
    var text = composer.value;
    state.shown = text;
    while (mirror.firstChild) mirror.removeChild(mirror.firstChild);
    var marks = [];
    var cps = null;
    if (state.result && state.judged === text && replyMode()) {
      cps = codePoints(text);
      marks = marksOf(state.result.hits || [], cps.length);
    }
    if (!marks.length) {
      mirror.appendChild(document.createTextNode(text));
    } else {
      var at = 0;
      marks.forEach(function (span) {
        if (span.start > at) mirror.appendChild(document.createTextNode(cps.slice(at, span.start).join("")));
        var mark = el("mark", "coach-mark", cps.slice(span.start, span.end).join(""));
        mark.setAttribute("data-severity", span.severity);
        mark.setAttribute("data-testid", "coach-underline");
        mark.title = span.names.map(function (name) { return t("hint_for", { name: name }); }).join("\n");
        mirror.appendChild(mark);
        at = span.end;
      });
      if (at < cps.length) mirror.appendChild(document.createTextNode(cps.slice(at).join("")));
    }
    // A trailing newline only makes a line once something follows it.
    if (/\n$/.test(text)) mirror.appendChild(document.createTextNode(" "));
    syncScroll();
  }

  /* ------------------------------------------------------------ checking the draft */

  function clearResult() {
    state.result = null;
    state.judged = null;
    renderHints();
    renderMirror();
  }

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(check, delay === undefined ? DEBOUNCE : delay);
  }

  function check() {
    var id = conversationId();
    var text = composer.value;
    // A lone "/shortcut" is a search for a phrase, not a reply: nothing to judge yet.
    if (id === null || composer.disabled || !replyMode() || /^\/\S*$/.test(text.trim())) {
      state.seq++; // whatever is in flight is for another draft now
      clearResult();
      return;
    }
    var seq = ++state.seq;
    api("POST", "/api/v1/coach/check", { conversation_id: id, text: text }).then(function (result) {
      if (seq !== state.seq || conversationId() !== id) return; // a newer draft was sent
      state.conversation = id;
      state.result = result;
      state.judged = text;
      renderHints();
      renderMirror();
    }, function () {
      // Advice only: a refused or failed check leaves the composer as it is.
    });
  }

  function useSuggestion(text) {
    if (composer.disabled) return;
    setDraft(text, text.length);
  }

  function useApology(template) {
    if (composer.disabled) return;
    var draft = composer.value.replace(/^\s+/, "");
    var joint = !draft || /[。！？!?，,.~…；;：:\s]$/.test(template) ? "" : "，";
    setDraft(template + joint + draft, (template + joint).length);
  }

  /** Replace the draft (the agent edits before sending; nothing is sent from here). */
  function setDraft(value, caret) {
    composer.value = value;
    composer.dispatchEvent(new Event("input")); // desk.js: counter, Send, typing
    composer.focus();
    composer.setSelectionRange(caret, caret);
  }

  function renderHints() {
    var result = state.result;
    while (strip.firstChild) strip.removeChild(strip.firstChild);
    var hits = result && replyMode() ? result.hits || [] : [];
    var template = result && replyMode() ? result.apology_template : null;
    var draft = composer.value;
    if (template && draft.indexOf(template) !== 0) {
      apologyLabel.textContent = result.buyer_angry ? t("apology_angry") : t("apology");
      apologyText.textContent = template;
      apologyUse.onclick = function () { useApology(template); };
      apologyBar.hidden = false;
    } else {
      apologyBar.hidden = true;
    }
    if (!hits.length && !(result && result.truncated)) {
      strip.hidden = true;
      return;
    }
    hits.forEach(function (hit) {
      var item = el("div", "coach-hint");
      item.setAttribute("data-testid", "coach-hint");
      item.setAttribute("data-rule", hit.code);
      item.setAttribute("data-severity", hit.severity);
      var head = el("div", "coach-hint-head");
      head.appendChild(el("span", "coach-severity", t("severity." + hit.severity)));
      head.appendChild(el("strong", "coach-hint-name", hit.name));
      if (hit.points) head.appendChild(el("span", "coach-points", t("points", { points: hit.points })));
      var where = hit.end > hit.start ? "「" + hit.excerpt + "」" : t("whole");
      head.appendChild(el("span", "coach-excerpt", where));
      item.appendChild(head);
      if (hit.description) item.appendChild(el("p", "coach-hint-desc", hit.description));
      if (hit.suggestion) {
        var better = el("div", "coach-better");
        better.appendChild(el("span", "coach-better-label", t("better")));
        better.appendChild(el("span", "coach-suggestion", hit.suggestion)).setAttribute("data-testid", "coach-suggestion");
        var use = el("button", "btn btn-small coach-use", t("use_suggestion"));
        use.type = "button";
        use.title = t("use_suggestion_hint");
        use.setAttribute("data-testid", "coach-use-suggestion");
        use.addEventListener("click", function () { useSuggestion(hit.suggestion); });
        better.appendChild(use);
        item.appendChild(better);
      }
      strip.appendChild(item);
    });
    if (result.truncated) strip.appendChild(el("p", "coach-truncated muted small", t("truncated", { limit: result.analysed_chars })));
    strip.hidden = false;
  }

  /* ------------------------------------------------------------ the /shortcut picker */

  var pick = { open: false, items: [], active: 0, seq: 0, timer: null, start: 0, end: 0, query: "" };

  /** "/query" ending at the caret, at the start of the draft or of a line; else null. */
  function slashQuery() {
    if (composer.selectionStart !== composer.selectionEnd) return null;
    var caret = composer.selectionStart;
    var value = composer.value;
    var lineStart = value.lastIndexOf("\n", caret - 1) + 1;
    var typed = value.slice(lineStart, caret);
    var match = /^\/(\S{1,30})$/.exec(typed);
    return match ? { query: match[1], start: lineStart, end: caret } : null;
  }

  function closePicker() {
    pick.open = false;
    pick.seq++;
    clearTimeout(pick.timer);
    picker.hidden = true;
    composer.removeAttribute("aria-activedescendant");
    composer.setAttribute("aria-expanded", "false");
  }

  function updatePicker() {
    var found = composer.disabled ? null : slashQuery();
    if (!found) { if (pick.open) closePicker(); return; }
    pick.start = found.start;
    pick.end = found.end;
    if (pick.open && found.query === pick.query) return;
    pick.query = found.query;
    if (!pick.open) {
      // Open at once (loading): an Enter typed before the list arrives must not send "/…".
      pick.open = true;
      pick.items = [];
      pick.active = 0;
      renderPicker(true);
    }
    clearTimeout(pick.timer);
    pick.timer = setTimeout(function () { loadPhrases(found.query); }, PICK_DEBOUNCE);
  }

  function loadPhrases(query) {
    var seq = ++pick.seq;
    var id = conversationId();
    var path = "/api/v1/coach/phrases?limit=8&q=" + encodeURIComponent(query) +
      (id !== null ? "&conversation_id=" + id : "");
    api("GET", path).then(function (data) {
      if (seq !== pick.seq || !pick.open) return;
      pick.items = (data && data.phrases) || [];
      pick.active = 0;
      renderPicker(false);
    }, function () {
      if (seq !== pick.seq || !pick.open) return;
      pick.items = [];
      renderPicker(false);
    });
  }

  function renderPicker(loading) {
    while (picker.firstChild) picker.removeChild(picker.firstChild);
    if (loading || !pick.items.length) {
      var empty = el("li", "coach-phrase-empty muted small", loading ? t("loading") : t("phrases_empty"));
      empty.setAttribute("role", "presentation");
      picker.appendChild(empty);
    }
    pick.items.forEach(function (phrase, index) {
      var item = el("li", "coach-phrase");
      item.id = "coach-phrase-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("data-testid", "coach-phrase");
      item.setAttribute("data-id", String(phrase.id));
      item.setAttribute("aria-selected", index === pick.active ? "true" : "false");
      var top = el("div", "coach-phrase-top");
      top.appendChild(el("span", "coach-phrase-key", "/" + phrase.shortcut));
      if (phrase.title) top.appendChild(el("span", "coach-phrase-title", phrase.title));
      item.appendChild(top);
      item.appendChild(el("div", "coach-phrase-body", textOf(phrase)));
      // mousedown, not click: the textarea keeps its focus and caret.
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insertPhrase(index);
      });
      picker.appendChild(item);
    });
    picker.appendChild(el("li", "coach-phrase-keys muted small", t("phrases_keys"))).setAttribute("role", "presentation");
    picker.hidden = false;
    composer.setAttribute("aria-expanded", "true");
    composer.setAttribute("aria-controls", picker.id);
    if (pick.items.length) composer.setAttribute("aria-activedescendant", "coach-phrase-" + pick.active);
    else composer.removeAttribute("aria-activedescendant");
  }

  function textOf(phrase) {
    return phrase.rendered !== null && phrase.rendered !== undefined ? phrase.rendered : phrase.body;
  }

  function movePicker(step) {
    if (!pick.items.length) return;
    pick.active = (pick.active + step + pick.items.length) % pick.items.length;
    Array.prototype.forEach.call(picker.querySelectorAll(".coach-phrase"), function (item, index) {
      item.setAttribute("aria-selected", index === pick.active ? "true" : "false");
      if (index === pick.active && item.scrollIntoView) item.scrollIntoView({ block: "nearest" });
    });
    composer.setAttribute("aria-activedescendant", "coach-phrase-" + pick.active);
  }

  function insertPhrase(index) {
    var phrase = pick.items[index];
    if (!phrase) { closePicker(); return; }
    var text = textOf(phrase);
    var value = composer.value;
    var start = Math.min(pick.start, value.length);
    var end = Math.min(Math.max(pick.end, start), value.length);
    closePicker();
    setDraft(value.slice(0, start) + text + value.slice(end), start + text.length);
    var id = conversationId();
    // Counted for the phrase's statistics; the text is already in the composer.
    api("POST", "/api/v1/coach/phrases/" + phrase.id + "/use" + (id !== null ? "?conversation_id=" + id : ""))
      .then(null, function () { /* counting is best effort */ });
  }

  // Capture phase on the form: runs before desk.js's Enter-to-send on the textarea.
  form.addEventListener("keydown", function (event) {
    if (!pick.open || event.target !== composer || event.isComposing || event.keyCode === 229) return;
    var key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      movePicker(key === "ArrowDown" ? 1 : -1);
    } else if ((key === "Enter" && !event.shiftKey) || (key === "Tab" && !event.shiftKey)) {
      if (pick.items.length) insertPhrase(pick.active); else closePicker();
    } else if (key === "Escape") {
      closePicker();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);

  composer.addEventListener("blur", function () { if (pick.open) closePicker(); });
  composer.addEventListener("click", updatePicker);
  composer.addEventListener("keyup", function (event) {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") updatePicker();
  });

  /* ------------------------------------------------------------ following the composer */

  function onChange() {
    if (composer.value !== state.shown) renderMirror();
    if (state.judged !== composer.value && state.result) renderHints(); // the apology bar follows the draft
    schedule();
  }

  composer.addEventListener("input", function () {
    onChange();
    updatePicker();
  });
  composer.addEventListener("scroll", syncScroll);

  // desk.js replaces the draft without an input event (sending, switching conversations):
  // notice by looking, cheaply, a few times a second.
  var wasDisabled = composer.disabled;
  setInterval(function () {
    var id = conversationId();
    if (composer.disabled !== wasDisabled) { // closed or reopened: hints follow
      wasDisabled = composer.disabled;
      if (wasDisabled) closePicker();
      schedule(0);
    }
    if (id !== state.conversation) {
      state.conversation = id;
      state.seq++;
      state.result = null;
      state.judged = null;
      closePicker();
      renderHints();
      renderMirror();
      schedule(0);
    } else if (composer.value !== state.shown) {
      if (pick.open) updatePicker();
      onChange();
    }
  }, 250);

  // The reply/note toggle: notes are not checked.
  var wasReply = replyMode();
  new MutationObserver(function () {
    if (replyMode() === wasReply) return;
    wasReply = replyMode();
    renderHints();
    renderMirror();
    if (wasReply) schedule(0);
  }).observe(form, { attributes: true, attributeFilter: ["class"] });

  document.addEventListener("kefu:panel", function (event) {
    var detail = event.detail || {};
    if (detail.conversationId !== undefined && detail.conversationId !== null) panelId = detail.conversationId;
  });

  if (window.ResizeObserver) new ResizeObserver(fitBackdrop).observe(composer);
  window.addEventListener("resize", fitBackdrop);
  fitBackdrop();
  renderMirror();
})();
