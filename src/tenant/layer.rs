//! The tenant layer: resolve the tenant's policy, then run its checks.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::WWW_AUTHENTICATE;
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode};
use moka::future::Cache;
use tower_layer::Layer;
use tower_service::Service;

use super::key::TenantKey;
use super::policy::{TenantLookup, TenantPolicy, TenantResolver};
use crate::body::{ResponseBody, DEFAULT_BODY_LIMIT};
use crate::chain::CheckChain;
use crate::context::{AuthMethod, WebhookContext};
use crate::guard::{take_ready, AsyncGuardFuture, BodyCheck, BodyGuard};
use crate::ip::{ClientIp, ResolvedClientIp};
use crate::rejection::{is_grpc, Reason, Rejection, Stop};

/// Resolves each request's tenant and holds it to that tenant's policy.
///
/// See the [module docs](crate::tenant) for an example.
#[derive(Clone)]
pub struct TenantLayer {
    key: TenantKey,
    resolver: Arc<dyn TenantResolver>,
    cache: Cache<String, TenantLookup>,
    legacy: Option<Arc<TenantPolicy>>,
    unknown_status: StatusCode,
    challenge: Option<HeaderValue>,
    body_limit: usize,
    client_ip: Option<ClientIp>,
}

impl fmt::Debug for TenantLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantLayer")
            .field("key", &self.key)
            .field("legacy", &self.legacy.is_some())
            .field("unknown_status", &self.unknown_status)
            .field("challenge", &self.challenge)
            .field("body_limit", &self.body_limit)
            .field("client_ip", &self.client_ip)
            .finish_non_exhaustive()
    }
}

/// How long resolved policies are cached unless told otherwise.
pub(crate) const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);

impl TenantLayer {
    /// Tenants named by `key`, policies from `resolver`.
    ///
    /// Defaults: policies cached for 30 s (at most 10,000 tenants), unknown
    /// tenants answered `401` (like a failed credential, so the answer does
    /// not tell whether the tenant exists), tenants without a policy
    /// refused until [`TenantLayer::legacy_policy`] says what they keep.
    pub fn new(key: TenantKey, resolver: impl TenantResolver) -> Self {
        Self {
            key,
            resolver: Arc::new(resolver),
            cache: Self::cache(DEFAULT_CACHE_TTL),
            legacy: None,
            unknown_status: StatusCode::UNAUTHORIZED,
            challenge: None,
            body_limit: DEFAULT_BODY_LIMIT,
            client_ip: None,
        }
    }

    fn cache(ttl: Duration) -> Cache<String, TenantLookup> {
        Cache::builder()
            .max_capacity(10_000)
            .time_to_live(ttl)
            .build()
    }

