//! `operations::publisher`.

mod apis;
mod definition;
mod definitions;
mod documents;
mod endpoint_certificates;
mod lifecycle;
mod projects;
mod query;
mod revisions;
mod scopes;
mod settings;
mod subscriptions;
