//! What a call hands to the code that answers it: the request as it arrived and the
//! caller's context. Kept below `server.rs` and every handler so that imports run one way
//! (server -> handlers -> ctx), never back.

use crate::identity::Principal;
use crate::world::World;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method};

/// A request as it arrived.
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What a handler knows of the call it answers.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub principal: Principal,
    pub region: String,
    pub request_id: String,
}

impl Ctx<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.world.clock.now()
    }
    pub fn account(&self) -> &str {
        &self.principal.account
    }
}
