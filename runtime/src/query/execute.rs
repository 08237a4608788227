//! A [`ListQuery`] run on SeaORM, once for every face: its conditions
//! (lookups and search), its ordering (NULL placement, joins for related
//! terms), its page or cursor, and its count.

use std::str::FromStr;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, NullOrdering};
use sea_orm::sea_query::{IntoValueTuple, ValueTuple};
use sea_orm::{
    ColumnTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Identity, Iterable, JoinType,
    Order, PaginatorTrait, PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    RelationDef, RelationTrait, Select, Value,
};

use super::cursor::keyset_after;
use super::statements;
use super::{Filter, ListQuery, Lookup, OrderTerm, Pagination};
use crate::db::Connection;
use crate::model::{Model, RowReader, read_reader};

type Row<M> = <<M as Model>::Entity as EntityTrait>::Model;
type Col<M> = <<M as Model>::Entity as EntityTrait>::Column;

/// The column of `M` named `name`; the derive emits one per field, so a
/// miss is a bug of the metadata, reported as an internal error.
pub fn column<M: Model>(name: &str) -> Result<Col<M>, DbErr> {
    Col::<M>::from_str(name)
        .map_err(|_| DbErr::Custom(format!("no column `{name}` in {}", M::meta().table)))
}

/// The relation of `M` whose foreign key is the field `name`.
fn relation<M: Model>(name: &str) -> Result<RelationDef, DbErr> {
    <<M::Entity as EntityTrait>::Relation as Iterable>::iter()
        .map(|relation| relation.def())
        .find(|def| matches!(&def.from_col, Identity::Unary(column) if column.inner() == name))
        .ok_or_else(|| DbErr::Custom(format!("no relation on `{name}` in {}", M::meta().table)))
}

/// `instr` (SQLite, MySQL) or `strpos` (PostgreSQL): 1-based position of a
/// substring, 0 when absent. Used instead of LIKE so `%` and `_` in user
/// input are plain characters and case sensitivity is the same everywhere.
fn position(backend: DbBackend, haystack: Expr, needle: Expr) -> Expr {
    let name = match backend {
        DbBackend::Postgres => "strpos",
        _ => "instr",
    };
    Expr::expr(Func::cust(name).arg(haystack).arg(needle))
}

/// The 1-based position (`instr`/`strpos`) of `needle` in `haystack`, 0
/// when absent; both lower-cased when `folded` (the `i...` lookups and search).
pub fn text_position(backend: DbBackend, haystack: Expr, needle: Expr, folded: bool) -> Expr {
    if folded {
        let lower = |e: Expr| Expr::expr(Func::lower(e));
        position(backend, lower(haystack), lower(needle))
    } else {
        position(backend, haystack, needle)
    }
}

/// The SQL condition of one filter.
fn filter_condition<M: Model>(filter: &Filter, backend: DbBackend) -> Result<Condition, DbErr> {
    let column = column::<M>(filter.field.name)?;
    let Some(first) = filter.values.first().cloned() else {
        // Only `__in` may hold no value (an empty key set): nothing matches.
        return Ok(Condition::all().add(Expr::val(1).eq(0)));
    };
    Ok(match filter.lookup {
        Lookup::Exact => Condition::all().add(column.eq(first)),
        // `ne` keeps the rows where the field is NULL, as Django's `exclude`.
        Lookup::Ne if filter.field.nullable => {
            Condition::any().add(column.ne(first)).add(column.is_null())
        }
        Lookup::Ne => Condition::all().add(column.ne(first)),
        Lookup::Gt => Condition::all().add(column.gt(first)),
        Lookup::Gte => Condition::all().add(column.gte(first)),
        Lookup::Lt => Condition::all().add(column.lt(first)),
        Lookup::Lte => Condition::all().add(column.lte(first)),
        Lookup::In => Condition::all().add(column.is_in(filter.values.clone())),
        Lookup::IsNull => match first {
            Value::Bool(Some(true)) => Condition::all().add(column.is_null()),
            _ => Condition::all().add(column.is_not_null()),
        },
        Lookup::IExact => {
            let lower = |e: Expr| Expr::expr(Func::lower(e));
            Condition::all().add(lower(column.into_expr()).eq(lower(Expr::val(first))))
        }
        Lookup::Contains | Lookup::IContains | Lookup::StartsWith | Lookup::IStartsWith => {
            let folded = matches!(filter.lookup, Lookup::IContains | Lookup::IStartsWith);
            let at = text_position(backend, column.into_expr(), Expr::val(first), folded);
            Condition::all().add(match filter.lookup {
                Lookup::Contains | Lookup::IContains => at.gt(0),
                _ => at.eq(1),
            })
        }
    })
}

