//! The checks that answer handshakes, and [`HandshakeLayer`].

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use tower_layer::Layer;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::context::{AuthMethod, WebhookContext};
use crate::guard::{BodyCheck, BodyGuard, RequestCheck};
use crate::handshake::provider::{Found, Handshake};
use crate::rejection::Stop;

/// Record what `found` says in the context; `Err` carries the answer (or
/// refusal) that replaces the handler's response.
fn settle(found: Found, forward: bool, context: &WebhookContext) -> Result<(), Stop> {
    match found {
        Found::No => Ok(()),
        Found::Refused(refusal) => Err(refusal.into()),
        Found::Answer(name, answered) => {
            context.set_handshake(name);
            match answered {
                Ok(_) if forward => Ok(()),
                Ok(answer) => Err(answer.into()),
                Err(refusal) => Err(refusal.into()),
            }
        }
    }
}

/// The unsigned handshakes (Dropbox, Meta, Microsoft Graph), answered from
/// the request head before any credential is asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnsignedHandshakes(Vec<Handshake>);

impl UnsignedHandshakes {
    /// The unsigned ones of `handshakes`.
    pub fn new<'a>(handshakes: impl IntoIterator<Item = &'a Handshake>) -> Self {
        Self(
            handshakes
                .into_iter()
                .filter(|h| !h.is_signed())
                .cloned()
                .collect(),
        )
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RequestCheck for UnsignedHandshakes {
    fn check(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Stop> {
        self.0.iter().try_for_each(|handshake| {
            settle(handshake.find_in_head(parts), handshake.forwards(), context)
        })
    }
}

/// The signed handshakes (Slack, Twitch, Zoom, Discord), answered from the
/// body once a signature over it verified.
#[derive(Debug, Clone, Default)]
pub(crate) struct SignedHandshakes(Vec<Handshake>);

impl SignedHandshakes {
    /// The signed ones of `handshakes`.
    pub fn new<'a>(handshakes: impl IntoIterator<Item = &'a Handshake>) -> Self {
        Self(
            handshakes
                .into_iter()
                .filter(|h| h.is_signed())
                .cloned()
                .collect(),
        )
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl BodyCheck for SignedHandshakes {
    type Pending = ();

    /// No limit of its own: it reads the bytes the signature check buffered,
    /// under that check's limit.
    fn body_limit(&self) -> usize {
        usize::MAX
    }

    fn check_head(&self, _: &mut Parts, _: &WebhookContext) -> Result<(), Stop> {
        Ok(())
    }

    fn check_body(
        &self,
        (): (),
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        // Answering an unverified challenge would let anyone subscribe this
        // endpoint elsewhere: without a verified signature the request goes
        // on to whatever checks are further in.
        let verified = context.update(|v| {
            v.authentication
                .as_ref()
                .is_some_and(|auth| auth.method == AuthMethod::Signature)
        });
        if !verified {
            return Ok(());
        }
        self.0.iter().try_for_each(|handshake| {
            settle(
                handshake.find_in_body(parts, body),
                handshake.forwards(),
                context,
            )
        })
    }
}

/// Both kinds, as one check: what [`HandshakeLayer`] installs.
#[derive(Debug, Clone)]
pub struct HandshakeCheck {
    unsigned: UnsignedHandshakes,
    signed: SignedHandshakes,
    body_limit: usize,
}

impl BodyCheck for HandshakeCheck {
    type Pending = ();

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    fn check_head(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Stop> {
        self.unsigned.check(parts, context)
    }

    fn check_body(
        &self,
        (): (),
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        self.signed.check_body((), parts, body, context)
    }
}

/// Answers provider handshakes so they never reach the handler; see the
/// [module docs](super).
///
/// Signed handshakes are answered only after a signature verified, so put
/// this layer *inside* the [`SignatureLayer`](crate::signature::SignatureLayer);
/// unsigned ones are answered from the head, before the body is read.
/// [`WebhookStack::handshake`](crate::WebhookStack::handshake) places each
/// kind where it belongs by itself.
#[derive(Debug, Clone)]
pub struct HandshakeLayer {
    check: Arc<HandshakeCheck>,
}

impl HandshakeLayer {
    /// Answer `handshake`.
    pub fn new(handshake: Handshake) -> Self {
        Self::all([handshake])
    }

    /// Answer each of `handshakes`.
    pub fn all(handshakes: impl IntoIterator<Item = Handshake>) -> Self {
        let handshakes: Vec<Handshake> = handshakes.into_iter().collect();
        Self {
            check: Arc::new(HandshakeCheck {
                unsigned: UnsignedHandshakes::new(&handshakes),
                signed: SignedHandshakes::new(&handshakes),
                body_limit: DEFAULT_BODY_LIMIT,
            }),
        }
    }

    /// Read at most `limit` body bytes (413 beyond). Default: 1 MiB. Inside
    /// a signature layer the body is already buffered; keep this at least
    /// that layer's limit.
    pub fn body_limit(mut self, limit: usize) -> Self {
        Arc::make_mut(&mut self.check).body_limit = limit;
        self
    }
}

impl<S> Layer<S> for HandshakeLayer {
    type Service = AnswerHandshakes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyGuard::new(Arc::clone(&self.check), inner)
    }
}

/// The service of [`HandshakeLayer`].
pub type AnswerHandshakes<S> = BodyGuard<HandshakeCheck, S>;
