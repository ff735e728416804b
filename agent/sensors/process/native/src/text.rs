//! Bytes from /proc as the Python listener turns them into `str`, and its integer parsing.
//!
//! Names (paths, arguments) are decoded as `bytes.decode("utf-8", "surrogateescape")`: each byte of an
//! invalid sequence becomes the lone surrogate U+DC00 + byte. `comm` is decoded with `"replace"`: one
//! U+FFFD per maximal invalid subsequence, as both Python and `Utf8Chunks` delimit them.

/// A Python `str` held as its `surrogatepass` UTF-8 bytes, the form `marshal` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyStr(Vec<u8>);

impl PyStr {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `raw.decode("utf-8", "surrogateescape")`.
    pub fn surrogateescape(raw: &[u8]) -> PyStr {
        let mut out = Vec::with_capacity(raw.len());
        for chunk in raw.utf8_chunks() {
            out.extend_from_slice(chunk.valid().as_bytes());
            for &byte in chunk.invalid() {
                // U+DC80..U+DCFF (an invalid byte is never ASCII) in three UTF-8 bytes.
                let point = 0xDC00u32 + u32::from(byte);
                out.push(0xE0 | (point >> 12) as u8);
                out.push(0x80 | ((point >> 6) & 0x3F) as u8);
                out.push(0x80 | (point & 0x3F) as u8);
            }
        }
        PyStr(out)
    }

    /// `raw.decode("utf-8", "replace")`.
    pub fn replace(raw: &[u8]) -> PyStr {
        PyStr(String::from_utf8_lossy(raw).into_owned().into_bytes())
    }

    /// `self.removesuffix(suffix)` for an ASCII suffix.
    pub fn remove_suffix(mut self, suffix: &str) -> PyStr {
        if self.0.ends_with(suffix.as_bytes()) {
            self.0.truncate(self.0.len() - suffix.len());
        }
        self
    }

    /// The part after the last '/' (`os.path.basename`).
    pub fn basename(&self) -> &[u8] {
        match self.0.iter().rposition(|&byte| byte == b'/') {
            Some(at) => &self.0[at + 1..],
            None => &self.0,
        }
    }
}

/// `bytes.split()`: runs of ASCII whitespace separate, none at either end.
pub fn split_whitespace(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .filter(|field| !field.is_empty())
}

/// `int(token)` for a token without surrounding whitespace: an optional sign, then decimal digits,
/// single underscores allowed between them; `None` where Python raises `ValueError` (or beyond i128).
pub fn py_int(token: &[u8]) -> Option<i128> {
    let (negative, digits) = match token.first() {
        Some(b'-') => (true, &token[1..]),
        Some(b'+') => (false, &token[1..]),
        _ => (false, token),
    };
    if digits.is_empty() || digits[0] == b'_' || digits[digits.len() - 1] == b'_' {
        return None;
    }
    let mut value: i128 = 0;
    let mut previous_underscore = false;
    for &byte in digits {
        if byte == b'_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i128::from(byte - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_become_lone_surrogates() {
        // "é" is valid; \xff and the truncated \xe2\x82 are not: U+DCFF, U+DCE2, U+DC82.
        let decoded = PyStr::surrogateescape(b"\xc3\xa9\xff-\xe2\x82");
        assert_eq!(decoded.as_bytes(), b"\xc3\xa9\xed\xb3\xbf-\xed\xb3\xa2\xed\xb2\x82");
    }

    #[test]
    fn replace_gives_one_replacement_per_maximal_invalid_subsequence() {
        assert_eq!(PyStr::replace(b"a\xe2\x82").as_bytes(), "a\u{fffd}".as_bytes());
        assert_eq!(PyStr::replace(b"\xed\xa0\x80").as_bytes(), "\u{fffd}\u{fffd}\u{fffd}".as_bytes());
    }

    #[test]
    fn ints_parse_as_python_parses_them() {
        assert_eq!(py_int(b"42"), Some(42));
        assert_eq!(py_int(b"-1"), Some(-1));
        assert_eq!(py_int(b"+0_7"), Some(7));
        assert_eq!(py_int(b"1__0"), None);
        assert_eq!(py_int(b"_1"), None);
        assert_eq!(py_int(b"x"), None);
        assert_eq!(py_int(b""), None);
    }

    #[test]
    fn split_skips_runs_of_whitespace() {
        let fields: Vec<&[u8]> = split_whitespace(b" a\t\tb\x0bc \n").collect();
        assert_eq!(fields, vec![&b"a"[..], b"b", b"c"]);
    }
}
