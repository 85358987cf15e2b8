// Customers: upload a shop's files with progress and read what was kept
// and refused, browse customers, open a profile, and answer a customer's
// request to see or erase their data.
import { h, t, api, num, when, table, field, session } from "./ui.js";

const money = (minor, currency) => {
  const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(document.documentElement.lang, { style: "currency", currency }).format(minor / 10 ** digits);
};

export default {
  id: "customers",
  needs: ["read", "support"],
  texts: {
    en: {
      "customers.nav": "Customers", "customers.title": "Customers and imports", "customers.import": "Import a file",
      "customers.import.hint": "CSV (Cove's columns, or Shopify's customer and order exports as they are) or NDJSON. Importing the same file again changes nothing.",
      "customers.entity": "What the file holds", "customers.entity.customers": "Customers", "customers.entity.orders": "Orders",
      "customers.entity.events": "Events", "customers.entity.consents": "Consents", "customers.file": "File", "customers.upload": "Upload",
      "customers.progress": "Upload progress", "customers.result": "{records} rows read: {inserted} new, {updated} changed, {unchanged} unchanged, {rejected} refused.",
      "customers.refused": "Refused rows", "customers.line": "Line", "customers.field": "Field", "customers.reason": "Why",
      "customers.list": "Customers", "customers.country": "Country", "customers.tag": "Tag", "customers.filter": "Show",
      "customers.more": "Next page", "customers.id": "Customer", "customers.email": "E-mail", "customers.tier": "Tier", "customers.tags": "Tags",
      "customers.created": "Since", "customers.profile": "Profile of {id}", "customers.consent": "Consent", "customers.spent": "Spent",
      "customers.orders": "Orders", "customers.events": "Latest activity", "customers.export": "Download everything we hold (JSON)",
      "customers.erase": "Erase this customer", "customers.confirm": "Erase {id}? Their personal data is removed everywhere; orders stay as anonymous figures. This cannot be undone.",
      "customers.erased": "{id} was erased.", "customers.privacy": "Data requests", "customers.action": "Request", "customers.who": "By",
      "customers.order": "Order", "customers.total": "Total", "customers.status": "Status", "customers.when": "When", "customers.kind": "What",
      "customers.channel": "Channel",
    },
    zh: {
      "customers.nav": "客户", "customers.title": "客户与导入", "customers.import": "导入文件",
      "customers.import.hint": "CSV（Cove 的列名，或直接使用 Shopify 导出的客户和订单文件）或 NDJSON。重复导入同一文件不会改变任何数据。",
      "customers.entity": "文件内容", "customers.entity.customers": "客户", "customers.entity.orders": "订单",
      "customers.entity.events": "事件", "customers.entity.consents": "授权同意", "customers.file": "文件", "customers.upload": "上传",
      "customers.progress": "上传进度", "customers.result": "读取 {records} 行：新增 {inserted}，更新 {updated}，未变 {unchanged}，拒绝 {rejected}。",
      "customers.refused": "被拒绝的行", "customers.line": "行号", "customers.field": "字段", "customers.reason": "原因",
      "customers.list": "客户", "customers.country": "国家/地区", "customers.tag": "标签", "customers.filter": "筛选",
      "customers.more": "下一页", "customers.id": "客户", "customers.email": "邮箱", "customers.tier": "会员等级", "customers.tags": "标签",
      "customers.created": "注册时间", "customers.profile": "{id} 的档案", "customers.consent": "授权同意", "customers.spent": "消费",
      "customers.orders": "订单", "customers.events": "最近活动", "customers.export": "下载我们保存的全部数据（JSON）",
      "customers.erase": "删除此客户", "customers.confirm": "确定删除 {id}？其个人数据将从所有地方移除，订单仅保留为匿名统计。此操作无法撤销。",
      "customers.erased": "{id} 已删除。", "customers.privacy": "数据请求记录", "customers.action": "请求", "customers.who": "操作人",
      "customers.order": "订单", "customers.total": "金额", "customers.status": "状态", "customers.when": "时间", "customers.kind": "内容",
      "customers.channel": "渠道",
    },
  },
  async render(main) {
    const base = "/v1/merchants/" + encodeURIComponent(session.merchant);
    // ---- import with progress ----
    const entity = h("select", null, ["customers", "orders", "events", "consents"].map((e) => h("option", { value: e }, t("customers.entity." + e))));
    const file = h("input", { type: "file", accept: ".csv,.ndjson,.jsonl,.json,text/csv" });
    const bar = h("progress", { max: 100, value: 0, hidden: true, "aria-label": t("customers.progress") });
    const result = h("div", { role: "status" });
    const upload = (e) => {
      e.preventDefault();
      const f = file.files[0];
      if (!f) return file.focus();
      const format = /\.csv$/i.test(f.name) ? "csv" : "ndjson";
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${base}/import/${entity.value}?format=${format}`);
      xhr.setRequestHeader("x-cove-csrf", session.csrf);
      xhr.setRequestHeader("content-type", format == "csv" ? "text/csv" : "application/x-ndjson");
      bar.hidden = false;
      bar.value = 0;
      result.replaceChildren();
      xhr.upload.onprogress = (p) => { if (p.lengthComputable) bar.value = Math.round((p.loaded / p.total) * 100); };
      xhr.onload = () => {
        bar.value = 100;
        let s;
        try { s = JSON.parse(xhr.responseText); } catch { s = { message: xhr.statusText }; }
        if (xhr.status != 200) return result.replaceChildren(h("p", { className: "error" }, t("error") + " " + s.message));
        result.replaceChildren(h("p", { "data-import": "done" }, t("customers.result", s)),
          s.errors.length ? table(t("customers.refused"), [
            { label: t("customers.line"), value: (r) => String(r.line) },
            { label: t("customers.id"), value: (r) => r.id || "—" },
            { label: t("customers.field"), value: (r) => r.field },
            { label: t("customers.reason"), value: (r) => r.reason },
          ], s.errors) : null);
        loadList(true);
      };
      xhr.onerror = () => result.replaceChildren(h("p", { className: "error" }, t("error") + " " + xhr.statusText));
      xhr.send(f);
    };

    // ---- the list, a page at a time ----
    const country = h("input", { maxLength: 2, size: 3, "data-filter-country": "" });
    const tag = h("input", { "data-filter-tag": "" });
    const rows = [];
    let cursor = null;
    const listBox = h("div");
    const more = h("button", { type: "button", hidden: true, onclick: () => loadList(false) }, t("customers.more"));
    const loadList = async (fresh) => {
      if (fresh) { rows.length = 0; cursor = null; }
      const q = new URLSearchParams({ limit: "25" });
      if (country.value.trim()) q.set("country", country.value.trim());
      if (tag.value.trim()) q.set("tag", tag.value.trim());
      if (cursor) q.set("cursor", cursor);
      const page = await api("customers?" + q);
      rows.push(...page.customers);
      cursor = page.next;
      more.hidden = !cursor;
      listBox.replaceChildren(table(t("customers.list"), [
        { label: t("customers.id"), value: (c) => h("button", { type: "button", className: "link", onclick: () => profile(c.id) }, c.id) },
        { label: t("customers.email"), value: (c) => c.email || "—" },
        { label: t("customers.country"), value: (c) => c.country || "—" },
        { label: t("customers.tier"), value: (c) => c.tier || "—" },
        { label: t("customers.tags"), value: (c) => (c.tags || []).join(", ") },
        { label: t("customers.created"), value: (c) => when(c.created_at) },
      ], rows));
    };

    // ---- one profile, and the privacy requests ----
    const detail = h("div");
    const profile = async (id) => {
      const p = await api("customers/" + encodeURIComponent(id));
      const c = p.customer;
      const erased = h("p", { role: "status" });
      detail.replaceChildren(h("section", { "data-profile": id },
        h("h2", { tabIndex: -1 }, t("customers.profile", { id })),
        h("dl", null, ...[["customers.email", c.email], ["customers.country", c.country], ["customers.tier", c.tier], ["customers.tags", (c.tags || []).join(", ")], ["customers.created", when(c.created_at)]]
          .flatMap(([k, v]) => [h("dt", null, t(k)), h("dd", null, v || "—")])),
        h("p", null, h("strong", null, t("customers.consent") + ": "), Object.entries(p.consent).map(([ch, s]) => ch + " " + s).join(" · ") || "—"),
        h("p", null, h("strong", null, t("customers.spent") + ": "), p.orders.by_currency.map((s) => money(s.spent_minor, s.currency) + " (" + num(s.orders) + ")").join(" · ") || "—"),
        table(t("customers.orders"), [
          { label: t("customers.order"), value: (o) => o.id },
          { label: t("customers.when"), value: (o) => when(o.placed_at) },
          { label: t("customers.total"), value: (o) => money(o.total_minor, o.currency) },
          { label: t("customers.status"), value: (o) => o.status + " · " + o.platform },
        ], p.orders.latest),
        table(t("customers.events"), [
          { label: t("customers.when"), value: (e) => when(e.at) },
          { label: t("customers.kind"), value: (e) => e.kind },
          { label: t("customers.channel"), value: (e) => e.channel || "—" },
        ], p.events),
        h("div", { className: "actions" },
          h("a", { href: `${base}/customers/${encodeURIComponent(id)}/export`, download: `customer-${id}.json`, onclick: () => setTimeout(loadLog, 800) }, t("customers.export")),
          h("button", { type: "button", className: "danger", onclick: async () => {
            if (!confirm(t("customers.confirm", { id }))) return;
            await api("customers/" + encodeURIComponent(id), { method: "DELETE" });
            erased.textContent = t("customers.erased", { id });
            loadList(true);
            loadLog();
          } }, t("customers.erase")), erased)));
      detail.querySelector("h2").focus();
    };
    const logBox = h("div");
    const loadLog = async () => {
      const log = await api("privacy-log");
      logBox.replaceChildren(table(t("customers.privacy"), [
        { label: t("customers.when"), value: (e) => when(e.at) },
        { label: t("customers.id"), value: (e) => e.customer_id },
        { label: t("customers.action"), value: (e) => e.action },
        { label: t("customers.who"), value: (e) => e.actor },
      ], log.entries));
    };

    main.append(
      h("section", null, h("h2", null, t("customers.import")), h("p", { className: "hint" }, t("customers.import.hint")),
        h("form", { onsubmit: upload }, h("div", { className: "row" }, field(t("customers.entity"), entity), field(t("customers.file"), file)),
          h("div", { className: "actions" }, h("button", { type: "submit", className: "primary" }, t("customers.upload")), bar)), result),
      h("section", null,
        h("form", { className: "row", "data-read": true, onsubmit: (e) => { e.preventDefault(); loadList(true); } },
          field(t("customers.country"), country), field(t("customers.tag"), tag), h("button", { type: "submit" }, t("customers.filter"))),
        listBox, more),
      detail,
      h("section", null, logBox));
    await Promise.all([loadList(true), loadLog()]);
  },
};
