//! `operations::admin`, and the administrator's users, environments and key managers.
