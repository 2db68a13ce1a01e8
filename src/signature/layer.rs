//! [`SignatureLayer`]: refuse deliveries not signed by a key in the keyring.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::request::Parts;
use http::HeaderName;
use tower_layer::Layer;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::context::{AuthMethod, Authentication, SignedDelivery, Timestamp, WebhookContext};
use crate::guard::{BodyCheck, BodyGuard};
use crate::rejection::{Reason, Rejection, Stop};
use crate::secret::TokenSet;
use crate::secret::{Secret, SecretError};
use crate::signature::keyring::{KeyKind, Keyring};
use crate::signature::scheme::{one_header, Delivery, Scheme, Signatures};

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Why a [`SignatureLayer`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureConfigError {
    /// The keyring holds no key. To accept unsigned deliveries on purpose,
    /// use [`SignatureLayer::insecure_no_verification`].
    EmptyKeyring,
    /// A key is not the kind the scheme verifies with.
    WrongKeyKind {
        /// The key's id.
        key_id: Arc<str>,
        /// What the scheme needs.
        expected: KeyKind,
    },
    /// No provider or scheme has this name: the message names the valid
    /// ones and the closest.
    UnknownScheme(String),
    /// The secret could not be read (empty, bad base64).
    InvalidSecret(SecretError),
}

impl fmt::Display for SignatureConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureConfigError::EmptyKeyring => f.write_str(
                "the keyring is empty; use SignatureLayer::insecure_no_verification to accept unsigned deliveries on purpose",
            ),
            SignatureConfigError::WrongKeyKind { key_id, expected } => {
                write!(f, "key `{key_id}` is not a {expected:?} key")
            }
            SignatureConfigError::UnknownScheme(message) => f.write_str(message),
            SignatureConfigError::InvalidSecret(error) => write!(f, "invalid secret: {error}"),
        }
    }
}

impl std::error::Error for SignatureConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SignatureConfigError::InvalidSecret(error) => Some(error),
            _ => None,
        }
    }
}

#[derive(Clone)]
enum Mode {
    Verify {
        scheme: Arc<dyn Scheme>,
        keyring: Keyring,
    },
    Unverified,
}

/// The check behind [`SignatureLayer`] (a [`BodyCheck`]).
#[derive(Clone)]
pub struct SignatureCheck {
    mode: Mode,
    body_limit: usize,
    legacy: Option<(HeaderName, TokenSet)>,
    clock: Clock,
    /// The scheme's name as the context records it, made once rather than
    /// per request.
    scheme_name: Option<Arc<str>>,
}

impl fmt::Debug for SignatureCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("SignatureCheck");
        match &self.mode {
            Mode::Verify { scheme, keyring } => debug.field("scheme", &scheme.name()).field(
                "keys",
                &keyring.keys().iter().map(|k| k.id()).collect::<Vec<_>>(),
            ),
            Mode::Unverified => debug.field("scheme", &"none (unverified)"),
        };
        debug
            .field("body_limit", &self.body_limit)
            .field(
                "legacy_token_header",
                &self.legacy.as_ref().map(|(name, _)| name),
            )
            .finish_non_exhaustive()
    }
}

/// What [`SignatureCheck::check_head`] hands to the body phase.
#[derive(Debug)]
pub struct SignaturePending(Pending);

// `Verify` is the common case and holds its candidates inline; boxing it to
// shrink the rare `Accepted` would cost an allocation per signed request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Pending {
    Verify(Signatures),
    Accepted,
}

impl SignatureCheck {
    /// The scheme verified, or `None` for
    /// [`SignatureLayer::insecure_no_verification`].
    pub fn scheme(&self) -> Option<&dyn Scheme> {
        match &self.mode {
            Mode::Verify { scheme, .. } => Some(scheme.as_ref()),
            Mode::Unverified => None,
        }
    }

    fn legacy_token(
        &self,
        parts: &Parts,
        context: &WebhookContext,
    ) -> Option<Result<(), Rejection>> {
        let (header, tokens) = self.legacy.as_ref()?;
        let presented = match one_header(&parts.headers, header, Reason::TokenInvalid) {
            Ok(presented) => presented?,
            Err(rejection) => return Some(Err(rejection)),
        };
        Some(match tokens.matching(presented) {
            Some(id) => {
                context.set_authentication(
                    Authentication::new(AuthMethod::LegacyToken).with_key_id(id),
                );
                Ok(())
            }
            None => Err(Rejection::new(Reason::TokenInvalid)),
        })
    }
}

