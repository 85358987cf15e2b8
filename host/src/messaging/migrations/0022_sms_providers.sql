-- A merchant's SMS provider credentials: Twilio's auth token signs the
-- inbound SMS webhooks it sends.
CREATE TABLE sms_providers (
    merchant_id       TEXT PRIMARY KEY REFERENCES merchants(id),
    twilio_auth_token TEXT NOT NULL,
    updated_at        BIGINT NOT NULL
)
