// The Cove merchant console: sign-in, the frame (navigation, language,
// sign-out) and a router over the pages. A page is one module exporting
// { id, texts, render(main) }, served beside this file; the features
// register their pages with the host, which lists them on this script's
// tag (data-pages).
import { h, t, api, session, addTexts, initLang, setLang, lang, failure, whenSignedOut } from "./ui.js";
// The pages, in the order the host lists them (each feature registers
// its own); the overview, the home page, comes first.
const files = (document.querySelector("script[data-pages]")?.dataset.pages || "").split(" ").filter(Boolean);
const loaded = (await Promise.all(files.map((f) => import("./" + f)))).map((m) => m.default);
const overview = loaded.find((p) => p.id == "overview");
const PAGES = [overview, ...loaded.filter((p) => p != overview)];

addTexts({
  en: {
    product: "Cove", console: "Merchant console", "signin.title": "Sign in to Cove",
    "signin.key": "API key", "signin.hint": "The key Cove gave you when your shop was created (it starts with ck_).",
    "signin.go": "Sign in", "signin.bad": "That key was not accepted:", signout: "Sign out", language: "Language",
    nav: "Pages", skip: "Skip to content", "signed.as": "Shop: {merchant}",
  },
  zh: {
    product: "Cove", console: "商家控制台", "signin.title": "登录 Cove",
    "signin.key": "API 密钥", "signin.hint": "创建店铺时 Cove 提供的密钥（以 ck_ 开头）。",
    "signin.go": "登录", "signin.bad": "该密钥未被接受：", signout: "退出登录", language: "语言",
    nav: "页面", skip: "跳到正文", "signed.as": "店铺：{merchant}",
  },
});
PAGES.forEach((p) => addTexts(p.texts));

const app = document.getElementById("app");

const signIn = (problem) => {
  session.merchant = "";
  const key = h("input", { type: "password", id: "key", autocomplete: "current-password", required: true, spellcheck: false });
  const error = h("p", { role: "alert", className: "error" }, problem || "");
  const form = h("form", { className: "signin", onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      Object.assign(session, await api("/console/session", { method: "POST", body: { key: key.value } }));
      location.hash = location.hash || "#/overview";
      frame();
    } catch (err) {
      error.textContent = t("signin.bad") + " " + err.message;
      key.focus();
    }
  } },
  h("h1", null, t("signin.title")),
  h("div", { className: "field" }, h("label", { htmlFor: "key" }, t("signin.key")), key, h("p", { className: "hint", id: "key-hint" }, t("signin.hint"))),
  error,
  h("button", { type: "submit", className: "primary" }, t("signin.go")),
  languagePicker());
  key.setAttribute("aria-describedby", "key-hint");
  app.replaceChildren(h("main", { id: "main" }, form));
  document.title = t("signin.title");
  key.focus();
};

function languagePicker() {
  const select = h("select", { id: "lang", onchange: () => { setLang(select.value); session.merchant ? frame() : signIn(); } },
    h("option", { value: "en", selected: lang == "en" }, "English"),
    h("option", { value: "zh", selected: lang == "zh" }, "中文"));
  return h("div", { className: "lang" }, h("label", { htmlFor: "lang" }, t("language")), select);
}

let main;
const frame = () => {
  main = h("main", { id: "main", tabIndex: -1 });
  const links = PAGES.map((p) => h("li", null, h("a", { href: "#/" + p.id, "data-page": p.id }, t(p.id + ".nav"))));
  app.replaceChildren(
    h("a", { className: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); } }, t("skip")),
    h("header", { className: "top" },
      h("p", { className: "brand" }, h("strong", null, t("product")), " ", t("console")),
      h("nav", { "aria-label": t("nav") }, h("ul", null, links)),
      h("div", { className: "who" }, h("span", null, t("signed.as", { merchant: session.merchant })), languagePicker(),
        h("button", { type: "button", onclick: async () => { await api("/console/session", { method: "DELETE" }).catch(() => {}); signIn(); } }, t("signout")))),
    main);
  route();
};

const route = async () => {
  if (!session.merchant || !main) return;
  const id = (location.hash.match(/^#\/([\w-]+)/) || [])[1] || "overview";
  const page = PAGES.find((p) => p.id == id) || overview;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page == page.id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = t(page.id + ".title") + " · " + t("product");
  const heading = h("h1", { tabIndex: -1 }, t(page.id + ".title"));
  const body = h("div", { className: "page", "aria-busy": "true" });
  main.replaceChildren(heading, body);
  main.dataset.page = page.id;
  try {
    await page.render(body, location.hash);
  } catch (e) {
    body.append(failure(e));
  }
  body.removeAttribute("aria-busy");
  main.dataset.ready = page.id;
};
window.addEventListener("hashchange", route);
whenSignedOut(() => signIn());

initLang();
api("/console/session").then((s) => { Object.assign(session, s); frame(); }).catch(() => signIn());
