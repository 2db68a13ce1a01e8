//! The signature layer: through a real server, against every official and
//! published vector, and as property tests.

mod http;
mod judged;
mod props;
mod signed_timestamps;
mod vectors;
mod vectors_extra;
