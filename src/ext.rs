//! [`ServiceBuilderExt`]: the layers as [`ServiceBuilder`] methods.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_webhook::body::BufferedBody;
//! use tower_webhook::ip::IpFilterLayer;
//! use tower_webhook::signature::SignatureLayer;
//! use tower_webhook::{Secret, ServiceBuilderExt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = ServiceBuilder::new()
//!     .webhook_ip_filter(IpFilterLayer::new().allow("10.0.0.0/8")?)
//!     .webhook_signature(SignatureLayer::github(Secret::new("It's a Secret to Everybody")?))
//!     .service_fn(|_: Request<BufferedBody>| async {
//!         Ok::<_, Infallible>(Response::new(String::from("thanks")))
//!     });
//! # let _ = service;
//! # Ok(())
//! # }
//! ```

use tower::layer::util::Stack;
use tower::ServiceBuilder;

use crate::audit::AuditLayer;
use crate::idempotency::IdempotencyLayer;
use crate::ip::IpFilterLayer;
use crate::replay::ReplayLayer;
use crate::signature::SignatureLayer;
use crate::stack::WebhookLayer;
use crate::tenant::TenantLayer;
use crate::token::TokenLayer;

/// Adds the webhook layers to [`ServiceBuilder`], as tower-http's
/// `ServiceBuilderExt` does for its own. Outermost first, as always with
/// a `ServiceBuilder`.
pub trait ServiceBuilderExt<L>: sealed::Sealed {
    /// [`AuditLayer`]: one event per request; put it first (outermost).
    fn webhook_audit(self, layer: AuditLayer) -> ServiceBuilder<Stack<AuditLayer, L>>;

    /// [`IpFilterLayer`]: refuse clients outside an allowlist.
    fn webhook_ip_filter(self, layer: IpFilterLayer) -> ServiceBuilder<Stack<IpFilterLayer, L>>;

    /// [`TokenLayer`]: require a static token or credential.
    fn webhook_token(self, layer: TokenLayer) -> ServiceBuilder<Stack<TokenLayer, L>>;

    /// [`SignatureLayer`]: require a signature.
    fn webhook_signature(self, layer: SignatureLayer) -> ServiceBuilder<Stack<SignatureLayer, L>>;

    /// [`ReplayLayer`]: refuse timestamps outside a window.
    fn webhook_replay(self, layer: ReplayLayer) -> ServiceBuilder<Stack<ReplayLayer, L>>;

    /// [`IdempotencyLayer`]: handle each delivery once.
    fn webhook_idempotency(
        self,
        layer: IdempotencyLayer,
    ) -> ServiceBuilder<Stack<IdempotencyLayer, L>>;

    /// [`TenantLayer`]: each tenant's own policy.
    fn webhook_tenants(self, layer: TenantLayer) -> ServiceBuilder<Stack<TenantLayer, L>>;

    /// A whole [`WebhookStack`](crate::stack::WebhookStack).
    fn webhook_stack(self, layer: WebhookLayer) -> ServiceBuilder<Stack<WebhookLayer, L>>;
}

impl<L> ServiceBuilderExt<L> for ServiceBuilder<L> {
    fn webhook_audit(self, layer: AuditLayer) -> ServiceBuilder<Stack<AuditLayer, L>> {
        self.layer(layer)
    }

    fn webhook_ip_filter(self, layer: IpFilterLayer) -> ServiceBuilder<Stack<IpFilterLayer, L>> {
        self.layer(layer)
    }

    fn webhook_token(self, layer: TokenLayer) -> ServiceBuilder<Stack<TokenLayer, L>> {
        self.layer(layer)
    }

    fn webhook_signature(self, layer: SignatureLayer) -> ServiceBuilder<Stack<SignatureLayer, L>> {
        self.layer(layer)
    }

    fn webhook_replay(self, layer: ReplayLayer) -> ServiceBuilder<Stack<ReplayLayer, L>> {
        self.layer(layer)
    }

    fn webhook_idempotency(
        self,
        layer: IdempotencyLayer,
    ) -> ServiceBuilder<Stack<IdempotencyLayer, L>> {
        self.layer(layer)
    }

    fn webhook_tenants(self, layer: TenantLayer) -> ServiceBuilder<Stack<TenantLayer, L>> {
        self.layer(layer)
    }

    fn webhook_stack(self, layer: WebhookLayer) -> ServiceBuilder<Stack<WebhookLayer, L>> {
        self.layer(layer)
    }
}

mod sealed {
    pub trait Sealed {}
    impl<L> Sealed for tower::ServiceBuilder<L> {}
}
