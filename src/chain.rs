//! Several checks behind one guard.
//!
//! Stacking one layer per protection gives each its own service and future.
//! A [`CheckChain`] runs any number of [`RequestCheck`]s and [`BodyCheck`]s
//! in the order given — every head check first, so nothing is read before
//! they all pass, then the body is buffered once and every body check runs
//! on the same bytes. It is a [`BodyCheck`] itself, so it goes behind a
//! [`BodyGuard`](crate::guard::BodyGuard). The stack builder and per-tenant
//! policies are built on it; users reach it through `WebhookStack::check`,
//! `TenantPolicy::with_head_check` and their siblings.
//!
//! Each check passes, answers or refuses; the first that answers or
//! refuses stops the chain.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;

use crate::body::DEFAULT_BODY_LIMIT;
use crate::context::WebhookContext;
use crate::guard::{BodyCheck, RequestCheck};
use crate::rejection::Stop;

/// One check's pending value, type-erased. The common small ones (none, a
/// flag) are kept inline: a box per check per request was a measurable part
/// of a chain's cost.
enum Pending {
    None,
    Flag(bool),
    Boxed(Box<dyn Any + Send>),
}

impl Pending {
    fn of<T: Send + 'static>(value: T) -> Self {
        let mut value = Some(value);
        if let Some(flag) = (&mut value as &mut dyn Any).downcast_mut::<Option<bool>>() {
            return Pending::Flag(flag.take().unwrap_or_default());
        }
        // A box of a zero-sized value allocates nothing.
        value.map_or(Pending::None, |value| Pending::Boxed(Box::new(value)))
    }

    fn into<T: 'static>(self) -> Option<T> {
        match self {
            Pending::None => None,
            Pending::Flag(flag) => (&mut Some(flag) as &mut dyn Any)
                .downcast_mut::<Option<T>>()?
                .take(),
            Pending::Boxed(boxed) => boxed.downcast::<T>().ok().map(|value| *value),
        }
    }
}

/// The inline capacity of [`PendingChecks`]: chains longer than this keep
/// the rest in a `Vec`.
const INLINE_CHECKS: usize = 6;

/// What a [`CheckChain`]'s head checks hand to its body checks, one value per
/// check, in order. Opaque.
pub struct PendingChecks {
    inline: [Pending; INLINE_CHECKS],
    more: Vec<Pending>,
}

impl PendingChecks {
    fn new() -> Self {
        Self {
            inline: std::array::from_fn(|_| Pending::None),
            more: Vec::new(),
        }
    }

    fn set(&mut self, index: usize, pending: Pending) {
        match self.inline.get_mut(index) {
            Some(slot) => *slot = pending,
            None => self.more.push(pending),
        }
    }

    fn take(&mut self, index: usize) -> Pending {
        let slot = match self.inline.get_mut(index) {
            Some(slot) => slot,
            None => match self.more.get_mut(index - INLINE_CHECKS) {
                Some(slot) => slot,
                None => return Pending::None,
            },
        };
        std::mem::replace(slot, Pending::None)
    }
}

impl fmt::Debug for PendingChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingChecks").finish_non_exhaustive()
    }
}

/// A check of either kind with its `Pending` type erased, so different
/// checks can sit in one list.
trait AnyCheck: Send + Sync + 'static {
    fn head(&self, parts: &mut Parts, context: &WebhookContext) -> Result<Pending, Stop>;
    fn body(
        &self,
        pending: Pending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop>;
    fn body_limit(&self) -> Option<usize>;
    fn body_limit_origin(&self) -> &'static str;
}

struct Head<C>(Arc<C>);
struct Body<C>(Arc<C>);
/// A head check run in the body phase, after the body checks before it
/// (a signature) verified; it reads nothing of the body, so sets no limit.
struct Late<C>(C);

impl<C: RequestCheck> AnyCheck for Late<C> {
    fn head(&self, _: &mut Parts, _: &WebhookContext) -> Result<Pending, Stop> {
        Ok(Pending::None)
    }

    fn body(
        &self,
        _: Pending,
        parts: &mut Parts,
        _: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        self.0.check(parts, context)
    }

