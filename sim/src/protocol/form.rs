//! Reading the form-encoded parameters of awsQuery and ec2Query requests, including their
//! flattened lists (`Filter.1.Name`, `Filter.1.Value.1`, `InstanceId.1`).

use std::collections::BTreeMap;

pub struct Form {
    params: BTreeMap<String, String>,
}

impl Form {
    pub fn parse(body: &[u8], query: &str) -> Form {
        let mut params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        params.extend(form_urlencoded::parse(body).into_owned());
        Form { params }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// `Prefix.1`, `Prefix.2`, ... in numeric order.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        self.indexed(prefix).into_iter().filter_map(|i| self.get(&format!("{prefix}.{i}")).map(str::to_owned)).collect()
    }

    /// The indexes N present under `Prefix.N` or `Prefix.N.*`, sorted.
    pub fn indexed(&self, prefix: &str) -> Vec<u32> {
        let dotted = format!("{prefix}.");
        let mut out: Vec<u32> = self
            .params
            .range(dotted.clone()..)
            .take_while(|(k, _)| k.starts_with(&dotted))
            .filter_map(|(k, _)| k[dotted.len()..].split('.').next()?.parse().ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every parameter under `prefix.` with the prefix removed.
    pub fn subtree(&self, prefix: &str) -> BTreeMap<String, String> {
        let dotted = format!("{prefix}.");
        self.params
            .range(dotted.clone()..)
            .take_while(|(k, _)| k.starts_with(&dotted))
            .map(|(k, v)| (k[dotted.len()..].to_string(), v.clone()))
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.params.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_lists_come_back_in_numeric_order() {
        let f = Form::parse(
            b"Action=X&InstanceId.10=c&InstanceId.2=b&InstanceId.1=a&Filter.1.Name=tag%3AWave&Filter.1.Value.1=1",
            "",
        );
        assert_eq!(f.list("InstanceId"), vec!["a", "b", "c"]);
        assert_eq!(f.get("Filter.1.Name"), Some("tag:Wave"));
        assert_eq!(f.list("Filter.1.Value"), vec!["1"]);
        assert_eq!(f.indexed("Filter"), vec![1]);
    }
}
