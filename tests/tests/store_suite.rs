//! One store suite, run against both backends: SQLite (embedded default)
//! and PostgreSQL (a private cluster started for the test). Then two real
//! `cove serve` processes on one PostgreSQL: a bind on one is in force on
//! the other, without a restart (the test prints how long it took).

use std::time::Instant;

use cove_e2e::{Postgres, Replicas, wait_for_version};
use cove_host::customers::import::{BATCH, Format, Importer, Summary};
use cove_host::customers::model::Entity;
use cove_host::customers::store::CustomersDb;
use cove_host::customers::store::ListQuery;
use cove_host::kb::store::KbDb;
use cove_host::platform::store::{PluginRow, Store, StoreError};
use cove_host::rfm::store::RfmDb;
use cove_host::surveys::store::SurveysDb;
use cove_host::widget::store::WidgetDb;
use serde_json::json;

fn plugin(name: &str, version: &str) -> PluginRow {
    PluginRow {
        id: 0,
        name: name.into(),
        version: version.into(),
        publisher: "suite".into(),
        world: "fatigue-policy".into(),
        contract: "0.3.0".into(),
        sha256: format!("{:064}", version.len()),
        size_bytes: 3,
        published_at: 1,
        yanked_at: None,
        signed: false,
    }
}

/// Every table with a customer (or experiment unit) column is claimed by
/// exactly one feature's privacy hook, so erasure and access requests
/// cannot forget it.
async fn every_customer_table_is_claimed(store: &Store) {
    let claims: Vec<(&str, &str, &str)> = cove_host::FEATURES
        .iter()
        .filter_map(|f| Some((f.name, f.privacy?)))
        .flat_map(|(name, p)| p.tables.iter().map(move |c| (name, c.table, c.column)))
        .collect();
    let columns = store.columns().await.unwrap();
    let personal: Vec<&(String, String)> = columns
        .iter()
        .filter(|(_, c)| c == "customer_id" || c == "unit")
        .collect();
    assert!(personal.len() >= 12, "{personal:?}");
    for (table, column) in personal {
        let owners: Vec<&str> = claims
            .iter()
            .filter(|(_, t, c)| t == table && c == column)
            .map(|(f, ..)| *f)
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "{table}.{column} must be claimed by one feature's privacy hook: {owners:?}"
        );
    }
    // And every claim names a real column.
    for (feature, table, column) in &claims {
        assert!(
            columns.iter().any(|(t, c)| t == table && c == column),
            "{feature} claims {table}.{column}, which does not exist"
        );
    }
}

