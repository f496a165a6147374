//! What a hook returns, lifted within bounds.
//!
//! The generated bindings would lift a decision whole: a `skip` of 3 million ids into 3
//! million host Strings, a 40 MB pause reason into a 40 MB String, before the host looks at
//! either. Here the export's result is typed with `bounded.rs`'s types, which read a list's
//! length before its items and copy at most a bound of each string. Then the decision is
//! checked against the wave: a skip list no longer than the wave, of ids in the wave, without
//! duplicates; messages cut to [`MAX_MESSAGE_BYTES`].

use crate::bindings::{Decision, Server};
use crate::bounded::{BoundedList, BoundedStr};
use crate::error::HookError;
use std::collections::HashSet;
use wasmtime::component::{ComponentType, Lift};

/// Pause reasons and abort messages are kept to this many bytes (cut at a character boundary,
/// ending with a note of the full length). A pause reason travels in the approval's
/// StartExecution input (at most 262,144 bytes for everything) and both land in the run's
/// reports: a page of text is plenty for a reason.
pub const MAX_MESSAGE_BYTES: usize = 2048;
/// A skip list longer than this is refused before any id is read (after the lift, one longer
/// than the wave is refused too).
pub const MAX_SKIP_IDS: usize = 10_000;
/// An id longer than this cannot be a DRS source server id (`s-` and 17 hex digits).
pub const MAX_ID_BYTES: usize = 128;
/// `tag-keys` may name at most this many keys ...
pub const MAX_TAG_KEYS: usize = 64;
/// ... of at most this many bytes each (EC2's limit is 128 characters, 4 bytes at most each).
pub const MAX_TAG_KEY_BYTES: usize = 512;

type Message = BoundedStr<MAX_MESSAGE_BYTES>;
type Id = BoundedStr<MAX_ID_BYTES>;
pub(crate) type TagKeys = BoundedList<BoundedStr<MAX_TAG_KEY_BYTES>, MAX_TAG_KEYS>;

/// The WIT `decision` variant, lifted within the bounds above.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub(crate) enum RawDecision {
    #[component(name = "proceed")]
    Proceed,
    #[component(name = "skip")]
    Skip(BoundedList<Id, MAX_SKIP_IDS>),
    #[component(name = "delay")]
    Delay(u32),
    #[component(name = "pause")]
    Pause(Message),
    #[component(name = "abort")]
    Abort(Message),
}

/// The decision, checked against the wave.
pub(crate) fn check(raw: RawDecision, servers: &[Server]) -> Result<Decision, HookError> {
    Ok(match raw {
        RawDecision::Proceed => Decision::Proceed,
        RawDecision::Delay(seconds) => Decision::Delay(seconds),
        RawDecision::Pause(text) => Decision::Pause(message(text)),
        RawDecision::Abort(text) => Decision::Abort(message(text)),
        RawDecision::Skip(ids) => Decision::Skip(skip_list(ids.0, servers)?),
    })
}

fn skip_list(ids: Vec<Id>, servers: &[Server]) -> Result<Vec<String>, HookError> {
    if ids.len() > servers.len() {
        return Err(HookError::BadReturn(format!(
            "skip lists {} ids; the wave has {} server(s), so at most {} could name one of them",
            ids.len(),
            servers.len(),
            servers.len()
        )));
    }
    let known: HashSet<&str> = servers.iter().map(|s| s.source_server_id.as_str()).collect();
    let mut kept = HashSet::new();
    let mut out = Vec::new();
    for id in ids {
        if id.cut || !known.contains(id.text.as_str()) {
            return Err(HookError::BadReturn(format!(
                "skip names {}, which is not in the wave",
                fit(&id.text, !id.cut, id.len_bytes, 64)
            )));
        }
        if kept.insert(id.text.clone()) {
            out.push(id.text);
        }
    }
    Ok(out)
}

fn message(text: Message) -> String {
    fit(&text.text, !text.cut, text.len_bytes, MAX_MESSAGE_BYTES)
}

/// The tag keys `tag-keys` returned: none cut.
pub(crate) fn tag_keys(keys: TagKeys) -> Result<Vec<String>, HookError> {
    keys.0
        .into_iter()
        .map(|key| match key.cut {
            true => Err(HookError::Invalid(format!(
                "tag-keys: a key of {} bytes, longer than a tag key can be ({MAX_TAG_KEY_BYTES})",
                key.len_bytes
            ))),
            false => Ok(key.text),
        })
        .collect()
}

/// `text` if it is the whole string (`whole`) and fits in `max` bytes; else its start, cut at
/// a character boundary, and a note of the full length, `max` bytes in all. The full length
/// is the text's own when whole, else the guest's `len_bytes`. (Whether it is whole is the
/// lift's to say: a UTF-16 or Latin-1 guest's string has another length in its memory than
/// as UTF-8, and comparing the two called every such message cut.)
fn fit(text: &str, whole: bool, len_bytes: usize, max: usize) -> String {
    if whole && text.len() <= max {
        return text.to_owned();
    }
    let len_bytes = if whole { text.len() } else { len_bytes };
    let note = format!("... [cut from {len_bytes} bytes]");
    let mut end = max.saturating_sub(note.len()).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &text[..end])
}

/// `text` if it fits in `max` bytes; else its start and a note of its length, `max` bytes in all.
pub fn cut(text: &str, max: usize) -> String {
    fit(text, true, text.len(), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_bounds_long_text() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(5000);
        let kept = cut(&long, MAX_MESSAGE_BYTES);
        assert!(kept.len() <= MAX_MESSAGE_BYTES, "{}", kept.len());
        assert!(kept.starts_with("éé") && kept.ends_with("[cut from 10000 bytes]"), "{kept}");
    }

    /// A UTF-16 guest's "hé" is 4 bytes in its memory and 3 as UTF-8: whole, it is kept as
    /// it is (it used to get a note that it was cut from 4 bytes); cut, it gets the note.
    #[test]
    fn a_whole_message_of_another_encoding_is_not_noted_as_cut() {
        let whole = Message { text: "hé".into(), len_bytes: 4, cut: false };
        assert_eq!(message(whole), "hé");
        let cut = Message { text: "hé".into(), len_bytes: 40 << 20, cut: true };
        assert_eq!(message(cut), format!("hé... [cut from {} bytes]", 40 << 20));
    }
}
