//! The sending side as a tower layer: [`SigningLayer`] signs every outgoing
//! request with a provider preset, for services that deliver webhooks
//! themselves.
//!
//! The layer reads the request body once, asks the [`Signer`] for the
//! headers the provider would send (with a fresh timestamp, and a fresh
//! delivery id unless the request carries a [`DeliveryId`]), adds them and
//! hands the request on with a [`Full`] body over the same bytes. Any tower
//! HTTP client taking `Request<Full<Bytes>>` works underneath — hyper-util's
//! legacy client, or a test service:
//!
//! ```
//! use bytes::Bytes;
//! use http::Request;
//! use http_body_util::Full;
//! use tower::{Service, ServiceBuilder, ServiceExt};
//! use tower_webhook::client::SigningLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
//! // in production; here a service that shows what would be sent.
//! let send = tower::service_fn(|request: Request<Full<Bytes>>| async move {
//!     Ok::<_, std::convert::Infallible>(request.headers()["x-hub-signature-256"].clone())
//! });
//! let mut client = ServiceBuilder::new()
//!     .layer(SigningLayer::preset("github", "It's a Secret to Everybody")?)
//!     .service(send);
//! let request = Request::post("https://receiver.example/hooks")
//!     .body(Full::new(Bytes::from_static(b"Hello, World!")))?;
//! let signature = ServiceExt::<Request<Full<Bytes>>>::ready(&mut client)
//!     .await?
//!     .call(request)
//!     .await?;
//! assert_eq!(
//!     signature,
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
//! );
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::BoxError;
use crate::guard::take_ready;
#[cfg(feature = "provider")]
use crate::signature::SignatureConfigError;
use crate::signature::{unix_now, SignError, Signer};

/// The delivery id to sign a request with (a request extension). Without
/// it, the layer generates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryId(pub String);

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;
type Ids = Arc<dyn Fn() -> String + Send + Sync>;

/// Signs outgoing requests; see the [module docs](self).
#[derive(Clone)]
pub struct SigningLayer {
    signer: Arc<Signer>,
    clock: Clock,
    ids: Ids,
}

impl fmt::Debug for SigningLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningLayer")
            .field("scheme", &self.signer.scheme().name())
            .finish_non_exhaustive()
    }
}

impl SigningLayer {
    /// Sign with `signer`.
    pub fn new(signer: Signer) -> Self {
        Self {
            signer: Arc::new(signer),
            clock: Arc::new(unix_now),
            ids: Arc::new(random_id),
        }
    }

    /// Sign with the preset `name` and the secret as the provider shows it.
    #[cfg(feature = "provider")]
    #[cfg_attr(docsrs, doc(cfg(feature = "provider")))]
    pub fn preset(name: &str, shown_secret: &str) -> Result<Self, SignatureConfigError> {
        Signer::preset(name, shown_secret).map(Self::new)
    }

    /// Read the timestamp (Unix seconds) from `clock` instead of the system
    /// clock.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Make delivery ids with `ids` instead of random UUIDs (a request's
    /// own [`DeliveryId`] still wins).
    pub fn ids(mut self, ids: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.ids = Arc::new(ids);
        self
    }
}

/// A random (version 4) UUID, the shape most providers' delivery ids have.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl<S> Layer<S> for SigningLayer {
    type Service = Signing<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Signing {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service of [`SigningLayer`].
#[derive(Clone, Debug)]
pub struct Signing<S> {
    layer: SigningLayer,
    inner: S,
}

impl<S> Signing<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for Signing<S>
where
    S: Service<Request<Full<Bytes>>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    /// Reading and signing the body, then the inner call, as one boxed
    /// future: reading the body needed a box already.
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let layer = self.layer.clone();
        let mut inner = take_ready(&mut self.inner);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
            let mut request = Request::from_parts(parts, bytes);
            let id = match request.extensions().get::<DeliveryId>() {
                Some(DeliveryId(id)) => id.clone(),
                None => (layer.ids)(),
            };
            layer
                .signer
                .sign_request(&mut request, (layer.clock)(), &id)
                .map_err(|error: SignError| -> BoxError { Box::new(error) })?;
            inner.call(request.map(Full::new)).await.map_err(Into::into)
        })
    }
}
