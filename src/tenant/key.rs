//! Where the tenant's name is found in a request.

use http::request::Parts;
use http::HeaderName;

/// The longest tenant name accepted; longer ones are unknown tenants, so a
/// hostile request cannot make the resolver or its cache hold large keys.
pub const MAX_TENANT_LEN: usize = 128;

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
    /// The tenant named by the request, if it names one cleanly: present,
    /// non-empty, at most [`MAX_TENANT_LEN`] bytes of visible ASCII.
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
        let valid = !raw.is_empty()
            && raw.len() <= MAX_TENANT_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| raw.to_owned())
    }
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
