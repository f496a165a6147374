//! Strings and lists lifted from a guest with a bound on what is copied.
//!
//! wasmtime lifts an export's result, then at once runs the guest's post-return, which frees
//! what the result pointed to: the result must be copied during the lift, and the standard
//! `String`/`Vec` lifts copy all of it (a 40 MB pause reason into a 40 MB String, 3 million
//! ids into 3 million Strings) before the host can look. These two types read the length
//! first and copy at most their bound: [`BoundedStr`] the first `MAX` units of a string (and
//! its full length), [`BoundedList`] a list of at most `MAX` items, refused from its length
//! alone when longer.
//!
//! They implement wasmtime's `ComponentType` and `Lift` by hand, with items wasmtime exports
//! for its derive macros (`component::__internal`), which carry no API-stability promise:
//! a wasmtime upgrade that changes them fails to compile here rather than misbehaving.

use wasmtime::component::__internal::wasmtime_environ::component::StringEncoding;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift, WasmList};
use wasmtime::{bail, Result, ValRaw};

/// The canonical ABI marks a compact-UTF-16 string's length with this bit when it is UTF-16.
const UTF16_TAG: usize = 1 << 31;

/// A string of which at most `MAX` units (bytes; UTF-16 code units for a UTF-16 guest) were
/// copied into `text`.
#[derive(Debug)]
pub struct BoundedStr<const MAX: usize> {
    pub text: String,
    /// Its whole length in the guest's memory, in bytes.
    pub len_bytes: usize,
    /// Whether `text` is only the start of it.
    pub cut: bool,
}

// SAFETY: the same representation as `str` (a pointer and a length, two flat values), and
// the same type check: only a WIT `string` is lifted as one.
unsafe impl<const MAX: usize> ComponentType for BoundedStr<MAX> {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> Result<()> {
        <str as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: reads the pointer pair as the ABI lays it out, and the string only after checking
// that all of it lies inside the guest's memory (as wasmtime's own `WasmStr` does).
unsafe impl<const MAX: usize> Lift for BoundedStr<MAX> {
    fn linear_lift_from_flat(cx: &mut LiftContext<'_>, _ty: InterfaceType, src: &Self::Lower) -> Result<Self> {
        Self::read(cx, src[0].get_u32() as usize, src[1].get_u32() as usize)
    }

    fn linear_lift_from_memory(cx: &mut LiftContext<'_>, _ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        let (ptr, len) = pointer_pair(bytes)?;
        Self::read(cx, ptr, len)
    }
}

impl<const MAX: usize> BoundedStr<MAX> {
    fn read(cx: &mut LiftContext<'_>, ptr: usize, len: usize) -> Result<Self> {
        let memory = cx.memory();
        match cx.options().string_encoding {
            StringEncoding::Utf8 => {
                let bytes = span(memory, ptr, Some(len), 1)?;
                let take = len.min(MAX);
                cx.consume_fuel(take)?;
                Ok(BoundedStr { text: utf8_prefix(&bytes[..take], take < len)?, len_bytes: len, cut: take < len })
            }
            StringEncoding::Utf16 => Self::utf16(cx, memory, ptr, len),
            StringEncoding::CompactUtf16 if len & UTF16_TAG != 0 => Self::utf16(cx, memory, ptr, len ^ UTF16_TAG),
            StringEncoding::CompactUtf16 => {
                let bytes = span(memory, ptr, Some(len), 2)?;
                let take = len.min(MAX);
                cx.consume_fuel(take)?;
                let text = bytes[..take].iter().map(|b| char::from(*b)).collect();
                Ok(BoundedStr { text, len_bytes: len, cut: take < len })
            }
        }
    }

