//! A group's source server ids as the payload writes them: one string, not a list, since the
//! ids are nine tenths of a large payload. An id is `s-` and 17 characters; the prefix is
//! implied. Ids in hexadecimal (AWS's form) are packed two digits a byte and written in
//! URL-safe base64 (`hex`: 11.3 bytes an id); any other valid id is written as its 17
//! characters, one after another (`ids`: 17 bytes an id). Written as a list they cost 22.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "s-";
const BODY: usize = 17;

/// `Group` on the wire: the partition and exactly one of the two encodings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wire {
    #[serde(rename = "p")]
    pub partition: usize,
    /// Lowercase hexadecimal bodies, packed (an odd count ends with a `0` digit) and base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Bodies of 17 alphanumerics, concatenated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<String>,
}

/// Why a group's ids could not be read or written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdsError {
    /// Neither or both of `hex` and `ids`.
    #[error("a group holds exactly one of `hex` and `ids`")]
    Encoding,
    /// `hex` is not base64url.
    #[error("hex: not URL-safe base64: {0}")]
    Base64(String),
    /// `hex` does not unpack to whole ids.
    #[error("hex: {0} hexadecimal digits are not a whole number of {BODY}-digit ids")]
    HexLength(usize),
    /// `ids` is not a whole number of 17-alphanumeric bodies.
    #[error("ids: {0} characters are not a whole number of {BODY}-alphanumeric ids")]
    IdsLength(usize),
    /// `ids` holds a character an id cannot.
    #[error("ids: id {0} holds a character that is not an ASCII letter or digit")]
    Character(usize),
    /// A server id in memory that is not `s-` and 17 alphanumerics (the plan read it from DRS).
    #[error("source server id '{0}' is not s- and 17 letters or digits")]
    Shape(String),
}

fn body(id: &str) -> Option<&str> {
    id.strip_prefix(PREFIX).filter(|b| b.len() == BODY && b.bytes().all(|c| c.is_ascii_alphanumeric()))
}

fn is_lower_hex(body: &str) -> bool {
    body.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Writes the ids in the shorter encoding that holds them all.
pub fn encode(partition: usize, servers: &[String]) -> Result<Wire, IdsError> {
    let bodies: Vec<&str> =
        servers.iter().map(|s| body(s).ok_or_else(|| IdsError::Shape(s.clone()))).collect::<Result<_, _>>()?;
    let mut joined = bodies.concat();
    if bodies.iter().all(|b| is_lower_hex(b)) {
        if joined.len() % 2 == 1 {
            joined.push('0');
        }
        // Every character is a hex digit, checked above.
        let bytes = hex::decode(&joined).map_err(|_| IdsError::Shape(joined.clone()))?;
        Ok(Wire { partition, hex: Some(URL_SAFE_NO_PAD.encode(bytes)), ids: None })
    } else {
        Ok(Wire { partition, hex: None, ids: Some(joined) })
    }
}

/// Reads the ids back, `s-` restored, in the order they were written.
pub fn decode(wire: &Wire) -> Result<Vec<String>, IdsError> {
    let digits = match (&wire.hex, &wire.ids) {
        (Some(packed), None) => {
            let bytes = URL_SAFE_NO_PAD.decode(packed).map_err(|e| IdsError::Base64(e.to_string()))?;
            let mut digits = hex::encode(bytes);
            match digits.len() % BODY {
                0 => {}
                1 if digits.ends_with('0') => {
                    digits.pop();
                }
                _ => return Err(IdsError::HexLength(digits.len())),
            }
            digits
        }
        (None, Some(ids)) => {
            if ids.len() % BODY != 0 {
                return Err(IdsError::IdsLength(ids.len()));
            }
            if let Some(bad) = ids.bytes().position(|c| !c.is_ascii_alphanumeric()) {
                return Err(IdsError::Character(bad / BODY));
            }
            ids.clone()
        }
        _ => return Err(IdsError::Encoding),
    };
    // ASCII only (checked or hex-encoded), so every chunk is a whole string.
    Ok(digits.as_bytes().chunks(BODY).map(|c| format!("{PREFIX}{}", String::from_utf8_lossy(c))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hex_ids_pack_and_come_back_in_order() {
        for n in [0usize, 1, 2, 3, 10] {
            let servers: Vec<String> = (0..n).map(|i| format!("s-{:017x}", 0xabc_0000_0000_0000_u64 + i as u64 * 7919)).collect();
            let wire = encode(4, &servers).unwrap();
            assert!(wire.hex.is_some() && wire.ids.is_none(), "{wire:?}");
            assert_eq!(decode(&wire).unwrap(), servers, "{n} ids");
            // 8.5 bytes an id, as base64: about 11.3 characters.
            assert!(wire.hex.as_ref().unwrap().len() <= (n * 17).div_ceil(2).div_ceil(3) * 4, "{wire:?}");
        }
    }

    #[test]
    fn alphanumeric_ids_are_written_whole_without_the_prefix() {
        let servers = ids(&["s-AbCdEfGhIjKlMnOpQ", "s-0123456789abcdef0"]);
        let wire = encode(0, &servers).unwrap();
        assert_eq!(wire.ids.as_deref(), Some("AbCdEfGhIjKlMnOpQ0123456789abcdef0"));
        assert_eq!(decode(&wire).unwrap(), servers);
    }

    #[test]
    fn uppercase_hex_is_not_packed_so_its_case_survives() {
        let servers = ids(&["s-0123456789ABCDEF0"]);
        let wire = encode(0, &servers).unwrap();
        assert!(wire.ids.is_some());
        assert_eq!(decode(&wire).unwrap(), servers);
    }

    #[test]
    fn a_malformed_id_is_refused_by_name() {
        assert_eq!(encode(0, &ids(&["i-0123456789abcdef0"])), Err(IdsError::Shape("i-0123456789abcdef0".into())));
        assert_eq!(encode(0, &ids(&["s-short"])), Err(IdsError::Shape("s-short".into())));
    }

    #[test]
    fn bad_wire_forms_are_errors_not_panics() {
        let w = |hex: Option<&str>, ids: Option<&str>| Wire { partition: 0, hex: hex.map(Into::into), ids: ids.map(Into::into) };
        assert_eq!(decode(&w(None, None)), Err(IdsError::Encoding));
        assert_eq!(decode(&w(Some(""), Some(""))), Err(IdsError::Encoding));
        assert!(matches!(decode(&w(Some("!!"), None)), Err(IdsError::Base64(_))));
        // 3 bytes: 6 digits, not an id.
        assert_eq!(decode(&w(Some("AAAA"), None)), Err(IdsError::HexLength(6)));
        assert_eq!(decode(&w(None, Some("abc"))), Err(IdsError::IdsLength(3)));
        assert_eq!(decode(&w(None, Some("0123456789abcdef0-123456789abcdef0"))), Err(IdsError::Character(1)));
    }
}
