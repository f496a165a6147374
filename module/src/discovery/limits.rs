//! Limits on discovery's calls in flight: overall, and within one account x region.

use crate::aws::Clients;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Limits on calls in flight: overall, and within one account x region.
#[derive(Clone)]
pub struct Limits {
    pub overall: Arc<Semaphore>,
    pub per_partition: usize,
}

impl Limits {
    pub fn from(clients: &Clients) -> Limits {
        let c = &clients.config().concurrency;
        Limits { overall: Arc::new(Semaphore::new(c.overall)), per_partition: c.per_partition }
    }

    /// Awaits `next` (a paginator's next page) under one overall permit, so that no more
    /// pages are in flight at once than the overall limit allows.
    pub async fn page<T>(&self, next: impl Future<Output = Option<T>>) -> Option<T> {
        let _permit = self.overall.acquire().await.expect("the semaphore is never closed");
        next.await
    }
}
