//! Tenants: policies per tenant, names that cannot be enumerated, and each
//! tenant's security status.

mod http;
mod oracle;
mod status;
