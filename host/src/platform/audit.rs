//! The audit of changes made through the merchant API: every successful
//! write records who made it (the member or the key, by name and prefix)
//! and what it changed, in the merchant's audit log. Routes whose handlers
//! write a fuller record of their own (bindings, keys, the team) and bulk
//! imports (one line per upload would drown the log) are left to them.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::http::ActorSlot;
use super::keys::Scope;
use crate::AppState;

/// What a write did, by method and the route's last fixed word:
/// `POST …/returns/{id}/decision` is a `decision`, `PUT …/articles/{id}`
/// a `change`.
fn action(method: &Method, template: &str) -> String {
    let last = template.rsplit('/').next().unwrap_or_default();
    if *method == Method::POST && !last.starts_with('{') && template.matches('{').count() > 1 {
        return last.to_string();
    }
    match *method {
        Method::POST => "create",
        Method::DELETE => "delete",
        _ => "change",
    }
    .to_string()
}

/// Middleware over the merchant API: record each successful change.
pub async fn record_changes(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // Only changes of the kinds audited here cost anything more (a
    // decision, say, needs `policies`: it passes straight through).
    let template = req.extensions().get::<MatchedPath>().cloned();
    let audited = match (template.as_ref(), state.permissions.get()) {
        (Some(t), Some(p))
            if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) =>
        {
            matches!(p.needs(req.method(), t.as_str()).scope, Scope::Write)
        }
        _ => false,
    };
    let Some(template) = template.filter(|_| audited) else {
        return next.run(req).await;
    };
    let slot = ActorSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let Some(actor) = slot.0.get() else {
        return res;
    };
    let template = template.as_str();
    if !res.status().is_success() {
        return res;
    }
    // `/v1/merchants/{merchant}/SUBJECT/…`
    let mut parts = template.split('/').skip(3);
    let (Some(_), Some(subject)) = (parts.next(), parts.next()) else {
        return res;
    };
    let Some(merchant) = path.split('/').nth(3) else {
        return res;
    };
    let detail = serde_json::json!({"path": path, "method": method.as_str()});
    if let Err(e) = state
        .store
        .record_event(
            merchant,
            subject,
            &action(&method, template),
            actor,
            &detail,
        )
        .await
    {
        tracing::warn!(error = %e, "could not record a change in the audit log");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_by_method_and_route() {
        let m = "/v1/merchants/{merchant}";
        assert_eq!(
            action(&Method::POST, &format!("{m}/returns/{{id}}/decision")),
            "decision"
        );
        assert_eq!(action(&Method::POST, &format!("{m}/experiments")), "create");
        assert_eq!(
            action(&Method::PUT, &format!("{m}/articles/{{id}}")),
            "change"
        );
        assert_eq!(
            action(&Method::DELETE, &format!("{m}/customers/{{id}}")),
            "delete"
        );
    }
}
