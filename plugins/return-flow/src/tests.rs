//! The flow's rules, each as a test.

use super::*;
use cove_sdk::returns::{Answer, CustomerFacts, OrderFacts};

/// 2026-06-01, midnight UTC.
const DELIVERED: TimestampMs = 1_780_272_000_000;

fn line(sku: &str, category: &str, quantity: u32, price: i64) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        category: category.into(),
        quantity,
        returned: 0,
        unit_price: Money {
            amount_minor: price,
            currency: "EUR".into(),
        },
    }
}

fn session(lines: Vec<OrderLine>, answers: &[(&str, &str)]) -> Session {
    Session {
        locale: "en".into(),
        order: OrderFacts {
            id: "1001".into(),
            platform: "own-site".into(),
            placed_at: DELIVERED - 3 * DAY_MS,
            lines,
            deliveries: vec![DELIVERED],
        },
        customer: CustomerFacts {
            tier: None,
            country: Some("DE".into()),
            orders: 3,
            spent: Money {
                amount_minor: 20_000,
                currency: "EUR".into(),
            },
            time_zone: None,
            offsets: vec![],
        },
        answers: answers
            .iter()
            .map(|(f, v)| Answer {
                field: f.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

/// A complete change-of-mind return of one shirt from Germany.
const SHIRT: [(&str, &str); 4] = [
    ("country", "DE"),
    ("sku", "SHIRT"),
    ("weight-grams", "800"),
    ("reason", "changed-mind"),
];

fn shirt() -> Session {
    session(vec![line("SHIRT", "apparel", 1, 4999)], &SHIRT)
}

fn settle(settings: &Settings, s: &Session, day: i64) -> Outcome {
    match next(settings, s, DELIVERED + day * DAY_MS + 3_600_000) {
        Ok(Step::Outcome(o)) => o,
        other => panic!("expected an outcome, got {other:?}"),
    }
}

fn config(pairs: &[(&str, &str)]) -> Settings {
    Settings::from_config(&Config::from_pairs(pairs.iter().copied())).unwrap()
}

fn approved(o: Outcome) -> Approval {
    match o {
        Outcome::Approved(a) => a,
        other => panic!("expected approval, got {other:?}"),
    }
}

fn queue(o: &Outcome) -> Option<Queue> {
    match o {
        Outcome::HumanReview(h) => Some(h.queue),
        _ => None,
    }
}

#[test]
fn asks_one_form_at_a_time_and_only_what_it_does_not_know() {
    let s = Settings::default();
    let mut answers: Vec<(&str, &str)> = Vec::new();
    let mut steps = Vec::new();
    let order = vec![line("SHIRT", "apparel", 2, 4999)];
    for (field, value) in [
        ("country", "DE"),
        ("sku", "SHIRT"),
        ("quantity", "2"),
        ("weight-grams", "800"),
        ("reason", "too-small"),
    ] {
        match next(&s, &session(order.clone(), &answers), DELIVERED).unwrap() {
            Step::Form(f) => {
                assert!(f.fields.iter().any(|x| x.name == field), "{f:?}");
                steps.push(f.step);
            }
            other => panic!("{other:?}"),
        }
        answers.push((field, value));
    }
    assert_eq!(steps, ["country", "item", "quantity", "parcel", "reason"]);
    let a = approved(settle(&s, &session(order, &answers), 1));
    assert_eq!(a.quantity, 2);
    // The customer's own country is offered first.
    let Step::Form(f) = next(&s, &session(vec![], &[]), DELIVERED).unwrap() else {
        panic!()
    };
    let FieldKind::Choice(c) = &f.fields[0].kind else {
        panic!()
    };
    assert_eq!(c[0].value, "DE");
}

#[test]
fn eu_day_14_is_in_day_15_is_out_whatever_the_merchant_says() {
    let s = config(&[("window-days", "7")]);
    assert!(matches!(settle(&s, &shirt(), 14), Outcome::Approved(_)));
    let Outcome::Rejected(why) = settle(&s, &shirt(), 15) else {
        panic!()
    };
    // Delivered on Monday 1 June (02:00 in Berlin): the last day is
    // Monday 15 June, named in the refusal.
    assert!(
        why.contains("delivered on Monday 1 June") && why.contains("until Monday 15 June"),
        "{why}"
    );
    // Outside the EU the merchant's 7 days hold.
    let mut us = shirt();
    us.answers[0].value = "US".into();
    assert!(matches!(settle(&s, &us, 7), Outcome::Approved(_)));
    assert!(matches!(settle(&s, &us, 8), Outcome::Rejected(_)));
    // And a shorter EU window is refused at bind time.
    let e = Settings::from_config(&Config::from_pairs([("window.FR", "10")])).unwrap_err();
    assert!(matches!(e, Error::InvalidConfig(m) if m.contains("window.FR") && m.contains("14")));
}

#[test]
fn a_split_delivery_counts_from_its_last_parcel() {
    let s = config(&[("window-days", "14")]);
    let mut split = shirt();
    split.order.deliveries = vec![DELIVERED - 10 * DAY_MS, DELIVERED];
    // 24 days after the first parcel, 14 after the last.
    assert!(matches!(settle(&s, &split, 14), Outcome::Approved(_)));
    assert!(matches!(settle(&s, &split, 15), Outcome::Rejected(_)));
}

#[test]
fn no_delivery_on_file_asks_for_the_date_within_bounds() {
    let s = config(&[("window-days", "14")]);
    let mut o = session(
        vec![line("SHIRT", "apparel", 1, 4999)],
        &[("country", "DE"), ("sku", "SHIRT")],
    );
    o.order.deliveries.clear();
    let Step::Form(f) = next(&s, &o, DELIVERED + 20 * DAY_MS).unwrap() else {
        panic!()
    };
    assert_eq!(f.step, "quantity");
    let FieldKind::Date(b) = &f.fields[0].kind else {
        panic!("{f:?}")
    };
    assert_eq!(b.earliest.as_deref(), Some("2026-05-29"));
    assert_eq!(b.latest.as_deref(), Some("2026-06-21"));
    for (k, v) in [
        ("delivered", "2026-06-03"),
        ("weight-grams", "800"),
        ("reason", "changed-mind"),
    ] {
        o.answers.push(Answer {
            field: k.into(),
            value: v.into(),
        });
    }
    // Delivered on 06-03: 06-17 (day 16 after 06-01) is 14 days later: in; a day later: out.
    assert!(matches!(settle(&s, &o, 16), Outcome::Approved(_)));
    assert!(matches!(settle(&s, &o, 17), Outcome::Rejected(_)));
}

#[test]
fn statutory_exceptions_refuse_a_change_of_mind_but_not_a_fault() {
    let s = Settings::default();
    for category in ["custom", "made-to-order", "food"] {
        let mut o = shirt();
        o.order.lines[0].category = category.into();
        assert!(
            matches!(settle(&s, &o, 1), Outcome::Rejected(_)),
            "{category}"
        );
        o.answers[3].value = "damaged".into();
        o.answers.push(Answer {
            field: "photo".into(),
            value: "photo-1".into(),
        });
        assert!(
            matches!(settle(&s, &o, 1), Outcome::Approved(_)),
            "{category}"
        );
    }
    for category in ["cosmetics", "software"] {
        let mut o = shirt();
        o.order.lines[0].category = category.into();
        o.answers.pop();
        // The reason form asks whether it is still sealed.
        let Step::Form(f) = next(&s, &o, DELIVERED).unwrap() else {
            panic!()
        };
        assert!(f.fields.iter().any(|x| x.name == "sealed" && x.required));
        for (sealed, ok) in [("yes", true), ("no", false)] {
            let mut a = o.clone();
            a.answers.push(Answer {
                field: "reason".into(),
                value: "changed-mind".into(),
            });
            a.answers.push(Answer {
                field: "sealed".into(),
                value: sealed.into(),
            });
            let out = settle(&s, &a, 1);
            assert_eq!(
                matches!(out, Outcome::Approved(_)),
                ok,
                "{category} {sealed}: {out:?}"
            );
        }
    }
    // A merchant can lift an exception.
    let lifted = config(&[("exception.food", "none")]);
    let mut o = shirt();
    o.order.lines[0].category = "food".into();
    assert!(matches!(settle(&lifted, &o, 1), Outcome::Approved(_)));
}

#[test]
fn a_marketplace_order_goes_to_the_marketplace_before_any_question() {
    let mut o = session(vec![line("SHIRT", "apparel", 1, 4999)], &[]);
    o.order.platform = "Amazon".into();
    let Ok(Step::Outcome(Outcome::Marketplace(h))) = next(&Settings::default(), &o, DELIVERED)
    else {
        panic!()
    };
    assert_eq!(h.marketplace, "amazon");
    assert!(h.instructions.contains("amazon"));
    let s = config(&[(
        "marketplace.amazon.instructions",
        "Use Amazon's Returns Center.",
    )]);
    let Ok(Step::Outcome(Outcome::Marketplace(h))) = next(&s, &o, DELIVERED) else {
        panic!()
    };
    assert_eq!(h.instructions, "Use Amazon's Returns Center.");
}

#[test]
fn tiers_lengthen_the_window_and_waive_fees() {
    let s = config(&[("restocking-percent", "10")]);
    let mut o = shirt();
    o.answers[0].value = "US".into();
    // Day 40: past 30 days, within gold's 45.
    assert!(matches!(settle(&s, &o, 40), Outcome::Rejected(_)));
    o.customer.tier = Some("gold".into());
    let gold = approved(settle(&s, &o, 40));
    let labels: Vec<&str> = gold.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "1 × SHIRT",
            "Return shipping (800 g)",
            "Restocking fee (10%)"
        ]
    );
    // 49.99 - 4.95 - 5.00 (10% of 49.99, rounded).
    assert_eq!(gold.refund.amount_minor, 4999 - 495 - 500);
    o.customer.tier = Some("platinum".into());
    let platinum = approved(settle(&s, &o, 40));
    assert_eq!(platinum.lines.len(), 1);
    assert_eq!(platinum.refund.amount_minor, 4999);
}

#[test]
fn the_refund_is_itemised_and_adds_up() {
    let s = config(&[("restocking-percent", "15")]);
    let mut o = session(
        vec![line("LAMP", "home", 3, 2999)],
        &[
            ("country", "US"),
            ("sku", "LAMP"),
            ("quantity", "2"),
            ("weight-grams", "3000"),
            ("reason", "changed-mind"),
        ],
    );
    o.order.lines[0].returned = 1;
    let a = approved(settle(&s, &o, 3));
    let sum: i64 = a.lines.iter().map(|l| l.amount.amount_minor).sum();
    assert_eq!(a.refund.amount_minor, sum);
    assert_eq!(sum, 2 * 2999 - 795 - (2 * 2999 * 15 + 50) / 100);
    assert!(a.lines.iter().all(|l| l.amount.currency == "EUR"));
    // No restocking fee on an EU withdrawal within the statutory 14 days.
    o.answers[0].value = "FR".into();
    let fr = approved(settle(&s, &o, 3));
    assert_eq!(fr.lines.len(), 2);
}

#[test]
fn quantity_is_at_most_delivered_less_already_returned() {
    let mut o = session(
        vec![line("LAMP", "home", 3, 2999)],
        &[("country", "US"), ("sku", "LAMP")],
    );
    o.order.lines[0].returned = 1;
    let Step::Form(f) = next(&Settings::default(), &o, DELIVERED).unwrap() else {
        panic!()
    };
    assert!(matches!(
        f.fields[0].kind,
        FieldKind::Number(NumberBounds { min: 1, max: 2 })
    ));
    o.answers.push(Answer {
        field: "quantity".into(),
        value: "3".into(),
    });
    let e = next(&Settings::default(), &o, DELIVERED).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(m) if m.contains("quantity")));
    // Everything returned already: a plain refusal, not a form.
    o.order.lines[0].returned = 3;
    assert!(matches!(
        next(&Settings::default(), &o, DELIVERED),
        Ok(Step::Outcome(Outcome::Rejected(_)))
    ));
}

