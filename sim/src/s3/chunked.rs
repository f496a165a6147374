//! An object's bytes as the request carried them: the body itself, or an aws-chunked body
//! (`Content-Encoding: aws-chunked`, sent by SDKs that put the checksum in a trailer) decoded
//! to its chunks' data.

use crate::protocol::ApiError;
use bytes::Bytes;
use http::HeaderMap;

pub fn payload(headers: &HeaderMap, body: &Bytes) -> Result<Bytes, ApiError> {
    let encoding = headers.get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !encoding.split(',').any(|e| e.trim() == "aws-chunked") {
        return Ok(body.clone());
    }
    let data = decode(body).ok_or_else(|| ApiError::new(400, "IncompleteBody", "The aws-chunked body does not parse"))?;
    let declared =
        headers.get("x-amz-decoded-content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n != data.len()) {
        return Err(ApiError::new(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ));
    }
    Ok(Bytes::from(data))
}

/// `<hex size>[;ext]\r\n<data>\r\n` chunks up to the zero-size one (trailers after it ignored).
fn decode(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    let mut at = 0;
    loop {
        let line_end = at + body.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&body[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(at..at.checked_add(size)?)?);
        at += size;
        (body.get(at..at + 2)? == b"\r\n").then_some(())?;
        at += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_joined_and_the_trailer_ignored() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        assert_eq!(decode(body).unwrap(), b"hello world");
        assert_eq!(decode(b"5\r\nhel"), None);
        assert_eq!(decode(b"zz\r\n"), None);
    }
}
