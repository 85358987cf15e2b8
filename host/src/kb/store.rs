//! Storage of the knowledge base: articles, their helpfulness votes, and
//! what search indexes are versioned by.

use sqlx::Row;

use crate::platform::store::{StoreError, exists};

crate::feature_store! {
    /// The knowledge base's tables: articles, votes and missed searches.
    KbDb
}

/// A knowledge-base article as stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ArticleRow {
    /// The merchant's article id.
    pub id: String,
    /// BCP 47 locale (`en`, `zh-CN`, `de-AT`).
    pub locale: String,
    /// Title.
    pub title: String,
    /// Body, Markdown.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Shown from this time (ms since epoch), if set.
    pub valid_from: Option<i64>,
    /// Not shown from this time (ms since epoch), if set.
    pub valid_until: Option<i64>,
    /// "Was this helpful?" yes votes.
    pub helpful: i64,
    /// "Was this helpful?" no votes.
    pub unhelpful: i64,
    /// Last change, ms since epoch.
    pub updated_at: i64,
}

impl KbDb<'_> {
    /// Create or replace an article (votes are kept). Returns true if new.
    pub async fn put_article(self, merchant: &str, a: &ArticleRow) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let existed = exists(&mut tx, "articles", merchant, &a.id).await?;
        let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO articles (merchant_id, id, locale, title, body, tags, valid_from, valid_until, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (merchant_id, id) DO UPDATE SET locale = excluded.locale, title = excluded.title, \
             body = excluded.body, tags = excluded.tags, valid_from = excluded.valid_from, \
             valid_until = excluded.valid_until, updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(&a.id)
        .bind(&a.locale)
        .bind(&a.title)
        .bind(&a.body)
        .bind(tags)
        .bind(a.valid_from)
        .bind(a.valid_until)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    /// Delete an article and its votes; false if there was none.
    pub async fn delete_article(self, merchant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_with_children("articles", ("article_votes", "article_id"), merchant, id)
            .await
    }

    /// A merchant's articles, optionally of one locale, by id.
    pub async fn articles(
        self,
        merchant: &str,
        locale: Option<&str>,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        self.select_articles(merchant, locale, None).await
    }

    /// One article.
    pub async fn article(self, merchant: &str, id: &str) -> Result<Option<ArticleRow>, StoreError> {
        Ok(self.select_articles(merchant, None, Some(id)).await?.pop())
    }

    async fn select_articles(
        self,
        merchant: &str,
        locale: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, locale, title, body, tags, valid_from, valid_until, helpful, unhelpful, updated_at \
             FROM articles WHERE merchant_id = $1 AND ($2 IS NULL OR locale = $2) AND ($3 IS NULL OR id = $3) ORDER BY id",
        )
        .bind(merchant)
        .bind(locale)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let tags: String = r.try_get(4)?;
                Ok(ArticleRow {
                    id: r.try_get(0)?,
                    locale: r.try_get(1)?,
                    title: r.try_get(2)?,
                    body: r.try_get(3)?,
                    tags: serde_json::from_str(&tags).unwrap_or_default(),
                    valid_from: r.try_get(5)?,
                    valid_until: r.try_get(6)?,
                    helpful: r.try_get(7)?,
                    unhelpful: r.try_get(8)?,
                    updated_at: r.try_get(9)?,
                })
            })
            .collect()
    }
    /// otherwise its (helpful, unhelpful) counts.
    /// Record a visitor's vote on an article, replacing their earlier vote,
    /// and recount the article's votes. `None` if there is no such article;
    /// otherwise its (helpful, unhelpful) counts.
    pub async fn vote(
        self,
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
    /// What a search index's version is made of, per article of one
    /// locale: id, last change and votes (no bodies: this runs often).
    pub async fn article_stamps(
        self,
        merchant: &str,
        locale: &str,
        now: i64,
    ) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, updated_at, helpful, unhelpful FROM articles WHERE merchant_id = $1 AND locale = $2 \
             AND (valid_from IS NULL OR valid_from <= $3) AND (valid_until IS NULL OR valid_until > $3) ORDER BY id",
        )
        .bind(merchant)
        .bind(locale)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }

    /// The locales a merchant has articles in.
    pub async fn article_locales(self, merchant: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT locale FROM articles WHERE merchant_id = $1 ORDER BY locale",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The merchant's own synonym groups for `locale`, if they saved any.
    pub async fn synonyms(
        self,
        merchant: &str,
        locale: &str,
    ) -> Result<Option<Vec<Vec<String>>>, StoreError> {
        let row =
            sqlx::query("SELECT groups FROM kb_synonyms WHERE merchant_id = $1 AND locale = $2")
                .bind(merchant)
                .bind(locale)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => Some(serde_json::from_str(&r.try_get::<String, _>(0)?).unwrap_or_default()),
            None => None,
        })
    }

    /// Save the merchant's synonym groups for `locale` (replacing any).
    pub async fn put_synonyms(
        self,
        merchant: &str,
        locale: &str,
        groups: &[Vec<String>],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO kb_synonyms (merchant_id, locale, groups, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (merchant_id, locale) DO UPDATE SET groups = excluded.groups, updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(locale)
        .bind(serde_json::to_string(groups).unwrap_or_else(|_| "[]".into()))
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forget the merchant's synonyms for `locale` (the defaults apply
    /// again); false if there were none.
    pub async fn delete_synonyms(self, merchant: &str, locale: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM kb_synonyms WHERE merchant_id = $1 AND locale = $2")
            .bind(merchant)
            .bind(locale)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
