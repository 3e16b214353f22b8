/* Agent console. Every text from buyers, the bot or agents is rendered with textContent. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var S = { me: null, csrf: null, lists: null, current: null, detail: null, ws: null, retry: 0, seen: {},
            team: [], mode: "reply", canned: [], unread: {}, queued: null, sound: true,
            lastId: 0, buyerRead: 0, readUpTo: {} };

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
  function sessionEnded() {  // signed out elsewhere, disabled, or a new password set by a supervisor
    if (!S.me) return;
    var ws = S.ws;
    S.ws = null; S.me = null; S.csrf = null;
    if (ws) ws.close();
    showLogin("Your session has ended (signed out, or changed by a supervisor). Sign in again.");
  }
  function showLogin(why) {
    $("app-view").hidden = true; $("login-view").hidden = false; $("username").focus();
    if (why) { $("login-error").textContent = why; $("login-error").hidden = false; }
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var err = $("login-error"); err.hidden = true;
    api("GET", "/console/api/csrf").then(function (d) {
      return api("POST", "/console/api/login", { username: $("username").value, password: $("password").value }, { "X-CSRF-Token": d.csrf_token });
    }).then(function (d) {
      $("password").value = "";
      S.me = d.agent; S.csrf = d.csrf_token; startApp();
      // asked on a click (browsers require a gesture): desktop notifications for transfers
      if (window.Notification && Notification.permission === "default") Notification.requestPermission().catch(function () {});
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
        // SLA colours from the gateway (PAYLATER_QUEUE_SLA_*): green, amber, red; the words say it too
        var sla = c.sla || "ok", lim = (S.lists && S.lists.sla) || {};
        var w = el("span", "wait sla-" + sla, (sla === "breach" ? "over target \u00b7 " : "waiting ") + fmtWait(c.wait_seconds));
        if (lim.warn_seconds) w.title = "Target: answer within " + fmtWait(lim.breach_seconds) + " (amber from " + fmtWait(lim.warn_seconds) + ")";
        l1.appendChild(w);
      } else if (name === "others") {
        l1.appendChild(el("span", "wait", c.assigned_agent));
      }
      // unread buyer messages: stored per agent by the gateway (queue, mine), so a reload keeps them
      var unread = c.id === S.current ? 0 : (typeof c.unread === "number" ? c.unread : S.unread[c.id]);
      if (unread) { var u = el("span", "unread", String(unread)); u.title = unread + " unread from the buyer"; l1.appendChild(u); }
      var reason = c.state === "closed" ? "Closed" : c.state === "bot" ? "Chatting with the bot"
        : c.handoff ? (REASONS[c.handoff.reason] || c.handoff.reason) : "With a person";
      var l2 = el("span", "line2", reason + " · " + c.client);
      b.appendChild(l1); b.appendChild(l2);
      b.addEventListener("click", function () { open(c.id); });
      li.appendChild(b); ul.appendChild(li);
    });
  }
  function refreshLists() {
    return api("GET", "/console/api/conversations").then(function (d) {
      S.lists = d;
      S.unread = {};  // the page title counts unread messages in my chats, from the server's counts
      d.mine.forEach(function (c) { if (c.unread && c.id !== S.current) S.unread[c.id] = c.unread; });
      ["queue", "mine", "live", "others"].forEach(function (n) { renderList(n, d[n]); });
      // a chat that newly entered the queue: sound + desktop notification (not for the first load)
      var ids = {};
      d.queue.forEach(function (c) { ids[c.id] = true; });
      if (S.queued) {
        var fresh = d.queue.filter(function (c) { return !S.queued[c.id]; });
        if (fresh.length) alertAgent("A buyer is waiting for a person" + (fresh[0].buyer_id ? " (" + fresh[0].buyer_id + ")" : "") + ".");
      }
      S.queued = ids;
      updateTitle();
    }).catch(function (e) { if (e.status === 401) sessionEnded(); });
  }
  var refreshTimer = null;
  function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshLists, 150); }

  // ------------------------------------------------------------------ one conversation
  function addNote(n) {
    if (S.seen["note" + n.id]) return;
    S.seen["note" + n.id] = true;
    var box = el("div", "msg note");
    box.appendChild(el("div", "meta", "Private note · " + n.author_name + " · " + fmtTime(n.created_at) + " · agents only"));
    box.appendChild(el("div", "text", n.text));
    var t = $("transcript");
    t.appendChild(box);
    t.scrollTop = t.scrollHeight;
  }
  function addMessage(m) {
    if (S.seen[m.id]) return;
    S.seen[m.id] = true;
    var box = el("div", "msg " + m.sender);
    box.setAttribute("data-id", String(m.id));
    if (m.id > S.lastId) S.lastId = m.id;
    var who = { buyer: "Buyer", bot: "Bot", agent: m.agent_name || "Agent", system: "" }[m.sender];
    if (who) box.appendChild(el("div", "meta", who + " · " + fmtTime(m.created_at)));
    box.appendChild(el("div", "text", m.text));
    if (m.buttons && m.buttons.length) {
      box.appendChild(el("div", "btns", "Buttons: " + m.buttons.map(function (b) { return b.title; }).join(" | ")));
    }
    var t = $("transcript");
    t.appendChild(box);
    t.scrollTop = t.scrollHeight;
    if (m.sender === "agent") renderSeen();
  }
  // "Seen" under my last reply once the buyer's widget has shown it (the gateway stores the mark)
  function renderSeen() {
    var old = document.querySelector("#transcript .seen-mark");
    if (old) old.remove();
    var agents = document.querySelectorAll("#transcript .msg.agent");
    var last = agents[agents.length - 1];
    if (!last) return;
    var seen = Number(last.getAttribute("data-id")) <= S.buyerRead;
    last.appendChild(el("div", "seen-mark" + (seen ? " seen" : ""), seen ? "\u2713 Seen by the buyer" : "Not seen yet"));
  }
  // I have read this conversation up to its last message: stored per agent (unread counts survive a reload)
  var readPending = false;
  function markRead() {
    var id = S.current, upTo = S.lastId;
    if (!id || !upTo || document.hidden || readPending || (S.readUpTo[id] || 0) >= upTo) return;
    readPending = true;
    api("POST", "/console/api/conversations/" + encodeURIComponent(id) + "/read", { up_to: upTo }).then(function (d) {
      S.readUpTo[id] = d.last_read_id;
      if (S.unread[id]) { delete S.unread[id]; updateTitle(); }
    }).catch(function () { /* next message or next opening retries */ }).then(function () {
      readPending = false;
      if (S.current === id && S.lastId > (S.readUpTo[id] || 0)) setTimeout(markRead, 1000);
    });
  }
  document.addEventListener("visibilitychange", markRead);
  function dd(list, label, value) {
    list.appendChild(el("dt", "", label));
    var d = el("dd");
    if (value instanceof Node) d.appendChild(value); else d.textContent = (value === null || value === undefined || value === "") ? "—" : String(value);
    list.appendChild(d);
  }
  function renderSummary(c) {
    var list = $("summary-list");
    list.textContent = "";
    var s = (c.handoff && c.handoff.summary) || {};
    if (c.handoff) {
      var wasHandedOff = c.state === "bot" || c.state === "closed";
      dd(list, wasHandedOff ? "Was handed off because" : "Why handed off", el("span", "reason", REASONS[c.handoff.reason] || c.handoff.reason));
      if (c.handoff.reason_text) dd(list, "Details", c.handoff.reason_text);
    }
    // the buyer id comes from the verified token of the conversation, never from the bot's summary
    dd(list, "Buyer", c.buyer_id || "Anonymous (not signed in)");
    dd(list, "Business", s.business_name ? s.business_name + (s.country ? " (" + s.country + ")" : "") : null);
    dd(list, "Orders mentioned", s.orders_mentioned && s.orders_mentioned.length ? s.orders_mentioned.join(", ") : null);
    var a = s.application, l = s.credit_line;
    dd(list, "Application", a && a.state ? a.state.replace(/_/g, " ").replace(/^./, function (x) { return x.toUpperCase(); }) + "." : "None when handed off.");
    dd(list, "Credit line", l && l.limit ? money(l.available, "USD") + " available of " + money(l.limit, "USD") + "." : "None when handed off.");
    dd(list, "Channel", c.client === "app" ? "Mobile app" : "Website");
    dd(list, "State", { queued: "Waiting for a person", bot: "With the bot", closed: "Closed",
                        agent: "With " + (c.assigned_agent === S.me.username ? "you" : c.assigned_agent) }[c.state] || c.state);
    $("summary").hidden = false;
  }
  // ------------------------------------------------------------------ search (open and closed conversations)
  var STATE_LABEL = { queued: "Waiting", agent: "With an agent", bot: "With the bot", closed: "Closed" };
  function resultItem(r, ul) {
    var c = r.conversation, li = el("li"), b = el("button");
    b.type = "button"; b.setAttribute("data-conv", c.id);
    var l1 = el("span", "line1");
    l1.appendChild(el("span", "", c.buyer_id || "Anonymous visitor"));
    l1.appendChild(el("span", "state-tag state-" + c.state, STATE_LABEL[c.state] || c.state));
    b.appendChild(l1);
    var when = c.last_message_at || c.created_at;
    b.appendChild(el("span", "line2", (when ? new Date(when).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "") +
      (r.snippet ? " · “" + r.snippet + "”" : "")));
    b.addEventListener("click", function () { open(c.id); });
    li.appendChild(b); ul.appendChild(li);
  }
  function search(params) {
    var qs = Object.keys(params).filter(function (k) { return params[k]; })
      .map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
    return api("GET", "/console/api/search?" + qs);
  }
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var ul = $("list-search"), err = $("search-error");
    err.hidden = true; ul.textContent = ""; $("search-results").hidden = false;
    search({ q: $("search-q").value.trim(), from: $("search-from").value, to: $("search-to").value }).then(function (d) {
      if (!d.results.length) ul.appendChild(el("li", "empty-item", "Nothing found."));
      d.results.forEach(function (r) { resultItem(r, ul); });
    }).catch(function (e2) { err.textContent = e2.message; err.hidden = false; });
  });
  $("search-clear").addEventListener("click", function () {
    $("search-form").reset(); $("search-results").hidden = true; $("list-search").textContent = "";
  });
  // The same buyer's other open chat (the app beside the website, or the other way round): one click away
  var CLIENT = { web: "on the website", app: "in the app" };
  var LINKED_STATE = { bot: "with the bot", queued: "waiting for a person", agent: "with an agent" };
  function renderLinked(list) {
    var box = $("linked");
    box.textContent = "";
    box.hidden = !list.length;
    list.forEach(function (c) {
      var row = el("div", "linked-row");
      row.setAttribute("data-conv", c.id);
      var who = c.state === "agent" ? (c.assigned_agent === S.me.username ? "with you" : "with " + agentName(c.assigned_agent))
        : LINKED_STATE[c.state] || c.state;
      row.appendChild(el("span", "", "This buyer also has an open chat " + (CLIENT[c.client] || c.client) + " (" + who +
        (c.last_message_at ? ", last message " + fmtTime(c.last_message_at) : "") + ")."));
      var b = el("button", "secondary", "Open it");
      b.type = "button";
      b.addEventListener("click", function () { open(c.id); });
      row.appendChild(b);
      box.appendChild(row);
    });
  }
  function agentName(username) {
    var m = (S.team || []).filter(function (a) { return a.username === username; })[0];
    return m ? m.display_name : username;
  }
  function loadEarlier(c) {
    var ul = $("earlier");
    ul.textContent = "";
    if (!c.buyer_id) { ul.appendChild(el("li", "empty-item", "Anonymous visitor: no history.")); return; }
    search({ q: c.buyer_id }).then(function (d) {
      if (S.current !== c.id) return;
      var others = d.results.filter(function (r) { return r.conversation.id !== c.id; });
      if (!others.length) ul.appendChild(el("li", "empty-item", "None."));
      others.slice(0, 10).forEach(function (r) { resultItem({ conversation: r.conversation, snippet: null }, ul); });
    }).catch(function () {});
  }

  // ------------------------------------------------------------------ the buyer's account, live from the backend
  function money(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    try { return new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD" }).format(Number(amount)); }
    catch (e) { return amount + " " + (currency || ""); }
  }
  function loadContext(id) {
    var box = $("context");
    box.textContent = "";
    box.appendChild(el("p", "muted", "Loading the buyer's account…"));
    return api("GET", "/console/api/conversations/" + encodeURIComponent(id) + "/context").then(function (d) {
      if (S.current !== id) return;
      box.textContent = "";
      var c = d.context;
      if (!c) { box.appendChild(el("p", "muted", d.message)); return; }
      if (c.unavailable.length) {
        box.appendChild(el("p", "form-error", "The payments system did not answer for: " + c.unavailable.join(", ").replace(/_/g, " ") +
                                             ". What is shown may be incomplete; try Refresh."));
      }
      var line = c.credit_line, app = c.application;
      var acct = el("div", "ctx-block");
      acct.appendChild(el("p", "", line ? "Credit line with " + line.lender + ": " + money(line.available, line.currency) + " available of " +
        money(line.limit, line.currency) + " (" + money(line.used, line.currency) + " in use, risk tier " + line.risk_tier + ")."
        : "No Pay Later credit line yet."));
      var APP = { started: "started, not submitted", waiting_for_account_linking: "waiting for the buyer to link their accounts",
                  under_review: "under review by the lender", approved: "approved", declined: "declined" };
      if (app) acct.appendChild(el("p", "", "Application with " + app.lender + ": " + (APP[app.state] || app.state) +
        (app.offered_limit && app.state !== "approved" ? ", for " + money(app.offered_limit, "USD") : "") +
        (app.reasons.length ? " (" + app.reasons.join(" ") + ")" : "") + "."));
      else if (!line) acct.appendChild(el("p", "", "No Pay Later application."));
      box.appendChild(acct);
      // what the buyer still owes first
      c.orders.slice().sort(function (a, b) { return (Number(b.due) > 0) - (Number(a.due) > 0); }).forEach(function (o) {
        var card = el("div", "ctx-order"); card.setAttribute("data-order", o.order_id);
        var top = el("div", "ctx-order-top");
        top.appendChild(el("strong", "", o.order_id));
        top.appendChild(el("span", Number(o.due) > 0 ? "ctx-due" : "ctx-paid",
          Number(o.due) > 0 ? money(o.due, o.currency) + " due" : "nothing due"));
        card.appendChild(top);
        card.appendChild(el("div", "muted", money(o.paid, o.currency) + " paid of " + money(o.total, o.currency) + ". " + o.status_text));
        var pl = o.pay_later;
        if (pl && Number(o.due) > 0) {  // a paid order: "cannot pay it" would only be noise
          card.appendChild(el("div", pl.eligible ? "ctx-ok" : "ctx-no", pl.eligible
            ? "Pay Later can pay the " + pl.stage + " payment (" + money(pl.amount, o.currency) + ")."
            : "Pay Later cannot pay it: " + (pl.reasons.join(" ") || pl.advice)));
        }
        o.disbursements.forEach(function (ds) {
          card.appendChild(el("div", ds.needs_human ? "ctx-no" : "ctx-info", "Lender's money for the " + ds.stage + " payment (" +
            money(ds.amount, ds.currency) + "): " + ds.state_text));
        });
        box.appendChild(card);
      });
      if (!c.orders.length && c.unavailable.indexOf("orders") < 0) box.appendChild(el("p", "muted", "No orders."));
    }).catch(function (e) { if (S.current === id) { box.textContent = ""; box.appendChild(el("p", "form-error", e.message)); } });
  }
  $("ctx-refresh").addEventListener("click", function () { if (S.current) loadContext(S.current); });

  function renderHead(c) {
    $("conv-title").textContent = c.buyer_id || "Anonymous visitor";
    var sub = { queued: "Waiting for a person" + (c.wait_seconds !== null ? " · " + fmtWait(c.wait_seconds) : ""),
                agent: "With " + (c.assigned_agent === S.me.username ? "you" : c.assigned_agent),
                bot: "Live with the bot", closed: "Closed · read-only transcript" }[c.state] || c.state;
    $("conv-sub").textContent = sub;
    var mine = c.state === "agent" && c.assigned_agent === S.me.username;
    var sup = S.me.role === "supervisor";
    $("btn-claim").hidden = !(c.state === "queued" || c.state === "bot");
    $("btn-handback").hidden = !mine;
    $("pass-on").hidden = !(mine || (sup && (c.state === "agent" || c.state === "queued")));
    $("btn-release").hidden = c.state !== "agent";
    fillTransfer(c);
    $("btn-close").hidden = c.state === "closed" || (c.state === "agent" && !mine);
    var note = S.mode === "note";
    $("reply").disabled = !(mine || note); $("btn-send").disabled = !(mine || note);
    $("reply").placeholder = note ? "A note for your colleagues: the buyer never sees it" :
      (mine ? "Reply to the buyer…" : c.state === "closed" ? "Closed: read-only. The chat reopens when the buyer writes again."
        : "Take over the conversation to reply");
    $("btn-send").textContent = note ? "Add note" : "Send";
    $("reply-form").classList.toggle("note-mode", note);
  }
  function open(id) {
    S.current = id; S.seen = {}; S.lastId = 0; S.buyerRead = 0;
    if (S.unread[id]) { delete S.unread[id]; scheduleRefresh(); }
    $("close-confirm").hidden = true;
    updateTitle(); $("buyer-typing").hidden = true;
    loadTeam();  // who can take it over, fresh
    $("action-error").hidden = true;
    document.querySelectorAll(".conv-list button").forEach(function (b) {
      var here = b.getAttribute("data-conv") === id;
      b.classList.toggle("active", here);
      var u = here && b.querySelector(".unread");
      if (u) u.remove();  // opening it reads it (stored by markRead below)
    });
    return api("GET", "/console/api/conversations/" + encodeURIComponent(id)).then(function (d) {
      if (S.current !== id) return;
      S.detail = d.conversation;
      $("empty").hidden = true; $("team").hidden = true; $("detail").hidden = false;
      $("transcript").textContent = "";
      // messages and private notes in the order they happened
      var items = d.messages.map(function (m) { return { at: m.created_at, m: m }; })
        .concat((d.notes || []).map(function (n) { return { at: n.created_at, n: n }; }));
      items.sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; });
      S.buyerRead = d.buyer_last_read_id || 0;
      items.forEach(function (i) { if (i.m) addMessage(i.m); else addNote(i.n); });
      renderSeen(); markRead();
      renderLinked(d.linked || []);
      loadContext(id); loadEarlier(d.conversation);
      renderHead(d.conversation); renderSummary(d.conversation);
    });
  }
  function act(path, body) {
    var id = S.current;
    $("action-error").hidden = true;
    return api("POST", "/console/api/conversations/" + encodeURIComponent(id) + "/" + path, body).then(function (d) {
      if (d.conversation) { S.detail = d.conversation; renderHead(d.conversation); renderSummary(d.conversation); }
      if (d.message) addMessage(d.message);
      if (d.note) addNote(d.note);
      refreshLists();
      return d;
    }).catch(function (e) {
      $("action-error").textContent = e.message; $("action-error").hidden = false;
      if (e.status === 409) open(id);
      if (e.status === 401) sessionEnded();
      throw e;
    });
  }
  $("btn-claim").addEventListener("click", function () { act("claim").catch(function () {}); });
  $("btn-handback").addEventListener("click", function () { act("handback").catch(function () {}); });
  $("btn-close").addEventListener("click", function () {
    var mine = S.detail && S.detail.state === "agent" && S.detail.assigned_agent === S.me.username;
    $("closing-line").hidden = !mine;  // only the agent who has the chat speaks to the buyer
    $("close-confirm").hidden = false;
    if (mine) $("closing-line").focus();
  });
  $("btn-close-cancel").addEventListener("click", function () { $("close-confirm").hidden = true; });
  $("close-confirm").addEventListener("submit", function (e) {
    e.preventDefault();
    var line = $("closing-line").hidden ? "" : $("closing-line").value.trim();
    act("close", line ? { closing_line: line } : undefined).then(function () {
      $("close-confirm").hidden = true; $("closing-line").value = "";
    }).catch(function () {});
  });
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text) return;
    act(S.mode === "note" ? "notes" : "messages", { text: text }).then(function () { $("reply").value = ""; $("reply").focus(); }).catch(function () {});
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
    var again = S.wasLive;  // a reconnection: what arrived meanwhile is only in the history
    ws.onopen = function () {
      S.retry = 0; S.wasLive = true; $("live-dot").classList.add("on");
      ping = setInterval(function () { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 20000);
      ws.send('{"type":"ping"}');
      refreshLists();
      if (again && S.current) open(S.current);
    };
    ws.onmessage = function (ev) {
      var d; try { d = JSON.parse(ev.data); } catch (e) { return; }
      if (d.type === "message") {
        if (d.conversation_id === S.current) {
          addMessage(d.message); markRead();
          if (d.message.sender === "buyer") $("buyer-typing").hidden = true;
        }
        if (d.message.sender === "buyer" && ownedByMe(d.conversation_id) && (d.conversation_id !== S.current || document.hidden)) {
          if (d.conversation_id !== S.current) S.unread[d.conversation_id] = (S.unread[d.conversation_id] || 0) + 1;
          alertAgent("New message from a buyer: " + d.message.text.slice(0, 80));
        }
        scheduleRefresh();
      } else if (d.type === "read") {
        if (d.conversation_id === S.current && d.who === "buyer") { S.buyerRead = Math.max(S.buyerRead, d.last_read_id); renderSeen(); }
      } else if (d.type === "team") {
        loadTeam();
      } else if (d.type === "session_ended") {
        if (S.me && d.username === S.me.username) sessionEnded();
      } else if (d.type === "typing") {
        if (d.conversation_id === S.current && d.who === "buyer") showBuyerTyping();
      } else if (d.type === "note") {
        if (d.conversation_id === S.current) addNote(d.note);
      } else if (d.type === "transferred") {
        if (d.to === S.me.username) notify(d.by_name + " passed you a conversation", d.conversation_id);
        scheduleRefresh(); loadTeam();
      } else if (d.type === "resync") {  // the gateway's Redis was away: live updates may be missing
        refreshLists(); if (S.current) open(S.current);
      } else if (d.type === "conversation") {
        if (d.conversation.id === S.current) { S.detail = d.conversation; renderHead(d.conversation); renderSummary(d.conversation); }
        scheduleRefresh();
      }
    };
    ws.onclose = function (ev) {
      clearInterval(ping); $("live-dot").classList.remove("on");
      if (ev.code === 4401 && S.ws === ws) { sessionEnded(); return; }
      if (S.ws !== ws || !S.me) return;
      S.ws = null;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, S.retry++)));
    };
  }

  function startApp() {
    $("login-view").hidden = true; $("app-view").hidden = false;
    $("me-name").textContent = S.me.display_name;
    $("me-role").hidden = $("btn-team").hidden = $("link-analytics").hidden = S.me.role !== "supervisor";
    $("my-status").value = S.me.status || "available";
    loadTeam();
    refreshLists();
    checkBot();
    if (!S.ws) connect();
  }
  // ------------------------------------------------------------------ the team: who can take a chat
  function loadTeam() {
    if (!S.me) return;
    api("GET", "/console/api/agents").then(function (d) {
      S.team = d.agents;
      if (S.detail) fillTransfer(S.detail);
      if (!$("team").hidden) renderTeam();
    }).catch(function () {});
  }
  function fillTransfer(c) {
    var sel = $("transfer-to"), keep = sel.value;
    sel.textContent = "";
    var first = el("option", "", "Pass to a colleague…"); first.value = ""; sel.appendChild(first);
    S.team.filter(function (m) { return m.active && m.username !== c.assigned_agent && m.username !== S.me.username; })
      .forEach(function (m) {
        var o = el("option", "", m.display_name + (!m.online ? " (not signed in)" : m.status === "away" ? " (away)" : ""));
        o.value = m.username; o.disabled = !m.online || m.status === "away"; sel.appendChild(o);
      });
    if (S.me.role === "supervisor" && c.assigned_agent !== S.me.username) {
      var me = el("option", "", "Me (" + S.me.display_name + ")"); me.value = S.me.username; sel.appendChild(me);
    }
    sel.value = keep;
    if (sel.value !== keep) sel.value = "";
  }
  $("my-status").addEventListener("change", function () {
    var want = $("my-status").value;
    api("POST", "/console/api/me/status", { status: want }).then(function (d) { S.me.status = d.agent.status; })
      .catch(function (e) { $("my-status").value = S.me.status || "available"; if (e.status === 401) sessionEnded(); });
  });
  $("btn-transfer").addEventListener("click", function () {
    var to = $("transfer-to").value;
    if (!to) { $("action-error").textContent = "Choose who takes over first."; $("action-error").hidden = false; return; }
    act("transfer", { to: to }).catch(function () {});
  });
  $("btn-release").addEventListener("click", function () { act("release").catch(function () {}); });

  // ------------------------------------------------------------------ typing, both ways
  var buyerTypingTimer = null, lastTyping = 0;
  function showBuyerTyping() {
    $("buyer-typing").hidden = false;
    clearTimeout(buyerTypingTimer);
    buyerTypingTimer = setTimeout(function () { $("buyer-typing").hidden = true; }, 4000);
  }
  $("reply").addEventListener("input", function () {
    if (S.mode !== "reply" || !S.detail || S.detail.state !== "agent" || S.detail.assigned_agent !== S.me.username) return;
    if (!S.ws || S.ws.readyState !== 1 || Date.now() - lastTyping < 2000) return;
    lastTyping = Date.now();
    S.ws.send(JSON.stringify({ type: "typing", conversation_id: S.current }));
  });

  // ------------------------------------------------------------------ unread counts, sound, page title
  function ownedByMe(id) {
    return !!(S.lists && S.lists.mine.some(function (c) { return c.id === id; })) ||
      !!(S.detail && S.detail.id === id && S.detail.assigned_agent === S.me.username);
  }
  function updateTitle() {
    var unread = Object.keys(S.unread).reduce(function (n, k) { return n + S.unread[k]; }, 0);
    var n = (S.lists ? S.lists.queue.length : 0) + unread;
    document.title = (n ? "(" + n + ") " : "") + "Pay Later · Support console";
  }
  var audio = null;
  function beep() {
    if (!S.sound) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.08;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.18);
    } catch (e) { /* no audio here */ }
  }
  function alertAgent(text) {
    beep();
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      try { new Notification("Pay Later support", { body: text }); } catch (e) { /* not allowed here */ }
    }
    updateTitle();
  }
  $("btn-sound").addEventListener("click", function () {
    S.sound = !S.sound;
    $("btn-sound").textContent = S.sound ? "Sound on" : "Sound off";
    $("btn-sound").setAttribute("aria-pressed", String(S.sound));
  });

  // ------------------------------------------------------------------ notifications
  var toastTimer = null;
  function notify(text, convId) {
    var t = $("toast");
    t.textContent = text + (convId ? " — it is in \u201cMine\u201d." : "");
    t.hidden = false;
    clearTimeout(toastTimer); toastTimer = setTimeout(function () { t.hidden = true; }, 8000);
    alertAgent(text);
  }

  // ------------------------------------------------------------------ reply or private note
  function setMode(mode) {
    S.mode = mode;
    $("mode-reply").classList.toggle("on", mode === "reply"); $("mode-reply").setAttribute("aria-selected", String(mode === "reply"));
    $("mode-note").classList.toggle("on", mode === "note"); $("mode-note").setAttribute("aria-selected", String(mode === "note"));
    if (S.detail) renderHead(S.detail);
  }
  $("mode-reply").addEventListener("click", function () { setMode("reply"); });
  $("mode-note").addEventListener("click", function () { setMode("note"); $("reply").focus(); });

  // ------------------------------------------------------------------ canned replies (filled in for this buyer)
  var cannedTimer = null;
  function searchCanned() {
    var q = $("canned-q").value.trim();
    var path = "/console/api/canned-replies?q=" + encodeURIComponent(q) + (S.current ? "&conversation=" + encodeURIComponent(S.current) : "");
    api("GET", path).then(function (d) {
      var ul = $("canned-list");
      ul.textContent = "";
      if (!d.replies.length) ul.appendChild(el("li", "empty-item", "No canned reply matches."));
      d.replies.slice(0, 30).forEach(function (r) {
        var li = el("li"), b = el("button");
        b.type = "button"; b.setAttribute("data-shortcut", r.shortcut);
        b.appendChild(el("span", "c-src", r.source === "faq" ? "Bot's FAQ answer" : "/" + r.shortcut));
        b.appendChild(el("span", "c-title", r.title));
        b.appendChild(el("span", "c-text", r.rendered || r.text));
        b.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the list until the click
        b.addEventListener("click", function () {
          $("reply").value = r.rendered || r.text;
          ul.hidden = true; $("canned-q").value = "";
          if (r.missing && r.missing.length) {
            $("action-error").textContent = "Fill in: " + r.missing.map(function (m) { return m.replace(/_/g, " "); }).join(", ") + ".";
            $("action-error").hidden = false;
          }
          $("reply").focus();
        });
        li.appendChild(b); ul.appendChild(li);
      });
      ul.hidden = false;
    }).catch(function () {});
  }
  $("canned-q").addEventListener("input", function () { clearTimeout(cannedTimer); cannedTimer = setTimeout(searchCanned, 150); });
  $("canned-q").addEventListener("focus", searchCanned);
  $("canned-q").addEventListener("blur", function () { setTimeout(function () { $("canned-list").hidden = true; }, 150); });
  $("canned-q").addEventListener("keydown", function (e) { if (e.key === "Escape") { $("canned-list").hidden = true; } });

  // ------------------------------------------------------------------ supervisors: the team
  function teamCall(method, path, body) {
    $("team-error").hidden = true;
    return api(method, path, body).then(function () { loadTeam(); }).catch(function (e) {
      $("team-error").textContent = e.message; $("team-error").hidden = false;
    });
  }
  function renderTeam() {
    var tb = $("team-rows");
    tb.textContent = "";
    S.team.forEach(function (m) {
      var tr = el("tr"); tr.setAttribute("data-agent", m.username);
      var who = el("td"); who.appendChild(el("strong", "", m.display_name)); who.appendChild(el("div", "muted", m.username));
      var st = el("td", m.active ? (m.online ? "status-online" : "status-off") : "status-disabled",
                  m.active ? (m.online ? (m.status === "away" ? "Signed in · away" : "Signed in") : "Not signed in") : "Disabled");
      var roleTd = el("td"), role = el("select");
      [["agent", "Agent"], ["supervisor", "Supervisor"]].forEach(function (o) { var op = el("option", "", o[1]); op.value = o[0]; role.appendChild(op); });
      role.value = m.role; role.disabled = m.username === S.me.username; role.setAttribute("aria-label", "Role of " + m.username);
      role.addEventListener("change", function () { teamCall("PATCH", "/console/api/agents/" + encodeURIComponent(m.username), { role: role.value }); });
      roleTd.appendChild(role);
      var pwTd = el("td"), pw = el("input"), pwb = el("button", "secondary", "Reset");
      pw.type = "password"; pw.placeholder = "New password"; pw.autocomplete = "new-password"; pw.setAttribute("aria-label", "New password for " + m.username);
      pwb.type = "button";
      pwb.addEventListener("click", function () { teamCall("PATCH", "/console/api/agents/" + encodeURIComponent(m.username), { password: pw.value }); });
      pwTd.appendChild(pw); pwTd.appendChild(pwb);
      var actTd = el("td"), tog = el("button", m.active ? "danger" : "secondary", m.active ? "Disable" : "Enable");
      tog.type = "button"; tog.hidden = m.username === S.me.username;
      tog.addEventListener("click", function () { teamCall("PATCH", "/console/api/agents/" + encodeURIComponent(m.username), { active: !m.active }); });
      actTd.appendChild(tog);
      [who, st, roleTd, pwTd, actTd].forEach(function (td) { tr.appendChild(td); });
      tb.appendChild(tr);
    });
  }
  function loadCannedAdmin() {
    api("GET", "/console/api/canned-replies").then(function (d) {
      var tb = $("canned-rows");
      tb.textContent = "";
      var mine = d.replies.filter(function (r) { return r.source === "team"; });
      if (!mine.length) { var tr0 = el("tr"), td0 = el("td", "muted", "No canned replies yet."); td0.colSpan = 4; tr0.appendChild(td0); tb.appendChild(tr0); }
      mine.forEach(function (r) {
        var tr = el("tr"); tr.setAttribute("data-canned", r.shortcut);
        tr.appendChild(el("td", "", "/" + r.shortcut)); tr.appendChild(el("td", "", r.title)); tr.appendChild(el("td", "", r.text));
        var td = el("td"), edit = el("button", "secondary", "Edit"), del = el("button", "danger", "Delete");
        edit.type = del.type = "button";
        edit.addEventListener("click", function () {
          $("canned-id").value = r.id; $("canned-shortcut").value = r.shortcut; $("canned-title").value = r.title; $("canned-text").value = r.text;
          $("canned-form-title").textContent = "Edit /" + r.shortcut; $("canned-cancel").hidden = false;
        });
        del.addEventListener("click", function () {
          if (!window.confirm("Delete the canned reply /" + r.shortcut + "?")) return;
          teamCall("DELETE", "/console/api/canned-replies/" + encodeURIComponent(r.id)).then(loadCannedAdmin);
        });
        td.appendChild(edit); td.appendChild(del); tr.appendChild(td); tb.appendChild(tr);
      });
    }).catch(function () {});
  }
  function resetCannedForm() {
    $("canned-form").reset(); $("canned-id").value = ""; $("canned-form-title").textContent = "New canned reply"; $("canned-cancel").hidden = true;
  }
  $("canned-cancel").addEventListener("click", resetCannedForm);
  $("canned-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = $("canned-id").value;
    var body = { shortcut: $("canned-shortcut").value.trim().toLowerCase(), title: $("canned-title").value.trim(), text: $("canned-text").value.trim() };
    teamCall(id ? "PUT" : "POST", "/console/api/canned-replies" + (id ? "/" + encodeURIComponent(id) : ""), body).then(function () {
      if ($("team-error").hidden) { resetCannedForm(); loadCannedAdmin(); }
    });
  });
  $("btn-team").addEventListener("click", function () {
    $("empty").hidden = true; $("detail").hidden = true; $("team").hidden = false; $("summary").hidden = true;
    $("team").scrollTop = 0;
    renderTeam(); loadTeam(); loadCannedAdmin();
  });
  $("team-close").addEventListener("click", function () {
    $("team").hidden = true;
    if (S.current) { $("detail").hidden = false; $("summary").hidden = false; } else { $("empty").hidden = false; }
  });
  $("team-add").addEventListener("submit", function (e) {
    e.preventDefault();
    teamCall("POST", "/console/api/agents", { username: $("new-username").value.trim(), display_name: $("new-name").value.trim(),
                                              password: $("new-password").value, role: $("new-role").value })
      .then(function () { if ($("team-error").hidden) { $("team-add").reset(); } });
  });

  setInterval(function () { if (S.me) { refreshLists(); loadTeam(); } }, 15000); // wait times tick, who is online


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
