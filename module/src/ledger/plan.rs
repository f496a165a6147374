//! A run's plan in the ledger: the waves' servers per account x region as activate planned
//! them, written once with the run's record (one transaction) and read back by every status
//! check. DynamoDB caps an item at 400 KB, so the plan's text is cut into numbered chunks under
//! the run's partition key (`plan#<execution>#0000`...); each chunk says how many there are, so
//! a plan read back short is refused rather than misread.

use super::record::RunKey;
use serde::{Deserialize, Serialize};

/// Bytes of plan text per item: under DynamoDB's 400 KB with the keys and attribute names.
pub const CHUNK_BYTES: usize = 350 * 1000;
/// A plan's largest text: one transaction writes at most 4 MB (and 100 items) in all.
pub const MAX_PLAN_BYTES: usize = 3_500_000;

/// One chunk of a run's plan, as the item holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanChunk {
    pub pk: String,
    pub sk: String,
    /// Its place, from 0, and how many chunks the plan has.
    pub part: u32,
    pub of: u32,
    pub text: String,
}

/// The sort keys of a run's plan chunks start with this.
pub fn prefix(key: &RunKey) -> String {
    format!("plan#{}#", key.execution)
}

/// The plan's text cut into chunks, each on a character boundary.
pub fn chunks(key: &RunKey, text: &str) -> Vec<PlanChunk> {
    let mut parts = vec![];
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = CHUNK_BYTES.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    let of = parts.len() as u32;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, t)| PlanChunk { pk: key.pk(), sk: format!("{}{i:04}", prefix(key)), part: i as u32, of, text: t.to_owned() })
        .collect()
}

/// The plan's text from its chunks (in any order), or why they do not make one.
pub fn join(mut chunks: Vec<PlanChunk>) -> Result<String, String> {
    chunks.sort_by_key(|c| c.part);
    let Some(first) = chunks.first() else { return Err("the run has no plan".into()) };
    let of = first.of;
    let parts: Vec<u32> = chunks.iter().map(|c| c.part).collect();
    if chunks.iter().any(|c| c.of != of) || parts != (0..of).collect::<Vec<u32>>() {
        return Err(format!("the plan's chunks are {parts:?} of {of}"));
    }
    Ok(chunks.into_iter().map(|c| c.text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_cut_into_chunks_joins_back_whole_and_a_missing_chunk_is_named() {
        let key = RunKey::new("0123456789abcdef", "drill-1");
        let text = "é".repeat(CHUNK_BYTES) + "tail";
        let parts = chunks(&key, &text);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|c| c.text.len() <= CHUNK_BYTES && c.of == 3), "{:?}", parts.iter().map(|c| c.text.len()));
        assert_eq!(parts[1].sk, "plan#drill-1#0001");
        let mut shuffled = parts.clone();
        shuffled.reverse();
        assert_eq!(join(shuffled).unwrap(), text);
        let short: Vec<PlanChunk> = parts.into_iter().filter(|c| c.part != 1).collect();
        assert_eq!(join(short).unwrap_err(), "the plan's chunks are [0, 2] of 3");
        assert!(join(vec![]).is_err());
        assert_eq!(chunks(&key, "{}").len(), 1);
    }
}
