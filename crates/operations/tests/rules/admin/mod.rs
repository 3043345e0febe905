//! `operations::admin`, and the administrator's users, environments and key managers.

mod environments;
mod key_managers;
mod signing_keys;
mod tiers;
mod users;
mod workflows;