/// Every filter and every search word of `query`, all of which must hold:
/// a word matches when one search field contains it (case-insensitively)
/// or, with `search_primary_key`, when it is the row's primary key.
fn condition<M: Model>(query: &ListQuery, backend: DbBackend) -> Result<Condition, DbErr> {
    let mut all = Condition::all();
    for filter in &query.filters {
        all = all.add(filter_condition::<M>(filter, backend)?);
    }
    let meta = M::meta();
    let pk = meta.field(meta.primary_key);
    for word in &query.search {
        let mut any = Condition::any();
        for field in &query.search_fields {
            let column = column::<M>(field.name)?;
            let needle = Expr::val(word.to_lowercase());
            any = any.add(text_position(backend, column.into_expr(), needle, true).gt(0));
        }
        if query.search_primary_key
            && let Some(pk) = pk
            && let Ok(value) = super::parse_value(pk, word)
        {
            any = any.add(M::primary_key_column().eq(value));
        }
        all = all.add(any);
    }
    Ok(all)
}

/// `M`'s rows matching `query`'s filters and search, unordered.
fn matching<M: Model>(db: &Connection, query: &ListQuery) -> Result<Select<M::Entity>, DbErr> {
    Ok(M::Entity::find().filter(condition::<M>(query, db.get_database_backend())?))
}

/// NULLs sort as the smallest value on every backend: first ascending,
/// last descending.
fn nulls(descending: bool) -> NullOrdering {
    if descending {
        NullOrdering::Last
    } else {
        NullOrdering::First
    }
}

/// `select` ordered by `ordering`; a related term (`author__name`) joins
/// the referenced table under the relation's name, as Django does (INNER,
/// LEFT for a nullable foreign key), each relation once.
fn ordered<M: Model>(
    mut select: Select<M::Entity>,
    ordering: &[OrderTerm],
) -> Result<Select<M::Entity>, DbErr> {
    let mut joined: Vec<&str> = Vec::new();
    for term in ordering {
        let order = if term.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let Some(related) = term.related else {
            let column = column::<M>(term.field.name)?;
            select = if term.field.nullable {
                select.order_by_with_nulls(column, order, nulls(term.descending))
            } else {
                select.order_by(column, order)
            };
            continue;
        };
        let alias = term.field.relation_name();
        if !joined.contains(&alias) {
            let join = if term.field.nullable {
                JoinType::LeftJoin
            } else {
                JoinType::InnerJoin
            };
            select = select.join_as(join, relation::<M>(term.field.name)?, alias);
            joined.push(alias);
        }
        let column = Expr::col((alias, related.name));
        select = if term.field.nullable || related.nullable {
            select.order_by_with_nulls(column, order, nulls(term.descending))
        } else {
            select.order_by(column, order)
        };
    }
    Ok(select)
}

/// How many rows of `M` match `query`'s filters and search, over all pages.
pub async fn count<M: Model>(db: &Connection, query: &ListQuery) -> Result<u64, DbErr> {
    matching::<M>(db, query)?.count(db).await
}

/// The rows of one page of a [`ListQuery`].
pub struct Fetched<M: Model> {
    /// The page's rows, in the query's order.
    pub rows: Vec<Row<M>>,
    /// The number of matching rows over all pages ([`Pagination::Page`] only).
    pub total: Option<u64>,
    /// Whether rows follow this page ([`Pagination::Cursor`] only).
    pub more: bool,
}

/// The rows before page `page` (from 1) of `size` rows: the page's OFFSET.
pub(super) fn page_offset(page: u64, size: u64) -> u64 {
    page.saturating_sub(1).saturating_mul(size)
}

