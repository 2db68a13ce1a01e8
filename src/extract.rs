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
//! The body a tower-webhook layer read is already bounded by that layer's
//! limit (a provider's cap: 25 MB for GitHub), so `Verified<T>` lifts
//! axum's own 2 MB default for extractors (`DefaultBodyLimit`) for it: a
//! delivery the stack accepted is not refused by the extractor behind it.
//! A plain `Bytes` or `Json` extractor without `Verified` keeps axum's
//! default: raise it with `DefaultBodyLimit::max` on such a route.
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

use std::convert::Infallible;
use std::fmt;

use axum_core::extract::{FromRequest, FromRequestParts, Request};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::body::RawBody;
use crate::context::{Verification, WebhookContext};

/// A payload that a tower-webhook layer verified, with what it found.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The payload, extracted by `T` from the verified body.
    pub payload: T,
    /// What the layers decided: authentication, key id, tenant, timestamp...
    pub verification: Verification,
}

/// Why [`Verified`], [`WebhookContext`] or [`Verification`] (as
/// extractors) refused to hand over what the handler asked for.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifiedRejection<R = Infallible> {
    /// No tower-webhook layer ran in front of the handler: the router is
    /// misconfigured. Answered with 500.
    NoContext,
    /// No layer authenticated this request: the router is misconfigured.
    /// Answered with 500 so the payload is never processed.
    NotVerified,
    /// The inner extractor refused (e.g. the JSON is malformed).
    Inner(R),
}

impl<R: fmt::Display> fmt::Display for VerifiedRejection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifiedRejection::NoContext => {
                f.write_str("no tower-webhook layer ran before this handler")
            }
            VerifiedRejection::NotVerified => {
                f.write_str("no tower-webhook layer authenticated this request")
            }
            VerifiedRejection::Inner(rejection) => rejection.fmt(f),
        }
    }
}

impl<R: std::error::Error> std::error::Error for VerifiedRejection<R> {}

impl<S: Send + Sync> FromRequestParts<S> for WebhookContext {
    type Rejection = VerifiedRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        WebhookContext::get(&parts.extensions)
            .cloned()
            .ok_or(VerifiedRejection::NoContext)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Verification {
    type Rejection = VerifiedRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        WebhookContext::get(&parts.extensions)
            .map(WebhookContext::snapshot)
            .ok_or(VerifiedRejection::NoContext)
    }
}

impl<R: IntoResponse> IntoResponse for VerifiedRejection<R> {
    fn into_response(self) -> Response {
        match self {
            VerifiedRejection::NoContext => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "webhook layers not configured",
            )
                .into_response(),
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
        let request = lift_default_body_limit(request).await;
        let payload = T::from_request(request, state)
            .await
            .map_err(VerifiedRejection::Inner)?;
        Ok(Verified {
            payload,
            verification,
        })
    }
}

/// The request with axum's extractor body limit lifted when a layer already
/// read the body under its own limit ([`RawBody`] present). axum keeps the
/// limit as a private request extension that only its `DefaultBodyLimit`
/// layer writes, so the layer is run here on the request alone.
async fn lift_default_body_limit(request: Request) -> Request {
    use std::future::{ready, Ready};
    use std::task::{Context, Poll};
    use tower_layer::Layer;
    use tower_service::Service;

    /// Hands the request back as it received it.
    struct Echo;
    impl Service<Request> for Echo {
        type Response = Request;
        type Error = Infallible;
        type Future = Ready<Result<Request, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, request: Request) -> Self::Future {
            ready(Ok(request))
        }
    }

    if request.extensions().get::<RawBody>().is_none() {
        return request;
    }
    let mut lifted = axum_core::extract::DefaultBodyLimit::disable().layer(Echo);
    let ready = std::future::poll_fn(|cx| lifted.poll_ready(cx)).await;
    let lifted = match ready {
        Ok(()) => lifted.call(request).await,
        Err(never) => match never {},
    };
    match lifted {
        Ok(request) => request,
        Err(never) => match never {},
    }
}
