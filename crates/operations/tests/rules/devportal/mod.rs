//! `operations::devportal`.