    fn utf16(cx: &mut LiftContext<'_>, memory: &[u8], ptr: usize, units: usize) -> Result<Self> {
        let bytes = span(memory, ptr, units.checked_mul(2), 2)?;
        let take = units.min(MAX);
        cx.consume_fuel(take * 2)?;
        let mut code: Vec<u16> = bytes[..take * 2].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        // Cut between the two halves of a surrogate pair: drop the first half.
        if take < units && code.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            code.pop();
        }
        let text = char::decode_utf16(code).collect::<Result<String, _>>()?;
        Ok(BoundedStr { text, len_bytes: units * 2, cut: take < units })
    }
}

/// A list of at most `MAX` items; a longer one is refused before any item is read.
#[derive(Debug)]
pub struct BoundedList<T, const MAX: usize>(pub Vec<T>);

// SAFETY: the same representation and type check as `[T]`.
unsafe impl<T: ComponentType, const MAX: usize> ComponentType for BoundedList<T, MAX> {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> Result<()> {
        <[T] as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: the length is read as the ABI lays it out; then wasmtime's `WasmList` checks the
// list's bounds and alignment and its items are lifted by their own `Lift`.
unsafe impl<T: Lift, const MAX: usize> Lift for BoundedList<T, MAX> {
    fn linear_lift_from_flat(cx: &mut LiftContext<'_>, ty: InterfaceType, src: &Self::Lower) -> Result<Self> {
        check_len::<MAX>(src[1].get_u32() as usize)?;
        let list = <WasmList<T> as Lift>::linear_lift_from_flat(cx, ty, src)?;
        Ok(BoundedList(T::linear_lift_list_from_memory(cx, &list)?))
    }

    fn linear_lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        check_len::<MAX>(pointer_pair(bytes)?.1)?;
        let list = <WasmList<T> as Lift>::linear_lift_from_memory(cx, ty, bytes)?;
        Ok(BoundedList(T::linear_lift_list_from_memory(cx, &list)?))
    }
}

/// Refuses a list longer than `MAX`, naming both numbers.
fn check_len<const MAX: usize>(len: usize) -> Result<()> {
    if len > MAX {
        bail!("lists {len} items; the host reads at most {MAX}");
    }
    Ok(())
}

fn pointer_pair(bytes: &[u8]) -> Result<(usize, usize)> {
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(p), Some(l)) => {
            Ok((u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize, u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize))
        }
        _ => bail!("a pointer pair needs 8 bytes"),
    }
}

/// `byte_len` bytes at `ptr`, if all of them are in the guest's memory and `ptr` is aligned.
fn span(memory: &[u8], ptr: usize, byte_len: Option<usize>, align: usize) -> Result<&[u8]> {
    if !ptr.is_multiple_of(align) {
        bail!("string pointer not aligned to {align}");
    }
    match byte_len.and_then(|len| Some(ptr..ptr.checked_add(len)?)).and_then(|range| memory.get(range)) {
        Some(bytes) => Ok(bytes),
        None => bail!("string pointer/length out of bounds of memory"),
    }
}

/// `bytes` as UTF-8; when they were cut from a longer string, a character cut in two at the
/// end is dropped. (The part not read is not validated.)
fn utf8_prefix(bytes: &[u8], was_cut: bool) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) if was_cut && e.error_len().is_none() => Ok(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()),
        Err(e) => bail!("invalid UTF-8: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_in_two_is_dropped_only_at_a_cut() {
        let text = "aé".as_bytes();
        assert_eq!(utf8_prefix(&text[..2], true).unwrap(), "a");
        assert!(utf8_prefix(&text[..2], false).is_err(), "a whole string must be valid");
        assert!(utf8_prefix(b"a\xffb", true).is_err(), "invalid inside what was read");
    }

    #[test]
    fn span_checks_bounds_and_alignment() {
        let memory = [0u8; 16];
        assert_eq!(span(&memory, 4, Some(12), 1).unwrap().len(), 12);
        assert!(span(&memory, 4, Some(13), 1).is_err());
        assert!(span(&memory, usize::MAX, Some(2), 1).is_err());
        assert!(span(&memory, 3, Some(2), 2).is_err());
        assert!(span(&memory, 0, None, 2).is_err());
    }
}
