//! Every setting [`crate::Settings::from_config`] reads, described for the
//! merchant's form.

use cove_sdk::{Setting, SettingKind};

/// Two-letter country codes, comma-separated.
const COUNTRIES: &str = r"[A-Za-z]{2}(\s*,\s*[A-Za-z]{2})*";
/// Names, comma-separated.
const NAMES: &str = r"[A-Za-z0-9 _-]+(\s*,\s*[A-Za-z0-9 _-]+)*";

/// The descriptions, in the order a merchant would read them.
pub fn settings() -> Vec<Setting> {
    let days = |key: &str, default: Option<&str>, en: &str, zh: &str, example: &str| {
        Setting::new(key, SettingKind::integer(0, 3650), default, en, zh, example)
    };
    let percent = |key: &str, default: Option<&str>, en: &str, zh: &str, example: &str| {
        Setting::new(key, SettingKind::integer(0, 100), default, en, zh, example)
    };
    let money = |key: &str, default: &str, en: &str, zh: &str| {
        Setting::new(
            key,
            SettingKind::integer(0, 100_000_000),
            Some(default),
            en,
            zh,
            &format!("{key} = {default}"),
        )
    };
    vec![
        Setting::new(
            "countries",
            SettingKind::text(COUNTRIES),
            Some(crate::DEFAULT_COUNTRIES),
            "Countries a customer can pick in the first step (two-letter codes, comma-separated).",
            "客户在第一步可选择的国家（两位字母代码，用逗号分隔）。",
            "countries = DE,FR,GB,US",
        ),
        days(
            "window-days",
            Some("30"),
            "Days after delivery a customer may return an item. In the EU and EEA the legal 14 days always apply, to the end of a working day.",
            "收货后客户可以退货的天数。在欧盟和欧洲经济区，始终适用法定的 14 天，并顺延至工作日结束。",
            "window-days = 30",
        ),
        days(
            "window.*",
            None,
            "The return window in one country (at least 14 days in the EU, EEA and UK).",
            "某个国家的退货期限（在欧盟、欧洲经济区和英国至少 14 天）。",
            "window.DE = 30",
        )
        .part("a two-letter country code"),
        days(
            "window.platform.*",
            None,
            "The return window for orders sold on one platform.",
            "在某个平台售出的订单的退货期限。",
            "window.platform.own-site = 60",
        )
        .part("a sales platform"),
        Setting::new(
            "marketplaces",
            SettingKind::text(NAMES),
            Some(crate::DEFAULT_MARKETPLACES),
            "Platforms with their own return process: their customers are sent there.",
            "有自己退货流程的平台：这些平台的客户会被引导到平台处理。",
            "marketplaces = amazon, ebay",
        ),
        Setting::new(
            "marketplace.*.instructions",
            SettingKind::text(""),
            None,
            "What a customer of that marketplace should do, in your words.",
            "该平台客户应如何操作，用您自己的话说明。",
            "marketplace.amazon.instructions = Open Your Orders on Amazon and choose Return items.",
        )
        .part("a marketplace"),
        Setting::new(
            "exception.*",
            SettingKind::choice(&[
                "personalised",
                "made-to-order",
                "perishable",
                "sealed-hygiene",
                "sealed-media",
                "none",
            ]),
            None,
            "A legal exception for a product category (such as personalised goods), or none.",
            "某个商品类别适用的法定例外（例如定制商品），或 none（无）。",
            "exception.engraved-rings = personalised",
        )
        .part("a product category"),
        days(
            "tier.*.extra-days",
            None,
            "Extra days a membership tier gets to return (gold 15 and platinum 30 unless set).",
            "某个会员等级额外获得的退货天数（未设置时金卡 15 天、白金卡 30 天）。",
            "tier.gold.extra-days = 15",
        )
        .part("a membership tier"),
        Setting::new(
            "tier.*.waive-fees",
            SettingKind::Flag,
            None,
            "A membership tier pays no return shipping or restocking fee (platinum unless set).",
            "某个会员等级免除退货运费和重新入库费（未设置时为白金卡）。",
            "tier.platinum.waive-fees = true",
        )
        .part("a membership tier"),
        percent(
            "restocking-percent",
            Some("0"),
            "Restocking fee, as a percentage, when a customer changed their mind.",
            "客户改变主意退货时收取的重新入库费百分比。",
            "restocking-percent = 10",
        ),
        percent(
            "restocking.*",
            None,
            "The restocking fee for one product category.",
            "某个商品类别的重新入库费。",
            "restocking.electronics = 15",
        )
        .part("a product category"),
        Setting::new(
            "shipping-bands",
            SettingKind::text(r"\d+:\d+(\s*,\s*\d+:\d+)*"),
            Some("2000:495,5000:795,10000:1295,30000:1995"),
            "Return shipping fees by weight: up to so many grams, this fee in cents.",
            "按重量计算的退货运费：不超过多少克，收取多少（以分计）。",
            "shipping-bands = 2000:495,5000:795",
        ),
        Setting::new(
            "pickup-from-grams",
            SettingKind::integer(0, 1_000_000),
            Some("5000"),
            "Parcels at least this heavy are picked up instead of dropped off.",
            "达到这个重量的包裹上门取件，而不是由客户寄出。",
            "pickup-from-grams = 5000",
        ),
        money(
            "high-value-spent",
            "100000",
            "Customers who have spent this much (in cents) get a person; 0 turns it off.",
            "累计消费达到这个金额（以分计）的客户由专人处理；0 表示关闭。",
        ),
        money(
            "review-above",
            "50000",
            "Refunds above this (in cents) are checked by a person; 0 turns it off.",
            "超过这个金额（以分计）的退款由专人审核；0 表示关闭。",
        ),
    ]
}
