//! The replay check and its layer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::HeaderName;
use tower_layer::Layer;

use super::clock::{Clock, SharedClock};
use super::source::{self, Source};
use super::window::Window;
use crate::body::DEFAULT_BODY_LIMIT;
use crate::context::{PendingTimestampCheck, PendingTimestampChecks, Timestamp, WebhookContext};
use crate::guard::{BodyCheck, BodyGuard};
use crate::rejection::{Reason, Rejection, Stop};
use crate::timestamp::TimestampFormat;

/// The replay check: a [`BodyCheck`], for use in a
/// stack or a tenant policy. Built with
/// [`ReplayLayer`]'s methods.
#[derive(Debug, Clone)]
pub struct ReplayCheck {
    source: Source,
    format: TimestampFormat,
    window: Window,
    clock: SharedClock,
    body_limit: usize,
}

impl ReplayCheck {
    /// How long one delivery stays acceptable: from the earliest moment its
    /// timestamp is inside the window (`future` before it) to the last
    /// (`past` after it). A replay can only use this span, so an
    /// idempotency key must be kept at least this long. A past-only window
    /// counts its past bound: a future timestamp is the sender's own doing.
    pub fn replay_span(&self) -> Duration {
        self.window
            .past
            .saturating_add(self.window.future.unwrap_or(Duration::ZERO))
    }

    /// Whether the check reads only a timestamp that a signature layer
    /// verified (see [`ReplayLayer::signed_timestamp`]).
    pub fn needs_signed_timestamp(&self) -> bool {
        matches!(self.source, Source::Signed)
    }

    /// Whether the check reads a header, before the body (so it belongs
    /// outside the credential checks).
    pub fn reads_header(&self) -> bool {
        matches!(self.source, Source::Header(_))
    }

    fn new(source: Source) -> Self {
        Self {
            source,
            format: TimestampFormat::Auto,
            window: Window::DEFAULT,
            clock: SharedClock::default(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Check `unix_millis` against the window and record it.
    fn admit(
        &self,
        unix_millis: i64,
        signed: bool,
        context: &WebhookContext,
    ) -> Result<(), Rejection> {
        self.pending().admit(unix_millis, signed, context)
    }

    fn pending(&self) -> PendingWindow {
        PendingWindow {
            window: self.window,
            clock: self.clock.clone(),
        }
    }
}

/// A replay window that applies to every timestamp a signature verifies
/// later on the same request. The replay check leaves one in the request
/// extensions; the signature check applies it. So the window holds for the
/// signed timestamp wherever the two layers sit, and a fresh unsigned
/// header cannot vouch for an old signed delivery.
#[derive(Debug, Clone)]
struct PendingWindow {
    window: Window,
    clock: SharedClock,
}

impl PendingTimestampCheck for PendingWindow {
    /// Record `unix_millis` in the context (never replacing a signed
    /// timestamp with an unsigned one) and refuse it when it is outside the
    /// window.
    fn admit(
        &self,
        unix_millis: i64,
        signed: bool,
        context: &WebhookContext,
    ) -> Result<(), Rejection> {
        let inside = self.window.contains(self.clock.now_millis(), unix_millis);
        context.update(|verification| {
            let keeps_signed = verification.timestamp.is_some_and(|t| t.signed) && !signed;
            if !keeps_signed {
                verification.timestamp = Some(Timestamp {
                    unix_millis,
                    signed,
                    window_checked: inside,
                });
            }
        });
        if inside {
            Ok(())
        } else {
            Err(Rejection::new(Reason::TimestampOutsideWindow))
        }
    }
}

impl BodyCheck for ReplayCheck {
    /// Whether the timestamp is still to be found once the body is read (a
    /// JSON field, or the signed timestamp a chained signature check records).
    type Pending = bool;

    fn body_limit(&self) -> usize {
        self.body_limit
    }

    fn body_limit_origin(&self) -> &'static str {
        "ReplayLayer::body_limit"
    }

    fn check_head(&self, parts: &mut Parts, context: &WebhookContext) -> Result<bool, Stop> {
        // Every timestamp this check can see must be inside the window: the
        // signed one (now if an outer signature verified it, else when one
        // does) and the configured source.
        match source::signed(context) {
            Some(unix_millis) => self.admit(unix_millis, true, context)?,
            // A check on the signed timestamp looks again in its body phase
            // (below), after any signature of the same chain: leaving it a
            // pending window too would check the same value twice.
            None if matches!(self.source, Source::Signed) => {}
            None => parts
                .extensions
                .get_or_insert_default::<PendingTimestampChecks>()
                .0
                .push(Arc::new(self.pending())),
        }
        match &self.source {
            Source::Header(name) => {
                let unix_millis = source::header(&parts.headers, name, self.format)?;
                self.admit(unix_millis, false, context)?;
                Ok(false)
            }
            // In a chain the signature is verified only once the body is
            // read: look again then.
            Source::Signed => Ok(true),
            #[cfg(feature = "json")]
            Source::JsonField(_) => Ok(true),
        }
    }

    // The body is read only for a JSON field.
    #[cfg_attr(not(feature = "json"), allow(unused_variables))]
    fn check_body(
        &self,
        body_pending: bool,
        _: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        if !body_pending {
            return Ok(());
        }
        let admitted = match &self.source {
            Source::Signed => match source::signed(context) {
                Some(unix_millis) => self.admit(unix_millis, true, context),
                None => Err(Rejection::new(Reason::TimestampMissing)),
            },
            #[cfg(feature = "json")]
            Source::JsonField(pointer) => {
                let unix_millis = source::json_field(body, pointer, self.format)?;
                self.admit(unix_millis, false, context)
            }
            Source::Header(_) => Ok(()),
        };
        Ok(admitted?)
    }
}

/// Refuses deliveries whose timestamp is missing, unreadable or outside a
/// window around now (401): see the [module docs](super) for sources,
/// formats and where to place it.
///
/// ```
/// use std::time::Duration;
/// use tower_webhook::replay::ReplayLayer;
///
/// let from_header = ReplayLayer::header("X-Timestamp")
///     .seconds()
///     .window(Duration::from_secs(300));
/// let from_body = ReplayLayer::json_field("/created_at").rfc3339().past_only();
/// let from_signature = ReplayLayer::signed_timestamp().window(Duration::from_millis(90_000));
/// # let _ = (from_header, from_body, from_signature);
/// ```
#[derive(Clone)]
pub struct ReplayLayer {
    check: Arc<ReplayCheck>,
}

impl fmt::Debug for ReplayLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.check.fmt(f)
    }
}

