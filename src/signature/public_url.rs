//! [`PublicUrl`]; documented in the [`signature`](crate::signature) module.

use crate::InvalidSetting;

use http::request::Parts;
use http::uri::{Scheme as UriScheme, Uri};

/// Where the URL a provider signed comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicUrl(Source);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Source {
    #[default]
    FromRequest,
    Base(String),
    Exact(String),
}

/// Why a configured public URL is refused (in
/// [`InvalidSetting::PublicUrl`]).
const NOT_ABSOLUTE: &str = "the public URL must be absolute (https://host/...)";
const UNSUPPORTED_SCHEME: &str = "the public URL must be http or https";
const BASE_WITH_QUERY: &str =
    "a public base URL cannot have a query or fragment (the request's are appended)";

impl PublicUrl {
    /// Rebuild the URL from the request (the default): its absolute URI if
    /// it has one (HTTP/2, absolute-form), else `https://` + the `Host`
    /// header + the path and query as received. Right only when nothing
    /// between the provider and this service rewrites the URL and the
    /// provider calls `https`.
    pub fn from_request() -> Self {
        Self(Source::FromRequest)
    }

    /// `base` (`https://host[:port][/prefix]`) followed by the request's
    /// path and query as received. For a proxy that rewrites scheme, host,
    /// port or strips a path prefix.
    pub fn base(base: &str) -> Result<Self, InvalidSetting> {
        let uri = absolute(base)?;
        if uri.query().is_some() || base.contains('#') {
            return Err(InvalidSetting::public_url(base, BASE_WITH_QUERY));
        }
        Ok(Self(Source::Base(base.trim_end_matches('/').to_owned())))
    }

    /// Exactly `url`, whatever the request's path (Square signs the
    /// notification URL as configured in the subscription).
    pub fn exact(url: &str) -> Result<Self, InvalidSetting> {
        absolute(url)?;
        Ok(Self(Source::Exact(url.to_owned())))
    }

    /// Whether the signed URL includes the request's own path and query
    /// (everything but [`exact`](Self::exact)).
    pub fn covers_request_uri(&self) -> bool {
        !matches!(self.0, Source::Exact(_))
    }

    /// The URL the provider signed for the request `parts`, or `None` when
    /// it cannot be known (no or several `Host` headers, an invalid `Host`).
    pub fn resolve(&self, parts: &Parts) -> Option<String> {
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        match &self.0 {
            Source::Exact(url) => Some(url.clone()),
            Source::Base(base) => Some(format!("{base}{path_and_query}")),
            Source::FromRequest => {
                if let (Some(scheme), Some(authority)) = (parts.uri.scheme(), parts.uri.authority())
                {
                    return Some(format!("{scheme}://{authority}{path_and_query}"));
                }
                let mut hosts = parts.headers.get_all(http::header::HOST).iter();
                let host = hosts.next()?;
                if hosts.next().is_some() {
                    return None;
                }
                // Parsing as an authority rejects anything that could smuggle
                // a path or userinfo into the signed URL.
                let host = host.to_str().ok()?.parse::<http::uri::Authority>().ok()?;
                Some(format!("https://{host}{path_and_query}"))
            }
        }
    }
}

fn absolute(url: &str) -> Result<Uri, InvalidSetting> {
    let refused = |problem| InvalidSetting::public_url(url, problem);
    let uri = url.parse::<Uri>().map_err(|_| refused(NOT_ABSOLUTE))?;
    if uri.authority().is_none() {
        return Err(refused(NOT_ABSOLUTE));
    }
    match uri.scheme() {
        Some(scheme) if *scheme == UriScheme::HTTPS || *scheme == UriScheme::HTTP => Ok(uri),
        Some(_) => Err(refused(UNSUPPORTED_SCHEME)),
        None => Err(refused(NOT_ABSOLUTE)),
    }
}

