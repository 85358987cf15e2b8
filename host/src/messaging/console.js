// Messaging: what the send planner did over a period — how often customers
// were contacted, why sends were deferred or dropped, why customers are
// suppressed, which channels each region gets — and one customer's
// contacts with the reason for each.
import { h, t, api, num, pct, when, table, field, saver, chart } from "./ui.js";

export default {
  id: "messaging",
  texts: {
    en: {
      "messaging.nav": "Messaging", "messaging.title": "Messaging",
      "messaging.sms": "Inbound SMS (Twilio)", "messaging.sms.token": "Twilio auth token",
      "messaging.sms.hint": "Twilio console → Account → API keys & tokens. It proves each message Twilio forwards; it is never shown again.",
      "messaging.sms.on": "Set up. Give Twilio this webhook for incoming messages: {url}", "messaging.sms.off": "Not set up: replies such as STOP reach Cove only once it is.",
      "messaging.sms.save": "Save token",
      "messaging.lead": "Last {days} days: {planned} contacts planned, {dropped} sends dropped.",
      "messaging.none": "No sends planned yet. Your systems plan each message through Cove, which checks consent and your contact limits before it goes out.",
      "messaging.weeks": "Contacts per customer per week", "messaging.weeks.label": "{n} contacts",
      "messaging.weeks.summary": "{share} of customer-weeks had one contact; the most was {max}.",
      "messaging.dropped": "Why sends were dropped", "messaging.deferred": "Why sends were delayed",
      "messaging.reasons.summary": "Most often: {reason} ({n}).",
      "messaging.suppressed": "Why customers cannot be reached", "messaging.col.cause": "Cause", "messaging.col.customers": "Count",
      "messaging.mix": "Channels by region", "messaging.col.region": "Region",
      "messaging.timeline": "A customer's contacts", "messaging.timeline.id": "Customer id", "messaging.timeline.go": "Show",
      "messaging.col.when": "Planned", "messaging.col.channel": "Channel", "messaging.col.outcome": "Outcome", "messaging.col.why": "Why",
      "messaging.outcome.planned": "Sent at {at}", "messaging.outcome.dropped": "Dropped",
      "messaging.timeline.empty": "No contacts planned for this customer.",
      "messaging.ranked": "ranked {order}",
      "messaging.rules": "Your contact rules", "messaging.rules.edit": "Change them under Policies.",
      "messaging.rules.lead": "Caps, quiet hours and contact windows come from the contact-fatigue policy; the order channels are tried in comes from the channel-choice policy. Settings you have not written use the defaults.",
      "messaging.rules.examples": "For example: cap.email = 3/week, 1/day · cap.tag.flash-sale = 1/week · quiet-hours.US = 21:00-08:00 · windows.phone-call = 10:00-12:00, 16:00-18:00 · prior.europe = email 0.25, sms 0.10",
      "messaging.rules.none": "defaults only", "messaging.col.policy": "Policy", "messaging.col.settings": "Settings",
      "messaging.batch": "Send to a segment", "messaging.batch.segment": "Segment", "messaging.batch.channels": "Channels it may go on",
      "messaging.batch.category": "Kind of message", "messaging.batch.marketing": "Marketing", "messaging.batch.transactional": "Transactional",
      "messaging.batch.campaign": "Campaign name", "messaging.batch.go": "Plan for the segment",
      "messaging.batch.norun": "Score your customers first (Customer value): segments come from that run.",
      "messaging.batch.progress": "{segment}: {done} of {total} customers — {planned} planned, {dropped} dropped.",
      "messaging.batches": "Recent segment sends", "messaging.col.segment": "Segment", "messaging.col.progress": "Progress", "messaging.col.status": "Status",
    },
    zh: {
      "messaging.nav": "消息触达", "messaging.title": "消息触达",
      "messaging.sms": "短信回复（Twilio）", "messaging.sms.token": "Twilio Auth Token",
      "messaging.sms.hint": "Twilio 控制台 → Account → API keys & tokens。它用来验证 Twilio 转发的每条短信，保存后不再显示。",
      "messaging.sms.on": "已设置。请在 Twilio 中把来信 Webhook 设为：{url}", "messaging.sms.off": "未设置：设置后，STOP 等回复才会到达 Cove。",
      "messaging.sms.save": "保存",
      "messaging.lead": "最近 {days} 天：计划触达 {planned} 次，放弃发送 {dropped} 次。",
      "messaging.none": "还没有计划的发送。您的系统通过 Cove 计划每条消息，Cove 会在发送前检查授权和触达上限。",
      "messaging.weeks": "每位客户每周的触达次数", "messaging.weeks.label": "{n} 次",
      "messaging.weeks.summary": "{share} 的客户周只有一次触达；最多为 {max} 次。",
      "messaging.dropped": "放弃发送的原因", "messaging.deferred": "延后发送的原因",
      "messaging.reasons.summary": "最常见：{reason}（{n}）。",
      "messaging.suppressed": "无法触达客户的原因", "messaging.col.cause": "原因", "messaging.col.customers": "次数",
      "messaging.mix": "各地区的渠道", "messaging.col.region": "地区",
      "messaging.timeline": "单个客户的触达记录", "messaging.timeline.id": "客户 ID", "messaging.timeline.go": "查看",
      "messaging.col.when": "计划时间", "messaging.col.channel": "渠道", "messaging.col.outcome": "结果", "messaging.col.why": "原因",
      "messaging.outcome.planned": "于 {at} 发送", "messaging.outcome.dropped": "已放弃",
      "messaging.timeline.empty": "该客户没有计划的触达。",
      "messaging.ranked": "排序 {order}",
      "messaging.rules": "您的触达规则", "messaging.rules.edit": "可在“策略”页修改。",
      "messaging.rules.lead": "上限、免打扰时段和触达时段来自触达疲劳策略；渠道尝试的顺序来自渠道选择策略。未填写的设置使用默认值。",
      "messaging.rules.examples": "例如：cap.email = 3/week, 1/day · cap.tag.flash-sale = 1/week · quiet-hours.US = 21:00-08:00 · windows.phone-call = 10:00-12:00, 16:00-18:00 · prior.europe = email 0.25, sms 0.10",
      "messaging.rules.none": "全部默认", "messaging.col.policy": "策略", "messaging.col.settings": "设置",
      "messaging.batch": "向客户分群发送", "messaging.batch.segment": "分群", "messaging.batch.channels": "可用渠道",
      "messaging.batch.category": "消息类型", "messaging.batch.marketing": "营销", "messaging.batch.transactional": "交易通知",
      "messaging.batch.campaign": "活动名称", "messaging.batch.go": "为该分群计划发送",
      "messaging.batch.norun": "请先为客户评分（客户价值页），分群来自该次评分。",
      "messaging.batch.progress": "{segment}：{total} 位客户中已处理 {done} 位，计划 {planned}，放弃 {dropped}。",
      "messaging.batches": "最近的分群发送", "messaging.col.segment": "分群", "messaging.col.progress": "进度", "messaging.col.status": "状态",
    },
  },
  render: async (main) => {
    const r = await api("sends/report?days=28");
    main.append(h("p", { className: "lead", "data-lead": "" }, r.planned + r.dropped
      ? t("messaging.lead", { days: r.days, planned: num(r.planned), dropped: num(r.dropped) })
      : t("messaging.none")));
    const weeks = Object.entries(r.per_customer_week).map(([n, c]) => [Number(n), c]).sort((a, b) => a[0] - b[0]);
    if (weeks.length) {
      const all = weeks.reduce((a, w) => a + w[1], 0);
      const one = (weeks.find((w) => w[0] == 1) || [1, 0])[1];
      main.append(chart(t("messaging.weeks"), {
        labels: weeks.map((w) => t("messaging.weeks.label", { n: w[0] })),
        series: [{ label: t("messaging.col.customers"), data: weeks.map((w) => w[1]) }],
        summary: t("messaging.weeks.summary", { share: Math.round((one / all) * 100) + "%", max: weeks[weeks.length - 1][0] }),
      }));
    }
    for (const [key, title] of [["dropped_by_reason", "messaging.dropped"], ["deferred_by_reason", "messaging.deferred"]]) {
      const reasons = Object.entries(r[key]).sort((a, b) => b[1] - a[1]);
      if (reasons.length)
        main.append(chart(t(title), {
          labels: reasons.map((x) => x[0]), horizontal: true,
          series: [{ label: t("messaging.col.customers"), data: reasons.map((x) => x[1]) }],
          summary: t("messaging.reasons.summary", { reason: reasons[0][0], n: num(reasons[0][1]) }),
        }));
    }
    main.append(table(t("messaging.suppressed"), [
      { label: t("messaging.col.cause"), value: (x) => x[0] },
      { label: t("messaging.col.customers"), value: (x) => num(x[1]) },
    ], Object.entries(r.suppressions_by_cause)));
    const regions = Object.keys(r.channels_by_region);
    const channels = [...new Set(regions.flatMap((g) => Object.keys(r.channels_by_region[g])))];
    if (regions.length)
      main.append(chart(t("messaging.mix"), {
        labels: regions, stacked: true,
        series: channels.map((c) => ({ label: c, data: regions.map((g) => r.channels_by_region[g][c] || 0) })),
        summary: regions.map((g) => g + ": " + Object.entries(r.channels_by_region[g]).map(([c, n]) => c + " " + num(n)).join(", ")).join("; "),
      }));
    main.append(timeline());
    const [{ slots }, { runs }, { batches }] = await Promise.all([api("slots"), api("rfm/runs"), api("sends/batches")]);
    main.append(rules(slots), await segmentSend(runs, batches), await smsProvider());
  },
};

