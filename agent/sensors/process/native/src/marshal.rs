//! Python's `marshal` format, the subset the agent's `loads` reads (agent/sensors/process/channel.py), and
//! the frames of `multiprocessing.connection` around it.
//!
//! Only the type codes are written that `marshal.loads` accepts from any version: no references, no
//! interning. A string is `TYPE_UNICODE`, whose bytes `marshal` decodes with `surrogatepass`: that is how
//! the surrogates of a `surrogateescape`-decoded name (`PyStr`) reach the agent as Python made them.

use crate::text::PyStr;

const SHORT_MAX: usize = 0x7FFF_FFFF;

/// An encoder writing into a growable buffer.
pub struct Writer {
    buffer: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { buffer: Vec::new() }
    }

    pub fn none(&mut self) {
        self.buffer.push(b'N');
    }

    pub fn boolean(&mut self, value: bool) {
        self.buffer.push(if value { b'T' } else { b'F' });
    }

    /// `TYPE_INT` for 32-bit values, else `TYPE_LONG`: 15-bit digits, least significant first, their
    /// count negated for a negative number.
    pub fn int(&mut self, value: i128) {
        if let Ok(small) = i32::try_from(value) {
            self.buffer.push(b'i');
            self.buffer.extend_from_slice(&small.to_le_bytes());
            return;
        }
        let mut magnitude = value.unsigned_abs();
        let mut digits: Vec<u16> = Vec::new();
        while magnitude != 0 {
            digits.push((magnitude & 0x7FFF) as u16);
            magnitude >>= 15;
        }
        let count = digits.len() as i32;
        self.buffer.push(b'l');
        self.buffer.extend_from_slice(&(if value < 0 { -count } else { count }).to_le_bytes());
        for digit in digits {
            self.buffer.extend_from_slice(&digit.to_le_bytes());
        }
    }

    pub fn str(&mut self, value: &PyStr) {
        self.text(value.as_bytes());
    }

    /// A string given as its `surrogatepass` UTF-8 bytes.
    pub fn text(&mut self, bytes: &[u8]) {
        self.buffer.push(b'u');
        self.size(bytes.len());
        self.buffer.extend_from_slice(bytes);
    }

    /// A tuple of `length` items: the caller writes them next.
    pub fn tuple(&mut self, length: usize) {
        self.buffer.push(b'(');
        self.size(length);
    }

    /// A list of `length` items: the caller writes them next.
    pub fn list(&mut self, length: usize) {
        self.buffer.push(b'[');
        self.size(length);
    }

    /// A record as the channel carries it: a one-entry dict, its class name to the tuple of its `fields`
    /// values, which `write` puts down.
    pub fn record(&mut self, name: &str, fields: usize, write: impl FnOnce(&mut Writer)) {
        self.buffer.push(b'{');
        self.text(name.as_bytes());
        self.tuple(fields);
        write(self);
        self.buffer.push(b'0'); // TYPE_NULL ends a dict
    }

    pub fn option<T>(&mut self, value: Option<&T>, write: impl FnOnce(&mut Writer, &T)) {
        match value {
            Some(value) => write(self, value),
            None => self.none(),
        }
    }

    fn size(&mut self, length: usize) {
        // No message comes near 2 GiB; marshal itself refuses larger sizes.
        let length = i32::try_from(length).expect("marshal sizes are 32-bit");
        self.buffer.extend_from_slice(&length.to_le_bytes());
    }

    /// The payload as one frame: a 4-byte big-endian signed length, or -1 and an 8-byte length.
    pub fn into_frame(self) -> Vec<u8> {
        let payload = self.buffer;
        let mut frame = Vec::with_capacity(payload.len() + 12);
        if payload.len() > SHORT_MAX {
            frame.extend_from_slice(&(-1i32).to_be_bytes());
            frame.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        } else {
            frame.extend_from_slice(&(payload.len() as i32).to_be_bytes());
        }
        frame.extend_from_slice(&payload);
        frame
    }

    #[cfg(test)]
    pub fn bytes(&self) -> &[u8] {
        &self.buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_take_the_forms_marshal_reads() {
        let mut writer = Writer::new();
        writer.int(-5);
        assert_eq!(writer.bytes(), b"i\xfb\xff\xff\xff");
        let mut writer = Writer::new();
        writer.int(1 << 31); // 2 ** 31: digits 0, 0, 2
        assert_eq!(writer.bytes(), b"l\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00");
        let mut writer = Writer::new();
        writer.int(-(1 << 40)); // -(2 ** 40): digits 0, 0, 1024, negated count
        assert_eq!(writer.bytes(), b"l\xfd\xff\xff\xff\x00\x00\x00\x00\x00\x04");
    }

    #[test]
    fn a_record_is_a_dict_of_its_name_to_a_tuple() {
        let mut writer = Writer::new();
        writer.record("KernelDrops", 1, |w| w.int(3));
        assert_eq!(writer.bytes(), b"{u\x0b\x00\x00\x00KernelDrops(\x01\x00\x00\x00i\x03\x00\x00\x000");
        let frame = writer.into_frame();
        assert_eq!(&frame[..4], &[0, 0, 0, 28]);
    }
}