/// `url` with its default port made explicit when absent, or its port
/// removed when present — the other spelling Twilio's SDKs try. Twilio's
/// back end signs either. `None` when `url` has no other spelling (an
/// unknown scheme, not a URL).
pub(crate) fn other_port_spelling(url: &str) -> Option<String> {
    let uri = url.parse::<Uri>().ok()?;
    let scheme = uri.scheme()?;
    let authority = uri.authority()?;
    let default = if *scheme == UriScheme::HTTPS {
        443
    } else if *scheme == UriScheme::HTTP {
        80
    } else {
        return None;
    };
    // The tail is taken from the text, not from `Uri` (which turns an empty
    // path into `/`), so only the port differs between the two spellings.
    let tail = url
        .find("://")
        .and_then(|start| {
            let after = start + 3;
            url.get(after..)?.find(['/', '?']).map(|i| after + i)
        })
        .and_then(|i| url.get(i..))
        .unwrap_or("");
    match authority.port_u16() {
        // Any port, not only the default one: Twilio's SDKs verify the URL
        // without it (twilio-python `test_validation_removes_port_on_https`),
        // so a receiver on a non-standard port sees `host:8443` where Twilio
        // signed `host`.
        Some(port) => {
            let host = authority.as_str().strip_suffix(&format!(":{port}"))?;
            Some(format!("{scheme}://{host}{tail}"))
        }
        None => Some(format!("{scheme}://{}:{default}{tail}", authority.as_str())),
    }
}

/// Whether `byte` can appear in the path or query of a URL as HubSpot
/// and Square sign it (RFC 3986 `pchar`, `/`, `?`, and `%` of an escape).
fn in_url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&byte)
}

/// Whether `{url}{body}` has only one reading: the path and query hold only
/// URL bytes and the body is empty or starts with a byte no URL holds (`{`
/// or `[` of JSON, which is what HubSpot and Square send). Otherwise the end of the
/// URL and the start of the body could trade bytes (`?userId=100` + `` read
/// as `?userId=10` + `0`) under the same signature.
pub(crate) fn url_and_body_split_once(url: &str, body: &[u8]) -> bool {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let path_and_query = url[after_scheme..]
        .find('/')
        .map_or("", |at| &url[after_scheme + at..]);
    path_and_query.bytes().all(in_url) && body.first().is_none_or(|&first| !in_url(first))
}