#[test]
fn weight_bands_set_the_fee_and_the_method() {
    let s = Settings::default();
    for (grams, fee, pickup) in [
        ("1500", 495, false),
        ("2000", 495, false),
        ("4000", 795, false),
        ("5000", 795, true),
        ("12000", 1995, true),
    ] {
        let mut o = shirt();
        o.answers[0].value = "US".into();
        o.answers[2].value = grams.into();
        let a = approved(settle(&s, &o, 2));
        assert_eq!(a.lines[1].amount.amount_minor, -fee, "{grams} g");
        assert_eq!(a.method == ReturnMethod::Pickup, pickup, "{grams} g");
    }
    let mut heavy = shirt();
    heavy.answers[2].value = "40000".into();
    assert_eq!(queue(&settle(&s, &heavy, 2)), Some(Queue::Standard));
    let bad = Settings::from_config(&Config::from_pairs([("shipping-bands", "5000:10,2000:5")]));
    assert!(matches!(bad, Err(Error::InvalidConfig(m)) if m.contains("shipping-bands")));
}

#[test]
fn people_get_what_the_rules_cannot_settle() {
    let s = Settings::default();
    let with = |extra: &[(&str, &str)]| {
        let mut o = shirt();
        for (k, v) in extra {
            o.answers.retain(|a| a.field != *k);
            o.answers.push(Answer {
                field: k.to_string(),
                value: v.to_string(),
            });
        }
        o
    };
    let upset = with(&[("comment", "This is the WORST shop, a scam!!!")]);
    assert_eq!(queue(&settle(&s, &upset, 1)), Some(Queue::Priority));
    let upset_zh = with(&[("comment", "质量太差了，我要投诉")]);
    assert_eq!(queue(&settle(&s, &upset_zh, 1)), Some(Queue::Priority));
    // Even when the rules would refuse: upset customers never hit a wall.
    assert_eq!(queue(&settle(&s, &upset, 90)), Some(Queue::Priority));
    let mut vip = shirt();
    vip.customer.spent.amount_minor = 250_000;
    assert_eq!(queue(&settle(&s, &vip, 1)), Some(Queue::Priority));
    assert_eq!(
        queue(&settle(&s, &with(&[("reason", "other")]), 1)),
        Some(Queue::Standard)
    );
    assert_eq!(
        queue(&settle(&s, &with(&[("reason", "damaged")]), 1)),
        Some(Queue::Standard)
    );
    let mut big = shirt();
    big.order.lines[0].unit_price.amount_minor = 80_000;
    assert_eq!(queue(&settle(&s, &big, 1)), Some(Queue::Standard));
    // A calm comment does not.
    assert!(matches!(
        settle(&s, &with(&[("comment", "a bit too tight")]), 1),
        Outcome::Approved(_)
    ));
}

