// The storefront's own script: a cart counter and a language switch.
window.shopCart = 0;
document.addEventListener("DOMContentLoaded", () => {
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang) document.documentElement.lang = lang;
  for (const b of document.querySelectorAll(".buy")) {
    b.addEventListener("click", () => {
      window.shopCart += 1;
      document.getElementById("cart").textContent = String(window.shopCart);
    });
  }
});
