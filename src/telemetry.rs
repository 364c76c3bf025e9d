//! Logging setup: the global subscriber and the writer every log line goes through. A line is
//! coloured only on a terminal, and holds no control character but its final newline, so no
//! value a request carries can start a line of its own (the JSON format escapes them already;
//! the writer makes the text format do the same).

use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber (once; later calls are ignored, which suits tests).
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal (and never under `NO_COLOR`,
    // https://no-color.org): in a file or a pipe they are noise.
    let ansi =
        io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(OneLine { ansi });
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Makes `LineWriter`s onto standard error.
struct OneLine {
    /// Whether colour codes (ESC) are meant to be written.
    ansi: bool,
}

impl<'a> MakeWriter<'a> for OneLine {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { ansi: self.ansi }
    }
}

/// Writes one formatted event (the subscriber writes each in one call) to standard error with
/// every control character but its final newline escaped as `\xNN`.
struct LineWriter {
    ansi: bool,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write_all(&escape(buf, self.ansi))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// `buf` with its control characters escaped: all but a final newline, a tab, and ESC when
/// colour codes are meant.
fn escape(buf: &[u8], ansi: bool) -> Vec<u8> {
    let (body, end) = match buf.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (buf, &b""[..]),
    };
    let mut out = Vec::with_capacity(buf.len());
    for &b in body {
        match b {
            b'\t' => out.push(b),
            0x1b if ansi => out.push(b),
            0x00..=0x1f | 0x7f => {
                let _ = write!(out, "\\x{b:02x}");
            }
            _ => out.push(b),
        }
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_only_its_final_newline() {
        let line = escape(b"GET x\n2099-01-01 INFO forged\r\x1b[31m\n", false);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "GET x\\x0a2099-01-01 INFO forged\\x0d\\x1b[31m\n"
        );
    }

    #[test]
    fn colour_codes_stay_on_a_terminal() {
        assert_eq!(escape(b"\x1b[2mdim\x1b[0m\n", true), b"\x1b[2mdim\x1b[0m\n");
        assert_eq!(escape(b"tab\tok", false), b"tab\tok");
    }
}
