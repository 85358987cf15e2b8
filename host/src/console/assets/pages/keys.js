// API keys: the merchant's keys with what each may do, when it was last
// used and from where; a new key is shown once; rolling gives a new key
// and lets the old one live a little; revoking stops a key everywhere.
import { h, t, api, when, table, field, saver } from "./ui.js";

const SCOPES = ["read", "write", "import", "policies", "keys", "members", "support"];

export default {
  id: "keys",
  needs: ["keys"],
  writes: ["keys"],
  texts: {
    en: {
      "keys.nav": "API keys", "keys.title": "API keys", "keys.list": "Keys",
      "keys.name": "Name", "keys.prefix": "Starts with", "keys.scopes": "May", "keys.created": "Created", "keys.used": "Last used",
      "keys.state": "State", "keys.live": "Works", "keys.until": "Works until {d}", "keys.revoked": "Revoked {d}", "keys.expired": "Expired {d}", "keys.never": "never",
      "keys.new": "New key", "keys.new.name": "Name", "keys.new.name.hint": "Where it is used, e.g. “warehouse import” or “BI dashboard”.",
      "keys.new.scopes": "What it may do", "keys.new.expires": "Stops working on (optional)", "keys.create": "Create key",
      "keys.secret": "Copy this key now: it is shown only once.", "keys.roll": "Roll", "keys.roll.confirm": "Make a new key for “{name}”? The old one keeps working for 24 hours.",
      "keys.revoke": "Revoke", "keys.revoke.confirm": "Revoke “{name}”? Anything using it stops working within a second.",
      "scope.read": "read everything", "scope.write": "change content and settings", "scope.import": "import files and events",
      "scope.policies": "configure and run policies", "scope.keys": "manage keys",
      "scope.members": "manage the team", "scope.support": "customer service (customers, returns, surveys)",
    },
    zh: {
      "keys.nav": "API 密钥", "keys.title": "API 密钥", "keys.list": "密钥",
      "keys.name": "名称", "keys.prefix": "开头", "keys.scopes": "权限", "keys.created": "创建时间", "keys.used": "最近使用",
      "keys.state": "状态", "keys.live": "有效", "keys.until": "有效至 {d}", "keys.revoked": "已吊销 {d}", "keys.expired": "已过期 {d}", "keys.never": "从未",
      "keys.new": "新建密钥", "keys.new.name": "名称", "keys.new.name.hint": "用在哪里，例如“仓库导入”或“BI 看板”。",
      "keys.new.scopes": "可以做什么", "keys.new.expires": "失效日期（可选）", "keys.create": "创建密钥",
      "keys.secret": "请立即复制此密钥：它只显示这一次。", "keys.roll": "轮换", "keys.roll.confirm": "为“{name}”生成新密钥？旧密钥在 24 小时内仍然有效。",
      "keys.revoke": "吊销", "keys.revoke.confirm": "吊销“{name}”？使用它的系统将在一秒内停止工作。",
      "scope.read": "读取全部", "scope.write": "修改内容和设置", "scope.import": "导入文件和事件",
      "scope.policies": "配置和运行策略", "scope.keys": "管理密钥",
      "scope.members": "管理团队", "scope.support": "客服（顾客、退货、问卷）",
    },
  },
  async render(main) {
    const { keys } = await api("keys");
    const shown = h("div", { "aria-live": "polite", "data-new-key": "" });
    const reload = async (secret) => {
      main.replaceChildren();
      await this.render(main);
      if (secret) main.querySelector("[data-new-key]").replaceChildren(h("p", null, t("keys.secret")), h("pre", { tabIndex: 0, "data-secret": "" }, secret));
    };
    const now = Date.now();
    const state = (k) => (k.revoked_at ? t("keys.revoked", { d: when(k.revoked_at) })
      : k.expires_at && k.expires_at <= now ? t("keys.expired", { d: when(k.expires_at) })
      : k.expires_at ? t("keys.until", { d: when(k.expires_at) }) : t("keys.live"));
    const live = (k) => !k.revoked_at && !(k.expires_at && k.expires_at <= now);
    const list = table(t("keys.list"), [
      { label: t("keys.name"), value: (k) => k.name },
      { label: t("keys.prefix"), value: (k) => k.prefix + "…" },
      { label: t("keys.scopes"), value: (k) => k.scopes.map((s) => t("scope." + s)).join(", ") },
      { label: t("keys.created"), value: (k) => when(k.created_at) },
      { label: t("keys.used"), value: (k) => (k.last_used_at ? when(k.last_used_at) + (k.last_used_ip ? " · " + k.last_used_ip : "") : t("keys.never")) },
      { label: t("keys.state"), value: (k) => h("span", { "data-state": k.id }, state(k)) },
      { label: "", value: (k) => (live(k) ? h("span", { className: "actions" },
        h("button", { type: "button", "aria-label": t("keys.roll") + " " + k.name, onclick: async () => {
          if (!confirm(t("keys.roll.confirm", { name: k.name }))) return;
          const made = await api("keys/" + encodeURIComponent(k.id) + "/roll", { method: "POST", body: { grace_hours: 24 } });
          await reload(made.key);
        } }, t("keys.roll")),
        h("button", { type: "button", className: "danger", "aria-label": t("keys.revoke") + " " + k.name, "data-revoke": k.name, onclick: async () => {
          if (!confirm(t("keys.revoke.confirm", { name: k.name }))) return;
          await api("keys/" + encodeURIComponent(k.id), { method: "DELETE" });
          await reload();
        } }, t("keys.revoke"))) : "") },
    ], keys);

    const name = h("input", { required: true, maxLength: 64, "data-key-name": "" });
    const boxes = SCOPES.map((s) => h("input", { type: "checkbox", id: "scope-" + s, value: s, checked: s == "read" }));
    const expires = h("input", { type: "date" });
    const s = saver(t("keys.create"), async () => {
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      const made = await api("keys", { method: "POST", body: { name: name.value.trim(), scopes, expires_at: expires.value ? new Date(expires.value).getTime() : null } });
      await reload(made.key);
    });
    const form = h("form", { onsubmit: s.run },
      h("h2", null, t("keys.new")),
      field(t("keys.new.name"), name, t("keys.new.name.hint")),
      h("fieldset", null, h("legend", null, t("keys.new.scopes")),
        boxes.map((b) => h("div", { className: "check" }, b, h("label", { htmlFor: b.id }, t("scope." + b.value))))),
      field(t("keys.new.expires"), expires),
      h("div", { className: "actions" }, s.button, s.status));
    main.append(h("section", null, shown, list), h("section", null, form));
  },
};