#[test]
fn a_fault_with_a_photo_is_refunded_in_full() {
    let s = config(&[("restocking-percent", "20")]);
    let mut o = shirt();
    o.answers[3].value = "wrong-item".into();
    o.answers.push(Answer {
        field: "photo".into(),
        value: "p-1".into(),
    });
    // Past the window too: faults are not a change of mind.
    let a = approved(settle(&s, &o, 60));
    assert_eq!(a.refund.amount_minor, 4999);
    assert_eq!(a.lines.len(), 1);
}

#[test]
fn answers_the_form_did_not_offer_are_refused() {
    let s = Settings::default();
    let mut o = shirt();
    o.answers[1].value = "NOPE".into();
    assert!(matches!(next(&s, &o, DELIVERED), Err(Error::InvalidInput(m)) if m.contains("sku")));
    let mut o = shirt();
    o.answers[0].value = "ZZ".into();
    assert!(
        matches!(next(&s, &o, DELIVERED), Err(Error::InvalidInput(m)) if m.contains("country"))
    );
    let mut o = shirt();
    o.answers[3].value = "bored".into();
    assert!(matches!(next(&s, &o, DELIVERED), Err(Error::InvalidInput(m)) if m.contains("reason")));
}

#[test]
fn configuration_errors_name_the_key() {
    for (k, v) in [
        ("window-days", "a month"),
        ("restocking-percent", "120"),
        ("tier.gold.waive-fees", "maybe"),
        ("tier.gold.colour", "red"),
        ("exception.toys", "fragile"),
        ("countries", "Germany"),
        ("frobnicate", "1"),
    ] {
        match Settings::from_config(&Config::from_pairs([(k, v)])) {
            Err(Error::InvalidConfig(m)) => assert!(m.contains(k), "{m}"),
            other => panic!("{k}={v}: {other:?}"),
        }
    }
}

