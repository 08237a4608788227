//! MySQL and MariaDB: the column types ferrobridge declares there, where
//! sea-query's defaults would lose data the other databases keep.
//!
//! - A datetime is `DATETIME(6)`: sea-query writes `TIMESTAMP`, which drops
//!   microseconds and ends in 2038. The pool's session runs in UTC (sqlx's
//!   default `time_zone = '+00:00'`), so a `DATETIME` holds the UTC instant.
//! - A string without `max_length`, and a `text` field, is `LONGTEXT`:
//!   sea-query writes `VARCHAR(255)` and `TEXT` (64 KiB), and both refuse a
//!   longer value that PostgreSQL and SQLite store. A primary or foreign key
//!   stays `VARCHAR(255)`, since MySQL keys no `LONGTEXT`. MariaDB enforces
//!   a unique `LONGTEXT` through a hash of the whole value; a plain index on
//!   one covers its first [`TEXT_INDEX_PREFIX`] characters.
//! - Tables are `utf8mb4` with the binary collation `utf8mb4_bin`, so `=`,
//!   `unique` and ordering compare strings exactly as PostgreSQL's and
//!   SQLite's do; the `i...` lookups lower both sides, on every database.
//! - A UUID is `BINARY(16)` (sea-query's and SeaORM's choice), bound and read
//!   as 16 bytes.
//! - An index or foreign key name longer than [`MAX_IDENTIFIER`] characters,
//!   which MySQL refuses, is shortened as Django's `truncate_name` does (see
//!   [`identifier`]); PostgreSQL and SQLite keep the full name.

use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, Index, IndexCreateStatement, StringLen, Table,
    TableCreateStatement,
};

/// The longest name MySQL takes for a table, column, index or constraint.
pub const MAX_IDENTIFIER: usize = 64;

/// How many hex digits of the name's hash end a shortened name.
const HASH_LEN: usize = 8;

/// `name` as ferrobridge declares it on MySQL: unchanged when it fits in
/// [`MAX_IDENTIFIER`] characters, else its first characters and a short
/// hash of the whole name (Django's `truncate_name`), so two long names
/// that share their start still differ. Applying it twice changes nothing,
/// so every place that names an index or a foreign key (the entity path,
/// migrations, the reading of a violated unique index) may apply it.
pub fn identifier(name: &str) -> String {
    if name.chars().count() <= MAX_IDENTIFIER {
        return name.to_string();
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let hash: String = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(HASH_LEN)
        .collect();
    let prefix: String = name.chars().take(MAX_IDENTIFIER - HASH_LEN).collect();
    format!("{prefix}{hash}")
}

/// `name` as declared on `backend`: [`identifier`] on MySQL, else unchanged.
pub fn identifier_on(name: &str, backend: sea_orm::DbBackend) -> String {
    if backend == sea_orm::DbBackend::MySql {
        identifier(name)
    } else {
        name.to_string()
    }
}

/// How many leading characters a non-unique index on a `LONGTEXT` column covers.
pub const TEXT_INDEX_PREFIX: u32 = 255;

/// The character set of the tables ferrobridge creates on MySQL.
pub const CHARSET: &str = "utf8mb4";

/// Their collation: binary, so comparisons are case- and accent-sensitive
/// as on PostgreSQL and SQLite.
pub const COLLATION: &str = "utf8mb4_bin";

/// The column type ferrobridge declares on MySQL instead of `ty`, if any;
/// `keyed` is whether the column is a primary key or a foreign key.
pub fn column_type(ty: &ColumnType, keyed: bool) -> Option<ColumnType> {
    match ty {
        ColumnType::DateTime | ColumnType::Timestamp | ColumnType::TimestampWithTimeZone => {
            Some(ColumnType::custom("datetime(6)"))
        }
        ColumnType::String(StringLen::None) | ColumnType::Text if keyed => {
            Some(ColumnType::String(StringLen::N(255)))
        }
        ColumnType::String(StringLen::None) | ColumnType::Text => {
            Some(ColumnType::custom("longtext"))
        }
        _ => None,
    }
}

/// Whether a column of type `ty` (after [`column_type`]) is a `LONGTEXT`.
pub fn is_long_text(ty: Option<&ColumnType>) -> bool {
    matches!(ty, Some(ColumnType::Custom(name)) if name.to_string() == "longtext")
}

/// `def` with its MySQL type (see [`column_type`]).
pub fn column(def: &ColumnDef, keyed: bool) -> ColumnDef {
    let mut def = def.clone();
    if let Some(ty) = def.get_column_type().and_then(|ty| column_type(ty, keyed)) {
        def.custom(Alias::new(mysql_type_name(&ty)));
    }
    def
}

/// The type name sea-query writes for the types [`column_type`] returns.
fn mysql_type_name(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Custom(name) => name.to_string(),
        ColumnType::String(StringLen::N(n)) => format!("varchar({n})"),
        other => unreachable!("column_type returns no {other:?}"),
    }
}

