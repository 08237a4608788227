//! The statements migrations build from the state: column definitions,
//! CREATE TABLE, indexes and the names ferrobridge gives foreign keys and
//! indexes. Pure: nothing here touches a database.

use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, ForeignKey as SqlForeignKey, ForeignKeyAction, Index as SqlIndex,
    IndexCreateStatement, IndexOrder, StringLen, Table, TableCreateStatement, Value,
};

use sea_orm::DbBackend;

use super::super::state::ModelState;
use super::super::{DbType, DefaultValue, Field, Index, OnDelete};

/// The sea-query column type of `db_type`.
pub(super) fn sql_type(db_type: DbType) -> ColumnType {
    match db_type {
        DbType::SmallInteger => ColumnType::SmallInteger,
        DbType::Integer => ColumnType::Integer,
        DbType::BigInteger => ColumnType::BigInteger,
        DbType::Float => ColumnType::Float,
        DbType::Double => ColumnType::Double,
        DbType::Boolean => ColumnType::Boolean,
        DbType::String(Some(n)) => ColumnType::String(StringLen::N(n)),
        DbType::String(None) => ColumnType::String(StringLen::None),
        DbType::Text => ColumnType::Text,
        DbType::Decimal(digits, places) => ColumnType::Decimal(Some((digits, places))),
        DbType::Date => ColumnType::Date,
        DbType::DateTime => ColumnType::TimestampWithTimeZone,
        DbType::Uuid => ColumnType::Uuid,
        DbType::Json => ColumnType::Json,
    }
}

/// A default as the value sea-query binds.
pub(super) fn sql_value(value: &DefaultValue) -> Value {
    match value {
        DefaultValue::Bool(b) => (*b).into(),
        DefaultValue::Int(i) => (*i).into(),
        DefaultValue::Float(f) => (*f).into(),
        DefaultValue::Str(s) => s.as_str().into(),
    }
}

/// The foreign key action of `on_delete`.
pub(super) fn action(on_delete: OnDelete) -> ForeignKeyAction {
    match on_delete {
        OnDelete::Cascade => ForeignKeyAction::Cascade,
        OnDelete::SetNull => ForeignKeyAction::SetNull,
        OnDelete::Restrict => ForeignKeyAction::Restrict,
    }
}

/// The column type of `field` on `backend`: [`sql_type`], with MySQL's
/// own choices (see [`crate::db::mysql`]).
pub(super) fn field_type(field: &Field, backend: DbBackend) -> ColumnType {
    let ty = sql_type(field.db_type);
    if backend == DbBackend::MySql {
        let keyed = field.primary_key || field.references.is_some();
        return crate::db::mysql::column_type(&ty, keyed).unwrap_or(ty);
    }
    ty
}

/// Whether `field` is a `LONGTEXT` on `backend`, which a plain index covers
/// only by a prefix.
fn long_text(field: &Field, backend: DbBackend) -> bool {
    backend == DbBackend::MySql && crate::db::mysql::is_long_text(Some(&field_type(field, backend)))
}

/// The full column definition of `field`, as CREATE TABLE writes it.
pub(super) fn column_def(field: &Field, backend: DbBackend) -> ColumnDef {
    let mut def = ColumnDef::new_with_type(Alias::new(&field.name), field_type(field, backend));
    if field.null {
        def.null();
    } else {
        def.not_null();
    }
    if field.auto_increment {
        def.auto_increment();
    }
    if field.primary_key {
        def.primary_key();
    }
    if field.unique {
        def.unique_key();
    }
    if let Some(default) = &field.default {
        def.default(sql_value(default));
    }
    def
}

/// The name of the foreign key on `table.column` on `backend` (shortened
/// on MySQL when long, see [`crate::db::mysql::identifier`]).
pub(super) fn foreign_key_name(table: &str, column: &str, backend: DbBackend) -> String {
    crate::db::mysql::identifier_on(&format!("fk-{table}-{column}"), backend)
}

