//! Micro-benchmarks of what the generated endpoints add over hand-written
//! ones: serializing a page of 100 `Read` rows, validating a create body
//! (`FromJsonBody`), and parsing a list query (`ListQuery::parse`).
//! `cargo bench -p permissions`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ferrobridge::api::{Items, ListQuery, ListSettings};
use ferrobridge::prelude::*;
use ferrobridge::schema::FromJsonBody;
use permissions::models::{PermissionCreate, PermissionRead};
use permissions::wire;
use serde_json::json;

/// A model with filters, search and orderings, for the query parser.
#[derive(Model, Clone, Debug)]
#[model(app = "bench", ordering = "-created_at")]
#[api(
    filter(id, title, published, created_at),
    search(title),
    ordering(created_at, title)
)]
pub struct Article {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 200)]
    pub title: String,
    #[field(default = false)]
    pub published: bool,
    #[field(auto_now_add)]
    pub created_at: DateTimeUtc,
}

fn serialize_page(c: &mut Criterion) {
    let generated = Items {
        items: (1..=100)
            .map(|i| PermissionRead {
                pk: i,
                name: format!("Can do thing {i}"),
            })
            .collect(),
    };
    let hand_written = wire::Items {
        items: (1..=100)
            .map(|i| wire::Item {
                pk: i,
                name: format!("Can do thing {i}"),
            })
            .collect(),
    };
    assert_eq!(
        serde_json::to_vec(&generated).unwrap(),
        serde_json::to_vec(&hand_written).unwrap()
    );
    let mut group = c.benchmark_group("serialize 100 rows");
    group.bench_function("generated PermissionRead", |b| {
        b.iter(|| serde_json::to_vec(black_box(&generated)).unwrap())
    });
    group.bench_function("hand-written struct", |b| {
        b.iter(|| serde_json::to_vec(black_box(&hand_written)).unwrap())
    });
    group.finish();
}

fn validate_create(c: &mut Criterion) {
    let body = json!({ "name": "Can fly", "content_type_id": 2, "codename": "fly_permission" });
    let bad = json!({ "name": "x".repeat(300), "content_type_id": "two", "extra": 1 });
    assert!(PermissionCreate::from_json_body(body.clone()).is_ok());
    assert_eq!(
        PermissionCreate::from_json_body(bad.clone())
            .unwrap_err()
            .detail
            .len(),
        4
    );
    let mut group = c.benchmark_group("create body");
    group.bench_function("FromJsonBody, valid", |b| {
        b.iter(|| PermissionCreate::from_json_body(black_box(body.clone())).unwrap())
    });
    group.bench_function("FromJsonBody, 4 errors", |b| {
        b.iter(|| PermissionCreate::from_json_body(black_box(bad.clone())).unwrap_err())
    });
    group.bench_function("serde + length checks (hand-written)", |b| {
        b.iter(|| {
            let input: wire::NewPermission =
                serde_json::from_value(black_box(body.clone())).unwrap();
            input.check().unwrap();
            input
        })
    });
    group.finish();
}

fn parse_query(c: &mut Criterion) {
    let meta = Article::meta();
    let settings = ListSettings::default();
    let query = "title__icontains=rust&published=true&id__in=1,2,3&created_at__gte=2024-01-01T00:00:00Z&search=async%20web&ordering=-created_at,title&page=2&page_size=20";
    let parsed = ListQuery::parse(meta, Some(query), settings).unwrap();
    assert_eq!(parsed.filters.len(), 4);
    let mut group = c.benchmark_group("ListQuery::parse");
    group.bench_function("4 filters, search, ordering, page", |b| {
        b.iter(|| ListQuery::parse(meta, black_box(Some(query)), settings).unwrap())
    });
    group.bench_function("empty", |b| {
        b.iter(|| ListQuery::parse(meta, black_box(None), settings).unwrap())
    });
    group.finish();
}

criterion_group!(benches, serialize_page, validate_create, parse_query);
criterion_main!(benches);