#[test]
fn dates_and_money_are_exact() {
    assert_eq!(date(DELIVERED), "2026-06-01");
    assert_eq!(days_from_date("2026-06-01"), Some(DELIVERED / DAY_MS));
    assert_eq!(
        days_from_date("2024-02-29").map(|d| date(d * DAY_MS)),
        Some("2024-02-29".into())
    );
    assert_eq!(days_from_date("2025-02-29"), None);
    assert_eq!(days_from_date("1970-01-01"), Some(0));
    assert_eq!(money(4999, "EUR"), "49.99 EUR");
    assert_eq!(money(1500, "JPY"), "1500 JPY");
    assert_eq!(money(-1234, "KWD"), "-1.234 KWD");
}

#[test]
fn speaks_chinese_to_a_chinese_locale() {
    let mut o = shirt();
    o.locale = "zh-CN".into();
    let a = approved(settle(&Settings::default(), &o, 1));
    assert!(a.note.contains("退货已受理"), "{}", a.note);
}

#[test]
fn speaks_the_storefront_languages() {
    let mut o = shirt();
    o.locale = "de-DE".into();
    let a = approved(settle(&Settings::default(), &o, 1));
    assert!(
        a.note.starts_with("Rücksendung angenommen: 45.04 EUR"),
        "{}",
        a.note
    );
    assert_eq!(a.lines[1].label, "Rückversand (800 g)");
    // Every label of every form carries each language the widget ships.
    let Step::Form(f) = next(&Settings::default(), &session(vec![], &[]), DELIVERED).unwrap()
    else {
        panic!()
    };
    let langs: Vec<&str> = f.title.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(langs, texts::LANGS);
}

