//! What a delete takes with it and what protects it, found before the
//! delete as Django's `Collector` finds it: every registered model's
//! foreign keys to the deleted model are followed; `on_delete = "cascade"`
//! rows are collected (and walked in turn), `restrict` rows protect the
//! deleted rows, `set_null` rows are only updated and not listed. The
//! database enforces the same rules, so what is collected is what will
//! happen.
//!
//! [`collect`] reads a bounded page per relation, for what a person is
//! shown before confirming. [`consequences`] reads every row the database
//! will delete or set to NULL, in the deleting transaction, for their
//! change events (see [`super::UnitOfWork::delete`]).
//!
//! Whether the caller may delete each model reached is asked of a
//! [`DeleteRights`]: the admin asks for the model's `delete` permission,
//! the API applies the model's policy row by row. The result,
//! [`Collected`], is data: the admin's delete page and the API's 403/409
//! each say it in their own words.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use sea_orm::DbErr;

use crate::db::Connection;
use crate::model::{ModelMeta, OnDelete};
use crate::query::{
    BoxFut, DynRows, Filter, ListQuery, ReadRow, RowSource, RowView, parse_value, value_text,
};

/// Rows collected per relation and level: the walk stays bounded; the
/// rest is counted ([`Reached::More`]).
pub const RELATION_CAP: u64 = 100;
/// How deep the walk follows cascades.
pub const MAX_DEPTH: usize = 6;

/// Who decides whether the rows a delete cascades to may go.
pub trait DeleteRights: Send + Sync {
    /// Whether the caller may delete `rows` of `meta`; `complete` is false
    /// when `rows` are only the first of more (a row rule cannot be checked).
    fn may_delete<'a>(
        &'a self,
        meta: &'static ModelMeta,
        rows: &'a [RowView],
        complete: bool,
    ) -> BoxFut<'a, bool>;
}

/// One entry of the tree of what a delete reaches.
#[derive(Clone, Debug)]
pub enum Reached {
    /// A row of `meta`, with the rows that cascade from it.
    Row {
        /// The row's model.
        meta: &'static ModelMeta,
        /// The row.
        row: RowView,
        /// What deleting it cascades to.
        children: Vec<Reached>,
    },
    /// `count` more rows of `meta` past [`RELATION_CAP`], not walked.
    More {
        /// Their model.
        meta: &'static ModelMeta,
        /// How many.
        count: u64,
    },
}

/// What deleting some rows involves.
#[derive(Debug, Default)]
pub struct Collected {
    /// The deleted rows, each with what it cascades to.
    pub deleted: Vec<Reached>,
    /// Rows that forbid the delete (`on_delete = "restrict"`), without children.
    pub protected: Vec<Reached>,
    /// How many rows of each model go (the deleted ones included), in the
    /// order the walk first reached each model.
    pub counts: Vec<(&'static ModelMeta, u64)>,
    /// Models the delete would reach that the rights refused, in the order
    /// they were refused.
    pub refused: Vec<&'static ModelMeta>,
}

impl Collected {
    /// Whether the delete may not go ahead: a row protects it, or the
    /// caller may not delete some model it reaches.
    pub fn blocked(&self) -> bool {
        !self.protected.is_empty() || !self.refused.is_empty()
    }

    fn add_count(&mut self, meta: &'static ModelMeta, count: u64) {
        match self.counts.iter_mut().find(|(m, _)| m.table == meta.table) {
            Some((_, total)) => *total += count,
            None => self.counts.push((meta, count)),
        }
    }
}

/// Finds everything deleting `rows` of `meta` reaches among `models`,
/// asking `rights` about each model the delete cascades to.
pub async fn collect(
    db: &Connection,
    models: &[Arc<dyn DynRows>],
    rights: &dyn DeleteRights,
    meta: &'static ModelMeta,
    rows: &[RowView],
) -> Result<Collected, DbErr> {
    let walker = Walker { db, models, rights };
    let mut state = Walk {
        out: Collected::default(),
        visited: rows.iter().map(|r| (meta.table, r.pk.clone())).collect(),
        denied: HashSet::new(),
    };
    state.out.add_count(meta, rows.len() as u64);
    let deleted = walker.walk(meta, rows.to_vec(), 0, &mut state).await?;
    state.out.deleted = deleted;
    Ok(state.out)
}

/// What the walk reads from and asks.
struct Walker<'w> {
    db: &'w Connection,
    models: &'w [Arc<dyn DynRows>],
    rights: &'w dyn DeleteRights,
}

