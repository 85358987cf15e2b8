//! A merchant's team: people who sign in to the console with an e-mail
//! address and a password (and, if they like, a one-time code), each with
//! a [`Role`] that maps to the same scopes API keys have, so one check
//! ([`super::http::ForMerchant`]) serves both.
//!
//! Cove sends no e-mail: an owner invites someone and passes on the
//! one-time link the answer shows (only its hash is stored; it expires).
//! A person has one password for every shop they belong to. Passwords are
//! stored as Argon2id hashes ([`ARGON2`]); a sign-in for an unknown
//! address checks a password against a made-up hash, so the answer takes
//! as long either way. Codes are RFC 6238 TOTP (SHA-1, 30 s, 6 digits),
//! each accepted once.

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sqlx::Row;

use super::http::{ApiError, Code, ForMerchant, JsonBody, key_hash};
use super::keys::{Scope, Scopes};
use super::store::{Store, StoreError};
use crate::AppState;

/// The Argon2id cost (memory in KiB, passes, lanes): 64 MiB, 3 passes,
/// 1 lane, chosen to take 50-250 ms per hash on the reference machine
/// (`cove-bench signin`); OWASP's lightest choice (19 MiB, 2 passes)
/// took about 20 ms there.
pub const ARGON2: (u32, u32, u32) = (64 * 1024, 3, 1);
/// Hashes computed at once: each holds [`ARGON2`]'s memory, so a flood
/// of sign-ins queues instead of filling the machine.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// How long an invitation lasts unless the owner says otherwise.
const INVITE_HOURS: u32 = 72;
/// Longest an invitation may last.
const MAX_INVITE_HOURS: u32 = 24 * 30;
/// A TOTP step, in seconds.
const TOTP_STEP: i64 = 30;

/// What a member may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including the team and the keys.
    Owner,
    /// Everything but the team and the keys.
    Editor,
    /// Read everything, export.
    Analyst,
    /// Customers, returns and surveys: read them, decide returns.
    Support,
}

impl Role {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Analyst => "analyst",
            Role::Support => "support",
        }
    }

    fn parse(name: &str) -> Role {
        match name {
            "owner" => Role::Owner,
            "editor" => Role::Editor,
            "analyst" => Role::Analyst,
            _ => Role::Support,
        }
    }

    /// The role whose scopes these are (a session keeps the scopes).
    pub fn of_scopes(scopes: Scopes) -> Role {
        [Role::Owner, Role::Editor, Role::Analyst]
            .into_iter()
            .find(|r| r.scopes() == scopes)
            .unwrap_or(Role::Support)
    }

    /// The scopes the role grants.
    pub fn scopes(self) -> Scopes {
        use Scope::*;
        match self {
            Role::Owner => Scopes::all(),
            Role::Editor => Scopes::from_list(&[Read, Write, Import, Policies, Support]),
            Role::Analyst => Scopes::from_list(&[Read]),
            Role::Support => Scopes::from_list(&[Support]),
        }
    }
}

// ---- passwords ----

fn argon2() -> argon2::Argon2<'static> {
    let (m, t, p) = ARGON2;
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(m, t, p, None).expect("argon2 parameters"),
    )
}

/// The PHC string of `password` (Argon2id, a fresh salt).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2")
        .to_string()
}

/// Whether `password` matches the PHC string `stored`.
pub fn verify_password(stored: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored)
        .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, checked when the address is unknown so
/// that the answer takes as long as for a member.
static DECOY: LazyLock<String> =
    LazyLock::new(|| hash_password(&hex::encode(rand::random::<[u8; 16]>())));

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect()
});

/// Why `password` will not do for `email`, in plain words.
pub fn weak(password: &str, email: &str) -> Option<String> {
    let lower = password.to_lowercase();
    if password.chars().count() < MIN_PASSWORD {
        Some(format!("a password has at least {MIN_PASSWORD} characters"))
    } else if password.chars().count() > 256 {
        Some("a password has at most 256 characters".into())
    } else if COMMON.contains(lower.as_str()) {
        Some("that password is one of the most common ones; pick another".into())
    } else if email
        .split('@')
        .next()
        .is_some_and(|local| local.len() >= 3 && lower.contains(&local.to_lowercase()))
    {
        Some("a password must not contain your e-mail address".into())
    } else {
        None
    }
}

