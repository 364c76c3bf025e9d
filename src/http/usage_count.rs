//! Counting API requests per credential and per OAuth app (`runtime::usage`): the bearer
//! extractor marks the request with whose it was, and this middleware counts it once answered,
//! as a failure when the answer is an error (status 400 or more, a rate-limit refusal included).
//! Credentials refused before they authenticate are counted by the credential check itself, and
//! those the policy refuses (an owner no longer a member) by the extractor.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::domain::policy::Origin;
use crate::domain::principal::Principal;
use crate::runtime::usage::Subject;
use crate::state::AppState;

/// Whose request this was: left on the request by the bearer extractor.
#[derive(Clone)]
pub struct UsageMark {
    subject: Subject,
    id: String,
}

impl UsageMark {
    /// The mark of a request by `p`: its credential, else its OAuth app; none for a person's
    /// own session tokens.
    pub fn of(p: &Principal) -> Option<Self> {
        if let Some(id) = &p.credential_id {
            return Some(Self {
                subject: Subject::Credential,
                id: id.clone(),
            });
        }
        match (&p.origin, &p.client_id) {
            (Origin::App { .. } | Origin::Client, Some(id)) => Some(Self {
                subject: Subject::App,
                id: id.clone(),
            }),
            _ => None,
        }
    }

    /// Counts the request now (one refused before it reached a handler).
    pub fn count(self, usage: &crate::runtime::usage::Usage, failed: bool) {
        usage.count(self.subject, &self.id, failed);
    }

    /// Leaves the mark on `req`.
    pub fn insert(self, req: &actix_web::HttpRequest) {
        req.extensions_mut().insert(self);
    }
}

/// Middleware: counts each marked request once it is answered.
pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let mark = res.request().extensions_mut().remove::<UsageMark>();
    if let Some(mark) = mark
        && let Some(state) = res.request().app_data::<web::Data<AppState>>()
    {
        let failed = res.status().as_u16() >= 400;
        mark.count(state.ctx.usage(), failed);
    }
    Ok(res)
}