/// What the walk has found so far.
struct Walk {
    out: Collected,
    /// Rows already in the tree, by table and key: each is listed once.
    visited: HashSet<(&'static str, String)>,
    /// Tables the rights refused: asked once each.
    denied: HashSet<&'static str>,
}

fn row_node(meta: &'static ModelMeta, row: RowView) -> Reached {
    Reached::Row {
        meta,
        row,
        children: Vec::new(),
    }
}

impl<'w> Walker<'w> {
    /// The entries of `rows`, each with the rows that cascade from it.
    fn walk<'a>(
        &'a self,
        meta: &'static ModelMeta,
        rows: Vec<RowView>,
        depth: usize,
        state: &'a mut Walk,
    ) -> BoxFut<'a, Result<Vec<Reached>, DbErr>> {
        Box::pin(async move {
            let mut nodes: Vec<Reached> = rows.iter().map(|r| row_node(meta, r.clone())).collect();
            if depth >= MAX_DEPTH || rows.is_empty() {
                return Ok(nodes);
            }
            for related in self.models {
                for field in related.meta().fields {
                    let Some(target) = field.references else {
                        continue;
                    };
                    if target().table != meta.table || field.on_delete == OnDelete::SetNull {
                        continue;
                    }
                    self.follow(related.as_ref(), field, &rows, &mut nodes, depth, state)
                        .await?;
                }
            }
            Ok(nodes)
        })
    }

    /// Adds to `nodes` (the entries of `rows`) the rows of `related` whose
    /// `field` references one of `rows`, and what those cascade to.
    async fn follow(
        &self,
        related: &dyn DynRows,
        field: &'static crate::model::FieldMeta,
        rows: &[RowView],
        nodes: &mut Vec<Reached>,
        depth: usize,
        state: &mut Walk,
    ) -> Result<(), DbErr> {
        let related_meta = related.meta();
        let keys: Vec<sea_orm::Value> = rows
            .iter()
            .filter_map(|r| parse_value(field, &r.pk).ok())
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let query =
            ListQuery::page(related_meta, 1, RELATION_CAP).filter(Filter::is_in(field, keys));
        let (found, total) = related.query(self.db, &query).await?;
        if total == 0 {
            return Ok(());
        }
        let rest = total.saturating_sub(found.len() as u64);
        let more = || Reached::More {
            meta: related_meta,
            count: rest,
        };
        if field.on_delete == OnDelete::Restrict {
            let protected = found.into_iter().map(|r| row_node(related_meta, r));
            state.out.protected.extend(protected);
            if rest > 0 {
                state.out.protected.push(more());
            }
            return Ok(());
        }
        state.out.add_count(related_meta, total);
        // Link tables go with either end, as Django skips the permission
        // check for auto-created through models.
        let link = related_meta.permissions_parent().is_some();
        if !link
            && !state.denied.contains(related_meta.table)
            && !self
                .rights
                .may_delete(related_meta, &found, rest == 0)
                .await
        {
            state.denied.insert(related_meta.table);
            state.out.refused.push(related_meta);
        }
        let fresh: Vec<RowView> = found
            .into_iter()
            .filter(|r| state.visited.insert((related_meta.table, r.pk.clone())))
            .collect();
        let parents: Vec<Option<String>> = fresh
            .iter()
            .map(|r| r.value(field.name).map(value_text))
            .collect();
        let children = self.walk(related_meta, fresh, depth + 1, state).await?;
        for (child, parent) in children.into_iter().zip(parents) {
            match rows.iter().position(|r| Some(&r.pk) == parent.as_ref()) {
                Some(i) => {
                    if let Reached::Row { children, .. } = &mut nodes[i] {
                        children.push(child);
                    }
                }
                None => nodes.push(child),
            }
        }
        if rest > 0 {
            nodes.push(more());
        }
        Ok(())
    }
}

