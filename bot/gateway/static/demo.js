/* Demo page: signs in as a demo buyer by asking the gateway (demo mode only) for a token. */
(function () {
  "use strict";
  var select = document.getElementById("buyer"), who = document.getElementById("who");
  var KEY = "paylater.demo.buyer";

  function mint(buyerId) {
    return fetch("/demo/api/token", { method: "POST", headers: { "Content-Type": "application/json" },
                                      body: JSON.stringify({ buyer_id: buyerId }) })
      .then(function (r) { if (!r.ok) throw new Error("sign-in failed"); return r.json(); });
  }
  function signIn(buyerId) {
    try { localStorage.setItem(KEY, buyerId); } catch (e) { /* ignore */ }
    if (!buyerId) { who.textContent = "Browsing anonymously"; window.PayLaterChat.setToken(null); return; }
    mint(buyerId).then(function (d) {
      who.textContent = "Signed in: " + d.business_name;
      window.PayLaterChat.setToken(d.token);
    }).catch(function () { who.textContent = "Could not sign in"; window.PayLaterChat.setToken(null); });
  }
  fetch("/demo/api/buyers").then(function (r) { return r.json(); }).then(function (d) {
    d.buyers.forEach(function (b) {
      var o = document.createElement("option");
      o.value = b.buyer_id;
      o.textContent = b.buyer_id + " · " + b.business_name;
      select.appendChild(o);
    });
    var saved = null;
    try { saved = localStorage.getItem(KEY); } catch (e) { /* ignore */ }
    select.value = saved || "";
    signIn(select.value);
  });
  select.addEventListener("change", function () { signIn(select.value); });
  // the widget asks for a fresh token when the old one expired
  window.addEventListener("paylater:auth-required", function () { signIn(select.value); });
})();
