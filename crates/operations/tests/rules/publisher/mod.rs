//! `operations::publisher`.

mod lifecycle;