impl ReplayLayer {
    fn from_source(source: Source) -> Self {
        Self {
            check: Arc::new(ReplayCheck::new(source)),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut ReplayCheck)) -> Self {
        f(Arc::make_mut(&mut self.check));
        self
    }

    /// Read the timestamp from header `name`, before the body is read. A
    /// timestamp a signature verifies on the same request must be inside
    /// the window too, wherever the signature layer sits.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name: a configuration mistake. For a
    /// name from configuration use [`try_header`](Self::try_header).
    pub fn header<N>(name: N) -> Self
    where
        HeaderName: TryFrom<N>,
        <HeaderName as TryFrom<N>>::Error: fmt::Debug,
    {
        match HeaderName::try_from(name) {
            Ok(name) => Self::from_source(Source::Header(name)),
            Err(error) => panic!("ReplayLayer::header: invalid header name: {error:?}"),
        }
    }

    /// [`header`](Self::header) with a name from configuration (any case),
    /// refused with an [`InvalidSetting`](crate::InvalidSetting) when it is not a
    /// header name.
    pub fn try_header(name: &str) -> Result<Self, crate::InvalidSetting> {
        let name = crate::header_name("replay timestamp", name)?;
        Ok(Self::from_source(Source::Header(name)))
    }

    /// Read the timestamp from a field of the JSON body: a JSON pointer
    /// (`/data/created_at`) or a top-level field name (`created_at`).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json_field(field: impl AsRef<str>) -> Self {
        Self::from_source(Source::JsonField(source::pointer(field.as_ref())))
    }

    /// Check only the timestamp an outer signature layer verified; a
    /// request without one is refused with `timestamp_missing`.
    pub fn signed_timestamp() -> Self {
        Self::from_source(Source::Signed)
    }

    /// The timestamp is unix seconds.
    pub fn seconds(self) -> Self {
        self.format(TimestampFormat::Seconds)
    }

    /// The timestamp is unix milliseconds.
    pub fn milliseconds(self) -> Self {
        self.format(TimestampFormat::Millis)
    }

    /// The timestamp is RFC 3339.
    pub fn rfc3339(self) -> Self {
        self.format(TimestampFormat::Rfc3339)
    }

    /// The timestamp is written in `format` (default:
    /// [`TimestampFormat::Auto`]).
    pub fn format(self, format: TimestampFormat) -> Self {
        self.edit(|check| check.format = format)
    }

    /// Accept timestamps at most `window` before or after now (default
    /// 300 s); millisecond precision.
    pub fn window(self, window: Duration) -> Self {
        self.edit(|check| {
            check.window = Window {
                past: window,
                future: Some(window),
            }
        })
    }

    /// Bound only the age of a delivery; a timestamp in the future is
    /// accepted, as Stripe, Paddle, HubSpot and Twitch do.
    pub fn past_only(self) -> Self {
        self.edit(|check| check.window.future = None)
    }

    /// Accept timestamps at most `window` ahead of now, independently of
    /// the past bound (for senders whose clocks run fast).
    pub fn future_window(self, window: Duration) -> Self {
        self.edit(|check| check.window.future = Some(window))
    }

    /// Read "now" from `clock` instead of the system clock.
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock = SharedClock::new(clock);
        self.edit(|check| check.clock = clock)
    }

    /// Read at most `limit` bytes of body (default 1 MiB; 413 beyond).
    pub fn body_limit(self, limit: usize) -> Self {
        self.edit(|check| check.body_limit = limit)
    }

    /// The check this layer installs.
    pub(crate) fn check(&self) -> &ReplayCheck {
        &self.check
    }

    pub(crate) fn shared_check(&self) -> Arc<ReplayCheck> {
        Arc::clone(&self.check)
    }
}

impl<S> Layer<S> for ReplayLayer {
    type Service = Replay<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyGuard::new(Arc::clone(&self.check), inner)
    }
}

/// The service of [`ReplayLayer`].
pub type Replay<S> = BodyGuard<ReplayCheck, S>;
