//! Item sizes as DynamoDB computes them ("Item sizes and formats"): attribute names' UTF-8
//! bytes plus each value's size, with 3 bytes for a map or list and 1 for each element; the
//! 400 KB item limit and the 1 MB page of Query are measured this way.

use super::number::Number;
use super::value::{Item, Value};

/// The largest item DynamoDB stores: 400 KB (1 KB = 1024 bytes).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The most a Query reads into one page: 1 MB.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

pub fn value_size(value: &Value) -> usize {
    match value {
        Value::S(s) => s.len(),
        Value::N(n) => number_size(n),
        Value::B(b) => b.len(),
        Value::Bool(_) | Value::Null => 1,
        Value::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        Value::Ss(set) => set.iter().map(String::len).sum(),
        Value::Ns(set) => set.iter().map(number_size).sum(),
        Value::Bs(set) => set.iter().map(Vec::len).sum(),
    }
}

/// One byte per two significant digits, one more, and one for the sign of a negative number.
pub fn number_size(n: &Number) -> usize {
    n.significant_digits().div_ceil(2) + 1 + usize::from(n.is_negative())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_documented_rules() {
        let n = |s: &str| Value::N(s.parse().unwrap());
        assert_eq!(value_size(&Value::S("héllo".into())), 6, "UTF-8 bytes");
        assert_eq!(value_size(&n("12345")), 4, "three bytes of digits, one more");
        assert_eq!(value_size(&n("-1")), 3);
        assert_eq!(value_size(&Value::L(vec![])), 3);
        assert_eq!(value_size(&Value::L(vec![Value::Bool(true), Value::S("ab".into())])), 3 + 2 + 3);
        let map = Value::M([("key".to_string(), Value::S("v".into()))].into());
        assert_eq!(value_size(&map), 3 + 1 + 3 + 1);
        let item: Item = [("pk".to_string(), Value::S("abc".into()))].into();
        assert_eq!(item_size(&item), 5);
    }
}