/// Check a password off the async threads (hashing takes tens of ms).
async fn verify_blocking(stored: Option<String>, password: String) -> bool {
    let _turn = HASHING.acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let ok = verify_password(stored.as_deref().unwrap_or(&DECOY), &password);
        known && ok
    })
    .await
    .unwrap_or(false)
}

async fn hash_blocking(password: String) -> String {
    let _turn = HASHING.acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .expect("hashing")
}

// ---- one-time codes (RFC 6238) ----

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, without padding (how authenticator apps take secrets).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in text.trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The 6-digit code of `secret` (base32) for step `step` (HOTP, SHA-1).
pub fn totp_at(secret: &str, step: i64) -> Option<String> {
    let key = unbase32(secret)?;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let i = usize::from(h[19] & 0xf);
    let n = u32::from_be_bytes([h[i] & 0x7f, h[i + 1], h[i + 2], h[i + 3]]);
    Some(format!("{:06}", n % 1_000_000))
}

/// The step of `code` within one step of now, if it matches.
fn totp_step(secret: &str, code: &str, now_ms: i64) -> Option<i64> {
    let now = now_ms / 1000 / TOTP_STEP;
    (now - 1..=now + 1).find(|s| {
        totp_at(secret, *s)
            .is_some_and(|c| super::http::constant_time_eq(c.as_bytes(), code.trim().as_bytes()))
    })
}

/// A fresh TOTP secret and the `otpauth://` address an app scans.
fn new_totp(email: &str, merchant: &str) -> TotpSetup {
    let secret = base32(&rand::random::<[u8; 20]>());
    let label = format!("Cove ({merchant}):{email}");
    let uri = format!(
        "otpauth://totp/{}?secret={secret}&issuer=Cove&algorithm=SHA1&digits=6&period=30",
        label.replace(' ', "%20")
    );
    TotpSetup { secret, uri }
}

/// A one-time-code secret to set up.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// The secret, base32 (type it into the app).
    pub secret: String,
    /// The same as an `otpauth://` address (or its QR code).
    pub uri: String,
}

// ---- the store ----

/// A person as stored: their password hash and one-time-code secret.
struct Person {
    password_hash: String,
    totp_secret: Option<String>,
    totp_step: Option<i64>,
}

/// A member of a merchant's team.
#[derive(serde::Serialize, utoipa::ToSchema, Clone)]
pub struct Member {
    /// Their e-mail address (how they sign in).
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// Whether they sign in with a one-time code too.
    pub totp: bool,
    /// Joined, ms since epoch.
    pub created_at: i64,
    /// Who invited them.
    pub invited_by: String,
}

