/* The chat UI inside the widget iframe. Everything a person typed is rendered with
 * textContent (never as HTML); links are built as <a> elements for http(s) URLs only. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var state = {
    client: params.get("client") === "app" ? "app" : "web",
    token: null,
    conv: null,          // {id, conversation_token?}
    view: null,          // conversation view from the gateway
    seen: {},            // message ids already rendered
    lastId: 0,           // the last message id of the live stream (history, socket): the socket resumes after it
    pending: null,       // {text, payload?, client_message_id}: sent, not yet confirmed by the gateway
    sendRetry: 0,
    sendTimer: null,
    ws: null,
    wsRetry: 0,
    wsTimer: null,
    pingTimer: null,
    started: false,
    sending: false,
    readUpTo: 0,         // the last message id the gateway knows the buyer has been shown
    readSending: false,
    shownUpTo: 0,        // the last message id shown while the widget was open (sent as the read mark)
    open: false,
    generation: 0,
    anchor: null,        // {row, t}: the first message of the reply being shown (scroll target)
    wide: false          // asked the host page for a wider panel (a table arrived)
  };
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), input = $("input"), form = $("composer"), errorEl = $("error"), typing = $("typing");
  var embedded = window.parent !== window;
  if (params.get("title")) { $("title").textContent = params.get("title"); document.title = params.get("title"); }

  function toParent(msg) { if (embedded) window.parent.postMessage(msg, "*"); }
  // "*" is safe here: we only ever send {type, count} notices, never data.

  function b64json(part) {
    try { return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))); } catch (e) { return null; }
  }
  function storageKey() {
    var sub = "anon";
    if (state.token) { var c = b64json(state.token.split(".")[1] || ""); if (c && c.sub) sub = c.sub; }
    return "paylater.conversation." + state.client + "." + sub;
  }
  function load() { try { return JSON.parse(localStorage.getItem(storageKey()) || "null"); } catch (e) { return null; } }
  function save() { try { localStorage.setItem(storageKey(), JSON.stringify(state.conv)); } catch (e) { /* private mode */ } }
  function forget() { try { localStorage.removeItem(storageKey()); } catch (e) { /* ignore */ } }

  function headers() {
    var h = { "Content-Type": "application/json" };
    if (state.token) h.Authorization = "Bearer " + state.token;
    else if (state.conv && state.conv.conversation_token) h["X-Conversation-Token"] = state.conv.conversation_token;
    return h;
  }
  function api(method, path, body) {
    return fetch(path, { method: method, headers: headers(), body: body ? JSON.stringify(body) : undefined, credentials: "omit" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { var e = new Error(data.message || ("HTTP " + r.status)); e.status = r.status; e.data = data; throw e; }
          return data;
        });
      });
  }

  // ------------------------------------------------------------------ rendering
  var URL_RE = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/g;
  function appendText(el, text) {
    var last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = m[0]; a.textContent = m[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a);
      last = m.index + m[0].length;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }
  function fmtTime(iso) {
    try { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }
  function clearWelcome() { var w = log.querySelector(".welcome"); if (w) w.remove(); }

  function renderButtons(container, buttons) {
    var wrap = document.createElement("div");
    wrap.className = "buttons";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () { send(b.title, b.payload); });
      wrap.appendChild(btn);
    });
    container.appendChild(wrap);
  }

  // ------------------------------------------------------------------ tables
  // A structured message {type: "table", title, before, columns, rows, after}: every string is
  // set with textContent. The title stays above the table and the header row sticks while a long
  // table scrolls inside its own box; on a narrow screen the table scrolls sideways with the
  // first column kept in place.
  var NUM_RE = /^[\u2212+-]?\s*(\$|[A-Z]{3}\s)?\s*[\u2212+-]?[\d,]+(\.\d+)?\s*%?$/;
  // ------------------------------------------------------------------ rating (CSAT): optional, never in the way
  function isCsat(data) { return !!data && data.type === "csat"; }
  function renderCsat(row) {
    var form = document.createElement("form");
    form.className = "csat";
    form.setAttribute("aria-label", "Rate this conversation");
    var stars = document.createElement("div");
    stars.className = "csat-scores";
    var chosen = 0;
    for (var i = 1; i <= 5; i++) (function (n) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = String(n);
      b.setAttribute("aria-label", n + " out of 5");
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", function () {
        chosen = n;
        Array.prototype.forEach.call(stars.children, function (x, j) { x.setAttribute("aria-pressed", String(j + 1 === n)); });
        send.disabled = false;
      });
      stars.appendChild(b);
    })(i);
    var hint = document.createElement("div");
    hint.className = "csat-hint";
    hint.textContent = "1 = poor, 5 = excellent";
    var comment = document.createElement("textarea");
    comment.className = "csat-comment";
    comment.maxLength = 500;
    comment.rows = 2;
    comment.placeholder = "Anything to add? (optional)";
    comment.setAttribute("aria-label", "Comment (optional)");
    var send = document.createElement("button");
    send.type = "submit";
    send.className = "csat-send";
    send.textContent = "Send rating";
    send.disabled = true;
    form.appendChild(stars); form.appendChild(hint); form.appendChild(comment); form.appendChild(send);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!chosen || !state.conv) return;
      send.disabled = true;
      api("POST", "/v1/conversations/" + encodeURIComponent(state.conv.id) + "/csat",
          { score: chosen, comment: comment.value.trim() || null })
        .then(function () { done("Thank you for your rating."); })
        .catch(function (err) {
          if (err.status === 409) done("Thank you: this conversation is already rated.");
          else { send.disabled = false; showError(err.message || "Your rating could not be sent. Please try again."); }
        });
    });
    function done(text) {
      var p = document.createElement("div");
      p.className = "csat-done";
      p.textContent = text;
      form.replaceWith(p);
    }
    row.appendChild(form);
  }

  function paragraph(cls, text) {
    var p = document.createElement("p");
    p.className = cls;
    appendText(p, String(text));
    return p;
  }
  var BLANK_RE = /^[\u2014\u2013-]?$/; // "", "—", "–", "-": nothing in this cell
  function numericColumns(data) {
    return data.columns.map(function (_, i) {
      var cells = data.rows.map(function (r) { return String(r[i] == null ? "" : r[i]).trim(); });
      var filled = cells.filter(function (c) { return !BLANK_RE.test(c); });
      return filled.length > 0 && filled.every(function (c) { return NUM_RE.test(c); });
    });
  }
  function markOverflow(scroller) {
    var over = scroller.scrollWidth > scroller.clientWidth + 1;
    scroller.parentNode.classList.toggle("overflowing", over);
    var atEnd = scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 1;
    scroller.parentNode.classList.toggle("scrolled-end", atEnd);
  }
  function renderTable(bubble, data) {
    bubble.classList.add("table-bubble");
    (data.before || []).forEach(function (t) { bubble.appendChild(paragraph("t-before", t)); });
    var figure = document.createElement("figure");
    figure.className = "schedule";
    if (data.title) {
      var cap = document.createElement("figcaption");
      cap.className = "t-title";
      cap.textContent = String(data.title);
      figure.appendChild(cap);
    }
    var scroller = document.createElement("div");
    scroller.className = "t-scroll";
    scroller.setAttribute("role", "region");
    scroller.setAttribute("tabindex", "0");
    scroller.setAttribute("aria-label", data.title ? String(data.title) : "Table");
    var table = document.createElement("table");
    var numeric = numericColumns(data);
    var thead = document.createElement("thead"), hr = document.createElement("tr");
    data.columns.forEach(function (c, i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = String(c);
      if (numeric[i]) th.className = "num";
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = document.createElement("tbody");
    data.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (cell, i) {
        var td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) td.scope = "row";
        td.textContent = String(cell);
        if (numeric[i]) td.className = "num";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    scroller.appendChild(table);
    figure.appendChild(scroller);
    var hint = document.createElement("p");
    hint.className = "t-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = "Scroll sideways to see every column \u2192";
    figure.appendChild(hint);
    bubble.appendChild(figure);
    (data.after || []).forEach(function (t) { bubble.appendChild(paragraph("t-after", t)); });
    scroller.addEventListener("scroll", function () { markOverflow(scroller); }, { passive: true });
    if (!state.wide) { state.wide = true; toParent({ type: "paylater:wide" }); }
    return scroller;
  }
  function isTable(data) {
    return !!data && data.type === "table" && Array.isArray(data.columns) && Array.isArray(data.rows);
  }
  window.addEventListener("resize", function () {
    Array.prototype.forEach.call(log.querySelectorAll(".t-scroll"), markOverflow);
    refollow();
  });

  // ------------------------------------------------------------------ scrolling
  // A reply opens at its start: scroll to the end unless that would push the first line of the
  // reply (the first message after the buyer's, or after a pause) out of view.
  var REPLY_GAP_MS = 10000;
  function follow(row, m) {
    if (row && m) {
      if (m.sender === "buyer") state.anchor = null;
      else {
        var t = Date.parse(m.created_at) || Date.now();
        if (!state.anchor || !state.anchor.row.isConnected || t - state.anchor.t > REPLY_GAP_MS ||
            Number(state.anchor.row.getAttribute("data-id")) > m.id) state.anchor = { row: row, t: t };
      }
    }
    var bottom = log.scrollHeight - log.clientHeight;
    var top = state.anchor ? state.anchor.row.offsetTop - 10 : bottom;
    if (row) state.userScrolled = false;
    log.scrollTop = Math.max(0, Math.min(bottom, top));
    if (row && window.requestAnimationFrame) requestAnimationFrame(refollow); // after layout settles
  }
  // The log changes size (typing dots, composer, keyboard, rotation): stay where we put it,
  // unless the buyer has scrolled since the last message arrived.
  function refollow() { if (!state.userScrolled) follow(null); }
  ["wheel", "touchmove", "keydown", "mousedown"].forEach(function (type) {
    log.addEventListener(type, function () { state.userScrolled = true; }, { passive: true });
  });
  if (window.ResizeObserver) new ResizeObserver(refollow).observe(log);

  // `live`: from the history or the socket, in order; a REST answer's messages are not (an agent's
  // message sent while the socket was down may sit below them), so they do not move the cursor.
  function render(m, live) {
    if (live && m.id > state.lastId) state.lastId = m.id;
    if (state.seen[m.id]) return;
    state.seen[m.id] = true;
    clearWelcome();
    var row = document.createElement("div");
    row.className = "row " + m.sender + (m.kind ? " " + m.kind : "");
    row.setAttribute("data-id", String(m.id));
    row.setAttribute("data-sender", m.sender);
    if (m.sender === "agent") {
      var who = document.createElement("div");
      who.className = "who";
      who.textContent = (m.agent_name || "Support agent") + " · Support";
      row.appendChild(who);
    }
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    var scroller = null;
    if (m.sender !== "buyer" && isTable(m.data)) {
      row.classList.add("has-table");
      scroller = renderTable(bubble, m.data);
    } else {
      appendText(bubble, m.text || "");
    }
    row.appendChild(bubble);
    if (m.buttons && m.buttons.length) renderButtons(row, m.buttons);
    if (m.sender === "system" && isCsat(m.data)) renderCsat(row);
    if (m.sender !== "system") {
      var t = document.createElement("div");
      t.className = "time";
      t.textContent = fmtTime(m.created_at);
      row.appendChild(t);
    }
    // keep id order even if a live update overtakes the REST answer
    var after = null;
    Array.prototype.some.call(log.querySelectorAll(".row"), function (r) {
      if (Number(r.getAttribute("data-id")) > m.id) { after = r; return true; }
      return false;
    });
    log.insertBefore(row, after);
    if (scroller) markOverflow(scroller);
    follow(row, m);
    readStateChanged();
  }

  // ------------------------------------------------------------------ read state (stored by the gateway)
  // Open: what is rendered has been seen; tell the gateway. Closed: the launcher badge counts the
  // bot's and agents' messages after the stored mark, so a reload shows the same number.
  function unreadRows() {
    var mark = Math.max(state.readUpTo, state.shownUpTo);
    return Array.prototype.filter.call(log.querySelectorAll(".row.bot, .row.agent"), function (r) {
      return Number(r.getAttribute("data-id")) > mark;
    });
  }
  function readStateChanged() {
    if (state.open) { state.shownUpTo = Math.max(state.shownUpTo, state.lastId); markRead(); }
    else toParent({ type: "paylater:unread", count: unreadRows().length });
  }
  // Sends what was shown while open (even if the widget has been closed since the request left).
  function markRead() {
    if (!state.conv || state.shownUpTo <= state.readUpTo || state.readSending) return;
    var upTo = state.shownUpTo, gen = state.generation, failed = false;
    state.readSending = true;
    api("POST", "/v1/conversations/" + encodeURIComponent(state.conv.id) + "/read", { up_to: upTo }).then(function (d) {
      if (gen === state.generation && typeof d.last_read_id === "number") state.readUpTo = Math.max(state.readUpTo, d.last_read_id);
    }).catch(function () { failed = true; }).then(function () {
      state.readSending = false;
      if (gen === state.generation && state.shownUpTo > state.readUpTo) setTimeout(markRead, failed ? 3000 : 0);
    });
  }
  // Reopening: start at the first message the buyer has not seen yet, then mark everything seen.
  function openAtFirstUnread() {
    var first = unreadRows()[0];
    if (first) { state.anchor = { row: first, t: Date.now() }; state.userScrolled = false; }
    follow(null);
    state.shownUpTo = Math.max(state.shownUpTo, state.lastId);
    markRead();
  }

  function welcome() {
    log.textContent = "";
    var w = document.createElement("div");
    w.className = "welcome";
    var h = document.createElement("h2");
    h.textContent = "Hi! I'm the Pay Later assistant.";
    var p = document.createElement("p");
    p.textContent = state.token
      ? "Ask me about Pay Later, your Trade Assurance orders, your credit line or a payment."
      : "Ask me how Pay Later works. Sign in to ask about your orders or credit.";
    w.appendChild(h); w.appendChild(p);
    renderButtons(w, [
      { title: "What is Pay Later?", payload: null },
      { title: "How do I pay with Pay Later?", payload: null },
      { title: "Talk to a person", payload: null }
    ]);
    log.appendChild(w);
  }

  function setView(view) {
    if (!view) return;
    state.view = view;
    var status = $("status"), text = $("status-text"), banner = $("banner");
    status.className = "status " + view.state;
    banner.hidden = true;
    banner.className = "banner";
    // One announcement per event: the system line in the conversation says it (joined, taking
    // over, back with the bot); the header only shows the current state, no banner repeats it.
    if (view.state === "agent" && view.agent) {
      text.textContent = view.agent.name + " · Support team";
    } else if (view.state === "queued") {
      text.textContent = view.agents_online === false ? "Waiting for a support agent · none signed in"
        : "Waiting for a support agent";
    } else {
      text.textContent = "Assistant · replies instantly";
    }
  }

  function showError(msg) {
    errorEl.textContent = msg;
    errorEl.hidden = !msg;
  }

  // ------------------------------------------------------------------ conversation
  function ensureConversation() {
    if (state.conv) return Promise.resolve(state.conv);
    return api("POST", "/v1/conversations", { client: state.client }).then(function (view) {
      state.conv = { id: view.id };
      if (view.conversation_token) state.conv.conversation_token = view.conversation_token;
      save();
      setView(view);
      connect();
      return state.conv;
    });
  }

  function loadHistory() {
    return api("GET", "/v1/conversations/" + encodeURIComponent(state.conv.id) + "/messages").then(function (data) {
      setView(data.conversation);
      showError("");
      if (data.read && typeof data.read.last_read_id === "number") state.readUpTo = data.read.last_read_id;
      if (!data.messages.length) welcome();
      data.messages.forEach(function (m) { render(m, true); });
      if (state.open) openAtFirstUnread();
      connect();
      var p = loadPending();  // sent before a reload and never confirmed: send it again, same id
      if (p && !state.pending) deliver(p);
    });
  }

  function handleAuthError(e) {
    if (e.status === 401) {
      showError("Your sign-in has expired. Please sign in again to continue.");
      toParent({ type: "paylater:auth-required" });
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ sending, safe to retry
  // Each message gets a client id (client_message_id) and waits in localStorage until the
  // gateway has it: a network error retries with back-off (1, 2, 4 … 30 s, at once when the
  // browser is back online), a reload sends it again with the same id, and the gateway answers
  // a repeat with the replies it already produced (it never runs the bot twice).
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function pendingKey() { return storageKey() + ".pending"; }
  function loadPending() { try { return JSON.parse(localStorage.getItem(pendingKey()) || "null"); } catch (e) { return null; } }
  function savePending(p) {
    try { if (p) localStorage.setItem(pendingKey(), JSON.stringify(p)); else localStorage.removeItem(pendingKey()); } catch (e) { /* private mode */ }
  }
  function showPending(p) {
    var row = log.querySelector(".row.pending");
    if (!p) { if (row) row.remove(); return; }
    if (!row) {
      clearWelcome();
      row = document.createElement("div");
      row.className = "row buyer pending";
      row.setAttribute("data-id", "Infinity"); // after every stored message
      var bubble = document.createElement("div"); bubble.className = "bubble"; row.appendChild(bubble);
      var t = document.createElement("div"); t.className = "time"; row.appendChild(t);
      log.appendChild(row);
    }
    row.querySelector(".bubble").textContent = p.text;
    row.querySelector(".time").textContent = p.retryIn ? "Not sent yet · retrying in " + p.retryIn + " s" : "Sending…";
    follow(row, { sender: "buyer" });
  }
  function transient(e) { return !e.status || e.status === 408 || e.status === 429 || e.status >= 500; }

  function send(text, payload) {
    text = (text || "").trim();
    if (!text) { showError("Type a message first."); return; }
    if (text.length > 2000) { showError("Messages can be at most 2,000 characters (yours has " + text.length + ")."); return; }
    if (state.sending) return;
    var p = { text: text, client_message_id: newClientId() };
    if (payload) p.payload = payload;
    savePending(p);
    input.value = "";
    autosize();
    deliver(p);
  }

  function deliver(p) {
    state.sending = true;
    state.pending = p;
    $("send").disabled = true;
    showError("");
    showPending(p);
    var gen = state.generation;
    var body = { text: p.text, client_message_id: p.client_message_id };
    if (p.payload) body.payload = p.payload;
    var botTurn = !state.view || state.view.state === "bot" || state.view.state === "closed";
    typing.hidden = !botTurn;
    ensureConversation().then(function () {
      return api("POST", "/v1/conversations/" + encodeURIComponent(state.conv.id) + "/messages", body);
    }).then(function (data) {
      if (gen !== state.generation) return;
      done();
      data.messages.forEach(function (m) { render(m, false); });
      setView(data.conversation);
    }).catch(function (e) {
      if (gen !== state.generation) return;
      if (transient(e)) {  // keep it and try again: nothing typed is lost
        var wait = e.status === 429 && e.data && e.data.retry_after ? e.data.retry_after * 1000
          : Math.min(30000, 1000 * Math.pow(2, state.sendRetry++));
        p.retryIn = Math.round(wait / 1000);
        showPending(p);
        typing.hidden = true;
        showError(e.status ? e.message : "Connection lost. Your message is kept and will be sent when you're back online.");
        clearTimeout(state.sendTimer);
        state.sendTimer = setTimeout(function () { if (gen === state.generation) retryPending(); }, wait);
        return;
      }
      done();
      input.value = p.text; autosize(); // not accepted: give the text back to edit
      if (handleAuthError(e)) return;
      if (e.status === 404) { forget(); state.conv = null; showError("This conversation is no longer available. Send your message again to start a new one."); return; }
      showError(e.message);
    });
  }
  function done() {
    savePending(null);
    state.pending = null; state.sending = false; state.sendRetry = 0;
    clearTimeout(state.sendTimer);
    showPending(null);
    $("send").disabled = false;
    typing.hidden = true;
    showError("");
    input.focus();
  }
  function retryPending() {
    clearTimeout(state.sendTimer);
    var p = state.pending || loadPending();
    if (p) { p.retryIn = 0; deliver(p); }
  }
  window.addEventListener("online", function () {
    if (state.pending) retryPending();
    if (state.conv && !state.ws) { clearTimeout(state.wsTimer); state.wsRetry = 0; connect(); }
  });

  // ------------------------------------------------------------------ typing, both ways (with a person only)
  var agentTypingTimer = null, lastTypingSent = 0;
  function showAgentTyping(name) {
    var t = $("agent-typing");
    t.textContent = (name || "The agent") + " is typing…";
    t.hidden = false;
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(hideAgentTyping, 4000);
  }
  function hideAgentTyping() { clearTimeout(agentTypingTimer); $("agent-typing").hidden = true; }
  function sendTyping() {
    var st = state.view && state.view.state;
    if ((st !== "agent" && st !== "queued") || !state.ws || state.ws.readyState !== 1) return;
    if (Date.now() - lastTypingSent < 2000) return;
    lastTypingSent = Date.now();
    state.ws.send('{"type":"typing"}');
  }

  // ------------------------------------------------------------------ live updates
  function connect() {
    if (!state.conv || state.ws) return;
    var gen = state.generation;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + location.host + "/v1/conversations/" + encodeURIComponent(state.conv.id) + "/ws");
    state.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "auth", token: state.token, conversation_token: state.conv && state.conv.conversation_token, after: state.lastId }));
      state.pingTimer = setInterval(function () { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 25000);
    };
    ws.onmessage = function (ev) {
      var d; try { d = JSON.parse(ev.data); } catch (e) { return; }
      if (gen !== state.generation) return;
      if (d.type === "ready") { state.wsRetry = 0; setView(d.conversation); (d.messages || []).forEach(function (m) { render(m, true); }); }
      else if (d.type === "message") { if (d.message.sender === "agent") hideAgentTyping(); render(d.message, true); }
      else if (d.type === "typing" && d.who === "agent") showAgentTyping(d.name);
      else if (d.type === "state") setView(d.conversation);
      else if (d.type === "error" && d.error !== "rate_limited") showError(d.message);
    };
    ws.onclose = function (ev) {
      clearInterval(state.pingTimer);
      if (state.ws === ws) state.ws = null;
      if (gen !== state.generation) return;
      if (ev.code === 4401) { toParent({ type: "paylater:auth-required" }); return; }
      if (ev.code === 4403) return;
      var delay = Math.min(30000, 1000 * Math.pow(2, state.wsRetry++));
      state.wsTimer = setTimeout(connect, delay);
    };
  }

  function reset() {
    state.generation += 1;
    if (state.ws) { try { state.ws.close(); } catch (e) { /* ignore */ } state.ws = null; }
    clearTimeout(state.wsTimer);
    clearTimeout(state.sendTimer); state.pending = null; state.sending = false; state.sendRetry = 0;
    state.conv = null; state.view = null; state.seen = {}; state.lastId = 0; state.readUpTo = 0; state.shownUpTo = 0; state.anchor = null;
    setView({ state: "bot" });
    showError("");
  }

  function start(token) {
    var sameIdentity = state.started && storageKey() === (function () { var t = state.token; state.token = token; var k = storageKey(); state.token = t; return k; })();
    state.token = token || null;
    if (sameIdentity) { if (state.ws === null) connect(); showError(""); return; } // token refresh
    reset();
    state.started = true;
    var saved = load();
    if (saved && saved.id) {
      state.conv = saved;
      var gen = state.generation, tries = 0;
      var resume = function () {
        loadHistory().catch(function (e) {
          if (gen !== state.generation || handleAuthError(e)) return;
          if (transient(e)) {  // offline at reload: keep the conversation, try again
            showError("Connection lost. Trying to reconnect…");
            state.wsTimer = setTimeout(resume, Math.min(30000, 1000 * Math.pow(2, tries++)));
            return;
          }
          forget(); state.conv = null; welcome();
          var p = loadPending(); if (p) deliver(p);
        });
      };
      resume();
    } else {
      welcome();
      var p = loadPending(); // typed before the conversation could even be opened
      if (p) deliver(p);
    }
  }

  // ------------------------------------------------------------------ composer
  function autosize() { input.style.height = "auto"; input.style.height = Math.min(120, input.scrollHeight) + "px"; }
  input.addEventListener("input", function () { autosize(); sendTyping(); if (input.value.length >= 2000) showError("Messages can be at most 2,000 characters."); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); });
  $("close").addEventListener("click", function () { toParent({ type: "paylater:close" }); });

  window.addEventListener("message", function (ev) {
    if (ev.source !== window.parent) return; // only the page that embeds us
    var d = ev.data || {};
    if (d.type === "paylater:init") {
      if (d.client === "app" || d.client === "web") state.client = d.client;
      state.open = !!d.open;
      start(typeof d.token === "string" && d.token ? d.token : null);
    } else if (d.type === "paylater:opened") {
      state.open = true; input.focus();
      setTimeout(function () { Array.prototype.forEach.call(log.querySelectorAll(".t-scroll"), markOverflow); openAtFirstUnread(); }, 0);
    } else if (d.type === "paylater:closed") {
      state.open = false;
    }
  });

  if (embedded) { $("close").hidden = false; toParent({ type: "paylater:ready" }); }
  else { $("close").hidden = true; state.open = true; start(null); } // opened directly: anonymous
})();
