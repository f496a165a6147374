//! Who is calling: access keys map to a principal (the hub's long-term key, or temporary
//! credentials that STS issued for an assumed role). Temporary credentials expire on the
//! simulator's clock.

use crate::ids;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub account: String,
    /// The role the caller acts as (the hub's own role for the long-term key).
    pub role_name: String,
    /// `Some(session)` for assumed-role credentials.
    pub session: Option<String>,
}

impl Principal {
    /// The ARN that IAM policies and trust policies see.
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.role_name)
    }

    /// The ARN that GetCallerIdentity reports.
    pub fn caller_arn(&self) -> String {
        match &self.session {
            Some(s) => format!("arn:aws:sts::{}:assumed-role/{}/{}", self.account, self.role_name, s),
            None => self.role_arn(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credential {
    pub secret: String,
    pub session_token: Option<String>,
    pub expires: Option<DateTime<Utc>>,
    pub principal: Principal,
}

#[derive(Debug, PartialEq)]
pub enum IdentityError {
    UnknownKey,
    Expired,
    BadSessionToken,
}

#[derive(Default)]
pub struct Identities {
    keys: RwLock<HashMap<String, Credential>>,
}

impl Identities {
    pub fn add_long_term(&self, access_key: &str, secret: &str, principal: Principal) {
        self.keys.write().insert(
            access_key.to_owned(),
            Credential { secret: secret.to_owned(), session_token: None, expires: None, principal },
        );
    }

    /// Issues temporary credentials: (access key, secret, session token).
    pub fn issue(&self, principal: Principal, expires: DateTime<Utc>) -> (String, Credential) {
        let key = format!("ASIA{}", ids::upper_alnum(16));
        let cred =
            Credential { secret: ids::secret(40), session_token: Some(ids::secret(120)), expires: Some(expires), principal };
        self.keys.write().insert(key.clone(), cred.clone());
        (key, cred)
    }

    /// Ends every temporary credential now (a session revoked, or a clock run past it): the
    /// caller must assume its role again. Returns how many ended.
    pub fn expire_all(&self, now: DateTime<Utc>) -> usize {
        let mut keys = self.keys.write();
        let mut n = 0;
        for c in keys.values_mut().filter(|c| c.expires.is_some_and(|e| e > now)) {
            c.expires = Some(now);
            n += 1;
        }
        n
    }

    /// Every secret key and session token known (the hub's and those issued), for tests
    /// that scan outputs for them.
    pub fn secrets(&self) -> Vec<String> {
        let keys = self.keys.read();
        keys.values().flat_map(|c| std::iter::once(c.secret.clone()).chain(c.session_token.clone())).collect()
    }

    /// Finds the credential of an access key and checks its session token and expiry.
    pub fn resolve(
        &self,
        access_key: &str,
        session_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Credential, IdentityError> {
        let keys = self.keys.read();
        let cred = keys.get(access_key).ok_or(IdentityError::UnknownKey)?;
        if cred.session_token.as_deref() != session_token {
            return Err(IdentityError::BadSessionToken);
        }
        if cred.expires.is_some_and(|e| e <= now) {
            return Err(IdentityError::Expired);
        }
        Ok(cred.clone())
    }
}
