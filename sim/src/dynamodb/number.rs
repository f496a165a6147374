//! DynamoDB's Number: a decimal of up to 38 significant digits between 1E-130 and
//! 9.99...E+125 in magnitude, compared and added as a number (`10 > 9`, `1.50 = 1.5`), never
//! as text, and answered in its normal form (`"01.50"` comes back as `"1.5"`).

use std::cmp::Ordering;
use std::fmt;

/// Significant digits DynamoDB keeps.
const MAX_DIGITS: usize = 38;
/// `exponent` bounds in the form 0.d1d2... x 10^exponent: 1E-130 is 0.1E-129 and
/// 9.99...E+125 is 0.999...E+126.
const MIN_EXPONENT: i32 = -129;
const MAX_EXPONENT: i32 = 126;

/// Why a text is not a Number DynamoDB stores, in its words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("A value provided cannot be converted into a number")]
    NotANumber,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
    #[error("Number overflow. Attempting to store a number with magnitude larger than supported range")]
    Overflow,
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

/// A decimal in normal form: `digits` without leading or trailing zeros (empty for zero) and
/// the value `0.d1d2... x 10^exponent`, so equal numbers have equal fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i32,
}

impl Number {
    pub fn zero() -> Number {
        Number { negative: false, digits: vec![], exponent: 0 }
    }

    pub fn from_i64(n: i64) -> Number {
        // The text of an integer always parses; zero is the fallback that never happens.
        n.to_string().parse().unwrap_or_else(|_| Number::zero())
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Significant digits, for the item size.
    pub fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    /// Builds the normal form of `sign * int(digits) * 10^scale` and checks DynamoDB's limits.
    fn normalize(negative: bool, mut digits: Vec<u8>, scale: i64) -> Result<Number, NumberError> {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        let trailing = digits.iter().rev().take_while(|d| **d == 0).count();
        digits.truncate(digits.len() - trailing);
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let exponent = scale + trailing as i64 + digits.len() as i64;
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        if exponent > i64::from(MAX_EXPONENT) {
            return Err(NumberError::Overflow);
        }
        if exponent < i64::from(MIN_EXPONENT) {
            return Err(NumberError::Underflow);
        }
        Ok(Number { negative, digits, exponent: exponent as i32 })
    }

    /// `self + other`, within DynamoDB's limits.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        let (a, b) = (self.scaled(), other.scaled());
        let scale = a.1.min(b.1);
        let ma = shift(&a.0, (a.1 - scale) as usize);
        let mb = shift(&b.0, (b.1 - scale) as usize);
        let (negative, magnitude) = match (self.negative, other.negative) {
            (x, y) if x == y => (x, add_magnitudes(&ma, &mb)),
            _ => match compare_magnitudes(&ma, &mb) {
                Ordering::Less => (other.negative, sub_magnitudes(&mb, &ma)),
                _ => (self.negative, sub_magnitudes(&ma, &mb)),
            },
        };
        Number::normalize(negative, magnitude, scale)
    }

    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negated())
    }

    fn negated(&self) -> Number {
        Number { negative: !self.negative && !self.is_zero(), ..self.clone() }
    }

    /// The digits as an integer and the power of ten it is scaled by.
    fn scaled(&self) -> (Vec<u8>, i64) {
        (self.digits.clone(), i64::from(self.exponent) - self.digits.len() as i64)
    }

    fn magnitude_cmp(&self, other: &Number) -> Ordering {
        self.exponent.cmp(&other.exponent).then_with(|| self.digits.cmp(&other.digits))
    }
}

/// Appends `zeros` zeros (multiplies by 10^zeros); digits are most significant first.
fn shift(digits: &[u8], zeros: usize) -> Vec<u8> {
    let mut out = digits.to_vec();
    out.resize(digits.len() + zeros, 0);
    out
}

fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |x: &[u8]| x.iter().skip_while(|d| **d == 0).copied().collect::<Vec<u8>>();
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let (mut out, mut carry) = (Vec::with_capacity(a.len().max(b.len()) + 1), 0u8);
    let (mut i, mut j) = (a.iter().rev(), b.iter().rev());
    loop {
        let (x, y) = (i.next(), j.next());
        if x.is_none() && y.is_none() {
            break;
        }
        let sum = x.copied().unwrap_or(0) + y.copied().unwrap_or(0) + carry;
        out.push(sum % 10);
        carry = sum / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn sub_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let (mut out, mut borrow) = (Vec::with_capacity(a.len()), 0i8);
    let mut j = b.iter().rev();
    for x in a.iter().rev() {
        let mut d = *x as i8 - borrow - j.next().map_or(0, |y| *y as i8);
        borrow = i8::from(d < 0);
        if d < 0 {
            d += 10;
        }
        out.push(d as u8);
    }
    out.reverse();
    out
}

impl std::str::FromStr for Number {
    type Err = NumberError;

    /// `[+-]digits[.digits][(e|E)[+-]digits]`, as DynamoDB reads it (`.5` and `5.` too).
    fn from_str(text: &str) -> Result<Number, NumberError> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], parse_exponent(&rest[i + 1..])?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(NumberError::NotANumber);
        }
        let digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).map(|b| b - b'0').collect();
        let n = Number::normalize(negative, digits, exponent - fraction.len() as i64)?;
        Ok(if n.is_zero() { Number::zero() } else { n })
    }
}

fn parse_exponent(text: &str) -> Result<i64, NumberError> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    // Far past the limits either way; the limit check names which.
    let value: i64 = digits.parse().unwrap_or(100_000).min(100_000);
    Ok(if text.starts_with('-') { -value } else { value })
}

impl fmt::Display for Number {
    /// Plain decimal notation, no exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let sign = if self.negative { "-" } else { "" };
        let e = self.exponent;
        if e <= 0 {
            write!(f, "{sign}0.{}{digits}", "0".repeat(e.unsigned_abs() as usize))
        } else if e as usize >= digits.len() {
            write!(f, "{sign}{digits}{}", "0".repeat(e as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(e as usize);
            write!(f, "{sign}{whole}.{fraction}")
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => match sign(self) {
                1 => self.magnitude_cmp(other),
                -1 => other.magnitude_cmp(self),
                _ => Ordering::Equal,
            },
            unequal => unequal,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn normal_form_is_answered() {
        for (input, shown) in [
            ("01.50", "1.5"),
            ("-0", "0"),
            ("1e2", "100"),
            ("1.5E-3", "0.0015"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+7", "7"),
            ("123.456", "123.456"),
            ("-42", "-42"),
        ] {
            assert_eq!(n(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn compares_as_numbers() {
        assert!(n("10") > n("9"));
        assert!(n("-10") < n("-9"));
        assert!(n("0.15") > n("0.1"));
        assert!(n("-0.5") < n("0"));
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!(n("1.50").cmp(&n("1.5")), Ordering::Equal);
    }

    #[test]
    fn adds_and_subtracts() {
        assert_eq!(n("9").add(&n("1")).unwrap().to_string(), "10");
        assert_eq!(n("1.25").add(&n("-3")).unwrap().to_string(), "-1.75");
        assert_eq!(n("0.1").add(&n("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(n("5").sub(&n("5")).unwrap(), Number::zero());
        assert_eq!(n("-2").sub(&n("-5")).unwrap().to_string(), "3");
        assert_eq!(n("1e30").add(&n("1e-30")), Err(NumberError::TooPrecise));
    }

    #[test]
    fn limits_are_dynamodbs() {
        assert_eq!("abc".parse::<Number>(), Err(NumberError::NotANumber));
        assert_eq!("".parse::<Number>(), Err(NumberError::NotANumber));
        assert_eq!("1e".parse::<Number>(), Err(NumberError::NotANumber));
        assert_eq!("1.2.3".parse::<Number>(), Err(NumberError::NotANumber));
        assert_eq!("1e126".parse::<Number>(), Err(NumberError::Overflow));
        assert!("9.9e125".parse::<Number>().is_ok());
        assert!("1e-130".parse::<Number>().is_ok());
        assert_eq!("1e-131".parse::<Number>(), Err(NumberError::Underflow));
        assert_eq!("1".repeat(39).parse::<Number>(), Err(NumberError::TooPrecise));
        assert!(format!("{}000", "1".repeat(38)).parse::<Number>().is_ok());
    }
}