/// The name of the index of field `column` of `table` on `backend`.
pub(super) fn index_name(table: &str, column: &str, backend: DbBackend) -> String {
    crate::db::mysql::identifier_on(&format!("idx-{table}-{column}"), backend)
}

/// CREATE TABLE of `model` under the name `table`.
///
/// SQLite takes AUTOINCREMENT only on a column declared `integer` (every
/// SQLite integer is 64-bit), so an auto-increment `i16` key is declared
/// `integer` there; PostgreSQL keeps SMALLINT (`smallserial`).
pub(super) fn create_table(
    model: &ModelState,
    table: &str,
    backend: DbBackend,
) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(Alias::new(table));
    if backend == DbBackend::MySql {
        create
            .character_set(crate::db::mysql::CHARSET)
            .collate(crate::db::mysql::COLLATION);
    }
    for field in &model.fields {
        let sqlite = backend == DbBackend::Sqlite;
        if sqlite && field.auto_increment && field.db_type == DbType::SmallInteger {
            let mut widened = field.clone();
            widened.db_type = DbType::Integer;
            create.col(column_def(&widened, backend));
        } else {
            create.col(column_def(field, backend));
        }
        if let Some(key) = &field.references {
            create.foreign_key(
                SqlForeignKey::create()
                    .name(foreign_key_name(&model.table, &field.name, backend))
                    .from(Alias::new(table), Alias::new(&field.name))
                    .to(Alias::new(&key.table), Alias::new(&key.column))
                    .on_delete(action(key.on_delete)),
            );
        }
    }
    create
}

/// The index of an indexed field.
pub(super) fn field_index(
    model: &ModelState,
    field: &Field,
    backend: DbBackend,
) -> IndexCreateStatement {
    let mut create = SqlIndex::create();
    create
        .name(index_name(&model.table, &field.name, backend))
        .table(Alias::new(&model.table));
    index_column(&mut create, field, backend);
    create
}

/// Adds `field` to `create`, by its first characters when MySQL needs that.
fn index_column(create: &mut IndexCreateStatement, field: &Field, backend: DbBackend) {
    if long_text(field, backend) {
        create.col((Alias::new(&field.name), crate::db::mysql::TEXT_INDEX_PREFIX));
    } else {
        create.col(Alias::new(&field.name));
    }
}

/// An index over columns of `model`.
pub(super) fn model_index(
    model: &ModelState,
    index: &Index,
    backend: DbBackend,
) -> IndexCreateStatement {
    let mut create = SqlIndex::create();
    // Migration files keep the full name; MySQL declares it shortened.
    create
        .name(crate::db::mysql::identifier_on(&index.name, backend))
        .table(Alias::new(&model.table));
    for column in &index.columns {
        let Some(name) = column.strip_prefix('-') else {
            match model.field(column) {
                Some(field) if !index.unique => index_column(&mut create, field, backend),
                _ => {
                    create.col(Alias::new(column));
                }
            }
            continue;
        };
        match model.field(name) {
            Some(field) if !index.unique && long_text(field, backend) => {
                create.col((
                    Alias::new(name),
                    crate::db::mysql::TEXT_INDEX_PREFIX,
                    IndexOrder::Desc,
                ));
            }
            _ => {
                create.col((Alias::new(name), IndexOrder::Desc));
            }
        }
    }
    if index.unique {
        create.unique();
    }
    create
}

/// Every index of `model`: one per indexed field, then the extra ones.
pub(super) fn indexes(model: &ModelState, backend: DbBackend) -> Vec<IndexCreateStatement> {
    let mut all: Vec<IndexCreateStatement> = model
        .fields
        .iter()
        .filter(|f| f.index)
        .map(|f| field_index(model, f, backend))
        .collect();
    all.extend(model.indexes.iter().map(|i| model_index(model, i, backend)));
    all
}
