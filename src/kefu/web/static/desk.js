/* Kefu agent desk: conversation list, chat, customer panel, one live websocket.
 *
 * Protocol: docs/REALTIME.md. Buyer text is hostile: everything from the server is put on
 * the page with textContent / createTextNode, links are <a> elements built here. No
 * innerHTML with data, anywhere.
 */
(function () {
  "use strict";

  var byId = function (id) { return document.getElementById(id); };
  var boot = JSON.parse(byId("desk-bootstrap").textContent);
  var S = JSON.parse(byId("desk-strings").textContent);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var me = boot.me;
  var TZ = boot.timezone || "Asia/Shanghai";
  var LOCALE = document.documentElement.lang || "zh-CN";
  var MAX_LEN = 5000;
  var PAGE = 200;
  var PING_EVERY = 20000;
  var PONG_WAIT = 10000;
  var TYPING_EVERY = 2000;
  var TYPING_SHOW = 4000;
  var ACK_WAIT = 15000;
  var SUGGEST_WAIT = 350;      // debounce: a burst of buyer lines asks for suggestions once
  var SUGGEST_MAX = 3;
  var OUTBOX_KEY = "kefu.desk.outbox." + me.id;
  var SOUND_KEY = "kefu.desk.sound";

  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key;
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

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "d-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* ---------------------------------------------------------------- state */

  var state = {
    view: "mine",
    teamFilter: null,
    search: "",
    convs: new Map(),          // id -> summary
    openId: null,
    threads: new Map(),        // id -> {byKey, bySeq, firstSeq, lastSeq, loading, syncing}
    contexts: new Map(),       // id -> context response
    outbox: [],                // unacknowledged sends
    drafts: new Map(),
    mode: "reply",
    agents: new Map(),
    teams: new Map(),
    myTeams: new Set(),
    presence: me.presence || "online",
    capacity: me.capacity || 0,
    listsLoaded: false,
    closedLoaded: false,
    sound: localStorage.getItem(SOUND_KEY) !== "off",
    notified: 0,
    expectMine: new Set(),
    frameAt: new Map(),        // conversation id -> when a live frame last changed it     // conversations this agent is taking themselves: no sound
    suggest: { ticket: 0, timer: null, id: null, question: "", items: [] }, // 推荐回答 for the open conversation
  };
  (boot.teams || []).forEach(function (team) { state.teams.set(team.id, team); });
  (boot.agents || []).forEach(function (agent) { state.agents.set(agent.id, agent); });
  var mine = state.agents.get(me.id);
  (boot.my_team_ids || (mine && mine.team_ids) || []).forEach(function (id) { state.myTeams.add(id); });

  var ui = {
    app: byId("desk"),
    rows: byId("desk-rows"),
    listEmpty: byId("desk-list-empty"),
    teamFilter: byId("desk-teamfilter"),
    search: byId("desk-search"),
    tabs: Array.prototype.slice.call(document.querySelectorAll(".desk-tab")),
    placeholder: byId("desk-placeholder"),
    conv: byId("desk-conv"),
    convName: byId("conv-name"),
    convMeta: byId("conv-meta"),
    take: byId("desk-take"),
    assign: byId("desk-assign"),
    transfer: byId("desk-transfer"),
    close: byId("desk-close"),
    reopen: byId("desk-reopen"),
    messages: byId("desk-messages"),
    newBelow: byId("desk-new-below"),
    typing: byId("desk-typing"),
    handoff: byId("desk-handoff"),
    handoffText: byId("desk-handoff-text"),
    suggest: byId("desk-suggest"),
    suggestFor: byId("desk-suggest-for"),
    suggestList: byId("desk-suggest-list"),
    form: byId("desk-composer-form"),
    composer: byId("desk-composer"),
    send: byId("desk-send"),
    counter: byId("desk-counter"),
    modes: Array.prototype.slice.call(document.querySelectorAll(".mode-toggle .mode")),
    imageBtn: byId("desk-image-btn"),
    file: byId("desk-file"),
    sideEmpty: byId("desk-side-empty"),
    side: byId("desk-side-content"),
    custAvatar: byId("cust-avatar"),
    custName: byId("cust-name"),
    custSalutation: byId("cust-salutation"),
    custVip: byId("cust-vip"),
    custFacts: byId("cust-facts"),
    orders: byId("desk-orders"),
    presence: byId("desk-presence"),
    presenceDot: byId("desk-presence-dot"),
    load: byId("desk-load"),
    connection: byId("desk-connection"),
    banner: byId("desk-banner"),
    error: byId("desk-error"),
    sound: byId("desk-sound"),
    dialog: byId("desk-dialog"),
    dialogForm: byId("desk-dialog-form"),
    dialogTitle: byId("desk-dialog-title"),
    dialogHint: byId("desk-dialog-hint"),
    dialogTeamLabel: byId("desk-dialog-team-label"),
    dialogTeam: byId("desk-transfer-team"),
    dialogAgent: byId("desk-transfer-agent"),
    dialogConfirm: byId("desk-transfer-confirm"),
    dialogCancel: byId("desk-dialog-cancel"),
  };

  /* ---------------------------------------------------------------- time */

  var fmtClock = new Intl.DateTimeFormat(LOCALE, {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false,
  });
  var fmtDay = new Intl.DateTimeFormat("en-CA", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  });

  function parseTime(value) {
    if (!value) return null;
    var date = new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }
  function dayOf(date) { return fmtDay.format(date); }
  function clock(date) { return fmtClock.format(date).replace(/^24:/, "00:"); }

  /** List rows: the time today, else the date (the year only when it is not this year). */
  function shortTime(value) {
    var date = parseTime(value);
    if (!date) return "";
    var day = dayOf(date);
    var today = dayOf(new Date());
    if (day === today) return clock(date);
    return day.slice(0, 4) === today.slice(0, 4) ? day.slice(5) : day;
  }

  /** Messages: the time, with the date when it was not today. */
  function messageTime(value) {
    var date = parseTime(value);
    if (!date) return "";
    var day = dayOf(date);
    var today = dayOf(new Date());
    if (day === today) return clock(date);
    return (day.slice(0, 4) === today.slice(0, 4) ? day.slice(5) : day) + " " + clock(date);
  }

  function fullTime(value) {
    var date = parseTime(value);
    return date ? dayOf(date) + " " + clock(date) + " (" + TZ + ")" : "";
  }

  function waitingText(value) {
    var date = parseTime(value);
    if (!date) return "";
    var minutes = Math.max(0, Math.floor((Date.now() - date.getTime()) / 60000));
    if (minutes < 1) return t("waiting_now");
    var amount;
    if (minutes < 60) amount = t("minutes", { n: minutes });
    else if (minutes < 60 * 24) amount = t("hours", { n: Math.floor(minutes / 60) });
    else amount = t("days", { n: Math.floor(minutes / 1440) });
    return t("waiting", { time: amount });
  }

  /* ---------------------------------------------------------------- REST */

  function ApiError(status, code, message, field) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.field = field;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var options = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!response.ok) {
            var err = (data && data.error) || {};
            if (response.status === 401) authExpired();
            throw new ApiError(
              response.status, err.code || "error",
              err.message || t("error.generic"), err.field
            );
          }
          return data;
        });
      },
      function () { throw new ApiError(0, "network", t("error.network")); }
    );
  }

  function reportError(error) {
    if (error instanceof ApiError) showError(error.message);
    else { showError(t("error.generic")); if (window.console) console.error(error); }
  }

  var errorTimer = null;
  function showError(text) {
    ui.error.querySelector(".desk-error-text").textContent = text;
    ui.error.hidden = false;
    ui.error.classList.remove("info");
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { ui.error.hidden = true; }, 8000);
  }
  function showInfo(text) {
    showError(text);
    ui.error.classList.add("info");
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { ui.error.hidden = true; }, 3000);
  }
  ui.error.querySelector(".desk-error-close").addEventListener("click", function () {
    ui.error.hidden = true;
  });

  /* ---------------------------------------------------------------- conversations */

  function canSee(c) {
    return !!boot.is_supervisor || c.assignee_id === me.id || state.myTeams.has(c.team_id);
  }
  function isUnassigned(c) { return c.status === "open" && (c.assignee_id === null || c.assignee_id === undefined); }
  /** Waiting for a person. One the bot is receiving waits for nobody yet. */
  function isQueued(c) { return isUnassigned(c) && !c.with_bot; }
  function isUrgent(c) { return (c.priority || 0) > 0; }
  function isMine(c) { return c.status === "open" && c.assignee_id === me.id; }

  function inView(c, view) {
    if (!canSee(c)) return false;
    if (view === "queue") return isQueued(c);
    if (view === "mine") return isMine(c);
    if (view === "all") return c.status === "open";
    return c.status === "closed";
  }

  function stamp(c) {
    var d = parseTime(c.last_message_at);
    return d ? d.getTime() : 0;
  }

  function listFor(view) {
    var out = [];
    state.convs.forEach(function (c) { if (inView(c, view)) out.push(c); });
    if (view === "queue") {
      out.sort(function (a, b) {
        var wa = parseTime(a.waiting_since), wb = parseTime(b.waiting_since);
        var ta = wa ? wa.getTime() : Infinity, tb = wb ? wb.getTime() : Infinity;
        // As the server hands them out: urgent ones first, then the longest waiting.
        return (b.priority || 0) - (a.priority || 0) || ta - tb || a.id - b.id;
      });
    } else {
      out.sort(function (a, b) { return stamp(b) - stamp(a) || b.id - a.id; });
    }
    return out;
  }

  function visibleList() {
    var list = listFor(state.view);
    if (state.view === "queue" && state.teamFilter !== null) {
      list = list.filter(function (c) { return c.team_id === state.teamFilter; });
    }
    var q = state.search.trim().toLowerCase();
    if (q) {
      list = list.filter(function (c) {
        var name = ((c.customer && c.customer.display_name) || "").toLowerCase();
        return name.indexOf(q) >= 0 || (c.preview || "").toLowerCase().indexOf(q) >= 0;
      });
    }
    return list;
  }

  /** Merge a summary from the server. Returns the previous one (or undefined). */
  function upsert(summary) {
    if (!summary || typeof summary.id !== "number") return undefined;
    var before = state.convs.get(summary.id);
    var merged = Object.assign({}, before || {}, summary);
    merged.customer = Object.assign({}, (before && before.customer) || {}, summary.customer || {});
    // Receipts only move forward, whatever order the frames come in.
    if (before) {
      merged.buyer_read_seq = Math.max(before.buyer_read_seq || 0, summary.buyer_read_seq || 0);
      merged.shop_read_seq = Math.max(before.shop_read_seq || 0, summary.shop_read_seq || 0);
      merged.last_seq = Math.max(before.last_seq || 0, summary.last_seq || 0);
    }
    if (merged.id === state.openId && canMarkRead(merged) && isVisible()) merged.unread = 0;
    if (!canSee(merged)) {
      // Transferred to a team this agent is not in: it is no longer theirs to see.
      state.convs.delete(merged.id);
      if (merged.id === state.openId) {
        closeView();
        showInfo(t("moved_away", { team: teamName(merged.team_id, merged.team_name) }));
      }
      scheduleRender();
      return before;
    }
    state.convs.set(merged.id, merged);
    if (state.listsLoaded && merged.status === "open" && merged.assignee_id === me.id &&
        !state.expectMine.has(merged.id) &&
        (!before || before.assignee_id !== me.id || before.status !== "open")) {
      notify();
    }
    scheduleRender();
    if (merged.id === state.openId) renderHeader();
    return before;
  }

  function loadLists() {
    var asked = Date.now();
    var views = [
      api("GET", "/api/v1/desk/conversations?view=queue&status=open&limit=" + PAGE),
      api("GET", "/api/v1/desk/conversations?view=mine&status=open&limit=" + PAGE),
      api("GET", "/api/v1/desk/conversations?view=all&status=open&limit=" + PAGE),
    ];
    return Promise.all(views).then(function (answers) {
      var fresh = new Map();
      answers.forEach(function (answer) {
        ((answer && answer.conversations) || []).forEach(function (c) { fresh.set(c.id, c); });
      });
      // An open conversation we knew that no list returns any more has changed while we
      // were away (closed, moved to another team): read it again rather than guess.
      var stale = [];
      state.convs.forEach(function (c, id) {
        if (c.status === "open" && !fresh.has(id) && !(state.frameAt.get(id) > asked)) stale.push(id);
      });
      var wasLoaded = state.listsLoaded;
      state.listsLoaded = false; // no "assigned to you" sounds for the initial picture
      // A live frame newer than this answer wins over it.
      fresh.forEach(function (c) { if (!(state.frameAt.get(c.id) > asked)) upsert(c); });
      stale.forEach(function (id) {
        if (id === state.openId) refreshContext(id);
        else state.convs.delete(id);
      });
      state.listsLoaded = true;
      if (!wasLoaded) openFromHash();
      if (state.view === "closed") loadClosed();
      scheduleRender();
    }).catch(reportError);
  }

  function loadClosed() {
    return api("GET", "/api/v1/desk/conversations?view=all&status=closed&limit=100")
      .then(function (answer) {
        var listed = state.listsLoaded;
        state.listsLoaded = false;
        ((answer && answer.conversations) || []).forEach(function (c) { upsert(c); });
        state.listsLoaded = listed;
        state.closedLoaded = true;
        scheduleRender();
      }).catch(reportError);
  }

  function loadOverview() {
    return api("GET", "/api/v1/desk/overview").then(function (o) {
      if (!o) return;
      if (o.me) {
        state.capacity = o.me.capacity || state.capacity;
        setPresence(o.me.presence);
      }
      (o.teams || []).forEach(function (team) {
        state.teams.set(team.id, Object.assign({}, state.teams.get(team.id) || {}, team));
      });
      (o.agents || []).forEach(function (agent) {
        state.agents.set(agent.id, Object.assign({}, state.agents.get(agent.id) || {}, agent));
        if (agent.id === me.id && agent.team_ids) {
          state.myTeams = new Set(agent.team_ids);
        }
      });
      scheduleRender();
    }).catch(function () { /* the lists still work without it */ });
  }

  /* ---------------------------------------------------------------- list rendering */

  var renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () {
      renderQueued = false;
      renderList();
      renderCounts();
    });
  }

  function teamName(id, fallback) {
    var team = state.teams.get(id);
    return (team && team.name) || fallback || t("no_team");
  }
  function agentName(id, fallback) {
    var agent = state.agents.get(id);
    return (agent && agent.name) || fallback || "";
  }
  function initial(name) {
    var chars = Array.from((name || "").trim());
    return chars.length ? chars[0].toUpperCase() : "?";
  }
  function hue(id) { return (Number(id) * 47) % 360; }

  function renderRow(c) {
    var li = el("li", "row");
    li.setAttribute("data-testid", "desk-conversation");
    li.dataset.id = String(c.id);
    li.tabIndex = 0;
    li.setAttribute("role", "option");
    var selected = c.id === state.openId;
    li.setAttribute("aria-selected", selected ? "true" : "false");
    if (selected) li.classList.add("selected");
    if (c.unread > 0) li.classList.add("has-unread");
    if (isUrgent(c) && c.status === "open") li.classList.add("urgent");
    if (c.with_bot && c.status === "open") li.classList.add("with-bot");

    var name = (c.customer && c.customer.display_name) || "#" + c.id;
    var avatar = el("div", "avatar avatar-sm", initial(name));
    avatar.dataset.hue = String(hue(c.customer ? c.customer.id : c.id) % 12);
    li.appendChild(avatar);

    var main = el("div", "row-main");
    var top = el("div", "row-top");
    top.appendChild(el("span", "row-name", name));
    var time = el("time", "row-time", shortTime(c.last_message_at));
    time.title = fullTime(c.last_message_at);
    top.appendChild(time);
    main.appendChild(top);

    var bottom = el("div", "row-bottom");
    bottom.appendChild(el("span", "row-preview", c.preview || ""));
    if (c.unread > 0) {
      var badge = el("span", "desk-unread", c.unread > 99 ? "99+" : String(c.unread));
      badge.setAttribute("data-testid", "desk-unread");
      bottom.appendChild(badge);
    }
    main.appendChild(bottom);

    var tags = el("div", "row-tags");
    if (isUrgent(c) && c.status === "open") tags.appendChild(urgentBadge());
    // The bot receives it: no team yet, so the badge says who is answering instead.
    if (c.with_bot && c.status === "open") tags.appendChild(botBadge());
    else tags.appendChild(el("span", "tag", teamName(c.team_id, c.team_name)));
    if (isQueued(c)) {
      tags.appendChild(el("span", "wait", waitingText(c.waiting_since) || t("status.queued")));
    } else if (c.status === "open" && c.assignee_id && c.assignee_id !== me.id) {
      tags.appendChild(el("span", "who", agentName(c.assignee_id, c.assignee_name)));
    }
    main.appendChild(tags);
    li.appendChild(main);
    return li;
  }

  function urgentBadge() {
    var badge = el("span", "badge badge-urgent", t("urgent"));
    badge.setAttribute("data-testid", "desk-urgent");
    return badge;
  }
  function botBadge() {
    var badge = el("span", "badge badge-bot", t("with_bot"));
    badge.setAttribute("data-testid", "desk-with-bot");
    return badge;
  }

  function renderList() {
    var list = visibleList();
    var focusedId = document.activeElement && document.activeElement.classList &&
      document.activeElement.classList.contains("row") ? document.activeElement.dataset.id : null;
    var fragment = document.createDocumentFragment();
    list.forEach(function (c) { fragment.appendChild(renderRow(c)); });
    var scroll = ui.rows.scrollTop;
    clear(ui.rows);
    ui.rows.appendChild(fragment);
    ui.rows.scrollTop = scroll;
    if (focusedId) {
      var again = ui.rows.querySelector('.row[data-id="' + focusedId + '"]');
      if (again) again.focus();
    }
    ui.listEmpty.hidden = list.length > 0;
    if (!list.length) {
      ui.listEmpty.textContent = !state.listsLoaded || (state.view === "closed" && !state.closedLoaded)
        ? t("loading") : t("empty." + state.view);
    }
    renderTeamFilter();
  }

  function renderTeamFilter() {
    if (state.view !== "queue") { ui.teamFilter.hidden = true; return; }
    var queued = listFor("queue");
    var teams = [];
    state.teams.forEach(function (team) {
      if (boot.is_supervisor || state.myTeams.has(team.id)) teams.push(team);
    });
    clear(ui.teamFilter);
    var chip = function (id, label, count) {
      var b = el("button", "chip");
      b.type = "button";
      b.appendChild(document.createTextNode(label));
      b.appendChild(el("span", "chip-count", String(count)));
      b.setAttribute("aria-pressed", state.teamFilter === id ? "true" : "false");
      b.dataset.team = id === null ? "" : String(id);
      b.addEventListener("click", function () {
        state.teamFilter = id;
        scheduleRender();
      });
      ui.teamFilter.appendChild(b);
    };
    chip(null, t("all_teams"), queued.length);
    teams.forEach(function (team) {
      var n = queued.filter(function (c) { return c.team_id === team.id; }).length;
      // Only queues with someone waiting (and the one chosen): a calm row, not every team.
      if (n > 0 || state.teamFilter === team.id) chip(team.id, team.name, n);
    });
    ui.teamFilter.hidden = false;
  }

  function renderCounts() {
    var counts = { queue: listFor("queue").length, mine: listFor("mine").length, all: listFor("all").length };
    document.querySelectorAll(".tab-count").forEach(function (node) {
      var n = counts[node.dataset.count];
      node.textContent = n ? String(n) : "";
    });
    var unread = 0;
    state.convs.forEach(function (c) {
      if ((isMine(c) || (isQueued(c) && canSee(c))) && c.unread > 0) unread += c.unread;
    });
    document.title = (unread > 0 ? "(" + unread + ") " : "") + t("title");
    ui.load.textContent = (state.listsLoaded ? counts.mine : "–") + "/" + (state.capacity || "–");
    ui.load.parentNode.classList.toggle("full", state.capacity > 0 && counts.mine >= state.capacity);
  }

  function setView(view) {
    state.view = view;
    ui.tabs.forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.dataset.view === view ? "true" : "false");
    });
    if (view === "closed") loadClosed();
    scheduleRender();
  }

  ui.tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { setView(tab.dataset.view); });
  });
  ui.search.addEventListener("input", function () {
    state.search = ui.search.value;
    scheduleRender();
  });
  ui.rows.addEventListener("click", function (event) {
    var row = event.target.closest(".row");
    if (row) openConversation(Number(row.dataset.id));
  });
  ui.rows.addEventListener("keydown", function (event) {
    var row = event.target.closest(".row");
    if (!row) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openConversation(Number(row.dataset.id));
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (next) next.focus();
    }
  });

  // Waiting times move on by themselves.
  setInterval(function () { if (state.view === "queue" || state.view === "all") scheduleRender(); }, 30000);

  /* ---------------------------------------------------------------- threads */

  function thread(id) {
    var th = state.threads.get(id);
    if (!th) {
      th = { bySeq: new Map(), ids: new Set(), firstSeq: 1, lastSeq: 0, loading: false,
             loaded: false, syncing: false, resync: false, waiters: [] };
      state.threads.set(id, th);
    }
    return th;
  }

  /** Store a message once per id. Returns true when it was new. */
  function addMessage(m) {
    if (!m || typeof m.conversation_id !== "number") return false;
    var th = state.threads.get(m.conversation_id);
    if (!th) return false;
    if (th.ids.has(m.id)) return false;
    th.ids.add(m.id);
    th.bySeq.set(m.seq, m);
    if (m.seq < th.firstSeq) th.firstSeq = m.seq;
    if (th.loaded && m.seq > th.lastSeq + 1) requestSync(m.conversation_id);
    advance(th);
    return true;
  }

  function advance(th) {
    while (th.bySeq.has(th.lastSeq + 1)) th.lastSeq += 1;
  }

  /**
   * Open a thread: the newest page of messages. Over the websocket (`sync` answers carry
   * sender names and attachments), or over REST while it is down.
   */
  function loadThread(id) {
    var th = thread(id);
    if (th.loaded) return Promise.resolve();
    var promise = new Promise(function (resolve, reject) { th.waiters.push([resolve, reject]); });
    if (th.loading) return promise;
    th.loading = true;
    var c = state.convs.get(id);
    var after = Math.max(0, ((c && c.last_seq) || 0) - PAGE);
    th.firstSeq = after + 1;
    th.lastSeq = after;
    fetchAfter(id, after, true);
    return promise;
  }

  function finishLoad(th, error) {
    var waiters = th.waiters;
    th.waiters = [];
    waiters.forEach(function (w) { if (error) w[1](error); else w[0](); });
  }

  /** Ask for the messages after a seq; the answer arrives through onSync. */
  function fetchAfter(id, after, firstLoad) {
    var th = state.threads.get(id);
    if (!th) return;
    th.syncing = true;
    clearTimeout(th.syncTimer);
    if (wsSend({ type: "sync", conversation_id: id, after_seq: after })) {
      // No answer (a dropped frame, a dead socket): ask over REST instead.
      th.syncTimer = setTimeout(function () { restAfter(id, after); }, 8000);
      return;
    }
    if (firstLoad && !everReady && !authFailed) {
      // The socket is still opening: give it a moment, it answers with full messages.
      th.waitingForSocket = after;
      th.syncTimer = setTimeout(function () {
        if (th.waitingForSocket !== undefined) { th.waitingForSocket = undefined; restAfter(id, after); }
      }, 3000);
      return;
    }
    restAfter(id, after);
  }

  function restAfter(id, after) {
    var th = state.threads.get(id);
    if (!th) return;
    api("GET", "/api/v1/conversations/" + id + "/messages?limit=" + PAGE + "&after_seq=" + after)
      .then(function (answer) {
        var list = Array.isArray(answer) ? answer : (answer && answer.messages) || [];
        onSync({ conversation_id: id, messages: list });
      }, function (error) {
        th.syncing = false;
        if (th.loading) {
          th.loading = false;
          state.threads.delete(id);
          finishLoad(th, error);
        }
      });
  }

  function loadEarlier(id) {
    var th = state.threads.get(id);
    if (!th || th.firstSeq <= 1) return;
    th.earlier = true;
    fetchAfter(id, Math.max(0, th.firstSeq - 1 - PAGE), false);
  }

  function requestSync(id) {
    var th = state.threads.get(id);
    if (!th || !th.loaded) return;
    if (th.syncing) { th.resync = true; return; }
    fetchAfter(id, th.lastSeq, false);
  }

  function onSync(frame) {
    var id = frame.conversation_id;
    var th = state.threads.get(id);
    if (!th) return;
    clearTimeout(th.syncTimer);
    th.syncing = false;
    var list = frame.messages || [];
    var box = ui.messages;
    var height = box.scrollHeight;
    var top = box.scrollTop;
    var fresh = false;
    var newest = 0;
    list.forEach(function (m) {
      newest = Math.max(newest, m.seq || 0);
      if (addMessage(m)) { fresh = true; settleOutbox(m); }
    });
    advance(th);
    var c = state.convs.get(id);
    if (c) {
      if (typeof frame.buyer_read_seq === "number") c.buyer_read_seq = Math.max(c.buyer_read_seq || 0, frame.buyer_read_seq);
      if (newest > (c.last_seq || 0)) c.last_seq = newest;
    }
    var wasEarlier = th.earlier;
    var firstLoad = th.loading;
    th.earlier = false;
    if (th.loading) {
      th.loading = false;
      th.loaded = true;
      finishLoad(th, null);
    }
    if (list.length >= PAGE && !wasEarlier) { requestSync(id); }
    else if (th.resync) { th.resync = false; requestSync(id); }
    if (fresh && th.loaded) {
      list.forEach(function (m) {
        if (m.sender_type === "customer" && m.seq > (c ? c.shop_delivered_seq || 0 : 0)) {
          if (c) c.shop_delivered_seq = m.seq;
        }
      });
      var lastBuyer = list.filter(function (m) { return m.sender_type === "customer"; }).pop();
      if (lastBuyer) wsSend({ type: "delivered", conversation_id: id, seq: lastBuyer.seq });
    }
    if (id === state.openId) {
      // Buyer lines caught up after a reconnect: their latest question may have changed.
      if (fresh && !firstLoad && list.some(function (m) { return m.sender_type === "customer"; })) {
        scheduleSuggestions();
      }
      renderThread(firstLoad);
      if (wasEarlier) box.scrollTop = top + (box.scrollHeight - height);
      markRead();
    }
  }

  /* ---------------------------------------------------------------- message rendering */

  var URL_RE = /https?:\/\/[^\s<>"'`，。！？、；：（）【】《》「」\u3000]+/g;

  /** Plain text with http(s) links, built node by node. */
  function richText(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]}'"]+$/, "");
      if (!url.length) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(link(url, url));
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function safeHref(url) {
    if (typeof url !== "string") return null;
    if (/^https?:\/\//i.test(url)) return url;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\") return url;
    return null;
  }

  function link(href, text) {
    var a = document.createElement("a");
    var safe = safeHref(href);
    if (safe && /^https?:\/\//i.test(safe)) a.href = safe;
    else if (safe) a.href = safe;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.textContent = text;
    return a;
  }

  function senderLabel(m) {
    if (m.sender_type === "customer") {
      var c = state.convs.get(m.conversation_id);
      return (c && c.customer && c.customer.display_name) || t("msg.customer");
    }
    if (m.sender_type === "bot") return m.sender_name || t("msg.bot");
    if (m.sender_type === "agent") return m.sender_name || agentName(m.sender_agent_id) || "";
    return t("msg.system");
  }

  function buildMessage(m) {
    var sender = m.sender_type || "agent";
    var node = el("div", "msg msg-" + sender);
    node.setAttribute("data-testid", "desk-message");
    node.dataset.sender = sender;
    node.dataset.private = m.is_private ? "true" : "false";
    if (m.is_private) node.classList.add("msg-note");
    if (sender === "system") {
      var line = el("div", "sys");
      line.appendChild(el("span", "sys-text", m.body || ""));
      line.appendChild(el("time", "sys-time", messageTime(m.created_at)));
      node.appendChild(line);
      return node;
    }
    var side = sender === "customer" ? "left" : "right";
    node.classList.add("side-" + side);
    var av = el("div", "avatar avatar-xs", initial(senderLabel(m)));
    av.dataset.hue = String(hue(sender === "customer" ? m.conversation_id : (m.sender_agent_id || 0)) % 12);
    if (sender === "bot") av.classList.add("avatar-bot");
    node.appendChild(av);
    var col = el("div", "msg-col");
    var meta = el("div", "msg-meta");
    if (sender === "bot") {
      var tag = el("span", "bot-tag", t("msg.bot_tag"));
      tag.setAttribute("data-testid", "desk-bot-tag");
      meta.appendChild(tag);
    }
    meta.appendChild(el("span", "msg-name", senderLabel(m)));
    var time = el("time", "msg-time", messageTime(m.created_at));
    time.title = fullTime(m.created_at);
    meta.appendChild(time);
    col.appendChild(meta);
    var bubble = el("div", "bubble");
    if (m.is_private) bubble.appendChild(el("span", "note-label", t("msg.note")));
    var att = m.attachment;
    if (att && att.url) {
      var href = safeHref(att.url);
      if (href && /^image\//.test(att.content_type || "")) {
        var a = link(href, "");
        a.className = "msg-image-link";
        var img = document.createElement("img");
        img.className = "msg-image";
        img.alt = att.name || t("msg.image");
        img.loading = "lazy";
        img.src = href;
        img.addEventListener("load", function () { if (nearBottom) scrollToBottom(); });
        a.appendChild(img);
        bubble.appendChild(a);
      } else if (href) {
        bubble.appendChild(link(href, att.name || t("msg.attachment")));
      }
    }
    // A product or order card (desk_commerce.js) stands in for its one-line text body.
    var cardNode = m.card && commerce ? commerce.buildCard(m.card) : null;
    if (cardNode) {
      bubble.classList.add("bubble-card");
      bubble.appendChild(cardNode);
    } else if (m.body) {
      var text = el("div", "msg-text");
      richText(text, m.body);
      bubble.appendChild(text);
    }
    col.appendChild(bubble);
    if (m.agent_note) {
      // Staff only (desk payloads): why the bot said it, e.g. the FAQ entry that answered.
      var why = el("div", "msg-agent-note", m.agent_note);
      why.setAttribute("data-testid", "desk-agent-note");
      why.title = t("msg.agent_note");
      col.appendChild(why);
    }
    col.appendChild(el("div", "msg-status"));
    node.appendChild(col);
    return node;
  }

  function updateMessage(node, m, pending) {
    if (m.id && node.dataset.id !== String(m.id)) {
      // Acknowledged: the stored message's time replaces the moment it was typed.
      var time = node.querySelector(".msg-time, .sys-time");
      if (time) { time.textContent = messageTime(m.created_at); time.title = fullTime(m.created_at); }
    }
    if (m.id) node.dataset.id = String(m.id);
    if (m.seq) node.dataset.seq = String(m.seq);
    node.classList.toggle("msg-pending", !!pending && pending.state === "pending");
    node.classList.toggle("msg-failed", !!pending && pending.state === "failed");
    var status = node.querySelector(".msg-status");
    if (!status) return;
    clear(status);
    if (pending) {
      if (pending.state === "failed") {
        status.appendChild(el("span", "st-failed", t("msg.failed") + (pending.error ? " · " + pending.error : "")));
        var retry = el("button", "link-btn", t("msg.retry"));
        retry.type = "button";
        retry.addEventListener("click", function () { transmit(pending); renderThread(false); });
        status.appendChild(retry);
        var drop = el("button", "link-btn", "×");
        drop.type = "button";
        drop.title = t("dismiss");
        drop.addEventListener("click", function () { dropOutbox(pending); renderThread(false); });
        status.appendChild(drop);
      } else {
        status.appendChild(el("span", "st-pending", t("msg.pending")));
      }
      return;
    }
    if (m.sender_type === "agent" && !m.is_private) {
      var c = state.convs.get(m.conversation_id);
      var read = c && (c.buyer_read_seq || 0) >= m.seq;
      status.appendChild(el("span", read ? "st-read" : "st-unread", read ? t("msg.read") : t("msg.unread")));
    }
  }

  var nearBottom = true;
  ui.messages.addEventListener("scroll", function () {
    var box = ui.messages;
    nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (nearBottom) ui.newBelow.hidden = true;
  });
  ui.newBelow.addEventListener("click", function () { scrollToBottom(); ui.newBelow.hidden = true; });
  function scrollToBottom() { ui.messages.scrollTop = ui.messages.scrollHeight; nearBottom = true; }

  var rendered = { id: null, nodes: new Map() };

  function renderThread(jump) {
    var id = state.openId;
    if (id === null) return;
    var th = state.threads.get(id);
    var box = ui.messages;
    if (rendered.id !== id) {
      clear(box);
      rendered = { id: id, nodes: new Map() };
      jump = true;
    }
    var stick = jump || nearBottom;
    var items = [];
    if (th) {
      Array.from(th.bySeq.keys()).sort(function (a, b) { return a - b; }).forEach(function (seq) {
        items.push({ key: "m:" + th.bySeq.get(seq).client_msg_id, message: th.bySeq.get(seq), pending: null });
      });
    }
    state.outbox.forEach(function (p) {
      if (p.conversation_id !== id) return;
      if (wantedKey(items, "m:" + p.client_msg_id)) return; // stored already
      items.push({ key: "m:" + p.client_msg_id, message: pendingShape(p), pending: p });
    });
    var wanted = new Set(items.map(function (i) { return i.key; }));
    rendered.nodes.forEach(function (node, key) {
      if (!wanted.has(key)) { node.remove(); rendered.nodes.delete(key); }
    });
    var earlier = box.querySelector(".load-earlier");
    if (th && th.loaded && th.firstSeq > 1) {
      if (!earlier) {
        earlier = el("button", "load-earlier", t("load_earlier"));
        earlier.type = "button";
        earlier.addEventListener("click", function () { loadEarlier(id); });
        box.insertBefore(earlier, box.firstChild);
      }
    } else if (earlier) {
      earlier.remove();
      earlier = null;
    }
    if (th && th.loading && !items.length) {
      if (!box.querySelector(".thread-loading")) box.appendChild(el("div", "thread-loading muted small", t("loading")));
    } else {
      var loading = box.querySelector(".thread-loading");
      if (loading) loading.remove();
    }
    var cursor = earlier;
    var added = false;
    items.forEach(function (item) {
      var node = rendered.nodes.get(item.key);
      if (!node) {
        node = buildMessage(item.message);
        rendered.nodes.set(item.key, node);
        added = true;
      }
      updateMessage(node, item.message, item.pending);
      var want = cursor ? cursor.nextSibling : box.firstChild;
      if (want !== node) box.insertBefore(node, want);
      cursor = node;
    });
    if (stick) scrollToBottom();
    else if (added) ui.newBelow.hidden = false;
  }

  function wantedKey(items, key) {
    for (var i = 0; i < items.length; i++) if (items[i].key === key) return true;
    return false;
  }

  function pendingShape(p) {
    return {
      id: null, seq: null, conversation_id: p.conversation_id, client_msg_id: p.client_msg_id,
      sender_type: "agent", sender_agent_id: me.id, sender_name: me.name, body: p.body,
      is_private: p.is_private, attachment: p.attachment || null,
      created_at: new Date(p.created_at).toISOString(),
    };
  }

  /* ---------------------------------------------------------------- opening a conversation */

  function openConversation(id, options) {
    options = options || {};
    if (state.openId !== null && state.openId !== id) {
      state.drafts.set(state.openId, ui.composer.value);
    }
    var changed = state.openId !== id;
    state.openId = id;
    if (history.replaceState) history.replaceState(null, "", "#c" + id);
    ui.placeholder.hidden = true;
    ui.conv.hidden = false;
    if (changed) {
      hideTyping();
      resetSuggestions();
      scheduleSuggestions(0);
      setMode("reply");
      ui.composer.value = state.drafts.get(id) || "";
      updateCounter();
      ui.newBelow.hidden = true;
      renderCustomer(null);
    }
    renderHeader();
    renderThread(true);
    scheduleRender();
    refreshContext(id);
    loadThread(id).then(null, reportError);
    markRead();
    if (!options.keepFocus) ui.composer.focus();
  }

  function refreshContext(id) {
    return api("GET", "/api/v1/conversations/" + id + "/context").then(function (ctx) {
      if (!ctx) return;
      state.contexts.set(id, ctx);
      if (ctx.conversation) upsert(ctx.conversation);
      if (id === state.openId) {
        renderCustomer(ctx);
        renderHeader();
        if (!state.threads.has(id) || !state.threads.get(id).loaded) loadThread(id).then(null, reportError);
      }
    }).catch(function (error) {
      if (error instanceof ApiError && error.status === 404 && id === state.openId) {
        closeView();
      }
      reportError(error);
    });
  }

  function closeView() {
    state.openId = null;
    resetSuggestions();
    ui.conv.hidden = true;
    ui.placeholder.hidden = false;
    renderCustomer(null);
    if (history.replaceState) history.replaceState(null, "", location.pathname + location.search);
    scheduleRender();
  }

  function openFromHash() {
    var match = /^#c(\d+)$/.exec(location.hash || "");
    if (match) openConversation(Number(match[1]), { keepFocus: false });
  }

  function renderHeader() {
    var c = state.convs.get(state.openId);
    var ctx = state.contexts.get(state.openId);
    if (!c) {
      ui.convName.textContent = ctx && ctx.customer ? ctx.customer.display_name : "";
      clear(ui.convMeta);
      [ui.take, ui.assign, ui.transfer, ui.close, ui.reopen].forEach(function (b) { b.hidden = true; });
      ui.handoff.hidden = true;
      showSuggestions();
      return;
    }
    ui.convName.textContent = (c.customer && c.customer.display_name) || "#" + c.id;
    clear(ui.convMeta);
    var withBot = !!c.with_bot && c.status === "open";
    if (isUrgent(c) && c.status === "open") ui.convMeta.appendChild(urgentBadge());
    ui.convMeta.appendChild(withBot ? botBadge() : el("span", "tag", teamName(c.team_id, c.team_name)));
    var status;
    if (c.status === "closed") status = el("span", "pill pill-closed", t("status.closed"));
    else if (isQueued(c)) status = el("span", "pill pill-queued", t("status.queued"));
    else status = el("span", "pill pill-open", t("status.open"));
    ui.convMeta.appendChild(status);
    if (c.assignee_id) {
      var who = el("span", "assignee");
      who.appendChild(el("span", "muted", "· "));
      who.appendChild(document.createTextNode(
        c.assignee_id === me.id ? t("you") : agentName(c.assignee_id, c.assignee_name)));
      ui.convMeta.appendChild(who);
    } else if (c.status === "open" && !withBot) {
      ui.convMeta.appendChild(el("span", "muted wait", waitingText(c.waiting_since)));
    }
    // Why it reached a person: the bot's one line (intent, what was named, the mood).
    var note = typeof c.handoff_note === "string" ? c.handoff_note.trim() : "";
    ui.handoffText.textContent = note;
    ui.handoffText.title = note;
    ui.handoff.hidden = !note;
    ui.handoff.classList.toggle("urgent", isUrgent(c));
    var open = c.status === "open";
    // Queued for a team, or still with the bot (a supervisor may take it over from it).
    ui.take.hidden = !(open && isUnassigned(c) && (boot.is_supervisor || state.myTeams.has(c.team_id)));
    ui.assign.hidden = !(open && boot.is_supervisor);
    ui.transfer.hidden = !open;
    ui.close.hidden = !open;
    ui.reopen.hidden = open;
    ui.composer.disabled = !open;
    ui.form.classList.toggle("disabled", !open);
    ui.composer.placeholder = !open ? t("composer.closed")
      : state.mode === "note" ? t("composer.note_placeholder") : t("composer.placeholder");
    updateCounter();
    if (rendered.id === state.openId) {
      rendered.nodes.forEach(function (node, key) {
        var th = state.threads.get(state.openId);
        if (!th || !node.dataset.seq) return;
        var m = th.bySeq.get(Number(node.dataset.seq));
        if (m && m.sender_type === "agent" && !m.is_private) updateMessage(node, m, null);
      });
    }
    showSuggestions();
  }

  function renderCustomer(ctx) {
    if (!ctx || !ctx.customer) {
      ui.side.hidden = true;
      ui.sideEmpty.hidden = false;
      return;
    }
    ui.side.hidden = false;
    ui.sideEmpty.hidden = true;
    var cu = ctx.customer;
    var name = cu.name || cu.display_name || cu.nickname || "";
    ui.custAvatar.textContent = initial(cu.display_name || name);
    ui.custAvatar.dataset.hue = String(hue(cu.id) % 12);
    ui.custName.textContent = name;
    ui.custSalutation.textContent = cu.salutation && cu.salutation !== name ? cu.salutation : (cu.nickname && cu.nickname !== name ? cu.nickname : "");
    ui.custVip.hidden = !(cu.vip_level > 0);
    ui.custVip.textContent = "VIP " + (cu.vip_level || 0);
    ui.custVip.title = t("customer.vip");
    clear(ui.custFacts);
    var fact = function (label, value, cls) {
      if (value === null || value === undefined || value === "") return;
      ui.custFacts.appendChild(el("dt", null, label));
      ui.custFacts.appendChild(el("dd", cls || null, value));
    };
    fact(t("customer.phone"), cu.phone, "copyable");
    fact(t("customer.email"), cu.email, "copyable");
    fact(t("customer.city"), cu.city);
    fact(t("customer.vip"), cu.vip_level > 0 ? "VIP " + cu.vip_level : null);
    fact(t("customer.conversations"), cu.conversation_count !== undefined ? String(cu.conversation_count) : null);
    fact(t("customer.external_id"), cu.external_id, "copyable");
    fact(t("customer.since"), cu.created_at ? dayOf(parseTime(cu.created_at) || new Date()) : null);

    if (commerce) commerce.renderOrders(ui.orders, ctx);
    // H3: desk_cases.js listens for kefu:panel to add after-sales buttons to each .order[data-order-id] (its .order-actions).
    document.dispatchEvent(new CustomEvent("kefu:panel", { detail: {
      conversationId: ctx.conversation ? ctx.conversation.id : state.openId,
      customerId: cu.id, orders: ctx.orders || [], panel: ui.orders,
    } }));
  }

  /* ---------------------------------------------------------------- commerce (desk_commerce.js) */

  var commerce = window.KefuDeskCommerce ? window.KefuDeskCommerce.create({
    api: api, t: t, el: el, clear: clear, money: money, shortTime: shortTime, randomId: randomId,
    reportError: reportError, showError: showError, showInfo: showInfo,
    openId: function () { return state.openId; },
    isOpen: function (id) { var c = state.convs.get(id); return !c || c.status === "open"; },
    onSent: function (m) {
      if (addMessage(m) && m.conversation_id === state.openId) renderThread(false);
      scheduleRender();
    },
  }) : null;

  function money(value) {
    if (value === null || value === undefined || value === "") return "—";
    var n = Number(value);
    if (isNaN(n)) return String(value);
    return "¥" + n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  /* ---------------------------------------------------------------- reading */

  function isVisible() { return document.visibilityState === "visible"; }
  function canMarkRead(c) { return c && c.status === "open" && c.assignee_id === me.id; }

  function markRead() {
    var id = state.openId;
    var c = state.convs.get(id);
    var th = state.threads.get(id);
    if (!c || !th || !th.loaded || !isVisible() || !canMarkRead(c)) return;
    var seq = Math.max(th.lastSeq, 0);
    var lastBuyer = 0;
    th.bySeq.forEach(function (m) {
      if (m.sender_type === "customer" && m.seq <= seq && m.seq > lastBuyer) lastBuyer = m.seq;
    });
    // Only the buyer's messages need reading: an agent's own reply is no news to them.
    if (c.unread > 0 || lastBuyer > (c.shop_read_seq || 0)) {
      if (seq > 0 && !wsSend({ type: "read", conversation_id: id, seq: seq })) {
        api("POST", "/api/v1/conversations/" + id + "/read", { seq: seq }).then(upsert, function () {});
      }
      c.shop_read_seq = Math.max(c.shop_read_seq || 0, seq);
      c.unread = 0;
      scheduleRender();
    }
  }
  document.addEventListener("visibilitychange", function () { if (isVisible()) markRead(); });
  window.addEventListener("focus", markRead);

  /* ---------------------------------------------------------------- outbox */

  function saveOutbox() {
    try {
      localStorage.setItem(OUTBOX_KEY, JSON.stringify(state.outbox.map(function (p) {
        return { conversation_id: p.conversation_id, client_msg_id: p.client_msg_id, body: p.body,
                 is_private: p.is_private, attachment_id: p.attachment_id, attachment: p.attachment,
                 created_at: p.created_at, state: p.state, error: p.error };
      })));
    } catch (e) { /* private mode: the outbox lives in memory only */ }
  }
  function restoreOutbox() {
    try {
      var saved = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
      if (Array.isArray(saved)) state.outbox = saved.filter(function (p) { return p && p.client_msg_id; });
    } catch (e) { state.outbox = []; }
  }

  function findOutbox(clientMsgId) {
    for (var i = 0; i < state.outbox.length; i++) {
      if (state.outbox[i].client_msg_id === clientMsgId) return state.outbox[i];
    }
    return null;
  }
  function dropOutbox(item) {
    state.outbox = state.outbox.filter(function (p) { return p !== item; });
    saveOutbox();
  }

  /** A stored message settles the outbox item with its client id. */
  function settleOutbox(m) {
    var item = findOutbox(m.client_msg_id);
    if (item && item.conversation_id === m.conversation_id) dropOutbox(item);
  }

  function queueSend(fields) {
    var item = {
      conversation_id: fields.conversation_id, client_msg_id: randomId(), body: fields.body || "",
      is_private: !!fields.is_private, attachment_id: fields.attachment_id || null,
      attachment: fields.attachment || null, created_at: Date.now(), state: "pending", error: "",
    };
    state.outbox.push(item);
    saveOutbox();
    transmit(item);
    if (item.conversation_id === state.openId) { renderThread(true); }
  }

  function frameOf(item) {
    var frame = { type: "send", conversation_id: item.conversation_id, client_msg_id: item.client_msg_id,
                  body: item.body, is_private: !!item.is_private };
    if (item.attachment_id) frame.attachment_id = item.attachment_id;
    return frame;
  }

  function transmit(item) {
    item.state = "pending";
    item.error = "";
    item.sentAt = Date.now();
    saveOutbox();
    if (wsSend(frameOf(item))) return;
    // No live connection: the same message over REST (same client id, stored once).
    var body = { client_msg_id: item.client_msg_id, body: item.body, is_private: !!item.is_private };
    if (item.attachment_id) body.attachment_id = item.attachment_id;
    api("POST", "/api/v1/conversations/" + item.conversation_id + "/messages", body).then(function (m) {
      onAck({ client_msg_id: item.client_msg_id, message: m });
    }, function (error) {
      if (error.status === 0 || error.status >= 500 || error.status === 401) return; // resent on reconnect
      if (error.status === 429) { setTimeout(function () { if (findOutbox(item.client_msg_id)) transmit(item); }, 3000); return; }
      failOutbox(item, error.message);
    });
  }

  function failOutbox(item, message) {
    item.state = "failed";
    item.error = message || "";
    saveOutbox();
    if (item.conversation_id === state.openId) renderThread(false);
  }

  function flushOutbox() {
    state.outbox.forEach(function (item) { if (item.state === "pending") transmit(item); });
  }

  setInterval(function () {
    if (!wsReady) return;
    var now = Date.now();
    state.outbox.forEach(function (item) {
      if (item.state === "pending" && now - (item.sentAt || 0) > ACK_WAIT) transmit(item);
    });
  }, 5000);

  function onAck(frame) {
    var m = frame.message;
    var item = findOutbox(frame.client_msg_id);
    if (item) dropOutbox(item);
    if (!m) return;
    addMessage(m);
    var c = state.convs.get(m.conversation_id);
    if (c) {
      c.last_seq = Math.max(c.last_seq || 0, m.seq);
      if (!m.is_private) {
        c.preview = (m.body || (m.attachment ? "[" + t("msg.image") + "]" : "")).slice(0, 80);
        c.last_message_at = m.created_at;
      }
      scheduleRender();
    }
    if (m.conversation_id === state.openId) renderThread(false);
  }

  /* ---------------------------------------------------------------- composer */

  function setMode(mode) {
    state.mode = mode;
    ui.modes.forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.mode === mode ? "true" : "false"); });
    ui.form.classList.toggle("note-mode", mode === "note");
    var c = state.convs.get(state.openId);
    ui.composer.placeholder = c && c.status === "closed" ? t("composer.closed")
      : mode === "note" ? t("composer.note_placeholder") : t("composer.placeholder");
    ui.send.textContent = t("composer.send");
  }
  ui.modes.forEach(function (b) {
    b.addEventListener("click", function () {
      setMode(b.dataset.mode === state.mode && b.dataset.mode === "note" ? "reply" : b.dataset.mode);
      ui.composer.focus();
    });
  });

  function updateCounter() {
    var n = Array.from(ui.composer.value).length;
    ui.counter.textContent = n + "/" + MAX_LEN;
    var over = n > MAX_LEN;
    ui.counter.classList.toggle("over", over);
    ui.counter.title = over ? t("composer.too_long", { limit: MAX_LEN }) : "";
    ui.send.disabled = ui.composer.disabled || over || !ui.composer.value.trim();
  }

  var lastTyping = 0;
  ui.composer.addEventListener("input", function () {
    updateCounter();
    if (state.mode === "reply" && ui.composer.value.trim() && state.openId !== null) {
      var now = Date.now();
      if (now - lastTyping > TYPING_EVERY) {
        lastTyping = now;
        wsSend({ type: "typing", conversation_id: state.openId });
      }
    }
  });

  ui.composer.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  ui.form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });

  function submit() {
    var id = state.openId;
    var c = state.convs.get(id);
    var body = ui.composer.value;
    if (id === null || !body.trim() || (c && c.status === "closed")) return;
    if (Array.from(body).length > MAX_LEN) {
      showError(t("composer.too_long", { limit: MAX_LEN }));
      return;
    }
    queueSend({ conversation_id: id, body: body, is_private: state.mode === "note" });
    ui.composer.value = "";
    state.drafts.delete(id);
    updateCounter();
    ui.composer.focus();
  }

  ui.imageBtn.addEventListener("click", function () { ui.file.click(); });
  ui.file.addEventListener("change", function () {
    var file = ui.file.files && ui.file.files[0];
    ui.file.value = "";
    if (file) upload(file);
  });
  ui.composer.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.files) || [];
    for (var i = 0; i < items.length; i++) {
      if (/^image\//.test(items[i].type)) { event.preventDefault(); upload(items[i]); return; }
    }
  });
  byId("desk-chat").addEventListener("dragover", function (event) {
    if (state.openId !== null) { event.preventDefault(); }
  });
  byId("desk-chat").addEventListener("drop", function (event) {
    var files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length || state.openId === null) return;
    event.preventDefault();
    if (/^image\//.test(files[0].type)) upload(files[0]);
  });

  function upload(file) {
    var id = state.openId;
    var c = state.convs.get(id);
    if (id === null || (c && c.status === "closed")) return;
    var isNote = state.mode === "note";
    var form = new FormData();
    form.append("file", file, file.name || "image");
    ui.imageBtn.disabled = true;
    ui.imageBtn.classList.add("busy");
    ui.imageBtn.setAttribute("aria-busy", "true");
    api("POST", "/api/v1/uploads", form).then(function (att) {
      queueSend({ conversation_id: id, body: "", is_private: isNote, attachment_id: att.id, attachment: att });
    }, function (error) {
      showError(t("upload_failed") + (error && error.message ? ": " + error.message : ""));
    }).then(function () {
      ui.imageBtn.disabled = false;
      ui.imageBtn.classList.remove("busy");
      ui.imageBtn.removeAttribute("aria-busy");
    });
  }

  /* ---------------------------------------------------------------- suggestions (推荐回答) */

  /** Ask again for the open conversation, once a burst of buyer lines has settled. */
  function scheduleSuggestions(wait) {
    var sg = state.suggest;
    clearTimeout(sg.timer);
    var id = state.openId;
    if (id === null) return;
    sg.timer = setTimeout(function () { fetchSuggestions(id); }, wait === undefined ? SUGGEST_WAIT : wait);
  }

  function fetchSuggestions(id) {
    var sg = state.suggest;
    if (id !== state.openId) return;
    var ticket = ++sg.ticket;
    var current = function () { return ticket === sg.ticket && id === state.openId; };
    api("GET", "/api/v1/bot/conversations/" + id + "/suggestions").then(function (answer) {
      // Another conversation, or a newer question, by now: this answer is stale.
      if (!current()) return;
      sg.id = id;
      sg.question = (answer && typeof answer.question === "string") ? answer.question : "";
      sg.items = ((answer && answer.items) || []).filter(function (item) {
        return item && typeof item.answer === "string" && item.answer.trim();
      }).slice(0, SUGGEST_MAX);
      buildSuggestions();
    }, function () {
      // A help, not the desk: without suggestions the agent simply types.
      if (current()) { sg.id = id; sg.items = []; buildSuggestions(); }
    });
  }

  function resetSuggestions() {
    var sg = state.suggest;
    clearTimeout(sg.timer);
    sg.ticket += 1; // whatever is still on its way is for a conversation no longer open
    sg.id = null;
    sg.question = "";
    sg.items = [];
    buildSuggestions();
  }

  function buildSuggestions() {
    var sg = state.suggest;
    var items = sg.id !== null && sg.id === state.openId ? sg.items : [];
    var focused = document.activeElement && ui.suggestList.contains(document.activeElement)
      ? Array.prototype.indexOf.call(ui.suggestList.children, document.activeElement) : -1;
    clear(ui.suggestList);
    items.forEach(function (item) { ui.suggestList.appendChild(suggestionChip(item)); });
    ui.suggestFor.textContent = items.length && sg.question ? t("suggestions.for", { question: sg.question }) : "";
    ui.suggestFor.title = items.length ? sg.question : "";
    showSuggestions();
    if (focused >= 0) {
      var again = ui.suggestList.children[Math.min(focused, items.length - 1)];
      if (again) again.focus(); else ui.composer.focus();
    }
  }

  /** Shown only with something to suggest, and while a reply can be written. */
  function showSuggestions() {
    var c = state.convs.get(state.openId);
    ui.suggest.hidden = !ui.suggestList.firstChild || !c || c.status !== "open";
  }

  function suggestionChip(item) {
    var b = el("button", "suggest-chip");
    b.type = "button";
    b.setAttribute("data-testid", "desk-suggestion");
    b.dataset.entry = String(item.entry_id);
    b.title = item.answer;
    var head = el("span", "suggest-head");
    head.appendChild(el("span", "suggest-q", item.question || ""));
    var pct = Math.max(0, Math.min(100, Math.round(Number(item.score) * 100 || 0)));
    var score = el("span", "suggest-score", pct + "%");
    score.title = t("suggestions.score", { n: pct });
    head.appendChild(score);
    b.appendChild(head);
    b.appendChild(el("span", "suggest-a", item.answer));
    b.addEventListener("click", function () { useSuggestion(item.answer); });
    return b;
  }

  /** Into the composer (after a draft already there), ready to edit; never sent from here. */
  function useSuggestion(text) {
    if (!text || ui.composer.disabled) return;
    var draft = ui.composer.value;
    ui.composer.value = !draft.trim() ? text : draft + (/\n$/.test(draft) ? "" : "\n") + text;
    ui.composer.dispatchEvent(new Event("input")); // counter, send button, "typing" to the buyer
    ui.composer.focus();
    var end = ui.composer.value.length;
    ui.composer.setSelectionRange(end, end);
    ui.composer.scrollTop = ui.composer.scrollHeight;
  }

  /* ---------------------------------------------------------------- typing */

  var typingTimer = null;
  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOW);
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  /* ---------------------------------------------------------------- actions */

  function act(path, body, done) {
    var id = state.openId;
    if (path === "/reopen" || (body && body.agent_id === me.id)) {
      state.expectMine.add(id);
      setTimeout(function () { state.expectMine.delete(id); }, 8000);
    }
    return api("POST", "/api/v1/conversations/" + id + path, body || {}).then(function (summary) {
      var visible = canSee(summary);
      upsert(summary);
      if (done && visible) showInfo(done);
      if (visible) renderHeader();
      return summary;
    }, reportError);
  }

  ui.take.addEventListener("click", function () {
    act("/transfer", { agent_id: me.id }, t("taken")).then(function (s) {
      if (s) { setView("mine"); ui.composer.focus(); }
    });
  });
  ui.close.addEventListener("click", function () { act("/close", {}, t("closed_done")); });
  ui.reopen.addEventListener("click", function () {
    act("/reopen", {}, t("reopened_done")).then(function (s) {
      if (s) { setMode("reply"); ui.composer.focus(); }
    });
  });
  ui.transfer.addEventListener("click", function () { openDialog("transfer"); });
  ui.assign.addEventListener("click", function () { openDialog("assign"); });

  var dialogMode = "transfer";
  function option(select, value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
    return o;
  }

  function fillAgents() {
    var c = state.convs.get(state.openId) || {};
    var teamId = ui.dialogTeam.value ? Number(ui.dialogTeam.value) : null;
    var keep = ui.dialogAgent.value;
    clear(ui.dialogAgent);
    option(ui.dialogAgent, "", dialogMode === "assign" ? t("transfer.none") : t("transfer.none"));
    var agents = Array.from(state.agents.values()).filter(function (a) {
      if (a.is_active === false) return false;
      if (a.id === c.assignee_id) return false;
      if (dialogMode === "transfer" && a.id === me.id) return false;
      if (teamId !== null && a.team_ids && a.team_ids.indexOf(teamId) < 0) return false;
      return true;
    });
    var rank = { online: 0, away: 1, offline: 2 };
    agents.sort(function (a, b) {
      return (rank[a.presence] || 2) - (rank[b.presence] || 2) || String(a.name).localeCompare(String(b.name), "zh-CN");
    });
    agents.forEach(function (a) {
      var label = a.name + " · " + t("presence." + (a.presence || "offline"));
      if (typeof a.open_count === "number" && a.capacity) label += " · " + a.open_count + "/" + a.capacity;
      option(ui.dialogAgent, String(a.id), label);
    });
    if (keep && ui.dialogAgent.querySelector('option[value="' + keep + '"]')) ui.dialogAgent.value = keep;
    updateConfirm();
  }

  function updateConfirm() {
    ui.dialogConfirm.disabled = dialogMode === "assign"
      ? !ui.dialogAgent.value
      : !(ui.dialogTeam.value || ui.dialogAgent.value);
  }

  function openDialog(mode) {
    var c = state.convs.get(state.openId);
    if (!c) return;
    dialogMode = mode;
    ui.dialogTitle.textContent = mode === "assign" ? t("assign.title") : t("transfer.title");
    ui.dialogHint.textContent = mode === "assign" ? "" : t("transfer.hint");
    ui.dialogHint.hidden = mode === "assign";
    ui.dialogTeamLabel.hidden = mode === "assign";
    clear(ui.dialogTeam);
    option(ui.dialogTeam, "", t("transfer.none"));
    state.teams.forEach(function (team) {
      var o = option(ui.dialogTeam, String(team.id), team.name);
      if (team.id === c.team_id) o.textContent = team.name + " ✓";
    });
    ui.dialogTeam.value = "";
    ui.dialogAgent.value = "";
    fillAgents();
    loadOverview().then(function () { if (ui.dialog.open) fillAgents(); });
    if (typeof ui.dialog.showModal === "function") ui.dialog.showModal();
    else ui.dialog.setAttribute("open", "");
    (mode === "assign" ? ui.dialogAgent : ui.dialogTeam).focus();
  }
  ui.dialogTeam.addEventListener("change", fillAgents);
  ui.dialogAgent.addEventListener("change", updateConfirm);
  ui.dialogCancel.addEventListener("click", function () { ui.dialog.close(); });
  ui.dialogForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var teamId = ui.dialogTeam.value ? Number(ui.dialogTeam.value) : null;
    var agentId = ui.dialogAgent.value ? Number(ui.dialogAgent.value) : null;
    ui.dialogConfirm.disabled = true;
    var request = dialogMode === "assign"
      ? act("/assign", { agent_id: agentId }, t("assign.done"))
      : act("/transfer", Object.assign({}, teamId !== null ? { team_id: teamId } : {},
          agentId !== null ? { agent_id: agentId } : {}), t("transfer.done"));
    request.then(function (s) {
      if (s) ui.dialog.close();
      else updateConfirm();
    });
  });
  ui.dialog.addEventListener("close", function () { if (state.openId !== null) ui.composer.focus(); });

  /* ---------------------------------------------------------------- presence */

  function setPresence(value) {
    if (!value) return;
    state.presence = value;
    ui.presence.value = value;
    ui.presenceDot.dataset.presence = value;
    var agent = state.agents.get(me.id);
    if (agent) agent.presence = value;
  }
  ui.presence.addEventListener("change", function () {
    var wanted = ui.presence.value;
    var before = state.presence;
    ui.presenceDot.dataset.presence = wanted;
    api("PUT", "/api/v1/desk/presence", { status: wanted }).then(function (answer) {
      setPresence((answer && (answer.presence || answer.status)) || wanted);
    }, function (error) {
      setPresence(before);
      reportError(error);
    });
  });

  /* ---------------------------------------------------------------- sound */

  var audio = null;
  function ensureAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!audio) {
      try { audio = new AC(); } catch (e) { return null; }
    }
    if (audio.state === "suspended") audio.resume().catch(function () {});
    return audio;
  }
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, ensureAudio, { once: true, capture: true });
  });

  var lastBeep = 0;
  function beep() {
    var now = Date.now();
    if (!state.sound || now - lastBeep < 1200) return;
    lastBeep = now;
    var ctx = ensureAudio();
    if (!ctx || ctx.state !== "running") return;
    var start = ctx.currentTime;
    [[880, 0], [1318.5, 0.13]].forEach(function (tone) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.18, start + tone[1] + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + tone[1] + 0.16);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(start + tone[1]);
      osc.stop(start + tone[1] + 0.18);
    });
  }

  /** Something needs the agent: a beep, and a counter tests and tools can read. */
  function notify() {
    state.notified += 1;
    ui.app.dataset.notified = String(state.notified);
    beep();
  }

  function renderSound() {
    ui.sound.setAttribute("aria-pressed", state.sound ? "true" : "false");
    var label = state.sound ? t("sound.on") : t("sound.off");
    ui.sound.title = label;
    ui.sound.querySelector(".sr-only").textContent = label;
  }
  ui.sound.addEventListener("click", function () {
    state.sound = !state.sound;
    try { localStorage.setItem(SOUND_KEY, state.sound ? "on" : "off"); } catch (e) { /* ignore */ }
    renderSound();
    if (state.sound) { ensureAudio(); lastBeep = 0; beep(); }
  });

  /* ---------------------------------------------------------------- websocket */

  var ws = null;
  var wsReady = false;
  var everReady = false;
  var backoff = 500;
  var reconnectTimer = null;
  var reconnectAt = 0;
  var pingTimer = null;
  var pongTimer = null;
  var authFailed = false;
  var countdownTimer = null;

  function wsSend(frame) {
    if (!ws || !wsReady || ws.readyState !== WebSocket.OPEN) return false;
    try { ws.send(JSON.stringify(frame)); } catch (e) { return false; }
    return true;
  }

  function setConnection(kind) {
    ui.connection.dataset.state = kind;
    var text = ui.connection.querySelector(".conn-text");
    text.textContent = kind === "open" ? "" : t("connection." + (kind === "open" ? "connecting" : kind));
    ui.connection.hidden = kind === "open";
    clear(ui.banner);
    clearInterval(countdownTimer);
    if (kind === "lost") {
      ui.banner.hidden = false;
      var span = el("span", null, "");
      ui.banner.appendChild(span);
      var tick = function () {
        var secs = Math.max(0, Math.ceil((reconnectAt - Date.now()) / 1000));
        span.textContent = t("connection.lost") + " " + t("connection.retry", { n: secs });
      };
      tick();
      countdownTimer = setInterval(tick, 500);
      var now = el("button", "link-btn", t("connection.retry_now"));
      now.type = "button";
      now.addEventListener("click", function () { clearTimeout(reconnectTimer); connect(); });
      ui.banner.appendChild(now);
    } else if (kind === "expired") {
      ui.banner.hidden = false;
      ui.banner.appendChild(el("span", null, t("connection.expired") + " "));
      ui.banner.appendChild(link("/login?next=%2Fdesk", t("connection.login")));
      ui.banner.querySelector("a").removeAttribute("target");
    } else {
      ui.banner.hidden = true;
    }
    ui.app.classList.toggle("offline", kind !== "open");
  }

  function connect() {
    if (authFailed) return;
    clearTimeout(reconnectTimer);
    if (ws) { try { ws.onclose = null; ws.close(); } catch (e) { /* ignore */ } }
    wsReady = false;
    if (!everReady) setConnection("connecting");
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/desk";
    var socket;
    try { socket = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
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
      wsReady = false;
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      if (event.code === 4401 || event.code === 4403 || authFailed) { authExpired(); return; }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    var delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
    backoff = Math.min(backoff * 2, 10000);
    reconnectAt = Date.now() + delay;
    setConnection("lost");
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function authExpired() {
    authFailed = true;
    wsReady = false;
    clearTimeout(reconnectTimer);
    clearInterval(pingTimer);
    setConnection("expired");
  }

  window.addEventListener("online", function () {
    if (!wsReady && !authFailed) { backoff = 500; connect(); }
  });

  function startPing() {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (!wsSend({ type: "ping" })) return;
      clearTimeout(pongTimer);
      pongTimer = setTimeout(function () {
        // Silence: the connection is dead without knowing it. Start again.
        if (ws) { try { ws.close(); } catch (e) { /* ignore */ } }
      }, PONG_WAIT);
    }, PING_EVERY);
  }

  function handle(frame) {
    switch (frame.type) {
      case "ready": return onReady(frame);
      case "ack": return onAck(frame);
      case "message": return onMessage(frame);
      case "sync": return onSync(frame);
      case "typing": return onTyping(frame);
      case "receipt": return onReceipt(frame);
      case "conversation": return onConversation(frame);
      case "presence": return onPresence(frame);
      case "error": return onError(frame);
      case "pong": return undefined;
      default: return undefined;
    }
  }

  function onReady(frame) {
    wsReady = true;
    backoff = 500;
    setConnection("open");
    if (frame.agent && frame.agent.presence) setPresence(frame.agent.presence);
    startPing();
    everReady = true;
    flushOutbox();
    state.threads.forEach(function (th, id) {
      if (th.waitingForSocket !== undefined) {
        var after = th.waitingForSocket;
        th.waitingForSocket = undefined;
        fetchAfter(id, after, false);
      } else if (th.loaded) {
        th.syncing = false;
        requestSync(id);
      }
    });
    // Connecting may have handed this agent queued conversations: read the lists again.
    loadLists();
    loadOverview();
    markRead();
  }

  function onMessage(frame) {
    var m = frame.message;
    var partial = frame.conversation ? Object.assign({}, frame.conversation) : null;
    var convId = m ? m.conversation_id : partial && partial.id;
    var before = state.convs.get(convId);
    var lastBefore = before ? before.last_seq || 0 : 0;
    var serverUnread = !!partial && typeof partial.unread === "number";
    if (partial) {
      // A private note is not what the list previews (nor what the buyer last saw).
      if (m && m.is_private) delete partial.preview;
      if (m && m.sender_type === "customer" && before && partial.customer && !partial.customer.display_name) {
        partial.customer = before.customer;
      }
      state.frameAt.set(partial.id, Date.now());
      upsert(partial);
    }
    if (!m) return;
    var c = state.convs.get(m.conversation_id);
    if (c && (!c.customer || !c.customer.display_name)) fetchSummary(c.id);
    var th = state.threads.get(m.conversation_id);
    var isNew = addMessage(m);
    settleOutbox(m);
    var fresh = th ? isNew : m.seq > lastBefore;
    if (c) {
      c.last_seq = Math.max(c.last_seq || 0, m.seq);
      if (!partial && !m.is_private) {
        c.preview = (m.body || "").slice(0, 80);
        c.last_message_at = m.created_at;
      }
    }
    if (m.sender_type === "customer" && fresh) {
      wsSend({ type: "delivered", conversation_id: m.conversation_id, seq: m.seq });
      var open = m.conversation_id === state.openId;
      if (open) { hideTyping(); scheduleSuggestions(); }
      if (c && (!open || !isVisible()) && (isMine(c) || isQueued(c))) notify();
      if (c && !serverUnread && !(open && isVisible() && canMarkRead(c))) {
        c.unread = (c.unread || 0) + 1;
      }
    }
    if (m.conversation_id === state.openId) {
      renderThread(false);
      markRead();
    }
    scheduleRender();
  }

  var summaryAsked = new Set();
  function fetchSummary(id) {
    if (summaryAsked.has(id)) return;
    summaryAsked.add(id);
    var asked = Date.now();
    api("GET", "/api/v1/desk/conversations/" + id).then(function (summary) {
      summaryAsked.delete(id);
      // A frame that arrived meanwhile is newer than this read (the buyer's next line):
      // take only who the buyer is from it, as the list's reload does.
      var c = state.convs.get(id);
      if (c && state.frameAt.get(id) >= asked) {
        if (summary.customer) { c.customer = summary.customer; scheduleRender(); }
        return;
      }
      upsert(summary);
    }, function () { summaryAsked.delete(id); });
  }

  function onTyping(frame) {
    if (frame.conversation_id === state.openId && frame.sender_type !== "agent") showTyping();
  }

  function onReceipt(frame) {
    var c = state.convs.get(frame.conversation_id);
    if (!c) return;
    if (typeof frame.buyer_read_seq === "number") {
      c.buyer_read_seq = Math.max(c.buyer_read_seq || 0, frame.buyer_read_seq);
    }
    if (typeof frame.shop_read_seq === "number") {
      c.shop_read_seq = Math.max(c.shop_read_seq || 0, frame.shop_read_seq);
    }
    if (frame.conversation_id === state.openId) renderHeader();
  }

  function onConversation(frame) {
    var summary = frame.conversation;
    if (!summary) return;
    var before = state.convs.get(summary.id);
    state.frameAt.set(summary.id, Date.now());
    upsert(summary);
    if (summary.id === state.openId) {
      var ctx = state.contexts.get(summary.id);
      if (ctx) ctx.conversation = state.convs.get(summary.id);
      renderHeader();
      // Closed or transferred while open: the list moves it, the thread stays in view.
      if (!before || before.status !== summary.status) markRead();
    }
  }

  function onPresence(frame) {
    var agent = state.agents.get(frame.agent_id);
    if (agent) agent.presence = frame.presence;
    else state.agents.set(frame.agent_id, { id: frame.agent_id, name: "#" + frame.agent_id, presence: frame.presence });
    if (frame.agent_id === me.id) setPresence(frame.presence);
    if (ui.dialog.open) fillAgents();
  }

  function onError(frame) {
    if (frame.code === "unauthenticated" || frame.code === "invalid_visitor_token") {
      authFailed = true;
      authExpired();
      return;
    }
    var text = S["error." + frame.code] ? t("error." + frame.code) : (frame.message || t("error.generic"));
    if (frame.client_msg_id) {
      var item = findOutbox(frame.client_msg_id);
      if (item) {
        if (frame.code === "rate_limited") {
          var wait = Math.max(1, Number(frame.retry_after) || 3) * 1000;
          setTimeout(function () { if (findOutbox(item.client_msg_id)) transmit(item); }, wait);
          showError(text);
          return;
        }
        if (frame.code === "server_error") { item.sentAt = 0; showError(text); return; }
        failOutbox(item, frame.message || text);
        return;
      }
    }
    showError(text);
  }

  /* ---------------------------------------------------------------- keyboard */

  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      var list = visibleList();
      if (!list.length) return;
      var index = -1;
      for (var i = 0; i < list.length; i++) if (list[i].id === state.openId) index = i;
      var next = event.key === "ArrowDown" ? Math.min(list.length - 1, index + 1) : Math.max(0, index - 1);
      if (index === -1) next = event.key === "ArrowDown" ? 0 : list.length - 1;
      if (list[next] && list[next].id !== state.openId) {
        openConversation(list[next].id);
        var row = ui.rows.querySelector('.row[data-id="' + list[next].id + '"]');
        if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
      }
    }
  });

  /* ---------------------------------------------------------------- start */

  restoreOutbox();
  renderSound();
  setPresence(state.presence);
  setView("mine");
  updateCounter();
  loadOverview();
  loadLists();
  connect();
})();
