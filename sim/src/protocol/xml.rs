//! Writing the XML of awsQuery and ec2Query replies.

use std::borrow::Cow;

pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
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
    Cow::Owned(out)
}

/// `<name>value</name>` with the value escaped.
pub fn el(name: &str, value: &str) -> String {
    let mut out = String::new();
    push_el(&mut out, name, value);
    out
}

/// Appends `<name>value</name>`, the value escaped (replies of thousands of items are
/// written into one buffer).
pub fn push_el(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// `<name>value</name>` when there is a value, nothing otherwise.
pub fn opt(name: &str, value: Option<&str>) -> String {
    value.map(|v| el(name, v)).unwrap_or_default()
}

/// An EC2 tag set (`<tagSet><item><key/><value/></item>...</tagSet>`).
pub fn tag_set<'a>(name: &str, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    push_tag_set(&mut out, name, tags);
    out
}

pub fn push_tag_set<'a>(out: &mut String, name: &str, tags: impl IntoIterator<Item = (&'a String, &'a String)>) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for (k, v) in tags {
        out.push_str("<item>");
        push_el(out, "key", k);
        push_el(out, "value", v);
        out.push_str("</item>");
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::escape("a<b&'c\">"), "a&lt;b&amp;&apos;c&quot;&gt;");
    }
}