/// The SELECT of the rows of `query`'s page, as [`fetch`] runs it (a
/// cursor page reads one row more, to tell whether more follow): what to
/// `EXPLAIN` to see how a list reads the table.
pub fn page_select<M: Model>(
    db: &Connection,
    query: &ListQuery,
) -> Result<Select<M::Entity>, DbErr> {
    let select = ordered::<M>(matching::<M>(db, query)?, &query.ordering)?;
    Ok(match &query.pagination {
        Pagination::All { slice: None } => select,
        Pagination::All {
            slice: Some((page, size)),
        } => select.offset(page_offset(*page, *size)).limit(*size),
        Pagination::Page { page, page_size } => select
            .offset(page_offset(*page, *page_size))
            .limit(*page_size),
        Pagination::Cursor { after, page_size } => {
            let select = match after {
                Some(after) => select.filter(keyset_after::<M>(&query.ordering, after)?),
                None => select,
            };
            select.limit(page_size + 1)
        }
    })
}

/// The SELECT of the `Read` of `M`'s row `key` ([`Model::select_read`]),
/// built once per model and backend and bound to `key`.
pub fn select_read_by_key<M: Model>(
    backend: DbBackend,
    key: M::Key,
) -> Result<sea_orm::Statement, DbErr> {
    type KeyValue<M> =
        <<<M as Model>::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType;
    let value = match Into::<KeyValue<M>>::into(key.clone()).into_value_tuple() {
        ValueTuple::One(value) => Some(value),
        _ => None,
    };
    let build = || {
        Ok(M::select_read(M::Entity::find_by_id(key))
            .limit(1)
            .build(backend))
    };
    match value {
        Some(value) => statements::statement(
            M::meta(),
            backend,
            statements::Shape::Retrieve,
            &[],
            vec![value, Value::BigUnsigned(Some(1))],
            build,
        ),
        None => build(),
    }
}

/// One page of a [`ListQuery`] as the API answers it: `Read` objects,
/// selected and decoded with [`Model::select_read`] and
/// [`Model::read_from_row`] (no column the answer does not show).
pub struct FetchedRead<M: Model> {
    /// The page's rows, in the query's order.
    pub rows: Vec<M::Read>,
    /// The number of matching rows over all pages ([`Pagination::Page`] only).
    pub total: Option<u64>,
    /// Whether rows follow this page ([`Pagination::Cursor`] only).
    pub more: bool,
}

/// Runs `query` on `M`: the page it asks for, with the total for a
/// numbered page and whether more rows follow a cursor page.
pub async fn fetch<M: Model>(db: &Connection, query: &ListQuery) -> Result<Fetched<M>, DbErr> {
    let whole = RowReader {
        by_position: None,
        by_name: |row| Row::<M>::from_query_result(row, ""),
    };
    let (rows, total, more) =
        fetch_rows::<M, Row<M>>(db, query, false, |select| select, whole).await?;
    Ok(Fetched { rows, total, more })
}

/// [`fetch`], answering `Read` objects read from only the columns they show.
pub async fn fetch_read<M: Model>(
    db: &Connection,
    query: &ListQuery,
) -> Result<FetchedRead<M>, DbErr> {
    let (rows, total, more) =
        fetch_rows::<M, M::Read>(db, query, true, M::select_read, read_reader::<M>()).await?;
    Ok(FetchedRead { rows, total, more })
}

/// The rows of `query`'s page ([`page_select`]), the total of a numbered
/// page and whether more rows follow a cursor page; `narrow` picks the
/// selected columns (`narrowed`: not all of them) and `reader` decodes each
/// row of them. The SELECT of a list without filters, search or cursor
/// position is built once ([`statements`]).
async fn fetch_rows<M: Model, T>(
    db: &Connection,
    query: &ListQuery,
    narrowed: bool,
    narrow: fn(Select<M::Entity>) -> Select<M::Entity>,
    reader: RowReader<T>,
) -> Result<(Vec<T>, Option<u64>, bool), DbErr> {
    let backend = db.get_database_backend();
    let build = || Ok(narrow(page_select::<M>(db, query)?).build(backend));
    let stmt = match statements::list_shape(query, narrowed) {
        Some((shape, values)) => {
            statements::statement(M::meta(), backend, shape, &query.ordering, values, build)?
        }
        None => build()?,
    };
    let total = match &query.pagination {
        Pagination::Page { .. } => Some(count::<M>(db, query).await?),
        _ => None,
    };
    let mut rows = db.query_read(stmt, reader).await?;
    let more = match &query.pagination {
        Pagination::Cursor { page_size, .. } => {
            let more = rows.len() as u64 > *page_size;
            rows.truncate(*page_size as usize);
            more
        }
        _ => false,
    };
    Ok((rows, total, more))
}