    fn body_limit(&self) -> Option<usize> {
        None
    }

    fn body_limit_origin(&self) -> &'static str {
        ""
    }
}

impl<C: RequestCheck> AnyCheck for Head<C> {
    fn head(&self, parts: &mut Parts, context: &WebhookContext) -> Result<Pending, Stop> {
        self.0.check(parts, context).map(|()| Pending::None)
    }

    fn body(&self, _: Pending, _: &mut Parts, _: &Bytes, _: &WebhookContext) -> Result<(), Stop> {
        Ok(())
    }

    fn body_limit(&self) -> Option<usize> {
        None
    }

    fn body_limit_origin(&self) -> &'static str {
        ""
    }
}

impl<C: BodyCheck> AnyCheck for Body<C> {
    fn head(&self, parts: &mut Parts, context: &WebhookContext) -> Result<Pending, Stop> {
        let pending = self.0.check_head(parts, context)?;
        Ok(Pending::of(pending))
    }

    fn body(
        &self,
        pending: Pending,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        // The chain hands each check back exactly what its own head check
        // returned, so the type always matches.
        let pending = pending
            .into::<C::Pending>()
            .expect("chain pending value of another check");
        self.0.check_body(pending, parts, body, context)
    }

    fn body_limit(&self) -> Option<usize> {
        Some(self.0.body_limit())
    }

    fn body_limit_origin(&self) -> &'static str {
        self.0.body_limit_origin()
    }
}

/// An ordered list of checks that runs as one [`BodyCheck`].
#[derive(Clone)]
pub struct CheckChain {
    checks: Vec<Arc<dyn AnyCheck>>,
    body_limit: Option<usize>,
}

impl Default for CheckChain {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CheckChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckChain")
            .field("checks", &self.checks.len())
            .field("body_limit", &self.body_limit())
            .finish()
    }
}

impl CheckChain {
    /// An empty chain: accepts everything, buffering up to 1 MiB.
    pub fn new() -> Self {
        Self {
            checks: Vec::new(),
            body_limit: None,
        }
    }

    /// Append a head-only check.
    pub fn with_head_check<C: RequestCheck>(self, check: C) -> Self {
        self.with_shared_head_check(Arc::new(check))
    }

    /// Append a head-only check that is shared with other services.
    pub fn with_shared_head_check<C: RequestCheck>(mut self, check: Arc<C>) -> Self {
        self.checks.push(Arc::new(Head(check)));
        self
    }

    /// Append a head-only check that runs with the body checks, in its
    /// place among them: after the signature before it verified.
    pub(crate) fn with_late_head_check<C: RequestCheck>(mut self, check: C) -> Self {
        self.checks.push(Arc::new(Late(check)));
        self
    }

    /// Append a check that reads the body.
    pub fn with_body_check<C: BodyCheck>(self, check: C) -> Self {
        self.with_shared_body_check(Arc::new(check))
    }

    /// Append a body check that is shared with other services.
    pub fn with_shared_body_check<C: BodyCheck>(mut self, check: Arc<C>) -> Self {
        self.checks.push(Arc::new(Body(check)));
        self
    }

    /// Read at most `limit` body bytes (413 beyond). Without it, the smallest
    /// limit of the body checks applies, or 1 MiB.
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = Some(limit);
        self
    }

    /// Append every check of `other`, in its order (its body limit is not
    /// taken over).
    pub(crate) fn then(mut self, other: &CheckChain) -> Self {
        self.checks.extend(other.checks.iter().cloned());
        self
    }

    /// How many checks the chain holds.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether the chain holds no check.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
}

impl BodyCheck for CheckChain {
    type Pending = PendingChecks;

    fn body_limit(&self) -> usize {
        self.body_limit.unwrap_or_else(|| {
            self.checks
                .iter()
                .filter_map(|check| check.body_limit())
                .min()
                .unwrap_or(DEFAULT_BODY_LIMIT)
        })
    }

