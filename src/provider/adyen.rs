//! Adyen standard (payment) notifications: the signature is inside the
//! body, `additionalData.hmacSignature` of the one `NotificationRequestItem`,
//! a base64 HMAC-SHA256 keyed with the HMAC key the Customer Area shows,
//! hex-decoded, over eight of the item's fields joined by `:`
//! (`pspReference`, `originalReference`, `merchantAccountCode`,
//! `merchantReference`, `amount.value`, `amount.currency`, `eventCode`,
//! `success`; a missing one as empty). Nothing else in the body is signed:
//! `additionalData`, `reason`, `eventDate` and the rest can be changed by
//! whoever replays a delivery. A notification with more than one item is
//! refused (the others would ride along unsigned), as is one where a field
//! other than `merchantReference` holds a `:` (the values could then be cut
//! elsewhere). Adyen's
//! Balance Platform and Management webhooks sign the raw body in a header:
//! [`ADYEN_BANKING`](super::ADYEN_BANKING).

use std::sync::Arc;

use super::{
    Provider, Vectors, DEFAULT_BODY_LIMIT, NO_IP_RANGES, NO_RETRIES_DOCUMENTED, UNDOCUMENTED,
};
use crate::signature::declared::{DeclaredScheme, JsonSigned, KeyEncoding};

const ITEM: &str = "/notificationItems/0/NotificationRequestItem";

/// adyen's scheme (see the module docs).
pub(crate) fn scheme() -> DeclaredScheme {
    let field = |name: &str| format!("{ITEM}/{name}");
    DeclaredScheme::new("adyen")
        .json_signed(
            JsonSigned::new(field("additionalData/hmacSignature"))
                .single_element("/notificationItems")
                .separator_allowed_in(field("merchantReference"))
                .fields(
                    ":",
                    [
                        "pspReference",
                        "originalReference",
                        "merchantAccountCode",
                        "merchantReference",
                        "amount/value",
                        "amount/currency",
                        "eventCode",
                        "success",
                    ]
                    .map(field),
                ),
        )
        .key_encoding(KeyEncoding::Hex)
}

/// adyen: what every way of building its receiver reads.
pub const ADYEN: Provider = Provider {
    name: "adyen",
    scheme: || Arc::new(scheme()),
    signed: "eight fields of the notification item (pspReference, references, amount, eventCode, success), not the rest of the body",
    unsigned_headers: &[],
    body_limit: DEFAULT_BODY_LIMIT,
    body_limit_source: UNDOCUMENTED,
    delivery_id: "none signed: the signed fields' digest",
    handshake: None,
    retry_horizon: None,
    retry_horizon_source: NO_RETRIES_DOCUMENTED,
    deduplicate: true,
    body_timestamp: None,
    scheme_source: "Adyen/adyen-python-api-library Adyen/util.py generate_notification_sig (pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success, HMAC-SHA256 with binascii.a2b_hex(hmac_key), base64; is_valid_hmac_notification reads additionalData.hmacSignature)",
    vectors: Vectors::Published(&[
        "Adyen/adyen-python-api-library test/UtilTest.py test_notification_request_item_hmac",
        "Adyen/adyen-python-api-library test/mocks/util/",
    ]),
    ip_ranges: &[],
    ip_ranges_source: NO_IP_RANGES,
    sends: &[],
    requires: &[],
};
