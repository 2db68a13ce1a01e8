//! The tests that start their own `redis-server` processes (single, Cluster,
//! Sentinel, TLS): the Redis idempotency store, its faults and topologies,
//! takeovers, the durable inbox, a tenant rotation published to replicas,
//! and one provider's truth across every way of building a receiver.

#[path = "../support/fleet.rs"]
mod fleet;
#[path = "../support/redis_server.rs"]
mod redis_server;
#[path = "../support/mod.rs"]
mod support;

mod faults;
mod inbox;
mod one_truth;
mod store;
mod takeover;
mod tenant;
mod topologies;
