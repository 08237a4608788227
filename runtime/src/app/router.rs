//! Routing an [`App`]: the route table every registration adds to, the
//! clash check run before any router is built, the shared state, and the
//! router with its middleware stack.

use std::sync::Arc;

use super::{App, ModelEntry};
use crate::db::Connection;
use crate::middleware::{RequestLayer, RouteLayer};
use crate::model::ModelMeta;
use crate::names::{ModelNames, RouteEntry};
use crate::state::{AppState, Router};

/// Route clashes found before the router is built: two registrations of
/// one path and method (or of paths that differ only in parameter names).
/// Each entry is a sentence naming both owners and what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteProblems(pub Vec<String>);

impl std::fmt::Display for RouteProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.join("; "))
    }
}

impl std::error::Error for RouteProblems {}

impl App {
    /// Registered models that have endpoints, with the names they take.
    pub(super) fn api_models(&self) -> Vec<(&ModelEntry, ModelNames)> {
        let entries: Vec<&ModelEntry> = self.models.iter().filter(|m| m.routes.is_some()).collect();
        let names = crate::names::resolve(&self.naming_input(&entries));
        entries.into_iter().zip(names).collect()
    }

    fn naming_input<'a>(
        &self,
        entries: &[&'a ModelEntry],
    ) -> Vec<(&'static ModelMeta, Option<&'a str>)> {
        entries
            .iter()
            .map(|e| ((e.meta)(), e.explicit_path.as_deref()))
            .collect()
    }

    /// The names each registered model with endpoints takes (its path,
    /// component schema prefix, operationId prefix and tag), in
    /// registration order; see [`crate::names`] for the rule.
    pub fn model_names(&self) -> Vec<(&'static ModelMeta, ModelNames)> {
        self.api_models()
            .into_iter()
            .map(|(entry, names)| ((entry.meta)(), names))
            .collect()
    }

    /// Every path the router would hold, with its methods and owner.
    fn route_table(&self) -> Vec<RouteEntry> {
        let entry = |path: &str, methods: &[&'static str], origin: &str| RouteEntry {
            path: path.to_string(),
            methods: methods.to_vec(),
            origin: origin.to_string(),
        };
        let mut table = Vec::new();
        for route in &self.routes {
            table.push(entry(&route.path, &route.methods, "a hand-written route"));
        }
        for (entry_, names) in self.api_models() {
            let meta = (entry_.meta)();
            let origin = format!("the model {}.{}", meta.app_label, meta.object_name);
            table.push(entry(&names.path, &["get", "post"], &origin));
            let item = format!("{}/{{pk}}", names.path);
            table.push(entry(&item, &["get", "put", "patch", "delete"], &origin));
            if entry_.feed.is_some() {
                for path in crate::feed::paths(&names.path) {
                    table.push(entry(&path, &["get"], &origin));
                }
            }
        }
        if self.auth {
            for (path, methods) in crate::auth::routes::ROUTES {
                table.push(entry(path, methods, "the auth endpoints"));
            }
            for (path, methods) in crate::admin::ROUTES {
                table.push(entry(path, methods, "the admin site"));
            }
            for (path, router) in &self.admin_pages {
                let methods = crate::openapi::methods_of(router);
                table.push(entry(path, &methods, "an admin page"));
            }
        }
        for (path, methods) in crate::docs::ROUTES {
            table.push(entry(path, methods, "the API docs"));
        }
        table.push(entry("/healthz", &["get"], "the health check"));
        table
    }

    /// What would stop the router from being built, each as a sentence
    /// saying what to change: two routes at one path and method (a model
    /// and a hand-written route, two `model_at` at one path...), and names
    /// two models would still share after app-qualifying them. Empty when
    /// [`App::try_router`] succeeds. `check` reports these; `serve` refuses
    /// to start on them, before touching the database.
    pub fn route_problems(&self) -> Vec<String> {
        let entries: Vec<&ModelEntry> = self.models.iter().filter(|m| m.routes.is_some()).collect();
        let mut problems = crate::names::shared_names(&self.naming_input(&entries));
        problems.extend(crate::names::route_clashes(&self.route_table()));
        if self.auth {
            if let Err(error) = crate::admin::check_inlines(&self.admin_models()) {
                problems.push(error.to_string());
            }
        }
        problems
    }

