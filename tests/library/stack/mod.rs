//! The stack: the builder, policies as data, the shared machinery, the
//! errors a wrong configuration gets, and what an adopter meets first.

mod adopter;
mod body_memory;
mod builder;
mod config_errors;
mod extract;
mod foundation;
mod frameworks;
mod policy;
mod test_util;