    fn body_limit_origin(&self) -> &'static str {
        if self.body_limit.is_some() {
            return "WebhookStack::body_limit (CheckChain::with_body_limit)";
        }
        self.checks
            .iter()
            .filter_map(|check| Some((check.body_limit()?, check.body_limit_origin())))
            .min_by_key(|(limit, _)| *limit)
            .map_or("the default body limit", |(_, origin)| origin)
    }

    fn check_head(
        &self,
        parts: &mut Parts,
        context: &WebhookContext,
    ) -> Result<PendingChecks, Stop> {
        let mut pending = PendingChecks::new();
        for (index, check) in self.checks.iter().enumerate() {
            pending.set(index, check.head(parts, context)?);
        }
        Ok(pending)
    }

    fn check_body(
        &self,
        mut pending: PendingChecks,
        parts: &mut Parts,
        body: &Bytes,
        context: &WebhookContext,
    ) -> Result<(), Stop> {
        self.checks
            .iter()
            .enumerate()
            .try_for_each(|(index, check)| check.body(pending.take(index), parts, body, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejection::{Reason, Rejection};
    use std::sync::Mutex;

    /// Records the order in which its phases run.
    struct Probe {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
        fail_head: bool,
    }

    impl BodyCheck for Probe {
        type Pending = &'static str;

        fn check_head(&self, _: &mut Parts, _: &WebhookContext) -> Result<&'static str, Stop> {
            self.log.lock().unwrap().push(format!("head {}", self.name));
            if self.fail_head {
                return Err(Rejection::new(Reason::SignatureMissing).into());
            }
            Ok(self.name)
        }

        fn check_body(
            &self,
            pending: &'static str,
            _: &mut Parts,
            _: &Bytes,
            _: &WebhookContext,
        ) -> Result<(), Stop> {
            assert_eq!(pending, self.name, "each check gets its own pending value");
            self.log.lock().unwrap().push(format!("body {}", self.name));
            Ok(())
        }

        fn body_limit(&self) -> usize {
            100
        }
    }

    fn probe(name: &'static str, log: &Arc<Mutex<Vec<String>>>, fail_head: bool) -> Probe {
        Probe {
            name,
            log: Arc::clone(log),
            fail_head,
        }
    }

    #[test]
    fn heads_all_run_before_bodies_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = CheckChain::new()
            .with_body_check(probe("a", &log, false))
            .with_body_check(probe("b", &log, false));
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let context = WebhookContext::new();
        let pending = chain.check_head(&mut parts, &context).unwrap();
        chain
            .check_body(pending, &mut parts, &Bytes::new(), &context)
            .unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            ["head a", "head b", "body a", "body b"]
        );
        assert_eq!(chain.body_limit(), 100);
    }

    #[test]
    fn pending_values_come_back_as_they_went_in() {
        assert_eq!(Pending::of(true).into::<bool>(), Some(true));
        assert_eq!(Pending::of(false).into::<bool>(), Some(false));
        assert_eq!(Pending::of(()).into::<()>(), Some(()));
        assert_eq!(Pending::of(7u8).into::<u8>(), Some(7));
        assert_eq!(
            Pending::of(Some(true)).into::<Option<bool>>(),
            Some(Some(true))
        );
        assert_eq!(
            Pending::of(String::from("s")).into::<String>().as_deref(),
            Some("s")
        );
        // Another check's value is never handed over as this one's.
        assert_eq!(Pending::of(true).into::<u8>(), None);
        assert_eq!(Pending::of(1u8).into::<bool>(), None);
        let mut many = PendingChecks::new();
        for index in 0..INLINE_CHECKS + 3 {
            many.set(index, Pending::of(index));
        }
        for index in (0..INLINE_CHECKS + 3).rev() {
            assert_eq!(many.take(index).into::<usize>(), Some(index));
        }
    }

    #[test]
    fn a_failing_head_stops_the_chain() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = CheckChain::new()
            .with_body_check(probe("a", &log, true))
            .with_body_check(probe("b", &log, false));
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let Err(Stop::Refuse(rejection)) = chain.check_head(&mut parts, &WebhookContext::new())
        else {
            panic!("the failing head check refuses");
        };
        assert_eq!(rejection.reason(), Reason::SignatureMissing);
        assert_eq!(*log.lock().unwrap(), ["head a"]);
    }
}
