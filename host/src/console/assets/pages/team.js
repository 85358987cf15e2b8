// The team: who works on the shop's Cove and in which role, invitations
// not yet used (an invitation is a link the owner passes on, shown once),
// changing a role and removing someone (never the last owner).
import { h, t, api, when, table, field, saver, session } from "./ui.js";

const ROLES = ["owner", "editor", "analyst", "support"];

export default {
  id: "team",
  needs: ["members"],
  writes: ["members"],
  texts: {
    en: {
      "team.nav": "Team", "team.title": "Team", "team.members": "Members", "team.invitations": "Open invitations",
      "team.email": "E-mail address", "team.role": "Role", "team.totp": "One-time codes", "team.joined": "Joined", "team.by": "Invited by",
      "team.expires": "Link works until", "team.yes": "yes", "team.no": "no", "team.remove": "Remove", "team.withdraw": "Withdraw",
      "team.remove.confirm": "Remove {email} from the team? They are signed out at once.",
      "team.invite": "Invite someone", "team.invite.go": "Make an invitation link",
      "team.link": "Send this link to {email} yourself (Cove sends no e-mail). It works once, until {until}, and is shown only now:",
      "team.role.hint": "Owner: everything. Editor: everything but the team and keys. Analyst: read and export. Support: customers, returns and surveys.",
      "team.role.of": "Role of {email}",
    },
    zh: {
      "team.nav": "团队", "team.title": "团队", "team.members": "成员", "team.invitations": "未使用的邀请",
      "team.email": "电子邮件地址", "team.role": "角色", "team.totp": "一次性验证码", "team.joined": "加入时间", "team.by": "邀请人",
      "team.expires": "链接有效至", "team.yes": "是", "team.no": "否", "team.remove": "移除", "team.withdraw": "撤回",
      "team.remove.confirm": "将 {email} 移出团队？对方会立即退出登录。",
      "team.invite": "邀请成员", "team.invite.go": "生成邀请链接",
      "team.link": "请自行把此链接发给 {email}（Cove 不发送电子邮件）。它只能使用一次，有效至 {until}，并且只显示这一次：",
      "team.role.hint": "所有者：全部权限。编辑：除团队和密钥外的全部。分析师：查看和导出。客服：顾客、退货和问卷。",
      "team.role.of": "{email} 的角色",
    },
  },
  async render(main, _hash, made) {
    const { members, invitations } = await api("members");
    const reload = async (link) => {
      main.replaceChildren();
      await this.render(main, _hash, link);
    };
    const problem = h("p", { role: "alert", className: "error" });
    const act = async (f) => {
      problem.textContent = "";
      try {
        await f();
        await reload();
      } catch (err) {
        problem.textContent = t("error") + " " + err.message;
      }
    };
    const roleSelect = (m) => {
      const select = h("select", { "aria-label": t("team.role.of", { email: m.email }), "data-role-of": m.email },
        ROLES.map((r) => h("option", { value: r, selected: r == m.role }, t("role." + r))));
      select.onchange = () => act(() => api("members/" + encodeURIComponent(m.email), { method: "PUT", body: { role: select.value } }));
      return select;
    };
    const list = table(t("team.members"), [
      { label: t("team.email"), value: (m) => m.email },
      { label: t("team.role"), value: roleSelect },
      { label: t("team.totp"), value: (m) => t(m.totp ? "team.yes" : "team.no") },
      { label: t("team.joined"), value: (m) => when(m.created_at) },
      { label: t("team.by"), value: (m) => m.invited_by },
      { label: "", value: (m) => (m.email == session.member ? "" : h("button", { type: "button", className: "danger", "aria-label": t("team.remove") + " " + m.email, onclick: () => {
        if (confirm(t("team.remove.confirm", { email: m.email }))) act(() => api("members/" + encodeURIComponent(m.email), { method: "DELETE" }));
      } }, t("team.remove"))) },
    ], members);
    const open = table(t("team.invitations"), [
      { label: t("team.email"), value: (i) => i.email },
      { label: t("team.role"), value: (i) => t("role." + i.role) },
      { label: t("team.expires"), value: (i) => when(i.expires_at) },
      { label: t("team.by"), value: (i) => i.invited_by },
      { label: "", value: (i) => h("button", { type: "button", className: "danger", "aria-label": t("team.withdraw") + " " + i.email,
        onclick: () => act(() => api("invitations/" + encodeURIComponent(i.id), { method: "DELETE" })) }, t("team.withdraw")) },
    ], invitations);

    const email = h("input", { type: "email", required: true, "data-invite-email": "" });
    const role = h("select", { "data-invite-role": "" }, ROLES.map((r) => h("option", { value: r, selected: r == "analyst" }, t("role." + r))));
    const s = saver(t("team.invite.go"), async () => {
      const inv = await api("invitations", { method: "POST", body: { email: email.value.trim(), role: role.value } });
      await reload(inv);
    });
    const shown = made ? h("div", { "aria-live": "polite" },
      h("p", null, t("team.link", { email: made.email, until: when(made.expires_at) })),
      h("pre", { tabIndex: 0, "data-invite-link": "" }, location.origin + made.link)) : null;
    main.append(
      h("section", null, shown, problem, list),
      h("section", null, open),
      h("section", null, h("form", { onsubmit: s.run },
        h("h2", null, t("team.invite")),
        field(t("team.email"), email),
        field(t("team.role"), role, t("team.role.hint")),
        h("div", { className: "actions" }, s.button, s.status))));
  },
};
