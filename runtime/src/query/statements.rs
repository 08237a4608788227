//! The SQL of the queries requests repeat, built once: a list without
//! filters or search (its page values bound anew) and a retrieve by
//! primary key. Building a SELECT with sea-query costs more
//! than SQLite takes to run a cached one; the text is the same for every
//! request of one shape, only the bound values change.
//!
//! Debug builds (the tests) still build each statement and check the kept
//! text and the values bound with it against it.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use sea_orm::{DbBackend, Statement, Value};

use super::{ListQuery, OrderTerm, Pagination};
use crate::model::ModelMeta;

/// Entries kept at most: every model's shapes on every backend, with room
/// for the `?ordering=` variants clients ask for. Past it, statements are
/// built as before.
const CAPACITY: usize = 4096;

/// What a kept statement answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// A page's rows; `read`: only the columns `Read` shows.
    Rows { read: bool, page: PageShape },
    /// One row's `Read` by primary key.
    Retrieve,
}

/// How a list's rows are sliced, which decides its SQL's tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PageShape {
    /// Every row.
    All,
    /// `LIMIT ? OFFSET ?`.
    Slice,
    /// A cursor's first page: `LIMIT ?`.
    First,
}

/// One ordering term by identity (the metadata is static).
type Term = (usize, usize, bool);

/// What a statement is kept under: the ordering by a hash, so a lookup
/// allocates nothing; the terms themselves are kept with the SQL and
/// compared on a hit.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    model: usize,
    backend: u8,
    shape: Shape,
    ordering: u64,
}

/// A kept statement: its ordering's terms and its SQL.
struct Kept {
    ordering: Vec<Term>,
    sql: String,
}

/// The kept statements. Keys are addresses and tags the process makes,
/// never a client's text, so the map hashes them with rustc's fast
/// hasher rather than SipHash (which took about 1,500 instructions of
/// every list and retrieve).
type KeptMap = HashMap<Key, Kept, rustc_hash::FxBuildHasher>;

fn kept() -> &'static RwLock<KeptMap> {
    static KEPT: OnceLock<RwLock<KeptMap>> = OnceLock::new();
    KEPT.get_or_init(Default::default)
}

fn ordering_hash(ordering: &[OrderTerm]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    for t in ordering {
        term(t).hash(&mut hasher);
    }
    hasher.finish()
}

fn same_ordering(kept: &[Term], ordering: &[OrderTerm]) -> bool {
    kept.len() == ordering.len() && kept.iter().zip(ordering).all(|(k, t)| *k == term(t))
}

fn term(t: &OrderTerm) -> Term {
    (
        std::ptr::from_ref(t.field) as usize,
        t.related.map_or(0, |r| std::ptr::from_ref(r) as usize),
        t.descending,
    )
}

fn backend_tag(backend: DbBackend) -> u8 {
    match backend {
        DbBackend::MySql => 0,
        DbBackend::Postgres => 1,
        _ => 2,
    }
}

/// The shape and bound values of `query`'s page, when its SQL is the same
/// for every request asking it: no filter, no search, no cursor position.
pub(crate) fn list_shape(query: &ListQuery, read: bool) -> Option<(Shape, Vec<Value>)> {
    if !query.filters.is_empty() || !query.search.is_empty() {
        return None;
    }
    let limit = |n: u64| Value::BigUnsigned(Some(n));
    let slice =
        |page: u64, size: u64| vec![limit(size), limit(super::execute::page_offset(page, size))];
    let (page, values) = match &query.pagination {
        Pagination::All { slice: None } => (PageShape::All, Vec::new()),
        Pagination::All {
            slice: Some((page, size)),
        } => (PageShape::Slice, slice(*page, *size)),
        Pagination::Page { page, page_size } => (PageShape::Slice, slice(*page, *page_size)),
        Pagination::Cursor {
            after: None,
            page_size,
        } => (PageShape::First, vec![limit(page_size + 1)]),
        Pagination::Cursor { after: Some(_), .. } => return None,
    };
    Some((Shape::Rows { read, page }, values))
}

/// The statement of `shape` for `meta`'s model on `backend` with
/// `ordering`, bound to `values`: the kept text, or the one `build` makes
/// (then kept).
pub(crate) fn statement(
    meta: &'static ModelMeta,
    backend: DbBackend,
    shape: Shape,
    ordering: &[OrderTerm],
    values: Vec<Value>,
    build: impl FnOnce() -> Result<Statement, sea_orm::DbErr>,
) -> Result<Statement, sea_orm::DbErr> {
    let key = Key {
        model: std::ptr::from_ref(meta) as usize,
        backend: backend_tag(backend),
        shape,
        ordering: ordering_hash(ordering),
    };
    let found = kept()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .filter(|kept| same_ordering(&kept.ordering, ordering))
        .map(|kept| kept.sql.clone());
    let stmt = match found {
        Some(sql) => {
            let stmt = Statement::from_sql_and_values(backend, sql, values);
            if cfg!(debug_assertions) {
                let built = build()?;
                assert_eq!(
                    (&stmt.sql, &stmt.values),
                    (&built.sql, &built.values),
                    "the kept statement of {shape:?} differs from the one built"
                );
            }
            stmt
        }
        None => {
            let built = build()?;
            let bound = built.values.as_ref().map_or(&[][..], |v| &v.0[..]);
            // Kept only when the values given are the ones its SQL binds.
            debug_assert_eq!(bound, &values[..], "the values of {shape:?}");
            if bound == &values[..] {
                let mut kept = kept().write().unwrap_or_else(|e| e.into_inner());
                if kept.len() < CAPACITY {
                    let ordering = ordering.iter().map(term).collect();
                    let sql = built.sql.clone();
                    kept.insert(key, Kept { ordering, sql });
                }
            }
            built
        }
    };
    Ok(stmt)
}
