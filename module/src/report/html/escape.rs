//! HTML escaping and the colour of a state: shared by the report's HTML and its SVG timeline.

/// HTML-escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A wave state's colour, shared by the waves table's badges and the timeline's bars.
pub(crate) fn state_colour(state: &str) -> &'static str {
    match state.to_ascii_lowercase().as_str() {
        "completed" | "succeeded" => "#2da44e",
        "failed" => "#cf222e",
        "running" => "#0969da",
        "paused" => "#bf8700",
        "waiting" => "#8c959f",
        _ => "#6e7781",
    }
}
