// Messaging: what the send planner did over a period — how often customers
// were contacted, why sends were deferred or dropped, why customers are
// suppressed, which channels each region gets — and one customer's
// contacts with the reason for each.
import { h, t, api, num, when, table, field, saver, chart } from "./ui.js";

export default {
  id: "messaging",
  texts: {
    en: {
      "messaging.nav": "Messaging", "messaging.title": "Messaging",
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
    },
    zh: {
      "messaging.nav": "消息触达", "messaging.title": "消息触达",
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
  },
};

const timeline = () => {
  const id = h("input", { type: "text", id: "messaging-customer", required: true, spellcheck: false });
  const out = h("div", { "data-timeline": "" });
  const form = h("form", { className: "lookup" });
  const s = saver(t("messaging.timeline.go"), async () => {
    const { contacts } = await api("sends/contacts?customer_id=" + encodeURIComponent(id.value.trim()));
    const why = (c) => c.trail.map((step) => step.channel + ": " + step.decision + (step.reason ? " (" + step.reason + ")" : "")).join(" → ");
    out.replaceChildren(contacts.length ? table(t("messaging.timeline"), [
      { label: t("messaging.col.when"), value: (c) => when(c.created_at) },
      { label: t("messaging.col.channel"), value: (c) => c.channel || "—" },
      { label: t("messaging.col.outcome"), value: (c) => (c.status == "planned" ? t("messaging.outcome.planned", { at: when(c.send_at) }) : t("messaging.outcome.dropped")) },
      { label: t("messaging.col.why"), value: why },
    ], contacts) : h("p", null, t("messaging.timeline.empty")));
  });
  form.addEventListener("submit", s.run);
  form.append(h("h2", null, t("messaging.timeline")), field(t("messaging.timeline.id"), id), s.button, s.status, out);
  return form;
};