impl BodyCheck for SignatureCheck {
    type Pending = SignaturePending;

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    fn check_head(
        &self,
        parts: &mut Parts,
        context: &WebhookContext,
    ) -> Result<SignaturePending, Stop> {
        let Mode::Verify { scheme, .. } = &self.mode else {
            context.set_authentication(Authentication::new(AuthMethod::Anonymous));
            return Ok(SignaturePending(Pending::Accepted));
        };
        if let Some(name) = &self.scheme_name {
            // Recorded before the verdict: a refusal is told apart by
            // provider too (audit `scheme`, the metrics' `provider` label).
            let name = Arc::clone(name);
            context.update(|verification| verification.scheme = Some(name));
        }
        match scheme.parse_head(parts) {
            Ok(signatures) => Ok(SignaturePending(Pending::Verify(signatures))),
            Err(missing) if missing.reason() == Reason::SignatureMissing => {
                match self.legacy_token(parts, context) {
                    Some(accepted) => accepted
                        .map(|()| SignaturePending(Pending::Accepted))
                        .map_err(|refusal| {
                            context.refuse_credential(AuthMethod::LegacyToken);
                            refusal.into()
                        }),
                    None => {
                        context.refuse_credential(AuthMethod::Signature);
                        Err(missing.into())
                    }
                }
            }
            Err(rejection) => {
                context.refuse_credential(AuthMethod::Signature);
                Err(rejection.into())
            }
        }
    }

    fn check_body(
        &self,
        pending: SignaturePending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        let (Pending::Verify(signatures), Mode::Verify { scheme, keyring }) =
            (pending.0, &self.mode)
        else {
            return Ok(());
        };
        let verified = scheme
            .parse_body(signatures, parts, body)
            .and_then(|signatures| {
                if signatures.is_empty() {
                    return Err(Rejection::new(Reason::SignatureMissing));
                }
                let delivery = Delivery { parts, body };
                keyring
                    .verify_with_clock(scheme.as_ref(), &signatures, &delivery, &*self.clock)
                    .map(|matched| (signatures, matched))
                    .map_err(Rejection::new)
            });
        let (signatures, matched) =
            verified.inspect_err(|_| context.refuse_credential(AuthMethod::Signature))?;
        let mut authentication =
            Authentication::new(AuthMethod::Signature).with_key_id(matched.key_id);
        authentication.scheme = self.scheme_name.clone();
        // The timestamp the verified signature signs (its own set's, where
        // a header holds several).
        let stamp = signatures.timestamp_for(matched.candidate);
        let signed = SignedDelivery::new(
            Arc::clone(scheme) as Arc<dyn crate::context::SignedMessage>,
            signatures.shared_id().cloned(),
            stamp.map(|stamp| stamp.text.clone()),
        );
        // Everything the signature established, under one lock.
        context.update(|verification| {
            verification.authentication = Some(authentication);
            verification.signed = Some(signed);
            if let Some(stamp) = stamp {
                // A replay layer outside this one may already have checked
                // the same value from the header; signing it must not undo
                // that.
                let checked = verification
                    .timestamp
                    .is_some_and(|t| t.window_checked && t.unix_millis == stamp.unix_millis);
                let mut signed = Timestamp::signed(stamp.unix_millis);
                signed.window_checked = checked;
                verification.timestamp = Some(signed);
            }
        });
        if let Some(stamp) = stamp {
            // Every replay window this request already passed applies to
            // the timestamp the signature vouches for.
            crate::context::admit_signed_timestamp(&parts.extensions, stamp.unix_millis, context)?;
        }
        Ok(())
    }
}

/// Refuses deliveries whose signature was not made by a key in the keyring
/// (401 `signature_missing`, `signature_malformed`, `signature_mismatch`,
/// `key_expired`).
///
/// Headers are checked before the body is read; the MAC then runs over the
/// buffered raw bytes (no UTF-8 or JSON requirement). On success the
/// context records the method (`signature`), the matching key's id, the
/// scheme's name, the signature and, for schemes that sign one, the
/// timestamp as *signed*.
///
/// The timestamp's age is **not** checked here: add the
/// [`replay`](crate::replay) layer inside this one for that. Leaving it out
/// is how re-sent historic events are verified.
///
/// ```
/// use axum::{routing::post, Router};
/// use tower_webhook::provider;
/// use tower_webhook::signature::{Key, Keyring, SignatureLayer};
/// use tower_webhook::Secret;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // GitHub, one secret:
/// let github = SignatureLayer::github(Secret::new("It's a Secret to Everybody")?);
///
/// // Stripe during a secret roll: both accepted until the old one expires.
/// let until = std::time::SystemTime::now() + std::time::Duration::from_secs(24 * 3600);
/// let stripe = SignatureLayer::new(
///     provider::stripe::stripe(),
///     Keyring::new()
///         .with(Key::new("old", Secret::new("whsec_old_secret_value")?).valid_until(until))
///         .with(Key::new("new", Secret::new("whsec_new_secret_value")?)),
/// )?;
///
/// let app: Router = Router::new()
///     .route("/github", post(|| async { "ok" }).layer(github))
///     .route("/stripe", post(|| async { "ok" }).layer(stripe));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SignatureLayer {
    check: Arc<SignatureCheck>,
}

