//! `operations::publisher`.

mod apis;
mod lifecycle;
