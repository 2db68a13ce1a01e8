//! `tower-webhook verify`: the signature layer's verdict on a delivery.

use http::{HeaderName, HeaderValue, Method, Request};
use tower_webhook::guard::BodyCheck;
use tower_webhook::signature::SignatureLayer;
use tower_webhook::WebhookContext;

use crate::args::{Help, UsageError, VerifyOptions};
use crate::Failure;

pub fn run(options: VerifyOptions, secret: &str, body: &[u8]) -> Result<(), Failure> {
    let error = |message: String| UsageError::new(Help::Verify, message);
    let layer =
        SignatureLayer::preset(&options.scheme, secret).map_err(|e| error(e.to_string()))?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(options.url.as_deref().unwrap_or("/"))
        .body(())
        .map_err(|e| error(format!("--url: {e}")))?;
    for line in &options.headers {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| error(format!("a header is `Name: value`, not `{line}`")))?;
        let name = HeaderName::try_from(name.trim())
            .map_err(|_| error(format!("`{}` is not a header name", name.trim())))?;
        let value = HeaderValue::try_from(value.trim())
            .map_err(|_| error(format!("the value of {name} is not a header value")))?;
        request.headers_mut().append(name, value);
    }
    let (mut parts, ()) = request.into_parts();
    // The same two phases the layer runs, without a server around them.
    let check = layer.check();
    let context = WebhookContext::new();
    let body = body.to_vec().into();
    check
        .check_head(&mut parts, &context)
        .and_then(|pending| check.check_body(pending, &mut parts, &body, &context))
        .map_err(|stopped| {
            Failure::Refused(match stopped {
                tower_webhook::Stop::Refuse(rejection) => rejection.reason().to_string(),
                // A signature check never answers; name it if one did.
                tower_webhook::Stop::Answer(answer) => answer.kind().to_owned(),
            })
        })?;
    let verification = context.snapshot();
    let mut report = format!("verified: scheme {}", options.scheme);
    if let Some(key) = verification
        .authentication
        .as_ref()
        .and_then(|a| a.key_id.as_deref())
    {
        report += &format!(", key {key}");
    }
    if let Some(timestamp) = verification.timestamp {
        report += &format!(
            ", timestamp {} (age not checked)",
            timestamp.unix_millis / 1000
        );
    }
    println!("{report}");
    Ok(())
}