/// An invitation not yet used.
#[derive(serde::Serialize, utoipa::ToSchema, Clone)]
pub struct Invitation {
    /// Its id.
    pub id: String,
    /// Who is invited.
    pub email: String,
    /// The role they will have.
    pub role: Role,
    /// Made, ms since epoch.
    pub created_at: i64,
    /// Stops working at (ms).
    pub expires_at: i64,
    /// Who made it.
    pub invited_by: String,
    /// The link to pass on: only in the answer that makes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

fn member_of(r: &sqlx::any::AnyRow) -> Result<Member, sqlx::Error> {
    let role: String = r.try_get(1)?;
    let totp: Option<String> = r.try_get(2)?;
    Ok(Member {
        email: r.try_get(0)?,
        role: Role::parse(&role),
        totp: totp.is_some(),
        created_at: r.try_get(3)?,
        invited_by: r.try_get(4)?,
    })
}

impl Store {
    async fn person(&self, email: &str) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query(
            "SELECT password_hash, totp_secret, totp_step FROM people WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Person {
                password_hash: r.try_get(0)?,
                totp_secret: r.try_get(1)?,
                totp_step: r.try_get(2)?,
            })
        })
        .transpose()
    }

    async fn members(&self, merchant: &str) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.email, m.role, p.totp_secret, m.created_at, m.invited_by \
             FROM members m JOIN people p ON p.email = m.email \
             WHERE m.merchant_id = $1 ORDER BY m.created_at, m.email",
        )
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(member_of).collect::<Result<_, _>>()?)
    }

    /// The shops `email` belongs to, with the role in each.
    async fn memberships(&self, email: &str) -> Result<Vec<(String, Role)>, StoreError> {
        let rows = sqlx::query(
            "SELECT merchant_id, role FROM members WHERE email = $1 ORDER BY created_at",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(1)?;
                Ok((r.try_get(0)?, Role::parse(&role)))
            })
            .collect()
    }

    async fn invitations(&self, merchant: &str, now: i64) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, role, created_at, expires_at, invited_by FROM invitations \
             WHERE merchant_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at",
        )
        .bind(merchant)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(2)?;
                Ok(Invitation {
                    id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    role: Role::parse(&role),
                    created_at: r.try_get(3)?,
                    expires_at: r.try_get(4)?,
                    invited_by: r.try_get(5)?,
                    link: None,
                })
            })
            .collect()
    }

    /// The live invitation behind `token`: (merchant, invitation).
    async fn invitation(&self, token: &str) -> Result<Option<(String, Invitation)>, StoreError> {
        let row = sqlx::query(
            "SELECT merchant_id, id, email, role, created_at, expires_at, invited_by FROM invitations \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(key_hash(token))
        .bind(crate::now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let role: String = r.try_get(3)?;
            Ok((
                r.try_get(0)?,
                Invitation {
                    id: r.try_get(1)?,
                    email: r.try_get(2)?,
                    role: Role::parse(&role),
                    created_at: r.try_get(4)?,
                    expires_at: r.try_get(5)?,
                    invited_by: r.try_get(6)?,
                    link: None,
                },
            ))
        })
        .transpose()
    }

    /// Store a new invitation (its token only as a hash).
    async fn insert_invitation(
        &self,
        merchant: &str,
        inv: &Invitation,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, merchant_id, email, role, created_at, expires_at, invited_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&inv.id)
        .bind(token_hash)
        .bind(merchant)
        .bind(&inv.email)
        .bind(inv.role.name())
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .bind(&inv.invited_by)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Delete the open invitation `id`; false if there was none.
    async fn withdraw_invitation(&self, merchant: &str, id: &str) -> Result<bool, StoreError> {
        let gone = sqlx::query(
            "DELETE FROM invitations WHERE merchant_id = $1 AND id = $2 AND used_at IS NULL",
        )
        .bind(merchant)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(gone.rows_affected() > 0)
    }

    /// Use invitation `id` (once: false if it was used meanwhile), making
    /// the person if new and the member, in one transaction.
    async fn accept(
        &self,
        merchant: &str,
        invitation: &Invitation,
        new_person: Option<(String, Option<String>)>,
    ) -> Result<bool, StoreError> {
        let now = crate::now_ms();
        let mut tx = self.write_tx().await?;
        let used = sqlx::query(
            "UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(&invitation.id)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some((hash, totp)) = new_person {
            sqlx::query(
                "INSERT INTO people (email, password_hash, totp_secret, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&invitation.email)
            .bind(hash)
            .bind(totp)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM members WHERE merchant_id = $1 AND email = $2")
            .bind(merchant)
            .bind(&invitation.email)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO members (merchant_id, email, role, created_at, invited_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(merchant)
        .bind(&invitation.email)
        .bind(invitation.role.name())
        .bind(now)
        .bind(&invitation.invited_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Note that `email` used the code of `step` (each is accepted once).
    async fn totp_used(&self, email: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE people SET totp_step = $1 WHERE email = $2 AND (totp_step IS NULL OR totp_step < $1)",
        )
        .bind(step)
        .bind(email)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_totp(&self, email: &str, secret: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE people SET totp_secret = $1, totp_step = NULL WHERE email = $2")
            .bind(secret)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Set `email`'s role in `merchant` (or remove them with `None`),
    /// unless that leaves no owner; their sessions there follow at once.
    async fn change_member(
        &self,
        merchant: &str,
        email: &str,
        role: Option<Role>,
    ) -> Result<Result<(), Code>, StoreError> {
        let mut tx = self.write_tx().await?;
        let owners: Vec<String> =
            sqlx::query("SELECT email FROM members WHERE merchant_id = $1 AND role = 'owner'")
                .bind(merchant)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        if owners == [email] && role != Some(Role::Owner) {
            return Ok(Err(Code::LastOwner));
        }
        let changed = match role {
            Some(r) => {
                sqlx::query("UPDATE members SET role = $1 WHERE merchant_id = $2 AND email = $3")
                    .bind(r.name())
                    .bind(merchant)
                    .bind(email)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            }
            None => sqlx::query("DELETE FROM members WHERE merchant_id = $1 AND email = $2")
                .bind(merchant)
                .bind(email)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
        };
        if changed == 0 {
            return Ok(Err(Code::NotFound));
        }
        match role {
            Some(r) => {
                sqlx::query(
                    "UPDATE console_sessions SET scopes = $1 WHERE merchant_id = $2 AND member = $3",
                )
                .bind(r.scopes().stored())
                .bind(merchant)
                .bind(email)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM console_sessions WHERE merchant_id = $1 AND member = $2")
                    .bind(merchant)
                    .bind(email)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

// ---- the merchant's API: the team (the `members` scope) ----

/// A merchant's team.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Team {
    /// Its members, oldest first.
    pub members: Vec<Member>,
    /// Invitations not yet used and not expired.
    pub invitations: Vec<Invitation>,
}

/// An invitation to make.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The invited person's e-mail address.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// How long the link works, in hours (up to 720; default 72).
    pub expires_hours: Option<f64>,
}

/// A member's new role.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The role.
    pub role: Role,
}

/// An e-mail address as stored: trimmed and lower case; `None` if it is
/// not one.
pub fn normal_email(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    (!local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.contains(char::is_whitespace)
        && !domain.contains('@'))
    .then_some(e)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(Code::InvalidMemberRequest, message)
}

async fn audit(
    state: &AppState,
    merchant: &str,
    action: &str,
    actor: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    state
        .store
        .record_event(merchant, "members", action, actor, &detail)
        .await
}

/// `GET /v1/merchants/{m}/members`: the team and its open invitations.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/members", tag = "team", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The team", body = Team)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(Team {
        members: state.store.members(&merchant).await?,
        invitations: state.store.invitations(&merchant, crate::now_ms()).await?,
    })
    .into_response())
}

/// `POST /v1/merchants/{m}/invitations`: invite someone; the answer's
/// `link` (shown only this once) is what to pass on to them.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/invitations", tag = "team", params(("merchant" = String, Path, description = "Merchant id")), request_body = NewInvitation, responses((status = 201, description = "Invited; `link` is shown only this once", body = Invitation)))]
pub async fn invite(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    JsonBody(input): JsonBody<NewInvitation>,
) -> Result<Response, ApiError> {
    let email = normal_email(&input.email)
        .ok_or_else(|| bad(format!("`{}` is not an e-mail address", input.email.trim())))?;
    let hours = input.expires_hours.unwrap_or(f64::from(INVITE_HOURS));
    if !(hours > 0.0 && hours <= f64::from(MAX_INVITE_HOURS)) {
        return Err(bad(format!(
            "expires_hours is more than 0 and at most {MAX_INVITE_HOURS}"
        )));
    }
    if state
        .store
        .members(&merchant)
        .await?
        .iter()
        .any(|m| m.email == email)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::AlreadyMember,
            format!("{email} is on the team already; change their role instead"),
        ));
    }
    let token = format!("ci_{}", hex::encode(rand::random::<[u8; 24]>()));
    let now = crate::now_ms();
    let invitation = Invitation {
        id: format!("inv_{}", hex::encode(rand::random::<[u8; 6]>())),
        email,
        role: input.role,
        created_at: now,
        expires_at: now + (hours * 3_600_000.0) as i64,
        invited_by: actor.clone(),
        link: Some(format!("/console#invite={token}")),
    };
    state
        .store
        .insert_invitation(&merchant, &invitation, &key_hash(&token))
        .await?;
    audit(
        &state,
        &merchant,
        "invite",
        &actor,
        serde_json::json!({"email": invitation.email, "role": invitation.role}),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(invitation)).into_response())
}

