//! The change list's query string, Django admin style, read into the query
//! layer's types: `field__lookup=value` filters on `list_filter` fields
//! (every lookup and value spelling the REST list takes), `q=` search,
//! `o=2.-1` column ordering and `p=` the page. A parameter that does not
//! parse is ignored, never an error: the page shows the list without it.

use chrono::NaiveDate;
use sea_orm::Value;

use crate::model::{FieldKind, FieldMeta, ModelMeta};
use crate::query::{
    Filter, ListQuery, ListSettings, Lookup, OrderTerm, default_ordering, make_total, max_page,
};

/// The page number parameter (from 1).
pub(super) const PAGE: &str = "p";
/// The search box's parameter.
pub(super) const SEARCH: &str = "q";
/// The column ordering parameter: `2.-1`.
pub(super) const ORDER: &str = "o";

/// The request's query string as ordered pairs, with the links of the
/// page built from it so that each link keeps the other parameters.
#[derive(Clone, Debug, Default)]
pub(super) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    /// Keeps the parameters the change list reads (`p`, `q`, `o` and the
    /// `list_filter` lookups), each once, within the list limits: every
    /// link of the page repeats them, so whatever else a URL carries would
    /// be multiplied by the number of links.
    pub(super) fn parse(raw: Option<&str>, meta: &ModelMeta, limits: &ListSettings) -> Self {
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let known =
                [PAGE, SEARCH, ORDER].contains(&key.as_ref()) || filter_field(meta, &key).is_some();
            if !known || kept.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let value = if key == SEARCH {
                value.chars().take(limits.max_search_length).collect()
            } else if value.chars().count() > limits.max_filter_value_length {
                continue;
            } else {
                value.into_owned()
            };
            kept.push((key.into_owned(), value));
        }
        Params(kept)
    }

    /// The value of `key`, if the query string has it.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// This page's query with `set` replacing (or adding) keys, keys
    /// matching `drop` removed, and the page number reset unless set: a
    /// new filter or order starts from the first page.
    pub(super) fn with(&self, set: &[(&str, String)], drop: &dyn Fn(&str) -> bool) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k == PAGE || drop(k) || set.iter().any(|(s, _)| s == k) {
                continue;
            }
            out.append_pair(k, v);
        }
        for (k, v) in set {
            out.append_pair(k, v);
        }
        format!("?{}", out.finish())
    }
}

/// The `list_filter` field a filter parameter names (`published__exact`,
/// `created_at__gte`, or the bare `kind`), when its lookup applies to it.
fn filter_field(meta: &ModelMeta, key: &str) -> Option<&'static FieldMeta> {
    let (name, lookup) = match key.split_once("__") {
        Some((name, lookup)) => (name, Some(lookup)),
        None => (key, None),
    };
    let field = meta
        .field(name)
        .filter(|_| meta.admin.list_filter.contains(&name))?;
    let applies = match lookup {
        None => true,
        Some(lookup) => Lookup::for_kind(field.kind).any(|l| l.name() == lookup),
    };
    applies.then_some(field)
}