const timeline = () => {
  const id = h("input", { type: "text", id: "messaging-customer", required: true, spellcheck: false });
  const out = h("div", { "data-timeline": "" });
  const form = h("form", { className: "lookup", "data-read": true });
  const s = saver(t("messaging.timeline.go"), async () => {
    const { contacts } = await api("sends/contacts?customer_id=" + encodeURIComponent(id.value.trim()));
    const why = (c) => c.trail.map((step) => step.step == "chooser"
      ? t("messaging.ranked", { order: (step.ranking || []).map((r) => r.channel || r).join(", ") })
      : step.channel + ": " + step.decision + (step.reason ? " (" + step.reason + ")" : "")).join(" → ");
    out.replaceChildren(contacts.length ? table(t("messaging.timeline"), [
      { label: t("messaging.col.when"), value: (c) => when(c.created_at) },
      { label: t("messaging.col.channel"), value: (c) => c.channel || "—" },
      { label: t("messaging.col.outcome"), value: (c) => (c.status == "planned" ? t("messaging.outcome.planned", { at: when(c.send_at) }) + (c.outcome ? " · " + c.outcome : "") : t("messaging.outcome.dropped")) },
      { label: t("messaging.col.why"), value: why },
    ], contacts) : h("p", null, t("messaging.timeline.empty")));
  });
  form.addEventListener("submit", s.run);
  form.append(h("h2", null, t("messaging.timeline")), field(t("messaging.timeline.id"), id), s.button, s.status, out);
  return form;
};

