//! The demo storefront (`cove serve --seed-demo`): a shop page with the
//! widget's tag under a strict CSP, and its articles and exit survey.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::customers::store::CustomersDb;
use crate::kb::store::KbDb;
use crate::platform::http::ApiError;
use crate::surveys::Survey;
use crate::surveys::store::SurveysDb;

/// The demo storefront (demo mode only): a page with the tag in it.
#[utoipa::path(get, path = "/demo/{file}", tag = "demo", params(("file" = String, Path, description = "index.html, shop.css or shop.js")), responses((status = 200, description = "A file of the demo storefront (with --seed-demo)", body = String, content_type = "text/html")))]
pub async fn page(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    if !state.demo {
        return Err(ApiError::not_found(
            "no such endpoint; the demo storefront runs with --seed-demo",
        ));
    }
    let (content_type, body): (&str, &str) = match file.as_str() {
        "" | "index.html" => (
            "text/html; charset=utf-8",
            include_str!("../../demo/index.html"),
        ),
        "shop.css" => (
            "text/css; charset=utf-8",
            include_str!("../../demo/shop.css"),
        ),
        "shop.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../../demo/shop.js"),
        ),
        _ => return Err(ApiError::not_found(format!("no demo file `{file}`"))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // The strict policy the issue promises merchants the widget works under.
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"),
        ],
        body,
    )
        .into_response())
}

/// Give the demo merchant the demo articles (English, Chinese, German,
/// Spanish, Japanese), the exit survey and two dozen customers with their
/// orders, unless it has its own.
pub async fn seed_demo_content(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    #[derive(Deserialize)]
    struct DemoArticle {
        id: String,
        locale: String,
        title: String,
        body: String,
        tags: Vec<String>,
        valid_until: Option<i64>,
    }
    if KbDb(&state.store)
        .article_locales(merchant)
        .await?
        .is_empty()
    {
        let articles: Vec<DemoArticle> =
            serde_json::from_str(include_str!("../../demo/articles.json"))?;
        for a in articles {
            let row = crate::kb::store::ArticleRow {
                id: a.id,
                locale: a.locale,
                title: a.title,
                body: a.body,
                tags: a.tags,
                valid_from: None,
                valid_until: a.valid_until,
                helpful: 0,
                unhelpful: 0,
                updated_at: crate::now_ms(),
            };
            KbDb(&state.store).put_article(merchant, &row).await?;
        }
    }
    if SurveysDb(&state.store).surveys(merchant).await?.is_empty() {
        let survey: Survey = serde_json::from_str(include_str!("../../demo/survey.json"))?;
        survey
            .check()
            .map_err(|e| anyhow::anyhow!("demo survey: {e:?}"))?;
        SurveysDb(&state.store)
            .put_survey(merchant, "exit", &serde_json::to_string(&survey)?)
            .await?;
    }
    // Two dozen customers in shops around the world, with their orders.
    let query = crate::customers::store::ListQuery {
        limit: Some(1),
        ..Default::default()
    };
    if CustomersDb(&state.store)
        .list_customers(merchant, &query)
        .await?
        .0
        .is_empty()
    {
        for (entity, format, text) in [
            (
                Entity::Customers,
                Format::Csv,
                include_str!("../../demo/customers.csv"),
            ),
            (
                Entity::Orders,
                Format::Csv,
                include_str!("../../demo/orders.csv"),
            ),
        ] {
            let mut importer = Importer::new(&state.store, merchant, entity, format);
            importer.push(text.as_bytes()).await?;
            let summary = importer.finish().await?;
            anyhow::ensure!(
                summary.rejected == 0,
                "demo {}: {:?}",
                entity.table(),
                summary.errors
            );
        }
    }
    // A recent order to try the self-service return on: placed a week
    // ago, delivered in two parcels (5 and 2 days ago), kept recent on
    // every start.
    use crate::customers::{import::Format, import::Importer, model::Entity};
    let now = crate::now_ms();
    let day = 86_400_000;
    let order = serde_json::json!({
        "id": "DEMO-1001", "customer_id": "demo-001", "placed_at": now - 7 * day,
        "currency": "EUR", "total": "124.00", "platform": "own-site", "status": "fulfilled",
        "items": [
            {"sku": "LINEN-SHIRT", "category": "tops", "quantity": 2, "unit_price": "39.00"},
            {"sku": "CANVAS-TOTE", "category": "bags", "quantity": 1, "unit_price": "46.00"},
        ],
        "deliveries": [now - 5 * day, now - 2 * day],
    });
    let mut importer = Importer::new(&state.store, merchant, Entity::Orders, Format::Ndjson);
    importer.push(format!("{order}\n").as_bytes()).await?;
    let summary = importer.finish().await?;
    anyhow::ensure!(summary.rejected == 0, "demo order: {:?}", summary.errors);
    Ok(())
}
