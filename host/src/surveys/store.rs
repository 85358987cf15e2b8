//! Storage of exit surveys and their answers.

use sqlx::Row;

use crate::platform::store::{StoreError, exists};

crate::feature_store! {
    /// Surveys' tables: definitions and answers.
    SurveysDb
}

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

impl SurveysDb<'_> {
    /// Create or replace a survey. Returns true if new.
    pub async fn put_survey(
        self,
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
    pub async fn surveys(self, merchant: &str) -> Result<Vec<SurveyRow>, StoreError> {
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
    pub async fn delete_survey(self, merchant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_with_children("surveys", ("survey_answers", "survey_id"), merchant, id)
            .await
    }

    /// Store answers; each is stored once however often it arrives, and a
    /// visitor answers a survey once (a second answer, from another tab
    /// say, is not stored). Returns, per answer, whether it was stored.
    pub async fn insert_answers(
        self,
        merchant: &str,
        answers: &[AnswerRow],
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut fresh = Vec::with_capacity(answers.len());
        for a in answers {
            let n = sqlx::query(
                "INSERT INTO survey_answers (merchant_id, id, survey_id, visitor, locale, page, answers, received_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (SELECT 1 FROM survey_answers \
                 WHERE merchant_id = $1 AND survey_id = $3 AND visitor = $4) ON CONFLICT (merchant_id, id) DO NOTHING",
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
    pub async fn answers(self, merchant: &str, survey: &str) -> Result<Vec<AnswerRow>, StoreError> {
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
