//! Reading client lines with a bound: a line longer than the limit is an error, never an
//! ever-growing buffer.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    Line(String),
    /// The client closed the socket (a partial last line is dropped with it).
    Closed,
    TooLong,
    NotUtf8,
}

/// A line being read. Keeping the partial line here, not in the future, makes
/// [`LineReader::read`] cancel-safe: it can sit in a `select!` beside other work, or under
/// a timeout, and no bytes are lost when it loses the race.
#[derive(Debug)]
pub(crate) struct LineReader {
    partial: Vec<u8>,
    max: usize,
}

impl LineReader {
    pub(crate) fn new(max: usize) -> LineReader {
        LineReader {
            partial: Vec::new(),
            max,
        }
    }

    /// The next line, without its `\n`. Bytes after the line stay in `reader`'s buffer,
    /// so a socket that turns into a stream loses nothing the client sent early.
    pub(crate) async fn read<R: AsyncBufRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> std::io::Result<Read> {
        loop {
            let available = reader.fill_buf().await?;
            if available.is_empty() {
                self.partial.clear();
                return Ok(Read::Closed);
            }
            let (take, end) = match available.iter().position(|b| *b == b'\n') {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if self.partial.len() + take > self.max {
                self.partial.clear();
                return Ok(Read::TooLong);
            }
            self.partial.extend_from_slice(&available[..take]);
            reader.consume(take + usize::from(end));
            if end {
                let line = std::mem::take(&mut self.partial);
                return Ok(String::from_utf8(line).map_or(Read::NotUtf8, Read::Line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, BufReader};

    #[tokio::test]
    async fn lines_limits_and_leftovers() {
        let input: &[u8] = b"one\r\ntwo\n\xff\nthis line is too long\nrest";
        let mut reader = BufReader::with_capacity(4, input);
        let mut lines = LineReader::new(10);
        assert_eq!(
            lines.read(&mut reader).await.ok(),
            Some(Read::Line("one\r".into()))
        );
        assert_eq!(
            lines.read(&mut reader).await.ok(),
            Some(Read::Line("two".into()))
        );
        assert_eq!(lines.read(&mut reader).await.ok(), Some(Read::NotUtf8));
        assert_eq!(lines.read(&mut reader).await.ok(), Some(Read::TooLong));
        let mut lines = LineReader::new(100);
        let mut rest = String::new();
        reader.read_to_string(&mut rest).await.expect("in memory");
        // The overlong line was dropped only as far as it was read.
        assert!(rest.ends_with("long\nrest"), "{rest}");
        assert_eq!(
            lines.read(&mut &b"partial"[..]).await.ok(),
            Some(Read::Closed)
        );
    }
}
