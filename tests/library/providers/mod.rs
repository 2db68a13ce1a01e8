//! The providers: bundles, their shapes and handshakes, and their own
//! published examples.

mod bundles;
mod directory;
mod new_shapes;
mod shapes;
mod twilio_port;
mod vectors;