/// `DELETE /v1/merchants/{m}/invitations/{id}`: withdraw an invitation.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/invitations/{id}", tag = "team", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Invitation id")), responses((status = 204, description = "Withdrawn")))]
pub async fn withdraw(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let gone = state.store.withdraw_invitation(&merchant, &id).await?;
    if !gone {
        return Err(ApiError::not_found(format!("no open invitation `{id}`")));
    }
    audit(
        &state,
        &merchant,
        "withdraw",
        &actor,
        serde_json::json!({"id": id}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn change(
    state: &AppState,
    merchant: &str,
    actor: &str,
    email: &str,
    role: Option<Role>,
) -> Result<Response, ApiError> {
    let email = normal_email(email).unwrap_or_default();
    match state.store.change_member(merchant, &email, role).await? {
        Ok(()) => {}
        Err(Code::LastOwner) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Code::LastOwner,
                format!("{email} is the last owner: make someone else an owner first"),
            ));
        }
        Err(_) => return Err(ApiError::not_found(format!("no member `{email}`"))),
    }
    // Their cached sessions on this replica follow at once (others within
    // a second).
    state.sessions.forget_member(merchant, &email);
    let action = if role.is_some() { "role" } else { "remove" };
    audit(
        state,
        merchant,
        action,
        actor,
        serde_json::json!({"email": email, "role": role}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /v1/merchants/{m}/members/{email}`: change a member's role (the
/// last owner stays an owner).
#[utoipa::path(put, path = "/v1/merchants/{merchant}/members/{email}", tag = "team", params(("merchant" = String, Path, description = "Merchant id"), ("email" = String, Path, description = "The member's e-mail address")), request_body = RoleChange, responses((status = 204, description = "Changed")))]
pub async fn set_role(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    Path((_, email)): Path<(String, String)>,
    JsonBody(input): JsonBody<RoleChange>,
) -> Result<Response, ApiError> {
    change(&state, &merchant, &actor, &email, Some(input.role)).await
}

/// `DELETE /v1/merchants/{m}/members/{email}`: remove a member (not the
/// last owner); their sessions end.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/members/{email}", tag = "team", params(("merchant" = String, Path, description = "Merchant id"), ("email" = String, Path, description = "The member's e-mail address")), responses((status = 204, description = "Removed")))]
pub async fn remove(
    State(state): State<AppState>,
    ForMerchant {
        merchant, actor, ..
    }: ForMerchant,
    Path((_, email)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    change(&state, &merchant, &actor, &email, None).await
}

// ---- signing in: what the console's routes use ----

/// A member, signed in: the shop, who, and what their role allows.
pub struct SignedIn {
    /// The shop.
    pub merchant: String,
    /// Their e-mail address.
    pub email: String,
    /// Their role there.
    pub role: Role,
}

impl SignedIn {
    /// Who acts, for the audit log: `member:EMAIL`.
    pub fn actor(&self) -> String {
        format!("member:{}", self.email)
    }
}

/// Why a sign-in was refused (every refusal counts as a failure).
fn refused(code: Code, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Check `email`'s password (and code) for `merchant` (or their only
/// shop). Takes as long whether or not the address is known; throttled
/// per address and per account by the caller.
pub async fn check(
    state: &AppState,
    email: &str,
    password: &str,
    code: Option<&str>,
    merchant: Option<&str>,
) -> Result<SignedIn, ApiError> {
    let email = normal_email(email).unwrap_or_default();
    let person = state.store.person(&email).await?;
    let stored = person.as_ref().map(|p| p.password_hash.clone());
    if !verify_blocking(stored, password.to_string()).await {
        return Err(refused(
            Code::SignInFailed,
            "that e-mail address and password do not match",
        ));
    }
    let person = person.expect("verified");
    let shops = state.store.memberships(&email).await?;
    let (merchant, role) = match merchant {
        Some(m) => shops.into_iter().find(|(s, _)| s == m),
        None if shops.len() > 1 => {
            // The shops in the body (`merchants`) for the console to offer.
            let names: Vec<&str> = shops.iter().map(|(s, _)| s.as_str()).collect();
            let message = format!("you belong to several shops ({}); choose one", names.join(", "));
            let body = serde_json::json!({"code": Code::ChooseMerchant, "message": message, "merchants": names});
            return Err(ApiError::new(StatusCode::CONFLICT, Code::ChooseMerchant, message).with_body(body));
        }
        None => shops.into_iter().next(),
    }
    .ok_or_else(|| {
        refused(
            Code::SignInFailed,
            "that e-mail address and password do not match a member of this shop",
        )
    })?;
    if let Some(secret) = &person.totp_secret {
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(refused(
                Code::TotpNeeded,
                "enter the 6-digit code from your authenticator app",
            ));
        };
        let step = totp_step(secret, code, crate::now_ms());
        let fresh = match step {
            Some(s) => {
                person.totp_step.is_none_or(|last| s > last)
                    && state.store.totp_used(&email, s).await?
            }
            None => false,
        };
        if !fresh {
            return Err(refused(
                Code::SignInFailed,
                "that code is wrong or was used already; wait for the next one",
            ));
        }
    } else if role == Role::Owner && state.owner_totp {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::TotpRequired,
            "owners of this Cove sign in with a one-time code: ask another owner to invite you again and set one up",
        ));
    }
    Ok(SignedIn {
        merchant,
        email,
        role,
    })
}

/// What an invitation link shows before it is accepted.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    /// The shop.
    pub merchant: String,
    /// Who is invited.
    pub email: String,
    /// The role they will have.
    pub role: Role,
    /// Until when the link works (ms).
    pub expires_at: i64,
    /// Whether they have a Cove password already (then they enter it
    /// instead of choosing one).
    pub account: bool,
    /// Whether they must set up a one-time code (owners, if the operator
    /// says so).
    pub totp_required: bool,
    /// A one-time-code secret to set up, if they want one (or must).
    pub totp: Option<TotpSetup>,
}

/// Accepting an invitation.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// A new password, or their password if they have an account.
    pub password: String,
    /// The one-time-code secret shown with the invitation, if they set
    /// one up.
    pub totp_secret: Option<String>,
    /// The app's current code for that secret.
    pub totp_code: Option<String>,
}

/// The open invitation behind `token`, or 404 `invalid_invitation`.
pub async fn open_invitation(
    state: &AppState,
    token: &str,
) -> Result<(String, Invitation), ApiError> {
    state.store.invitation(token).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            Code::InvalidInvitation,
            "this invitation link is unknown, used or expired: ask for a new one",
        )
    })
}

/// What the invitation behind `token` offers.
pub async fn show_invitation(state: &AppState, token: &str) -> Result<InvitationView, ApiError> {
    let (merchant, inv) = open_invitation(state, token).await?;
    let account = state.store.person(&inv.email).await?;
    let has_totp = account.as_ref().is_some_and(|p| p.totp_secret.is_some());
    Ok(InvitationView {
        totp_required: inv.role == Role::Owner && state.owner_totp && !has_totp,
        totp: (!has_totp).then(|| new_totp(&inv.email, &merchant)),
        account: account.is_some(),
        expires_at: inv.expires_at,
        email: inv.email,
        role: inv.role,
        merchant,
    })
}

/// Accept the invitation behind `token`: set (or check) the password and
/// the one-time code; the member is made once, however often this is
/// sent.
pub async fn accept(state: &AppState, token: &str, input: Accept) -> Result<SignedIn, ApiError> {
    let (merchant, inv) = open_invitation(state, token).await?;
    let person = state.store.person(&inv.email).await?;
    let totp = match (&input.totp_secret, &input.totp_code) {
        (Some(secret), Some(code)) => {
            if person.as_ref().is_some_and(|p| p.totp_secret.is_some()) {
                return Err(bad("you have a one-time code set up already"));
            }
            if totp_step(secret, code, crate::now_ms()).is_none() {
                return Err(bad(
                    "that code does not match the secret: check the app's clock and try the next code",
                ));
            }
            Some(secret.clone())
        }
        (None, None) => None,
        _ => return Err(bad("send both totp_secret and totp_code, or neither")),
    };
    let required = inv.role == Role::Owner
        && state.owner_totp
        && person.as_ref().is_none_or(|p| p.totp_secret.is_none());
    if required && totp.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::TotpRequired,
            "owners of this Cove sign in with a one-time code: set one up with the secret shown",
        ));
    }
    let new_person = match &person {
        Some(p) => {
            if !verify_blocking(Some(p.password_hash.clone()), input.password.clone()).await {
                return Err(refused(
                    Code::SignInFailed,
                    "you have a Cove account: enter its password to join this shop",
                ));
            }
            if let Some(secret) = &totp {
                state.store.set_totp(&inv.email, Some(secret)).await?;
            }
            None
        }
        None => {
            if let Some(why) = weak(&input.password, &inv.email) {
                return Err(ApiError::unprocessable(Code::WeakPassword, why));
            }
            Some((hash_blocking(input.password).await, totp))
        }
    };
    if !state.store.accept(&merchant, &inv, new_person).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::InvalidInvitation,
            "this invitation was used meanwhile",
        ));
    }
    let joined = SignedIn {
        merchant,
        email: inv.email,
        role: inv.role,
    };
    audit(
        state,
        &joined.merchant,
        "join",
        &joined.actor(),
        serde_json::json!({"email": joined.email, "role": joined.role, "invited_by": inv.invited_by}),
    )
    .await?;
    Ok(joined)
}

/// A fresh one-time-code secret for a signed-in member to set up.
pub fn propose_totp(email: &str, merchant: &str) -> TotpSetup {
    new_totp(email, merchant)
}

/// Turn `email`'s one-time code on (`secret` with its current `code`) or
/// off (`secret` None, their current `code`).
pub async fn set_totp(
    state: &AppState,
    signed: &SignedIn,
    secret: Option<&str>,
    code: &str,
) -> Result<(), ApiError> {
    let person = state
        .store
        .person(&signed.email)
        .await?
        .ok_or_else(|| ApiError::not_found("no such member"))?;
    let now = crate::now_ms();
    match secret {
        Some(secret) => {
            if totp_step(secret, code, now).is_none() {
                return Err(bad("that code does not match the secret"));
            }
            state.store.set_totp(&signed.email, Some(secret)).await?;
        }
        None => {
            if signed.role == Role::Owner && state.owner_totp {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    Code::TotpRequired,
                    "owners of this Cove must keep their one-time code",
                ));
            }
            let current = person.totp_secret.as_deref().unwrap_or_default();
            if totp_step(current, code, now).is_none() {
                return Err(bad("that is not your current code"));
            }
            state.store.set_totp(&signed.email, None).await?;
        }
    }
    audit(
        state,
        &signed.merchant,
        if secret.is_some() {
            "totp on"
        } else {
            "totp off"
        },
        &signed.actor(),
        serde_json::json!({"email": signed.email}),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test vectors (the last six digits), from its
    /// appendix B: the secret is the ASCII "12345678901234567890".
    #[test]
    fn totp_matches_rfc_6238() {
        let secret = base32(b"12345678901234567890");
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(totp_at(&secret, t / 30).unwrap(), code, "T = {t}");
        }
        assert_eq!(totp_step(&secret, "287082", 59_000), Some(1));
        assert_eq!(totp_step(&secret, "287083", 59_000), None);
    }

    #[test]
    fn passwords_are_checked_and_hashed() {
        assert!(weak("short", "a@b.co").is_some());
        assert!(weak("password123", "a@b.co").unwrap().contains("common"));
        assert!(weak("annabelle-shop-2026", "annabelle@b.co").is_some());
        assert!(weak("correct horse battery", "a@b.co").is_none());
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterY"));
        assert!(!verify_password("garbage", "x"));
    }

    #[test]
    fn roles_grant_what_the_issue_says() {
        assert!(Role::Owner.scopes().has(Scope::Members));
        assert!(!Role::Editor.scopes().has(Scope::Keys));
        assert!(!Role::Editor.scopes().has(Scope::Members));
        assert!(Role::Editor.scopes().has(Scope::Policies));
        assert_eq!(Role::Analyst.scopes().list(), [Scope::Read]);
        assert_eq!(Role::Support.scopes().list(), [Scope::Support]);
        assert_eq!(
            normal_email(" Ann@Shop.Example "),
            Some("ann@shop.example".into())
        );
        assert_eq!(normal_email("ann"), None);
        assert_eq!(normal_email("ann@shop"), None);
    }
}
