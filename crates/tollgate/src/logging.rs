//! The log: `tracing` to stderr, one line per event, with control characters that came from
//! clients (a username with a line feed, a NUL in a name) escaped so nobody can forge log lines
//! or smuggle terminal escapes through them; and panics logged once, as errors, where they
//! happened.

use std::io::Write;

/// A writer that escapes every control character of an event except its final line feed (and,
/// on a colour terminal, ESC: tracing-subscriber escapes it in values itself).
struct EscapingWriter<W> {
    inner: W,
    colour: bool,
}

impl<W: Write> EscapingWriter<W> {
    fn needs_escape(&self, b: u8) -> bool {
        (b < 0x20 && b != b'\t' && !(self.colour && b == 0x1b)) || b == 0x7f
    }
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, newline) = match buf.split_last() {
            Some((b'\n', body)) => (body, true),
            _ => (buf, false),
        };
        if !body.iter().any(|&b| self.needs_escape(b)) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut escaped = Vec::with_capacity(buf.len() + 16);
        for &b in body {
            match b {
                b'\n' => escaped.extend_from_slice(b"\\n"),
                b'\r' => escaped.extend_from_slice(b"\\r"),
                b if self.needs_escape(b) => {
                    escaped.extend_from_slice(format!("\\x{b:02x}").as_bytes())
                }
                b => escaped.push(b),
            }
        }
        if newline {
            escaped.push(b'\n');
        }
        self.inner.write_all(&escaped)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub fn init() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_ansi(colour)
        .with_writer(move || EscapingWriter {
            inner: std::io::stderr(),
            colour,
        })
        .init();
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, %message, "panic; the request it served was answered with 500");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_but_the_line_end_kept() {
        let mut out = Vec::new();
        EscapingWriter {
            inner: &mut out,
            colour: false,
        }
        .write_all(b"user=\"a\nFAKE LINE\x00\x1b[31m\" ok\tx\n")
        .unwrap();
        assert_eq!(out, b"user=\"a\\nFAKE LINE\\x00\\x1b[31m\" ok\tx\n");
        let mut plain = Vec::new();
        EscapingWriter {
            inner: &mut plain,
            colour: false,
        }
        .write_all(b"plain line\n")
        .unwrap();
        assert_eq!(plain, b"plain line\n");
    }
}
