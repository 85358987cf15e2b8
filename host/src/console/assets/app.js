// The Cove merchant console: sign-in, the frame (navigation, language,
// sign-out) and a router over the pages. A page is one module exporting
// { id, texts, render(main) }, served beside this file; the features
// register their pages with the host, which lists them on this script's
// tag (data-pages).
import { h, t, api, session, addTexts, initLang, setLang, lang, failure, whenSignedOut, can, field } from "./ui.js";
// The pages, in the order the host lists them (each feature registers
// its own); the overview, the home page, comes first.
const files = (document.querySelector("script[data-pages]")?.dataset.pages || "").split(" ").filter(Boolean);
const loaded = (await Promise.all(files.map((f) => import("./" + f)))).map((m) => m.default);
const overview = loaded.find((p) => p.id == "overview");
const PAGES = [overview, ...loaded.filter((p) => p != overview)];

addTexts({
  en: {
    product: "Cove", console: "Merchant console", "signin.title": "Sign in to Cove",
    "signin.email": "E-mail address", "signin.password": "Password", "signin.shop": "Shop", "signin.code": "Code from your authenticator app",
    "signin.withkey": "First setup: sign in with an API key", "signin.key": "API key", "signin.hint": "The key Cove gave you when your shop was created (it starts with ck_). Then invite yourself on the Team page.",
    "signin.go": "Sign in", "signin.bad": "Not signed in:", signout: "Sign out", language: "Language",
    nav: "Pages", skip: "Skip to content", "signed.as": "Shop: {merchant}", "signed.who": "{who} · {merchant}",
    "invite.title": "Join {merchant} on Cove", "invite.as": "You are invited as {role}, with the address {email}.",
    "invite.new": "Choose a password (at least 10 characters, not a common one)", "invite.existing": "Your Cove password",
    "invite.totp": "One-time codes", "invite.totp.required": "Owners of this Cove must use an authenticator app. Add this secret to it and enter the code it shows.",
    "invite.totp.optional": "Optional: add this secret to an authenticator app and enter the code it shows, to sign in with a code as well.",
    "invite.secret": "Secret", "invite.go": "Join", "invite.bad": "That did not work:",
    readonly: "Your role lets you see this page but not change it.",
    "role.owner": "owner", "role.editor": "editor", "role.analyst": "analyst", "role.support": "support",
  },
  zh: {
    product: "Cove", console: "商家控制台", "signin.title": "登录 Cove",
    "signin.email": "电子邮件地址", "signin.password": "密码", "signin.shop": "店铺", "signin.code": "身份验证器应用中的验证码",
    "signin.withkey": "首次设置：用 API 密钥登录", "signin.key": "API 密钥", "signin.hint": "创建店铺时 Cove 提供的密钥（以 ck_ 开头）。然后在“团队”页面邀请自己。",
    "signin.go": "登录", "signin.bad": "未能登录：", signout: "退出登录", language: "语言",
    nav: "页面", skip: "跳到正文", "signed.as": "店铺：{merchant}", "signed.who": "{who} · {merchant}",
    "invite.title": "加入 Cove 上的 {merchant}", "invite.as": "您受邀成为{role}，地址为 {email}。",
    "invite.new": "设置密码（至少 10 个字符，不能是常见密码）", "invite.existing": "您的 Cove 密码",
    "invite.totp": "一次性验证码", "invite.totp.required": "此 Cove 的所有者必须使用身份验证器应用。请将此密钥添加到应用中，并输入它显示的验证码。",
    "invite.totp.optional": "可选：将此密钥添加到身份验证器应用并输入它显示的验证码，以后登录时还需输入验证码。",
    "invite.secret": "密钥", "invite.go": "加入", "invite.bad": "操作失败：",
    readonly: "您的角色可以查看此页面，但不能修改。",
    "role.owner": "所有者", "role.editor": "编辑", "role.analyst": "分析师", "role.support": "客服",
  },
});
PAGES.forEach((p) => addTexts(p.texts));

const app = document.getElementById("app");

const enter = (s) => {
  Object.assign(session, s);
  if (!location.hash || location.hash.startsWith("#invite=")) location.hash = "#/" + (visible()[0] || overview).id;
  frame();
};

const signIn = (problem) => {
  session.merchant = "";
  const email = h("input", { type: "email", id: "email", autocomplete: "username", required: true, spellcheck: false });
  const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true });
  const code = h("input", { type: "text", id: "code", inputMode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxLength: 6 });
  const codeField = field(t("signin.code"), code);
  codeField.hidden = true;
  // A member of several shops picks one.
  const shop = h("select", { id: "shop" });
  const shopField = field(t("signin.shop"), shop);
  shopField.hidden = true;
  const key = h("input", { type: "password", id: "key", autocomplete: "off", spellcheck: false });
  const error = h("p", { role: "alert", className: "error" }, problem || "");
  const submit = async (body, focus) => {
    error.textContent = "";
    try {
      enter(await api("/console/session", { method: "POST", body }));
    } catch (err) {
      if (err.code == "totp_needed") {
        codeField.hidden = false;
        code.required = true;
        code.focus();
      } else if (err.code == "choose_merchant") {
        shop.replaceChildren(...(err.body.merchants || []).map((m) => h("option", { value: m }, m)));
        shopField.hidden = false;
        shop.focus();
      } else focus.focus();
      error.textContent = t("signin.bad") + " " + err.message;
    }
  };
  const form = h("form", { className: "signin", onsubmit: (e) => {
    e.preventDefault();
    submit({ email: email.value, password: password.value, code: code.value || null, merchant: shopField.hidden ? null : shop.value }, password);
  } },
  h("h1", null, t("signin.title")),
  field(t("signin.email"), email), field(t("signin.password"), password), codeField, shopField,
  error,
  h("button", { type: "submit", className: "primary" }, t("signin.go")),
  languagePicker());
  const withKey = h("details", { className: "withkey" }, h("summary", null, t("signin.withkey")),
    h("form", { onsubmit: (e) => { e.preventDefault(); submit({ key: key.value }, key); } },
      field(t("signin.key"), key, t("signin.hint")),
      h("button", { type: "submit" }, t("signin.go"))));
  app.replaceChildren(h("main", { id: "main" }, form, withKey));
  document.title = t("signin.title");
  email.focus();
};

