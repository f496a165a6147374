//! The text of an error with every source in its chain (the SDK nests the cause, such as an
//! AssumeRole refusal while loading credentials, several levels deep). Reasons are named in
//! `accounts::reason`.

pub fn display_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
