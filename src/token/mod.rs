//! The token layer (in progress).

mod set;
pub use set::TokenSet;
