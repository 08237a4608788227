//! [`App`]: registers models and hand-written routes, and links them into
//! one axum [`Router`](axum::Router) with one middleware stack.

use std::sync::Arc;

use crate::db::Connection;
use axum::routing::MethodRouter;
use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{DbErr, Schema};

use crate::model::{Model, ModelMeta};
use crate::names::ModelNames;
use crate::openapi::{OpenApiBuilder, RouteDocs};

mod router;

pub use router::RouteProblems;

/// The state and router type live in [`crate::state`], under every layer
/// that uses them; they stay reachable here, beside the builder.
pub use crate::state::{AppState, Router};

/// What the runtime keeps of each registered model.
#[derive(Clone)]
pub(crate) struct ModelEntry {
    pub(crate) meta: fn() -> &'static ModelMeta,
    /// The path given to [`App::model_at`]; `None`: the path the naming
    /// rule gives (see [`crate::names`]).
    pub(crate) explicit_path: Option<String>,
    /// `None` for internal tables that have no API (tokens).
    pub(crate) routes: Option<fn(&str) -> Router>,
    /// The model's change feed routes (`{path}/changes`, `{path}/events`),
    /// routed beside `routes`; `None` for internal tables.
    pub(crate) feed: Option<fn(&str) -> Router>,
    pub(crate) create_table: fn(&Schema) -> (TableCreateStatement, Vec<IndexCreateStatement>),
    /// Adds the model's operations and schemas to the OpenAPI document.
    pub(crate) openapi: DescribeModel,
    /// The model's admin operations; `None` for internal tables.
    pub(crate) admin: Option<fn() -> Arc<dyn crate::admin::AdminOps>>,
    /// The model's rows for the registry ([`crate::query::Models`]) the
    /// delete cascade walks; `None` for internal tables, as `admin`.
    pub(crate) rows: Option<fn() -> Arc<dyn crate::query::DynRows>>,
}

/// Adds one model's operations and schemas to the OpenAPI document.
type DescribeModel = fn(&mut OpenApiBuilder, &ModelNames);

/// The parts of an [`App`] its OpenAPI document is made of (see
/// [`App::openapi_source`]).
pub(crate) struct OpenApiSource {
    /// Each model's document builder, with the names it takes.
    models: Vec<(DescribeModel, ModelNames)>,
    route_docs: Vec<(String, RouteDocs)>,
    auth: bool,
    list: crate::state::ListSettings,
    name: String,
    version: String,
}

impl OpenApiSource {
    /// The OpenAPI 3.1 document.
    pub(crate) fn build(&self) -> serde_json::Value {
        let mut builder = OpenApiBuilder::new(self.list);
        for (openapi, names) in &self.models {
            openapi(&mut builder, names);
        }
        let auth_docs = if self.auth {
            crate::openapi::auth_routes()
        } else {
            Vec::new()
        };
        for (path, docs) in auth_docs.iter().chain(&self.route_docs) {
            docs.describe(&mut builder, path);
        }
        builder.build(&self.name, &self.version)
    }
}

fn admin_ops<M: Model>() -> Arc<dyn crate::admin::AdminOps> {
    Arc::new(crate::admin::Ops::<M>::default())
}

fn model_rows<M: Model>() -> Arc<dyn crate::query::DynRows> {
    Arc::new(crate::query::ModelRows::<M>::default())
}

fn create_table<M: Model>(schema: &Schema) -> (TableCreateStatement, Vec<IndexCreateStatement>) {
    let entity = <M::Entity as Default>::default();
    let mut table = schema.create_table_from_entity(entity);
    table.if_not_exists();
    let indexes = schema
        .create_index_from_entity(<M::Entity as Default>::default())
        .into_iter()
        .map(|mut index| {
            index.if_not_exists();
            index
        })
        .collect();
    (table, indexes)
}

/// The built-in models every [`App`] with auth registers, in dependency
/// order; their migrations ship in [`crate::migrations::builtin`].
pub fn builtin_models() -> Vec<&'static ModelMeta> {
    use crate::auth::models::*;
    vec![
        ContentType::meta(),
        Permission::meta(),
        Group::meta(),
        User::meta(),
        UserGroup::meta(),
        GroupPermission::meta(),
        UserPermission::meta(),
        Token::meta(),
        ExternalIdentity::meta(),
        LoginFailure::meta(),
        TrustedLogin::meta(),
        crate::admin::Session::meta(),
        crate::admin::LogEntry::meta(),
        crate::changes::Change::meta(),
        crate::changes::ChangeOrder::meta(),
    ]
}