const CHANNELS = ["email", "sms", "app-push", "web-push", "whatsapp", "messenger", "phone-call"];

// The settings in force for the two policies that shape every send.
const rules = (slots) => {
  const mine = slots.filter((s) => s.slot == "fatigue-policy" || s.slot == "channel-chooser");
  return h("section", { "data-rules": "" },
    h("h2", null, t("messaging.rules")),
    h("p", null, t("messaging.rules.lead") + " ", h("a", { href: "#/policies" }, t("messaging.rules.edit"))),
    table(t("messaging.rules"), [
      { label: t("messaging.col.policy"), value: (s) => t("slot." + s.slot) + (s.plugin ? " · " + s.plugin + "@" + s.version : "") },
      { label: t("messaging.col.settings"), value: (s) => Object.entries(s.config || {}).map(([k, v]) => k + " = " + v).join("; ") || t("messaging.rules.none") },
    ], mine),
    h("p", { className: "hint" }, t("messaging.rules.examples")));
};

// Plan one message for every customer of a segment, with its progress.
const segmentSend = async (runs, batches) => {
  const section = h("section", { "data-batch": "" }, h("h2", null, t("messaging.batch")));
  const run = runs.find((r) => r.status == "done");
  if (!run) return section.append(h("p", null, t("messaging.batch.norun"))), section;
  const sizes = (run.segments && run.segments.segments) || {};
  const segment = h("select", { id: "batch-segment" }, ...Object.entries(sizes).filter(([, n]) => n > 0)
    .map(([name, n]) => h("option", { value: name }, name + " (" + num(n) + ")")));
  const boxes = CHANNELS.map((c) => h("input", { type: "checkbox", value: c, checked: ["email", "sms", "app-push"].includes(c), id: "batch-ch-" + c }));
  const category = h("select", { id: "batch-category" },
    h("option", { value: "marketing" }, t("messaging.batch.marketing")), h("option", { value: "transactional" }, t("messaging.batch.transactional")));
  const campaign = h("input", { type: "text", id: "batch-campaign", value: "newsletter" });
  const bar = h("progress", { max: 1, value: 0, "aria-label": t("messaging.col.progress") });
  const said = h("p", { role: "status", "data-batch-progress": "" });
  const show = (b) => {
    bar.value = b.progress;
    said.textContent = t("messaging.batch.progress", { segment: b.segment, done: num(b.done), total: num(b.total), planned: num(b.planned), dropped: num(b.dropped) });
  };
  const form = h("form", { className: "batch" });
  const s = saver(t("messaging.batch.go"), async () => {
    let b = await api("sends/batches", { method: "POST", body: {
      segment: segment.value,
      message: { category: category.value, channels: boxes.filter((x) => x.checked).map((x) => x.value), campaign_id: campaign.value.trim(), has_trigger_signal: true },
    } });
    show(b);
    while (b.status == "running") {
      await new Promise((r) => setTimeout(r, 500));
      b = await api("sends/batches/" + encodeURIComponent(b.id));
      show(b);
    }
  });
  form.addEventListener("submit", s.run);
  form.append(field(t("messaging.batch.segment"), segment),
    h("fieldset", null, h("legend", null, t("messaging.batch.channels")),
      ...boxes.map((b) => h("label", { className: "check", htmlFor: b.id }, b, " " + b.value))),
    field(t("messaging.batch.category"), category), field(t("messaging.batch.campaign"), campaign),
    s.button, s.status, bar, said);
  section.append(form);
  if (batches.length)
    section.append(table(t("messaging.batches"), [
      { label: t("messaging.col.when"), value: (b) => when(b.created_at) },
      { label: t("messaging.col.segment"), value: (b) => b.segment },
      { label: t("messaging.col.progress"), value: (b) => pct(b.progress) + " (" + num(b.planned) + " / " + num(b.dropped) + ")" },
      { label: t("messaging.col.status"), value: (b) => b.status },
    ], batches));
  return section;
};

// Inbound SMS: the Twilio auth token that signs the webhook, and the
// webhook's address to give Twilio.
const smsProvider = async () => {
  const state = h("p", { role: "status", "data-sms-provider": "" });
  const show = (p) => (state.textContent = p.twilio ? t("messaging.sms.on", { url: location.origin + p.webhook }) : t("messaging.sms.off"));
  show(await api("sms-provider"));
  const token = h("input", { type: "password", autocomplete: "off", minLength: 16, maxLength: 128, required: true });
  const s = saver(t("messaging.sms.save"), async () => {
    show(await api("sms-provider", { method: "PUT", body: { twilio_auth_token: token.value.trim() } }));
    token.value = "";
  });
  return h("section", { "data-sms": "" }, h("h2", null, t("messaging.sms")), state,
    h("form", { onsubmit: s.run }, field(t("messaging.sms.token"), token, t("messaging.sms.hint")), h("div", { className: "actions" }, s.button, s.status)));
};
