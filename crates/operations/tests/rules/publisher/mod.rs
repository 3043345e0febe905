//! `operations::publisher`.

mod apis;
mod definition;
mod lifecycle;
mod query;
mod revisions;