    /// Keep resolved policies for `ttl`; a rotated secret takes effect
    /// within that time, or at once with [`TenantLayer::invalidate`].
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.cache = Self::cache(ttl);
        self
    }

    /// What tenants without a policy of their own keep (typically their
    /// static token).
    pub fn legacy_policy(mut self, policy: TenantPolicy) -> Self {
        self.legacy = Some(Arc::new(policy));
        self
    }

    /// Answer unknown tenants with `status` (e.g. `404`) instead of `401`.
    pub fn unknown_tenant_status(mut self, status: StatusCode) -> Self {
        self.unknown_status = status;
        self
    }

    /// Send `challenge` as `WWW-Authenticate` with every `401` this layer
    /// answers, for known and unknown tenants alike (e.g.
    /// `Basic realm="webhooks"` for senders that wait to be asked for
    /// credentials). Default: none.
    ///
    /// The challenges a tenant's own token check would send (`Bearer
    /// realm=…` for a Bearer policy) are never sent: they would differ
    /// between a tenant with such a policy and an unknown one, and so tell
    /// which tenants exist.
    pub fn challenge(mut self, challenge: HeaderValue) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Find the client address with `client_ip` (the proxies in front of
    /// the receiver and the header they write), once for every tenant: it is
    /// recorded for the audit trail and used by every tenant's allowlist,
    /// which then need not repeat the proxy list.
    pub fn client_ip(mut self, client_ip: ClientIp) -> Self {
        self.client_ip = Some(client_ip);
        self
    }

    /// Read at most `limit` body bytes (413 beyond), for every tenant alike
    /// (an unknown tenant's body too, so a 413 does not tell them apart):
    /// the largest payload of the providers your tenants use.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Forget every cached policy (a replica that may have missed
    /// invalidations).
    #[cfg(feature = "redis")]
    pub(crate) fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Forget the cached policy of `tenant`, so the next request resolves it
    /// afresh (e.g. right after rotating its secret).
    ///
    /// Every cached spelling of the name that differs only in ASCII case is
    /// forgotten too (`ACME`, `Acme`): names are cached as requests spell
    /// them, and a resolver backed by a case-insensitive lookup (most SQL
    /// collations) maps them all to the same tenant, whose old secret would
    /// otherwise stay usable under another spelling until the entry expires.
    pub async fn invalidate(&self, tenant: &str) {
        self.cache.invalidate(tenant).await;
        let spellings: Vec<Arc<String>> = self
            .cache
            .iter()
            .map(|(name, _)| name)
            .filter(|name| name.eq_ignore_ascii_case(tenant))
            .collect();
        for name in spellings {
            self.cache.invalidate(name.as_str()).await;
        }
    }

    /// The rejection every tenant gets for `rejection`: a `401` carries the
    /// layer's challenge and nothing of the policy's own.
    fn uniform(challenge: Option<&HeaderValue>, rejection: Rejection) -> Rejection {
        // A tenant's own allowlist answers 401 like everything else a
        // policy refuses: a 403 only a known tenant could give would tell
        // strangers which tenants exist (the reason stays in the audit).
        if !matches!(
            rejection.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return rejection;
        }
        let uniform = Rejection::new(rejection.reason()).with_status(StatusCode::UNAUTHORIZED);
        match challenge {
            Some(challenge) => uniform.with_header(WWW_AUTHENTICATE, challenge.clone()),
            None => uniform,
        }
    }
}

impl<S> Layer<S> for TenantLayer {
    type Service = Tenant<BodyGuard<TenantChecks, S>>;

    fn layer(&self, inner: S) -> Self::Service {
        Tenant {
            layer: self.clone(),
            inner: BodyGuard::new(
                Arc::new(TenantChecks {
                    body_limit: self.body_limit,
                    challenge: self.challenge.clone(),
                }),
                inner,
            ),
        }
    }
}

/// The policy [`Tenant`] resolved for a request, handed to
/// [`TenantChecks`].
#[derive(Clone, Debug)]
pub struct ResolvedPolicy {
    policy: Arc<TenantPolicy>,
    legacy: bool,
    /// An unknown tenant's decoy: its body is read under the same limit as
    /// a known tenant's, then it is refused with this, so the answer and
    /// the time it takes do not tell which tenants exist. Also a known
    /// tenant's head check that stopped the request, given as late.
    decoy: Option<Stop>,
}

/// The label an unknown tenant is recorded under (audit, counters,
/// metrics): a stranger's made-up names never become labels.
pub(crate) const UNKNOWN_TENANT: &str = "(unknown)";

