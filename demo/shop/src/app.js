// Storefront bundle: cart in localStorage, checkout and chat through the shop's JSON API.
(function () {
  "use strict";
  var CART_KEY = "shop.cart";

  function cart() {
    try { return JSON.parse(window.localStorage.getItem(CART_KEY)) || []; } catch (e) { return []; }
  }

  function saveCart(items) {
    window.localStorage.setItem(CART_KEY, JSON.stringify(items));
    var count = document.getElementById("cart-count");
    if (count) { count.textContent = String(items.reduce(function (n, i) { return n + i.qty; }, 0)); }
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }

  function show(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add]");
    if (add) {
      var items = cart();
      var sku = add.getAttribute("data-add");
      var line = items.find(function (i) { return i.sku === sku; });
      if (line) { line.qty += 1; } else { items.push({ sku: sku, qty: 1 }); }
      saveCart(items);
    }
    if (ev.target.id === "checkout") {
      post("/api/checkout", { items: cart() }).then(function (res) {
        if (res.status === 201) { saveCart([]); show("status", "Order " + res.data.order_id + " placed."); }
        else { show("status", res.data.error || "Checkout failed."); }
      });
    }
  });

  var chat = document.getElementById("chat");
  if (chat) {
    chat.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = chat.querySelector("input");
      post("/api/chat", { message: input.value }).then(function (res) {
        show("chat-reply", res.data.reply || res.data.error);
      });
    });
  }
  saveCart(cart());
})();
