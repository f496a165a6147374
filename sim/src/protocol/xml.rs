//! Writing the XML of awsQuery and ec2Query replies.

pub fn escape(s: &str) -> String {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// `<name>value</name>` with the value escaped.
pub fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

/// `<name>value</name>` when there is a value, nothing otherwise.
pub fn opt(name: &str, value: Option<&str>) -> String {
    value.map(|v| el(name, v)).unwrap_or_default()
}

/// An EC2 tag set (`<tagSet><item><key/><value/></item>...</tagSet>`).
pub fn tag_set<'a>(name: &str, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let items: String = tags.into_iter().map(|(k, v)| format!("<item>{}{}</item>", el("key", k), el("value", v))).collect();
    format!("<{name}>{items}</{name}>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::escape("a<b&'c\">"), "a&lt;b&amp;&apos;c&quot;&gt;");
    }
}
