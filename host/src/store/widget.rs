//! Storage of the storefront widget: settings, votes, surveys and answers.

use sqlx::Row;

use super::{Store, StoreError, exists};

/// One survey answer as received (the id is made by the visitor's browser).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnswerRow {
    /// Client-made id; a second copy of the same id is a duplicate.
    pub id: String,
    /// Survey it answers.
    pub survey_id: String,
    /// Visitor's anonymous id.
    pub visitor: String,
    /// Locale the survey was shown in.
    pub locale: String,
    /// Page path it was shown on.
    pub page: String,
    /// Answers by question id (JSON object).
    pub answers: serde_json::Value,
    /// When the host received it, ms since epoch.
    pub received_at: i64,
}

/// A stored survey definition.
#[derive(Debug, Clone)]
pub struct SurveyRow {
    /// Survey id.
    pub id: String,
    /// Definition (JSON, validated when stored).
    pub definition: String,
    /// Last change, ms since epoch.
    pub updated_at: i64,
}

impl Store {
    /// The merchant's widget settings (JSON), if set.
    pub async fn widget_settings(&self, merchant: &str) -> Result<Option<String>, StoreError> {
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
    pub async fn put_widget_settings(&self, merchant: &str, json: &str) -> Result<(), StoreError> {
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

    /// Record a visitor's vote on an article, replacing their earlier vote,
    /// and recount the article's votes. `None` if there is no such article;
    /// otherwise its (helpful, unhelpful) counts.
    pub async fn vote(
        &self,
        merchant: &str,
        article: &str,
        visitor: &str,
        helpful: bool,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let mut tx = self.write_tx().await?;
        if !exists(&mut tx, "articles", merchant, article).await? {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO article_votes (merchant_id, article_id, visitor, helpful, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (merchant_id, article_id, visitor) DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
        )
        .bind(merchant)
        .bind(article)
        .bind(visitor)
        .bind(i64::from(helpful))
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "SELECT COUNT(CASE WHEN helpful = 1 THEN 1 END), COUNT(*) FROM article_votes WHERE merchant_id = $1 AND article_id = $2",
        )
        .bind(merchant)
        .bind(article)
        .fetch_one(&mut *tx)
        .await?;
        let (yes, all): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        sqlx::query(
            "UPDATE articles SET helpful = $1, unhelpful = $2 WHERE merchant_id = $3 AND id = $4",
        )
        .bind(yes)
        .bind(all - yes)
        .bind(merchant)
        .bind(article)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((yes, all - yes)))
    }

    /// Create or replace a survey. Returns true if new.
    pub async fn put_survey(
        &self,
        merchant: &str,
        id: &str,
        definition: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let existed = exists(&mut tx, "surveys", merchant, id).await?;
        sqlx::query(
            "INSERT INTO surveys (merchant_id, id, definition, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (merchant_id, id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(id)
        .bind(definition)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    /// A merchant's surveys, by id.
    pub async fn surveys(&self, merchant: &str) -> Result<Vec<SurveyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, definition, updated_at FROM surveys WHERE merchant_id = $1 ORDER BY id",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SurveyRow {
                    id: r.try_get(0)?,
                    definition: r.try_get(1)?,
                    updated_at: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Delete a survey and its answers; false if there was none.
    pub async fn delete_survey(&self, merchant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_with_children("surveys", ("survey_answers", "survey_id"), merchant, id)
            .await
    }

    /// Store answers; each is stored once however often it arrives. Returns,
    /// per answer, whether it was new.
    pub async fn insert_answers(
        &self,
        merchant: &str,
        answers: &[AnswerRow],
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut fresh = Vec::with_capacity(answers.len());
        for a in answers {
            let n = sqlx::query(
                "INSERT INTO survey_answers (merchant_id, id, survey_id, visitor, locale, page, answers, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (merchant_id, id) DO NOTHING",
            )
            .bind(merchant)
            .bind(&a.id)
            .bind(&a.survey_id)
            .bind(&a.visitor)
            .bind(&a.locale)
            .bind(&a.page)
            .bind(a.answers.to_string())
            .bind(a.received_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            fresh.push(n == 1);
        }
        tx.commit().await?;
        Ok(fresh)
    }

    /// A survey's answers, oldest first.
    pub async fn answers(
        &self,
        merchant: &str,
        survey: &str,
    ) -> Result<Vec<AnswerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, survey_id, visitor, locale, page, answers, received_at FROM survey_answers \
             WHERE merchant_id = $1 AND survey_id = $2 ORDER BY received_at, id",
        )
        .bind(merchant)
        .bind(survey)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let answers: String = r.try_get(5)?;
                Ok(AnswerRow {
                    id: r.try_get(0)?,
                    survey_id: r.try_get(1)?,
                    visitor: r.try_get(2)?,
                    locale: r.try_get(3)?,
                    page: r.try_get(4)?,
                    answers: serde_json::from_str(&answers).unwrap_or_default(),
                    received_at: r.try_get(6)?,
                })
            })
            .collect()
    }
}

impl Store {
    /// What a search index's version is made of, per article of one
    /// locale: id, last change and votes (no bodies: this runs often).
    pub async fn article_stamps(
        &self,
        merchant: &str,
        locale: &str,
    ) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, updated_at, helpful, unhelpful FROM articles WHERE merchant_id = $1 AND locale = $2 ORDER BY id",
        )
        .bind(merchant)
        .bind(locale)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }

    /// The locales a merchant has articles in.
    pub async fn article_locales(&self, merchant: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT locale FROM articles WHERE merchant_id = $1 ORDER BY locale",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