/// `create` (as SeaORM derives it from an entity) rebuilt with MySQL's
/// column types, charset and collation; the names of its `LONGTEXT`
/// columns come back too, for the indexes made beside it.
pub fn create_table(create: &TableCreateStatement) -> (TableCreateStatement, Vec<String>) {
    let keys: Vec<String> = create
        .get_foreign_key_create_stmts()
        .iter()
        .flat_map(|fk| fk.get_foreign_key().get_columns())
        .collect();
    let mut table = Table::create();
    if let Some(name) = create.get_table_name() {
        table.table(name.clone());
    }
    table.if_not_exists();
    let mut long = Vec::new();
    for def in create.get_columns() {
        let name = def.get_column_name();
        let keyed = def.get_column_spec().primary_key || keys.contains(&name);
        let def = column(def, keyed);
        if is_long_text(def.get_column_type()) {
            long.push(name);
        }
        table.col(def);
    }
    for fk in create.get_foreign_key_create_stmts() {
        table.foreign_key(&mut fk.clone());
    }
    for index in create.get_indexes() {
        table.index(&mut index.clone());
    }
    table.character_set(CHARSET).collate(COLLATION);
    (table, long)
}

/// `index` on `table` with each `LONGTEXT` column of `long` covered by its
/// first [`TEXT_INDEX_PREFIX`] characters, which MySQL requires of a
/// non-unique index (MariaDB keys a unique one by a hash of the whole value).
pub fn index(table: &str, index: &IndexCreateStatement, long: &[String]) -> IndexCreateStatement {
    let columns = index.get_index_spec().get_column_names();
    if index.is_unique_key() || !columns.iter().any(|c| long.contains(c)) {
        return index.clone();
    }
    let mut out = Index::create();
    if let Some(name) = index.get_index_spec().get_name() {
        out.name(name);
    }
    out.table(Alias::new(table)).if_not_exists();
    for column in columns {
        if long.contains(&column) {
            out.col((Alias::new(column), TEXT_INDEX_PREFIX));
        } else {
            out.col(Alias::new(column));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_with_a_hash_of_the_whole_name() {
        let short = "shelf_book_title_uniq";
        assert_eq!(identifier(short), short);
        let long = "sales_user_quantity_of_items_remaining_in_the_warehouse_table_uniq";
        let other = "sales_user_quantity_of_items_remaining_in_the_warehouse_table_uniq2";
        let cut = identifier(long);
        assert_eq!(cut.chars().count(), MAX_IDENTIFIER);
        assert!(cut.starts_with(&long[..MAX_IDENTIFIER - HASH_LEN]), "{cut}");
        assert_ne!(cut, identifier(other));
        assert_eq!(identifier(&cut), cut, "idempotent");
        assert_eq!(identifier_on(long, sea_orm::DbBackend::Postgres), long);
    }
}
