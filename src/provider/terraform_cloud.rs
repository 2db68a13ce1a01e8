//! HCP Terraform (Terraform Cloud, Terraform Enterprise) generic
//! notifications: `X-TFE-Notification-Signature: <hex HMAC-SHA512 of the
//! raw body>`, keyed with the notification configuration's token as text.
//! The verification request sent when a configuration is enabled is signed
//! the same way and needs only a `2xx`.

use std::sync::Arc;

use http::HeaderName;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{Algorithm, DeclaredScheme, SignatureHeader};

/// terraform-cloud's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    DeclaredScheme::new("terraform-cloud").signature(
        SignatureHeader::new(HeaderName::from_static("x-tfe-notification-signature"))
            .algorithm(Algorithm::Sha512),
    )
}

/// terraform-cloud: what every way of building its receiver reads.
pub const TERRAFORM_CLOUD: Provider = Provider {
    name: "terraform-cloud",
    scheme: || Arc::new(scheme()),
    signed: "the raw body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none documented: the signed message's digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "developer.hashicorp.com/terraform/cloud-docs/api-docs/notification-configurations#notification-authenticity (X-TFE-Notification-Signature: hex HMAC-SHA512 of the request body keyed with the configuration's token, generic notifications only)",
    vectors: Vectors::Unverified,
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
