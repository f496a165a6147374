//! Launch template data travels flattened in requests (`NetworkInterface.1.SubnetId`) and
//! nested in replies (`<networkInterfaceSet><item><subnetId>`). This turns the one into the
//! other with EC2's naming rules: lowerCamelCase members, lists as `<xSet><item>`.

use crate::protocol::xml::escape;
use std::collections::BTreeMap;

enum Node {
    Leaf(String),
    Struct(BTreeMap<String, Node>),
    List(BTreeMap<u32, Node>),
}

/// Request list names whose reply names do not follow the `<name>Set` rule.
fn list_name(parent: &str, name: &str) -> (String, &'static str) {
    match (parent, name) {
        ("NetworkInterface", "SecurityGroupId") => ("groupSet".into(), "groupId"),
        (_, "LicenseSpecification") => ("licenseSet".into(), "item"),
        _ => (format!("{}Set", lower_first(name)), "item"),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn insert(node: &mut Node, path: &[&str], value: &str) {
    let Some((head, rest)) = path.split_first() else { return };
    match node {
        Node::Struct(m) => {
            if rest.is_empty() {
                m.insert((*head).to_owned(), Node::Leaf(value.to_owned()));
            } else if rest[0].parse::<u32>().is_ok() {
                let list = m.entry((*head).to_owned()).or_insert_with(|| Node::List(BTreeMap::new()));
                insert(list, rest, value);
            } else {
                let child = m.entry((*head).to_owned()).or_insert_with(|| Node::Struct(BTreeMap::new()));
                insert(child, rest, value);
            }
        }
        Node::List(items) => {
            let Ok(n) = head.parse::<u32>() else { return };
            if rest.is_empty() {
                items.insert(n, Node::Leaf(value.to_owned()));
            } else {
                let child = items.entry(n).or_insert_with(|| Node::Struct(BTreeMap::new()));
                insert(child, rest, value);
            }
        }
        Node::Leaf(_) => {}
    }
}

fn render(parent: &str, node: &Node, out: &mut String) {
    let Node::Struct(members) = node else { return };
    for (name, child) in members {
        match child {
            Node::Leaf(v) => out.push_str(&format!("<{0}>{1}</{0}>", lower_first(name), escape(v))),
            Node::Struct(_) => {
                let tag = lower_first(name);
                out.push_str(&format!("<{tag}>"));
                render(name, child, out);
                out.push_str(&format!("</{tag}>"));
            }
            Node::List(items) => {
                let (tag, item) = list_name(parent, name);
                out.push_str(&format!("<{tag}>"));
                for it in items.values() {
                    match it {
                        Node::Leaf(v) => out.push_str(&format!("<{item}>{}</{item}>", escape(v))),
                        other => {
                            out.push_str(&format!("<{item}>"));
                            render(name, other, out);
                            out.push_str(&format!("</{item}>"));
                        }
                    }
                }
                out.push_str(&format!("</{tag}>"));
            }
        }
    }
}

/// `<launchTemplateData>` for flattened data.
pub fn to_xml(data: &BTreeMap<String, String>) -> String {
    let mut root = Node::Struct(BTreeMap::new());
    for (k, v) in data {
        insert(&mut root, &k.split('.').collect::<Vec<_>>(), v);
    }
    let mut out = String::from("<launchTemplateData>");
    render("", &root, &mut out);
    out.push_str("</launchTemplateData>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_data_nests_with_ec2_names() {
        let data: BTreeMap<String, String> = [
            ("InstanceType", "m5.large"),
            ("NetworkInterface.1.SubnetId", "subnet-1"),
            ("NetworkInterface.1.SecurityGroupId.1", "sg-1"),
            ("NetworkInterface.1.DeviceIndex", "0"),
            ("IamInstanceProfile.Name", "prof"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let xml = to_xml(&data);
        assert!(xml.contains("<instanceType>m5.large</instanceType>"), "{xml}");
        assert!(xml.contains("<networkInterfaceSet><item><deviceIndex>0</deviceIndex><groupSet><groupId>sg-1</groupId></groupSet><subnetId>subnet-1</subnetId></item></networkInterfaceSet>"), "{xml}");
        assert!(xml.contains("<iamInstanceProfile><name>prof</name></iamInstanceProfile>"), "{xml}");
    }
}
