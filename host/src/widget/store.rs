//! Storage of the storefront widget's settings.

use sqlx::Row;

use crate::platform::store::StoreError;

crate::feature_store! {
    /// The widget's settings.
    WidgetDb
}

impl WidgetDb<'_> {
    /// The merchant's widget settings (JSON), if set.
    pub async fn widget_settings(self, merchant: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT settings FROM widget_settings WHERE merchant_id = $1")
                .bind(merchant)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// Replace the merchant's widget settings.
    pub async fn put_widget_settings(self, merchant: &str, json: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO widget_settings (merchant_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(json)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