/// A value in the admin's spelling as the query layer reads it: the date
/// range links of a datetime field (`created_at__gte=2024-05-01`) mean
/// midnight UTC, where the REST list wants RFC 3339. Everything else is
/// spelled as for the REST list.
fn spelled(field: &FieldMeta, value: &str) -> String {
    if field.kind != FieldKind::DateTime {
        return value.to_string();
    }
    value
        .split(',')
        .map(|part| match part.trim().parse::<NaiveDate>() {
            Ok(date) => format!("{date}T00:00:00Z"),
            Err(_) => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The filters the query string sets, parsed by the REST list's parser
/// against `list_filter`; one that does not parse is left out.
pub(super) fn filters(
    meta: &'static ModelMeta,
    params: &Params,
    limits: &ListSettings,
) -> Vec<Filter> {
    params
        .0
        .iter()
        .filter_map(|(key, value)| {
            let field = filter_field(meta, key)?;
            let value = spelled(field, value);
            Filter::parse(meta, meta.admin.list_filter, key, &value, limits).ok()
        })
        .collect()
}

/// The value a filter on `field` with `lookup` compares with, if the query
/// string sets one (the sidebar marks its choice as selected).
pub(super) fn selected<'f>(
    filters: &'f [Filter],
    field: &FieldMeta,
    lookup: Lookup,
) -> Option<&'f Value> {
    filters
        .iter()
        .find(|f| f.field.name == field.name && f.lookup == lookup)
        .and_then(|f| f.values.first())
}

/// Whether the query string sets `field__isnull`, and to what.
pub(super) fn isnull(filters: &[Filter], field: &FieldMeta) -> Option<bool> {
    match selected(filters, field, Lookup::IsNull)? {
        Value::Bool(flag) => *flag,
        _ => None,
    }
}

/// `?o=2.-1`: (column index from 0, descending), valid and distinct.
pub(super) fn parse_order(raw: Option<&str>, columns: usize) -> Vec<(usize, bool)> {
    let mut order: Vec<(usize, bool)> = Vec::new();
    for part in raw.unwrap_or("").split('.') {
        let (descending, digits) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let Ok(position) = digits.parse::<usize>() else {
            continue;
        };
        if position == 0 || position > columns || order.iter().any(|(i, _)| *i == position - 1) {
            continue;
        }
        order.push((position - 1, descending));
    }
    order
}

/// The `o` parameter for `order`.
pub(super) fn order_param(order: &[(usize, bool)]) -> String {
    order
        .iter()
        .map(|(i, d)| format!("{}{}", if *d { "-" } else { "" }, i + 1))
        .collect::<Vec<_>>()
        .join(".")
}

/// The effective ordering: the sorted columns, then the model's default
/// ordering (related `author__name` terms included), then the primary
/// key, each with the REST list's NULL placement.
fn ordering(
    meta: &'static ModelMeta,
    columns: &[&'static FieldMeta],
    order: &[(usize, bool)],
) -> Vec<OrderTerm> {
    let mut terms: Vec<OrderTerm> = order
        .iter()
        .filter(|(i, _)| columns[*i].kind != FieldKind::Json)
        .map(|(i, descending)| OrderTerm {
            field: columns[*i],
            related: None,
            descending: *descending,
        })
        .collect();
    for term in default_ordering(meta) {
        let same = |t: &OrderTerm| {
            t.field.name == term.field.name
                && t.related.map(|r| r.name) == term.related.map(|r| r.name)
        };
        if !terms.iter().any(same) {
            terms.push(term);
        }
    }
    make_total(meta, terms)
}

/// The words of the search box, within the list bounds: past them, the
/// rest of the text is ignored (as any parameter the change list cannot
/// use), since each word is one more condition. NUL is dropped:
/// PostgreSQL text cannot hold it, so such a search could only fail.
pub(super) fn search_words(text: &str, limits: &ListSettings) -> Vec<String> {
    text.replace('\0', "")
        .chars()
        .take(limits.max_search_length)
        .collect::<String>()
        .split_whitespace()
        .take(limits.max_search_words)
        .map(str::to_string)
        .collect()
}

/// The page the query string asks for, from 1; one whose offset would not
/// fit the i64 SQL binds is past the last page (which is shown instead).
pub(super) fn requested_page(params: &Params, per_page: u64) -> u64 {
    params
        .get(PAGE)
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(max_page(per_page))
}

/// The change list's whole query: `list_filter` filters, the search box
/// over `#[admin(search(...))]` and the primary key, the column ordering,
/// and page `page` of `list_per_page` rows.
pub(super) fn list_query(
    meta: &'static ModelMeta,
    params: &Params,
    columns: &[&'static FieldMeta],
    order: &[(usize, bool)],
    limits: &ListSettings,
    page: u64,
) -> ListQuery {
    let mut query = ListQuery::page(meta, page, meta.admin.list_per_page.max(1));
    query.filters = filters(meta, params, limits);
    query.search_fields = meta
        .admin
        .search
        .iter()
        .filter_map(|name| meta.field(name))
        .collect();
    if !query.search_fields.is_empty() {
        query.search = search_words(params.get(SEARCH).unwrap_or(""), limits);
        query.search_primary_key = true;
    }
    query.ordering = ordering(meta, columns, order);
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parses_django_style_and_ignores_junk() {
        assert_eq!(parse_order(Some("2.-1"), 3), vec![(1, false), (0, true)]);
        assert_eq!(parse_order(Some("x.9.0.-2.2"), 3), vec![(1, true)]);
        assert_eq!(parse_order(None, 3), vec![]);
    }

    #[test]
    fn links_keep_other_params_and_reset_the_page() {
        let meta = <crate::auth::models::User as crate::model::Model>::meta();
        let limits = ListSettings::default();
        let params = Params::parse(Some("q=a+b&p=3&is_staff__exact=1"), meta, &limits);
        assert_eq!(
            params.with(&[(ORDER, "1".into())], &|_| false),
            "?q=a+b&is_staff__exact=1&o=1"
        );
        assert_eq!(params.with(&[], &|k| k.starts_with("is_staff__")), "?q=a+b");
    }

    #[test]
    fn links_carry_only_known_parameters_within_the_limits() {
        let meta = <crate::auth::models::User as crate::model::Model>::meta();
        let limits = ListSettings::default();
        let long = "x".repeat(limits.max_filter_value_length + 1);
        let raw = format!(
            "junk=1&is_staff__exact=1&is_staff__exact=0&username__exact=a&is_active__gt=1\
             &is_active__exact={long}&q={}",
            "w".repeat(limits.max_search_length + 50)
        );
        let params = Params::parse(Some(&raw), meta, &limits);
        let expected = format!(
            "?is_staff__exact=1&q={}",
            "w".repeat(limits.max_search_length)
        );
        assert_eq!(params.with(&[], &|_| false), expected);
    }

    #[test]
    fn filters_take_the_rest_lists_lookups_and_spellings() {
        let meta = <crate::auth::models::User as crate::model::Model>::meta();
        let limits = ListSettings::default();
        let raw = "is_staff__isnull=off&is_active=yes&is_superuser__ne=1&is_staff__gt=1";
        let filters = filters(meta, &Params::parse(Some(raw), meta, &limits), &limits);
        let parsed: Vec<(&str, Lookup)> =
            filters.iter().map(|f| (f.field.name, f.lookup)).collect();
        assert_eq!(
            parsed,
            vec![
                ("is_staff", Lookup::IsNull),
                ("is_active", Lookup::Exact),
                ("is_superuser", Lookup::Ne),
            ]
        );
    }
}