/// What the database does to other rows when some rows are deleted, as
/// found by [`consequences`].
#[derive(Default)]
pub struct Consequences {
    /// The rows the delete takes with it (`on_delete = "cascade"`, to any
    /// depth), as they are before it, in the order the walk reached them.
    pub deleted: Vec<(&'static ModelMeta, ReadRow)>,
    /// The rows whose foreign key the delete sets to NULL (`on_delete =
    /// "set_null"`) and that it does not delete, by model: their primary
    /// keys, to read them again once the database has changed them.
    pub nulled: Vec<(Arc<dyn DynRows>, Vec<String>)>,
}

/// Every row among `models` that deleting the rows of `meta` with primary
/// keys `pks` deletes or sets to NULL, read from `db` (the deleting
/// transaction, so rows it wrote are found too).
///
/// Unlike [`collect`] nothing is capped: a change event is owed for each
/// row. The walk goes level by level rather than by recursion, so a long
/// chain of self-references cannot exhaust the stack, and each row is
/// followed once, so cycles end. `restrict` references are not followed:
/// while one remains the database refuses the delete.
pub async fn consequences(
    db: &dyn RowSource,
    models: &[Arc<dyn DynRows>],
    meta: &'static ModelMeta,
    pks: &[String],
) -> Result<Consequences, DbErr> {
    let mut out = Consequences::default();
    let mut visited: HashSet<(&'static str, String)> =
        pks.iter().map(|pk| (meta.table, pk.clone())).collect();
    // Rows set to NULL, by index in `models`, each once.
    let mut nulled: Vec<(usize, String)> = Vec::new();
    let mut seen_nulled: HashSet<(usize, String)> = HashSet::new();
    let mut levels: VecDeque<(&'static ModelMeta, Vec<String>)> = VecDeque::new();
    levels.push_back((meta, pks.to_vec()));
    while let Some((meta, pks)) = levels.pop_front() {
        for (index, related) in models.iter().enumerate() {
            let related_meta = related.meta();
            for field in related_meta.fields {
                let Some(target) = field.references else {
                    continue;
                };
                if target().table != meta.table || field.on_delete == OnDelete::Restrict {
                    continue;
                }
                let values: Vec<sea_orm::Value> = pks
                    .iter()
                    .filter_map(|pk| parse_value(field, pk).ok())
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let found = related.read_where(db, field, values).await?;
                if field.on_delete == OnDelete::SetNull {
                    for row in found {
                        if seen_nulled.insert((index, row.pk.clone())) {
                            nulled.push((index, row.pk));
                        }
                    }
                    continue;
                }
                let mut fresh = Vec::new();
                for row in found {
                    if visited.insert((related_meta.table, row.pk.clone())) {
                        fresh.push(row.pk.clone());
                        out.deleted.push((related_meta, row));
                    }
                }
                if !fresh.is_empty() {
                    levels.push_back((related_meta, fresh));
                }
            }
        }
    }
    // By model, in registration order.
    let mut by_model: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for (index, pk) in nulled {
        // A row both set to NULL and deleted (by another reference) goes.
        if !visited.contains(&(models[index].meta().table, pk.clone())) {
            by_model.entry(index).or_default().push(pk);
        }
    }
    out.nulled = by_model
        .into_iter()
        .map(|(index, pks)| (models[index].clone(), pks))
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::{ContentType, GroupPermission, Permission, UserPermission};
    use crate::model::Model;
    use crate::query::ModelRows;

    /// Rights that refuse the models on one table.
    struct Refuse(&'static str);

    impl DeleteRights for Refuse {
        fn may_delete<'a>(
            &'a self,
            meta: &'static ModelMeta,
            _rows: &'a [RowView],
            _complete: bool,
        ) -> BoxFut<'a, bool> {
            let allowed = meta.table != self.0;
            Box::pin(async move { allowed })
        }
    }

    #[tokio::test]
    async fn a_delete_collects_its_cascade_and_the_models_refused() {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        // The auth tables, with four permissions per model's content type.
        crate::App::new("t").create_tables(&db).await.unwrap();
        let models: Vec<Arc<dyn DynRows>> = vec![
            Arc::new(ModelRows::<ContentType>::default()),
            Arc::new(ModelRows::<Permission>::default()),
            Arc::new(ModelRows::<GroupPermission>::default()),
            Arc::new(ModelRows::<UserPermission>::default()),
        ];
        let all = ListQuery::page(ContentType::meta(), 1, 100);
        let (types, _) = models[0].query(&db, &all).await.unwrap();
        let group: Vec<RowView> = types
            .into_iter()
            .filter(|r| r.value("model").map(value_text).as_deref() == Some("group"))
            .collect();
        assert_eq!(group.len(), 1);

        // No table is named "": these rights refuse nothing.
        let found = collect(&db, &models, &Refuse(""), ContentType::meta(), &group)
            .await
            .unwrap();
        let counts: Vec<(&str, u64)> = found.counts.iter().map(|(m, n)| (m.table, *n)).collect();
        assert_eq!(counts, [("django_content_type", 1), ("auth_permission", 4)]);
        assert!(!found.blocked());
        let [Reached::Row { children, .. }] = found.deleted.as_slice() else {
            panic!("one deleted row: {:?}", found.deleted);
        };
        assert_eq!(children.len(), 4);
        assert!(children.iter().all(|c| matches!(
            c,
            Reached::Row { meta, children, .. } if meta.table == "auth_permission" && children.is_empty()
        )));

        let refused = collect(
            &db,
            &models,
            &Refuse("auth_permission"),
            ContentType::meta(),
            &group,
        )
        .await
        .unwrap();
        let tables: Vec<&str> = refused.refused.iter().map(|m| m.table).collect();
        assert_eq!(tables, ["auth_permission"]);
        assert!(refused.blocked() && refused.protected.is_empty());
    }
}