/// Regulation 1182/71 in the flow: a period whose last day is a Saturday,
/// a Sunday or a public holiday ends with the next working day, counted in
/// the consumer's time (Berlin's, Lisbon's), and the refusal names it.
#[test]
fn the_eu_period_ends_on_a_working_day_in_the_consumers_time() {
    // The statutory 14 days (the default is a longer 30).
    let s = config(&[("window-days", "14")]);
    let at = |y, m, d, h: i64, min: i64| {
        cove_sdk::civil::to_days(y, m, d) * DAY_MS + h * 3_600_000 + min * 60_000
    };
    let decide = |country: &str, delivered: i64, now: i64, locale: &str| {
        let mut x = shirt();
        x.answers[0].value = country.into();
        x.customer.country = Some(country.into());
        x.order.deliveries = vec![delivered];
        x.locale = locale.into();
        match next(&s, &x, now) {
            Ok(Step::Outcome(o)) => o,
            other => panic!("expected an outcome, got {other:?}"),
        }
    };
    let in_de = |delivered, now| decide("DE", delivered, now, "en");
    // Delivered Saturday 21 November; a change of mind on Sunday 6
    // December and on Monday 7 December (the last day, moved from the
    // Saturday) is in time; Tuesday 8 December is not.
    let sat = at(2026, 11, 21, 10, 0);
    assert!(matches!(
        in_de(sat, at(2026, 12, 6, 12, 0)),
        Outcome::Approved(_)
    ));
    assert!(
        matches!(in_de(sat, at(2026, 12, 7, 22, 59)), Outcome::Approved(_)),
        "23:59 in Berlin"
    );
    let o = in_de(sat, at(2026, 12, 7, 23, 0));
    let Outcome::Rejected(why) = o else {
        panic!("{o:?}")
    };
    assert!(why.contains("until Monday 7 December"), "{why}");
    // A Sunday delivery: 14 days on is a Sunday too, so Monday.
    let sun = at(2026, 11, 22, 10, 0);
    assert!(matches!(
        in_de(sun, at(2026, 12, 7, 12, 0)),
        Outcome::Approved(_)
    ));
    // Christmas: delivered 11 December, the 25th is a holiday, the 26th a
    // holiday and a Saturday, the 27th a Sunday: Monday 28 December.
    let dec = at(2026, 12, 11, 10, 0);
    assert!(matches!(
        in_de(dec, at(2026, 12, 28, 12, 0)),
        Outcome::Approved(_)
    ));
    let Outcome::Rejected(why) = decide("DE", dec, at(2026, 12, 29, 12, 0), "de") else {
        panic!()
    };
    assert!(why.contains("bis Montag, 28. Dezember"), "{why}");
    // France, 15 August 2025 (a Friday): delivered 1 August, the last day
    // is the holiday, then comes a weekend: Monday the 18th.
    let aug = at(2025, 8, 1, 10, 0);
    assert!(matches!(
        decide("FR", aug, at(2025, 8, 18, 12, 0), "fr"),
        Outcome::Approved(_)
    ));
    let Outcome::Rejected(why) = decide("FR", aug, at(2025, 8, 19, 12, 0), "fr") else {
        panic!()
    };
    assert!(why.contains("lundi 18 août"), "{why}");
    // Near midnight: 22:30 UTC on Monday 1 June 2026 is already Tuesday
    // (00:30) in Berlin but still Monday (23:30) in Lisbon, so the two
    // periods end a day apart.
    let late = at(2026, 6, 1, 22, 30);
    let in_country = |c| crate::period::period(&crate::period::Clock::Country(c), c, late, 14);
    let (berlin, _) = in_country("DE");
    let (lisbon, _) = in_country("PT");
    assert_eq!(
        berlin - lisbon,
        1,
        "Berlin's period ends a day after Lisbon's"
    );
    let Outcome::Rejected(why) = decide("PT", late, at(2026, 6, 16, 23, 0), "en") else {
        panic!()
    };
    assert!(
        why.contains("delivered on Monday 1 June") && why.contains("until Monday 15 June"),
        "{why}"
    );
    let Outcome::Rejected(why) = decide("DE", late, at(2026, 6, 16, 23, 0), "en") else {
        panic!()
    };
    assert!(
        why.contains("delivered on Tuesday 2 June") && why.contains("until Tuesday 16 June"),
        "{why}"
    );
    // Never shorter than before: 14 whole days after the delivery's
    // moment (Tuesday 16 June, 22:29 UTC) still count, past Berlin's
    // midnight.
    assert!(matches!(
        decide("DE", late, at(2026, 6, 16, 22, 29), "en"),
        Outcome::Approved(_)
    ));
}

