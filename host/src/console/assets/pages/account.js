// Your account: who you are signed in as, your role, and one-time codes
// from an authenticator app (RFC 6238) to sign in with besides the
// password.
import { h, t, api, field, saver, session } from "./ui.js";

const ALL = ["read", "write", "import", "policies", "keys", "members", "support"];

export default {
  id: "account",
  needs: ALL,
  writes: ALL,
  texts: {
    en: {
      "account.nav": "Your account", "account.title": "Your account", "account.who": "Signed in as {who}.",
      "account.key": "You signed in with an API key: invite yourself on the Team page to sign in with e-mail and password.",
      "account.totp": "One-time codes", "account.totp.hint": "Add this secret to an authenticator app, then enter the 6-digit code it shows.",
      "account.totp.new": "Set up an authenticator app", "account.totp.on": "Turn codes on", "account.totp.off": "Turn codes off",
      "account.totp.done": "Codes are on: you will be asked for one when you sign in.", "account.totp.gone": "Codes are off.",
      "account.code": "Current code",
    },
    zh: {
      "account.nav": "我的账户", "account.title": "我的账户", "account.who": "当前登录：{who}。",
      "account.key": "您是用 API 密钥登录的：请在“团队”页面邀请自己，以后用电子邮件和密码登录。",
      "account.totp": "一次性验证码", "account.totp.hint": "将此密钥添加到身份验证器应用，然后输入它显示的 6 位验证码。",
      "account.totp.new": "设置身份验证器应用", "account.totp.on": "启用验证码", "account.totp.off": "停用验证码",
      "account.totp.done": "验证码已启用：登录时需要输入。", "account.totp.gone": "验证码已停用。",
      "account.code": "当前验证码",
    },
  },
  async render(main) {
    main.append(h("p", null, t("account.who", { who: session.actor })));
    if (!session.member) return main.append(h("p", null, t("account.key")));
    const out = h("div", { "aria-live": "polite" });
    const start = h("button", { type: "button", "data-totp-start": "" }, t("account.totp.new"));
    start.onclick = async () => {
      const offer = await api("/console/totp");
      const code = h("input", { type: "text", inputMode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxLength: 6, required: true, "data-totp-code": "" });
      const s = saver(t("account.totp.on"), async () => {
        await api("/console/totp", { method: "PUT", body: { secret: offer.secret, code: code.value } });
        out.replaceChildren(h("p", { "data-totp-on": "" }, t("account.totp.done")));
      });
      out.replaceChildren(h("form", { onsubmit: s.run },
        h("p", null, t("account.totp.hint")), h("p", null, h("code", { "data-totp-secret": "" }, offer.secret)),
        field(t("account.code"), code), h("div", { className: "actions" }, s.button, s.status)));
    };
    const offCode = h("input", { type: "text", inputMode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxLength: 6, required: true });
    const off = saver(t("account.totp.off"), async () => {
      await api("/console/totp", { method: "DELETE", body: { code: offCode.value } });
      out.replaceChildren(h("p", null, t("account.totp.gone")));
    });
    main.append(h("section", null, h("h2", null, t("account.totp")), start, out,
      h("form", { onsubmit: off.run }, field(t("account.code"), offCode), h("div", { className: "actions" }, off.button, off.status))));
  },
};