async fn suite(url: &str) {
    let store = Store::connect(url).await.expect("connect + migrate");
    every_customer_table_is_claimed(&store).await;
    // Migrating again is a no-op.
    let store2 = Store::connect(url).await.expect("second connect");

    store
        .create_merchant("m1", "One", "ck_secret-1")
        .await
        .unwrap();
    assert!(matches!(
        store.create_merchant("m1", "Again", "ck_secret-x").await,
        Err(StoreError::Conflict)
    ));
    use cove_host::platform::http::key_hash;
    let (first, until) = store2
        .key_by_hash(&key_hash("ck_secret-1"))
        .await
        .unwrap()
        .expect("the first key");
    assert_eq!(first.merchant, "m1");
    assert_eq!(
        (first.name.as_str(), first.prefix.as_str()),
        ("first key", "ck_secret")
    );
    assert_eq!(first.scopes, cove_host::platform::keys::Scopes::all());
    assert_eq!(until, None);
    assert!(
        store
            .key_by_hash(&key_hash("ck_secret-x"))
            .await
            .unwrap()
            .is_none(),
        "a failed create leaves no key"
    );
    assert!(store.merchant_exists("m1").await.unwrap());
    assert!(!store.merchant_exists("m2").await.unwrap());

    // A merchant's limits: set, replaced, read back exactly.
    use cove_host::platform::fair::MerchantLimits;
    assert!(store.merchant_limits().await.unwrap().is_empty());
    for l in [
        MerchantLimits {
            requests_per_sec: 12.5,
            burst: 40.0,
            plugin_calls: 3,
            upload_mb: 10,
        },
        MerchantLimits {
            requests_per_sec: 0.0,
            burst: 1.0,
            plugin_calls: 1,
            upload_mb: 0,
        },
    ] {
        store.set_merchant_limits("m1", &l).await.unwrap();
        let all = store2.merchant_limits().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all["m1"], l);
    }

    let bytes = vec![0u8, 159, 146, 150, 255];
    let p1 = store
        .insert_plugin(&plugin("fp", "1.0.0"), &bytes)
        .await
        .unwrap();
    let p2 = store
        .insert_plugin(&plugin("fp", "1.1.0"), b"v2")
        .await
        .unwrap();
    assert!(matches!(
        store.insert_plugin(&plugin("fp", "1.0.0"), b"zz").await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.plugin_wasm(p1.id).await.unwrap(),
        bytes,
        "blobs survive byte for byte"
    );
    assert_eq!(
        store.get_plugin("fp", "1.1.0").await.unwrap().unwrap().id,
        p2.id
    );
    assert_eq!(store.list_plugins().await.unwrap().len(), 2);
    store.yank(p1.id).await.unwrap();
    assert!(
        store
            .plugin_by_id(p1.id)
            .await
            .unwrap()
            .unwrap()
            .yanked_at
            .is_some()
    );

    assert_eq!(store.audit_fingerprint().await.unwrap(), (0, 0));
    assert_eq!(
        store
            .previous_binding("m1", "fatigue-policy")
            .await
            .unwrap(),
        None
    );
    let e1 = store
        .bind("m1", "fatigue-policy", p1.id, "{}", "alice", "bind")
        .await
        .unwrap();
    let e2 = store
        .bind(
            "m1",
            "fatigue-policy",
            p2.id,
            r#"{"cap.email":"4"}"#,
            "bob",
            "bind",
        )
        .await
        .unwrap();
    assert!(e2 > e1);
    assert_eq!(store2.audit_fingerprint().await.unwrap(), (2, e2));
    // An event given its id before e2 but committed after it (PostgreSQL
    // hands ids out before commits): the newest id stays, the fingerprint
    // that replicas poll moves all the same.
    {
        use sqlx::Connection;
        let late = "INSERT INTO binding_events (id, merchant_id, slot, action, actor, at) \
                    OVERRIDING SYSTEM VALUE VALUES (-1, 'm1', 'fatigue-policy', 'bind', 'late', 1)";
        let gone = "DELETE FROM binding_events WHERE id = -1";
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(late).execute(&mut c).await.unwrap();
            assert_eq!(store2.audit_fingerprint().await.unwrap(), (3, e2));
            sqlx::query(gone).execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            let late = late.replace("OVERRIDING SYSTEM VALUE ", "");
            sqlx::query(sqlx::AssertSqlSafe(late))
                .execute(&mut c)
                .await
                .unwrap();
            assert_eq!(store2.audit_fingerprint().await.unwrap(), (3, e2));
            sqlx::query(gone).execute(&mut c).await.unwrap();
        }
    }
    let bindings = store2.bindings(Some("m1")).await.unwrap();
    assert_eq!(bindings.len(), 1);
    assert_eq!((bindings[0].plugin_id, bindings[0].event_id), (p2.id, e2));
    assert_eq!(
        store
            .previous_binding("m1", "fatigue-policy")
            .await
            .unwrap(),
        Some((p1.id, "{}".into()))
    );
    let audit = store.audit("m1").await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (
            audit[0].actor.as_str(),
            audit[0].from.as_deref(),
            audit[0].to.as_deref()
        ),
        ("bob", Some("fp@1.0.0"), Some("fp@1.1.0"))
    );
    assert_eq!(audit[0].to_config, Some(json!({"cap.email": "4"})));

    RfmDb(&store)
        .save_rfm_scores("m1", &[("c1".into(), r#"{"recency":5}"#.into())])
        .await
        .unwrap();
    RfmDb(&store)
        .save_rfm_scores("m1", &[("c1".into(), r#"{"recency":4}"#.into())])
        .await
        .unwrap();
    let kept = RfmDb(&store)
        .rfm_scores_of("m1", &["c1", "c2", "c1", ""])
        .await
        .unwrap();
    assert_eq!(kept.get("c1").map(String::as_str), Some(r#"{"recency":4}"#));
    assert_eq!(kept.len(), 1, "{kept:?}");

    // Articles: create, replace (votes kept), filter by locale, delete.
    let article = |id: &str, locale: &str, title: &str| cove_host::kb::store::ArticleRow {
        id: id.into(),
        locale: locale.into(),
        title: title.into(),
        body: "Body".into(),
        tags: vec!["tag".into()],
        valid_from: None,
        valid_until: Some(9),
        helpful: 0,
        unhelpful: 0,
        updated_at: 1,
    };
    assert!(
        KbDb(&store)
            .put_article("m1", &article("a1", "en", "Returns"))
            .await
            .unwrap()
    );
    assert!(
        KbDb(&store)
            .put_article("m1", &article("a2", "zh-CN", "退货"))
            .await
            .unwrap()
    );
    assert!(
        !KbDb(&store)
            .put_article("m1", &article("a1", "en", "Refunds"))
            .await
            .unwrap()
    );
    let all = KbDb(&store2).articles("m1", None).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(),
        ["Refunds", "退货"]
    );
    assert_eq!(
        (all[0].tags.clone(), all[0].valid_until),
        (vec!["tag".to_string()], Some(9))
    );
    assert_eq!(
        KbDb(&store)
            .articles("m1", Some("zh-CN"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(KbDb(&store).delete_article("m1", "a2").await.unwrap());
    assert!(!KbDb(&store).delete_article("m1", "a2").await.unwrap());
    assert_eq!(KbDb(&store).articles("m1", None).await.unwrap().len(), 1);
    assert_eq!(
        KbDb(&store)
            .article("m1", "a1")
            .await
            .unwrap()
            .unwrap()
            .title,
        "Refunds"
    );
    assert!(KbDb(&store).article("m1", "a2").await.unwrap().is_none());
    assert_eq!(KbDb(&store).article_locales("m1").await.unwrap(), ["en"]);
    // Valid until 9 ms: in the index at 5, gone at 9.
    let stamps = KbDb(&store).article_stamps("m1", "en", 5).await.unwrap();
    assert_eq!(stamps.len(), 1);
    assert_eq!(stamps[0].0, "a1");
    let later = KbDb(&store).article_stamps("m1", "en", 9).await.unwrap();
    assert!(later.is_empty());

    // Widget: votes (one per visitor), settings, surveys, answers (once).
    assert_eq!(
        KbDb(&store).vote("m1", "a1", "v1", true).await.unwrap(),
        Some((1, 0))
    );
    assert_eq!(
        KbDb(&store).vote("m1", "a1", "v1", false).await.unwrap(),
        Some((0, 1))
    );
    assert_eq!(
        KbDb(&store).vote("m1", "a1", "v2", true).await.unwrap(),
        Some((1, 1))
    );
    assert_eq!(
        KbDb(&store).vote("m1", "nope", "v1", true).await.unwrap(),
        None
    );
    let a1 = KbDb(&store2).article("m1", "a1").await.unwrap().unwrap();
    assert_eq!((a1.helpful, a1.unhelpful), (1, 1));
    WidgetDb(&store)
        .put_widget_settings("m1", r##"{"accent":"#000000"}"##)
        .await
        .unwrap();
    assert!(
        WidgetDb(&store2)
            .widget_settings("m1")
            .await
            .unwrap()
            .unwrap()
            .contains("#000000")
    );
    assert!(
        SurveysDb(&store)
            .put_survey("m1", "s1", "{}")
            .await
            .unwrap()
    );
    assert!(
        !SurveysDb(&store)
            .put_survey("m1", "s1", "{\"v\":2}")
            .await
            .unwrap()
    );
    let answer = |id: &str| cove_host::surveys::store::AnswerRow {
        id: id.into(),
        survey_id: "s1".into(),
        visitor: format!("v-{id}"),
        locale: "en".into(),
        page: "/".into(),
        answers: serde_json::json!({"nps": 9}),
        received_at: 5,
    };
    let fresh = SurveysDb(&store)
        .insert_answers("m1", &[answer("x1"), answer("x2"), answer("x1")])
        .await
        .unwrap();
    assert_eq!(
        fresh,
        [true, true, false],
        "an id is stored once, even within one batch"
    );
    // One answer per visitor per survey (another tab's is not stored).
    let mut tab = answer("x3");
    tab.visitor = "v-x1".into();
    let fresh = SurveysDb(&store)
        .insert_answers("m1", &[tab])
        .await
        .unwrap();
    assert_eq!(fresh, [false], "one answer per visitor");
    assert_eq!(
        SurveysDb(&store2)
            .insert_answers("m1", &[answer("x2")])
            .await
            .unwrap(),
        [false]
    );
    let stored = SurveysDb(&store).answers("m1", "s1").await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].answers["nps"], 9);
    assert!(SurveysDb(&store).delete_survey("m1", "s1").await.unwrap());
    assert!(
        SurveysDb(&store)
            .answers("m1", "s1")
            .await
            .unwrap()
            .is_empty(),
        "answers go with their survey"
    );
    assert!(SurveysDb(&store).surveys("m1").await.unwrap().is_empty());

    // Concurrent binds never lose an audit entry.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = store.clone();
        let id = if i % 2 == 0 { p1.id } else { p2.id };
        tasks.push(tokio::spawn(async move {
            s.bind("m1", "fatigue-policy", id, "{}", "race", "bind")
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.audit("m1").await.unwrap().len(), 10);
    assert_eq!(store.bindings(None).await.unwrap().len(), 1);

    customers_suite(&store).await;
}

/// Import `text` as `entity` for m1, fed in small pieces as a network would.
async fn import(store: &Store, entity: &str, format: Format, text: &str) -> Summary {
    let entity = Entity::parse(entity).unwrap();
    let mut importer = Importer::new(store, "m1", entity, format);
    for piece in text.as_bytes().chunks(7) {
        importer.push(piece).await.unwrap();
    }
    importer.finish().await.unwrap()
}

fn counts(s: &Summary) -> (u64, u64, u64, u64) {
    (s.inserted, s.updated, s.unchanged, s.rejected)
}

/// Customer data on this backend: imports (Cove's and Shopify's files),
/// idempotency, bad rows, profiles, the list, export and erasure.
async fn customers_suite(store: &Store) {
    let customers = "id,email,phone,country,time_zone,locale,birthday,tier,tags,created_at,attributes\n\
        c1,Ana@Shop.Example,+49 151 1234567,de,Europe/Berlin,de,1990-04-01,gold,\"vip, newsletter\",2025-01-10T10:00:00Z,\"{\"\"size\"\": \"\"M\"\"}\"\n\
        c2,li@shop.example,0086 138 0013 8000,CN,Asia/Shanghai,zh-CN,,silver,,2025-02-01,\n\
        c3,bad-email,,US,America/New_York,en,,,,2025-03-01,\n\
        c4,,,FR,Mars/Base,fr,,,,,\n";
    let first = import(store, "customers", Format::Csv, customers).await;
    assert_eq!(counts(&first), (2, 0, 0, 2), "{first:?}");
    assert_eq!(
        (first.errors[0].line, first.errors[0].field.as_str()),
        (4, "email")
    );
    assert_eq!(
        (first.errors[1].line, first.errors[1].field.as_str()),
        (5, "time_zone")
    );
    // The same file again changes nothing; a changed row is updated.
    assert_eq!(
        counts(&import(store, "customers", Format::Csv, customers).await),
        (0, 0, 2, 2)
    );
    let changed = customers.replace("silver", "gold");
    assert_eq!(
        counts(&import(store, "customers", Format::Csv, &changed).await),
        (0, 1, 1, 2)
    );

    let orders = [
        r#"{"id":"o1","customer_id":"c1","placed_at":"2025-05-01T12:00:00Z","currency":"EUR","total":"59.90","items":[{"sku":"TEE","category":"shirts","quantity":2,"unit_price":"29.95"}],"deliveries":["2025-05-06","2025-05-03"]}"#,
        r#"{"id":"o2","customer_id":"c1","placed_at":"2025-06-01T12:00:00Z","currency":"KWD","total":"1.234"}"#,
        r#"{"id":"o3","customer_id":"c1","placed_at":"2025-06-01T12:00:00Z","currency":"EUR","total":"12.345"}"#,
        r#"not json"#,
    ]
    .join("\n");
    let o = import(store, "orders", Format::Ndjson, &orders).await;
    assert_eq!(counts(&o), (2, 0, 0, 2), "{o:?}");
    assert_eq!((o.errors[0].line, o.errors[0].field.as_str()), (3, "total"));
    assert!(o.errors[0].reason.contains("3 decimals"), "{o:?}");

    // Shopify's exports, as a merchant downloads them.
    let shopify_customers = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Country Code,Phone,Total Spent,Tags\n\
        7001,Mia,Wong,mia@shop.example,yes,HK,+852 5123 4567,120.00,\"vip\"\n";
    assert_eq!(
        counts(&import(store, "customers", Format::Csv, shopify_customers).await),
        (1, 0, 0, 0)
    );
    let shopify_orders = "Name,Email,Financial Status,Fulfillment Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id\n\
        #1001,mia@shop.example,paid,fulfilled,HKD,300.00,2025-07-01 10:00:00 +0800,1,Hat,100.00,HAT-1,55501\n\
        #1001,mia@shop.example,,,,,,2,Scarf,100.00,SCF-2,\n\
        #1002,nobody@shop.example,paid,,HKD,10.00,2025-07-02 10:00:00 +0800,1,Pin,10.00,PIN,55502\n";
    let so = import(store, "orders", Format::Csv, shopify_orders).await;
    assert_eq!(counts(&so), (1, 0, 0, 1), "{so:?}");
    assert_eq!(so.errors[0].field, "customer_email");
    let mia = json!(
        CustomersDb(store)
            .customer_profile("m1", "7001")
            .await
            .unwrap()
            .unwrap()
    );
    assert_eq!(mia["customer"]["attributes"]["First Name"], "Mia");
    assert_eq!(
        mia["orders"]["latest"][0]["items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{mia}"
    );
    assert_eq!(mia["orders"]["latest"][0]["status"], "fulfilled");
    assert_eq!(mia["orders"]["by_currency"][0]["spent_minor"], 30000);

    let consents = "customer_id,channel,status,source,at\n\
        c1,email,granted,checkout,2025-01-10T10:00:00Z\n\
        c1,email,withdrawn,unsubscribe link,2025-03-01T10:00:00Z\n\
        c1,sms,granted,checkout,2025-01-10T10:00:00Z\n";
    assert_eq!(
        counts(&import(store, "consents", Format::Csv, consents).await),
        (3, 0, 0, 0)
    );
    let events = r#"{"id":"e1","customer_id":"c1","kind":"opened","channel":"email","campaign_id":"spring","at":"2025-02-01T09:00:00Z"}
{"id":"e2","customer_id":"c1","kind":"added-to-cart","sku":"TEE","at":"2025-02-02T09:00:00Z"}
{"id":"e3","customer_id":"c1","kind":"opened","at":"2025-02-03T09:00:00Z"}"#;
    assert_eq!(
        counts(&import(store, "events", Format::Ndjson, events).await),
        (2, 0, 0, 1)
    );

    let ana = json!(
        CustomersDb(store)
            .customer_profile("m1", "c1")
            .await
            .unwrap()
            .unwrap()
    );
    assert_eq!(ana["customer"]["email"], "ana@shop.example");
    assert_eq!(ana["customer"]["phone"], "+491511234567");
    assert_eq!(ana["customer"]["tags"], json!(["vip", "newsletter"]));
    assert_eq!(ana["customer"]["attributes"]["size"], "M");
    assert_eq!(
        ana["consent"],
        json!({"email": "withdrawn", "sms": "granted"})
    );
    assert_eq!(ana["consent_history"].as_array().unwrap().len(), 3);
    assert_eq!(ana["events"][0]["id"], "e2", "newest first");
    let eur = ana["orders"]["by_currency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency"] == "EUR")
        .unwrap()
        .clone();
    assert_eq!(eur["spent_minor"], 5990);
    let parcels = &ana["orders"]["latest"][1]["deliveries"];
    assert!(
        parcels[0].as_i64() < parcels[1].as_i64(),
        "deliveries in time order: {parcels}"
    );

    // The list: filters and a cursor.
    let (page, next) = CustomersDb(store)
        .list_customers(
            "m1",
            &ListQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["7001", "c1"]);
    let (rest, end) = CustomersDb(store)
        .list_customers(
            "m1",
            &ListQuery {
                limit: Some(2),
                cursor: next,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((rest.len(), end), (1, None));
    let (vip, _) = CustomersDb(store)
        .list_customers(
            "m1",
            &ListQuery {
                tag: Some("vip".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(vip.len(), 2);
    let (de, _) = CustomersDb(store)
        .list_customers(
            "m1",
            &ListQuery {
                country: Some("de".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(de.len(), 1);
    let (big, _) = CustomersDb(store)
        .list_customers(
            "m1",
            &ListQuery {
                min_spent: Some(5000),
                currency: Some("EUR".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        big.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c1"]
    );

    // Export holds everything; erasure leaves nothing personal.
    let export = CustomersDb(store)
        .customer_export("m1", "c1", cove_host::FEATURES)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(export["orders"].as_array().unwrap().len(), 2);
    assert_eq!(export["events"].as_array().unwrap().len(), 2);
    assert!(
        CustomersDb(store)
            .erase_customer("m1", "c1", "suite", cove_host::FEATURES)
            .await
            .unwrap()
    );
    assert!(
        CustomersDb(store)
            .customer_profile("m1", "c1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        CustomersDb(store)
            .customer_export("m1", "c1", cove_host::FEATURES)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !CustomersDb(store)
            .erase_customer("m1", "c1", "suite", cove_host::FEATURES)
            .await
            .unwrap(),
        "nothing left to erase"
    );
    let (all, _) = CustomersDb(store)
        .list_customers("m1", &ListQuery::default())
        .await
        .unwrap();
    assert!(all.iter().all(|c| c.id != "c1"));
    let log = json!(CustomersDb(store).privacy_log("m1").await.unwrap());
    assert_eq!(log[0]["action"], "erase");
    assert_eq!(log[0]["detail"]["orders (anonymised)"], 2);
    assert_eq!(log[0]["detail"]["consents"], 3);
    big_import_suite(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn store_suite_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    suite(&format!(
        "sqlite://{}",
        dir.path().join("suite.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn store_suite_on_postgres() {
    let pg = Postgres::start();
    suite(&pg.database("suite")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bind_on_one_replica_reaches_the_other_without_a_restart() {
    let pg = Postgres::start();
    let replicas = &Replicas::start(&pg, "replicas", &["--deadline-ms", "2000"]).await;
    let Replicas { b, key, .. } = replicas;
    // B learns of the merchant's default binding made on A.
    wait_for_version(&b.url, key, "fatigue-policy@2.0.0").await;

    let started = Instant::now();
    replicas.bind_fatigue("fatigue-policy@1.0.0").await;
    // A figure, not an assertion (the 200 ms poll bounds it; see --nocapture).
    eprintln!(
        "bind on replica A in force on replica B after {:?}",
        started.elapsed()
    );
}

/// A file of several batches for a merchant with no customers yet (on
/// PostgreSQL the first-load path): a key repeated in the next batch and
/// in a distant one ends with its last record, and the same file again
/// leaves everything as it is.
async fn big_import_suite(store: &Store) {
    store.create_merchant("m2", "Two", "hash-2").await.unwrap();
    let records = 2 * BATCH + 100;
    let mut file = String::from("id,email,country,attributes\n");
    // Text the database's bulk path must escape: a backslash, a tab, a quote.
    let note = "back\\slash\ttab \"quoted\"";
    for i in 0..records {
        let (id, email) = match i {
            10 => ("k-adj".to_string(), "a1@shop.example".to_string()),
            i if i == BATCH + 10 => ("k-adj".into(), "a2@shop.example".into()),
            20 => ("k-far".into(), "f1@shop.example".into()),
            i if i == 2 * BATCH + 50 => ("k-far".into(), "f2@shop.example".into()),
            i => (format!("c{i}"), format!("c{i}@shop.example")),
        };
        let attributes = json!({ "note": note }).to_string().replace('"', "\"\"");
        file.push_str(&format!("{id},{email},DE,\"{attributes}\"\n"));
    }
    let import = |merchant: &'static str| {
        let file = file.clone();
        async move {
            let mut importer = Importer::new(store, merchant, Entity::Customers, Format::Csv);
            for piece in file.as_bytes().chunks(65_536) {
                importer.push(piece).await.unwrap();
            }
            importer.finish().await.unwrap()
        }
    };
    let email = |id: &'static str| async move {
        json!(
            CustomersDb(store)
                .customer_profile("m2", id)
                .await
                .unwrap()
                .unwrap()
        )["customer"]["email"]
            .clone()
    };
    let first = import("m2").await;
    assert_eq!(first.records, records as u64);
    assert_eq!(counts(&first), (records as u64 - 2, 2, 0, 0), "{first:?}");
    assert_eq!(email("k-adj").await, "a2@shop.example");
    assert_eq!(email("k-far").await, "f2@shop.example");
    let profile = json!(
        CustomersDb(store)
            .customer_profile("m2", "c4000")
            .await
            .unwrap()
            .unwrap()
    );
    assert_eq!(profile["customer"]["attributes"]["note"], note, "{profile}");
    assert_eq!(
        CustomersDb(store).customer_count("m2").await.unwrap(),
        records as i64 - 2
    );
    // Each repeated key is written twice again (first record, then last);
    // everything else is unchanged, and so is the end state.
    let again = import("m2").await;
    assert_eq!(counts(&again), (0, 4, records as u64 - 4, 0), "{again:?}");
    assert_eq!(email("k-adj").await, "a2@shop.example");
    assert_eq!(email("k-far").await, "f2@shop.example");
}

/// 200 plans for one customer at once, half on each of two replicas of
/// one PostgreSQL: the contacts reserved never break the cap (3 e-mails a
/// week), and the cap is reached.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_plans_on_two_replicas_never_break_a_cap() {
    let pg = Postgres::start();
    let planned = cove_e2e::plans_on_two_replicas(&pg, 200).await;
    assert_eq!(cove_e2e::cap_violations(&planned, 3), 0, "{planned:?}");
    assert_eq!(planned.len(), 3, "the cap is reached, not undershot");
}