impl SignatureLayer {
    /// Verify with `scheme` against `keyring`. Refuses an empty keyring and
    /// keys of the wrong kind.
    pub fn new(scheme: impl Scheme, keyring: Keyring) -> Result<Self, SignatureConfigError> {
        Self::from_arc(Arc::new(scheme), keyring)
    }

    /// [`new`](Self::new) with a shared scheme.
    pub fn from_arc(
        scheme: Arc<dyn Scheme>,
        keyring: Keyring,
    ) -> Result<Self, SignatureConfigError> {
        if keyring.is_empty() {
            return Err(SignatureConfigError::EmptyKeyring);
        }
        let expected = scheme.key_kind();
        if let Some(key) = keyring
            .keys()
            .iter()
            .find(|key| key.material().kind() != expected)
        {
            return Err(SignatureConfigError::WrongKeyKind {
                key_id: Arc::clone(key.id()),
                expected,
            });
        }
        for key in keyring.keys() {
            scheme
                .check_key(key.material())
                .map_err(SignatureConfigError::InvalidSecret)?;
        }
        Ok(Self::with_mode(Mode::Verify { scheme, keyring }))
    }

    pub(crate) fn single(scheme: impl Scheme, secret: Secret) -> Self {
        Self::with_mode(Mode::Verify {
            scheme: Arc::new(scheme),
            keyring: Keyring::single(secret),
        })
    }

    /// Accept every delivery **without checking any signature**, recording
    /// the authentication as `anonymous`. For local development or an
    /// endpoint protected by other means; logs a warning when built.
    pub fn insecure_no_verification() -> Self {
        tracing::warn!("SignatureLayer built without verification: every delivery is accepted");
        Self::with_mode(Mode::Unverified)
    }

    fn with_mode(mode: Mode) -> Self {
        let scheme_name = match &mode {
            Mode::Verify { scheme, .. } => Some(Arc::from(scheme.name())),
            Mode::Unverified => None,
        };
        Self {
            check: Arc::new(SignatureCheck {
                scheme_name,
                mode,
                body_limit: DEFAULT_BODY_LIMIT,
                legacy: None,
                clock: Arc::new(SystemTime::now),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut SignatureCheck)) -> Self {
        f(Arc::make_mut(&mut self.check));
        self
    }

    /// Read at most `limit` body bytes (413 beyond). Default: 1 MiB.
    pub fn body_limit(self, limit: usize) -> Self {
        self.edit(|check| check.body_limit = limit)
    }

    /// While senders migrate to signatures: a request carrying no signature
    /// but one of `tokens` in `header` passes, recorded as `token (legacy)`
    /// with the token's id; a wrong token is `token_invalid`. A request that
    /// carries a signature is always judged by it. (Schemes that sign inside
    /// the body, such as Mailgun, are judged by their signature only.)
    pub fn accept_legacy_token(self, header: HeaderName, tokens: TokenSet) -> Self {
        self.edit(|check| check.legacy = Some((header, tokens)))
    }

    /// Whether senders may still pass with a legacy token
    /// ([`accept_legacy_token`](Self::accept_legacy_token)).
    pub fn accepts_legacy_tokens(&self) -> bool {
        self.check.legacy.is_some()
    }

    /// Read "now" (for key validity windows) from `clock` instead of the
    /// system clock.
    pub fn clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.edit(|check| check.clock = Arc::new(clock))
    }

    /// The check this layer installs.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    pub(crate) fn shared_check(&self) -> Arc<SignatureCheck> {
        Arc::clone(&self.check)
    }
}

impl<S> Layer<S> for SignatureLayer {
    type Service = VerifySignature<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyGuard::new(Arc::clone(&self.check), inner)
    }
}

/// The service of [`SignatureLayer`].
pub type VerifySignature<S> = BodyGuard<SignatureCheck, S>;
