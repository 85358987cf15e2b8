// The storefront's own script: a cart counter, a language switch, and the
// offer banner an experiment decides.
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

// An experiment: which offer the banner shows. `Cove.variant` comes with
// the widget's tag (which may load before or after this script).
const showOffer = () =>
  window.Cove.variant("offer-banner").then((text) => {
    const offer = document.getElementById("offer");
    if (text && offer) {
      offer.textContent = text;
      offer.hidden = false;
    }
  });
if (window.Cove && window.Cove.variant) showOffer();
else addEventListener("cove:ready", showOffer, { once: true });
