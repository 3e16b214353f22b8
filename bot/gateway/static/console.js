/* Agent console. Every text from buyers, the bot or agents is rendered with textContent. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var S = { me: null, csrf: null, lists: null, current: null, detail: null, ws: null, retry: 0, seen: {} };

  function api(method, path, body, extraHeaders) {
    var h = { "Content-Type": "application/json" };
    if (method !== "GET" && S.csrf) h["X-CSRF-Token"] = S.csrf;
    Object.assign(h, extraHeaders || {});
    return fetch(path, { method: method, headers: h, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok) { var e = new Error(d.message || ("HTTP " + r.status)); e.status = r.status; throw e; }
          return d;
        });
      });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtWait(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function fmtTime(iso) { try { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; } }
  var REASONS = { requested: "Asked for a person", misunderstood: "Bot misunderstood", late_disbursement: "Late disbursement",
                  dispute: "Dispute / complaint", backend_down: "Assistant unavailable" };

  // ------------------------------------------------------------------ sign-in
  function showLogin() {
    $("app-view").hidden = true; $("login-view").hidden = false; $("username").focus();
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var err = $("login-error"); err.hidden = true;
    api("GET", "/console/api/csrf").then(function (d) {
      return api("POST", "/console/api/login", { username: $("username").value, password: $("password").value }, { "X-CSRF-Token": d.csrf_token });
    }).then(function (d) {
      $("password").value = "";
      S.me = d.agent; S.csrf = d.csrf_token; startApp();
    }).catch(function (e2) { err.textContent = e2.message; err.hidden = false; });
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/console/api/logout").catch(function () {}).then(function () {
      if (S.ws) S.ws.close(); S.ws = null; S.me = null; S.csrf = null; showLogin();
    });
  });

  // ------------------------------------------------------------------ lists
  function renderList(name, items) {
    var ul = $("list-" + name);
    ul.textContent = "";
    $("count-" + name).textContent = String(items.length);
    if (!items.length) { ul.appendChild(el("li", "empty-item", name === "queue" ? "Nobody is waiting." : "None")); return; }
    items.forEach(function (c) {
      var li = el("li"), b = el("button");
      b.type = "button";
      b.setAttribute("data-conv", c.id);
      if (S.current === c.id) b.classList.add("active");
      var l1 = el("span", "line1");
      l1.appendChild(el("span", "", c.buyer_id || "Anonymous visitor"));
      if (name === "queue") {
        var w = el("span", "wait" + (c.wait_seconds > 300 ? " long" : ""), "waiting " + fmtWait(c.wait_seconds));
        l1.appendChild(w);
      } else if (name === "others") {
        l1.appendChild(el("span", "wait", c.assigned_agent));
      }
      var reason = c.handoff ? (REASONS[c.handoff.reason] || c.handoff.reason) : "Chatting with the bot";
      var l2 = el("span", "line2", reason + " · " + c.client);
      b.appendChild(l1); b.appendChild(l2);
      b.addEventListener("click", function () { open(c.id); });
      li.appendChild(b); ul.appendChild(li);
    });
  }
  function refreshLists() {
    return api("GET", "/console/api/conversations").then(function (d) {
      S.lists = d;
      ["queue", "mine", "live", "others"].forEach(function (n) { renderList(n, d[n]); });
    }).catch(function (e) { if (e.status === 401) showLogin(); });
  }
  var refreshTimer = null;
  function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshLists, 150); }

  // ------------------------------------------------------------------ one conversation
  function addMessage(m) {
    if (S.seen[m.id]) return;
    S.seen[m.id] = true;
    var box = el("div", "msg " + m.sender);
    var who = { buyer: "Buyer", bot: "Bot", agent: m.agent_name || "Agent", system: "" }[m.sender];
    if (who) box.appendChild(el("div", "meta", who + " · " + fmtTime(m.created_at)));
    box.appendChild(el("div", "text", m.text));
    if (m.buttons && m.buttons.length) {
      box.appendChild(el("div", "btns", "Buttons: " + m.buttons.map(function (b) { return b.title; }).join(" | ")));
    }
    var t = $("transcript");
    t.appendChild(box);
    t.scrollTop = t.scrollHeight;
  }
  function dd(list, label, value) {
    list.appendChild(el("dt", "", label));
    var d = el("dd");
    if (value instanceof Node) d.appendChild(value); else d.textContent = (value === null || value === undefined || value === "") ? "—" : String(value);
    list.appendChild(d);
  }
  function describe(obj) {
    if (!obj) return null;
    if (typeof obj !== "object") return String(obj);
    return Object.keys(obj).map(function (k) { return k.replace(/_/g, " ") + ": " + (typeof obj[k] === "object" ? JSON.stringify(obj[k]) : obj[k]); }).join(", ");
  }
  function renderSummary(c) {
    var list = $("summary-list");
    list.textContent = "";
    var s = (c.handoff && c.handoff.summary) || {};
    if (c.handoff) {
      dd(list, "Why handed off", el("span", "reason", REASONS[c.handoff.reason] || c.handoff.reason));
      if (c.handoff.reason_text) dd(list, "Details", c.handoff.reason_text);
    }
    // the buyer id comes from the verified token of the conversation, never from the bot's summary
    dd(list, "Buyer", c.buyer_id || "Anonymous (not signed in)");
    dd(list, "Business", s.business_name ? s.business_name + (s.country ? " (" + s.country + ")" : "") : null);
    dd(list, "Orders mentioned", s.orders_mentioned && s.orders_mentioned.length ? s.orders_mentioned.join(", ") : null);
    dd(list, "Application", describe(s.application) || "None");
    dd(list, "Credit line", describe(s.credit_line) || "None");
    dd(list, "Channel", c.client === "app" ? "Mobile app" : "Website");
    dd(list, "State", { queued: "Waiting for a person", bot: "With the bot", closed: "Closed",
                        agent: "With " + (c.assigned_agent === S.me.username ? "you" : c.assigned_agent) }[c.state] || c.state);
    $("summary").hidden = false;
  }
  function renderHead(c) {
    $("conv-title").textContent = c.buyer_id || "Anonymous visitor";
    var sub = { queued: "Waiting for a person" + (c.wait_seconds !== null ? " · " + fmtWait(c.wait_seconds) : ""),
                agent: "With " + (c.assigned_agent === S.me.username ? "you" : c.assigned_agent),
                bot: "Live with the bot", closed: "Closed" }[c.state] || c.state;
    $("conv-sub").textContent = sub;
    var mine = c.state === "agent" && c.assigned_agent === S.me.username;
    $("btn-claim").hidden = !(c.state === "queued" || c.state === "bot");
    $("btn-handback").hidden = !mine;
    $("btn-close").hidden = c.state === "closed" || (c.state === "agent" && !mine);
    $("reply").disabled = !mine; $("btn-send").disabled = !mine;
    $("reply").placeholder = mine ? "Reply to the buyer…" : "Take over the conversation to reply";
  }
  function open(id) {
    S.current = id; S.seen = {};
    $("action-error").hidden = true;
    document.querySelectorAll(".conv-list button").forEach(function (b) { b.classList.toggle("active", b.getAttribute("data-conv") === id); });
    return api("GET", "/console/api/conversations/" + encodeURIComponent(id)).then(function (d) {
      if (S.current !== id) return;
      S.detail = d.conversation;
      $("empty").hidden = true; $("detail").hidden = false;
      $("transcript").textContent = "";
      d.messages.forEach(addMessage);
      renderHead(d.conversation); renderSummary(d.conversation);
    });
  }
  function act(path, body) {
    var id = S.current;
    $("action-error").hidden = true;
    return api("POST", "/console/api/conversations/" + encodeURIComponent(id) + "/" + path, body).then(function (d) {
      if (d.conversation) { S.detail = d.conversation; renderHead(d.conversation); renderSummary(d.conversation); }
      if (d.message) addMessage(d.message);
      refreshLists();
      return d;
    }).catch(function (e) {
      $("action-error").textContent = e.message; $("action-error").hidden = false;
      if (e.status === 409) open(id);
      if (e.status === 401) showLogin();
      throw e;
    });
  }
  $("btn-claim").addEventListener("click", function () { act("claim").catch(function () {}); });
  $("btn-handback").addEventListener("click", function () { act("handback").catch(function () {}); });
  $("btn-close").addEventListener("click", function () { act("close").catch(function () {}); });
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text) return;
    act("messages", { text: text }).then(function () { $("reply").value = ""; $("reply").focus(); }).catch(function () {});
  });
  $("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("reply-form").requestSubmit(); }
  });

  // ------------------------------------------------------------------ live updates
  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + location.host + "/console/ws");
    S.ws = ws;
    var ping = null;
    ws.onopen = function () {
      S.retry = 0; $("live-dot").classList.add("on");
      ping = setInterval(function () { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 20000);
      ws.send('{"type":"ping"}');
      refreshLists();
    };
    ws.onmessage = function (ev) {
      var d; try { d = JSON.parse(ev.data); } catch (e) { return; }
      if (d.type === "message") {
        if (d.conversation_id === S.current) addMessage(d.message);
        scheduleRefresh();
      } else if (d.type === "conversation") {
        if (d.conversation.id === S.current) { S.detail = d.conversation; renderHead(d.conversation); renderSummary(d.conversation); }
        scheduleRefresh();
      }
    };
    ws.onclose = function () {
      clearInterval(ping); $("live-dot").classList.remove("on");
      if (S.ws !== ws || !S.me) return;
      S.ws = null;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, S.retry++)));
    };
  }

  function startApp() {
    $("login-view").hidden = true; $("app-view").hidden = false;
    $("me-name").textContent = S.me.display_name;
    refreshLists();
    checkBot();
    if (!S.ws) connect();
  }
  setInterval(function () { if (S.me) refreshLists(); }, 15000); // wait times tick

  // ------------------------------------------------------------------ is the bot up? (GET /health/ready)
  function checkBot() {
    fetch("/health/ready", { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.json(); })
      .then(function (d) {
        var parts = d.parts || {}, names = Object.keys(parts);
        var rasa = names.filter(function (n) { return n.indexOf("rasa") === 0; });
        var down = [];
        if (rasa.length && rasa.every(function (n) { return parts[n].status !== "up"; })) down.push("assistant (Rasa)");
        if (parts.actions && parts.actions.status !== "up") down.push("action server");
        var box = $("bot-down");
        box.textContent = down.length ? "The bot is down (" + down.join(", ") + "): buyers get an apology with a " +
          "\u201cTalk to a person\u201d button, so expect more chats in the queue. It restarts by itself." : "";
        box.hidden = !down.length;
      }).catch(function () {});
  }
  setInterval(function () { if (S.me) checkBot(); }, 5000);

  api("GET", "/console/api/me").then(function (d) { S.me = d.agent; S.csrf = d.csrf_token; startApp(); })
    .catch(function () { showLogin(); });
})();
