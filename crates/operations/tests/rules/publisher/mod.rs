//! `operations::publisher`.

mod apis;
mod definition;
mod definitions;
mod documents;
mod lifecycle;
mod projects;
mod query;
mod revisions;
mod scopes;
mod settings;
mod subscriptions;
