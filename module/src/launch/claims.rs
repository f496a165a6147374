//! Static private addresses held across resources. `instantiate` checks a resource's
//! addresses against its own servers and what EC2 holds now; a second resource asking the
//! same address would pass as long as neither has launched. So an instantiated resource
//! claims each of its addresses in the run ledger (`ledger/claims.rs`, a conditional write:
//! of two resources instantiated at once, one wins), and one that asks an address another
//! resource holds is refused naming that resource, its server and field. A resource holds
//! what it asked when it was last instantiated: an address it no longer asks is let go, and
//! a refused instantiate keeps nothing it did not hold before. A resource taken out of the
//! manifests keeps its claims until they are let go (`release`, `drs-orch launch release`).

use super::addresses::{Asked, Issue, Problem};
use crate::aws::Clients;
use crate::ledger::claims::{AddressKey, Holder};
use crate::ledger::LedgerError;
use std::collections::BTreeSet;

fn key_of(a: &Asked) -> Option<AddressKey> {
    Some(AddressKey {
        account: a.server.account.clone(),
        region: a.server.region.clone(),
        subnet: a.subnet.clone()?,
        address: a.address.clone(),
    })
}

/// Claims `asks` (addresses that passed their checks) for `resource`; the addresses another
/// resource holds, as problems. Nothing is kept of a refused claim.
pub async fn claim(clients: &Clients, resource: &str, asks: &[Asked]) -> Result<Vec<Problem>, LedgerError> {
    let store = crate::ledger::of(clients);
    let before: BTreeSet<AddressKey> = store.claims_of(resource).await?.into_iter().collect();
    // The resource's list first names every address this call may take: a call that fails
    // halfway (the ledger throttled, the Lambda killed) leaves no claim its list does not name,
    // which a later instantiate or `release` lets go. Naming one not held is harmless: letting
    // go of an address another resource holds changes nothing.
    let widest: BTreeSet<AddressKey> = before.iter().cloned().chain(asks.iter().filter_map(key_of)).collect();
    if widest != before {
        store.set_claims(resource, &widest.iter().cloned().collect::<Vec<_>>()).await?;
    }
    let (mut held, mut refused) = (BTreeSet::new(), vec![]);
    for a in asks {
        let Some(key) = key_of(a) else { continue };
        let server = if a.server.hostname.is_empty() { a.server.source_server_id.clone() } else { a.server.hostname.clone() };
        let me = Holder { resource: resource.to_owned(), server, field: a.field.clone(), at: None };
        match store.claim_address(&key, &me, clients.now()).await? {
            None => _ = held.insert(key),
            Some(other) => refused.push(Problem {
                server: a.server.clone(),
                field: a.field.clone(),
                address: a.address.clone(),
                issue: Issue::Claimed {
                    resource: other.resource,
                    server: other.server,
                    field: other.field,
                    since: other.at.as_ref().map(crate::time::secs),
                },
            }),
        }
    }
    // Refused: let go of what this call took; the resource keeps what it held before.
    let (keep, release): (BTreeSet<AddressKey>, Vec<&AddressKey>) = if refused.is_empty() {
        (held.clone(), widest.difference(&held).collect())
    } else {
        (before.clone(), widest.difference(&before).collect())
    };
    for key in release {
        store.release_address(key, resource).await?;
    }
    if keep != widest {
        store.set_claims(resource, &keep.into_iter().collect::<Vec<_>>()).await?;
    }
    Ok(refused)
}

/// Lets go of every address `resource` holds (a resource taken out of the manifests); what
/// it held.
pub async fn release(clients: &Clients, resource: &str) -> Result<Vec<AddressKey>, LedgerError> {
    let store = crate::ledger::of(clients);
    let held = store.claims_of(resource).await?;
    for key in &held {
        store.release_address(key, resource).await?;
    }
    store.set_claims(resource, &[]).await?;
    Ok(held)
}
