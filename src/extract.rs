//! axum extractors that only hand over verified payloads.
//!
//! [`Verified<T>`] wraps any extractor `T` (`Json<Event>`, `Bytes`,
//! `String`, `Form<…>`): it runs `T` only when a tower-webhook layer in front
//! of the handler authenticated the request, and hands the handler the
//! payload together with the [`Verification`]. A handler written with it
//! cannot read an unverified payload by accident, even when someone later
//! removes the layer from the router: the request is then refused with 500
//! instead of being processed.
//!
//! ```
//! use axum::{routing::post, Json, Router};
//! use serde_json::Value;
//! use tower_webhook::extract::Verified;
//!
//! async fn handle(Verified { payload: Json(event), verification }: Verified<Json<Value>>) -> String {
//!     let key = verification.authentication.and_then(|a| a.key_id);
//!     format!("event {} verified with key {key:?}", event["id"])
//! }
//!
//! let app: Router = Router::new().route("/hook", post(handle));
//! # let _ = app;
//! ```

use axum_core::extract::{FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

use crate::context::{Verification, WebhookContext};

/// A payload that a tower-webhook layer verified, with what it found.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The payload, extracted by `T` from the verified body.
    pub payload: T,
    /// What the layers decided: authentication, key id, tenant, timestamp...
    pub verification: Verification,
}

/// Why [`Verified`] refused to hand over a payload.
#[derive(Debug)]
pub enum VerifiedRejection<R> {
    /// No layer authenticated this request: the router is misconfigured.
    /// Answered with 500 so the payload is never processed.
    NotVerified,
    /// The inner extractor refused (e.g. the JSON is malformed).
    Inner(R),
}

impl<R: IntoResponse> IntoResponse for VerifiedRejection<R> {
    fn into_response(self) -> Response {
        match self {
            VerifiedRejection::NotVerified => {
                tracing::error!(
                    "Verified<T> used on a route without a tower-webhook authentication layer"
                );
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "webhook verification not configured",
                )
                    .into_response()
            }
            VerifiedRejection::Inner(rejection) => rejection.into_response(),
        }
    }
}

impl<S, T> FromRequest<S> for Verified<T>
where
    S: Send + Sync,
    T: FromRequest<S>,
{
    type Rejection = VerifiedRejection<T::Rejection>;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verification = WebhookContext::get(request.extensions())
            .map(WebhookContext::snapshot)
            .filter(|v| v.authentication.is_some() && v.rejection.is_none())
            .ok_or(VerifiedRejection::NotVerified)?;
        let payload = T::from_request(request, state)
            .await
            .map_err(VerifiedRejection::Inner)?;
        Ok(Verified {
            payload,
            verification,
        })
    }
}
