// Returns: the queue of returns a person must settle (approve or decline
// with a note), then the return rate by category and reason, and the
// money refunded and kept as fees per week.
import { h, t, api, num, pct, when, table, field, saver, chart, lang, session } from "./ui.js";

const money = (minor, currency) => {
  const digits = ["JPY", "KRW", "VND", "CLP", "ISK"].includes(currency) ? 0 : ["KWD", "BHD", "OMR", "JOD", "TND"].includes(currency) ? 3 : 2;
  return new Intl.NumberFormat(lang == "zh" ? "zh-CN" : "en", { style: "currency", currency: currency || "EUR", minimumFractionDigits: digits }).format((minor || 0) / 10 ** digits);
};
const reasonText = (r) => t("returns.reason." + r) == "returns.reason." + r ? r : t("returns.reason." + r);

export default {
  id: "returns",
  needs: ["read", "support"],
  writes: ["write", "support"],
  texts: {
    en: {
      "returns.nav": "Returns", "returns.title": "Returns", "returns.queue": "Waiting for a person",
      "returns.queue.hint": "Returns the automatic flow handed to your team: upset or high-value customers first.",
      "returns.col.when": "Started", "returns.col.order": "Order", "returns.col.item": "Item", "returns.col.reason": "Reason",
      "returns.col.queue": "Queue", "returns.col.why": "Why a person", "returns.col.decide": "Decision",
      "returns.col.photos": "Photos", "returns.photo": "Photo {n}",
      "returns.approved": "Approved by the flow", "returns.col.refund": "Refund", "returns.col.method": "Way back",
      "returns.pickup": "Pickup requested {when}", "returns.dropoff": "Drop-off",
      "returns.priority": "Priority", "returns.standard": "Standard", "returns.note": "Note for the records",
      "returns.approve": "Approve", "returns.decline": "Decline", "returns.done": "Decided: {status}.",
      "returns.rate": "Return rate by category", "returns.rate.summary": "Highest: {top} ({rate} of units sold came back).",
      "returns.rate.none": "No units sold in this period.", "returns.reasons": "Why customers return",
      "returns.reasons.summary": "Most common: {top} ({n} returns).", "returns.money": "Refunds and fees per week ({currency})",
      "returns.money.summary": "{refunds} refunded and {fees} kept as fees over {n} weeks.", "returns.refunds": "Refunded", "returns.fees": "Fees",
      "returns.period": "Last {days} days: {n} returns settled, {waiting} waiting for a person.",
      "returns.storage": "Customers' photos take {used} of the {quota} your plan allows. When it is full, customers describe the damage in words instead.",
      "returns.reason.damaged": "Damaged or faulty", "returns.reason.wrong-item": "Wrong item", "returns.reason.not-as-described": "Not as described",
      "returns.reason.too-small": "Too small", "returns.reason.too-large": "Too large", "returns.reason.changed-mind": "Changed mind",
      "returns.reason.other": "Other", "returns.reason.not given": "Not given (marketplace or handed over early)",
    },
    zh: {
      "returns.nav": "退货", "returns.title": "退货", "returns.queue": "待人工处理",
      "returns.queue.hint": "自动流程转交给您团队的退货：情绪激动或高价值顾客优先。",
      "returns.col.when": "发起时间", "returns.col.order": "订单", "returns.col.item": "商品", "returns.col.reason": "原因",
      "returns.col.queue": "队列", "returns.col.why": "转人工原因", "returns.col.decide": "处理",
      "returns.col.photos": "照片", "returns.photo": "照片 {n}",
      "returns.approved": "自动通过的退货", "returns.col.refund": "退款", "returns.col.method": "寄回方式",
      "returns.pickup": "已预约上门取件（{when}）", "returns.dropoff": "自行寄回",
      "returns.priority": "优先", "returns.standard": "普通", "returns.note": "备注",
      "returns.approve": "同意", "returns.decline": "拒绝", "returns.done": "已处理：{status}。",
      "returns.rate": "各品类退货率", "returns.rate.summary": "最高：{top}（售出件数的 {rate} 被退回）。",
      "returns.rate.none": "此期间没有售出商品。", "returns.reasons": "退货原因",
      "returns.reasons.summary": "最常见：{top}（{n} 单）。", "returns.money": "每周退款与费用（{currency}）",
      "returns.money.summary": "{n} 周内退款 {refunds}，收取费用 {fees}。", "returns.refunds": "退款", "returns.fees": "费用",
      "returns.period": "最近 {days} 天：已处理 {n} 单退货，{waiting} 单待人工处理。",
      "returns.storage": "顾客上传的照片已占用 {used}，套餐上限为 {quota}。存满后，顾客改用文字描述损坏情况。",
      "returns.reason.damaged": "损坏或故障", "returns.reason.wrong-item": "发错商品", "returns.reason.not-as-described": "与描述不符",
      "returns.reason.too-small": "太小", "returns.reason.too-large": "太大", "returns.reason.changed-mind": "不想要了",
      "returns.reason.other": "其他", "returns.reason.not given": "未填写（平台订单或提前转人工）",
    },
  },
  async render(main) {
    const [{ returns }, approved, report] = await Promise.all([api("returns?status=review"), api("returns?status=approved"), api("returns/report")]);
    const settled = Object.values(report.by_status).reduce((a, b) => a + b, 0);
    main.append(h("p", { className: "lead" }, t("returns.period", { days: report.days, n: num(settled), waiting: num(returns.length) })));
    const mb = (bytes) => num(Math.ceil(bytes / 1048576)) + " MB";
    const { used_bytes: used, quota_bytes: quota } = report.photos;
    main.append(h("p", { "data-photo-storage": "" },
      h("meter", { min: 0, max: quota, value: used, high: quota * 0.8, "aria-label": t("returns.col.photos") }), " ",
      t("returns.storage", { used: mb(used), quota: mb(quota) })));

    const decide = (r) => {
      const note = h("input", { type: "text", maxLength: 2000 });
      const row = h("form", { className: "decide" });
      let choice = "approve";
      const s = saver(t("returns.approve"), async () => {
        const done = await api("returns/" + encodeURIComponent(r.id) + "/decision", { method: "POST", body: { decision: choice, note: note.value } });
        row.replaceChildren(h("p", { role: "status" }, t("returns.done", { status: done.status })));
      });
      const decline = h("button", { type: "button", onclick: () => { choice = "decline"; s.run(); } }, t("returns.decline"));
      s.button.addEventListener("click", () => (choice = "approve"));
      row.addEventListener("submit", s.run);
      row.append(field(t("returns.note"), note), h("span", { className: "actions" }, s.button, decline), s.status);
      return row;
    };
    const why = (r) => (r.step && r.step.outcome && r.step.outcome["human-review"] ? r.step.outcome["human-review"].reason : r.note || "");
    main.append(h("section", { "data-queue": "" },
      h("p", { className: "hint" }, t("returns.queue.hint")),
      table(t("returns.queue"), [
        { label: t("returns.col.when"), value: (r) => when(r.created_at) },
        { label: t("returns.col.order"), value: (r) => r.order_id },
        { label: t("returns.col.item"), value: (r) => (r.sku ? r.sku + (r.quantity ? " × " + r.quantity : "") : "—") },
        { label: t("returns.col.reason"), value: (r) => (r.reason ? reasonText(r.reason) : "—") },
        { label: t("returns.col.queue"), value: (r) => t(r.queue == "priority" ? "returns.priority" : "returns.standard") },
        { label: t("returns.col.why"), value: why },
        { label: t("returns.col.photos"), value: (r) => h("span", null, ...(r.answers || []).filter((a) => /^p-[0-9a-f]{16}$/.test(a.value)).map((a, i) =>
          h("a", { href: "/v1/merchants/" + encodeURIComponent(session.merchant) + "/returns/" + encodeURIComponent(r.id) + "/photos/" + a.value, target: "_blank", rel: "noopener", "data-photo": a.value }, t("returns.photo", { n: i + 1 })))) },
        { label: t("returns.col.decide"), value: decide },
      ], returns)));

    // Settled by the flow: what comes back, and the pickups to book.
    main.append(h("section", { "data-approved": "" }, table(t("returns.approved"), [
      { label: t("returns.col.when"), value: (r) => when(r.submitted_at) },
      { label: t("returns.col.order"), value: (r) => r.order_id },
      { label: t("returns.col.item"), value: (r) => r.sku + " × " + r.quantity },
      { label: t("returns.col.refund"), value: (r) => money(r.refund_minor, r.currency) },
      { label: t("returns.col.method"), value: (r) => (r.pickup_at ? t("returns.pickup", { when: when(r.pickup_at) }) : t("returns.dropoff")) },
    ], approved.returns)));

    const cats = report.by_category.filter((c) => c.sold_units > 0).sort((a, b) => b.rate - a.rate);
    if (cats.length) {
      main.append(chart(t("returns.rate"), {
        labels: cats.map((c) => c.category), horizontal: true,
        series: [{ label: t("returns.rate"), data: cats.map((c) => Math.round(c.rate * 1000) / 10) }],
        y: { ticks: { callback: (v) => v + "%" } },
        summary: t("returns.rate.summary", { top: cats[0].category, rate: pct(cats[0].rate) }),
      }));
    } else main.append(h("p", null, t("returns.rate.none")));

    const reasons = Object.entries(report.by_reason).sort((a, b) => b[1] - a[1]);
    if (reasons.length) {
      main.append(chart(t("returns.reasons"), {
        labels: reasons.map(([r]) => reasonText(r)), horizontal: true,
        series: [{ label: t("returns.reasons"), data: reasons.map(([, n]) => n) }],
        summary: t("returns.reasons.summary", { top: reasonText(reasons[0][0]), n: num(reasons[0][1]) }),
      }));
    }

    // The currency with the most refunded: one chart, in one currency.
    const totals = {};
    for (const w of report.money) totals[w.currency] = (totals[w.currency] || 0) + w.refunds_minor;
    const currency = Object.keys(totals).sort((a, b) => totals[b] - totals[a])[0];
    if (currency) {
      const weeks = report.money.filter((w) => w.currency == currency);
      const sum = (k) => weeks.reduce((a, w) => a + w[k], 0);
      const digits = money(0, currency).includes(".") || money(0, currency).includes(",") ? 100 : 1;
      main.append(chart(t("returns.money", { currency }), {
        labels: weeks.map((w) => w.week), stacked: true,
        series: [
          { label: t("returns.refunds"), data: weeks.map((w) => w.refunds_minor / digits) },
          { label: t("returns.fees"), data: weeks.map((w) => w.fees_minor / digits) },
        ],
        summary: t("returns.money.summary", { refunds: money(sum("refunds_minor"), currency), fees: money(sum("fees_minor"), currency), n: weeks.length }),
      }));
    }
  },
};