/// A ferrobridge application: models, hand-written routes and settings.
///
/// ```no_run
/// # use ferrobridge::prelude::*;
/// # async fn run() -> anyhow::Result<()> {
/// ferrobridge::App::new("blog")
///     // .model::<Post>()
///     .route("/hello", get(|| async { "hello" }))
///     .run() // parses the command line: `serve`, `migrate`, ...
///     .await
/// # }
/// ```
pub struct App {
    name: String,
    models: Vec<ModelEntry>,
    /// Hand-written routes, routed when the router is built (after
    /// [`App::route_problems`] found no clash, so axum never panics on one).
    routes: Vec<HandRoute>,
    route_docs: Vec<(String, RouteDocs)>,
    version: String,
    body_limit: usize,
    json_depth: crate::schema::JsonDepth,
    list: crate::state::ListSettings,
    authenticators: Vec<Arc<dyn crate::auth::Authenticator>>,
    token_ttl: chrono::Duration,
    pub(crate) password_policy: crate::auth::PasswordPolicy,
    /// Django's auth app is installed (the default; see [`App::without_auth`]).
    auth: bool,
    admin_site: crate::admin::SiteSettings,
    admin_templates: Option<std::path::PathBuf>,
    admin_pages: Vec<(String, MethodRouter<AppState>)>,
    admin_actions: std::collections::HashMap<&'static str, Vec<crate::admin::AdminAction>>,
    /// Registered migrations, one entry per app label (built-in apps first).
    migrations: Vec<crate::migrations::AppMigrations>,
    /// The pool the command line opens (see [`App::pool`]).
    pool: crate::db::PoolSettings,
    security: crate::security::SecuritySettings,
    server: crate::server::ServerSettings,
    request_timeout: Option<std::time::Duration>,
    feed: crate::feed::FeedSettings,
}

/// A hand-written route, kept until the router is built.
#[derive(Clone)]
struct HandRoute {
    path: String,
    methods: Vec<&'static str>,
    method_router: MethodRouter<AppState>,
}

/// Default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

impl App {
    /// A new app; `name` names its default SQLite file (`{name}.sqlite3`).
    ///
    /// Every app has Django's auth models (users, groups, permissions and
    /// content types under `/api/...`), token authentication, and the
    /// `/api/auth/token`, `/api/auth/logout` and `/api/auth/me` endpoints.
    pub fn new(name: impl Into<String>) -> Self {
        use crate::auth::models::*;
        let app = App {
            name: name.into(),
            models: Vec::new(),
            routes: Vec::new(),
            route_docs: Vec::new(),
            version: "0.1.0".to_string(),
            body_limit: DEFAULT_BODY_LIMIT,
            json_depth: crate::schema::JsonDepth::default(),
            list: crate::state::ListSettings::default(),
            authenticators: vec![
                Arc::new(crate::auth::TokenAuthenticator),
                Arc::new(crate::auth::SessionAuthenticator),
            ],
            token_ttl: chrono::Duration::hours(1),
            password_policy: crate::auth::PasswordPolicy::django(),
            auth: true,
            admin_site: crate::admin::SiteSettings::default(),
            admin_templates: None,
            admin_pages: Vec::new(),
            admin_actions: std::collections::HashMap::new(),
            migrations: crate::migrations::builtin::all(),
            pool: crate::db::PoolSettings::default(),
            security: crate::security::SecuritySettings::from_env(),
            server: crate::server::ServerSettings::default(),
            request_timeout: Some(crate::server::DEFAULT_REQUEST_TIMEOUT),
            feed: crate::feed::FeedSettings::default(),
        };
        let app = app
            .model::<ContentType>()
            .model::<Permission>()
            .model::<Group>()
            .model::<User>()
            .model::<UserGroup>()
            .model::<GroupPermission>()
            .model::<UserPermission>();
        app.internal::<Token>()
            .internal::<ExternalIdentity>()
            .internal::<LoginFailure>()
            .internal::<TrustedLogin>()
            .internal::<crate::admin::Session>()
            .internal::<crate::admin::LogEntry>()
            .internal::<crate::changes::Change>()
            .internal::<crate::changes::ChangeOrder>()
    }

