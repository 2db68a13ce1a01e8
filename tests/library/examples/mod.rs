//! The examples that run in this process: the TLS receiver's server and the
//! tonic receiver (the ones run as processes are in `tests/cli`).

mod tls_receiver;
mod tonic;
