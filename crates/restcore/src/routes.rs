//! A REST API's routes together with the list of operations they serve, so what is
//! implemented can be listed (`docs/rest-api-coverage.md`) from the same declaration that
//! routes requests.

use axum::routing::MethodRouter;
use axum::Router;

use crate::Ctx;

/// One operation: an HTTP method and a path template (`GET /apis/{api_id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
}

impl Operation {
    /// The path with every parameter written `{}`, to compare templates whatever their
    /// parameters are called.
    pub fn shape(path: &str) -> String {
        path.split('/')
            .map(|s| if s.starts_with('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Routes, and the operations they declare.
#[derive(Default)]
pub struct Routes {
    router: Router<Ctx>,
    operations: Vec<Operation>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `path` with `handlers`, which answer the space-separated `methods` (`"GET PUT"`).
    /// (A test sends each listed method to a running node and checks it is answered.)
    pub fn route(
        mut self,
        path: &'static str,
        methods: &'static str,
        handlers: MethodRouter<Ctx>,
    ) -> Routes {
        for method in methods.split_whitespace() {
            self.operations.push(Operation { method, path });
        }
        self.router = self.router.route(path, handlers);
        self
    }

    /// These routes and `other`'s (another crate's operations under the same base path).
    pub fn merge(mut self, other: Routes) -> Routes {
        self.operations.extend(other.operations);
        self.router = self.router.merge(other.router);
        self
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn into_router(self, ctx: Ctx) -> Router {
        self.router.with_state(ctx)
    }
}