    /// Registers a table without endpoints or admin pages (tokens, sessions, the admin log).
    fn internal<M: Model>(mut self) -> Self {
        self.models.push(ModelEntry {
            meta: M::meta,
            explicit_path: None,
            routes: None,
            feed: None,
            create_table: create_table::<M>,
            openapi: |_, _| {},
            admin: None,
            rows: None,
        });
        self
    }

    /// Leaves Django's auth app out, as a Django project without
    /// `django.contrib.auth`: no user, group, permission or token tables, no
    /// `/api/auth/...` endpoints, no authenticators. Every request is then
    /// anonymous, so models need `#[api(policy = "allow_any")]` (or
    /// `public_read`) to be usable.
    pub fn without_auth(mut self) -> Self {
        // The change log stays: every write records its events there.
        let log = crate::changes::Change::meta();
        let order = crate::changes::ChangeOrder::meta();
        let builtin = builtin_models();
        self.models.retain(|entry| {
            std::ptr::eq(log, (entry.meta)())
                || std::ptr::eq(order, (entry.meta)())
                || !builtin
                    .iter()
                    .any(|meta| std::ptr::eq(*meta, (entry.meta)()))
        });
        self.authenticators.clear();
        self.auth = false;
        let builtin: Vec<String> = crate::migrations::builtin::all()
            .into_iter()
            .map(|m| m.app)
            .filter(|app| app != log.app_label)
            .collect();
        self.migrations.retain(|m| !builtin.contains(&m.app));
        self
    }

    /// Registers the migrations of one app label (replacing any registered
    /// for it): `.migrations(migrations::all())` with the `all()` that
    /// `makemigrations` writes into `src/migrations/mod.rs`. See [`crate::migrations`].
    pub fn migrations(mut self, migrations: crate::migrations::AppMigrations) -> Self {
        self.migrations.retain(|m| m.app != migrations.app);
        self.migrations.push(migrations);
        self
    }

    /// Every registered app's migrations.
    pub fn migrator(&self) -> crate::migrations::Migrator {
        crate::migrations::Migrator::new(self.migrations.clone())
    }