/// The service of [`TenantLayer`]: resolves the tenant, then hands the
/// request to the guard that runs its policy.
#[derive(Clone, Debug)]
pub struct Tenant<S> {
    layer: TenantLayer,
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Tenant<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = AsyncGuardFuture<S, Request<ReqBody>, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = WebhookContext::of(&mut request);
        let grpc = is_grpc(request.headers());
        let unknown = TenantLayer::uniform(
            self.layer.challenge.as_ref(),
            Rejection::new(Reason::TenantUnknown).with_status(self.layer.unknown_status),
        );
        let (mut parts, body) = request.into_parts();
        if let Some(client_ip) = &self.layer.client_ip {
            let resolved = client_ip.resolve(&parts).ok();
            if let Some(ip) = resolved {
                context.set_client_ip(ip);
            }
            parts.extensions.insert(ResolvedClientIp(resolved));
        }
        let name = self.layer.key.extract(&parts);
        let layer = self.layer.clone();
        let resolving_context = context.clone();
        let prepare = Box::pin(async move {
            let lookup = match name.clone() {
                Some(name) => {
                    let resolver = Arc::clone(&layer.resolver);
                    layer
                        .cache
                        .try_get_with(name.clone(), resolver.resolve(name))
                        .await
                        .map_err(|error| {
                            tracing::warn!(%error, "tenant resolver failed");
                            Rejection::new(Reason::TenantUnavailable)
                        })?
                }
                None => TenantLookup::Unknown,
            };
            let resolved = match (lookup, &layer.legacy) {
                (TenantLookup::Policy(policy), _) => ResolvedPolicy {
                    policy,
                    legacy: false,
                    decoy: None,
                },
                (TenantLookup::Legacy, Some(legacy)) => ResolvedPolicy {
                    policy: Arc::clone(legacy),
                    legacy: true,
                    decoy: None,
                },
                (TenantLookup::Legacy, None) | (TenantLookup::Unknown, _) => ResolvedPolicy {
                    policy: Arc::new(TenantPolicy::new()),
                    legacy: false,
                    decoy: Some(unknown.into()),
                },
            };
            // Only a tenant that resolved is recorded under its name.
            match (&resolved.decoy, name) {
                (None, Some(name)) => resolving_context.set_tenant(name.as_str()),
                _ => resolving_context.set_tenant(UNKNOWN_TENANT),
            }
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(resolved);
            Ok(request)
        });
        AsyncGuardFuture::new(prepare, take_ready(&mut self.inner), grpc, context)
    }
}

/// Runs the checks of the policy [`Tenant`] resolved for the request.
#[derive(Debug, Clone)]
pub struct TenantChecks {
    body_limit: usize,
    challenge: Option<HeaderValue>,
}

impl TenantChecks {
    /// A refusal made uniform across tenants; an answer as it is.
    fn uniform(&self, stopped: Stop) -> Stop {
        match stopped {
            Stop::Refuse(rejection) => {
                TenantLayer::uniform(self.challenge.as_ref(), rejection).into()
            }
            answer @ Stop::Answer(_) => answer,
        }
    }
}

impl BodyCheck for TenantChecks {
    type Pending = (ResolvedPolicy, Option<<CheckChain as BodyCheck>::Pending>);

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    fn body_limit_origin(&self) -> &'static str {
        "TenantLayer::body_limit"
    }

    fn check_head(
        &self,
        parts: &mut Parts,
        context: &WebhookContext,
    ) -> Result<Self::Pending, Stop> {
        let mut resolved = parts
            .extensions
            .remove::<ResolvedPolicy>()
            .ok_or(Rejection::new(Reason::TenantUnavailable))?;
        if resolved.decoy.is_some() {
            return Ok((resolved, None));
        }
        // A refusal of the head is given only once the body is read, as an
        // unknown tenant's is: whether the body was read, and the 413 of an
        // oversized one, must not tell strangers which tenants exist.
        match resolved.policy.checks.check_head(parts, context) {
            Ok(pending) => Ok((resolved, Some(pending))),
            Err(stopped) => {
                resolved.decoy = Some(self.uniform(stopped));
                Ok((resolved, None))
            }
        }
    }

    fn check_body(
        &self,
        (mut resolved, pending): Self::Pending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        if let Some(stopped) = resolved.decoy.take() {
            return Err(stopped);
        }
        let pending = pending.ok_or(Rejection::new(Reason::TenantUnavailable))?;
        resolved
            .policy
            .checks
            .check_body(pending, parts, body, context)
            .map_err(|stopped| self.uniform(stopped))?;
        if resolved.legacy {
            // A token accepted on the legacy path is what operators watch
            // disappear as tenants migrate.
            context.update(|verification| {
                if let Some(auth) = &mut verification.authentication {
                    if auth.method.is_static_credential() {
                        auth.method = AuthMethod::LegacyToken;
                    }
                }
            });
        }
        Ok(())
    }
}
