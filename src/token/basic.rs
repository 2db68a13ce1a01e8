//! `Authorization: Basic` credentials (RFC 7617).

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use zeroize::Zeroizing;

use super::error::{CredentialError, MAX_CREDENTIAL_LEN};

/// RFC 7617 says standard base64; some clients drop the padding, which
/// carries no information, so both forms are read.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A decoded user and password. Both are wiped from memory on drop.
pub(crate) struct BasicCredentials {
    decoded: Zeroizing<Vec<u8>>,
    colon: usize,
}

impl BasicCredentials {
    /// Decode the `token68` after `Basic `.
    pub(crate) fn parse(encoded: &[u8]) -> Result<Self, CredentialError> {
        if encoded.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::TooLong);
        }
        if encoded.is_empty() {
            return Err(CredentialError::Empty);
        }
        let decoded = Zeroizing::new(
            ENGINE
                .decode(encoded)
                .map_err(|_| CredentialError::MalformedBase64)?,
        );
        // The user id cannot contain a colon (RFC 7617 §2); the password can.
        let colon = decoded
            .iter()
            .position(|&b| b == b':')
            .ok_or(CredentialError::MissingColon)?;
        let credentials = Self { decoded, colon };
        if credentials.password().is_empty() {
            return Err(CredentialError::Empty);
        }
        Ok(credentials)
    }

    /// The user id (may be empty).
    pub(crate) fn user(&self) -> &[u8] {
        self.decoded.get(..self.colon).unwrap_or_default()
    }

    /// The password, i.e. the token. Never empty.
    pub(crate) fn password(&self) -> &[u8] {
        self.decoded.get(self.colon + 1..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(raw: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    #[test]
    fn splits_at_the_first_colon() {
        let parsed = BasicCredentials::parse(encode(b"hooks:pa:ss").as_bytes()).unwrap();
        assert_eq!(parsed.user(), b"hooks");
        assert_eq!(parsed.password(), b"pa:ss");
    }

    #[test]
    fn unpadded_base64_is_read() {
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(b"u:tok");
        assert!(!encoded.ends_with('='));
        assert_eq!(
            BasicCredentials::parse(encoded.as_bytes())
                .unwrap()
                .password(),
            b"tok"
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        let cases: [(&[u8], CredentialError); 5] = [
            (b"", CredentialError::Empty),
            (b"!!!not-base64", CredentialError::MalformedBase64),
            (b"aG9va3M=", CredentialError::MissingColon), // "hooks"
            (b"aG9va3M6", CredentialError::Empty),        // "hooks:"
            (&[b'A'; MAX_CREDENTIAL_LEN + 4], CredentialError::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(
                BasicCredentials::parse(input).err(),
                Some(expected),
                "{input:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = BasicCredentials::parse(&input);
        }

        #[test]
        fn never_panics_on_base64(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = BasicCredentials::parse(encode(&raw).as_bytes());
        }

        #[test]
        fn round_trips(
            user in "[^:]{0,40}",
            password in proptest::collection::vec(any::<u8>(), 1..64),
        ) {
            let mut raw = user.as_bytes().to_vec();
            raw.push(b':');
            raw.extend_from_slice(&password);
            let parsed = BasicCredentials::parse(encode(&raw).as_bytes()).unwrap();
            prop_assert_eq!(parsed.user(), user.as_bytes());
            prop_assert_eq!(parsed.password(), &password[..]);
        }
    }
}