// An invitation link (`/console#invite=TOKEN`): join the shop.
const join = async (token) => {
  let inv;
  try {
    inv = await api("/console/invitations/" + encodeURIComponent(token));
  } catch (err) {
    return signIn(t("invite.bad") + " " + err.message);
  }
  const password = h("input", { type: "password", id: "password", autocomplete: inv.account ? "current-password" : "new-password", required: true, minLength: inv.account ? 1 : 10 });
  const code = h("input", { type: "text", id: "code", inputMode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxLength: 6, required: inv.totp_required });
  const error = h("p", { role: "alert", className: "error" });
  const totp = inv.totp ? h("fieldset", null, h("legend", null, t("invite.totp")),
    h("p", null, t(inv.totp_required ? "invite.totp.required" : "invite.totp.optional")),
    h("p", null, t("invite.secret") + ": ", h("code", { "data-totp-secret": "" }, inv.totp.secret)),
    field(t("signin.code"), code)) : null;
  const form = h("form", { className: "signin", onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = { password: password.value };
    if (inv.totp && code.value) Object.assign(body, { totp_secret: inv.totp.secret, totp_code: code.value });
    try {
      const s = await api("/console/invitations/" + encodeURIComponent(token), { method: "POST", body });
      history.replaceState(null, "", location.pathname);
      location.hash = "";
      enter(s);
    } catch (err) {
      error.textContent = t("invite.bad") + " " + err.message;
      password.focus();
    }
  } },
  h("h1", null, t("invite.title", { merchant: inv.merchant })),
  h("p", null, t("invite.as", { role: t("role." + inv.role), email: inv.email })),
  field(t(inv.account ? "invite.existing" : "invite.new"), password),
  totp, error,
  h("button", { type: "submit", className: "primary" }, t("invite.go")),
  languagePicker());
  app.replaceChildren(h("main", { id: "main" }, form));
  document.title = t("invite.title", { merchant: inv.merchant });
  password.focus();
};

// The pages this session may see (a page names the scopes that may read
// it in `needs`; by default `read`).
const visible = () => PAGES.filter((p) => can(p.needs || ["read"]));

function languagePicker() {
  const select = h("select", { id: "lang", onchange: () => { setLang(select.value); session.merchant ? frame() : signIn(); } },
    h("option", { value: "en", selected: lang == "en" }, "English"),
    h("option", { value: "zh", selected: lang == "zh" }, "中文"));
  return h("div", { className: "lang" }, h("label", { htmlFor: "lang" }, t("language")), select);
}

let main;
const frame = () => {
  main = h("main", { id: "main", tabIndex: -1 });
  const links = visible().map((p) => h("li", null, h("a", { href: "#/" + p.id, "data-page": p.id }, t(p.id + ".nav"))));
  app.replaceChildren(
    h("a", { className: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); } }, t("skip")),
    h("header", { className: "top" },
      h("p", { className: "brand" }, h("strong", null, t("product")), " ", t("console")),
      h("nav", { "aria-label": t("nav") }, h("ul", null, links)),
      h("div", { className: "who" }, h("span", { "data-who": "" }, session.member ? t("signed.who", { who: session.member, merchant: session.merchant }) : t("signed.as", { merchant: session.merchant })), languagePicker(),
        h("button", { type: "button", onclick: async () => { await api("/console/session", { method: "DELETE" }).catch(() => {}); signIn(); } }, t("signout")))),
    main);
  route();
};

const route = async () => {
  if (!session.merchant || !main) return;
  const id = (location.hash.match(/^#\/([\w-]+)/) || [])[1] || "overview";
  const page = visible().find((p) => p.id == id) || visible()[0] || overview;
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
    // What the role may not change is not offered (the API refuses it
    // anyway): a page names the scopes that may change it in `writes`.
    if (!can(page.writes || ["write"])) {
      for (const el of body.querySelectorAll("form:not([data-read]), .actions button, button.danger")) if (!el.closest("form[data-read]")) el.hidden = true;
      body.prepend(h("p", { className: "note", "data-readonly": "" }, t("readonly")));
    }
  } catch (e) {
    body.append(failure(e));
  }
  body.removeAttribute("aria-busy");
  main.dataset.ready = page.id;
};
window.addEventListener("hashchange", route);
whenSignedOut(() => signIn());

initLang();
const invite = location.hash.match(/^#invite=([\w-]+)/);
if (invite) join(invite[1]);
else api("/console/session").then((s) => { Object.assign(session, s); frame(); }).catch(() => signIn());