/// The holiday table against its source, the `holidays` package (PyPI,
/// in the oracles' venv): every day of 2026 and 2030, for the countries
/// the tests name and a few more.
#[test]
fn the_holiday_table_agrees_with_the_holidays_package() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let countries = ["DE", "FR", "PT", "SE", "GR", "IE", "PL", "NO"];
    let script = format!(
        "import holidays\nfor c in {countries:?}:\n  for y in (2026, 2030):\n    print(c, ' '.join(sorted(d.isoformat() for d in holidays.country_holidays(c, years=y) if d.year == y)))"
    );
    let out = std::process::Command::new(root.join("target/oracles/bin/python"))
        .args(["-c", &script])
        .output()
        .expect("run `make deps-test`: it installs holidays from PyPI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut checked = 0;
    for line in text.lines() {
        let mut parts = line.split(' ');
        let country = parts.next().unwrap();
        let want: Vec<i64> = parts.filter_map(days_from_date).collect();
        let Some(first) = want.first() else { continue };
        let (year, _, _) = cove_sdk::civil::from_days(*first);
        let start = cove_sdk::civil::to_days(year, 1, 1);
        for d in start..cove_sdk::civil::to_days(year + 1, 1, 1) {
            assert_eq!(
                crate::period::holiday(country, d),
                want.contains(&d),
                "{country} {}",
                date(d * DAY_MS)
            );
            checked += 1;
        }
    }
    assert!(checked >= 16 * 365, "{checked} days checked");
}
