//! What every request shares: [`AppState`] (the connection pool, the app's
//! name, the bounds on list queries) and the [`Router`] type handlers are
//! registered on.
//!
//! This module sits at the bottom of the runtime, beside [`crate::db`], so
//! every layer above it (query and write, auth, api and admin) reads the
//! same state without importing the [`App`](crate::App) builder. Layers
//! that keep state of their own (auth's authenticators, the admin's
//! templates) store it in a typed slot of the state when the app is built
//! ([`AppState::with_layer`]) and read it through an accessor they define
//! (`state.auth()`, `state.admin()`): the state names none of their types.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRef;

use crate::db::Connection;

/// The router type handlers are registered on: state is [`AppState`].
pub type Router = axum::Router<AppState>;

/// Shared by every request: the connection pool, the app's settings, and
/// the state of the layers above (see the [module docs](self)). Its fields
/// are those of [`SharedState`], read through it (`state.db`).
///
/// One `Arc`: axum's `State` extractor clones the state for every handler
/// that takes it, and a clone of each field (the pool's handles, the name,
/// the layers' slots) cost a list a few hundred instructions.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What an [`AppState`] holds.
#[derive(Clone)]
pub struct SharedState {
    /// The connection pool.
    pub db: Connection,
    /// The app's name, as given to [`App::new`](crate::App::new).
    pub name: Arc<str>,
    /// Page sizes and the other bounds of list queries.
    pub list: ListSettings,
    /// One value per type, set while the app is built and read-only after.
    layers: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("name", &self.name)
            .field("list", &self.list)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl AppState {
    /// A state on `db` with no layer state yet.
    pub fn new(db: Connection, name: impl Into<Arc<str>>, list: ListSettings) -> Self {
        AppState(Arc::new(SharedState {
            db,
            name: name.into(),
            list,
            layers: HashMap::new(),
        }))
    }

    /// The state with `value` in the slot of its type (replacing any value
    /// there): how a layer above installs its own state when the app is built.
    pub fn with_layer<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        Arc::make_mut(&mut self.0)
            .layers
            .insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// The value in the slot of type `T`, if one was installed.
    pub fn layer<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.layers.get(&TypeId::of::<T>())?.downcast_ref::<T>()
    }
}

/// The [`Db`](crate::db::Db) extractor reads the pool through this.
impl FromRef<AppState> for Connection {
    fn from_ref(state: &AppState) -> Connection {
        state.db.clone()
    }
}

/// What one list request may ask for, set with [`App::page_size`](crate::App::page_size)
/// and [`App::list_limits`](crate::App::list_limits). Every user-controlled
/// list in a query string is bounded here before it becomes an SQL
/// expression, so no query string can build an expression tree deep enough
/// to overflow a stack or a database's parser; a request past a bound gets a
/// 422 naming the parameter, with the bound in `ctx`. The admin applies the
/// search bounds too, by ignoring what is past them (its pages never answer
/// a bad query string with an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSettings {
    /// `page_size` when the client sends none (50).
    pub default_page_size: u64,
    /// The largest `page_size` accepted (100); a larger one is refused (422
    /// `less_than_equal`), not clamped, so a client never gets fewer rows
    /// than it asked for without noticing.
    pub max_page_size: u64,
    /// Words in `search` (20): each word is one more `AND (... OR ...)`.
    pub max_search_words: usize,
    /// Characters in `search`, all `search` parameters together (200).
    pub max_search_length: usize,
    /// Filter parameters (`field__lookup=value`) in one query (100). The
    /// OpenAPI document cannot state this bound, so the default stays above
    /// the number of filter parameters a model usually documents (the blog's
    /// `Post` has 51): a client using each documented filter once is never refused.
    pub max_filters: usize,
    /// Characters in one filter value, or in each item of an `__in` list (1000).
    pub max_filter_value_length: usize,
    /// Items in one `__in` list (100).
    pub max_in_values: usize,
    /// Terms in `ordering` (8); a cursor's condition grows with the square of this.
    pub max_ordering_terms: usize,
    /// Distinct names in `expand` (10); repeated names count once.
    pub max_expand: usize,
    /// Characters in a `cursor` (4096). A cursor holds the last row's
    /// ordering values: raise this when a list orders by long text.
    pub max_cursor_length: usize,
}

impl ListSettings {
    /// The largest `page` accepted: its rows' offset must fit the i64 the
    /// database binds (a larger one panicked in the SQL binder).
    pub fn max_page(&self) -> u64 {
        i64::MAX as u64 / self.max_page_size.max(1)
    }
}

impl Default for ListSettings {
    fn default() -> Self {
        ListSettings {
            default_page_size: 50,
            max_page_size: 100,
            max_search_words: 20,
            max_search_length: 200,
            max_filters: 100,
            max_filter_value_length: 1000,
            max_in_values: 100,
            max_ordering_terms: 8,
            max_expand: 10,
            max_cursor_length: 4096,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Slot(u8);

    #[tokio::test]
    async fn a_layer_is_read_back_by_its_type_and_shared_by_clones() {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        let state = AppState::new(db, "t", ListSettings::default());
        assert_eq!(state.layer::<Slot>(), None);
        let state = state.with_layer(Slot(1)).with_layer(Slot(2));
        assert_eq!(state.clone().layer::<Slot>(), Some(&Slot(2)));
        assert_eq!(state.layer::<u8>(), None);
    }
}
