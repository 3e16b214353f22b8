/* Pay Later chat widget loader. Embed with ONE tag:
 *   <script src="https://chat.example.com/widget.js" data-client="web" async></script>
 * Optional attributes:
 *   data-token="<buyer JWT>"   the signed-in buyer (or call PayLaterChat.setToken(jwt) later)
 *   data-wait-for-token        do not start until PayLaterChat.setToken(jwt | null) is called
 *   data-open                  open the chat at load
 *   data-title="Pay Later help"
 * Events on window: "paylater:auth-required" (the token expired: call setToken with a new one).
 * The chat UI lives in an iframe served by the gateway, so the host page's CSS/JS cannot touch
 * it and it cannot touch the host page. */
(function () {
  "use strict";
  if (window.PayLaterChat && window.PayLaterChat.__loaded) return;
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    return all[all.length - 1];
  })();
  var origin = new URL(script.src, location.href).origin;
  var client = script.getAttribute("data-client") === "app" ? "app" : "web";
  var title = script.getAttribute("data-title") || "Pay Later help";
  var waitForToken = script.hasAttribute("data-wait-for-token");
  var token = script.getAttribute("data-token") || null;
  var tokenKnown = !waitForToken;
  var frameReady = false;
  var isOpen = false;

  var host = document.createElement("div");
  host.setAttribute("data-paylater-chat", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/static/widget-host.css";
  root.appendChild(css);

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "pl-launcher";
  launcher.setAttribute("aria-label", "Open chat: " + title);
  var icon = document.createElement("span");
  icon.className = "pl-launcher-icon";
  icon.setAttribute("aria-hidden", "true");
  var label = document.createElement("span");
  label.className = "pl-launcher-label";
  label.textContent = "Chat with us";
  var badge = document.createElement("span");
  badge.className = "pl-badge";
  badge.hidden = true;
  launcher.appendChild(icon);
  launcher.appendChild(label);
  launcher.appendChild(badge);

  var panel = document.createElement("div");
  panel.className = "pl-panel";
  panel.hidden = true;
  var frame = document.createElement("iframe");
  frame.title = title;
  frame.className = "pl-frame";
  frame.setAttribute("allow", "clipboard-write");
  frame.src = origin + "/widget/frame?client=" + client + "&title=" + encodeURIComponent(title);
  panel.appendChild(frame);
  root.appendChild(panel);
  root.appendChild(launcher);

  function post(msg) {
    if (frameReady && frame.contentWindow) frame.contentWindow.postMessage(msg, origin);
  }
  function sendInit() {
    if (frameReady && tokenKnown) post({ type: "paylater:init", token: token, client: client, open: isOpen });
  }
  function open() {
    isOpen = true;
    panel.hidden = false;
    host.classList.add("pl-open");
    launcher.classList.add("pl-hidden-mobile");
    launcher.setAttribute("aria-expanded", "true");
    badge.hidden = true;
    post({ type: "paylater:opened" });
  }
  function close() {
    isOpen = false;
    panel.hidden = true;
    host.classList.remove("pl-open");
    launcher.classList.remove("pl-hidden-mobile");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
    post({ type: "paylater:closed" });  // replies from now on count as unread (the badge)
  }
  launcher.addEventListener("click", function () { isOpen ? close() : open(); });

  window.addEventListener("message", function (ev) {
    if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
    var d = ev.data || {};
    if (d.type === "paylater:ready") { frameReady = true; sendInit(); }
    else if (d.type === "paylater:close") close();
    else if (d.type === "paylater:wide") panel.classList.add("pl-wide"); // a table: room for its columns
    else if (d.type === "paylater:auth-required") window.dispatchEvent(new CustomEvent("paylater:auth-required"));
    else if (d.type === "paylater:unread" && !isOpen) {
      badge.textContent = String(d.count > 9 ? "9+" : d.count);
      badge.hidden = !d.count;
    }
  });

  function mount() {
    document.body.appendChild(host);
    if (script.hasAttribute("data-open")) open();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.PayLaterChat = {
    __loaded: true,
    open: open,
    close: close,
    setToken: function (jwt) {
      token = jwt || null;
      tokenKnown = true;
      if (frameReady) post({ type: "paylater:init", token: token, client: client, open: isOpen });
    }
  };
})();
