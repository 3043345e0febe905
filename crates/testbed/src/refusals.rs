//! Assertions on an operation's refusal: `result.invalid("name")` passes when the operation
//! refused exactly because of that field (and returns its message), and panics showing what
//! happened instead otherwise.

use std::fmt::Debug;

use tollgate_operations::{OpError, OpResult};

/// What an operation's result is expected to be: one kind of refusal.
pub trait Refused {
    /// Refused as invalid input, with a problem naming `field`; that problem's message.
    fn invalid(self, field: &str) -> String;
    /// Refused as invalid input with problems naming exactly these fields (in any order).
    fn invalid_fields(self, fields: &[&str]);
    /// The caller lacks the permission.
    fn forbidden(self) -> String;
    fn not_found(self) -> String;
    fn conflict(self) -> String;
    /// Valid input, but not in the current state.
    fn not_allowed(self) -> String;
    fn stale(self) -> String;
    fn unauthenticated(self) -> String;
    /// The key manager refused; its error.
    fn key_manager(self) -> tollgate_keymanager::KeyManagerError;
}

fn unexpected<T: Debug>(wanted: &str, got: OpResult<T>) -> ! {
    panic!("expected {wanted}, got {got:?}")
}

impl<T: Debug> Refused for OpResult<T> {
    fn invalid(self, field: &str) -> String {
        match self {
            Err(OpError::Invalid(problems)) => match problems.iter().find(|p| p.field == field) {
                Some(problem) => problem.message.clone(),
                None => panic!("expected a problem with '{field}', got {problems:?}"),
            },
            other => unexpected(&format!("a problem with '{field}'"), other),
        }
    }

    fn invalid_fields(self, fields: &[&str]) {
        match self {
            Err(OpError::Invalid(problems)) => {
                let mut got: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                let mut wanted = fields.to_vec();
                got.sort_unstable();
                wanted.sort_unstable();
                assert_eq!(got, wanted, "{problems:?}");
            }
            other => unexpected(&format!("problems with {fields:?}"), other),
        }
    }

    fn forbidden(self) -> String {
        match self {
            Err(OpError::Forbidden(message)) => message,
            other => unexpected("Forbidden", other),
        }
    }

    fn not_found(self) -> String {
        match self {
            Err(OpError::NotFound(message)) => message,
            other => unexpected("NotFound", other),
        }
    }

    fn conflict(self) -> String {
        match self {
            Err(OpError::Conflict(message)) => message,
            other => unexpected("Conflict", other),
        }
    }

    fn not_allowed(self) -> String {
        match self {
            Err(OpError::NotAllowed(message)) => message,
            other => unexpected("NotAllowed", other),
        }
    }

    fn stale(self) -> String {
        match self {
            Err(OpError::Stale(message)) => message,
            other => unexpected("Stale", other),
        }
    }

    fn unauthenticated(self) -> String {
        match self {
            Err(OpError::Unauthenticated(message)) => message,
            other => unexpected("Unauthenticated", other),
        }
    }

    fn key_manager(self) -> tollgate_keymanager::KeyManagerError {
        match self {
            Err(OpError::KeyManager(err)) => err,
            other => unexpected("a key manager error", other),
        }
    }
}