    /// The app labels of registered models, in registration order, then
    /// those that have migrations but no model left.
    pub fn app_labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        let all = self
            .models()
            .map(|m| m.app_label)
            .chain(self.migrations.iter().map(|m| m.app.as_str()));
        for label in all {
            if !labels.iter().any(|l| l == label) {
                labels.push(label.to_string());
            }
        }
        labels
    }

    /// The labels `makemigrations` and `check` look at by default: every
    /// app's but the built-in ones, whose migrations ship with ferrobridge.
    pub fn own_app_labels(&self) -> Vec<String> {
        let builtin: Vec<String> = crate::migrations::builtin::all()
            .into_iter()
            .map(|m| m.app)
            .collect();
        self.app_labels()
            .into_iter()
            .filter(|label| !self.auth || !builtin.contains(label))
            .collect()
    }

    /// What `makemigrations` would write for `apps` (all of the app's own
    /// when `None`): the difference between the migrations' state and the models.
    pub fn detect_changes(
        &self,
        apps: Option<&[String]>,
        options: crate::migrations::DetectOptions<'_>,
    ) -> Result<crate::migrations::Changes, crate::migrations::MigrationError> {
        let from = self.migrator().state()?;
        let to = crate::migrations::ProjectState::from_models(self.models());
        let labels = match apps {
            Some(apps) => apps.to_vec(),
            None => self.own_app_labels(),
        };
        crate::migrations::detect_changes(&from, &to, &labels, options)
    }

    /// The app labels whose models have changes no migration records
    /// (possible renames counted as changes, without asking).
    pub fn unmigrated_apps(&self) -> Result<Vec<String>, crate::migrations::MigrationError> {
        let mut never = |_: &str| false;
        let changes = self.detect_changes(
            None,
            crate::migrations::DetectOptions {
                ask: Some(&mut never),
                ..Default::default()
            },
        )?;
        Ok(changes.labels())
    }

    /// Applies (or unapplies) migrations on `db` up to `target` (see
    /// [`Migrator::plan`](crate::migrations::Migrator::plan); `None`: every
    /// pending one), then creates each model's permissions as
    /// [`App::create_tables`] does. `progress` hears of each step.
    ///
    /// All of it happens under the database's
    /// [`MigrationLock`](crate::migrations::MigrationLock): runs started
    /// together (instances deployed at once) take turns, and each reads what
    /// is applied only once it holds the lock, so the later ones find
    /// nothing left to do.
    pub async fn migrate(
        &self,
        db: &Connection,
        target: Option<(&str, Option<&str>)>,
        progress: impl FnMut(&crate::migrations::Step, crate::migrations::StepOutcome),
    ) -> Result<(), crate::migrations::MigrationError> {
        let migrator = self.migrator();
        let lock = migrator.lock(db).await?;
        let result = match lock.transaction() {
            Some(tx) => self.migrate_locked(&migrator, tx, target, progress).await,
            None => self.migrate_locked(&migrator, db, target, progress).await,
        };
        let released = lock.release().await;
        result?;
        released
    }

    /// [`App::migrate`]'s work, on `conn`: where the lock says migrations run.
    async fn migrate_locked<C>(
        &self,
        migrator: &crate::migrations::Migrator,
        conn: &C,
        target: Option<(&str, Option<&str>)>,
        progress: impl FnMut(&crate::migrations::Step, crate::migrations::StepOutcome),
    ) -> Result<(), crate::migrations::MigrationError>
    where
        C: sea_orm::ConnectionTrait
            + sea_orm::TransactionTrait<Transaction = crate::db::Transaction>,
    {
        let applied = migrator.applied(conn).await?;
        let plan = migrator.plan(&applied, target)?;
        migrator.run(conn, &plan, progress).await?;
        crate::db::normalize_sqlite_datetimes(conn, &self.datetime_columns()).await?;
        Ok(self.sync_permissions(conn).await?)
    }

    /// Every `(table, column)` holding a datetime: the registered models'
    /// (the built-in auth and admin tables included), the migration
    /// record's, and Django's own when the database came from Django.
    fn datetime_columns(&self) -> Vec<(&'static str, &'static str)> {
        let mut columns = vec![
            (crate::migrations::RECORD_TABLE, "applied"),
            ("django_migrations", "applied"),
        ];
        for entry in &self.models {
            let meta = (entry.meta)();
            columns.extend(
                meta.fields
                    .iter()
                    .filter(|f| f.kind == crate::model::FieldKind::DateTime)
                    .map(|f| (meta.table, f.name)),
            );
        }
        columns
    }

    /// Creates the models' permissions when the permission tables exist.
    async fn sync_permissions(&self, db: &impl sea_orm::ConnectionTrait) -> Result<(), DbErr> {
        if !self.auth {
            return Ok(());
        }
        let tables = crate::migrations::table_names(db).await?;
        let needed = [
            crate::auth::models::ContentType::meta().table,
            crate::auth::models::Permission::meta().table,
        ];
        if !needed.iter().all(|t| tables.contains(*t)) {
            return Ok(());
        }
        let models = self
            .permission_models()
            .filter(|meta| tables.contains(meta.table));
        crate::auth::sync_permissions(db, models).await
    }

    /// The models that get a content type and permissions: those with
    /// endpoints, and the internal tables Django has a model for (its admin
    /// log and sessions), so a database made by ferrobridge has the rows
    /// Django's `migrate` makes and no others. ferrobridge's own tables
    /// (tokens, external identities) get none: Django would call them stale.
    fn permission_models(&self) -> impl Iterator<Item = &'static ModelMeta> + '_ {
        const DJANGO_INTERNAL_APPS: [&str; 2] = ["admin", "sessions"];
        self.models
            .iter()
            .map(|m| ((m.meta)(), m.routes.is_some()))
            .filter(|(meta, routed)| *routed || DJANGO_INTERNAL_APPS.contains(&meta.app_label))
            .map(|(meta, _)| meta)
    }

    /// Checks that every foreign key targets a registered model, without cycles.
    pub fn check_models(&self) -> Result<(), String> {
        self.models_in_dependency_order()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Adds an authenticator, tried after those already installed (the
    /// token authenticator is always first). See [`crate::auth::JwtAuthenticator`].
    pub fn authenticator(mut self, authenticator: impl crate::auth::Authenticator) -> Self {
        self.authenticators.push(Arc::new(authenticator));
        self
    }

    /// How long tokens from `POST /api/auth/token` stay valid (default one hour).
    pub fn token_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.token_ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        self
    }

    /// The rules every new password must pass, on every path that sets one
    /// (the API's `#[field(password)]` fields, the admin's password forms,
    /// `createsuperuser`, `changepassword`); default
    /// [`PasswordPolicy::django`](crate::auth::PasswordPolicy::django),
    /// [`PasswordPolicy::none`](crate::auth::PasswordPolicy::none) for none.
    pub fn password_policy(mut self, policy: crate::auth::PasswordPolicy) -> Self {
        self.password_policy = policy;
        self
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers a model: its table and its `/api/{plural}` endpoints
    /// (`/api/{app}/{plural}` when another registered model would take the
    /// same names; see [`crate::names`]).
    ///
    /// # Panics
    /// When the model's default ordering names a field its foreign key's
    /// model does not have (`ordering = "author__nmae"`): the derive cannot
    /// see the other model's fields, so this is checked here, at startup.
    pub fn model<M: Model>(self) -> Self {
        self.register::<M>(None)
    }

    /// Registers a model with its endpoints at `path` instead of
    /// `/api/{plural}`: `App::new("perms").model_at::<Permission>("/permissions")`
    /// serves `GET/POST /permissions` and `GET/PUT/PATCH/DELETE /permissions/{pk}`.
    ///
    /// The path is kept as given whatever the naming rule decides; a clash
    /// with another route is an error of [`App::try_router`] and `check`.
    ///
    /// # Panics
    /// As [`App::model`].
    pub fn model_at<M: Model>(self, path: &str) -> Self {
        self.register::<M>(Some(path.trim_end_matches('/').to_string()))
    }

    fn register<M: Model>(mut self, explicit_path: Option<String>) -> Self {
        if let Err(error) = M::meta().check_ordering() {
            panic!("{error}");
        }
        self.models.push(ModelEntry {
            meta: M::meta,
            explicit_path,
            routes: Some(crate::api::routes_at::<M>),
            feed: Some(crate::feed::routes_at::<M>),
            create_table: create_table::<M>,
            openapi: crate::openapi::describe::<M>,
            admin: Some(admin_ops::<M>),
            rows: Some(model_rows::<M>),
        });
        self
    }

    /// The admin site's header and `<title>` (default "Ferrobridge administration").
    pub fn admin_header(mut self, header: impl Into<String>) -> Self {
        self.admin_site.header = header.into();
        self
    }

    /// A directory of templates looked in before the built-in ones: a file
    /// `admin/change_list.html` there replaces the admin's change list
    /// template; other files serve [`App::admin_page`]s.
    pub fn admin_templates(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.admin_templates = Some(dir.into());
        self
    }

    /// A custom admin page at `path` (under `/admin/`), linked from every
    /// admin page's header as `title`. Its handler takes an
    /// [`AdminCtx`](crate::admin::AdminCtx) to check the user and render
    /// templates that extend `admin/base.html`.
    pub fn admin_page(
        mut self,
        path: &str,
        title: &str,
        method_router: MethodRouter<AppState>,
    ) -> Self {
        self.admin_site.pages.push(crate::admin::AdminPage {
            path: path.to_string(),
            title: title.to_string(),
        });
        self.admin_pages.push((path.to_string(), method_router));
        self
    }

    /// A bulk action on `M`'s change list, beside "Delete selected": `run`
    /// gets the database, acting for the admin user
    /// ([`Connection::acting_as`]: its units of work's change events name
    /// them), and the selected primary keys. Users need `M`'s
    /// `change` permission to run it.
    pub fn admin_action<M, F, Fut>(mut self, name: &str, description: &str, run: F) -> Self
    where
        M: Model,
        F: Fn(Connection, Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<
                Output = Result<crate::admin::ActionOutcome, crate::error::ApiError>,
            > + Send
            + 'static,
    {
        self.admin_actions
            .entry(M::meta().table)
            .or_default()
            .push(crate::admin::AdminAction::new(name, description, run));
        self
    }

    /// Marks the session and CSRF cookies `Secure` (sent over HTTPS only):
    /// turn on behind TLS.
    pub fn secure_cookies(mut self, secure: bool) -> Self {
        self.admin_site.cookies.secure = secure;
        self
    }

    /// The secret key (overrides `FERROBRIDGE_SECRET_KEY`): keys the
    /// HMAC of the admin's CSRF tokens, which binds each token to its
    /// session, so a token planted by a sibling subdomain (cookie tossing)
    /// is refused. Changing it invalidates outstanding CSRF cookies (pages
    /// hand out new ones). Without one the development key is used, which
    /// `FERROBRIDGE_ENV=production` refuses.
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.security.secret_key = Some(key.into());
        self
    }

    /// Development or production (overrides `FERROBRIDGE_ENV`); see
    /// [`Environment`](crate::security::Environment).
    pub fn environment(mut self, environment: crate::security::Environment) -> Self {
        self.security.environment = environment;
        self
    }

    /// The host names the site answers to, as Django's `ALLOWED_HOSTS`
    /// (overrides `FERROBRIDGE_ALLOWED_HOSTS`): `example.com`,
    /// `.example.com` (it and its subdomains), `*` (any). Requests with
    /// another `Host` get 400. When none are set, any host is answered, and
    /// `serve` refuses to start in production.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.security.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Sends `Strict-Transport-Security: max-age=<max_age>; includeSubDomains`
    /// on every response: turn on once the site is served over HTTPS only
    /// (off by default, as Django's `SECURE_HSTS_SECONDS = 0`).
    pub fn hsts(mut self, max_age: std::time::Duration) -> Self {
        self.security.hsts = Some(max_age);
        self
    }

    /// Lets other origins' scripts call the app (CORS; off by default):
    /// `.cors(Cors::allow_origins(["https://app.example"]).allow_credentials(true))`.
    pub fn cors(mut self, cors: crate::security::Cors) -> Self {
        self.security.cors = Some(cors);
        self
    }

    /// The security settings (from the environment and the methods above).
    pub fn security(&self) -> &crate::security::SecuritySettings {
        &self.security
    }

    /// Whether session and CSRF cookies are marked `Secure`.
    pub fn has_secure_cookies(&self) -> bool {
        self.admin_site.cookies.secure
    }

    /// How long a client may take to send a request's headers, and how
    /// long a keep-alive connection may stay idle (default 10 s); the
    /// connection is then closed. See [`ServerSettings`](crate::ServerSettings).
    pub fn header_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.server.header_read_timeout = timeout;
        self
    }

    /// The largest request head (request line and headers) in bytes
    /// (default 16 KiB); larger ones get 431. Values under 8192 are raised to 8192.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.server.max_header_size = bytes.max(8192);
        self
    }

    /// How many connections are served at once (default 512); past it,
    /// new clients wait to be accepted until one closes. See
    /// [`ServerSettings::max_connections`](crate::ServerSettings::max_connections).
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.server.max_connections = connections.max(1);
        self
    }

    /// How long a request may take before it is answered 503
    /// `{"detail":"The request took longer than ..."}` and its handler
    /// dropped (default 30 s; `None`: no limit). The change feed's routes
    /// are exempt: a long-poll is bounded by its own `timeout` (at most
    /// 60 s) and a stream lasts as long as its reader.
    pub fn request_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How the change feed re-checks its readers' access, sends
    /// heartbeats, and how long (and how often) its log is pruned; see
    /// [`FeedSettings`](crate::feed::FeedSettings) for the defaults.
    pub fn feed_settings(mut self, settings: crate::feed::FeedSettings) -> Self {
        self.feed = settings;
        self
    }

    /// The change feed's settings (see [`App::feed_settings`]).
    pub fn feed(&self) -> crate::feed::FeedSettings {
        self.feed
    }

    /// Deletes change events older than the feed's retention now (`serve`
    /// also does it every [`FeedSettings::prune_every`](crate::feed::FeedSettings::prune_every));
    /// how many went.
    pub async fn prune_changes(&self, db: &Connection) -> Result<u64, DbErr> {
        crate::feed::prune(db, &self.feed).await
    }

    /// The settings [`serve`](crate::serve) is given by the `serve` command.
    pub fn server_settings(&self) -> crate::ServerSettings {
        self.server
    }

    /// Adds a hand-written route; it gets the same middleware and state
    /// (so the same extractors, like [`Db`](crate::db::Db)) as generated ones.
    /// The OpenAPI document lists its methods with a bare `200` response;
    /// [`App::route_with_docs`] describes it fully. Routing one path and
    /// method twice (or over a generated endpoint) is an error of
    /// [`App::try_router`], `check` and `serve`, not a panic here.
    pub fn route(mut self, path: &str, method_router: MethodRouter<AppState>) -> Self {
        let methods = crate::openapi::methods_of(&method_router);
        self.route_docs
            .push((path.to_string(), RouteDocs::minimal(path, &methods)));
        self.hand_route(path, methods, method_router)
    }

    fn hand_route(
        mut self,
        path: &str,
        methods: Vec<&'static str>,
        method_router: MethodRouter<AppState>,
    ) -> Self {
        self.routes.push(HandRoute {
            path: path.to_string(),
            methods,
            method_router,
        });
        self
    }

    /// Adds a hand-written route, like [`App::route`], documented in the
    /// OpenAPI document by `docs`:
    ///
    /// ```no_run
    /// # use ferrobridge::prelude::*;
    /// use ferrobridge::openapi::{Operation, RouteDocs};
    ///
    /// /// What `GET /api/ping` answers.
    /// #[derive(serde::Serialize, JsonSchema)]
    /// struct Pong {
    ///     /// Always `true`.
    ///     ok: bool,
    /// }
    ///
    /// ferrobridge::App::new("demo").route_with_docs(
    ///     "/api/ping",
    ///     get(|| async { Json(Pong { ok: true }) }),
    ///     RouteDocs::new().get(Operation::new("Ping").response::<Pong>(200, "Alive")),
    /// );
    /// ```
    pub fn route_with_docs(
        mut self,
        path: &str,
        method_router: MethodRouter<AppState>,
        docs: RouteDocs,
    ) -> Self {
        self.route_docs.push((path.to_string(), docs));
        let methods = crate::openapi::methods_of(&method_router);
        self.hand_route(path, methods, method_router)
    }

    /// Adds a hand-written handler for `method` on `path`, documented in
    /// OpenAPI from its own signature: a [`CurrentUser`](crate::auth::CurrentUser)
    /// or [`Perm`](crate::auth::Perm) argument adds the bearer security
    /// requirement with 401/403 responses, `Json<T>` the request body,
    /// `Path<T>` the path parameters with `T`'s types (and 404, 422),
    /// `Json<R>`/`ApiResult<Json<R>>` the response. `summary` names the operation.
    ///
    /// ```no_run
    /// use ferrobridge::prelude::*;
    /// use axum::http::Method;
    ///
    /// async fn whoami(user: CurrentUser) -> String {
    ///     user.username.clone()
    /// }
    ///
    /// ferrobridge::App::new("demo").handle(Method::GET, "/api/whoami", "Who am I", whoami);
    /// ```
    pub fn handle<H, T, Args>(
        mut self,
        method: axum::http::Method,
        path: &str,
        summary: &str,
        handler: H,
    ) -> Self
    where
        H: axum::handler::Handler<T, AppState> + crate::openapi::DocumentedHandler<Args>,
        T: 'static,
    {
        let operation = H::describe(crate::openapi::Operation::new(summary));
        let docs = RouteDocs::new().operation(method.as_str(), operation);
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .unwrap_or(axum::routing::MethodFilter::GET);
        self.route_docs.push((path.to_string(), docs));
        let methods = crate::openapi::methods_of(&axum::routing::on(filter, handler.clone()));
        self.hand_route(path, methods, axum::routing::on(filter, handler))
    }

    /// The API's version in the OpenAPI document (default `0.1.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The OpenAPI 3.1 document of every registered model and hand-written
    /// route, as served at `/openapi.json` (see [`crate::openapi`]).
    pub fn openapi(&self) -> serde_json::Value {
        self.openapi_source().build()
    }

    /// What [`App::openapi`] is built from, owned: the router keeps it and
    /// builds the document on the first `GET /openapi.json`.
    pub(crate) fn openapi_source(&self) -> OpenApiSource {
        OpenApiSource {
            models: self
                .api_models()
                .into_iter()
                .map(|(entry, names)| (entry.openapi, names))
                .collect(),
            route_docs: self.route_docs.clone(),
            auth: self.auth,
            list: self.list,
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }

    /// The connection pool the command line opens: its size and how long a
    /// request waits for a connection before it is answered 503 with
    /// `Retry-After` (default: SeaORM's size, 5 seconds). The environment's
    /// `DATABASE_MAX_CONNECTIONS` and `DATABASE_ACQUIRE_TIMEOUT` override it;
    /// see [`PoolSettings`](crate::db::PoolSettings).
    pub fn pool(mut self, settings: crate::db::PoolSettings) -> Self {
        self.pool = settings;
        self
    }

    /// The pool settings given to [`App::pool`].
    pub fn pool_settings(&self) -> crate::db::PoolSettings {
        self.pool
    }

    /// The largest request body accepted, in bytes (default 1 MiB); larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How deeply a JSON request body may nest arrays and objects (64
    /// unless set; at most 128, serde_json's own bound): deeper bodies get
    /// a 422 before any field is read.
    pub fn json_depth(mut self, levels: usize) -> Self {
        self.json_depth = crate::schema::JsonDepth(levels);
        self
    }

    /// List page sizes: `default` when the client sends no `page_size`
    /// (50 unless set), and the largest `max` it may ask for (100 unless set).
    pub fn page_size(mut self, default: u64, max: u64) -> Self {
        self.list.max_page_size = max.max(1);
        self.list.default_page_size = default.clamp(1, self.list.max_page_size);
        self
    }

    /// Every bound on list queries at once (search words and length,
    /// filters, `__in` items, ordering terms, `expand`, cursor length, page
    /// sizes): see [`ListSettings`](crate::state::ListSettings) for each
    /// default. Start from `ListSettings::default()` and change what you need.
    pub fn list_limits(mut self, limits: crate::state::ListSettings) -> Self {
        let mut limits = limits;
        limits.max_page_size = limits.max_page_size.max(1);
        limits.default_page_size = limits.default_page_size.clamp(1, limits.max_page_size);
        self.list = limits;
        self
    }

    /// Metadata of every registered model, in registration order.
    pub fn models(&self) -> impl Iterator<Item = &'static ModelMeta> + '_ {
        self.models.iter().map(|m| (m.meta)())
    }

    /// Registered models ordered so that each comes after the models it references.
    fn models_in_dependency_order(&self) -> Result<Vec<ModelEntry>, DbErr> {
        let mut pending: Vec<ModelEntry> = self.models.clone();
        let mut ordered: Vec<ModelEntry> = Vec::new();
        while !pending.is_empty() {
            let ready = pending.iter().position(|entry| {
                (entry.meta)().fields.iter().all(|f| match f.references {
                    None => true,
                    Some(target) => {
                        let target = target().table;
                        target == (entry.meta)().table
                            || ordered.iter().any(|o| (o.meta)().table == target)
                    }
                })
            });
            match ready {
                Some(i) => ordered.push(pending.remove(i)),
                None => {
                    let entry = &pending[0];
                    let meta = (entry.meta)();
                    let missing: Vec<&str> = meta
                        .fields
                        .iter()
                        .filter_map(|f| f.references.map(|r| r().object_name))
                        .filter(|name| !self.models().any(|m| m.object_name == *name))
                        .collect();
                    let hint = if missing.is_empty() {
                        "the foreign keys form a cycle; make one of them nullable".to_string()
                    } else {
                        format!("register it with `.model::<{}>()`", missing[0])
                    };
                    return Err(DbErr::Custom(format!(
                        "{} references a model that is not registered: {hint}",
                        meta.object_name
                    )));
                }
            }
        }
        Ok(ordered)
    }

    /// Creates the tables (and indexes) of registered models that do not
    /// exist yet, then each model's four permissions (see
    /// [`crate::auth::sync_permissions`]), straight from the models and
    /// without recording migrations: for tests and benchmarks. Applications
    /// use [`App::migrate`] (the `migrate` command).
    pub async fn create_tables(&self, db: &Connection) -> Result<(), DbErr> {
        let ordered: Vec<_> = self
            .models_in_dependency_order()?
            .iter()
            .map(|entry| (entry.create_table, (entry.meta)()))
            .collect();
        crate::db::create_missing_tables(db, &ordered).await?;
        let backend = db.get_database_backend();
        let ordering_indexes: Vec<_> = ordered
            .iter()
            .filter_map(|(_, meta)| crate::migrations::ordering_index_statement(meta, backend))
            .collect();
        crate::db::create_missing_indexes(db, &ordering_indexes).await?;
        if !self.auth {
            return Ok(());
        }
        crate::auth::sync_permissions(db, self.permission_models()).await
    }
}
