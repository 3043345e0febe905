//! Nothing to link: this crate holds the tests (`tests/layers.rs`) that keep the workspace's
//! layering as ARCHITECTURE.md draws it — the dependency graph as cargo resolves it, and the
//! edges (REST handlers, portal pages, client registration, the internal data API) making no
//! store calls.
