//! The attacker's view: forgeries, splicing, length extension, malleability,
//! and the work a sender can cause before it is authenticated.

mod adversarial;
mod authenticated_keys;
mod length_extension;
mod malleability;
mod pre_auth_limits;
mod splicing;