/// Whether `{body}{url}` has only one reading (Trello's order): the whole
/// URL holds only URL bytes and the body is empty or ends with a byte no
/// URL holds (`}` of JSON). Otherwise a delivery signed for
/// `https://a/x?u=https://b/y` could be re-cut as a longer body sent to
/// `https://b/y`.
pub(crate) fn body_and_url_split_once(body: &[u8], url: &str) -> bool {
    url.bytes().all(in_url) && body.last().is_none_or(|&last| !in_url(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, host: Option<&str>) -> Parts {
        let mut builder = http::Request::builder().uri(uri);
        if let Some(host) = host {
            builder = builder.header("host", host);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn resolves_each_source() {
        let p = parts("/sms?x=1", Some("10.0.0.5:8080"));
        assert_eq!(
            PublicUrl::from_request().resolve(&p).as_deref(),
            Some("https://10.0.0.5:8080/sms?x=1")
        );
        assert_eq!(
            PublicUrl::base("https://hooks.example.com/twilio/")
                .unwrap()
                .resolve(&p)
                .as_deref(),
            Some("https://hooks.example.com/twilio/sms?x=1")
        );
        assert_eq!(
            PublicUrl::exact("https://a.example/b")
                .unwrap()
                .resolve(&p)
                .as_deref(),
            Some("https://a.example/b")
        );
        let absolute = parts("http://a.example:81/p?q", None);
        assert_eq!(
            PublicUrl::from_request().resolve(&absolute).as_deref(),
            Some("http://a.example:81/p?q")
        );
    }

    #[test]
    fn an_unknown_host_resolves_to_nothing() {
        assert_eq!(PublicUrl::from_request().resolve(&parts("/", None)), None);
        assert_eq!(
            PublicUrl::from_request().resolve(&parts("/", Some("a/b@c"))),
            None
        );
        let mut two = parts("/", Some("a.example"));
        two.headers
            .append("host", http::HeaderValue::from_static("b.example"));
        assert_eq!(PublicUrl::from_request().resolve(&two), None);
    }

    #[test]
    fn refuses_bad_configuration() {
        assert_eq!(
            PublicUrl::base("/relative"),
            Err(InvalidSetting::public_url("/relative", NOT_ABSOLUTE))
        );
        assert_eq!(
            PublicUrl::base("ftp://x.example"),
            Err(InvalidSetting::public_url(
                "ftp://x.example",
                UNSUPPORTED_SCHEME
            ))
        );
        assert_eq!(
            PublicUrl::base("https://x.example/?a=1"),
            Err(InvalidSetting::public_url(
                "https://x.example/?a=1",
                BASE_WITH_QUERY
            ))
        );
        assert!(PublicUrl::exact("https://x.example/?a=1").is_ok());
    }

    #[test]
    fn other_port_spellings() {
        let cases = [
            (
                "https://a.example/p?q=1",
                Some("https://a.example:443/p?q=1"),
            ),
            ("https://a.example:443/p", Some("https://a.example/p")),
            ("http://a.example/p", Some("http://a.example:80/p")),
            ("http://a.example:80/p", Some("http://a.example/p")),
            ("http://a.example:1234/p", Some("http://a.example/p")),
            (
                "https://u:p@a.example:8443/p",
                Some("https://u:p@a.example/p"),
            ),
            ("https://a.example?x=1", Some("https://a.example:443?x=1")),
            ("https://[::1]:443/p", Some("https://[::1]/p")),
            ("not a url", None),
        ];
        for (url, other) in cases {
            assert_eq!(other_port_spelling(url).as_deref(), other, "{url}");
        }
    }

    proptest::proptest! {
        /// `{URL}{body}` accepted at one boundary is refused at every other:
        /// the signed bytes have one reading.
        #[test]
        fn url_and_body_have_one_split(
            tail in "[a-z0-9/?=&%{}\\[\\]\" ]{0,12}",
            body in "[a-z0-9/?=&%{}\\[\\]\" ]{0,12}",
        ) {
            let url = format!("https://h.example/p{tail}");
            let joined = format!("{url}{body}");
            let fixed = "https://h.example/p".len();
            let accepted: Vec<usize> = (fixed..=joined.len())
                .filter(|&cut| joined.is_char_boundary(cut))
                .filter(|&cut| url_and_body_split_once(&joined[..cut], &joined.as_bytes()[cut..]))
                .collect();
            proptest::prop_assert!(accepted.len() <= 1, "{joined:?} splits at {accepted:?}");
        }

        #[test]
        fn never_panics_on_any_input(
            text in "\\PC{0,60}",
            host in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let _ = other_port_spelling(&text);
            let _ = PublicUrl::base(&text);
            let _ = PublicUrl::exact(&text);
            let mut p = parts("/x?y=1", None);
            if let Ok(value) = http::HeaderValue::from_bytes(&host) {
                p.headers.insert("host", value);
            }
            if let Some(url) = PublicUrl::from_request().resolve(&p) {
                // Whatever the Host header says, the URL keeps the path.
                proptest::prop_assert!(url.starts_with("https://") && url.ends_with("/x?y=1"));
            }
        }

        #[test]
        fn the_other_spelling_of_the_other_spelling_is_the_url(
            https in proptest::prelude::any::<bool>(),
            host in "[a-z]{1,10}\\.example",
            tail in "(/[a-z0-9]{0,6})?(\\?[a-z]=[0-9]{0,3})?",
        ) {
            let url = format!("{}://{host}{tail}", if https { "https" } else { "http" });
            let other = other_port_spelling(&url).unwrap();
            proptest::prop_assert_ne!(&other, &url);
            proptest::prop_assert_eq!(other_port_spelling(&other), Some(url));
        }
    }
}
