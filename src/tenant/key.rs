//! Where the tenant's name is found in a request.

use http::request::Parts;
use http::HeaderName;

/// The longest tenant name accepted; longer ones are unknown tenants, so a
/// hostile request cannot make the resolver or its cache hold large keys.
pub(crate) const MAX_TENANT_LEN: usize = 128;

/// Where a request names its tenant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TenantKey {
    /// The path segment after a prefix: `PathAfter("/tenants")` reads `acme`
    /// from `/tenants/acme` and `/tenants/acme/push`.
    PathAfter(String),
    /// The `n`-th non-empty path segment, from 0: `PathSegment(1)` reads
    /// `acme` from `/hooks/acme`.
    PathSegment(usize),
    /// A header's value.
    Header(HeaderName),
}

impl TenantKey {
    /// [`Header`](Self::Header) with a name from configuration (any case),
    /// refused with an [`InvalidSetting`](crate::InvalidSetting) when it is not a
    /// header name.
    pub fn try_header(name: &str) -> Result<Self, crate::InvalidSetting> {
        Ok(TenantKey::Header(crate::header_name("tenant", name)?))
    }

    /// The tenant named by the request, if it names one cleanly: present,
    /// non-empty, at most 128 bytes of visible ASCII. Path
    /// segments are percent-decoded first, as a router decodes them for its
    /// handler (`/hooks/ac%6De` names `acme`; `/hooks/%FF` names no one).
    pub fn extract(&self, parts: &Parts) -> Option<String> {
        let path = parts.uri.path();
        let raw = match self {
            TenantKey::PathAfter(prefix) => {
                let rest = path.strip_prefix(prefix.trim_end_matches('/'))?;
                rest.strip_prefix('/')?.split('/').next()?
            }
            TenantKey::PathSegment(index) => {
                path.split('/').filter(|s| !s.is_empty()).nth(*index)?
            }
            TenantKey::Header(name) => {
                let mut values = parts.headers.get_all(name).iter();
                let value = values.next()?;
                if values.next().is_some() {
                    return None; // two tenants named: ambiguous
                }
                value.to_str().ok()?.trim()
            }
        };
        let name = if matches!(self, TenantKey::Header(_)) {
            raw.to_owned()
        } else {
            // Routers hand handlers the decoded segment (axum's `Path`), so
            // the layer judges the same name the handler will act on.
            percent_decode(raw)?
        };
        let valid = !name.is_empty()
            && name.len() <= MAX_TENANT_LEN
            && name.bytes().all(|b| b.is_ascii_graphic());
        valid.then_some(name)
    }
}

/// `raw` decoded, or `None` when an escape is broken or the segment is too
/// long to name a tenant (checked before any work, so a huge path costs
/// nothing).
fn percent_decode(raw: &str) -> Option<String> {
    if raw.len() > MAX_TENANT_LEN * 3 {
        return None;
    }
    crate::path::percent_decoded_strict(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parts(uri: &str, tenant_header: Option<&[u8]>) -> Parts {
        let mut request = http::Request::builder().uri(uri);
        if let Some(value) = tenant_header {
            request = request.header("x-tenant", http::HeaderValue::from_bytes(value).unwrap());
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn reads_each_source() {
        let p = parts("/tenants/acme/push?x=1", Some(b"globex"));
        assert_eq!(
            TenantKey::PathAfter("/tenants".into())
                .extract(&p)
                .as_deref(),
            Some("acme")
        );
        assert_eq!(
            TenantKey::PathAfter("/tenants/".into())
                .extract(&p)
                .as_deref(),
            Some("acme")
        );
        assert_eq!(
            TenantKey::PathSegment(1).extract(&p).as_deref(),
            Some("acme")
        );
        let header = TenantKey::Header(HeaderName::from_static("x-tenant"));
        assert_eq!(header.extract(&p).as_deref(), Some("globex"));
    }

    #[test]
    fn refuses_unclean_names() {
        assert_eq!(
            TenantKey::PathAfter("/tenants".into()).extract(&parts("/tenants/", None)),
            None
        );
        assert_eq!(
            TenantKey::PathAfter("/tenants".into()).extract(&parts("/tenantsX/a", None)),
            None
        );
        let long = format!("/t/{}", "a".repeat(MAX_TENANT_LEN + 1));
        assert_eq!(TenantKey::PathSegment(1).extract(&parts(&long, None)), None);
        for broken in [
            "/t/%",
            "/t/a%4",
            "/t/%zz",
            "/t/%FF",
            "/t/%20",
            "/t/a%2Fb%00",
        ] {
            assert_eq!(
                TenantKey::PathSegment(1).extract(&parts(broken, None)),
                None,
                "{broken}"
            );
        }
        assert_eq!(
            TenantKey::PathSegment(1)
                .extract(&parts("/t/ac%6De", None))
                .as_deref(),
            Some("acme")
        );
        let header = TenantKey::Header(HeaderName::from_static("x-tenant"));
        assert_eq!(header.extract(&parts("/", Some(b"caf\xe9"))), None);
        assert_eq!(header.extract(&parts("/", None)), None);
    }

    proptest! {
        #[test]
        fn never_panics(path in "/[ -~]{0,200}", header in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut builder = http::Request::builder();
            if let Ok(uri) = http::Uri::try_from(path.as_str()) {
                builder = builder.uri(uri);
            }
            if let Ok(value) = http::HeaderValue::from_bytes(&header) {
                builder = builder.header("x-tenant", value);
            }
            let parts = builder.body(()).unwrap().into_parts().0;
            for key in [
                TenantKey::PathAfter("/t".into()),
                TenantKey::PathSegment(0),
                TenantKey::PathSegment(3),
                TenantKey::Header(HeaderName::from_static("x-tenant")),
            ] {
                if let Some(name) = key.extract(&parts) {
                    prop_assert!(!name.is_empty() && name.len() <= MAX_TENANT_LEN);
                }
            }
        }
    }
}