    /// The app as one axum router on `db`, as [`App::try_router`] builds it.
    ///
    /// # Panics
    /// On a route clash (see [`App::route_problems`]), with its message;
    /// `serve` and `check` report those as errors instead.
    pub fn router(&self, db: Connection) -> axum::Router {
        self.try_router(db)
            .unwrap_or_else(|clashes| panic!("{clashes}"))
    }

    /// The app as one axum router on `db`, with every model's endpoints,
    /// the hand-written routes, `/openapi.json`, `/docs`, `/healthz` and the
    /// middleware stack; an error naming every route clash instead (see
    /// [`App::route_problems`]). Creates nothing: call [`App::migrate`] (or
    /// [`App::create_tables`]) first on a new database.
    pub fn try_router(&self, db: Connection) -> Result<axum::Router, RouteProblems> {
        let problems = self.route_problems();
        if !problems.is_empty() {
            return Err(RouteProblems(problems));
        }
        let mut router = Router::new();
        for route in &self.routes {
            router = router.route(&route.path, route.method_router.clone());
        }
        if self.auth {
            router = router
                .merge(crate::auth::routes::router())
                .merge(crate::admin::router(self.admin_pages.clone()));
        }
        // The feed's routes answer for as long as their readers wait, so
        // they are kept apart from the request timeout (see finish_router).
        let mut feed = Router::new();
        for (entry, names) in self.api_models() {
            if let Some(routes) = entry.routes {
                router = router.merge(routes(&names.path));
            }
            if let Some(routes) = entry.feed {
                feed = feed.merge(routes(&names.path));
            }
        }
        Ok(self.finish_router(router, feed, self.state(db)))
    }

    /// The state every request shares, with the model registry's, auth's
    /// and the admin's slots filled.
    fn state(&self, db: Connection) -> AppState {
        let admin_models = if self.auth {
            self.admin_models()
        } else {
            Vec::new()
        };
        let hub = Arc::new(crate::changes::Hub::new(db.clone()));
        AppState::new(db, self.name.as_str(), self.list)
            .with_layer(crate::query::Models::new(
                self.models
                    .iter()
                    .filter_map(|m| m.rows.map(|rows| rows()))
                    .collect(),
            ))
            .with_layer(crate::auth::AuthState {
                authenticators: crate::auth::Authenticators(Arc::new(self.authenticators.clone())),
                token_ttl: self.token_ttl,
                throttle: crate::auth::LoginThrottle,
                password_policy: self.password_policy.clone(),
            })
            .with_layer(Arc::new(crate::admin::AdminState::new(
                self.admin_templates.clone(),
                admin_models,
                self.admin_actions.clone(),
                self.admin_site.clone(),
            )))
            .with_layer(self.feed)
            .with_layer(hub)
    }

    /// The admin operations of every model registered with [`App::model`].
    fn admin_models(&self) -> Vec<Arc<dyn crate::admin::AdminOps>> {
        self.models
            .iter()
            .filter_map(|m| m.admin.map(|ops| ops()))
            .collect()
    }

    /// `router` and the change feed's routes (`feed`) with the docs, the
    /// health check and the middleware stack. The request timeout wraps
    /// every route but the feed's: a long-poll waits up to its own bounded
    /// `timeout`, and a stream is meant to stay open.
    fn finish_router(&self, router: Router, feed: Router, state: AppState) -> axum::Router {
        let openapi = self.openapi_source();
        let document = move || {
            serde_json::to_vec(&openapi.build())
                .expect("a JSON value serializes")
                .into()
        };
        let router = router
            .merge(crate::docs::routes(document, &self.name))
            .route("/healthz", axum::routing::get(crate::api::healthz));
        let router = self
            .layered(router, self.request_timeout)
            .with_state(state.clone());
        router.merge(self.layered(feed, None).with_state(state))
    }

    /// `router` under the app's middleware, outermost first: the request's
    /// trace span, security headers and secret key; CORS when configured;
    /// the allowed hosts, `timeout`, the JSON body bounds and the
    /// rejections' JSON (see [`crate::middleware`]). One `layer` call:
    /// axum boxes every route once per call, and clones a route's boxes on
    /// every request.
    fn layered(&self, router: Router, timeout: Option<std::time::Duration>) -> Router {
        router.layer(
            tower::ServiceBuilder::new()
                .layer(RequestLayer::new(
                    self.security.key(),
                    self.security.response_headers(),
                ))
                .option_layer(self.security.cors_layer())
                .layer(RouteLayer {
                    hosts: self.security.hosts(),
                    timeout,
                    depth: self.json_depth,
                    body_limit: self.body_limit,
                }),
        )
    }
}
